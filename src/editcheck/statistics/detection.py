"""Limit of detection of the whole off-target decision rule, not of a single unadjusted test.

A site is called EDITED when (1) its one-sided random-effects test (see
:mod:`editcheck.statistics.overdispersion`) gives a Benjamini-Hochberg q below the threshold and (2) the
model's excess is at least the minimum effect. The LOD is the smallest true excess ``d`` for which
P(EDITED) reaches the stated power at the site's own effective depths, background and the panel's
between-replicate variance tau2.

(1) With m off-target sites of which R others are EDITED, one more site is rejected by BH when its p is
at most ``alpha_site = q (R + 1) / m`` (the site-level threshold of the panel as it is; 0.05/40 for a
40-site panel with no other hit). For the on-target site (a single pre-specified test) it is q itself.

(2) The test statistic D = mu_T - mu_C (logit scale) and the excess E = p_T - p_C
(probability scale) are approximately bivariate normal:

    D ~ N(delta, SE_alt^2),  delta = logit(p0 + d) - logit(p0),  SE_alt^2 = V_T + V_C
    E ~ N(d, SE_E^2),        SE_E^2 = (p1 (1-p1))^2 V_T + (p0 (1-p0))^2 V_C        (delta method)
    cov(D, E) = p1 (1-p1) V_T + p0 (1-p0) V_C

with ``V_c = 1 / sum_c w(m, p_c)``, ``w(m, p) = 1 / (1/(m p (1-p)) + tau2)``, p1 = p0 + d. Then

    P(EDITED) = E [ P(D >= t(1 - alpha_site; df) SE_null(tau2_test),  E >= e | tau2_true) ]

a bivariate normal orthant probability (SE_null with the read-weighted pooled proportion in both
conditions and the tau2 estimate the test uses; V_c with the true tau2; ``e`` the minimum effect),
computed by Gauss-Legendre quadrature of Sheppard's integral, and averaged over what the panel's tau2
estimate leaves open: the true tau2 given the estimate, and the estimate given that truth
(:func:`editcheck.statistics.overdispersion.tau2_draws`). Plugging the estimate in as the truth, with
only the t quantile for its uncertainty, was not enough: with one sample per condition (tau2 from the
~20 sites of an empirical null) a site at that LOD was called EDITED 65% of the time, not 80%. (Treating the minimum effect on the logit scale instead is wrong: the control's
logit is far noisier than its proportion, and the LOD came out 15% too large.) The background p0 is floored at 0.5 / control depth. P(EDITED) is not monotone in d all the way to 1 - p0
(near 100% the logit's sampling variance grows again), so the smallest d is bracketed on a geometric
grid of ``GRID`` excesses from 1e-7 to 1 - p0 (the first passing one, found with the estimate taken as
the truth and then moved along the grid to where the integrated probability passes) and then solved
inside that bracket by Brent's method to a relative 1e-6: deterministic, closed forms vectorised with
numpy. It returns 1 - p0 when no excess is detected with the
stated power.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special, stats

from editcheck.statistics.overdispersion import tau2_draws

GRID = 24
_GAUSS_LEGENDRE = np.polynomial.legendre.leggauss(48)


def _logit(value: np.ndarray | float) -> np.ndarray:
    logits: np.ndarray = np.log(value) - np.log1p(-np.asarray(value))
    return logits


def _weight_sum(depths: np.ndarray, proportion: np.ndarray, tau2: float | np.ndarray) -> np.ndarray:
    """sum over replicates of 1 / (1/(m p (1-p)) + tau2), for every proportion in an array (and, when
    tau2 is an array, every tau2: shape (proportions, tau2s))."""
    information = depths[None, :] * (proportion * (1.0 - proportion))[:, None]
    weights: np.ndarray
    if np.ndim(tau2) == 0:
        weights = (information / (1.0 + tau2 * information)).sum(axis=1)
    else:
        information = information[:, None, :]
        weights = (information / (1.0 + np.asarray(tau2)[None, :, None] * information)).sum(axis=2)
    return weights


@functools.lru_cache(maxsize=256)
def _critical_value(alpha: float, degrees: float) -> float:
    """The test's one-sided critical value: the normal, or t with the tau2 estimate's degrees of freedom."""
    return float(special.ndtri(1.0 - alpha) if np.isinf(degrees) else stats.t.isf(alpha, degrees))


def bh_site_threshold(q_threshold: float, sites: int, other_discoveries: int) -> float:
    """Per-site p-value a site needs for BH rejection, given the number of other rejected sites."""
    return min(1.0, q_threshold * (other_discoveries + 1) / max(1, sites))


def probability_called(
    excess: np.ndarray | float, treated_depths: Sequence[float], control_depths: Sequence[float],
    background: float, tau2: float, alpha_site: float, min_effect: float, degrees: float = np.inf,
    sampling: float = 0.0, integrate: bool = True,
) -> np.ndarray:  # fmt: skip
    """P(EDITED) at true excesses (an array) under the normal approximation in the module docstring,
    averaged over the true tau2 and the estimate the test uses (``tau2_draws`` with ``degrees`` and
    ``sampling``; with ``integrate`` false the estimate is taken as the truth, a cheap first guess)."""
    treated, control = np.asarray(treated_depths, float), np.asarray(control_depths, float)
    p0 = np.full(np.shape(np.atleast_1d(excess)), background)
    p1 = np.minimum(p0 + np.atleast_1d(excess), 1.0 - 1e-12)
    pooled = (treated.sum() * p1 + control.sum() * p0) / (treated.sum() + control.sum())
    truths, estimates, weights = tau2_draws(tau2, sampling, degrees if integrate else np.inf)
    se_null = np.sqrt(1.0 / _weight_sum(treated, pooled, estimates) + 1.0 / _weight_sum(control, pooled, estimates))
    variance_t, variance_c = 1.0 / _weight_sum(treated, p1, truths), 1.0 / _weight_sum(control, p0, truths)
    slope_t, slope_c = (p1 * (1.0 - p1))[:, None], (p0 * (1.0 - p0))[:, None]
    se_alt = np.sqrt(variance_t + variance_c)
    se_excess = np.sqrt(slope_t**2 * variance_t + slope_c**2 * variance_c)
    correlation = (slope_t * variance_t + slope_c * variance_c) / (se_alt * se_excess)
    critical = _critical_value(alpha_site, degrees)
    test_margin = (_logit(p1)[:, None] - _logit(p0)[:, None] - critical * se_null) / se_alt
    effect_margin = (p1 - p0 - min_effect)[:, None] / se_excess if min_effect > 0 else np.full_like(se_alt, np.inf)
    shape = test_margin.shape
    called = bivariate_normal_cdf(test_margin.ravel(), effect_margin.ravel(), correlation.ravel())
    averaged: np.ndarray = called.reshape(shape) @ weights
    return averaged


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """P(X <= h, Y <= k) for standard bivariate normals with correlation rho (arrays, rho >= 0).

    Sheppard's formula  Phi(h) Phi(k) + 1/(2 pi) int_0^asin(rho) exp(-(h^2 + k^2 - 2 h k sin t) / (2 cos^2 t)) dt,
    by 48-point Gauss-Legendre quadrature (rho capped at 0.999; infinite h or k reduce to one margin)."""
    h, k = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float))
    rho = np.clip(np.broadcast_to(np.asarray(rho, float), h.shape), 0.0, 0.999)
    result = special.ndtr(np.minimum(h, k))
    finite = np.isfinite(h) & np.isfinite(k)
    if finite.any():
        hf, kf, rf = h[finite], k[finite], rho[finite]
        nodes, weights = _GAUSS_LEGENDRE
        upper = np.arcsin(rf)
        theta = (nodes[None, :] + 1.0) * upper[:, None] / 2.0
        sine, cosine2 = np.sin(theta), np.cos(theta) ** 2
        integrand = np.exp(
            -(hf[:, None] ** 2 + kf[:, None] ** 2 - 2 * hf[:, None] * kf[:, None] * sine) / (2 * cosine2)
        )
        integral = (integrand * weights[None, :]).sum(axis=1) * upper / 2.0
        result[finite] = special.ndtr(hf) * special.ndtr(kf) + integral / (2 * np.pi)
    clipped: np.ndarray = np.clip(result, 0.0, 1.0)
    return clipped


def decision_rule_lod(
    treated_depths: Sequence[float], control_depths: Sequence[float], background: float, *, tau2: float,
    alpha_site: float, min_effect: float, power: float = 0.8, degrees: float = np.inf, sampling: float = 0.0,
) -> float:  # fmt: skip
    """Smallest true excess (a proportion) called EDITED with probability ``power``."""
    treated_depths = [m for m in treated_depths if m > 0]
    control_depths = [m for m in control_depths if m > 0]
    if not treated_depths or not control_depths:
        return 1.0
    p0 = min(max(background, 0.5 / sum(control_depths)), 1.0 - 1e-6)
    args = (treated_depths, control_depths, p0, tau2, alpha_site, min_effect, degrees, sampling)
    top = 1.0 - p0 - 1e-9
    if top <= 1e-7:
        return 1.0 - p0
    grid = np.geomspace(1e-7, top, GRID)
    passing = np.flatnonzero(probability_called(grid, *args, integrate=False) >= power)
    index = int(passing[0]) if passing.size else GRID - 1

    def shortfall(excess: float) -> float:
        return float(probability_called(excess, *args)[0]) - power

    while index < GRID and shortfall(grid[index]) < 0:  # from the plug-in's bracket to the integrated one
        index += 1
    if index == GRID:
        return 1.0 - p0
    while index > 0 and shortfall(grid[index - 1]) >= 0:
        index -= 1
    if index == 0:
        return float(grid[0])
    return float(optimize.brentq(shortfall, grid[index - 1], grid[index], xtol=1e-12, rtol=1e-6))


__all__ = ["bh_site_threshold", "bivariate_normal_cdf", "decision_rule_lod", "probability_called"]
