"""Limit of detection of the whole off-target decision rule, not of a single unadjusted test.

A site is called EDITED when (1) its one-sided random-effects test (see
:mod:`editcheck.statistics.overdispersion`) gives a Benjamini-Hochberg q below the threshold and (2) the
model's excess is at least the minimum effect. The LOD is the smallest true excess ``d`` for which
P(EDITED) reaches the stated power at the site's own effective depths, background and the panel's
between-replicate variance tau2.

(1) With m off-target sites of which R others are EDITED, one more site is rejected by BH when its p is
at most ``alpha_site = q (R + 1) / m`` (the site-level threshold of the panel as it is; 0.05/40 for a
40-site panel with no other hit). For the on-target site (a single pre-specified test) it is q itself.

(2) On the logit scale both conditions are thresholds on the same statistic D = mu_T - mu_C, which is
approximately N(delta, SE_alt^2), delta = logit(p0 + d) - logit(p0), so

    P(EDITED) = Phi((delta - D*) / SE_alt),   D* = max(z(1 - alpha_site) SE_null,  logit(p0 + e) - logit(p0))

with ``e`` the minimum effect, ``SE^2 = 1/sum_T w(m, p1) + 1/sum_C w(m, p0)``, ``w(m, p) = 1 / (1/(m p (1-p))
+ tau2)`` (SE_null with the read-weighted pooled proportion in both conditions, as the test uses). The
background p0 is floored at 0.5 / control depth. P(EDITED) is not monotone in d all the way to 1 - p0
(near 100% the logit's sampling variance grows again), so the smallest d is bracketed on a geometric
grid of ``GRID`` excesses from 1e-7 to 1 - p0 and then refined by bisection: deterministic, closed forms
only, about a second for a 1,000-site panel. It returns 1 - p0 when no excess is detected with the
stated power.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist


GRID = 60


def _logit(value: float) -> float:
    return math.log(value / (1.0 - value))


def _weight_sum(depths: Sequence[float], proportion: float, tau2: float) -> float:
    return sum(1.0 / (1.0 / (m * proportion * (1.0 - proportion)) + tau2) for m in depths if m > 0)


def bh_site_threshold(q_threshold: float, sites: int, other_discoveries: int) -> float:
    """Per-site p-value a site needs for BH rejection, given the number of other rejected sites."""
    return min(1.0, q_threshold * (other_discoveries + 1) / max(1, sites))


def probability_called(
    excess: float, treated_depths: Sequence[float], control_depths: Sequence[float], background: float,
    tau2: float, alpha_site: float, min_effect: float,
) -> float:  # fmt: skip
    """P(EDITED) at a true excess under the normal approximation described in the module docstring."""
    p0 = background
    p1 = min(p0 + excess, 1.0 - 1e-12)
    w_t1, w_c0 = _weight_sum(treated_depths, p1, tau2), _weight_sum(control_depths, p0, tau2)
    total_t, total_c = sum(treated_depths), sum(control_depths)
    pooled = (total_t * p1 + total_c * p0) / (total_t + total_c)
    w_tn, w_cn = _weight_sum(treated_depths, pooled, tau2), _weight_sum(control_depths, pooled, tau2)
    if min(w_t1, w_c0, w_tn, w_cn) <= 0:
        return 0.0
    se_alt = math.sqrt(1.0 / w_t1 + 1.0 / w_c0)
    se_null = math.sqrt(1.0 / w_tn + 1.0 / w_cn)
    effect_threshold = _logit(min(p0 + min_effect, 1.0 - 1e-12)) - _logit(p0) if min_effect > 0 else -math.inf
    threshold = max(NormalDist().inv_cdf(1.0 - alpha_site) * se_null, effect_threshold)
    delta = _logit(p1) - _logit(p0)
    return NormalDist().cdf((delta - threshold) / se_alt)


def decision_rule_lod(
    treated_depths: Sequence[float], control_depths: Sequence[float], background: float, *, tau2: float,
    alpha_site: float, min_effect: float, power: float = 0.8,
) -> float:  # fmt: skip
    """Smallest true excess (a proportion) called EDITED with probability ``power``."""
    treated_depths = [m for m in treated_depths if m > 0]
    control_depths = [m for m in control_depths if m > 0]
    if not treated_depths or not control_depths:
        return 1.0
    p0 = min(max(background, 0.5 / sum(control_depths)), 1.0 - 1e-6)
    args = (treated_depths, control_depths, p0, tau2, alpha_site, min_effect)
    top = 1.0 - p0 - 1e-9
    grid = [1e-7 * (top / 1e-7) ** (index / (GRID - 1)) for index in range(GRID)] if top > 1e-7 else [top]
    low = 0.0
    for high in grid:
        if probability_called(high, *args) >= power:
            break
        low = high
    else:
        return 1.0 - p0
    for _ in range(50):
        middle = (low + high) / 2
        if probability_called(middle, *args) >= power:
            high = middle
        else:
            low = middle
    return high


__all__ = ["bh_site_threshold", "decision_rule_lod", "probability_called"]
