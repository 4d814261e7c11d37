"""The command line. Results go to stdout, progress and errors to stderr.

Exit status: 0 ok, 1 internal error, 2 bad input, 3 a sweep with failed points, 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM). Heavy modules (pandas,
scipy, the model) are imported inside the commands so that `--help` and `validate` stay fast.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import os
import signal
import sys

import click

from .progress import Progress as _Progress

# At exit, the command's objects (modules, pydantic's schemas, results) are left to the operating
# system: frozen, the interpreter's last collections do not walk and free them one by one (~0.2 s
# of every command). Atexit handlers still run and files are still flushed.
atexit.register(gc.freeze)

SCENARIO_HELP = "a scenario file, or the name of a shipped one (default: the Cangnan baseline)"


def _errors_handled(command):
    """Bad input → one line per problem and exit 2; SIGTERM raised as Terminated, which `_Commands`
    turns into 143 like Ctrl-C into 130 (both after stopping the workers; finished work is kept); a
    closed output pipe (`| head`) → 0, the work being done; a bug → 1 (traceback with SIMCENTER_DEBUG=1)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from .results import OutputError
        from .scenario import ScenarioError

        previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            return command(*args, **kwargs)
        except click.ClickException:  # usage errors: click prints them and exits 2
            raise
        except BrokenPipeError:  # the reader went away: nothing more to say, and nobody to say it to
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except ScenarioError as e:
            for line in e.problems:
                click.echo(line, err=True)
            sys.exit(2)
        except OutputError as e:
            click.echo(str(e), err=True)
            sys.exit(2)
        except Exception as e:  # noqa: BLE001 - the last line of defence
            if os.environ.get("SIMCENTER_DEBUG"):
                raise
            click.echo(f"internal error: {type(e).__name__}: {e} (set SIMCENTER_DEBUG=1 for a traceback)", err=True)
            sys.exit(1)
        finally:
            signal.signal(signal.SIGTERM, previous)

    return wrapper


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, Slurm, docker stop): stopped like Ctrl-C, so workers are stopped too."""


def _terminated(signum, frame):
    raise Terminated


class _Commands(click.Group):
    """The commands. Ctrl-C → 130 and SIGTERM → 143 (after the command's `finally` blocks stopped the
    workers), from the first moment: parsing the options and importing what a command needs too,
    where click would print "Aborted!" and exit 1."""

    def make_context(self, *args, **kwargs):
        with _interrupt_exits():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _interrupt_exits():
            return super().invoke(ctx)


@contextlib.contextmanager
def _interrupt_exits():
    try:
        yield
    except Terminated:  # SIGTERM, once a command has set its handler
        click.echo("terminated", err=True)
        sys.exit(143)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="simcenter")
def main():
    """Simulate township convenience service centres and compare reforms."""
    from .progress import interval

    try:  # before any command writes anything
        interval()
    except ValueError as e:
        click.echo(str(e), err=True)
        sys.exit(2)


def _cluster(jobs: int, scheduler: str | None) -> str | None:
    """The Dask scheduler to run on: --scheduler, else $DASK_SCHEDULER_ADDRESS (as `sweep`), else None."""
    if jobs != 1 and scheduler:
        raise click.UsageError("give either --jobs or --scheduler")
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if scheduler:
        from .execution import check_scheduler

        check_scheduler(scheduler)  # before anything is written
    return scheduler


def _sets(sets, replications=None, seed=None) -> list[str]:
    extra = [f"replications={replications}"] if replications is not None else []
    extra += [f"seed={seed}"] if seed is not None else []
    return list(sets) + extra


# options several commands share, declared once
_jobs = click.option("-j", "--jobs", type=click.IntRange(0, 1024), default=1, show_default=True,
                     help="worker processes (0 = one per core)")
_scheduler = click.option("--scheduler", metavar="tcp://HOST:PORT",
                          help="run on this Dask cluster (default: $DASK_SCHEDULER_ADDRESS, else --jobs processes)")
_force = click.option("--force", is_flag=True, help="replace the contents of an existing results directory")
_seed = click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="base seed (default: the scenario's)")
_seed_of_every = click.option("--seed", type=click.IntRange(0, 2**63 - 1),
                              help="base seed of every scenario (default: the baseline's)")


@main.command()
@click.argument("scenario", required=False)
@click.option("-r", "--replications", type=click.IntRange(1, 100_000), help="replications (default: the scenario's)")
@_seed
@_jobs
@_scheduler
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="override a scenario key (repeatable)")
@click.option("-o", "--out", type=click.Path(), help="results directory (default: results/NAME-TIMESTAMP)")
@_force
@click.option("--records", is_flag=True, help="also save every visit and case (visits/cases.parquet)")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
@click.option("--report", "make_report", is_flag=True, help="also write RESULTS_DIR/report.html (see `report`)")
@_errors_handled
def run(scenario, replications, seed, jobs, scheduler, sets, out, force, records, as_json, make_report):
    """Run a scenario's replications and write a results directory."""
    from pathlib import Path

    from . import runner
    from .results import capacity_warnings, write_run
    from .resolve import load_scenario

    scheduler = _cluster(jobs, scheduler)
    spec = load_scenario(scenario, _sets(sets, replications, seed))
    target = _claim(Path(out) if out else _default_out(spec.name), force)
    warnings = _warn(capacity_warnings([spec]))
    with _Progress(spec.replications, f"{spec.name}") as advance:
        result = runner.run(spec, jobs=jobs, keep_records=records, progress=advance, scheduler=scheduler)
    write_run(target, result, sys.argv, executor=result.executor, records=records, warnings=warnings)
    _print_summary(result.kpis, as_json)
    click.echo(f"results: {target}", err=True)
    _report(target, make_report)


@main.command()
@click.argument("scenarios", nargs=-1, metavar="[BASELINE REFORM...]")
@click.option("-r", "--replications", type=click.IntRange(1, 100_000),
              help="replications of every scenario (default: the baseline's)")
@_seed_of_every
@_jobs
@_scheduler
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="override a key in every scenario (repeatable)")
@click.option("-o", "--out", type=click.Path(), help="results directory (default: results/compare-TIMESTAMP)")
@_force
@click.option("--json", "as_json", is_flag=True, help="print the summary and the comparison as JSON")
@click.option("--report", "make_report", is_flag=True, help="also write RESULTS_DIR/report.html (see `report`)")
@click.option("--all", "every", is_flag=True, help="with no scenario named: every shipped reform, not the headline ones")
@click.option("--kpi", "columns", multiple=True, metavar="NAME",
              help="a KPI column of the table (repeatable; default: the headline KPIs and the staff cost)")
@click.option("--every-kpi", is_flag=True, help="print every KPI: a table per reform with the intervals")
@_errors_handled
def compare(scenarios, replications, seed, jobs, scheduler, sets, out, force, as_json, make_report, every, columns,
            every_kpi):
    """Compare reforms with a baseline, with common random numbers and paired-t intervals.

    Every scenario runs the same replications with the same seed (the baseline's), so each
    replication meets the same citizens; each reform's difference from the baseline gets a
    paired-t interval, Bonferroni-adjusted across the reforms. With no scenario: the shipped
    baseline against the headline reforms (full empowerment, unified windows, the full
    package) with 3 replications unless -r says otherwise; --all: against every shipped reform.
    """
    from pathlib import Path

    from .comparison import compare as run_comparison
    from .comparison import HEADLINE, HEADLINE_REPLICATIONS, library, load, shipped
    from .results import capacity_warnings, write_compare

    _check_kpis(columns)
    scheduler = _cluster(jobs, scheduler)
    if len(scenarios) == 1:
        raise click.UsageError("give a baseline and at least one reform, or no scenario at all "
                               "to compare the shipped baseline with every shipped reform")
    if every and scenarios:
        raise click.UsageError("--all compares the shipped library: name no scenario with it")
    if scenarios:
        baseline, reforms = scenarios[0], list(scenarios[1:])
    else:
        names = library() if every else [name for name in HEADLINE if name in library()]
        baseline, reforms = shipped("baseline"), [shipped(name) for name in names]
        if not every and replications is None:
            replications = HEADLINE_REPLICATIONS
        count = f"{replications} replications" if replications else "the baseline's replications"
        click.echo(f"comparing the shipped baseline with {'every shipped reform' if every else 'the headline reforms'} "
                   f"({', '.join(names)}): {count} of the default horizon (a full year) each, with common random "
                   "numbers; the paired intervals below show the precision reached (-r N for more replications, "
                   "--all for every shipped reform)", err=True)
    loaded = load(baseline, reforms, sets, replications, seed)
    target = _claim(Path(out) if out else _default_out("compare"), force)
    warnings = _warn(capacity_warnings(loaded))
    tasks = len(loaded) * loaded[0].replications
    with _Progress(tasks, f"{len(loaded)} scenarios") as advance:
        result = run_comparison(loaded[0], loaded[1:], jobs=jobs, progress=advance, scheduler=scheduler)
    write_compare(target, result, sys.argv, executor=result.executor, warnings=warnings)
    _print_comparison(result, as_json, list(columns), every_kpi)
    click.echo(f"results: {target}", err=True)
    _report(target, make_report)


@main.command()
@click.argument("reforms", nargs=-1, metavar="[REFORM...]")
@click.option("--baseline", default="baseline", show_default=True, help="the baseline scenario (a file or a shipped name)")
@click.option("--all", "every", is_flag=True, help="every shipped reform (default: the headline reforms)")
@click.option("--input", "inputs", multiple=True, metavar="NAME",
              help="an uncertain input to vary (repeatable; default: all, see docs/sensitivity.md)")
@click.option("--kpi", "kpis", multiple=True, metavar="NAME", help="a KPI to report (repeatable; default: the headline KPIs)")
@click.option("-r", "--replications", type=click.IntRange(1, 100_000),
              help="replications of every scenario (default: the baseline's; 3 for the headline reforms)")
@_seed_of_every
@_jobs
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="override a key in every scenario (repeatable)")
@click.option("-o", "--out", type=click.Path(), help="results directory (default: results/sensitivity-TIMESTAMP)")
@_force
@_errors_handled
def sensitivity(reforms, baseline, every, inputs, kpis, replications, seed, jobs, sets, out, force):
    """Does the comparison hold if the assumptions are wrong? Vary each uncertain input alone.

    Each input (patience, review work, generalist slowdown, incomplete documents, sign-off days,
    market-day factor, demand level, one-matter share, referrals) is set to its low and then its
    high value while the others keep their central values; the baseline and every reform run
    with common random numbers each time. Prints each reform's effect on each KPI at the central
    values, its range over the inputs, and the inputs that flip its sign or the ranking of the
    reforms; writes sensitivity.csv and a tornado figure per reform (see docs/sensitivity.md).
    """
    from pathlib import Path

    from . import sensitivity as design
    from .comparison import HEADLINE, HEADLINE_REPLICATIONS, library, shipped
    from .kpis import CATALOGUE
    from .kpis import HEADLINE as HEADLINE_KPIS
    from .results import write_sensitivity
    from .scenario import ScenarioError

    if every and reforms:
        raise click.UsageError("--all varies the shipped library: name no reform with it")
    known = ", ".join(design.INPUTS)
    problems = [f"--input {n}: one of {known} (got {n!r})" for n in inputs if n not in design.INPUTS]
    problems += [f"--kpi {k}: a KPI of docs/kpis.md, e.g. {', '.join(HEADLINE_KPIS[:3])} (got {k!r})"
                 for k in kpis if k not in CATALOGUE]
    if problems:
        raise ScenarioError(problems)
    if not reforms:
        names = library() if every else [name for name in HEADLINE if name in library()]
        reforms = [shipped(name) for name in names]
        if not every and replications is None:
            replications = HEADLINE_REPLICATIONS
    plan = design.plan(baseline, list(reforms), design.chosen(inputs), sets, replications, seed, explicit=bool(inputs))
    _warn(plan.skipped)
    target = _claim(Path(out) if out else _default_out("sensitivity"), force)
    warnings = _warn(design.warnings(plan))
    scenarios = plan.distinct()
    with _Progress(len(scenarios) * plan.replications, f"{len(scenarios)} scenarios") as advance:
        result = design.run(plan, list(dict.fromkeys(kpis)) or list(HEADLINE_KPIS), jobs=jobs, progress=advance)
    write_sensitivity(target, result, sys.argv, warnings=warnings)
    _print_sensitivity(result)
    from . import plots

    for path in plots.plot(target, ["tornado"]):
        click.echo(f"figure: {path}", err=True)
    click.echo(f"results: {target}", err=True)


def _print_sensitivity(result) -> None:
    """Per reform and KPI: the central effect, its range over the inputs, and what flips its sign;
    per KPI: the ranking of the reforms and the inputs that change it."""
    from rich.table import Table

    from .sensitivity import ranking_changes, robustness

    table = Table(title=f"{', '.join(result.reforms)} vs {result.baseline}: effect (reform − baseline) "
                        f"as each input moves alone over its range")
    for column in ("reform", "KPI", "central effect", "range over inputs", "sign"):
        table.add_column(column, justify="left" if column in ("reform", "KPI", "sign") else "right")
    for r in robustness(result.rows):
        low, high = _nums(r.low, r.high)
        sign = "holds" if not r.flips else "flips: " + ", ".join(
            f"{f}{' *' if f in r.significant_flips else ''}" for f in r.flips)
        table.add_row(r.reform, r.kpi, _num(r.central), f"[{low}, {high}]", sign)
    console = _console(width=_console().width if _console().is_terminal else 140)
    console.print(table)
    if len(result.reforms) > 1:
        for kpi in result.kpis:
            order, changed = ranking_changes(result.rows, kpi)
            console.print(f"{kpi}: ranking {' > '.join(order)}; "
                          + (f"changes under {', '.join(changed)}" if changed else "holds under every input"))
    inputs = "; ".join(f"{i.name} ({i.range_text()})" for i in result.plan.inputs)
    console.print(f"{result.central.method.replace('paired-t intervals', 'paired-t intervals at the central values')}. "
                  f"Inputs varied one at a time: {inputs}. * the flipped effect's interval excludes 0.")


@main.command()
@click.argument("experiments", nargs=-1, required=True, metavar="EXPERIMENT...")
@click.option("-r", "--replications", type=click.IntRange(1, 100_000),
              help="replications of every point (default: the experiment's)")
@click.option("-j", "--jobs", type=click.IntRange(0, 1024), default=1, show_default=True,
              help="local worker processes (0 = one per core)")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="run on this Dask cluster (default: $DASK_SCHEDULER_ADDRESS, else local processes)")
@click.option("--resume", is_flag=True, help="continue in --out, recomputing only unfinished replications")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="override an experiment key (replications, seed, chunk, precision, kpis) or a key of the base scenario")
@click.option("-o", "--out", type=click.Path(), help="results directory (default: results/NAME); one experiment only")
@click.option("--force", is_flag=True, help="replace an existing results directory, reusing its finished shards")
@click.option("--report", "make_report", is_flag=True, help="also write RESULTS_DIR/report.html (see `report`)")
@_errors_handled
def sweep(experiments, replications, jobs, scheduler, resume, sets, out, force, make_report):
    """Run batch experiments (files, or names of shipped ones): every point of each design, in
    tasks of replications, each experiment into its own results directory.

    Exit status 3 if some points failed (the others are written), 130 if interrupted (what
    finished is kept: run again with --resume).
    """
    from .batch import SHARDS, check_resumable
    from .results import OutputError, locked

    if jobs != 1 and scheduler:
        raise click.UsageError("give either --jobs or --scheduler")
    if out and len(experiments) > 1:
        raise OutputError(f"--out {out}: one experiment (got {len(experiments)}; without --out each goes to results/NAME)")
    planned = _sweep_targets(experiments, _sets(sets, replications), out)
    for spec, target in planned:  # refuse before anything runs or is written
        if resume:
            check_resumable(target, spec)
    for _, target in planned:  # each directory locked until the command ends
        if resume:
            target.mkdir(parents=True, exist_ok=True)
            click.get_current_context().with_resource(locked(target))
        else:
            _claim(target, force, keep=(SHARDS,))
    failed = [_sweep_one(spec, target, jobs, scheduler, resume, make_report) for spec, target in planned]
    if any(failed):
        sys.exit(3)


def _sweep_targets(experiments, sets: list[str], out) -> list:
    """(Experiment, its results directory) for each experiment, every one validated first."""
    from pathlib import Path

    from .experiment import load_experiment
    from .layout import file_stem
    from .results import OutputError
    from .scenario import ScenarioError

    loaded, problems = [], []
    for experiment in experiments:
        try:
            loaded.append(load_experiment(experiment, sets))
        except ScenarioError as e:
            problems.extend(e.problems)
    if problems:
        raise ScenarioError(problems)
    targets = [Path(out) if out else Path("results") / file_stem(spec.spec.name) for spec in loaded]
    for spec, target in zip(loaded, targets):
        if targets.count(target) > 1:
            raise OutputError(f"{target}: one experiment a directory (got {targets.count(target)} named "
                              f"{spec.spec.name})")
    return list(zip(loaded, targets))


def _sweep_one(spec, target, jobs, scheduler, resume, make_report) -> bool:
    """Run one experiment into `target` and write its results; True if some points failed."""
    import time

    from .batch import run_sweep
    from .results import sweep_warnings, write_sweep

    warnings = _warn(sweep_warnings(spec.points))
    start = time.perf_counter()
    with _Progress(1, f"{spec.spec.name}: {len(spec.points)} points", unit="tasks") as advance:
        outcome = run_sweep(spec, target, jobs=jobs, scheduler=scheduler, resume=resume,
                            progress=lambda what, done, total: advance.set(done, total),
                            say=lambda message: click.echo(message, err=True))
    write_sweep(target, spec, outcome, sys.argv, warnings=warnings)
    retried = f", {outcome.retried} fresh pools after a worker died" if outcome.retried else ""
    click.echo(f"{len(spec.points)} points, {sum(outcome.replications.values())} replications: "
               f"{outcome.computed} replications computed, {outcome.reused} reused{retried}, "
               f"{time.perf_counter() - start:.1f} s ({outcome.executor})", err=True)
    for point, error in sorted(outcome.failed.items()):
        click.echo(f"point {point} failed ({spec.points[point].label()}): {error}", err=True)
    click.echo(str(target))
    _report(target, make_report)
    return bool(outcome.failed)


def _days(value):
    """--days: a number of working days or "all" (click type for the queue's span)."""
    if value is None or value == "all":
        return value
    if str(value).isdigit() and int(value) > 0:
        return int(value)
    raise click.BadParameter(f"a number of working days ≥ 1 or 'all' (got {value!r})")


@main.command()
@click.argument("results_dir", type=click.Path(file_okay=False), metavar="RESULTS_DIR")
@click.option("-k", "--kind", "kinds", multiple=True,
              type=click.Choice(["waits", "by-hour", "utilization", "compare", "township-effects", "trips",
                                 "lead-times", "townships", "sweep", "tornado", "staffing", "queue"]),
              help="a figure to draw (repeatable; default: those that suit the directory)")
@click.option("--scenario", "scenarios", multiple=True, metavar="NAME",
              help="only these scenarios (repeatable; a comparison keeps its baseline)")
@click.option("--kpi", "kpis", multiple=True, metavar="NAME",
              help="the KPIs of compare, township-effects, sweep, tornado and staffing panels (repeatable)")
@click.option("--township", metavar="ID|名|pinyin",
              help="only this township, by id, Chinese or pinyin name (by-hour, utilization, compare, sweep, "
                   "staffing, queue)")
@click.option("--days", callback=lambda ctx, param, value: _days(value), metavar="N|all",
              help="queue: the first N measured working days (default 5), or all of them day by day")
@click.option("-o", "--out", type=click.Path(file_okay=False), help="folder of the figures (default: RESULTS_DIR/figures)")
@click.option("--dpi", type=click.IntRange(30, 1200), default=150, show_default=True, help="resolution of PNG files")
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]), default="png", show_default=True,
              help="file format")
@_errors_handled
def plot(results_dir, kinds, scenarios, kpis, township, days, out, dpi, fmt):
    """Draw figures of a results directory into RESULTS_DIR/figures/ and print their paths.

    Kinds: waits (share served within x minutes), by-hour (waits and queue by clock hour),
    utilization (window group × hour heatmap), compare (paired differences from the baseline),
    township-effects (which reform helps where), trips (trips per case, one-trip rates),
    lead-times (lead days by route), townships (headline KPIs per township, remote vs near),
    sweep (a KPI against the factors), tornado (a sensitivity's effect per input, one file per
    reform), staffing (a `staff` search: staff against its targets), queue (people waiting over
    time in one hall; needs `run --records`). Options that change a figure are in its file name
    (compare--kpi-wait_mean.png).
    """
    from . import plots

    results = plots.load(results_dir)
    kinds = list(kinds) or plots.default_kinds(results)
    for path in plots.plot(results, kinds, fmt, township, scenarios, kpis, out, dpi, days):
        click.echo(str(path))
    for option, value, applying in (("--township", township, plots.TOWNSHIP_KINDS),
                                    ("--scenario", scenarios, plots.SCENARIO_KINDS),
                                    ("--kpi", kpis, plots.KPI_KINDS), ("--days", days, ("queue",))):
        ignored = [k for k in kinds if k not in applying]
        if value and ignored:
            shown = value if isinstance(value, str | int) else " ".join(value)
            click.echo(f"{option} {shown}: does not apply to {', '.join(ignored)} (drawn as without it)", err=True)


@main.command()
@click.argument("results_dir", type=click.Path(), metavar="RESULTS_DIR")
@click.option("-o", "--out", type=click.Path(), help="the HTML file (default: RESULTS_DIR/report.html)")
@_errors_handled
def report(results_dir, out):
    """Write one self-contained HTML report of a results directory and print its path.

    Findings in plain words with their intervals, the comparison, waits, run at most once,
    lead times, resources, townships, assumptions and the manifest; inline figures, no
    script, nothing fetched. The same results directory gives the same bytes.
    """
    from pathlib import Path

    from .report import write
    from .results import regular_target

    click.echo(str(write(Path(results_dir), regular_target(Path(out), "-o") if out else None)))


@main.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="override a scenario key (repeatable)")
@_errors_handled
def validate(scenarios, sets):
    """Check scenario files; print every problem as file:line:col: key: message.

    A back office whose offered load reaches its capacity is reported on stderr as a warning
    (prefixed with the scenario when several are given); warnings do not change the exit status.
    """
    from .resolve import ScenarioError, load_scenario

    failed = []
    for name in scenarios:
        try:
            spec = load_scenario(name, sets)
        except ScenarioError as e:
            failed.extend(e.problems)
            continue
        click.echo(f"ok: {name} ({spec.name}: {len(spec.townships)} townships, {len(spec.items)} items)")
        from .capacity import warnings  # lazily: it needs the model's calendar

        _warn([f"{name}: {line}" if len(scenarios) > 1 else line for line in warnings(spec)])
    if failed:
        raise ScenarioError(failed)


@main.command()
@_errors_handled
def reforms():
    """List the reform levers: what each changes, its parameters and their defaults."""
    from .reforms import describe

    click.echo(describe(), nl=False)


@main.command()
@_errors_handled
def schema():
    """Print the JSON Schema of scenario files (for editor completion)."""
    import json

    from .scenario.schema import Scenario

    click.echo(json.dumps(Scenario.model_json_schema(), indent=2))


@main.command()
@click.argument("scenario", required=False)
@click.option("-t", "--target", "targets", multiple=True, required=True, metavar="KPI<=VALUE",
              help="a township KPI bound, e.g. wait_p90<=15 or served_within_15_share>=0.9 (repeatable)")
@click.option("--township", "townships", multiple=True, metavar="ID", help="only this township (repeatable)")
@click.option("-r", "--replications", type=click.IntRange(2, 100_000), default=10, show_default=True,
              help="replications of every candidate (at least 2: the decision needs an interval)")
@_seed
@_jobs
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster instead of local processes")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="override a scenario key (repeatable)")
@click.option("-o", "--out", type=click.Path(), help="results directory (default: results/staff-TIMESTAMP)")
@_force
@_errors_handled
def staff(scenario, targets, townships, replications, seed, jobs, scheduler, sets, out, force):
    """Find the fewest windows and township reviewers meeting every target, township by township.

    A target is met only when the far end of its 95% t interval over the replications is inside
    the bound. Reviewers are searched in steps of 0.5 posts. See docs/staffing.md.
    """
    import time
    from pathlib import Path

    from . import staffing
    from .results import capacity_warnings
    from .resolve import load_scenario
    from .scenario.load import did_you_mean

    if jobs != 1 and scheduler:
        raise click.UsageError("give either --jobs or --scheduler")
    try:
        wanted = staffing.parse_targets(targets)
    except staffing.TargetError as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    spec = load_scenario(scenario, _sets(sets, None, seed))
    unknown = [t for t in townships if t not in spec.townships]
    if unknown:
        for t in unknown:
            click.echo(f"--township {t}: {did_you_mean(t, spec.townships).replace('a known key', 'a township id')} "
                       f"(got {t})", err=True)
        sys.exit(2)
    target = _claim(Path(out) if out else _default_out("staff"), force)
    warnings = _warn(capacity_warnings([spec]))
    started = time.perf_counter()
    with _Progress(replications, "county run") as advance:
        result = staffing.search(spec, wanted, list(dict.fromkeys(townships)) or None, replications, jobs, scheduler,
                                 say=lambda message: click.echo(message, err=True), progress=advance)
    staffing.write(target, result, sys.argv, warnings)
    _print_staffing(result)
    click.echo(f"{result.runs} county runs of {replications} replications in {time.perf_counter() - started:.1f} s "
               f"({result.executor})", err=True)
    click.echo(f"results: {target}", err=True)


def _print_staffing(result) -> None:
    """Township × window group: windows and reviewers before → after, each target's mean [95% CI], met."""
    from rich.table import Table

    from .staffing import DECISION_RULE, REVIEWER_STEP

    table = Table(title=f"{result.scenario.name}: the fewest staff meeting {', '.join(map(str, result.targets))}")
    for column in ("township", "group", "windows", "reviewers", *map(str, result.targets), "met"):
        table.add_column(column, justify="left" if column in ("township", "group") else "right")
    for s in result.searches:
        windows, reviewers = s.candidate
        evaluation, met = result.final[s.township], result.met(s.township)
        for k, (group, before) in enumerate(s.windows_before.items()):
            cells = [s.township if k == 0 else "", group, f"{before} → {windows.get(group, 0)}"]
            if k == 0:
                cells.append(f"{s.reviewers_before:g} → {reviewers:g}")
                for t in result.targets:
                    mean, low, high = _nums(*evaluation.kpis[t.kpi][:3])
                    cells.append(f"{mean} [{low}, {high}]")
                cells.append(("yes" if all(met.values()) else "no") + (" (search limit)" if s.gave_up else ""))
            table.add_row(*cells + [""] * (len(table.columns) - len(cells)))
    console = _console(width=max(120, _console().width))
    console.print(table)
    console.print(f"mean [95% t interval] over {result.replications} replications with common random numbers; "
                  f"{DECISION_RULE}; reviewers in steps of {REVIEWER_STEP:g}.")


def _warn(lines: list[str]) -> list[str]:
    """Print warning lines on stderr as plain text and return them unchanged (for the manifest).

    Not through rich, so `[...]` in a name is not markup; control characters (an escape
    sequence in a township's name) are shown escaped, not sent to the terminal.
    """
    for line in lines:
        click.echo(_printable(line), err=True)
    return lines


def _console(**options):
    """A rich console that prints names as they are: `[bold]` in a scenario name is text, not markup."""
    from rich.console import Console

    return Console(markup=False, highlight=False, emoji=False, **options)


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _report(target, wanted: bool) -> None:
    """--report: write RESULTS_DIR/report.html and say where (stderr)."""
    if wanted:
        from .report import write

        click.echo(f"report: {write(target)}", err=True)


def _claim(out, force: bool, keep: tuple[str, ...] = ()):
    """The results directory prepared and locked until the command ends (results.claimed)."""
    from .results import claimed

    return click.get_current_context().with_resource(claimed(out, force, keep))


def _default_out(name: str):
    """results/NAME-TIMESTAMP, with the name made a safe file name (no `/`, `..` or absolute path)."""
    from datetime import datetime
    from pathlib import Path

    from .layout import file_stem

    return Path("results") / f"{file_stem(name)}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _print_summary(rows, as_json: bool) -> None:
    import json
    import math

    from .kpis import KPI_NAMES
    from .stats import summarize

    summary = summarize(rows, KPI_NAMES)
    if as_json:
        clean = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in summary]
        click.echo(json.dumps(clean, indent=2))
        return
    from rich.table import Table

    from .console import SCREEN, run_order

    n = summary[0]["n"] if summary else 0
    table = Table(title=f"{rows[0]['scenario']}: mean and 95% t-interval over {n} replications")
    for column in ("KPI", "mean", "95% CI"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    by_name = {r["kpi"]: r for r in summary}
    for name in run_order(by_name):  # the headline KPIs and the staff cost first
        r = by_name[name]
        ci = "" if math.isnan(r["ci_low"]) else f"[{_num(r['ci_low'])}, {_num(r['ci_high'])}]"
        table.add_row(name, _num(r["mean"]), ci, end_section=name == SCREEN[-1])
    _console(width=100).print(table)


def _num(x: float) -> str:
    """Four or so significant digits: 12,345 · 703.6 · 12.345 · 0.123."""
    return _nums(x)[0]


def _nums(*xs: float) -> list[str]:
    """Numbers shown with the same decimals, those that suit the largest (a difference and its CI)."""
    top = max((abs(x) for x in xs if x == x), default=0.0)
    spec = ",.0f" if top >= 999.95 else ".1f" if top >= 99.9995 else ".3f"
    return ["n/a" if x != x else format(x, spec) for x in xs]


def _check_kpis(names) -> None:
    """--kpi NAME: a KPI column, one line per unknown name (exit 2)."""
    from .kpis import KPI_NAMES
    from .scenario import ScenarioError

    unknown = [f"--kpi {name}: a KPI column, e.g. wait_mean or staff_cost (docs/kpis.md) (got {name!r})"
               for name in names if name not in KPI_NAMES]
    if unknown:
        raise ScenarioError(unknown)


def _print_comparison(result, as_json: bool, columns: list[str] | None = None, every_kpi: bool = False) -> None:
    """Scenarios × KPIs in one table that fits 100 columns (the headline KPIs and the staff cost,
    or `columns`), or with `every_kpi` every KPI × scenarios: the mean of each, and each reform's
    difference from the baseline with its CI, in tables as wide as the terminal.
    """
    import json
    import math

    if as_json:
        def clean(rows):
            return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]

        click.echo(json.dumps({
            "baseline": result.baseline, "reforms": result.reforms, "replications": result.replications,
            "seed": result.seed, "level": result.level, "method": result.method,
            "summary": clean(result.summary), "comparison": clean(result.comparison),
        }, indent=2))
        return

    if not every_kpi:
        from .console import SCREEN, comparison_note, comparison_table

        kpis = columns or list(SCREEN)
        terminal = _console()  # at most 100 columns wide: it is made to fit them
        console = _console(width=min(terminal.width, 100) if terminal.is_terminal else 100)
        console.print(comparison_table(result, kpis))
        console.print(comparison_note(result, kpis))
        return
    terminal = _console()
    console = _console(width=terminal.width if terminal.is_terminal else 120)
    for chunk in _fitting(result.reforms, lambda chunk: _comparison_table(result, chunk), console):
        console.print(_comparison_table(result, chunk))
    if result.reforms:
        console.print(f"difference = reform − baseline, * where its interval excludes 0: {result.method}. "
                      "Each scenario's own 95% intervals are in summary.csv.")
    else:
        console.print(f"{result.method}.")


def _fitting(reforms: list[str], table, console) -> list[list[str]]:
    """Reforms in groups, in order, as many per table as fit the console's width (at least one)."""
    unbounded = console.options.update_width(10_000)
    chunks: list[list[str]] = [[]]
    for reform in reforms:
        wider = chunks[-1] + [reform]
        if len(wider) == 1 or console.measure(table(wider), options=unbounded).maximum <= console.width:
            chunks[-1] = wider
        else:
            chunks.append([reform])
    return chunks


def _comparison_table(result, reforms: list[str]):
    import math

    from rich.table import Table

    means = {(r["scenario"], r["kpi"]): r["mean"] for r in result.summary}
    differences = {(r["reform"], r["kpi"]): r for r in result.comparison}
    kpis = list(dict.fromkeys(r["kpi"] for r in result.summary))
    title = {0: result.baseline, 1: f"{reforms[0]} vs {result.baseline}" if reforms else ""}.get(
        len(reforms), f"{len(reforms)} reforms vs {result.baseline}")
    table = Table(title=title)
    table.add_column("KPI")
    table.add_column(f"{result.baseline}\nmean", justify="right")
    for reform in reforms:
        table.add_column(f"{reform}\nmean", justify="right")
        table.add_column(f"difference\n[{_level(result.level)} CI]", justify="right")
    for kpi in kpis:
        cells = [kpi, _num(means[(result.baseline, kpi)])]
        for reform in reforms:
            d = differences[(reform, kpi)]
            difference, low, high = _nums(d["difference"], d["ci_low"], d["ci_high"])
            ci = "" if math.isnan(d["ci_low"]) else f" [{low}, {high}]"
            cells += [_num(means[(reform, kpi)]), f"{difference}{ci}{' *' if d['significant'] else '  '}"]
        table.add_row(*cells)
    return table


def _level(level: float) -> str:
    return f"{level * 100:.4g}%"
