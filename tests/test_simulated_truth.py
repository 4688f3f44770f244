"""Accuracy against known truth: reads simulated by ``editcheck.simulate`` with 0.2% sequencing errors."""

from __future__ import annotations

import pytest

from editcheck.design import build_design
from editcheck.pipeline import AnalysisSettings, quantify
from editcheck.reads.collapse import QualitySettings


@pytest.fixture(scope="module")
def result_100k(simulated_100k):
    reads, truth = simulated_100k
    design = build_design(
        truth["design"]["amplicon"], [truth["design"]["guide"]], expected_hdr_amplicon=truth["design"]["donor_amplicon"]
    )
    # Simulated sequencing errors carry low qualities, as real ones do; masking Q<20 keeps them from counting.
    settings = AnalysisSettings(quality=QualitySettings(min_base_quality=20))
    return quantify(reads, design=design, settings=settings, threads=2), truth


def _expected(truth: dict) -> dict[str, int]:
    """The simulator's truth counts substitution reads as modified (CRISPResso2's counting); by default a
    nuclease's substitution is reported but leaves the read unmodified."""
    expected = dict(truth["expected_classification"])
    substitution = truth["class_counts"]["substitution"]
    expected["modified"] -= substitution
    expected["unmodified"] += substitution
    return expected


def test_every_class_within_0_2_points_of_truth(result_100k):
    result, truth = result_100k
    expected = _expected(truth)
    n = truth["n_reads"]
    tally = result.tally
    assert tally.classified == n
    for outcome in ("unmodified", "modified", "hdr"):
        observed = 100.0 * tally.outcomes[outcome] / n
        assert observed == pytest.approx(100.0 * expected[outcome] / n, abs=0.2), outcome
    assert tally.outcomes["imperfect_hdr"] < 0.002 * n


def test_edit_types_and_indel_sizes_match_truth(result_100k):
    result, truth = result_100k
    counts = truth["class_counts"]
    tally = result.tally
    n = truth["n_reads"]
    assert tally.with_deletion == pytest.approx(counts["deletion"], abs=0.002 * n)
    assert tally.with_insertion == pytest.approx(counts["insertion"], abs=0.002 * n)
    assert tally.with_substitution == pytest.approx(counts["substitution"], abs=0.002 * n)
    for size, reads in truth["deletion_sizes"].items():
        assert tally.deletion_sizes[int(size)] == pytest.approx(reads, abs=max(5, 0.02 * reads)), size


def test_edited_interval_covers_truth(result_100k):
    result, truth = result_100k
    expected = _expected(truth)
    true_percent = 100.0 * (expected["modified"] + expected["hdr"]) / truth["n_reads"]
    low, high = result.tally.edited.interval
    assert low <= true_percent <= high
    assert high - low < 1.0


def test_threads_do_not_change_results(simulated_100k, result_100k):
    reads, truth = simulated_100k
    design = build_design(truth["design"]["amplicon"], [truth["design"]["guide"]])
    one = quantify(reads, design=design, threads=1).tally
    two = quantify(reads, design=design, threads=2).tally
    assert one.outcomes == two.outcomes
    assert [(a.aligned_sequence, a.reads) for a in one.alleles] == [(a.aligned_sequence, a.reads) for a in two.alleles]
    assert (one.positions[0].counts == two.positions[0].counts).all()
