"""The SimPy model: build a county from a Scenario, run one replication, return its records.

`simulate(scenario, replication)` is the entry point; the county is built in `county.py`, the
citizen's journey is `citizen.py`, the random streams are `streams.py`.
"""

from __future__ import annotations

import gc

from ..scenario.schema import Scenario
from .county import Model
from .records import Records


def simulate(scenario: Scenario, replication: int) -> Records:
    """Run replication `replication` of a scenario and return its records."""
    # Cases live for weeks of simulated time, so the cyclic collector would re-scan hundreds of
    # thousands of long-lived objects again and again; collect young objects far less often.
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        return Model(scenario, replication).run()
    finally:
        gc.set_threshold(*thresholds)


__all__ = ["simulate"]
