"""Tests and intervals for treated-versus-control editing: exact stratified test, BH, Newcombe, LOD.

Notation: a site has treated replicates (edited k, reads n) and control replicates. The question
"does treatment raise editing above the control's background?" is one-sided.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
from scipy import stats

from editcheck.statistics.intervals import wilson_interval, z_value

EXACT_SUPPORT_LIMIT = 20_000
"""Beyond this many possible edited-read totals the exact convolution gives way to the CMH normal test."""


def _hypergeometric_pmf(edited: int, treated_reads: int, control_reads: int) -> tuple[np.ndarray, int]:
    """P(treated edited = x | total edited) for x over its support; returns (pmf, lowest x)."""
    total = treated_reads + control_reads
    low = max(0, edited - control_reads)
    high = min(edited, treated_reads)
    support = np.arange(low, high + 1)
    return stats.hypergeom.pmf(support, total, edited, treated_reads), low


def stratified_exact_test(strata: Sequence[tuple[int, int, int, int]]) -> float:
    """One-sided exact test that treated editing exceeds control, stratified by replicate.

    Each stratum is (treated edited, treated reads, control edited, control reads). Conditioning on
    every stratum's total edited reads, the treated edited count is hypergeometric in each stratum;
    the test statistic is their sum, whose exact null distribution is the convolution of the
    strata (the exact version of the Cochran-Mantel-Haenszel test; with one stratum it is Fisher's
    exact test). Replicates therefore each keep their own depth and background instead of being
    summed into one table. Very large counts use the CMH normal approximation.
    """
    observed = 0
    distribution = np.ones(1)
    offset = 0
    support = 1
    for treated_edited, treated_reads, control_edited, control_reads in strata:
        edited = treated_edited + control_edited
        support += min(edited, treated_reads) - max(0, edited - control_reads)
    if support > EXACT_SUPPORT_LIMIT:
        return cmh_test(strata)
    for treated_edited, treated_reads, control_edited, control_reads in strata:
        pmf, low = _hypergeometric_pmf(treated_edited + control_edited, treated_reads, control_reads)
        distribution = np.convolve(distribution, pmf)
        offset += low
        observed += treated_edited
    index = observed - offset
    return float(min(1.0, max(0.0, distribution[index:].sum())))


def cmh_test(strata: Sequence[tuple[int, int, int, int]]) -> float:
    """One-sided Cochran-Mantel-Haenszel test (normal approximation with continuity correction)."""
    numerator = variance = 0.0
    for treated_edited, treated_reads, control_edited, control_reads in strata:
        total = treated_reads + control_reads
        edited = treated_edited + control_edited
        if total < 2:
            continue
        numerator += treated_edited - treated_reads * edited / total
        variance += treated_reads * control_reads * edited * (total - edited) / (total * total * (total - 1))
    if variance <= 0:
        return 1.0 if numerator <= 0 else 0.0
    return float(1.0 - NormalDist().cdf((numerator - 0.5) / math.sqrt(variance)))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order."""
    count = len(p_values)
    if count == 0:
        return []
    order = sorted(range(count), key=lambda index: p_values[index])
    adjusted = [0.0] * count
    running = 1.0
    for rank in range(count, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * count / rank)
        adjusted[index] = running
    return adjusted


def newcombe_interval(
    treated_edited: int, treated_reads: int, control_edited: int, control_reads: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for the difference of two proportions."""
    p1 = treated_edited / treated_reads if treated_reads else 0.0
    p2 = control_edited / control_reads if control_reads else 0.0
    low1, high1 = wilson_interval(treated_edited, treated_reads, confidence)
    low2, high2 = wilson_interval(control_edited, control_reads, confidence)
    difference = p1 - p2
    low = difference - math.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    high = difference + math.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    return max(-1.0, low), min(1.0, high)


def detection_limit(
    treated_reads: int, control_reads: int, background: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest excess editing (treated - control proportion) this site could detect.

    One-sided two-proportion test at level ``alpha`` with ``power`` (normal approximation):
    the excess d solves  d = z(1-alpha) * sqrt(pbar (1-pbar) (1/nT + 1/nC))
                              + z(power) * sqrt(p1 (1-p1)/nT + p0 (1-p0)/nC),
    with p0 = background, p1 = p0 + d and pbar the read-weighted mean of p1 and p0. The background
    is floored at 0.5/nC (a control with no edited read still has an uncertain background).
    Solved by bisection; returns 1.0 when even d = 1 - p0 is not detectable.
    """
    if treated_reads <= 0 or control_reads <= 0:
        return 1.0
    p0 = min(max(background, 0.5 / control_reads), 1.0 - 1e-9)
    z_alpha = NormalDist().inv_cdf(1.0 - alpha)
    z_power = NormalDist().inv_cdf(power)

    def shortfall(excess: float) -> float:
        p1 = p0 + excess
        pooled = (treated_reads * p1 + control_reads * p0) / (treated_reads + control_reads)
        needed = z_alpha * math.sqrt(pooled * (1 - pooled) * (1 / treated_reads + 1 / control_reads)) + z_power * math.sqrt(
            p1 * (1 - p1) / treated_reads + p0 * (1 - p0) / control_reads
        )
        return excess - needed

    low, high = 0.0, 1.0 - p0
    if shortfall(high) < 0:
        return 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if shortfall(middle) >= 0:
            high = middle
        else:
            low = middle
    return high


def rule_of_three(reads: int) -> float:
    """Upper 95% bound on a proportion when no event was seen in ``reads`` trials (3/n)."""
    return 1.0 if reads <= 0 else min(1.0, 3.0 / reads)


__all__ = [
    "benjamini_hochberg",
    "cmh_test",
    "detection_limit",
    "newcombe_interval",
    "rule_of_three",
    "stratified_exact_test",
    "z_value",
]
