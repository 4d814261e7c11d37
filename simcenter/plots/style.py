"""How the figures look: the palette, markers and line styles, legends, the figure and its caption,
axes for a KPI (label, unit and bounds from the KPI catalogue `simcenter.kpis`)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..kpis import HEADLINE_FIGURES, is_share, label, unit
from ..kpis import kpi as kpi_entry  # the catalogue's entry (`kpi` names a column here)

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency. Blue first (the baseline), yellow last (weak on white); black late, since a grey
# band of it would look like the grey of closed hours.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.")
HEATMAP = "cividis"
CLOSED = "0.88"  # grey of closed hours

T_METHOD = "95% Student t over replications"

# Labels, units and bounds of the KPIs: simcenter.kpis.CATALOGUE (as in the report's tables).
BOUNDED = "cut at the KPI's bounds: 0 and, for shares, 100%"


def palette(i: int) -> dict:
    return {"color": OKABE_ITO[i % len(OKABE_ITO)]}


def line_style(i: int, markers: bool = True) -> dict:
    """Series i of a line plot: colour, line style and marker all differ, so that lines lying on
    top of each other (a reform that changes nothing) still show, also in grey print."""
    style = {"color": OKABE_ITO[i % len(OKABE_ITO)], "linestyle": LINESTYLES[i % len(LINESTYLES)]}
    if markers:
        style.update(marker=MARKERS[i % len(MARKERS)], markersize=max(3.0, 6.5 - 1.2 * i), markerfacecolor="none"
                     if i else style["color"])
    return style


def legend(ax, outside: bool, *args, loc: str = "best") -> None:
    """The axes' legend: inside at `loc`, or (many series) the figure's, right of the panels."""
    if outside:
        ax.figure.legend(*(args or ax.get_legend_handles_labels()), fontsize=8, loc="outside right upper")
    else:
        ax.legend(*args, fontsize=8, loc=loc)


def marker(i: int) -> str:
    return MARKERS[i % len(MARKERS)]


def figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def finish(fig: Figure, title: str, caption: str) -> Figure:
    fig.suptitle(title, fontsize=12, fontweight="bold")
    chars = max(60, int(fig.get_figwidth() * 15))
    fig.supxlabel("\n".join(textwrap.wrap(caption, chars)), fontsize=7.5, x=0.01, ha="left", color="0.25")
    # lay out once (no drawing needed) and keep it: constrained layout starts from the current
    # positions, so a second layout would move things by a pixel and two saves would differ
    fig.get_layout_engine().execute(fig)
    fig.set_layout_engine("none")
    return fig


def difference_axis(ax, kpi: str) -> None:
    """A panel of differences reform − baseline along x: the KPI as title, its unit (shares in percentage points)."""
    ax.set_title(label(kpi), fontsize=10)
    if is_share(kpi):
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None, symbol=""))
        ax.set_xlabel("reform − baseline (percentage points)", fontsize=8)
    else:
        ax.set_xlabel(f"reform − baseline ({unit(kpi)})", fontsize=8)


def percent(ax, axis: str = "y") -> None:
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(1.0, decimals=None))


def hour_ticks(ax, hours) -> None:
    ax.set_xticks(list(hours))
    ax.set_xticklabels([f"{h:02d}:00" for h in hours], rotation=0, fontsize=8)


def headline(available) -> list[str]:
    return [k for k in HEADLINE_FIGURES if k in set(available)]


def subplot_grid(fig: Figure, count: int, columns: int, **kwargs) -> list:
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    axes = fig.subplots(rows, columns, squeeze=False, **kwargs).ravel()
    for ax in axes[count:]:
        ax.remove()
    return list(axes[:count])


def yerr(stats) -> np.ndarray | None:
    mean = np.array([s[0] for s in stats], float)
    low = np.array([s[1] for s in stats], float)
    high = np.array([s[2] for s in stats], float)
    if not np.isfinite(low).any():
        return None
    return np.vstack([np.nan_to_num(mean - low), np.nan_to_num(high - mean)])


def kpi_axis(ax, kpi: str) -> None:
    """Title, unit, grid (from the catalogue); the axis kept near the KPI's bounds."""
    ax.set_title(label(kpi), fontsize=10)
    ax.set_ylabel(unit(kpi))
    ax.grid(axis="y", alpha=0.3)
    k = kpi_entry(kpi)
    low, high = ax.get_ylim()
    margin = 0.02 * (k.upper - k.lower if k.lower is not None and k.upper is not None else high - low)
    ax.set_ylim(low if k.lower is None else max(low, k.lower - margin),
                high if k.upper is None else min(high, k.upper + margin))
    if is_share(kpi):
        percent(ax)
