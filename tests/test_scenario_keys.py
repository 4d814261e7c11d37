"""Keys that look like what pydantic puts in an error's location (a distribution's kind, a
`[index]`, `function-...`) are keys like any other: refused where they stand, exit 2, nothing
written, never an internal error. And a brief fuzz of the loader over random mappings."""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import invoke
from simcenter.resolve import resolve
from simcenter.scenario.load import ScenarioError, parse_yaml
from simcenter.scenario.schema import DIST_KINDS, Scenario
from test_bad_input import BASE, CORPUS, header

KEY_CASES = ["key_distribution_name_top_level", "key_lognormal_top_level", "key_with_bracket",
             "key_pydantic_tag_like", "key_distribution_name_in_distribution"]


@pytest.mark.parametrize("name", KEY_CASES)
def test_run_refuses_odd_keys_and_writes_nothing(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = CORPUS / f"{name}.yaml"
    result = invoke("run", path, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.replace(f"{CORPUS}/", "") == "".join(f"{line}\n" for line in header(path, "expect"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["windows[0]", "townships.X.windows[0]", "exponential", "items.A1.lognormal"])
def test_run_refuses_odd_set_keys_and_writes_nothing(key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", BASE, "--set", f"{key}=3", "--out", tmp_path / "out")
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("<--set>:1:1: "), result.stderr
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- fuzz


ODD_KEYS = [*DIST_KINDS, "dist", "windows[0]", "[key]", "function-after", "list[str]", "0", "-1", "", " ", "é", "a.b",
            *Scenario.model_fields]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=8), st.sampled_from(DIST_KINDS))
KEYS = st.one_of(st.sampled_from(ODD_KEYS), st.text(min_size=1, max_size=6))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(KEYS, inner, max_size=3)), max_leaves=8)
PLACES = [(), ("items", "A1"), ("items", "A1", "window_minutes"), ("townships", "X"), ("townships", "X", "windows"),
          ("window_groups",), ("horizon",), ("behaviour",)]


def base_data() -> dict:
    data, _ = parse_yaml(BASE.read_text(encoding="utf-8"), "base.yaml")
    return data


BASE_DATA = base_data()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(PLACES), extra=st.dictionaries(KEYS, VALUES, min_size=1, max_size=3))
def test_random_keys_and_values_are_valid_or_located_problems(place, extra):
    data = copy.deepcopy(BASE_DATA)
    node = data
    for name in place:
        node = node[name] if isinstance(node.get(name), dict) else node.setdefault(name, {})
    node.update(extra)
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        parsed, marks = parse_yaml(text, "fuzz.yaml")
        resolve(parsed, marks, "fuzz.yaml")
    except ScenarioError as e:
        assert e.problems and all(line.startswith("fuzz.yaml:") for line in e.problems), e.problems


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_scenario_too_large_to_simulate_is_bad_input_and_writes_nothing(jobs, tmp_path):
    """Within every bound, but more arrivals than a replication can hold: found when the model is
    built (in a worker with --jobs 2), still one line, exit 2, and no results directory."""
    from builders import SMALL

    out = tmp_path / "out"
    result = invoke("run", SMALL, "-r", "2", "--jobs", jobs, "--set", "townships.east.cases_per_day=20000000",
                    "--out", out)
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("small: townships: at most 10,000,000 expected arrivals per replication"), lines
    assert "internal error" not in result.stderr and not out.exists()
