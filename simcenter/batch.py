"""Batch experiments: (point, chunk of replications) tasks on the execution engine (simcenter.execution).

In-process or local processes by default; a Dask distributed cluster with a scheduler address.
Each replication of a finished task is written at once, atomically, to a content-addressed shard:
shards/<hash of the resolved point, replication, seed scheme, model version>.parquet, so
`--resume` recomputes nothing that finished, whatever the chunk, and an interrupted sweep keeps
what it did. points.json, written first, names the experiment and its points, so that --resume
refuses another experiment's directory and says what is left of each point. A pool whose worker
process died is replaced and the lost tasks run again (RETRIES times). The final tables are
assembled from the shards in (point, replication) order, so they are the same bytes whatever
the executor, the number of workers, the chunk or the order tasks finished in.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .execution import open_executor

SHARDS = "shards"
INDEX = "points.json"
RETRIES = 2  # fresh pools for the tasks of a pool whose worker process died


@dataclass
class Task:
    point: int
    replications: tuple[int, ...]


@dataclass
class SweepOutcome:
    kpis: list[dict] = field(default_factory=list)  # point × replication: factors and the KPIs of interest
    summary: object = None  # point × KPI: a DataFrame with its columns even when every point failed
    effects: list[dict] = field(default_factory=list)  # factorial designs
    failed: dict[int, str] = field(default_factory=dict)  # point → error
    computed: int = 0  # replications run now
    reused: int = 0  # replications found finished in the shards
    retried: int = 0  # fresh pools after a worker process died
    replications: dict[int, int] = field(default_factory=dict)  # point → replications in the tables
    executor: str = ""
    versions: dict = field(default_factory=dict)


def run_chunk(scenario, replications: tuple[int, ...]) -> list:
    """Task (runs on a worker): those replications, without detail tables → [Replication]."""
    from .runner import replicate

    return [replicate(scenario, r, details=False) for r in replications]


def shard_key(scenario_digest: str, replication: int) -> str:
    from .model.streams import SEED_SCHEME

    text = json.dumps([scenario_digest, replication, SEED_SCHEME, __version__])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def design_sha256(experiment) -> str:
    """The identity of an experiment's points: their factor values, in order."""
    text = json.dumps([p.values for p in experiment.points], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- the sweep


@dataclass
class _Sweep:
    """What a sweep knows while it runs: where shards go, and each point's finished replications."""

    experiment: object
    shards: Path
    digests: dict[int, str]  # point → sha256 of its resolved scenario
    done: dict[int, dict[int, float | None]]  # point → replication → the watched KPI (auto), else None
    outcome: SweepOutcome
    progress: Callable[[str, int, int], None] | None
    say: Callable[[str], None]

    def shard(self, point: int, replication: int) -> Path:
        return self.shards / f"{shard_key(self.digests[point], replication)}.parquet"


def run_sweep(experiment, out: Path, jobs: int = 1, scheduler: str | None = None, resume: bool = False,
              progress: Callable[[str, int, int], None] | None = None, say: Callable[[str], None] = lambda m: None
              ) -> SweepOutcome:
    """Run every point's replications (to precision if `replications: auto`), writing shards as they
    finish, then assemble the tables from the shards. Results are streamed to disk, never all held.
    With `resume`, OutputError if `out` holds anything but a sweep of this experiment."""
    from .results import scenario_sha256

    spec = experiment.spec
    previous = check_resumable(out, experiment) if resume else {}
    sweep = _Sweep(experiment, out / SHARDS, {p.index: scenario_sha256(p.scenario) for p in experiment.points},
                   {p.index: {} for p in experiment.points}, SweepOutcome(), progress, say)
    sweep.shards.mkdir(parents=True, exist_ok=True)
    _write_index(out, sweep)
    first = spec.precision.min if spec.replications == "auto" else spec.replications
    planned = {p.index: range(first) for p in experiment.points}
    engine = _Engine(jobs, scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS"), sweep.outcome)
    with engine:
        while planned:
            tasks = _unfinished(sweep, planned, previous)
            previous = {}  # explained once
            _run_tasks(engine, sweep, tasks)
            planned = _more_needed(sweep) if spec.replications == "auto" else {}
    outcome = sweep.outcome
    outcome.replications = {p: 0 if p in outcome.failed else len(done) for p, done in sweep.done.items()}
    _write_index(out, sweep)
    _assemble(sweep, out)
    return outcome


class _Engine:
    """The execution engine of a sweep, replaced by a fresh one when a pool's worker process dies."""

    def __init__(self, jobs: int, scheduler: str | None, outcome: SweepOutcome):
        self.jobs, self.scheduler, self.outcome = jobs, scheduler, outcome
        self.current = None

    def __enter__(self):
        self.current = open_executor(self.jobs, self.scheduler).__enter__()
        self.outcome.executor, self.outcome.versions = self.current.name, self.current.versions
        return self

    def __exit__(self, *exc):
        self.current.__exit__(*exc)

    def renew(self) -> None:
        self.current.__exit__(None, None, None)
        self.current = open_executor(self.jobs, self.scheduler).__enter__()
        self.outcome.retried += 1


def _unfinished(sweep: _Sweep, planned: dict[int, range], previous: dict) -> list[Task]:
    """The tasks of the planned replications whose shards are missing (or unreadable: said, and
    run again); finished ones are taken as they are. With `previous` (resume), say what is left."""
    chunk, tasks = sweep.experiment.spec.chunk, []
    for point, wanted in planned.items():
        if point in sweep.outcome.failed:
            continue
        missing = [r for r in wanted if not _take(sweep, point, r)]
        if previous and missing:
            sweep.say(_why(sweep, point, previous, len(wanted) - len(missing), len(missing)))
        tasks.extend(Task(point, tuple(missing[a:a + chunk])) for a in range(0, len(missing), chunk))
    return tasks


def _take(sweep: _Sweep, point: int, replication: int) -> bool:
    """Reuse the replication's shard if it exists and reads; False if it must run."""
    shard = sweep.shard(point, replication)
    if not shard.exists():
        return False
    try:
        (done,) = _read_shard(shard)
    except Exception:  # noqa: BLE001 - a truncated or foreign file: the replication runs again
        sweep.say(f"warning: {shard}: unreadable shard, its replication runs again")
        return False
    _keep(sweep, point, done)
    sweep.outcome.reused += 1
    return True


def _keep(sweep: _Sweep, point: int, done) -> None:
    precision = sweep.experiment.spec.precision
    sweep.done[point][done.replication] = done.county[precision.kpi] if precision else None


def _why(sweep: _Sweep, point: int, previous: dict, finished: int, missing: int) -> str:
    """On --resume, why a point runs (again)."""
    label = sweep.experiment.points[point].label()
    before = previous.get(label)
    if before is None:
        return f"point {point} ({label}): not run before"
    if before["sha256"] != sweep.digests[point] or before.get("version") != __version__:
        return f"point {point} ({label}): reruns, its resolved scenario or the model version changed"
    return f"point {point} ({label}): {finished} of {finished + missing} replications finished, {missing} to run"


def _run_tasks(engine: _Engine, sweep: _Sweep, tasks: list[Task]) -> None:
    """Run the tasks, writing each replication's shard as its task finishes; the tasks lost with a
    dead worker process run again on a fresh pool, up to RETRIES times."""
    counter = [0, len(tasks)]  # tasks finished, of
    if sweep.progress:
        sweep.progress("tasks", *counter)
    for attempt in range(RETRIES + 1):
        if attempt:
            engine.renew()
        tasks = _run_on(engine.current, sweep, tasks, counter)
        if not tasks:
            return
    for task in tasks:
        sweep.outcome.failed.setdefault(task.point, f"BrokenProcessPool: a worker process died ({RETRIES + 1} pools)")


def _run_on(engine, sweep: _Sweep, tasks: list[Task], counter: list[int]) -> list[Task]:
    """Run the tasks on one engine; the tasks lost because its pool broke."""
    points, lost = sweep.experiment.points, []
    arguments = [(points[t.point].scenario, t.replications) for t in tasks]
    for index, future in engine.as_completed(run_chunk, arguments):
        task = tasks[index]
        try:
            result = future.result()
        except BrokenProcessPool:
            lost.append(task)
            continue
        except Exception as e:  # noqa: BLE001 - a failing point is reported, the rest go on
            sweep.outcome.failed.setdefault(task.point, f"{type(e).__name__}: {e}")
            continue
        for done in result:
            _write_shard(sweep.shard(task.point, done.replication), done)
            _keep(sweep, task.point, done)
        sweep.outcome.computed += len(result)
        counter[0] += 1
        if sweep.progress:
            sweep.progress("tasks", *counter)
    return lost


def _more_needed(sweep: _Sweep) -> dict[int, range]:
    """Points whose KPI is not yet precise enough get another chunk (up to `max`)."""
    from .stats import t_interval

    precision, chunk = sweep.experiment.spec.precision, sweep.experiment.spec.chunk
    more = {}
    for point, done in sweep.done.items():
        if point in sweep.outcome.failed:
            continue
        mean, low, high, n = t_interval([done[r] for r in sorted(done)])
        precise = n >= 2 and mean != 0 and (high - low) / 2 <= precision.relative_half_width * abs(mean)
        if not precise and len(done) < precision.max:
            more[point] = range(len(done), min(len(done) + chunk, precision.max))
    return more


# --------------------------------------------------------------------------- shards and index


def _write_shard(path: Path, done) -> None:
    """One replication: its county row (township "") then its township rows."""
    import pandas as pd

    from .results import write_table

    records = [{"replication": done.replication, "township": "", **done.county}]
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


def check_resumable(out: Path, experiment) -> dict:
    """The points of the sweep of this experiment in `out` by label ({} if `out` is missing or
    empty); OutputError if it holds anything else."""
    from .results import LOCK, OutputError

    if not out.exists() or out.is_dir() and not any(e.name != LOCK for e in out.iterdir()):
        return {}  # nothing there but maybe this command's own lock
    name = experiment.spec.name
    wanted = f"{out}: --resume needs a sweep of experiment {name}"
    if not out.is_dir():
        raise OutputError(f"{wanted} (got a file)")
    try:
        index = json.loads((out / INDEX).read_text(encoding="utf-8"))
        found, points = index["experiment"], {p["label"]: p for p in index["points"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise OutputError(f"{wanted} (got {_what(out)})") from None
    if found.get("name") != name:
        raise OutputError(f"{wanted} (got a sweep of experiment {found.get('name')})")
    if found.get("design_sha256") != design_sha256(experiment):
        raise OutputError(f"{wanted} with these points (got one with other factors or levels)")
    return points


def _what(out: Path) -> str:
    """What a directory that is not a resumable sweep holds, in words."""
    from .results import OutputError, read_manifest
    from .resultsdir import kind_of

    try:
        return f"a {kind_of(out, read_manifest(out))} results directory"
    except OutputError:
        return f"a directory without {INDEX}"


def _write_index(out: Path, sweep: _Sweep) -> None:
    from .results import write_text

    experiment = sweep.experiment
    index = {"experiment": {"name": experiment.spec.name, "design_sha256": design_sha256(experiment)},
             "points": [{"point": p.index, "label": p.label(), "factors": p.values, "sha256": sweep.digests[p.index],
                         "version": __version__, "replications": sweep.outcome.replications.get(p.index, 0)}
                        for p in experiment.points]}
    write_text(out / INDEX, json.dumps(index, indent=2, sort_keys=True, default=str) + "\n")


# --------------------------------------------------------------------------- tidy tables


def _assemble(sweep: _Sweep, out: Path) -> None:
    """kpis.parquet and kpis_by_township.parquet, one point at a time from its shards (in order),
    and the summary and factorial effects from the KPIs of interest; a failed point has no rows."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .results import atomic_path
    from .stats import summarize

    experiment, outcome = sweep.experiment, sweep.outcome
    spec, factors = experiment.spec, experiment.factors
    kinds = {f: _column_kind([p.values[f] for p in experiment.points]) for f in factors}
    kept: list[dict] = []  # the KPIs of interest, for the summary and the effects
    writers: dict[str, pq.ParquetWriter] = {}
    with atomic_path(out / "kpis.parquet") as county_path, atomic_path(out / "kpis_by_township.parquet") as town_path:
        for point in experiment.points:
            if point.index in outcome.failed:
                continue
            columns = {"point": point.index, **{f: kinds[f](point.values[f]) for f in factors}}
            county_rows, town_rows = [], []
            for replication in sorted(sweep.done[point.index]):
                for done in _read_shard(sweep.shard(point.index, replication)):
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
    summary = summarize(kept, spec.kpis, by=("point", *factors))
    summary.sort(key=lambda r: (r["point"], spec.kpis.index(r["kpi"])))
    outcome.summary = pd.DataFrame(summary, columns=["point", *factors, "kpi", "mean", "ci_low", "ci_high", "n"])
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
