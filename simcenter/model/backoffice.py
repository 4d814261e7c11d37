"""Back offices: township reviewers, county departments, the shuttle and sign-offs.

A review has two clocks: the item's lead time (inspections, waiting on other bodies) and the
reviewer's own work (1/reviews_per_day of a reviewer-day, working hours only, FIFO). The
decision comes when both are done, so a lead-time model with ample reviewers and a
capacity-bound office are the same mechanism with different numbers.
"""

from __future__ import annotations

import math

import simpy


class ReviewOffice:
    """Reviewers of a township, or of a county department (None = no capacity limit)."""

    def __init__(self, env, calendar, reviewers: float | None, reviews_per_day: float):
        self.env, self.calendar = env, calendar
        self.staff = None
        if reviewers is not None:
            seats = max(1, math.ceil(reviewers))
            self.staff = simpy.Resource(env, capacity=seats)
            # fractional reviewers (a shared half post) work proportionally slower
            self.work_minutes = calendar.open_per_day / reviews_per_day * seats / reviewers

    def review(self, lead_days: float):
        """Process: decide a file; returns when the decision is made."""
        env, cal = self.env, self.calendar
        ready = cal.add_working_days(env.now, lead_days)
        if self.staff is not None:
            with self.staff.request() as seat:
                yield seat
                done = cal.after_open_minutes(cal.next_open(env.now), self.work_minutes)
                yield env.timeout(done - env.now)
        if ready > env.now:
            yield env.timeout(ready - env.now)


class Shuttle:
    """Paper files travel on shuttle days (leaving at closing), or electronically at once."""

    def __init__(self, calendar, county):
        self.calendar = calendar
        self.electronic = county.shuttle_days == "electronic"
        self.transit_days = 0.0 if self.electronic else float(county.transit_days)
        days = county.shuttle_days
        self.days = None if days in ("daily", "electronic") else set(days)

    def departure(self, t: float) -> float:
        """When a file ready at t leaves."""
        if self.electronic:
            return t
        cal = self.calendar
        k = cal.day_at(t)
        if t > cal.closing_of_day(k):
            k += 1
        while self.days is not None and cal.weekday(k) not in self.days:
            k += 1
        return max(t, cal.closing_of_day(k))

    def arrival(self, t: float) -> float:
        """When a file ready to leave at t arrives at the other end."""
        leaves = self.departure(t)
        return self.calendar.add_working_days(leaves, self.transit_days)


class Meetings:
    """Joint-review meetings every `every` working days (at closing); None: no waiting for one."""

    def __init__(self, calendar, every: int | None):
        self.calendar, self.every = calendar, every

    def next_meeting(self, t: float) -> float:
        """When sign-offs complete at t are settled."""
        if self.every is None:
            return t
        cal = self.calendar
        k = cal.day_at(t)
        while k % self.every or cal.closing_of_day(k) < t:
            k += 1
        return cal.closing_of_day(k)


def signoff_days(durations: list[float], mode: str) -> float:
    """Working days the sign-offs add: one after another, or all at once (the slowest)."""
    if not durations:
        return 0.0
    return sum(durations) if mode == "sequential" else max(durations)
