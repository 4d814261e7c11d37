"""Profile simcenter on a scenario with cProfile and print the top functions.

    python benchmarks/profile_model.py [--days 60] [--top 15] [--sort tottime] [--scenario FILE] [--out FILE.prof]

Runs replication 0 of the scenario (default: the Cangnan baseline) with --set
horizon.days=DAYS horizon.warmup_days=0 horizon.drain_days=0, under cProfile, and prints
the TOP functions sorted by own time (tottime) and by cumulative time. Save the raw profile
with --out and browse it with `python -m pstats FILE.prof` or snakeviz. Also prints the
time the cyclic garbage collector took during an unprofiled run of the same scenario
(gc.callbacks), since cProfile does not attribute it to any function.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
from pathlib import Path

from simcenter.model import simulate
from simcenter.resolve import load_scenario

BASELINE_YAML = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


class GcTimer:
    """Time spent in the cyclic garbage collector, per generation."""

    def __init__(self):
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._t = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self._t
            self.count[info["generation"]] += 1

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)
        return False


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", type=Path, default=BASELINE_YAML)
    p.add_argument("--days", type=int, default=60)
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--sort", default="tottime")
    p.add_argument("--out", type=Path, help="write the raw cProfile stats here")
    a = p.parse_args(argv)

    sets = [f"horizon.days={a.days}", "horizon.warmup_days=0", "horizon.drain_days=0"]
    scenario = load_scenario(a.scenario, sets)
    simulate(load_scenario(a.scenario, ["horizon.days=2", "horizon.warmup_days=0", "horizon.drain_days=0"]), 0)  # warm-up

    gc.collect()
    with GcTimer() as g:
        t0 = time.perf_counter()
        records = simulate(scenario, 0)
        plain = time.perf_counter() - t0
    n_cases, n_visits = len(records.cases["item"]), len(records.visits["arrive"])
    del records
    print(f"{a.scenario.name} --set {' '.join(sets)}: {n_cases:,} cases, {n_visits:,} visits")
    print(f"unprofiled run: {plain:.2f} s, of which cyclic GC {sum(g.seconds):.2f} s "
          f"(gen0/1/2: {g.count[0]}/{g.count[1]}/{g.count[2]} collections, "
          f"{g.seconds[0]:.2f}/{g.seconds[1]:.2f}/{g.seconds[2]:.2f} s)")

    gc.collect()
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    simulate(scenario, 0)
    profiler.disable()
    print(f"profiled run: {time.perf_counter() - t0:.2f} s (cProfile overhead included)\n")
    if a.out:
        profiler.dump_stats(a.out)
    for key in dict.fromkeys([a.sort, "cumulative"]):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key)
        stats.print_stats(a.top)
        text = out.getvalue()
        print(f"--- top {a.top} by {key} ---")
        print(text[text.index("   ncalls"):].rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
