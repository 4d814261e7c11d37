"""Figures of a results directory (`simcenter plot`): one function per kind, deterministic files.

Each kind is a function `(results, township) -> matplotlib Figure` in `KINDS`, drawn from a
`simcenter.resultsdir.ResultsDir` (`load` reads one); `plot()` checks the kinds and options apply
to it and writes `figures/KIND.FORMAT`, or with options that change the figure
`KIND--scenario-NAME--kpi-NAME--township-ID--dpi-N.FORMAT` (`stem`). At most `MAX_SERIES` series a panel.
Every figure has a title, axis labels with units, a legend where there are
several series, and a caption stating n (replications) and how the intervals were made.

The modules: `style` (palette, markers, legends, the figure and its caption, KPI axes),
`common` (tables, summaries and texts every kind uses), then one module per family of figures:
`waiting` (waits, by-hour, utilization), `comparison` (compare, trips, lead-times), `effects`
(township-effects: which reform helps where), `towns` (townships), `sweeps` (sweep), `tornado`,
`staff` (staffing) and `queue` (queue).

Only `Figure` objects are made (no pyplot, no global backend): saving a PNG uses the Agg
canvas, an SVG the SVG canvas. Files are byte-identical from run to run: no date or software
in the metadata, and each SVG's ids are salted with the figure's name, so that several SVGs
inlined in one HTML page do not share an id.

This package imports matplotlib and pandas at the top: only the `plot` command (and the report)
imports it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from ..kpis import REMOTE_KM, ROUTE_NAMES, TRIP_BINS, label, unit  # noqa: F401 - the catalogue's, as the figures use them
from ..results import write_bytes
from ..resultsdir import TABLES, ResultsDir, read
from .common import PlotError, restrict, township_id
from .comparison import compare, lead_times, trips
from .effects import effect_kpis, township_effects_figure
from .queue import queue
from .staff import staffing
from .style import MAX_SERIES, OKABE_ITO  # noqa: F401 - the palette and the series per panel, for tests and callers
from .sweeps import sweep
from .tornado import figures as tornado_figures
from .tornado import tornado
from .towns import townships
from .waiting import by_hour, utilization, waits

__all__ = ["FORMATS", "KINDS", "PlotError", "ResultsDir", "TOWNSHIP_KINDS", "applies", "default_kinds", "load", "plot",
           "save"]


FORMATS = ("png", "svg", "pdf")
DPI = 150

KINDS: dict[str, Callable[[ResultsDir, str | None], Figure]] = {
    "waits": waits,
    "by-hour": by_hour,
    "utilization": utilization,
    "compare": compare,
    "township-effects": township_effects_figure,
    "trips": trips,
    "lead-times": lead_times,
    "townships": townships,
    "sweep": sweep,
    "tornado": tornado,
    "staffing": staffing,
    "queue": queue,
}
KPI_KINDS = ("compare", "township-effects", "sweep", "tornado", "staffing")  # those --kpi chooses panels of
SCENARIO_KINDS = ("waits", "by-hour", "utilization", "compare", "township-effects", "trips", "lead-times",
                  "townships", "tornado")  # those --scenario restricts
MULTIPLE = {"tornado": tornado_figures}  # kinds drawn as several files, figures/KIND-NAME.FORMAT


def load(results_dir) -> ResultsDir:
    """The results directory (simcenter.resultsdir.read); OutputError when it is not one."""
    return read(results_dir)

# --- which kinds apply ------------------------------------------------------------------------

NEEDS = {  # kind → tables it reads
    "waits": ("wait_histogram",),
    "by-hour": ("by_hour",),
    "utilization": ("by_hour",),
    "compare": ("comparison",),
    "township-effects": ("by_township",),
    "trips": ("cases_summary",),
    "lead-times": ("cases_summary",),
    "townships": ("by_township",),
    "sweep": ("kpis",),
    "tornado": ("sensitivity",),
    "staffing": ("staffing", "staffing_search"),
    "queue": (),
}
TOWNSHIP_KINDS = ("by-hour", "utilization", "compare", "sweep", "staffing", "queue")  # those --township restricts


def applies(results: ResultsDir, kind: str) -> str | None:
    """None if `kind` can be drawn from `results`, else why not (one line)."""
    if kind not in KINDS:
        return f"--kind {kind}: no such kind (choose from {', '.join(KINDS)})"
    if kind == "staffing" or results.kind == "staff":
        if (kind == "staffing") != (results.kind == "staff"):
            return (f"--kind {kind}: not for a {results.kind} directory (the staffing figure is drawn from "
                    "`simcenter staff`, and only it)")
    elif kind == "queue":
        if results.kind != "run" or not results.has_visits:
            return (f"--kind queue: {results.path} has no visits.parquet (the queue over time needs every visit: "
                    "run the scenario with `simcenter run --records`)")
    elif kind == "tornado" or results.kind == "sensitivity":
        if (kind == "tornado") != (results.kind == "sensitivity"):
            return (f"--kind {kind}: not for a {results.kind} directory (tornado figures are drawn from "
                    "`simcenter sensitivity`, and only they)")
        if not results.reforms:
            return f"--kind tornado: {results.path} varies no reform"
    elif kind == "sweep":
        if results.kind != "sweep":
            return (f"--kind sweep: not for a {results.kind} directory (it plots a KPI against the factors "
                    "of a `simcenter sweep`)")
        kpis = results.tables.get("kpis")
        if kpis is not None and kpis.empty:
            return f"--kind sweep: {results.path} has no replications (every point failed)"
    elif results.kind == "sweep":
        return (f"--kind {kind}: not for a sweep directory (a sweep keeps KPIs per point and replication: "
                "use --kind sweep)")
    elif kind in ("compare", "township-effects"):
        if results.kind != "compare":
            return (f"--kind {kind}: not for a {results.kind} directory (it plots paired differences "
                    "from a baseline: make them with `simcenter compare BASELINE REFORM...`)")
        if not results.reforms:
            return f"--kind {kind}: {results.path} compares no reform with its baseline"
    missing = [TABLES[t] for t in NEEDS[kind] if t not in results.tables]
    if missing:
        return (f"--kind {kind}: {results.path} has no {' or '.join(missing)} (got an older or partial "
                "results directory; run it again with this version)")
    return None


def default_kinds(results: ResultsDir) -> list[str]:
    """The kinds that suit the directory: the sweep plot for a sweep, the comparison first for a compare."""
    order = ("sweep", "tornado", "staffing", "compare", "township-effects", "waits", "by-hour", "utilization", "trips",
             "lead-times", "townships")
    return [k for k in order if applies(results, k) is None]  # not queue: drawn when asked (visits are large)

# --- writing ----------------------------------------------------------------------------------

def save(fig: Figure, path: Path, fmt: str | None = None, dpi: int = DPI) -> None:
    """The figure as PNG, SVG or PDF at `path`, atomically; the same figure gives the same bytes."""
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".")
    if fmt not in FORMATS:
        raise PlotError(f"--format {fmt}: not a figure format (choose from {', '.join(FORMATS)})")
    if fmt == "svg":
        write_bytes(path, svg_bytes(fig, path.stem))
        return
    buffer = io.BytesIO()
    if fmt == "pdf":  # no dates, no producer: the bytes depend on the figure only
        fig.savefig(buffer, format="pdf", metadata={"CreationDate": None, "ModDate": None, "Producer": None,
                                                    "Creator": None})
    else:
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    write_bytes(path, buffer.getvalue())


def svg_bytes(fig: Figure, name: str) -> bytes:
    """The figure as SVG: text kept as text, no date, ids salted with `name` (unique in a page of several)."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": f"simcenter-{name}", "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()

# --- options ----------------------------------------------------------------------------------

def kpi_choices(results: ResultsDir, kind: str) -> list[str]:
    """The KPIs `--kpi` may choose for `kind` in this directory."""
    tables = results.tables
    if kind == "compare":
        return list(dict.fromkeys(tables["comparison"]["kpi"].astype(str)))
    if kind == "township-effects":
        return effect_kpis(tables["by_township"].columns) if "by_township" in tables else []
    if kind == "tornado":
        return list(dict.fromkeys(tables["sensitivity"]["kpi"].astype(str)))
    if kind == "staffing":
        return [str(t).split("<")[0].split(">")[0] for t in results.manifest.get("targets", [])]
    return [k for k in results.kpi_names()] if kind == "sweep" else []


def check_kpis(results: ResultsDir, kinds: list[str], kpis: list[str]) -> None:
    for kind in kinds:
        if kind not in KPI_KINDS:
            continue
        known = kpi_choices(results, kind)
        for kpi in kpis:
            if kpi not in known:
                raise PlotError(f"--kpi {kpi}: not a KPI of the {kind} figure of {results.path} "
                                f"(known: {', '.join(known) or 'none'})")


def stem(kind: str, scenarios=(), kpis=(), township: str | None = None, days=None, dpi: int = DPI,
         fmt: str = "png") -> str:
    """The file name of a figure: the kind, then each option that changed it (`--scenario-NAME`...)."""
    from ..layout import file_stem

    parts = [kind]
    if kind in SCENARIO_KINDS:
        parts += [f"scenario-{file_stem(s)}" for s in scenarios]
    if kind in KPI_KINDS:
        parts += [f"kpi-{k}" for k in kpis]
    if township is not None and kind in TOWNSHIP_KINDS:
        parts.append(f"township-{file_stem(township)}")
    if days is not None and kind == "queue":
        parts.append(f"days-{days}")
    if dpi != DPI and fmt == "png":  # only a PNG's pixels depend on it
        parts.append(f"dpi-{dpi}")
    return "--".join(parts)


def plot(results_dir, kinds=None, fmt: str = "png", township: str | None = None, scenarios=(), kpis=(),
         out=None, dpi: int = DPI, days=None) -> list[Path]:
    """Write the figures of `kinds` (default: `default_kinds`) into `out` (default RESULTS_DIR/figures/);
    their paths. `results_dir` is a path or a `ResultsDir`. `scenarios` restricts the figures to those
    (a comparison keeps its baseline), `kpis` chooses the panels of the KPI kinds, `township` (id,
    Chinese or pinyin name) the township, `days` the queue's span (N or "all").
    Everything is checked before anything is written: an unknown or unfitting kind, format, scenario,
    KPI or township raises PlotError. File names: `stem`.
    """
    if fmt not in FORMATS:
        raise PlotError(f"--format {fmt}: not a figure format (choose from {', '.join(FORMATS)})")
    results = results_dir if isinstance(results_dir, ResultsDir) else load(results_dir)
    if township is not None:
        township = township_id(results, township)
    scenarios, kpis = list(dict.fromkeys(scenarios)), list(dict.fromkeys(kpis))
    seen = restrict(results, scenarios) if scenarios else results
    kinds = list(dict.fromkeys(kinds)) if kinds else default_kinds(results)
    if not kinds:
        raise PlotError(f"{results.path}: nothing to plot (got none of the tables the figures need)")
    for kind in kinds:
        problem = applies(results, kind)
        if problem:
            raise PlotError(problem)
    check_kpis(results, kinds, kpis)
    folder = Path(out) if out is not None else results.path / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in kinds:
        options = {"kpis": kpis or None} if kind in KPI_KINDS else {}
        if kind == "queue":
            options = {"days": days}
        name = stem(kind, scenarios, kpis, township, days, dpi, fmt)
        if kind in MULTIPLE:
            for suffix, fig in MULTIPLE[kind](seen, **options).items():
                path = folder / f"{kind}-{suffix}{name[len(kind):]}.{fmt}"
                save(fig, path, fmt, dpi)
                written.append(path)
            continue
        fig = KINDS[kind](seen if kind in SCENARIO_KINDS else results, township, **options)
        path = folder / f"{name}.{fmt}"
        save(fig, path, fmt, dpi)
        written.append(path)
    return written
