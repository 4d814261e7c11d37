"""Who is called next: appointments first, reserved, standby, seasonal and lunch windows."""

from __future__ import annotations

import numpy as np
import simpy

from simcenter.model.county import Model
from simcenter.model.centre import Centre, Window
from simcenter.model.records import SERVED

from builders import analytic


def hall(windows: list[Window], kinds: int = 1, balk=None) -> Centre:
    env = simpy.Environment()
    eligible = [tuple(w.index for w in windows if w.accepts[k]) for k in range(kinds)]
    centre = Centre(env, None, windows, eligible, balk)
    centre.calling = True
    return centre


def test_booked_tickets_are_called_before_earlier_walk_ins():
    centre = hall([Window(0, 0, 1.0, [True])])
    first = centre.take_ticket(0)  # called at once
    walk_in = centre.take_ticket(0)
    booked = centre.take_ticket(0, booked=True)
    assert first.is_called() and not walk_in.is_called()
    centre.window_done(0)
    assert booked.is_called() and not walk_in.is_called()
    centre.window_done(0)
    assert walk_in.is_called()


def test_a_reserved_window_serves_only_bookings():
    centre = hall([Window(0, 0, 1.0, [True], booked_only=True)])
    walk_in = centre.take_ticket(0)
    assert not walk_in.is_called() and centre.windows[0].free
    booked = centre.take_ticket(0, booked=True)
    assert booked.is_called()


def test_a_standby_window_opens_at_its_queue_length_and_closes_when_empty():
    centre = hall([Window(0, 0, 1.0, [True]), Window(1, 0, 1.0, [True], standby=3)])
    tickets = [centre.take_ticket(0) for _ in range(3)]  # one called by window 0, two wait
    assert [t.is_called() for t in tickets] == [True, False, False]
    fourth = centre.take_ticket(0)  # three waiting now: the standby window opens
    assert tickets[1].is_called() and tickets[1].called_by() == 1
    centre.window_done(1)  # it keeps calling while anyone waits for it
    assert tickets[2].is_called()
    centre.window_done(1)
    assert fourth.is_called()
    centre.window_done(1)
    assert not centre.windows[1].opened


def test_balking_counts_only_tickets_that_share_a_window():
    a, b = Window(0, 0, 1.0, [True, False]), Window(1, 1, 1.0, [False, True])
    centre = hall([a, b], kinds=2, balk=2)
    assert all(centre.take_ticket(0) for _ in range(3))  # one served, two waiting for window 0
    assert centre.take_ticket(0) is None  # two ahead: balks
    assert centre.take_ticket(1) is not None  # the other window's queue is empty


def served_at(data, build):
    model = Model(build(data), 0)
    records = model.run()
    v = records.visits
    return v, (v["outcome"] == SERVED)


def test_seasonal_windows_work_only_in_their_months(build):
    data = analytic(windows=1, cases_per_day=100, days=45, service={"dist": "exponential", "mean": 4})
    data["calendar"] = {"sessions": [["08:00", "12:00"]]}
    data["horizon"]["start"] = "2024-03-04"
    data["window_groups"]["S"] = {"accepts": ["D"], "months": [4]}
    data["townships"]["t"]["windows"]["S"] = 1
    v, served = served_at(data, build)
    at_seasonal = served & (v["window"] == 1)
    months = (np.datetime64("2024-03-04") + (v["called"][at_seasonal] // 1440).astype("timedelta64[D]"))
    assert at_seasonal.sum() > 100
    assert set(months.astype("datetime64[M]").astype(str)) == {"2024-04"}


def test_only_lunch_windows_serve_over_lunch(build):
    data = analytic(windows=2, cases_per_day=200, days=5, service={"dist": "exponential", "mean": 4})
    data["calendar"] = {"sessions": [["08:30", "11:30"], ["14:00", "17:30"]]}
    data["window_groups"]["L"] = {"accepts": ["D"], "lunch": True}
    data["townships"]["t"]["windows"]["L"] = 1
    data["behaviour"] = {"lunch_shift_share": 0.3}
    v, served = served_at(data, build)
    clock = v["called"][served] % 1440
    over_lunch = (clock >= 11.5 * 60) & (clock < 14 * 60)
    assert over_lunch.sum() > 20
    assert set(v["window"][served][over_lunch]) == {2}  # the lunch window (after two regular ones)
