"""How the figures look: the palette, markers and line styles, legends, the figure and its caption,
axes for a KPI (label, unit and bounds from the KPI catalogue `simcenter.kpis`)."""

from __future__ import annotations

import logging
import math
import re
import sys
import textwrap

import matplotlib
import numpy as np
from matplotlib import font_manager
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


MAX_SERIES = 6  # series in one panel at most: more scenarios → small multiples or summaries

# --- fonts: township names in Chinese (灵溪镇) -----------------------------------------------------
# DejaVu Sans first (Latin, symbols), then a CJK font for the glyphs DejaVu lacks (matplotlib
# falls back glyph by glyph along font.family). Without any CJK font, labels stay in pinyin.
CJK_CANDIDATES = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC",
                  "Source Han Sans CN", "Source Han Sans", "Droid Sans Fallback", "AR PL UMing CN")
CJK_FILES = re.compile(r"wqy|notosanscjk|noto.*cjk|sourcehan|droidsansfallback|uming|ukai", re.IGNORECASE)


def _cjk_fonts() -> list[str]:
    """The installed CJK fonts of CJK_CANDIDATES, registering system fonts matplotlib's cache missed."""
    def known() -> list[str]:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return [n for n in CJK_CANDIDATES if n in names]

    if not known():  # a font installed after matplotlib built its cache: look once on the system
        for path in font_manager.findSystemFonts():
            if CJK_FILES.search(path.replace(" ", "").replace("-", "")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
    return known()


CJK_FONTS = tuple(_cjk_fonts())
matplotlib.rcParams["font.family"] = ["DejaVu Sans", *CJK_FONTS]
# names from scenario files are text, never TeX: `$\foo{$` in a name must not break a figure
matplotlib.rcParams["text.parse_math"] = False
# CJK fonts often come in one weight (WenQuanYi: 500): matplotlib uses it for every weight, and says
# so on each lookup; that is what we want, so the notice is dropped
logging.getLogger("matplotlib.font_manager").addFilter(
    lambda record: not str(record.msg).startswith("findfont: Failed to find font weight"))
_told = []


def chinese_ok() -> bool:
    """Whether Chinese can be drawn; without a CJK font say once on stderr that labels stay in pinyin."""
    if not CJK_FONTS and not _told:
        _told.append(True)
        print("plot: no CJK font installed (e.g. fonts-wqy-zenhei): township names in pinyin only", file=sys.stderr)
    return bool(CJK_FONTS)

# --- series -----------------------------------------------------------------------------------


def combination(i: int) -> tuple[str, str, str]:
    """Series i's (colour, marker, line style): distinct for i < 64 (colour and marker together
    count i in base 8), so no two series of a figure look alike, also in grey print."""
    colour = OKABE_ITO[i % len(OKABE_ITO)]
    mark = MARKERS[(i + i // len(OKABE_ITO)) % len(MARKERS)]
    return colour, mark, LINESTYLES[i % len(LINESTYLES)]


def palette(i: int) -> dict:
    return {"color": OKABE_ITO[i % len(OKABE_ITO)]}


def line_style(i: int, markers: bool = True) -> dict:
    """Series i of a line plot: colour, line style and marker all differ, so that lines lying on
    top of each other (a reform that changes nothing) still show, also in grey print."""
    colour, mark, linestyle = combination(i)
    style = {"color": colour, "linestyle": linestyle}
    if markers:
        style.update(marker=mark, markersize=max(3.0, 6.5 - 1.2 * min(i, 3)), markerfacecolor="none"
                     if i else colour)
    return style


def point_style(i: int) -> dict:
    """Series i of points with error bars: its colour and marker (`combination`), no line."""
    colour, mark, _ = combination(i)
    return {"color": colour, "ecolor": colour, "fmt": mark, "linestyle": "none"}


def bar_style(i: int) -> dict:
    """Series i of bars: its colour, and a hatch from the ninth on (colours repeat)."""
    colour = OKABE_ITO[i % len(OKABE_ITO)]
    hatch = (None, "//", "..", "xx", "\\\\", "++", "oo", "--")[(i // len(OKABE_ITO)) % 8]
    return {"color": colour, "hatch": hatch}


def legend(ax, extra=(), columns: int = 1, below: bool = False, title: str | None = None) -> None:
    """The figure's legend, outside the panels (right, or below): it never hides data. One entry
    per label over all panels (a scenario drawn in several panels is one entry), then `extra` artists."""
    fig = ax.figure
    handles, labels = [], []
    for a in fig.axes:
        for h, lab in zip(*a.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    handles += list(extra)
    labels += [h.get_label() for h in extra]
    if handles:
        fig.legend(handles, labels, fontsize=8, loc="outside lower center" if below else "outside right upper",
                   ncols=columns, title=title, title_fontsize=8)


def reference(artist):
    """Mark a line as a reference (a target, zero), not a data series (an attribute: an SVG id would repeat)."""
    artist.is_reference = True
    return artist


def marker(i: int) -> str:
    return combination(i)[1]


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
