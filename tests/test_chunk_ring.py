"""Chunks handed to the worker processes through shared memory (editcheck.reads.chunk_ring, issue #13): every
slot gives back what was put there, slots are reused in turn, oversized chunks are refused, the file goes with
the ring, and the chunked paired collapse with two workers sends its chunks this way with the same result."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from editcheck.engine import chunked
from editcheck.engine.settings import AnalysisSettings
from editcheck.reads import chunk_ring, pair_chunks
from editcheck.reads.chunk_ring import ChunkRing, Slot, take
from editcheck.reads.collapse import QualitySettings, collapse_paired
from test_pair_chunks import _chunked, _pairs, _same, _write


def test_slots_give_back_their_chunks_and_are_reused_in_turn() -> None:
    with ChunkRing(3, 100) as ring:
        slots = [ring.put(index, bytes([65 + index]) * (10 + index), memoryview(b"xy" * index)) for index in range(7)]
        assert [slot.offset for slot in slots if slot is not None] == [0, 100, 200, 0, 100, 200, 0]
        # The last three put are what the slots hold now.
        assert take(slots[6]) == (b"G" * 16, b"xy" * 6)
        assert take(slots[5]) == (b"F" * 15, b"xy" * 5)
        assert take(slots[4]) == (b"E" * 14, b"xy" * 4)
        assert ring.put(7, b"A" * 60, b"C" * 41) is None  # more than a slot: sent as it is
        assert ring.put(8, b"A" * 60, b"C" * 40) == Slot(ring.ring, ring.path, 200, 60, 40)
        path = ring.path
        assert os.path.exists(path)
    assert not os.path.exists(path)


def test_a_second_ring_is_mapped_afresh() -> None:
    with ChunkRing(2, 10) as first, ChunkRing(2, 10) as second:
        one = first.put(0, b"ACGT", b"TT")
        two = second.put(0, b"GG", b"CCCC")
        assert one is not None and two is not None
        assert take(one) == (b"ACGT", b"TT")
        assert take(two) == (b"GG", b"CCCC")
        assert chunk_ring._mapped is not None and chunk_ring._mapped[0] == second.ring


def test_a_ring_whose_file_name_comes_again_is_mapped_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    with ChunkRing(1, 10) as first:
        old = first.put(0, b"AAAA", b"")
        assert old is not None and take(old) == (b"AAAA", b"")
        path = first.path
    # The system hands out the deleted file's name again: the new ring's number still tells them apart.
    monkeypatch.setattr(chunk_ring.tempfile, "mkstemp", lambda **_: (os.open(path, os.O_RDWR | os.O_CREAT), path))
    with ChunkRing(1, 10) as second:
        new = second.put(0, b"CCCC", b"G")
        assert new is not None and new.path == old.path and new.ring != old.ring
        assert take(new) == (b"CCCC", b"G")


def test_no_ring_when_the_system_refuses_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", refuse)
    assert ChunkRing.open(5, 1 << 20) is None
    assert not [name for name in os.listdir(chunk_ring._SHARED_MEMORY) if name.startswith("editcheck-chunks-")]


@pytest.mark.parametrize("min_base_quality", [20, 0])
def test_two_workers_take_their_chunks_from_the_ring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, min_base_quality: int
) -> None:
    monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 16_384)  # ~100 chunks through 5 slots
    put: list[int] = []
    original = ChunkRing.put

    def counted(ring: ChunkRing, index: int, chunk1: bytes | memoryview, chunk2: bytes | memoryview) -> Slot | None:
        slot = original(ring, index, chunk1, chunk2)
        put.append(slot is not None)
        return slot

    monkeypatch.setattr(chunked.ChunkRing, "put", counted)
    source = _write(tmp_path, _pairs(6000, seed=13))
    settings = AnalysisSettings(quality=QualitySettings(min_base_quality=min_base_quality))
    reference = collapse_paired(source.path, source.r2, settings.merge, settings.quality)
    found, sent = _chunked(source, settings, 2)
    assert found is not None
    _same(found, reference)
    assert sent == list(reference.sequences)
    assert len(put) > 100 and all(put)
