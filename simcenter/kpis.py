"""Records of one replication → one row of KPIs for the county and one per township.

Definitions are in docs/kpis.md. Case KPIs are over cases created after the warm-up (trip KPIs
over those that ended, lead and decision times over those completed); visit KPIs over the
visits of those cases plus consultations that arrived after the warm-up. Times are in minutes
unless the name ends in `_days` (working days) or `_hours`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from .model.records import (BALKED, COMPLETED, DROPPED, ELSEWHERE, OPEN, OUT_OF_SCOPE, PICKUP, RENEGED, SENT_HOME,
                            SERVED)
from .model.citizen import AGENT_VISITS, CITIZEN, MOBILE_SERVICE
from .scenario.schema import Costs

@dataclass(frozen=True)
class KPI:
    """One KPI column: how to name it, its unit, which way is better, the bounds of its values."""

    name: str  # column name, e.g. "wait_mean"
    label: str  # plain words, e.g. "mean wait"
    unit: str  # "minutes", "working days", "hours", "share", "trips", "referrals", "files", "cases", "visits", "CNY"
    higher_is_better: bool | None  # None: neither (counts, utilisation, staff-hours)
    lower: float | None = 0.0  # bounds of the values (None: unbounded), to keep intervals inside in figures
    upper: float | None = None
    headline: bool = False  # in the headline tables and findings
    group: str = ""  # the section of docs/kpis.md: cases, waiting, trips, lead, resources, costs
    short: str = ""  # a column header of at most 6 characters, for terminal tables ("" for none)


def _kpis_of(group: str, *rows: tuple) -> list[KPI]:
    """KPIs of one group from (name, label, unit, higher_is_better[, "headline"]). Every value is at
    least 0; shares are at most 1, except utilisation, which can exceed 1 (docs/kpis.md)."""
    out = []
    for name, text, unit, better, *mark in rows:
        upper = 1.0 if unit == "share" and "utilization" not in name else None
        out.append(KPI(name, text, unit, better, 0.0, upper, mark == ["headline"], group))
    return out


_CATALOGUE = [
    *_kpis_of("cases",
              ("cases", "cases in scope", "cases", None)),
    *_kpis_of("waiting",
              ("visits", "visits in scope", "visits", None)),
    *_kpis_of("cases",
              ("completed_share", "share of cases completed", "share", True),
              ("open_share", "share of cases still open at the end", "share", False),
              ("dropped_share", "share of cases given up", "share", False),
              ("elsewhere_share", "share of cases finished elsewhere after abandoning", "share", False)),
    *_kpis_of("waiting",
              ("wait_mean", "mean wait", "minutes", False, "headline"),
              ("wait_p50", "median wait", "minutes", False),
              ("wait_p90", "90th-percentile wait", "minutes", False),
              ("wait_p95", "95th-percentile wait", "minutes", False),
              ("wait_max", "longest wait", "minutes", False),
              ("served_within_15_share", "share served within 15 min", "share", True, "headline"),
              ("wait_over_15_share", "share waiting more than 15 min", "share", False),
              ("wait_over_30_share", "share waiting more than 30 min", "share", False),
              ("wait_p90_first_hour", "90th-percentile wait in the first hour", "minutes", False),
              ("wait_p90_market_morning", "90th-percentile wait on market-day mornings", "minutes", False),
              ("wait_mean_queued", "mean wait of those who queued", "minutes", False),
              ("time_in_centre_mean", "mean time in the centre", "minutes", False),
              ("abandon_share", "share of visits not served", "share", False),
              ("balk_share", "share of visits that balked", "share", False),
              ("renege_share", "share of visits that reneged", "share", False),
              ("sent_home_share", "share of visits sent home at closing", "share", False)),
    *_kpis_of("trips",
              ("trips_per_case", "trips per case", "trips", False, "headline"),
              ("one_trip_rate", "strict one-trip rate", "share", True, "headline"),
              ("one_trip_rate_official", "official one-trip rate", "share", True, "headline"),
              ("zero_trip_rate", "zero-trip rate", "share", True),
              ("county_trips_per_case", "trips to the county hall per case", "trips", False),
              ("referrals_per_case", "window-to-window referrals per case", "referrals", False),
              ("travel_hours_per_case", "travel time per case", "hours", False)),
    *_kpis_of("lead",
              ("lead_days_mean", "mean lead time", "working days", False, "headline"),
              ("lead_days_p90", "90th-percentile lead time", "working days", False),
              ("decision_days_mean", "mean decision time (official clock)", "working days", False, "headline"),
              ("on_time_rate", "on-time rate (official clock)", "share", True, "headline")),
    *_kpis_of("resources",
              ("window_utilization_mean", "mean window utilisation", "share", None),
              ("window_utilization_max", "busiest window's utilisation", "share", None),
              ("township_reviewer_utilization_mean", "mean township reviewer utilisation", "share", None),
              ("township_reviewer_utilization_max", "busiest township office's reviewer utilisation", "share", None),
              ("county_reviewer_utilization_max", "busiest county department's reviewer utilisation", "share", None),
              ("township_files_in_progress_mean", "township files in progress", "files", None),
              ("township_files_waiting_mean", "township files waiting for a reviewer", "files", False),
              ("county_files_in_progress_mean", "county files in progress", "files", None),
              ("county_files_waiting_mean", "county files waiting for a reviewer", "files", False),
              ("staff_hours_windows", "window staff-hours", "hours", None),
              ("staff_hours_township_review", "township reviewer staff-hours", "hours", None),
              ("staff_hours_county_review", "county reviewer staff-hours", "hours", None),
              ("staff_hours", "staff-hours", "hours", None, "headline")),
    *_kpis_of("costs",
              ("staff_cost", "staff cost", "CNY", None),
              ("citizen_cost", "citizens' cost of time and travel", "CNY", False),
              ("cost_per_case", "cost per case", "CNY", False)),
]

# Column headers of the terminal's tables (`simcenter compare`, `run`), explained in a legend under them.
_SHORT = {
    "wait_mean": "wait", "served_within_15_share": "≤15min", "trips_per_case": "trips", "one_trip_rate": "1-trip",
    "one_trip_rate_official": "offic.", "lead_days_mean": "lead", "decision_days_mean": "decide",
    "on_time_rate": "ontime", "staff_hours": "staff", "staff_cost": "cost", "citizen_cost": "citizen",
    "cost_per_case": "/case", "wait_p90": "wait90", "abandon_share": "abandon", "zero_trip_rate": "0-trip",
    "lead_days_p90": "lead90", "travel_hours_per_case": "travel", "cases": "cases", "visits": "visits",
}

# Every KPI column, in the order of the tables (docs/kpis.md, "County row: every column").
CATALOGUE: dict[str, KPI] = {k.name: replace(k, short=_SHORT.get(k.name, "")) for k in _CATALOGUE}
KPI_NAMES = tuple(CATALOGUE)

# The KPIs the findings and headline tables speak of: waiting, run at most once, lead and decision
# time, staff.
HEADLINE = tuple(name for name, k in CATALOGUE.items() if k.headline)
# The headline KPIs drawn in the figures (one panel each) and a sweep's KPIs by default: all but the
# on-time rate, which is empty where no item has a promise; the mean decision time speaks for the
# official clock there.
HEADLINE_FIGURES = tuple(name for name in HEADLINE if name != "on_time_rate")

REMOTE_KM = 30  # figures and the report call a township remote at least this far (km) from the county seat


def kpi(name: str) -> KPI:
    """The catalogue's entry; for a column it does not know (an older results directory), plain words
    from the name, no unit, no direction, no bounds."""
    known = CATALOGUE.get(name)
    return known if known is not None else KPI(name, name.replace("_", " "), "", None, None, None)


def label(name: str, with_unit: bool = False) -> str:
    """'mean wait', or with its unit 'mean wait (minutes)' (no parentheses when it has none)."""
    k = kpi(name)
    return f"{k.label} ({k.unit})" if with_unit and k.unit else k.label


def short(name: str) -> str:
    """The column header of terminal tables: the catalogue's short label, else the column name."""
    return kpi(name).short or name


def unit(name: str) -> str:
    return kpi(name).unit


def is_share(name: str) -> bool:
    return kpi(name).unit == "share"


def clip(name: str, values):
    """Values (a number or an array: interval bounds, error bars) kept inside the KPI's bounds."""
    k = kpi(name)
    return np.clip(values, -np.inf if k.lower is None else k.lower, np.inf if k.upper is None else k.upper)


def compute(records, scenario=None) -> tuple[dict, list[dict]]:
    """(county row, township rows) for one replication.

    Everything but the prices is in `records.meta` (staffing, offices, market days); the cost
    KPIs take the scenario's `costs` (the defaults without a scenario) and which items hand out
    a result to pick up. What a row derives from the whole replication (scope, who spent the
    time, mailed results, window use) is computed once; a township's row reads its own rows,
    in their order, so its numbers are those of a mask over the whole replication.
    """
    prices = getattr(scenario, "costs", None) or Costs()
    county = _Part.of(records, _pickup_items(scenario, records))
    towns = county.townships()
    use = [_window_use(town, t) for t, town in enumerate(towns)]
    row = _kpis(county, None, prices, use)
    by_town = [{"township": town_id, **_kpis(towns[t], t, prices, use[t:t + 1])}
               for t, town_id in enumerate(records.meta.townships)]
    return row, by_town


class _Columns(Mapping):
    """Named columns, restricted to the rows `index` (every row when None), each taken when first read."""

    def __init__(self, columns: dict, index: np.ndarray | None = None):
        self._columns, self._index, self._taken = columns, index, {}

    def __getitem__(self, name: str) -> np.ndarray:
        if self._index is None:
            return self._columns[name]
        if name not in self._taken:
            self._taken[name] = self._columns[name][self._index]
        return self._taken[name]

    def __iter__(self):
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def grouped(self, key: str, n: int) -> list[_Columns]:
        """The rows whose `key` is 0, 1, ..., n-1, each group in its rows' order (as a mask would
        take them: the same sums to the last bit), found by one stable sort rather than n masks."""
        keys = self[key]
        order = np.argsort(keys, kind="stable")
        bounds = np.searchsorted(keys[order], np.arange(n + 1), side="left")
        return [_Columns(self._columns, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


@dataclass(frozen=True)
class _Part:
    """The records a KPI row is over (the county's, or one township's) with the columns derived
    from the whole replication: `in_scope` for visits and cases, `by_citizen` (a visit whose time
    the citizen spent, not an agent) and `mailed` (a case whose result was mailed, docs/kpis.md)."""

    records: object
    visits: _Columns
    cases: _Columns
    township_files: _Columns
    county_files: _Columns

    @classmethod
    def of(cls, r, pickup_items: np.ndarray) -> _Part:
        in_case, in_visit = _scope(r)
        visits = {**r.visits, "in_scope": in_visit, "by_citizen": _by_citizen(r.visits, r.cases)}
        cases = {**r.cases, "in_scope": in_case, "mailed": _mailed(r.cases, r.visits, pickup_items)}
        return cls(r, _Columns(visits), _Columns(cases), _Columns(r.township_files), _Columns(r.county_files))

    def townships(self) -> list[_Part]:
        n = len(self.records.meta.townships)
        tables = (self.visits, self.cases, self.township_files, self.county_files)
        return [_Part(self.records, *parts) for parts in zip(*(t.grouped("township", n) for t in tables))]


def _pickup_items(scenario, records) -> np.ndarray:
    """Per item position: whether its result is a certificate to pick up (or mail). Without a
    scenario no item is: nothing is mailed."""
    items = getattr(scenario, "items", None)
    if items is None:
        return np.zeros(int(records.cases["item"].max()) + 1 if len(records.cases["item"]) else 0, bool)
    return np.array([item.result == "pickup" for item in items.values()], bool)


def _kpis(part: _Part, town: int | None, prices: Costs, use: list[tuple]) -> dict:
    """The KPI row of `part` (the county when `town` is None); `use`: _window_use of its townships."""
    meta = part.records.meta
    in_case, in_visit = part.cases["in_scope"], part.visits["in_scope"]
    out: dict = {}
    out.update(_case_kpis(part.cases, in_case))
    out.update(_visit_kpis(part.visits, in_visit, meta))
    out.update(_resource_kpis(part, town, use))
    out.update(_cost_kpis(part, in_case, in_visit, out, prices))
    return {name: out[name] for name in KPI_NAMES}


def _case_kpis(c, mask) -> dict:
    n = int(mask.sum())
    status = c["status"][mask]
    ended = mask & (c["status"] != OPEN)
    done = mask & (c["status"] == COMPLETED)
    trips, official = c["trips"][ended], c["official_trips"][ended]
    lead = c["lead_days"][done]
    lead = lead[np.isfinite(lead)]  # NaN: out-of-scope cases (redirected to the county)
    decision = c["decision_days"][done]
    promised = c["promised_days"][done]
    decision_finite = np.isfinite(decision)
    promise = np.isfinite(promised) & decision_finite
    return {
        "cases": n,
        "completed_share": _share(status == COMPLETED),
        "open_share": _share(status == OPEN),
        "dropped_share": _share(status == DROPPED),
        "elsewhere_share": _share(status == ELSEWHERE),
        "trips_per_case": _mean(trips),
        "one_trip_rate": _share(trips <= 1),
        "one_trip_rate_official": _share(official[official >= 0] <= 1),  # -1: never accepted
        "zero_trip_rate": _share(trips == 0),
        "county_trips_per_case": _mean(c["county_trips"][ended]),
        "referrals_per_case": _mean(c["referrals"][ended]),
        "travel_hours_per_case": _mean(c["travel_minutes"][ended]) / 60,
        "lead_days_mean": _mean(lead),
        "lead_days_p90": _quantile(lead, 0.9),
        "decision_days_mean": _mean(decision[decision_finite]),
        "on_time_rate": _share(decision[promise] <= promised[promise]),
    }


def _visit_kpis(v, mask, meta) -> dict:
    outcome = v["outcome"][mask]
    served = mask & (v["outcome"] == SERVED)
    arrive = v["arrive"][served]
    wait = v["called"][served] - arrive
    since_opening = arrive % 1440 - meta.first_open
    first_hour = (since_opening >= 0) & (since_opening < 60)
    return {
        "visits": int(mask.sum()),
        "wait_mean": _mean(wait),
        "wait_p50": _quantile(wait, 0.5),
        "wait_p90": _quantile(wait, 0.9),
        "wait_p95": _quantile(wait, 0.95),
        "wait_max": float(wait.max()) if len(wait) else np.nan,
        "served_within_15_share": _share(wait <= 15),
        "wait_over_15_share": _share(wait > 15),
        "wait_over_30_share": _share(wait > 30),
        "wait_p90_first_hour": _quantile(wait[first_hour], 0.9),
        "wait_p90_market_morning": _quantile(wait[_market_morning(arrive, v["township"][served], meta)], 0.9),
        "wait_mean_queued": _mean(wait[wait > 0]),
        "time_in_centre_mean": _mean(v["done"][served] - arrive),
        "abandon_share": _share(outcome != SERVED),
        "balk_share": _share(outcome == BALKED),
        "renege_share": _share(outcome == RENEGED),
        "sent_home_share": _share(outcome == SENT_HOME),
    }


def _market_morning(arrive, township, meta) -> np.ndarray:
    """Arrivals in the first session (clock time before its end) of a market day of their township."""
    market = meta.market_days or []
    every = np.array([m[0] if m else 0 for m in market] or [0], np.int64)
    phase = np.array([m[1] if m else 0 for m in market] or [0], np.int64)
    if not market or not every.any():
        return np.zeros(len(arrive), bool)
    day = np.floor(arrive / 1440)
    morning = arrive - day * 1440 < meta.sessions[0][1]
    ordinal = meta.start_ordinal + day.astype(np.int64)
    e, p = every[township], phase[township]
    return morning & (e > 0) & (ordinal % np.maximum(e, 1) == p)


def _window_use(part: _Part, t: int) -> tuple[int, list[float], np.ndarray]:
    """(t, busy minutes of each window, its overtime: service after the day's last closing) of
    township t's windows, within the measurement window."""
    meta, v = part.records.meta, part.visits
    start, end = meta.warmup_end, meta.arrivals_end
    served = v["outcome"] == SERVED
    called, done = v["called"][served], v["done"][served]
    busy = np.clip(np.minimum(done, end) - np.maximum(called, start), 0, None)
    closing = np.floor(called / 1440) * 1440 + meta.sessions[-1][1]
    late = np.clip(np.minimum(done, end) - np.maximum(np.maximum(called, closing), start), 0, None)
    windows, n_windows = v["window"][served], len(part.records.windows[t])
    return (t, np.bincount(windows, weights=busy, minlength=n_windows).tolist(),
            np.bincount(windows, weights=late, minlength=n_windows))


def _resource_kpis(part: _Part, town: int | None, use: list[tuple]) -> dict:
    r = part.records
    meta = r.meta
    start, end = meta.warmup_end, meta.arrivals_end
    open_minutes = meta.open_minutes
    towns = [t for t, _, _ in use]
    lunch_minutes = open_minutes + meta.days * _lunch_gap(meta.sessions)
    lunch_groups = set(meta.lunch_groups)
    utilization, window_minutes = [], 0.0
    for t, per_window, overtime in use:
        for w, (busy_minutes, duty) in enumerate(zip(per_window, meta.window_duty[t])):
            if duty is None:  # a standby window is staffed while it serves
                window_minutes += busy_minutes
                continue
            scheduled = lunch_minutes if r.windows[t][w] in lunch_groups else open_minutes
            window_minutes += duty * scheduled + float(overtime[w])
            if duty > 0 and open_minutes > 0:
                utilization.append(busy_minutes / (duty * open_minutes))
    span = end - start
    own = [meta.township_offices[t] for t in towns]
    town_use = _office_utilization(own, open_minutes)
    township_review = sum(meta.reviewers[t] for t in towns) * open_minutes / 60
    if town is None:
        county_offices = meta.county_offices
        county_use = _office_utilization(county_offices, open_minutes)
        county_waiting = sum(o[3] for o in county_offices) / span if span > 0 else np.nan
        county_review = sum(o[0] for o in county_offices if o[0] is not None) * open_minutes / 60
    else:  # the county's reviewers serve every township: county-wide only
        county_use, county_waiting, county_review = [], np.nan, np.nan
    windows_hours = window_minutes / 60
    return {
        "window_utilization_mean": _mean(np.array(utilization)),
        "window_utilization_max": float(max(utilization)) if utilization else np.nan,
        "township_reviewer_utilization_mean": _mean(np.array(town_use)),
        "township_reviewer_utilization_max": float(max(town_use)) if town_use else np.nan,
        "county_reviewer_utilization_max": float(max(county_use)) if county_use else np.nan,
        "township_files_in_progress_mean": _in_progress(part.township_files, start, end),
        "township_files_waiting_mean": sum(o[3] for o in own) / span if span > 0 else np.nan,
        "county_files_in_progress_mean": _in_progress(part.county_files, start, end),
        "county_files_waiting_mean": county_waiting,
        "staff_hours_windows": windows_hours,
        "staff_hours_township_review": township_review,
        "staff_hours_county_review": county_review,
        "staff_hours": windows_hours + township_review + (0.0 if town is not None else county_review),
    }


def _cost_kpis(part: _Part, in_case, in_visit, out: dict, prices: Costs) -> dict:
    """Staff cost of the measurement window, and the citizens' cost of the cases in scope (and of
    the consultations that arrived in it), in CNY (docs/kpis.md, "Costs")."""
    c, v = part.cases, part.visits
    handler = c["handler"]
    staff = (out["staff_hours_windows"] * prices.window_staff_hour
             + out["staff_hours_township_review"] * prices.township_reviewer_hour
             + np.nan_to_num(out["staff_hours_county_review"]) * prices.county_reviewer_hour
             + int((in_case & (handler == AGENT_VISITS)).sum()) * prices.agent_case
             + int((in_case & (handler == MOBILE_SERVICE)).sum()) * prices.mobile_case
             + int((in_case & c["mailed"]).sum()) * prices.mail_item)
    spent = in_visit & v["by_citizen"]
    minutes = v["done"][spent] - v["arrive"][spent]
    hours = (minutes.sum() + c["travel_minutes"][in_case].sum()) / 60
    citizen = float(hours * prices.citizen_hour + c["travel_km"][in_case].sum() * prices.per_km)
    cases = int(in_case.sum())
    return {"staff_cost": staff, "citizen_cost": citizen,
            "cost_per_case": (staff + citizen) / cases if cases else np.nan}


def _by_citizen(v, c) -> np.ndarray:
    """Visits whose time the citizen spent: all but those of cases a village agent handled."""
    handler = c["handler"]
    if not len(handler):
        return np.ones(len(v["case"]), bool)
    return (v["case"] < 0) | (handler[np.maximum(v["case"], 0)] != AGENT_VISITS)


def _mailed(c, v, pickup_items) -> np.ndarray:
    """Cases whose result was mailed: completed by the citizen (no agent, no mobile team, in
    scope of the township) with a result to pick up, and no pickup visit."""
    picked_up = np.zeros(len(c["status"]), bool)
    picked_up[v["case"][(v["purpose"] == PICKUP) & (v["case"] >= 0)]] = True
    pickup = pickup_items[c["item"]] if len(pickup_items) else np.zeros(len(c["item"]), bool)
    return ((c["status"] == COMPLETED) & (c["handler"] == CITIZEN) & (c["route"] != OUT_OF_SCOPE)
            & pickup & ~picked_up)


def _lunch_gap(sessions) -> float:
    """Minutes a day between the first opening and the last closing that are not in a session."""
    return (sessions[-1][1] - sessions[0][0]) - sum(b - a for a, b in sessions)


def _office_utilization(offices, open_minutes: float) -> list[float]:
    """Busy seat-minutes / (seats × open minutes) of each office with a reviewer limit."""
    return [busy / (seats * open_minutes) for reviewers, busy, seats, _ in offices
            if reviewers is not None and seats > 0 and open_minutes > 0]


def _in_progress(files, start, end) -> float:
    """Time-average number of files in a back office over [start, end)."""
    a = np.maximum(files["start"], start)
    b = np.minimum(np.where(np.isnan(files["end"]), end, files["end"]), end)
    return float(np.clip(b - a, 0, None).sum() / (end - start))


def department_rows(records) -> list[dict]:
    """One row per county department: its reviewers (NaN: no limit), their utilization and the
    time-average number of files waiting for one, over the measurement window."""
    meta = records.meta
    span = meta.arrivals_end - meta.warmup_end
    open_minutes = meta.open_minutes
    rows = []
    for dept, (reviewers, busy, seats, waiting) in zip(meta.departments, meta.county_offices):
        limited = reviewers is not None and seats > 0 and open_minutes > 0
        rows.append({"department": str(dept), "reviewers": np.nan if reviewers is None else float(reviewers),
                     "utilization": busy / (seats * open_minutes) if limited else np.nan,
                     "files_waiting_mean": waiting / span if span > 0 else np.nan})
    return rows

def _share(flags) -> float:
    return float(np.mean(flags)) if len(flags) else np.nan


def _mean(x) -> float:
    return float(np.mean(x)) if len(x) else np.nan


def _quantile(x, q: float) -> float:
    return float(np.quantile(x, q)) if len(x) else np.nan


# --------------------------------------------------------------------------- detail tables

WAIT_BINS = 181  # whole minutes 0..180; bin 181 holds longer waits
TRIP_BINS = 5  # trips 0..4; bin 5 holds 5 or more
ROUTE_NAMES = ("immediate", "township", "county", "out_of_scope")


def detail_tables(r) -> dict[str, list[dict]]:
    """Per-replication tables behind the plots: by clock hour, the wait histogram, trips by route,
    and the county departments' reviewers."""
    in_case, in_visit = _scope(r)
    return {"kpis_by_hour": _by_hour(r, in_visit), "wait_histogram": _wait_histogram(r, in_visit),
            "cases_summary": _cases_summary(r, in_case), "kpis_by_department": department_rows(r)}


def _scope(r):
    meta, v, c = r.meta, r.visits, r.cases
    start, end = meta.warmup_end, meta.arrivals_end
    in_case = c["created"] >= start
    case_in = in_case[np.maximum(v["case"], 0)] if len(in_case) else np.zeros(len(v["case"]), bool)
    in_visit = np.where(v["case"] >= 0, case_in, v["arrive"] >= start) & (v["arrive"] < end)
    return in_case, in_visit


def _by_hour(r, in_visit) -> list[dict]:
    meta = r.meta
    start, end, days = meta.warmup_end, meta.arrivals_end, max(meta.days, 1)
    sessions = meta.sessions
    through_lunch = [(sessions[0][0], sessions[-1][1])]  # extended-hours windows stay open over lunch
    open_minutes = [_open_in_hour(sessions, h) for h in range(24)]
    open_through_lunch = [_open_in_hour(through_lunch, h) for h in range(24)]
    cells = 24 * len(meta.groups)  # cell: window group × 24 + clock hour
    towns = _Columns({**r.visits, "in_scope": in_visit}).grouped("township", len(meta.townships))
    rows = []
    for t, town_id in enumerate(meta.townships):
        here = towns[t]
        windows = np.asarray(r.windows[t])
        kind_group = np.asarray(meta.kind_group[t])
        scoped = here["in_scope"]
        served = scoped & (here["outcome"] == SERVED)
        group = np.where(here["window"] >= 0, windows[np.maximum(here["window"], 0)], kind_group[here["kind"]])
        queued = group >= 0  # -1: a ticket kind no window takes
        arrived = group * 24 + (here["arrive"] // 60 % 24).astype(int)
        called = group * 24 + (np.nan_to_num(here["called"]) // 60 % 24).astype(int)
        arrivals = np.bincount(arrived[scoped & queued], minlength=cells).tolist()
        waits = _Columns({"cell": called[served], "wait": here["called"][served] - here["arrive"][served]})
        waits = waits.grouped("cell", cells)
        busy = _busy_by_hour(here, served, windows, start, end, cells)
        queue = meta.queue_by_hour[t]
        for g in sorted(set(windows.tolist())):
            n_windows = int((windows == g).sum())
            opened = open_through_lunch if g in meta.lunch_groups else open_minutes
            for hour in range(24):
                cell = g * 24 + hour
                wait = waits[cell]["wait"]
                minutes = busy[cell]
                area = queue.get((g, hour), 0.0)
                if not (opened[hour] or arrivals[cell] or minutes or area):
                    continue
                capacity = n_windows * opened[hour] * days
                rows.append({"township": town_id, "group": meta.groups[g], "hour": hour,
                             "arrivals": arrivals[cell] / days, "wait_mean": _mean(wait),
                             "wait_p90": _quantile(wait, 0.9), "queue_mean": area / (60 * days),
                             "utilization": minutes / capacity if capacity else np.nan,
                             "open_minutes": opened[hour]})
    return rows


def _open_in_hour(spans, hour: int) -> float:
    return sum(max(0.0, min(b, 60 * (hour + 1)) - max(a, 60 * hour)) for a, b in spans)


def _busy_by_hour(v, mask, windows, start, end, cells: int) -> list[float]:
    """Busy window-minutes per cell (window group × 24 + clock hour), services cut at hour
    boundaries and to [start, end); added up hour by hour, each hour service by service."""
    a = np.maximum(v["called"][mask], start)
    b = np.minimum(v["done"][mask], end)
    group = windows[v["window"][mask]]
    first = np.floor(a / 60) * 60
    where, minutes = [np.zeros(0, np.int64)], [np.zeros(0)]
    for k in range(int(np.ceil(((b - first).max() if len(b) else 0) / 60)) + 1):
        lo, hi = np.maximum(a, first + 60 * k), np.minimum(b, first + 60 * (k + 1))
        part = np.clip(hi - lo, 0, None)
        hours = ((first + 60 * k) // 60 % 24).astype(int)
        where.append((group * 24 + hours)[part > 0])
        minutes.append(part[part > 0])
    # bincount adds in the order given, as the loop above would one by one
    return np.bincount(np.concatenate(where), weights=np.concatenate(minutes), minlength=cells).tolist()


def _wait_histogram(r, in_visit) -> list[dict]:
    v = r.visits
    served = in_visit & (v["outcome"] == SERVED)
    minutes = np.minimum(np.floor(v["called"][served] - v["arrive"][served]), WAIT_BINS).astype(int)
    counts = np.bincount(minutes, minlength=WAIT_BINS + 1)
    return [{"minute": m, "count": int(n)} for m, n in enumerate(counts.tolist())]


def _cases_summary(r, in_case) -> list[dict]:
    """Ended cases in scope by route and trips; lead days over those completed with a lead time."""
    c = r.cases
    ended = in_case & (c["status"] != OPEN)
    timed = ended & (c["status"] == COMPLETED) & np.isfinite(c["lead_days"])
    trips = np.minimum(c["trips"], TRIP_BINS)
    rows = []
    for route, name in enumerate(ROUTE_NAMES):
        for n in range(TRIP_BINS + 1):
            mine = ended & (c["route"] == route) & (trips == n)
            if mine.any():
                lead = c["lead_days"][mine & timed]
                rows.append({"route": name, "trips": n, "cases": int(mine.sum()), "lead_cases": len(lead),
                             "lead_days_mean": float(lead.mean()) if len(lead) else np.nan})
    return rows
