"""The Python API (simcenter.api, re-exported by simcenter): real signatures, every kind of
scenario input, pandas views with the numbers the CLI writes, short reprs, HTML for notebooks."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import simcenter
from simcenter import api
from simcenter.comparison import COMPARISON_COLUMNS, shipped
from simcenter.comparison import compare as compare_rows
from simcenter.kpis import KPI_NAMES
from simcenter.scenario import ScenarioError
from simcenter.scenario.schema import Scenario
from builders import SMALL

TINY = ["horizon.days=2", "horizon.warmup_days=0", "horizon.drain_days=0"]  # two days of the small scenario


@pytest.fixture(scope="module")
def by_name():
    """The small scenario, two replications of two days, given by path (its name is 'small')."""
    return simcenter.run(str(SMALL), 2, sets=TINY)


def renamed(tmp_path: Path, name: str, windows: int = 1) -> Path:
    """A copy of the small scenario under another name (YAML-quoted), with `windows` G1 windows at east."""
    text = SMALL.read_text(encoding="utf-8").replace("name: small\n", f"name: {name!r}\n".replace("'", '"'), 1)
    east = "east: {cases_per_day: 60, windows: {G1: 1,"
    assert east in text
    text = text.replace(east, east.replace("G1: 1", f"G1: {windows}"))
    path = tmp_path / f"renamed-{windows}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- signatures


@pytest.mark.parametrize(("function", "positional", "keyword_only"), [
    (simcenter.load_scenario, ["name_or_path", "sets"], []),
    (simcenter.run, ["scenario", "replications"], ["jobs", "seed", "sets", "keep_records", "scheduler"]),
    (simcenter.compare, ["baseline", "reforms", "replications"], ["jobs", "seed", "sets", "scheduler"]),
    (simcenter.sweep, ["experiment"], ["out", "jobs", "scheduler", "resume"]),
])
def test_signatures_and_docstrings_are_real(function, positional, keyword_only):
    parameters = inspect.signature(function).parameters
    kinds = {p.kind for p in parameters.values()}
    assert inspect.Parameter.VAR_POSITIONAL not in kinds and inspect.Parameter.VAR_KEYWORD not in kinds
    assert [n for n, p in parameters.items() if p.kind == p.POSITIONAL_OR_KEYWORD] == positional
    assert [n for n, p in parameters.items() if p.kind == p.KEYWORD_ONLY] == keyword_only
    assert function.__doc__ and len(inspect.getdoc(function).splitlines()) > 3
    assert function.__module__ == "simcenter.api"


def test_defaults():
    run = inspect.signature(simcenter.run).parameters
    assert run["replications"].default is None and run["jobs"].default == 1 and run["seed"].default is None
    assert run["keep_records"].default is False and tuple(run["sets"].default) == ()
    compare = inspect.signature(simcenter.compare).parameters
    assert tuple(compare["reforms"].default) == () and compare["replications"].default is None


def test_import_stays_light():
    """`import simcenter` (and so `simcenter --help`) imports no pandas, SimPy, SciPy or NumPy."""
    code = ("import sys, simcenter\n"
            "assert callable(simcenter.run) and callable(simcenter.compare) and callable(simcenter.sweep)\n"
            "print('HEAVY', [m for m in ('pandas', 'simpy', 'scipy', 'numpy', 'pydantic') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out, out


# --------------------------------------------------------------------------- run


def test_name_path_and_scenario_give_the_same_kpis(by_name):
    path = shipped("baseline")
    from_name = simcenter.run("baseline", 2, sets=TINY)
    from_path = simcenter.run(path, 2, sets=TINY)
    from_str_path = simcenter.run(str(path), 2, sets=TINY)
    loaded = simcenter.load_scenario("baseline", TINY)
    assert isinstance(loaded, Scenario) and loaded.horizon.days == 2
    from_object = simcenter.run(loaded, 2)
    assert from_name.scenario.name == "cangnan-status-quo"
    for other in (from_path, from_str_path, from_object):
        assert_frame_equal(other.kpis, from_name.kpis)
        assert_frame_equal(other.by_township, from_name.by_township)
    # and the small scenario by path equals the same scenario loaded first
    assert_frame_equal(simcenter.run(simcenter.load_scenario(SMALL, TINY), 2).kpis, by_name.kpis)


def test_kpis_is_a_frame_with_one_row_per_replication(by_name):
    frame = by_name.kpis
    assert isinstance(frame, pd.DataFrame) and len(frame) == 2 == by_name.replications
    assert list(frame["replication"]) == [0, 1] and set(frame["scenario"]) == {"small"}
    assert list(frame.columns) == ["scenario", "replication", *KPI_NAMES]
    assert frame["cases"].gt(0).all()
    assert isinstance(by_name.rows, list) and len(by_name.rows) == 2  # the list-of-dicts view of the same table
    assert_frame_equal(pd.DataFrame(by_name.rows), frame)
    towns = by_name.by_township
    assert isinstance(towns, pd.DataFrame) and len(towns) == 2 * 2  # replications × townships
    assert set(towns["township"]) == {"east", "west"}


def test_summary_is_the_mean_and_interval_of_the_kpis(by_name, tmp_path):
    summary = by_name.summary()
    assert list(summary.columns) == ["scenario", "kpi", "mean", "ci_low", "ci_high", "n"]
    assert list(summary["kpi"]) == list(KPI_NAMES)
    means = summary.set_index("kpi")["mean"]
    expected = by_name.kpis[list(KPI_NAMES)].mean()
    np.testing.assert_allclose(means.to_numpy(float), expected.to_numpy(float), rtol=1e-12, equal_nan=True)
    # the intervals, computed independently: mean ± t(0.975, n − 1) × sd / √n
    from scipy import stats as scipy_stats

    values = by_name.kpis[list(KPI_NAMES)].astype(float)
    half = scipy_stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    finite = summary.set_index("kpi").dropna(subset=["ci_low"])
    assert len(finite) > 0
    np.testing.assert_allclose(finite["ci_low"], (values.mean() - half)[finite.index], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(finite["ci_high"], (values.mean() + half)[finite.index], rtol=1e-9, atol=1e-12)
    assert (summary["n"] <= 2).all()
    # the same numbers `simcenter run` writes to summary.csv
    from simcenter.results import write_run

    write_run(tmp_path, by_name.result, ["test"], "in-process")
    assert_frame_equal(pd.read_csv(tmp_path / "summary.csv"), summary, check_dtype=False)
    assert_frame_equal(pd.read_parquet(tmp_path / "kpis.parquet"), by_name.kpis)


def test_overrides_of_seed_and_replications():
    loaded = simcenter.load_scenario(SMALL, TINY)
    three = simcenter.run(loaded, 3)
    assert len(three.kpis) == 3 and three.scenario.replications == 3
    assert len(simcenter.run(SMALL, sets=[*TINY, "replications=1"]).kpis) == 1
    reseeded = simcenter.run(SMALL, 1, seed=5, sets=TINY)
    assert reseeded.scenario.seed == 5
    assert_frame_equal(reseeded.kpis, simcenter.run(loaded, 1, seed=5).kpis)
    assert_frame_equal(reseeded.kpis, simcenter.run(SMALL, 1, sets=[*TINY, "seed=5"]).kpis)
    assert not reseeded.kpis.equals(three.kpis.iloc[:1])


def test_records_only_when_kept(by_name):
    assert by_name.records is None
    kept = simcenter.run(SMALL, 2, sets=TINY, keep_records=True)
    assert len(kept.records) == 2 and all(len(r.visits) > 0 for r in kept.records)
    assert_frame_equal(kept.kpis, by_name.kpis)


def test_bad_input_is_refused_not_ignored():
    loaded = simcenter.load_scenario(SMALL, TINY)
    with pytest.raises(ValueError, match="sets apply to scenarios given by name or path"):
        simcenter.run(loaded, 1, sets=["horizon.days=3"])
    with pytest.raises(TypeError, match="a shipped name, a file path or a Scenario"):
        simcenter.run(42)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="replications"):
            simcenter.run(loaded, bad)
    with pytest.raises(ValueError, match="seed"):
        simcenter.run(loaded, 1, seed=-1)
    with pytest.raises(ScenarioError):
        simcenter.run("no_such_scenario_anywhere", 1)
    with pytest.raises(ScenarioError, match="horizon"):
        simcenter.load_scenario(SMALL, ["horizon.days=-3"])


def test_repr_is_short(by_name, tmp_path):
    assert repr(by_name) == f"Run(scenario='small', replications=2, kpis={len(KPI_NAMES)})"
    long = simcenter.run(renamed(tmp_path, "x" * 5000), 1, sets=TINY)
    assert long.scenario.name == "x" * 5000 and len(repr(long)) < 200


def test_repr_html_is_a_table_of_the_headline_kpis_with_escaped_names(by_name, tmp_path):
    page = by_name._repr_html_()
    assert page.startswith("<table") and page.count("<table") == 1 and "small" in page
    summary = by_name.summary().set_index("kpi")
    assert f"{summary.loc['wait_mean', 'mean']:.4g}" in page
    assert "<td>" in page and len(page) < 5000
    nasty = simcenter.run(renamed(tmp_path, "<b>a&b</b>"), 1, sets=TINY)
    html = nasty._repr_html_()
    assert "<table" in html and "&lt;b&gt;a&amp;b&lt;/b&gt;" in html and "<b>" not in html


# --------------------------------------------------------------------------- compare


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """The small scenario against a copy with one more generalist window at `east`, 3 replications."""
    folder = tmp_path_factory.mktemp("compare")
    return simcenter.compare(SMALL, [renamed(folder, "<more> & windows", windows=3)], 3, sets=TINY)


def test_compare_frames(compared):
    kpis = compared.kpis
    assert isinstance(kpis, pd.DataFrame) and len(kpis) == 2 * 3
    assert list(kpis["scenario"]) == ["small"] * 3 + ["<more> & windows"] * 3
    assert list(kpis["replication"]) == [0, 1, 2] * 2
    table = compared.comparison
    assert list(table.columns) == list(COMPARISON_COLUMNS) and len(table) == len(KPI_NAMES)
    assert set(table["reform"]) == {"<more> & windows"} and (table["n"] <= 3).all()
    summary = compared.summary()
    assert len(summary) == 2 * len(KPI_NAMES)
    means = summary.set_index(["scenario", "kpi"])["mean"]
    expected = kpis.groupby("scenario")[list(KPI_NAMES)].mean().stack(future_stack=True)
    np.testing.assert_allclose(means.loc[expected.index].to_numpy(float), expected.to_numpy(float), equal_nan=True)
    wait = table.set_index("kpi").loc["wait_mean"]
    by_scenario = kpis.set_index("scenario")["wait_mean"]
    assert wait["n"] == 3 and wait["difference"] < 0  # two more windows at east: shorter waits
    assert wait["difference"] == pytest.approx(by_scenario["<more> & windows"].mean() - by_scenario["small"].mean())


def test_compare_matches_the_row_api_and_accepts_scenario_objects(compared, tmp_path):
    base = simcenter.load_scenario(SMALL, TINY)
    reform = simcenter.load_scenario(renamed(tmp_path, "<more> & windows", windows=3), TINY)
    rows = compare_rows(base, [reform], 3)
    assert_frame_equal(compared.comparison, pd.DataFrame(rows.comparison, columns=list(COMPARISON_COLUMNS)))
    objects = simcenter.compare(base, [reform], 3)
    assert_frame_equal(objects.kpis, compared.kpis)
    assert_frame_equal(objects.comparison, compared.comparison)
    assert compared.baseline == "small" and compared.reforms == ["<more> & windows"]
    assert compared.replications == 3 and compared.level == 0.95
    with pytest.raises(ValueError, match="sets apply"):
        simcenter.compare(base, [reform], 3, sets=TINY)


def test_compare_repr_and_html(compared):
    text = repr(compared)
    assert len(text) < 200 and text.startswith("Comparison(baseline='small'") and "replications=3" in text
    page = compared._repr_html_()
    assert "<table" in page and "&lt;more&gt; &amp; windows" in page and "<more>" not in page
    table = compared.comparison.set_index("kpi")
    assert f"{table.loc['wait_mean', 'difference']:.4g}" in page
    assert f"[{table.loc['wait_mean', 'ci_low']:.4g}, {table.loc['wait_mean', 'ci_high']:.4g}]" in page


def test_compare_repr_stays_short_with_many_long_names():
    base = simcenter.load_scenario(SMALL, TINY)
    reforms = [base.model_copy(update={"name": f"{i}" + "y" * 300}) for i in range(6)]
    result = api.Comparison(compare_rows(base, reforms, 1))
    assert len(repr(result)) < 200 and "+4 more" in repr(result)
    assert "<table" in result._repr_html_()


def test_compare_without_reforms_shows_the_baseline():
    result = simcenter.compare(SMALL, (), 2, sets=TINY)
    assert result.reforms == [] and len(result.comparison) == 0
    assert list(result.comparison.columns) == list(COMPARISON_COLUMNS)
    assert "<table" in result._repr_html_() and "small" in result._repr_html_()
