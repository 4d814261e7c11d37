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


__all__ = ["__version__", "compare", "load_scenario", "run"]
