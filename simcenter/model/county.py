"""The county built from a Scenario: items, township halls and back offices resolved into flat
objects (items by index, windows with eligibility lists, samplers) so that nothing on the hot
path touches pydantic, dicts of dicts or pandas; its processes (opening hours, absences,
arrivals) and the records it leaves.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from functools import partial
from operator import attrgetter
from struct import Struct

import numpy as np
import simpy

from ..scenario import ScenarioError, schema
from ..scenario.distributions import Dist, Sampler, make
from . import citizen
from .arrivals import DayPlan, day_factors, day_pieces, market_days
from .backoffice import Meetings, ReviewOffice, Shuttle
from .calendar import Calendar
from .centre import Centre, Window
from .diary import Arrival, Diary
from .records import CASE_COLUMNS, columns_of, COMPLETED, COUNTY, IMMEDIATE, OUT_OF_SCOPE, TOWNSHIP, Records, RunMeta
from .streams import Stream, generator, stream_id

ROUTES = {"immediate": IMMEDIATE, "township": TOWNSHIP, "county": COUNTY}
CASE_BLOCK = 256
_KM = citizen.OFFSET[citizen.Draw.KM]
_MATTER = citizen.OFFSET[citizen.Draw.MATTER]
_OUT_OF_SCOPE = citizen.OFFSET[citizen.Draw.OUT_OF_SCOPE]
MAX_ARRIVALS = 10_000_000  # expected per replication: beyond this a run would take hours and gigabytes
_UNIFORM = Dist(schema.Uniform(dist="uniform", low=0, high=1))


class ItemSpec:
    """An item resolved for the hot path."""

    __slots__ = ("index", "id", "route", "window", "extra_minutes", "incomplete_prob", "lead", "township_lead",
                 "department", "signoffs", "pickup", "promised_days", "gaps_ok", "agent_ok", "recheck_prob",
                 "recheck", "review_minutes")

    def __init__(self, index, item_id, item, department: int, forward_entry: float):
        self.index, self.id = index, item_id
        self.route = ROUTES[item.route]
        self.window = Dist(item.window_minutes)
        self.extra_minutes = forward_entry if self.route == COUNTY else 0.0
        self.incomplete_prob = item.incomplete_prob
        self.lead = make(item.lead_days)
        self.township_lead = make(item.township_lead_days)
        self.department = department
        self.signoffs = list(item.signoffs)
        self.pickup = item.result == "pickup"
        self.promised_days = math.nan if item.promised_days is None else float(item.promised_days)
        self.gaps_ok, self.agent_ok = item.gaps_ok, item.agent_ok
        self.recheck_prob, self.recheck = item.recheck_prob, Dist(item.recheck_days)
        self.review_minutes = item.review_minutes  # None: the deciding office's default


class Town:
    """A township: its hall, its back office, its arrival plan and its random streams."""

    def __init__(self, m, index, town_id, town):
        s, seed, rep = m.scenario, m.seed, m.replication
        self.index, self.id, self.spec = index, town_id, town
        self.centre = self._build_centre(m)
        self.plan = DayPlan(m.pieces, generator(seed, rep, stream_id(Stream.ARRIVALS, index)))
        self.plan.market_day(s.demand.market_day_factor, s.demand.market_morning_share, m.calendar.sessions[0][1])
        self.market = market_days(m.calendar, town)
        sessions = m.calendar.sessions
        has_lunch = self.centre.has_lunch_windows and len(sessions) > 1
        self.lunch_share = s.behaviour.lunch_shift_share if has_lunch else 0.0
        self.lunch = (sessions[0][1], sessions[1][0]) if has_lunch else None
        self.lunch_rng = generator(seed, rep, stream_id(Stream.LUNCH, index))
        self._case_rng = generator(seed, rep, stream_id(Stream.CASES, index))
        self._rows: list[array] = []
        self.spare = Sampler(_UNIFORM, generator(seed, rep, stream_id(Stream.SPARE, index)))
        self.consult = Sampler(_UNIFORM, generator(seed, rep, stream_id(Stream.CONSULTATIONS, index)))
        self.office = ReviewOffice(m.calendar, town.reviewers if town.reviewers > 0 else None,
                                   m.calendar.open_per_day / s.staffing.reviews_per_day)
        self.mean_km = town.km_to_centre
        factors = day_factors(s, m.calendar, town, m.mix_factor)
        visits_per_case = 1 + s.demand.consult_share
        self.expected = [town.cases_per_day * visits_per_case * f for f in factors]
        self.consult_share = s.demand.consult_share / visits_per_case

    def _build_centre(self, m) -> Centre:
        s = m.scenario
        windows: list[Window] = []
        for group_id, count in self.spec.windows.items():
            group = s.window_groups[group_id]
            accepted = schema.accepted_items(s, group)
            items = [item_id in accepted for item_id in m.item_ids]
            # kinds: submissions of each item, consultations, pickups of each item
            accepts = items + [True] + [a or group.pickups for a in items]
            factor = s.staffing.generalist_factor if group.generalist else 1.0
            months = None if group.months is None else frozenset(group.months)
            for _ in range(count):
                windows.append(Window(len(windows), m.group_ids.index(group_id), factor, accepts, months,
                                      group.lunch, group.booked_only, group.standby_queue))
        eligible = [tuple(w.index for w in windows if w.accepts[kind]) for kind in range(2 * len(m.item_ids) + 1)]
        return Centre(m.env, m.calendar, windows, eligible, s.behaviour.balk_queue_length)

    def move_to_lunch(self, times: list[float], day_start: float) -> list[float]:
        """Move a share of the morning's arrivals to the lunch window's hours, keeping their order
        in the list: the same citizens arrive as without extended hours (common random numbers)."""
        start, end = self.lunch
        u = self.lunch_rng.random(len(times)).tolist()
        share = self.lunch_share
        return [day_start + start + (end - start) * v / share if t - day_start < start and v < share else t
                for t, v in zip(times, u)]

    def next_draws(self) -> array:
        """The uniform numbers of the township's next case (drawn a block of cases at a time).

        A flat array of doubles per case: the cyclic garbage collector does not scan it, which
        matters with hundreds of thousands of cases alive at once.
        """
        if not self._rows:
            block = self._case_rng.random((CASE_BLOCK, citizen.DRAWS_PER_CASE))
            self._rows = [array("d", row.tobytes()) for row in block[::-1]]
        return self._rows.pop()


class Model:
    def __init__(self, scenario: schema.Scenario, replication: int):
        s = self.scenario = scenario
        self.seed, self.replication = s.seed, replication
        self.env = simpy.Environment()
        self.calendar = Calendar(s.calendar, s.horizon)
        self.until = Diary(self.env, self.calendar.end).until  # until(t): an event at clock time t, maybe days ahead
        self.records = Records()
        self.behaviour, self.county = s.behaviour, s.county
        self.item_ids = list(s.items)
        self.group_ids = list(s.window_groups)
        self.consult_kind = len(self.item_ids)
        dept_ids = list(s.departments)
        self.items = [ItemSpec(i, item_id, item, dept_ids.index(item.department), s.service.forward_entry_minutes)
                      for i, (item_id, item) in enumerate(s.items.items())]
        self.departments = [ReviewOffice(self.calendar, d.county_reviewers,
                                         self.calendar.open_per_day / s.county.reviews_per_day)
                            for d in s.departments.values()]
        self.shuttle = Shuttle(self.calendar, s.county)
        self._item_mix()
        self.pieces = day_pieces(s.demand, self.calendar.sessions)
        b = s.behaviour
        self.return_after, self.abandon_return, self.pickup_after = (
            Dist(b.return_after_days), Dist(b.return_after_abandon_days), Dist(b.pickup_after_days))
        self.patience_dist = make(b.patience_minutes)
        self.patience_floor = b.patience_floor_minutes
        d = s.demand
        self.out_of_scope_share, self.out_of_scope_trips = d.out_of_scope_share, d.out_of_scope_county_trips
        self.out_of_scope_minutes = Dist(s.service.out_of_scope_minutes)
        self.referral_minutes = s.service.referral_minutes
        self.township_supplement_prob = s.staffing.supplement_prob
        self._matters(s)
        self.turn_away, self.pickup_minutes, self.supplement_minutes = (
            Dist(s.service.turn_away_minutes), Dist(s.service.pickup_minutes), Dist(s.service.supplement_minutes))
        self.consult_minutes = Dist(s.demand.consult_minutes)
        self.signoff = Dist(s.county.signoff_days)
        self.mail_days = 1.0
        self.joint_review = Dist(s.staffing.joint_review_days)
        self.meetings = Meetings(self.calendar, s.county.meeting_every_days)
        self.agents, self.appointments, self.mobile = b.agents, b.appointments, b.mobile_service
        self.agent_time_factor = b.agents.time_factor if b.agents else 1.0
        self.first_open = self.calendar.sessions[0][0]
        self.towns = [Town(self, i, town_id, town) for i, (town_id, town) in enumerate(s.townships.items())]
        expected = sum(sum(t.expected) for t in self.towns)
        if expected > MAX_ARRIVALS:
            raise ScenarioError([f"{s.name}: townships: at most {MAX_ARRIVALS:,} expected arrivals per replication "
                                 f"(fewer cases_per_day or a shorter horizon) (got {expected:,.0f})"])
        self.cases: list[citizen.Case | None] = []  # by id; None once closed and packed into case_rows
        self.case_rows = array("d")
        self.records.windows = [[w.group for w in t.centre.windows] for t in self.towns]

    def _item_mix(self) -> None:
        """Item choice tables per month: annual weights × each item's seasonal overlay (mean 1)."""
        s = self.scenario
        weights = np.array([item.weight for item in s.items.values()], float)
        overlay = np.ones((len(weights), 13))
        for i, item in enumerate(s.items.values()):
            if item.month_factor:
                f = np.array([item.month_factor.get(month, 1.0) for month in range(1, 13)])
                if f.mean() > 0:
                    overlay[i, 1:] = f / f.mean()
        self.mix_factor = [1.0] * 13
        self.item_cum: list[list[float]] = [[]]
        for month in range(1, 13):
            w = weights * overlay[:, month]
            self.mix_factor[month] = float(w.sum() / weights.sum())
            cum = np.cumsum(w) / w.sum() if w.sum() > 0 else np.cumsum(weights) / weights.sum()
            cum[-1] = 1.0
            self.item_cum.append(cum.tolist())

    def _matters(self, s) -> None:
        """One-matter bundles. A case whose item belongs to some matter is one with probability
        `matter_q` (so that `matter_share` of all cases are); which matter, among those holding
        the item, by their weights. The case's own item leads; item volumes stay as weighted."""
        ids, weights = self.item_ids, [item.weight for item in s.items.values()]
        matters = [(m.weight, [ids.index(i) for i in m.items]) for m in s.demand.matters.values() if m.weight > 0]
        covered = {i for _, items in matters for i in items}
        covered_share = sum(weights[i] for i in covered) / sum(weights)
        self.matter_q = min(1.0, s.demand.matter_share / covered_share) if covered_share > 0 else 0.0
        self.matters_of: list[tuple[list[float], list[tuple[int, ...]]] | None] = []
        for i in range(len(ids)):
            mine = [(w, tuple(j for j in items if j != i)) for w, items in matters if i in items]
            if not mine:
                self.matters_of.append(None)
                continue
            total = sum(w for w, _ in mine)
            cum = np.cumsum([w / total for w, _ in mine]).tolist()
            cum[-1] = 1.0
            self.matters_of.append((cum, [others for _, others in mine]))

    def patience(self, u: float):
        """Minutes of waiting before the citizen gives up (None: never), drawn once per visit."""
        return None if self.patience_dist is None else self.patience_floor + self.patience_dist.ppf1(u)

    def matter_stops(self, case) -> list[tuple[int, float]]:
        """(ticket kind, window minutes) of each window a complete submission needs: one stop for a
        single item; a one-matter case adds its further items to the first stop when the same
        windows take them, else one more stop (a referral) per other set of windows."""
        first = case.item
        stops = [(first.index, case.window_minutes())]
        if not case.matter:
            return stops
        eligible = case.town.centre.eligible
        sets = [eligible[first.index]]
        for j, index in enumerate(case.matter):
            item = self.items[index]
            minutes = item.window.ppf1(case.draw(citizen.Draw.MATTER_WINDOW, j)) + item.extra_minutes
            where = eligible[index]
            if where in sets:
                k = sets.index(where)
                stops[k] = (stops[k][0], stops[k][1] + minutes)
            else:
                sets.append(where)
                stops.append((index, minutes))
        return stops

    def pickup_kind(self, item: ItemSpec) -> int:
        return self.consult_kind + 1 + item.index

    def agent_round(self, case, t: float) -> float:
        """The village agent's next round after the day of t (its village's day in the cycle)."""
        return self._next_round(case, t, self.agents.every_days, citizen.Draw.AGENT)

    def mobile_round(self, case, t: float) -> float:
        return self._next_round(case, t, self.mobile.every_days, citizen.Draw.MOBILE)

    def _next_round(self, case, t: float, every: int, purpose: int) -> float:
        cal = self.calendar
        position = case.draw(purpose, 1) * every
        phase = int(position)  # which day of the cycle serves the village
        k = cal.day_at(t) + 1
        k += (phase - k) % every
        k = min(k, len(cal.day_start) - 1)
        # the fractional part is a fresh uniform number: the time of day, spread like visits
        return case.town.plan.time_of_day(cal.day_start[k], position - phase)

    # -- who comes, when -------------------------------------------------------------------
    def new_case(self, town: Town, t: float, u, item: ItemSpec) -> citizen.Case:
        """A case whose citizen would naturally come at t; `created` is when the first visit is."""
        km = -town.mean_km * math.log1p(-u[_KM])
        case = citizen.Case(-1, town, item, t, u, km, False, citizen.CITIZEN)
        matters = self.matters_of[item.index]
        if matters is not None and u[_MATTER] < self.matter_q:  # a one-matter case led by its item
            cum, others = matters
            case.matter = others[min(bisect_right(cum, u[_MATTER + 1]), len(others) - 1)]
        if self.out_of_scope_share and u[_OUT_OF_SCOPE] < self.out_of_scope_share:
            # the same citizens in every scenario: after empowerment some of them are in scope
            case.out_of_scope, case.matter = True, ()
            return case
        if self.mobile or self.agents or self.appointments:  # most scenarios have none: skip the checks
            citizen.who_comes(self, case)
        return case

    def booked_slot(self, t: float, u: float) -> float:
        """A booked slot on the day of t: slots of `slot_minutes` spread evenly over opening hours."""
        cal, slot = self.calendar, self.appointments.slot_minutes
        x = u * cal.open_per_day
        day = cal.day_start[cal.day_at(t)]
        for a, b in cal.sessions:
            if x < b - a:
                return day + a + min(math.floor(x / slot) * slot, b - a - slot if b - a > slot else 0)
            x -= b - a
        return day + cal.sessions[-1][0]

    # -- processes -----------------------------------------------------------------------
    def arrivals(self, town: Town):
        """Process: opens the township's door when the simulation starts; from then on each
        arrival lets the next citizen in (one pending arrival per township, no process waking
        up for each citizen)."""
        self._let_in(town, self._comers(town))
        yield from ()

    def _let_in(self, town: Town, comers) -> None:
        """Schedule the township's next citizen: their arrival starts their journey."""
        for t, who in comers:
            journey = citizen.consultation(self, town, *who) if isinstance(who, tuple) else citizen.case_journey(self, who)
            Arrival(self.env, journey, max(t - self.env.now, 0.0), partial(self._arrived, town, comers, who))
            return

    def _arrived(self, town: Town, comers, who, _event) -> None:
        if not isinstance(who, tuple):
            who.id = len(self.cases)
            self.cases.append(who)
        self._let_in(town, comers)

    def _comers(self, town: Town):
        """The township's citizens, day by day, in the order they come: (time of the first
        visit, a case or a consultation's (minutes, patience)).

        Case draws are taken in the order of natural arrival, so a booking that moves a citizen
        to another time of day leaves everyone else's numbers unchanged.
        """
        cal = self.calendar
        for k in range(cal.n_days):
            times = town.plan.arrivals(cal.day_start[k], town.expected[k], town.market[k])
            if not times:
                continue
            if town.lunch_share:
                times = town.move_to_lunch(times, cal.day_start[k])
            consults = (town.plan.rng.random(len(times)) < town.consult_share).tolist()
            month_cum = self.item_cum[cal.dates[k].month]
            comers = []  # (time, natural order, case or consultation)
            for n, (t, consult) in enumerate(zip(times, consults)):
                if consult:  # its numbers drawn now, in natural order, like a case's
                    comers.append((t, n, (self.consult_minutes.ppf1(town.consult()), self.patience(town.consult()))))
                    continue
                u = town.next_draws()
                item = self.items[min(bisect_right(month_cum, u[0]), len(self.items) - 1)]
                case = self.new_case(town, t, u, item)
                comers.append((case.created, n, case))
            if self.appointments or town.lunch_share:  # some citizens come at another time of day
                comers.sort(key=lambda c: (c[0], c[1]))
            for t, _, who in comers:
                yield t, who

    def close(self, case, status: int) -> None:
        """The case ends: its numbers join the packed rows of the cases and the case is let go (a
        year has a couple of hundred thousand); what derives from them is computed at the end."""
        case.status, case.end = status, self.env.now
        self._pack(case)
        self.cases[case.id] = None

    def _pack(self, case) -> None:
        self.case_rows.frombytes(_CASE_ROW.pack(*_CASE_ATTRIBUTES(case), len(case.matter)))

    def run(self) -> Records:
        env, cal = self.env, self.calendar
        availability = self.scenario.staffing.availability
        absence = Dist(self.scenario.staffing.absence_minutes)
        for town in self.towns:
            env.process(town.centre.opening_hours(cal.end))
            env.process(self.arrivals(town))
            if availability < 1:
                present = Dist(schema.Exponential(dist="exponential", mean=absence.mean * availability / (1 - availability)))
                for w in town.centre.windows:
                    rng = generator(self.seed, self.replication, stream_id(Stream.ABSENCES, town.index, w.index))
                    env.process(town.centre.absences(w, Sampler(present, rng), Sampler(absence, rng)))
        env.run(until=cal.end)
        return self._records()

    def _records(self) -> Records:
        r = self.records
        if self.cases:
            r.cases = self._case_columns()
        for town in self.towns:
            r.absences.extend((town.index, w, a, b) for w, a, b in town.centre.away_log)
        cal = self.calendar
        r.meta = RunMeta(
            warmup_end=cal.warmup_end, arrivals_end=cal.arrivals_end, days=cal.n_days - cal.warmup_days,
            open_minutes=cal.open_minutes_between(cal.warmup_end, cal.arrivals_end),
            first_open=self.first_open, sessions=cal.sessions, start_ordinal=cal.start.toordinal(),
            townships=[t.id for t in self.towns], groups=self.group_ids, departments=list(self.scenario.departments),
            reviewers=[t.spec.reviewers for t in self.towns],
            township_offices=[t.office.stats() for t in self.towns],
            county_offices=[d.stats() for d in self.departments],
            market_days=[(t.spec.market_days.every, t.spec.market_days.phase) if t.spec.market_days else None
                         for t in self.towns],
            lunch_groups=sorted({w.group for t in self.towns for w in t.centre.windows if w.lunch}),
            window_duty=[[_duty(w, cal) for w in t.centre.windows] for t in self.towns],
            kind_group=[[t.centre.windows[e[0]].group if e else -1 for e in t.centre.eligible] for t in self.towns],
            queue_by_hour=[_queue_by_hour(t.centre) for t in self.towns],
        )
        return r.freeze()

    def _case_columns(self) -> dict[str, np.ndarray]:
        """The cases as CASE_COLUMNS: their attributes gathered in one pass, what derives from them
        computed over whole columns. Lead days (first visit → result in hand) and decision days
        (the official clock: acceptance → decision, restarted by a re-submission) are in
        fractional working days, for completed cases the township could accept."""
        for case in self.cases:  # those still open at the end
            if case is not None:
                self._pack(case)
        raw = columns_of(self.case_rows, _CASE_NAMES)
        order = np.argsort(raw["id"], kind="stable")  # the rows are in the order the cases ended
        for name in _CASE_NAMES:
            raw[name] = raw[name][order]
        raw["matter_items"] += 1
        item, township = raw["item"].astype(np.int64), raw["township"].astype(np.int64)
        raw["route"] = np.where(raw["out_of_scope"] > 0, OUT_OF_SCOPE, np.array([i.route for i in self.items], float)[item])
        raw["promised_days"] = np.array([i.promised_days for i in self.items], float)[item]
        raw["to_county"] = np.array([t.spec.km_to_county for t in self.towns], float)[township]
        trips, county_trips, km, to_county = raw["trips"], raw["county_trips"], raw["km"], raw["to_county"]
        fixed, kmh = self.behaviour.travel.fixed_minutes, self.behaviour.travel.kmh
        local_trips = trips - county_trips
        accepting = raw["accepting_trip"]
        days = self.calendar.working_days_of
        end, decided, accepted = raw["end"], raw["decided"], raw["accepted"]
        completed = (raw["status"] == COMPLETED) & (raw["route"] != OUT_OF_SCOPE)
        at_window = np.isnan(decided) | np.isnan(accepted) | (decided == accepted)
        columns = {name: raw[name] for name in CASE_COLUMNS if name in raw}
        columns.update(
            official_trips=np.where(accepting < 0, -1, trips - np.maximum(accepting - 1, 0)),
            travel_minutes=local_trips * (fixed + 2 * km / kmh * 60) + county_trips * (fixed + 2 * to_county / kmh * 60),
            travel_km=local_trips * 2 * km + county_trips * 2 * to_county,
            lead_days=np.where(completed, days(end) - days(raw["created"]), np.nan),
            decision_days=np.where(completed, np.where(at_window, 0.0, days(decided) - days(accepted)), np.nan),
        )
        return {name: columns[name] for name in CASE_COLUMNS}


# a case's own numbers, packed as doubles when it closes (id first, its matter's further items
# last): route, promised days and the distance to the county follow from the item and township
_CASE_NAMES = ("id", "township", "item", "out_of_scope", "created", "status", "end", "trips", "accepting_trip",
               "visits", "county_trips", "referrals", "handler", "booked", "km", "decided", "accepted", "matter_items")
_CASE_ATTRIBUTES = attrgetter(*("town.index" if name == "township" else "item.index" if name == "item" else name
                                for name in _CASE_NAMES[:-1]))
_CASE_ROW = Struct(f"{len(_CASE_NAMES)}d")


def _duty(window, cal) -> float | None:
    if window.standby is not None:
        return None
    if window.months is None:
        return 1.0
    measured = cal.dates[cal.warmup_days:cal.n_days]
    return sum(d.month in window.months for d in measured) / max(len(measured), 1)


def _queue_by_hour(centre) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for j, group in enumerate(centre.set_group):
        for hour in range(24):
            area = centre.hourly_area[j * 24 + hour]
            if area:
                out[(group, hour)] = out.get((group, hour), 0.0) + area
    return out
