"""`simcenter compare`: common random numbers, paired-t intervals, Bonferroni, the results directory."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

import simcenter
from simcenter.comparison import COMPARISON_COLUMNS, compare, library, shipped
from simcenter.kpis import KPI_NAMES
from simcenter.stats import bonferroni_level, paired_interval
from builders import SMALL, invoke

SHORT = ["--set", "horizon.days=2", "--set", "horizon.warmup_days=0", "--set", "horizon.drain_days=0"]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """small.yaml under another name, and with one more window; the latter states its own seed and
    replications, which a comparison must override with the baseline's."""
    folder = tmp_path_factory.mktemp("scenarios")
    return {
        "copy": write(folder / "copy.yaml", f"extends: {SMALL}\nname: small-copy\n"),
        "more": write(folder / "more.yaml", f"extends: {SMALL}\nname: small-more-windows\nseed: 5\n"
                                            "replications: 2\ntownships: {east: {windows: {G1: 2}}}\n"),
        "same_name": write(folder / "same_name.yaml", f"extends: {SMALL}\ntownships: {{east: {{windows: {{G1: 2}}}}}}\n"),
    }


@pytest.fixture(scope="module")
def result(files):
    """The Python API: small vs itself (renamed) vs one more window, 12 replications, in-process."""
    return compare(SMALL, [files["copy"], files["more"]], replications=12)


def rows(result, reform: str) -> dict[str, dict]:
    return {r["kpi"]: r for r in result.comparison if r["reform"] == reform}


def per_replication(result, scenario: str, kpi: str) -> np.ndarray:
    return np.array([r[kpi] for r in result.kpis if r["scenario"] == scenario], float)


# --------------------------------------------------------------------------- paired intervals


def test_paired_interval_is_scipys_paired_t():
    rng = np.random.default_rng(1)
    baseline = rng.normal(10, 3, 15)
    reform = baseline - 1 + rng.normal(0, 0.5, 15)
    mean, low, high, n = paired_interval(reform, baseline, 0.99)
    expected = scipy_stats.ttest_rel(reform, baseline).confidence_interval(0.99)
    assert n == 15 and mean == pytest.approx(np.mean(reform - baseline))
    assert (low, high) == pytest.approx((expected.low, expected.high))


def test_paired_interval_edge_cases():
    assert paired_interval([1.5, 2.5, 3.5], [1.0, 2.0, 3.0]) == (0.5, 0.5, 0.5, 3)  # equal differences: zero width
    assert paired_interval([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]) == (0.0, 0.0, 0.0, 3)
    mean, low, high, n = paired_interval([1.0, math.nan, 3.0, 4.0], [0.0, 1.0, math.nan, 2.0])
    assert (mean, n) == (1.5, 2) and low < 1.5 < high  # a pair with a NaN on either side is dropped
    mean, low, high, n = paired_interval([2.0], [1.0])
    assert (mean, n) == (1.0, 1) and math.isnan(low) and math.isnan(high)
    assert math.isnan(paired_interval([math.nan], [1.0])[0])
    assert bonferroni_level(1) == pytest.approx(0.95) and bonferroni_level(4) == pytest.approx(0.9875)
    with pytest.raises(ValueError):
        paired_interval([1.0, 2.0], [1.0])


# --------------------------------------------------------------------------- the comparison


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(result):
    same = rows(result, "small-copy")
    assert set(same) == set(KPI_NAMES)
    # small.yaml has no market days and no county reviewer limit: those KPIs are empty in every replication
    empty = {"wait_p90_market_morning", "county_reviewer_utilization_max"}
    for kpi, row in same.items():
        assert row["n"] == (0 if kpi in empty else 12), kpi
        if kpi in empty:
            continue
        assert (row["difference"], row["ci_low"], row["ci_high"]) == (0.0, 0.0, 0.0), kpi
        assert row["baseline_mean"] == row["reform_mean"] and not row["significant"]


def test_every_scenario_meets_the_same_citizens(result):
    assert [s.seed for s in result.scenarios] == [99, 99, 99]  # more.yaml's own seed 5 is overridden
    assert result.replications == 12 and all(s.replications == 12 for s in result.scenarios)
    cases = {s.name: per_replication(result, s.name, "cases") for s in result.scenarios}
    assert (cases["small"] == cases["small-more-windows"]).all()  # the same arrivals, whatever the windows
    assert len(set(cases["small"])) > 1  # ...and different ones from one replication to the next


def test_common_random_numbers_make_the_paired_interval_narrower_than_welch(result):
    row = rows(result, "small-more-windows")["wait_mean"]
    baseline = per_replication(result, "small", "wait_mean")
    reform = per_replication(result, "small-more-windows", "wait_mean")
    welch = scipy_stats.ttest_ind(reform, baseline, equal_var=False).confidence_interval(row["level"])
    paired = scipy_stats.ttest_rel(reform, baseline).confidence_interval(row["level"])
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((paired.low, paired.high))
    assert row["ci_high"] - row["ci_low"] < welch.high - welch.low


def test_one_more_window_does_not_increase_the_mean_wait(result):
    wait = rows(result, "small-more-windows")["wait_mean"]
    assert wait["ci_high"] <= 0 and wait["significant"]
    assert wait["difference"] == pytest.approx(wait["reform_mean"] - wait["baseline_mean"])
    staff = rows(result, "small-more-windows")["staff_hours"]  # a window more: its scheduled time, plus overtime
    assert staff["difference"] > 0 and staff["significant"]
    review = rows(result, "small-more-windows")["staff_hours_township_review"]  # the reviewers did not change
    assert review["difference"] == review["ci_low"] == review["ci_high"] == 0


def test_bonferroni_across_reforms(result):
    assert result.level == pytest.approx(1 - 0.05 / 2)
    assert {r["level"] for r in result.comparison} == {result.level}
    assert "Bonferroni-adjusted for 2 reforms (each at level 0.975)" in result.method
    summary = {(r["scenario"], r["kpi"]): r for r in result.summary}
    assert len(summary) == 3 * len(KPI_NAMES)
    wait = summary[("small", "wait_mean")]
    assert wait["ci_low"] < wait["mean"] < wait["ci_high"] and wait["n"] == 12


def test_the_package_re_exports_compare():
    assert callable(simcenter.compare) and simcenter.compare.__doc__


def test_library_is_every_shipped_scenario_but_the_baseline():
    names = library()
    assert "baseline" not in names and names == sorted(names)
    assert all(shipped(name).is_file() for name in names)


# --------------------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def runs(files, tmp_path_factory):
    """The CLI with --jobs 1 (the table), --jobs 2 (JSON) and --jobs 1 again (every KPI, chosen columns)."""
    base = tmp_path_factory.mktemp("compare")
    outs = {}
    for key, extra in ((1, []), (2, ["--json"]), (3, ["--every-kpi"]), (4, ["--kpi", "cases", "--kpi", "wait_p90"])):
        out = base / f"run{key}"
        short = SHORT if key > 2 else []  # only the printing differs: a shorter horizon will do
        done = invoke("compare", SMALL, files["copy"], files["more"], "-r", 4, "--jobs", 2 if key == 2 else 1, "--out", out,
                      *short, *extra)
        assert done.exit_code == 0, done.stderr
        outs[key] = (out, done)
    return outs


def test_cli_writes_the_results_directory(runs):
    out, done = runs[1]
    names = {p.name for p in out.iterdir()}
    assert names == {"manifest.json", "kpis.parquet", "kpis.csv", "kpis_by_township.parquet", "summary.csv",
                     "comparison.csv", "scenarios", "kpis_by_hour.parquet", "wait_histogram.parquet",
                     "cases_summary.parquet", "kpis_by_department.parquet"}
    assert sorted(p.name for p in (out / "scenarios").iterdir()) == [
        "small-copy.resolved.yaml", "small-more-windows.resolved.yaml", "small.resolved.yaml"]
    assert "seed: 99" in (out / "scenarios" / "small-more-windows.resolved.yaml").read_text()
    kpis = pd.read_parquet(out / "kpis.parquet")
    assert list(kpis.columns[:2]) == ["scenario", "replication"] and set(KPI_NAMES) <= set(kpis.columns)
    assert list(kpis["scenario"]) == ["small"] * 4 + ["small-copy"] * 4 + ["small-more-windows"] * 4
    assert list(kpis["replication"]) == [0, 1, 2, 3] * 3
    by_town = pd.read_parquet(out / "kpis_by_township.parquet")
    assert len(by_town) == 3 * 4 * 2 and {"scenario", "replication", "township"} <= set(by_town.columns)
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["scenario", "kpi", "mean", "ci_low", "ci_high", "n"] and len(summary) == 3 * len(KPI_NAMES)
    comparison = pd.read_csv(out / "comparison.csv")
    assert list(comparison.columns) == list(COMPARISON_COLUMNS)
    assert len(comparison) == 2 * len(KPI_NAMES) and comparison["significant"].dtype == bool
    assert (comparison["level"] == 0.975).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["name"] for s in manifest["scenarios"]] == ["small", "small-copy", "small-more-windows"]
    assert {s["seed"] for s in manifest["scenarios"]} == {99} and manifest["replications"] == 4
    assert all(len(s["sha256"]) == 64 for s in manifest["scenarios"])
    assert "Bonferroni-adjusted for 2 reforms (each at level 0.975)" in manifest["comparison_method"]
    assert not [p for p in out.rglob("*.tmp")]


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The default table's rows: {scenario: its cells}, from the header's rule to the legend."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"})
    rows = {}
    for line in lines[start + 1:]:
        if "=" in line:  # the legend
            break
        name, *cells = line.split()
        rows[name] = cells
    return rows


def test_cli_table_is_scenarios_by_headline_kpis_with_the_significance_of_comparison_csv(runs):
    from simcenter.console import SCREEN

    out, done = runs[1]
    rows = table_rows(done.stdout)
    assert list(rows) == ["small", "small-copy", "small-more-windows"]
    assert all(len(cells) == len(SCREEN) for cells in rows.values())
    summary = pd.read_csv(out / "summary.csv").set_index(["scenario", "kpi"])["mean"]
    # the baseline's means, shares in %: e.g. the mean wait with two decimals (it is below 10)
    assert rows["small"][SCREEN.index("wait_mean")] == f"{summary['small', 'wait_mean']:.2f}"
    share = SCREEN.index("served_within_15_share")
    assert rows["small"][share] == f"{100 * summary['small', 'served_within_15_share']:.1f}"
    comparison = pd.read_csv(out / "comparison.csv").set_index(["reform", "kpi"])
    for reform in ("small-copy", "small-more-windows"):
        marks = [cell.endswith("*") for cell in rows[reform]]
        assert marks == [bool(comparison.loc[(reform, k), "significant"]) for k in SCREEN], reform
    assert rows["small-more-windows"][SCREEN.index("staff_hours")].endswith("*")  # a window more, every replication
    assert rows["small-copy"][SCREEN.index("wait_mean")] == "+0.00"  # the same citizens: no change at all
    assert "1-trip = strict one-trip rate" in " ".join(done.stdout.split())
    assert max(len(line) for line in done.stdout.splitlines()) <= 100


def test_cli_kpi_picks_the_columns_and_every_kpi_prints_every_kpi(runs):
    rows = table_rows(runs[4][1].stdout)
    assert len(rows["small"]) == 2 and "cases = cases in scope; wait90 = 90th-percentile wait" in runs[4][1].stdout
    assert rows["small-copy"][0] == rows["small-more-windows"][0] == "+0"  # the same citizens come
    every = runs[3][1].stdout
    assert all(f"│ {name} " in every for name in KPI_NAMES)


def test_cli_unknown_kpi_exits_2_before_running(tmp_path):
    done = invoke("compare", SMALL, SMALL, "--kpi", "wait_mean", "--kpi", "wiat_mean", "--out", tmp_path / "never")
    assert done.exit_code == 2
    assert done.stderr == "--kpi wiat_mean: a KPI column, e.g. wait_mean or staff_cost (docs/kpis.md) (got 'wiat_mean')\n"
    assert not (tmp_path / "never").exists()


def test_cli_every_kpi_table_states_the_method(runs):
    stdout = runs[3][1].stdout
    assert "small-more-windows vs small" in stdout and "wait_mean" in stdout and "97.5% CI" in stdout
    assert "paired-t intervals over 4 replications with common random numbers, Bonferroni-adjusted for 2 reforms " \
           "(each at level 0.975)" in " ".join(stdout.split())
    more = stdout[stdout.index("small-more-windows vs small"):]  # with two reforms, one table per reform
    def cell(kpi):
        return next(line for line in more.splitlines() if line.startswith(f"│ {kpi} ")).rstrip(" │")

    assert cell("staff_hours").endswith("*")  # a window more: more staff hours, every replication alike
    assert cell("cases").endswith("0.000 [0.000, 0.000]")  # the same citizens come


def test_cli_json(runs):
    data = json.loads(runs[2][1].stdout)
    assert data["baseline"] == "small" and data["reforms"] == ["small-copy", "small-more-windows"]
    assert data["level"] == pytest.approx(0.975) and "Bonferroni" in data["method"]
    assert len(data["summary"]) == 3 * len(KPI_NAMES) and len(data["comparison"]) == 2 * len(KPI_NAMES)
    assert set(data["comparison"][0]) == set(COMPARISON_COLUMNS)


def test_cli_same_results_whatever_the_number_of_jobs(runs):
    one, two = runs[1][0], runs[2][0]
    for name in ("comparison.csv", "kpis.csv", "summary.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    executors = [json.loads((out / "manifest.json").read_text())["executor"] for out in (one, two)]
    assert executors == ["in-process", "processes:2"]


def test_cli_refuses_two_scenarios_with_the_same_name(files, tmp_path):
    done = invoke("compare", SMALL, files["same_name"], "--out", tmp_path / "never")
    assert done.exit_code == 2
    assert done.stderr == (f"{files['same_name']}: name: a name of its own, since compared scenarios are told apart "
                           f"by name (got 'small', the name of {SMALL})\n")
    assert not (tmp_path / "never").exists()


def test_cli_bad_input_exits_2_and_writes_nothing(files, tmp_path):
    done = invoke("compare", SMALL, files["more"], "--set", "horizon.dayz=3", "--out", tmp_path / "never")
    assert done.exit_code == 2
    assert done.stderr == "<--set>:1:1: horizon.dayz: a known key; did you mean days? (got 'dayz')\n"  # once, not per scenario
    assert not (tmp_path / "never").exists()
    broken = write(tmp_path / "broken.yaml", f"extends: {SMALL}\nname: broken\nhorizon: {{days: 0}}\n")
    done = invoke("compare", SMALL, broken, "--out", tmp_path / "never")
    assert done.exit_code == 2 and done.stderr.startswith(f"{broken}:3:") and "Traceback" not in done.stderr
    assert not (tmp_path / "never").exists()
    done = invoke("compare", SMALL, "--out", tmp_path / "never")
    assert done.exit_code == 2 and "at least one reform" in done.stderr


def test_cli_refuses_a_non_empty_out_without_force(runs, files):
    out = runs[1][0]
    done = invoke("compare", SMALL, files["copy"], "-r", 2, "--out", out)
    assert done.exit_code == 2 and "--force" in done.stderr




@pytest.mark.slow  # whole commands, real processes or a browser: the full suite runs it
def test_cli_without_arguments_compares_the_baseline_with_the_headline_reforms(tmp_path):
    from simcenter.comparison import HEADLINE, HEADLINE_REPLICATIONS

    done = invoke("compare", *SHORT, "--json", "--out", tmp_path / "headline")
    assert done.exit_code == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["baseline"] == "cangnan-status-quo" and len(data["reforms"]) == len(HEADLINE)
    assert f"{HEADLINE_REPLICATIONS} replications" in done.stderr and "precision" in done.stderr
    manifest = json.loads((tmp_path / "headline" / "manifest.json").read_text())
    assert len(manifest["scenarios"]) == 1 + len(HEADLINE)
    assert manifest["replications"] == HEADLINE_REPLICATIONS


@pytest.mark.slow  # the whole library (16 scenarios)
def test_cli_table_of_the_whole_library_fits_a_screen(tmp_path):
    """`compare --all` at COLUMNS=100: one table of at most 40 lines, none wider than 100, whose
    marks are comparison.csv's."""
    from simcenter.console import SCREEN

    out = tmp_path / "library"
    done = subprocess.run([sys.executable, "-m", "simcenter", "compare", "--all", "-r", "2", *SHORT, "--out", str(out)],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "100"}, check=True)
    lines = done.stdout.splitlines()
    assert len(lines) <= 40 and max(len(line) for line in lines) <= 100, done.stdout
    rows = table_rows(done.stdout)
    assert len(rows) == 1 + len(library())
    comparison = pd.read_csv(out / "comparison.csv").set_index(["reform", "kpi"])
    for reform, cells in list(rows.items())[1:]:
        assert [c.endswith("*") for c in cells] == [bool(comparison.loc[(reform, k), "significant"]) for k in SCREEN]
    manifest = json.loads((out / "manifest.json").read_text())  # --all: the baseline and every reform
    assert len(manifest["scenarios"]) == 1 + len(library())
    assert invoke("compare", "--all", SMALL, SMALL, "--out", tmp_path / "never").exit_code == 2




def test_compare_help_does_not_import_pandas():
    code = ("import sys\nfrom simcenter.cli import main\n"
            "try:\n    main(['compare', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in ('pandas', 'matplotlib', 'scipy', 'simpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out and "Bonferroni" in out
