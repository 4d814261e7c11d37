"""`simcenter staff`: the search against Erlang C, its bracketing, bad targets, and its outputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simcenter import staffing
from simcenter.staffing import Evaluation, ReviewerSearch, Target, WindowSearch, parse_target

from builders import SMALL, analytic, invoke, scenario


def erlang_c_over(c: int, lam: float, mu: float, t: float) -> float:
    """P(W > t) in M/M/c: C(c, a) exp(-(c mu - lam) t); 1 when unstable."""
    a = lam / mu
    if a >= c:
        return 1.0
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (head + tail) * math.exp(-(c * mu - lam) * t)


def fewest_windows(lam: float, mu: float, t: float, share: float) -> int:
    """The smallest c with P(W > t) <= share, asserted to be clear-cut (noise cannot flip it)."""
    c = next(c for c in range(1, 100) if erlang_c_over(c, lam, mu, t) <= share)
    assert erlang_c_over(c - 1, lam, mu, t) >= 2 * share and erlang_c_over(c, lam, mu, t) <= share / 3
    return c


def windows_found(data: dict, target: str, replications: int = 10) -> tuple[int, staffing.StaffingResult]:
    result = staffing.search(scenario(data), [parse_target(target)], replications=replications)
    (row,) = result.rows()
    return row["windows"], result


@pytest.mark.parametrize("start, days, replications", [
    (4, 2, 5),
    pytest.param(7, 6, 10, marks=pytest.mark.slow),
], ids=["from-below", "from-above"])
def test_mmc_township_gets_the_erlang_c_answer(start, days, replications):
    """a = 3.3 busy windows of 10-minute services: 4 windows leave 22% waiting over 15 min, 5 leave 2.5%."""
    mu, a = 1 / 10, 3.3
    lam = a * mu
    answer = fewest_windows(lam, mu, 15, 0.1)
    assert answer == 5
    data = analytic(windows=start, cases_per_day=lam * 1440, service={"dist": "exponential", "mean": 10.0}, days=days)
    found, result = windows_found(data, "wait_over_15_share<=0.1", replications)
    assert found == answer
    assert all(result.met("t").values())
    searched = pd.DataFrame(result.candidates)
    assert set(searched["windows_total"]) >= {answer - 1, answer}  # the boundary was tried on both sides
    assert not searched.loc[searched["windows_total"] == answer - 1, "met"].any()


@pytest.mark.slow
def test_mmc_wait_p90_target_from_one_window():
    """wait_p90<=15 is P(W > 15) <= 0.1: a = 5.3 needs 7 windows (24.5% at 6, 3.1% at 7); start from 1."""
    mu, a = 1 / 10, 5.3
    lam = a * mu
    answer = fewest_windows(lam, mu, 15, 0.1)
    data = analytic(windows=1, cases_per_day=lam * 1440, service={"dist": "exponential", "mean": 10.0}, days=8)
    found, result = windows_found(data, "wait_p90<=15")
    assert found == answer == 7
    mean, low, high, n = result.final["t"].kpis["wait_p90"]
    assert n == 10 and high <= 15


# --------------------------------------------------------------------------- the search, on an oracle

P90 = Target("wait_p90", "<=", 15.0)
LEAD = Target("lead_days_mean", "<=", 5.0)


def judged(met: bool, groups: dict[str, tuple[float, float]]) -> Evaluation:
    """An evaluation that meets (or fails) every target with a zero-width interval; groups: (wait, use)."""
    value = 1.0 if met else 100.0
    return Evaluation({"wait_p90": (value, value, value, 10), "lead_days_mean": (value, value, value, 10)},
                      {g: {"wait_mean": w, "utilization": u} for g, (w, u) in groups.items()})


def run_windows(start: dict[str, int], needed: dict[str, int]) -> tuple[dict[str, int], int]:
    """Search windows against an oracle: met iff every group has at least `needed`; (result, steps)."""
    search, steps = WindowSearch(dict(start)), 0
    while not search.done:
        w = search.windows
        short = {g: max(needed[g] - w[g], 0) for g in w}
        search.step(not any(short.values()), judged(not any(short.values()),
                                                    {g: (10.0 * short[g], 0.5) for g in w}), [P90])
        steps += 1
        assert steps < 50
    return search.windows, steps


@pytest.mark.parametrize("start", [{"A": 1, "B": 1}, {"A": 9, "B": 6}, {"A": 3, "B": 2}, {"A": 1, "B": 8}])
def test_window_search_brackets_and_bisects_to_the_fewest(start):
    found, steps = run_windows(start, {"A": 4, "B": 2})
    assert found == {"A": 4, "B": 2}
    assert steps <= 12


@pytest.mark.parametrize("start, needed", [(1.0, 2.5), (6.0, 2.5), (2.5, 2.5), (0.5, 7.0), (3.0, 0.5)])
def test_reviewer_search_doubles_then_bisects_on_half_posts(start, needed):
    search, steps = ReviewerSearch(start), 0
    while not search.done:
        search.step(search.reviewers >= needed)
        steps += 1
        assert steps < 20
    assert search.reviewers == needed


# --------------------------------------------------------------------------- the command


def validate(path):
    return invoke("validate", path)


@pytest.mark.parametrize("target, says", [
    ("wait_p9<=15", "did you mean"),
    ("wait_p90>=15", "wait_p90<=VALUE"),
    ("wait_p90<15", "expected KPI<=VALUE"),
    ("wait_p90<=soon", "a finite number"),
    ("served_within_15_share>=90", "between 0 and 1"),
    ("staff_hours<=100", "a township KPI that staff improve"),
])
def test_bad_target_is_one_line_and_exit_2(tmp_path, target, says):
    result = invoke("staff", SMALL, "--target", target, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and says in result.stderr, result.stderr
    assert result.stderr.startswith(f"--target {target}:")
    assert not (tmp_path / "out").exists()


def test_unknown_township_is_one_line_and_exit_2(tmp_path):
    result = invoke("staff", SMALL, "--target", "wait_p90<=15", "--township", "easts", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert result.stderr.strip() == "--township easts: a township id; did you mean east or west? (got easts)"
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_small_staffing_with_a_back_office_target_writes_its_files(tmp_path):
    out = tmp_path / "staff"
    result = invoke("staff", SMALL, "--target", "wait_p90<=10", "--target", "township_reviewer_utilization_max<=0.5",
                    "-r", 3, "--out", out)
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(out / "staffing.csv")
    assert list(table.columns) == [
        "township", "group", "windows_before", "windows", "reviewers_before", "reviewers",
        "wait_p90_mean", "wait_p90_ci_low", "wait_p90_ci_high", "township_reviewer_utilization_max_mean",
        "township_reviewer_utilization_max_ci_low", "township_reviewer_utilization_max_ci_high"]
    assert len(table) == 4 and set(table["township"]) == {"east", "west"}
    assert ((table["reviewers"] * 2) % 1 == 0).all()  # half posts
    assert (table["wait_p90_ci_high"] <= 10).all() and (table["township_reviewer_utilization_max_ci_high"] <= 0.5).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "staff" and manifest["targets"] == ["wait_p90<=10",
                                                                      "township_reviewer_utilization_max<=0.5"]
    assert manifest["county_runs"] == pd.read_csv(out / "staffing_search.csv")["run"].max()
    assert validate(out / "scenario.staffed.yaml").exit_code == 0


BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"  # this checkout's
SHORT = ("--set", "horizon.days=12", "--set", "horizon.warmup_days=2", "--set", "horizon.drain_days=5")


@pytest.mark.slow
def test_baseline_staffing_files_and_the_staffed_scenario_meets_its_target_with_another_seed(tmp_path):
    out = tmp_path / "staff"
    result = invoke("staff", BASELINE, "--target", "wait_p90<=15", "-r", 4, "--jobs", 2, *SHORT, "--out", out)
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(out / "staffing.csv")
    assert list(table.columns) == ["township", "group", "windows_before", "windows", "reviewers_before", "reviewers",
                                   "wait_p90_mean", "wait_p90_ci_low", "wait_p90_ci_high"]
    assert (table["wait_p90_ci_high"] <= 15).all()
    assert (table["reviewers"] == table["reviewers_before"]).all()  # no back-office target: reviewers kept
    staffed = yaml.safe_load((out / "scenario.staffed.yaml").read_text())
    for row in table.itertuples():
        assert staffed["townships"][row.township]["windows"][row.group] == row.windows
    searched = pd.read_csv(out / "staffing_search.csv")
    assert {"run", "township", "windows", "reviewers", "wait_p90_mean", "met"} <= set(searched.columns)
    again = invoke("run", out / "scenario.staffed.yaml", "-r", 3, "--seed", 77, "--out", tmp_path / "again")
    assert again.exit_code == 0, again.stderr
    towns = pd.read_parquet(tmp_path / "again" / "kpis_by_township.parquet")
    assert (towns.groupby("township")["wait_p90"].mean() <= 15).all()
