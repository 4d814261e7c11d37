"""The fewest windows and township reviewers that meet service targets, township by township.

A target is a bound on a township KPI (`wait_p90<=15`, `served_within_15_share>=0.9`). A
staffing meets it only if the far end of the KPI's 95% Student-t interval over replications
is inside the bound (the upper end for `<=`, the lower end for `>=`): a candidate whose mean
meets a target by less than the simulation's noise is not taken.

Every candidate runs the same replications with the same seed (common random numbers: a
township's streams are keyed by replication and township, not by its staff). Window waits of
a township depend only on its own windows, so each round is ONE county run holding every
township's current candidate. Windows decide the hall targets (waits, abandonment, window
utilisation), township reviewers the back-office targets (lead and decision times, on-time
rate, reviewer utilisation, files); a dimension no target depends on is left as it is.

Windows: while the hall targets fail, the group with the longest mean wait gets more windows
(twice as many when its windows are busy at least SATURATED of the open time, else one more);
once they hold, each group in turn (most slack first) is bisected down between its too-few count
(0, or the count it last grew from) and its count that holds. Reviewers: doubled until
the back-office targets hold, then bisected on a grid of REVIEWER_STEP. A final county run with
every township's result checks them together; a township failing there grows again (without
shrinking) until that run holds. The staffing reported is always the last one run.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

REVIEWER_STEP = 0.5  # reviewer posts are searched on this grid (fractional posts: part-time reviewers)
SATURATED = 0.9  # a group whose windows are busy this share of the open time gets twice as many
MAX_WINDOWS = 200  # per group: beyond it a township is reported as not meeting its targets
MAX_REVIEWERS = 200.0
MAX_ROUNDS = 60  # county runs
MAX_RESTARTS = 3  # regrowths of a township after a failing joint run
DECISION_RULE = ("a target is met only when the far end of its 95% Student-t interval over the replications "
                 "is inside the bound (upper end for <=, lower end for >=)")

HALL_KPIS = ("wait_mean", "wait_p50", "wait_p90", "wait_p95", "wait_max", "served_within_15_share",
             "wait_over_15_share", "wait_over_30_share", "wait_p90_first_hour", "wait_p90_market_morning",
             "wait_mean_queued", "time_in_centre_mean", "abandon_share", "balk_share", "renege_share",
             "sent_home_share", "window_utilization_mean", "window_utilization_max")
BACK_OFFICE_KPIS = ("lead_days_mean", "lead_days_p90", "decision_days_mean", "on_time_rate",
                    "township_reviewer_utilization_mean", "township_reviewer_utilization_max",
                    "township_files_in_progress_mean", "township_files_waiting_mean")


class TargetError(ValueError):
    """A --target that cannot be searched for (one line)."""


@dataclass(frozen=True)
class Target:
    kpi: str
    op: str  # "<=" or ">="
    value: float

    def __str__(self) -> str:
        return f"{self.kpi}{self.op}{self.value:g}"

    @property
    def hall(self) -> bool:
        return self.kpi in HALL_KPIS

    def met(self, low: float, high: float) -> bool:
        """The decision rule: the interval's far end inside the bound (NaN: not met)."""
        bound = high if self.op == "<=" else low
        return bool(math.isfinite(bound) and (bound <= self.value if self.op == "<=" else bound >= self.value))


def parse_target(text: str) -> Target:
    """`KPI<=VALUE` or `KPI>=VALUE` on a township KPI that more staff improve; TargetError otherwise."""
    from .kpis import CATALOGUE

    found = re.fullmatch(r"\s*([A-Za-z0-9_]+)\s*(<=|>=)\s*(\S+)\s*", text)
    if not found:
        raise TargetError(f"--target {text}: expected KPI<=VALUE or KPI>=VALUE, e.g. wait_p90<=15 (got {text!r})")
    name, op, raw = found.groups()
    known = HALL_KPIS + BACK_OFFICE_KPIS
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}?" if close else f"one of {', '.join(known)}"
        raise TargetError(f"--target {text}: a township KPI that staff improve; {hint} (got {name})")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise TargetError(f"--target {text}: VALUE a finite number (got {raw})")
    better = ">=" if CATALOGUE[name].higher_is_better else "<="
    if op != better:
        raise TargetError(f"--target {text}: more staff {'raise' if better == '>=' else 'lower'} {name}, "
                          f"so a target {name}{better}VALUE (got {op})")
    if CATALOGUE[name].unit == "share" and "utilization" not in name and not 0 <= value <= 1:
        raise TargetError(f"--target {text}: a share between 0 and 1 (got {raw})")
    return Target(name, op, value)


def parse_targets(texts) -> list[Target]:
    """Every target; TargetError with one line per bad one (lines joined by newlines)."""
    targets, problems = [], []
    for text in texts:
        try:
            targets.append(parse_target(text))
        except TargetError as e:
            problems.append(str(e))
    if problems:
        raise TargetError("\n".join(problems))
    return targets


# --------------------------------------------------------------------------- one replication


def evaluate(scenario, replication: int) -> tuple[list[dict], list[dict]]:
    """Task: one replication: (township KPI rows, each township's window groups' load and waits)."""
    from . import kpis
    from .model import simulate

    records = simulate(scenario, replication)
    _, towns = kpis.compute(records)
    return towns, group_rows(records)


def group_rows(records) -> list[dict]:
    """Per township and window group with windows: the mean wait of the visits it served (arrived in
    the measurement window) and its utilisation (their window time / the on-duty windows' open time)."""
    from .model.records import SERVED

    meta, v = records.meta, records.visits
    start, end = meta.warmup_end, meta.arrivals_end
    served = v["outcome"] == SERVED
    arrived = served & (v["arrive"] >= start) & (v["arrive"] < end)
    called = served & (v["called"] >= start) & (v["called"] < end)  # by service start: an overloaded queue lags
    rows = []
    for t, town in enumerate(meta.townships):
        windows = np.asarray(records.windows[t], dtype=np.int64)
        here = v["township"] == t
        waited, worked = arrived & here, called & here
        wait, wait_group = v["called"][waited] - v["arrive"][waited], windows[v["window"][waited]]
        work, work_group = v["done"][worked] - v["called"][worked], windows[v["window"][worked]]
        duty = [1.0 if d is None else d for d in meta.window_duty[t]]
        for g in sorted(set(windows.tolist())):
            on_duty = sum(d for w, d in zip(windows.tolist(), duty) if w == g) * meta.open_minutes
            mine = wait[wait_group == g]
            rows.append({"township": town, "group": meta.groups[g],
                         "wait_mean": float(mine.mean()) if len(mine) else 0.0,
                         "utilization": float(work[work_group == g].sum()) / on_duty if on_duty > 0 else 0.0})
    return rows


@dataclass
class Evaluation:
    """One township in one county run: each target KPI's (mean, low, high, n) and its groups' load."""

    kpis: dict[str, tuple[float, float, float, int]]
    groups: dict[str, dict[str, float]]  # group → mean over replications of wait_mean, utilization

    def met(self, targets) -> dict[Target, bool]:
        return {t: t.met(*self.kpis[t.kpi][1:3]) for t in targets}


def summarize(replications: list[tuple[list[dict], list[dict]]], targets) -> dict[str, Evaluation]:
    """The replications of one county run → an Evaluation per township."""
    from .stats import t_interval

    names = list(dict.fromkeys(t.kpi for t in targets))
    towns = [row["township"] for row in replications[0][0]]
    out = {}
    for town in towns:
        rows = [row for reps, _ in replications for row in reps if row["township"] == town]
        groups = [row for _, gs in replications for row in gs if row["township"] == town]
        by_group = {}
        for g in dict.fromkeys(row["group"] for row in groups):
            mine = [row for row in groups if row["group"] == g]
            by_group[g] = {k: float(np.mean([row[k] for row in mine])) for k in ("wait_mean", "utilization")}
        out[town] = Evaluation({k: t_interval([row[k] for row in rows]) for k in names}, by_group)
    return out


# --------------------------------------------------------------------------- the search of one township


@dataclass
class WindowSearch:
    """A township's windows: grow the worst group until the hall targets hold, then bisect each group down."""

    windows: dict[str, int]  # the candidate
    grow_only: bool = False  # after a failing joint run: grow until it holds, shrink nothing
    best: dict[str, int] | None = None  # the last candidate that held
    too_few: dict[str, int] = field(default_factory=dict)  # per group: a count known to be too few
    order: list[str] = field(default_factory=list)  # groups still to bisect, the current first
    done: bool = False
    gave_up: bool = False

    def step(self, met: bool, evaluation: Evaluation, targets) -> None:
        if self.best is None and not met:
            return self._grow(evaluation, targets)
        if self.best is None:  # the first that holds: bisect each group down, most slack first
            self.best = dict(self.windows)
            slack = sorted(evaluation.groups, key=lambda g: (evaluation.groups[g]["utilization"], g))
            self.order = [] if self.grow_only else [g for g in slack if self.windows.get(g, 0) > 0]
        elif met:
            self.best = dict(self.windows)
        else:
            self.too_few[self.order[0]] = self.windows[self.order[0]]
        self._next()

    def _grow(self, evaluation: Evaluation, targets) -> None:
        by_use = all(not t.hall or "utilization" in t.kpi for t in targets)
        open_groups = [g for g in evaluation.groups if self.windows.get(g, 0) > 0]
        worst = max(open_groups, key=lambda g: (
            (evaluation.groups[g]["utilization"],) if by_use else
            (evaluation.groups[g]["wait_mean"], evaluation.groups[g]["utilization"])))
        n = self.windows[worst]
        self.too_few[worst] = n  # the count a group grows from is taken as too few when bisecting it
        n = 2 * n if evaluation.groups[worst]["utilization"] >= SATURATED else n + 1
        if n > MAX_WINDOWS:
            self.done = self.gave_up = True
            return
        self.windows = {**self.windows, worst: n}

    def _next(self) -> None:
        while self.order:
            g = self.order[0]
            low, high = self.too_few.get(g, 0), self.best[g]
            if high - low > 1:
                self.windows = {**self.best, g: (low + high) // 2}
                return
            self.order.pop(0)
        self.windows = dict(self.best)
        self.done = True


@dataclass
class ReviewerSearch:
    """A township's reviewers: doubled until the back-office targets hold, then bisected on the grid."""

    reviewers: float  # the candidate
    grow_only: bool = False
    best: float | None = None
    too_few: float = 0.0
    done: bool = False
    gave_up: bool = False

    def step(self, met: bool) -> None:
        if met:
            self.best = self.reviewers
        elif self.best is None:
            self.too_few = self.reviewers
            grown = math.ceil(2 * max(self.reviewers, REVIEWER_STEP / 2) / REVIEWER_STEP) * REVIEWER_STEP
            if grown > MAX_REVIEWERS:
                self.done = self.gave_up = True
            else:
                self.reviewers = grown
            return
        else:
            self.too_few = self.reviewers
        first = math.floor(self.too_few / REVIEWER_STEP + 1e-9) + 1  # grid points strictly between
        last = math.ceil(self.best / REVIEWER_STEP - 1e-9) - 1
        if self.grow_only or first > last:
            self.reviewers, self.done = self.best, True
        else:
            self.reviewers = (first + last) // 2 * REVIEWER_STEP


@dataclass
class TownshipSearch:
    township: str
    windows_before: dict[str, int]
    reviewers_before: float
    windows: WindowSearch | None  # None: no hall target
    reviewers: ReviewerSearch | None  # None: no back-office target
    restarts: int = 0

    @property
    def candidate(self) -> tuple[dict[str, int], float]:
        return (self.windows.windows if self.windows else self.windows_before,
                self.reviewers.reviewers if self.reviewers else self.reviewers_before)

    @property
    def done(self) -> bool:
        return all(s is None or s.done for s in (self.windows, self.reviewers))

    @property
    def gave_up(self) -> bool:
        return any(s is not None and s.gave_up for s in (self.windows, self.reviewers))

    def step(self, evaluation: Evaluation, targets) -> None:
        met = evaluation.met(targets)
        if self.windows and not self.windows.done:
            self.windows.step(all(ok for t, ok in met.items() if t.hall), evaluation, targets)
        if self.reviewers and not self.reviewers.done:
            self.reviewers.step(all(ok for t, ok in met.items() if not t.hall))

    def regrow(self, evaluation: Evaluation, targets) -> None:
        """The joint run failed a target that held in the search: grow the failing side, shrink nothing."""
        self.restarts += 1
        windows, reviewers = self.candidate
        failing = [t for t, ok in evaluation.met(targets).items() if not ok]
        if any(t.hall for t in failing):
            self.windows = WindowSearch(dict(windows), grow_only=True)
        if any(not t.hall for t in failing):
            self.reviewers = ReviewerSearch(reviewers, grow_only=True)
        self.step(evaluation, targets)


def start(scenario, township: str, targets) -> TownshipSearch:
    town = scenario.townships[township]
    windows = {g: n for g, n in town.windows.items()}
    return TownshipSearch(township, windows, town.reviewers,
                          WindowSearch(dict(windows)) if any(t.hall for t in targets) else None,
                          ReviewerSearch(town.reviewers) if town.reviewers > 0 and any(not t.hall for t in targets)
                          else None)  # no reviewers: no township-decided items, nothing to staff


def staffed(scenario, config: dict[str, tuple[dict[str, int], float]]):
    """The scenario with these townships' windows and reviewers (a new validated Scenario)."""
    from .scenario.schema import Scenario

    data = scenario.model_dump(mode="json")
    for town, (windows, reviewers) in config.items():
        data["townships"][town]["windows"] = dict(windows)
        data["townships"][town]["reviewers"] = reviewers
    return Scenario.model_validate(data)


# --------------------------------------------------------------------------- the entry point


@dataclass
class StaffingResult:
    scenario: object  # the scenario searched
    staffed: object  # the scenario with the staffing found (the last one run)
    targets: list[Target]
    searches: list[TownshipSearch]
    final: dict[str, Evaluation]  # the last county run, township by township
    candidates: list[dict]  # every candidate evaluated: staffing_search.csv
    replications: int
    runs: int  # county runs
    executor: str = ""

    def met(self, township: str) -> dict[Target, bool]:
        return self.final[township].met(self.targets)

    def rows(self) -> list[dict]:
        """staffing.csv: one row per township × window group."""
        out = []
        for s in self.searches:
            windows, reviewers = s.candidate
            for group, before in s.windows_before.items():
                row = {"township": s.township, "group": group, "windows_before": before,
                       "windows": windows.get(group, 0), "reviewers_before": s.reviewers_before,
                       "reviewers": reviewers}
                out.append({**row, **_kpi_columns(self.final[s.township], self.targets)})
        return out


def _kpi_columns(evaluation: Evaluation, targets) -> dict:
    out = {}
    for name in dict.fromkeys(t.kpi for t in targets):
        mean, low, high, _ = evaluation.kpis[name]
        out.update({f"{name}_mean": mean, f"{name}_ci_low": low, f"{name}_ci_high": high})
    return out


def search(scenario, targets: list[Target], townships: list[str] | None = None, replications: int = 10,
           jobs: int = 1, scheduler: str | None = None,
           say: Callable[[str], None] = lambda message: None, progress=None) -> StaffingResult:
    """The fewest windows and reviewers meeting every target in each township (all townships with
    cases by default), every candidate run with `replications` replications of the scenario's seed.
    `progress` (a simcenter.progress.Progress) is started as each county run starts and counts its replications."""
    from .execution import open_executor

    chosen = townships or [t for t, town in scenario.townships.items() if town.cases_per_day > 0]
    searches = [start(scenario, t, targets) for t in chosen]
    candidates: list[dict] = []
    last_config, evaluation, runs = None, {}, 0
    with open_executor(jobs, scheduler, tasks=replications) as engine:
        while True:
            config = {s.township: s.candidate for s in searches}
            if config != last_config:
                if runs == MAX_ROUNDS:
                    say(f"stopped after {runs} county runs: the staffing shown is the last one run")
                    break
                runs += 1
                searching = sum(not s.done for s in searches)
                say(f"county run {runs}: {searching or 'no'} township{'s' if searching != 1 else ''} still "
                    f"searching, {replications} replications")
                tasks = [(staffed(scenario, config), r) for r in range(replications)]
                if progress:
                    progress.start(replications)
                evaluation = summarize(list(engine.map_ordered(evaluate, tasks, progress)), targets)
                candidates += [_candidate(runs, s, config, evaluation, targets) for s in searches]
                last_config = config
            if all(s.done for s in searches):
                failing = [s for s in searches if not s.gave_up and s.restarts < MAX_RESTARTS
                           and not all(evaluation[s.township].met(targets).values())]
                if not failing:
                    break
                for s in failing:
                    s.regrow(evaluation[s.township], targets)
                continue
            for s in searches:
                if not s.done:
                    s.step(evaluation[s.township], targets)
        name = engine.name
    return StaffingResult(scenario, staffed(scenario, last_config), targets, searches, evaluation, candidates,
                          replications, runs, name)


def _candidate(run: int, s: TownshipSearch, config, evaluation: dict[str, Evaluation], targets) -> dict:
    windows, reviewers = config[s.township]
    met = evaluation[s.township].met(targets)
    return {"run": run, "township": s.township,
            "windows": " ".join(f"{g}={n}" for g, n in windows.items()), "windows_total": sum(windows.values()),
            "reviewers": reviewers, **_kpi_columns(evaluation[s.township], targets), "met": all(met.values())}


def write(out, result: StaffingResult, argv, warnings: list[str] | None = None) -> None:
    """staffing.csv, staffing_search.csv, scenario.staffed.yaml, then manifest.json (last)."""
    import json

    import pandas as pd

    from .results import manifest, resolved_yaml, write_table, write_text

    write_table(out / "staffing.csv", pd.DataFrame(result.rows()))
    write_table(out / "staffing_search.csv", pd.DataFrame(result.candidates))
    write_text(out / "scenario.staffed.yaml", resolved_yaml(result.staffed))
    extra = {
        "command": "staff",
        "targets": [str(t) for t in result.targets],
        "decision_rule": DECISION_RULE,
        "common_random_numbers": f"every candidate runs replications 0..{result.replications - 1} with seed "
                                 f"{result.scenario.seed}",
        "reviewer_step": REVIEWER_STEP,
        "county_runs": result.runs,
        "townships": {s.township: {"met": all(result.met(s.township).values()), "gave_up": s.gave_up}
                      for s in result.searches},
    }
    write_text(out / "manifest.json", json.dumps(
        manifest([result.scenario], argv, result.replications, result.executor, extra, warnings), indent=2) + "\n")
