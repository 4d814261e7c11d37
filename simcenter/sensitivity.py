"""Sensitivity of a comparison to its uncertain inputs: one input at a time, at a low and a high value.

Each uncertain input (`INPUTS`) is a function that writes a value into a scenario document after
`extends` and `--set` and before validation and the reform levers, so that a reform acts on the
perturbed status quo (`perturbed`): the same path as a `--set` override, so a problem is still
located in the file. For every (input, level) the baseline and every reform run with common random
numbers (the seed and replications of the central comparison); all distinct scenarios run as one
task list on one executor, and each (input, level) is then compared like `simcenter compare` does
(`comparison.analyse`: paired differences, Bonferroni across the reforms). The central rows are
exactly `simcenter compare`'s.

Standard library only at the top: the command line imports this module for its input names.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

LEVELS = ("low", "central", "high")
COLUMNS = ("reform", "kpi", "input", "level", "value", "baseline_mean", "reform_mean", "difference", "ci_low",
           "ci_high", "n")  # sensitivity.csv


@dataclass(frozen=True)
class Input:
    """An uncertain input: its range and how a value is written into a scenario document.

    `factor` inputs multiply what the scenario says (central value 1); the others set a value
    (central value: the baseline's own, `central`). `change(document, scenario, value)` writes into
    the document, reading what is there from the validated `scenario` (defaults included).
    """

    name: str
    label: str
    unit: str
    low: float
    high: float
    changes: str  # the keys it writes, for the docs and the manifest
    change: Callable[[dict, object, float], None]
    central: Callable[[object], float] = lambda scenario: 1.0
    factor: bool = True

    def value_text(self, value: float) -> str:
        return f"×{value:g}" if self.factor else f"{value:g} {self.unit}".strip()

    def range_text(self) -> str:
        """'patience mean 30–90 min', 'demand level ×0.85–1.15'."""
        if self.factor:
            return f"{self.label} ×{self.low:g}–{self.high:g}"
        return f"{self.label} {self.low:g}–{self.high:g} {self.unit}"

    def describe(self, central: float | None = None) -> dict:
        return {"name": self.name, "label": self.label, "unit": self.unit, "low": self.low, "high": self.high,
                "central": central, "factor": self.factor, "range": self.range_text(), "changes": self.changes}


class InputError(Exception):
    """An input cannot vary in this scenario: (key path, what was expected, a description of what was found)."""

    def __init__(self, path: tuple[str, ...], expected: str, got):
        super().__init__(expected)
        self.path, self.expected, self.got = path, expected, got


def _put(document: dict, path: tuple[str, ...], value) -> None:
    node = document
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def _dist(dist) -> dict:
    return dist.model_dump(mode="json", exclude_none=True)


SCALED = ("mean", "sd", "low", "mode", "high", "value", "max")  # a distribution's parameters in its own unit


def scaled(dist: dict, f: float) -> dict:
    """A distribution of f × X: every parameter in X's unit × f; cv, k and weights unchanged."""
    out = {k: (v * f if k in SCALED else v) for k, v in dist.items()}
    if "values" in out:
        out["values"] = [v * f for v in out["values"]]
    return out


# --------------------------------------------------------------------------- the inputs


def _patience_mean(scenario) -> float:
    dist = scenario.behaviour.patience_minutes
    return float(getattr(dist, "mean", math.nan)) if dist is not None else math.nan


def _patience(document: dict, scenario, value: float) -> None:
    dist = scenario.behaviour.patience_minutes
    if dist is None or not hasattr(dist, "mean"):
        raise InputError(("behaviour", "patience_minutes"), "a patience distribution with a mean to vary",
                         "none" if dist is None else f"a {dist.dist} distribution")
    _put(document, ("behaviour", "patience_minutes"), {**_dist(dist), "mean": value})


def _review(document: dict, scenario, f: float) -> None:
    for item_id, item in scenario.items.items():
        if item.review_minutes is not None:
            _put(document, ("items", item_id, "review_minutes"), item.review_minutes * f)
    _put(document, ("staffing", "reviews_per_day"), scenario.staffing.reviews_per_day / f)
    _put(document, ("county", "reviews_per_day"), scenario.county.reviews_per_day / f)


def _generalist(document: dict, scenario, value: float) -> None:
    _put(document, ("staffing", "generalist_factor"), value)
    for entry in document.get("reforms") or []:  # the lever sets the factor of the windows it merges
        if isinstance(entry, dict) and "unified_windows" in entry:
            params = entry["unified_windows"] if isinstance(entry["unified_windows"], dict) else {}
            entry["unified_windows"] = {**params, "generalist_factor": value}


def _incomplete(document: dict, scenario, f: float) -> None:
    for item_id, item in scenario.items.items():
        if item.incomplete_prob > 0:
            _put(document, ("items", item_id, "incomplete_prob"), min(1.0, item.incomplete_prob * f))


def _signoff(document: dict, scenario, f: float) -> None:
    _put(document, ("county", "signoff_days"), scaled(_dist(scenario.county.signoff_days), f))


def _market_day(document: dict, scenario, value: float) -> None:
    if not any(t.market_days for t in scenario.townships.values()):
        raise InputError(("townships",), "townships with market_days for the market-day factor to act on",
                         "none")
    _put(document, ("demand", "market_day_factor"), value)


def _demand(document: dict, scenario, f: float) -> None:
    for town_id, town in scenario.townships.items():
        _put(document, ("townships", town_id, "cases_per_day"), town.cases_per_day * f)


def _matter_share(document: dict, scenario, value: float) -> None:
    if not scenario.demand.matters:
        raise InputError(("demand", "matters"), "one-matter bundles for the one-matter share to act on",
                         "none")
    _put(document, ("demand", "matter_share"), value)


def _referral(document: dict, scenario, value: float) -> None:
    _put(document, ("behaviour", "referral_next_day_prob"), value)


INPUTS: dict[str, Input] = {i.name: i for i in (
    Input("patience", "patience mean", "min", 30, 90, "behaviour.patience_minutes (its mean; cv or sd kept)",
          _patience, _patience_mean, factor=False),
    Input("review", "review work per file", "×", 0.75, 1.5,
          "items.*.review_minutes × f; staffing.reviews_per_day and county.reviews_per_day ÷ f", _review),
    Input("generalist", "generalist slowdown", "× window time", 1.0, 1.25,
          "staffing.generalist_factor and every unified_windows lever's generalist_factor", _generalist,
          lambda s: s.staffing.generalist_factor, factor=False),
    Input("incomplete", "incomplete-document probability", "×", 0.7, 1.3,
          "items.*.incomplete_prob × f (at most 1)", _incomplete),
    Input("signoff", "county sign-off days", "×", 0.5, 1.5, "county.signoff_days × f (every parameter in days)",
          _signoff),
    Input("market_day", "market-day factor", "× a plain day", 1.2, 2.0, "demand.market_day_factor", _market_day,
          lambda s: s.demand.market_day_factor, factor=False),
    Input("demand", "demand level", "×", 0.85, 1.15, "townships.*.cases_per_day × f", _demand),
    Input("matter_share", "one-matter share", "of cases", 0.05, 0.20, "demand.matter_share", _matter_share,
          lambda s: s.demand.matter_share, factor=False),
    Input("referral", "referral needs another day", "probability", 0.1, 0.4, "behaviour.referral_next_day_prob",
          _referral, lambda s: s.behaviour.referral_next_day_prob, factor=False),
)}


def chosen(names) -> list[Input]:
    """The inputs named (all when none), in registry order; ValueError naming the unknown ones."""
    names = list(names)
    unknown = [n for n in names if n not in INPUTS]
    if unknown:
        raise ValueError(", ".join(unknown))
    return [i for i in INPUTS.values() if not names or i.name in names]


# --------------------------------------------------------------------------- resolving


@dataclass
class Source:
    """A scenario file read once: its merged document with --set applied, and that validated (before levers)."""

    path: Path
    document: dict
    marks: dict
    scenario: object  # validated, levers not yet applied


def read_source(name, sets: list[str]) -> Source:
    from .scenario.load import apply_sets, read_document, scenario_path, validate

    path = scenario_path(name)
    document, marks = read_document(path)
    apply_sets(document, marks, sets)
    return Source(path, document, marks, validate(document, marks, str(path)))


def perturbed(source: Source, item: Input, value: float):
    """The Scenario to simulate with `item` at `value`: written into the document, then validated and
    the levers applied (simcenter.resolve), every problem located and naming the input."""
    from .resolve import resolve
    from .scenario.load import ScenarioError, locate, problem
    from .scenario.schema import Said

    document = copy.deepcopy(source.document)
    where = f" (with --input {item.name} at {item.value_text(value)})"
    file = str(source.path)
    try:
        item.change(document, source.scenario, value)
        return resolve(document, source.marks, file)
    except InputError as e:
        raise ScenarioError([problem(locate(e.path, source.marks, file)[1], e.path, e.expected + where, Said(e.got))]) \
            from None
    except ScenarioError as e:
        raise ScenarioError([line + where for line in e.problems]) from None


# --------------------------------------------------------------------------- the design


@dataclass
class Plan:
    """Every scenario to simulate: the central comparison and each (input, level)'s."""

    central: list  # Scenario objects, baseline first (comparison.load)
    inputs: list[Input]
    values: dict[tuple[str, str], float]  # (input, level) → the input's value
    cells: dict[tuple[str, str], list] = field(default_factory=dict)  # (input, level) → scenarios, baseline first
    skipped: list[str] = field(default_factory=list)  # inputs left out, with why

    @property
    def replications(self) -> int:
        return self.central[0].replications

    def distinct(self) -> list:
        """Every different scenario once (an input that changes nothing a scenario uses runs it once)."""
        return list(_distinct([self.central, *self.cells.values()]).values())


def _key(scenario) -> str:
    return scenario.model_dump_json()


def _distinct(groups) -> dict[str, object]:
    out: dict[str, object] = {}
    for group in groups:
        for scenario in group:
            out.setdefault(_key(scenario), scenario)
    return out


def plan(baseline, reforms, inputs: list[Input], sets=(), replications: int | None = None,
         seed: int | None = None, explicit: bool = True) -> Plan:
    """The central comparison as `simcenter compare` loads it, then each input at its low and high value
    with the central seed and replications. Raises ScenarioError with every problem; unless `explicit`
    (the inputs were named), an input that cannot act on the baseline is left out, in `skipped`."""
    from .comparison import load
    from .scenario.load import ScenarioError

    sources = [baseline, *reforms]
    central = load(baseline, reforms, sets, replications, seed)
    forced = list(sets) + [f"replications={central[0].replications}", f"seed={central[0].seed}"]
    read = [read_source(s, forced) for s in sources]
    result = Plan(central, [], {})
    problems: list[str] = []
    for item in inputs:
        if not explicit:
            try:
                item.change(copy.deepcopy(read[0].document), read[0].scenario, item.low)
            except InputError as e:
                result.skipped.append(f"--input {item.name} left out: {'.'.join(e.path)}: needs {e.expected} (got {e.got})")
                continue
        result.inputs.append(item)
        result.values[(item.name, "central")] = item.central(read[0].scenario) if not item.factor else 1.0
        for level in ("low", "high"):
            value = getattr(item, level)
            result.values[(item.name, level)] = value
            try:
                result.cells[(item.name, level)] = [perturbed(s, item, value) for s in read]
            except ScenarioError as e:
                problems.extend(e.problems)
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return result


def warnings(the_plan: Plan) -> list[str]:
    """The overloaded back offices of the central scenarios (as `simcenter compare` gives them), then
    those an input's low or high value adds, naming the input: their lead times are not findings."""
    from .capacity import warnings as overloaded
    from .results import capacity_warnings

    lines = list(capacity_warnings(the_plan.central))
    cache: dict[str, list[str]] = {}

    def of(scenario) -> list[str]:
        return cache.setdefault(_key(scenario), overloaded(scenario))

    for item in the_plan.inputs:
        for level in ("low", "high"):
            value = item.value_text(the_plan.values[(item.name, level)])
            for central, scenario in zip(the_plan.central, the_plan.cells[(item.name, level)]):
                shipped = set(of(central))
                lines += [f"--input {item.name} {level} ({value}): {scenario.name}: {line}"
                          for line in of(scenario) if line not in shipped]
    return lines


@dataclass
class Sensitivity:
    plan: Plan
    central: object  # comparison.Comparison of the shipped values
    rows: list[dict]  # sensitivity.csv
    kpis: list[str]
    executor: str = ""

    @property
    def baseline(self) -> str:
        return self.central.baseline

    @property
    def reforms(self) -> list[str]:
        return self.central.reforms


def run(the_plan: Plan, kpis, jobs: int = 1, progress=None) -> Sensitivity:
    """Run every distinct scenario of the plan on one executor, then compare each (input, level)."""
    from .comparison import analyse
    from .runner import run_scenarios

    scenarios = the_plan.distinct()
    runs = run_scenarios(scenarios, the_plan.replications, jobs, progress=progress)
    by_key = {_key(s): r for s, r in zip(scenarios, runs)}

    def compared(group):
        return analyse(group, [by_key[_key(s)] for s in group])

    central = compared(the_plan.central)
    central.executor = runs[0].executor
    kpis = list(kpis)
    rows = []
    for item in the_plan.inputs:
        for level in LEVELS:
            result = central if level == "central" else compared(the_plan.cells[(item.name, level)])
            value = the_plan.values[(item.name, level)]
            rows += [_row(r, item.name, level, value) for r in result.comparison if r["kpi"] in kpis]
    order = {k: i for i, k in enumerate(kpis)}
    rows.sort(key=lambda r: (central.reforms.index(r["reform"]), order[r["kpi"]]))  # stable: inputs, levels kept
    return Sensitivity(the_plan, central, rows, kpis, central.executor)


def _row(comparison_row: dict, name: str, level: str, value: float) -> dict:
    return {"reform": comparison_row["reform"], "kpi": comparison_row["kpi"], "input": name, "level": level,
            "value": value, **{k: comparison_row[k] for k in COLUMNS[5:]}}


# --------------------------------------------------------------------------- what it says


@dataclass
class Robustness:
    """A reform's effect on a KPI across the inputs: central, [min, max], and the inputs that flip its sign."""

    reform: str
    kpi: str
    central: float
    low: float
    high: float
    flips: list[str]  # "input level" whose effect has the other sign
    significant_flips: list[str]  # of those, where the interval excludes 0


def robustness(rows: list[dict]) -> list[Robustness]:
    out = []
    for (reform, kpi), group in _grouped(rows, ("reform", "kpi")).items():
        centre = next(r["difference"] for r in group if r["level"] == "central")
        values = [r["difference"] for r in group if _finite(r["difference"])]
        flipped = [r for r in group if r["level"] != "central" and _opposite(r["difference"], centre)]
        out.append(Robustness(reform, kpi, centre, min(values, default=math.nan), max(values, default=math.nan),
                              [f"{r['input']} {r['level']}" for r in flipped],
                              [f"{r['input']} {r['level']}" for r in flipped if _opposite(r["ci_low"], centre)
                               and _opposite(r["ci_high"], centre)]))
    return out


def ranking_changes(rows: list[dict], kpi: str) -> tuple[list[str], list[str]]:
    """The reforms from best to worst on `kpi` at the central values, and the "input level"s under which
    that order differs. Without a direction (a KPI neither better high nor low): by effect, largest first."""
    from .kpis import kpi as entry

    better = entry(kpi).higher_is_better
    sign = -1.0 if better is False else 1.0
    cells = _grouped([r for r in rows if r["kpi"] == kpi], ("input", "level"))

    def order(group):
        finite = [r for r in group if _finite(r["difference"])]
        return [r["reform"] for r in sorted(finite, key=lambda r: -sign * r["difference"])]

    central = order(next((g for (i, level), g in cells.items() if level == "central"), []))
    changed = [f"{i} {level}" for (i, level), g in cells.items() if level != "central" and order(g) != central]
    return central, changed


def _grouped(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for r in rows:
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _opposite(x, centre) -> bool:
    return _finite(x) and _finite(centre) and x * centre < 0


def method_text(replications: int, reforms: int, level: float, inputs: int) -> str:
    return (f"one input at a time ({inputs} input{'s' if inputs != 1 else ''}, each at its low and high value, "
            f"the others at their central values); every scenario runs the same {replications} replications with "
            f"common random numbers; paired-t intervals Bonferroni-adjusted for {reforms} "
            f"reform{'s' if reforms != 1 else ''} (each at level {level:.4g})")
