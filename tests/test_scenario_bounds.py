"""Every count and parameter is bounded by what the model can do, before anything is built:
the bounds are refused one step above (exit 2, located) and, at the bounds, a run's KPIs are as
finite as an ordinary run's (a mean of 1e300 minutes made them NaN while exiting 0)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from builders import SMALL, invoke
from simcenter.resolve import load_scenario
from simcenter.scenario import schema
from test_bad_input import BASE, assert_rejected

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_is_within_the_bounds(path):
    load_scenario(path)  # with its levers applied: their results are checked against the bounds too


WM = "items.A1.window_minutes"


def above(key: str, bound: str, got: str, value: str | None = None, at: str | None = None) -> tuple[str, str]:
    """(--set, the problem it must cause): `key` set one step above its bound."""
    return f"{key}={value or got}", f"{at or key}: should be less than or equal to {bound} (got {got})"


ABOVE = [
    above("townships.X.windows.G1", "999", "1000"),
    above("townships.X.reviewers", "10000", "10001"),
    above("townships.X.cases_per_day", "1000000000", "1000000001"),
    above("replications", "100000", "100001"),
    above("horizon.days", "3660", "3661"),
    above(f"{WM}.mean", "1000000", "1000001"),
    above(WM, "100", "101", "{dist: gamma, mean: 5, cv: 101}", f"{WM}.cv"),
    above(WM, "1000", "1001", "{dist: erlang, mean: 5, k: 1001}", f"{WM}.k"),
    above(WM, "1000000", "1000001", "{dist: empirical, values: [1, 1000001]}", f"{WM}.values.1"),
    (f"{WM}={{dist: lognormal, mean: 5, sd: 501}}",
     f"{WM}: sd at most 100 times the mean (got {{dist: lognormal, mean: 5, sd: 501}})"),
    above("items.A1.weight", "1000000000", "10000000000.0", "1.0e+10"),
    above("demand.weekday_factor.mon", "100", "101"),
    above("behaviour.balk_queue_length", "1000000", "1000001"),
    above("townships.X.km_to_centre", "10000", "10001"),
]


@pytest.mark.parametrize("setting, expected", ABOVE, ids=[e.split(": ")[0] for _, e in ABOVE])
def test_one_step_above_a_bound_is_refused(setting, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("validate", BASE, "--set", setting)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.endswith(f": {expected}\n") and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(("<--set>:1:", f"{BASE}:")), result.stderr


def many_townships(n: int) -> str:
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["townships"] = {f"T{i}": {"cases_per_day": 1, "windows": {"G1": 1}} for i in range(n)}
    return yaml.safe_dump(data)


def test_townships_are_at_most_999(tmp_path):
    (tmp_path / "most.yaml").write_text(many_townships(schema.MAX_TOWNSHIPS), encoding="utf-8")
    assert invoke("validate", tmp_path / "most.yaml").exit_code == 0
    (tmp_path / "more.yaml").write_text(many_townships(schema.MAX_TOWNSHIPS + 1), encoding="utf-8")
    line = next(n for n, text in enumerate(many_townships(1).splitlines(), 1) if text == "townships:")
    assert_rejected(invoke("validate", tmp_path / "more.yaml"), tmp_path,
                    [f"more.yaml:{line}:1: townships: at most 999 townships (got 1000 townships)"])


def test_a_lever_cannot_push_past_a_bound(tmp_path):
    path = tmp_path / "lever.yaml"
    path.write_text(BASE.read_text(encoding="utf-8") + "reforms: [{staffing: {add_windows: {G1: 998}}}]\n",
                    encoding="utf-8")
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert "townships.X.windows.G1" in result.stderr and "999 (got 1000)" in result.stderr


# --------------------------------------------------------------------------- at the bounds

AT_BOUNDS = {
    "window time mean": ["items.RS01.window_minutes={dist: exponential, mean: 1000000}"],
    "lognormal spread": ["items.RS01.window_minutes={dist: lognormal, mean: 1000000, cv: 100}"],
    "gamma spread": ["items.RS01.window_minutes={dist: gamma, mean: 6, cv: 100}"],
    "erlang shape": ["items.RS01.window_minutes={dist: erlang, mean: 6, k: 1000}"],
    "tiny mean": ["items.RS01.window_minutes={dist: exponential, mean: 1.0e-300}"],
    "lead days": ["items.MZ01.lead_days={dist: uniform, low: 999999, high: 1000000}"],
    "weights": ["items.RS01.weight=1000000000", "items.MZ01.weight=1000000000", "items.MZ02.weight=500000000"],
    "patience": ["behaviour.patience_minutes={dist: exponential, mean: 1000000}",
                 "behaviour.patience_floor_minutes=1000000"],
    "costs and travel": ["costs.window_staff_hour=1000000000", "costs.citizen_hour=1000000000",
                         "townships.east.km_to_centre=10000", "behaviour.travel.fixed_minutes=1000000"],
}
SHORT = ["horizon.days=5", "horizon.warmup_days=1", "horizon.drain_days=2"]


def non_finite(sets: list[str]) -> set[str]:
    import simcenter

    row = simcenter.run(SMALL, 1, sets=SHORT + sets).rows[0]
    return {k for k, v in row.items() if isinstance(v, float) and not math.isfinite(v)}


@pytest.fixture(scope="module")
def ordinary() -> set[str]:
    return non_finite([])  # KPIs over nothing (none of some event in so short a run) are NaN here too


@pytest.mark.parametrize("name", AT_BOUNDS)
def test_kpis_at_the_bounds_are_as_finite_as_ordinary_ones(name, ordinary):
    assert non_finite(AT_BOUNDS[name]) <= ordinary


def test_run_past_a_bound_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", BASE, "--set", "townships.X.windows.G1=1000", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr == "<--set>:1:24: townships.X.windows.G1: should be less than or equal to 999 (got 1000)\n"
    assert list(tmp_path.iterdir()) == []
