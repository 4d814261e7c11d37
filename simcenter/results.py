"""The results directory: Parquet and CSV tables, resolved scenarios, manifest last.

Every file is written to a temporary name in the same directory and moved into place with
os.replace, so a reader never sees half a file; manifest.json comes last and marks the run
complete.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, UTC
from importlib import metadata
from pathlib import Path

import yaml

from .layout import COMPARISON_COLUMNS, file_stem

PACKAGES = ("simpy", "numpy", "pandas", "scipy", "pydantic", "pyarrow", "PyYAML", "click")


class OutputError(Exception):
    """The results directory cannot be used (exit status 2)."""


LOCK = ".simcenter.lock"  # in every results directory a command writes: its lock, and the mark of one


def prepare(out: Path, force: bool, keep: tuple[str, ...] = ()) -> Path:
    """An empty results directory at `out`; with `force` the old contents of a results directory
    are removed, except the entries named in `keep` (a sweep's content-addressed shards). A
    non-empty directory that is not a results directory (no manifest.json, never written by
    simcenter) is refused, never emptied: `--out ~ --force` must not remove a home directory."""
    _check_out(out, force, keep)
    out.mkdir(parents=True, exist_ok=True)
    if force:
        for entry in out.iterdir():
            if entry.name not in keep and entry.name != LOCK:
                _remove(entry)
    return out


def _check_out(out: Path, force: bool, keep: tuple[str, ...] = ()) -> None:
    """Refuse what `prepare` must not touch. A results directory has manifest.json, or the lock file
    of a command that did not finish, or what a command keeps there (an interrupted sweep's shards)."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: --out must be a directory (got a file)")
    if not out.exists() or not [e for e in out.iterdir() if e.name != LOCK]:
        return
    if not force:
        raise OutputError(f"{out}: --out is not empty (got existing files); use --force to replace them")
    if not any((out / name).exists() for name in ("manifest.json", LOCK, *keep)):
        raise OutputError(f"--out {out}: a simcenter results directory for --force to replace "
                          "(got a non-empty directory without manifest.json)")


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)
    else:
        entry.unlink()


@contextmanager
def claimed(out: Path, force: bool, keep: tuple[str, ...] = ()):
    """The results directory `out` prepared (`prepare`) and locked (`locked`) for the whole block:
    what every writing command holds. Checked before the lock file is made, so a refused
    directory is left as it was."""
    _check_out(out, force, keep)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with locked(out):
            yield prepare(out, force, keep)
    except BaseException:
        if created and [e.name for e in out.iterdir()] == [LOCK]:  # failed before writing anything
            (out / LOCK).unlink()
            out.rmdir()
        raise


@contextmanager
def locked(out: Path):
    """An exclusive flock on OUT/.simcenter.lock while the block runs; OutputError at once when
    another command holds it. The kernel drops the lock when the process dies (even kill -9), so
    a stale lock file locks nothing. The file is removed when the block succeeds; after a failure or
    an interruption it stays, marking the directory as simcenter's for a later --force."""
    fd = _lock(out / LOCK)
    try:
        yield out
    except BaseException:
        os.close(fd)
        raise
    os.unlink(out / LOCK)  # still holding the lock: a command waiting on this file sees it gone (_lock)
    os.close(fd)


def _lock(path: Path) -> int:
    """The locked file descriptor of `path`, created if need be; retried when the file was removed
    or replaced between opening and locking it, so that two commands never lock different files."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise OutputError(f"{path.parent}: in use by another simcenter command (pid {holder})") from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            return fd
        os.close(fd)


def _readable(tmp: str) -> None:
    """mkstemp makes 0600 files; results are for sharing, so use the usual mode under the umask."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)


def _is_text(v) -> bool:
    return isinstance(v, str)


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _list_of(check):
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def _object_with(**keys):
    """A JSON object whose named keys, where present, pass their checks."""
    return lambda v: isinstance(v, dict) and all(k not in v or check(v[k]) for k, check in keys.items())


# What the readers (simcenter.resultsdir, the report, the figures) may find in manifest.json, by key:
# (check, what was expected). The writers below produce these; `read_manifest` checks them.
MANIFEST_REQUIRED = ("tool", "argv")
MANIFEST_KEYS = {
    "tool": (_is_text, "a text"),
    "version": (_is_text, "a text"),
    "git": (lambda v: v is None or _object_with(sha=_is_text)(v), "null or an object with a text sha"),
    "python": (_is_text, "a text"),
    "platform": (_is_text, "a text"),
    "packages": (lambda v: isinstance(v, dict), "an object"),
    "argv": (_list_of(_is_text), "a list of texts"),
    "created_utc": (_is_text, "a text"),
    "command": (_is_text, "a text"),
    "scenarios": (_list_of(lambda s: _object_with(name=_is_text)(s) and "name" in s), "a list of objects with a name"),
    "seed_scheme": (_is_text, "a text"),
    "seed": (lambda v: v is None or _is_integer(v), "null or an integer"),
    "replications": (lambda v: _is_integer(v) or isinstance(v, dict), "an integer or an object"),
    "executor": (_is_text, "a text"),
    "warnings": (_list_of(_is_text), "a list of texts"),
    "records": (lambda v: isinstance(v, bool), "true or false"),
    "baseline": (_is_text, "a text"),
    "reforms": (_list_of(_is_text), "a list of texts"),
    "common_random_numbers": (_is_text, "a text"),
    "comparison_method": (_is_text, "a text"),
    "comparison_level": (_is_number, "a number"),
    "summary_level": (_is_number, "a number"),
    "kpis": (_list_of(_is_text), "a list of texts"),
    "inputs": (_list_of(lambda i: isinstance(i, dict)), "a list of objects"),
    "experiment": (_object_with(name=_is_text, file=_is_text, factors=_list_of(_is_text)),
                   "an object (name, file: texts; factors: a list of texts)"),
    "points": (_list_of(lambda p: _object_with(point=_is_integer, factors=lambda f: isinstance(f, dict))(p)
                        and "point" in p), "a list of objects with an integer point"),
    "failed": (lambda v: isinstance(v, dict), "an object"),
    "tasks": (_object_with(computed=_is_integer, reused=_is_integer), "an object (computed, reused: integers)"),
    "targets": (_list_of(_is_text), "a list of texts"),
    "townships": (lambda v: isinstance(v, dict), "an object"),
}


def read_manifest(path: Path) -> dict:
    """The manifest of a finished results directory; OutputError (exit 2) when it is not one, or
    when a key the readers use is missing or of another type (`MANIFEST_KEYS`)."""
    if not path.is_dir():
        raise OutputError(f"{path}: not a results directory (got {'a file' if path.exists() else 'no such directory'})")
    manifest_file = path / "manifest.json"
    if not manifest_file.is_file():
        raise OutputError(f"{path}: not a finished results directory (got no manifest.json)")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise OutputError(f"{manifest_file}: unreadable manifest, expected JSON (got {e})") from None
    if not isinstance(manifest, dict):
        raise OutputError(f"{manifest_file}: unreadable manifest, expected a JSON object (got {_shown(manifest)})")
    for key in MANIFEST_REQUIRED:
        if key not in manifest:
            raise OutputError(f"{manifest_file}: {key}: {MANIFEST_KEYS[key][1]} (got no {key})")
    for key, (check, expected) in MANIFEST_KEYS.items():
        if key in manifest and not check(manifest[key]):
            raise OutputError(f"{manifest_file}: {key}: {expected} (got {_shown(manifest[key])})")
    return manifest


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def regular_target(path: Path, option: str) -> Path:
    """A path given to write a file to (`report -o`): new, or a regular file to replace; a
    device, FIFO, directory or symlink is refused (os.replace would swap it for a file)."""
    import stat

    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    if stat.S_ISREG(mode):
        return path
    kind = ("a symlink" if stat.S_ISLNK(mode) else "a directory" if stat.S_ISDIR(mode) else
            "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket")
    raise OutputError(f"{option} {path}: a regular file or a new path (got {kind})")


def write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    _readable(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(path: Path):
    """A temporary path beside `path` to write to (e.g. by a streaming writer); moved into place
    when the block ends without error, removed otherwise."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    _readable(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_table(path: Path, frame) -> None:
    """A DataFrame as Parquet or CSV (by suffix), atomically."""
    buffer = io.BytesIO()
    if path.suffix == ".parquet":
        frame.to_parquet(buffer, index=False, engine="pyarrow")
    else:
        buffer.write(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    write_bytes(path, buffer.getvalue())


def write_rows(path: Path, rows: list[dict]) -> None:
    """Rows (dicts) as Parquet or CSV (by suffix), atomically: the table `write_table` writes of
    `DataFrame(rows)`, without importing pandas (~0.4 s) when its columns are plain (simcenter.tables)."""
    from . import tables

    columns = tables.kinds(rows)
    if columns is None:
        import pandas as pd

        write_table(path, pd.DataFrame(rows))
    else:
        write_bytes(path, tables.parquet_bytes(columns) if path.suffix == ".parquet" else tables.csv_bytes(columns))


def resolved_yaml(scenario) -> str:
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100)


def scenario_sha256(scenario) -> str:
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def capacity_warnings(scenarios) -> list[str]:
    """The overloaded back offices of each scenario (simcenter.capacity), one line each; prefixed
    with the scenario's name when there is more than one scenario."""
    from .capacity import warnings

    scenarios = list(scenarios)
    if len(scenarios) == 1:
        return warnings(scenarios[0])
    return [f"{s.name}: {line}" for s in scenarios for line in warnings(s)]


def sweep_warnings(points) -> list[str]:
    """The overloaded back offices of a sweep's points (each with .index and .scenario), computed
    once per distinct scenario; a line shared by every point is given once as it is, any other
    once with the points it applies to."""
    from .capacity import warnings

    by_sha: dict[str, list[str]] = {}
    where: dict[str, list[int]] = {}  # line → points, in order of first appearance
    for point in points:
        sha = scenario_sha256(point.scenario)
        if sha not in by_sha:
            by_sha[sha] = warnings(point.scenario)
        for line in by_sha[sha]:
            where.setdefault(line, []).append(point.index)
    total = len(points)
    out = []
    for line, indices in where.items():
        if len(indices) == total:
            out.append(line)
        else:
            label = "point" if len(indices) == 1 else "points"
            out.append(f"{label} {', '.join(str(i) for i in indices)}: {line}")
    return out


def manifest(scenarios, argv, replications: int, executor: str, extra: dict | None = None,
             warnings: list[str] | None = None) -> dict:
    """The manifest of a run or a comparison; `warnings` defaults to capacity_warnings(scenarios)."""
    from . import __version__
    from .model.streams import SEED_SCHEME

    return {
        "tool": "simcenter",
        "version": __version__,
        "git": _git_sha(),
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "packages": {p: _version(p) for p in PACKAGES},
        "argv": list(argv),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenarios": [{"name": s.name, "sha256": scenario_sha256(s), "seed": s.seed} for s in scenarios],
        "seed_scheme": SEED_SCHEME,
        "replications": replications,
        "executor": executor,
        "warnings": list(capacity_warnings(scenarios) if warnings is None else warnings),
        **(extra or {}),
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_sha() -> dict | None:
    """The commit of the code when run from a checkout (and whether it had local changes)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if sha.returncode != 0:
        return None
    return {"sha": sha.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def _numbers(*names: str) -> dict[str, str]:
    return dict.fromkeys(names, "number")


# The columns the readers (simcenter.resultsdir) need in each table, by file, and their kind:
# "integer", "number" or "text". The replication tables also have "scenario" (run, compare) or
# "point" (sweep), and every other column of kpis and kpis_by_township is a KPI (a number).
COLUMNS: dict[str, dict[str, str]] = {
    "kpis.parquet": {"replication": "integer"},
    "kpis_by_township.parquet": {"replication": "integer", "township": "text"},
    "kpis_by_hour.parquet": {"replication": "integer", "township": "text", "group": "text", "hour": "integer",
                             **_numbers("arrivals", "wait_mean", "wait_p90", "queue_mean", "utilization",
                                        "open_minutes")},
    "wait_histogram.parquet": {"replication": "integer", "minute": "integer", "count": "integer"},
    "cases_summary.parquet": {"replication": "integer", "route": "text", "trips": "integer", "cases": "integer",
                              "lead_cases": "integer", "lead_days_mean": "number"},
    "kpis_by_department.parquet": {"replication": "integer", "department": "text",
                                   **_numbers("reviewers", "utilization", "files_waiting_mean")},
    # `run --records` (categories: record_labels)
    "visits.parquet": {"replication": "integer", "township": "text", "case": "integer", "group": "text",
                       "purpose": "text", "cause": "text", **_numbers("arrive", "called", "done"), "outcome": "text",
                       "window": "integer", "patience": "number"},
    "cases.parquet": {"replication": "integer", "township": "text", "item": "text", "route": "text",
                      "status": "text", "handler": "text"},
    "summary.csv": {"kpi": "text", **_numbers("mean", "ci_low", "ci_high", "n")},
    "comparison.csv": {"reform": "text", "kpi": "text", **_numbers("baseline_mean", "reform_mean", "difference",
                                                                  "ci_low", "ci_high", "n", "level")},
}
GROUP_COLUMNS = {"scenario": "text", "point": "integer"}  # one of them in each replication table


def write_run(out: Path, result, argv, executor: str, records: bool = False,
              warnings: list[str] | None = None) -> None:
    """Everything `simcenter run` leaves behind, manifest last (with the capacity `warnings`,
    computed from the scenario when not given)."""
    from .kpis import KPI_NAMES
    from .stats import summarize

    scenario = result.scenario
    write_text(out / "scenario.resolved.yaml", resolved_yaml(scenario))
    write_rows(out / "kpis.parquet", result.kpis)
    write_rows(out / "kpis.csv", result.kpis)
    write_rows(out / "kpis_by_township.parquet", result.by_township)
    write_details(out, result.tables)
    write_rows(out / "summary.csv", summarize(result.kpis, KPI_NAMES))
    if records:
        write_records(out, result)
    write_text(out / "manifest.json", json.dumps(
        manifest([scenario], argv, len(result.kpis), executor, {"records": records}, warnings), indent=2) + "\n")


def write_details(out: Path, tables: dict[str, list[dict]]) -> None:
    """kpis_by_hour, wait_histogram, cases_summary and kpis_by_department: one Parquet file each."""
    for name, rows in sorted(tables.items()):
        write_rows(out / f"{name}.parquet", rows)


def write_records(out: Path, result) -> None:
    """visits.parquet and cases.parquet: the model's records of every replication, their integer
    codes written as categoricals with the domain's labels (`record_labels`); the codes in memory
    stay plain integers (the model's fast path)."""
    import pandas as pd

    visits, cases = [], []
    for r, rec in enumerate(result.records):
        labels = record_labels(result.scenario, rec.meta)
        frame = pd.DataFrame(rec.visits)
        frame.insert(frame.columns.get_loc("kind") + 1, "group",
                     _ticket_groups(rec.visits["township"], rec.visits["kind"], rec.meta.kind_group))
        visits.append(_labelled(frame, labels, r))
        cases.append(_labelled(pd.DataFrame(rec.cases), labels, r))
    write_table(out / "visits.parquet", pd.concat(visits, ignore_index=True))
    write_table(out / "cases.parquet", pd.concat(cases, ignore_index=True))


def _ticket_groups(townships, kinds, kind_group: list[list[int]]):
    """The window group each ticket queues for (-1: none), by township and ticket kind."""
    import numpy as np

    width = max(map(len, kind_group), default=0) + 1  # the last column stays -1: a kind beyond the table
    table = np.full((len(kind_group), width), -1, dtype=np.int64)
    for t, groups in enumerate(kind_group):
        table[t, :len(groups)] = groups
    return table[np.asarray(townships, dtype=np.int64), np.minimum(np.asarray(kinds, dtype=np.int64), width - 1)]


def record_labels(scenario, meta) -> dict[str, list[str]]:
    """Column → the label of each code (code i is label i) of visits.parquet and cases.parquet."""
    from .model import records
    from .model.citizen import AGENT_VISITS, CITIZEN, MOBILE_SERVICE

    def names(codes) -> list[str]:
        return [c.name.lower() for c in codes]

    handlers = {CITIZEN: "citizen", AGENT_VISITS: "agent_visits", MOBILE_SERVICE: "mobile_service"}
    return {"township": list(meta.townships), "group": list(meta.groups), "item": list(scenario.items),
            "purpose": names(records.Purpose), "cause": names(records.Cause), "outcome": names(records.Outcome),
            "route": names(records.Route), "status": names(records.Status),
            "handler": [handlers[code] for code in sorted(handlers)]}


def _labelled(frame, labels: dict[str, list[str]], replication: int):
    """The coded columns of `frame` as categoricals (a code of -1: missing), a replication column first."""
    import pandas as pd

    for column in frame.columns.intersection(list(labels)):
        frame[column] = pd.Categorical.from_codes(frame[column].to_numpy(), categories=labels[column])
    frame.insert(0, "replication", replication)
    return frame


def write_compare(out: Path, comparison, argv, executor: str, warnings: list[str] | None = None) -> None:
    """Everything `simcenter compare` leaves behind, manifest last (with the capacity `warnings`,
    computed from the scenarios when not given)."""
    import pandas as pd

    from .stats import LEVEL

    (out / "scenarios").mkdir(exist_ok=True)
    for scenario in comparison.scenarios:
        write_text(out / "scenarios" / f"{file_stem(scenario.name)}.resolved.yaml", resolved_yaml(scenario))
    write_rows(out / "kpis.parquet", comparison.kpis)
    write_rows(out / "kpis.csv", comparison.kpis)
    write_rows(out / "kpis_by_township.parquet", comparison.by_township)
    write_details(out, comparison.tables)
    write_rows(out / "summary.csv", comparison.summary)
    write_table(out / "comparison.csv", pd.DataFrame(comparison.comparison, columns=list(COMPARISON_COLUMNS)))
    extra = {
        "command": "compare",
        "baseline": comparison.baseline,
        "reforms": comparison.reforms,
        "common_random_numbers": f"every scenario runs replications 0..{comparison.replications - 1} "
                                 f"with seed {comparison.seed}; pairs are matched by replication",
        "comparison_method": comparison.method,
        "comparison_level": comparison.level,
        "summary_level": LEVEL,
    }
    write_text(out / "manifest.json", json.dumps(
        manifest(comparison.scenarios, argv, comparison.replications, executor, extra, warnings), indent=2) + "\n")


def write_sensitivity(out: Path, result, argv, warnings: list[str] | None = None) -> None:
    """Everything `simcenter sensitivity` leaves behind, manifest last: sensitivity.csv and the
    central scenarios resolved (with the capacity `warnings`, computed from them when not given)."""
    import pandas as pd

    from .sensitivity import COLUMNS, method_text

    plan, central = result.plan, result.central
    (out / "scenarios").mkdir(exist_ok=True)
    for scenario in central.scenarios:
        write_text(out / "scenarios" / f"{file_stem(scenario.name)}.resolved.yaml", resolved_yaml(scenario))
    write_table(out / "sensitivity.csv", pd.DataFrame(result.rows, columns=list(COLUMNS)))
    extra = {
        "command": "sensitivity",
        "baseline": central.baseline,
        "reforms": central.reforms,
        "kpis": result.kpis,
        "design": "one at a time: each input at its low and high value, every other input at its central value",
        "inputs": [i.describe(plan.values[(i.name, "central")]) for i in plan.inputs],
        "common_random_numbers": f"every scenario runs replications 0..{central.replications - 1} "
                                 f"with seed {central.seed}; pairs are matched by replication",
        "comparison_method": method_text(central.replications, len(central.reforms), central.level,
                                         len(plan.inputs)),
        "comparison_level": central.level,
        "seed": central.seed,
    }
    write_text(out / "manifest.json", json.dumps(
        manifest(central.scenarios, argv, central.replications, result.executor, extra, warnings), indent=2) + "\n")


def write_sweep(out: Path, experiment, outcome, argv, warnings: list[str] | None = None) -> None:
    """Everything `simcenter sweep` leaves beside its shards, manifest last (with the capacity
    `warnings`, computed from the points when not given)."""
    import pandas as pd

    from .model.streams import SEED_SCHEME

    # kpis.parquet and kpis_by_township.parquet were streamed from the shards by the sweep
    write_table(out / "summary.csv", pd.DataFrame(outcome.summary))
    if outcome.effects:
        write_table(out / "effects.csv", pd.DataFrame(outcome.effects))
    spec = experiment.spec
    manifest = {
        **_identity(argv),
        "experiment": {"name": spec.name, "file": experiment.path.name,
                       "sha256": hashlib.sha256(experiment.path.read_bytes()).hexdigest(),
                       "design": spec.design, "factors": experiment.factors},
        "points": [{"point": p.index, "factors": p.values, "sha256": scenario_sha256(p.scenario),
                    "replications": outcome.replications.get(p.index, 0)} for p in experiment.points],
        "failed": {str(k): v for k, v in sorted(outcome.failed.items())},
        "seed": experiment.points[0].scenario.seed if experiment.points else None,
        "seed_scheme": SEED_SCHEME + "; every point uses the same spawn keys: common random numbers",
        "replications": spec.replications if spec.replications != "auto" else
        {"auto": spec.precision.model_dump()},
        "executor": outcome.executor,
        "cluster_versions": outcome.versions,
        "tasks": {"computed": outcome.computed, "reused": outcome.reused},
        "warnings": list(sweep_warnings(experiment.points) if warnings is None else warnings),
    }
    write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")


def _identity(argv) -> dict:
    from . import __version__

    return {"tool": "simcenter", "version": __version__, "git": _git_sha(), "python": sys.version.split()[0],
            "platform": platform.platform(terse=True), "packages": {p: _version(p) for p in PACKAGES},
            "argv": list(argv), "created_utc": datetime.now(UTC).isoformat(timespec="seconds")}
