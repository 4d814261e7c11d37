"""Every distribution draws with the mean and variance its parameters say."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter

from simcenter.scenario.distributions import Dist, Sampler
from simcenter.scenario.schema import Distribution

SPECS = {
    "exponential": ({"dist": "exponential", "mean": 5}, 5, 25),
    "lognormal-cv": ({"dist": "lognormal", "mean": 8, "cv": 0.7}, 8, (0.7 * 8) ** 2),
    "lognormal-sd": ({"dist": "lognormal", "mean": 8, "sd": 4}, 8, 16),
    "gamma": ({"dist": "gamma", "mean": 6, "cv": 0.5}, 6, 9),
    "triangular": ({"dist": "triangular", "low": 1, "mode": 2, "high": 7}, 10 / 3, (1 + 4 + 49 - 2 - 7 - 14) / 18),
    "uniform": ({"dist": "uniform", "low": 30, "high": 120}, 75, 90**2 / 12),
    "constant": ({"dist": "constant", "value": 3}, 3, 0),
    "bare-number": (4.5, 4.5, 0),
    "erlang": ({"dist": "erlang", "k": 3, "mean": 6}, 6, 12),
    "empirical": ({"dist": "empirical", "values": [1, 2, 5], "weights": [1, 1, 2]}, 3.25, 0.25 + 0.25 * 4 + 0.5 * 25 - 3.25**2),
    "empirical-equal": ({"dist": "empirical", "values": [2, 4]}, 3, 1),
}
N = 400_000


def dist(spec) -> Dist:
    return Dist(TypeAdapter(Distribution).validate_python(spec))


@pytest.mark.parametrize("name", SPECS)
def test_sample_moments(name):
    spec, mean, variance = SPECS[name]
    d = dist(spec)
    assert math.isclose(d.mean, mean, rel_tol=1e-9) and math.isclose(d.variance, variance, rel_tol=1e-9, abs_tol=1e-12)
    x = d.sample(np.random.default_rng(42), N)
    # 5 standard errors of the mean; the variance within 3% (or exact for constants)
    assert abs(x.mean() - mean) <= 5 * math.sqrt(variance / N) + 1e-12
    assert math.isclose(x.var(), variance, rel_tol=0.03, abs_tol=1e-12)
    assert np.all(x >= 0)


@pytest.mark.parametrize("name", SPECS)
def test_scalar_and_vector_inverse_agree(name):
    d = dist(SPECS[name][0])
    u = np.random.default_rng(1).random(200)
    assert np.allclose([d.ppf1(float(x)) for x in u], d.ppf(u), rtol=1e-9)


def test_truncation_is_exact_and_keeps_the_conditional_shape():
    d = dist({"dist": "exponential", "mean": 5, "max": 8})
    x = d.sample(np.random.default_rng(3), N)
    assert x.max() <= 8
    # mean of an exponential conditioned on X <= m: mean - m e^{-m/mean} / (1 - e^{-m/mean})
    exact = 5 - 8 * math.exp(-8 / 5) / (1 - math.exp(-8 / 5))
    assert math.isclose(d.mean, exact, rel_tol=1e-4)
    assert abs(x.mean() - exact) < 5 * math.sqrt(d.variance / N)


def test_sampler_draws_the_same_numbers_as_a_block():
    d = dist({"dist": "gamma", "mean": 2, "cv": 1.5})
    sampler = Sampler(d, np.random.default_rng(9))
    one_by_one = [sampler() for _ in range(3000)]
    rng = np.random.default_rng(9)
    blocks = np.concatenate([d.sample(rng, 1024) for _ in range(3)])[:3000]
    assert np.allclose(one_by_one, blocks)
