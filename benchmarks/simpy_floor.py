"""SimPy's own floor: how long bare SimPy takes for a given number of cases and events.

    python benchmarks/simpy_floor.py CASES EVENTS [--seed S]

One source process lets CASES processes in (exponential gaps), and each waits on plain
timeouts until EVENTS events have been scheduled in all (the source's, the processes' start
and end events and their timeouts). Nothing else: no queue, no records, no random numbers
drawn during the run (all are drawn before, in numpy blocks). Prints one line
`cases=N events=E seconds=S` (the time of env.run() alone). A simulation that processes as
many events as this, with any work at all per event, cannot be faster than S on this machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import simpy


def floor(cases: int, events: int, seed: int = 1) -> tuple[int, float]:
    """(events scheduled, seconds of env.run()) for `cases` processes and about `events` events."""
    rng = np.random.default_rng(seed)
    # each case: its arrival timeout, its start, its end, and `waits` timeouts between
    waits_per_case = max(events - 3 * cases, 0) / cases
    whole = int(waits_per_case)
    counts = (whole + (rng.random(cases) < waits_per_case - whole)).tolist()
    gaps = rng.exponential(1.0, cases).tolist()
    delays = rng.exponential(300.0, sum(counts)).tolist()
    env = simpy.Environment()

    def case(start: int, n: int):
        for i in range(start, start + n):
            yield env.timeout(delays[i])

    def source():
        start = 0
        for gap, n in zip(gaps, counts):
            yield env.timeout(gap)
            env.process(case(start, n))
            start += n

    env.process(source())
    t = time.perf_counter()
    env.run()
    return next(env._eid), time.perf_counter() - t  # SimPy numbers every event it schedules


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("cases", type=int)
    p.add_argument("events", type=int)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    if a.cases < 1 or a.events < a.cases:
        p.error(f"CASES >= 1 and EVENTS >= CASES (got {a.cases} and {a.events})")
    events, seconds = floor(a.cases, a.events, a.seed)
    print(f"cases={a.cases} events={events} seconds={seconds:.3f}")


if __name__ == "__main__":
    main()
