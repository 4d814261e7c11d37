"""The mechanisms reforms act on, each shown on its own (confounders switched off) on small
scenarios with exact or near-exact expectations: patience with a floor, giving up on the hall,
township send-backs, one-matter cases and window-to-window referrals, out-of-scope requests and
county trips, finite county reviewers, demand normalisation, delegation to the window.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from simcenter import capacity, reforms
from simcenter.model import simulate
from simcenter.model.arrivals import day_factors
from simcenter.model.calendar import Calendar
from simcenter.model.records import (
    COMPLETED, ELSEWHERE, OUT_OF_SCOPE, REFERRAL, RENEGED, SAME_TRIP, SERVED,
)
from simcenter.resolve import load_scenario

from builders import scenario

DAY = 1440


def hall(**sections) -> dict:
    """A hall open 08:30-11:30 and 14:00-17:30 on weekdays with two departments, each with its
    own window group; items A (dept D1) and B (dept D2) are immediate; C is township-decided."""
    data = {
        "name": "hall", "seed": 3, "replications": 2,
        "horizon": {"days": 10, "warmup_days": 1, "drain_days": 30, "start": "2024-03-04"},
        "calendar": {"sessions": [["08:30", "11:30"], ["14:00", "17:30"]], "overtime_minutes": 30},
        "departments": {"D1": {}, "D2": {}},
        "items": {
            "A": {"department": "D1", "weight": 1, "route": "immediate", "window_minutes": 5},
            "B": {"department": "D2", "weight": 1, "route": "immediate", "window_minutes": 4},
            "C": {"department": "D1", "weight": 0, "route": "township", "window_minutes": 5,
                  "township_lead_days": 1},
        },
        "window_groups": {"G1": ["D1"], "G2": ["D2"]},
        "townships": {"t": {"cases_per_day": 40, "windows": {"G1": 1, "G2": 1}, "km_to_centre": 3,
                            "km_to_county": 30}},
        "behaviour": {"travel": {"kmh": 30, "fixed_minutes": 15}},
    }
    for key, value in sections.items():
        data[key] = value
    return data


def test_nobody_reneges_before_the_patience_floor():
    data = hall(behaviour={"patience_minutes": {"dist": "exponential", "mean": 2}, "patience_floor_minutes": 12})
    data["townships"]["t"]["cases_per_day"] = 150  # queues long enough to renege
    v = simulate(scenario(data), 0).visits
    reneged = v["outcome"] == RENEGED
    assert reneged.sum() > 20
    waited = v["done"][reneged] - v["arrive"][reneged]
    assert waited.min() >= 12 - 1e-9
    assert np.all(v["patience"][reneged] >= 12)


def test_citizens_who_do_not_come_back_finish_elsewhere():
    data = hall(behaviour={"patience_minutes": {"dist": "exponential", "mean": 2}, "abandon_return_share": 0.0})
    data["townships"]["t"]["cases_per_day"] = 150
    r = simulate(scenario(data), 0)
    v, c = r.visits, r.cases
    gave_up = np.unique(v["case"][(v["outcome"] == RENEGED) & (v["case"] >= 0)])
    assert len(gave_up) > 20
    assert np.all(c["status"][gave_up] == ELSEWHERE)
    assert np.all(c["trips"][gave_up] == 1)  # nobody came back


def test_township_send_backs_cost_a_visit_and_restart_the_official_clock():
    data = hall(staffing={"supplement_prob": 0.5})
    data["items"]["A"]["weight"] = 0
    data["items"]["B"]["weight"] = 0
    data["items"]["C"]["weight"] = 1
    data["townships"]["t"]["reviewers"] = 10  # ample: completed cases are not a biased early sample
    c = simulate(scenario(data), 0).cases
    done = c["status"] == COMPLETED
    # each pass is sent back with probability 0.5: trips = 1 + Geometric, mean 2
    assert 1.8 < c["trips"][done].mean() < 2.2
    assert c["trips"][done].min() == 1
    # the official clock restarts at each re-submission: never longer than the citizen's
    assert np.all(c["decision_days"][done] <= c["lead_days"][done] + 1e-9)
    resubmitted = done & (c["trips"] > 1)
    assert np.all(c["decision_days"][resubmitted] < c["lead_days"][resubmitted])


def matters(mode: str, **behaviour) -> dict:
    data = hall(demand={"matter_share": 1.0, "matters": {"AB": {"items": ["A", "B"]}}},
                behaviour={"travel": {"kmh": 30, "fixed_minutes": 15}, **behaviour},
                service={"referral_minutes": 2})
    if mode == "unified":
        data["window_groups"] = {"U": ["D1", "D2"]}
        data["townships"]["t"]["windows"] = {"U": 2}
    return data


def test_dedicated_windows_refer_a_matter_to_the_next_window():
    r = simulate(scenario(matters("dedicated")), 0)
    v, c = r.visits, r.cases
    referred = (v["purpose"] == REFERRAL) & (v["outcome"] == SERVED)
    # referral_next_day_prob 0: the same trip, unless the first window finished after closing time
    same = v["cause"][referred] == SAME_TRIP
    assert same.mean() > 0.95
    # the case's own item leads; the referral serves the other one: its time + 2 minutes of re-explaining
    led_by_a = c["item"][v["case"][referred]] == 0
    service = v["done"][referred] - v["called"][referred]
    assert led_by_a.any() and (~led_by_a).any()
    assert np.allclose(service[led_by_a], 4 + 2) and np.allclose(service[~led_by_a], 5 + 2)
    assert np.all(c["referrals"] == 1)
    assert np.all(c["matter_items"] == 2)
    done = c["status"] == COMPLETED
    assert np.mean(c["trips"][done] == 1) > 0.95


def test_referrals_that_need_another_day_cost_a_trip():
    c = simulate(scenario(matters("dedicated", referral_next_day_prob=1.0)), 0).cases
    done = c["status"] == COMPLETED
    assert np.all(c["trips"][done] == 2)


def test_a_unified_window_takes_a_whole_matter_at_once():
    r = simulate(scenario(matters("unified", referral_next_day_prob=1.0)), 0)
    v, c = r.visits, r.cases
    assert not np.any(v["purpose"] == REFERRAL)
    served = (v["outcome"] == SERVED) & (v["case"] >= 0)
    assert np.allclose(v["done"][served] - v["called"][served], 5 + 4)  # both items, one service
    done = c["status"] == COMPLETED
    assert np.all(c["trips"][done] == 1)


def test_out_of_scope_requests_travel_to_the_county():
    data = hall(demand={"out_of_scope_share": 1.0, "out_of_scope_county_trips": 1.3})
    c = simulate(scenario(data), 0).cases
    assert np.all(c["route"] == OUT_OF_SCOPE)
    assert set(np.unique(c["county_trips"]).tolist()) == {1, 2}
    assert 1.2 < c["county_trips"].mean() < 1.4
    done = c["status"] == COMPLETED
    assert np.all(c["trips"][done] == 1 + c["county_trips"][done])  # one township trip to be told
    # travel: the township trip (3 km village mean) plus county trips of 2 x 30 km at 30 km/h + 15 min
    county_minutes = c["county_trips"][done] * (15 + 2 * 30 / 30 * 60)
    assert np.all(c["travel_minutes"][done] >= county_minutes + 15)
    assert np.all(np.isnan(c["lead_days"][done]))


def test_finite_county_reviewers_queue_files_and_report_their_load():
    data = hall()
    data["items"]["A"].update(route="county", lead_days=0, review_minutes=30)
    data["items"]["B"]["weight"] = 0
    data["departments"]["D1"]["county_reviewers"] = 1
    s = scenario(data)
    load = [o for o in capacity.office_loads(s) if o.kind == "county"][0]
    assert load.offered == pytest.approx(40 * 30)  # 40 cases a day, all of them A, 30 minutes each
    assert load.ratio == pytest.approx(1200 / 390)
    assert capacity.overloaded(s) == [load]
    assert "D1" in capacity.warnings(s)[0]
    r = simulate(s, 0)
    reviewers, busy, seats, waiting = r.meta.county_offices[0]
    assert (reviewers, seats) == (1, 1)
    assert busy == pytest.approx(r.meta.open_minutes, rel=0.01)  # busy all the time
    assert waiting > 0


def test_demand_normalisation_keeps_the_annual_volume():
    s = load_scenario("baseline")
    cal = Calendar(s.calendar, s.horizon)
    town = s.townships["qianku"]
    factors = day_factors(s, cal, town)
    year_end = cal.start + dt.timedelta(days=365)
    year = [f for f, d in zip(factors, cal.dates) if d < year_end]
    assert np.mean(year) == pytest.approx(1.0, abs=1e-9)
    raw = day_factors(s.model_copy(update={"demand": s.demand.model_copy(update={"normalise": False})}), cal, town)
    assert np.mean([f for f, d in zip(raw, cal.dates) if d < year_end]) > 1.05  # what stacking factors did


def test_full_empowerment_makes_delegated_immediate_items_immediate_and_seconds_reviewers():
    base = load_scenario("baseline")
    s1 = load_scenario("s1_full_empowerment")
    assert s1.items["ZR02"].route == "immediate" and s1.items["ZR02"].result == "none"
    assert s1.items["MZ01"].route == "township"
    assert s1.demand.out_of_scope_share == 0.02
    county_before = sum(d.county_reviewers or 0 for d in base.departments.values())
    county_after = sum(d.county_reviewers or 0 for d in s1.departments.values())
    town_before = sum(t.reviewers for t in base.townships.values())
    town_after = sum(t.reviewers for t in s1.townships.values())
    # the reviewers move with the work: what the county loses the townships gain
    assert county_before - county_after == pytest.approx(town_after - town_before, abs=0.01)
    assert town_after > town_before + 20
    without = reforms.apply(base, "full_empowerment", reforms.FullEmpowerment(second_share=0.0))
    assert capacity.overloaded(without)  # empowerment without the people overloads townships
    assert not capacity.overloaded(s1)


def test_no_shipped_scenario_has_an_overloaded_office():
    from simcenter.comparison import library

    for name in ["baseline", *library()]:
        loads = capacity.office_loads(load_scenario(name))
        assert loads and max(o.ratio for o in loads) < 0.95, name


def test_seasonal_windows_of_s5_open_within_the_default_horizon():
    s = load_scenario("s5_staffing")
    cal = Calendar(s.calendar, s.horizon)
    months = set(s.window_groups["G1_SEASON"].months)
    measured = cal.dates[cal.warmup_days:cal.n_days]
    assert sum(d.month in months for d in measured) > 60  # working days with the seasonal windows open
