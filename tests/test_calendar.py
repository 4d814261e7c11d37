"""Calendar arithmetic, shuttles, arrivals and absences: the pieces under the journey."""

from __future__ import annotations


import numpy as np
import pytest

from simcenter.model.county import Model
from simcenter.model.arrivals import DayPlan, day_pieces
from simcenter.model.backoffice import Shuttle
from simcenter.model.calendar import DAY, Calendar
from simcenter.scenario.schema import Calendar as CalendarSpec
from simcenter.scenario.schema import County, Demand, Horizon

from builders import analytic


def calendar(**kw) -> Calendar:
    return Calendar(CalendarSpec(**kw), Horizon(days=10, start="2024-03-04"))  # a Monday


def test_working_days_skip_weekends_and_holidays():
    cal = calendar(holidays=["2024-03-06"])
    assert [d.isoformat() for d in cal.dates[:5]] == ["2024-03-04", "2024-03-05", "2024-03-07", "2024-03-08", "2024-03-11"]
    assert cal.day_start[2] == 3 * DAY
    # Friday noon + 1 working day = Monday noon
    friday_noon = cal.day_start[3] + 720
    assert cal.add_working_days(friday_noon, 1) == cal.day_start[4] + 720
    assert cal.day_at(cal.day_start[3] + 2 * DAY) == 3  # Saturday belongs to Friday's index


def test_open_time_skips_lunch_and_nights():
    cal = calendar()  # 08:30-11:30, 14:00-17:30
    assert cal.open_per_day == 390
    t = cal.day_start[0] + 11 * 60  # 11:00
    assert cal.after_open_minutes(t, 60) == cal.day_start[0] + 14 * 60 + 30  # 30 before lunch, 30 after
    assert cal.after_open_minutes(cal.day_start[0] + 17 * 60, 60) == cal.day_start[1] + 9 * 60  # overnight
    assert cal.open_minutes_between(cal.day_start[0], cal.day_start[1]) == 390


def test_round_the_clock_sessions_merge_into_one_open_spell():
    cal = calendar(working_days="all", sessions=[["00:00", "24:00"]])
    assert cal.opens[0] == 0 and cal.closes[0] >= 10 * DAY


def test_shuttle_leaves_at_closing_on_shuttle_days():
    cal = calendar()
    shuttle = Shuttle(cal, County(shuttle_days=["tue", "fri"], transit_days=1))
    monday_10 = cal.day_start[0] + 600
    assert shuttle.departure(monday_10) == cal.closing_of_day(1)  # Tuesday 17:30
    assert shuttle.arrival(monday_10) == cal.closing_of_day(2)  # + 1 working day
    tuesday_late = cal.closing_of_day(1) + 60
    assert shuttle.departure(tuesday_late) == cal.closing_of_day(4)  # missed it: Friday
    assert Shuttle(cal, County(shuttle_days="electronic", transit_days=1)).arrival(monday_10) == monday_10


def test_profile_pieces_drop_the_lunch_closure():
    demand = Demand(hourly_profile={"08:30": 24, "09:30": 22, "10:30": 14, "14:00": 16, "15:00": 14, "16:00": 10})
    pieces = day_pieces(demand, [(510, 690), (840, 1050)])
    assert [(a, b) for a, b, _ in pieces] == [(510, 570), (570, 630), (630, 690), (840, 900), (900, 960), (960, 1050)]
    assert np.isclose(sum(w for *_, w in pieces), 1)
    assert np.isclose(pieces[0][2], 0.24)


def test_arrivals_are_poisson_with_the_planned_mean_and_shape():
    pieces = [(0, 60, 0.75), (60, 240, 0.25)]
    plan = DayPlan(pieces, np.random.default_rng(5))
    days = [plan.arrivals(0.0, 40.0) for _ in range(4000)]
    counts = np.array([len(d) for d in days])
    assert abs(counts.mean() - 40) < 0.5 and abs(counts.var() - 40) < 4  # Poisson: mean = variance
    times = np.concatenate(days)
    assert abs(np.mean(times < 60) - 0.75) < 0.01
    assert all(d == sorted(d) for d in days[:50])


def test_market_days_and_weekdays_scale_the_day(build):
    data = analytic(cases_per_day=100, days=20)
    data["calendar"] = {"working_days": ["mon", "tue", "wed", "thu", "fri"]}
    data["demand"] = {"weekday_factor": {"mon": 2.0}, "market_day_factor": 3.0}
    data["townships"]["t"]["market_days"] = {"every": 5, "phase": 2}
    model = Model(build(data), 0)
    cal, town = model.calendar, model.towns[0]
    for k, expected in enumerate(town.expected):
        market = cal.dates[k].toordinal() % 5 == 2
        assert expected == pytest.approx(100 * (2.0 if cal.weekday(k) == "mon" else 1.0) * (3.0 if market else 1.0))


def test_absences_take_the_stated_share_of_open_time(build):
    """A busy window's clerk leaves after the citizen at the window: the share stays ~1 - availability."""
    data = analytic(windows=4, cases_per_day=4 * 0.7 * 1440 / 5, service={"dist": "exponential", "mean": 5},
                    days=20, staffing={"availability": 0.8})
    records = Model(build(data), 0).run()
    away = sum(b - a for *_, a, b in records.absences)
    share = away / (4 * 20 * DAY)
    assert 0.17 < share < 0.21, share
