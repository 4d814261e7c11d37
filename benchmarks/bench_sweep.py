"""Batch-experiment overheads: per-task cost of each executor, --jobs 2 speed-up, parent memory.

    python benchmarks/bench_sweep.py

1. Per-task overhead: 200 tasks that simulate nothing (a township with no arrivals), submitted
   to the in-process engine, a local process pool of 2 (pool start included) and a Dask
   LocalCluster of 2 workers (cluster start reported separately).
2. Speed-up of --jobs 2 over --jobs 1 on a sweep of 24 points (target >= 1.7x on 2 cores).
3. Peak memory of the parent process (the one that writes shards and assembles the tables) for
   24 and 96 points: flat in the number of points, since results are streamed to disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from simcenter.resolve import resolve as validate
from simcenter.batch import run_chunk
from simcenter.execution import open_executor

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "small.yaml"


def idle_scenario():
    return validate({"name": "idle", "horizon": {"days": 1}, "departments": {"D": {}},
                     "items": {"X": {"department": "D", "weight": 1, "route": "immediate", "window_minutes": 1}},
                     "window_groups": {"G": ["D"]}, "townships": {"t": {"cases_per_day": 0, "windows": {"G": 1}}}},
                    {}, "<bench>")


def per_task(engine, n: int = 200) -> float:
    scenario = idle_scenario()
    start = time.perf_counter()
    for _ in engine.map_ordered(run_chunk, [(scenario, r, r + 1) for r in range(n)]):
        pass
    return (time.perf_counter() - start) / n


def overheads() -> None:
    with open_executor(1) as engine:
        print(f"in-process:         {per_task(engine) * 1e3:7.2f} ms per task")
    start = time.perf_counter()
    with open_executor(2) as engine:
        cost = per_task(engine)
    print(f"process pool (2):   {cost * 1e3:7.2f} ms per task ({time.perf_counter() - start:.2f} s with pool start)")
    try:
        from distributed import LocalCluster
    except ImportError:
        print("dask: not installed (pip install 'simcenter[dask]')")
        return
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster, \
            open_executor(scheduler=cluster.scheduler_address) as engine:
        started = time.perf_counter() - start
        print(f"dask LocalCluster:  {per_task(engine) * 1e3:7.2f} ms per task "
              f"(cluster start and version check {started:.2f} s)")


def experiment(folder: Path, points: int) -> Path:
    levels = ", ".join(str(0.05 + 0.9 * i / (points // 2 - 1)) for i in range(points // 2))
    path = folder / f"bench_{points}.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: bench-{points}
        base: {SMALL}
        factors:
          behaviour.mail_share: [{levels}]
          reforms.appointments: [off, on]
        replications: 4
        chunk: 2
        sets: ["horizon.days=60", "horizon.drain_days=20"]
        """))
    return path


def timed_sweep(path: Path, out: Path, jobs: int) -> tuple[float, float]:
    """Wall seconds and the parent's peak RSS (MB) of `simcenter sweep` in a fresh process."""
    code = ("import resource, sys, time\nfrom simcenter.cli import main\nstart = time.perf_counter()\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('BENCH', time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    done = subprocess.run([sys.executable, "-c", code, "sweep", str(path), "--out", str(out), "--jobs", str(jobs)],
                          capture_output=True, text=True, check=True)
    line = next(row for row in done.stdout.splitlines() if row.startswith("BENCH"))
    _, seconds, rss = line.split()
    return float(seconds), float(rss)


def main() -> None:
    overheads()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        path = experiment(folder, 24)
        one, _ = timed_sweep(path, folder / "one", 1)
        two, rss24 = timed_sweep(path, folder / "two", 2)
        print(f"\n24 points x 4 replications: --jobs 1 {one:.1f} s, --jobs 2 {two:.1f} s, "
              f"speed-up {one / two:.2f}x (target >= 1.7x)")
        _, rss96 = timed_sweep(experiment(folder, 96), folder / "big", 2)
        print(f"parent peak RSS: {rss24:.0f} MB at 24 points, {rss96:.0f} MB at 96 points")
        print(json.dumps({"speedup": one / two, "rss24": rss24, "rss96": rss96}))


if __name__ == "__main__":
    main()
