"""simcenter: discrete-event simulation of township convenience service centres."""

__version__ = "0.1.0"


def load_scenario(*args, **kwargs):
    from .scenario import load_scenario as _load

    return _load(*args, **kwargs)


def run(*args, **kwargs):
    """Run a scenario's replications; see `simcenter.runner.run`."""
    from .runner import run as _run

    return _run(*args, **kwargs)


def compare(*args, **kwargs):
    """Compare a baseline with reforms under common random numbers; see `simcenter.comparison.compare`."""
    from .comparison import compare as _compare

    return _compare(*args, **kwargs)


def sweep(experiment, out=None, jobs: int = 1, scheduler: str | None = None, resume: bool = False):
    """Run a batch experiment file and return its tidy table (one row per point × replication).

    With `out` the results directory is written as by `simcenter sweep`; without, the shards go
    to a temporary directory that is removed afterwards.
    """
    import tempfile
    from pathlib import Path

    import pandas as pd

    from .experiment import load_experiment
    from .results import write_sweep
    from .batch import run_sweep

    spec = load_experiment(experiment)
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(out) if out else Path(scratch)
        outcome = run_sweep(spec, target, jobs=jobs, scheduler=scheduler, resume=resume)
        if out:
            write_sweep(target, spec, outcome, ["simcenter.sweep", str(experiment)])
        return pd.read_parquet(target / "kpis.parquet")


__all__ = ["__version__", "compare", "load_scenario", "run", "sweep"]
