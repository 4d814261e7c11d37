"""Records of one replication → one row of KPIs for the county and one per township.

Definitions are in docs/kpis.md. Case KPIs are over cases created after the warm-up; visit
KPIs over the visits of those cases plus consultations that arrived after the warm-up.
Times are in minutes unless the name ends in `_days` or `_hours`.
"""

from __future__ import annotations

import numpy as np

from .model.records import BALKED, COMPLETED, DROPPED, OPEN, RENEGED, SENT_HOME, SERVED

KPI_NAMES = (
    "cases", "visits", "completed_share", "open_share", "dropped_share",
    "wait_mean", "wait_p50", "wait_p90", "wait_p95", "wait_max", "wait_over_15_share", "wait_over_30_share",
    "wait_p90_first_hour", "wait_mean_queued",
    "time_in_centre_mean", "abandon_share", "balk_share", "renege_share", "sent_home_share",
    "trips_per_case", "one_trip_rate", "one_trip_rate_official", "zero_trip_rate",
    "lead_days_mean", "lead_days_p90", "on_time_rate",
    "window_utilization_mean", "window_utilization_max", "township_backlog_mean", "county_backlog_mean",
    "travel_hours_per_case", "staff_hours",
)


def compute(records, staffing) -> tuple[dict, list[dict]]:
    """(county row, township rows) for one replication."""
    meta = records.meta
    towns = meta["townships"]
    county = _kpis(records, staffing, None)
    by_town = [{"township": town_id, **_kpis(records, staffing, i)} for i, town_id in enumerate(towns)]
    return county, by_town


def _kpis(r, staffing, town: int | None) -> dict:
    meta = r.meta
    start, end = meta["warmup_end"], meta["arrivals_end"]
    v, c = r.visits, r.cases
    in_case = c["created"] >= start
    case_in = in_case[np.maximum(v["case"], 0)] if len(in_case) else np.zeros(len(v["case"]), bool)
    in_visit = np.where(v["case"] >= 0, case_in, v["arrive"] >= start) & (v["arrive"] < end)
    if town is not None:
        in_case = in_case & (c["township"] == town)
        in_visit = in_visit & (v["township"] == town)
    out: dict = {}
    out.update(_case_kpis(c, in_case))
    out.update(_visit_kpis(v, in_visit, meta["first_open"]))
    out.update(_resource_kpis(r, staffing, town, start, end))
    return out


def _case_kpis(c, mask) -> dict:
    n = int(mask.sum())
    status = c["status"][mask]
    done = mask & (c["status"] == COMPLETED)
    trips, official, lead = c["trips"][done], c["official_trips"][done], c["lead_days"][done]
    promised = c["promised_days"][done]
    has_promise = ~np.isnan(promised)
    return {
        "cases": n,
        "completed_share": _share(status == COMPLETED),
        "open_share": _share(status == OPEN),
        "dropped_share": _share(status == DROPPED),
        "trips_per_case": _mean(trips),
        "one_trip_rate": _share(trips <= 1),
        "one_trip_rate_official": _share(official <= 1),
        "zero_trip_rate": _share(trips == 0),
        "lead_days_mean": _mean(lead),
        "lead_days_p90": _quantile(lead, 0.9),
        "on_time_rate": _share(lead[has_promise] <= promised[has_promise]),
        "travel_hours_per_case": _mean(c["travel_minutes"][done]) / 60,
    }


def _visit_kpis(v, mask, first_open: float) -> dict:
    outcome = v["outcome"][mask]
    served = mask & (v["outcome"] == SERVED)
    wait = v["called"][served] - v["arrive"][served]
    since_opening = v["arrive"][served] % 1440 - first_open
    first_hour = (since_opening >= 0) & (since_opening < 60)
    return {
        "visits": int(mask.sum()),
        "wait_mean": _mean(wait),
        "wait_p50": _quantile(wait, 0.5),
        "wait_p90": _quantile(wait, 0.9),
        "wait_p95": _quantile(wait, 0.95),
        "wait_max": float(wait.max()) if len(wait) else np.nan,
        "wait_over_15_share": _share(wait > 15),
        "wait_over_30_share": _share(wait > 30),
        "wait_p90_first_hour": _quantile(wait[first_hour], 0.9),
        "wait_mean_queued": _mean(wait[wait > 0]),
        "time_in_centre_mean": _mean(v["done"][served] - v["arrive"][served]),
        "abandon_share": _share(outcome != SERVED),
        "balk_share": _share(outcome == BALKED),
        "renege_share": _share(outcome == RENEGED),
        "sent_home_share": _share(outcome == SENT_HOME),
    }


def _resource_kpis(r, staffing, town, start, end) -> dict:
    meta, v = r.meta, r.visits
    open_minutes = meta["open_minutes"]
    towns = range(len(meta["townships"])) if town is None else [town]
    served = v["outcome"] == SERVED
    busy = np.clip(np.minimum(v["done"][served], end) - np.maximum(v["called"][served], start), 0, None)
    utilization = []
    for t in towns:
        n_windows = len(r.windows[t])
        at_town = v["township"][served] == t
        per_window = np.bincount(v["window"][served][at_town], weights=busy[at_town], minlength=n_windows)
        utilization.extend((per_window / open_minutes).tolist() if open_minutes > 0 else [])
    n_windows = sum(len(r.windows[t]) for t in towns)
    reviewers = sum(meta["reviewers"][t] for t in towns)
    return {
        "window_utilization_mean": _mean(np.array(utilization)),
        "window_utilization_max": float(max(utilization)) if utilization else np.nan,
        "township_backlog_mean": _backlog(r.township_files, town, start, end),
        "county_backlog_mean": _backlog(r.county_files, town, start, end),
        "staff_hours": (n_windows * staffing.availability + reviewers) * open_minutes / 60,
    }


def _backlog(files, town, start, end) -> float:
    """Time-average number of files in a back office over [start, end)."""
    mask = np.ones(len(files["start"]), bool) if town is None else files["township"] == town
    a = np.maximum(files["start"][mask], start)
    b = np.minimum(np.where(np.isnan(files["end"][mask]), end, files["end"][mask]), end)
    return float(np.clip(b - a, 0, None).sum() / (end - start))


def _share(flags) -> float:
    return float(np.mean(flags)) if len(flags) else np.nan


def _mean(x) -> float:
    return float(np.mean(x)) if len(x) else np.nan


def _quantile(x, q: float) -> float:
    return float(np.quantile(x, q)) if len(x) else np.nan
