"""Every speed target of simcenter with its measured figure, timed as whole processes.

    python benchmarks/bench_targets.py [--mmc] [--county] [--quickstart] [--scaling]
                                       [-n N] [-r R] [--days D] [--scaling-days D] [--json FILE]

Sections (default: --mmc --county):
  --mmc         `simcenter run` of an M/M/c (benchmarks/mmc.yaml) against the bare SimPy script
                (benchmarks/mmc_bare.py --no-check), both as separate processes: customers served
                per wall second of the whole process, rho 0.8 and 0.9 x c = 1, 5, 20
                (target: ratio >= 0.6 in every cell).
  --county      one county-year of the baseline, `simcenter run baseline -r 1 --jobs 1` with its
                default horizon: seconds (target <= 6 s) and peak RSS increase (target <= 150 MB);
                the split imports / loading / model / KPIs / writing; growth with the horizon and
                with the number of townships.
  --quickstart  the README Quick start's simcenter command on 2 cores (target <= 3 min).
  --scaling     compare, sweep and staff with --jobs 2 against --jobs 1 (target >= 1.8x), and on a
                Dask LocalCluster of 1, 2 and 4 workers where the command takes --scheduler.

Every timing is the median of R interleaved repetitions (growth and scaling runs: once each).
Nothing is imported from simcenter into this process: every figure comes from a child process
running the installed code through its CLI or public modules.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
SIMCENTER = [PY, "-m", "simcenter"]
MU = 0.1  # service rate per minute of every M/M/c cell (mean 10 min)
MMC_CELLS = [(rho, c) for rho in (0.8, 0.9) for c in (1, 5, 20)]
SHORT = ["horizon.warmup_days=0", "horizon.drain_days=0"]  # growth and scaling runs: no warm-up, no drain
TARGET = {"mmc_ratio": 0.6, "county_seconds": 6.0, "county_rss_mb": 150.0, "quickstart_seconds": 180.0,
          "speedup_2_jobs": 1.8}

# A `simcenter run` of replication 0 cut into its steps, in a fresh process (argv: scenario, out, --set...).
# Imports: every module the run loads, also those it imports lazily (pyarrow and simcenter.stats when
# writing; not pandas, nor scipy.special, which a run of one replication never needs). Garbage: the
# first full collection after the model, of the objects it leaves in reference cycles (SimPy's
# environment, processes, cases); without this step it falls in whatever comes next (the KPIs).
PHASES = """
import gc, json, sys, time
t = [time.perf_counter()]
import pyarrow.parquet
from simcenter import kpis, stats
from simcenter.model import simulate
from simcenter.resolve import load_scenario
from simcenter.results import capacity_warnings, prepare, write_run
from simcenter.runner import Replication, RunResult
t.append(time.perf_counter())
spec = load_scenario(sys.argv[1], sys.argv[3:])
warnings = capacity_warnings([spec])
t.append(time.perf_counter())
records = simulate(spec, 0)
t.append(time.perf_counter())
gc.collect()
t.append(time.perf_counter())
county, towns = kpis.compute(records, spec)
tables = kpis.detail_tables(records)
t.append(time.perf_counter())
result = RunResult(spec, executor="in-process")
result.add(Replication(0, county, towns, None, tables))
write_run(prepare(__import__("pathlib").Path(sys.argv[2]), False), result, sys.argv, "in-process", warnings=warnings)
t.append(time.perf_counter())
steps = ["imports", "loading", "model", "garbage", "kpis", "writing"]
print(json.dumps({**{s: b - a for s, a, b in zip(steps, t, t[1:])}, "cases": county["cases"], "visits": county["visits"]}))
"""
# The SimPy events of one replication (benchmark code: it reads the model's environment).
COUNT_EVENTS = """
import sys
from simcenter.model.county import Model
from simcenter.resolve import load_scenario
m = Model(load_scenario(sys.argv[1], sys.argv[2:]), 0)
m.run()
print(len(m.cases), next(m.env._eid))  # SimPy numbers every event it schedules
"""
# The interpreter with the libraries a run loads, before any scenario: the reference of the RSS increase.
IMPORTS_ONLY = ("import pyarrow.parquet, simcenter.cli, simcenter.runner, simcenter.results, "
                "simcenter.resolve, simcenter.kpis, simcenter.model, simcenter.stats")


class BenchError(Exception):
    """A child process failed: the benchmark cannot report its figure."""


def child(cmd: list, cwd: Path = ROOT) -> dict:
    """Run a process to its end: wall seconds, its own peak RSS (MB, from wait4) and stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-5:])
        raise BenchError(f"{' '.join(str(c) for c in cmd)}: exit status {proc.returncode}\n{tail}")
    rss = usage.ru_maxrss / 2**20 if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return {"seconds": seconds, "rss_mb": rss, "stdout": stdout}


def sets(*pairs: str) -> list[str]:
    return [x for pair in pairs for x in ("--set", pair)]


def kpi_row(out: Path) -> dict:
    """Replication 0's county KPIs from a results directory's kpis.csv."""
    with open(out / "kpis.csv", newline="") as f:
        return next(csv.DictReader(f))


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def status(value: float, target: float, at_least: bool) -> str:
    return "met" if (value >= target if at_least else value <= target) else "not met"


class Report:
    """The target lines and every figure, for the final table and --json."""

    def __init__(self):
        self.targets: list[dict] = []
        self.figures: dict = {}

    def target(self, name: str, target: str, measured: str, met: str) -> None:
        self.targets.append({"target": f"{name} {target}", "measured": measured, "status": met})
        print(f"  {name} {target} | {measured} | {met}", flush=True)


# ----------------------------------------------------------------------------- 1. M/M/c


def mmc_bare(n: int, c: int, rho: float) -> dict:
    done = child([PY, HERE / "mmc_bare.py", n, c, rho, "--no-check"])
    fields = dict(x.split("=") for x in done["stdout"].split())
    return {"seconds": done["seconds"], "served": int(fields["customers"]), "wait": float(fields["mean_wait"])}


def mmc_simcenter(n: int, c: int, rho: float, seed: int, out: Path) -> dict:
    per_day = rho * c * MU * 1440  # Poisson arrivals per 24-hour day
    days = max(1, round(n / per_day))
    done = child([*SIMCENTER, "run", HERE / "mmc.yaml", "-r", 1, "--seed", seed, "-o", out,
                  *sets(f"townships.t.cases_per_day={per_day!r}", f"townships.t.windows.G={c}",
                        f"items.X.window_minutes.mean={1 / MU!r}", f"horizon.days={days}")])
    row = kpi_row(out)
    served = round(int(row["visits"]) * (1 - float(row["abandon_share"])))
    return {"seconds": done["seconds"], "served": served, "wait": float(row["wait_mean"]), "days": days}


def section_mmc(a, report: Report, scratch: Path) -> None:
    sys.path.insert(0, str(HERE))
    from mmc_bare import erlang_c_wait

    print(f"\n1. M/M/c, whole processes: `simcenter run mmc.yaml -r 1` vs `mmc_bare.py --no-check`, "
          f"N ~ {a.customers:,}, mu = {MU}/min, {a.repeat} interleaved repetitions (medians)", flush=True)
    runs = {cell: {"bare": [], "simcenter": []} for cell in MMC_CELLS}
    for rep in range(a.repeat):
        for rho, c in MMC_CELLS:
            runs[rho, c]["bare"].append(mmc_bare(a.customers, c, rho))
            runs[rho, c]["simcenter"].append(mmc_simcenter(a.customers, c, rho, a.seed, scratch / f"mmc-{rho}-{c}-{rep}"))
        print(f"  repetition {rep + 1} done (load {load_average()})", flush=True)
    print(f"  {'rho':>4} {'c':>3} {'bare /s':>10} {'simcenter /s':>13} {'ratio':>6}   mean wait, min: "
          f"{'bare':>7} {'simcenter':>9} {'Erlang C':>8}")
    cells = []
    for rho, c in MMC_CELLS:
        bare, sim = runs[rho, c]["bare"], runs[rho, c]["simcenter"]
        bare_rate = statistics.median(r["served"] / r["seconds"] for r in bare)
        sim_rate = statistics.median(r["served"] / r["seconds"] for r in sim)
        wq = erlang_c_wait(rho * c * MU, MU, c)
        cell = {"rho": rho, "c": c, "bare_per_s": bare_rate, "simcenter_per_s": sim_rate, "ratio": sim_rate / bare_rate,
                "bare_wait": bare[0]["wait"], "simcenter_wait": sim[0]["wait"], "erlang_c_wait": wq,
                "bare_served": bare[0]["served"], "simcenter_served": sim[0]["served"], "days": sim[0]["days"],
                "runs": {"bare": bare, "simcenter": sim}}
        cells.append(cell)
        print(f"  {rho:>4} {c:>3} {bare_rate:>10,.0f} {sim_rate:>13,.0f} {cell['ratio']:>6.3f}   "
              f"{'':>16}{cell['bare_wait']:>7.2f} {cell['simcenter_wait']:>9.2f} {wq:>8.2f}")
    report.figures["mmc"] = cells
    for cell in cells:
        report.target(f"M/M/{cell['c']} rho {cell['rho']}: simcenter / bare throughput", f">= {TARGET['mmc_ratio']}",
                      f"{cell['ratio']:.3f}", status(cell["ratio"], TARGET["mmc_ratio"], True))


# ----------------------------------------------------------------------------- 2. county-year


def scaled_horizon(days: int | None) -> list[str]:
    """--set pairs for the county run: none for the default horizon, else D days with the
    default's warm-up and drain scaled alike (280 + 40: 30 of warm-up)."""
    if days is None:
        return []
    return [f"horizon.days={days}", f"horizon.warmup_days={round(days * 30 / 280)}",
            f"horizon.drain_days={round(days * 40 / 280)}"]


def read_yaml(path: Path):
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_yaml(doc, path: Path) -> Path:
    """A generated scenario or experiment: no aliases (scenario files refuse them)."""
    import yaml

    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    path.write_text(yaml.dump(doc, Dumper=NoAliases, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def townships_times(k: int, folder: Path) -> Path:
    """The baseline with its townships k times (new ids) and county reviewers k times (same load per reviewer)."""
    doc = read_yaml(ROOT / "scenarios" / "baseline.yaml")
    towns = doc["townships"]
    doc["townships"] = {f"{tid}{'' if i == 0 else f'_{i + 1}'}": {**t, "name": f"{t['name']}{'' if i == 0 else f' {i + 1}'}"}
                        for i in range(k) for tid, t in towns.items()}
    for dept in doc["departments"].values():
        if dept.get("county_reviewers") is not None:
            dept["county_reviewers"] *= k
    doc["name"] = f"baseline-townships-x{k}"
    path = write_yaml(doc, folder / f"baseline_x{k}.yaml")
    child([*SIMCENTER, "validate", path])  # exit status 0: it validates
    return path


def phases(scenario, out: Path, pairs: list[str]) -> dict:
    done = child([PY, "-c", PHASES, scenario, out, *pairs])
    split = json.loads(done["stdout"].strip().splitlines()[-1])
    split["process_seconds"] = done["seconds"]
    return split


def section_county(a, report: Report, scratch: Path) -> None:
    horizon = scaled_horizon(a.days)
    label = "default horizon" if a.days is None else f"--days {a.days} (a smoke run: the target is not judged)"
    print(f"\n2. County-year of the baseline, `simcenter run baseline -r 1 --jobs 1`, {label}; "
          f"{a.repeat} repetitions (medians)", flush=True)
    reference = child([PY, "-c", IMPORTS_ONLY])["rss_mb"]
    whole, split = [], []
    for rep in range(a.repeat):
        whole.append(child([*SIMCENTER, "run", "baseline", "-r", 1, "--jobs", 1, "--seed", a.seed,
                            "-o", scratch / f"county-{rep}", *sets(*horizon)]))
        split.append(phases("baseline", scratch / f"phases-{rep}", [*horizon, "replications=1", f"seed={a.seed}"]))
    seconds = statistics.median(r["seconds"] for r in whole)
    rss = max(r["rss_mb"] for r in whole)
    steps = {s: statistics.median(r[s] for r in split) for s in ("imports", "loading", "model", "garbage", "kpis",
                                                                          "writing")}
    rest = seconds - sum(steps.values())
    print(f"  {split[0]['cases']:,} cases, {split[0]['visits']:,} visits; whole process {seconds:.2f} s, peak RSS "
          f"{rss:.0f} MB, of which {reference:.0f} MB is the interpreter with the run's libraries imported")
    print("  split (in a fresh process, the same steps as `run`): " + ", ".join(f"{s} {v:.2f} s" for s, v in steps.items())
          + f"; the rest of the whole process (interpreter start, CLI, printing) {rest:.2f} s")
    report.figures["county"] = {"days": a.days, "seconds": seconds, "rss_peak_mb": rss, "rss_reference_mb": reference,
                                "rss_increase_mb": rss - reference, "split": steps, "rest": rest,
                                "cases": split[0]["cases"], "visits": split[0]["visits"],
                                "runs": [{k: v for k, v in r.items() if k != "stdout"} for r in whole]}
    simpy_floor(report, horizon)
    judged = a.days is None
    report.target("one county-year of the baseline, one core", f"<= {TARGET['county_seconds']:g} s", f"{seconds:.2f} s",
                  status(seconds, TARGET["county_seconds"], False) if judged else "not judged (smoke)")
    report.target("its peak RSS increase", f"<= {TARGET['county_rss_mb']:g} MB", f"{rss - reference:.0f} MB",
                  status(rss - reference, TARGET["county_rss_mb"], False) if judged else "not judged (smoke)")
    growth(a, report, scratch)


def simpy_floor(report: Report, horizon: list[str]) -> None:
    """Bare SimPy with as many cases and events as the run: no model time can be below it."""
    cases, events = child([PY, "-c", COUNT_EVENTS, "baseline", *horizon])["stdout"].split()[-2:]
    line = child([PY, ROOT / "benchmarks" / "simpy_floor.py", cases, events])["stdout"].strip().splitlines()[-1]
    seconds = float(line.rsplit("seconds=", 1)[1])
    print(f"  SimPy's floor: bare SimPy with the same {int(cases):,} cases and {int(events):,} events, timeouts only, "
          f"takes {seconds:.2f} s (benchmarks/simpy_floor.py)", flush=True)
    report.figures["simpy_floor"] = {"cases": int(cases), "events": int(events), "seconds": seconds}


def growth(a, report: Report, scratch: Path) -> None:
    """Seconds (model, and loading + model + KPIs + writing) against the horizon and the townships."""
    full = a.days or 280
    days = [max(1, full // 4), max(1, full // 2), full]
    print(f"  growth (warm-up 0, drain 0; once each): horizon {days} working days at 1x townships, "
          f"townships 1x, 2x, 4x at {days[0]} days", flush=True)
    rows = {}
    for d in days:
        rows[f"days={d}"] = phases("baseline", scratch / f"days-{d}", [f"horizon.days={d}", *SHORT])
    for k in (2, 4):
        rows[f"townships=x{k}"] = phases(townships_times(k, scratch), scratch / f"towns-{k}", [f"horizon.days={days[0]}", *SHORT])
    base = rows[f"days={days[0]}"]
    print(f"  {'run':<14} {'cases':>9} {'model s':>8} {'ratio':>6} {'total s':>8} {'ratio':>6}")
    for name, r in rows.items():
        r["total"] = r["loading"] + r["model"] + r["garbage"] + r["kpis"] + r["writing"]
        r["model_ratio"], r["total_ratio"] = r["model"] / base["model"], r["total"] / (
            base["loading"] + base["model"] + base["garbage"] + base["kpis"] + base["writing"])
        print(f"  {name:<14} {r['cases']:>9,} {r['model']:>8.2f} {r['model_ratio']:>6.2f} {r['total']:>8.2f} "
              f"{r['total_ratio']:>6.2f}")
    print("  (linear growth: ratios 2.0 and 4.0)")
    report.figures["growth"] = rows


# ----------------------------------------------------------------------------- 3. quick start


def quickstart_command() -> list[str]:
    """The simcenter part of the README Quick start's first command (after `&&`, without pip)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("## Quick start"):].split("```sh", 1)[1].split("```", 1)[0]
    first = block.strip().splitlines()[0]
    (part,) = [p.strip() for p in first.split("&&") if p.strip().startswith("simcenter ")]
    return part.split()[1:]


def section_quickstart(a, report: Report, scratch: Path) -> None:
    args = quickstart_command()
    print(f"\n3. README Quick start: `simcenter {' '.join(args)}` (results to a scratch directory)", flush=True)
    done = child([*SIMCENTER, *args, "-o", scratch / "quickstart"])
    report.figures["quickstart"] = {"command": ["simcenter", *args], "seconds": done["seconds"], "rss_mb": done["rss_mb"]}
    report.target("README Quick start on 2 cores", f"<= {TARGET['quickstart_seconds']:g} s",
                  f"{done['seconds']:.1f} s", status(done["seconds"], TARGET["quickstart_seconds"], False))


# ----------------------------------------------------------------------------- 4. scaling


def sweep_experiment(days: int, folder: Path) -> Path:
    """The shipped windows_by_generalist experiment (18 points), 1 replication a point, `days` working days."""
    doc = read_yaml(ROOT / "experiments" / "windows_by_generalist.yaml")
    doc.update(replications=1, chunk=1, sets=[f"horizon.days={days}", *SHORT])
    return write_yaml(doc, folder / "sweep_bench.yaml")


def workloads(days: int, folder: Path) -> dict[str, list]:
    short = sets(f"horizon.days={days}", *SHORT)
    return {
        "compare": ["compare", "baseline", "s1_full_empowerment", "-r", 4, *short],
        "sweep": ["sweep", sweep_experiment(days, folder)],
        "staff": ["staff", "baseline", "--target", "wait_p90<=20", "--township", "lingxi", "--township", "qianku",
                  "-r", 4, *short],
    }


def takes_scheduler(command: str) -> bool:
    return "--scheduler" in child([*SIMCENTER, command, "--help"])["stdout"]


def machine_scaling(report: Report) -> None:
    """What the machine itself gives: bare SimPy alone, then two copies at once (no simcenter).

    The speed-up of two equal jobs run at once over one after the other is 2 × alone / together;
    on a machine whose two cores cannot both run at full speed it is well below 2.
    """
    floor = [PY, ROOT / "benchmarks" / "simpy_floor.py", 150_000, 1_000_000]
    alone = min(child(floor)["seconds"] for _ in range(2))
    start = time.perf_counter()
    procs = [subprocess.Popen([str(c) for c in floor], stdout=subprocess.DEVNULL) for _ in range(2)]
    if any(p.wait() for p in procs):
        raise BenchError("simpy_floor.py failed when run twice at once")
    together = time.perf_counter() - start
    speedup = 2 * alone / together
    print(f"  the machine: bare SimPy (simpy_floor.py) alone {alone:.2f} s, two copies at once {together:.2f} s: "
          f"two jobs at most {speedup:.2f}x one, whatever the program", flush=True)
    report.figures["machine_scaling"] = {"alone": alone, "two_at_once": together, "speedup": speedup}


def section_scaling(a, report: Report, scratch: Path) -> None:
    print(f"\n4. Scaling with jobs (workloads on {a.scaling_days} working days, warm-up 0, drain 0; once each)", flush=True)
    machine_scaling(report)
    runs = {}
    for name, args in workloads(a.scaling_days, scratch).items():
        t = {j: child([*SIMCENTER, *args, "--jobs", j, "-o", scratch / f"{name}-jobs{j}"])["seconds"] for j in (1, 2)}
        runs[name] = {"jobs_1": t[1], "jobs_2": t[2], "speedup": t[1] / t[2]}
        print(f"  {name}: --jobs 1 {t[1]:.1f} s, --jobs 2 {t[2]:.1f} s  ({' '.join(str(x) for x in args)})", flush=True)
        report.target(f"{name} --jobs 2 vs --jobs 1", f">= {TARGET['speedup_2_jobs']}x", f"{t[1] / t[2]:.2f}x",
                      status(t[1] / t[2], TARGET["speedup_2_jobs"], True))
    dask(a, report, scratch, runs)
    report.figures["scaling"] = runs


def dask(a, report: Report, scratch: Path, runs: dict) -> None:
    try:
        from distributed import LocalCluster
    except ImportError:
        print("  Dask: not installed (pip install 'simcenter[dask]'): skipped")
        return
    commands = {name: args for name, args in workloads(a.scaling_days, scratch).items() if takes_scheduler(name)}
    print(f"  Dask LocalCluster on 127.0.0.1, through --scheduler: {', '.join(commands) or 'no command takes it'}")
    for workers in (1, 2, 4):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            for name, args in commands.items():
                seconds = child([*SIMCENTER, *args, "--scheduler", cluster.scheduler_address,
                                 "-o", scratch / f"{name}-dask{workers}"])["seconds"]
                runs[name][f"dask_{workers}"] = seconds
    for name in commands:
        r = runs[name]
        print(f"  {name}: dask 1 / 2 / 4 workers {r['dask_1']:.1f} / {r['dask_2']:.1f} / {r['dask_4']:.1f} s; speed-up "
              f"over 1 worker {r['dask_1'] / r['dask_2']:.2f}x / {r['dask_1'] / r['dask_4']:.2f}x "
              f"(4 workers on {os.cpu_count()} cores: reported, not a target)")


# ----------------------------------------------------------------------------- main


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number >= 1 (got {text})")
    return value


class Parser(argparse.ArgumentParser):
    def error(self, message):
        """One line per bad option (`--opt: what was expected (got X)`), exit status 2."""
        print(f"bench_targets.py: {message.removeprefix('argument ')}", file=sys.stderr)
        sys.exit(2)


def main(argv=None) -> int:
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mmc", action="store_true", help="section 1: M/M/c throughput against bare SimPy")
    p.add_argument("--county", action="store_true", help="section 2: one county-year of the baseline")
    p.add_argument("--quickstart", action="store_true", help="section 3: the README Quick start (minutes)")
    p.add_argument("--scaling", action="store_true", help="section 4: compare, sweep, staff on 1 and 2 jobs, Dask")
    p.add_argument("--customers", "-n", type=positive, default=200_000, help="M/M/c customers per cell (default 200000)")
    p.add_argument("--repeat", "-r", type=positive, default=3, help="repetitions of the timed runs (default 3)")
    p.add_argument("--days", type=positive, help="county section on D working days instead of the default horizon "
                   "(a smoke run: targets not judged)")
    p.add_argument("--scaling-days", type=positive, default=20, help="working days of the scaling workloads (default 20)")
    p.add_argument("--seed", type=positive, default=1, help="seed of every simcenter run (default 1)")
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    a = p.parse_args(argv)
    if a.json and not a.json.parent.is_dir():
        p.error(f"--json {a.json}: a file in an existing directory (got no directory {a.json.parent})")
    chosen = [s for s in ("mmc", "county", "quickstart", "scaling") if getattr(a, s)] or ["mmc", "county"]
    sections = {"mmc": section_mmc, "county": section_county, "quickstart": section_quickstart,
                "scaling": section_scaling}
    report = Report()
    before = load_average()
    print(f"simcenter speed targets; {os.cpu_count()} cores; load average before: {before}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-targets-") as scratch:
            for name in chosen:
                sections[name](a, report, Path(scratch))
    except BenchError as e:
        print(f"bench_targets.py: a run failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench_targets.py: interrupted; nothing written", file=sys.stderr)
        return 130
    after = load_average()
    print(f"\nload average after: {after}  (above ~1 per core, other processes shared the machine: pessimistic timings)")
    print("\ntarget | measured | status")
    for t in report.targets:
        print(f"{t['target']} | {t['measured']} | {t['status']}")
    if a.json:
        payload = {"argv": sys.argv[1:], "cores": os.cpu_count(), "python": sys.version.split()[0],
                   "load_average_before": before, "load_average_after": after, "targets": report.targets,
                   **report.figures}
        tmp = a.json.with_name(a.json.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        os.replace(tmp, a.json)
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
