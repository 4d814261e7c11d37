"""Which reform helps where (township-effects): a reform × township heatmap of each headline KPI's
paired difference reform − baseline, coloured by whether it is better or worse, not by its sign."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..kpis import is_share, label, unit
from ..kpis import kpi as kpi_entry
from ..resultsdir import ResultsDir
from .common import all_townships_note, town_label, town_order
from .comparison import paired_by_township
from .style import figure, finish, headline

DIVERGING = "PuOr"  # better: purple, worse: orange; both readable with every common colour-vision deficiency


def effect_kpis(columns) -> list[str]:
    """The headline KPIs of the figures that have a better direction (staff-hours has none: not coloured)."""
    return [k for k in headline(columns) if kpi_entry(k).higher_is_better is not None]


def township_effects(results: ResultsDir, kpis: list[str] | None = None) -> pd.DataFrame:
    """Per township, reform and KPI (`effect_kpis`, or those of `kpis` that have a better direction):
    the mean paired difference, its interval and n; townships near to far (km to the county seat)."""
    frame = results.tables["by_township"]
    towns = sorted({str(t) for t in frame["township"]}, key=lambda t: town_order(results, t))
    wanted = [k for k in kpis if k in effect_kpis(frame.columns)] if kpis else effect_kpis(frame.columns)
    table = paired_by_township(results, "township-effects", towns, wanted)
    return table[table["kpi"].isin(wanted)].reset_index(drop=True)


def town_name(results: ResultsDir, town: str) -> str:
    return town_label(results, town, short=True)


def cell_text(kpi: str, d: float, significant: bool) -> str:
    """The difference as the cell shows it: percentage points for shares, the KPI's unit otherwise."""
    if math.isnan(d):
        return ""
    scale = 100 if is_share(kpi) else 1
    value = d * scale
    if value == 0:
        return "0"
    decimals = 0 if abs(value) >= 10 else 1 if abs(value) >= 1 else 2
    text = f"{value:+.{decimals}f}".replace("-", "−")
    return text + ("*" if significant else "")


def township_effects_figure(results: ResultsDir, township: str | None = None, kpis: list[str] | None = None) -> Figure:
    """One panel per KPI: rows reforms, columns townships; colour: better (purple) or worse (orange)."""
    table = township_effects(results, kpis)
    reforms = results.reforms
    towns = list(dict.fromkeys(table["township"]))
    kpis = list(dict.fromkeys(table["kpi"]))
    width = min(18, max(7, 0.62 * len(towns) + 3))
    height = sum(0.32 * len(reforms) + 1.0 for _ in kpis) + 1.6
    fig = figure(width, height)
    axes = fig.subplots(len(kpis), 1, squeeze=False, height_ratios=[1] * len(kpis)).ravel()
    cmap = matplotlib.colormaps[DIVERGING]
    for ax, kpi in zip(axes, kpis):
        rows = table[table["kpi"] == kpi]
        grid = rows.pivot(index="reform", columns="township", values="difference").reindex(index=reforms,
                                                                                         columns=towns)
        marks = rows.pivot(index="reform", columns="township", values="significant").reindex(index=reforms,
                                                                                            columns=towns)
        values = grid.to_numpy(float)
        better = values if kpi_entry(kpi).higher_is_better else -values
        top = np.nanmax(np.abs(better)) if np.isfinite(better).any() else 0.0
        top = top if top > 0 else 1.0  # colours saturate at the panel's largest |difference|
        image = ax.imshow(np.ma.masked_invalid(better), cmap=cmap, vmin=-top, vmax=top, aspect="auto",
                          interpolation="nearest")
        image.set_gid(f"effects-{kpi}")  # panels with equal cells would otherwise share an SVG id
        for (r, c), d in np.ndenumerate(values):
            mark = marks.iat[r, c]
            text = cell_text(kpi, d, bool(mark) and mark == mark)
            strong = abs(better[r, c]) > 0.6 * top if np.isfinite(better[r, c]) else False
            ax.text(c, r, text, ha="center", va="center", fontsize=6.5, color="white" if strong else "black",
                    fontweight="bold" if text.endswith("*") else "normal")
        ax.set_yticks(range(len(reforms)))
        ax.set_yticklabels(reforms, fontsize=8)
        ax.set_xticks(range(len(towns)))
        ax.set_xticklabels([town_name(results, t) for t in towns], rotation=45, ha="right", fontsize=7.5)
        shown = "percentage points" if is_share(kpi) else unit(kpi)
        better_word = "higher" if kpi_entry(kpi).higher_is_better else "lower"
        ax.set_title(f"{label(kpi)}: reform − baseline ({shown}; {better_word} is better)", fontsize=9.5,
                     loc="left")
    n = int(table["n"].max()) if len(table) else 0
    level = results.comparison_level
    return finish(fig, f"Which reform helps where: change from the baseline {results.scenarios[0]} by township",
                  f"Each cell: mean over n = {n} paired replications (common random numbers) of reform − "
                  f"baseline in that township; * and bold: its paired t interval at level {level:.4g} (Bonferroni "
                  "across the reforms, not across townships or KPIs) excludes 0. Colour: purple where the reform "
                  "does better, orange where it does worse, whatever the KPI's direction; each panel's scale is "
                  "its largest difference. Townships near to far from the county seat. Staff-hours, which has no "
                  "better direction, is in the tables." + all_townships_note(township))
