"""The staffing-versus-wait trade-off of a staffing search (`simcenter staff`, kind staffing): per
township searched and target, each candidate's KPI against its staff, the target and the staffing chosen."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

from ..kpis import is_share, label, unit
from ..resultsdir import ResultsDir
from ..staffing import DECISION_RULE, parse_target
from .common import PlotError, need, town_label
from .style import reference, figure, finish, legend, percent, point_style, subplot_grid


def staffing(results: ResultsDir, township: str | None = None, kpis: list[str] | None = None) -> Figure:
    """One panel per township × target: x = windows (hall targets) or reviewers (back-office targets)."""
    search = need(results, "staffing_search", "staffing")
    chosen = need(results, "staffing", "staffing")
    targets = [parse_target(str(t)) for t in results.manifest.get("targets", [])]
    targets = [t for t in targets if not kpis or t.kpi in kpis]
    if not targets:
        raise PlotError(f"--kind staffing: {results.path}/manifest.json names no target to draw")
    towns = [township] if township else list(dict.fromkeys(search["township"].astype(str)))
    panels = [(town, target) for target in targets for town in towns]
    columns = min(4, len(towns))
    fig = figure(max(6.5, 3.6 * columns + 2.2), 3.0 * math.ceil(len(panels) / columns) + 1.6)
    for ax, (town, target) in zip(subplot_grid(fig, len(panels), columns), panels):
        _panel(ax, results, search[search["township"].astype(str) == town],
               chosen[chosen["township"].astype(str) == town], town, target)
    legend(fig.axes[0])
    n = int(results.manifest.get("replications") or 0)
    return finish(fig, f"Staffing search of {results.scenarios[0] if results.scenarios else results.path.name}: "
                       "staff against the targets",
                  f"Each point: a candidate staffing the search ran, the KPI's mean over n = {n} replications "
                  f"(common random numbers) in that township; bar: 95% Student t interval over replications. "
                  f"Filled: every target met; open: not. Star: the staffing chosen, from the final county run. "
                  f"Decision rule: {DECISION_RULE}. Windows: the township's total over window groups.")


def _panel(ax, results: ResultsDir, candidates: pd.DataFrame, chosen: pd.DataFrame, town: str, target) -> None:
    x_column, x_label = ("windows_total", "windows (total)") if target.hall else ("reviewers", "reviewers (posts)")
    mean, low, high = (f"{target.kpi}_{s}" for s in ("mean", "ci_low", "ci_high"))
    for met, i in ((True, 0), (False, 1)):
        rows = candidates[candidates["met"].astype(bool) == met]
        if len(rows):
            err = [(rows[mean] - rows[low]).clip(lower=0).fillna(0), (rows[high] - rows[mean]).clip(lower=0).fillna(0)]
            style = point_style(i)
            ax.errorbar(rows[x_column], rows[mean], yerr=err, capsize=3, ms=5, label="targets met" if met else
                        "targets not met", markerfacecolor=style["color"] if met else "white", **style)
    if len(chosen):
        x = chosen["windows"].sum() if target.hall else chosen["reviewers"].iloc[0]
        ax.plot([x], [chosen[mean].iloc[0]], marker="*", ms=14, color="black", linestyle="none", label="chosen")
    reference(ax.axhline(target.value, color="0.35", lw=1, linestyle="--", label="target"))
    ax.set_title(f"{town_label(results, town)}: {target}", fontsize=9, loc="left")
    ax.set_xlabel(x_label, fontsize=8)
    ax.set_ylabel(label(target.kpi) + ("" if is_share(target.kpi) else f" ({unit(target.kpi)})"), fontsize=8)
    if is_share(target.kpi):
        percent(ax)
    ax.grid(alpha=0.3)
