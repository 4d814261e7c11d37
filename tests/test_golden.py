"""Golden back-test: every KPI of a few small runs (tests/golden/regenerate.py says which)
against a committed file.

A restructuring must leave every number as it was. When the model changes on purpose, run
`python tests/golden/regenerate.py` and commit the new file with the change. Values are
compared to 12 significant digits: the last bits of a libm function may differ between
machines, nothing else may.
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def _key(r: dict) -> tuple[str, str, str, str]:
    return r["scenario"], r["level"], r["replication"], r["kpi"]


def _read(path: Path) -> dict[tuple[str, str, str, str], float]:
    with path.open(encoding="utf-8") as f:
        return {_key(r): float(r["value"]) for r in csv.DictReader(f)}


def test_every_kpi_is_as_committed():
    sys.path.insert(0, str(GOLDEN_DIR))
    try:
        import regenerate
    finally:
        sys.path.remove(str(GOLDEN_DIR))
    golden = _read(regenerate.GOLDEN)
    now = {_key(r): float(r["value"]) for r in regenerate.rows()}
    assert set(now) == set(golden), sorted(set(now) ^ set(golden))[:10]
    differ = [(key, golden[key], value) for key, value in now.items()
              if not (math.isnan(value) and math.isnan(golden[key]))
              and not math.isclose(value, golden[key], rel_tol=1e-12, abs_tol=1e-12)]
    assert not differ, f"{len(differ)} values differ, e.g. {differ[:5]}"
    from simcenter.kpis import KPI_NAMES

    for name, *_ in regenerate.RUNS:  # every KPI is pinned, in every run
        assert {k for run, level, _, k in golden if run == name and level == "county"} == set(KPI_NAMES)
