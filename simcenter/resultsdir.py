"""Reading a results directory: one `ResultsDir` for the figures (`simcenter.plots`) and the report
(`simcenter.report`), read by `read(path)`; neither of them opens a file of the directory itself.

What it holds: the manifest; the kind of the directory by one rule (`kind_of`); the tables that
exist (`TABLES`: Parquet and CSV files, by a short name); the groups in order (scenario names,
baseline first, or "point N" for a sweep); the resolved scenarios (run, compare) and each
township's name and km_to_county; the points and factors of a sweep; and the summary
statistics (group, KPI) → (mean, low, high, n).

The summary statistics are summary.csv's (written by `simcenter run`/`compare` from
`stats.summarize` over every KPI, and by `simcenter sweep` over the experiment's KPIs of
interest). Only what summary.csv lacks — every KPI of a directory without it, the KPIs of a sweep
that were not of interest — is computed here, with the same function (`stats.t_interval`, 95%
Student t over replications in replication order), so the numbers are the same either way.

Errors are OutputError, one line naming the file (the CLI exits with status 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .results import COLUMNS, GROUP_COLUMNS, OutputError, read_manifest

TABLES = {  # short name → file
    "kpis": "kpis.parquet",
    "by_township": "kpis_by_township.parquet",
    "by_hour": "kpis_by_hour.parquet",
    "wait_histogram": "wait_histogram.parquet",
    "cases_summary": "cases_summary.parquet",
    "by_department": "kpis_by_department.parquet",
    "summary": "summary.csv",
    "comparison": "comparison.csv",
    "effects": "effects.csv",
    "sensitivity": "sensitivity.csv",
    "staffing": "staffing.csv",
    "staffing_search": "staffing_search.csv",
}
VISITS = "visits.parquet"  # `run --records`: read on demand (`ResultsDir.visits`), it can be large
# Tables that get a `group` column (the scenario name, or "point N"). Not kpis_by_hour: its
# `group` is the window group.
GROUPED = ("kpis", "by_township", "cases_summary", "by_department")
NOT_KPIS = {"group", "scenario", "replication", "point", "township"}

Stat = tuple[float, float, float, int]  # mean, 95% low, 95% high, n
NO_STAT: Stat = (math.nan, math.nan, math.nan, 0)


@dataclass
class ResultsDir:
    """A finished results directory as read by `read`: what the figures and the report draw on."""

    path: Path
    kind: str  # "run" | "compare" | "sweep" | "sensitivity" | "staff" (`kind_of`)
    manifest: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # short name (TABLES) → table, those that exist
    scenarios: list[str] = field(default_factory=list)  # baseline first; for a sweep, empty
    resolved: dict[str, dict] = field(default_factory=dict)  # scenario name → resolved scenario (run, compare)
    townships: dict[str, dict] = field(default_factory=dict)  # id → {"name", "name_zh", "km_to_county"}
    points: dict[str, dict] = field(default_factory=dict)  # sweep: "point N" → factor values, in point order
    factors: list[str] = field(default_factory=list)  # sweep: the factors that are columns of kpis
    summary: dict[tuple[str, str], Stat] = field(default_factory=dict)  # (group, KPI) → (mean, low, high, n)
    computed: list[str] = field(default_factory=list)  # KPIs whose summary is not in summary.csv (computed here)
    compared: int = 0  # seen through plot --scenario: the reforms of the whole comparison (its Bonferroni k)

    @property
    def groups(self) -> list[str]:
        """Scenario names (baseline first), or "point N" for a sweep: the order of every table and figure."""
        return list(self.points) if self.kind == "sweep" else list(self.scenarios)

    @property
    def reforms(self) -> list[str]:
        return self.scenarios[1:] if self.kind in ("compare", "sensitivity") else []

    @property
    def kpis(self) -> pd.DataFrame:
        """kpis.parquet: group, scenario or point (and factors), replication, a column per KPI."""
        return self.tables["kpis"]

    @property
    def has_visits(self) -> bool:
        return (self.path / VISITS).is_file()

    def visits(self, columns: list[str] | None = None) -> pd.DataFrame:
        """visits.parquet (`run --records`), those columns; OutputError when missing or unreadable."""
        return read_table(self.path / VISITS, COLUMNS[VISITS], only=columns)

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    def rows(self, name: str) -> list[dict]:
        """A table as records (comparison, effects); none when the file does not exist."""
        frame = self.tables.get(name)
        return [] if frame is None else frame.to_dict("records")

    def kpi_names(self) -> list[str]:
        skip = NOT_KPIS | set(self.factors)
        return [c for c in self.kpis.columns if c not in skip]

    def stat(self, group: str, kpi: str) -> Stat:
        return self.summary.get((group, kpi), NO_STAT)

    @property
    def comparison_level(self) -> float:
        """The level of each paired interval of comparison.csv (Bonferroni-adjusted)."""
        rows = self.tables.get("comparison")
        first = rows["level"].iloc[0] if rows is not None and len(rows) and "level" in rows else 0.95
        return float(self.manifest.get("comparison_level") or first)

    def department_name(self, code: str, scenario: str | None = None) -> str:
        """A department's name (`departments.CODE.name` of the scenario, else of the first that has it); else its code."""
        for name in ([scenario] if scenario in self.resolved else []) + list(self.resolved):
            info = ((self.resolved[name].get("departments") or {}).get(code))
            if isinstance(info, dict) and info.get("name"):
                return str(info["name"])
        return code

    def window_group_label(self, group: str, scenario: str | None = None, short: bool = False) -> str:
        """A window group in words: "G2 (Civil Affairs, Disabled Persons' Federation, …)" from the names of what
        it accepts; `short` (figures): the first name and how many more, "G2 (Civil Affairs +2)"."""
        accepts = []
        for name in ([scenario] if scenario in self.resolved else []) + list(self.resolved):
            spec = (self.resolved[name].get("window_groups") or {}).get(group)
            accepts = spec if isinstance(spec, list) else spec.get("accepts", []) if isinstance(spec, dict) else []
            if accepts:
                break
        names = [self.department_name(str(code), scenario) for code in accepts]
        if not names:
            return group
        if short:
            return f"{group} ({names[0]}{f' +{len(names) - 1}' if len(names) > 1 else ''})"
        return f"{group} ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})"

    def township_ids(self) -> list[str]:
        ids: list[str] = list(self.townships)
        for name in ("by_township", "by_hour"):
            frame = self.tables.get(name)
            if frame is not None and "township" in frame:
                ids += [str(t) for t in frame["township"].unique()]
        return list(dict.fromkeys(ids))


def kind_of(path: Path, manifest: dict) -> str:
    """The one rule: a sweep's manifest names its experiment; a sensitivity's or a staffing search's
    says so; a comparison's says so (or it has comparison.csv, or several scenarios); anything else is a run."""
    if "experiment" in manifest:
        return "sweep"
    if manifest.get("command") in ("sensitivity", "staff"):
        return str(manifest["command"])
    named = [s for s in manifest.get("scenarios", []) if isinstance(s, dict) and "name" in s]
    if manifest.get("command") == "compare" or (path / TABLES["comparison"]).is_file() or len(named) > 1:
        return "compare"
    return "run"


def read(results_dir) -> ResultsDir:
    """The results directory at `results_dir`; OutputError when it is not a finished one."""
    path = Path(results_dir)
    manifest = read_manifest(path)
    if kind_of(path, manifest) == "sensitivity":
        return _sensitivity(path, manifest)
    if kind_of(path, manifest) == "staff":
        return _staff(path, manifest)
    if not (path / TABLES["kpis"]).is_file():
        raise OutputError(f"{path}: not a results directory (got no {TABLES['kpis']})")
    # a sweep whose every point failed has a kpis table without rows, and says so in its manifest
    results = ResultsDir(path, kind_of(path, manifest), manifest, _tables(path, empty_ok=bool(manifest.get("failed"))))
    kpis = results.kpis
    if results.kind == "sweep":
        experiment = manifest["experiment"] if isinstance(manifest["experiment"], dict) else {}
        results.factors = [f for f in experiment.get("factors", []) if f in kpis.columns]
        factors = {int(p["point"]): p.get("factors") or {} for p in manifest.get("points", [])
                   if isinstance(p, dict) and "point" in p}
        results.points = {f"point {p}": factors.get(p, {}) for p in sorted({int(p) for p in kpis["point"]})}
    else:
        names = [s["name"] for s in manifest.get("scenarios", []) if isinstance(s, dict) and "name" in s]
        present = [str(s) for s in dict.fromkeys(kpis["scenario"])]
        baseline = manifest.get("baseline")
        order = ([baseline] if baseline in present else []) + [n for n in names if n in present and n != baseline]
        results.scenarios = order + [s for s in present if s not in order]
        results.resolved = _resolved(path, results.kind, results.scenarios)
        results.townships = _townships(results.resolved)
    _kpis_are_numbers(results)
    for name in GROUPED:
        frame = results.tables.get(name)
        if frame is not None:
            frame.insert(0, "group", _group_column(frame))
    results.summary, results.computed = _summary(results)
    return results


def _kpis_are_numbers(results: ResultsDir) -> None:
    skip = NOT_KPIS | set(results.factors)
    for name in ("kpis", "by_township"):
        frame = results.tables.get(name)
        for column in [] if frame is None else [c for c in frame.columns if c not in skip]:
            if not _of_kind(frame[column], "number", csv=False):
                raise OutputError(f"{results.path / TABLES[name]}: column {column}: numbers, a KPI "
                                  f"(got {frame[column].dtype})")


def _sensitivity(path: Path, manifest: dict) -> ResultsDir:
    """A sensitivity directory: sensitivity.csv (no replication tables), the baseline and reforms, and
    the inputs with their ranges (in the manifest)."""
    if not (path / TABLES["sensitivity"]).is_file():
        raise OutputError(f"{path}: not a sensitivity results directory (got no {TABLES['sensitivity']})")
    results = ResultsDir(path, "sensitivity", manifest, _tables(path))
    reforms = [str(r) for r in dict.fromkeys(results.tables["sensitivity"]["reform"])]
    baseline = manifest.get("baseline")
    results.scenarios = ([str(baseline)] if baseline else []) + reforms
    results.resolved = _resolved(path, "sensitivity", results.scenarios)
    results.townships = _townships(results.resolved)
    return results


def _staff(path: Path, manifest: dict) -> ResultsDir:
    """A staffing search (`simcenter staff`): staffing.csv, staffing_search.csv and the staffed scenario."""
    for name in ("staffing", "staffing_search"):
        if not (path / TABLES[name]).is_file():
            raise OutputError(f"{path}: not a staffing results directory (got no {TABLES[name]})")
    results = ResultsDir(path, "staff", manifest, _tables(path))
    results.scenarios = [s["name"] for s in manifest.get("scenarios", []) if isinstance(s, dict) and "name" in s][:1]
    results.resolved = _resolved_files({n: path / "scenario.staffed.yaml" for n in results.scenarios})
    results.townships = _townships(results.resolved)
    return results


def _tables(path: Path, empty_ok: bool = False) -> dict[str, pd.DataFrame]:
    tables = {}
    for name, file in TABLES.items():
        if (path / file).is_file():
            tables[name] = read_table(path / file, COLUMNS.get(file, {}), grouped=name in GROUPED)
    if "kpis" in tables and tables["kpis"].empty and not empty_ok:
        raise OutputError(f"{path / TABLES['kpis']}: a row per replication (got 0 rows)")
    return tables


def read_table(file: Path, columns: dict[str, str], grouped: bool = False,
               only: list[str] | None = None) -> pd.DataFrame:
    """A Parquet or CSV table with the `columns` of their kinds (results.COLUMNS), and with `grouped`
    a scenario or point column; OutputError naming the file otherwise."""
    try:
        frame = pd.read_parquet(file, columns=only) if file.suffix == ".parquet" else pd.read_csv(file)
    except Exception as e:  # noqa: BLE001 - any reader error means the same to the user
        reason = " ".join(str(e).split())[:200]
        raise OutputError(f"{file}: a {file.suffix[1:]} table (got {type(e).__name__}: {reason})") from None
    if grouped and not set(GROUP_COLUMNS) & set(frame.columns):
        raise OutputError(f"{file}: a scenario or point column (got columns {', '.join(map(str, frame.columns))})")
    wanted = {**columns, **{c: k for c, k in GROUP_COLUMNS.items() if c in frame.columns and grouped}}
    for column, kind in wanted.items():
        if only is not None and column not in only:
            continue
        if column not in frame.columns:
            raise OutputError(f"{file}: a column {column} (got columns {', '.join(map(str, frame.columns))})")
        if len(frame) and not _of_kind(frame[column], kind, csv=file.suffix == ".csv"):
            raise OutputError(f"{file}: column {column}: {kind}s (got {frame[column].dtype})")
    return frame


def _of_kind(values: pd.Series, kind: str, csv: bool) -> bool:
    types = pd.api.types
    if kind == "text":  # a CSV reader makes numbers of names that look like numbers
        return csv or types.is_string_dtype(values) or isinstance(values.dtype, pd.CategoricalDtype)
    if types.is_bool_dtype(values):
        return False
    return types.is_integer_dtype(values) if kind == "integer" else types.is_numeric_dtype(values)


def _group_column(frame: pd.DataFrame) -> list[str]:
    if "scenario" in frame:
        return [str(s) for s in frame["scenario"]]
    return [f"point {int(p)}" for p in frame["point"]]


def _resolved(path: Path, kind: str, names: list[str]) -> dict[str, dict]:
    """Each scenario's resolved scenario (scenario.resolved.yaml, scenarios/NAME.resolved.yaml), those readable."""
    from .layout import file_stem

    files = {names[0]: path / "scenario.resolved.yaml"} if kind == "run" and names else \
        {n: path / "scenarios" / f"{file_stem(n)}.resolved.yaml" for n in names}
    return _resolved_files(files)


def _resolved_files(files: dict[str, Path]) -> dict[str, dict]:
    """Read like scenario files (size limit, no aliases: a few kB must not expand without bound);
    a file that is missing or not a scenario mapping is left out."""
    from .scenario import ScenarioError
    from .scenario.load import read_document

    out = {}
    for name, file in files.items():
        try:
            data, _ = read_document(file)
        except ScenarioError:
            continue
        out[name] = data
    return out


def _townships(resolved: dict[str, dict]) -> dict[str, dict]:
    """Each township's name, Chinese name and km_to_county, from the first resolved scenario that has them."""
    for data in resolved.values():
        try:
            return {str(t): {"name": v.get("name") or str(t), "name_zh": str(v.get("name_zh") or ""),
                             "km_to_county": float(v.get("km_to_county") or 0)}
                    for t, v in data["townships"].items()}
        except (KeyError, TypeError, AttributeError, ValueError):
            continue
    return {}


def _summary(results: ResultsDir) -> tuple[dict[tuple[str, str], Stat], list[str]]:
    """summary.csv's statistics; those it lacks computed from kpis.parquet (and which KPIs they are)."""
    from .stats import t_interval

    out: dict[tuple[str, str], Stat] = {}
    table = results.tables.get("summary")
    if table is not None and {"kpi", "mean", "ci_low", "ci_high", "n"} <= set(table.columns):
        for group, kpi, mean, low, high, n in zip(_group_column(table), table["kpi"], table["mean"], table["ci_low"],
                                                  table["ci_high"], table["n"]):
            out[(group, str(kpi))] = (float(mean), float(low), float(high), int(n))
    frame = results.kpis.sort_values(["group", "replication"], kind="stable")
    kpis = results.kpi_names()
    computed = []
    for group, rows in frame.groupby("group", sort=True):
        for kpi in kpis:
            if (str(group), kpi) not in out:
                out[(str(group), kpi)] = t_interval(rows[kpi].to_numpy(float))
                computed.append(kpi)
    return out, list(dict.fromkeys(computed))
