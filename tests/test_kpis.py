"""KPIs on tiny hand-built records: every value worked out by hand (simcenter.kpis, docs/kpis.md)."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pytest

from simcenter import kpis
from simcenter.model.records import (CASE_COLUMNS, COMPLETED, CONSULT, COUNTY, DROPPED, ELSEWHERE, IMMEDIATE, OPEN,
                                     OUT_OF_SCOPE, PICKUP, SERVED, SUBMIT, VISIT_COLUMNS, VISIT_ROW, Records, RENEGED, RunMeta,
                                     TOWNSHIP)
from simcenter.scenario.schema import Scenario

DAY = 1440
W, E = DAY, 3 * DAY  # measurement window: days 1 and 2
SESSIONS = [(480.0, 720.0), (840.0, 1020.0)]  # 8:00-12:00 and 14:00-17:00: 420 open minutes a day
OPEN_MINUTES = 840.0  # two measured days
START = dt.date(2024, 1, 1).toordinal()
NAN = math.nan


def build(visits=(), cases=(), township_files=(), county_files=(), **meta) -> Records:
    """Two townships: a (windows: G regular, L lunch) and b (windows: G seasonal on duty half the
    days, G standby); three county departments. `visits` and `cases` are dicts with the columns
    that matter; the others default."""
    r = Records()
    visit_defaults = {"township": 0, "case": -1, "kind": 0, "purpose": CONSULT, "cause": 0, "arrive": W + 500,
                      "called": NAN, "done": NAN, "outcome": SERVED, "window": 0, "patience": NAN}
    for v in visits:
        row = {**visit_defaults, **v}
        r.visit(VISIT_ROW.pack(*(row[c] for c in VISIT_COLUMNS)))
    case_defaults = {"township": 0, "item": 0, "route": IMMEDIATE, "created": W + 500, "status": COMPLETED,
                     "end": W + 600, "trips": 1, "official_trips": 1, "visits": 1, "county_trips": 0,
                     "matter_items": 1, "referrals": 0, "handler": 0, "booked": 0, "travel_minutes": 0.0,
                     "travel_km": 0.0, "lead_days": 0.0, "decision_days": 0.0, "promised_days": NAN}
    for c in cases:
        row = {**case_defaults, **c}
        for name in CASE_COLUMNS:
            r.cases[name].append(row[name])
    for table, rows in ((r.township_files, township_files), (r.county_files, county_files)):
        for town, a, b in rows:
            table["township"].append(town)
            table["start"].append(a)
            table["end"].append(b)
    r.windows = [[0, 1], [0, 0]]
    fields = {
        "warmup_end": W, "arrivals_end": E, "days": 2, "open_minutes": OPEN_MINUTES,
        "townships": ["a", "b"], "groups": ["G", "L"], "reviewers": [2, 0.5], "departments": ["D1", "D2", "D3"],
        "township_offices": [(2.0, 840.0, 2, 1440.0), (0.5, 630.0, 1, 2880.0)],
        "county_offices": [(3.0, 1260.0, 3, 5760.0), (None, 0.0, 0, 0.0), (1.0, 756.0, 1, 0.0)],
        # township a: a market every 5 days, day 1 of the run is one (day 2 is not); b: no market
        "market_days": [(5, (START + 1) % 5), None], "start_ordinal": START,
        "first_open": SESSIONS[0][0], "sessions": SESSIONS, "lunch_groups": [1],
        "window_duty": [[1.0, 1.0], [0.5, None]], "kind_group": [[0], [0]], "queue_by_hour": [{}, {}],
    }
    r.meta = RunMeta(**{**fields, **meta})
    return r.freeze()


def served(township, window, arrive, wait, minutes=5.0, **more):
    return {"township": township, "window": window, "arrive": arrive, "called": arrive + wait,
            "done": arrive + wait + minutes, **more}


# --- cases: trips over ended cases, lead and decision times over completed ones ----------------

CASES = [
    # township a
    dict(status=COMPLETED, trips=1, official_trips=1, travel_minutes=60.0, lead_days=0.5, decision_days=0.25,
         promised_days=1.0),
    dict(status=DROPPED, trips=2, official_trips=1, referrals=1, travel_minutes=120.0, lead_days=NAN,
         decision_days=NAN, promised_days=1.0),
    dict(status=ELSEWHERE, trips=3, official_trips=3, county_trips=1, travel_minutes=180.0, lead_days=NAN,
         decision_days=NAN),
    dict(status=OPEN, trips=5, official_trips=5, travel_minutes=600.0, lead_days=NAN, decision_days=NAN),
    dict(created=100.0, status=COMPLETED, trips=7, official_trips=7, lead_days=9.0),  # warm-up: left out
    # township b
    dict(township=1, route=OUT_OF_SCOPE, status=COMPLETED, trips=2, official_trips=2, county_trips=1,
         travel_minutes=90.0, lead_days=NAN, decision_days=NAN, promised_days=2.0),
    dict(township=1, route=COUNTY, status=COMPLETED, trips=0, official_trips=0, lead_days=3.0, decision_days=2.5,
         promised_days=2.0),
    dict(township=1, route=TOWNSHIP, status=COMPLETED, trips=1, official_trips=1, travel_minutes=60.0,
         lead_days=4.0, decision_days=1.5, promised_days=2.0),  # late for the citizen, on time officially
    dict(township=1, status=COMPLETED, trips=1, official_trips=1, travel_minutes=60.0, lead_days=1.0,
         decision_days=0.0),
]


def test_trip_kpis_are_over_every_ended_case():
    county, (a, b) = kpis.compute(build(cases=CASES))
    assert county["cases"] == 8
    assert (county["completed_share"], county["open_share"], county["dropped_share"], county["elsewhere_share"]) \
        == pytest.approx((5 / 8, 1 / 8, 1 / 8, 1 / 8))
    # ended: completed 5 + dropped 1 + elsewhere 1; trips 1+2+3+2+0+1+1
    assert county["trips_per_case"] == pytest.approx(10 / 7)
    assert county["one_trip_rate"] == pytest.approx(4 / 7)
    assert county["one_trip_rate_official"] == pytest.approx(5 / 7)
    assert county["zero_trip_rate"] == pytest.approx(1 / 7)
    assert county["county_trips_per_case"] == pytest.approx(2 / 7)
    assert county["referrals_per_case"] == pytest.approx(1 / 7)
    assert county["travel_hours_per_case"] == pytest.approx(570 / 7 / 60)
    assert a["cases"] == 4 and a["trips_per_case"] == pytest.approx(2.0) and a["elsewhere_share"] == 0.25
    assert b["cases"] == 4 and b["trips_per_case"] == pytest.approx(1.0) and b["one_trip_rate"] == 0.75


def test_lead_and_decision_days_over_completed_cases_with_a_clock():
    county, (a, b) = kpis.compute(build(cases=CASES))
    # finite lead days of completed cases: 0.5, 3, 4, 1 (the out-of-scope case has none)
    assert county["lead_days_mean"] == pytest.approx(8.5 / 4)
    assert county["lead_days_p90"] == pytest.approx(3.7)  # [0.5, 1, 3, 4] at position 2.7
    assert county["decision_days_mean"] == pytest.approx(4.25 / 4)
    assert a["lead_days_mean"] == pytest.approx(0.5) and b["decision_days_mean"] == pytest.approx(4 / 3)


def test_on_time_is_on_the_official_decision_clock():
    county, (a, b) = kpis.compute(build(cases=CASES))
    # promised and decided: 0.25 <= 1 yes, 2.5 <= 2 no, 1.5 <= 2 yes (on lead days it would be 1/3;
    # counting the out-of-scope case as late, 2/4)
    assert county["on_time_rate"] == pytest.approx(2 / 3)
    assert a["on_time_rate"] == 1.0 and b["on_time_rate"] == 0.5


# --- waits -----------------------------------------------------------------------------------------

def test_market_morning_p90_and_served_within_15():
    visits = [served(0, 0, W + 500, w) for w in (10, 20, 30, 40)]  # a, market day, morning
    visits += [
        served(0, 0, W + 900, 100),  # a, market day, afternoon
        served(0, 0, W + 720, 500),  # a, market day, at the end of the morning session: not before it
        served(0, 0, 2 * DAY + 500, 200),  # a, day 2: no market
        served(1, 0, W + 500, 300),  # b: no market days at all
        served(0, 0, 6 * DAY + 500, 1000),  # a, day 6: a market morning, but after the arrivals end
        {"township": 0, "arrive": W + 510, "outcome": RENEGED, "window": -1},  # not served: no wait
    ]
    county, (a, b) = kpis.compute(build(visits=visits))
    assert county["wait_p90_market_morning"] == pytest.approx(37.0)  # [10, 20, 30, 40] at position 2.7
    assert a["wait_p90_market_morning"] == pytest.approx(37.0)
    assert math.isnan(b["wait_p90_market_morning"])
    assert county["visits"] == 9
    assert county["served_within_15_share"] == pytest.approx(1 / 8)
    assert county["served_within_15_share"] + county["wait_over_15_share"] == pytest.approx(1)
    assert county["wait_p50"] == pytest.approx(70.0)  # (40 + 100) / 2


def test_no_market_days_means_no_market_morning():
    county, _ = kpis.compute(build(visits=[served(0, 0, W + 500, 10)], market_days=[None, None]))
    assert math.isnan(county["wait_p90_market_morning"])


# --- back offices ---------------------------------------------------------------------------------

def test_files_waiting_and_in_progress():
    r = build(township_files=[(0, 0.0, 2 * DAY), (1, 2000.0, NAN)], county_files=[(0, W, W + 720)])
    county, (a, b) = kpis.compute(r)
    span = E - W
    assert county["township_files_waiting_mean"] == pytest.approx((1440 + 2880) / span)
    assert a["township_files_waiting_mean"] == pytest.approx(0.5)
    assert b["township_files_waiting_mean"] == pytest.approx(1.0)
    assert county["county_files_waiting_mean"] == pytest.approx(2.0)  # 5760 over the three departments
    assert math.isnan(a["county_files_waiting_mean"]) and math.isnan(b["county_files_waiting_mean"])
    # in progress: [W, 2 DAY) of the first file, [2000, E) of the second (open at the end)
    assert county["township_files_in_progress_mean"] == pytest.approx((DAY + (E - 2000)) / span)
    assert a["township_files_in_progress_mean"] == pytest.approx(DAY / span)
    assert county["county_files_in_progress_mean"] == pytest.approx(720 / span)
    assert a["county_files_in_progress_mean"] == pytest.approx(720 / span) and b["county_files_in_progress_mean"] == 0


def test_reviewer_utilization():
    county, (a, b) = kpis.compute(build())
    # a: 840 busy seat-minutes / (2 seats × 840); b: 630 / (1 seat × 840)
    assert a["township_reviewer_utilization_max"] == pytest.approx(0.5)
    assert b["township_reviewer_utilization_max"] == pytest.approx(0.75)
    assert county["township_reviewer_utilization_max"] == pytest.approx(0.75)
    assert county["township_reviewer_utilization_mean"] == pytest.approx(0.625)
    # D1: 1260 / (3 × 840); D2 has no limit: skipped; D3: 756 / 840
    assert county["county_reviewer_utilization_max"] == pytest.approx(0.9)
    assert math.isnan(a["county_reviewer_utilization_max"])
    unlimited = [(None, 0.0, 0, 0.0), (None, 0.0, 0, 0.0)]
    county, (a, _) = kpis.compute(build(township_offices=unlimited, county_offices=unlimited[:1]))
    assert math.isnan(county["township_reviewer_utilization_max"]) and math.isnan(a["township_reviewer_utilization_max"])
    assert math.isnan(county["county_reviewer_utilization_max"])


def test_department_table():
    rows = kpis.department_rows(build())
    assert [r["department"] for r in rows] == ["D1", "D2", "D3"]
    assert rows[0] == {"department": "D1", "reviewers": 3.0, "utilization": pytest.approx(0.5),
                       "files_waiting_mean": pytest.approx(2.0)}
    assert math.isnan(rows[1]["reviewers"]) and math.isnan(rows[1]["utilization"])
    assert rows[1]["files_waiting_mean"] == 0 and rows[2]["utilization"] == pytest.approx(0.9)
    assert kpis.detail_tables(build())["kpis_by_department"] == rows


# --- staff hours ------------------------------------------------------------------------------------

STAFF_VISITS = [
    served(0, 0, W + 590, 10, 30),  # a/G: 30 busy minutes in session time
    served(0, 0, 2 * DAY + 1000, 10, 30),  # a/G: called 16:50, done 17:20: 20 minutes after the last closing
    served(0, 0, 2 * DAY + 1040, 5, 15),  # a/G: called 17:25 (overtime queue): 15 minutes, all after closing
    served(0, 1, W + 740, 10, 10),  # a/L (lunch window) serving at lunch: scheduled time, not overtime
    served(1, 0, 2 * DAY + 1010, 5, 10),  # b/G seasonal: 5 minutes after closing
    served(1, 1, W + 590, 10, 50),  # b standby window: its 50 busy minutes
    served(0, 0, 990, 10, 30),  # a/G in the warm-up, overtime before W: not counted
    served(0, 0, E + 1000, 10, 30),  # a/G after the arrivals end: not counted
]


def test_staff_hours_parts():
    county, (a, b) = kpis.compute(build(visits=STAFF_VISITS))
    # windows, scheduled: a/G 840, a/L 840 + 2 days × 120 lunch minutes = 1080, b/G 0.5 × 840 = 420;
    # b standby: 50 busy; overtime: 20 + 15 (a/G) + 5 (b/G). Not multiplied by availability.
    assert a["staff_hours_windows"] == pytest.approx((840 + 1080 + 35) / 60)
    assert b["staff_hours_windows"] == pytest.approx((420 + 50 + 5) / 60)
    assert county["staff_hours_windows"] == pytest.approx((840 + 1080 + 420 + 50 + 40) / 60)
    # township reviewers 2 and 0.5 over 840 open minutes
    assert a["staff_hours_township_review"] == pytest.approx(28.0)
    assert b["staff_hours_township_review"] == pytest.approx(7.0)
    assert county["staff_hours_township_review"] == pytest.approx(35.0)
    # county reviewers 3 + 1 (D2 has no limit) over 840 open minutes: the county row only
    assert county["staff_hours_county_review"] == pytest.approx(56.0)
    assert math.isnan(a["staff_hours_county_review"]) and math.isnan(b["staff_hours_county_review"])
    assert county["staff_hours"] == pytest.approx((840 + 1080 + 420 + 50 + 40) / 60 + 35 + 56)
    assert a["staff_hours"] == pytest.approx((840 + 1080 + 35) / 60 + 28)
    assert b["staff_hours"] == pytest.approx((420 + 50 + 5) / 60 + 7)


def test_window_utilization_counts_busy_time_in_the_window():
    county, (a, b) = kpis.compute(build(visits=STAFF_VISITS))
    assert a["window_utilization_max"] == pytest.approx((30 + 30 + 15) / 840)  # a/G
    assert b["window_utilization_mean"] == pytest.approx(10 / 420)  # the seasonal window; standby left out


# --- costs ------------------------------------------------------------------------------------------

PRICES = {"window_staff_hour": 50, "township_reviewer_hour": 80, "county_reviewer_hour": 100, "citizen_hour": 24,
          "per_km": 0.5, "mail_item": 12, "agent_case": 20, "mobile_case": 40}
# item 0 hands out nothing, item 1 a certificate to pick up (or mailed)
PRICED = Scenario.model_validate({
    "departments": {"D": {}}, "window_groups": {"G": ["D"]}, "costs": PRICES,
    "townships": {"a": {"cases_per_day": 1, "windows": {"G": 1}}},
    "items": {"i0": {"department": "D", "weight": 1, "route": "immediate", "window_minutes": 5},
              "i1": {"department": "D", "weight": 1, "route": "immediate", "window_minutes": 5, "result": "pickup"}}})
COST_CASES = [
    dict(item=1, travel_minutes=60.0, travel_km=10.0),  # 0: a, no pickup visit: mailed
    dict(item=1, trips=2, travel_minutes=60.0, travel_km=10.0),  # 1: a, picked up (its visit below)
    dict(handler=1, trips=0),  # 2: a, a village agent's case: its visit is not the citizen's time
    dict(handler=2, trips=0),  # 3: a, the mobile team's
    dict(item=1, created=100.0, travel_minutes=600.0, travel_km=99.0),  # 4: warm-up: left out
    dict(township=1, item=1, route=OUT_OF_SCOPE, travel_minutes=90.0, travel_km=40.0),  # 5: b, redirected: no mail
]
COST_VISITS = STAFF_VISITS + [  # consultations in scope: 120 minutes in the hall at a, 75 at b
    served(0, 0, W + 800, 5, 3, case=1, purpose=PICKUP),  # 8 minutes
    served(0, 0, W + 600, 10, 10, case=2, purpose=SUBMIT),  # the agent's 20 minutes: not counted
    {"township": 0, "case": 0, "purpose": SUBMIT, "arrive": W + 550, "done": W + 580, "outcome": RENEGED,
     "window": -1},  # waited 30 minutes, then left
]


def test_costs_by_hand():
    county, (a, b) = kpis.compute(build(visits=COST_VISITS, cases=COST_CASES), PRICED)
    # staff-hours as in test_staff_hours_parts × the hourly prices, + one mailed result, one agent
    # case and one mobile case at a
    assert county["staff_cost"] == pytest.approx(2430 / 60 * 50 + 35 * 80 + 56 * 100 + 12 + 20 + 40)
    assert a["staff_cost"] == pytest.approx(1955 / 60 * 50 + 28 * 80 + 12 + 20 + 40)
    assert b["staff_cost"] == pytest.approx(475 / 60 * 50 + 7 * 80)  # no county reviewers in a township row
    # hall minutes (a: 120 + 8 + 30, b: 75) + travel minutes (60 + 60, b: 90) at 24 an hour, km at 0.5
    assert county["citizen_cost"] == pytest.approx((158 + 75 + 120 + 90) / 60 * 24 + 60 * 0.5)
    assert a["citizen_cost"] == pytest.approx((158 + 120) / 60 * 24 + 20 * 0.5)
    assert b["citizen_cost"] == pytest.approx((75 + 90) / 60 * 24 + 40 * 0.5)
    assert county["cost_per_case"] == pytest.approx((county["staff_cost"] + county["citizen_cost"]) / 5)
    assert a["cost_per_case"] == pytest.approx((a["staff_cost"] + a["citizen_cost"]) / 4)
    assert b["cost_per_case"] == pytest.approx((b["staff_cost"] + b["citizen_cost"]) / 1)


def test_costs_without_a_scenario_take_the_default_prices_and_mail_nothing():
    from simcenter.scenario.schema import Costs

    county, _ = kpis.compute(build(visits=COST_VISITS, cases=COST_CASES))
    p = Costs()
    assert county["staff_cost"] == pytest.approx(2430 / 60 * p.window_staff_hour + 35 * p.township_reviewer_hour
                                                 + 56 * p.county_reviewer_hour + p.agent_case + p.mobile_case)
    assert math.isnan(kpis.compute(build())[0]["cost_per_case"])  # no cases


# --- rows and tables -------------------------------------------------------------------------------

def test_rows_have_every_kpi_in_order():
    county, towns = kpis.compute(build(visits=STAFF_VISITS, cases=CASES))
    assert tuple(county) == kpis.KPI_NAMES
    assert [tuple(t)[1:] for t in towns] == [kpis.KPI_NAMES] * 2 and [t["township"] for t in towns] == ["a", "b"]


def test_cases_summary_is_over_ended_cases_with_out_of_scope():
    rows = kpis.detail_tables(build(cases=CASES))["cases_summary"]
    got = {(r["route"], r["trips"]): (r["cases"], r["lead_cases"], r["lead_days_mean"]) for r in rows}
    assert got.keys() == {("immediate", 1), ("immediate", 2), ("immediate", 3), ("out_of_scope", 2),
                          ("county", 0), ("township", 1)}
    assert got[("immediate", 1)] == (2, 2, pytest.approx(0.75))  # two completed cases, 0.5 and 1 days
    assert got[("immediate", 2)][:2] == (1, 0) and math.isnan(got[("immediate", 2)][2])  # the dropped case
    assert got[("out_of_scope", 2)][:2] == (1, 0)
    assert sum(r["cases"] for r in rows) == 7


def _documented_units() -> dict[str, str]:
    """docs/kpis.md, section "County row: every column": in each table whose header is
    `| column | definition | unit |`, every backticked name of a row's first cell → the row's last cell."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "kpis.md").read_text(encoding="utf-8")
    section = text.split("## County row: every column", 1)[1].split("\n## ", 1)[0]
    units: dict[str, str] = {}
    header = None
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None:
            header = None
        elif header is None:
            header = cells
        elif header == ["column", "definition", "unit"] and line.startswith("| `"):
            for name in re.findall(r"`([a-z0-9_]+)`", cells[0]):
                assert name not in units, f"{name} is in docs/kpis.md twice"
                units[name] = cells[-1]
    return units


def test_docs_define_every_kpi_with_the_catalogues_unit():
    """docs/kpis.md's county-row tables list exactly the catalogue's KPIs, each with its unit."""
    documented = _documented_units()
    assert set(documented) == set(kpis.CATALOGUE)
    assert {n: documented[n] for n in kpis.CATALOGUE} == {n: k.unit for n, k in kpis.CATALOGUE.items()}


def test_docs_name_the_headline_kpis():
    text = (Path(__file__).resolve().parent.parent / "docs" / "kpis.md").read_text(encoding="utf-8")
    sentence = " ".join(text.split("The headline KPIs are ", 1)[1].split(";", 1)[0].split())
    assert re.findall(r"`([a-z0-9_]+)`", sentence) == list(kpis.HEADLINE)


def test_the_catalogue_is_the_kpi_columns_in_order():
    assert tuple(kpis.CATALOGUE) == kpis.KPI_NAMES
    assert all(name == k.name for name, k in kpis.CATALOGUE.items())
    assert len(kpis.KPI_NAMES) == 49 and len(set(kpis.KPI_NAMES)) == 49


def test_every_kpi_has_a_label_a_unit_and_sound_bounds():
    units = {"minutes", "working days", "hours", "share", "trips", "referrals", "files", "cases", "visits", "CNY"}
    labels = [k.label for k in kpis.CATALOGUE.values()]
    assert len(set(labels)) == len(labels)  # no two KPIs read alike
    for name, k in kpis.CATALOGUE.items():
        assert k.label.strip() and k.label == k.label.strip() and "_" not in k.label, name
        assert k.unit in units, name
        assert k.group in {"cases", "waiting", "trips", "lead", "resources", "costs"}, name
        assert k.higher_is_better in (True, False, None), name
        assert k.lower == 0.0, name  # every KPI is a count, a time, a share or a mean of counts
        if name.endswith(("_share", "_rate", "_official")):
            assert (k.unit, k.lower, k.upper) == ("share", 0.0, 1.0), name
        elif "utilization" in name:  # busy time over open time: can exceed 1 (docs/kpis.md)
            assert (k.unit, k.upper) == ("share", None), name
        else:
            assert k.unit != "share" and k.upper is None, name
        if k.unit in ("cases", "visits") or "utilization" in name or name.startswith("staff_"):
            assert k.higher_is_better is None, name  # neither: demand, load and cost
    assert kpis.kpi("wait_mean").higher_is_better is False and kpis.kpi("one_trip_rate").higher_is_better is True
    assert kpis.label("wait_mean", with_unit=True) == "mean wait (minutes)"
    assert kpis.label("one_trip_rate") == "strict one-trip rate"
    assert kpis.label("no_such_kpi") == "no such kpi" and kpis.unit("no_such_kpi") == ""
    assert list(kpis.clip("one_trip_rate", [-0.1, 1.2])) == [0.0, 1.0]
    assert list(kpis.clip("window_utilization_max", [-0.1, 1.2])) == [0.0, 1.2]


def test_the_headline_kpis_are_as_before():
    """The report's headline (findings, headline tables) and, without the on-time rate, the figures'
    panels and a sweep's default KPIs: all from the catalogue."""
    from simcenter.experiment import ExperimentSpec

    assert kpis.HEADLINE == ("wait_mean", "served_within_15_share", "trips_per_case", "one_trip_rate",
                             "one_trip_rate_official", "lead_days_mean", "decision_days_mean", "on_time_rate",
                             "staff_hours")
    assert kpis.HEADLINE == tuple(n for n, k in kpis.CATALOGUE.items() if k.headline)
    assert kpis.HEADLINE_FIGURES == tuple(k for k in kpis.HEADLINE if k != "on_time_rate")
    assert ExperimentSpec(name="x").kpis == list(kpis.HEADLINE_FIGURES)


def test_consumers_restate_no_kpi_table():
    """Labels, units, headline lists, routes and bins live in simcenter.kpis only."""
    from simcenter import experiment, report

    plots = pytest.importorskip("simcenter.plots")
    for module, names in ((plots, ("LABELS", "ROUTES")), (report, ("KPIS", "ROUTES", "TRIP_CAP", "_info")),
                          (experiment, ("HEADLINE_KPIS",))):
        assert not [n for n in names if hasattr(module, n)], module.__name__
    assert report.HEADLINE is kpis.HEADLINE and plots.ROUTE_NAMES is kpis.ROUTE_NAMES
    assert plots.TRIP_BINS == report.TRIP_BINS == kpis.TRIP_BINS
    assert plots.REMOTE_KM == report.REMOTE_KM == kpis.REMOTE_KM
    for name in kpis.KPI_NAMES:
        assert report.label(name) == kpis.label(name) and report.column(name).startswith(kpis.label(name))
        assert plots.unit(name) == kpis.unit(name)
