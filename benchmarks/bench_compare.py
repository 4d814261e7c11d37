"""Time `simcenter compare` of the baseline against the whole library, and what dominates it.

    python benchmarks/bench_compare.py            # the full compare on 2 jobs, then 1 replication per scenario
    python benchmarks/bench_compare.py --quick    # only the per-scenario replication times

The full run is exactly the README's main command (15 scenarios x the baseline's 10
replications, default horizon), timed end to end through the Python API.
"""

from __future__ import annotations

import argparse
import time

from simcenter.comparison import compare, library
from simcenter.model import simulate
from simcenter.resolve import load_scenario


def per_scenario() -> list[tuple[str, float, int]]:
    """Seconds for replication 0 of each scenario, in this process."""
    out = []
    for name in ["baseline", *library()]:
        scenario = load_scenario(name)
        start = time.perf_counter()
        records = simulate(scenario, 0)
        out.append((name, time.perf_counter() - start, len(records.cases["created"])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the full compare")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if not args.quick:
        start = time.perf_counter()
        result = compare("baseline", library(), jobs=args.jobs)
        total = time.perf_counter() - start
        tasks = len(result.kpis)
        print(f"full compare: {total:.1f} s on {args.jobs} jobs for {tasks} scenario-replications "
              f"({total * args.jobs / tasks:.2f} s of a core per replication); target < 300 s")
    rows = per_scenario()
    print(f"\n{'scenario':<24} {'s/replication':>14} {'cases':>8}")
    for name, seconds, cases in rows:
        print(f"{name:<24} {seconds:>14.2f} {cases:>8}")
    total = sum(s for _, s, _ in rows)
    print(f"{'sum (one replication each)':<24} {total:>14.2f}   x 10 replications / 2 cores = {total * 5:.0f} s")


if __name__ == "__main__":
    main()
