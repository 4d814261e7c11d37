"""Numbers and KPIs in words: values with their units, intervals, differences, labels and table
headers (all from the KPI catalogue `simcenter.kpis`), and the small sentences built from them."""

from __future__ import annotations

import json

from ..kpis import clip
from ..kpis import kpi as catalogue_entry
from ..resultsdir import ResultsDir


def _decimals(kpi: str, value: float) -> int:
    unit = catalogue_entry(kpi).unit
    if unit == "share":
        return 1  # of percent
    if unit in ("cases", "visits"):
        return 0
    if unit in ("minutes", "files"):
        return 1
    if unit == "hours":
        return 0 if abs(value) >= 100 else 2
    if unit in ("trips", "working days", "referrals"):
        return 2
    return 0 if abs(value) >= 1000 else 1 if abs(value) >= 100 else 3


def _num(value: float, decimals: int, sign: bool = False) -> str:
    if value != value:
        return "n/a"
    text = format(abs(value), f",.{decimals}f")
    if float(text.replace(",", "")) == 0:
        return text
    return ("−" if value < 0 else "+" if sign else "") + text


# A number's unit after it (catalogue units; shares are written in percent, counts bare).
SUFFIX = {"minutes": " min", "working days": " working days", "trips": " trips", "referrals": " referrals",
          "hours": " h", "files": " files"}


def value(kpi: str, x: float, decimals: int | None = None) -> str:
    """A KPI value with its unit: 61.2%, 9.4 min, 12.35 working days, 1.54 trips."""
    unit = catalogue_entry(kpi).unit
    scale = 100 if unit == "share" else 1
    d = _decimals(kpi, x * scale) if decimals is None else decimals
    text = _num(x * scale, d)
    if text == "n/a":
        return text
    return text + ("%" if unit == "share" else SUFFIX.get(unit, ""))


def bare(kpi: str, x: float) -> str:
    """A KPI value for a table cell whose header has the unit: 61.2%, 9.4, 12.35."""
    unit = catalogue_entry(kpi).unit
    scale = 100 if unit == "share" else 1
    text = _num(x * scale, _decimals(kpi, x * scale))
    return text + "%" if unit == "share" and text != "n/a" else text


def bounded(kpi: str, low: float, high: float) -> tuple[float, float]:
    """A level's interval kept inside the KPI's bounds (shares in [0, 100%], times and counts at least 0);
    CLIPPED says so in the report. Differences are never clipped."""
    if low != low or high != high:
        return low, high
    low, high = (float(x) for x in clip(kpi, [low, high]))
    return low, high


CLIPPED = ("Intervals of levels are kept inside the KPI's bounds: intervals of shares are clipped to [0, 100%] "
           "(utilisation, which overtime can take above 100%, at 0 only), those of times and counts at 0; intervals "
           "of differences are not clipped.")


def interval(kpi: str, low: float, high: float) -> str:
    """A level's interval as a table shows it, inside the KPI's bounds."""
    low, high = bounded(kpi, low, high)
    return "" if low != low or high != high else f"[{bare(kpi, low)}, {bare(kpi, high)}]"


def difference(kpi: str, d: float, low: float, high: float, short: bool = False) -> tuple[str, str, str]:
    """(difference, low, high) as signed text, the difference with its unit: '+3.1 points', '−2.3 min' ...;
    `short`: for a table cell, only shares keep a unit ('+3.1 pts')."""
    unit = catalogue_entry(kpi).unit
    scale = 100 if unit == "share" else 1
    base = _decimals(kpi, max(abs(d), abs(low) if low == low else 0, abs(high) if high == high else 0) * scale)
    decimals = base
    # enough decimals (up to 2 more) that nothing nonzero shows as 0 and distinct bounds stay distinct
    for extra in range(3):
        decimals = base + extra
        texts = [_num(x * scale, decimals, sign=True) for x in (d, low, high)]
        zeroish = any(x == x and x != 0 and float(t.lstrip("+−").replace(",", "")) == 0
                      for x, t in zip((d, low, high), texts))
        same = low == low and low != high and texts[1] == texts[2]
        if not zeroish and not same:
            break
    suffix = " points" if unit == "share" else SUFFIX.get(unit, "")
    if short:
        suffix = " pts" if unit == "share" else ""
    texts = [_num(x * scale, decimals, sign=True) for x in (d, low, high)]
    return texts[0] + suffix, texts[1], texts[2]


def level_text(level: float) -> str:
    return f"{level * 100:.3g}%"


def label(kpi: str) -> str:
    return catalogue_entry(kpi).label


def column(kpi: str) -> str:
    """A table header: the label and its unit."""
    entry = catalogue_entry(kpi)
    hidden = ("share", "cases", "visits", "trips", "referrals")  # shares show "%"; the others are in the label
    return entry.label if entry.unit in hidden or not entry.unit else f"{entry.label} ({entry.unit})"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def join_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def replications_text(results: ResultsDir) -> str:
    counts = results.kpis.groupby("group")["replication"].nunique()
    low, high = (int(counts.min()), int(counts.max())) if len(counts) else (0, 0)
    unit = "point" if results.kind == "sweep" else "scenario"
    plural = "s" if high != 1 else ""
    return f"n = {low} replication{plural} per {unit}" if low == high else f"n = {low}–{high} replications per {unit}"


def run_sentence(results: ResultsDir, group: str, kpi: str) -> str:
    mean, low, high, _ = results.stat(group, kpi)
    return f"{cap(label(kpi))}: {value(kpi, mean)}{ci_words(kpi, low, high)}."


def ci_words(kpi: str, low: float, high: float, level: str = "95%") -> str:
    """' (95% CI 60.0% to 69.9%)' for shares, ' (95% CI 2.81 to 4.85)' otherwise (the unit is on the mean)."""
    if low != low or high != high:
        return ""
    low, high = bounded(kpi, low, high)
    if catalogue_entry(kpi).unit == "share":
        return f" ({level} CI {value(kpi, low)} to {value(kpi, high)})"
    return f" ({level} CI {bare(kpi, low)} to {bare(kpi, high)})"


def description_of(scenario: dict) -> str:
    text = scenario.get("description") if isinstance(scenario, dict) else None
    return " ".join(str(text).split()) if text else ""


def plain(x) -> str:
    if isinstance(x, bool):
        return "on" if x else "off"
    if isinstance(x, float):
        return format(x, "g")
    if isinstance(x, (dict, list)):
        return json.dumps(x, sort_keys=True, ensure_ascii=False)
    return str(x)


def factors_text(factors: dict) -> str:
    return ", ".join(f"{k} = {plain(v)}" for k, v in factors.items()) or "no factor"
