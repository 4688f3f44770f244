"""Durability statistics (issue #12 item 4) proven on seeded simulations written here, independently of the code.

Generative model of one subject's series: the true level moves linearly on the log-odds scale; each biological
replicate at a time point has its own rate (logit-normal, SD 0.2-0.4); a replicate holds 200 template molecules
whose edit status is drawn once, PCR copies them with per-molecule efficiency Beta(16, 4) over 10 cycles
(jackpotting), and 20,000 reads are drawn from the copies. The code is told each replicate's effective depth
1 / (1/reads + 1/molecules), as summary.json states it when the template input is given.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from editcheck.errors import ParameterError
from editcheck.statistics.durability import (
    DAYS_PER_MONTH,
    ReplicateCounts,
    TimePoint,
    change_between,
    durability,
    point_estimate,
)

MOLECULES, READS = 200, 20_000
# Unbalanced replicates, a single-replicate time point among them.
SCHEDULE = ((0, 3), (1, 3), (2, 1), (3, 3), (4, 2), (6, 3), (8, 3), (10, 3), (12, 3))


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def edited_reads(rng, rate: float) -> int:
    edited = rng.random(MOLECULES) < rate
    copies = np.exp(10 * np.log1p(rng.beta(16, 4, MOLECULES)))
    return int(rng.binomial(READS, copies[edited].sum() / copies.sum()))


def simulated_series(rng, start: float, end: float, sd: float, schedule=SCHEDULE):
    """(time points, true level per time point, true log-odds slope per month) of one subject."""
    intercept, slope = logit(start), (logit(end) - logit(start)) / 12
    depth = 1 / (1 / READS + 1 / MOLECULES)
    points, truth = [], []
    for month, replicates in schedule:
        level = intercept + slope * month
        counts = tuple(ReplicateCounts(edited_reads(rng, expit(level + rng.normal(0, sd))), READS, depth)
                       for _ in range(replicates))  # fmt: skip
        points.append(TimePoint(month * DAYS_PER_MONTH, counts))
        truth.append(expit(level))
    return points, truth, slope


def run(seed: int, series: int, start: float, end: float, sd: float) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(("points", "covered", "single", "single_covered", "slope_covered", "changes",
                            "changes_covered", "decline", "increase"), 0)  # fmt: skip
    for _ in range(series):
        points, truth, slope = simulated_series(rng, start, end, sd)
        result = durability(points)
        for estimate, level in zip(result.points, truth):
            key = "single" if estimate.single_replicate else "points"
            counts[key] += 1
            counts[f"{key}_covered" if key == "single" else "covered"] += estimate.low <= 100 * level <= estimate.high
        assert result.trend is not None
        counts["slope_covered"] += result.trend.low <= slope <= result.trend.high
        for change in result.changes:
            true_change = 100 * (truth[[p.days for p in result.points].index(change.days)] - truth[0])
            counts["changes"] += 1
            counts["changes_covered"] += change.low <= true_change <= change.high
        counts["decline"] += result.verdict.startswith("decline detected")
        counts["increase"] += result.verdict.startswith("increase detected")
    return {
        "point_coverage": counts["covered"] / counts["points"],
        "single_coverage": counts["single_covered"] / counts["single"],
        "slope_coverage": counts["slope_covered"] / series,
        "change_coverage": counts["changes_covered"] / counts["changes"],
        "decline": counts["decline"] / series,
        "increase": counts["increase"] / series,
    }


@pytest.mark.parametrize("sd", [0.2, 0.4])
def test_stable_subject_intervals_cover_and_no_decline_is_flagged(sd):
    # Measured (SD 0.2 / 0.4, 300 series each): time-point coverage 95.8 / 94.7%, slope 94.7 / 96.0%,
    # change 97.9 / 96.8%, flagged as declining 2.3 / 1.3%; single-replicate time points 72.7 / 51.0%.
    # (1,500 series: slope 95.5 / 95.0%, declining 2.5 / 2.9%.)
    measured = run(seed=5, series=300, start=0.42, end=0.42, sd=sd)
    assert 0.92 <= measured["point_coverage"] <= 0.98
    assert 0.91 <= measured["slope_coverage"] <= 0.98
    assert 0.92 <= measured["change_coverage"] <= 0.99
    assert measured["decline"] <= 0.05
    # One replicate cannot show between-replicate variation: its (flagged) interval is read sampling only
    # and covers the subject's level far less often; the flag is what tells the reader.
    assert measured["single_coverage"] < 0.85


def test_true_decline_is_detected_with_the_right_sign():
    # 42% -> 30% over 12 months, SD 0.2: measured 85.3% of 300 series "decline detected" (82.5% of 1,500),
    # none "increase"; slope coverage 96.7%.
    measured = run(seed=7, series=300, start=0.42, end=0.30, sd=0.2)
    assert measured["decline"] >= 0.80
    assert measured["increase"] == 0
    assert 0.91 <= measured["slope_coverage"] <= 0.98
    assert 0.92 <= measured["point_coverage"] <= 0.98


def test_replicates_not_reads_set_the_time_point_interval():
    # Three replicates at 40/45/35% of 20,000 reads: t(2) on the replicate logits, far wider than the reads'.
    point = TimePoint(0.0, (ReplicateCounts(8000, 20000), ReplicateCounts(9000, 20000), ReplicateCounts(7000, 20000)))
    estimate = point_estimate(point)
    logits = [logit(p) for p in (0.4, 0.45, 0.35)]
    mean, spread = sum(logits) / 3, float(np.std(logits, ddof=1))
    assert estimate.percent == pytest.approx(100 * expit(mean), abs=0.01)
    assert estimate.low == pytest.approx(100 * expit(mean - 4.302653 * spread / math.sqrt(3)), abs=0.01)
    assert estimate.high - estimate.low > 20  # the pooled 60,000 reads' Wilson interval is 0.8 pp wide
    assert not estimate.single_replicate


def test_one_replicate_uses_the_effective_depth_and_says_so():
    # 4,000 of 20,000 reads from 200 molecules: the Wilson interval of 40 of 198 (20% of depth 198.0).
    estimate = point_estimate(TimePoint(28.0, (ReplicateCounts(4000, 20000, 198.0),)))
    assert estimate.single_replicate and estimate.basis == "read sampling only (one replicate)"
    assert estimate.percent == pytest.approx(20.0)
    assert (estimate.low, estimate.high) == pytest.approx((15.20, 26.34), abs=0.01)
    without_depth = point_estimate(TimePoint(28.0, (ReplicateCounts(4000, 20000),)))
    assert without_depth.high - without_depth.low < 1.2


def test_change_is_the_mover_interval_of_the_two_time_points():
    first = point_estimate(TimePoint(0.0, (ReplicateCounts(4200, 10000),)))
    later = point_estimate(TimePoint(90.0, (ReplicateCounts(3000, 10000),)))
    change = change_between(first, later)
    assert change.change == pytest.approx(-12.0)
    # Newcombe's method 10 for two independent proportions 0.42 (n 10,000) and 0.30 (n 10,000).
    assert change.low == pytest.approx(-12.0 - math.hypot(30 - later.low, first.high - 42), abs=1e-9)
    assert -13.4 < change.low < -13.2 and -10.8 < change.high < -10.6


def test_slope_from_exact_logits_and_the_verdict_line():
    # Replicates exactly on a line falling 0.05 log-odds per month with scatter about it: the slope is the
    # weighted least-squares slope, the verdict states it in pp/month at the mean level.
    months = [0, 3, 6, 9, 12]
    levels = [logit(0.42) - 0.05 * month for month in months]
    offsets = [0.02, -0.03, 0.0, 0.03, -0.02]
    points = []
    for month, level, offset in zip(months, levels, offsets):
        rates = [expit(level + offset + delta) for delta in (-0.1, 0.1)]
        points.append(TimePoint(month * DAYS_PER_MONTH, tuple(ReplicateCounts(round(1e6 * r), 1e6) for r in rates)))
    result = durability(points)
    assert result.trend is not None
    assert result.trend.slope == pytest.approx(-0.05 + np.polyfit(months, offsets, 1)[0], abs=2e-3)
    level = result.trend.level_percent / 100
    assert result.trend.pp_per_month == pytest.approx(100 * result.trend.slope * level * (1 - level))
    assert result.verdict == "decline detected (slope -1.2 pp/mo, 95% CI -1.4 to -0.9)"
    assert result.trend.degrees_of_freedom == 3
    assert [round(c.days) for c in result.changes] == [91, 183, 274, 365]


def test_too_few_time_points_and_increase():
    two = [TimePoint(0.0, (ReplicateCounts(10, 100),)), TimePoint(30.0, (ReplicateCounts(20, 100),))]
    result = durability(two)
    assert result.trend is None and result.verdict == "too few time points for a trend"
    assert len(result.changes) == 1
    rising = [TimePoint(30.0 * m, (ReplicateCounts(1000 * (m + 1), 20000), ReplicateCounts(1050 * (m + 1), 20000)))
              for m in range(4)]  # fmt: skip
    assert durability(rising).verdict.startswith("increase detected")


def test_time_points_without_reads_are_shown_but_not_used():
    points = [TimePoint(0.0, (ReplicateCounts(0, 0),)), TimePoint(10.0, (ReplicateCounts(5, 10),)),
              TimePoint(20.0, (ReplicateCounts(5, 10),))]  # fmt: skip
    result = durability(points)
    assert not result.points[0].has_data
    assert [(c.from_days, c.days) for c in result.changes] == [(10.0, 20.0)]
    assert result.trend is None


@pytest.mark.parametrize(
    ("series", "message"),
    [
        ([TimePoint(0.0, ()), TimePoint(0.0, ())], "two time points at day 0"),
        ([TimePoint(math.nan, ())], "not a finite number"),
        ([TimePoint(1.0, (ReplicateCounts(11, 10),))], "edited 11 outside 0..10"),
        ([TimePoint(1.0, (ReplicateCounts(1, 10, 0.0),))], "effective depth 0.0 is not positive"),
    ],
)
def test_bad_series_is_one_clear_error(series, message):
    with pytest.raises(ParameterError, match=message):
        durability(series)
