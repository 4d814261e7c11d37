"""`simcenter sweep` under stress: interruptions keep finished replications, --resume checks what it
resumes and says why points rerun, a dead pool worker is retried, every point failing still
reports, the grid is bounded, experiment keys on the command line, shipped experiment names,
several experiments, corrupt shards. Experiments: tests/data/sweep_grid.yaml (4 points × 4
replications of small.yaml on a few days)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner  # for `run`

from builders import DATA
from test_sweep import GRID, sweep, tally
from simcenter.batch import run_sweep
from simcenter.cli import main
from simcenter import experiment as experiments
from simcenter.experiment import load_experiment

ROOT = Path(__file__).resolve().parent.parent
REPLICATIONS = 16  # of the whole grid


@pytest.fixture(autouse=True)
def _no_ambient_scheduler(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "out"
    result = sweep(GRID, "--out", out)
    assert result.exit_code == 0, result.stderr
    return out


def assert_same_tables(out: Path, reference: Path) -> None:
    for name in ("kpis.parquet", "kpis_by_township.parquet", "summary.csv"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def _stop_after(tasks: int):
    """A progress callback that interrupts the sweep once `tasks` tasks have finished."""
    def progress(what, done, total):
        if done >= tasks:
            raise KeyboardInterrupt
    return progress


def _interrupted(out: Path, tasks: int = 1, **options) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_experiment(GRID), out, progress=_stop_after(tasks), **options)


# --------------------------------------------------------------------------- 1. finished tasks are on disk at once


def test_an_interrupted_in_process_sweep_keeps_its_finished_shards(tmp_path, reference):
    out = tmp_path / "out"
    _interrupted(out, tasks=1)
    assert len(list((out / "shards").glob("*.parquet"))) == 2  # the first task: replications 0 and 1 of point 0
    outcome = run_sweep(load_experiment(GRID), out, resume=True)
    assert outcome.reused == 2 and outcome.computed == REPLICATIONS - 2
    result = sweep(GRID, "--out", out, "--resume")
    assert result.exit_code == 0, result.stderr
    assert tally(result.stderr) == (0, REPLICATIONS)
    assert_same_tables(out, reference)


# --------------------------------------------------------------------------- 2. --resume checks the directory


def test_resume_refuses_a_run_results_directory(tmp_path):
    out = tmp_path / "run"
    ran = CliRunner().invoke(main, ["run", str(DATA / "small.yaml"), "-r", "1", "--set", "horizon.days=3",
                                    "--set", "horizon.warmup_days=1", "--out", str(out)], catch_exceptions=False)
    assert ran.exit_code == 0, ran.stderr
    before = sorted(p.name for p in out.iterdir())
    result = sweep(GRID, "--out", out, "--resume")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == [f"{out}: --resume needs a sweep of experiment sweep_grid "
                                          f"(got a run results directory)"]
    assert sorted(p.name for p in out.iterdir()) == before


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    """sweep_grid.yaml with `old` replaced by `new`, written elsewhere (its base found by path)."""
    path = tmp_path / "variant.yaml"
    path.write_text(GRID.read_text().replace(old, new).replace("base: small.yaml", f"base: {DATA / 'small.yaml'}"))
    return path


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("name: sweep_grid", "name: other_grid", "needs a sweep of experiment other_grid (got a sweep of experiment sweep_grid)"),
    ("[1, 2]", "[1, 3]", "needs a sweep of experiment sweep_grid with these points (got one with other factors or levels)"),
], ids=["another experiment", "another grid"])
def test_resume_refuses_a_sweep_of_another_experiment(tmp_path, reference, old, new, expected):
    result = sweep(_variant(tmp_path, old, new), "--out", reference, "--resume")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == [f"{reference}: --resume {expected}"]


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_resume_into_an_empty_or_missing_directory_just_starts(tmp_path, reference, state):
    out = tmp_path / "out"
    if state == "empty":
        out.mkdir()
    result = sweep(GRID, "--out", out, "--resume")
    assert result.exit_code == 0, result.stderr
    assert tally(result.stderr) == (REPLICATIONS, 0)
    assert_same_tables(out, reference)


# --------------------------------------------------------------------------- 3. why points rerun; chunk changes


def test_points_json_is_written_first_and_resume_says_what_is_left(tmp_path):
    out = tmp_path / "out"
    _interrupted(out, tasks=1)
    index = json.loads((out / "points.json").read_text())
    assert index["experiment"]["name"] == "sweep_grid" and len(index["points"]) == 4
    result = sweep(GRID, "--out", out, "--resume")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "point 0 (townships.east.windows.G1=1, reforms.coordination=off): 2 of 4 replications finished, " \
           "2 to run" in lines
    assert "point 1 (townships.east.windows.G1=1, reforms.coordination=on): 0 of 4 replications finished, " \
           "4 to run" in lines


@pytest.mark.parametrize("chunk", [1, 3, 4])
def test_another_chunk_reuses_every_finished_replication(tmp_path, reference, chunk):
    out = tmp_path / "out"
    _interrupted(out, tasks=3)  # 6 replications: points 0, 1 (chunk 2)
    result = sweep(GRID, "--out", out, "--resume", "--set", f"chunk={chunk}")
    assert result.exit_code == 0, result.stderr
    assert tally(result.stderr) == (REPLICATIONS - 6, 6)
    assert_same_tables(out, reference)


# --------------------------------------------------------------------------- 4. a dead pool worker


def _kill_a_worker(tasks: int):
    """A progress callback that kills one pool worker (a grandchild: the forkserver's child) once."""
    psutil = pytest.importorskip("psutil")
    killed = []

    def progress(what, done, total):
        if done >= tasks and not killed:
            me = os.getpid()
            workers = [p for p in psutil.Process(me).children(recursive=True) if p.ppid() != me]
            assert workers, "no pool worker to kill"
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)
    return progress, killed


@pytest.mark.slow  # a process pool on a slower grid
def test_a_dead_worker_is_retried_on_a_fresh_pool(tmp_path):
    experiment = load_experiment(GRID, ["horizon.days=12"])
    reference = tmp_path / "reference"
    run_sweep(experiment, reference)
    out = tmp_path / "out"
    progress, killed = _kill_a_worker(1)
    outcome = run_sweep(load_experiment(GRID, ["horizon.days=12"]), out, jobs=2, progress=progress)
    assert killed and outcome.failed == {} and outcome.retried >= 1
    assert sorted(outcome.replications.values()) == [4, 4, 4, 4]
    for name in ("kpis.parquet", "kpis_by_township.parquet"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def test_a_failed_point_has_no_rows_even_if_some_of_its_tasks_finished(tmp_path):
    """Point 1 fails in its first task; whatever finished of it must not reach the tables."""
    out = tmp_path / "out"
    result = sweep(DATA / "sweep_failing.yaml", "--out", out, "--set", "chunk=1")
    assert result.exit_code == 3, result.stderr
    assert set(pd.read_parquet(out / "kpis.parquet")["point"]) == {0, 2}
    manifest = json.loads((out / "manifest.json").read_text())
    assert [p["replications"] for p in manifest["points"]] == [4, 0, 4]


# --------------------------------------------------------------------------- 6. the grid is bounded


def test_a_huge_grid_is_refused_before_anything_is_resolved(tmp_path):
    path = tmp_path / "huge.yaml"
    levels = list(range(10))
    factors = "".join(f"  townships.east.windows.G{i}: {levels}\n" for i in range(6))
    path.write_text(f"name: huge\nbase: {DATA / 'small.yaml'}\ndesign: grid\nfactors:\n{factors}")
    result = sweep(path, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == [f"{path}:4:1: factors: at most {experiments.MAX_POINTS} points (got 1000000)"]
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- 7. experiment keys, names, several


def test_replications_option_and_set_override_the_experiment(tmp_path):
    for option in (["-r", "1"], ["--set", "replications=1"]):
        out = tmp_path / option[0].strip("-")
        result = sweep(GRID, "--out", out, *option)
        assert result.exit_code == 0, result.stderr
        assert tally(result.stderr) == (4, 0)
        assert list(pd.read_parquet(out / "kpis.parquet")["replication"]) == [0, 0, 0, 0]


def test_a_bad_experiment_key_on_the_command_line_is_located(tmp_path):
    result = sweep(GRID, "--out", tmp_path / "out", "--set", "chunk=0")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == ["<--set>:1:7: chunk: should be greater than or equal to 1 (got 0)"]
    result = sweep(GRID, "--out", tmp_path / "out", "--set", "design=points")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == ["<--set>:1:1: design: a key of the base scenario or one of the "
                                          "experiment's replications, seed, chunk, precision, kpis "
                                          "(got 'design=points')"]
    assert not (tmp_path / "out").exists()


def test_a_shipped_experiment_is_found_by_name(tmp_path):
    result = sweep("reform_factorial", "--out", tmp_path / "out", "--set", "replications=0")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == ["<--set>:1:14: replications: should be greater than or equal to 1 (got 0)"]
    shipped = ROOT / "experiments" / "reform_factorial.yaml"
    assert experiments.experiment_path("reform_factorial").read_bytes() == shipped.read_bytes()


def test_several_experiments_run_into_their_own_directories(tmp_path, reference, monkeypatch):
    second = _variant(tmp_path, "name: sweep_grid", "name: second")
    monkeypatch.chdir(tmp_path)
    result = sweep(GRID, second)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [str(Path("results") / "sweep_grid"), str(Path("results") / "second")]
    assert_same_tables(tmp_path / "results" / "sweep_grid", reference)
    assert_same_tables(tmp_path / "results" / "second", reference)


def test_several_experiments_with_one_out_are_refused(tmp_path):
    result = sweep(GRID, GRID, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.splitlines() == [f"--out {tmp_path / 'out'}: one experiment (got 2; without --out each "
                                          f"goes to results/NAME)"]
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- 8. a corrupt shard


def test_a_corrupt_shard_is_recomputed_with_a_warning(tmp_path, reference):
    out = tmp_path / "out"
    _interrupted(out, tasks=1)
    shard = sorted((out / "shards").glob("*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:40])
    result = sweep(GRID, "--out", out, "--resume")
    assert result.exit_code == 0, result.stderr
    assert f"warning: {shard}: unreadable shard, its replication runs again" in result.stderr.splitlines()
    assert tally(result.stderr) == (REPLICATIONS - 1, 1)
    assert_same_tables(out, reference)


@pytest.mark.slow  # builds a wheel
def test_the_wheel_ships_the_experiments(tmp_path):
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    names = zipfile.ZipFile(next(tmp_path.glob("simcenter-*.whl"))).namelist()
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        assert f"simcenter/experiments/{path.name}" in names
