"""Confidence intervals over replications (Student t), the only honest kind for simulations.

Each replication gives one number per KPI; the CI is over those numbers, never over the
autocorrelated waits of one run.
"""

from __future__ import annotations

import math

import numpy as np

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
    # scipy.special (~0.3 s to import) only when there is an interval: `run -r 1` never needs it;
    # stdtrit is t.ppf without importing scipy.stats (1-2 s)
    from scipy import special

    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * x.std(ddof=1) / math.sqrt(n))
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


def bonferroni_level(reforms: int, level: float = LEVEL) -> float:
    """The level of each of `reforms` intervals so that all hold together with `level` (Bonferroni)."""
    return 1 - (1 - level) / max(reforms, 1)


def paired_interval(reform_values, baseline_values, level: float = LEVEL) -> tuple[float, float, float, int]:
    """(mean difference, low, high, n) of reform − baseline, paired by position (replication).

    With common random numbers both runs of a replication see the same citizens, so the
    per-replication differences vary far less than either run: the paired t interval is over
    those differences. A pair is dropped when either value is not finite. Differences that are
    all exactly equal give a zero-width interval (not NaN); fewer than 2 pairs give NaN bounds.
    """
    reform, baseline = np.asarray(reform_values, float), np.asarray(baseline_values, float)
    if reform.shape != baseline.shape:
        raise ValueError(f"paired values need the same length (got {reform.shape} and {baseline.shape})")
    keep = np.isfinite(reform) & np.isfinite(baseline)
    d = reform[keep] - baseline[keep]
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    if np.all(d == d[0]):
        mean = float(d[0])
        return (mean, mean, mean, n) if n >= 2 else (mean, math.nan, math.nan, n)
    mean, low, high, _ = t_interval(d, level)
    return mean, low, high, n
