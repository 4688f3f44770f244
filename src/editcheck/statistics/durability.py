"""Durability of editing in one subject: the level at each time point, its change since the first, and a trend.

Input: for one subject and design, a series of time points (days since dosing, or any common origin), each
with its biological replicates' (edited, total) counts and, when the reads are PCR copies of a known number
of template molecules, each replicate's effective depth ``1 / (1/reads + 1/molecules)`` (summary.json's
``effective_total``): a replicate then counts as ``(edited * d / total, d)``.

- **Per time point**: :func:`editcheck.statistics.replicates.replicate_interval` (the replicate as the unit:
  a t interval on the replicates' empirical logits). One replicate: its Wilson interval at the effective
  depth, flagged ``single_replicate`` (read sampling only: it cannot show between-replicate variation).
- **Change** from the first time point with data to each later one, in percentage points:
  ``p_j - p_0`` with the MOVER interval (Newcombe's square-and-add of the two time points' intervals,
  ``low = d - sqrt((p_j - l_j)^2 + (u_0 - p_0)^2)``, ``high = d + sqrt((u_j - p_j)^2 + (p_0 - l_0)^2)``).
- **Trend**: weighted least squares of the time points' mean replicate logits ``y_t`` on time in months
  (30.4375 d), weights ``1 / Var(y_t)`` with ``Var(y_t) = (tau2 + mean_r v_r) / k_t``: ``tau2`` the
  between-replicate variance (DerSimonian-Laird pooled over the time points with two or more replicates,
  :func:`editcheck.statistics.overdispersion.between_replicate_variance`), ``v_r = 1 / (m_r p_t (1 - p_t))``
  the binomial variance of a replicate's logit at its effective depth ``m_r``. The slope's variance is
  ``phi / Sxx_w`` with ``phi = X2 / (T - 2)`` (X2 the weighted residual sum of squares over T time points,
  the Knapp-Hartung form): the scatter of the time points about the line, not the model alone, sets the
  width, so variation between time points beyond the replicates' (a biopsy's own sampling, a level not
  linear in log-odds) widens it. The interval is ``b -+ t(T - 2, 0.975) * SE``. (Flooring phi at 1 was
  measured too: 99.5% coverage and a third of the power.) It is also given in percentage points per month
  at the mean level ``p = expit(weighted mean of y_t)``: ``100 * b * p (1 - p)`` (the derivative of expit
  at that level; the bounds scaled the same way). Fewer than three time points with data: no trend.
- **Verdict**: "decline detected" when the slope's interval lies below 0, "increase detected" when above,
  else "no decline detected", each with the slope in pp/month and its interval; "too few time points for
  a trend" below three time points.

Proven on seeded simulations (``tests/test_durability.py``: logit-normal replicates, SD 0.2-0.4; 200 template
molecules behind 20,000 reads with PCR jackpotting; 1-3 replicates at nine time points over 12 months):
time-point coverage 95%, slope coverage 95%, change coverage 97-98%, a stable subject called declining in
2.5-2.9% of series, a fall from 42% to 30% in 12 months detected in 82.5%. A single-replicate time point's
interval covers the subject's level in only 50-74% (read sampling only): hence its flag.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from editcheck.errors import ParameterError
from editcheck.statistics.overdispersion import between_replicate_variance, pooled_proportion
from editcheck.statistics.replicates import (
    NO_DATA_BASIS,
    PooledEstimate,
    empirical_logit,
    expit,
    replicate_interval,
)

DAYS_PER_MONTH = 30.4375
MIN_TREND_POINTS = 3

DECLINE, INCREASE, NO_DECLINE, TOO_FEW = (
    "decline detected", "increase detected", "no decline detected", "too few time points for a trend",
)  # fmt: skip


@dataclass(frozen=True)
class ReplicateCounts:
    """One biological replicate at one time point: edited of total reads (or molecules), and the effective
    depth of those reads when they are copies of a limited number of template molecules."""

    edited: float
    total: float
    effective_total: float | None = None

    def effective(self) -> tuple[float, float]:
        """(edited, total) scaled to the effective depth (unchanged without one)."""
        if self.effective_total is None or self.total <= 0:
            return float(self.edited), float(self.total)
        depth = min(float(self.effective_total), float(self.total))
        return self.edited * depth / self.total, depth


@dataclass(frozen=True)
class TimePoint:
    """The replicates of one time point (``days`` on any common origin, e.g. days since dosing)."""

    days: float
    replicates: tuple[ReplicateCounts, ...]


@dataclass(frozen=True)
class PointEstimate:
    """The level at one time point (percent) with its interval and what it rests on."""

    days: float
    percent: float
    low: float
    high: float
    replicates: int
    basis: str
    single_replicate: bool
    """True when one replicate holds the estimate: its interval is read sampling only."""

    @property
    def has_data(self) -> bool:
        return self.basis != NO_DATA_BASIS


@dataclass(frozen=True)
class Change:
    """Level at ``days`` minus level at ``from_days``, in percentage points, with its interval."""

    from_days: float
    days: float
    change: float
    low: float
    high: float


@dataclass(frozen=True)
class Trend:
    """Slope of the level over time: per month on the log-odds scale and in pp/month at the mean level."""

    slope: float
    """Change in log-odds per month (30.4375 days)."""
    low: float
    high: float
    intercept: float
    """Log-odds at day 0 of the fitted line."""
    level_percent: float
    """The mean level (percent) at which the pp/month slope is stated."""
    pp_per_month: float
    pp_low: float
    pp_high: float
    degrees_of_freedom: int
    dispersion: float
    """phi: the weighted residual mean square (1 when the time points scatter as the replicates predict)."""
    tau2: float
    """Between-replicate variance (logit scale) used in the weights."""

    def fitted_percent(self, days: float) -> float:
        """The fitted line at ``days``, in percent."""
        return 100.0 * expit(self.intercept + self.slope * days / DAYS_PER_MONTH)


@dataclass(frozen=True)
class Durability:
    """Everything said about one series: points, changes from the first, trend and the verdict line."""

    points: tuple[PointEstimate, ...]
    changes: tuple[Change, ...]
    trend: Trend | None
    verdict: str
    confidence: float


def _check(series: Sequence[TimePoint], confidence: float) -> list[TimePoint]:
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must lie between 0 and 1, not {confidence}")
    seen: set[float] = set()
    for point in series:
        if not math.isfinite(point.days):
            raise ParameterError(f"time point {point.days!r} is not a finite number of days")
        if point.days in seen:
            raise ParameterError(
                f"two time points at day {point.days:g}: give each time point once, with its replicates"
            )
        seen.add(point.days)
        for replicate in point.replicates:
            if not (0 <= replicate.edited <= replicate.total) or not math.isfinite(replicate.total):
                raise ParameterError(f"day {point.days:g}: edited {replicate.edited} outside 0..{replicate.total}")
            if replicate.effective_total is not None and not replicate.effective_total > 0:
                raise ParameterError(f"day {point.days:g}: effective depth {replicate.effective_total} is not positive")
    return sorted(series, key=lambda point: point.days)


def _counts(point: TimePoint) -> list[tuple[float, float]]:
    return [counts for counts in (replicate.effective() for replicate in point.replicates) if counts[1] > 0]


def point_estimate(point: TimePoint, confidence: float = 0.95) -> PointEstimate:
    """The replicate-aware estimate of one time point (see the module docstring)."""
    estimate: PooledEstimate = replicate_interval(_counts(point), confidence)
    return PointEstimate(point.days, 100 * estimate.proportion, 100 * estimate.low, 100 * estimate.high,
                         estimate.replicates, estimate.basis, estimate.replicates == 1)  # fmt: skip


def change_between(first: PointEstimate, later: PointEstimate) -> Change:
    """``later - first`` in percentage points with the MOVER interval of their two intervals."""
    difference = later.percent - first.percent
    low = difference - math.hypot(later.percent - later.low, first.high - first.percent)
    high = difference + math.hypot(later.high - later.percent, first.percent - first.low)
    return Change(first.days, later.days, difference, max(-100.0, low), min(100.0, high))


def trend(series: Sequence[TimePoint], confidence: float = 0.95) -> Trend | None:
    """The weighted log-odds slope per month (see the module docstring); None below three time points with data."""
    points = [(point.days / DAYS_PER_MONTH, counts) for point in series if (counts := _counts(point))]
    if len(points) < MIN_TREND_POINTS:
        return None
    tau2, _, _ = between_replicate_variance([counts for _, counts in points])
    months, logits, weights = [], [], []
    for month, counts in points:
        proportion = pooled_proportion(counts)
        sampling = sum(1.0 / (m * proportion * (1.0 - proportion)) for _, m in counts) / len(counts)
        months.append(month)
        logits.append(sum(empirical_logit(x, m) for x, m in counts) / len(counts))
        weights.append(len(counts) / (tau2 + sampling))
    total = sum(weights)
    mean_month = sum(w * t for w, t in zip(weights, months)) / total
    mean_logit = sum(w * y for w, y in zip(weights, logits)) / total
    sxx = sum(w * (t - mean_month) ** 2 for w, t in zip(weights, months))
    slope = sum(w * (t - mean_month) * (y - mean_logit) for w, t, y in zip(weights, months, logits)) / sxx
    intercept = mean_logit - slope * mean_month
    degrees = len(points) - 2
    residual = sum(w * (y - intercept - slope * t) ** 2 for w, t, y in zip(weights, months, logits))
    dispersion = residual / degrees
    half = float(stats.t.ppf(0.5 + confidence / 2, degrees)) * math.sqrt(dispersion / sxx)
    level = expit(mean_logit)
    scale = 100.0 * level * (1.0 - level)
    return Trend(slope, slope - half, slope + half, intercept, 100.0 * level, scale * slope, scale * (slope - half),
                 scale * (slope + half), degrees, dispersion, tau2)  # fmt: skip


def verdict_line(fitted: Trend | None, confidence: float = 0.95) -> str:
    """The plain-language verdict, e.g. "no decline detected (slope -0.4 pp/mo, 95% CI -1.1 to 0.3)"."""
    if fitted is None:
        return TOO_FEW
    word = DECLINE if fitted.high < 0 else INCREASE if fitted.low > 0 else NO_DECLINE
    return (f"{word} (slope {fitted.pp_per_month:.1f} pp/mo, {100 * confidence:g}% CI {fitted.pp_low:.1f} to "
            f"{fitted.pp_high:.1f})")  # fmt: skip


def durability(series: Sequence[TimePoint], confidence: float = 0.95) -> Durability:
    """Per-time-point estimates, changes from the first time point with data, the trend and its verdict."""
    ordered = _check(series, confidence)
    points = tuple(point_estimate(point, confidence) for point in ordered)
    with_data = [point for point in points if point.has_data]
    changes = tuple(change_between(with_data[0], later) for later in with_data[1:])
    fitted = trend(ordered, confidence)
    return Durability(points, changes, fitted, verdict_line(fitted, confidence), confidence)


__all__ = [
    "DAYS_PER_MONTH",
    "Change",
    "Durability",
    "PointEstimate",
    "ReplicateCounts",
    "TimePoint",
    "Trend",
    "change_between",
    "durability",
    "point_estimate",
    "trend",
    "verdict_line",
]
