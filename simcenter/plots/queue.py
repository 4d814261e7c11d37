"""Queue length over simulated time in one township's hall (kind queue), from the visit records of
`simcenter run --records`: the number waiting steps up at each arrival and down when the visit is
called (or leaves unserved), as a simmer user would plot it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..resultsdir import ResultsDir
from .common import PlotError, town_label
from .style import figure, finish, legend, line_style

DAYS = 5  # default span: the first five measured working days
DAY = 1440.0


def steps(visits: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One replication's hall: event times (minutes) and the number waiting from each time on."""
    queued = visits[visits["outcome"] != "balked"]
    leave = np.where(queued["outcome"] == "served", queued["called"], queued["done"])
    arrive = queued["arrive"].to_numpy(float)
    times = np.concatenate([arrive, leave.astype(float)])
    change = np.concatenate([np.ones(len(arrive)), -np.ones(len(arrive))])
    order = np.argsort(times, kind="stable")
    times, counts = times[order], np.cumsum(change[order])
    last = np.r_[times[1:] != times[:-1], True]  # one value per instant: the count after all its events
    return times[last], counts[last]


def at(times: np.ndarray, counts: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The step function (right-continuous) at times t."""
    j = np.searchsorted(times, t, side="right") - 1
    return np.where(j >= 0, counts[np.maximum(j, 0)], 0.0)


def area(times: np.ndarray, counts: np.ndarray, a: float, b: float) -> float:
    """∫ₐᵇ number waiting dt (person-minutes)."""
    grid = np.unique(np.concatenate([[a, b], times[(times > a) & (times < b)]]))
    return float(np.sum(at(times, counts, grid[:-1]) * np.diff(grid)))


def calendar(results: ResultsDir):
    from ..model.calendar import Calendar
    from ..scenario.schema import Calendar as CalendarSpec
    from ..scenario.schema import Horizon

    scenario = next(iter(results.resolved.values()), {})
    try:
        return Calendar(CalendarSpec(**(scenario.get("calendar") or {})), Horizon(**(scenario.get("horizon") or {})))
    except (TypeError, ValueError):
        raise PlotError(f"--kind queue: {results.path}/scenario.resolved.yaml has no readable calendar and "
                        "horizon") from None


def queue(results: ResultsDir, township: str | None = None, days: int | str | None = None) -> Figure:
    """The number waiting over the first `days` measured working days (a step per replication's mean);
    `days="all"`: per measured working day, its time average over the open hours and its maximum."""
    towns = list(next(iter(results.resolved.values()), {}).get("townships") or {})
    town = township or (towns[0] if towns else None)
    if town not in towns:
        raise PlotError(f"--kind queue: {results.path} has no resolved township {town} to match visits.parquet")
    visits = results.visits(["replication", "township", "arrive", "called", "done", "outcome"])
    visits = visits[visits["township"] == town]
    runs = [steps(v) for _, v in visits.groupby("replication", sort=True)]
    cal = calendar(results)
    if days == "all":
        return _daily(results, town, runs, cal)
    return _span(results, town, runs, cal, int(days or DAYS))


def _span(results: ResultsDir, town: str, runs, cal, days: int) -> Figure:
    first = cal.warmup_days
    last = min(first + days, cal.n_days) - 1
    a, b = cal.day_start[first], cal.day_start[last] + DAY
    grid = np.unique(np.concatenate([[a, b]] + [t[(t > a) & (t < b)] for t, _ in runs]))
    mean = np.mean([at(t, c, grid) for t, c in runs], axis=0) if runs else np.zeros(len(grid))
    fig = figure(12, 4.6)
    ax = fig.subplots()
    x = grid / DAY
    ax.step(x, mean, where="post", label=f"mean of {len(runs)} replications", lw=1.2, **line_style(0, markers=False))
    if len(runs) > 1:
        ax.step(x, at(*runs[0], grid), where="post", label="replication 0", lw=0.7, alpha=0.7,
                **line_style(1, markers=False))
    ticks = [cal.day_start[k] / DAY for k in range(first, last + 1)]
    ax.set_xticks(ticks)
    ax.set_xticklabels([_date(cal, k) for k in range(first, last + 1)], fontsize=8)
    ax.set_xlim(a / DAY, b / DAY)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("simulated time (working days; each tick at 00:00)")
    ax.set_ylabel("people waiting in the hall")
    ax.grid(alpha=0.3)
    legend(ax)
    average = np.mean([area(t, c, a, b) for t, c in runs]) / (b - a) if runs else float("nan")
    return finish(fig, f"Queue in the hall of {town_label(results, town)}: the first {last - first + 1} measured "
                       "working days",
                  f"Number of visits waiting (ticket taken, not yet called; those who reneged or were sent home "
                  f"until they left) from visits.parquet; mean over the {len(runs)} replications at each instant, "
                  f"and replication 0. Time average over the span shown: {average:.2f} people (days off and nights "
                  "included). Use --days N for another span, --days all for every measured day.")


def _daily(results: ResultsDir, town: str, runs, cal) -> Figure:
    """Per measured working day: time average over its sessions and maximum, mean over replications."""
    days = range(cal.warmup_days, cal.n_days)
    mean_open, peak = [], []
    for k in days:
        start = cal.day_start[k]
        spans = [(start + s, start + e) for s, e in cal.sessions]
        open_minutes = sum(e - s for s, e in spans) or DAY
        mean_open.append(np.mean([sum(area(t, c, s, e) for s, e in spans) / open_minutes for t, c in runs]))
        peak.append(np.mean([_peak(t, c, start, start + DAY) for t, c in runs]))
    fig = figure(12, 4.6)
    ax = fig.subplots()
    x = np.arange(len(days))
    ax.plot(x, mean_open, label="time average over the open hours", lw=1.2, **line_style(0, markers=len(days) <= 60))
    ax.plot(x, peak, label="maximum of the day", lw=1.0, **line_style(1, markers=len(days) <= 60))
    step = max(1, len(days) // 12)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([_date(cal, k) for k in days][::step], fontsize=8)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("measured working day")
    ax.set_ylabel("people waiting in the hall")
    ax.grid(alpha=0.3)
    legend(ax)
    return finish(fig, f"Queue in the hall of {town_label(results, town)}, day by day",
                  f"Per measured working day: the number of visits waiting averaged over the sessions' open hours, "
                  f"and its maximum that day; each the mean over {len(runs)} replications (visits.parquet).")


def _peak(times: np.ndarray, counts: np.ndarray, a: float, b: float) -> float:
    inside = counts[(times >= a) & (times < b)]
    return float(max(at(times, counts, np.array([a]))[0], inside.max() if len(inside) else 0.0))


def _date(cal, k: int) -> str:
    day = cal.dates[k]
    return f"{day:%a %m-%d}" if isinstance(day, dt.date) else str(k)
