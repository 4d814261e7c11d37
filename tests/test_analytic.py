"""The model against queueing theory, where theory applies (analytic mode).

Each check runs enough independent replications that the Student-t interval is both honest
and narrow (half-width at most 10% of the theoretical value), then asks that the theoretical
value lies inside it. The interval is at 99% because there are over a dozen such checks: at
95% one of them would miss by chance about every other seed. Seeds are fixed, so the outcome
is reproducible.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from simcenter import runner
from simcenter.scenario.distributions import Dist
from simcenter.scenario.schema import Triangular
from simcenter.stats import t_interval

from builders import analytic, scenario

pytestmark = pytest.mark.slow  # analytic validation: many replications at fixed seeds

CUSTOMERS = 300_000  # per check, over all replications
REPLICATIONS = 10


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = lam / mu
    rho = a / c
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) / (1 - rho)
    return tail / (head + tail) / (c * mu - lam)


def pollaczek_khinchine_wait(lam: float, mean: float, variance: float) -> float:
    """Mean wait in queue of M/G/1."""
    rho = lam * mean
    return lam * (variance + mean**2) / (2 * (1 - rho))


def simulated_waits(data: dict, lam_per_minute: float, customers: int = CUSTOMERS):
    days = max(3, math.ceil(customers / (REPLICATIONS * lam_per_minute * 1440)))
    data["horizon"] = {"days": days + 1, "warmup_days": 1}
    result = runner.run(scenario(data), REPLICATIONS, jobs=2)
    return [row["wait_mean"] for row in result.kpis], result


def assert_inside(values, theory: float, precision: float = 0.10):
    mean, low, high, n = t_interval(values, level=0.99)
    assert n == REPLICATIONS
    assert (high - low) / 2 <= precision * theory, f"CI too wide to be a test: {low:.4f}..{high:.4f} (theory {theory:.4f})"
    assert low <= theory <= high, f"theory {theory:.4f} outside the 99% CI {low:.4f}..{high:.4f} (mean {mean:.4f})"


# every c at 0.5 and 0.8; the heavy-traffic 0.9 (three times the customers) at c = 1 and 5 only
@pytest.mark.parametrize("c, rho", [(c, rho) for rho in (0.5, 0.8, 0.9) for c in (1, 3, 5) if (c, rho) != (3, 0.9)])
def test_mmc_matches_erlang_c(c, rho):
    mu = 1.0
    lam = rho * c * mu
    heavy = rho >= 0.9  # waits are rare and long: more customers, and 15% precision
    waits, _ = simulated_waits(analytic(windows=c, cases_per_day=lam * 1440, seed=11 + c), lam,
                               customers=CUSTOMERS * 5 // 2 if heavy else CUSTOMERS)
    assert_inside(waits, erlang_c_wait(lam, mu, c), precision=0.15 if heavy else 0.10)


def test_pooling_dedicated_windows_are_mm1_and_one_group_is_erlang_c():
    """c single windows each fed its own stream vs one group of c windows fed all of them."""
    c, rho = 3, 0.8
    lam = rho * c
    departments = {f"D{i}": {} for i in range(c)}
    items = {f"X{i}": {"department": f"D{i}", "weight": 1, "route": "immediate",
                       "window_minutes": {"dist": "exponential", "mean": 1.0}} for i in range(c)}
    dedicated = analytic(cases_per_day=lam * 1440, seed=5)
    dedicated.update(departments=departments, items=items,
                     window_groups={f"G{i}": [f"D{i}"] for i in range(c)})
    dedicated["townships"]["t"]["windows"] = {f"G{i}": 1 for i in range(c)}
    pooled = analytic(cases_per_day=lam * 1440, seed=5)
    pooled.update(departments=departments, items=items, window_groups={"ALL": list(departments)})
    pooled["townships"]["t"]["windows"] = {"ALL": c}

    waits_dedicated, _ = simulated_waits(dedicated, lam)
    waits_pooled, _ = simulated_waits(pooled, lam)
    assert_inside(waits_dedicated, erlang_c_wait(lam / c, 1.0, 1))
    assert_inside(waits_pooled, erlang_c_wait(lam, 1.0, c))


@pytest.mark.parametrize("service", [
    {"dist": "constant", "value": 1.0},
    {"dist": "gamma", "mean": 1.0, "cv": 0.5},
    {"dist": "lognormal", "mean": 1.0, "cv": 1.2},
], ids=["M/D/1", "M/G/1-gamma", "M/G/1-lognormal"])
def test_mg1_matches_pollaczek_khinchine(service, build):
    lam = 0.8
    dist = Dist(build(analytic(service=service)).items["X"].window_minutes)
    waits, _ = simulated_waits(analytic(cases_per_day=lam * 1440, service=service, seed=3), lam, 2 * CUSTOMERS)
    assert_inside(waits, pollaczek_khinchine_wait(lam, dist.mean, dist.variance))


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
def test_signoff_lead_times(mode, build):
    """Two sign-offs of triangular(2, 4, 8) working days: their sum, or the slower of the two.

    With the centre always open, arrivals are uniform within a day, so the mean whole-day lead
    time equals the mean continuous delay exactly.
    """
    tri = {"dist": "triangular", "low": 2, "mode": 4, "high": 8}
    data = analytic(cases_per_day=200, days=40, warmup=1, seed=21)
    data["departments"] = {"D": {}, "E": {}, "F": {}}
    data["items"]["X"].update(route="county", lead_days=0, signoffs=["E", "F"], result="notify")
    data["county"] = {"shuttle_days": "electronic", "signoff_mode": mode, "signoff_days": tri}
    data["horizon"]["drain_days"] = 20
    result = runner.run(build(data), REPLICATIONS, jobs=2)
    leads = [row["lead_days_mean"] for row in result.kpis]
    assert all(row["completed_share"] == 1.0 for row in result.kpis)
    dist = Dist(Triangular(**tri))
    if mode == "sequential":
        theory = 2 * dist.mean
    else:  # E[max] = ∫ (1 - F(x)²) dx over [0, high]
        theory = integrate.quad(lambda x: 1 - dist._cdf(x) ** 2, 0, 8)[0]
    mean, low, high, _ = t_interval(leads, level=0.99)
    assert (high - low) / 2 < 0.05 * theory
    assert low <= theory <= high, (theory, low, high)
    # the theory itself, by hand: 2 × 14/3, and E[max] = 242/45 for two triangular(2, 4, 8)
    assert np.isclose(theory, 28 / 3 if mode == "sequential" else 242 / 45, atol=1e-6)
