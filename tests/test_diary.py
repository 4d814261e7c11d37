"""The diary: waits for later days kept out of SimPy's heap behave exactly like timeouts."""

from __future__ import annotations

import random

import simpy

from simcenter.model.calendar import DAY
from simcenter.model.diary import Arrival, Diary


def _fired(use_diary: bool, waits: list[tuple[float, float]], end: float) -> list[tuple[float, int]]:
    """Processes that each wait from `start` until clock time `t`; (time, id) in firing order."""
    env = simpy.Environment()
    until = Diary(env, end).until if use_diary else (lambda t: env.timeout(max(t - env.now, 0.0)))
    fired = []

    def waiter(i, start, t):
        yield env.timeout(start)
        yield until(t)
        fired.append((env.now, i))

    for i, (start, t) in enumerate(waits):
        env.process(waiter(i, start, t))
    env.run(until=end)
    return fired


def test_waits_fire_at_their_exact_times_in_the_order_timeouts_would():
    rng = random.Random(7)
    waits = []
    for _ in range(2000):
        start = rng.uniform(0, 20 * DAY)
        # many ties: shuttle-like times at day boundaries and closing, and free times
        t = rng.choice([start + rng.uniform(0, 9 * DAY), (rng.randrange(30) * DAY + 1020.0),
                        rng.randrange(30) * DAY, start])
        waits.append((start, max(t, start)))
    end = 25 * DAY
    with_diary, with_timeouts = _fired(True, waits, end), _fired(False, waits, end)
    assert [i for _, i in with_diary] == [i for _, i in with_timeouts]
    # the diary's times are exactly the targets; a timeout's now + (t - now) may be off by an ulp
    assert all(now == max(waits[i][1], waits[i][0]) for now, i in with_diary)
    assert len(with_diary) == sum(t < end for _, t in waits) > 1000


def test_waits_beyond_the_end_are_never_scheduled():
    env = simpy.Environment()
    diary = Diary(env, 3 * DAY)
    diary.until(5 * DAY)
    diary.until(float("inf"))
    assert not diary.hours


def test_an_arrival_is_one_event_that_starts_the_journey():
    env = simpy.Environment()
    seen = []

    def journey():
        seen.append(("start", env.now))
        yield env.timeout(1)
        seen.append(("end", env.now))

    Arrival(env, journey(), 5.0, lambda _event: seen.append(("arrived", env.now)))
    env.run()
    assert seen == [("arrived", 5.0), ("start", 5.0), ("end", 6.0)]
