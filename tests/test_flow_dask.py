"""`run --scheduler` and `compare --scheduler` on a real Dask cluster (a LocalCluster of two worker
processes on 127.0.0.1, as tests/test_sweep.py starts one): the same tables, byte for byte, as
`--jobs 1`, and the cluster named in the manifest. DASK_SCHEDULER_ADDRESS is read as `sweep` reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from builders import SMALL, invoke

distributed = pytest.importorskip("distributed", reason='Dask: pip install "simcenter[dask]"')
pytestmark = pytest.mark.slow  # a Dask cluster and whole commands: the full suite runs them


@pytest.fixture(scope="module")
def cluster():
    """A scheduler address; DASK_SCHEDULER_ADDRESS unset so that only --scheduler chooses Dask."""
    with pytest.MonkeyPatch.context() as mp, distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, host="127.0.0.1", processes=True, dashboard_address=None) as local:
        mp.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
        yield local.scheduler_address


@pytest.fixture(scope="module")
def reform(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenarios") / "more.yaml"
    path.write_text(f"extends: {SMALL}\nname: small-more-windows\ntownships: {{east: {{windows: {{G1: 2}}}}}}\n")
    return path


def ran(out: Path, *command) -> Path:
    result = invoke(*command, "-r", 4, "--out", out)
    assert result.exit_code == 0, result.stderr
    return out


def assert_same_tables(out: Path, reference: Path, tables: tuple[str, ...]) -> None:
    for table in ("kpis.parquet", "kpis_by_township.parquet"):
        assert_frame_equal(pd.read_parquet(out / table), pd.read_parquet(reference / table))
    for table in tables:
        assert (out / table).read_bytes() == (reference / table).read_bytes(), table


def executor(out: Path) -> str:
    return json.loads((out / "manifest.json").read_text())["executor"]


def test_run_on_a_dask_cluster_gives_the_results_of_one_job(cluster, tmp_path):
    reference = ran(tmp_path / "one", "run", SMALL, "--jobs", 1)
    out = ran(tmp_path / "dask", "run", SMALL, "--scheduler", cluster)
    assert_same_tables(out, reference, ("summary.csv", "kpis.csv"))
    assert executor(reference) == "in-process" and executor(out) == f"dask:{cluster}"


def test_compare_on_a_dask_cluster_gives_the_results_of_one_job(cluster, reform, tmp_path):
    reference = ran(tmp_path / "one", "compare", SMALL, reform, "--jobs", 1)
    out = ran(tmp_path / "dask", "compare", SMALL, reform, "--scheduler", cluster)
    assert_same_tables(out, reference, ("summary.csv", "comparison.csv"))
    assert executor(out) == f"dask:{cluster}"


def test_the_cluster_from_the_environment(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster)
    out = ran(tmp_path / "dask", "run", SMALL)
    assert executor(out) == f"dask:{cluster}"


def test_jobs_and_scheduler_together_are_refused(cluster, tmp_path):
    for command in (["run", SMALL], ["compare", SMALL, SMALL]):
        result = invoke(*command, "--jobs", 2, "--scheduler", cluster, "--out", tmp_path / command[0])
        assert result.exit_code == 2 and "give either --jobs or --scheduler" in result.stderr
        assert not (tmp_path / command[0]).exists()  # nothing written


def test_a_bad_scheduler_address_is_one_line_and_nothing_written(tmp_path):
    result = invoke("run", SMALL, "--scheduler", "tcp://127.0.0.1:port", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert [line.split(" (got")[0] for line in result.stderr.splitlines()] == [
        "--scheduler tcp://127.0.0.1:port: a Dask scheduler's address, e.g. tcp://127.0.0.1:8786"]
    assert not (tmp_path / "out").exists()


def test_the_python_api_on_a_dask_cluster(cluster, reform):
    import simcenter

    assert_frame_equal(simcenter.run(SMALL, 3, scheduler=cluster).kpis, simcenter.run(SMALL, 3).kpis)
    on_dask = simcenter.compare(SMALL, [reform], 3, scheduler=cluster)
    assert on_dask.result.executor == f"dask:{cluster}"
    assert_frame_equal(on_dask.comparison, simcenter.compare(SMALL, [reform], 3).comparison)
    with pytest.raises(ValueError, match="give either jobs or scheduler"):
        simcenter.run(SMALL, 3, jobs=2, scheduler=cluster)
