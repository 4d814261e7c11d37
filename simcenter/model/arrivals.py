"""Non-homogeneous Poisson arrivals, exact over piecewise-constant rates.

A day is cut into pieces of constant rate (the hourly profile intersected with the opening
sessions). For each piece the number of arrivals is Poisson with the piece's mean and their
times are uniform over it: exactly a Poisson process with that rate, no thinning needed.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right

import numpy as np

from ..scenario.schema import _minutes


def day_pieces(demand, sessions: list[tuple[float, float]]) -> list[tuple[float, float, float]]:
    """(start, end, share of the day's arrivals) in minutes after midnight; shares sum to 1."""
    if demand.hourly_profile is None:
        weights = [(a, b, b - a) for a, b in sessions]
    else:
        keys = [(_minutes(k), w) for k, w in demand.hourly_profile.items()]
        ends = [k for k, _ in keys[1:]] + [max(b for _, b in sessions)]
        weights = []
        for (start, w), end in zip(keys, ends):
            parts = [(max(a, start), min(b, end)) for a, b in sessions if min(b, end) > max(a, start)]
            span = sum(b - a for a, b in parts)
            weights += [(a, b, w * (b - a) / span) for a, b in parts]
    total = sum(w for _, _, w in weights)
    if total <= 0:
        raise ValueError("the hourly profile puts no weight on any open time")
    return [(a, b, w / total) for a, b, w in weights if w > 0]


class DayPlan:
    """Arrival times of one township, day by day, and times of day for return visits."""

    def __init__(self, pieces, rng: np.random.Generator):
        self.starts = np.array([a for a, _, _ in pieces])
        self.lengths = np.array([b - a for a, b, _ in pieces])
        self.shares = np.array([w for _, _, w in pieces])
        self.cum_shares = np.cumsum(self.shares).tolist()
        self.cum_shares[-1] = 1.0
        self.piece_list = [(a, b - a) for a, b, _ in pieces]
        self.rng = rng
        self.market_shares = self.shares

    def market_day(self, factor: float, morning_share: float | None, morning_end: float) -> None:
        """On market days the extra arrivals (factor − 1 of a normal day) come `morning_share` in the
        morning session and the rest after it (None: spread like any day's)."""
        self.market_shares = self.shares
        if morning_share is None or factor <= 1:
            return
        morning = self.starts < morning_end
        extra = np.zeros_like(self.shares)
        for part, share in ((morning, morning_share), (~morning, 1 - morning_share)):
            total = self.shares[part].sum()
            if total > 0:
                extra[part] = share * self.shares[part] / total
        self.market_shares = (self.shares + (factor - 1) * extra / extra.sum()) / factor

    def arrivals(self, day_start: float, expected: float, market: bool = False) -> list[float]:
        """Sorted arrival times on a day with `expected` arrivals in all."""
        counts = self.rng.poisson((self.market_shares if market else self.shares) * expected)
        n = int(counts.sum())
        if n == 0:
            return []
        offsets = np.repeat(self.starts, counts) + self.rng.random(n) * np.repeat(self.lengths, counts)
        offsets.sort()
        return (offsets + day_start).tolist()

    def time_of_day(self, day_start: float, u: float) -> float:
        """A time on the day drawn from the same profile (by inverse transform of u)."""
        i = min(bisect_right(self.cum_shares, u), len(self.piece_list) - 1)
        low = self.cum_shares[i - 1] if i else 0.0
        frac = (u - low) / (self.cum_shares[i] - low)
        start, length = self.piece_list[i]
        return day_start + start + min(max(frac, 0.0), 1.0) * length


def market_days(calendar, township) -> list[bool]:
    """Whether each working day of the horizon is one of the township's market days."""
    market = township.market_days
    return [market is not None and date.toordinal() % market.every == market.phase
            for date in calendar.dates[: calendar.n_days]]


def day_factors(scenario, calendar, township, mix_factor=None) -> list[float]:
    """Expected arrivals multiplier for each working day of the horizon: weekday × month ×
    market day × dated periods × the month's item mix (seasonal items). With
    `demand.normalise` the factors are scaled so that their mean over the first year of working
    days is 1: a market day is busier *relative to* other days, and the annual volume stays
    `cases_per_day` × working days."""
    demand = scenario.demand
    market = township.market_days
    periods = [(dt.date.fromisoformat(p.start), dt.date.fromisoformat(p.end), p.factor) for p in demand.periods]

    def factor(k: int, date: dt.date) -> float:
        f = demand.weekday_factor.get(calendar.weekday(k), 1.0) * demand.month_factor.get(date.month, 1.0)
        if market is not None and date.toordinal() % market.every == market.phase:
            f *= demand.market_day_factor
        for start, end, g in periods:
            if start <= date <= end:
                f *= g
        return f * (mix_factor[date.month] if mix_factor else 1.0)

    factors = [factor(k, date) for k, date in enumerate(calendar.dates[: calendar.n_days])]
    if demand.normalise:
        year_end = calendar.start + dt.timedelta(days=365)
        year = [factor(k, date) for k, date in enumerate(calendar.dates) if date < year_end]
        mean = sum(year) / len(year) if year else 1.0
        if mean > 0:
            factors = [f / mean for f in factors]
    return factors
