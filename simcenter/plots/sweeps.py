"""A sweep's KPIs against its factors (sweep)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..resultsdir import ResultsDir
from .common import interval, n_text, need, town_label
from .style import BOUNDED, MAX_SERIES, T_METHOD, figure, finish, headline, kpi_axis, legend, line_style, palette, \
    subplot_grid


def sweep(results: ResultsDir, township: str | None = None, kpis: list[str] | None = None) -> Figure:
    """A KPI against the first factor with 95% t bands, a line per level of the second factor (averaged
    over it when it has more levels than a panel holds); the experiment's KPIs, or those of `kpis`."""
    if township is not None:
        frame = need(results, "by_township", "sweep")
        frame = frame[frame["township"].astype(str) == township]
    else:
        frame = need(results, "kpis", "sweep")
    frame = frame.sort_values(["point", "replication"])
    factors = [f for f in results.factors if f in frame]
    varying = [f for f in factors if frame[f].nunique() > 1]
    fixed = [f for f in factors if f not in varying]
    x_factor = varying[0] if varying else None
    line_factor = varying[1] if len(varying) > 1 else None
    averaged = varying[2:]
    if line_factor and frame[line_factor].nunique() > MAX_SERIES:  # too many lines: averaged like a third factor
        line_factor, averaged = None, varying[1:]
    summary = results.tables.get("summary")  # its KPIs: the experiment's KPIs of interest, in order
    wanted = list(dict.fromkeys(summary["kpi"])) if summary is not None and "kpi" in summary else []
    kpis = [k for k in kpis if k in frame] if kpis else [k for k in wanted if k in frame] or headline(frame.columns)
    fig = figure(12 if len(kpis) > 2 else 6 * len(kpis), 3.2 * math.ceil(len(kpis) / 4) + 1.5)
    axes = subplot_grid(fig, len(kpis), 4, sharex=True)
    x_levels = list(dict.fromkeys(frame[x_factor])) if x_factor else [None]
    numeric = x_factor is not None and all(_is_number(v) for v in x_levels)
    if numeric:
        x_levels = sorted(x_levels)
    positions = [float(v) for v in x_levels] if numeric else list(range(len(x_levels)))
    line_levels = list(dict.fromkeys(frame[line_factor])) if line_factor else [None]
    for ax, kpi in zip(axes, kpis):
        for i, level in enumerate(line_levels):
            mine = frame if line_factor is None else frame[frame[line_factor] == level]
            stats = []
            for x in x_levels:
                at = mine if x_factor is None else mine[mine[x_factor] == x]
                per_rep = at.groupby("replication")[kpi].mean()  # averaged over the other factors
                stats.append(interval(per_rep.to_numpy(float), kpi))
            mean, low, high = (np.array([s[j] for s in stats], float) for j in range(3))
            name = f"{level}" if line_factor else "all points"
            ax.plot(positions, mean, label=name, **line_style(i))
            if np.isfinite(low).any():
                ax.fill_between(positions, low, high, color=palette(i)["color"], alpha=0.2, linewidth=0)
        kpi_axis(ax, kpi)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xticks(positions)
        ax.set_xticklabels([str(v) for v in x_levels], fontsize=8)
    columns = min(4, len(kpis))
    for j, ax in enumerate(axes):
        if j >= len(axes) - columns:
            ax.set_xlabel(x_factor or "(no factor varies)", fontsize=8)
            ax.tick_params(axis="x", labelbottom=True)
    if line_factor:
        legend(axes[0], title=line_factor)
    name = results.manifest.get("experiment", {}).get("name", results.path.name)
    notes = []
    if averaged:
        notes.append("averaged over " + ", ".join(averaged) + " (each replication's mean over their levels)")
    if fixed:
        notes.append("fixed: " + ", ".join(f"{f} = {frame[f].iloc[0]}" for f in fixed))
    where = f" (township {town_label(results, township)})" if township else ""
    return finish(fig, f"Sweep {name}: KPIs against {x_factor or 'the points'}{where}",
                   f"Each point: mean over replications; band: {T_METHOD} ({n_text(frame, 'point')}; {BOUNDED}; "
                   "every point uses common random numbers)." + (" " + _sentence("; ".join(notes)) if notes else ""))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)



