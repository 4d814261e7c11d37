"""The Python API: `load_scenario`, `run`, `compare` and `sweep`, re-exported by `simcenter`.

`run` and `compare` take a scenario as the name of a shipped scenario ("baseline",
"s1_full_empowerment", ...), a file path, or a validated `Scenario` object, and return a small
result object: pandas views of the tables (`.kpis`, `.summary()`, ...), a one-line `repr` and an
HTML table of the headline KPIs for notebooks. The numbers are those `simcenter run` and
`simcenter compare` write (`summary()` is summary.csv, `Comparison.comparison` comparison.csv).

Only the standard library is imported at the top: `import simcenter` and `simcenter --help`
must stay fast, so pandas, SimPy and SciPy are imported when a function or view needs them.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .comparison import Comparison as _ComparisonRows
    from .runner import RunResult
    from .scenario.schema import Scenario

_KEYS = ("scenario", "replication")


def _handed_on(name: str, doc: str) -> property:
    """A read-only attribute of the underlying result, shown as the object's own."""
    return property(lambda self: getattr(self.result, name), doc=doc)


# --------------------------------------------------------------------------- loading


def load_scenario(name_or_path: str | os.PathLike[str], sets: Iterable[str] = ()) -> Scenario:
    """Read, merge (`extends`), override and validate a scenario.

    `name_or_path` is a scenario file, or the name of a scenario shipped with simcenter
    ("baseline", "s1_full_empowerment", ...): an existing file of that name wins.
    `sets` are overrides as on the command line, e.g. ["horizon.days=250",
    "townships.qianku.windows.G1=4"]; each value is read as YAML. Raises
    `simcenter.scenario.ScenarioError` listing every problem found (`.problems`, one line each).
    """
    from .resolve import load_scenario as _load

    return _load(name_or_path, _as_list(sets))


def _as_list(sets: Iterable[str]) -> list[str]:
    """`sets` as a list; one string is one override (not a sequence of characters)."""
    return [sets] if isinstance(sets, str) else list(sets)


def _is_source(scenario: Any) -> bool:
    return isinstance(scenario, (str, os.PathLike))


def _check(scenarios: list, sets: list[str], replications: int | None, seed: int | None) -> None:
    """Refuse what would otherwise be ignored or slip past validation on a Scenario object."""
    from .scenario.schema import Scenario

    for s in scenarios:
        if not (_is_source(s) or isinstance(s, Scenario)):
            raise TypeError(f"a scenario is a shipped name, a file path or a Scenario (got {type(s).__name__})")
    if sets and not all(_is_source(s) for s in scenarios):
        raise ValueError("sets apply to scenarios given by name or path; apply them to a Scenario object "
                         "by loading it with simcenter.load_scenario(name_or_path, sets)")
    if replications is not None and (isinstance(replications, bool) or not isinstance(replications, int)
                                     or not 1 <= replications <= 100_000):
        raise ValueError(f"replications: a whole number from 1 to 100000 (got {replications!r})")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63):
        raise ValueError(f"seed: a whole number from 0 to 2**63 - 1 (got {seed!r})")


def _check_scheduler(jobs: int, scheduler: str | None) -> None:
    if scheduler is None:
        return
    if jobs != 1:
        raise ValueError(f"give either jobs or scheduler (got jobs={jobs!r} and scheduler={scheduler!r})")
    from .execution import check_scheduler

    check_scheduler(scheduler)


# --------------------------------------------------------------------------- formatting


def _headline() -> tuple[str, ...]:
    """The headline KPIs: the catalogue's in simcenter.kpis, else the sweep's default list."""
    from . import kpis

    names = getattr(kpis, "HEADLINE", None)
    if names is None:
        from . import experiment

        names = experiment.HEADLINE_KPIS
    return tuple(names)


def _label(name: str) -> str:
    from . import kpis

    label = getattr(kpis, "label", None)
    return label(name) if callable(label) else name.replace("_", " ")


def _number(value: Any) -> str:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    return "–" if not math.isfinite(x) else f"{x:.4g}"


def _interval(low: Any, high: Any) -> str:
    return f"[{_number(low)}, {_number(high)}]"


def _table(caption: str, head: list[str], body: list[list[str]]) -> str:
    """A small HTML table; `caption` and `head` are escaped here, cells must be escaped already."""
    out = ["<table>", f"<caption>{html.escape(caption)}</caption>",
           "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr></thead>", "<tbody>"]
    out += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body]
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def _short(value: str, width: int = 40) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."


# --------------------------------------------------------------------------- run


class _Tables:
    """The pandas views every result has, over `self.result` (kpis, by_township, tables)."""

    result: RunResult | _ComparisonRows

    @property
    def rows(self) -> list[dict]:
        """The county KPIs, one dict per (scenario ×) replication."""
        return self.result.kpis

    @property
    def kpis(self) -> pd.DataFrame:
        """One row per (scenario ×) replication: scenario, replication, then a column per KPI."""
        import pandas as pd

        return pd.DataFrame(self.result.kpis)

    @property
    def by_township(self) -> pd.DataFrame:
        """One row per (scenario ×) replication × township."""
        import pandas as pd

        return pd.DataFrame(self.result.by_township)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The detail tables (kpis_by_hour, wait_histogram, ...), as written beside kpis.parquet."""
        import pandas as pd

        return {name: pd.DataFrame(rows) for name, rows in sorted(self.result.tables.items())}


@dataclass(repr=False, eq=False)
class Run(_Tables):
    """The replications of one scenario, as `simcenter run` writes them.

    `.kpis` is kpis.parquet (one row per replication, a column per KPI), `.by_township`
    kpis_by_township.parquet, `.summary()` summary.csv (mean and 95% t interval per KPI over the
    replications), `.records` the raw visits and cases per replication when kept. `.rows` and
    `.result` give the plain list-of-dicts view.
    """

    result: RunResult

    @property
    def scenario(self) -> Scenario:
        return self.result.scenario

    @property
    def replications(self) -> int:
        return len(self.result.kpis)

    @property
    def records(self) -> list | None:
        """The records of each replication with `keep_records=True`; None otherwise."""
        return self.result.records or None

    def summary(self) -> pd.DataFrame:
        """summary.csv: one row per KPI with its mean, 95% t interval (ci_low, ci_high) and n."""
        import pandas as pd

        from .kpis import KPI_NAMES
        from .stats import summarize

        return pd.DataFrame(summarize(self.result.kpis, KPI_NAMES))

    def _kpi_count(self) -> int:
        first = self.result.kpis[0] if self.result.kpis else {}
        return sum(k not in _KEYS for k in first)

    def __repr__(self) -> str:
        return f"Run(scenario={_short(self.scenario.name)!r}, replications={self.replications}, kpis={self._kpi_count()})"

    def _repr_html_(self) -> str:
        summary = {row["kpi"]: row for row in self.summary().to_dict("records")}
        body = [[html.escape(_label(k)), _number(summary[k]["mean"]), _interval(summary[k]["ci_low"], summary[k]["ci_high"]),
                 _number(summary[k]["n"])] for k in _headline() if k in summary]
        caption = f"{self.scenario.name}: {self.replications} replication{'s' if self.replications != 1 else ''}"
        return _table(caption, ["KPI", "mean", "95% interval", "n"], body)


def run(scenario: str | os.PathLike[str] | Scenario, replications: int | None = None, *, jobs: int = 1,
        seed: int | None = None, sets: Iterable[str] = (), keep_records: bool = False,
        scheduler: str | None = None) -> Run:
    """Run replications 0..n-1 of a scenario and return a `Run` (its KPIs as pandas tables).

    `scenario` is the name of a shipped scenario ("baseline", "s6_full_package", ...), a file
    path, or a `Scenario` from `simcenter.load_scenario`. `replications` and `seed` override the
    scenario's; `sets` are overrides as on the command line (["horizon.days=250"]), only with a
    name or path. `jobs` processes run the replications (1 = in-process, 0 = one per core), or
    the Dask cluster at `scheduler` ("tcp://host:8786"); the results do not depend on either.
    `keep_records=True` keeps each replication's visits and cases
    (`.records`; memory grows with the horizon).

    >>> result = simcenter.run("baseline", 5, jobs=2)          # doctest: +SKIP
    >>> result.summary().set_index("kpi").loc["wait_mean"]     # doctest: +SKIP
    """
    from . import runner
    from .comparison import load

    sets = _as_list(sets)
    _check([scenario], sets, replications, seed)
    (loaded,) = load(scenario, (), sets, replications, seed)
    _check_scheduler(jobs, scheduler)
    return Run(runner.run(loaded, loaded.replications, jobs, keep_records, scheduler=scheduler))


# --------------------------------------------------------------------------- compare


@dataclass(repr=False, eq=False)
class Comparison(_Tables):
    """A baseline and reforms run with common random numbers, as `simcenter compare` writes them.

    `.kpis` is kpis.parquet (one row per scenario × replication), `.comparison` comparison.csv
    (one row per reform × KPI: the paired difference reform − baseline with its
    Bonferroni-adjusted interval), `.summary()` summary.csv (mean and 95% t interval per
    scenario × KPI). `.result` is the plain `simcenter.comparison.Comparison` (lists of dicts).
    """

    result: _ComparisonRows

    scenarios = _handed_on("scenarios", "The scenarios (list[Scenario]), baseline first.")
    scenario = property(lambda self: self.result.scenarios[0], doc="The baseline scenario.")
    baseline = _handed_on("baseline", "The baseline's name.")
    reforms = _handed_on("reforms", "The reforms' names, in order.")
    replications = _handed_on("replications", "Replications per scenario.")
    seed = _handed_on("seed", "The seed of every scenario (common random numbers).")
    level = _handed_on("level", "The level of each paired interval (Bonferroni-adjusted for the number of reforms).")
    method = _handed_on("method", "How the paired intervals are computed.")

    @property
    def comparison(self) -> pd.DataFrame:
        """comparison.csv: baseline, reform, kpi, baseline_mean, reform_mean, difference, ci_low,
        ci_high, n, level, significant."""
        import pandas as pd

        from .layout import COMPARISON_COLUMNS

        return pd.DataFrame(self.result.comparison, columns=list(COMPARISON_COLUMNS))

    def summary(self) -> pd.DataFrame:
        """summary.csv: one row per scenario × KPI with its mean, 95% t interval and n."""
        import pandas as pd

        return pd.DataFrame(self.result.summary)

    def __repr__(self) -> str:
        reforms = [_short(r, 24) for r in self.reforms]
        shown = repr(reforms[:2])[:-1] + (f", +{len(reforms) - 2} more]" if len(reforms) > 2 else "]")
        kpis = len({row["kpi"] for row in self.result.summary})
        return (f"Comparison(baseline={_short(self.baseline, 24)!r}, reforms={shown}, "
                f"replications={self.replications}, kpis={kpis})")

    def _repr_html_(self) -> str:
        headline = _headline()
        if not self.reforms:
            rows = {r["kpi"]: r for r in self.result.summary}
            body = [[html.escape(_label(k)), _number(rows[k]["mean"]), _interval(rows[k]["ci_low"], rows[k]["ci_high"]),
                     _number(rows[k]["n"])] for k in headline if k in rows]
            return _table(f"{self.baseline}: {self.method}", ["KPI", "mean", "95% interval", "n"], body)
        order = {k: i for i, k in enumerate(headline)}
        chosen = sorted((r for r in self.result.comparison if r["kpi"] in order),
                        key=lambda r: (self.reforms.index(r["reform"]), order[r["kpi"]]))
        body = [[html.escape(r["reform"]), html.escape(_label(r["kpi"])), _number(r["baseline_mean"]),
                 _number(r["reform_mean"]), _number(r["difference"]), _interval(r["ci_low"], r["ci_high"]),
                 "yes" if r["significant"] else "no"] for r in chosen]
        head = ["reform", "KPI", f"{self.baseline} mean", "reform mean", "difference",
                f"{100 * self.level:.4g}% interval", "significant"]
        return _table(f"reform − {self.baseline}: {self.method}", head, body)


def compare(baseline: str | os.PathLike[str] | Scenario,
            reforms: Iterable[str | os.PathLike[str] | Scenario] = (), replications: int | None = None, *,
            jobs: int = 1, seed: int | None = None, sets: Iterable[str] = (), scheduler: str | None = None
            ) -> Comparison:
    """Run a baseline and reforms with common random numbers; compare each reform with the baseline.

    Each scenario is the name of a shipped scenario, a file path or a `Scenario` object. Every
    scenario runs the baseline's replications 0..n-1 with the baseline's seed (`replications` and
    `seed` override them), so replication r of each meets the same citizens; each reform's
    difference from the baseline gets a paired-t interval, Bonferroni-adjusted for the number of
    reforms. `sets` (["horizon.days=250"]) apply to every scenario, which must then all be names
    or paths. `jobs` processes share all the (scenario, replication) tasks (1 = in-process,
    0 = one per core), or the Dask cluster at `scheduler` runs them; the results do not depend
    on either.

    >>> result = simcenter.compare("baseline", ["s1_full_empowerment"], 10, jobs=2)   # doctest: +SKIP
    >>> result.comparison.query("significant")                                        # doctest: +SKIP
    """
    from .comparison import compare as _compare

    reforms = [reforms] if _is_source(reforms) else list(reforms)
    sets = _as_list(sets)
    _check([baseline, *reforms], sets, replications, seed)
    _check_scheduler(jobs, scheduler)
    return Comparison(_compare(baseline, reforms, replications, jobs, seed, sets, scheduler=scheduler))


# --------------------------------------------------------------------------- sweep


def sweep(experiment: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None, jobs: int = 1,
          scheduler: str | None = None, resume: bool = False) -> pd.DataFrame:
    """Run a batch experiment file and return its tidy table (one row per point × replication).

    The table is kpis.parquet's: point, a column per factor, replication, then the experiment's
    KPIs. With `out` the results directory is written as by `simcenter sweep` (and `resume=True`
    reuses its finished shards); without, the shards go to a temporary directory that is removed
    afterwards. `jobs` local processes, or a Dask `scheduler` address ("tcp://host:8786").
    """
    import tempfile

    import pandas as pd

    from .batch import run_sweep
    from .experiment import load_experiment
    from .results import write_sweep

    spec = load_experiment(experiment)
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(out) if out else Path(scratch)
        outcome = run_sweep(spec, target, jobs=jobs, scheduler=scheduler, resume=resume)
        if out:
            write_sweep(target, spec, outcome, ["simcenter.sweep", str(experiment)])
        return pd.read_parquet(target / "kpis.parquet")


# --------------------------------------------------------------------------- staff


def staff(scenario: str | os.PathLike[str] | Scenario, targets: Iterable[str], *, townships: Iterable[str] = (),
          replications: int = 10, jobs: int = 1, seed: int | None = None, sets: Iterable[str] = ()):
    """The fewest windows and township reviewers meeting every target, township by township
    (docs/staffing.md); returns a `staffing.StaffingResult` (`.rows()`: staffing.csv, `.candidates`:
    every candidate tried, `.staffed`: the scenario with the staffing).

    >>> simcenter.staff("baseline", ["wait_p90<=15"], jobs=2).rows()   # doctest: +SKIP
    """
    from . import staffing
    from .comparison import load

    sets = _as_list(sets)
    _check([scenario], sets, None, seed)
    (loaded,) = load(scenario, (), sets, None, seed)
    wanted = staffing.parse_targets(list(targets))
    return staffing.search(loaded, wanted, list(townships) or None, replications, jobs)
