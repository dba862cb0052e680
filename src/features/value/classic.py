"""The classic probabilistic customer-value models: BG/NBD and Gamma-Gamma, fitted by MLE.

BG/NBD (Fader, Hardie and Lee 2005) models repeat purchase days: while alive a customer buys
as a Poisson process with a gamma-distributed rate and, after each purchase, drops out with a
beta-distributed probability. Gamma-Gamma models the mean spend of repeat purchases. Both
have closed-form likelihoods and conditional expectations, so they are fitted here with
``scipy.optimize`` (L-BFGS-B on log parameters) in well under a second on 50k customers.

Why not a library: pymc-marketing's CLV module (the current reference; ``lifetimes`` is
unmaintained) brings PyMC and PyTensor, a C compiler for usable speed and, measured on
2026-12-02, 59 distributions and 790 MB installed in 57 s into an empty venv: too heavy for the lab's budgets (test suite under 20 minutes including the
environment, ``make run`` under 10 minutes on 2 cores) for a model whose maximum-likelihood
fit is twenty lines. The formulas are those of the papers (and of pymc-marketing's
``BetaGeoModel`` / ``GammaGammaModel``).

Inputs are ``features.value.data.rfm_summary`` columns: ``frequency`` (repeat purchase days),
``recency`` and ``T`` (weeks), ``monetary`` (mean value of a repeat purchase day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special


@dataclass(frozen=True)
class BetaGeo:
    """Fitted BG/NBD parameters (time unit: weeks)."""

    r: float
    alpha: float
    a: float
    b: float

    def expected_purchases(self, rfm: pd.DataFrame, weeks: float) -> np.ndarray:
        """E[repeat purchase days in the next ``weeks`` | history] per customer."""
        x, t_x, T = _xtT(rfm)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = weeks / (alpha + T + weeks)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        first = (a + b + x - 1) / (a - 1)
        second = 1 - ((alpha + T) / (alpha + T + weeks)) ** (r + x) * hyp
        denom = 1 + (x > 0) * a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + t_x)) ** (
            r + x
        )
        return first * second / denom

    def p_alive(self, rfm: pd.DataFrame) -> np.ndarray:
        """Probability each customer is still active at the cutoff."""
        x, t_x, T = _xtT(rfm)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        ratio = a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return np.where(x > 0, 1 / (1 + ratio), 1.0)


def _xtT(rfm: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        rfm["frequency"].to_numpy(dtype=float),
        rfm["recency"].to_numpy(dtype=float),
        np.maximum(rfm["T"].to_numpy(dtype=float), 1e-6),
    )


def bgnbd_log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> float:
    """Total BG/NBD log-likelihood at (r, alpha, a, b)."""
    r, alpha, a, b = params
    base = (
        special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        + special.betaln(a, b + x) - special.betaln(a, b)
    )  # fmt: skip
    term1 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        term2 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return float(np.sum(base + np.logaddexp(term1, term2)))


def fit_bgnbd(rfm: pd.DataFrame) -> BetaGeo:
    """Maximum-likelihood BG/NBD on the customers' (frequency, recency, T)."""
    x, t_x, T = _xtT(rfm)

    def loss(log_params: np.ndarray) -> float:
        return -bgnbd_log_likelihood(np.exp(log_params), x, t_x, T) / len(x)

    start = np.log([1.0, max(float(np.mean(T)), 1.0), 1.0, 2.0])
    result = optimize.minimize(loss, start, method="L-BFGS-B", bounds=[(-8, 8)] * 4)
    r, alpha, a, b = np.exp(result.x)
    return BetaGeo(float(r), float(alpha), float(max(a, 1.0001)), float(b))


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend parameters."""

    p: float
    q: float
    v: float

    def expected_spend(self, rfm: pd.DataFrame) -> np.ndarray:
        """E[value of a repeat purchase day | history]; the population mean without repeats."""
        x = rfm["frequency"].to_numpy(dtype=float)
        m = rfm["monetary"].to_numpy(dtype=float)
        p, q, v = self.p, self.q, self.v
        conditional = (v + m * x) * p / (p * x + q - 1)
        return np.where(x > 0, conditional, p * v / (q - 1))


def fit_gamma_gamma(rfm: pd.DataFrame) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma on customers with repeat purchases."""
    keep = (rfm["frequency"] > 0) & (rfm["monetary"] > 0)
    x = rfm.loc[keep, "frequency"].to_numpy(dtype=float)
    m = rfm.loc[keep, "monetary"].to_numpy(dtype=float)
    if len(x) < 2:
        raise ValueError("Gamma-Gamma needs at least two customers with repeat purchases")
    scale = float(np.mean(m))
    m = m / scale

    def loss(log_params: np.ndarray) -> float:
        p, q, v = np.exp(log_params)
        ll = (
            special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
            + q * np.log(v) + (p * x - 1) * np.log(m) + p * x * np.log(x)
            - (p * x + q) * np.log(v + m * x)
        )  # fmt: skip
        return -float(np.mean(ll))

    result = optimize.minimize(loss, np.log([2.0, 3.0, 1.0]), method="L-BFGS-B",
                               bounds=[(-6, 8)] * 3)  # fmt: skip
    p, q, v = np.exp(result.x)
    return GammaGamma(float(p), float(max(q, 1.0001)), float(v) * scale)


@dataclass(frozen=True)
class ClassicValueModel:
    """BG/NBD purchase days times Gamma-Gamma spend: value over a horizon."""

    bgnbd: BetaGeo
    gamma_gamma: GammaGamma

    def predict(self, rfm: pd.DataFrame, horizon_days: int) -> tuple[np.ndarray, np.ndarray]:
        """(expected value, expected purchase days) over the next ``horizon_days``."""
        count = self.bgnbd.expected_purchases(rfm, horizon_days / 7.0)
        return count * self.gamma_gamma.expected_spend(rfm), count


def fit_classic(rfm: pd.DataFrame) -> ClassicValueModel:
    """Fit BG/NBD and Gamma-Gamma on one cutoff's summary."""
    return ClassicValueModel(fit_bgnbd(rfm), fit_gamma_gamma(rfm))
