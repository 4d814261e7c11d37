"""Replications of scenarios on the execution engine (simcenter.execution).

A task is one replication of one scenario; it returns KPI rows, not records, so the parent
stays small. Results are taken in the order the tasks were given (by scenario, then
replication), so they do not depend on the number of jobs or on the order in which workers
finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import kpis
from .execution import open_executor
from .model import simulate


@dataclass
class Replication:
    """What one replication of a scenario produced (the result of `replicate`)."""

    replication: int
    county: dict  # KPI → value
    townships: list[dict]  # one KPI row per township
    records: object | None = None  # the Records, with keep_records
    tables: dict[str, list[dict]] = field(default_factory=dict)  # kpis.detail_tables, with details


@dataclass
class RunResult:
    scenario: object
    kpis: list[dict] = field(default_factory=list)  # one row per replication
    by_township: list[dict] = field(default_factory=list)  # one row per replication × township
    records: list = field(default_factory=list)  # per replication, with keep_records
    tables: dict[str, list[dict]] = field(default_factory=dict)  # kpis.detail_tables, with scenario and replication
    executor: str = ""  # the engine's name, for the manifest

    def add(self, done: Replication) -> None:
        """Append a replication's rows, keyed by scenario and replication."""
        key = {"scenario": self.scenario.name, "replication": done.replication}
        self.kpis.append({**key, **done.county})
        self.by_township.extend({**key, **t} for t in done.townships)
        for name, rows in done.tables.items():
            self.tables.setdefault(name, []).extend({**key, **row} for row in rows)
        if done.records is not None:
            self.records.append(done.records)


def replicate(scenario, replication: int, keep_records: bool = False, details: bool = True) -> Replication:
    """Task: one replication of a scenario, with its records if `keep_records`, its detail tables if `details`."""
    records = simulate(scenario, replication)
    county, towns = kpis.compute(records, scenario)
    tables = kpis.detail_tables(records) if details else {}
    return Replication(replication, county, towns, records if keep_records else None, tables)


def run(scenario, replications: int | None = None, jobs: int = 1, keep_records: bool = False,
        progress: Callable[[int], None] | None = None, scheduler: str | None = None) -> RunResult:
    """Run replications 0..n-1 of a validated scenario."""
    (result,) = run_scenarios([scenario], replications or scenario.replications, jobs, keep_records, progress,
                              scheduler)
    return result


def run_scenarios(scenarios: list, replications: int, jobs: int = 1, keep_records: bool = False,
                  progress: Callable[[int], None] | None = None, scheduler: str | None = None) -> list[RunResult]:
    """Replications 0..n-1 of every scenario, all on one executor: a RunResult per scenario.

    One job runs them in-process; more share one process pool (0 = one per core), so a
    comparison of several scenarios keeps every worker busy until the last task; with a Dask
    `scheduler` address, they run on that cluster instead.
    """
    tasks = [(scenario, r, keep_records) for scenario in scenarios for r in range(replications)]
    with open_executor(jobs, scheduler, tasks=len(tasks)) as engine:
        results = [RunResult(scenario, executor=engine.name) for scenario in scenarios]
        for i, done in enumerate(engine.map_ordered(replicate, tasks, progress)):
            results[i // replications].add(done)
    return results
