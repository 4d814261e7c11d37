"""The command line end to end, on real files: run, validate, schema, determinism, packaging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simcenter import kpis as kpis_module
from simcenter.kpis import KPI_NAMES
from builders import invoke

SMALL = str(Path(__file__).parent / "data" / "small.yaml")



@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The small scenario run three times: --jobs 1, --jobs 2, and --jobs 1 again."""
    base = tmp_path_factory.mktemp("runs")
    outs = {}
    for name, jobs in (("one", 1), ("two", 2), ("again", 1)):
        result = invoke("run", SMALL, "--jobs", jobs, "--out", base / name)
        assert result.exit_code == 0, result.stderr
        outs[name] = (base / name, result)
    return outs


def test_run_writes_the_results_directory(runs):
    out, result = runs["one"]
    names = {p.name for p in out.iterdir()}
    assert {"manifest.json", "scenario.resolved.yaml", "kpis.parquet", "kpis.csv", "kpis_by_township.parquet",
            "summary.csv"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    kpis = pd.read_parquet(out / "kpis.parquet")
    assert list(kpis["replication"]) == [0, 1, 2]
    assert set(KPI_NAMES) <= set(kpis.columns)
    assert kpis["cases"].gt(0).all() and kpis["completed_share"].between(0, 1).all()
    by_town = pd.read_parquet(out / "kpis_by_township.parquet")
    assert sorted(by_town["township"].unique()) == ["east", "west"] and len(by_town) == 6
    # the county's cases are the townships' cases
    assert (by_town.groupby("replication")["cases"].sum().to_numpy() == kpis["cases"].to_numpy()).all()
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["kpi"]) == set(KPI_NAMES) and (summary["n"] <= 3).all()
    wait = summary.set_index("kpi").loc["wait_mean"]
    # the interval, computed independently: mean ± t(0.975, n − 1) × sd / √n over the replications
    from scipy import stats as scipy_stats

    values = kpis["wait_mean"].to_numpy(float)
    half = scipy_stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    assert np.allclose([wait["mean"], wait["ci_low"], wait["ci_high"]],
                       [values.mean(), values.mean() - half, values.mean() + half], rtol=1e-9)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 3 and manifest["scenarios"][0]["name"] == "small"
    assert len(manifest["scenarios"][0]["sha256"]) == 64 and "SeedSequence" in manifest["seed_scheme"]
    assert "wait_mean" in result.stdout and "95%" in result.stdout


def test_run_lists_the_headline_kpis_and_the_staff_cost_first(runs):
    from simcenter.console import SCREEN

    names = [line.split()[1] for line in runs["one"][1].stdout.splitlines() if line.startswith("│ ")]
    assert names[:len(SCREEN)] == list(SCREEN) == [*kpis_module.HEADLINE, "staff_cost"]
    assert sorted(names) == sorted(KPI_NAMES)


def test_same_results_whatever_the_number_of_jobs(runs):
    one, two, again = (runs[k][0] for k in ("one", "two", "again"))
    for name in ("kpis.csv", "summary.csv", "scenario.resolved.yaml"):
        assert (one / name).read_bytes() == (two / name).read_bytes() == (again / name).read_bytes(), name
    pd.testing.assert_frame_equal(pd.read_parquet(one / "kpis_by_township.parquet"),
                                  pd.read_parquet(two / "kpis_by_township.parquet"))
    executors = [json.loads((out / "manifest.json").read_text())["executor"] for out in (one, two, again)]
    assert executors == ["in-process", "processes:2", "in-process"]


def test_resolved_scenario_validates_and_reproduces(runs, tmp_path):
    out = runs["one"][0]
    result = invoke("run", out / "scenario.resolved.yaml", "--out", tmp_path / "re")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "re" / "kpis.csv").read_bytes() == (out / "kpis.csv").read_bytes()


def test_refuses_a_non_empty_out_without_force(runs):
    out = runs["one"][0]
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    result = invoke("run", SMALL, "--out", out)
    assert result.exit_code == 2
    assert "--force" in result.stderr and "Traceback" not in result.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert invoke("run", SMALL, "-r", 1, "--out", out, "--force").exit_code == 0


def test_json_summary_and_overrides(tmp_path):
    result = invoke("run", SMALL, "-r", 2, "--seed", 5, "--set", "townships.east.windows.G1=2", "--json",
                    "--records", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["kpi"] for r in rows} == set(KPI_NAMES) and all(r["n"] == 2 for r in rows if r["kpi"] == "cases")
    resolved = (tmp_path / "o" / "scenario.resolved.yaml").read_text()
    assert "seed: 5" in resolved
    visits = pd.read_parquet(tmp_path / "o" / "visits.parquet")
    cases = pd.read_parquet(tmp_path / "o" / "cases.parquet")
    assert set(visits["replication"]) == {0, 1} and len(cases) > 0


def test_bad_scenario_on_run_exits_2_and_writes_nothing(tmp_path):
    result = invoke("run", SMALL, "--set", "horizon.dayz=3", "--out", tmp_path / "never")
    assert result.exit_code == 2
    assert result.stderr.startswith("<--set>:1:1: horizon.dayz: a known key; did you mean days?")
    assert not (tmp_path / "never").exists()


def test_validate_the_shipped_baseline_and_schema():
    result = invoke("validate", "baseline", SMALL)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "ok: baseline (cangnan-status-quo: 18 townships, 43 items)"
    schema = json.loads(invoke("schema").stdout)
    assert {"townships", "items", "departments", "window_groups"} <= set(schema["properties"])
    assert set(schema["required"]) == {"townships", "items", "departments", "window_groups"}


def test_baseline_runs_one_short_replication(tmp_path):
    result = invoke("run", "-r", 1, "--set", "horizon.days=2", "--set", "horizon.warmup_days=0",
                    "--set", "horizon.drain_days=0", "--out", tmp_path / "b", "--json")
    assert result.exit_code == 0, result.stderr
    rows = {r["kpi"]: r for r in json.loads(result.stdout)}
    assert rows["cases"]["mean"] > 700  # two working days of about 704 cases
    assert 0 < rows["window_utilization_mean"]["mean"] < 1


def test_help_and_validate_do_not_import_pandas_or_matplotlib():
    """--help imports nothing heavy; validate needs the model's calendar for its capacity warnings
    (simcenter.model imports simpy and scipy) but never pandas or matplotlib."""
    code = ("import sys\nfrom simcenter.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'matplotlib', 'scipy', 'simpy') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    for args, allowed in ((["--help"], set()), (["validate", SMALL], {"scipy", "simpy"})):
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
        heavy = out.split("HEAVY ", 1)[1].strip()
        assert set(eval(heavy)) <= allowed, (args, out)  # noqa: S307 - our own print of a list of names


def test_run_writes_its_tables_without_pandas_or_matplotlib(tmp_path):
    """`run` writes its tables with pyarrow (simcenter.tables): importing pandas alone would cost
    about 0.4 s of a whole process."""
    code = ("import sys\nfrom simcenter.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('HEAVY', [m for m in ('pandas', 'matplotlib') if m in sys.modules])")
    args = ["run", SMALL, "-r", "2", "--set", "horizon.days=3", "--set", "horizon.warmup_days=1", "-o", tmp_path / "r"]
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True)
    assert out.stdout.split("HEAVY ", 1)[1].strip() == "[]", out.stdout
    assert (tmp_path / "r" / "kpis_by_hour.parquet").is_file() and (tmp_path / "r" / "manifest.json").is_file()


@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
def test_wheel_ships_the_scenarios_and_runs_outside_the_repository(tmp_path):
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path / "wheel"), str(root)], check=True, capture_output=True)
    wheel = next((tmp_path / "wheel").glob("simcenter-*.whl"))
    assert "simcenter/scenarios/baseline.yaml" in zipfile.ZipFile(wheel).namelist()
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp_path / "site"),
                    str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run([sys.executable, "-m", "simcenter", "validate", "baseline"], cwd=elsewhere, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert str(tmp_path / "site") in subprocess.run(
        [sys.executable, "-c", "import simcenter; print(simcenter.__file__)"], cwd=elsewhere, env=env,
        capture_output=True, text=True).stdout


def test_detail_tables_agree_with_the_kpis(runs):
    """kpis_by_hour, wait_histogram and cases_summary are consistent with kpis.parquet."""
    out, _ = runs["one"]
    kpis = pd.read_parquet(out / "kpis.parquet").set_index("replication")
    hist = pd.read_parquet(out / "wait_histogram.parquet")
    served = hist.groupby("replication")["count"].sum()
    over_15 = hist[hist["minute"] >= 15].groupby("replication")["count"].sum()
    # waits > 15 min: whole-minute bins from 15 up hold waits >= 15, so the share is an upper bound
    assert (over_15 / served >= kpis["wait_over_15_share"] - 1e-12).all()
    zero = hist[hist["minute"] == 0].groupby("replication")["count"].sum() / served
    assert (zero <= 1).all() and (zero > 0).all()
    cases = pd.read_parquet(out / "cases_summary.parquet")
    ended = cases.groupby("replication")["cases"].sum()  # cases_summary and trip KPIs: every ended case
    assert (ended == (kpis["cases"] * (1 - kpis["open_share"])).round().astype(int)).all()
    one_trip = cases[cases["trips"] <= 1].groupby("replication")["cases"].sum() / ended
    assert np.allclose(one_trip, kpis["one_trip_rate"])
    by_hour = pd.read_parquet(out / "kpis_by_hour.parquet")
    assert set(by_hour["township"]) == {"east", "west"} and by_hour["hour"].between(0, 23).all()
    # busy minutes in a clock hour cannot exceed its 60 minutes per window (services run past a
    # closing within the hour, so utilisation of the open minutes alone may exceed 1)
    opened = by_hour[by_hour["open_minutes"] > 0]
    assert (opened["utilization"] >= 0).all() and (opened["utilization"] * opened["open_minutes"] <= 60 + 1e-9).all()
    assert (opened["utilization"] > 0).any()
    assert (by_hour.loc[by_hour["open_minutes"] == 0, "arrivals"] == 0).all()  # nobody comes while closed


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/absolute", "a/b", "..", "名字 [bold]x"])
def test_a_scenario_name_never_leaves_the_results_folder(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "named.yaml"
    scenario.write_text(f"extends: {SMALL}\nname: {json.dumps(name)}\n", encoding="utf-8")
    result = invoke("run", scenario, "-r", 1, "--set", "horizon.days=1", "--set", "horizon.warmup_days=0",
                    "--set", "horizon.drain_days=0")
    assert result.exit_code == 0, result.stderr
    (made,) = (tmp_path / "results").iterdir()
    assert made.parent == tmp_path / "results" and (made / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["named.yaml", "results"]


@pytest.mark.slow  # a real pool of worker processes, terminated
def test_sigterm_stops_the_workers_and_exits_143(tmp_path):
    import signal
    import time

    psutil = pytest.importorskip("psutil")  # installed with the dask extra

    done = subprocess.Popen([sys.executable, "-m", "simcenter", "run", "baseline", "-r", "4", "--jobs", "2",
                             "--set", "horizon.days=60", "--out", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(done.pid)
    deadline = time.time() + 60
    while len(parent.children(recursive=True)) < 3 and time.time() < deadline:  # forkserver + 2 workers
        time.sleep(0.2)
    children = parent.children(recursive=True)
    assert len(children) >= 3, "the pool never started"
    time.sleep(1)
    done.send_signal(signal.SIGTERM)
    _, stderr = done.communicate(timeout=60)
    assert done.returncode == 143, stderr
    assert stderr.strip().splitlines()[-1] == "terminated"
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [p.cmdline() for p in alive]  # no forkserver or worker left behind


def test_a_reader_that_stops_early_is_not_an_error():
    """`simcenter reforms | true`: the reader is gone before anything is written; exit 0, no traceback."""
    for command in ("reforms", "validate baseline"):
        done = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m simcenter {command} | true"],
                              capture_output=True, text=True)
        assert done.returncode == 0 and not done.stderr, (command, done.stderr)


def test_names_are_text_in_every_medium(tmp_path):
    """Rich markup and TeX in a scenario name are printed and drawn as they are; control characters
    (an escape sequence, a bidi override) are refused where they are written."""
    odd = "[bold]odd[/bol $\\foo{$"
    path = tmp_path / "odd.yaml"
    path.write_text(f"extends: {SMALL}\nname: {json.dumps(odd)}\n", encoding="utf-8")
    short = ["--set", "horizon.days=2", "--set", "horizon.warmup_days=0", "--set", "horizon.drain_days=0"]
    done = invoke("compare", SMALL, path, "-r", 2, *short, "--kpi", "wait_mean", "--out", tmp_path / "out")
    assert done.exit_code == 0, done.stderr
    assert any(line.startswith(odd[:18]) for line in done.stdout.splitlines()), done.stdout  # long names are cut
    drawn = invoke("plot", tmp_path / "out", "--kind", "compare", "--kind", "waits")
    assert drawn.exit_code == 0, drawn.stderr
    for char, shown in (("\x1b[2J", "\\x1b"), ("\u202e", "\\u202e")):
        path.write_text(f"extends: {SMALL}\nname: {json.dumps('x' + char)}\n", encoding="utf-8")
        refused = invoke("validate", path)
        assert refused.exit_code == 2
        assert refused.stderr == f"{path}:2:7: name: text without control characters (got a {shown})\n"
