"""Headline KPIs per township (townships): near townships first, then remote ones."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..kpis import REMOTE_KM
from ..resultsdir import ResultsDir
from .common import all_townships_note, interval, n_text, need, scenarios_in, style_index, town_label, town_order
from .style import BOUNDED, CLOSED, T_METHOD, figure, finish, headline, kpi_axis, legend, point_style, subplot_grid, \
    yerr


TOWNSHIP_DETAIL = 3  # the townships figure shows each township for at most this many scenarios


def townships(results: ResultsDir, township: str | None = None) -> Figure:
    """Headline KPIs per township (mean and 95% t interval), near townships first, then remote ones.

    With more than `TOWNSHIP_DETAIL` scenarios a point per township and scenario is unreadable:
    then one point per scenario for the near and one for the remote townships.
    """
    frame = need(results, "by_township", "townships")
    if len(scenarios_in(results, frame)) > TOWNSHIP_DETAIL:
        return _near_and_remote(results, frame, township)
    scenarios = scenarios_in(results, frame)
    towns = sorted({str(t) for t in frame["township"].unique()}, key=lambda t: (_is_remote(results, t),
                                                                               *town_order(results, t)))
    remote = [t for t in towns if _is_remote(results, t)]
    kpis = headline(frame.columns)
    columns = 2 if len(towns) > 6 else 4
    panel_width = max(2.8, 0.32 * len(towns) * max(1, len(scenarios)) ** 0.5 + 1.2)
    fig = figure(min(16, columns * panel_width), 2.9 * math.ceil(len(kpis) / columns) + 1.4)
    axes = subplot_grid(fig, len(kpis), columns, sharex=True)
    step = min(0.7, 0.16 * len(scenarios)) / max(len(scenarios) - 1, 1)
    for ax, kpi in zip(axes, kpis):
        for i, scenario in enumerate(scenarios):
            mine = frame[frame["scenario"] == scenario]
            stats = [interval(mine.loc[mine["township"].astype(str) == t, kpi].to_numpy(float), kpi) for t in towns]
            offset = (i - (len(scenarios) - 1) / 2) * step
            ax.errorbar(np.arange(len(towns)) + offset, [s[0] for s in stats], yerr=yerr(stats), ms=4, capsize=2,
                        label=scenario, **point_style(style_index(results, scenario)))
        if remote:
            ax.axvspan(len(towns) - len(remote) - 0.5, len(towns) - 0.5, color=CLOSED, zorder=0, linewidth=0)
        kpi_axis(ax, kpi)
        ax.set_xticks(range(len(towns)))
        ax.set_xticklabels([_town_label(results, t) for t in towns], rotation=90, fontsize=7)
        ax.set_xlim(-0.6, len(towns) - 0.4)
    for ax in axes[-columns:]:
        ax.set_xlabel("township (km to county)")
        ax.tick_params(axis="x", labelbottom=True)
    if remote or len(scenarios) > 1:
        legend(axes[0], extra=[Patch(color=CLOSED, label=f"remote (≥ {REMOTE_KM} km)")] if remote else ())
    return finish(fig, f"Headline KPIs by township: near and remote (≥ {REMOTE_KM} km){_km_unknown(results)}",
                   f"Each point: mean over replications; bar: {T_METHOD} ({n_text(frame)}; {BOUNDED}). "
                   f"Townships sorted by distance to the county seat, near ones first; grey: remote (km_to_county ≥ {REMOTE_KM}, "
                   "docs/kpis.md)." + all_townships_note(township))


def _near_and_remote(results: ResultsDir, frame: pd.DataFrame, township: str | None) -> Figure:
    """Many scenarios: per scenario, the mean over the near and over the remote townships."""
    scenarios = scenarios_in(results, frame)
    kpis = headline(frame.columns)
    frame = frame.assign(where=["remote" if _is_remote(results, str(t)) else "near" for t in frame["township"]])
    groups = [g for g in ("near", "remote") if g in set(frame["where"])]
    per_rep = frame.groupby(["scenario", "where", "replication"])[kpis].mean()  # unweighted over townships
    count = frame.groupby("where")["township"].nunique()
    fig = figure(12, 3.2 * math.ceil(len(kpis) / 4) + 1.2 + 0.06 * max(len(s) for s in scenarios))
    axes = subplot_grid(fig, len(kpis), 4, sharex=True)
    for ax, kpi in zip(axes, kpis):
        for i, group in enumerate(groups):
            stats = [interval(per_rep.loc[(s, group), kpi].to_numpy(float), kpi) if (s, group) in per_rep.index
                     else (math.nan,) * 3 + (0,) for s in scenarios]
            offset = (i - (len(groups) - 1) / 2) * 0.3
            ax.errorbar(np.arange(len(scenarios)) + offset, [s[0] for s in stats], yerr=yerr(stats), ms=4,
                        capsize=2, **point_style(i), label=f"{group} ({count[group]} township{'s' if count[group] != 1 else ''})")
        kpi_axis(ax, kpi)
        ax.set_xticks(range(len(scenarios)))
        ax.set_xticklabels(scenarios, rotation=90, fontsize=7)
        ax.set_xlim(-0.6, len(scenarios) - 0.4)
    for ax in axes[-4:]:
        ax.set_xlabel("scenario")
        ax.tick_params(axis="x", labelbottom=True)
    legend(axes[0])
    return finish(fig, f"Headline KPIs, near and remote (≥ {REMOTE_KM} km) townships{_km_unknown(results)}",
                   f"Each point: in each replication the mean over the near (or remote: km_to_county ≥ {REMOTE_KM}, "
                   f"docs/kpis.md) townships, not weighted by their size; then the mean over replications; bar: "
                   f"{T_METHOD} ({n_text(frame)}; {BOUNDED}). With at most {TOWNSHIP_DETAIL} scenarios the "
                   "figure shows every township." + all_townships_note(township))


def _km_unknown(results: ResultsDir) -> str:
    return "" if results.townships else " (km_to_county unknown here: every township is drawn as near)"


def _is_remote(results: ResultsDir, town: str) -> bool:
    km = results.townships.get(town, {}).get("km_to_county")
    return km is not None and km >= REMOTE_KM


def _town_label(results: ResultsDir, town: str) -> str:
    km = results.townships.get(town, {}).get("km_to_county")
    name = town_label(results, town)
    return name if km is None else f"{name} ({km:g})"



