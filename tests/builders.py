"""Builders of small scenarios from plain mappings, validated like a file (levers applied).

A plain module, imported by the tests that build scenarios (also inside hypothesis strategies,
where fixtures cannot go); tests/conftest.py offers the same as fixtures."""

from __future__ import annotations

import copy

from simcenter.resolve import resolve as validate


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
