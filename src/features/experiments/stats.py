"""The statistics of an A/B test read, vectorised over experiments × metrics.

statsmodels supplies the design (``NormalIndPower``: sample size at a minimum detectable
effect) and the false discovery rate control (``multipletests``, Benjamini–Hochberg); scipy the
distributions. What neither offers at a thousand tests a second is written here over grouped
sums: the Welch difference in means (normal approximation, units in the thousands), CUPED
(Deng et al. 2013, one pooled theta per test), the sample-ratio chi-square test and the mixture
SPRT's always-valid p-values (Johari et al. 2017, normal mixing prior of variance ``tau2``).

May import numpy, pandas, scipy and statsmodels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from scipy import stats

SRM_ALPHA = 0.001  # sample-ratio mismatch threshold (the usual platform rule)
AA_CELLS = 4_000_000  # simulated assignments held in memory at once by the A/A check


def summarise(
    units: pd.DataFrame,
    metrics: Sequence[str],
    *,
    experiment_col: str = "experiment_id",
    variant_col: str = "variant",
    control: str = "control",
    treatment: str = "treatment",
    pre_suffix: str = "_pre",
) -> pd.DataFrame:
    """Per experiment × metric: counts, means, variances (and pre-period moments) of both arms."""
    arms = units[variant_col].astype(str)
    unknown = sorted(set(arms.unique()) - {control, treatment})
    if unknown:
        raise ValueError(f"column {variant_col!r}: variants {unknown[:3]} are neither "
                         f"{control!r} nor {treatment!r}")  # fmt: skip
    codes, experiments = pd.factorize(units[experiment_col], sort=True)
    key = codes * 2 + (arms == treatment).to_numpy()  # control 0, treatment 1
    size = 2 * len(experiments)
    n = np.bincount(key, minlength=size).reshape(-1, 2).astype(np.float64)
    parts = []
    for metric in metrics:
        y = units[metric].to_numpy(np.float64)
        pre = f"{metric}{pre_suffix}"
        x = units[pre].to_numpy(np.float64) if pre in units.columns else np.zeros_like(y)
        sums = {name: np.bincount(key, weights=values, minlength=size).reshape(-1, 2)
                for name, values in (("y", y), ("yy", y * y), ("x", x), ("xx", x * x),
                                     ("xy", x * y))}  # fmt: skip
        out = pd.DataFrame({experiment_col: np.asarray(experiments)})
        with np.errstate(divide="ignore", invalid="ignore"):
            for arm, tag in ((0, "c"), (1, "t")):
                count = n[:, arm]
                mean_y, mean_x = sums["y"][:, arm] / count, sums["x"][:, arm] / count
                dof = np.maximum(count - 1, 1)
                out[f"n_{tag}"] = count
                out[f"mean_{tag}"] = mean_y
                out[f"var_{tag}"] = (sums["yy"][:, arm] - count * mean_y**2) / dof
                out[f"pre_mean_{tag}"] = mean_x
                out[f"pre_var_{tag}"] = (sums["xx"][:, arm] - count * mean_x**2) / dof
                out[f"cov_{tag}"] = (sums["xy"][:, arm] - count * mean_x * mean_y) / dof
        out["metric"] = metric
        out["has_pre"] = pre in units.columns
        parts.append(out)
    return pd.concat(parts, ignore_index=True)


def _z_test(effect: np.ndarray, var: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, effect / se, 0.0)
    half = stats.norm.ppf(1 - alpha / 2) * se
    return {"se": se, "ci_low": effect - half, "ci_high": effect + half,
            "p_value": 2 * stats.norm.sf(np.abs(z))}  # fmt: skip


def analyse(summary: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Effect (treatment − control), relative lift, CI and p-value, plain and CUPED-adjusted."""
    s = summary
    out = s.copy()
    effect = (s["mean_t"] - s["mean_c"]).to_numpy()
    var = (s["var_t"] / s["n_t"] + s["var_c"] / s["n_c"]).to_numpy()
    out["effect"] = effect
    with np.errstate(divide="ignore", invalid="ignore"):
        out["lift"] = np.where(s["mean_c"] != 0, effect / s["mean_c"], np.nan)
    for key, value in _z_test(effect, var, alpha).items():
        out[key] = value
    pre_var = (s["pre_var_c"] + s["pre_var_t"]).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(pre_var > 0, (s["cov_c"] + s["cov_t"]).to_numpy() / pre_var, 0.0)
    theta = np.where(s["has_pre"], theta, 0.0)
    adj_effect = effect - theta * (s["pre_mean_t"] - s["pre_mean_c"]).to_numpy()
    adj_var = sum(((s[f"var_{t}"] - 2 * theta * s[f"cov_{t}"] + theta**2 * s[f"pre_var_{t}"])
                   / s[f"n_{t}"]).to_numpy() for t in ("c", "t"))  # fmt: skip
    out["cuped_theta"] = theta
    out["cuped_effect"] = adj_effect
    for key, value in _z_test(adj_effect, adj_var, alpha).items():
        out[f"cuped_{key}"] = value
    with np.errstate(divide="ignore", invalid="ignore"):
        out["variance_reduction"] = np.where(var > 0, 1 - adj_var / var, 0.0)
    return out


def sample_ratio_pvalue(n_control, n_treatment, treatment_share: float = 0.5) -> np.ndarray:
    """Chi-square (1 df) p-value of the observed split against the designed one."""
    n_c, n_t = np.asarray(n_control, np.float64), np.asarray(n_treatment, np.float64)
    total = n_c + n_t
    exp_t, exp_c = total * treatment_share, total * (1 - treatment_share)
    chi2 = (n_t - exp_t) ** 2 / exp_t + (n_c - exp_c) ** 2 / exp_c
    return stats.chi2.sf(chi2, df=1)


def benjamini_hochberg(p_values, q: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """(discovery flags, adjusted p-values) at false discovery rate ``q`` (statsmodels)."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, np.float64)
    if p.size == 0:
        return np.zeros(0, bool), p
    reject, adjusted, _, _ = multipletests(p, alpha=q, method="fdr_bh")
    return reject, adjusted


def design(
    mde: float, sd: float, alpha: float = 0.05, power: float = 0.8, daily_units: float = 0.0
) -> dict[str, float]:
    """Units per arm for an absolute effect ``mde`` on a metric of spread ``sd`` (two-sided), and
    the days of traffic that takes at ``daily_units`` units a day into the test (both arms)."""
    from statsmodels.stats.power import NormalIndPower

    if mde <= 0 or sd <= 0:
        raise ValueError(f"mde and sd must be positive (got mde={mde}, sd={sd})")
    n = NormalIndPower().solve_power(effect_size=mde / sd, alpha=alpha, power=power, ratio=1.0)
    per_arm = math.ceil(n)
    days = math.ceil(2 * per_arm / daily_units) if daily_units > 0 else float("nan")
    return {"units_per_arm": per_arm, "days": days}


def power_at(effect, sd, n_per_arm, alpha: float = 0.05) -> np.ndarray:
    """The design's promised power of a two-sided z-test at a true absolute effect."""
    from statsmodels.stats.power import NormalIndPower

    size = np.abs(np.asarray(effect, np.float64)) / np.asarray(sd, np.float64)
    return NormalIndPower().power(effect_size=size, nobs1=n_per_arm, alpha=alpha, ratio=1.0)


def msprt_pvalues(effect: np.ndarray, var: np.ndarray, tau2: float) -> np.ndarray:
    """Always-valid p-values along the looks (last axis) of a mixture SPRT, H0: effect = 0.

    ``effect`` and ``var`` are the difference in means and its variance at each look; the
    p-value is the running minimum of ``1 / likelihood ratio`` (capped at 1), so stopping at the
    first look where it falls below alpha keeps the false-positive rate at alpha.
    """
    effect, var = np.asarray(effect, np.float64), np.asarray(var, np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_lr = 0.5 * np.log(var / (var + tau2)) + tau2 * effect**2 / (2 * var * (var + tau2))
        inverse = np.exp(-np.where(np.isfinite(log_lr), log_lr, 0.0))
    return np.minimum.accumulate(np.minimum(1.0, inverse), axis=-1)


def sequential_looks(y: np.ndarray, treated: np.ndarray, n_looks: int):
    """(effect, variance) of the difference in means at ``n_looks`` equally spaced looks.

    ``y`` and ``treated`` are (tests × units) in arrival order (a single test: 1-D).
    """
    y, t = np.atleast_2d(np.asarray(y, np.float64)), np.atleast_2d(np.asarray(treated, bool))
    if y.shape != t.shape and y.shape[0] == 1:
        y = np.broadcast_to(y, t.shape)
    stops = np.linspace(0, y.shape[1], n_looks + 1)[1:].astype(int) - 1
    tf = t.astype(np.float64)
    sums = {}
    for name, values in (("n", np.ones_like(y)), ("y", y), ("yy", y * y)):
        total = np.cumsum(values, axis=1)[:, stops]
        arm_t = np.cumsum(values * tf, axis=1)[:, stops]
        sums[name] = (total - arm_t, arm_t)
    effect, var = 0.0, 0.0
    for k, sign in ((0, -1.0), (1, 1.0)):
        n = np.maximum(sums["n"][k], 2)
        mean = sums["y"][k] / n
        s2 = (sums["yy"][k] - n * mean**2) / (n - 1)
        effect = effect + sign * mean
        var = var + s2 / n
    return effect, var


def daily_sums(
    units: pd.DataFrame,
    values: np.ndarray,
    *,
    experiment_col: str,
    variant_col: str,
    time_col: str,
    treatment: str,
) -> tuple[pd.Index, pd.DatetimeIndex, dict[str, np.ndarray]]:
    """Per experiment × day × arm (control 0, treatment 1): n, sum and sum of squares of
    ``values`` (one per unit row); days without units hold zeros."""
    day = pd.to_datetime(units[time_col]).dt.floor("D")
    frame = pd.DataFrame({"e": units[experiment_col].to_numpy(), "d": day.to_numpy(),
                          "t": (units[variant_col].astype(str) == treatment).to_numpy(),
                          "y": values, "yy": values * values})  # fmt: skip
    sums = frame.groupby(["e", "d", "t"], observed=True).agg(
        n=("y", "size"), y=("y", "sum"), yy=("yy", "sum"))  # fmt: skip
    experiments = pd.Index(sorted(frame["e"].unique()), name=experiment_col)
    days = pd.DatetimeIndex(sorted(day.dropna().unique()))
    grid = pd.MultiIndex.from_product([experiments, days, [False, True]])
    full = sums.reindex(grid, fill_value=0)
    shape = (len(experiments), len(days), 2)
    return experiments, days, {k: full[k].to_numpy(np.float64).reshape(shape) for k in sums}


def effect_from_sums(sums: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Difference in means (treatment − control) and its variance from arm sums (last axis)."""
    n = np.maximum(sums["n"], 2)
    mean = sums["y"] / n
    s2 = np.maximum(sums["yy"] - n * mean**2, 0) / (n - 1)
    effect = mean[..., 1] - mean[..., 0]
    return effect, (s2 / n).sum(axis=-1)


def cumulative_looks(sums: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(effect, variance) per experiment at each day's look, on all units up to that day."""
    return effect_from_sums({k: np.cumsum(v, axis=1) for k, v in sums.items()})


def early_late(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Effect in the first and in the second half of the days, and the p-value of their
    difference (a fading effect, i.e. novelty, has an early effect above the late one)."""
    half = sums["n"].shape[1] // 2
    early = effect_from_sums({k: v[:, :half].sum(axis=1) for k, v in sums.items()})
    late = effect_from_sums({k: v[:, half:].sum(axis=1) for k, v in sums.items()})
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (early[0] - late[0]) / np.sqrt(early[1] + late[1])
    return {"effect_early": early[0], "effect_late": late[0],
            "p_value": 2 * stats.norm.sf(np.abs(np.nan_to_num(z)))}  # fmt: skip


def random_splits(rng: np.random.Generator, n_sims: int, n_units: int) -> Iterator[np.ndarray]:
    """``n_sims`` random 50/50 assignments of ``n_units`` (True: treated), in chunks of rows
    small enough to hold ``AA_CELLS`` assignments at once."""
    chunk = max(1, AA_CELLS // max(n_units, 1))
    for start in range(0, n_sims, chunk):
        yield rng.random((min(chunk, n_sims - start), n_units)) < 0.5


def aa_simulation(
    y: np.ndarray,
    pre: np.ndarray | None,
    n_sims: int,
    alpha: float = 0.05,
    n_looks: int = 14,
    tau2: float | None = None,
    seed: int = 0,
) -> dict[str, object]:
    """Random 50/50 splits of the same units (no effect): false-positive rates of the fixed
    test, of CUPED, of the mSPRT over ``n_looks`` looks and of naive peeking at those looks."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y, np.float64)
    treated = list(random_splits(rng, n_sims, y.size))
    looks = [sequential_looks(y, t, n_looks) for t in treated]
    effect, var = np.vstack([e for e, _ in looks]), np.vstack([v for _, v in looks])
    fixed_p = 2 * stats.norm.sf(np.abs(effect[:, -1]) / np.sqrt(var[:, -1]))
    peek_p = 2 * stats.norm.sf(np.abs(effect) / np.sqrt(var))
    tau2 = float(np.var(y) * 0.01) if tau2 is None else tau2
    seq_p = msprt_pvalues(effect, var, tau2)
    out = {"p_values": fixed_p, "false_positive_rate": float(np.mean(fixed_p < alpha)),
           "false_positive_rate_peeking": float(np.mean((peek_p < alpha).any(axis=1))),
           "false_positive_rate_sequential": float(np.mean(seq_p[:, -1] < alpha))}  # fmt: skip
    if pre is not None:
        x = np.asarray(pre, np.float64)
        theta = np.cov(x, y)[0, 1] / np.var(x, ddof=1)
        adj = y - theta * (x - x.mean())
        adjusted = [sequential_looks(adj, t, 1) for t in treated]
        a_eff = np.concatenate([e[:, -1] for e, _ in adjusted])
        a_var = np.concatenate([v[:, -1] for _, v in adjusted])
        cuped_p = 2 * stats.norm.sf(np.abs(a_eff) / np.sqrt(a_var))
        out["false_positive_rate_cuped"] = float(np.mean(cuped_p < alpha))
    out["interval"] = binomial_interval(round(out["false_positive_rate"] * n_sims), n_sims)
    return out


def power_simulation(
    y: np.ndarray, n_sims: int, effect: float, alpha: float = 0.05, seed: int = 0
) -> float:
    """Share of random 50/50 splits of ``y`` with ``effect`` added to the treated half that a
    two-sided Welch test at ``alpha`` detects in the right direction (empirical power)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y, np.float64)
    hits = 0
    for treated in random_splits(rng, n_sims, y.size):
        diff, var = sequential_looks(y[None, :] + effect * treated, treated, 1)
        z = diff[:, -1] / np.sqrt(var[:, -1])
        hits += int(np.sum(z * np.sign(effect) > stats.norm.ppf(1 - alpha / 2)))
    return hits / n_sims


def binomial_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson interval of a rate (statsmodels)."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, trials, alpha=1 - level, method="beta")
    return float(low), float(high)
