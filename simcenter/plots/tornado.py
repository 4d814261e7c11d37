"""Tornado figures of a sensitivity directory (`simcenter sensitivity`): for one reform, one panel
per KPI and one bar per uncertain input, spanning the reform's effect from the input's low value to
its high value, the widest on top."""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..layout import file_stem
from ..resultsdir import ResultsDir
from .common import need
from .style import OKABE_ITO, difference_axis, figure, finish, subplot_grid

LOW, HIGH = OKABE_ITO[0], OKABE_ITO[1]  # blue, vermillion: told apart with any colour vision


def figures(results: ResultsDir, kpis: list[str] | None = None) -> dict[str, Figure]:
    """One tornado per reform, keyed by the reform's file stem (figures/tornado-STEM.png)."""
    return {file_stem(reform): reform_figure(results, reform, kpis) for reform in results.reforms}


def tornado(results: ResultsDir, township: str | None = None, kpis: list[str] | None = None) -> Figure:
    """The first reform's tornado (`plot` draws every reform's, with `figures`)."""
    return reform_figure(results, results.reforms[0], kpis)


def reform_figure(results: ResultsDir, reform: str, kpis: list[str] | None = None) -> Figure:
    table = need(results, "sensitivity", "tornado")
    table = table[(table["reform"] == reform) & (table["kpi"].isin(kpis) if kpis else True)]
    kpis = list(dict.fromkeys(table["kpi"]))
    inputs = {i["name"]: i for i in results.manifest.get("inputs", []) if isinstance(i, dict) and "name" in i}
    names = list(dict.fromkeys(table["input"]))
    columns = min(3, len(kpis))
    fig = figure(4.6 * columns + 1.5, math.ceil(len(kpis) / columns) * (0.9 + 0.32 * len(names)) + 1.6)
    for ax, kpi in zip(subplot_grid(fig, len(kpis), columns), kpis):
        _panel(ax, table[table["kpi"] == kpi], kpi, names, inputs)
    fig.legend(handles=[Patch(color=LOW, label="input at its low value"),
                        Patch(color=HIGH, label="input at its high value")],
               loc="outside upper right", fontsize=8, ncols=2)
    n = int(table["n"].max()) if len(table) else 0
    k = len(results.reforms)
    level = float(results.manifest.get("comparison_level") or 0.95)
    return finish(fig, f"Sensitivity of {reform} against {results.scenarios[0]}: one input at a time",
                  f"Each bar: the effect (reform − baseline, mean of n = {n} paired replications with common "
                  "random numbers) as one input moves from its low value (blue) to its high value (vermillion) "
                  "while every other input keeps its central value; bars sorted by width, widest on top. Black "
                  "line: the effect at the central values; grey dashed line: no effect. Each effect's paired t "
                  f"interval (Bonferroni across k = {k} reform{'s' if k != 1 else ''}, each at level {level:.4g}) "
                  "is in sensitivity.csv. Shares are in percentage points.")


def _panel(ax, rows, kpi: str, names: list[str], inputs: dict) -> None:
    effect = {(r["input"], r["level"]): float(r["difference"]) for r in rows.to_dict("records")}
    central = next((effect[(n, "central")] for n in names if (n, "central") in effect), math.nan)
    spans = []
    for name in names:
        low, high = effect.get((name, "low"), math.nan), effect.get((name, "high"), math.nan)
        width = abs(high - low) if math.isfinite(low) and math.isfinite(high) else -1.0
        spans.append((width, name, low, high))
    spans.sort(key=lambda s: s[0])  # the widest last: on top
    for y, (_, _name, low, high) in enumerate(spans):
        for value, colour in ((low, LOW), (high, HIGH)):
            if math.isfinite(value) and math.isfinite(central):
                ax.barh(y, value - central, left=central, height=0.6, color=colour)
    if math.isfinite(central):
        ax.axvline(central, color="black", lw=1.2)
    ax.axvline(0, color="0.5", lw=0.8, ls="--")
    ax.set_yticks(range(len(spans)))
    ax.set_yticklabels([_input_label(inputs.get(name, {"label": name}), name) for _, name, _, _ in spans], fontsize=8)
    ax.set_ylim(-0.6, len(spans) - 0.4)
    difference_axis(ax, kpi)
    ax.grid(axis="x", alpha=0.3)


def _input_label(spec: dict, name: str) -> str:
    """The input's label with its range, as the manifest gives it ('patience mean 30–90 min')."""
    return str(spec.get("range") or spec.get("label") or name)
