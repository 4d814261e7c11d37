"""What several test modules share: the small test scenario, the command line, and builders of
small scenarios from plain mappings, validated like a file (levers applied).

A plain module, imported by the tests (also inside hypothesis strategies, where fixtures cannot
go); tests/conftest.py offers the builders as fixtures too."""

from __future__ import annotations

import copy
from pathlib import Path

from simcenter.resolve import resolve as validate

DATA = Path(__file__).resolve().parent / "data"
SMALL = DATA / "small.yaml"  # two townships, two window groups, three items: the tests' scenario


def invoke(*args):
    """`simcenter ARGS...` in this process (click's runner); arguments may be paths or numbers."""
    from click.testing import CliRunner

    from simcenter.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def results_dirs(base: Path, commands: dict[str, list], *extra) -> dict[str, Path]:
    """Run each command with `--out BASE/NAME` (and `extra` options); {name: its results directory}.
    With `--report`, the command must say where it wrote the report."""
    out = {}
    for name, command in commands.items():
        result = invoke(*command, "--out", base / name, *extra)
        assert result.exit_code == 0, result.stderr
        if "--report" in extra:
            assert f"report: {base / name / 'report.html'}" in result.stderr.splitlines(), result.stderr
        out[name] = base / name
    return out


def analytic(windows: int = 1, cases_per_day: float = 1000.0, service=None, days: int = 10, warmup: int = 1,
             replications: int = 10, seed: int = 7, **sections) -> dict:
    """An always-open centre with one immediate item: an M/M/c (or M/G/c) queue."""
    data = {
        "name": "analytic",
        "seed": seed,
        "replications": replications,
        "horizon": {"days": days, "warmup_days": warmup},
        "calendar": {"working_days": "all", "sessions": [["00:00", "24:00"]]},
        "departments": {"D": {}},
        "items": {"X": {"department": "D", "weight": 1, "route": "immediate",
                        "window_minutes": service or {"dist": "exponential", "mean": 1.0}}},
        "window_groups": {"G": ["D"]},
        "townships": {"t": {"cases_per_day": cases_per_day, "windows": {"G": windows}}},
    }
    for key, value in sections.items():
        data[key] = value
    return data


def scenario(data: dict):
    return validate(copy.deepcopy(data), {}, "<test>")
