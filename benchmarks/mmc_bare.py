"""Bare SimPy M/M/c: the reference that simcenter's analytic mode is timed against.

A fair, plain SimPy program: one `simpy.Resource` with `c` servers, one process per
customer (`with resource.request() as req: yield req; yield env.timeout(service)`), all
interarrival and service times pre-drawn in two blocks from a `numpy.random.Generator`
(PCG64) and turned into Python floats once, and no records beyond a list of waits.

Run on its own:  python benchmarks/mmc_bare.py [N] [c] [rho] [--no-check]

With --no-check the process imports only numpy and simpy (no scipy for the batch-means
half-width) and prints one line `customers=N mean_wait=W seconds=S`: the form
bench_targets.py times as a whole process.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
import simpy


def bare_mmc(n: int, lam: float, mu: float, c: int, seed: int = 1) -> list[float]:
    """Simulate n customers of an M/M/c queue to completion; return their waits (minutes)."""
    rng = np.random.default_rng(seed)
    interarrivals = rng.exponential(1 / lam, n).tolist()
    services = rng.exponential(1 / mu, n).tolist()
    env = simpy.Environment()
    resource = simpy.Resource(env, capacity=c)
    waits: list[float] = []

    def customer(service: float):
        arrive = env.now
        with resource.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(service)

    def source():
        for gap, service in zip(interarrivals, services):
            yield env.timeout(gap)
            env.process(customer(service))

    env.process(source())
    env.run()  # to completion: every customer is served
    return waits


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue Wq of an M/M/c queue (Erlang C)."""
    a = lam / mu
    rho = a / c
    if rho >= 1:
        return math.inf
    term = a**c / math.factorial(c) / (1 - rho)
    p_wait = term / (sum(a**k / math.factorial(k) for k in range(c)) + term)
    return p_wait / (c * mu - lam)


def batch_means_halfwidth(values, batches: int = 20) -> float:
    """95% half-width of the mean of an autocorrelated series, by batch means."""
    x = np.asarray(values, float)
    m = len(x) // batches
    if m < 2:
        return math.nan
    means = x[: m * batches].reshape(batches, m).mean(axis=1)
    from scipy import stats

    return float(stats.t.ppf(0.975, batches - 1) * means.std(ddof=1) / math.sqrt(batches))


def main(argv: list[str]) -> None:
    check = "--no-check" not in argv
    args = [a for a in argv if a != "--no-check"]
    n = int(args[0]) if len(args) > 0 else 150_000
    c = int(args[1]) if len(args) > 1 else 3
    rho = float(args[2]) if len(args) > 2 else 0.8
    mu = 0.1
    lam = rho * c * mu
    t0 = time.perf_counter()
    waits = bare_mmc(n, lam, mu, c)
    dt = time.perf_counter() - t0
    if not check:
        print(f"customers={len(waits)} mean_wait={sum(waits) / len(waits)!r} seconds={dt!r}")
        return
    print(f"bare SimPy M/M/{c}, rho={rho}: {len(waits)} customers in {dt:.2f} s = {len(waits) / dt:,.0f} customers/s; "
          f"mean wait {np.mean(waits):.2f} ± {batch_means_halfwidth(waits):.2f} min (Erlang C {erlang_c_wait(lam, mu, c):.2f})")


if __name__ == "__main__":
    main(sys.argv[1:])
