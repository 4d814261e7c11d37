"""Experiment files: a base scenario, factors, a design, replications → validated points.

An experiment is one YAML file (docs/experiments.md). Each point of its design is the base
scenario with the point's factor values applied: dotted scenario keys as `--set` overrides,
`reforms.LEVER` switched off/on (or given parameters), `reforms.LEVER.PARAM` with the lever on.
Every point is resolved and validated before anything runs; an error names the point's
factor values and the line of the experiment file the value came from.
"""

from __future__ import annotations

import itertools
import math
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator

from .kpis import HEADLINE_FIGURES, KPI_NAMES
from .resolve import resolve
from .scenario.load import (ScenarioError, SET_SOURCE, line_order, most_specific, pydantic_problem, parse_yaml,
                            problem, read_document, scenario_path)
from .scenario.schema import Strict

OFF, ON = "off", "on"
MAX_POINTS = 10_000  # a design's points: each is resolved, validated and kept in memory before anything runs
SETTABLE = ("replications", "seed", "chunk", "precision", "kpis")  # experiment keys `--set` may change


class Precision(Strict):
    """`replications: auto`: add replications until the KPI's 95% CI half-width is small enough."""

    kpi: str = "wait_mean"
    relative_half_width: Annotated[float, Field(gt=0, lt=1)] = 0.05
    min: Annotated[int, Field(ge=2)] = 5
    max: Annotated[int, Field(ge=2, le=100_000)] = 50

    @field_validator("kpi")
    @classmethod
    def _known_kpi(cls, v):
        return _known([v], "a KPI name")[0]

    @field_validator("max")
    @classmethod
    def _max_not_below_min(cls, v, info):
        if "min" in info.data and v < info.data["min"]:
            raise ValueError(f"at least min ({info.data['min']})")
        return v


class ExperimentSpec(Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    base: str = "baseline"  # a scenario file (relative to the experiment) or a shipped scenario's name
    design: Literal["grid", "points", "factorial"] = "grid"
    factors: dict[str, Annotated[list[Any], Field(min_length=1)]] = {}
    points: list[dict[str, Any]] | None = None
    replications: Annotated[int, Field(ge=1, le=100_000)] | Literal["auto"] = 10
    precision: Precision | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    chunk: Annotated[int, Field(ge=1, le=1000)] = 5  # replications per task
    kpis: list[str] = Field(default_factory=lambda: list(HEADLINE_FIGURES))
    sets: list[str] = []  # --set overrides applied to the base for every point

    @field_validator("kpis")
    @classmethod
    def _known_kpis(cls, v):
        return _known(v)


def _known(kpis: list[str], what: str = "names of KPIs") -> list[str]:
    unknown = [k for k in kpis if k not in KPI_NAMES]
    if unknown:
        raise ValueError(f"{what} from docs/kpis.md (unknown: {', '.join(unknown)})")
    return kpis


@dataclass
class Point:
    index: int
    values: dict[str, Any]  # factor → value
    scenario: Any  # the resolved, validated Scenario

    def label(self) -> str:
        return ", ".join(f"{k}={_text(v)}" for k, v in self.values.items()) or "the base scenario"


@dataclass
class Experiment:
    spec: ExperimentSpec
    path: Path
    points: list[Point]

    @property
    def factors(self) -> list[str]:
        return list(self.points[0].values) if self.points else []


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def experiment_path(name: str | Path) -> Path:
    """A file, or the name of an experiment shipped with simcenter (`reform_factorial`)."""
    path = Path(name)
    stem = str(name).removesuffix(".yaml")
    if path.exists() or "/" in stem or "\\" in stem:
        return path
    shipped = _shipped_dir() / f"{stem}.yaml"
    return shipped if shipped.is_file() else path


def _shipped_dir() -> Path:
    """The installed package data, else the source checkout's experiments/ (an editable install)."""
    import importlib.resources

    try:
        return Path(str(importlib.resources.files("simcenter.experiments")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "experiments"


def load_experiment(path: str | Path, extra_sets: list[str] | tuple[str, ...] = ()) -> Experiment:
    """Read and validate an experiment and every point of its design (ScenarioError if any is bad).
    `extra_sets` (`--set KEY=VALUE`) change the experiment's keys of SETTABLE, else the base scenario."""
    path = experiment_path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError([problem((file, 1, 1), (), "a readable experiment file", str(e))]) from None
    data, marks = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise ScenarioError([problem((file, 1, 1), (), "a mapping of experiment keys", data)])
    extra_sets = _apply_experiment_sets(data, marks, list(extra_sets))
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as e:
        errors = _one_per_union(e.errors())
        raise ScenarioError(sorted({pydantic_problem(err, {}, marks, file) for err in most_specific(errors, marks)},
                                   key=line_order)) from None
    problems = _design_problems(spec, marks, file)
    if problems:
        raise ScenarioError(problems)
    base = _base_path(spec.base, path)
    base_document = read_document(base)  # once: every point starts from a copy
    points, problems = [], []
    for index, (values, where) in enumerate(_design(spec)):
        try:
            points.append(Point(index, values, _resolve(spec, base, base_document, values, where, marks, file,
                                                        list(extra_sets))))
        except ScenarioError as e:
            label = ", ".join(f"{k}={_text(v)}" for k, v in values.items())
            problems.extend(f"{line} [point {index}: {label}]" for line in e.problems)
    if problems:
        raise ScenarioError(problems)
    return Experiment(spec, path, points)


def _one_per_union(errors: list[dict]) -> list[dict]:
    """`replications: int | "auto"` errs in both branches: keep the number's (its loc names no branch)."""
    numbers = {err["loc"][:1] for err in errors if len(err["loc"]) > 1 and str(err["loc"][1]).startswith("constrained-")}
    kept = [err for err in errors if not (err["type"] == "literal_error" and err["loc"][:1] in numbers)]
    return [{**err, "loc": tuple(p for p in err["loc"] if not str(p).startswith("constrained-"))} for err in kept]


def _apply_experiment_sets(data: dict, marks: dict, sets: list[str]) -> list[str]:
    """Apply the `--set`s of experiment keys to the experiment (located as `<--set>:N`); the rest,
    for the base scenario."""
    from .scenario.schema import Scenario

    rest, problems = [], []
    for n, text in enumerate(sets, start=1):
        key, _, value_text = text.partition("=")
        path = tuple(key.strip().split("."))
        if path[0] in SETTABLE:
            _set(data, path, parse_yaml(value_text, SET_SOURCE)[0] if value_text.strip() else None)
            marks[path] = (SET_SOURCE, n, len(key) + 2)
        elif path[0] in ExperimentSpec.model_fields and path[0] not in Scenario.model_fields:
            problems.append(problem((SET_SOURCE, n, 1), key.strip(), "a key of the base scenario or one of the "
                                    f"experiment's {', '.join(SETTABLE)}", text))
        else:
            rest.append(text)
    if problems:
        raise ScenarioError(problems)
    return rest


def _set(data: dict, path: tuple[str, ...], value) -> None:
    for part in path[:-1]:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    data[path[-1]] = value


def _base_path(base: str, experiment: Path) -> Path:
    relative = experiment.parent / base
    return relative if relative.exists() else scenario_path(base)


def _design_problems(spec: ExperimentSpec, marks, file) -> list[str]:
    out = []
    size = len(spec.points or []) if spec.design == "points" else math.prod(len(v) for v in spec.factors.values())
    if size > MAX_POINTS:
        key = "points" if spec.design == "points" else "factors"
        out.append(problem(marks.get((key,), (file, 1, 1)), key, f"at most {MAX_POINTS} points", size))
        return out  # the design's other checks would read every point
    if spec.design == "points" and not spec.points:
        out.append(problem(marks.get(("design",), (file, 1, 1)), "points", "a list of points for design: points", None))
    if spec.design == "points" and spec.points:
        first = list(spec.points[0])
        for i, point in enumerate(spec.points[1:], start=1):
            if list(point) != first:
                out.append(problem(marks[("points", str(i))], ("points", str(i)),
                                   f"the same factors, in the same order, as point 0 ({', '.join(first)})", list(point)))
    if spec.design != "points" and spec.points is not None:
        out.append(problem(marks[("points",)], "points", "points only with design: points", spec.design))
    if spec.design == "factorial":
        for key, levels in spec.factors.items():
            if len(levels) != 2:
                out.append(problem(marks[("factors", key)], ("factors", key), "two levels (low, high) in a factorial", levels))
    if spec.replications == "auto" and spec.precision is None:
        out.append(problem(marks[("replications",)], "replications", "a precision: section with replications: auto", "auto"))
    return out


def _design(spec: ExperimentSpec):
    """(factor values, where each value is in the file) for every point, in a fixed order."""
    if spec.design == "points":
        for i, point in enumerate(spec.points):
            yield dict(point), {k: ("points", str(i), k) for k in point}
        return
    keys = list(spec.factors)
    for combo in itertools.product(*(range(len(spec.factors[k])) for k in keys)):
        yield ({k: spec.factors[k][j] for k, j in zip(keys, combo)},
               {k: ("factors", k, str(j)) for k, j in zip(keys, combo)})


_LEVER = re.compile(r"^reforms\.([a-z_]+)(?:\.(.+))?$")


def _resolve(spec, base: Path, base_document, values: dict, where: dict, marks, file, extra_sets: list[str]):
    """The point's scenario: the base, the experiment's sets, its dotted keys, then its levers."""
    import copy

    from .reforms import LEVERS

    data, base_marks = copy.deepcopy(base_document)
    levers: dict[str, dict] = {}
    sets: list[tuple[str, tuple | None]] = [(s, None) for s in [*spec.sets, *extra_sets]]
    if spec.seed is not None:
        sets.append((f"seed={spec.seed}", ("seed",)))
    for key, value in values.items():
        lever = _LEVER.match(key)
        if lever is None:
            sets.append((f"{key}={json.dumps(value)}", where[key]))
            continue
        name, param = lever.groups()
        if name not in LEVERS:
            raise ScenarioError([problem(marks.get(where[key][:2], (file, 1, 1)), where[key][:2],
                                         f"a reform lever ({', '.join(LEVERS)})", name)])
        if param is None:
            if value in (OFF, None, False):
                continue
            levers.setdefault(name, {}).update({} if value in (ON, True) else value)
        else:  # a parameter, maybe nested (reforms.staffing.add_windows.G1)
            target = levers.setdefault(name, {})
            *parents, last = param.split(".")
            for part in parents:
                target = target.setdefault(part, {})
            target[last] = value
    if levers:
        listed = list(data.get("reforms") or []) + [{n: p} for n, p in levers.items()]
        sets.append((f"reforms={json.dumps(listed)}", "levers"))
    from .scenario.load import apply_sets

    try:
        apply_sets(data, base_marks, [s for s, _ in sets])
        return resolve(data, base_marks, str(base))
    except ScenarioError as e:
        raise ScenarioError([_relocate(line, sets, where, values, marks, file) for line in e.problems]) from None


def _relocate(line: str, sets, where, values, marks, file) -> str:
    """A `<--set>:N` problem points at the factor value in the experiment file instead."""
    if not line.startswith(SET_SOURCE + ":"):
        return line
    n = int(line.split(":")[1])
    origin = sets[n - 1][1]
    rest = line.split(":", 3)[3]
    if origin is None:
        return line
    if origin == "levers":  # a lever parameter: point at the first lever factor of the point
        origin = next((where[k] for k in values if k.startswith("reforms.")), ("factors",))
    mark = marks.get(tuple(origin), marks.get(tuple(origin[:2]), (file, 1, 1)))
    return f"{mark[0]}:{mark[1]}:{mark[2]}:{rest}"


# --------------------------------------------------------------------------- factorial effects


def factorial_effects(rows: list[dict], factors: list[str], kpi: str, levels: dict[str, list] | None = None) -> list[dict]:
    """Main effects and interactions of a 2^k factorial, with a t interval over replications.

    Levels are coded −1 (first listed) and +1 (second). The effect of a set S of factors is the
    mean response where the product of their codes is +1 minus where it is −1, i.e.
    2/2^k · Σ_points sign_S · y; computed within each replication (every point of a
    replication meets the same citizens), then a Student t interval over the replications.
    """
    from .stats import t_interval

    if levels is None:  # as they first appear (a sweep's point 0 is all-low)
        levels = {}
        for f in factors:
            levels[f] = list(dict.fromkeys(r[f] for r in rows))
    by_rep: dict[int, list[dict]] = {}
    for r in rows:
        by_rep.setdefault(r["replication"], []).append(r)
    k = len(factors)
    out = []
    for size in range(1, k + 1):
        for subset in itertools.combinations(factors, size):
            per_rep = []
            for rep_rows in by_rep.values():
                if len(rep_rows) != 2**k:
                    continue
                total = 0.0
                for r in rep_rows:
                    sign = 1
                    for f in subset:
                        sign *= 1 if levels[f].index(r[f]) == 1 else -1
                    total += sign * r[kpi]
                per_rep.append(total * 2 / 2**k)
            mean, low, high, n = t_interval(per_rep)
            out.append({"kpi": kpi, "effect": " × ".join(subset), "order": size, "estimate": mean,
                        "ci_low": low, "ci_high": high, "n": n})
    return out
