"""The citizen's journey (DESIGN §4), one SimPy process per case, read top to bottom.

hand in documents (coming back while they are incomplete) → the item's route decides
(at the window, by the township, or by the county with shuttles and sign-offs) → the result
reaches the citizen (nothing to do, mail, or a pickup visit). Every visit is a trip:
take a ticket (or balk), wait (or renege, or be sent home at closing), be served.
"""

from __future__ import annotations

import math

from .backoffice import signoff_days
from functools import partial

from .centre import RENEGED as RENEGED_CALL
from .centre import SENT_HOME
from .records import (
    ABANDON_RETURN, BALKED, COMPLETED, CONSULT, COUNTY, DROPPED, FIRST, IMMEDIATE, INCOMPLETE_RETURN,
    PICKUP, PICKUP_TRIP, RENEGED, SERVED, SUBMIT, SUPPLEMENT, SUPPLEMENT_TRIP, TOWNSHIP,
)
from .records import SENT_HOME as SENT_HOME_OUTCOME

# What each of a case's uniform numbers is for: SLOTS numbers per purpose, so that the n-th
# return visit of a citizen uses the same number in every scenario (common random numbers).
SLOTS = 4
(ITEM, WINDOW, INCOMPLETE, GIVE_UP, RETURN_DAYS, RETURN_TIME, PATIENCE, ABANDON_DAYS, LEAD,
 SUPPLEMENT_NEEDED, SUPPLEMENT_DAYS, SUPPLEMENT_MINUTES, SIGNOFF, MAIL, PICKUP_DAYS, PICKUP_MINUTES,
 TURN_AWAY_MINUTES) = range(17)
DRAWS_PER_CASE = 17 * SLOTS


class Case:
    __slots__ = ("id", "town", "item", "created", "u", "trips", "official_trips", "visits", "status", "end",
                 "lead_days")

    def __init__(self, id_, town, item, created, u):
        self.id, self.town, self.item, self.created, self.u = id_, town, item, created, u
        self.trips = self.official_trips = self.visits = 0
        self.status = 0
        self.end = math.nan
        self.lead_days = math.nan

    def window_minutes(self) -> float:
        """Window time of the complete submission (before any generalist factor)."""
        return self.item.window.ppf1(self.u[WINDOW * SLOTS]) + self.item.extra_minutes

    def draw(self, purpose: int, n: int = 0) -> float:
        """The case's n-th uniform number for `purpose` (beyond SLOTS: the township's spare stream)."""
        return self.u[purpose * SLOTS + n] if n < SLOTS else self.town.spare()


def until(env, t: float):
    """A timeout to clock time t (never negative: t may equal now up to rounding)."""
    return env.timeout(max(t - env.now, 0.0))


# ------------------------------------------------------------------------------ the journey


def case_journey(m, case: Case):
    accepted = yield from hand_in_documents(m, case)
    if not accepted:
        m.close(case, DROPPED)
        return
    route, county_file = case.item.route, None
    if route == TOWNSHIP:
        yield from township_decision(m, case)
    elif route == COUNTY:
        county_file = yield from county_decision(m, case)
    yield from receive_result(m, case, county_file)
    m.close(case, COMPLETED)


def hand_in_documents(m, case: Case):
    """Visit until the documents are complete; False if the citizen gives up."""
    item, behaviour = case.item, m.behaviour
    incomplete = case.draw(INCOMPLETE) < item.incomplete_prob
    cause, returns = FIRST, 0
    while True:
        minutes = m.turn_away.ppf1(case.draw(TURN_AWAY_MINUTES, returns)) if incomplete else case.window_minutes()
        yield from visit(m, case, SUBMIT, cause, minutes)
        if not incomplete:
            return True
        if case.draw(GIVE_UP, returns) < behaviour.drop_after_incomplete_prob:
            return False
        yield from come_back(m, case, m.return_after.ppf1(case.draw(RETURN_DAYS, returns)))
        returns += 1
        incomplete = case.draw(INCOMPLETE, returns) < behaviour.repeat_incomplete_prob
        cause = INCOMPLETE_RETURN


def township_decision(m, case: Case):
    files = m.records.township_files
    index = m.records.file_opened(files, case.town.index, m.env.now)
    yield from case.town.office.review(case.item.township_lead.ppf1(case.draw(LEAD)))
    m.records.file_closed(files, index, m.env.now)


def county_decision(m, case: Case):
    """Shuttle to the county, review, maybe back for supplements, then the sign-offs.

    Returns the county backlog entry of the file's last pass, closed when the result is out.
    """
    env, item, county, records = m.env, case.item, m.county, m.records
    passes = 0
    while True:
        index = records.file_opened(records.county_files, case.town.index, env.now)
        yield until(env, m.shuttle.arrival(env.now))
        yield from m.departments[item.department].review(item.lead.ppf1(case.draw(LEAD, passes)))
        if case.draw(SUPPLEMENT_NEEDED, passes) >= county.supplement_prob:
            break
        yield until(env, m.shuttle.arrival(env.now))  # the file comes back
        records.file_closed(records.county_files, index, env.now)
        yield from come_back(m, case, m.return_after.ppf1(case.draw(SUPPLEMENT_DAYS, passes)))
        yield from visit(m, case, SUPPLEMENT, SUPPLEMENT_TRIP, m.supplement_minutes.ppf1(case.draw(SUPPLEMENT_MINUTES, passes)))
        passes += 1
    durations = [m.signoff.ppf1(case.draw(SIGNOFF, j)) for j in range(len(item.signoffs))]
    extra = signoff_days(durations, county.signoff_mode)
    if extra:
        yield until(env, m.calendar.add_working_days(env.now, extra))
    return index


def receive_result(m, case: Case, county_file: int | None):
    env, item = m.env, case.item
    if county_file is not None:
        if item.pickup:  # the certificate travels back to the township
            yield until(env, m.shuttle.arrival(env.now))
        m.records.file_closed(m.records.county_files, county_file, env.now)
    if not item.pickup:
        return
    if case.draw(MAIL) < m.behaviour.mail_share:
        yield until(env, m.calendar.add_working_days(env.now, m.mail_days))
        return
    yield from come_back(m, case, m.pickup_after.ppf1(case.draw(PICKUP_DAYS)))
    yield from visit(m, case, PICKUP, PICKUP_TRIP, m.pickup_minutes.ppf1(case.draw(PICKUP_MINUTES)))


# ------------------------------------------------------------------------------ one trip


def visit(m, case: Case, purpose: int, cause: int, minutes: float):
    """Trips to the hall until the citizen is served (balking or reneging means another day)."""
    town = case.town
    while True:
        case.trips += 1
        case.official_trips += cause != INCOMPLETE_RETURN
        patience = m.patience(case.draw(PATIENCE, case.visits))
        case.visits += 1
        served = yield from queue_and_serve(m, town, case.item.index, case.id, purpose, cause, minutes, patience)
        if served:
            return
        yield from come_back(m, case, m.abandon_return.ppf1(case.draw(ABANDON_DAYS, case.visits - 1)))
        # a trip repeated because of the queue keeps the cause of the visit it repeats when that
        # was incomplete documents: without them the citizen would not have come at all
        cause = cause if cause == INCOMPLETE_RETURN else ABANDON_RETURN


def queue_and_serve(m, town, kind: int, case_id: int, purpose: int, cause: int, minutes: float, patience):
    """Process: one visit at the hall. Returns True if the citizen was served."""
    env, centre, record = m.env, town.centre, m.records.visit
    arrive = env.now
    patience_or_nan = math.nan if patience is None else patience
    ticket = centre.take_ticket(kind)
    if ticket is None:
        record(town.index, case_id, kind, purpose, cause, arrive, math.nan, arrive, BALKED, -1, patience_or_nan)
        return False
    if patience is not None and not ticket.called.triggered:
        # patience counts open minutes; if it runs out first the centre hands back RENEGED
        timer = env.timeout(m.calendar.after_open_minutes(arrive, patience) - arrive)
        timer.callbacks.append(partial(centre.renege, ticket))
    window = yield ticket.called
    if window == RENEGED_CALL:
        record(town.index, case_id, kind, purpose, cause, arrive, math.nan, env.now, RENEGED, -1, patience)
        return False
    if window == SENT_HOME:
        record(town.index, case_id, kind, purpose, cause, arrive, math.nan, env.now, SENT_HOME_OUTCOME, -1, patience_or_nan)
        return False
    called = env.now
    yield env.timeout(minutes * centre.windows[window].factor)
    centre.window_done(window)
    record(town.index, case_id, kind, purpose, cause, arrive, called, env.now, SERVED, window, patience_or_nan)
    return True


def consultation(m, town, minutes: float, patience):
    """Process: a visit that only asks a question and creates no case."""
    yield from queue_and_serve(m, town, m.consult_kind, -1, CONSULT, FIRST, minutes, patience)


def come_back(m, case: Case, days: float):
    """Process: go home and return on a later working day, at a time drawn from the day's profile."""
    cal = m.calendar
    k = min(cal.day_at(m.env.now) + max(1, math.ceil(days)), len(cal.day_start) - 1)
    t = case.town.plan.time_of_day(cal.day_start[k], case.draw(RETURN_TIME, case.visits - 1))
    yield until(m.env, t)
