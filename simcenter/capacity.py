"""Offered load of every back office, from the scenario alone (no simulation).

A review office (a township's reviewers, a county department's) receives files at a mean rate
and each file takes reviewer work; if the work offered per working day reaches the reviewers'
open time, files in progress grow for as long as the horizon lasts and every lead-time figure
depends on the horizon, not on the reform. `validate`, `run` and `compare` warn about such
offices, and full empowerment uses the same arithmetic to second county reviewers to townships
in proportion to the work it moves (人员下沉).

The rates are means over the horizon's working days (weekday, month, market-day, period and
seasonal-item factors, normalised as the model normalises them), net of out-of-scope requests,
one-matter cases under their own (leading) item, and every send-back for supplements counted
as one more review (a geometric number of passes).
"""

from __future__ import annotations

from dataclasses import dataclass

from .scenario.schema import Scenario

OVERLOAD = 0.95  # offered load / capacity from which an office is reported


@dataclass(frozen=True)
class OfficeLoad:
    kind: str  # "township" or "county"
    id: str  # township id or department id
    name: str
    offered: float  # reviewer-minutes of work offered per working day
    capacity: float  # reviewer-minutes available per working day (inf: no limit)

    @property
    def ratio(self) -> float:
        return self.offered / self.capacity if self.capacity else float("inf")

    def warning(self) -> str:
        where = f"township {self.id}" if self.kind == "township" else f"county department {self.id}"
        return (f"warning: {where} ({self.name}) reviewers are overloaded: offered load {self.offered:,.0f} "
                f"reviewer-minutes per working day against a capacity of {self.capacity:,.0f} "
                f"(utilisation {self.ratio:.2f} >= {OVERLOAD}); its files in progress grow with the horizon, "
                f"so its lead times and on-time rate are not findings")


def open_minutes_per_day(s: Scenario) -> float:
    return float(sum(b - a for a, b in s.calendar.session_minutes()))


def review_minutes(s: Scenario, item, office: str) -> float:
    """Reviewer work per file of `item` in a township (`office="township"`) or county office."""
    if item.review_minutes is not None:
        return item.review_minutes
    per_day = s.staffing.reviews_per_day if office == "township" else s.county.reviews_per_day
    return open_minutes_per_day(s) / per_day


def item_shares(s: Scenario) -> dict[str, float]:
    """Share of new cases of each item (a one-matter case counts under its leading item, which
    is its own: matters do not change the item volumes)."""
    total = sum(i.weight for i in s.items.values())
    return {k: i.weight / total for k, i in s.items.items()}


def cases_per_day(s: Scenario) -> dict[str, float]:
    """Mean new in-scope cases per working day of the horizon, by township."""
    from .model.arrivals import day_factors
    from .model.calendar import Calendar

    cal = Calendar(s.calendar, s.horizon)
    mix = _mix_factor(s)
    out = {}
    for town_id, town in s.townships.items():
        factors = day_factors(s, cal, town, mix)
        out[town_id] = town.cases_per_day * sum(factors) / len(factors) * (1 - s.demand.out_of_scope_share)
    return out


def _mix_factor(s: Scenario) -> list[float]:
    """Per month, the total of item weights × their seasonal overlays (mean 1) over the annual total."""
    weights = [i.weight for i in s.items.values()]
    mix = [1.0] * 13
    for month in range(1, 13):
        total = 0.0
        for w, item in zip(weights, s.items.values()):
            overlay = [item.month_factor.get(m, 1.0) for m in range(1, 13)] if item.month_factor else [1.0] * 12
            mean = sum(overlay) / 12
            total += w * (overlay[month - 1] / mean if mean > 0 else 1.0)
        mix[month] = total / sum(weights)
    return mix


def item_files(s: Scenario) -> dict[tuple[str, str], float]:
    """Mean files per working day reaching a back office, by (township, item), before send-backs."""
    rates, shares = cases_per_day(s), item_shares(s)
    return {(t, i): rates[t] * share for t in s.townships for i, share in shares.items()
            if s.items[i].route in ("township", "county") and share > 0}


def office_loads(s: Scenario) -> list[OfficeLoad]:
    """Every township office and every county department with a capacity limit."""
    per_day = open_minutes_per_day(s)
    township_passes = 1 / (1 - s.staffing.supplement_prob) if s.staffing.supplement_prob < 1 else float("inf")
    county_passes = 1 / (1 - s.county.supplement_prob) if s.county.supplement_prob < 1 else float("inf")
    township = {t: 0.0 for t in s.townships}
    county = {d: 0.0 for d in s.departments}
    for (t, i), files in item_files(s).items():
        item = s.items[i]
        if item.route == "township":
            township[t] += files * township_passes * review_minutes(s, item, "township")
        else:
            county[item.department] += files * county_passes * review_minutes(s, item, "county")
    loads = [OfficeLoad("township", t, s.townships[t].name or t, township[t], s.townships[t].reviewers * per_day)
             for t in s.townships if township[t] > 0]
    loads += [OfficeLoad("county", d, s.departments[d].name or d, county[d], dept.county_reviewers * per_day)
              for d, dept in s.departments.items() if dept.county_reviewers is not None and county[d] > 0]
    return loads


def overloaded(s: Scenario, threshold: float = OVERLOAD) -> list[OfficeLoad]:
    return [load for load in office_loads(s) if load.ratio >= threshold]


def warnings(s: Scenario) -> list[str]:
    """One line per overloaded office, for stderr and the report."""
    return [load.warning() for load in overloaded(s)]


def seconded_reviewers(s: Scenario, delegated: list[str], share: float) -> tuple[dict[str, float], dict[str, float]]:
    """Reviewers that follow delegated items from each county department to each township.

    Each department gives up `share` of its reviewers in proportion to the county work it loses,
    and each township receives them in proportion to the work it takes over. Returns (reviewers
    leaving each department, reviewers arriving in each township).
    """
    county_passes = 1 / (1 - s.county.supplement_prob) if s.county.supplement_prob < 1 else 1.0
    total = {d: 0.0 for d in s.departments}
    moved: dict[tuple[str, str], float] = {}
    for (t, i), files in item_files(s).items():
        item = s.items[i]
        if item.route != "county":
            continue
        work = files * county_passes * review_minutes(s, item, "county")
        total[item.department] += work
        if i in delegated:
            moved[(item.department, t)] = moved.get((item.department, t), 0.0) + work
    leaving = {d: 0.0 for d in s.departments}
    arriving = {t: 0.0 for t in s.townships}
    for (d, t), work in moved.items():
        reviewers = s.departments[d].county_reviewers
        if reviewers is None or total[d] <= 0:
            continue
        seconded = share * reviewers * work / total[d]
        leaving[d] += seconded
        arriving[t] += seconded
    return leaving, arriving
