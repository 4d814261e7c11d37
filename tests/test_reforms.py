"""Reform levers (simcenter/reforms.py): each changes exactly what it says, purely, in order.

Every lever of `simcenter.reforms.LEVERS` is applied to the shipped baseline and the two
`model_dump(mode="json")` are flattened into dotted keys; the keys that changed, appeared or
disappeared must be exactly the ones written out below (a spec `a.b` stands for the key
`a.b` and every key under it), and the changed values must be the documented ones
(docs/data.md and docs/reforms.md). Then: purity, levers applied from a file (`reforms:`), saving
and reloading a resolved scenario, order, and the shipped scenario library. Bad lever
parameters are corpus cases `tests/bad_input/reform_*.yaml`, run by test_bad_input.py.
"""

from __future__ import annotations

import math
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from simcenter import reforms as R  # noqa: N812 - short, used on every other line
from simcenter.cli import main
from simcenter.results import resolved_yaml
from simcenter.resolve import load_scenario
from simcenter.scenario.load import ScenarioError, scenario_path

LIBRARY_DIR = Path(__file__).resolve().parent.parent / "scenarios"
BAD_INPUT = Path(__file__).resolve().parent / "bad_input"

# --------------------------------------------------------------------------- the baseline, written out

TOWNS = {  # size class → townships
    "A+": ["lingxi"],
    "A": ["qianku", "jinxiang"],
    "B": ["yishan", "qiaodun", "mazhan", "chixi", "fanshan", "zaoxi", "wangli"],
    "C": ["yanting", "yanpu", "dayu", "juxi", "xiaguan", "nansong"],
    "D": ["dailing", "fengyang"],
}
ALL_TOWNS = [t for towns in TOWNS.values() for t in towns]
CLASS_OF = {t: c for c, towns in TOWNS.items() for t in towns}
WINDOWS = {  # dedicated windows by size class
    "A+": {"G1": 3, "G2": 2, "G3": 2, "G4": 2, "G5": 1},
    "A": {"G1": 3, "G2": 2, "G3": 1, "G4": 1, "G5": 1},
    "B": {"G1": 2, "G25": 1, "G3": 1, "G4": 1},
    "C": {"G1": 1, "G25": 1, "G34": 1},
    "D": {"G1": 1, "G2345": 1},
}
REVIEWERS = {"A+": 3, "A": 2, "B": 1, "C": 1, "D": 0.5}
GROUPS = ["G1", "G2", "G3", "G4", "G5", "G25", "G34", "G2345"]
DEPARTMENTS = ["CL", "GA", "MZ", "NY", "RS", "SF", "SJ", "SW", "TY", "WJ", "YB", "YC", "YJ", "ZJ", "ZR"]
G1_DEPARTMENTS = ["RS", "YB", "SW"]
DELEGABLE = ["CL02", "GA01", "MZ01", "MZ02", "MZ05", "MZ06", "NY01", "NY02", "RS02", "RS03", "SF01",
             "SJ03", "TY02", "WJ02", "WJ03", "YB04", "YB05", "YJ01", "ZJ01", "ZR01", "ZR02"]  # S1: 21 items
NOT_DELEGABLE_COUNTY = ["CL01", "GA02", "TY01", "YC01", "ZJ03"]  # stay county
COUNTY = sorted(DELEGABLE + NOT_DELEGABLE_COUNTY)  # the 26 items with (triangular) county lead_days
IMMEDIATE = ["MZ04", "RS01", "RS04", "RS05", "SJ01", "SJ02", "SW01", "SW02", "WJ01", "YB01", "YB02", "YB03"]
E_CERTIFICATES = ["ZR02", "GA02", "SJ03", "WJ03", "YJ01"]  # S4f default
S6_ORDER = ["full_empowerment", "unified_windows", "coordination", "platform", "online_precheck", "accept_with_gaps",
            "village_agents", "appointments", "extended_hours", "mail_delivery"]


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def params(lever: str, **kw):
    return R.LEVERS[lever].params(**kw)


def total(windows) -> int:
    return sum(windows.values())


def test_the_baseline_is_what_the_expectations_below_assume(baseline):
    assert sorted(baseline.townships) == sorted(ALL_TOWNS)
    for town_id, town in baseline.townships.items():
        assert town.size_class == CLASS_OF[town_id]
        assert dict(town.windows) == WINDOWS[town.size_class]
        assert town.reviewers == REVIEWERS[town.size_class]
    assert list(baseline.window_groups) == GROUPS
    assert sorted(baseline.departments) == DEPARTMENTS
    assert sorted(i for i, it in baseline.items.items() if it.route == "county" and it.delegable) == DELEGABLE
    assert sorted(i for i, it in baseline.items.items() if it.route == "county" and not it.delegable) == NOT_DELEGABLE_COUNTY
    assert sorted(i for i, it in baseline.items.items() if it.lead_days is not None) == COUNTY
    assert {it.lead_days.dist for it in baseline.items.values() if it.lead_days} == {"triangular"}
    assert sorted(i for i, it in baseline.items.items() if it.route == "immediate") == IMMEDIATE
    assert all(baseline.items[i].result == "pickup" for i in E_CERTIFICATES)
    assert baseline.reforms == [] and baseline.reforms_applied == []


# --------------------------------------------------------------------------- diffing


def flatten(value, prefix: str = "") -> dict:
    """Dotted key → leaf value; an empty mapping or list is a leaf of its own."""
    if isinstance(value, dict) and value:
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}.{i}"))
        return out
    return {prefix: value}


MISSING = object()


def changes(before, after) -> dict:
    fa, fb = flatten(before.model_dump(mode="json")), flatten(after.model_dump(mode="json"))
    return {k: (fa.get(k, MISSING), fb.get(k, MISSING)) for k in fa.keys() | fb.keys()
            if fa.get(k, MISSING) != fb.get(k, MISSING)}


def under(key: str, spec: str) -> bool:
    return key == spec or key.startswith(spec + ".")


def assert_changes_exactly(before, after, specs) -> dict:
    """The changed/added/removed keys are exactly the keys at or under `specs`, each spec used."""
    diff = changes(before, after)
    specs = set(specs)
    unexpected = sorted(k for k in diff if not any(under(k, s) for s in specs))
    unused = sorted(s for s in specs if not any(under(k, s) for k in diff))
    assert not unexpected, f"changed but not expected: {unexpected[:20]}"
    assert not unused, f"expected to change but unchanged: {unused[:20]}"
    return diff


def applied(baseline, lever: str, **kw):
    p = params(lever, **kw)
    after = R.apply(baseline, lever, p)
    assert after.reforms_applied == [{lever: p.model_dump(mode="json")}]
    assert after.reforms == []
    return after


def windows_of(s, town: str) -> dict:
    return dict(s.townships[town].windows)


def group(s, name: str) -> dict:
    return s.window_groups[name].model_dump(mode="json")


# --------------------------------------------------------------------------- 1. each lever: exactly what it says


COUNTY_DEPARTMENTS = sorted({"MZ", "RS", "YB", "WJ", "ZR", "ZJ", "NY", "SJ", "CL", "TY", "GA", "SF", "YJ"})


def test_full_empowerment_defaults(baseline):
    after = applied(baseline, "full_empowerment")
    assert_changes_exactly(baseline, after, [
        *[f"items.{i}.route" for i in DELEGABLE],
        *[f"items.{i}.recheck_days" for i in DELEGABLE if i != "ZR02"],  # error_rate 0: recheck_prob unchanged
        "items.ZR02.result",  # delegated_route immediate: decided and printed at the window
        "staffing.joint_review_days",
        "demand.out_of_scope_share",
        *[f"departments.{d}.county_reviewers" for d in COUNTY_DEPARTMENTS],  # seconded with the work
        *[f"townships.{t}.reviewers" for t in ALL_TOWNS],
        "reforms_applied",
    ])
    assert after.items["ZR02"].route == "immediate" and after.items["ZR02"].result == "none"
    assert after.demand.out_of_scope_share == 0.02
    seconded = sum(t.reviewers for t in after.townships.values()) - sum(t.reviewers for t in baseline.townships.values())
    released = sum((d.county_reviewers or 0) for d in baseline.departments.values()) \
        - sum((d.county_reviewers or 0) for d in after.departments.values())
    assert seconded == pytest.approx(released, abs=0.02) and seconded > 20
    for i in [i for i in DELEGABLE if i != "ZR02"]:
        assert after.items[i].route == "township"
        assert after.items[i].recheck_prob == 0.0
        assert after.items[i].recheck_days.model_dump(mode="json") == {
            "dist": "triangular", "low": 3.0, "mode": 5.0, "high": 10.0, "max": None}
        assert after.items[i].township_lead_days == baseline.items[i].township_lead_days
        assert after.items[i].signoffs == baseline.items[i].signoffs  # now a township joint review
    for i in NOT_DELEGABLE_COUNTY:
        assert after.items[i] == baseline.items[i] and after.items[i].route == "county"
    assert after.staffing.joint_review_days.model_dump(mode="json") == {
        "dist": "triangular", "low": 1.0, "mode": 2.0, "high": 4.0, "max": None}
    for town_id, town in after.townships.items():
        assert town.reviewers > REVIEWERS[CLASS_OF[town_id]]  # every township takes over some work


def test_full_empowerment_chosen_items_error_rate_and_reviewers(baseline):
    after = applied(baseline, "full_empowerment", items=["MZ01", "RS03"], extra_reviewers={"C": 0.5},
                    error_rate=0.05, recheck_days=4, second_share=0.0, out_of_scope_share=None)
    assert_changes_exactly(baseline, after, [
        *[f"items.{i}.{k}" for i in ("MZ01", "RS03") for k in ("route", "recheck_prob", "recheck_days")],
        "staffing.joint_review_days",
        *[f"townships.{t}.reviewers" for t in TOWNS["C"]],
        "reforms_applied",
    ])
    for i in ("MZ01", "RS03"):
        assert after.items[i].route == "township"
        assert after.items[i].recheck_prob == 0.05
        assert after.items[i].recheck_days.model_dump(mode="json") == {"dist": "constant", "value": 4.0, "max": None}
    assert all(after.townships[t].reviewers == 1.5 for t in TOWNS["C"])


def test_unified_windows_unified(baseline):
    after = applied(baseline, "unified_windows")
    assert_changes_exactly(baseline, after, [
        *[f"window_groups.{g}" for g in GROUPS + ["U"]],
        *[f"townships.{t}.windows" for t in ALL_TOWNS],
        "reforms_applied",
    ])  # staffing.generalist_factor: the default 1.10 is already the baseline's
    assert list(after.window_groups) == ["U"]
    assert group(after, "U") == {"accepts": DEPARTMENTS, "generalist": True, "pickups": True, "booked_only": False,
                                 "months": None, "standby_queue": None, "lunch": False}
    for town_id in ALL_TOWNS:
        assert windows_of(after, town_id) == {"U": total(WINDOWS[CLASS_OF[town_id]])}


def test_unified_windows_generalist_factor(baseline):
    after = applied(baseline, "unified_windows", generalist_factor=1.25)
    diff = changes(baseline, after)
    assert diff["staffing.generalist_factor"] == (1.10, 1.25)
    assert {k for k in diff if k.startswith("staffing")} == {"staffing.generalist_factor"}


def test_unified_windows_domain(baseline):
    after = applied(baseline, "unified_windows", mode="domain")
    merged = ["G2", "G3", "G4", "G5", "G25", "G34", "G2345"]
    assert_changes_exactly(baseline, after, [
        *[f"window_groups.{g}" for g in merged + ["D"]],
        *[f"townships.{t}.windows.{g}" for t in ALL_TOWNS for g in WINDOWS[CLASS_OF[t]] if g != "G1"],
        *[f"townships.{t}.windows.D" for t in ALL_TOWNS],
        "reforms_applied",
    ])
    assert list(after.window_groups) == ["G1", "D"]
    assert after.window_groups["G1"] == baseline.window_groups["G1"]
    assert group(after, "D") == {"accepts": sorted(set(DEPARTMENTS) - set(G1_DEPARTMENTS)), "generalist": True,
                                 "pickups": False, "booked_only": False, "months": None, "standby_queue": None,
                                 "lunch": False}
    for town_id in ALL_TOWNS:
        before = WINDOWS[CLASS_OF[town_id]]
        assert windows_of(after, town_id) == {"G1": before["G1"], "D": total(before) - before["G1"]}


def test_unified_windows_express(baseline):
    after = applied(baseline, "unified_windows", express_windows=1)
    with_express = [t for t in ALL_TOWNS if CLASS_OF[t] != "D"]  # 3 or more windows
    assert_changes_exactly(baseline, after, [
        *[f"window_groups.{g}" for g in GROUPS + ["U", "EXPRESS"]],
        *[f"townships.{t}.windows" for t in ALL_TOWNS],
        "reforms_applied",
    ])
    assert list(after.window_groups) == ["U", "EXPRESS"]
    assert group(after, "EXPRESS") == {"accepts": IMMEDIATE, "generalist": True, "pickups": True,
                                       "booked_only": False, "months": None, "standby_queue": None, "lunch": False}
    for town_id in ALL_TOWNS:
        n = total(WINDOWS[CLASS_OF[town_id]])
        expected = {"U": n - 1, "EXPRESS": 1} if town_id in with_express else {"U": n}
        assert windows_of(after, town_id) == expected


def test_coordination_defaults(baseline):
    after = applied(baseline, "coordination")
    assert_changes_exactly(baseline, after, [
        "county.signoff_mode", "county.meeting_every_days", "county.supplement_prob",
        *[f"items.{i}.lead_days.high" for i in COUNTY],
        "reforms_applied",
    ])
    county = after.county
    assert (county.signoff_mode, county.meeting_every_days, county.supplement_prob) == ("parallel", 5, 0.05)
    assert (county.shuttle_days, county.transit_days) == (["tue", "fri"], 1)  # electronic transfer: `platform`
    assert county.signoff_days == baseline.county.signoff_days
    for i in COUNTY:
        old, new = baseline.items[i].lead_days, after.items[i].lead_days
        assert (new.low, new.mode) == (old.low, old.mode)
        assert new.high == pytest.approx(old.mode + 0.7 * (old.high - old.mode))
        assert new.mode <= new.high < old.high


def test_platform_moves_files_electronically_and_enters_them_once(baseline):
    after = applied(baseline, "platform")
    assert_changes_exactly(baseline, after, ["county.shuttle_days", "county.transit_days",
                                             "service.forward_entry_minutes", "reforms_applied"])
    assert (after.county.shuttle_days, after.county.transit_days, after.service.forward_entry_minutes) == (
        "electronic", 0, 0)
    paper = applied(baseline, "platform", electronic=False)
    assert_changes_exactly(baseline, paper, ["service.forward_entry_minutes", "reforms_applied"])


def test_coordination_paper_files_and_no_narrowing(baseline):
    after = applied(baseline, "coordination", electronic=False, meeting_every_days=None, narrow_top=0.0,
                    supplement_prob=0.02)
    assert_changes_exactly(baseline, after, ["county.signoff_mode", "county.supplement_prob", "reforms_applied"])
    assert after.county.shuttle_days == ["tue", "fri"] and after.county.transit_days == 1


def test_online_precheck(baseline):
    after = applied(baseline, "online_precheck")
    assert_changes_exactly(baseline, after, ["behaviour.precheck_share", "behaviour.precheck_incomplete_factor",
                                             "behaviour.repeat_incomplete_prob", "reforms_applied"])
    b = after.behaviour
    assert (b.precheck_share, b.precheck_incomplete_factor, b.repeat_incomplete_prob) == (0.4, 0.3, 0.10)
    other = applied(baseline, "online_precheck", share=0.25, incomplete_factor=0.5, repeat_incomplete_prob=0.3)
    assert_changes_exactly(baseline, other, ["behaviour.precheck_share", "behaviour.precheck_incomplete_factor",
                                             "reforms_applied"])  # 0.3 is the baseline's repeat probability
    assert (other.behaviour.precheck_share, other.behaviour.precheck_incomplete_factor) == (0.25, 0.5)


def test_accept_with_gaps(baseline):
    after = applied(baseline, "accept_with_gaps")
    assert_changes_exactly(baseline, after, ["behaviour.gaps_accept_share", "reforms_applied"])
    assert after.behaviour.gaps_accept_share == 0.6
    assert applied(baseline, "accept_with_gaps", share=1.0).behaviour.gaps_accept_share == 1.0


def test_village_agents(baseline):
    after = applied(baseline, "village_agents")
    assert_changes_exactly(baseline, after, ["behaviour.agents", "reforms_applied"])
    assert after.behaviour.agents.model_dump() == {"share": 0.15, "min_km": 5, "every_days": 5, "time_factor": 0.8}
    other = applied(baseline, "village_agents", share=0.3, min_km=2, every_days=10, time_factor=1.0)
    assert other.behaviour.agents.model_dump() == {"share": 0.3, "min_km": 2, "every_days": 10, "time_factor": 1.0}


def test_appointments_without_reserved_windows(baseline):
    after = applied(baseline, "appointments")
    assert_changes_exactly(baseline, after, ["behaviour.appointments", "reforms_applied"])
    assert after.behaviour.appointments.model_dump() == {"share": 0.2, "slot_minutes": 15, "no_show": 0.1}


@pytest.mark.parametrize("reserved", [1, 2])
def test_appointments_with_reserved_windows(baseline, reserved):
    after = applied(baseline, "appointments", reserved_windows=reserved)
    # taken from each township's largest group (G1) where it has more than `reserved` windows
    towns = [t for t in ALL_TOWNS if WINDOWS[CLASS_OF[t]]["G1"] > reserved]
    assert towns == (TOWNS["A+"] + TOWNS["A"] + TOWNS["B"] if reserved == 1 else TOWNS["A+"] + TOWNS["A"])
    assert_changes_exactly(baseline, after, [
        "behaviour.appointments", "window_groups.G1_BOOKED",
        *[f"townships.{t}.windows.{g}" for t in towns for g in ("G1", "G1_BOOKED")],
        "reforms_applied",
    ])
    assert group(after, "G1_BOOKED") == {**group(baseline, "G1"), "booked_only": True}
    for town_id in ALL_TOWNS:
        before = WINDOWS[CLASS_OF[town_id]]
        expected = {**before, "G1": before["G1"] - reserved, "G1_BOOKED": reserved} if town_id in towns else before
        assert windows_of(after, town_id) == expected


def test_extended_hours(baseline):
    after = applied(baseline, "extended_hours")
    towns = TOWNS["A+"] + TOWNS["A"] + TOWNS["B"]
    assert_changes_exactly(baseline, after, [
        "window_groups.LUNCH", "behaviour.lunch_shift_share",
        *[f"townships.{t}.windows.{g}" for t in towns for g in ("G1", "LUNCH")],  # G1 is the largest group
        "reforms_applied",
    ])
    assert group(after, "LUNCH") == {"accepts": DEPARTMENTS, "generalist": True, "pickups": True, "lunch": True,
                                     "booked_only": False, "months": None, "standby_queue": None}
    assert after.behaviour.lunch_shift_share == 0.10
    for town_id in towns:
        before = WINDOWS[CLASS_OF[town_id]]
        assert windows_of(after, town_id) == {**before, "G1": before["G1"] - 1, "LUNCH": 1}


def test_extended_hours_other_size_classes(baseline):
    after = applied(baseline, "extended_hours", size_classes=["D"], shift_share=0.2)
    assert_changes_exactly(baseline, after, [
        "window_groups.LUNCH", "behaviour.lunch_shift_share",
        *[f"townships.{t}.windows.{g}" for t in TOWNS["D"] for g in ("G1", "LUNCH")],  # first of two equal groups
        "reforms_applied",
    ])
    assert all(windows_of(after, t) == {"G1": 0, "G2345": 1, "LUNCH": 1} for t in TOWNS["D"])


def test_mail_delivery(baseline):
    after = applied(baseline, "mail_delivery")
    assert_changes_exactly(baseline, after, [
        "behaviour.mail_share", *[f"items.{i}.result" for i in E_CERTIFICATES], "reforms_applied"])
    assert after.behaviour.mail_share == 0.8
    assert all(after.items[i].result == "notify" for i in E_CERTIFICATES)
    other = applied(baseline, "mail_delivery", mail_share=0.5, e_certificates=[])
    assert_changes_exactly(baseline, other, ["behaviour.mail_share", "reforms_applied"])


def test_mobile_service(baseline):
    after = applied(baseline, "mobile_service")
    assert_changes_exactly(baseline, after, ["behaviour.mobile_service", "reforms_applied"])
    assert after.behaviour.mobile_service.model_dump() == {"share": 0.3, "min_km": 8, "every_days": 21}


def test_staffing_add_windows_by_size_class(baseline):
    after = applied(baseline, "staffing", add_windows={"G1": 1, "G3": 2}, size_classes=["A"])
    assert_changes_exactly(baseline, after, [
        *[f"townships.{t}.windows.{g}" for t in TOWNS["A"] for g in ("G1", "G3")], "reforms_applied"])
    assert all(windows_of(after, t) == {**WINDOWS["A"], "G1": 4, "G3": 3} for t in TOWNS["A"])


def test_staffing_add_windows_by_township(baseline):
    after = applied(baseline, "staffing", add_windows={"G1": -1, "G3": 1}, townships=["lingxi", "yishan"])
    assert_changes_exactly(baseline, after, [
        "townships.lingxi.windows.G1", "townships.lingxi.windows.G3",
        "townships.yishan.windows.G1", "townships.yishan.windows.G3", "reforms_applied"])
    assert windows_of(after, "lingxi") == {**WINDOWS["A+"], "G1": 2, "G3": 3}
    assert windows_of(after, "yishan") == {**WINDOWS["B"], "G1": 1, "G3": 2}


def test_staffing_add_windows_townships_or_size_classes(baseline):
    after = applied(baseline, "staffing", add_windows={"G1": 1}, townships=["lingxi"], size_classes=["D"])
    towns = ["lingxi"] + TOWNS["D"]
    assert_changes_exactly(baseline, after, [*[f"townships.{t}.windows.G1" for t in towns], "reforms_applied"])
    everywhere = applied(baseline, "staffing", add_windows={"G1": 1})
    assert_changes_exactly(baseline, everywhere, [*[f"townships.{t}.windows.G1" for t in ALL_TOWNS], "reforms_applied"])


def test_staffing_seasonal(baseline):
    after = applied(baseline, "staffing", seasonal={})
    towns = TOWNS["A"] + TOWNS["B"]
    assert_changes_exactly(baseline, after, [
        "window_groups.G1_SEASON", *[f"townships.{t}.windows.G1_SEASON" for t in towns], "reforms_applied"])
    assert group(after, "G1_SEASON") == {**group(baseline, "G1"), "months": [10, 11, 12, 1, 2]}
    assert all(windows_of(after, t) == {**WINDOWS[CLASS_OF[t]], "G1_SEASON": 1} for t in towns)


def test_staffing_standby(baseline):
    after = applied(baseline, "staffing", standby={"queue": 6, "windows": 2})
    assert_changes_exactly(baseline, after, [
        "window_groups.STANDBY", *[f"townships.{t}.windows.STANDBY" for t in ALL_TOWNS], "reforms_applied"])
    assert group(after, "STANDBY") == {"accepts": DEPARTMENTS, "generalist": True, "standby_queue": 6,
                                       "pickups": False, "booked_only": False, "months": None, "lunch": False}
    assert all(windows_of(after, t) == {**WINDOWS[CLASS_OF[t]], "STANDBY": 2} for t in ALL_TOWNS)


CROSS_TRAINED = {  # share 0.5: round(0.5 · total) windows, taken one by one from the (first) largest group
    "A+": {"G1": 1, "G2": 1, "G3": 1, "G4": 1, "G5": 1, "XT": 5},  # 10 → 5
    "A": {"G1": 0, "G2": 1, "G3": 1, "G4": 1, "G5": 1, "XT": 4},  # 8 → 4
    "B": {"G1": 0, "G25": 0, "G3": 1, "G4": 1, "XT": 3},  # 5 → 2.5, rounded half up = 3
    "C": {"G1": 0, "G25": 0, "G34": 1, "XT": 2},  # 3 → 1.5, rounded half up = 2
    "D": {"G1": 0, "G2345": 1, "XT": 1},  # 2 → 1
}


def test_staffing_cross_training(baseline):
    after = applied(baseline, "staffing", cross_train_share=0.5)
    assert_changes_exactly(baseline, after, [
        "window_groups.XT",
        *[f"townships.{t}.windows.{g}" for t in ALL_TOWNS for g, n in CROSS_TRAINED[CLASS_OF[t]].items()
          if WINDOWS[CLASS_OF[t]].get(g) != n],
        "reforms_applied"])
    assert group(after, "XT") == {"accepts": DEPARTMENTS, "generalist": True, "pickups": False, "booked_only": False,
                                  "months": None, "standby_queue": None, "lunch": False}
    for town_id in ALL_TOWNS:
        windows = windows_of(after, town_id)
        n = total(WINDOWS[CLASS_OF[town_id]])
        assert windows == CROSS_TRAINED[CLASS_OF[town_id]]
        assert total(windows) == n and windows["XT"] == math.floor(0.5 * n + 0.5)


def test_cross_training_counts_regular_windows_only():
    s5 = load_scenario("s5_staffing")
    for town_id, town in s5.townships.items():
        extra = {g for g in town.windows if g.endswith("_SEASON") or g == "STANDBY"}
        regular = total(WINDOWS[CLASS_OF[town_id]])
        assert town.windows["XT"] == math.floor(0.5 * regular + 0.5), town_id
        assert sum(n for g, n in town.windows.items() if g not in extra) == regular, town_id


def test_every_lever_is_covered():
    covered = {"full_empowerment", "unified_windows", "coordination", "platform", "online_precheck", "accept_with_gaps",
               "village_agents", "appointments", "extended_hours", "mail_delivery", "mobile_service", "staffing"}
    assert set(R.LEVERS) == covered
    for lever in R.LEVERS.values():
        assert lever.doc, f"{lever.name}: no docstring"
        lever.params()  # every parameter has a default


# --------------------------------------------------------------------------- 2. purity

CASES = [
    ("full_empowerment", {}),
    ("full_empowerment", {"items": ["MZ01"], "error_rate": 0.05}),
    ("unified_windows", {}),
    ("unified_windows", {"mode": "domain"}),
    ("unified_windows", {"express_windows": 1}),
    ("coordination", {}),
    ("online_precheck", {}),
    ("accept_with_gaps", {}),
    ("village_agents", {}),
    ("appointments", {}),
    ("appointments", {"reserved_windows": 1}),
    ("extended_hours", {}),
    ("mail_delivery", {}),
    ("mobile_service", {}),
    ("staffing", {"add_windows": {"G1": 1}, "size_classes": ["A", "B"]}),
    ("staffing", {"add_windows": {"G2": 1}, "townships": ["qianku"]}),
    ("staffing", {"seasonal": {}}),
    ("staffing", {"standby": {}}),
    ("staffing", {"cross_train_share": 0.5}),
    ("staffing", {"seasonal": {}, "standby": {}, "cross_train_share": 0.5}),
]


@pytest.mark.parametrize("lever, kw", CASES, ids=[f"{n}-{json.dumps(kw, sort_keys=True)}" for n, kw in CASES])
def test_apply_is_pure(baseline, lever, kw):
    before = baseline.model_dump(mode="json")
    p = params(lever, **kw)
    p_before = p.model_dump(mode="json")
    first = R.apply(baseline, lever, p)
    second = R.apply(baseline, lever, p)
    assert baseline.model_dump(mode="json") == before  # the input is untouched
    assert p.model_dump(mode="json") == p_before
    assert first == second and first.model_dump(mode="json") == second.model_dump(mode="json")
    assert first is not baseline and first != baseline
    # the result never shares mutable state with the input
    first.townships[next(iter(first.townships))].windows["G1"] = 99
    assert baseline.model_dump(mode="json") == before


def test_apply_all_is_apply_in_order(baseline):
    levers = [("unified_windows", params("unified_windows")), ("mail_delivery", params("mail_delivery"))]
    by_hand = R.apply(R.apply(baseline, *levers[0]), *levers[1])
    assert R.apply_all(baseline, levers) == by_hand
    assert [next(iter(r)) for r in by_hand.reforms_applied] == ["unified_windows", "mail_delivery"]


# --------------------------------------------------------------------------- 3. applied from a file


def baseline_file() -> str:
    return str(scenario_path("baseline").resolve())


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def without_name(s) -> dict:
    data = s.model_dump(mode="json")
    del data["name"]
    return data


def test_reforms_in_a_file(tmp_path, baseline):
    path = write(tmp_path, "mail.yaml", f"extends: {json.dumps(baseline_file())}\nname: mail-from-file\n"
                                        "reforms:\n  - mail_delivery: {}\n")
    loaded = load_scenario(path)
    by_api = R.apply(baseline, "mail_delivery", params("mail_delivery"))
    assert loaded.name == "mail-from-file"
    assert without_name(loaded) == without_name(by_api)
    assert loaded.reforms == []
    assert loaded.reforms_applied == [{"mail_delivery": {"mail_share": 0.8, "e_certificates": E_CERTIFICATES}}]

    saved = write(tmp_path, "resolved.yaml", resolved_yaml(loaded))
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["reforms"] == []
    again = load_scenario(saved)
    assert again == loaded and again.model_dump(mode="json") == loaded.model_dump(mode="json")
    assert again.behaviour.mail_share == 0.8 and len(again.reforms_applied) == 1  # not applied twice
    assert resolved_yaml(again) == resolved_yaml(loaded)


def test_the_full_package_survives_save_and_reload(tmp_path):
    s6 = load_scenario("s6_full_package")
    again = load_scenario(write(tmp_path, "s6.yaml", resolved_yaml(s6)))
    assert again.model_dump(mode="json") == s6.model_dump(mode="json")
    assert [next(iter(r)) for r in again.reforms_applied] == S6_ORDER


def test_reforms_applied_is_a_record_never_applied(tmp_path, baseline):
    path = write(tmp_path, "record.yaml", f"extends: {json.dumps(baseline_file())}\n"
                                          "reforms_applied:\n  - mail_delivery: {}\n")
    loaded = load_scenario(path)
    assert loaded.behaviour.mail_share == baseline.behaviour.mail_share
    assert loaded.items["ZR02"].result == "pickup"


def test_levers_are_applied_after_set(tmp_path):
    path = write(tmp_path, "set.yaml", f"extends: {json.dumps(baseline_file())}\n"
                                       "reforms:\n  - mail_delivery: {}\n")
    loaded = load_scenario(path, sets=["behaviour.mail_share=0.1", "reforms.0.mail_delivery.mail_share=0.9"])
    assert loaded.behaviour.mail_share == 0.9
    assert loaded.reforms_applied[0]["mail_delivery"]["mail_share"] == 0.9


# --------------------------------------------------------------------------- 4. order


def test_unified_then_add_a_unified_window(tmp_path, baseline):
    unified = R.apply(baseline, "unified_windows", params("unified_windows"))
    after = R.apply(unified, "staffing", params("staffing", add_windows={"U": 1}))
    for town_id in ALL_TOWNS:
        assert windows_of(after, town_id) == {"U": total(WINDOWS[CLASS_OF[town_id]]) + 1}
    path = write(tmp_path, "order.yaml", f"extends: {json.dumps(baseline_file())}\nreforms:\n"
                                         "  - unified_windows: {}\n  - staffing: {add_windows: {U: 1}}\n")
    assert without_name(load_scenario(path)) == without_name(after)


def test_adding_a_unified_window_before_unifying_fails_located(tmp_path):
    text = (f"extends: {json.dumps(baseline_file())}\n"  # 1
            "name: wrong-order\n"                         # 2
            "reforms:\n"                                  # 3
            "  - staffing: {add_windows: {U: 1}}\n"       # 4
            "  - unified_windows: {}\n")                  # 5
    path = write(tmp_path, "wrong_order.yaml", text)
    expected = (f"{path}:4:30: reforms.0.staffing.add_windows.U: a window group of the scenario "
                "(G1, G2, G2345, G25, G3, G34, G4, G5) (got 'U')")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == [expected]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr == expected + "\n"
    assert "Traceback" not in result.output


def test_apply_rejects_an_inconsistent_result(baseline):
    with pytest.raises(R.LeverError):
        R.apply(baseline, "staffing", params("staffing", add_windows={"U": 1}))
    with pytest.raises(R.LeverError, match="a window that accepts item"):  # Yanting's only G1 window
        R.apply(baseline, "staffing", params("staffing", add_windows={"G1": -1}, townships=["yanting"]))


# --------------------------------------------------------------------------- 5. the library

LIBRARY = {  # file → (header prefix, levers with the parameters the file states)
    "baseline": ("# Cangnan County", []),
    "s1_full_empowerment": ("# S1 ", [("full_empowerment", {})]),
    "s2_unified_windows": ("# S2 ", [("unified_windows", {"mode": "unified", "generalist_factor": 1.10})]),
    "s2b_domain_windows": ("# S2 variant", [("unified_windows", {"mode": "domain", "generalist_factor": 1.10})]),
    "s2c_unified_express": ("# S2 variant", [("unified_windows", {"mode": "unified", "generalist_factor": 1.10,
                                                                  "express_windows": 1})]),
    "s3_coordination": ("# S3 ", [("coordination", {})]),
    "s4a_online_precheck": ("# S4a ", [("online_precheck", {})]),
    "s4b_accept_with_gaps": ("# S4b ", [("accept_with_gaps", {})]),
    "s4c_village_agents": ("# S4c ", [("village_agents", {})]),
    "s4d_appointments": ("# S4d ", [("appointments", {})]),
    "s4e_extended_hours": ("# S4e ", [("extended_hours", {})]),
    "s4f_mail_delivery": ("# S4f ", [("mail_delivery", {})]),
    "s3b_platform": ("# S3b", [("platform", {})]),
    "s4g_mobile_service": ("# S4g ", [("mobile_service", {})]),
    "s5_staffing": ("# S5 ", [("staffing", {"seasonal": {"group": "G1", "windows": 1, "months": [10, 11, 12, 1, 2],
                                                         "size_classes": ["A", "B"]},
                                            "standby": {"queue": 8, "windows": 1}, "cross_train_share": 0.5})]),
    "s6_full_package": ("# S6 ", [(name, {"mode": "unified", "generalist_factor": 1.10}
                                   if name == "unified_windows" else {}) for name in S6_ORDER]),
}


@pytest.fixture(scope="module")
def library():
    return {p.stem: load_scenario(p) for p in sorted(LIBRARY_DIR.glob("*.yaml"))}


def test_the_library_is_known(library):
    assert set(library) == set(LIBRARY)


def test_the_library_validates_with_the_cli():
    files = sorted(str(p) for p in LIBRARY_DIR.glob("*.yaml"))
    result = CliRunner().invoke(main, ["validate", *files])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("ok: ") == len(files) == len(LIBRARY)


def test_library_names_are_unique(library):
    names = [s.name for s in library.values()]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("stem", sorted(LIBRARY))
def test_library_file(stem, library):
    header, levers = LIBRARY[stem]
    path = LIBRARY_DIR / f"{stem}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(header)
    raw = yaml.safe_load(text)
    s = library[stem]
    assert s.reforms == []
    assert [next(iter(r)) for r in s.reforms_applied] == [name for name, _ in levers]
    if stem == "baseline":
        return
    assert raw["extends"] == "baseline.yaml"
    assert [next(iter(r)) for r in raw["reforms"]] == [name for name, _ in levers]  # what the file says
    # the file is exactly the baseline with these levers applied in order (name and description aside)
    expected = R.apply_all(library["baseline"], [(name, params(name, **kw)) for name, kw in levers])
    got, want = s.model_dump(mode="json"), expected.model_dump(mode="json")
    for key in ("name", "description"):
        got.pop(key), want.pop(key)
    assert got == want


def test_s6_applies_ten_levers_in_the_documented_order(library):
    s6 = library["s6_full_package"]
    assert [next(iter(r)) for r in s6.reforms_applied] == S6_ORDER
    assert len(s6.reforms_applied) == 10
    # the levers compose: S1's township decisions, S2's pool (minus the lunch window), S3, S3b, S4a-f
    assert all(s6.items[i].route == "township" for i in DELEGABLE if i != "ZR02")
    assert s6.items["ZR02"].route == "immediate" and s6.county.shuttle_days == "electronic"
    assert set(s6.window_groups) == {"U", "LUNCH"}
    assert s6.county.signoff_mode == "parallel" and s6.behaviour.mail_share == 0.8
    for town_id in ALL_TOWNS:
        assert total(s6.townships[town_id].windows) == total(WINDOWS[CLASS_OF[town_id]])


@pytest.mark.parametrize("stem", ["s6_full_package", "s5_staffing", "s2c_unified_express", "s4g_mobile_service"])
def test_smoke_run(stem, library):
    """A few days in three townships: the reformed scenarios run and give KPIs."""
    from simcenter.runner import replicate

    s = library[stem]
    small = s.model_copy(update={
        "horizon": s.horizon.model_copy(update={"days": 10, "warmup_days": 0, "drain_days": 15}),
        "townships": {t: s.townships[t] for t in ("qianku", "yishan", "dailing")}})
    county = replicate(small, 0).county
    assert county["cases"] > 0 and 0 <= county["one_trip_rate"] <= 1


# --------------------------------------------------------------------------- 6. the bad-input corpus


def test_reform_corpus_cases_exist():
    cases = sorted(BAD_INPUT.glob("reform_*.yaml"))
    assert len(cases) >= 8
    for path in cases:
        text = path.read_text(encoding="utf-8")
        assert re.search(r"^# expect: (reform_\w+\.yaml|<--set>):\d+:\d+: reforms\.", text, flags=re.M), path.name


def test_docs_list_every_lever_as_the_code_describes_it():
    text = (Path(__file__).resolve().parent.parent / "docs" / "reforms.md").read_text(encoding="utf-8")
    assert R.describe() in text, "docs/reforms.md is out of date: paste `simcenter reforms` into it"


def test_the_reforms_command_prints_every_lever():
    result = CliRunner().invoke(main, ["reforms"])
    assert result.exit_code == 0
    assert result.stdout == R.describe()
    assert all(f"## `{name}`" in result.stdout for name in R.LEVERS)
