"""Resolve a scenario: a file, its `extends` and `--set` overrides, the validated Scenario, then
its `reforms:` levers applied in order, every problem located in the file.

The one module that knows both the scenario contract (`simcenter.scenario`) and the reform
levers (`simcenter.reforms`), so that neither imports the other; whatever needs a scenario ready
to simulate (the command line, the Python API, comparisons, experiments) comes here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from .scenario.load import (ScenarioError, apply_sets, did_you_mean, line_order, locate, most_specific, problem,
                            pydantic_problem, read_document, scenario_path, validate)
from .scenario.schema import Scenario


def load_scenario(name: str | Path | None = None, sets: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, merge, override, validate and apply the levers of a scenario (a shipped name or a
    path; None: the baseline); raise ScenarioError listing every problem."""
    path = scenario_path(name)
    data, marks = read_document(path)
    apply_sets(data, marks, sets)
    return resolve(data, marks, str(path))


def resolve(data: dict, marks: dict, file: str) -> Scenario:
    """A scenario mapping (with the marks of its keys in `file`) → the Scenario to simulate."""
    scenario = validate(data, marks, file)
    return _apply_levers(scenario, data, marks, file) if scenario.reforms else scenario


def _apply_levers(scenario: Scenario, data: dict, marks: dict, file: str) -> Scenario:
    """The `reforms:` levers, each checked and located like any other key, then applied in order."""
    from .reforms import LEVERS, LeverError, apply  # their parameter models (~40 ms) only for a scenario with levers

    problems, levers = [], []
    for index, entry in enumerate(scenario.reforms):
        at = ("reforms", str(index))
        if len(entry) != 1:
            problems.append(problem(locate(at, marks, file)[1], at, "one lever name per list entry", sorted(entry)))
            continue
        (name, raw), = entry.items()
        if name not in LEVERS:
            problems.append(problem(locate(at + (name,), marks, file)[1], at + (name,), did_you_mean(name, LEVERS), name))
            continue
        try:
            levers.append((index, name, LEVERS[name].params.model_validate(raw or {})))
        except ValidationError as e:
            for err in most_specific(e.errors(), marks):
                problems.append(pydantic_problem({**err, "loc": at + (name,) + tuple(err["loc"])}, data, marks, file,
                                                 LEVERS))
    if problems:
        raise ScenarioError(sorted(set(problems), key=line_order))
    result = scenario.model_copy(update={"reforms": []})
    for index, name, params in levers:
        at = ("reforms", str(index), name)
        try:
            result = apply(result, name, params)
        except LeverError as e:
            raise ScenarioError([problem(locate(at + e.loc, marks, file)[1], at + e.loc, e.expected, e.got)]) from None
    return result
