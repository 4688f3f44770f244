"""Pooled editing rate of a condition with the biological replicate as the unit of evidence.

Reads are not independent draws of a condition's editing rate: each replicate has its own true rate
(biological variation) and its reads are PCR copies of a limited number of molecules. A Wilson interval
over all reads of a condition then covers the truth far less often than it claims (55.9% at a
between-replicate logit SD of 0.05 with 3 replicates). The interval here treats replicates as the unit:

with replicate ``r`` holding ``x_r`` edited of ``n_r`` reads (or molecules),

    y_r   = log((x_r + 1/2) / (n_r - x_r + 1/2))          (empirical logit; finite at 0% and 100%)
    ybar  = mean(y_r),  s = SD(y_r),  k = replicates
    CI    = expit(ybar -+ t(k-1, 0.975) * s / sqrt(k))

a t interval on the replicate logits: it needs no estimate of the read-level variance, and its
Student-t quantile (12.7 for two replicates, 4.3 for three) pays for estimating the spread from so few
replicates. When every replicate has the same logit (e.g. all zero edited reads) the spread is 0 and
read sampling is the only uncertainty left: the interval is then the Wilson interval of the pooled
reads, widened to contain expit(ybar). (Widening *every* interval to the Wilson one would over-cover:
99% at nominal 95% with no between-replicate variation.) The point estimate is expit(ybar), the median
rate of the replicate population.

One replicate cannot show between-replicate variation: the result is that replicate's Wilson interval,
flagged ``read sampling only``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from editcheck.statistics.intervals import wilson_interval

REPLICATES_BASIS = "replicates"
READS_ONLY_BASIS = "read sampling only (one replicate)"
NO_DATA_BASIS = "no reads"


def empirical_logit(edited: float, reads: float) -> float:
    """log((x + 1/2) / (n - x + 1/2)): the logit of a proportion, finite at 0 and n."""
    return math.log((edited + 0.5) / (reads - edited + 0.5))


def expit(value: float) -> float:
    """Inverse logit, safe for large magnitudes."""
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exponential = math.exp(value)
    return exponential / (1.0 + exponential)


@dataclass(frozen=True)
class PooledEstimate:
    """A condition's editing rate (a proportion) with its interval and the unit it rests on."""

    proportion: float
    low: float
    high: float
    replicates: int
    basis: str


def replicate_interval(counts: Sequence[tuple[float, float]], confidence: float = 0.95) -> PooledEstimate:
    """Pooled rate and CI of a condition from its replicates' (edited, reads) counts.

    Replicates without reads are ignored. See the module docstring for the formulas.
    """
    counts = [(edited, reads) for edited, reads in counts if reads > 0]
    if not counts:
        return PooledEstimate(0.0, 0.0, 1.0, 0, NO_DATA_BASIS)
    total_edited = sum(edited for edited, _ in counts)
    total_reads = sum(reads for _, reads in counts)
    wilson_low, wilson_high = wilson_interval(round(total_edited), round(total_reads), confidence)
    if len(counts) == 1:
        return PooledEstimate(total_edited / total_reads, wilson_low, wilson_high, 1, READS_ONLY_BASIS)
    logits = [empirical_logit(edited, reads) for edited, reads in counts]
    replicates = len(logits)
    mean = sum(logits) / replicates
    spread = math.sqrt(sum((value - mean) ** 2 for value in logits) / (replicates - 1))
    half_width = float(stats.t.ppf(0.5 + confidence / 2, replicates - 1)) * spread / math.sqrt(replicates)
    if half_width == 0:
        return PooledEstimate(expit(mean), min(expit(mean), wilson_low), max(expit(mean), wilson_high), replicates,
                              REPLICATES_BASIS)  # fmt: skip
    return PooledEstimate(expit(mean), expit(mean - half_width), expit(mean + half_width), replicates, REPLICATES_BASIS)


__all__ = ["PooledEstimate", "empirical_logit", "expit", "replicate_interval"]
