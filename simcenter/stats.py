"""Confidence intervals over replications (Student t), the only honest kind for simulations.

Each replication gives one number per KPI; the CI is over those numbers, never over the
autocorrelated waits of one run.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

LEVEL = 0.95


def t_interval(values, level: float = LEVEL) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the finite values; low/high are NaN with fewer than 2."""
    x = np.asarray(values, float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def summarize(rows: list[dict], kpis, by: tuple[str, ...] = ("scenario",)) -> list[dict]:
    """One row per group × KPI: mean, 95% CI and n over the replications of the group."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in by), []).append(row)
    out = []
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda r: r["replication"])
        for kpi in kpis:
            mean, low, high, n = t_interval([r[kpi] for r in members])
            out.append({**dict(zip(by, key)), "kpi": kpi, "mean": mean, "ci_low": low, "ci_high": high, "n": n})
    return out
