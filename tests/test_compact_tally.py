"""The tallies keep no extra copy of a unique read's sequence: memory per unique sequence (issue #13).

The alleles table's aligned sequence of a read without insertions is the read's projection itself (one
string), not a copy rebuilt from a joined key; the order and counts of the alleles are those of the field's
rule (decreasing reads, ties by reference, sequence, outcome, events).
"""

from __future__ import annotations

import random

from editcheck.classification.called import CalledRead
from editcheck.design import build_design
from editcheck.engine import AnalysisSettings
from editcheck.engine.workers import AmpliconWorker
from editcheck.quantification.tally import tally_reads

_rng = random.Random(13)
AMPLICON = "".join(_rng.choice("ACGT") for _ in range(160))
DESIGN = build_design(AMPLICON, window="70-90")


def _called(reads: dict[str, int]) -> list[CalledRead]:
    worker = AmpliconWorker(DESIGN, AnalysisSettings())
    return [CalledRead(sequence, count, *worker(sequence)) for sequence, count in reads.items()]


def _substituted(position: int) -> str:
    base = "A" if AMPLICON[position] != "A" else "C"
    return AMPLICON[:position] + base + AMPLICON[position + 1 :]


def test_alleles_share_the_projection_strings_of_their_reads() -> None:
    reads = {AMPLICON: 5, _substituted(80): 3, _substituted(20): 3, AMPLICON[:75] + AMPLICON[79:]: 2}
    called = _called(reads)
    tally = tally_reads(DESIGN, called)
    projections = {
        called_read.alignment.projection: called_read.alignment for called_read in called if called_read.alignment
    }
    counted = {allele.aligned_sequence: (allele.reads, allele.outcome) for allele in tally.alleles}
    assert counted == {
        AMPLICON: (5, "unmodified"),
        _substituted(80): (3, "unmodified"),
        _substituted(20): (3, "unmodified"),
        AMPLICON[:75] + "----" + AMPLICON[79:]: (2, "modified"),
    }  # fmt: skip (substitutions alone do not make a read modified by default)
    keys = [
        (-allele.reads, allele.reference, allele.aligned_sequence, allele.outcome, allele.events)
        for allele in tally.alleles
    ]
    assert keys == sorted(keys)
    for allele in tally.alleles:
        own = projections[allele.aligned_sequence].projection
        assert allele.aligned_sequence is own, "the allele holds a copy of the read's projection"


def test_worker_processes_return_equal_results_sharing_the_parents_read_strings(tmp_path) -> None:
    """Chunks come back compact: the results of 2 worker processes equal those of 1 (every outcome class of
    simulated reads, an amplicon and a pool of two), and an alignment whose projection is the read itself
    holds the parent's string, not an unpickled copy of it."""
    from editcheck import simulate
    from editcheck.engine.workers import PoolWorker, UniqueReadAligner, align_and_classify
    from editcheck.reads.collapse import collapse_single

    design = simulate.random_design(seed=13)
    truth = simulate.simulate(design, 1500, tmp_path / "reads.fastq.gz", seed=5)
    amplicon = build_design(
        truth["design"]["amplicon"], [truth["design"]["guide"]], expected_hdr_amplicon=truth["design"]["donor_amplicon"]
    )
    sequences = list(collapse_single(tmp_path / "reads.fastq.gz").sequences)
    sequences += ["ACGT" * 30, AMPLICON]  # junk, and a read of the other amplicon of the pool
    one = align_and_classify(sequences, amplicon, AnalysisSettings(), threads=1)
    two = align_and_classify(sequences, amplicon, AnalysisSettings(), threads=2)
    assert two == one
    outcomes = {classified.call.outcome for classified in one}
    assert {"unmodified", "modified", "hdr", "not_aligned"} <= outcomes
    shared = [
        aligned
        for sequence, (aligned, _) in zip(sequences, two)
        if aligned is not None and aligned.projection == sequence
    ]
    assert len(shared) > len(sequences) // 3
    assert all(
        aligned.projection is sequence
        for sequence, (aligned, _) in zip(sequences, two)
        if aligned is not None and aligned.projection == sequence
    )
    for threads in (1, 2):
        with UniqueReadAligner(threads, ([amplicon, DESIGN], AnalysisSettings()), PoolWorker) as aligner:
            for sequence in sequences:
                aligner.add(sequence)
            pooled = aligner.results()
        if threads == 1:
            pooled_one = pooled
    assert pooled == pooled_one
    assert {call.status.value for call in pooled} >= {"assigned", "unassigned"}
    assert any(call.amplicon == 1 for call in pooled)
