"""The scenario contract as pydantic models.

Every model forbids unknown keys and non-finite floats. Repeated things are mappings keyed
by id so that `extends` and `--set` can address them. Defaults are neutral (no balking, no
reneging, no seasonality, availability 1) so that switching a feature off collapses the
model to plain queueing theory; `scenarios/baseline.yaml` states the Cangnan values.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    StrictBool,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+$")]
# Bounds: generous for any county, safe for the model. Every number is finite and small enough
# that sums and products of a few stay finite; counts stay within what the random streams number
# (model/streams.py: a township's index and a window's index below 1000). docs/scenario.md lists them.
MAX_VALUE = 1e9  # any other number (weights, costs, rates)
MAX_TIME = 1e6  # a distribution's values, in minutes or days (about two years of minutes)
MAX_CV = 100  # a distribution's coefficient of variation
MAX_FACTOR = 100  # demand factors, and time factors
MAX_TOWNSHIPS = 999
MAX_WINDOWS = 999  # windows of a township, all groups together
MAX_STAFF = 10_000  # reviewers of an office
MAX_KM = 10_000
MAX_DAYS = 3660  # horizon days, and any cycle in days
MAX_QUEUE = 1_000_000  # queue lengths

Probability = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0, le=MAX_VALUE)]
NonNegative = Annotated[float, Field(ge=0, le=MAX_VALUE)]
Count = Annotated[int, Field(ge=0, le=MAX_WINDOWS)]
Time = Annotated[float, Field(ge=0, le=MAX_TIME)]  # a distribution's value (minutes or days)
PositiveTime = Annotated[float, Field(gt=0, le=MAX_TIME)]
Factor = Annotated[float, Field(ge=0, le=MAX_FACTOR)]
Km = Annotated[float, Field(ge=0, le=MAX_KM)]
Days = Annotated[int, Field(ge=1, le=MAX_DAYS)]
QueueLength = Annotated[int, Field(ge=1, le=MAX_QUEUE)]
_CLOCK = re.compile(r"^([01]?[0-9]|2[0-4]):([0-5][0-9])$")


class Said(str):
    """A description of what was found ("an empty document"): shown as is, not quoted like a value."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


# --------------------------------------------------------------------------- distributions


class _Dist(Strict):
    max: PositiveTime | None = None  # truncation: values above max are never drawn

    def lowest(self) -> float:
        """The lowest value the distribution can draw (its `low` where it has one)."""
        return getattr(self, "low", 0.0)

    def shape_problem(self) -> tuple[str, str] | None:
        """(kind, message) when the parameters do not make a distribution; None when they do."""
        return None

    @model_validator(mode="after")
    def _valid(self):
        problem = self.shape_problem()
        if problem is not None:
            raise _fail(*problem)
        # a continuous distribution needs room above its lowest value; a constant may equal max
        if self.max is not None and (self.max < self.lowest() or self.max == self.lowest() and self.dist != "constant"):
            raise _fail("max", f"max must be above the lowest possible value {self.lowest():g}")
        return self


class Exponential(_Dist):
    dist: Literal["exponential"]
    mean: PositiveTime


class Lognormal(_Dist):
    dist: Literal["lognormal"]
    mean: PositiveTime
    cv: Annotated[float, Field(gt=0, le=MAX_CV)] | None = None
    sd: PositiveTime | None = None

    def shape_problem(self):
        if (self.cv is None) == (self.sd is None):
            return "spread", "give exactly one of cv or sd"
        if self.sd is not None and self.sd > MAX_CV * self.mean:
            return "spread", f"sd at most {MAX_CV} times the mean"
        return None


class Gamma(_Dist):
    dist: Literal["gamma"]
    mean: PositiveTime
    cv: Annotated[float, Field(gt=0, le=MAX_CV)]


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: Time
    mode: Time
    high: Time

    def shape_problem(self):
        ordered = self.low <= self.mode <= self.high and self.low < self.high
        return None if ordered else ("order", "needs low <= mode <= high and low < high")


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: Time
    high: Time

    def shape_problem(self):
        return None if self.low < self.high else ("order", "needs low < high")


class Constant(_Dist):
    dist: Literal["constant"]
    value: Time

    def lowest(self) -> float:
        return self.value


class Erlang(_Dist):
    dist: Literal["erlang"]
    k: Annotated[int, Field(ge=1, le=1000)]
    mean: PositiveTime


class Empirical(_Dist):
    dist: Literal["empirical"]
    values: Annotated[list[Time], Field(min_length=1)]
    weights: list[NonNegative] | None = None

    def shape_problem(self):
        if self.weights is not None and len(self.weights) != len(self.values):
            return "weights", "weights must have one entry per value"
        if self.weights is not None and sum(self.weights) <= 0:
            return "weights", "weights must not sum to 0"
        return None

    def lowest(self) -> float:
        return min(self.values)


DIST_KINDS = ("exponential", "lognormal", "gamma", "triangular", "uniform", "constant", "erlang", "empirical")


def _bare_number_is_constant(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    return value


# A bare number means a constant.
Distribution = Annotated[
    Exponential | Lognormal | Gamma | Triangular | Uniform | Constant | Erlang | Empirical,
    Field(discriminator="dist"),
    BeforeValidator(_bare_number_is_constant),
]


# --------------------------------------------------------------------------- sections


class Horizon(Strict):
    days: Days = 60
    warmup_days: Annotated[int, Field(ge=0)] = 0
    drain_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 0  # no new cases; open cases carry on
    start: str = "2024-03-04"

    @field_validator("start")
    @classmethod
    def _iso(cls, v: str) -> str:
        import datetime as dt

        try:
            dt.date.fromisoformat(v)
        except ValueError:
            raise _fail("date", "an ISO date YYYY-MM-DD") from None
        return v

    @field_validator("warmup_days")
    @classmethod
    def _warmup(cls, v, info):
        if "days" in info.data and v >= info.data["days"]:
            raise _fail("warmup", f"fewer warm-up days than horizon days ({info.data['days']})")
        return v


def _minutes(clock: str) -> int:
    m = _CLOCK.match(clock)
    if not m or int(m.group(1)) * 60 + int(m.group(2)) > 1440:
        raise _fail("clock", 'a clock time "HH:MM" between 00:00 and 24:00')
    return int(m.group(1)) * 60 + int(m.group(2))


def _clock(value: str) -> str:
    _minutes(value)
    return value


Clock = Annotated[str, AfterValidator(_clock), Field(description='clock time "HH:MM" (quote it in YAML)')]


class Calendar(Strict):
    working_days: list[Weekday] | Literal["all"] = ["mon", "tue", "wed", "thu", "fri"]
    sessions: Annotated[list[tuple[Clock, Clock]], Field(min_length=1)] = [("08:30", "11:30"), ("14:00", "17:30")]
    holidays: list[str] = []
    overtime_minutes: Annotated[float, Field(ge=0, le=1440)] = 0

    @field_validator("sessions")
    @classmethod
    def _sessions(cls, v):
        last = -1
        for open_, close in v:
            a, b = _minutes(open_), _minutes(close)
            if not a < b:
                raise _fail("session", "each session must open before it closes")
            if a < last:
                raise _fail("session", "sessions must be in order and must not overlap")
            last = b
        return v

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, v):
        import datetime as dt

        for day in v:
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                raise _fail("date", f"ISO dates YYYY-MM-DD ({day!r} is not one)") from None
        return v

    @field_validator("working_days")
    @classmethod
    def _some_days(cls, v):
        if v != "all" and not v:
            raise _fail("days", "at least one working day, or `all`")
        return v

    def session_minutes(self) -> list[tuple[int, int]]:
        return [(_minutes(a), _minutes(b)) for a, b in self.sessions]


def _iso_date(v: str) -> str:
    import datetime as dt

    try:
        dt.date.fromisoformat(v)
    except ValueError:
        raise _fail("date", "an ISO date YYYY-MM-DD") from None
    return v


IsoDate = Annotated[str, AfterValidator(_iso_date)]


class Period(Strict):
    """A span of dates with its own demand factor (e.g. the peak before the Spring Festival)."""

    start: IsoDate
    end: IsoDate
    factor: Factor

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise _fail("order", "end on or after start")
        return self


class Matter(Strict):
    """A one-matter (一件事) bundle: several items applied for together."""

    items: Annotated[list[Id], Field(min_length=2, max_length=8)]
    weight: NonNegative = 1.0


class Demand(Strict):
    hourly_profile: dict[Clock, NonNegative] | None = None
    weekday_factor: dict[Weekday, Factor] = {}
    month_factor: dict[Annotated[int, Field(ge=1, le=12)], Factor] = {}
    market_day_factor: Factor = 1.0
    market_morning_share: Probability | None = None  # share of a market day's extra arrivals in the morning session
    periods: list[Period] = []  # date spans with a factor of their own
    normalise: StrictBool = False  # scale the day factors so a year from the start averages 1
    consult_share: Factor = 0.0  # consultations per case
    consult_minutes: Distribution = Constant(dist="constant", value=3)
    out_of_scope_share: Probability = 0.0  # cases the township cannot accept: sent to the county
    out_of_scope_county_trips: Annotated[float, Field(ge=1, le=10)] = 1.0  # mean county trips they then make
    matter_share: Probability = 0.0  # cases that are one-matter bundles
    matters: dict[Id, Matter] = {}

    @field_validator("hourly_profile")
    @classmethod
    def _profile(cls, v):
        if v is None:
            return v
        starts = [_minutes(k) for k in v]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise _fail("profile", "profile times must be in increasing order")
        if sum(v.values()) <= 0:
            raise _fail("profile", "profile weights must not sum to 0")
        return v


class Department(Strict):
    name: str = ""
    county_reviewers: Annotated[float, Field(gt=0, le=MAX_STAFF)] | None = None  # null: no capacity limit


Route = Literal["immediate", "township", "county"]


class Item(Strict):
    name: str = ""
    department: Id
    weight: NonNegative
    route: Route
    window_minutes: Distribution
    incomplete_prob: Probability = 0.0
    lead_days: Distribution | None = None
    township_lead_days: Distribution | None = None
    delegable: StrictBool = False
    signoffs: list[Id] = []
    result: Literal["none", "notify", "pickup"] = "none"
    promised_days: Time | None = None
    gaps_ok: StrictBool = False
    agent_ok: StrictBool = False
    month_factor: dict[Annotated[int, Field(ge=1, le=12)], Factor] = {}
    recheck_prob: Probability = 0.0  # township decisions re-checked by the county
    recheck_days: Distribution = Constant(dist="constant", value=0)
    review_minutes: Annotated[float, Field(gt=0, le=10_000)] | None = None  # reviewer work per file
    delegated_route: Literal["township", "immediate"] = "township"  # what full empowerment makes it

    @model_validator(mode="after")
    def _route_needs(self):
        if self.route == "township" and self.township_lead_days is None:
            raise _fail("route", "route township needs township_lead_days")
        if self.route == "county" and self.lead_days is None:
            raise _fail("route", "route county needs lead_days")
        if self.delegable and self.township_lead_days is None:
            raise _fail("route", "a delegable item needs township_lead_days")
        if self.route == "immediate" and self.signoffs:
            raise _fail("route", "an immediate item cannot need sign-offs")
        return self


Month = Annotated[int, Field(ge=1, le=12)]


class WindowGroup(Strict):
    accepts: Annotated[list[Id], Field(min_length=1)]
    generalist: StrictBool = False  # window time × staffing.generalist_factor
    pickups: StrictBool = False  # also hands out results of any item
    booked_only: StrictBool = False  # reserved for citizens with an appointment
    months: list[Month] | None = None  # open only in these months (seasonal windows)
    standby_queue: QueueLength | None = None  # opens when this many wait for it
    lunch: StrictBool = False  # stays open through the lunch closure (extended hours)


class MarketDays(Strict):
    every: Days = 5
    phase: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 0

    @model_validator(mode="after")
    def _phase(self):
        if self.phase >= self.every:
            raise _fail("phase", "phase must be less than every")
        return self


class Township(Strict):
    name: str = ""
    name_zh: str = ""  # the Chinese name (灵溪镇): figures and the report show it beside `name`
    population: NonNegative | None = None
    cases_per_day: NonNegative  # the model refuses more than 10 million expected arrivals a run
    windows: dict[Id, Count]
    reviewers: Annotated[float, Field(ge=0, le=MAX_STAFF)] = 1
    km_to_county: Km = 0
    km_to_centre: Km = 0  # mean village → centre distance (exponentially spread)
    market_days: MarketDays | None = None
    size_class: str | None = None


class Travel(Strict):
    kmh: Annotated[float, Field(gt=0, le=1000)] = 30
    fixed_minutes: Time = 0


class Agents(Strict):
    """Village agents (代办) handle agent_ok cases of distant villages: no citizen trip."""

    share: Probability = 0.15
    min_km: Km = 5
    every_days: Days = 5  # one batched agent visit per village per week
    time_factor: Annotated[float, Field(gt=0, le=MAX_FACTOR)] = 0.8


class Appointments(Strict):
    """Booked slots (预约): booked citizens come at their slot and are called first."""

    share: Probability = 0.2
    slot_minutes: Annotated[float, Field(gt=0, le=1440)] = 15
    no_show: Probability = 0.1  # no-shows come as walk-ins at their usual time


class MobileService(Strict):
    """Periodic visits to distant villages handling immediate items on site (流动服务)."""

    share: Probability = 0.3
    min_km: Km = 8
    every_days: Days = 21


class Behaviour(Strict):
    patience_minutes: Distribution | None = None  # minutes waited before reneging, above the floor
    patience_floor_minutes: Time = 0  # nobody reneges before waiting this long
    balk_queue_length: QueueLength | None = None
    return_after_days: Distribution = Constant(dist="constant", value=1)
    return_after_abandon_days: Distribution = Constant(dist="constant", value=1)
    abandon_return_share: Probability = 1.0  # balkers and reneging citizens who come back another day
    referral_next_day_prob: Probability = 0.0  # a referred item of a matter that needs another day
    repeat_incomplete_prob: Probability = 0.0
    drop_after_incomplete_prob: Probability = 0.0
    pickup_after_days: Distribution = Constant(dist="constant", value=1)
    mail_share: Probability = 0.0
    travel: Travel = Travel()
    precheck_share: Probability = 0.0  # applicants who pre-check documents online
    precheck_incomplete_factor: Annotated[float, Field(ge=0, le=1)] = 1.0  # on their incomplete_prob
    gaps_accept_share: Probability = 0.0  # incomplete gaps_ok submissions accepted anyway (容缺)
    agents: Agents | None = None
    appointments: Appointments | None = None
    mobile_service: MobileService | None = None
    lunch_shift_share: Probability = 0.0  # of a day's arrivals moved from the morning to lunch


class County(Strict):
    shuttle_days: list[Weekday] | Literal["daily", "electronic"] = "daily"
    transit_days: Time = 0
    signoff_mode: Literal["sequential", "parallel"] = "sequential"
    signoff_days: Distribution = Constant(dist="constant", value=0)
    supplement_prob: Annotated[float, Field(ge=0, lt=1)] = 0.0  # below 1: a file must leave eventually
    in_person_prob: Probability = 0.0  # county files whose citizen must come to the county once
    reviews_per_day: Positive = 12
    meeting_every_days: Days | None = None  # sign-offs wait for a joint meeting


class Service(Strict):
    """Window times of visits that are not a first complete submission."""

    turn_away_minutes: Distribution = Constant(dist="constant", value=5)
    pickup_minutes: Distribution = Constant(dist="constant", value=3)
    supplement_minutes: Distribution = Constant(dist="constant", value=5)
    forward_entry_minutes: Time = 0  # extra window time for county-routed items
    out_of_scope_minutes: Distribution = Constant(dist="constant", value=3)
    referral_minutes: Time = 0  # re-explaining a matter at each further window


class Staffing(Strict):
    generalist_factor: Annotated[float, Field(gt=0, le=MAX_FACTOR)] = 1.0
    availability: Annotated[float, Field(gt=0, le=1)] = 1.0
    absence_minutes: Distribution = Uniform(dist="uniform", low=30, high=120)
    reviews_per_day: Positive = 12  # township reviews per reviewer-day
    joint_review_days: Distribution = Constant(dist="constant", value=0)  # township-route sign-offs
    supplement_prob: Annotated[float, Field(ge=0, lt=1)] = 0.0  # township files sent back for supplements (补正)


class Costs(Strict):
    """Prices for the cost KPIs (CNY): they do not change the model. The defaults are the
    Cangnan assumptions of scenarios/baseline.yaml (docs/data.md gives their ranges)."""

    window_staff_hour: NonNegative = 60  # per window staff-hour
    township_reviewer_hour: NonNegative = 90  # per township reviewer staff-hour
    county_reviewer_hour: NonNegative = 100  # per county reviewer staff-hour
    citizen_hour: NonNegative = 25  # value of an hour of a citizen's time
    per_km: NonNegative = 0.8  # per km travelled by a citizen
    mail_item: NonNegative = 15  # per result mailed
    agent_case: NonNegative = 30  # per case handled by a village agent
    mobile_case: NonNegative = 60  # per case handled by the mobile team


Reform = dict[str, dict[str, Any] | None]  # {lever: params}; null or {} means the defaults


class Scenario(Strict):
    name: str = "scenario"
    description: str = ""
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 2019
    replications: Annotated[int, Field(ge=1, le=100_000)] = 10
    horizon: Horizon = Horizon()
    calendar: Calendar = Calendar()
    demand: Demand = Demand()
    departments: Annotated[dict[Id, Department], Field(min_length=1)]
    items: Annotated[dict[Id, Item], Field(min_length=1)]
    window_groups: Annotated[dict[Id, WindowGroup], Field(min_length=1)]
    townships: Annotated[dict[Id, Township], Field(min_length=1)]
    behaviour: Behaviour = Behaviour()
    county: County = County()
    service: Service = Service()
    staffing: Staffing = Staffing()
    costs: Costs = Costs()
    reforms: list[Reform] = []  # levers to apply, in order (simcenter.reforms)
    reforms_applied: list[Reform] = []  # levers already applied: a record, never applied again

    @field_validator("window_groups", mode="before")
    @classmethod
    def _group_shorthand(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: {"accepts": g} if isinstance(g, list) else g for k, g in v.items()}
        return v

    @field_validator("departments", mode="before")
    @classmethod
    def _department_null(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: {} if d is None else d for k, d in v.items()}
        return v


# --------------------------------------------------------------------------- cross-field checks

Problem = tuple[tuple[Any, ...], str, Any]  # (location, what was expected, what was found)


def accepted_items(scenario: Scenario, group: WindowGroup) -> set[str]:
    """Item ids a window of `group` accepts (it may name departments or items)."""
    names = set(group.accepts)
    return {i for i, item in scenario.items.items() if i in names or item.department in names}


def cross_field_problems(s: Scenario) -> list[Problem]:
    """Checks that need more than one field; each names the key to blame."""
    problems: list[Problem] = []
    departments, items = set(s.departments), set(s.items)
    for item_id, item in s.items.items():
        if item.department not in departments:
            problems.append((("items", item_id, "department"), f"a department id ({_known(departments)})", item.department))
        for k, dept in enumerate(item.signoffs):
            if dept not in departments:
                problems.append((("items", item_id, "signoffs", k), f"a department id ({_known(departments)})", dept))
    for matter_id, matter in s.demand.matters.items():
        for k, item_id in enumerate(matter.items):
            if item_id not in items:
                problems.append((("demand", "matters", matter_id, "items", k), f"an item id ({_known(items)})", item_id))
    if s.demand.matter_share > 0 and not any(m.weight > 0 for m in s.demand.matters.values()):
        problems.append((("demand", "matters"), "matters with weight for matter_share > 0", Said("none")))
    if sum(item.weight for item in s.items.values()) <= 0:
        problems.append((("items",), "item weights that do not sum to 0", Said("all weights 0")))
    for group_id, group in s.window_groups.items():
        for k, name in enumerate(group.accepts):
            if name not in departments and name not in items:
                problems.append((("window_groups", group_id, "accepts", k), "a department or item id", name))
    if len(s.townships) > MAX_TOWNSHIPS:
        problems.append((("townships",), f"at most {MAX_TOWNSHIPS} townships", Said(f"{len(s.townships)} townships")))
    for town_id, town in s.townships.items():
        if sum(town.windows.values()) > MAX_WINDOWS:
            problems.append((("townships", town_id, "windows"), f"at most {MAX_WINDOWS} windows in a township",
                             Said(f"{sum(town.windows.values())} windows")))
        open_groups = set()
        for group_id, n in town.windows.items():
            if group_id not in s.window_groups:
                problems.append((("townships", town_id, "windows", group_id),
                                 f"a window group id ({_known(s.window_groups)})", group_id))
            elif n > 0:
                open_groups.add(group_id)
        if town.cases_per_day > 0:
            served = set().union(*(accepted_items(s, s.window_groups[g]) for g in open_groups)) if open_groups else set()
            for item_id, item in s.items.items():
                if item.weight > 0 and item_id not in served and item.department in departments:
                    problems.append((("townships", town_id, "windows"), f"a window that accepts item {item_id}", Said("none")))
            if town.reviewers <= 0 and any(i.route == "township" and i.weight > 0 for i in s.items.values()):
                problems.append((("townships", town_id, "reviewers"), "reviewers > 0 for township-decided items",
                                 Said(f"{town.reviewers:g}")))
    problems += _calendar_problems(s)
    return problems


def _calendar_problems(s: Scenario) -> list[Problem]:
    problems: list[Problem] = []
    working = set(WEEKDAYS) if s.calendar.working_days == "all" else set(s.calendar.working_days)
    shuttle = s.county.shuttle_days
    if isinstance(shuttle, list) and not set(shuttle) & working:
        problems.append((("county", "shuttle_days"), "at least one working day (or daily / electronic)", shuttle))
    profile = s.demand.hourly_profile
    if profile is not None:
        sessions = s.calendar.session_minutes()
        starts = [_minutes(k) for k in profile] + [max(b for _, b in sessions)]
        weighted_open = any(w > 0 and any(min(b, end) > max(a, start) for a, b in sessions)
                            for start, end, w in zip(starts, starts[1:], profile.values()))
        if not weighted_open:
            problems.append((("demand", "hourly_profile"), "some weight on the opening hours", Said("weight only when closed")))
    return problems


def _known(ids) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")


def free_key_paths(path: tuple[str, ...]) -> bool:
    """Mappings whose keys are data (weekdays, months, clock times, window groups), not names."""
    free = {("demand", "weekday_factor"), ("demand", "month_factor"), ("demand", "hourly_profile")}
    if path in free:
        return True
    return len(path) == 3 and (path[0], path[2]) in {("townships", "windows"), ("items", "month_factor")}
