"""Invariants that hold on every sample path, over random small scenarios (hypothesis).

Each generated scenario closes every night (so the hall ends each day empty) and caps window
times, so at the end of the run nobody is inside: then Little's law holds as an exact
identity between the hall's own queue-length integral and the recorded waits.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simcenter.model import simulate
from simcenter.model.county import Model
from simcenter.model.calendar import Calendar
from simcenter.model.citizen import CITIZEN, MOBILE_SERVICE
from simcenter.model.records import BALKED, COMPLETED, DROPPED, OPEN, RENEGED, SENT_HOME, SERVED

from builders import scenario

SESSIONS = [[["08:30", "11:30"], ["14:00", "17:30"]], [["07:00", "21:00"]], [["09:00", "12:00"]]]
TRI = {"dist": "triangular", "low": 0.5, "mode": 1, "high": 3}


@st.composite
def small_scenarios(draw):
    n_depts = draw(st.integers(1, 3))
    depts = [f"D{i}" for i in range(n_depts)]
    items = {}
    for i in range(draw(st.integers(1, 4))):
        route = draw(st.sampled_from(["immediate", "township", "county"]))
        item = {
            "department": draw(st.sampled_from(depts)),
            "weight": draw(st.integers(1, 5)),
            "route": route,
            "window_minutes": {"dist": "lognormal", "mean": draw(st.floats(2, 15)), "cv": 0.7, "max": 60},
            "incomplete_prob": draw(st.sampled_from([0.0, 0.2, 0.5])),
            "result": draw(st.sampled_from(["none", "notify", "pickup"])),
            "gaps_ok": draw(st.booleans()),
            "agent_ok": draw(st.booleans()),
        }
        if route != "immediate":
            item["township_lead_days"] = TRI
            item["lead_days"] = TRI
        if route == "county":
            item["signoffs"] = draw(st.lists(st.sampled_from(depts), max_size=2))
        items[f"I{i}"] = item
    unified = draw(st.booleans())
    groups = {"ALL": {"accepts": depts, "generalist": True}} if unified else {f"G{d}": {"accepts": [d]} for d in depts}
    extra = draw(st.sampled_from([None, "booked_only", "standby_queue", "months", "lunch", "pickups"]))
    if extra:  # one more group with a special window, accepting everything
        groups["X"] = {"accepts": depts, extra: {"booked_only": True, "standby_queue": 3, "months": [3, 4],
                                                 "lunch": True, "pickups": True}[extra]}
    townships = {
        f"t{k}": {
            "cases_per_day": draw(st.floats(5, 150)),
            "windows": {g: draw(st.integers(1, 3)) for g in groups},
            "reviewers": draw(st.sampled_from([0.5, 1, 2])),
            "km_to_centre": draw(st.floats(0, 10)),
        }
        for k in range(draw(st.integers(1, 2)))
    }
    days = draw(st.integers(2, 5))
    return {
        "name": "random",
        "seed": draw(st.integers(0, 2**32)),
        "horizon": {"days": days, "warmup_days": draw(st.integers(0, days - 1)), "drain_days": draw(st.integers(0, 12))},
        "calendar": {"sessions": draw(st.sampled_from(SESSIONS)), "overtime_minutes": draw(st.sampled_from([0, 30])),
                     "working_days": draw(st.sampled_from(["all", ["mon", "tue", "wed", "thu", "fri"]]))},
        "demand": {"consult_share": draw(st.sampled_from([0.0, 0.15])), "market_day_factor": 1.5,
                   "hourly_profile": draw(st.sampled_from([None, {"08:00": 3, "10:00": 1, "15:00": 2}]))},
        "departments": {d: {} for d in depts},
        "items": items,
        "window_groups": groups,
        "townships": townships,
        "behaviour": {
            "patience_minutes": draw(st.sampled_from([None, {"dist": "exponential", "mean": 20}])),
            "balk_queue_length": draw(st.sampled_from([None, 2, 6])),
            "return_after_days": TRI,
            "repeat_incomplete_prob": 0.3,
            "drop_after_incomplete_prob": draw(st.sampled_from([0.0, 0.3])),
            "mail_share": draw(st.sampled_from([0.0, 0.5])),
            "precheck_share": draw(st.sampled_from([0.0, 0.5])),
            "precheck_incomplete_factor": 0.3,
            "gaps_accept_share": draw(st.sampled_from([0.0, 0.6])),
            "agents": draw(st.sampled_from([None, {"share": 0.5, "min_km": 1, "every_days": 3}])),
            "appointments": draw(st.sampled_from([None, {"share": 0.4, "no_show": 0.2}])),
            "mobile_service": draw(st.sampled_from([None, {"share": 0.5, "min_km": 1, "every_days": 4}])),
            "lunch_shift_share": draw(st.sampled_from([0.0, 0.2])),
        },
        "county": {"shuttle_days": draw(st.sampled_from(["daily", "electronic", ["tue", "fri"]])),
                   "transit_days": 1, "supplement_prob": draw(st.sampled_from([0.0, 0.3])), "signoff_days": TRI,
                   "signoff_mode": draw(st.sampled_from(["sequential", "parallel"])),
                   "meeting_every_days": draw(st.sampled_from([None, 3]))},
        "staffing": {"availability": draw(st.sampled_from([1.0, 0.8])), "generalist_factor": 1.2,
                     "joint_review_days": TRI},
    }


RUNS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RUNS
@given(small_scenarios())
def test_sample_path_invariants(data):
    s = scenario(data)
    model = Model(s, 0)
    r = model.run()
    v, c = r.visits, r.cases
    served = v["outcome"] == SERVED

    # waits are never negative; service follows the call; outcomes are known
    assert np.all(v["called"][served] >= v["arrive"][served])
    assert np.all(v["done"][served] >= v["called"][served])
    assert np.all(v["done"] >= v["arrive"])
    assert set(np.unique(v["outcome"])) <= {SERVED, BALKED, RENEGED, SENT_HOME}

    # a reneger waited no longer than their patience (in open minutes: lunch does not count)
    cal = Calendar(s.calendar, s.horizon)
    for arrive, left, patience in zip(*(x[v["outcome"] == RENEGED] for x in (v["arrive"], v["done"], v["patience"]))):
        assert cal.open_minutes_between(arrive, left) <= patience + 1e-6

    # conservation: every case is completed, dropped or open; every visit is recorded; every
    # visit is a citizen's trip unless an agent made it; a mobile-service case makes none
    assert set(np.unique(c["status"])) <= {OPEN, COMPLETED, DROPPED}
    assert np.all(c["official_trips"] <= c["trips"])
    per_case = np.bincount(v["case"][v["case"] >= 0], minlength=len(c["trips"]))
    assert np.array_equal(per_case, c["visits"])
    citizen = c["handler"] == CITIZEN
    assert np.array_equal(c["trips"][citizen], c["visits"][citizen]) and np.all(c["trips"][citizen] >= 1)
    assert np.all(c["trips"][~citizen] == 0)
    assert np.all(c["visits"][c["handler"] == MOBILE_SERVICE] == 0)
    assert np.all(np.isnan(c["lead_days"][c["status"] != COMPLETED]))
    assert np.all(c["lead_days"][c["status"] == COMPLETED] >= 0)

    for t, town in enumerate(model.towns):
        at = v["township"] == t
        # Little's law as a sample-path identity: ∫ queue length dt = Σ time spent waiting
        waited = np.where(v["outcome"][at] == SERVED, v["called"][at], v["done"][at]) - v["arrive"][at]
        assert math.isclose(town.centre.queue_area, waited.sum(), rel_tol=1e-9, abs_tol=1e-6)
        # busy windows <= staffed windows: a window serves one citizen at a time, never while away
        for w in range(len(town.centre.windows)):
            mine = at & served & (v["window"] == w)
            starts, ends = v["called"][mine], v["done"][mine]
            order = np.argsort(starts, kind="stable")
            assert np.all(starts[order][1:] >= ends[order][:-1] - 1e-9)
            for _, _, away_from, away_to in (a for a in r.absences if a[0] == t and a[1] == w):
                assert not np.any((starts > away_from + 1e-9) & (starts < away_to - 1e-9))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenarios())
def test_same_seed_same_path(data):
    s = scenario(data)
    first, second = simulate(s, 3), simulate(s, 3)
    for table in ("visits", "cases"):
        for name, values in getattr(first, table).items():
            assert np.array_equal(values, getattr(second, table)[name], equal_nan=True), (table, name)


def test_no_arrivals_no_cases(build):
    from builders import analytic

    records = simulate(build(analytic(cases_per_day=0)), 0)
    assert len(records.cases["created"]) == 0 and len(records.visits["arrive"]) == 0
