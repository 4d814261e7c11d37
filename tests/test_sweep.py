"""`simcenter sweep` end to end: the same results on every executor (in-process, a local process
pool, a Dask LocalCluster, an external `dask scheduler` with two `dask worker` processes), resume
after SIGKILL, failing points, `replications: auto`, factorial effects, located errors, the
shipped experiments, and the Python API. Experiments: tests/data/sweep_*.yaml (small.yaml on a
few days, so each sweep takes a second or two)."""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal
from scipy import stats

import simcenter
from simcenter.cli import main
from simcenter.experiment import factorial_effects, load_experiment
from builders import DATA

try:
    import distributed
except ImportError:  # the [dask] extra is not installed
    distributed = None

needs_dask = pytest.mark.skipif(distributed is None, reason='Dask distributed cannot be imported: '
                                                            'pip install "simcenter[dask]" to run the Dask tests')

ROOT = Path(__file__).resolve().parent.parent
GRID = DATA / "sweep_grid.yaml"  # 4 points × 4 replications, chunk 2: 8 tasks
GRID_REPLICATIONS = 16  # a shard each
TALLY = re.compile(r"(\d+) replications computed, (\d+) reused")


@pytest.fixture(autouse=True, scope="module")
def _no_ambient_scheduler():
    """A DASK_SCHEDULER_ADDRESS in the environment would send every sweep to that cluster."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
        yield


def sweep(*args):
    return CliRunner().invoke(main, ["sweep", *map(str, args)], catch_exceptions=False)


def tally(stderr: str) -> tuple[int, int]:
    found = TALLY.search(stderr)
    assert found, stderr
    return int(found[1]), int(found[2])


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def assert_same_results(out: Path, reference: Path) -> None:
    """The tables are the same whatever ran them: frames equal, summary.csv byte for byte."""
    for table in ("kpis.parquet", "kpis_by_township.parquet"):
        assert_frame_equal(pd.read_parquet(out / table), pd.read_parquet(reference / table))
    assert (out / "kpis.parquet").read_bytes() == (reference / "kpis.parquet").read_bytes()
    assert (out / "summary.csv").read_bytes() == (reference / "summary.csv").read_bytes()
    assert (out / "points.json").read_bytes() == (reference / "points.json").read_bytes()
    for name in ("points", "failed", "seed", "seed_scheme", "replications", "experiment"):
        assert manifest(out)[name] == manifest(reference)[name], name


# --------------------------------------------------------------------------- the same results on every executor


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """sweep_grid.yaml with --jobs 1: the results every other executor must reproduce."""
    out = tmp_path_factory.mktemp("reference") / "out"
    result = sweep(GRID, "--out", out, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    assert tally(result.stderr) == (GRID_REPLICATIONS, 0)
    return out


def test_reference_run_writes_tidy_tables(reference):
    kpis = pd.read_parquet(reference / "kpis.parquet")
    assert list(kpis.columns[:4]) == ["point", "townships.east.windows.G1", "reforms.coordination", "replication"]
    assert list(kpis["point"]) == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    assert list(kpis["replication"]) == [0, 1, 2, 3] * 4
    assert kpis["townships.east.windows.G1"].dtype == np.int64  # numbers stay numbers
    assert list(kpis["reforms.coordination"]) == ["off"] * 4 + ["on"] * 4 + ["off"] * 4 + ["on"] * 4
    towns = pd.read_parquet(reference / "kpis_by_township.parquet")
    assert len(towns) == 2 * len(kpis) and set(towns["township"]) == {"east", "west"}
    summary = pd.read_csv(reference / "summary.csv")
    assert len(summary) == 4 * len(load_experiment(GRID).spec.kpis) and (summary["n"] == 4).all()
    m = manifest(reference)
    assert m["executor"] == "in-process" and m["cluster_versions"] == {}
    assert m["tasks"] == {"computed": GRID_REPLICATIONS, "reused": 0} and m["failed"] == {}
    assert [p["replications"] for p in m["points"]] == [4, 4, 4, 4]
    assert len(list((reference / "shards").glob("*.parquet"))) == GRID_REPLICATIONS


def test_jobs_2_gives_the_same_results(reference, tmp_path):
    result = sweep(GRID, "--out", tmp_path / "out", "--jobs", 2)
    assert result.exit_code == 0, result.stderr
    assert_same_results(tmp_path / "out", reference)
    m = manifest(tmp_path / "out")
    assert m["executor"] == "processes:2" and m["cluster_versions"] == {}


def _assert_dask_manifest(out: Path, address: str) -> None:
    m = manifest(out)
    assert m["executor"] == f"dask:{address}"
    versions = m["cluster_versions"]
    assert versions["workers"] == 2 and versions["simcenter"] == simcenter.__version__
    assert versions["scheduler"]["distributed"] == distributed.__version__
    assert versions["scheduler"]["dask"] and versions["scheduler"]["python"]
    assert m["tasks"] == {"computed": GRID_REPLICATIONS, "reused": 0}


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
@needs_dask
def test_dask_local_cluster_gives_the_same_results(reference, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                      dashboard_address=None) as cluster:
        result = sweep(GRID, "--out", tmp_path / "out", "--scheduler", cluster.scheduler_address)
        assert result.exit_code == 0, result.stderr
        address = cluster.scheduler_address
    assert_same_results(tmp_path / "out", reference)
    _assert_dask_manifest(tmp_path / "out", address)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group we started (nanny and worker processes included), then SIGKILL."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
    try:  # children left behind in the group
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture
def external_cluster(tmp_path):
    """`dask scheduler` and `dask worker --nworkers 2` on 127.0.0.1, stopped at teardown."""
    from distributed import Client

    dask = Path(sys.executable).with_name("dask")
    assert dask.exists(), f"the dask command is not next to {sys.executable}"
    address = f"tcp://127.0.0.1:{_free_port()}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    started = []
    try:
        started.append(subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
            cwd=logs, stdout=(logs / "scheduler.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True))
        started.append(subprocess.Popen(
            [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
             "--local-directory", str(logs)],
            cwd=logs, stdout=(logs / "worker.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True))
        try:
            with Client(address, timeout="30s") as client:
                client.wait_for_workers(2, timeout=60)
        except Exception as e:  # noqa: BLE001 - show the cluster's own logs
            pytest.fail(f"the external Dask cluster did not start: {e}\n"
                        + "\n".join(p.read_text() for p in sorted(logs.glob("*.log"))))
        yield address
    finally:
        for process in reversed(started):
            _stop(process)


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
@needs_dask
def test_external_dask_cluster_gives_the_same_results(reference, tmp_path, external_cluster):
    result = sweep(GRID, "--out", tmp_path / "out", "--scheduler", external_cluster)
    assert result.exit_code == 0, result.stderr
    assert_same_results(tmp_path / "out", reference)
    _assert_dask_manifest(tmp_path / "out", external_cluster)


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
@needs_dask
def test_dask_scheduler_address_from_the_environment(reference, tmp_path, monkeypatch):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True,
                      dashboard_address=None) as cluster:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        result = sweep(GRID, "--out", tmp_path / "out")
        assert result.exit_code == 0, result.stderr
        assert manifest(tmp_path / "out")["executor"] == f"dask:{cluster.scheduler_address}"
    assert_same_results(tmp_path / "out", reference)


def test_jobs_and_scheduler_together_are_a_usage_error(tmp_path):
    result = sweep(GRID, "--out", tmp_path / "out", "--jobs", 2, "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and "either --jobs or --scheduler" in result.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- interruption and resume


SLOWER = ("--set", "horizon.days=12")  # ~0.25 s a task in-process, so a kill lands between tasks


def _shards(out: Path) -> int:
    return len(list((out / "shards").glob("*.parquet"))) if (out / "shards").is_dir() else 0


@pytest.fixture(scope="module")
def slower_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("slower") / "out"
    result = sweep(GRID, "--out", out, "--jobs", 1, *SLOWER)
    assert result.exit_code == 0, result.stderr
    return out


def _interrupted(out: Path, sig: int, jobs: int) -> tuple[int, str]:
    """`python -m simcenter sweep` in its own process group, sent `sig` once a first shard exists."""
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    log = out.with_name(out.name + ".log")
    with log.open("w") as stream:
        process = subprocess.Popen([sys.executable, "-m", "simcenter", "sweep", str(GRID), "--out", str(out),
                                    "--jobs", str(jobs), *SLOWER], stdout=stream, stderr=subprocess.STDOUT, env=env,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while _shards(out) < 1:
            assert process.poll() is None, "the sweep ended before it could be interrupted: " + log.read_text()
            assert time.monotonic() < deadline, "no shard after 30 s"
            time.sleep(0.005)
        os.killpg(process.pid, sig)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode, log.read_text()


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
def test_sigkill_then_resume_recomputes_only_unfinished_tasks(tmp_path, slower_reference):
    out = tmp_path / "killed"
    status, _ = _interrupted(out, signal.SIGKILL, jobs=1)
    assert status == -signal.SIGKILL
    before = _shards(out)
    assert 1 <= before < GRID_REPLICATIONS, f"the kill did not land part-way ({before} replications done)"
    assert not (out / "manifest.json").exists() and not (out / "kpis.parquet").exists()

    resumed = sweep(GRID, "--out", out, "--jobs", 1, *SLOWER, "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    computed, reused = tally(resumed.stderr)
    assert reused >= before and computed + reused == GRID_REPLICATIONS
    assert reused == before  # every finished task is reused, no more
    assert manifest(out)["tasks"] == {"computed": computed, "reused": reused}
    assert_same_results(out, slower_reference)

    again = sweep(GRID, "--out", out, "--jobs", 1, *SLOWER, "--resume")  # nothing left to do
    assert again.exit_code == 0, again.stderr
    assert tally(again.stderr) == (0, GRID_REPLICATIONS)
    assert_same_results(out, slower_reference)


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
def test_ctrl_c_exits_130_and_keeps_finished_tasks(tmp_path, slower_reference):
    out = tmp_path / "interrupted"
    status, output = _interrupted(out, signal.SIGINT, jobs=2)  # to the group, like Ctrl-C in a terminal
    assert status == 130, output
    assert "interrupted" in output
    before = _shards(out)
    assert 1 <= before < GRID_REPLICATIONS, f"the interrupt did not land part-way ({before} replications done)"
    resumed = sweep(GRID, "--out", out, "--jobs", 2, *SLOWER, "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert tally(resumed.stderr) == (GRID_REPLICATIONS - before, before)
    assert_same_results(out, slower_reference)


def test_resume_after_a_change_says_why_points_run_again(reference, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    result = sweep(GRID, "--out", out, "--jobs", 1, "--set", "horizon.days=5", "--resume")
    assert result.exit_code == 0, result.stderr
    assert tally(result.stderr) == (GRID_REPLICATIONS, 0)
    assert "point 0 (townships.east.windows.G1=1, reforms.coordination=off): reruns, its resolved scenario " \
           "or the model version changed" in result.stderr


# --------------------------------------------------------------------------- a failing point


def test_a_failing_point_is_reported_and_the_others_complete(tmp_path):
    out = tmp_path / "out"
    result = sweep(DATA / "sweep_failing.yaml", "--out", out, "--jobs", 1)
    assert result.exit_code == 3, result.stderr
    failed = [line for line in result.stderr.splitlines() if "failed" in line]
    assert len(failed) == 1, result.stderr
    assert failed[0].startswith("point 1 failed (townships.east.cases_per_day=20000000, townships.west.windows.G1=2): "
                                "ScenarioError: ")
    assert "at most 10,000,000 expected arrivals per replication" in failed[0]
    kpis = pd.read_parquet(out / "kpis.parquet")
    assert list(kpis["point"]) == [0, 0, 0, 0, 2, 2, 2, 2] and list(kpis["replication"]) == [0, 1, 2, 3] * 2
    assert list(kpis["townships.east.cases_per_day"]) == [60] * 4 + [30] * 4
    assert set(pd.read_parquet(out / "kpis_by_township.parquet")["point"]) == {0, 2}
    assert set(pd.read_csv(out / "summary.csv")["point"]) == {0, 2}
    m = manifest(out)
    assert list(m["failed"]) == ["1"] and "at most 10,000,000 expected arrivals" in m["failed"]["1"]
    assert [p["replications"] for p in m["points"]] == [4, 0, 4]
    assert m["points"][1]["factors"] == {"townships.east.cases_per_day": 20000000, "townships.west.windows.G1": 2}


def test_every_point_failing_still_leaves_readable_tables_and_a_report(tmp_path):
    path = tmp_path / "all_fail.yaml"
    path.write_text(f"name: all_fail\nbase: {DATA / 'small.yaml'}\ndesign: points\n"
                    "points: [{townships.east.cases_per_day: 20000000}]\nreplications: 2\nchunk: 2\n"
                    'sets: ["horizon.days=4", "horizon.warmup_days=1", "horizon.drain_days=5"]\n')
    out = tmp_path / "out"
    result = sweep(path, "--out", out, "--report")
    assert result.exit_code == 3, result.stderr  # some points failed, not bad input: the report reads it
    assert "point 0 failed (townships.east.cases_per_day=20000000): ScenarioError" in result.stderr
    assert (out / "report.html").is_file()
    header = (out / "summary.csv").read_text().splitlines()[0]
    assert header == "point,townships.east.cases_per_day,kpi,mean,ci_low,ci_high,n"
    kpis = pd.read_parquet(out / "kpis.parquet")
    assert kpis.empty and list(kpis.columns) == ["point", "townships.east.cases_per_day", "replication"]
    assert pd.read_parquet(out / "kpis_by_township.parquet").empty
    assert list(manifest(out)["failed"]) == ["0"]


# --------------------------------------------------------------------------- replications: auto


def _stopping_rule(values: list[float], minimum: int, chunk: int, maximum: int, target: float) -> int:
    """The replications `auto` implies: the first n of min, min+chunk, ... (capped at max) at which
    the 95% t-interval half-width of the KPI is at most target × |mean|, else max."""
    n = minimum
    while True:
        assert n <= len(values), f"the sweep stopped at {len(values)} replications, the rule needs {n}"
        x = np.asarray(values[:n], float)
        mean = x.mean()
        half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n)
        if mean != 0 and half <= target * abs(mean):
            return n
        if n >= maximum:
            return maximum
        n = min(n + chunk, maximum)


def test_auto_replications_stop_when_the_precision_is_met(tmp_path):
    path = DATA / "sweep_auto.yaml"
    precision = load_experiment(path).spec.precision
    out = tmp_path / "out"
    result = sweep(path, "--out", out, "--jobs", 2)
    assert result.exit_code == 0, result.stderr
    kpis = pd.read_parquet(out / "kpis.parquet")
    summary = pd.read_csv(out / "summary.csv")
    m = manifest(out)
    assert m["replications"] == {"auto": precision.model_dump()}
    ran = {}
    for point, rows in kpis.groupby("point", sort=True):
        assert list(rows["replication"]) == list(range(len(rows)))
        expected = _stopping_rule(list(rows[precision.kpi]), precision.min, 2, precision.max,
                                  precision.relative_half_width)
        assert len(rows) == expected, f"point {point}"
        assert m["points"][point]["replications"] == expected
        assert (summary[summary["point"] == point]["n"] == expected).all()
        ran[point] = expected
    assert len(ran) == 6 and sum(ran.values()) == int(re.search(r"(\d+) replications", result.stderr)[1])
    # the design makes the rule bite both ways: some points stop early, some go on
    assert min(ran.values()) < precision.max and len(set(ran.values())) >= 2, ran
    index = json.loads((out / "points.json").read_text())
    assert {p["point"]: p["replications"] for p in index["points"]} == ran


# --------------------------------------------------------------------------- factorial effects


def _synthetic(terms: dict[tuple[str, ...], float], factors: list[str], replications: int, seed: int,
               common_sd: float = 5.0, noise_sd: float = 0.5, intercept: float = 10.0) -> list[dict]:
    """Rows of a 2^k factorial, y = intercept + Σ coefficient · Π codes + a shock common to the
    replication (cancels within it) + independent noise. Levels: "lo" (−1) listed before "hi" (+1)."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(replications):
        shock = rng.normal(0, common_sd)
        for codes in itertools.product((-1, 1), repeat=len(factors)):
            code = dict(zip(factors, codes))
            y = intercept + sum(c * math.prod(code[f] for f in s) for s, c in terms.items())
            rows.append({**{f: ("hi" if code[f] == 1 else "lo") for f in factors}, "replication": r,
                         "y": y + shock + rng.normal(0, noise_sd)})
    return rows


def _check_effects(terms, factors, replications=30, seed=1, tolerance=0.4):
    rows = _synthetic(terms, factors, replications, seed)
    effects = {e["effect"]: e for e in factorial_effects(rows, factors, "y")}
    assert len(effects) == 2 ** len(factors) - 1
    for subset in (s for size in range(1, len(factors) + 1) for s in itertools.combinations(factors, size)):
        # mean(y | product of codes = +1) − mean(y | −1) = 2 × the coefficient in the ±1 coding
        true = 2 * terms.get(subset, 0.0)
        e = effects[" × ".join(subset)]
        assert e["order"] == len(subset) and e["n"] == replications and e["kpi"] == "y"
        assert abs(e["estimate"] - true) < tolerance, (subset, e, true)
        assert e["ci_low"] <= true <= e["ci_high"], (subset, e, true)
        # the replication's common shock (sd 5) cancels within each replication: narrow intervals
        assert e["ci_high"] - e["ci_low"] < 1.0, (subset, e)
    return effects


def test_factorial_effects_2x2_recover_the_true_effects():
    effects = _check_effects({("a",): 2.0, ("b",): -3.0, ("a", "b"): 1.5}, ["a", "b"])
    assert list(effects) == ["a", "b", "a × b"]
    assert effects["a"]["estimate"] == pytest.approx(4, abs=0.4)
    assert effects["b"]["estimate"] == pytest.approx(-6, abs=0.4)
    assert effects["a × b"]["estimate"] == pytest.approx(3, abs=0.4)


def test_factorial_effects_2x2x2_recover_the_true_effects():
    terms = {("a",): 1.0, ("b",): -2.0, ("c",): 0.5, ("a", "b"): 0.75, ("a", "c"): -0.25, ("a", "b", "c"): 0.4}
    effects = _check_effects(terms, ["a", "b", "c"], seed=2)
    assert list(effects) == ["a", "b", "c", "a × b", "a × c", "b × c", "a × b × c"]
    assert effects["b × c"]["estimate"] == pytest.approx(0, abs=0.4)


def test_factorial_effects_exact_without_noise():
    rows = _synthetic({("a",): 2.0, ("b",): -3.0, ("a", "b"): 1.5}, ["a", "b"], 3, 0, common_sd=0, noise_sd=0)
    effects = {e["effect"]: e for e in factorial_effects(rows, ["a", "b"], "y")}
    assert {k: e["estimate"] for k, e in effects.items()} == pytest.approx({"a": 4.0, "b": -6.0, "a × b": 3.0})
    assert effects["a"]["ci_low"] == pytest.approx(4.0) and effects["a"]["ci_high"] == pytest.approx(4.0)


def test_factorial_sweep_writes_effects(tmp_path):
    path = DATA / "sweep_factorial.yaml"
    out = tmp_path / "out"
    result = sweep(path, "--out", out, "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    spec = load_experiment(path).spec
    factors = list(spec.factors)
    kpis = pd.read_parquet(out / "kpis.parquet")
    # the first point has every factor at its first (low) level
    assert kpis.loc[0, factors].tolist() == [levels[0] for levels in spec.factors.values()]
    effects = pd.read_csv(out / "effects.csv")
    assert list(effects.columns) == ["kpi", "effect", "order", "estimate", "ci_low", "ci_high", "n"]
    expected = pd.DataFrame([e for kpi in spec.kpis for e in factorial_effects(kpis.to_dict("records"), factors, kpi)])
    assert_frame_equal(effects, expected, check_exact=False, rtol=1e-12)
    assert list(effects["effect"].unique()) == [factors[0], factors[1], f"{factors[0]} × {factors[1]}"]
    assert (effects["n"] == 4).all()


# --------------------------------------------------------------------------- located errors, nothing run


def _locate(path: Path, needle: str) -> tuple[int, int]:
    """(line, column), 1-based, of the first `needle` in the file."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in {path}")


def _refused(tmp_path, name: str) -> tuple[Path, list[str]]:
    """Sweep tests/data/NAME: refused with status 2, nothing written; (its path, stderr lines)."""
    path = DATA / name
    result = sweep(path, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    assert not (tmp_path / "out").exists()
    return path, result.stderr.splitlines()


def test_a_bad_point_is_located_with_its_factor_values(tmp_path):
    path, lines = _refused(tmp_path, "sweep_bad_point.yaml")
    line, column = _locate(path, "1.5]")  # the level in the factor list, not the comment
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}:{line}:{column}: behaviour.mail_share: ")
    assert lines[0].endswith(" (got 1.5) [point 1: behaviour.mail_share=1.5]")


def test_an_unknown_kpi_is_located(tmp_path):
    path, lines = _refused(tmp_path, "sweep_bad_kpi.yaml")
    line, _ = _locate(path, "kpis:")
    assert len(lines) == 1 and lines[0].startswith(f"{path}:{line}:") and "unknown: wait_average" in lines[0], lines


def test_a_bad_precision_section_is_located(tmp_path):
    path, lines = _refused(tmp_path, "sweep_bad_precision.yaml")
    line, _ = _locate(path, "precision:")
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{path}:{line}:{_locate(path, 'kpi:')[1]}: precision.kpi: ")
    assert "unknown: wait_average" in lines[0]
    assert lines[1].startswith(f"{path}:{line}:{_locate(path, 'max:')[1]}: precision.max: ")


def test_a_factorial_needs_two_levels_per_factor(tmp_path):
    path, lines = _refused(tmp_path, "sweep_bad_factorial.yaml")
    line, column = _locate(path, "townships.east.windows.G1")
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}:{line}:{column}: factors.townships.east.windows.G1: two levels")
    assert lines[0].endswith("(got [1, 2, 3])")


# --------------------------------------------------------------------------- the shipped experiments


SHIPPED = sorted((ROOT / "experiments").glob("*.yaml"))


def test_at_least_two_experiments_ship():
    assert len(SHIPPED) >= 2, f"experiments/ holds {[p.name for p in SHIPPED]}"


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_experiment_loads(path):
    experiment = load_experiment(path)
    assert experiment.points and experiment.spec.name
    assert [p.index for p in experiment.points] == list(range(len(experiment.points)))
    labels = [p.label() for p in experiment.points]
    assert len(set(labels)) == len(labels), "two points with the same factor values"


# --------------------------------------------------------------------------- the Python API


@pytest.mark.slow  # a fresh interpreter running two sweeps: the full suite runs it
def test_python_api_returns_the_kpis_table(reference, tmp_path):
    """In a fresh interpreter (see the next test for why): the frame is kpis.parquet's, with or without `out`."""
    out = tmp_path / "out"
    code = (f"from simcenter import sweep as api; "
            f"api({str(GRID)!r}).to_parquet({str(tmp_path / 'bare.parquet')!r}); "
            f"api({str(GRID)!r}, out={str(out)!r}).to_parquet({str(tmp_path / 'out.parquet')!r})")
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    expected = pd.read_parquet(reference / "kpis.parquet")
    assert_frame_equal(pd.read_parquet(tmp_path / "bare.parquet"), expected)
    assert_frame_equal(pd.read_parquet(tmp_path / "out.parquet"), expected)
    assert_same_results(out, reference)


def test_python_api_survives_importing_the_batch_module():
    """The API functions are not shadowed by submodules: importing the modules the CLI and the
    functions use leaves simcenter.sweep and simcenter.compare callable."""
    import importlib

    for module in ("simcenter.batch", "simcenter.comparison", "simcenter.execution", "simcenter.experiment",
                   "simcenter.runner"):
        importlib.import_module(module)
    assert callable(simcenter.sweep) and callable(simcenter.compare) and callable(simcenter.run)
