"""Batch experiments: (point, chunk of replications) tasks on the execution engine (simcenter.execution).

In-process or local processes by default; a Dask distributed cluster with a scheduler address.
Each finished task is written at once, atomically, to a content-addressed shard:
shards/<hash of the resolved point, replication range, seed scheme, model version>.parquet, so
`--resume` recomputes nothing that finished and an interrupted sweep keeps what it did. The
final tables are assembled from the shards in (point, replication) order, so they are the same
bytes whatever the executor, the number of workers or the order tasks finished in.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from . import __version__
from .execution import open_executor

SHARDS = "shards"


@dataclass
class Task:
    point: int
    first: int  # replications first..last-1
    last: int
    key: str  # content address of the shard


@dataclass
class SweepOutcome:
    kpis: list[dict] = field(default_factory=list)  # point × replication: factors and the KPIs of interest
    summary: list[dict] = field(default_factory=list)  # point × KPI
    effects: list[dict] = field(default_factory=list)  # factorial designs
    failed: dict[int, str] = field(default_factory=dict)  # point → error
    computed: int = 0  # tasks run now
    reused: int = 0  # tasks found finished in the shards
    replications: dict[int, int] = field(default_factory=dict)  # point → replications run
    executor: str = ""
    versions: dict = field(default_factory=dict)


def run_chunk(scenario, first: int, last: int) -> list:
    """Task (runs on a worker): replications first..last-1, without detail tables → [Replication]."""
    from .runner import replicate

    return [replicate(scenario, r, details=False) for r in range(first, last)]


def task_key(scenario, first: int, last: int) -> str:
    from .model.streams import SEED_SCHEME
    from .results import scenario_sha256

    text = json.dumps([scenario_sha256(scenario), first, last, SEED_SCHEME, __version__])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


# --------------------------------------------------------------------------- the sweep


def run_sweep(experiment, out: Path, jobs: int = 1, scheduler: str | None = None, resume: bool = False,
              progress: Callable[[str, int, int], None] | None = None, say: Callable[[str], None] = lambda m: None
              ) -> SweepOutcome:
    """Run every point's replications (to precision if `replications: auto`), writing shards as they
    finish, then assemble the tables from the shards. Results are streamed to disk, never all held."""
    spec = experiment.spec
    shards = out / SHARDS
    shards.mkdir(parents=True, exist_ok=True)
    outcome = SweepOutcome()
    finished: dict[int, list[Task]] = {p.index: [] for p in experiment.points}
    watched: dict[int, dict[int, float]] = {p.index: {} for p in experiment.points}  # auto: the KPI by replication
    previous = _previous_index(out) if resume else {}
    planned = [(p, 0, spec.precision.min if spec.replications == "auto" else spec.replications)
               for p in experiment.points]
    with open_executor(jobs, scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")) as engine:
        outcome.executor, outcome.versions = engine.name, engine.versions
        while planned:
            tasks = [t for p, a, b in planned for t in _tasks(p, a, b, spec.chunk)]
            _explain_reruns(tasks, experiment, previous, shards, say)
            _run_tasks(engine, experiment, tasks, shards, finished, watched, outcome, progress)
            planned = _more_needed(experiment, watched, outcome) if spec.replications == "auto" else []
    for point, tasks in finished.items():
        outcome.replications[point] = sum(t.last - t.first for t in tasks)
    _write_index(out, experiment, outcome)
    _assemble(experiment, finished, shards, out, outcome)
    return outcome


def _tasks(point, first: int, last: int, chunk: int) -> list[Task]:
    return [Task(point.index, a, min(a + chunk, last), task_key(point.scenario, a, min(a + chunk, last)))
            for a in range(first, last, chunk)]


def _run_tasks(engine, experiment, tasks, shards: Path, finished, watched, outcome, progress) -> None:
    points, kpi = experiment.points, (experiment.spec.precision.kpi if experiment.spec.precision else None)

    def keep(task: Task, result) -> None:
        finished[task.point].append(task)
        if kpi:
            watched[task.point].update((done.replication, done.county[kpi]) for done in result)

    todo = []
    for task in tasks:
        if task.point in outcome.failed:
            continue
        shard = shards / f"{task.key}.parquet"
        if shard.exists():
            keep(task, _read_shard(shard) if kpi else [])
            outcome.reused += 1
        else:
            todo.append(task)
    total, done = len(tasks), len(tasks) - len(todo)
    if progress:
        progress("tasks", done, total)
    for index, future in engine.as_completed(run_chunk, [(points[t.point].scenario, t.first, t.last) for t in todo]):
        task = todo[index]
        try:
            result = future.result()
        except Exception as e:  # noqa: BLE001 - a failing point is reported, the rest go on
            outcome.failed[task.point] = f"{type(e).__name__}: {e}"
            continue
        _write_shard(shards / f"{task.key}.parquet", result)
        keep(task, result)
        outcome.computed += 1
        done += 1
        if progress:
            progress("tasks", done, total)


def _more_needed(experiment, watched, outcome) -> list[tuple]:
    """Points whose KPI is not yet precise enough get another chunk (up to `max`)."""
    from .stats import t_interval

    precision, chunk = experiment.spec.precision, experiment.spec.chunk
    more = []
    for point in experiment.points:
        if point.index in outcome.failed:
            continue
        done = watched[point.index]
        mean, low, high, n = t_interval([done[r] for r in sorted(done)])
        precise = n >= 2 and mean != 0 and (high - low) / 2 <= precision.relative_half_width * abs(mean)
        if not precise and len(done) < precision.max:
            more.append((point, len(done), min(len(done) + chunk, precision.max)))
    return more


# --------------------------------------------------------------------------- shards and index


def _write_shard(path: Path, result) -> None:
    import pandas as pd

    from .results import write_table

    records = []
    for done in result:
        records.append({"replication": done.replication, "township": "", **done.county})
        records.extend({"replication": done.replication, **t} for t in done.townships)
    write_table(path, pd.DataFrame(records))


def _read_shard(path: Path) -> list:
    """The Replications (KPI rows only) of a shard, by replication."""
    import pandas as pd

    from .runner import Replication

    frame = pd.read_parquet(path)
    out = []
    for replication, group in frame.groupby("replication", sort=True):
        records = group.drop(columns=["replication"]).to_dict("records")
        county = {k: v for k, v in records[0].items() if k != "township"}
        out.append(Replication(int(replication), county, records[1:]))
    return out


def _previous_index(out: Path) -> dict:
    try:
        return {p["label"]: p for p in json.loads((out / "points.json").read_text())}
    except (OSError, ValueError):
        return {}


def _explain_reruns(tasks, experiment, previous, shards: Path, say) -> None:
    """On --resume, say why a point that ran before runs again (its resolved scenario changed)."""
    if not previous:
        return
    from .results import scenario_sha256

    told = set()
    for task in tasks:
        point = experiment.points[task.point]
        before = previous.get(point.label())
        if point.index in told or (shards / f"{task.key}.parquet").exists():
            continue
        told.add(point.index)
        if before is None:
            say(f"point {point.index} ({point.label()}): not run before")
        elif before["sha256"] != scenario_sha256(point.scenario) or before.get("version") != __version__:
            say(f"point {point.index} ({point.label()}): reruns, its resolved scenario or the model version changed")
        else:
            say(f"point {point.index} ({point.label()}): reruns its unfinished replications")


def _write_index(out: Path, experiment, outcome) -> None:
    from .results import scenario_sha256, write_text

    index = [{"point": p.index, "label": p.label(), "factors": p.values, "sha256": scenario_sha256(p.scenario),
              "version": __version__, "replications": outcome.replications[p.index]} for p in experiment.points]
    write_text(out / "points.json", json.dumps(index, indent=2, sort_keys=True, default=str) + "\n")


# --------------------------------------------------------------------------- tidy tables


def _assemble(experiment, finished, shards: Path, out: Path, outcome: SweepOutcome) -> None:
    """kpis.parquet and kpis_by_township.parquet, one point at a time from its shards (in order),
    and the summary and factorial effects from the KPIs of interest."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .results import atomic_path
    from .stats import summarize

    spec, factors = experiment.spec, experiment.factors
    kinds = {f: _column_kind([p.values[f] for p in experiment.points]) for f in factors}
    kept: list[dict] = []  # the KPIs of interest, for the summary and the effects
    writers: dict[str, pq.ParquetWriter] = {}
    with atomic_path(out / "kpis.parquet") as county_path, atomic_path(out / "kpis_by_township.parquet") as town_path:
        for point in experiment.points:
            columns = {"point": point.index, **{f: kinds[f](point.values[f]) for f in factors}}
            county_rows, town_rows = [], []
            for task in sorted(finished[point.index], key=lambda t: t.first):
                for done in _read_shard(shards / f"{task.key}.parquet"):
                    county_rows.append({**columns, "replication": done.replication, **done.county})
                    town_rows.extend({**columns, "replication": done.replication, **t} for t in done.townships)
            for path, rows in ((county_path, county_rows), (town_path, town_rows)):
                if rows:
                    table = pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False)
                    if path not in writers:
                        writers[path] = pq.ParquetWriter(path, table.schema)
                    writers[path].write_table(table.cast(writers[path].schema))
            kept.extend({k: r[k] for k in ("point", *factors, "replication", *spec.kpis)} for r in county_rows)
        for writer in writers.values():
            writer.close()
        for path, extra in ((county_path, []), (town_path, ["township"])):
            if path not in writers:  # every point failed: a valid Parquet file with no rows
                pd.DataFrame(columns=["point", *factors, "replication", *extra]).to_parquet(path, index=False)
    outcome.summary = summarize(kept, spec.kpis, by=("point", *factors))
    outcome.summary.sort(key=lambda r: (r["point"], spec.kpis.index(r["kpi"])))
    if spec.design == "factorial" and not outcome.failed:
        from .experiment import factorial_effects

        levels = {f: [kinds[f](v) for v in spec.factors[f]] for f in factors}
        for kpi in spec.kpis:
            outcome.effects.extend(factorial_effects(kept, factors, kpi, levels))
    outcome.kpis = kept


def _column_kind(values: list):
    """How a factor's levels go into a column: all numbers stay numbers (float if any is), else text."""
    if all(_is_number(v) for v in values):
        return float if any(isinstance(v, float) for v in values) else int
    return _text


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value) -> str:
    """A factor column holds numbers if all its values are numbers, else text."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
