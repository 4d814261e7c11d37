"""Figures of a results directory (`simcenter plot`): one function per kind, deterministic files.

Each kind is a function `(results, township) -> matplotlib Figure` in `KINDS`; `plot()` loads a
results directory, checks the kinds apply to it, and writes `figures/KIND.FORMAT` (with
`--township ID`: `figures/KIND-ID.FORMAT` for the kinds kept per township). Every figure has a
title, axis labels with units, a legend where there are several series, and a caption stating
n (replications) and how the intervals were made.

Only `Figure` objects are made (no pyplot, no global backend): saving a PNG uses the Agg
canvas, an SVG the SVG canvas. Files are byte-identical from run to run: no date or software
in the metadata, and each SVG's ids are salted with the figure's name, so that several SVGs
inlined in one HTML page do not share an id.

This module imports matplotlib and pandas at the top: only the `plot` command imports it.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from .kpis import HEADLINE_FIGURES, REMOTE_KM, ROUTE_NAMES, TRIP_BINS, WAIT_BINS, clip, is_share, label, unit
from .kpis import kpi as kpi_entry  # the catalogue's entry (`kpi` names a column in this module)
from .results import OutputError, read_manifest, write_bytes

FORMATS = ("png", "svg")
DPI = 150
TARGETS = (15, 30)  # wait targets, minutes
MAX_MINUTE = WAIT_BINS - 1  # wait_histogram: minute WAIT_BINS means "more than MAX_MINUTE"
MANY = 4  # more scenarios than this: legends outside the axes, fewer bands
TOWNSHIP_DETAIL = 3  # the townships figure shows each township for at most this many scenarios

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


class PlotError(OutputError):
    """A kind, format or township that does not fit the results directory (exit status 2)."""


# --- loading ---------------------------------------------------------------------------------

TABLES = {
    "kpis": "kpis.parquet",
    "by_township": "kpis_by_township.parquet",
    "by_hour": "kpis_by_hour.parquet",
    "wait_histogram": "wait_histogram.parquet",
    "cases_summary": "cases_summary.parquet",
    "summary": "summary.csv",
    "comparison": "comparison.csv",
}


@dataclass
class Results:
    """The tables of a results directory that exist, its manifest and its kind (run/compare/sweep)."""

    path: Path
    kind: str  # "run" | "compare" | "sweep"
    manifest: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    scenarios: list[str] = field(default_factory=list)  # baseline first; for a sweep, empty
    townships: dict[str, dict] = field(default_factory=dict)  # id → {"name", "km_to_county"} (from the YAML)

    def table(self, name: str, kind: str) -> pd.DataFrame:
        frame = self.tables.get(name)
        if frame is None:
            raise PlotError(f"--kind {kind}: {self.path} has no {TABLES[name]} (got an older or partial "
                            "results directory; run it again with this version)")
        return frame

    @property
    def reforms(self) -> list[str]:
        return self.scenarios[1:] if self.kind == "compare" else []

    def township_ids(self) -> list[str]:
        ids: list[str] = list(self.townships)
        for name in ("by_township", "by_hour"):
            frame = self.tables.get(name)
            if frame is not None and "township" in frame:
                ids += [str(t) for t in frame["township"].unique()]
        return list(dict.fromkeys(ids))

    def check_township(self, township: str) -> None:
        known = self.township_ids()
        if township not in known:
            raise PlotError(f"--township {township}: no such township in {self.path} "
                            f"(known: {', '.join(known) or 'none'})")


def load(results_dir) -> Results:
    """The results directory's manifest and tables; PlotError when it is not one."""
    path = Path(results_dir)
    manifest = read_manifest(path)
    scenarios = [s["name"] for s in manifest.get("scenarios", []) if isinstance(s, dict) and "name" in s]
    if "experiment" in manifest:
        kind = "sweep"
    elif manifest.get("command") == "compare" or len(scenarios) > 1 or (path / "comparison.csv").exists():
        kind = "compare"
    else:
        kind = "run"
    tables = {}
    for name, file in TABLES.items():
        if (path / file).is_file():
            try:
                tables[name] = pd.read_parquet(path / file) if file.endswith(".parquet") else pd.read_csv(path / file)
            except Exception as e:  # noqa: BLE001 - any reader error means the same to the user
                raise PlotError(f"{path / file}: unreadable ({type(e).__name__}: {e})") from None
    if kind == "compare" and manifest.get("baseline") in scenarios:  # baseline first, reforms in order
        scenarios = [manifest["baseline"]] + [s for s in scenarios if s != manifest["baseline"]]
    if not scenarios and "kpis" in tables and "scenario" in tables["kpis"]:
        scenarios = [str(s) for s in tables["kpis"]["scenario"].unique()]
    return Results(path, kind, manifest, tables, scenarios, _townships(path, kind, scenarios))


def _townships(path: Path, kind: str, scenarios: list[str]) -> dict[str, dict]:
    """Each township's name and km_to_county, from the (first readable) resolved scenario."""
    from .layout import file_stem

    if kind == "run":
        files = [path / "scenario.resolved.yaml"]
    elif kind == "compare":
        files = [path / "scenarios" / f"{file_stem(s)}.resolved.yaml" for s in scenarios]
    else:
        return {}
    for file in files:
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
            towns = data["townships"]
            return {str(t): {"name": v.get("name") or str(t), "km_to_county": float(v.get("km_to_county") or 0)}
                    for t, v in towns.items()}
        except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError, ValueError):
            continue
    return {}


# --- which kinds apply ------------------------------------------------------------------------

NEEDS = {  # kind → tables it reads
    "waits": ("wait_histogram",),
    "by-hour": ("by_hour",),
    "utilization": ("by_hour",),
    "compare": ("comparison",),
    "trips": ("cases_summary",),
    "lead-times": ("cases_summary",),
    "townships": ("by_township",),
    "sweep": ("kpis",),
}
TOWNSHIP_KINDS = ("by-hour", "utilization", "compare", "sweep")  # those --township restricts


def applies(results: Results, kind: str) -> str | None:
    """None if `kind` can be drawn from `results`, else why not (one line)."""
    if kind not in KINDS:
        return f"--kind {kind}: no such kind (choose from {', '.join(KINDS)})"
    if kind == "sweep":
        if results.kind != "sweep":
            return (f"--kind sweep: not for a {results.kind} directory (it plots a KPI against the factors "
                    "of a `simcenter sweep`)")
    elif results.kind == "sweep":
        return (f"--kind {kind}: not for a sweep directory (a sweep keeps KPIs per point and replication: "
                "use --kind sweep)")
    elif kind == "compare":
        if results.kind != "compare":
            return (f"--kind compare: not for a {results.kind} directory (it plots paired differences "
                    "from a baseline: make them with `simcenter compare BASELINE REFORM...`)")
        if not results.reforms:
            return f"--kind compare: {results.path} compares no reform with its baseline"
    missing = [TABLES[t] for t in NEEDS[kind] if t not in results.tables]
    if missing:
        return (f"--kind {kind}: {results.path} has no {' or '.join(missing)} (got an older or partial "
                "results directory; run it again with this version)")
    return None


def default_kinds(results: Results) -> list[str]:
    """The kinds that suit the directory: the sweep plot for a sweep, the comparison first for a compare."""
    order = ("sweep", "compare", "waits", "by-hour", "utilization", "trips", "lead-times", "townships")
    return [k for k in order if applies(results, k) is None]


# --- writing ----------------------------------------------------------------------------------

def save(fig: Figure, path: Path, fmt: str | None = None) -> None:
    """The figure as PNG or SVG at `path`, atomically; the same figure gives the same bytes."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".")
    if fmt not in FORMATS:
        raise PlotError(f"--format {fmt}: not a figure format (choose from {', '.join(FORMATS)})")
    buffer = io.BytesIO()
    if fmt == "svg":
        with matplotlib.rc_context({"svg.hashsalt": f"simcenter-{path.stem}", "svg.fonttype": "none"}):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
    else:
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    write_bytes(path, buffer.getvalue())


def plot(results_dir, kinds=None, fmt: str = "png", township: str | None = None) -> list[Path]:
    """Write the figures of `kinds` (default: `default_kinds`) into RESULTS_DIR/figures/; their paths.

    `results_dir` is a path or a loaded `Results`.
    Everything is checked before anything is written: an unknown or unfitting kind, format or
    township raises PlotError.
    """
    if fmt not in FORMATS:
        raise PlotError(f"--format {fmt}: not a figure format (choose from {', '.join(FORMATS)})")
    results = results_dir if isinstance(results_dir, Results) else load(results_dir)
    if township is not None:
        results.check_township(township)
    kinds = list(dict.fromkeys(kinds)) if kinds else default_kinds(results)
    if not kinds:
        raise PlotError(f"{results.path}: nothing to plot (got none of the tables the figures need)")
    for kind in kinds:
        problem = applies(results, kind)
        if problem:
            raise PlotError(problem)
    folder = results.path / "figures"
    folder.mkdir(exist_ok=True)
    written = []
    for kind in kinds:
        fig = KINDS[kind](results, township)
        stem = f"{kind}-{township}" if township is not None and kind in TOWNSHIP_KINDS else kind
        path = folder / f"{stem}.{fmt}"
        save(fig, path, fmt)
        written.append(path)
    return written


# --- shared pieces ----------------------------------------------------------------------------

def _style(i: int) -> dict:
    return {"color": OKABE_ITO[i % len(OKABE_ITO)]}


def _line(i: int, markers: bool = True) -> dict:
    """Series i of a line plot: colour, line style and marker all differ, so that lines lying on
    top of each other (a reform that changes nothing) still show, also in grey print."""
    style = {"color": OKABE_ITO[i % len(OKABE_ITO)], "linestyle": LINESTYLES[i % len(LINESTYLES)]}
    if markers:
        style.update(marker=MARKERS[i % len(MARKERS)], markersize=max(3.0, 6.5 - 1.2 * i), markerfacecolor="none"
                     if i else style["color"])
    return style


def _legend(ax, outside: bool, *args, loc: str = "best") -> None:
    """The axes' legend: inside at `loc`, or (many series) the figure's, right of the panels."""
    if outside:
        ax.figure.legend(*(args or ax.get_legend_handles_labels()), fontsize=8, loc="outside right upper")
    else:
        ax.legend(*args, fontsize=8, loc=loc)


def _marker(i: int) -> str:
    return MARKERS[i % len(MARKERS)]


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _finish(fig: Figure, title: str, caption: str) -> Figure:
    fig.suptitle(title, fontsize=12, fontweight="bold")
    chars = max(60, int(fig.get_figwidth() * 15))
    fig.supxlabel("\n".join(textwrap.wrap(caption, chars)), fontsize=7.5, x=0.01, ha="left", color="0.25")
    # lay out once and keep it: constrained layout starts from the current positions, so a
    # second draw would move things by a pixel and two saves would differ
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    return fig


def _interval(values, kpi: str | None = None) -> tuple[float, float, float, int]:
    """Mean, 95% t interval and n; with a KPI, the interval kept inside its bounds (`BOUNDED`)."""
    from .stats import t_interval

    mean, low, high, n = t_interval(values)
    if kpi is not None and not math.isnan(low):
        low, high = (float(x) for x in clip(kpi, [low, high]))
    return mean, low, high, n


def _n_text(frame: pd.DataFrame, per: str = "scenario") -> str:
    counts = frame.groupby(per)["replication"].nunique() if len(frame) else pd.Series([0])
    low, high = int(counts.min()), int(counts.max())
    return f"n = {low} replication{'s' if high != 1 else ''} per {per}" if low == high else \
        f"n = {low}–{high} replications per {per}"


def _scenarios(results: Results, frame: pd.DataFrame) -> list[str]:
    present = [str(s) for s in frame["scenario"].unique()] if "scenario" in frame else []
    return [s for s in results.scenarios if s in present] + [s for s in present if s not in results.scenarios]


def _all_townships_note(township: str | None) -> str:
    return (f" All townships: this table is not kept per township, so --township {township} does not apply."
            if township else "")


def _percent(ax, axis: str = "y") -> None:
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(1.0, decimals=None))


def _hours(ax, hours) -> None:
    ax.set_xticks(list(hours))
    ax.set_xticklabels([f"{h:02d}:00" for h in hours], rotation=0, fontsize=8)


# --- waits ------------------------------------------------------------------------------------

def waits(results: Results, township: str | None = None) -> Figure:
    """ECDF of the waits per scenario from wait_histogram: share served within x minutes."""
    hist = results.table("wait_histogram", "waits")
    kpis = results.tables.get("kpis")
    many = len(_scenarios(results, hist)) > MANY
    fig = _figure(11 if many else 7.5, 4.8)
    ax = fig.subplots()
    x = np.arange(0, MAX_MINUTE + 2)  # P(wait < x) is known exactly at whole minutes
    reach = 35
    served = []
    for i, scenario in enumerate(_scenarios(results, hist)):
        counts = (hist[hist["scenario"] == scenario].groupby("minute")["count"].sum()
                  .reindex(range(0, MAX_MINUTE + 2), fill_value=0).to_numpy(float))
        total = counts.sum()
        served.append(f"{scenario} {int(total):,}")
        share = np.concatenate([[0.0], np.cumsum(counts)])[: len(x)] / total if total else np.full(len(x), np.nan)
        if total and np.any(share >= 0.98):
            reach = max(reach, int(np.argmax(share >= 0.98)) + 1)
        else:
            reach = MAX_MINUTE + 1
        ax.plot(x, share, label=_within_label(scenario, kpis, share), lw=1.8, **_line(i, markers=False))
    for target, style in zip(TARGETS, ("--", ":")):
        ax.axvline(target, color="0.45", lw=1, linestyle=style, label=f"{target}-minute target")
    ax.set_xlim(0, min(MAX_MINUTE + 1, math.ceil(reach / 5) * 5))
    ax.set_ylim(0, 1.02)
    _percent(ax)
    ax.set_xlabel("wait from ticket to call, x (minutes)")
    ax.set_ylabel("share of visits served within x minutes")
    ax.grid(alpha=0.3)
    _legend(ax, many, loc="lower right")
    return _finish(fig, "Waiting time at the window: share served within x minutes",
                   f"Empirical CDF of the waits of served visits, pooled over the replications "
                   f"({_n_text(hist)}; served visits: {', '.join(served)}). In the legend: the share served "
                   f"within 15 minutes, mean and {T_METHOD} ({BOUNDED}). Visits that balked or reneged "
                   f"are not waits (see abandon_share); waits above {MAX_MINUTE} minutes are counted but off the axis."
                   + _all_townships_note(township))


def _within_label(scenario: str, kpis: pd.DataFrame | None, share: np.ndarray) -> str:
    if kpis is not None and "served_within_15_share" in kpis:
        within = kpis.loc[kpis["scenario"] == scenario, "served_within_15_share"].to_numpy(float)
    elif kpis is not None and "wait_over_15_share" in kpis:  # results of an older version
        within = 1 - kpis.loc[kpis["scenario"] == scenario, "wait_over_15_share"].to_numpy(float)
    else:
        return f"{scenario}: {share[TARGETS[0]]:.0%} within 15 min (pooled)"
    mean, low, high, _ = _interval(within, "served_within_15_share")
    ci = "" if math.isnan(low) else f" [{low:.0%}, {high:.0%}]"
    return f"{scenario}: {mean:.0%}{ci} within 15 min"


# --- by hour ----------------------------------------------------------------------------------

def _hourly(results: Results, township: str | None, kind: str) -> pd.DataFrame:
    frame = results.table("by_hour", kind)
    if township is not None:
        frame = frame[frame["township"].astype(str) == township]
    return frame


def _open_hours(frame: pd.DataFrame) -> tuple[list[int], set[int]]:
    """The clock hours worth showing (open or busy, with an hour either side) and those closed."""
    by_hour = frame.groupby("hour").agg(open=("open_minutes", "max"), arrivals=("arrivals", "sum"),
                                        waits=("wait_mean", "count"))
    active = by_hour.index[(by_hour["open"] > 0) | (by_hour["arrivals"] > 0) | (by_hour["waits"] > 0)]
    if len(active) == 0:
        return list(range(24)), set(range(24))
    hours = list(range(max(0, int(active.min()) - 1), min(23, int(active.max()) + 1) + 1))
    opened = set(by_hour.index[by_hour["open"] > 0].astype(int))
    return hours, {h for h in hours if h not in opened}


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    keep = values.notna()
    v, w = values[keep].to_numpy(float), weights[keep].to_numpy(float)
    if len(v) == 0:
        return math.nan
    return float(np.average(v, weights=w)) if w.sum() > 0 else float(v.mean())


def by_hour(results: Results, township: str | None = None) -> Figure:
    """Mean and p90 wait and queue length by clock hour, a line per scenario and a 95% t band."""
    frame = _hourly(results, township, "by-hour")
    hours, closed = _open_hours(frame)
    towns = frame["township"].nunique()

    def per_replication(g: pd.DataFrame) -> pd.Series:
        queue = g.groupby("township")["queue_mean"].sum(min_count=1)  # people waiting in each centre
        return pd.Series({"wait_mean": _weighted(g["wait_mean"], g["arrivals"]),
                          "wait_p90": _weighted(g["wait_p90"], g["arrivals"]),
                          "queue": float(queue.mean()) if queue.notna().any() else math.nan})

    rows = frame.groupby(["scenario", "replication", "hour"])[["township", "wait_mean", "wait_p90", "arrivals",
                                                               "queue_mean"]].apply(per_replication).reset_index()
    panels = (("wait_mean", label("wait_mean", with_unit=True)), ("wait_p90", label("wait_p90", with_unit=True)),
              ("queue", "people waiting\n(time average)" if township or towns == 1
               else "people waiting per centre\n(time average)"))
    many = len(_scenarios(results, rows)) > MANY
    fig = _figure(11 if many else 8, 8)
    axes = fig.subplots(3, 1, sharex=True)
    for i, scenario in enumerate(_scenarios(results, rows)):
        mine = rows[rows["scenario"] == scenario]
        for ax, (column, _) in zip(axes, panels):
            stats = [_interval(mine.loc[mine["hour"] == h, column].to_numpy(float)) for h in hours]
            mean, low, high = (np.array([s[j] for s in stats]) for j in range(3))
            mid = np.array(hours) + 0.5  # a clock hour's value is drawn at its middle
            ax.plot(mid, mean, label=scenario, **_line(i))
            if np.isfinite(low).any() and (i == 0 or not many):  # many scenarios: the baseline's band only
                ax.fill_between(mid, low, high, color=_style(i)["color"], alpha=0.2, linewidth=0)
    for ax, (_, ylabel) in zip(axes, panels):
        for h in closed:
            ax.axvspan(h, h + 1, color=CLOSED, zorder=0, linewidth=0)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[-1].set_xlim(hours[0], hours[-1] + 1)
    _hours(axes[-1], hours + [hours[-1] + 1])
    axes[-1].set_xlabel("clock hour (waits: of the visits called in the hour; queue: over the hour)")
    handles, labels = axes[0].get_legend_handles_labels()
    _legend(axes[0], many, handles + [Patch(color=CLOSED, label="closed")], labels + ["closed"], loc="upper right")
    where = f"township {township}" if township else ("all townships" if towns > 1 else "the centre")
    band = " for the first scenario only" if many else ""
    over = "window groups and townships" if towns > 1 else "window groups"
    return _finish(fig, f"Waits and queue by hour of the day ({where})",
                   f"Each point: the mean over replications of the hour's value on an average day; band: "
                   f"{T_METHOD} ({_n_text(frame)}){band}. Waits of visits called in the hour, averaged over {over} "
                   "weighted by their arrivals in the hour (a p90 of each group, not of the pooled waits). "
                   "Grey: closed hours (no window group's session open).")


# --- utilization ------------------------------------------------------------------------------

def utilization(results: Results, township: str | None = None) -> Figure:
    """Window group × clock hour heatmap of utilization (busy share of open time), one panel per scenario."""
    frame = _hourly(results, township, "utilization")
    hours, _ = _open_hours(frame)
    hours = [h for h in hours if frame.loc[frame["hour"] == h, "open_minutes"].max() > 0] or hours
    scenarios = _scenarios(results, frame)
    by_town = township is None and len(frame[["scenario", "township", "group"]].drop_duplicates()) <= 80

    def row_names(mine: pd.DataFrame) -> list[str]:  # a scenario's rows: reforms may change the groups
        pairs = mine[["township", "group"]].drop_duplicates().astype(str)
        if not by_town:
            return sorted(pairs["group"].unique())
        return [f"{t} · {g}" for t, g in sorted(pairs.itertuples(index=False, name=None),
                                                key=lambda p: (_town_order(results, p[0]), p[1]))]

    rows_of = {s: row_names(frame[frame["scenario"] == s]) for s in scenarios}
    most = max((len(r) for r in rows_of.values()), default=1)
    cmap = matplotlib.colormaps[HEATMAP].with_extremes(bad=CLOSED)
    annotate = most * len(hours) <= 240
    columns = 1 if len(scenarios) <= 3 else 3  # many scenarios: a grid of panels, rows shared
    rows = math.ceil(len(scenarios) / columns)
    panel = (0.55 * len(hours) + (1.6 if columns == 1 else 0.9), 0.28 * most + 0.9)
    fig = _figure(max(6.5, columns * panel[0] + 2.2), rows * panel[1] + 1.4)
    axes = _grid(fig, len(scenarios), columns, sharex=True)
    image = None
    for k, (ax, scenario) in enumerate(zip(axes, scenarios)):
        mine = frame[frame["scenario"] == scenario].copy()
        names = rows_of[scenario]
        mine["row"] = mine["township"].astype(str) + " · " + mine["group"].astype(str) if by_town \
            else mine["group"].astype(str)
        # per replication: each row's hour (open-time weighted over townships when rows are groups)
        mine["busy"] = mine["utilization"] * mine["open_minutes"]
        cells = mine.groupby(["row", "hour"])[["busy", "open_minutes"]].sum(min_count=1)
        grid = (cells["busy"] / cells["open_minutes"].where(cells["open_minutes"] > 0)).unstack("hour")
        grid = grid.reindex(index=names, columns=hours)
        values = grid.to_numpy(float)
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, aspect="auto",
                          interpolation="nearest")
        ax.set_xticks(range(len(hours)))
        ax.set_xticklabels([f"{h:02d}" for h in hours], fontsize=8)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=8)
        if k % columns == 0:
            ax.set_ylabel("township · window group" if by_town else "window group")
        if k >= len(scenarios) - columns:
            ax.set_xlabel("clock hour (hh:00 to hh:59)")
            ax.tick_params(axis="x", labelbottom=True)
        ax.set_title(scenario, fontsize=10, loc="left")
        if annotate:
            for (r, c), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=6.5,
                            color="white" if v < 0.55 else "black")
    bar = fig.colorbar(image, ax=list(axes), shrink=1.0 if rows == 1 else 0.4, aspect=20 if rows == 1 else 30)
    bar.set_label("utilization (share of open window time busy)")
    where = f"township {township}" if township else "all townships"
    aggregated = "" if by_town or township else (
        " Rows are window groups: the mean over townships weighted by open time (not by the number of windows); "
        "use --township ID for one centre.")
    return _finish(fig, f"Window utilization by hour ({where})",
                   f"Busy share of the open time of the group's windows in each clock hour, mean over the "
                   f"replications ({_n_text(frame)}); fixed scale 0–1. Grey: closed." + aggregated)


def _town_order(results: Results, town: str):
    km = results.townships.get(town, {}).get("km_to_county")
    return (km if km is not None else math.inf, town)


# --- compare ----------------------------------------------------------------------------------

def _headline(available) -> list[str]:
    return [k for k in HEADLINE_FIGURES if k in set(available)]


def _grid(fig: Figure, count: int, columns: int, **kwargs) -> list:
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    axes = fig.subplots(rows, columns, squeeze=False, **kwargs).ravel()
    for ax in axes[count:]:
        ax.remove()
    return list(axes[:count])


def compare(results: Results, township: str | None = None) -> Figure:
    """Each reform's paired difference from the baseline with its interval, one panel per headline KPI."""
    table = results.table("comparison", "compare")
    level = float(results.manifest.get("comparison_level") or (table["level"].iloc[0] if len(table) else 0.95))
    if township is not None:
        table = _paired_by_township(results, township, level)
    baseline, reforms = results.scenarios[0], results.reforms
    kpis = _headline(table["kpi"].unique())
    fig = _figure(12, math.ceil(len(kpis) / 4) * (1.3 + 0.3 * len(reforms)) + 1.3)
    axes = _grid(fig, len(kpis), 4, sharey=True)
    for ax, kpi in zip(axes, kpis):
        rows = table[table["kpi"] == kpi].set_index("reform")
        for j, reform in enumerate(reforms):
            y = len(reforms) - 1 - j  # the first reform on top
            if reform not in rows.index:
                continue
            r = rows.loc[reform]
            d, low, high = float(r["difference"]), float(r["ci_low"]), float(r["ci_high"])
            xerr = None if math.isnan(low) else [[d - low], [high - d]]
            colour = _style(j + 1)["color"]
            ax.errorbar([d], [y], xerr=xerr, fmt=_marker(j + 1), color=colour, ecolor=colour, capsize=3, ms=6,
                        markerfacecolor=colour if bool(r["significant"]) else "white", label=reform)
        ax.axvline(0, color="0.4", lw=0.8)
        ax.set_title(label(kpi), fontsize=10)
        if is_share(kpi):
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None, symbol=""))
            ax.set_xlabel("reform − baseline (percentage points)", fontsize=8)
        else:
            ax.set_xlabel(f"reform − baseline ({unit(kpi)})", fontsize=8)
        ax.set_yticks(range(len(reforms)))
        ax.set_yticklabels(list(reversed(reforms)), fontsize=8)
        ax.set_ylim(-0.6, len(reforms) - 0.4)
        ax.grid(axis="x", alpha=0.3)
    n = int(table["n"].max()) if len(table) else 0
    k = len(reforms)
    where = f" (township {township})" if township else ""
    return _finish(fig, f"Reforms against the baseline {baseline}: paired differences{where}",
                   f"Each point: mean of reform − baseline over n = {n} paired replications (common random "
                   f"numbers); bar: paired t interval, Bonferroni across k = {k} reform{'s' if k != 1 else ''} "
                   f"(each at level {level:.4g}, all together 95%). Filled: the interval excludes 0; "
                   "open: it does not. Shares are in percentage points.")


def _paired_by_township(results: Results, township: str, level: float) -> pd.DataFrame:
    """comparison.csv's rows recomputed from kpis_by_township for one township (same method)."""
    from .stats import paired_interval

    frame = results.table("by_township", "compare")
    frame = frame[frame["township"].astype(str) == township]
    baseline = frame[frame["scenario"] == results.scenarios[0]].set_index("replication")
    rows = []
    for reform in results.reforms:
        other = frame[frame["scenario"] == reform].set_index("replication")
        paired = sorted(set(baseline.index) & set(other.index))
        for kpi in _headline(frame.columns):
            d, low, high, n = paired_interval(other.loc[paired, kpi].to_numpy(float),
                                              baseline.loc[paired, kpi].to_numpy(float), level)
            rows.append({"reform": reform, "kpi": kpi, "difference": d, "ci_low": low, "ci_high": high, "n": n,
                         "significant": bool(low > 0 or high < 0)})
    return pd.DataFrame(rows, columns=["reform", "kpi", "difference", "ci_low", "ci_high", "n", "significant"])


# --- trips and lead times ----------------------------------------------------------------------

def _trip_bins(cases: pd.DataFrame) -> list[int]:
    """0 to 5 trips (the last bin is 5 or more), and any higher bin the table has."""
    return sorted(set(range(TRIP_BINS + 1)) | {int(t) for t in cases["trips"].unique()})


def trips(results: Results, township: str | None = None) -> Figure:
    """Share of cases by number of trips, and the one-trip rates, per scenario."""
    cases = results.table("cases_summary", "trips")
    kpis = results.tables.get("kpis")
    scenarios = _scenarios(results, cases)
    bins = _trip_bins(cases)
    top = max(bins) if bins else 0
    fig = _figure(11, 4.6)
    left, right = fig.subplots(1, 2, width_ratios=[1.4, 1])
    width = 0.8 / max(len(scenarios), 1)
    for i, scenario in enumerate(scenarios):
        mine = cases[cases["scenario"] == scenario]
        per_rep = mine.pivot_table(index="replication", columns="trips", values="cases", aggfunc="sum",
                                   fill_value=0).reindex(columns=bins, fill_value=0)
        shares = per_rep.div(per_rep.sum(axis=1).where(lambda s: s > 0), axis=0)
        stats = [_interval(shares[b].to_numpy(float)) for b in bins]
        mean = np.array([s[0] for s in stats])
        err = _yerr(stats)
        offset = (i - (len(scenarios) - 1) / 2) * width
        style = _style(i)
        left.bar(np.arange(len(bins)) + offset, mean, width * 0.95, yerr=err, capsize=2,
                 color=style["color"], edgecolor="black", linewidth=0.4, label=scenario,
                 error_kw={"elinewidth": 0.8, "ecolor": "0.3"})
    left.set_xticks(range(len(bins)))
    left.set_xticklabels([f"{b}+" if b == top and top >= TRIP_BINS else str(b) for b in bins])
    left.set_xlabel("trips to an office per case (count)")
    left.set_ylabel("share of ended cases")
    _percent(left)
    left.set_title("Trips per case", fontsize=10, loc="left")
    left.grid(axis="y", alpha=0.3)
    rates = [k for k in ("one_trip_rate", "one_trip_rate_official", "zero_trip_rate")
             if kpis is not None and k in kpis]
    for i, scenario in enumerate(scenarios):
        if not rates:
            break
        mine = kpis[kpis["scenario"] == scenario]
        stats = [_interval(mine[k].to_numpy(float), k) for k in rates]
        offset = (i - (len(scenarios) - 1) / 2) * min(0.15, 0.8 / max(len(scenarios), 1))
        right.errorbar(np.arange(len(rates)) + offset, [s[0] for s in stats], yerr=_yerr(stats), fmt=_marker(i),
                       capsize=3, color=_style(i)["color"], label=scenario)
    right.set_xticks(range(len(rates)))
    right.set_xticklabels(["\n".join(textwrap.wrap(label(k), 14, break_on_hyphens=False)) for k in rates], fontsize=8)
    right.set_xlim(-0.5, len(rates) - 0.5)
    right.set_ylim(0, 1.02)
    _percent(right)
    right.set_ylabel("share of ended cases")
    right.set_title("Run-at-most-once rates", fontsize=10, loc="left")
    right.grid(axis="y", alpha=0.3)
    if len(scenarios) > 1:
        left.legend(fontsize=8)
        right.legend(fontsize=8)
    return _finish(fig, "Trips per case",
                   f"Ended cases in scope (completed, given up or finished elsewhere); bars and points: mean over "
                   f"replications, whiskers: {T_METHOD} "
                   f"({_n_text(cases)}; the rates' whiskers {BOUNDED}). A trip is a visit to a township or county "
                   f"office; mail, agents and online handling make zero-trip cases. The last bin is {top} or more trips. "
                   "Official one-trip rate: trips from the acceptance of complete documents to the result."
                   + _all_townships_note(township))


def _yerr(stats) -> np.ndarray | None:
    mean = np.array([s[0] for s in stats], float)
    low = np.array([s[1] for s in stats], float)
    high = np.array([s[2] for s in stats], float)
    if not np.isfinite(low).any():
        return None
    return np.vstack([np.nan_to_num(mean - low), np.nan_to_num(high - mean)])


def lead_times(results: Results, township: str | None = None) -> Figure:
    """Mean lead days by route (immediate / township / county), a bar per scenario with its interval."""
    cases = results.table("cases_summary", "lead-times")
    scenarios = _scenarios(results, cases)
    timed = cases["lead_cases"] if "lead_cases" in cases else cases["cases"]  # older results: all completed
    frame = cases.assign(weighted=cases["lead_days_mean"].fillna(0) * timed, timed=timed)
    with_lead = set(frame.loc[frame["timed"] > 0, "route"])  # out-of-scope requests have no lead time here
    routes = [r for r in ROUTE_NAMES if r in with_lead] + sorted(with_lead - set(ROUTE_NAMES))
    fig = _figure(8, 4.8)
    ax = fig.subplots()
    width = 0.8 / max(len(scenarios), 1)
    for i, scenario in enumerate(scenarios):
        mine = frame[frame["scenario"] == scenario].groupby(["route", "replication"])[["weighted", "timed"]].sum()
        per_rep = mine["weighted"] / mine["timed"].where(mine["timed"] > 0)
        stats = [_interval(per_rep.xs(r, level="route").to_numpy(float)) if r in per_rep.index.get_level_values(0)
                 else (math.nan, math.nan, math.nan, 0) for r in routes]
        offset = (i - (len(scenarios) - 1) / 2) * width
        style = _style(i)
        ax.bar(np.arange(len(routes)) + offset, [s[0] for s in stats], width * 0.95, yerr=_yerr(stats),
               capsize=3, color=style["color"], edgecolor="black", linewidth=0.4, label=scenario,
               error_kw={"elinewidth": 0.8, "ecolor": "0.3"})
    shares = _route_shares(cases, scenarios[0] if scenarios else None, routes)
    ax.set_xticks(range(len(routes)))
    ax.set_xticklabels([f"{r}\n({s:.0%} of cases)" if np.isfinite(s) else r for r, s in zip(routes, shares)])
    ax.set_xlabel("route of the case" + (f" (share of ended cases in {scenarios[0]})" if scenarios else ""))
    ax.set_ylabel("mean lead time (working days)")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    if len(scenarios) > 1:
        ax.legend(fontsize=8)
    return _finish(fig, "Lead time by route: first visit to result in hand",
                   f"Completed cases in scope, mean lead time in working days per replication, then the mean "
                   f"over replications; whiskers: {T_METHOD} ({_n_text(cases)}). Out-of-scope requests "
                   "(redirected to the county) have no lead time here." + _all_townships_note(township))


def _route_shares(cases: pd.DataFrame, scenario: str | None, routes: list[str]) -> list[float]:
    mine = cases[cases["scenario"] == scenario].groupby("route")["cases"].sum()
    total = mine.sum()
    return [float(mine.get(r, 0) / total) if total else math.nan for r in routes]


# --- townships --------------------------------------------------------------------------------

def townships(results: Results, township: str | None = None) -> Figure:
    """Headline KPIs per township (mean and 95% t interval), near townships first, then remote ones.

    With more than `TOWNSHIP_DETAIL` scenarios a point per township and scenario is unreadable:
    then one point per scenario for the near and one for the remote townships.
    """
    frame = results.table("by_township", "townships")
    if len(_scenarios(results, frame)) > TOWNSHIP_DETAIL:
        return _near_and_remote(results, frame, township)
    scenarios = _scenarios(results, frame)
    towns = sorted({str(t) for t in frame["township"].unique()}, key=lambda t: (_is_remote(results, t),
                                                                               *_town_order(results, t)))
    remote = [t for t in towns if _is_remote(results, t)]
    kpis = _headline(frame.columns)
    columns = 2 if len(towns) > 6 else 4
    panel_width = max(2.8, 0.32 * len(towns) * max(1, len(scenarios)) ** 0.5 + 1.2)
    fig = _figure(min(16, columns * panel_width), 2.9 * math.ceil(len(kpis) / columns) + 1.4)
    axes = _grid(fig, len(kpis), columns, sharex=True)
    step = min(0.7, 0.16 * len(scenarios)) / max(len(scenarios) - 1, 1)
    for ax, kpi in zip(axes, kpis):
        for i, scenario in enumerate(scenarios):
            mine = frame[frame["scenario"] == scenario]
            stats = [_interval(mine.loc[mine["township"].astype(str) == t, kpi].to_numpy(float), kpi) for t in towns]
            offset = (i - (len(scenarios) - 1) / 2) * step
            ax.errorbar(np.arange(len(towns)) + offset, [s[0] for s in stats], yerr=_yerr(stats), fmt=_marker(i),
                        ms=4, capsize=2, color=_style(i)["color"], label=scenario)
        if remote:
            ax.axvspan(len(towns) - len(remote) - 0.5, len(towns) - 0.5, color=CLOSED, zorder=0, linewidth=0)
        _kpi_axis(ax, kpi)
        ax.set_xticks(range(len(towns)))
        ax.set_xticklabels([_town_label(results, t) for t in towns], rotation=90, fontsize=7)
        ax.set_xlim(-0.6, len(towns) - 0.4)
    for ax in axes[-columns:]:
        ax.set_xlabel("township (km to county)")
        ax.tick_params(axis="x", labelbottom=True)
    handles, labels = axes[0].get_legend_handles_labels()
    if remote:
        handles, labels = handles + [Patch(color=CLOSED)], labels + [f"remote (≥ {REMOTE_KM} km)"]
    if len(handles) > 1:
        axes[0].legend(handles, labels, fontsize=7)
    return _finish(fig, f"Headline KPIs by township: near and remote (≥ {REMOTE_KM} km){_km_unknown(results)}",
                   f"Each point: mean over replications; bar: {T_METHOD} ({_n_text(frame)}; {BOUNDED}). "
                   f"Townships sorted by distance to the county seat, near ones first; grey: remote (km_to_county ≥ {REMOTE_KM}, "
                   "docs/kpis.md)." + _all_townships_note(township))


def _near_and_remote(results: Results, frame: pd.DataFrame, township: str | None) -> Figure:
    """Many scenarios: per scenario, the mean over the near and over the remote townships."""
    scenarios = _scenarios(results, frame)
    kpis = _headline(frame.columns)
    frame = frame.assign(where=["remote" if _is_remote(results, str(t)) else "near" for t in frame["township"]])
    groups = [g for g in ("near", "remote") if g in set(frame["where"])]
    per_rep = frame.groupby(["scenario", "where", "replication"])[kpis].mean()  # unweighted over townships
    count = frame.groupby("where")["township"].nunique()
    fig = _figure(12, 3.2 * math.ceil(len(kpis) / 4) + 1.2 + 0.06 * max(len(s) for s in scenarios))
    axes = _grid(fig, len(kpis), 4, sharex=True)
    for ax, kpi in zip(axes, kpis):
        for i, group in enumerate(groups):
            stats = [_interval(per_rep.loc[(s, group), kpi].to_numpy(float), kpi) if (s, group) in per_rep.index
                     else (math.nan,) * 3 + (0,) for s in scenarios]
            offset = (i - (len(groups) - 1) / 2) * 0.3
            ax.errorbar(np.arange(len(scenarios)) + offset, [s[0] for s in stats], yerr=_yerr(stats),
                        fmt=_marker(i), ms=4, capsize=2, color=_style(i)["color"],
                        label=f"{group} ({count[group]} township{'s' if count[group] != 1 else ''})")
        _kpi_axis(ax, kpi)
        ax.set_xticks(range(len(scenarios)))
        ax.set_xticklabels(scenarios, rotation=90, fontsize=7)
        ax.set_xlim(-0.6, len(scenarios) - 0.4)
    for ax in axes[-4:]:
        ax.set_xlabel("scenario")
        ax.tick_params(axis="x", labelbottom=True)
    axes[0].legend(fontsize=7)
    return _finish(fig, f"Headline KPIs, near and remote (≥ {REMOTE_KM} km) townships{_km_unknown(results)}",
                   f"Each point: in each replication the mean over the near (or remote: km_to_county ≥ {REMOTE_KM}, "
                   f"docs/kpis.md) townships, not weighted by their size; then the mean over replications; bar: "
                   f"{T_METHOD} ({_n_text(frame)}; {BOUNDED}). With at most {TOWNSHIP_DETAIL} scenarios the "
                   "figure shows every township." + _all_townships_note(township))


def _kpi_axis(ax, kpi: str) -> None:
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
        _percent(ax)


def _km_unknown(results: Results) -> str:
    return "" if results.townships else " (km_to_county unknown here: every township is drawn as near)"


def _is_remote(results: Results, town: str) -> bool:
    km = results.townships.get(town, {}).get("km_to_county")
    return km is not None and km >= REMOTE_KM


def _town_label(results: Results, town: str) -> str:
    km = results.townships.get(town, {}).get("km_to_county")
    return town if km is None else f"{town} ({km:g})"


# --- sweep ------------------------------------------------------------------------------------

def sweep(results: Results, township: str | None = None) -> Figure:
    """A KPI against the first factor with 95% t bands, a line per level of the second factor."""
    if township is not None:
        frame = results.table("by_township", "sweep")
        frame = frame[frame["township"].astype(str) == township]
    else:
        frame = results.table("kpis", "sweep")
    frame = frame.sort_values(["point", "replication"])
    factors = [f for f in results.manifest.get("experiment", {}).get("factors", []) if f in frame]
    varying = [f for f in factors if frame[f].nunique() > 1]
    fixed = [f for f in factors if f not in varying]
    x_factor = varying[0] if varying else None
    line_factor = varying[1] if len(varying) > 1 else None
    averaged = varying[2:]
    summary = results.tables.get("summary")
    wanted = list(dict.fromkeys(summary["kpi"])) if summary is not None and "kpi" in summary else []
    kpis = [k for k in wanted if k in frame] or _headline(frame.columns)
    fig = _figure(12 if len(kpis) > 2 else 6 * len(kpis), 3.2 * math.ceil(len(kpis) / 4) + 1.5)
    axes = _grid(fig, len(kpis), 4, sharex=True)
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
                stats.append(_interval(per_rep.to_numpy(float), kpi))
            mean, low, high = (np.array([s[j] for s in stats], float) for j in range(3))
            name = f"{level}" if line_factor else "all points"
            ax.plot(positions, mean, label=name, **_line(i))
            if np.isfinite(low).any():
                ax.fill_between(positions, low, high, color=_style(i)["color"], alpha=0.2, linewidth=0)
        _kpi_axis(ax, kpi)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xticks(positions)
        ax.set_xticklabels([str(v) for v in x_levels], fontsize=8)
    columns = min(4, len(kpis))
    for j, ax in enumerate(axes):
        if j >= len(axes) - columns:
            ax.set_xlabel(x_factor or "(no factor varies)", fontsize=8)
            ax.tick_params(axis="x", labelbottom=True)
    if line_factor:
        axes[0].legend(title=line_factor, fontsize=7, title_fontsize=7)
    name = results.manifest.get("experiment", {}).get("name", results.path.name)
    notes = []
    if averaged:
        notes.append("averaged over " + ", ".join(averaged) + " (each replication's mean over their levels)")
    if fixed:
        notes.append("fixed: " + ", ".join(f"{f} = {frame[f].iloc[0]}" for f in fixed))
    where = f" (township {township})" if township else ""
    return _finish(fig, f"Sweep {name}: KPIs against {x_factor or 'the points'}{where}",
                   f"Each point: mean over replications; band: {T_METHOD} ({_n_text(frame, 'point')}; {BOUNDED}; "
                   "every point uses common random numbers)." + (" " + _sentence("; ".join(notes)) if notes else ""))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


KINDS: dict[str, Callable[[Results, str | None], Figure]] = {
    "waits": waits,
    "by-hour": by_hour,
    "utilization": utilization,
    "compare": compare,
    "trips": trips,
    "lead-times": lead_times,
    "townships": townships,
    "sweep": sweep,
}
