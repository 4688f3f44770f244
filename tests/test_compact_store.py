"""The engine's compact store of unique-read results (issue #13: bounded memory per unique sequence).

Each unique read's result is kept as one ``bytes`` (:func:`encode_result`) until it is tallied; decoding it
must give back exactly the objects the worker made (alignment with its projection, call, assignment), for
reads of every outcome class, reverse-complemented reads, reads with primer overhang and reads of a pool.
"""

from __future__ import annotations

import random

from editcheck import simulate
from editcheck.alignment.aligner import AlignedRead
from editcheck.classification.outcomes import ReadCall
from editcheck.design import build_design
from editcheck.engine import AnalysisSettings
from editcheck.engine.workers import (
    AmpliconWorker,
    PooledCall,
    PoolWorker,
    UniqueReadAligner,
    decode_result,
    encode_result,
)  # fmt: skip
from editcheck.reads.collapse import collapse_single
from editcheck.sequences import reverse_complement

_rng = random.Random(29)
OTHER = "".join(_rng.choice("ACGT") for _ in range(180))


def _sequences(tmp_path) -> tuple[list[str], object]:  # type: ignore[no-untyped-def]
    design = simulate.random_design(seed=29)
    truth = simulate.simulate(design, 2500, tmp_path / "reads.fastq.gz", seed=7)
    amplicon = build_design(
        truth["design"]["amplicon"], [truth["design"]["guide"]], expected_hdr_amplicon=truth["design"]["donor_amplicon"]
    )
    sequences = list(collapse_single(tmp_path / "reads.fastq.gz").sequences)
    plain = truth["design"]["amplicon"]
    sequences += [
        reverse_complement(sequences[0]),  # reversed: its projection is not the read laid out
        "GATTACAGATTACA" + plain,  # primer overhang clipped on the left
        plain + "TTGACCAGTACG",  # and on the right
        plain[:60] + "ACGTTT" + plain[60:140] + plain[150:],  # an insertion and a deletion
        "ACGT" * 30,  # junk
        OTHER,  # a read of the pool's other amplicon
    ]
    return sequences, amplicon


def test_decoded_results_equal_the_workers_objects(tmp_path) -> None:
    sequences, amplicon = _sequences(tmp_path)
    settings = AnalysisSettings()
    worker = AmpliconWorker(amplicon, settings)  # type: ignore[arg-type]
    rebuilt = 0
    outcomes = set()
    for sequence in sequences:
        classified = worker(sequence)
        decoded = decode_result(sequence, encode_result(sequence, classified))
        assert decoded == classified
        assert type(decoded) is type(classified) and type(decoded.call) is ReadCall
        if classified.alignment is not None:
            assert type(decoded.alignment) is AlignedRead
            assert decoded.alignment.projection == classified.alignment.projection
            if classified.alignment.projection != sequence and (
                classified.alignment.deletions or classified.alignment.insertions
            ):
                rebuilt += 1
        outcomes.add(classified.call.outcome)
    assert {"unmodified", "modified", "hdr", "not_aligned"} <= outcomes
    assert rebuilt > 20

    pool = PoolWorker([amplicon, build_design(OTHER, window="80-100")], settings)  # type: ignore[list-item]
    statuses = set()
    for sequence in sequences:
        pooled = pool(sequence)
        decoded = decode_result(sequence, encode_result(sequence, pooled))
        assert decoded == pooled and type(decoded) is PooledCall
        assert decoded.status is pooled.status
        statuses.add((pooled.status.value, pooled.amplicon))
    assert {("assigned", 0), ("assigned", 1), ("unassigned", None)} <= statuses


def test_compact_results_are_bytes_and_equal_for_1_and_2_workers(tmp_path) -> None:
    sequences, amplicon = _sequences(tmp_path)
    stored = {}
    for threads in (1, 2):
        with UniqueReadAligner(threads, ([amplicon], AnalysisSettings()), compact=True) as aligner:
            for sequence in sequences:
                aligner.add(sequence)
            stored[threads] = aligner.results()
    assert all(type(encoded) is bytes for threads in (1, 2) for encoded in stored[threads])
    with UniqueReadAligner(1, ([amplicon], AnalysisSettings())) as aligner:
        for sequence in sequences:
            aligner.add(sequence)
        objects = aligner.results()
    for threads in (1, 2):  # compared decoded: marshal may share equal objects differently, not the values
        assert [decode_result(sequence, encoded) for sequence, encoded in zip(sequences, stored[threads])] == objects


def test_position_profiles_do_not_depend_on_the_block_size(tmp_path, monkeypatch) -> None:
    """Projections are counted block by block as they come; weighted and unweighted blocks sum to the same
    integers whatever the blocks."""
    from editcheck.classification.called import CalledRead
    from editcheck.quantification import tally

    sequences, amplicon = _sequences(tmp_path)
    worker = AmpliconWorker(amplicon, AnalysisSettings())  # type: ignore[arg-type]
    weights = random.Random(3)
    called = [CalledRead(s, weights.choice([1, 1, 2, 7]), *worker(s)) for s in sequences]
    whole = tally.tally_reads(amplicon, called)  # type: ignore[arg-type]
    monkeypatch.setattr(tally._ProfileCounter, "BLOCK", 3)
    blocks = tally.tally_reads(amplicon, iter(called))  # type: ignore[arg-type]
    for one, other in zip(whole.positions, blocks.positions):
        assert (one.counts == other.counts).all() and (one.insertions_after == other.insertions_after).all()
    assert whole.alleles == blocks.alleles
    total = sum(c.reads for c in called if c.alignment is not None and c.call.outcome not in ("ambiguous",))
    assert whole.positions[0].coverage.max() <= total
