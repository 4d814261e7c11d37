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
    utilization, window_minutes = [], 0.0
    for t in towns:
        n_windows = len(r.windows[t])
        at_town = v["township"][served] == t
        per_window = np.bincount(v["window"][served][at_town], weights=busy[at_town], minlength=n_windows)
        for busy_minutes, duty in zip(per_window.tolist(), meta["window_duty"][t]):
            if duty is None:  # a standby window is staffed while it serves
                window_minutes += busy_minutes
                continue
            window_minutes += duty * open_minutes * staffing.availability
            if duty > 0 and open_minutes > 0:
                utilization.append(busy_minutes / (duty * open_minutes))
    reviewers = sum(meta["reviewers"][t] for t in towns)
    return {
        "window_utilization_mean": _mean(np.array(utilization)),
        "window_utilization_max": float(max(utilization)) if utilization else np.nan,
        "township_backlog_mean": _backlog(r.township_files, town, start, end),
        "county_backlog_mean": _backlog(r.county_files, town, start, end),
        "staff_hours": (window_minutes + reviewers * open_minutes) / 60,
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


# --------------------------------------------------------------------------- detail tables

WAIT_BINS = 181  # whole minutes 0..180; bin 181 holds longer waits
TRIP_BINS = 5  # trips 0..4; bin 5 holds 5 or more
ROUTE_NAMES = ("immediate", "township", "county")


def detail_tables(r) -> dict[str, list[dict]]:
    """Per-replication tables behind the plots: by clock hour, the wait histogram, trips by route."""
    return {"kpis_by_hour": _by_hour(r), "wait_histogram": _wait_histogram(r), "cases_summary": _cases_summary(r)}


def _scope(r):
    meta, v, c = r.meta, r.visits, r.cases
    start, end = meta["warmup_end"], meta["arrivals_end"]
    in_case = c["created"] >= start
    case_in = in_case[np.maximum(v["case"], 0)] if len(in_case) else np.zeros(len(v["case"]), bool)
    in_visit = np.where(v["case"] >= 0, case_in, v["arrive"] >= start) & (v["arrive"] < end)
    return in_case, in_visit


def _by_hour(r) -> list[dict]:
    meta, v = r.meta, r.visits
    start, end, days = meta["warmup_end"], meta["arrivals_end"], max(meta["days"], 1)
    _, in_visit = _scope(r)
    sessions = meta["sessions"]
    through_lunch = [(sessions[0][0], sessions[-1][1])]  # extended-hours windows stay open over lunch
    open_minutes = [_open_in_hour(sessions, h) for h in range(24)]
    open_through_lunch = [_open_in_hour(through_lunch, h) for h in range(24)]
    served_all = in_visit & (v["outcome"] == SERVED)
    rows = []
    for t, town_id in enumerate(meta["townships"]):
        windows = np.asarray(r.windows[t])
        kind_group = np.asarray(meta["kind_group"][t])
        at = v["township"] == t
        here = {name: values[at] for name, values in v.items()}
        scoped, served = in_visit[at], served_all[at]
        group = np.where(here["window"] >= 0, windows[np.maximum(here["window"], 0)], kind_group[here["kind"]])
        hour_arrived = (here["arrive"] // 60 % 24).astype(int)
        hour_called = (np.nan_to_num(here["called"]) // 60 % 24).astype(int)
        busy = _busy_by_hour(here, served, windows, start, end)
        queue = meta["queue_by_hour"][t]
        for g in sorted(set(windows.tolist())):
            n_windows = int((windows == g).sum())
            opened = open_through_lunch if g in meta["lunch_groups"] else open_minutes
            mine = group == g
            for hour in range(24):
                arrived = int((mine & scoped & (hour_arrived == hour)).sum())
                called = mine & served & (hour_called == hour)
                waits = here["called"][called] - here["arrive"][called]
                minutes = busy.get((g, hour), 0.0)
                area = queue.get((g, hour), 0.0)
                if not (opened[hour] or arrived or minutes or area):
                    continue
                capacity = n_windows * opened[hour] * days
                rows.append({"township": town_id, "group": meta["groups"][g], "hour": hour,
                             "arrivals": arrived / days, "wait_mean": _mean(waits), "wait_p90": _quantile(waits, 0.9),
                             "queue_mean": area / (60 * days),
                             "utilization": minutes / capacity if capacity else np.nan,
                             "open_minutes": opened[hour]})
    return rows


def _open_in_hour(spans, hour: int) -> float:
    return sum(max(0.0, min(b, 60 * (hour + 1)) - max(a, 60 * hour)) for a, b in spans)


def _busy_by_hour(v, mask, windows, start, end) -> dict[tuple[int, int], float]:
    """Busy window-minutes per (group, clock hour), services cut at hour boundaries and to [start, end)."""
    a = np.maximum(v["called"][mask], start)
    b = np.minimum(v["done"][mask], end)
    group = windows[v["window"][mask]]
    out: dict[tuple[int, int], float] = {}
    first = np.floor(a / 60) * 60
    for k in range(int(np.ceil(((b - first).max() if len(b) else 0) / 60)) + 1):
        lo, hi = np.maximum(a, first + 60 * k), np.minimum(b, first + 60 * (k + 1))
        part = np.clip(hi - lo, 0, None)
        hours = ((first + 60 * k) // 60 % 24).astype(int)
        for g, h, m in zip(group[part > 0].tolist(), hours[part > 0].tolist(), part[part > 0].tolist()):
            out[(g, h)] = out.get((g, h), 0.0) + m
    return out


def _wait_histogram(r) -> list[dict]:
    v = r.visits
    _, in_visit = _scope(r)
    served = in_visit & (v["outcome"] == SERVED)
    minutes = np.minimum(np.floor(v["called"][served] - v["arrive"][served]), WAIT_BINS).astype(int)
    counts = np.bincount(minutes, minlength=WAIT_BINS + 1)
    return [{"minute": m, "count": int(n)} for m, n in enumerate(counts.tolist())]


def _cases_summary(r) -> list[dict]:
    c = r.cases
    in_case, _ = _scope(r)
    done = in_case & (c["status"] == COMPLETED)
    trips = np.minimum(c["trips"], TRIP_BINS)
    rows = []
    for route, name in enumerate(ROUTE_NAMES):
        for n in range(TRIP_BINS + 1):
            mine = done & (c["route"] == route) & (trips == n)
            if mine.any():
                rows.append({"route": name, "trips": n, "cases": int(mine.sum()),
                             "lead_days_mean": float(c["lead_days"][mine].mean())})
    return rows
