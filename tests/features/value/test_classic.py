"""BG/NBD and Gamma-Gamma maximum likelihood recover simulated parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.value.classic import fit_bgnbd, fit_classic, fit_gamma_gamma


def simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, T: float, seed: int = 0):
    """Customers' (frequency, recency, T) under the BG/NBD story."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    rows = []
    for i in range(n):
        t, last, x = 0.0, 0.0, 0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x, last = x + 1, t
            if rng.random() < p[i]:
                break
        rows.append((x, last, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


def test_bgnbd_recovers_its_parameters() -> None:
    rfm = simulate_bgnbd(4000, r=0.8, alpha=4.0, a=0.9, b=3.0, T=40.0)
    model = fit_bgnbd(rfm)
    assert model.r == pytest.approx(0.8, rel=0.25)
    assert model.alpha == pytest.approx(4.0, rel=0.3)
    assert model.a / (model.a + model.b) == pytest.approx(0.9 / 3.9, rel=0.3)
    expected = model.expected_purchases(rfm, 10.0)
    assert (expected >= 0).all() and np.isfinite(expected).all()
    alive = model.p_alive(rfm)
    assert ((alive > 0) & (alive <= 1)).all()


def test_gamma_gamma_recovers_mean_spend() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    x = rng.integers(1, 8, n).astype(float)
    nu = rng.gamma(3.0, 1 / 0.01, n)  # q = 3, gamma = 100 (per-customer scale)
    spend = np.array([rng.gamma(2.0, 1 / nu[i], int(x[i])).mean() for i in range(n)])
    rfm = pd.DataFrame({"frequency": x, "monetary": spend})
    model = fit_gamma_gamma(rfm)
    assert model.p * model.v / (model.q - 1) == pytest.approx(spend.mean(), rel=0.15)
    assert np.corrcoef(model.expected_spend(rfm), spend)[0, 1] > 0.9


def test_classic_value_is_count_times_spend() -> None:
    rfm = simulate_bgnbd(1500, r=1.0, alpha=5.0, a=1.0, b=4.0, T=30.0, seed=3)
    rfm["monetary"] = np.where(rfm["frequency"] > 0, 100.0 + rfm.index % 7, 0.0)
    model = fit_classic(rfm)
    value, count = model.predict(rfm, 70)
    assert value == pytest.approx(count * model.gamma_gamma.expected_spend(rfm))


def test_gamma_gamma_needs_repeat_buyers() -> None:
    with pytest.raises(ValueError, match="repeat purchases"):
        fit_gamma_gamma(pd.DataFrame({"frequency": [0.0, 0.0], "monetary": [0.0, 0.0]}))
