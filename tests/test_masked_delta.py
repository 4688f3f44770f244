"""Quality masking's usual mask kept as a delta (#13): a masked read whose masked bases are all substitutions
outside the window, at bases that decide nothing (a sequencing error at a low-quality base), is kept as its
unique read's own result and the masked reference positions (:class:`editcheck.engine.masking.MaskedResult`)
and decoded by :func:`editcheck.classification.quality.masked_substitutions`; masked reads are merged on
:func:`editcheck.engine.masking.masked_key`, exactly when their masked results (and, keeping keys, their masked
sequences) are equal.  The compiled ``masked_substitution_parts`` equals its pure-Python reference."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from editcheck.alignment import _compiled
from editcheck.alignment.aligner import AlignedRead
from editcheck.alignment.assignment import Assignment
from editcheck.classification import quality
from editcheck.classification.outcomes import ReadCall
from editcheck.classification.quality import (
    masked_alignment,
    masked_substitutions,
    quality_sites,
    substitution_positions,
)  # fmt: skip
from editcheck.design import build_design, reverse_complement
from editcheck.engine.masking import MaskedResult, QualityMasking, SitesWorker, decoded_result
from editcheck.engine.workers import AmpliconWorker, PooledCall, encode_result
from editcheck.reads.records import UniqueRead
from masking_helpers import AMPLICON, GUIDE, Q20, add_random_reads, colliding_keys, other_base

HIGH = "I" * 400


def _changed(sequence: str, changes: dict[int, str]) -> str:
    read = list(sequence)
    for position, base in changes.items():
        assert read[position] != base
        read[position] = base
    return "".join(read)


def _reads(count: int, seed: int) -> list[str]:
    """Distinct reads of the amplicon with 1-3 substitutions (some in the window), a deletion or an insertion
    now and then, a fifth of them reverse complemented."""
    return add_random_reads({}, count, random.Random(seed))


def test_the_compiled_substitution_masking_equals_the_reference_and_the_classifiers_call() -> None:
    """On 600 reads (forward and reverse, with indels), every usual mask of one site and of all a read's sites:
    the compiled parts equal the pure-Python reference's, and the masked alignment and call equal the
    classifier's call of the masked alignment; masks that are not usual (in the window) are told apart."""
    design = build_design(AMPLICON, [GUIDE])
    worker = AmpliconWorker(design, Q20)
    reference = design.references[0]
    usual = unusual = several = reverse = 0
    projections: Counter[str] = Counter()  # the kinds of projection the encoding keeps, leaves out or lays out
    for sequence in _reads(600, seed=5):
        aligned, call = worker(sequence)
        assert aligned is not None
        decisive = worker.classifier.quality_positions(aligned.reference)
        sites = quality_sites(sequence, aligned, decisive)
        for chosen in [[site] for site in sites] + ([list(sites)] if len(sites) > 1 else []):
            positions = substitution_positions(worker.classifier, call, chosen, decisive, reference)
            if positions is None:
                unusual += 1
                assert any(k >= 0 or reference.window[position] for _, position, k in chosen) or not call.events
                continue
            parts = (aligned.projection, aligned.substitutions, call.events, positions, reference.sequence)
            assert _compiled.masked_substitution_parts(*parts) == quality.python_masked_substitution_parts(*parts)
            masked = masked_alignment(aligned, chosen)
            expected = (masked, worker.classifier.classify(masked))
            got = masked_substitutions(aligned, call, positions, reference.sequence)
            assert got == expected and type(got[0]) is AlignedRead and type(got[1]) is ReadCall
            assert quality.python_masked_substitutions(aligned, call, positions, reference.sequence) == got
            # Kept as the unique read's encoded result and the positions, decoded to the same.
            encoded = encode_result(sequence, PooledCall(Assignment.ASSIGNED, 0, aligned, call))
            mask = tuple(site[0] for site in chosen)
            kept = MaskedResult(mask, encoded, sequence, positions, reference.sequence)
            decoded = decoded_result(sequence, kept)
            assert decoded == PooledCall(Assignment.ASSIGNED, 0, *expected) and type(decoded) is PooledCall
            assert type(decoded.alignment) is AlignedRead and type(decoded.call) is ReadCall
            projections["read itself" if aligned.projection == sequence else "other"] += 1
            projections["reverse" if aligned.reverse else "forward"] += 1
            projections["indels" if aligned.insertions or aligned.deletions else "no indels"] += 1
            usual += 1
            several += len(positions) > 1
            reverse += aligned.reverse
    assert usual > 500 and several > 100 and reverse > 80 and unusual > 50
    assert min(projections.values()) > 20 and len(projections) == 6, projections


def test_the_compiled_substitution_parts_equal_the_reference_on_any_text() -> None:
    """Synthetic parts the engine never makes as well as those it does: 1 to 70 positions (more than the C path
    takes), labels repeated, empty and unrelated events, substitutions elsewhere, and text that is not ASCII
    (the general code): the compiled parts equal the reference's."""
    rng = random.Random(3)
    taken = 0
    for case in range(400):
        length = rng.randrange(80, 140)
        reference = "".join(rng.choice("ACGT") for _ in range(length))
        projection = "".join(other_base(base) if rng.random() < 0.3 else base for base in reference)
        if case % 50 == 7:
            projection = projection[:-1] + "é"  # not ASCII
        positions = tuple(sorted(rng.sample(range(length - 1), rng.choice([1, 1, 2, 3, 8, 65, 70]))))
        labels = [f"{p + 1}{reference[p]}>{projection[p]}" for p in positions]
        others = ["12del3", "", "40ins2", f"{length + 5}A>C"]
        items = rng.sample(labels, min(len(labels), 3)) * rng.choice([1, 2]) + rng.sample(others, 2)
        rng.shuffle(items)
        events = ";".join(items)
        substitutions = tuple((p, projection[p]) for p in sorted(set(positions[:2]) | {length - 1}))
        parts = (projection, substitutions, events, positions, reference)
        got = _compiled.masked_substitution_parts(*parts)
        assert got == quality.python_masked_substitution_parts(*parts)
        assert [type(part) for part in got] == [str, tuple, str]
        taken += len(positions) <= 64 and projection.isascii()
    assert taken > 250


def _expanded(sequences: list[str], reads: list[int], lows: list[Any], later: list[tuple[int, int]],
              keep_keys: bool) -> list[tuple[UniqueRead, Any, int | None]]:  # fmt: skip
    """The expanded reads of unique ``sequences`` (``reads`` each), the worker given ``lows``, and one read
    low at read position p counted by the main process for each ``(index, p)`` of ``later``."""
    design = build_design(AMPLICON, [GUIDE])
    worker = SitesWorker([design], Q20)
    quality_masking = QualityMasking([design], Q20, keep_entries=False, keep_keys=keep_keys)
    results = worker(sequences, (b"", list(lows)))
    for index, (sequence, result) in enumerate(zip(sequences, results)):
        quality_masking.settle(index, sequence, result)
    for index, position in later:
        assert quality_masking.masks.add(index, HIGH[:position] + "#" + HIGH[position + 1 :]) == (position,)
    expanded = quality_masking.expand(
        iter([(UniqueRead(s, n), result[0], n) for s, n, result in zip(sequences, reads, results)])
    )
    return list(expanded.entries())


def _masked_result(sequence: str, read_positions: tuple[int, ...]) -> PooledCall:
    """The classifier's call of ``sequence`` with N at ``read_positions`` (from its alignment, not aligned again)."""
    design = build_design(AMPLICON, [GUIDE])
    worker = AmpliconWorker(design, Q20)
    aligned, _ = worker(sequence)
    assert aligned is not None
    decisive = worker.classifier.quality_positions(aligned.reference)
    chosen = [site for site in quality_sites(sequence, aligned, decisive) if site[0] in read_positions]
    assert [site[0] for site in chosen] == list(read_positions)
    masked = masked_alignment(aligned, chosen)
    return PooledCall(Assignment.ASSIGNED, 0, masked, worker.classifier.classify(masked))


@pytest.mark.parametrize("keep_keys", [False, True])
@pytest.mark.parametrize("colliding", [False, True])
def test_usual_masks_are_kept_as_the_unique_reads_result_and_merge_exactly(
    keep_keys: bool, colliding: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads with a sequencing error at a low-quality base outside the window: each masked read keeps its unique
    read's own encoded result (the same object: no bytes of its own) and decodes to the classifier's call of
    the masked alignment.  Masked reads merge when alike once masked (two error bases at one position, on
    forward reads and on reverse reads, called by the worker or the main process), never when their
    alignments differ (the same masked sequence but for a deletion elsewhere), nor forward with reverse, nor
    at another position; with every key alike (``colliding``) the merges are the same."""
    if colliding:
        colliding_keys(monkeypatch)
    p, q, gap = 30, 150, 120
    forward = [_changed(AMPLICON, {p: other_base(AMPLICON[p], k)}) for k in range(3)]
    reverse = [reverse_complement(read) for read in forward[:2]]
    deleted = _changed(AMPLICON, {p: other_base(AMPLICON[p], 0)})
    deleted = deleted[:gap] + deleted[gap + 3 :]  # the same error, and a deletion away from the window
    elsewhere = _changed(AMPLICON, {q: other_base(AMPLICON[q])})
    sequences = [AMPLICON, *forward, *reverse, deleted, elsewhere]
    reads = [5, 1, 1, 2, 1, 1, 1, 1]
    r = len(AMPLICON) - 1 - p  # the error's read position on the reverse reads
    lows: list[Any] = [(), (((p,), 1),), (), (((p,), 1),), (((r,), 1),), (((r,), 1),), (((p,), 1),), (((q,), 1),)]
    later = [(2, p), (3, p)]  # forward[1]'s read and one more of forward[2]'s, counted after they were sent
    entries = _expanded(sequences, reads, lows, later, keep_keys)
    unique = [(read.key, kept) for read, kept, collapsed in entries if collapsed is not None]
    masked = [(read, kept) for read, kept, collapsed in entries if collapsed is None]
    assert [read.reads for read, _, collapsed in entries if collapsed is not None] == [5, 0, 0, 0, 0, 0, 0, 0]
    # forward (1 + 1 + 2 reads), reverse (1 + 1), the one with a deletion, the one at another position
    assert [read.reads for read, _ in masked] == [4, 2, 1, 1]
    encoded = dict(unique)
    expected = [(forward[0], (p,)), (reverse[0], (r,)), (deleted, (p,)), (elsewhere, (q,))]
    for (read, kept), (sequence, read_positions) in zip(masked, expected):
        assert type(kept) is MaskedResult and kept.substituted and kept.unmasked == sequence
        assert kept.encoded is encoded[sequence] and kept.mask == read_positions
        assert read.key == (quality.masked_sequence(sequence, read_positions) if keep_keys else sequence)
        assert decoded_result(read.key, kept) == _masked_result(sequence, read_positions)
    projections = [decoded_result(read.key, kept).alignment.projection for read, kept in masked]  # type: ignore[union-attr]
    assert projections[0] == projections[1] == AMPLICON[:p] + "N" + AMPLICON[p + 1 :]


def test_masks_in_the_window_are_kept_encoded_for_the_masked_sequence() -> None:
    """A low-quality substitution in the window changes the call: that masked read is called again by the
    classifier and kept as its own encoded result, not as its unique read's."""
    p = 86  # in the window (around the cut, 3 bases from the guide's end)
    sequence = _changed(AMPLICON, {p: other_base(AMPLICON[p])})
    entries = _expanded([sequence], [2], [(((p,), 1),)], [], keep_keys=False)
    (read, kept, collapsed), (masked_read, masked_kept, masked_collapsed) = entries
    assert collapsed == 2 and masked_collapsed is None and masked_read.reads == 1 and read.reads == 1
    assert type(masked_kept) is MaskedResult and not masked_kept.substituted and masked_kept.encoded is not kept
    result = decoded_result(masked_read.key, masked_kept)
    assert result == _masked_result(sequence, (p,))
    assert result.call is not None and result.call.outcome == "unmodified"
