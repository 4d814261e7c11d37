"""The citizen's journey, one SimPy process per case, read top to bottom.

a request the township cannot accept goes to the county hall; otherwise: hand in documents
(coming back while they are incomplete; a one-matter case is referred from window to window
unless one window takes it all) → the item's route decides
(at the window, by the township, or by the county with shuttles and sign-offs) → the result
reaches the citizen (nothing to do, mail, or a pickup visit). Every visit is a trip:
take a ticket (or balk), wait (or renege, or be sent home at closing), be served.
A village agent (代办) may make the visits instead of the citizen, and a mobile service may
handle an immediate item in the village: then the citizen makes no trip at all.
"""

from __future__ import annotations

import math
from enum import IntEnum
from functools import partial
from typing import TYPE_CHECKING

from .backoffice import signoff_days
from .centre import Call
from .records import (
    ABANDON_RETURN, BALKED, COMPLETED, CONSULT, COUNTY, DROPPED, ELSEWHERE, FIRST, IMMEDIATE, INCOMPLETE_RETURN,
    OUT_OF_SCOPE_VISIT, PICKUP, PICKUP_TRIP, REFERRAL, REFERRAL_TRIP, RENEGED, SAME_TRIP, SENT_HOME, SERVED, SUBMIT,
    SUPPLEMENT, SUPPLEMENT_TRIP, TOWNSHIP, VISIT_ROW,
)

if TYPE_CHECKING:  # the county the journey runs in (model/county.py builds it)
    from .county import Model, Town

# What each of a case's uniform numbers is for, and how many it has: the n-th return visit of
# a citizen uses the same number in every scenario (common random numbers). Beyond its slots a
# purpose draws from the township's spare stream. One list: the enum, the slots and the offsets
# all come from it (and tests/test_golden.py notices any change of order).
_DRAWS = (
    ("ITEM", 1), ("WINDOW", 1), ("INCOMPLETE", 4), ("GIVE_UP", 4), ("RETURN_DAYS", 4), ("RETURN_TIME", 6),
    ("PATIENCE", 6), ("ABANDON_DAYS", 6), ("LEAD", 3), ("SUPPLEMENT_NEEDED", 3), ("SUPPLEMENT_DAYS", 3),
    ("SUPPLEMENT_MINUTES", 3), ("SIGNOFF", 4), ("MAIL", 1), ("PICKUP_DAYS", 1), ("PICKUP_MINUTES", 1),
    ("TURN_AWAY_MINUTES", 4), ("KM", 1), ("PRECHECK", 1), ("GAPS", 4), ("AGENT", 2), ("BOOKING", 3),
    ("MOBILE", 2), ("RECHECK", 2), ("OUT_OF_SCOPE", 3), ("MATTER", 2), ("MATTER_WINDOW", 4), ("REFERRAL_DAY", 4),
    ("ABANDON_CHOICE", 6), ("IN_PERSON", 1),
)
Purposes = IntEnum("Purposes", [(name, i) for i, (name, _) in enumerate(_DRAWS)])  # for reading records


class Draw:
    """The purposes as plain ints (Draw.PATIENCE is PATIENCE's place in the list): an enum
    member's attribute lookup costs ten times more, and these are read on every visit."""


for _purpose in Purposes:
    setattr(Draw, _purpose.name, int(_purpose))
SLOTS = [n for _, n in _DRAWS]
OFFSET = [sum(SLOTS[:i]) for i in range(len(_DRAWS))]
DRAWS_PER_CASE = sum(SLOTS)

# who comes to the hall for the case
CITIZEN, AGENT_VISITS, MOBILE_SERVICE = 0, 1, 2


class WentElsewhere(Exception):  # noqa: N818 - a turn of the journey, not an error
    """The citizen balked or reneged and finishes the case another way instead of coming back."""


class Case:
    __slots__ = ("id", "town", "item", "created", "u", "trips", "visits", "status", "end",
                 "km", "booked", "handler", "accepting_trip", "county_trips", "matter", "referrals", "out_of_scope",
                 "accepted", "decided")

    def __init__(self, id_, town, item, created, u, km, booked, handler):
        self.id, self.town, self.item, self.created, self.u = id_, town, item, created, u
        self.km, self.booked, self.handler = km, booked, handler
        self.trips = self.visits = self.county_trips = self.referrals = 0
        # trips made when the documents were accepted (-1: never): the official "run at most once"
        # count is from that trip to the result in hand
        self.accepting_trip = -1
        self.matter = ()  # further items of a one-matter case
        self.out_of_scope = False
        self.status = 0
        self.end = self.accepted = self.decided = math.nan

    def window_minutes(self) -> float:
        """Window time of the complete submission (before any generalist or agent factor)."""
        return self.item.window.ppf1(self.u[OFFSET[Draw.WINDOW]]) + self.item.extra_minutes

    def draw(self, purpose: int, n: int = 0) -> float:
        """The case's n-th uniform number for `purpose`."""
        return self.u[OFFSET[purpose] + n] if n < SLOTS[purpose] else self.town.spare()


# ------------------------------------------------------------------------------ the journey


def who_comes(m: Model, case: Case) -> None:
    """The journey's first decision, taken when the case arises (before its process starts,
    because a booked slot may be earlier in the day than the citizen would have come): a mobile
    team or a village agent may take the case; else the citizen may book a slot."""
    mobile, agents, appointments, km = m.mobile, m.agents, m.appointments, case.km
    if mobile and case.item.route == IMMEDIATE and km > mobile.min_km and case.draw(Draw.MOBILE) < mobile.share:
        case.handler = MOBILE_SERVICE
    elif agents and case.item.agent_ok and km > agents.min_km and case.draw(Draw.AGENT) < agents.share:
        case.handler = AGENT_VISITS
    elif (appointments and case.draw(Draw.BOOKING) < appointments.share
          and case.draw(Draw.BOOKING, 1) >= appointments.no_show):
        case.booked, case.created = True, m.booked_slot(case.created, case.draw(Draw.BOOKING, 2))


def case_journey(m: Model, case: Case):
    try:
        if case.out_of_scope:
            yield from redirected_to_county(m, case)
            return
        if case.handler == MOBILE_SERVICE:
            yield from mobile_service(m, case)
            return
        if case.handler == AGENT_VISITS:  # the agent takes the file on the village's next round
            yield m.until(m.agent_round(case, m.env.now))
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
    except WentElsewhere:
        m.close(case, ELSEWHERE)


def redirected_to_county(m: Model, case: Case):
    """A request the township cannot accept: told so at a window, then off to the county hall."""
    yield from visit(m, case, OUT_OF_SCOPE_VISIT, FIRST, m.out_of_scope_minutes.ppf1(case.draw(Draw.OUT_OF_SCOPE, 1)),
                     kind=m.consult_kind)
    mean = m.out_of_scope_trips
    go_to_county(case, int(mean) + (case.draw(Draw.OUT_OF_SCOPE, 2) < mean - int(mean)))
    m.close(case, COMPLETED)


def go_to_county(case: Case, trips: int) -> None:
    """Trips to the county hall (the queue there is not modelled, only the journey)."""
    case.county_trips += trips
    case.trips += trips


def hand_in_documents(m: Model, case: Case):
    """Visit until the documents are complete (or accepted with gaps); False if the citizen gives up."""
    item, behaviour = case.item, m.behaviour
    incomplete_prob = item.incomplete_prob
    if behaviour.precheck_share and case.draw(Draw.PRECHECK) < behaviour.precheck_share:  # checked online first
        incomplete_prob *= behaviour.precheck_incomplete_factor
    incomplete = case.draw(Draw.INCOMPLETE) < incomplete_prob
    cause, returns = FIRST, 0
    while True:
        if incomplete and item.gaps_ok and case.draw(Draw.GAPS, returns) < behaviour.gaps_accept_share:
            incomplete = False  # 容缺: accepted now, the missing document follows without a trip
        if incomplete:
            minutes = m.turn_away.ppf1(case.draw(Draw.TURN_AWAY_MINUTES, returns))
            yield from visit(m, case, SUBMIT, cause, minutes)
        else:
            if case.matter:
                yield from hand_in_matter(m, case, cause)
            else:
                yield from visit(m, case, SUBMIT, cause, case.window_minutes())
                case.accepting_trip = case.trips  # the official count starts with this trip
            case.accepted = m.env.now
            return True
        if case.draw(Draw.GIVE_UP, returns) < behaviour.drop_after_incomplete_prob:
            return False
        yield from come_back(m, case, m.return_after.ppf1(case.draw(Draw.RETURN_DAYS, returns)))
        returns += 1
        incomplete = case.draw(Draw.INCOMPLETE, returns) < behaviour.repeat_incomplete_prob
        cause = INCOMPLETE_RETURN


def hand_in_matter(m: Model, case: Case, cause: int):
    """A one-matter case: the first window takes every item it can; the citizen is referred to
    the windows of the others: a new ticket now, or another day when the item cannot be
    finished the same day (or the first window finished after closing time)."""
    stops = m.matter_stops(case)
    yield from visit(m, case, SUBMIT, cause, stops[0][1], kind=stops[0][0])
    case.accepting_trip = case.trips  # the official count starts with this trip
    cal = m.calendar
    for j, (kind, minutes) in enumerate(stops[1:]):
        case.referrals += 1
        closed = m.env.now >= cal.closing_of_day(cal.day_at(m.env.now))  # no tickets after closing time
        if case.draw(Draw.REFERRAL_DAY, j) < m.behaviour.referral_next_day_prob or closed:
            yield from come_back(m, case, 1)
            cause = REFERRAL_TRIP
        else:
            cause = SAME_TRIP
            reopens = cal.next_open(m.env.now)
            if reopens > m.env.now:  # served in overtime before lunch: back after it
                yield m.env.timeout(reopens - m.env.now)
        yield from visit(m, case, REFERRAL, cause, minutes + m.referral_minutes, kind=kind)


def township_decision(m: Model, case: Case):
    """Township reviewers decide, maybe after a send-back for supplements; items with sign-offs go
    to a joint review; the county may re-check."""
    env, item, files = m.env, case.item, m.records.township_files
    index = m.records.file_opened(files, case.town.index, env.now)
    passes = 0
    while True:  # the decision time is known when the file is handed over (see county_decision)
        decided = case.town.office.decision(env.now, item.township_lead.ppf1(case.draw(Draw.LEAD, passes)),
                                            item.review_minutes)
        if case.draw(Draw.SUPPLEMENT_NEEDED, passes) >= m.township_supplement_prob:
            break
        yield m.until(decided)
        yield from supplement(m, case, passes)
        passes += 1
    if item.signoffs:  # a joint review, settled at the next meeting where meetings are held
        reviewed = m.calendar.add_working_days(decided, m.joint_review.ppf1(case.draw(Draw.SIGNOFF)))
        decided = m.meetings.next_meeting(reviewed)
    if case.draw(Draw.RECHECK) < item.recheck_prob:
        decided = m.calendar.add_working_days(decided, item.recheck.ppf1(case.draw(Draw.RECHECK, 1)))
    if decided > env.now:
        yield m.until(decided)
    m.records.file_closed(files, index, env.now)  # receive_result stamps the decision


def county_decision(m: Model, case: Case):
    """Shuttle to the county, review, maybe back for supplements, then the sign-offs.

    A file's trip and review involve nothing the citizen does, and files reach the county in
    the order they leave: when it leaves, its decision time is known. Returns the county
    backlog entry of the file's last pass (closed when the result is out) and that time.
    """
    env, item, county, records = m.env, case.item, m.county, m.records
    office = m.departments[item.department]
    passes = 0
    if case.draw(Draw.IN_PERSON) < county.in_person_prob:  # a signature or inspection at the county
        go_to_county(case, 1)
    while True:
        index = records.file_opened(records.county_files, case.town.index, env.now)
        decided = office.decision(m.shuttle.arrival(env.now), item.lead.ppf1(case.draw(Draw.LEAD, passes)),
                                  item.review_minutes)
        if case.draw(Draw.SUPPLEMENT_NEEDED, passes) >= county.supplement_prob:
            break
        yield m.until(m.shuttle.arrival(decided))  # the file comes back
        records.file_closed(records.county_files, index, env.now)
        yield from supplement(m, case, passes)
        passes += 1
    if item.signoffs:
        durations = [m.signoff.ppf1(case.draw(Draw.SIGNOFF, j)) for j in range(len(item.signoffs))]
        decided = m.meetings.next_meeting(m.calendar.add_working_days(decided, signoff_days(durations,
                                                                                            county.signoff_mode)))
    return index, decided


def supplement(m: Model, case: Case, passes: int):
    """The file is sent back (补正): the citizen brings the missing documents; the clock restarts."""
    yield from come_back(m, case, m.return_after.ppf1(case.draw(Draw.SUPPLEMENT_DAYS, passes)))
    minutes = m.supplement_minutes.ppf1(case.draw(Draw.SUPPLEMENT_MINUTES, passes))
    yield from visit(m, case, SUPPLEMENT, SUPPLEMENT_TRIP, minutes)
    case.accepted = m.env.now


def receive_result(m: Model, case: Case, county_file: tuple[int, float] | None):
    """The result reaches the citizen: a county decision once it is taken (and, for a
    certificate, once the shuttle has brought it back), then by agent, mail or a pickup trip."""
    env, item = m.env, case.item
    if county_file is not None:
        index, decided = county_file
        out = m.shuttle.arrival(decided) if item.pickup else decided  # a certificate travels back
        yield m.until(out)
        case.decided = decided
        m.records.file_closed(m.records.county_files, index, env.now)
    else:  # decided at the window or by the township: now
        case.decided = env.now
    if not item.pickup:
        return
    if case.handler == AGENT_VISITS:  # the agent brings it on the next round
        yield m.until(m.agent_round(case, env.now))
        return
    if case.draw(Draw.MAIL) < m.behaviour.mail_share:
        yield m.until(m.calendar.add_working_days(env.now, m.mail_days))
        return
    yield from come_back(m, case, m.pickup_after.ppf1(case.draw(Draw.PICKUP_DAYS)))
    yield from visit(m, case, PICKUP, PICKUP_TRIP, m.pickup_minutes.ppf1(case.draw(Draw.PICKUP_MINUTES)),
                     kind=m.pickup_kind(case.item))


def mobile_service(m: Model, case: Case):
    """The mobile team handles the item in the village on its next round: no trip."""
    yield m.until(m.mobile_round(case, m.env.now))
    case.accepted = case.decided = m.env.now
    case.accepting_trip = 0
    m.close(case, COMPLETED)


# ------------------------------------------------------------------------------ one trip


def visit(m: Model, case: Case, purpose: int, cause: int, minutes: float, kind: int | None = None):
    """Trips to the hall until served (balking or reneging means another day, or giving up on the
    hall); agents go instead. A SAME_TRIP visit is another window during a trip already made."""
    town = case.town
    kind = case.item.index if kind is None else kind
    by_agent = case.handler == AGENT_VISITS
    if by_agent:
        minutes *= m.agent_time_factor
    while True:
        if not by_agent and cause != SAME_TRIP:
            case.trips += 1
        patience = None if by_agent or m.patience_dist is None else m.patience(case.draw(Draw.PATIENCE, case.visits))
        case.visits += 1
        served = yield from queue_and_serve(m, town, kind, case.id, purpose, cause, minutes, patience,
                                            case.booked and case.visits == 1, may_balk=not by_agent)
        if served is True:
            return
        if served is not None and case.draw(Draw.ABANDON_CHOICE, case.visits - 1) >= m.behaviour.abandon_return_share:
            raise WentElsewhere
        yield from come_back(m, case, m.abandon_return.ppf1(case.draw(Draw.ABANDON_DAYS, case.visits - 1)))
        # a trip repeated because of the queue keeps the cause of the visit it repeats when that
        # was incomplete documents: without them the citizen would not have come at all
        cause = cause if cause == INCOMPLETE_RETURN else ABANDON_RETURN


def queue_and_serve(m: Model, town: Town, kind: int, case_id: int, purpose: int, cause: int, minutes: float, patience,
                    booked: bool = False, may_balk: bool = True):
    """Process: one visit at the hall. True if the citizen was served, False if they balked or
    reneged, None if the hall closed before calling them."""
    env, centre = m.env, town.centre
    arrive, called, window = env.now, math.nan, -1
    ticket = centre.take_ticket(kind, booked, may_balk)
    if ticket is None:
        outcome = BALKED
    else:
        window = ticket.window  # a free window took it at once, else wait for a call
        if ticket.called is not None:
            if patience is not None and not ticket.called.triggered:  # a standby window may have called it
                # patience counts open minutes; if it runs out first the centre hands back Call.RENEGED
                timer = env.timeout(m.calendar.after_open_minutes(arrive, patience) - arrive)
                timer.callbacks.append(partial(centre.renege, ticket))
            window = yield ticket.called
        if window >= 0:
            called = env.now
            yield env.timeout(minutes * centre.windows[window].factor)
            centre.window_done(window)
            outcome = SERVED
        else:
            outcome, window = (RENEGED if window == Call.RENEGED else SENT_HOME), -1
    m.records.visit(VISIT_ROW.pack(town.index, case_id, kind, purpose, cause, arrive, called, env.now, outcome, window,
                                   math.nan if patience is None else patience))
    # being sent home at closing is not the citizen's choice: they always come back
    return True if outcome == SERVED else None if outcome == SENT_HOME else False


def consultation(m: Model, town: Town, minutes: float, patience):
    """Process: a visit that only asks a question and creates no case."""
    yield from queue_and_serve(m, town, m.consult_kind, -1, CONSULT, FIRST, minutes, patience)


def come_back(m: Model, case: Case, days: float):
    """Process: go home and return on a later working day (agents: on their next round)."""
    cal = m.calendar
    if case.handler == AGENT_VISITS:
        yield m.until(m.agent_round(case, m.env.now))
        return
    day = min(cal.day_at(m.env.now) + max(1, math.ceil(days)), len(cal.day_start) - 1)
    t = case.town.plan.time_of_day(cal.day_start[day], case.draw(Draw.RETURN_TIME, case.visits - 1))
    yield m.until(t)
