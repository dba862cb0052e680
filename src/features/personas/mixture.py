"""The latent class model for mixed data (``LatentClassMixture``) and the BLAS thread limit
its fits and the other persona clusterers run under.

May import numpy, scikit-learn and threadpoolctl only (no other ``features`` module), so that
loading a logged persona model needs nothing else. ``LatentClassMixture`` reports its module
as ``features.personas``: that path is stored in logged models (skops trusted type).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from threadpoolctl import ThreadpoolController

# MLflow's default skops format asks to trust these: SimpleImputer keeps the fitted numpy
# dtype, and the latent class model is this package's class (loading needs it installed).
SKOPS_TRUSTED_TYPES = ["numpy.dtype", "features.personas.LatentClassMixture"]


@lru_cache(maxsize=1)
def _thread_pools() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> Any:
    """Context limiting BLAS to one thread: the persona matrices are thin, and on a shared
    two-core machine competing BLAS threads made the matrix products 10-100x slower."""
    return _thread_pools().limit(limits=1, user_api="blas")


def logsumexp(values: np.ndarray, axis: int = 1) -> np.ndarray:
    """log(sum(exp(values))) along ``axis``, computed stably (max subtracted first)."""
    peak = values.max(axis=axis, keepdims=True)
    return np.log(np.exp(values - peak).sum(axis=axis)) + np.squeeze(peak, axis=axis)


def _block(values: np.ndarray, block: Sequence[int]) -> np.ndarray:
    # One-hot blocks are contiguous: a slice is a view, fancy indexing would copy.
    start, stop = block[0], block[-1] + 1
    if stop - start == len(block):
        return values[:, start:stop]
    return values[:, list(block)]


class LatentClassMixture(ClusterMixin, BaseEstimator):
    """Latent class model for mixed data: Gaussian numeric columns, categorical one-hot blocks.

    Within a class, columns are independent: each numeric column is Gaussian (own mean and
    variance per class) and each one-hot block a categorical distribution (Laplace-smoothed).
    This is how segmentation surveys are usually modelled (latent class analysis) and it
    reads discrete attributes (children, income band, occupation) as categories instead of
    as distances. Fitted by EM from k-means starts; the best of ``n_init`` starts is kept.

    Args:
        n_components: number of classes.
        categorical_blocks: column positions of each one-hot block; other columns are numeric.
        n_init: k-means starts; the fit with the highest likelihood wins.
        max_iter: EM iterations per start.
        tol: stop when the mean log-likelihood per row improves by less than this.
        var_floor: added to every variance (scaled inputs: a small fraction of 1).
        smoothing: Laplace pseudo-count per category.
        random_state: seed of the k-means starts.
    """

    # The public path, stored in logged models (skops trusted type); stable across moves.
    __module__ = "features.personas"

    def __init__(
        self,
        n_components: int = 5,
        categorical_blocks: tuple[tuple[int, ...], ...] = (),
        n_init: int = 2,
        max_iter: int = 300,
        tol: float = 1e-4,
        var_floor: float = 1e-3,
        smoothing: float = 1.0,
        random_state: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.categorical_blocks = categorical_blocks
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.var_floor = var_floor
        self.smoothing = smoothing
        self.random_state = random_state

    def _numeric_columns(self, n_columns: int) -> np.ndarray:
        in_blocks = {i for block in self.categorical_blocks for i in block}
        return np.array([i for i in range(n_columns) if i not in in_blocks], dtype=int)

    def _log_joint(self, values: np.ndarray) -> np.ndarray:
        numeric = values[:, self.numeric_columns_]
        log_joint = np.tile(np.log(self.weights_), (len(values), 1))
        if numeric.shape[1]:
            # Σ_d (x - μ)² / σ² expanded into matrix products (no n × k × d temporary).
            precision = 1.0 / self.variances_
            squared = (
                (numeric**2) @ precision.T
                - 2.0 * numeric @ (self.means_ * precision).T
                + (self.means_**2 * precision).sum(axis=1)
            )
            log_joint -= 0.5 * (squared + np.log(2 * np.pi * self.variances_).sum(axis=1))
        for block, log_probs in zip(self.categorical_blocks, self.category_log_probs_, strict=True):
            log_joint += _block(values, block) @ log_probs.T
        return log_joint

    def _m_step(self, values: np.ndarray, resp: np.ndarray) -> None:
        resp_t = np.ascontiguousarray(resp.T)
        counts = resp.sum(axis=0) + 1e-10
        self.weights_ = counts / counts.sum()
        numeric = values[:, self.numeric_columns_]
        self.means_ = resp_t @ numeric / counts[:, None]
        second = resp_t @ (numeric**2) / counts[:, None]
        self.variances_ = np.maximum(second - self.means_**2, 0.0) + self.var_floor
        self.category_log_probs_ = [
            np.log(
                (resp_t @ _block(values, block) + self.smoothing)
                / (counts[:, None] + self.smoothing * len(block))
            )
            for block in self.categorical_blocks
        ]
        self.cluster_centers_ = resp_t @ values / counts[:, None]

    def fit(self, X: np.ndarray, y: Any = None) -> LatentClassMixture:
        """Fit by EM; sets weights_, means_, variances_, category_log_probs_, labels_."""
        with one_blas_thread():
            return self._fit(np.asarray(X, dtype=float))

    def _fit(self, values: np.ndarray) -> LatentClassMixture:
        self.numeric_columns_ = self._numeric_columns(values.shape[1])
        rng = np.random.default_rng(self.random_state)
        best: tuple[float, dict[str, Any]] | None = None
        for _ in range(max(1, self.n_init)):
            start = KMeans(
                self.n_components, n_init=1, random_state=int(rng.integers(2**31 - 1))
            ).fit_predict(values)
            resp = np.eye(self.n_components)[start] * 0.9 + 0.1 / self.n_components
            previous = -np.inf
            converged, n_iter = False, 0
            while n_iter < self.max_iter:
                n_iter += 1
                self._m_step(values, resp)
                log_joint = self._log_joint(values)
                row_ll = logsumexp(log_joint, axis=1)
                resp = np.exp(log_joint - row_ll[:, None])
                mean_ll = float(row_ll.mean())
                if mean_ll - previous < self.tol:
                    converged = True
                    break
                previous = mean_ll
            self._m_step(values, resp)
            state = {
                key: getattr(self, key)
                for key in (
                    "weights_",
                    "means_",
                    "variances_",
                    "category_log_probs_",
                    "cluster_centers_",
                )
            }
            state.update(lower_bound_=mean_ll, n_iter_=n_iter, converged_=converged)
            if best is None or mean_ll > best[0]:
                best = (mean_ll, state)
        for key, value in best[1].items():
            setattr(self, key, value)
        self.labels_ = self.predict(values)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Posterior class probabilities of each row."""
        with one_blas_thread():
            log_joint = self._log_joint(np.asarray(X, dtype=float))
        return np.exp(log_joint - logsumexp(log_joint, axis=1)[:, None])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of each row."""
        with one_blas_thread():
            return np.argmax(self._log_joint(np.asarray(X, dtype=float)), axis=1)

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """Log-likelihood of each row."""
        with one_blas_thread():
            return logsumexp(self._log_joint(np.asarray(X, dtype=float)), axis=1)

    def n_parameters(self) -> int:
        """Free parameters: weights, numeric means and variances, category probabilities."""
        k = self.n_components
        categorical = sum(len(block) - 1 for block in self.categorical_blocks)
        return (k - 1) + k * 2 * len(self.numeric_columns_) + k * categorical

    def bic(self, X: np.ndarray) -> float:
        """Bayesian information criterion (lower is better)."""
        values = np.asarray(X, dtype=float)
        return float(
            -2 * self.score_samples(values).sum() + self.n_parameters() * math.log(len(values))
        )
