"""Working days, sessions and holidays: the clock ↔ calendar arithmetic of the model.

Simulation time is minutes since 00:00 of the horizon's start date. Three timelines:
- clock time t (minutes);
- working-day time W(t): k + fraction of calendar day k for the k-th working day, frozen over
  weekends and holidays. Lead times in working days are added on this timeline;
- open time O(t): minutes the centre has been open. Reviewer work and citizens' patience run
  on it, so a lunch closure neither finishes a review nor exhausts anyone's patience.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right

import numpy as np

DAY = 1440.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPARE_WORKING_DAYS = 400  # working days listed past the horizon, for delays that end beyond it


class Calendar:
    def __init__(self, calendar, horizon):
        self.start = dt.date.fromisoformat(horizon.start)
        self.n_days = horizon.days
        self.warmup_days = horizon.warmup_days
        self.overtime = float(calendar.overtime_minutes)
        workdays = set(WEEKDAYS) if calendar.working_days == "all" else set(calendar.working_days)
        holidays = {dt.date.fromisoformat(h) for h in calendar.holidays}
        self.dates: list[dt.date] = []
        day = self.start
        while len(self.dates) < self.n_days + horizon.drain_days + SPARE_WORKING_DAYS:
            if WEEKDAYS[day.weekday()] in workdays and day not in holidays:
                self.dates.append(day)
            day += dt.timedelta(days=1)
        self.day_start = [(d - self.start).days * DAY for d in self.dates]
        self.sessions = [(float(a), float(b)) for a, b in calendar.session_minutes()]
        self.open_per_day = sum(b - a for a, b in self.sessions)
        self._build_open_intervals()
        # new cases arrive until midnight after the last working day of the horizon; the
        # drain days after it let cases already under way reach their result
        self.arrivals_end = self.day_start[self.n_days - 1] + DAY
        self.end = self.day_start[self.n_days + horizon.drain_days - 1] + DAY
        self.warmup_end = self.day_start[self.warmup_days] if self.warmup_days else 0.0

    def _build_open_intervals(self) -> None:
        """Open intervals over all listed days; touching intervals merge (24-hour operation)."""
        spans: list[list[float]] = []
        for start in self.day_start:
            for a, b in self.sessions:
                if spans and spans[-1][1] == start + a:
                    spans[-1][1] = start + b
                else:
                    spans.append([start + a, start + b])
        self.opens = [a for a, _ in spans]
        self.closes = [b for _, b in spans]
        self.cum_open = [0.0]
        for a, b in spans:
            self.cum_open.append(self.cum_open[-1] + b - a)

    # -- working days --------------------------------------------------------------------
    def month_at(self, t: float) -> int:
        return (self.start + dt.timedelta(days=int(t // DAY))).month

    def weekday(self, k: int) -> str:
        return WEEKDAYS[self.dates[k].weekday()]

    def day_at(self, t: float) -> int:
        """Index of the working day on or before time t."""
        return max(bisect_right(self.day_start, t) - 1, 0)

    def working_days_at(self, t: float) -> float:
        """W(t): working-day time, frozen on days off."""
        k = self.day_at(t)
        return k + min(max((t - self.day_start[k]) / DAY, 0.0), 1.0)

    def working_days_of(self, times: np.ndarray) -> np.ndarray:
        """W(t) of many times at once (the same arithmetic as working_days_at)."""
        starts = np.asarray(self.day_start)
        k = np.maximum(np.searchsorted(starts, times, side="right") - 1, 0)
        return k + np.minimum(np.maximum((times - starts[k]) / DAY, 0.0), 1.0)

    def add_working_days(self, t: float, days: float) -> float:
        """The clock time at which `days` working days have passed since t."""
        if days <= 0 or t >= self.end:  # beyond the run: never reached, whatever it is
            return t
        w = self.working_days_at(t) + days
        k = min(int(w), len(self.day_start) - 1)
        return self.day_start[k] + (w - k) * DAY

    def is_last_session(self, close: float) -> bool:
        return (close - self.day_start[self.day_at(close)]) >= self.sessions[-1][1] or close % DAY == 0

    # -- open time -----------------------------------------------------------------------
    def open_minutes_at(self, t: float) -> float:
        """O(t): minutes the centre has been open since the start."""
        i = bisect_right(self.opens, t) - 1
        if i < 0:
            return 0.0
        return self.cum_open[i] + min(t - self.opens[i], self.closes[i] - self.opens[i])

    def after_open_minutes(self, t: float, minutes: float) -> float:
        """The clock time at which the centre will have been open `minutes` more than at t."""
        target = self.open_minutes_at(t) + minutes
        i = min(bisect_right(self.cum_open, target) - 1, len(self.opens) - 1)
        return self.opens[i] + (target - self.cum_open[i])

    def next_open(self, t: float) -> float:
        """t itself if the centre is open at t, else the next opening."""
        i = bisect_right(self.opens, t) - 1
        if i >= 0 and t < self.closes[i]:
            return t
        return self.opens[i + 1] if i + 1 < len(self.opens) else math.inf

    def closing_of_day(self, k: int) -> float:
        return self.day_start[k] + self.sessions[-1][1]

    def open_minutes_between(self, a: float, b: float) -> float:
        return self.open_minutes_at(b) - self.open_minutes_at(a)
