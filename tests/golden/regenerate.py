"""Rewrite the golden KPIs of tests/test_golden.py after a deliberate change to the model.

    python tests/golden/regenerate.py

Runs, in-process, the small scenario (tests/data/small.yaml, its 3 replications) and a week of
the shipped baseline and of the full reform package (every mechanism of the model: one-matter
cases, out-of-scope requests, finite county departments, agents, bookings, lunch windows...),
and writes one row per scenario, replication and level (the county, each township) for every
KPI, with 17 significant digits. Commit the new file together with the change that explains it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "kpis.csv"
WEEK = ["horizon.days=5", "horizon.warmup_days=1", "horizon.drain_days=20"]
# (name in the file, scenario, --set overrides, replications)
RUNS = (
    ("small", HERE.parent / "data" / "small.yaml", [], 3),
    ("baseline", "baseline", WEEK, 2),
    ("s6", "s6_full_package", WEEK, 1),
)
FIELDS = ["scenario", "level", "replication", "kpi", "value"]


def rows() -> list[dict[str, str]]:
    """(scenario, level, replication, kpi, value) rows, in a stable order."""
    from simcenter import runner
    from simcenter.resolve import load_scenario

    out = []
    for name, scenario, sets, replications in RUNS:
        result = runner.run(load_scenario(scenario, sets), replications, jobs=1)
        for row in result.kpis:
            out += _rows(name, "county", row)
        for row in result.by_township:
            out += _rows(name, row["township"], row)
    return out


def _rows(name: str, level: str, row: dict) -> list[dict[str, str]]:
    skip = {"scenario", "replication", "township"}
    return [{"scenario": name, "level": level, "replication": str(row["replication"]), "kpi": k, "value": _text(v)}
            for k, v in sorted(row.items()) if k not in skip]


def _text(value) -> str:
    value = float(value)
    return "nan" if math.isnan(value) else f"{value:.17g}"


def main() -> None:
    data = rows()
    with GOLDEN.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    print(f"{GOLDEN}: {len(data)} values")


if __name__ == "__main__":
    main()
