"""What the terminal shows of a run or a comparison: a table that fits a screen.

`compare` shows one row per scenario (the baseline's means, then each reform's change from it,
`*` where its paired interval excludes 0) and a column per KPI; headers are the catalogue's
short labels, explained with their units in a legend under the table. Values are scaled per
column (shares in %, thousands, millions) so that the table fits 100 columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .kpis import HEADLINE, kpi, short

# The columns of `compare` by default: the headline KPIs and the staff cost.
SCREEN = (*HEADLINE, *(name for name in ("staff_hours", "staff_cost") if name not in HEADLINE))
# Each unit as a header line shows it.
UNITS = {"minutes": "min", "working days": "wd", "hours": "h", "share": "%", "trips": "trips",
         "referrals": "refs", "files": "files", "cases": "cases", "visits": "visits", "CNY": "CNY"}


@dataclass(frozen=True)
class Scale:
    """How one KPI's values are shown: value × factor with `decimals` decimals, in `unit`."""

    factor: float
    unit: str
    decimals: int

    def value(self, x: float) -> str:
        return "n/a" if not math.isfinite(x) else f"{x * self.factor:,.{self.decimals}f}"

    def change(self, x: float, significant: bool) -> str:
        """A difference, signed, `*` where significant (a space keeps the digits aligned)."""
        if not math.isfinite(x):
            return "n/a "
        text = f"{x * self.factor:+,.{self.decimals}f}"
        return text.replace("-", "−") + ("*" if significant else " ")


def scale(name: str, typical: float) -> Scale:
    """Shares in % with one decimal; other values in thousands or millions when the typical
    (baseline) one is that large, with decimals for about three significant digits of it."""
    unit = kpi(name).unit
    if unit == "share":
        return Scale(100.0, "%", 1)
    top = abs(typical) if math.isfinite(typical) else 0.0
    factor, prefix = (1e-6, "M ") if top >= 1e6 else (1e-3, "k ") if top >= 1e4 else (1.0, "")
    text = prefix + UNITS.get(unit, unit)
    shown = abs(typical * factor) if math.isfinite(typical) else 0.0
    return Scale(factor, text, 0 if shown >= 100 else 1 if shown >= 10 else 2)


def comparison_table(result, kpis: list[str]):
    """Scenarios × KPIs: the baseline's means, each reform's change from it."""
    from rich import box
    from rich.table import Table

    means = {(r["scenario"], r["kpi"]): r["mean"] for r in result.summary}
    changes = {(r["reform"], r["kpi"]): r for r in result.comparison}
    scales = {name: scale(name, means.get((result.baseline, name), math.nan)) for name in kpis}
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False, show_edge=False)
    table.add_column("scenario", no_wrap=True, overflow="ellipsis", max_width=21)
    for name in kpis:
        table.add_column(f"{short(name)}\n{scales[name].unit}", justify="right", no_wrap=True)
    table.add_row(result.baseline, *(scales[n].value(means.get((result.baseline, n), math.nan)) + " " for n in kpis))
    for reform in result.reforms:
        cells = []
        for name in kpis:
            row = changes.get((reform, name))
            cells.append(scales[name].change(math.nan, False) if row is None
                         else scales[name].change(row["difference"], bool(row["significant"])))
        table.add_row(reform, *cells)
    return table


def legend(kpis: list[str]) -> str:
    """What each short header means: 'wait = mean wait; ...'."""
    return "; ".join(f"{short(name)} = {kpi(name).label}" for name in kpis) + "."


def comparison_note(result, kpis: list[str]) -> str:
    """The lines under the comparison table: the legend, the method, where the rest is."""
    shares = any(kpi(name).unit == "share" for name in kpis)
    lines = [legend(kpis)]
    if result.reforms:
        lines.append(f"First row: {result.baseline}'s means over {result.replications} replications; below: each "
                     "reform's change from it (reform − baseline"
                     + (", shares in percentage points" if shares else "") + "), * where its paired interval "
                     f"excludes 0: {result.method}.")
    else:
        lines.append(f"{result.method}.")
    lines.append("Intervals and every KPI: comparison.csv, summary.csv (or --every-kpi).")
    return "\n".join(lines)


def run_order(names) -> list[str]:
    """KPI names with those of the compare table first, the others after in catalogue order."""
    names = list(names)
    first = [n for n in SCREEN if n in names]
    return first + [n for n in names if n not in first]
