"""Reading a results directory (simcenter.resultsdir): the kind by one rule, the groups in order,
summary statistics taken from summary.csv (and the report showing them), and the data notes of
the shipped Cangnan data only for results made from it."""

from __future__ import annotations

import json
import math
import shutil

import pandas as pd
import pytest

from simcenter import resultsdir
from simcenter.results import OutputError
from simcenter.stats import t_interval
from builders import SMALL, invoke, results_dirs

SHORT = ["--set", "horizon.days=4", "--set", "horizon.warmup_days=1", "--set", "horizon.drain_days=5"]



@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    """{"run", "compare", "sweep"}: small real results directories."""
    base = tmp_path_factory.mktemp("resultsdir")
    (base / "more.yaml").write_text(f"extends: {SMALL}\nname: small-more\ntownships: {{east: {{windows: {{G1: 2}}}}}}\n",
                                    encoding="utf-8")
    (base / "exp.yaml").write_text(
        f"name: tiny\nbase: {SMALL}\ndesign: factorial\nfactors:\n  townships.east.windows.G1: [1, 2]\n"
        "replications: 2\nchunk: 2\nkpis: [wait_mean, one_trip_rate]\n"
        "sets: [horizon.days=4, horizon.warmup_days=1, horizon.drain_days=5]\n", encoding="utf-8")
    commands = {"run": ["run", SMALL, "-r", 2, *SHORT],
                "compare": ["compare", base / "more.yaml", SMALL, "-r", 2, *SHORT],
                "sweep": ["sweep", base / "exp.yaml"]}
    return results_dirs(base, commands)


@pytest.mark.parametrize("manifest, comparison_file, kind", [
    ({"experiment": {"name": "x"}, "scenarios": [{"name": "a"}, {"name": "b"}]}, True, "sweep"),
    ({"command": "compare", "scenarios": [{"name": "a"}]}, False, "compare"),
    ({"scenarios": [{"name": "a"}]}, True, "compare"),
    ({"scenarios": [{"name": "a"}, {"name": "b"}]}, False, "compare"),
    ({"scenarios": [{"name": "a"}]}, False, "run"),
    ({}, False, "run"),
])
def test_the_kind_rule(tmp_path, manifest, comparison_file, kind):
    if comparison_file:
        (tmp_path / "comparison.csv").write_text("reform,kpi\n", encoding="utf-8")
    assert resultsdir.kind_of(tmp_path, manifest) == kind


def test_real_directories_have_their_kind_and_groups(dirs):
    run, compare, sweep = (resultsdir.read(dirs[k]) for k in ("run", "compare", "sweep"))
    assert (run.kind, run.groups, run.reforms) == ("run", ["small"], [])
    # the baseline is the first scenario named on the command line: small-more here
    assert (compare.kind, compare.groups, compare.reforms) == ("compare", ["small-more", "small"], ["small"])
    assert sweep.kind == "sweep" and sweep.groups == ["point 0", "point 1"] and sweep.scenarios == []
    assert sweep.factors == ["townships.east.windows.G1"]
    assert sweep.points == {"point 0": {"townships.east.windows.G1": 1}, "point 1": {"townships.east.windows.G1": 2}}
    assert set(run.townships) == {"east", "west"} and set(run.resolved) == {"small"}
    for results in (run, compare, sweep):
        assert set(results.kpis["group"]) == set(results.groups)


def test_summary_is_summary_csv_and_the_same_as_computing_it(dirs):
    for kind in ("run", "compare", "sweep"):
        results = resultsdir.read(dirs[kind])
        table = pd.read_csv(dirs[kind] / "summary.csv")
        groups = [str(s) for s in table["scenario"]] if "scenario" in table else [f"point {p}" for p in table["point"]]
        for group, row in zip(groups, table.to_dict("records")):
            mean, low, high, n = results.stat(group, row["kpi"])
            assert (mean, n) == (row["mean"], row["n"]) or (math.isnan(mean) and math.isnan(row["mean"]))
            assert (low, high) == (row["ci_low"], row["ci_high"]) or math.isnan(row["ci_low"])
            # the same numbers as the t interval over the replications
            values = results.kpis.loc[results.kpis["group"] == group].sort_values("replication")[row["kpi"]]
            again = t_interval(values.to_numpy(float))
            assert again[3] == n and (again[0] == mean or math.isnan(mean))
            assert again[1:3] == (low, high) or math.isnan(low)
    assert resultsdir.read(dirs["run"]).computed == [] and resultsdir.read(dirs["compare"]).computed == []
    sweep = resultsdir.read(dirs["sweep"])  # summary.csv of a sweep holds its KPIs of interest only
    assert "wait_mean" not in sweep.computed and "one_trip_rate" not in sweep.computed and "cases" in sweep.computed
    assert sweep.stat("point 0", "cases")[3] == 2


def test_the_report_shows_summary_csv(dirs, tmp_path):
    """A value changed in summary.csv is what the report shows (it recomputes nothing)."""
    from simcenter.report import wording

    target = tmp_path / "tampered"
    shutil.copytree(dirs["run"], target)
    table = pd.read_csv(target / "summary.csv")
    table.loc[table["kpi"] == "wait_mean", ["mean", "ci_low", "ci_high"]] = [123.456, 120.0, 130.0]
    table.to_csv(target / "summary.csv", index=False)
    assert resultsdir.read(target).stat("small", "wait_mean")[:3] == (123.456, 120.0, 130.0)
    # the report's finding for it (what report.build puts in its first section)
    assert wording.run_sentence(resultsdir.read(target), "small", "wait_mean") == \
        "Mean wait: 123.5 min (95% CI 120.0 to 130.0)."


def test_a_directory_without_kpis_is_refused(dirs, tmp_path):
    target = tmp_path / "partial"
    shutil.copytree(dirs["run"], target)
    (target / "kpis.parquet").unlink()
    with pytest.raises(OutputError, match="not a results directory"):
        resultsdir.read(target)
    (target / "manifest.json").write_text(json.dumps([1]), encoding="utf-8")
    with pytest.raises(OutputError, match="unreadable manifest"):
        resultsdir.read(target)


def test_cangnan_notes_only_for_the_shipped_data(dirs, tmp_path):
    from simcenter.report import notes

    synthetic = notes.data_notes(resultsdir.read(dirs["run"]))
    assert synthetic == [notes.GENERAL] and not any("Cangnan" in n for n in synthetic)
    assert not any("Cangnan" in n for n in notes.data_notes(resultsdir.read(dirs["sweep"])))
    # the shipped baseline, one short day
    target = tmp_path / "cangnan"
    result = invoke("run", "baseline", "-r", 1, "--set", "horizon.days=1", "--set", "horizon.warmup_days=0",
                    "--set", "horizon.drain_days=0", "--out", target)
    assert result.exit_code == 0, result.stderr
    shipped = notes.data_notes(resultsdir.read(target))
    assert shipped[-1] == notes.GENERAL and len(shipped) > 2
    assert any("43-item catalogue" in n and "reconstruction" in n for n in shipped)
    assert all("\n" not in n and "  " not in n for n in shipped)  # one line each, from docs/cangnan-data-notes.md


def test_a_resolved_scenario_is_read_like_a_scenario_file(dirs, tmp_path):
    """No aliases (a few bytes must not expand into gigabytes): such a file is left out."""
    target = tmp_path / "bomb"
    shutil.copytree(dirs["run"], target)
    levels = "".join(f"l{i + 1}: &l{i + 1} [{', '.join([f'*l{i}'] * 9)}]\n" for i in range(12))
    (target / "scenario.resolved.yaml").write_text("l0: &l0 [x, x, x, x, x, x, x, x, x]\n" + levels, encoding="utf-8")
    results = resultsdir.read(target)
    assert results.resolved == {} and results.kind == "run"
