"""`simcenter sensitivity`: each input changes only what it says, the central comparison is
`simcenter compare`'s, a perturbed comparison is `simcenter compare` with the same values set by
`--set`, and a tornado per reform is drawn."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from builders import SMALL, invoke
from simcenter import sensitivity
from simcenter.comparison import library
from simcenter.resolve import load_scenario
from simcenter.resultsdir import read

# The worktree's own scenarios (a shipped name may resolve to another installed copy).
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASELINE, UNIFIED = SCENARIOS / "baseline.yaml", SCENARIOS / "s2_unified_windows.yaml"
TINY = ["--set", "horizon.days=3", "--set", "horizon.drain_days=4", "-r", "2"]

# What each input may change in the resolved scenario (dotted keys).
CHANGES = {
    "patience": r"behaviour\.patience_minutes\.mean",
    "review": r"items\.\w+\.review_minutes|staffing\.reviews_per_day|county\.reviews_per_day",
    "generalist": r"staffing\.generalist_factor|reforms_applied\.\d+\.unified_windows\.generalist_factor",
    "incomplete": r"items\.\w+\.incomplete_prob",
    "signoff": r"county\.signoff_days\.(low|mode|high)",
    "market_day": r"demand\.market_day_factor",
    "demand": r"townships\.\w+\.cases_per_day",
    "matter_share": r"demand\.matter_share",
    "referral": r"behaviour\.referral_next_day_prob",
}
SHIPPED = {"patience": 60, "generalist": 1.10, "market_day": 1.5, "matter_share": 0.12, "referral": 0.25}


@functools.cache
def _source(path: Path):
    return sensitivity.read_source(path, [])


@functools.cache
def _central(path: Path):
    return load_scenario(path)


def _flat(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flat(v, path + (str(k),))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _flat(v, path + (str(i),))
    else:
        yield ".".join(path), value


def _changed(before, after) -> dict[str, tuple]:
    a, b = dict(_flat(before.model_dump(mode="json"))), dict(_flat(after.model_dump(mode="json")))
    return {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}


def test_the_registry_is_the_documented_one():
    assert set(sensitivity.INPUTS) == set(CHANGES)
    docs = (Path(__file__).resolve().parent.parent / "docs" / "sensitivity.md").read_text(encoding="utf-8")
    for item in sensitivity.INPUTS.values():
        assert f"`{item.name}`" in docs and item.range_text() in docs, item.name


@pytest.mark.parametrize("source", [BASELINE, UNIFIED], ids=["baseline", "s2"])
@pytest.mark.parametrize("name", list(CHANGES))
def test_each_input_changes_exactly_its_keys(source, name):
    item = sensitivity.INPUTS[name]
    shipped, central = _source(source), _central(source)
    for level in ("low", "high"):
        value = getattr(item, level)
        changed = _changed(central, sensitivity.perturbed(shipped, item, value))
        assert changed, f"{name} {level} changes nothing"
        for key, (before, after) in changed.items():
            assert re.fullmatch(CHANGES[name], key), f"{name} {level} changed {key}"
            if not item.factor:
                assert after == pytest.approx(value), key
            elif key.endswith("reviews_per_day"):
                assert after == pytest.approx(before / value), key
            else:
                assert after == pytest.approx(before * value), key


@pytest.mark.parametrize("name", list(CHANGES))
def test_the_range_brackets_the_shipped_value(name):
    item = sensitivity.INPUTS[name]
    central = item.central(_source(BASELINE).scenario)
    assert central == pytest.approx(1.0 if item.factor else SHIPPED[name])
    assert item.low < central < item.high


def test_a_unified_windows_lever_follows_the_generalist_input():
    item = sensitivity.INPUTS["generalist"]
    scenario = sensitivity.perturbed(_source(UNIFIED), item, 1.25)
    assert scenario.staffing.generalist_factor == 1.25  # not the lever's own 1.10


def test_bad_input_and_kpi_names_exit_2_with_one_line_each():
    result = invoke("sensitivity", "--input", "patiense", "--kpi", "waits", "--baseline", SMALL)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("--input patiense: one of patience, review,") and lines[0].endswith("(got 'patiense')")
    assert lines[1].startswith("--kpi waits: a KPI") and lines[1].endswith("(got 'waits')")


def test_an_input_that_cannot_act_is_a_located_problem(tmp_path):
    result = invoke("sensitivity", _reform(tmp_path), "--baseline", SMALL, "--input", "matter_share", *TINY,
                    "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert re.match(rf"{re.escape(str(SMALL))}:\d+:\d+: demand.matters: one-matter bundles", result.stderr)
    assert not (tmp_path / "out").exists()


def _reform(tmp_path: Path) -> Path:
    path = tmp_path / "small_unified.yaml"
    path.write_text(f"extends: {SMALL}\nname: small-unified\n"
                    "reforms:\n  - unified_windows: {mode: unified, generalist_factor: 1.2}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory):
    """A sensitivity of one reform of the small scenario to patience and demand, and the compare runs
    that must give its central and perturbed rows."""
    base = tmp_path_factory.mktemp("sensitivity")
    reform = _reform(base)
    result = invoke("sensitivity", reform, "--baseline", SMALL, "--input", "patience", "--input", "demand",
                    "--kpi", "wait_mean", "--kpi", "trips_per_case", "--kpi", "lead_days_mean", *TINY,
                    "--out", base / "sens")
    assert result.exit_code == 0, result.stderr
    towns = {"east": 60, "west": 25}  # the small scenario's cases_per_day
    compares = {
        ("patience", "central"): [],
        ("patience", "low"): ["--set", "behaviour.patience_minutes.mean=30"],
        ("demand", "high"): [a for t, n in towns.items() for a in ("--set", f"townships.{t}.cases_per_day={n * 1.15}")],
    }
    out = {}
    for (name, level), sets in compares.items():
        target = base / f"compare-{name}-{level}"
        done = invoke("compare", SMALL, reform, *TINY, *sets, "--out", target)
        assert done.exit_code == 0, done.stderr
        out[(name, level)] = pd.read_csv(target / "comparison.csv")
    return base / "sens", out, result


@pytest.mark.slow
def test_rows_are_those_of_compare_with_the_values_set(small_runs):
    folder, compares, _ = small_runs
    rows = pd.read_csv(folder / "sensitivity.csv")
    assert list(rows.columns) == list(sensitivity.COLUMNS)
    assert set(rows["kpi"]) == {"wait_mean", "trips_per_case", "lead_days_mean"}
    assert len(rows) == 3 * 2 * 3  # KPIs × inputs × levels
    for (name, level), expected in compares.items():
        got = rows[(rows["input"] == name) & (rows["level"] == level)].set_index("kpi")
        for kpi, row in got.iterrows():
            want = expected[expected["kpi"] == kpi].iloc[0]
            for column in ("baseline_mean", "reform_mean", "difference", "ci_low", "ci_high", "n"):
                assert row[column] == want[column] or (math.isnan(row[column]) and math.isnan(want[column])), \
                    (name, level, kpi, column)
    central = rows[rows["level"] == "central"]
    assert set(central[central["input"] == "patience"]["value"]) == {40.0}  # the small scenario's mean
    assert set(central[central["input"] == "demand"]["value"]) == {1.0}
    assert set(rows[rows["level"] == "low"]["value"]) == {30.0, 0.85}


@pytest.mark.slow
def test_the_tornado_has_one_bar_per_input(small_runs):
    folder, _, result = small_runs
    png = folder / "figures" / "tornado-small-unified.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"figure: {png}" in result.stderr
    results = read(folder)
    assert results.kind == "sensitivity" and results.reforms == ["small-unified"]
    from simcenter.plots.tornado import reform_figure

    fig = reform_figure(results, "small-unified")
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["mean wait", "trips per case", "mean lead time"]
    for ax in panels:
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert sorted(labels) == ["demand level ×0.85–1.15", "patience mean 30–90 min"]
    manifest = results.manifest
    assert manifest["command"] == "sensitivity" and manifest["replications"] == 2
    assert [i["name"] for i in manifest["inputs"]] == ["patience", "demand"]


@pytest.mark.slow
def test_the_shipped_library_gets_a_tornado_per_reform(tmp_path):
    # the library as `--all` takes it, read from this checkout's scenarios/ (an installed copy may differ)
    reforms = [SCENARIOS / f"{name}.yaml" for name in library()]
    result = invoke("sensitivity", *reforms, "--baseline", BASELINE, "--input", "generalist",
                    "--set", "horizon.days=2", "--set", "horizon.warmup_days=0", "--set", "horizon.drain_days=0",
                    "-r", "2", "--jobs", "2", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    rows = pd.read_csv(tmp_path / "sensitivity.csv")
    names = list(dict.fromkeys(rows["reform"]))
    assert len(names) == len(reforms) == 15
    figures = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert figures == sorted(f"tornado-{name}.png" for name in names)
    assert "ranking" in result.stdout
    generalist = rows[(rows["input"] == "generalist") & (rows["kpi"] == "wait_mean")].set_index(["reform", "level"])
    # no generalist window in full empowerment: the input cannot move its effect
    assert generalist.loc[("s1-full-empowerment", "low"), "difference"] == \
        generalist.loc[("s1-full-empowerment", "central"), "difference"]
