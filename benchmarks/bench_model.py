"""Speed and memory of simcenter, against a bare SimPy M/M/c, in one process.

    python benchmarks/bench_model.py [--customers N] [--repeat R] [--days D] [--json FILE]

1. M/M/c, same λ, μ, c and about the same number of customers N:
   a. the bare SimPy reference (benchmarks/mmc_bare.py), N customers run to completion;
   b. simcenter on benchmarks/mmc.yaml (analytic mode), horizon.days = round(N / cases_per_day),
      so about N Poisson arrivals; customers counted are the visits actually served.
   Printed: customers per second of each, the ratio simcenter / bare (target >= 0.6), and
   the mean wait of each next to the Erlang C value (± a 95% batch-means half-width).
2. simcenter on the Cangnan baseline, --set horizon.days=D horizon.warmup_days=0
   horizon.drain_days=0 (D = 250 working days: one county-year, all 18 townships).
   Printed: cases (and visits) per second and seconds per simulated county-year (target < 15 s).

Timing: after an untimed warm-up on tiny runs, each of the three runs is repeated R times
(interleaved, gc.collect() before each, the cyclic GC left on as in normal use);
the MEDIAN is the headline figure, the best (minimum time) is printed beside it. Wall time is the headline; process CPU time is
printed beside it (it is less disturbed by other processes on a shared machine). A timed
run is the call that simulates: `simulate(scenario, 0)` for simcenter (building the model,
running it and freezing the records; the YAML is loaded once, outside the timing, and its
load time printed separately), `bare_mmc(...)` for the reference (drawing the numbers,
building and running the SimPy model).

Memory, per run:
- peak RSS: on Linux the process's high-water mark is reset (`/proc/self/clear_refs` = 5)
  before each timed run and VmHWM read after it; printed as the peak and as its increase
  over the RSS just before the run (max over the repetitions). Where that is unavailable,
  resource.getrusage(RUSAGE_SELF).ru_maxrss (process-wide, never reset) is printed instead;
- tracemalloc peak: one extra, untimed run of each with tracemalloc on (it slows Python
  allocation down several-fold, so it never runs during a timed repetition).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import simpy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mmc_bare import bare_mmc, batch_means_halfwidth, erlang_c_wait  # noqa: E402

from simcenter.model import simulate  # noqa: E402
from simcenter.model.records import SERVED  # noqa: E402
from simcenter.resolve import load_scenario  # noqa: E402

MMC_YAML = HERE / "mmc.yaml"
BASELINE_YAML = HERE.parent / "scenarios" / "baseline.yaml"
YEAR_DAYS = 250  # working days in a county-year
TARGET_RATIO = 0.6
TARGET_YEAR_SECONDS = 15.0


# ----------------------------------------------------------------------------- memory


def _status_kb(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else None


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def maxrss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 / 1024 if sys.platform == "darwin" else r / 1024


class PeakRss:
    """Peak RSS of the enclosed code (MB), and its increase over the RSS at entry."""

    def __enter__(self):
        self.reset = _reset_hwm()
        self.before = (_status_kb("VmRSS") or 0) / 1024
        return self

    def __exit__(self, *exc):
        hwm = _status_kb("VmHWM") if self.reset else None
        self.peak = hwm / 1024 if hwm is not None else maxrss_mb()
        self.exact = hwm is not None
        self.increase = self.peak - self.before
        return False


# ----------------------------------------------------------------------------- the runs


def mmc_parameters(scenario):
    """λ (per minute), μ (per minute) and c of the one-township, one-item M/M/c scenario."""
    (town,) = scenario.townships.values()
    (item,) = scenario.items.values()
    assert scenario.calendar.working_days == "all" and len(scenario.calendar.sessions) == 1
    assert item.window_minutes.dist == "exponential" and item.route == "immediate"
    lam = town.cases_per_day / 1440.0
    mu = 1.0 / item.window_minutes.mean
    c = sum(town.windows.values())
    return lam, mu, c


def run_bare(n, lam, mu, c):
    waits = bare_mmc(n, lam, mu, c, seed=1)
    return {"customers": len(waits), "waits": waits}


def run_simcenter_mmc(scenario):
    r = simulate(scenario, 0)
    v = r.visits
    served = v["outcome"] == SERVED
    waits = v["called"][served] - v["arrive"][served]
    return {"customers": int(served.sum()), "arrivals": len(v["arrive"]), "waits": waits}


def run_baseline(scenario):
    r = simulate(scenario, 0)
    return {"cases": len(r.cases["item"]), "visits": len(r.visits["arrive"]),
            "served": int((r.visits["outcome"] == SERVED).sum())}


def timed(fn, *args):
    gc.collect()
    with PeakRss() as mem:
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(*args)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out["seconds"], out["cpu_seconds"], out["rss_peak_mb"], out["rss_increase_mb"], out["rss_exact"] = (
        seconds, cpu, mem.peak, mem.increase, mem.exact)
    return out


def traced_peak_mb(fn, *args) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


# ----------------------------------------------------------------------------- reporting


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    try:
        commit = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(HERE.parent), "diff", "--quiet", "HEAD", "--", "simcenter"],
                               capture_output=True, timeout=10).returncode
        if commit and dirty:
            commit += " + uncommitted changes to simcenter/"
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"date": dt.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "simpy": simpy.__version__, "numpy": np.__version__,
            "platform": platform.platform(), "commit": commit}


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def summary(runs: list[dict], key: str = "seconds") -> tuple[float, float]:
    values = [r[key] for r in runs]
    return statistics.median(values), min(values)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", "-n", type=int, default=150_000, help="M/M/c customers N (default 150000)")
    p.add_argument("--repeat", "-r", type=int, default=3, help="timed repetitions of each run (default 3)")
    p.add_argument("--days", type=int, default=YEAR_DAYS, help="baseline working days (default 250 = one county-year)")
    p.add_argument("--baseline", type=Path, default=BASELINE_YAML, help="baseline scenario file")
    p.add_argument("--no-tracemalloc", action="store_true", help="skip the extra tracemalloc runs")
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    a = p.parse_args(argv)

    info = machine()
    print(f"simcenter benchmark  {info['date']}  commit {info['commit'] or '?'}")
    print(f"  {info['cpu']}, {info['cores']} cores; Python {info['python']}, SimPy {info['simpy']}, "
          f"numpy {info['numpy']}; {info['platform']}")

    # -- scenarios (loaded once, outside the timing)
    probe = load_scenario(MMC_YAML)
    lam, mu, c = mmc_parameters(probe)
    (town,) = probe.townships.values()
    mmc_days = max(1, round(a.customers / town.cases_per_day))
    t0 = time.perf_counter()
    mmc = load_scenario(MMC_YAML, [f"horizon.days={mmc_days}", "horizon.warmup_days=0", "horizon.drain_days=0"])
    mmc_load = time.perf_counter() - t0
    base_sets = [f"horizon.days={a.days}", "horizon.warmup_days=0", "horizon.drain_days=0"]
    t0 = time.perf_counter()
    base = load_scenario(a.baseline, base_sets)
    base_load = time.perf_counter() - t0
    rho = lam / (c * mu)
    wq = erlang_c_wait(lam, mu, c)
    print(f"\nM/M/c: lambda={lam:.4f}/min, mu={mu:.4f}/min, c={c}, rho={rho:.3f}; N={a.customers} "
          f"(simcenter: {mmc_days} days of 24 h); Erlang C mean wait {wq:.3f} min")
    print(f"baseline: {a.baseline.name} --set {' '.join(base_sets)} ({len(base.townships)} townships)")
    print(f"scenario load (not timed below): mmc {mmc_load:.3f} s, baseline {base_load:.3f} s")
    print(f"load average before: {_loadavg()}")
    print(f"timing: {a.repeat} interleaved repetitions; MEDIAN reported, best in brackets\n")

    # warm-up, untimed: first calls (lazy imports, caches) of every code path on tiny runs
    run_bare(1000, lam, mu, c)
    run_simcenter_mmc(load_scenario(MMC_YAML, ["horizon.days=3", "horizon.warmup_days=0", "horizon.drain_days=0"]))
    run_baseline(load_scenario(a.baseline, ["horizon.days=2", "horizon.warmup_days=0", "horizon.drain_days=0"]))

    bare_runs, sc_runs, base_runs = [], [], []
    for rep in range(a.repeat):
        bare_runs.append(timed(run_bare, a.customers, lam, mu, c))
        sc_runs.append(timed(run_simcenter_mmc, mmc))
        base_runs.append(timed(run_baseline, base))
        print(f"  rep {rep + 1}: bare {bare_runs[-1]['seconds']:.2f} s (cpu {bare_runs[-1]['cpu_seconds']:.2f}), "
              f"simcenter M/M/c {sc_runs[-1]['seconds']:.2f} s (cpu {sc_runs[-1]['cpu_seconds']:.2f}), "
              f"baseline {base_runs[-1]['seconds']:.2f} s (cpu {base_runs[-1]['cpu_seconds']:.2f})", flush=True)
    print(f"load average after timing: {_loadavg()}  (above ~1 on this machine, other processes shared the cores)")

    rusage_after_timing = maxrss_mb()
    traced = {}
    if not a.no_tracemalloc:
        traced["bare"] = traced_peak_mb(run_bare, a.customers, lam, mu, c)
        traced["simcenter_mmc"] = traced_peak_mb(run_simcenter_mmc, mmc)
        traced["baseline"] = traced_peak_mb(run_baseline, base)

    # -- figures
    def rate(runs, key):
        per_run = [r[key] / r["seconds"] for r in runs]
        return statistics.median(per_run), max(per_run)

    bare_rate, bare_best = rate(bare_runs, "customers")
    sc_rate, sc_best = rate(sc_runs, "customers")
    ratio, ratio_best = sc_rate / bare_rate, sc_best / bare_best
    base_cases, base_cases_best = rate(base_runs, "cases")
    base_visits, _ = rate(base_runs, "visits")
    base_sec, base_sec_best = summary(base_runs)
    year_sec, year_best = base_sec * YEAR_DAYS / a.days, base_sec_best * YEAR_DAYS / a.days
    bw, sw = bare_runs[0]["waits"], sc_runs[0]["waits"]
    cpu_rate = lambda runs, key: statistics.median(r[key] / r["cpu_seconds"] for r in runs)  # noqa: E731
    bare_cpu, sc_cpu = cpu_rate(bare_runs, "customers"), cpu_rate(sc_runs, "customers")
    base_cpu_sec = statistics.median(r["cpu_seconds"] for r in base_runs)

    print("\nM/M/c throughput (customers served per second of simulate())")
    print(f"  bare SimPy     {bare_rate:>10,.0f} /s  [{bare_best:,.0f}]   {bare_runs[0]['customers']:,} customers, "
          f"{summary(bare_runs)[0]:.2f} s; mean wait {np.mean(bw):.3f} ± {batch_means_halfwidth(bw):.3f} min")
    print(f"  simcenter      {sc_rate:>10,.0f} /s  [{sc_best:,.0f}]   {sc_runs[0]['customers']:,} customers, "
          f"{summary(sc_runs)[0]:.2f} s; mean wait {np.mean(sw):.3f} ± {batch_means_halfwidth(sw):.3f} min")
    print(f"  Erlang C mean wait {wq:.3f} min")
    print(f"  ratio simcenter / bare = {ratio:.3f}  [best/best {ratio_best:.3f}]   target >= {TARGET_RATIO}: "
          f"{'MET' if ratio >= TARGET_RATIO else 'NOT MET'}")
    print(f"  on process CPU time: bare {bare_cpu:,.0f} /s, simcenter {sc_cpu:,.0f} /s, ratio {sc_cpu / bare_cpu:.3f}")

    print(f"\nCangnan baseline, {a.days} working days, warm-up 0, drain 0")
    print(f"  {base_runs[0]['cases']:,} cases, {base_runs[0]['visits']:,} visits per run")
    print(f"  {base_sec:.2f} s per run [{base_sec_best:.2f}]; {base_cases:,.0f} cases/s [{base_cases_best:,.0f}], "
          f"{base_visits:,.0f} visits/s")
    print(f"  seconds per simulated county-year ({YEAR_DAYS} wd, 18 townships): {year_sec:.2f} [{year_best:.2f}]   "
          f"target < {TARGET_YEAR_SECONDS:g} s: {'MET' if year_sec < TARGET_YEAR_SECONDS else 'NOT MET'}")
    print(f"  on process CPU time: {base_cpu_sec * YEAR_DAYS / a.days:.2f} s per county-year")

    exact = all(r["rss_exact"] for r in bare_runs + sc_runs + base_runs)
    print("\nPeak memory per run" + ("" if exact else " (ru_maxrss: process-wide, not reset between runs)"))
    print(f"  {'run':<16}{'peak RSS MB':>12}{'RSS increase MB':>17}{'tracemalloc peak MB':>21}")
    for name, runs, key in (("bare SimPy", bare_runs, "bare"), ("simcenter M/M/c", sc_runs, "simcenter_mmc"),
                            ("baseline", base_runs, "baseline")):
        peak = max(r["rss_peak_mb"] for r in runs)
        inc = max(r["rss_increase_mb"] for r in runs)
        tm = f"{traced[key]:.1f}" if key in traced else "-"
        print(f"  {name:<16}{peak:>12.1f}{inc:>17.1f}{tm:>21}")
    if not exact:
        print(f"  process ru_maxrss after the timed runs: {rusage_after_timing:.1f} MB")
    print("  (peak RSS: VmHWM reset before each run, max over repetitions; it includes the interpreter, the\n"
          "   loaded scenarios and heap kept from earlier runs. RSS increase: peak minus RSS at the start of the\n"
          "   run, max over repetitions. tracemalloc peak: Python-level allocations of one extra untimed run.)")

    if a.json:
        strip = lambda runs: [{k: v for k, v in r.items() if k != "waits"} for r in runs]  # noqa: E731
        a.json.write_text(json.dumps({
            "machine": info, "customers": a.customers, "repeat": a.repeat, "statistic": "median",
            "mmc": {"lambda": lam, "mu": mu, "c": c, "rho": rho, "days": mmc_days, "erlang_c_wait": wq,
                    "bare_wait": float(np.mean(bw)), "simcenter_wait": float(np.mean(sw))},
            "bare_customers_per_s": bare_rate, "simcenter_customers_per_s": sc_rate, "ratio": ratio,
            "baseline_days": a.days, "baseline_cases_per_s": base_cases, "baseline_visits_per_s": base_visits,
            "seconds_per_county_year": year_sec,
            "cpu": {"bare_customers_per_s": bare_cpu, "simcenter_customers_per_s": sc_cpu, "ratio": sc_cpu / bare_cpu,
                    "seconds_per_county_year": base_cpu_sec * YEAR_DAYS / a.days},
            "load_average_after": _loadavg(), "tracemalloc_peak_mb": traced,
            "runs": {"bare": strip(bare_runs), "simcenter_mmc": strip(sc_runs), "baseline": strip(base_runs)},
        }, indent=2))
        print(f"\nwrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
