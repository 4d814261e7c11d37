"""simcenter: discrete-event simulation of township convenience service centres."""

__version__ = "0.1.0"


def load_scenario(*args, **kwargs):
    from .scenario import load_scenario as _load

    return _load(*args, **kwargs)


def run(*args, **kwargs):
    """Run a scenario's replications; see `simcenter.runner.run`."""
    from .runner import run as _run

    return _run(*args, **kwargs)


# Imported, not wrapped: the submodule simcenter.compare has the same name, and importing it
# would replace a wrapper here with the module. simcenter/compare.py imports nothing heavy.
from .compare import compare  # noqa: E402

__all__ = ["__version__", "compare", "load_scenario", "run"]
