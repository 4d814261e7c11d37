"""The first screen of a comparison's report: the levers that had no effect in the horizon (shown with
the manifest's warnings), and one table of the reforms ranked, each cell a paired difference from the
baseline with its interval (comparison.csv's rows). The heatmap of which reform helps where follows
it (simcenter.plots, kind township-effects)."""

from __future__ import annotations

import math

from ..kpis import kpi as catalogue_entry
from ..resultsdir import ResultsDir
from .findings import is_significant
from .render import P, TABLE, cell
from .wording import column, difference, join_words, label, level_text, replications_text

# The ranked table's columns: the service a citizen gets (scored), then what it costs (shown, not scored).
SCORED = ("wait_mean", "served_within_15_share", "one_trip_rate", "one_trip_rate_official", "lead_days_mean")
COSTS = ("staff_hours", "staff_cost")  # staff_cost: only in results that have it
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
RANK_RULE = ("Ranked by the number of the five service KPIs (mean wait, share served within 15 min, the two "
             "one-trip rates, mean lead time) that the reform detectably improves minus the number it detectably "
             "worsens; ties by the change in mean wait, the larger cut first. Staff-hours and costs are shown, "
             "not scored.")


def columns_of(results: ResultsDir) -> list[str]:
    """The ranked table's KPIs that this comparison has (staff_cost only if the results have it)."""
    have = {str(r["kpi"]) for r in results.rows("comparison")}
    return [k for k in SCORED + COSTS if k in have]


def verdict(kpi: str, r: dict | None) -> int:
    """+1 detectably better, −1 detectably worse, 0 not detectable or no better direction."""
    better = catalogue_entry(kpi).higher_is_better
    if r is None or better is None or not is_significant(r):
        return 0
    return 1 if (float(r["difference"]) > 0) == better else -1


def ranking(results: ResultsDir) -> list[tuple[str, int, int]]:
    """(reform, improved, worsened) in the order of `RANK_RULE`."""
    rows = {(r["reform"], r["kpi"]): r for r in results.rows("comparison")}
    out = []
    for i, reform in enumerate(results.reforms):
        marks = [verdict(k, rows.get((reform, k))) for k in SCORED]
        wait = rows.get((reform, "wait_mean"))
        d = float(wait["difference"]) if wait is not None else math.nan
        out.append((marks.count(1) - marks.count(-1), d if d == d else math.inf, i, reform, marks))
    out.sort(key=lambda x: (-x[0], x[1], x[2]))
    return [(reform, marks.count(1), marks.count(-1)) for _, _, _, reform, marks in out]


def ranked_table(results: ResultsDir, unaffected: set[str]) -> dict:
    """One row per reform: each KPI's difference from the baseline, its interval and a mark."""
    rows = {(r["reform"], r["kpi"]): r for r in results.rows("comparison")}
    kpis = columns_of(results)
    table = []
    for rank, (reform, improved, worsened) in enumerate(ranking(results), 1):
        note = "no effect in this horizon" if reform in unaffected else ""
        row = [cell(str(rank)), cell(reform, note), cell(f"{improved} / {worsened}")]
        for kpi in kpis:
            row.append(difference_cell(kpi, rows.get((reform, kpi))))
        table.append(row)
    level = level_text(results.comparison_level)
    return TABLE(["rank", "reform", "better / worse"] + [column(k) for k in kpis], table,
                 f"Each cell: reform − baseline {results.groups[0]}, the mean of the paired differences over the "
                 f"replications ({replications_text(results)}), and below it its paired t interval at the {level} "
                 "level (Bonferroni across the reforms); * and bold: the interval excludes 0, marked better or "
                 f"worse by the KPI's direction. Shares in percentage points. {RANK_RULE}", left=2)


def difference_cell(kpi: str, r: dict | None) -> dict:
    if r is None:
        return cell("n/a")
    d, lo, hi = difference(kpi, float(r["difference"]), float(r["ci_low"]), float(r["ci_high"]))
    sign = verdict(kpi, r)
    word = {1: " better", -1: " worse"}.get(sign, "")
    sub = "" if lo == "n/a" else f"[{lo}, {hi}]"
    significant = is_significant(r)
    cls = ("sig " + {1: "better", -1: "worse"}.get(sign, "")).strip() if significant else ""
    return cell(d + ("*" if significant else ""), (sub + ("," if sub and word else "") + word).strip(), cls)


# --- levers without effect ------------------------------------------------------------------------

def measured_dates(scenario: dict):
    """The working days of the measured period (after the warm-up, up to the last day of arrivals), as the
    model counts them; None when the resolved scenario does not say."""
    from ..model.calendar import Calendar
    from ..scenario.schema import Calendar as CalendarSpec
    from ..scenario.schema import Horizon

    try:
        cal = Calendar(CalendarSpec(**(scenario.get("calendar") or {})), Horizon(**(scenario.get("horizon") or {})))
    except (TypeError, ValueError):
        return None
    return cal.dates[cal.warmup_days:cal.n_days]


def months_text(months) -> str:
    return join_words([MONTHS[m - 1] for m in months])


def seasonal_warnings(results: ResultsDir) -> list[str]:
    """Seasonal window groups with windows whose months hold no measured working day: never on duty."""
    lines = []
    for scenario in results.groups:
        spec = results.resolved.get(scenario) or {}
        groups = spec.get("window_groups") or {}
        dates = None
        for group, g in groups.items():
            months = g.get("months") if isinstance(g, dict) else None
            windows = sum(float((t.get("windows") or {}).get(group, 0) or 0)
                          for t in (spec.get("townships") or {}).values() if isinstance(t, dict))
            if not months or not windows:
                continue
            dates = measured_dates(spec) if dates is None else dates
            if not dates or {d.month for d in dates} & set(months):
                continue
            lines.append(f"{scenario}: window group {results.window_group_label(group, scenario)} is on duty only in "
                         f"{months_text(months)}, and the measured period ({dates[0].isoformat()} to "
                         f"{dates[-1].isoformat()}) has none of these months: its {windows:g} window"
                         f"{'s' if windows != 1 else ''} never went on duty, so the seasonal windows had no effect in "
                         "this horizon (compare over a horizon that includes these months to see them).")
    return lines


def unchanged_reforms(results: ResultsDir) -> list[str]:
    """Reforms whose every KPI equals the baseline's in every replication (kpis.parquet, paired)."""
    frame = results.kpis
    kpis = results.kpi_names()
    baseline = frame[frame["group"] == results.groups[0]].set_index("replication")[kpis].sort_index()
    out = []
    for reform in results.reforms:
        mine = frame[frame["group"] == reform].set_index("replication")[kpis].sort_index()
        if len(mine) and mine.index.equals(baseline.index) and mine.equals(baseline):
            out.append(reform)
    return out


def lever_warnings(results: ResultsDir) -> list[str]:
    """The levers that had no effect in the measured horizon, one line each (a comparison's only)."""
    if results.kind != "compare" or not results.reforms:
        return []
    n = replications_text(results)
    return seasonal_warnings(results) + [
        f"{reform}: every KPI is the same as the baseline's in every replication ({n}): this reform had no effect "
        "in this horizon." for reform in unchanged_reforms(results)]


def section(results: ResultsDir, blocks: list) -> None:
    """The decision section: the ranked table (the heatmap is added with the figures)."""
    if not results.reforms or not columns_of(results):
        return
    blocks.append(P(f"The {len(results.reforms)} reform{'s' if len(results.reforms) != 1 else ''} against the "
                    f"baseline {results.groups[0]}, best first: each one's change in "
                    + join_words([label(k) for k in columns_of(results)]) + "."))
    blocks.append(ranked_table(results, set(unchanged_reforms(results))))
