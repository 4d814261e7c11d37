"""Back offices: township reviewers, county departments, the shuttle and sign-offs.

A review has two clocks: the item's lead time (inspections, waiting on other bodies) and the
reviewer's own work (1/reviews_per_day of a reviewer-day, working hours only, FIFO). The
decision comes when both are done, so a lead-time model with ample reviewers and a
capacity-bound office are the same mechanism with different numbers.
"""

from __future__ import annotations

import heapq
import math


class ReviewOffice:
    """Reviewers of a township, or of a county department (None = no capacity limit).

    Files are reviewed first come, first served by the first free reviewer. Reviewers work in
    open time only, and a file's work is known when it arrives, so the office is a FIFO
    multi-server queue that needs no event of its own: each reviewer's next free moment (in
    open minutes) is kept in a heap and a new file takes the earliest one (Lindley's recursion
    for c servers). The file's decision is at the later of the reviewer finishing and the lead
    time, known when the file arrives.

    Over the measurement window it also keeps the reviewers' busy time and the time-integral of
    files waiting for a reviewer: the load checks and queue KPIs.
    """

    def __init__(self, calendar, reviewers: float | None, default_minutes: float):
        self.calendar = calendar
        self.reviewers, self.default_minutes = reviewers, default_minutes
        self.seats = 0 if reviewers is None else max(1, math.ceil(reviewers))
        self.free_at = [0.0] * self.seats  # a heap: when each reviewer is next free, in open minutes
        # a fractional post (a shared half post) works proportionally slower
        self.slowdown = self.seats / reviewers if reviewers else 1.0
        self.busy = 0.0  # busy seat-minutes of open time within the measurement window
        self.waiting_area = 0.0  # ∫ files waiting for a reviewer dt (clock minutes), within the window
        self.reviews = 0
        self._window = (calendar.warmup_end, calendar.arrivals_end)
        self._open_window = (calendar.open_minutes_at(calendar.warmup_end),
                             calendar.open_minutes_at(calendar.arrivals_end))

    def decision(self, arrive: float, lead_days: float, work_minutes: float | None = None) -> float:
        """When a file arriving at clock time `arrive` (not before now; files must be given in the
        order they arrive) is decided: both its lead time and the reviewer's work are done."""
        cal = self.calendar
        if arrive >= cal.end:  # it reaches the office after the run: it takes no reviewer's time
            return math.inf
        done = ready = cal.add_working_days(arrive, lead_days)
        if self.seats:
            work = (self.default_minutes if work_minutes is None else work_minutes) * self.slowdown
            arrived = cal.open_minutes_at(arrive)
            start = max(arrived, heapq.heappop(self.free_at))
            heapq.heappush(self.free_at, start + work)
            self._account(arrive, arrived, start, work)
            done = max(ready, cal.after_open_minutes(arrive, start + work - arrived))
        return done

    def _account(self, now: float, arrived: float, start: float, work: float) -> None:
        a, b = self._open_window
        self.busy += max(0.0, min(start + work, b) - max(start, a))
        self.reviews += 1
        if start > arrived:  # waits from now (clock) until the centre has been open start − arrived more
            began = self.calendar.after_open_minutes(now, start - arrived)
            lo, hi = self._window
            self.waiting_area += max(0.0, min(began, hi) - max(now, lo))

    def stats(self) -> tuple:
        """(reviewers, busy seat-minutes, seats, ∫ waiting files dt) over the measurement window."""
        return (self.reviewers, self.busy, self.seats, self.waiting_area)


class Shuttle:
    """Paper files travel on shuttle days (leaving at closing), or electronically at once."""

    def __init__(self, calendar, county):
        self.calendar = calendar
        self.electronic = county.shuttle_days == "electronic"
        self.transit_days = 0.0 if self.electronic else float(county.transit_days)
        days = county.shuttle_days
        days = None if days in ("daily", "electronic") else set(days)
        # for each working day, the first shuttle day on or after it (None: none before the end)
        self.next_day: list[int | None] = [None] * (len(calendar.day_start) + 1)
        for k in reversed(range(len(calendar.day_start))):
            self.next_day[k] = k if days is None or calendar.weekday(k) in days else self.next_day[k + 1]

    def departure(self, t: float) -> float:
        """When a file ready at t leaves."""
        if self.electronic:
            return t
        cal = self.calendar
        k = cal.day_at(t)
        k = self.next_day[k + 1 if t > cal.closing_of_day(k) else k]
        return math.inf if k is None else max(t, cal.closing_of_day(k))  # inf: not within the run

    def arrival(self, t: float) -> float:
        """When a file ready to leave at t arrives at the other end."""
        return self.calendar.add_working_days(self.departure(t), self.transit_days)


class Meetings:
    """Joint-review meetings every `every` working days (at closing); None: no waiting for one."""

    def __init__(self, calendar, every: int | None):
        self.calendar, self.every = calendar, every

    def next_meeting(self, t: float) -> float:
        """When sign-offs complete at t are settled."""
        if self.every is None:
            return t
        cal = self.calendar
        if t >= cal.end:
            return t
        k = cal.day_at(t)
        while k % self.every or cal.closing_of_day(k) < t:
            k += 1
        return cal.closing_of_day(k)


def signoff_days(durations: list[float], mode: str) -> float:
    """Working days the sign-offs add: one after another, or all at once (the slowest)."""
    if not durations:
        return 0.0
    return sum(durations) if mode == "sequential" else max(durations)
