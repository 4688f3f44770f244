"""Confidence intervals for proportions."""

from __future__ import annotations

import math
from statistics import NormalDist


def z_value(confidence: float = 0.95) -> float:
    """Two-sided standard normal quantile for a confidence level."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} outside 0..{trials}")
    z = z_value(confidence)
    proportion = successes / trials
    denominator = 1 + z * z / trials
    centre = (proportion + z * z / (2 * trials)) / denominator
    half_width = z * math.sqrt(proportion * (1 - proportion) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == trials else min(1.0, centre + half_width)
    return low, high


def effective_counts(edited: int, reads: int, molecules: float | None) -> tuple[float, float]:
    """(edited, reads) scaled to the effective sample size ``1 / (1/reads + 1/molecules)``."""
    if molecules is None or reads <= 0:
        return float(edited), float(reads)
    if molecules <= 0:
        return 0.0, 0.0
    effective = 1.0 / (1.0 / reads + 1.0 / molecules)
    return edited * effective / reads, effective


def wilson_bounds(proportion: float, reads: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion observed over a (possibly fractional) sample size."""
    if reads <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    denominator = 1 + z * z / reads
    centre = (proportion + z * z / (2 * reads)) / denominator
    half = z * math.sqrt(max(0.0, proportion * (1 - proportion)) / reads + z * z / (4 * reads * reads)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
