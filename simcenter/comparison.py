"""Reforms against a baseline with common random numbers (CRN) and paired-t intervals.

Every scenario runs replications 0..n-1 with the same base seed, so replication r of each
scenario meets the same citizens (a case's item, documents, window time, patience and
return delays are drawn when the case is created, from streams keyed by the replication).
The difference reform − baseline is then taken replication by replication, and its
t interval is over those paired differences: much narrower than comparing two independent
means, because the noise both runs share cancels. With k reforms each interval is at level
1 − 0.05/k (Bonferroni), so that all k intervals of a KPI hold together with 95% confidence.

Only the standard library is imported at the top: `simcenter` re-exports `compare`, and
`simcenter --help` must stay fast.
"""

from __future__ import annotations

import importlib.resources
import math
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterable

from .layout import COMPARISON_COLUMNS, file_stem  # noqa: F401 - COMPARISON_COLUMNS: re-exported


# The reforms a planner asks about first, compared by `simcenter compare` with no scenario named:
# full empowerment, unified windows and the full package, a few replications of a full year each.
HEADLINE = ("s1_full_empowerment", "s2_unified_windows", "s6_full_package")
HEADLINE_REPLICATIONS = 3


def library() -> list[str]:
    """The names of the shipped scenarios other than the baseline, sorted by file name."""
    folder = importlib.resources.files("simcenter.scenarios")
    files = sorted(p.name for p in folder.iterdir() if p.name.endswith(".yaml") and p.is_file())
    return [f[: -len(".yaml")] for f in files if f != "baseline.yaml"]


def shipped(name: str) -> Path:
    """The path of a shipped scenario (not a same-named file in the working directory)."""
    from .scenario.load import packaged_scenario

    path = packaged_scenario(name)
    if path is None:
        raise LookupError(f"no shipped scenario named {name!r}")
    return path


@dataclass
class Comparison:
    """Everything a comparison produced; rows are plain dicts (NaN where a KPI is undefined)."""

    scenarios: list  # validated Scenario objects, baseline first, all with the same seed
    replications: int
    seed: int
    level: float  # the level of each paired interval (Bonferroni-adjusted)
    method: str  # one sentence stating how the intervals were made
    kpis: list[dict] = field(default_factory=list)  # scenario × replication
    by_township: list[dict] = field(default_factory=list)  # scenario × replication × township
    tables: dict[str, list[dict]] = field(default_factory=dict)  # detail tables (by hour, waits, trips)
    summary: list[dict] = field(default_factory=list)  # scenario × KPI: mean, 95% CI, n
    comparison: list[dict] = field(default_factory=list)  # reform × KPI: paired difference
    executor: str = ""  # the engine's name, for the manifest

    @property
    def baseline(self) -> str:
        return self.scenarios[0].name

    @property
    def reforms(self) -> list[str]:
        return [s.name for s in self.scenarios[1:]]


def method_text(replications: int, reforms: int, level: float) -> str:
    if reforms == 0:
        return f"mean over {replications} replications; no reform to compare with the baseline"
    return (f"paired-t intervals over {replications} replications with common random numbers, "
            f"Bonferroni-adjusted for {reforms} reform{'s' if reforms != 1 else ''} (each at level {level:.4g})")


def load(baseline, reforms: Iterable = (), sets: Iterable[str] = (), replications: int | None = None,
         seed: int | None = None) -> list:
    """Validated scenarios, baseline first, all forced to the baseline's seed and replications.

    Each of `baseline` and `reforms` is a Scenario, a file path or the name of a shipped
    scenario; `sets` apply to every scenario read from a file. `replications` and `seed`
    override the baseline's. Raises ScenarioError with every problem of every scenario, or
    one line when two scenarios have the same name.
    """
    from .scenario import ScenarioError

    reforms, sets = list(reforms), list(sets)
    problems: list[str] = []
    first = _load_one(baseline, sets, {"replications": replications, "seed": seed}, problems)
    common = {"replications": first.replications, "seed": first.seed} if first is not None else {}
    loaded = [first] + [_load_one(r, sets, common, problems) for r in reforms]
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))  # a bad --set is reported once, not per scenario
    _refuse_same_names(loaded, [baseline, *reforms])
    return loaded


def _load_one(source, sets: list[str], overrides: dict, problems: list[str]):
    """One scenario with `overrides` (replications, seed; None = keep) applied after `sets`."""
    from .resolve import ScenarioError, load_scenario

    overrides = {k: v for k, v in overrides.items() if v is not None}
    if not isinstance(source, (str, Path)):  # already a validated Scenario
        return source.model_copy(update=overrides)
    try:
        return load_scenario(source, sets + [f"{k}={v}" for k, v in overrides.items()])
    except ScenarioError as e:
        problems.extend(e.problems)
        return None


def _refuse_same_names(scenarios, sources) -> None:
    from .scenario import ScenarioError

    seen: dict[str, int] = {}
    for i, scenario in enumerate(scenarios):
        key = file_stem(scenario.name).casefold()
        if key in seen:
            j = seen[key]
            a, b = _label(sources[j], j), _label(sources[i], i)
            what = "the name" if scenarios[j].name == scenario.name else "a name that makes the same file name as that"
            raise ScenarioError([f"{b}: name: a name of its own, since compared scenarios are told apart by name "
                                 f"(got {scenario.name!r}, {what} of {a})"])
        seen[key] = i


def _label(source, index: int) -> str:
    return str(source) if isinstance(source, (str, Path)) else f"<scenario {index + 1}>"


def compare(baseline, reforms: Iterable = (), replications: int | None = None, jobs: int = 1,
            seed: int | None = None, sets: Iterable[str] = (),
            progress: Callable[[int], None] | None = None, scheduler: str | None = None) -> Comparison:
    """Run a baseline and reforms with common random numbers and compare each reform with the baseline.

    `baseline` and `reforms` are Scenario objects, file paths or names of shipped scenarios.
    All (scenario, replication) tasks share one executor (`jobs` processes; 1 = in-process);
    or the Dask cluster at `scheduler`; the results do not depend on either.
    """
    from .runner import run_scenarios

    scenarios = load(baseline, reforms, sets, replications, seed)
    runs = run_scenarios(scenarios, scenarios[0].replications, jobs, progress=progress, scheduler=scheduler)
    result = analyse(scenarios, runs)
    result.executor = runs[0].executor
    return result


def analyse(scenarios, runs) -> Comparison:
    """Summaries and paired differences from the runs (RunResult per scenario, baseline first)."""
    from .kpis import KPI_NAMES
    from .stats import LEVEL, bonferroni_level, paired_interval, summarize

    k = len(scenarios) - 1
    n = scenarios[0].replications
    level = bonferroni_level(k, LEVEL)
    result = Comparison(scenarios, n, scenarios[0].seed, level, method_text(n, k, level))
    for run in runs:
        result.kpis.extend(run.kpis)
        result.by_township.extend(run.by_township)
        for name, rows in run.tables.items():
            result.tables.setdefault(name, []).extend(rows)
        result.summary.extend(summarize(run.kpis, KPI_NAMES))
    base = _by_replication(runs[0].kpis)
    for scenario, run in zip(scenarios[1:], runs[1:]):
        other = _by_replication(run.kpis)
        paired = sorted(set(base) & set(other))
        for kpi in KPI_NAMES:
            b = [float(base[r][kpi]) for r in paired]
            x = [float(other[r][kpi]) for r in paired]
            difference, low, high, count = paired_interval(x, b, level)
            both = [(xi, bi) for xi, bi in zip(x, b) if math.isfinite(xi) and math.isfinite(bi)]
            result.comparison.append({  # the two means are over the same pairs as the difference
                "baseline": scenarios[0].name, "reform": scenario.name, "kpi": kpi,
                "baseline_mean": _mean([bi for _, bi in both]), "reform_mean": _mean([xi for xi, _ in both]),
                "difference": difference, "ci_low": low, "ci_high": high, "n": count, "level": level,
                "significant": bool(low > 0 or high < 0),  # NaN bounds compare False: not significant
            })
    return result


def _by_replication(rows: list[dict]) -> dict[int, dict]:
    return {int(row["replication"]): row for row in rows}


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan
