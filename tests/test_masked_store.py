"""Masked reads kept compact (#13): one canonical ``bytes`` each (:func:`editcheck.engine.masking.exact_result`),
merged on those bytes when alike once masked, never when their masked alignment or call differ."""

from __future__ import annotations

import marshal
import sys
from pathlib import Path

import pytest

from editcheck.alignment.aligner import AlignedRead
from editcheck.classification.outcomes import ReadCall
from editcheck.design import build_design
from editcheck.engine import AnalysisSettings, masking
from editcheck.engine.masking import QualityMasking, SitesWorker, exact_result
from editcheck.engine.run import run
from editcheck.engine.sources import FastqSingle
from editcheck.engine.workers import AmpliconWorker, PooledCall, decode_result
from editcheck.reads.records import UniqueRead
from masking_helpers import AMPLICON, GUIDE, Q20, colliding_keys


def _substituted(position: int, base: str) -> str:
    assert AMPLICON[position] != base
    return AMPLICON[:position] + base + AMPLICON[position + 1 :]


def _pooled(sequence: str) -> PooledCall:
    design = build_design(AMPLICON, [GUIDE])
    aligned, call = AmpliconWorker(design, Q20)(sequence)
    assert aligned is not None
    from editcheck.alignment.assignment import Assignment

    return PooledCall(Assignment.ASSIGNED, 0, aligned, call)


def test_exact_result_is_canonical_and_tells_every_field_apart() -> None:
    # An insertion and a substitution: strings and tuples inside the alignment and the call.
    substituted = _substituted(40, "A" if AMPLICON[40] != "A" else "C")
    sequence = substituted[:80] + "TT" + substituted[80:]
    result = _pooled(sequence)
    aligned, call = result.alignment, result.call
    assert aligned is not None and call is not None and aligned.insertions and aligned.substitutions
    # The same values built again, unshared and not interned, then with one string object used twice.
    fresh = AlignedRead(*marshal.loads(marshal.dumps(tuple(aligned), 0)))
    interned_events = sys.intern("".join(list(call.events)))
    shared = ReadCall(*(interned_events if field == "events" else value for field, value in zip(call._fields, call)))
    shared = shared._replace(base_edit=interned_events) if call.base_edit == call.events else shared
    assert fresh == aligned and shared == call
    # Marshal's default format flags shared and interned objects: equal values, different bytes.
    twice = (call.events, call.events)
    assert marshal.dumps(twice) != marshal.dumps((call.events, "".join(list(call.events))))
    assert exact_result(result, fresh, shared) == exact_result(result, aligned, call)
    decoded = decode_result("any sequence: the projection is kept whole", exact_result(result, aligned, call))
    assert decoded == result
    # Any one field changed: other bytes.
    exact = exact_result(result, aligned, call)
    for field, value in zip(aligned._fields, aligned):
        other = {bool: lambda v: not v, int: lambda v: v + 1, float: lambda v: v / 2, str: lambda v: v[:-1] + "N",
                 tuple: lambda v: (*v, (1, "A"))}[type(value)](value)  # fmt: skip
        assert exact_result(result, aligned._replace(**{field: other}), call) != exact, field
    for field, value in zip(call._fields, call):
        other = {bool: lambda v: not v, int: lambda v: v + 1, str: lambda v: v + "x"}[type(value)](value)
        assert exact_result(result, aligned, call._replace(**{field: other})) != exact, field
    assert exact_result(result._replace(amplicon=1), aligned, call) != exact


@pytest.mark.parametrize("colliding", [False, True])
def test_masked_reads_alike_once_masked_merge_and_others_do_not(
    colliding: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sequences with other bases at one position, each read once with that base below Q20, read the same
    once masked: one masked read of 2 (whether the worker or the main process called it); two others, masked
    at another position, are another masked read of 2.  Every masked read is kept compact (no objects) and
    decodes to the masked call.  With every digest alike (``colliding``) the merge is the same: a digest
    collision never merges reads whose masked alignment or call differ."""
    if colliding:
        colliding_keys(monkeypatch)
    design = build_design(AMPLICON, [GUIDE])
    p, q = 30, 120
    others = [base for base in "ACGT" if base != AMPLICON[p]], [base for base in "ACGT" if base != AMPLICON[q]]
    sequences = [_substituted(p, others[0][0]), _substituted(p, others[0][1]),
                 _substituted(q, others[1][0]), _substituted(q, others[1][1])]  # fmt: skip
    high = "I" * len(AMPLICON)

    def low_at(position: int) -> str:
        return high[:position] + "#" + high[position + 1 :]

    for keep_keys in (False, True):
        masking_ = QualityMasking([design], Q20, keep_entries=False, keep_keys=keep_keys)
        worker = SitesWorker([design], Q20)
        # Sequences 0, 2 and 3: their low read goes with the sequence to the worker; 1's is counted after it settled.
        results = worker(sequences, (b"", [(((p,), 1),), (), (((q,), 1),), (((q,), 1),)]))
        for index, (sequence, result) in enumerate(zip(sequences, results)):
            masking_.settle(index, sequence, result)
        assert masking_.masks.add(1, low_at(p)) == (p,)
        expanded = masking_.expand(
            iter([(UniqueRead(s, n), result[0], n) for s, n, result in zip(sequences, (3, 1, 1, 1), results)])
        )
        masked = [(read, kept) for read, kept, collapsed in expanded.entries() if collapsed is None]
        assert [read.reads for read, _ in masked] == [2, 2]
        assert [read.reads for read, _, collapsed in expanded.entries() if collapsed is not None] == [2, 0, 0, 0]
        assert all(type(kept) is masking.MaskedResult for _, kept in masked)
        first, third = (masking.decoded_result(read.key, kept) for read, kept in masked)
        assert first.alignment is not None and third.alignment is not None
        assert first.alignment.projection == AMPLICON[:p] + "N" + AMPLICON[p + 1 :]
        assert third.alignment.projection == AMPLICON[:q] + "N" + AMPLICON[q + 1 :]
        assert first.call is not None and first.call.outcome == "unmodified" and not first.alignment.substitutions
        if keep_keys:
            assert [read.key for read, _ in masked] == [first.alignment.projection, third.alignment.projection]


def test_one_position_sites_are_one_shared_tuple_and_count_masks_as_before() -> None:
    """Most sequences with quality sites have one (a sequencing error): one tuple per read position serves them
    all, and reads are counted by mask as ever."""
    from editcheck.reads.collapse import QualityMasks

    masks = QualityMasks(20)
    high = "I" * 400
    for index in range(3):
        masks.settle(index, tuple([300]))  # built apart, as each comes unpickled from a worker
    masks.settle(3, tuple([300, 310]))
    masks.settle(4, ())
    assert masks.sites[0] is masks.sites[1] is masks.sites[2] == (300,)
    assert masks.sites[3] == (300, 310) and masks.sites[4] == ()
    low = high[:300] + "#" + high[301:]
    assert [masks.add(index, low) for index in range(5)] == [(300,), (300,), (300,), (300,), ()]
    assert masks.masks == {(0, (300,)): 1, (1, (300,)): 1, (2, (300,)): 1, (3, (300,)): 1}


def test_sites_forgotten_after_reading_are_refused() -> None:
    """The engine frees every sequence's sites once the reading is done (~80 MB at 10M reads): reading them
    afterwards is a mistake, said at once rather than taken for a sequence in flight."""
    from editcheck.reads.collapse import QualityMasks

    masks = QualityMasks(20)
    masks.settle(0, (300,))
    masks.forget_sites()
    with pytest.raises(RuntimeError, match="forget_sites"):
        masks.add(0, "I" * 400)
    with pytest.raises(RuntimeError, match="forget_sites"):
        masks.settle(1, ())
    assert masks.masks == {}


def test_a_run_forgets_the_sites_once_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from editcheck.reads import collapse

    forgotten: list[int] = []
    real = collapse.QualityMasks.forget_sites

    def spy(self: collapse.QualityMasks) -> None:
        forgotten.append(len(self.sites))
        real(self)

    monkeypatch.setattr(collapse.QualityMasks, "forget_sites", spy)
    reads = tmp_path / "r.fq"
    reads.write_text("".join(f"@r{i}\n{AMPLICON}\n+\n{'I' * len(AMPLICON)}\n" for i in range(3)))
    run(FastqSingle(reads), [build_design(AMPLICON, [GUIDE])], ["s"], settings=AnalysisSettings())
    assert forgotten == [1]  # one unique sequence, its sites freed
