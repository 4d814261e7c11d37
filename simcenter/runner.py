"""Replications over a concurrent.futures Executor (in-process for one job, else a process pool).

A task is one replication of one scenario; it returns KPI rows, not records, so the parent
stays small. Results come back in the order the tasks were given (by scenario, then
replication), so they do not depend on the number of jobs or on the order in which workers
finish.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from collections.abc import Callable

from . import kpis
from .model import simulate


@dataclass
class RunResult:
    scenario: object
    kpis: list[dict] = field(default_factory=list)  # one row per replication
    by_township: list[dict] = field(default_factory=list)  # one row per replication × township
    records: list = field(default_factory=list)  # per replication, with keep_records
    tables: dict[str, list[dict]] = field(default_factory=dict)  # kpis.detail_tables, with scenario and replication


def replicate(scenario, replication: int, keep_records: bool = False, details: bool = True):
    """Task: one replication → (replication, county KPIs, township KPIs, records or None, detail tables)."""
    records = simulate(scenario, replication)
    county, towns = kpis.compute(records, scenario.staffing)
    tables = kpis.detail_tables(records) if details else {}
    return replication, county, towns, records if keep_records else None, tables


def local_executor(jobs: int) -> Executor:
    """A process pool that does not fork a running interpreter (forkserver where available)."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method))


def run(scenario, replications: int | None = None, jobs: int = 1, keep_records: bool = False,
        progress: Callable[[int], None] | None = None) -> RunResult:
    """Run replications 0..n-1 of a validated scenario."""
    n = replications or scenario.replications
    done = run_tasks([(scenario, r) for r in range(n)], jobs, keep_records, progress)
    return _assemble(scenario, done)


def run_tasks(tasks: list[tuple[object, int]], jobs: int = 1, keep_records: bool = False,
              progress: Callable[[int], None] | None = None) -> list[tuple]:
    """Run (scenario, replication) tasks on one executor; the results come in the order of `tasks`.

    One job runs them in-process; more share one process pool (0 = one per core), so a
    comparison of several scenarios keeps every worker busy until the last task.
    """
    jobs = os.cpu_count() or 1 if jobs == 0 else jobs
    if jobs == 1 or len(tasks) <= 1:
        done = []
        for scenario, r in tasks:
            done.append(replicate(scenario, r, keep_records))
            if progress:
                progress(1)
        return done
    results: list = [None] * len(tasks)
    pool = local_executor(min(jobs, len(tasks)))
    try:
        futures = {pool.submit(replicate, scenario, r, keep_records): i for i, (scenario, r) in enumerate(tasks)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress:
                progress(1)
    finally:  # on Ctrl-C or a failure, do not start the replications still waiting
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _assemble(scenario, done) -> RunResult:
    result = RunResult(scenario)
    for replication, county, towns, records, tables in done:
        key = {"scenario": scenario.name, "replication": replication}
        result.kpis.append({**key, **county})
        result.by_township.extend({**key, **t} for t in towns)
        for name, rows in tables.items():
            result.tables.setdefault(name, []).extend({**key, **row} for row in rows)
        if records is not None:
            result.records.append(records)
    return result
