"""Reform levers: named, documented, pure functions (Scenario, params) → Scenario.

A scenario's `reforms:` list names levers with their parameters; they are applied in order,
after `extends` and `--set`, and the resolved scenario (the one saved with results) records
them in `reforms_applied` with every parameter spelled out. Defaults and their provenance: docs/reforms.md and docs/data.md.
Each lever changes only what its docstring says; tests diff resolved scenarios to check it.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_type_hints
from collections.abc import Callable

from pydantic import Field, StrictBool

from .scenario.schema import Distribution, Id, Month, NonNegative, Probability, Scenario, Strict, Triangular

SizeClasses = list[str]


def _tri(low: float, mode: float, high: float) -> Triangular:
    return Triangular(dist="triangular", low=low, mode=mode, high=high)


# --------------------------------------------------------------------------- parameters


class FullEmpowerment(Strict):
    items: list[Id] | None = Field(None, description="items to delegate (null: every delegable county item)")
    second_share: Annotated[float, Field(ge=0, le=1)] = Field(
        1.0, description="share of the county reviewer capacity behind the delegated work that is seconded to "
                         "the townships taking it over, in proportion to the work each takes (人员下沉; 0: "
                         "empowerment without the people)")
    extra_reviewers: dict[str, NonNegative] = Field(
        {}, description="township reviewers added on top, by size class")
    out_of_scope_share: Probability | None = Field(
        0.02, description="share of requests the township still cannot accept (null: unchanged)")
    joint_review_days: Distribution = Field(
        _tri(1, 2, 4), description="working days of the township joint review replacing former sign-offs")
    error_rate: Probability = Field(0.0, description="share of township decisions the county re-checks")
    recheck_days: Distribution = Field(_tri(3, 5, 10), description="working days a county re-check adds")


class UnifiedWindows(Strict):
    mode: Literal["unified", "domain"] = Field(
        "unified", description="unified: every window takes every item; domain: the named groups merge")
    groups: list[Id] = Field(["G2", "G3", "G4", "G5", "G25", "G34", "G2345"],
                             description="groups merged into D in domain mode")
    generalist_factor: Annotated[float, Field(gt=0)] = Field(
        1.10, description="window-time multiplier of merged (generalist) windows")
    express_windows: Annotated[int, Field(ge=0)] = Field(
        0, description="unified windows per township (of 3 or more) kept for pickups and immediate items")


class Coordination(Strict):
    signoff_mode: Literal["parallel", "sequential"] = Field("parallel", description="how sign-offs are collected")
    meeting_every_days: Annotated[int, Field(ge=1)] | None = Field(
        5, description="sign-offs are settled at a joint-review meeting every N working days (null: none)")
    electronic: StrictBool = Field(False, description="also move files electronically (the `platform` lever's "
                                                      "job; kept for combined studies)")
    supplement_prob: Probability = Field(0.05, description="share of county files sent back for supplements")
    narrow_top: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.3, description="county lead-time triangles: high pulled towards mode by this share")


class Platform(Strict):
    electronic: StrictBool = Field(True, description="files and results move electronically: no shuttle, no transit")
    single_entry: StrictBool = Field(True, description="one data entry: no extra window minutes for forwarded items")


class OnlinePrecheck(Strict):
    share: Probability = Field(0.4, description="applicants who pre-check their documents online")
    incomplete_factor: Annotated[float, Field(ge=0, le=1)] = Field(
        0.3, description="factor on their probability of incomplete documents")
    repeat_incomplete_prob: Probability = Field(
        0.10, description="probability of coming back still incomplete (standard checklist)")


class AcceptWithGaps(Strict):
    share: Probability = Field(0.6, description="incomplete submissions of gaps_ok items accepted anyway")


class VillageAgents(Strict):
    share: Probability = Field(0.15, description="agent_ok cases from distant villages handled by an agent")
    min_km: NonNegative = Field(5, description="only villages farther than this from the centre")
    every_days: Annotated[int, Field(ge=1)] = Field(5, description="working days between an agent's rounds")
    time_factor: Annotated[float, Field(gt=0)] = Field(0.8, description="window-time factor for batched agent files")


class AppointmentsLever(Strict):
    share: Probability = Field(0.2, description="citizens who book a slot")
    slot_minutes: Annotated[float, Field(gt=0)] = Field(15, description="slot length; slots spread over opening hours")
    no_show: Probability = Field(0.1, description="bookings not kept (they come as walk-ins)")
    reserved_windows: Annotated[int, Field(ge=0)] = Field(
        0, description="windows per township reserved for bookings, taken from its largest group")


class ExtendedHours(Strict):
    size_classes: SizeClasses = Field(["A+", "A", "B"], description="centres that keep a window open over lunch")
    shift_share: Probability = Field(0.10, description="share of the morning's arrivals that move to lunch time")


class MailDelivery(Strict):
    mail_share: Probability = Field(0.8, description="share of results to collect that are mailed")
    e_certificates: list[Id] = Field(["ZR02", "GA02", "SJ03", "WJ03", "YJ01"],
                                     description="pickup items whose result becomes electronic (A)")


class MobileServiceLever(Strict):
    share: Probability = Field(0.3, description="immediate items of distant villages handled on site")
    min_km: NonNegative = Field(8, description="only villages farther than this from the centre")
    every_days: Annotated[int, Field(ge=1)] = Field(21, description="working days between visits (about monthly)")


class Seasonal(Strict):
    group: Id = Field("G1", description="group whose windows the seasonal windows copy")
    windows: Annotated[int, Field(ge=1)] = Field(1, description="seasonal windows per township")
    months: list[Month] = Field([10, 11, 12, 1, 2], description="months they are open")
    size_classes: SizeClasses = Field(["A", "B"], description="centres that get them")


class Standby(Strict):
    queue: Annotated[int, Field(ge=1)] = Field(8, description="waiting citizens that open the standby window")
    windows: Annotated[int, Field(ge=1)] = Field(1, description="standby windows per township")


class StaffingLever(Strict):
    add_windows: dict[Id, int] = Field({}, description="windows added per group (negative removes)")
    townships: list[Id] | None = Field(None, description="where add_windows applies (null and no size "
                                                         "classes: everywhere)")
    size_classes: SizeClasses | None = Field(None, description="where add_windows applies, by size class")
    seasonal: Seasonal | None = Field(None, description="seasonal extra windows (see below)")
    standby: Standby | None = Field(None, description="a standby window opened by a long queue")
    cross_train_share: Probability = Field(
        0.0, description="share of each township's regular windows cross-trained to take every item")


# --------------------------------------------------------------------------- the levers


def _known(kind: str, names, known, loc: tuple) -> None:
    """Every name must be one the scenario has (a typo must not silently select nothing)."""
    listed = [(loc, names)] if isinstance(names, str) else [
        (loc + (name,) if isinstance(names, dict) else loc + (i,), name) for i, name in enumerate(names)]
    for where, name in listed:
        if name not in known:
            raise LeverError(where, f"{kind} of the scenario ({', '.join(sorted(map(str, known))[:12])})", name)


def _size_classes(s: dict) -> set:
    return {t.get("size_class") for t in s["townships"].values()} - {None}


def _regular(groups: dict) -> list[str]:
    """Window groups of plain windows (not seasonal, standby, lunch or reserved ones)."""
    special = ("months", "standby_queue", "lunch", "booked_only")
    return [g for g, spec in groups.items() if not any(spec.get(k) for k in special)]


def full_empowerment(s: dict, p: FullEmpowerment) -> None:
    """Delegable county items become township decisions with their township lead times (or
    immediate decisions at the window where `delegated_route: immediate`, with no pickup); their
    sign-offs become a township joint review (`staffing.joint_review_days`); county reviewers
    follow the work to the townships (`second_share`); fewer requests are out of scope; optionally
    reviewers are added by size class and the county re-checks a share of township decisions."""
    from .capacity import seconded_reviewers

    chosen = p.items if p.items is not None else [i for i, item in s["items"].items()
                                                  if item["delegable"] and item["route"] == "county"]
    _known("an item", chosen, s["items"], ("items",))
    if "extra_reviewers" in p.model_fields_set:  # the defaults name the Cangnan size classes
        _known("a size class", p.extra_reviewers, _size_classes(s), ("extra_reviewers",))
    for i, item_id in enumerate(chosen):
        if not s["items"][item_id]["delegable"]:
            raise LeverError(("items", i), "a delegable item (with township_lead_days)", item_id)
    leaving, arriving = seconded_reviewers(Scenario.model_validate(s), chosen, p.second_share)
    for item_id in chosen:
        item = s["items"][item_id]
        if item.get("delegated_route") == "immediate":  # decided at the window, printed there
            item.update(route="immediate", signoffs=[], result="none" if item["result"] == "pickup" else item["result"])
        else:
            item.update(route="township", recheck_prob=p.error_rate, recheck_days=_dump(p.recheck_days))
    s["staffing"]["joint_review_days"] = _dump(p.joint_review_days)
    for dept_id, dept in s["departments"].items():
        if dept.get("county_reviewers") is not None and leaving[dept_id] > 0:
            left = dept["county_reviewers"] - leaving[dept_id]
            dept["county_reviewers"] = round(left, 3) if left > 1e-6 else None  # every file gone: no office
    for town_id, town in s["townships"].items():
        town["reviewers"] = round(town["reviewers"] + arriving[town_id] + p.extra_reviewers.get(town.get("size_class"), 0), 3)
    if p.out_of_scope_share is not None:
        s["demand"]["out_of_scope_share"] = min(s["demand"].get("out_of_scope_share", 0.0), p.out_of_scope_share)


def unified_windows(s: dict, p: UnifiedWindows) -> None:
    """`mode: unified`: every window accepts every item and hands out results, one queue;
    `mode: domain`: the named groups merge into one group D. Merged windows are generalists
    (`staffing.generalist_factor`). `express_windows` keeps that many unified windows per
    township (of 3 or more windows) for pickups and immediate items."""
    s["staffing"]["generalist_factor"] = p.generalist_factor
    groups, townships = s["window_groups"], s["townships"]
    if p.mode == "unified":
        merged = _regular(groups)
        groups["U"] = {"accepts": sorted(s["departments"]), "generalist": True, "pickups": True}
    else:
        merged = [g for g in p.groups if g in groups]
        if not merged:
            raise LeverError(("groups",), f"window groups of the scenario ({', '.join(groups)})", p.groups)
        accepts = sorted({name for g in merged for name in groups[g]["accepts"]})
        groups["D"] = {"accepts": accepts, "generalist": True}
    target = "U" if p.mode == "unified" else "D"
    for town in townships.values():
        moved = sum(town["windows"].pop(g, 0) for g in merged)
        if moved:
            town["windows"][target] = town["windows"].get(target, 0) + moved
    for g in merged:
        del groups[g]
    if p.express_windows:
        immediate = sorted(i for i, item in s["items"].items() if item["route"] == "immediate")
        groups["EXPRESS"] = {"accepts": immediate, "generalist": True, "pickups": True}
        for town in townships.values():
            if town["windows"].get(target, 0) >= max(3, p.express_windows + 1):
                town["windows"][target] -= p.express_windows
                town["windows"]["EXPRESS"] = p.express_windows


def coordination(s: dict, p: Coordination) -> None:
    """Department coordination (部门协同): sign-offs in parallel, settled at joint-review meetings
    every few working days; fewer files sent back for supplements; county lead-time triangles
    narrowed at the top. Electronic transfer belongs to the `platform` lever."""
    county = s["county"]
    county.update(signoff_mode=p.signoff_mode, meeting_every_days=p.meeting_every_days,
                  supplement_prob=p.supplement_prob)
    if p.electronic:
        county.update(shuttle_days="electronic", transit_days=0)
    for item in s["items"].values():
        lead = item.get("lead_days")
        if lead and lead.get("dist") == "triangular":
            lead["high"] = lead["mode"] + (1 - p.narrow_top) * (lead["high"] - lead["mode"])
            if lead["high"] <= lead["low"]:
                lead["high"] = lead["low"] + 1e-9


def platform(s: dict, p: Platform) -> None:
    """A standardised platform (平台标准化): files and results travel electronically between the
    township and the county (no shuttle, no transit), and forwarded items are entered once
    (no double data entry at the window)."""
    if p.electronic:
        s["county"].update(shuttle_days="electronic", transit_days=0)
    if p.single_entry:
        s["service"]["forward_entry_minutes"] = 0


def online_precheck(s: dict, p: OnlinePrecheck) -> None:
    """A share of applicants pre-check documents online (their incomplete probability × factor);
    a standard checklist lowers the probability of coming back still incomplete."""
    s["behaviour"].update(precheck_share=p.share, precheck_incomplete_factor=p.incomplete_factor,
                          repeat_incomplete_prob=p.repeat_incomplete_prob)


def accept_with_gaps(s: dict, p: AcceptWithGaps) -> None:
    """容缺: a share of incomplete submissions of `gaps_ok` items is accepted; the missing
    document follows without a trip."""
    s["behaviour"]["gaps_accept_share"] = p.share


def village_agents(s: dict, p: VillageAgents) -> None:
    """代办: a share of `agent_ok` cases from villages farther than `min_km` are handled by village
    agents on weekly rounds (window time × time_factor): the citizen makes no trip."""
    s["behaviour"]["agents"] = p.model_dump()


def appointments(s: dict, p: AppointmentsLever) -> None:
    """预约: a share of citizens book slots spread evenly over the day and are called first;
    no-shows come as walk-ins; optionally windows reserved for bookings."""
    s["behaviour"]["appointments"] = {"share": p.share, "slot_minutes": p.slot_minutes, "no_show": p.no_show}
    if p.reserved_windows:
        for town in s["townships"].values():
            group = max(_regular_in(town, s), key=lambda g: town["windows"][g])
            if town["windows"][group] > p.reserved_windows:
                reserved = f"{group}_BOOKED"
                s["window_groups"].setdefault(reserved, {**s["window_groups"][group], "booked_only": True})
                town["windows"][group] -= p.reserved_windows
                town["windows"][reserved] = town["windows"].get(reserved, 0) + p.reserved_windows


def extended_hours(s: dict, p: ExtendedHours) -> None:
    """延时: in centres of the given size classes one window (taken from the largest group)
    accepts everything and stays open through lunch; a share of the morning's arrivals moves there."""
    if "size_classes" in p.model_fields_set:
        _known("a size class", p.size_classes, _size_classes(s), ("size_classes",))
    s["window_groups"]["LUNCH"] = {"accepts": sorted(s["departments"]), "generalist": True, "pickups": True,
                                   "lunch": True}
    for town in s["townships"].values():
        if town.get("size_class") in p.size_classes:
            group = max(_regular_in(town, s), key=lambda g: town["windows"][g])
            town["windows"][group] -= 1
            town["windows"]["LUNCH"] = town["windows"].get("LUNCH", 0) + 1
    s["behaviour"]["lunch_shift_share"] = p.shift_share


def mail_delivery(s: dict, p: MailDelivery) -> None:
    """Free mailing: more citizens have results mailed; the named items get e-certificates
    (result `notify`: no pickup at all)."""
    s["behaviour"]["mail_share"] = p.mail_share
    _known("an item", p.e_certificates, s["items"], ("e_certificates",))
    for item_id in p.e_certificates:  # an item an earlier lever already made pickup-free stays as it is
        if s["items"][item_id]["result"] == "pickup":
            s["items"][item_id]["result"] = "notify"


def mobile_service(s: dict, p: MobileServiceLever) -> None:
    """流动服务: periodic visits to villages farther than `min_km` handle a share of their
    immediate items on site: no trip."""
    s["behaviour"]["mobile_service"] = p.model_dump()


def staffing(s: dict, p: StaffingLever) -> None:
    """Windows added to groups (in named townships or size classes); cross-trained windows
    accepting everything (that share of each township's regular windows, rounded half up, taken
    from its largest groups); seasonal extra windows; a standby window that opens when its queue
    is long."""
    townships, groups = s["townships"], s["window_groups"]
    _known("a window group", p.add_windows, groups, ("add_windows",))
    _known("a township", p.townships or [], townships, ("townships",))
    _known("a size class", p.size_classes or [], _size_classes(s), ("size_classes",))
    for town_id, town in townships.items():
        if _chosen(town_id, town, p.townships, p.size_classes):
            for group, n in p.add_windows.items():
                town["windows"][group] = max(0, town["windows"].get(group, 0) + n)
    if p.cross_train_share:
        groups["XT"] = {"accepts": sorted(s["departments"]), "generalist": True}
        for town in townships.values():
            windows, regular = town["windows"], _regular_in(town, s)
            for _ in range(math.floor(p.cross_train_share * sum(windows[g] for g in regular) + 0.5)):
                group = max(regular, key=lambda g: windows[g])
                windows[group] -= 1
                windows["XT"] = windows.get("XT", 0) + 1
    if p.seasonal:
        _known("a window group", p.seasonal.group, groups, ("seasonal", "group"))
        if "size_classes" in p.seasonal.model_fields_set:
            _known("a size class", p.seasonal.size_classes, _size_classes(s), ("seasonal", "size_classes"))
        name = f"{p.seasonal.group}_SEASON"
        groups[name] = {**groups[p.seasonal.group], "months": p.seasonal.months}
        for town_id, town in townships.items():
            if _chosen(town_id, town, None, p.seasonal.size_classes):
                town["windows"][name] = town["windows"].get(name, 0) + p.seasonal.windows
    if p.standby:
        groups["STANDBY"] = {"accepts": sorted(s["departments"]), "generalist": True,
                             "standby_queue": p.standby.queue}
        for town in townships.values():
            town["windows"]["STANDBY"] = town["windows"].get("STANDBY", 0) + p.standby.windows


def _regular_in(town: dict, s: dict) -> list[str]:
    """A township's regular window groups that have windows (not XT, seasonal, standby...)."""
    regular = set(_regular(s["window_groups"])) - {"XT", "LUNCH"}
    return [g for g, n in town["windows"].items() if g in regular and n > 0]


def _chosen(town_id, town, ids, classes) -> bool:
    if ids is None and classes is None:
        return True
    return (ids is not None and town_id in ids) or (classes is not None and town.get("size_class") in classes)


def _dump(dist) -> dict:
    return dist.model_dump(mode="json")


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Lever:
    name: str
    params: type[Strict]
    change: Callable[[dict, Any], None]

    @property
    def doc(self) -> str:
        return " ".join((self.change.__doc__ or "").split())

    def parameters(self) -> list[tuple[str, str, str]]:
        """(name, default as YAML, meaning) of each parameter."""
        return [(name, _yaml(field.default), field.description or "") for name, field in self.params.model_fields.items()]


def _yaml(value) -> str:
    import json

    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", exclude_none=True)
    return json.dumps(value, ensure_ascii=False)


def describe() -> str:
    """Every lever, what it changes, and its parameters with defaults (`simcenter reforms`)."""
    parts = []
    for lever in LEVERS.values():
        rows = "\n".join(f"| `{n}` | `{d}` | {m} |" for n, d, m in lever.parameters())
        parts.append(f"## `{lever.name}`\n\n{lever.doc}\n\n| parameter | default | meaning |\n|---|---|---|\n{rows}\n")
    return "\n".join(parts)


def _lever(change: Callable[[dict, Any], None]) -> Lever:
    """A lever from its change function: the name is the function's, the parameters its annotation's."""
    return Lever(change.__name__, get_type_hints(change)["p"], change)


LEVERS = {lever.name: lever for lever in map(_lever, (
    full_empowerment, unified_windows, coordination, platform, online_precheck, accept_with_gaps,
    village_agents, appointments, extended_hours, mail_delivery, mobile_service, staffing,
))}


class LeverError(Exception):
    """A lever's parameters are wrong, or it names something the scenario lacks."""

    def __init__(self, loc: tuple, expected: str, got: Any):
        super().__init__(f"{'.'.join(map(str, loc))}: {expected} (got {got!r})")
        self.loc, self.expected, self.got = loc, expected, got


def apply(scenario: Scenario, lever: str, params: Strict) -> Scenario:
    """One lever, as a pure function: a new validated Scenario; the input is left untouched."""
    from pydantic import ValidationError

    from .scenario.schema import cross_field_problems

    if lever not in LEVERS:
        raise LeverError((), f"a reform lever ({', '.join(LEVERS)})", lever)
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    LEVERS[lever].change(data, params)
    data["reforms_applied"] = data["reforms_applied"] + [{lever: params.model_dump(mode="json")}]
    try:
        result = Scenario.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise LeverError((), f"a lever leaving a valid scenario: {'.'.join(map(str, err['loc']))}: {err['msg']}",
                         err.get("input")) from None
    problems = cross_field_problems(result)
    if problems:
        loc, expected, got = problems[0]
        raise LeverError((), f"a lever leaving a consistent scenario: {'.'.join(map(str, loc))}: {expected}", got)
    return result


def apply_all(scenario: Scenario, levers: list[tuple[str, Strict]]) -> Scenario:
    """Levers in order, starting from the scenario without its `reforms:` list."""
    result = scenario.model_copy(update={"reforms": []})
    for name, params in levers:
        result = apply(result, name, params)
    return result
