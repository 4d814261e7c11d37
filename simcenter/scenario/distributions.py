"""Distribution specs → samplers, by inverse transform of uniform numbers.

Drawing by inverse transform (value = F⁻¹(u)) is what makes common random numbers strong: a
citizen keeps their uniform numbers across scenarios, so a slower window in a reform means
the same citizen takes proportionally longer, not a different random citizen. It also gives
exact truncation for free: F⁻¹(u · F(max)) never exceeds `max`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from statistics import NormalDist

import numpy as np

BLOCK = 1024
_NORMAL = NormalDist()


def _special():
    """scipy.special, imported when a distribution first needs it (a third of a second of
    imports that exponential, triangular and empirical times never use)."""
    from scipy import special

    return special


class Dist:
    """One distribution: vectorised `ppf`, scalar `ppf1`, `sample`, and its mean and variance."""

    def __init__(self, spec):
        self.spec = spec
        self.kind = spec.dist
        self._setup(spec)
        self.cap = 1.0 if spec.max is None else self._cdf(spec.max)
        if self.cap <= 0:
            raise ValueError(f"max {spec.max} leaves nothing to draw")
        self.ppf1 = self._scalar_ppf()  # ppf1(u): the scalar inverse distribution function

    # -- parameters -----------------------------------------------------------------------
    def _setup(self, s) -> None:
        k = self.kind
        if k == "lognormal":
            cv = s.cv if s.cv is not None else s.sd / s.mean
            self.sigma = math.sqrt(math.log1p(cv * cv))
            self.mu = math.log(s.mean) - self.sigma**2 / 2
        elif k in ("gamma", "erlang"):
            self.shape = 1 / s.cv**2 if k == "gamma" else float(s.k)
            self.scale = s.mean / self.shape
        elif k == "empirical":
            weights = np.asarray(s.weights if s.weights is not None else [1.0] * len(s.values), float)
            order = np.argsort(s.values, kind="stable")
            self.values = np.asarray(s.values, float)[order]
            self.cum = np.cumsum(weights[order]) / weights.sum()
            self.cum[-1] = 1.0
            self.values_list, self.cum_list = self.values.tolist(), self.cum.tolist()

    # -- distribution function ------------------------------------------------------------
    def _cdf(self, x: float) -> float:
        s, k = self.spec, self.kind
        if k == "exponential":
            return -math.expm1(-x / s.mean)
        if k == "lognormal":
            return float(_special().ndtr((math.log(x) - self.mu) / self.sigma))
        if k in ("gamma", "erlang"):
            return float(_special().gammainc(self.shape, x / self.scale))
        if k == "triangular":
            a, c, b = s.low, s.mode, s.high
            if x <= a:
                return 0.0
            if x >= b:
                return 1.0
            if x <= c:
                return (x - a) ** 2 / ((b - a) * (c - a))
            return 1 - (b - x) ** 2 / ((b - a) * (b - c))
        if k == "uniform":
            return min(1.0, max(0.0, (x - s.low) / (s.high - s.low)))
        if k == "constant":
            return 1.0 if x >= s.value else 0.0
        return float(self.cum[np.searchsorted(self.values, x, side="right") - 1]) if x >= self.values[0] else 0.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse distribution function for an array of uniforms in [0, 1)."""
        u = np.asarray(u, float) * self.cap
        s, k = self.spec, self.kind
        if k == "exponential":
            return -s.mean * np.log1p(-u)
        if k == "lognormal":
            return np.exp(self.mu + self.sigma * _special().ndtri(u))
        if k in ("gamma", "erlang"):
            return _special().gammaincinv(self.shape, u) * self.scale
        if k == "triangular":
            a, c, b = s.low, s.mode, s.high
            split = (c - a) / (b - a)
            return np.where(u < split, a + np.sqrt(u * (b - a) * (c - a)), b - np.sqrt((1 - u) * (b - a) * (b - c)))
        if k == "uniform":
            return s.low + u * (s.high - s.low)
        if k == "constant":
            return np.full_like(u, s.value)
        return self.values[np.minimum(np.searchsorted(self.cum, u, side="right"), len(self.values) - 1)]

    def _scalar_ppf(self):
        """The scalar inverse distribution function as a closure over its constants: called a
        few times per visit, so no attribute lookups and no test of the kind per call."""
        s, k, cap = self.spec, self.kind, self.cap
        if k == "exponential":
            minus_mean, log1p = -s.mean, math.log1p
            return lambda u: minus_mean * log1p(-u * cap)
        if k == "lognormal":
            mu, sigma, exp, inv = self.mu, self.sigma, math.exp, _NORMAL.inv_cdf
            return lambda u: exp(mu + sigma * inv(min(max(u * cap, 1e-300), 1 - 1e-16)))
        if k == "triangular":
            a, c, b, sqrt = s.low, s.mode, s.high, math.sqrt
            split = (c - a) / (b - a)
            return lambda u: (a + sqrt(u * cap * (b - a) * (c - a)) if u * cap < split
                              else b - sqrt((1 - u * cap) * (b - a) * (b - c)))
        if k == "uniform":
            low, width = s.low, s.high - s.low
            return lambda u: low + u * cap * width
        if k == "constant":
            value = s.value
            return lambda u: value
        if k == "empirical":
            values, cum, last = self.values_list, self.cum_list, len(self.values_list) - 1
            return lambda u: values[min(bisect_right(cum, u * cap), last)]
        shape, scale = self.shape, self.scale
        return lambda u: float(_special().gammaincinv(shape, u * cap)) * scale

    def __getstate__(self):  # the closure is rebuilt, not pickled
        state = self.__dict__.copy()
        del state["ppf1"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.ppf1 = self._scalar_ppf()

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.ppf(rng.random(n))

    # -- moments --------------------------------------------------------------------------
    @property
    def mean(self) -> float:
        if self.spec.max is not None:
            return float(self._grid().mean())
        s, k = self.spec, self.kind
        if k in ("exponential", "lognormal", "gamma", "erlang"):
            return s.mean
        if k == "triangular":
            return (s.low + s.mode + s.high) / 3
        if k == "uniform":
            return (s.low + s.high) / 2
        if k == "constant":
            return s.value
        return float(np.dot(np.diff(self.cum, prepend=0.0), self.values))

    @property
    def variance(self) -> float:
        if self.spec.max is not None:
            return float(self._grid().var())
        s, k = self.spec, self.kind
        if k == "exponential":
            return s.mean**2
        if k == "lognormal":
            return s.mean**2 * math.expm1(self.sigma**2)
        if k in ("gamma", "erlang"):
            return self.shape * self.scale**2
        if k == "triangular":
            a, c, b = s.low, s.mode, s.high
            return (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        if k == "uniform":
            return (s.high - s.low) ** 2 / 12
        if k == "constant":
            return 0.0
        p = np.diff(self.cum, prepend=0.0)
        return float(np.dot(p, self.values**2) - np.dot(p, self.values) ** 2)

    def _grid(self, n: int = 400_000) -> np.ndarray:
        """Quantiles on a fine midpoint grid: moments of a truncated distribution by quadrature."""
        return self.ppf((np.arange(n) + 0.5) / n)


class Sampler:
    """Scalar draws from a Generator, refilled `BLOCK` at a time (one numpy call per block)."""

    __slots__ = ("dist", "rng", "_buffer")

    def __init__(self, dist: Dist, rng: np.random.Generator):
        self.dist, self.rng, self._buffer = dist, rng, []

    def __call__(self) -> float:
        if not self._buffer:
            self._buffer = self.dist.sample(self.rng, BLOCK).tolist()
            self._buffer.reverse()
        return self._buffer.pop()


def make(spec) -> Dist | None:
    return None if spec is None else Dist(spec)

