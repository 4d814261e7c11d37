"""What every kind of figure takes from the `ResultsDir`: its tables (or a PlotError saying which
file is missing), its summary statistics, the scenarios in order, n and interval texts."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd

from ..kpis import clip
from ..results import OutputError
from ..resultsdir import TABLES, ResultsDir
from .style import MAX_SERIES, chinese_ok


MANY = 4  # more scenarios than this: fewer bands (the baseline's only)


class PlotError(OutputError):
    """A kind, format or township that does not fit the results directory (exit status 2)."""


def need(results: ResultsDir, name: str, kind: str) -> pd.DataFrame:
    """The table `name` (resultsdir.TABLES) that the figure `kind` draws; PlotError without it."""
    frame = results.tables.get(name)
    if frame is None:
        raise PlotError(f"--kind {kind}: {results.path} has no {TABLES[name]} (got an older or partial "
                        "results directory; run it again with this version)")
    return frame


def summary(results: ResultsDir, group: str, kpi: str) -> tuple[float, float, float, int]:
    """The group's mean, 95% t interval and n of a KPI (the results' summary), the interval kept
    inside the KPI's bounds (`BOUNDED`)."""
    mean, low, high, n = results.stat(group, kpi)
    return clipped(kpi, mean, low, high, n)


def clipped(kpi, mean, low, high, n, bounds: tuple[float, float] | None = None):
    """The interval kept inside the KPI's bounds (or `bounds`, for a quantity that is not a KPI column)."""
    if math.isnan(low):
        return mean, low, high, n
    if kpi is not None:
        low, high = (float(x) for x in clip(kpi, [low, high]))
    if bounds is not None:
        low, high = (min(max(x, bounds[0]), bounds[1]) for x in (low, high))
    return mean, low, high, n


SHARE = (0.0, 1.0)  # bounds of a share that is not a KPI column (trips bins)
COUNT = (0.0, math.inf)  # bounds of a mean of counts or times (queue lengths)


def interval(values, kpi: str | None = None, bounds: tuple[float, float] | None = None) -> tuple[float, float, float, int]:
    """Mean, 95% t interval and n of values that are not a summary of the directory (per hour, per
    township, per route...), the interval kept inside the KPI's bounds (`BOUNDED`) or `bounds`."""
    from ..stats import t_interval

    return clipped(kpi, *t_interval(values), bounds=bounds)


def n_text(frame: pd.DataFrame, per: str = "scenario") -> str:
    counts = frame.groupby(per)["replication"].nunique() if len(frame) else pd.Series([0])
    low, high = int(counts.min()), int(counts.max())
    return f"n = {low} replication{'s' if high != 1 else ''} per {per}" if low == high else \
        f"n = {low}–{high} replications per {per}"


def scenarios_in(results: ResultsDir, frame: pd.DataFrame) -> list[str]:
    present = [str(s) for s in frame["scenario"].unique()] if "scenario" in frame else []
    return [s for s in results.scenarios if s in present] + [s for s in present if s not in results.scenarios]


def all_townships_note(township: str | None) -> str:
    return (f" All townships: this table is not kept per township, so --township {township} does not apply."
            if township else "")


def town_order(results: ResultsDir, town: str):
    km = results.townships.get(town, {}).get("km_to_county")
    return (km if km is not None else math.inf, town)


def many(results: ResultsDir, frame: pd.DataFrame | None = None) -> bool:
    """More scenarios than one panel may hold (`MAX_SERIES`): small multiples or summaries."""
    return len(scenarios_in(results, frame) if frame is not None else results.scenarios) > MAX_SERIES


def style_index(results: ResultsDir, scenario: str) -> int:
    """A scenario's series style (style.combination) by its place in the directory: the same in every panel."""
    return results.scenarios.index(scenario) if scenario in results.scenarios else len(results.scenarios)

# --- townships by name ------------------------------------------------------------------------

def town_label(results: ResultsDir, town: str, short: bool = False) -> str:
    """"Lingxi 灵溪镇" (`short`: 灵溪镇) where the scenario has Chinese names and a CJK font is installed,
    else the pinyin name (or the id)."""
    info = results.townships.get(str(town), {})
    name, zh = str(info.get("name") or town), str(info.get("name_zh") or "")
    if not zh or not chinese_ok():
        return name
    return zh if short else f"{name} {zh}"


def township_id(results: ResultsDir, text: str) -> str:
    """The township named by its id, Chinese name or pinyin name (case-insensitive); PlotError otherwise."""
    known = results.township_ids()
    if text in known:
        return text
    for town in known:
        info = results.townships.get(town, {})
        if text == info.get("name_zh") or text.casefold() in (town.casefold(), str(info.get("name", "")).casefold()):
            return town
    names = [f"{t} ({results.townships[t]['name_zh']})" if results.townships.get(t, {}).get("name_zh") else t
             for t in known]
    raise PlotError(f"--township {text}: no such township in {results.path} (known: {', '.join(names) or 'none'})")

# --- --scenario ---------------------------------------------------------------------------------

def restrict(results: ResultsDir, names: list[str]) -> ResultsDir:
    """The directory seen through `--scenario`: only those scenarios (the baseline kept first in a
    comparison, where the differences are from it); PlotError naming the known ones otherwise."""
    unknown = [n for n in names if n not in results.scenarios]
    if unknown:
        return _unknown_scenarios(results, unknown)
    keep = [s for s in results.scenarios if s in names]
    if results.reforms and results.scenarios[0] not in keep:
        keep = [results.scenarios[0]] + keep
    tables = {}
    for name, frame in results.tables.items():
        column = "reform" if name in ("comparison", "effects", "sensitivity") else "scenario"
        tables[name] = frame[frame[column].astype(str).isin(keep)].reset_index(drop=True) if column in frame \
            else frame
    return dataclasses.replace(results, tables=tables, scenarios=keep,
                               compared=results.compared or len(results.reforms))


def _unknown_scenarios(results: ResultsDir, unknown: list[str]):
    if not results.scenarios:
        raise PlotError(f"--scenario {unknown[0]}: {results.path} is a {results.kind} directory: it has no scenarios "
                        "to choose from")
    raise PlotError(f"--scenario {unknown[0]}: no such scenario in {results.path} "
                    f"(known: {', '.join(results.scenarios)})")
