"""Tests for treated-versus-control editing under independent reads: exact stratified test, CMH, BH.

Notation: a site has treated replicates (edited k, reads n) and control replicates. The question
"does treatment raise editing above the control's background?" is one-sided.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
from scipy import stats

from editcheck.statistics.intervals import z_value

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


__all__ = [
    "benjamini_hochberg",
    "cmh_test",
    "stratified_exact_test",
    "z_value",
]
