"""Chunks handed to the worker processes through shared memory (editcheck.reads.chunk_ring, issue #13): every
slot gives back what was put there, slots are reused in turn, oversized chunks are refused; a worker forked
after the ring was made reads what the parent puts (an inherited anonymous mapping, no file), one forked before
is refused loudly; the chunked paired collapse and the engine with two workers send their chunks this way with
the same result; and a paired run killed with SIGKILL leaves nothing in /dev/shm."""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from editcheck import simulate
from editcheck.design import build_design
from editcheck.engine import chunked, run
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.sources import FastqPaired
from editcheck.engine.workers import UniqueReadAligner
from editcheck.reads import chunk_ring, pair_chunks
from editcheck.reads.chunk_ring import ChunkRing, Slot, take
from editcheck.reads.collapse import QualitySettings, collapse_paired
from editcheck.results.sample import write_sample_outputs
from process_groups import group_members
from test_pair_chunks import _echo, _pairs, _same, _write

run_module = importlib.import_module("editcheck.engine.run")  # the module (the package exports its function `run`)
_FORK = multiprocessing.get_context("fork")


def test_slots_give_back_their_chunks_and_are_reused_in_turn() -> None:
    with ChunkRing(3, 100) as ring:
        slots = [ring.put(index, bytes([65 + index]) * (10 + index), memoryview(b"xy" * index)) for index in range(7)]
        assert [slot.offset for slot in slots if slot is not None] == [0, 100, 200, 0, 100, 200, 0]
        # The last three put are what the slots hold now.
        assert take(slots[6]) == (b"G" * 16, b"xy" * 6)
        assert take(slots[5]) == (b"F" * 15, b"xy" * 5)
        assert take(slots[4]) == (b"E" * 14, b"xy" * 4)
        assert ring.put(7, b"A" * 60, b"C" * 41) is None  # more than a slot: sent as it is
        assert ring.put(8, b"A" * 60, b"C" * 40) == Slot(ring.ring, 200, 60, 40)
        identity = ring.ring
        assert chunk_ring._open[identity] is not None
    # Closed: forgotten and unmapped, and a slot of it is refused rather than read.
    assert identity not in chunk_ring._open
    with pytest.raises(RuntimeError, match="not mapped"):
        take(Slot(identity, 0, 4, 0))


def test_two_rings_side_by_side() -> None:
    with ChunkRing(2, 10) as first, ChunkRing(2, 10) as second:
        assert first.ring != second.ring
        one = first.put(0, b"ACGT", b"TT")
        two = second.put(0, b"GG", b"CCCC")
        assert one is not None and two is not None
        assert take(one) == (b"ACGT", b"TT")
        assert take(two) == (b"GG", b"CCCC")
        assert take(one) == (b"ACGT", b"TT")
        first.close()  # closed before the end of the with: closing it again does nothing
        assert take(two) == (b"GG", b"CCCC")


def test_no_ring_when_the_system_refuses_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(chunk_ring.mmap, "mmap", refuse)
    opened = dict(chunk_ring._open)
    assert ChunkRing.open(5, 1 << 20) is None
    assert chunk_ring._open == opened


def test_a_worker_forked_after_the_ring_reads_what_the_parent_puts_later() -> None:
    with ChunkRing(2, 64) as ring, _FORK.Pool(1) as pool:
        # Put after the fork: the worker sees the parent's writes (a shared mapping, not a copy of the memory).
        first = ring.put(0, b"ACGTACGT", b"TTGG")
        assert first is not None
        assert pool.apply(take, (first,)) == (b"ACGTACGT", b"TTGG")
        ring.put(1, b"N" * 30, b"")
        again = ring.put(2, b"GATTACA", b"C" * 20)  # slot 0 written again
        assert again is not None and again.offset == first.offset
        assert pool.apply(take, (again,)) == (b"GATTACA", b"C" * 20)


def test_a_ring_made_after_the_fork_is_refused_by_the_worker() -> None:
    with _FORK.Pool(1) as pool, ChunkRing(2, 64) as ring:
        slot = ring.put(0, b"ACGT", b"GG")
        assert slot is not None and take(slot) == (b"ACGT", b"GG")  # the parent has it
        with pytest.raises(RuntimeError, match=r"not mapped in process \d+: a ring must be made before"):
            pool.apply(take, (slot,))


@pytest.mark.parametrize("min_base_quality", [20, 0])
def test_two_workers_take_their_chunks_from_the_ring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, min_base_quality: int
) -> None:
    monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 16_384)  # ~100 chunks through 5 slots
    put = _count_puts(monkeypatch)
    source = _write(tmp_path, _pairs(6000, seed=13))
    settings = AnalysisSettings(quality=QualitySettings(min_base_quality=min_base_quality))
    reference = collapse_paired(source.path, source.r2, settings.merge, settings.quality)
    with chunked.pair_ring(2) as ring, UniqueReadAligner(2, (), _echo) as aligner:  # the ring before the fork
        assert ring is not None and ring.slots == 5
        found = chunked.collapse_pair_files(source, settings, aligner, ring=ring)
        sent = aligner.results()
    assert found is not None
    _same(found, reference)
    assert sent == list(reference.sequences)
    assert len(put) > 100 and all(put)
    assert ring.ring not in chunk_ring._open


def test_a_paired_run_with_two_workers_sends_its_chunks_through_the_ring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine makes the ring before it forks its workers (else every take would fail) and closes it."""
    folder = tmp_path / "reads"
    folder.mkdir()
    truth = simulate.simulate(simulate.random_design(seed=11), 3000, folder / "r1.fastq.gz", folder / "r2.fastq.gz",
                              read_length=150, seed=9)  # fmt: skip
    design = build_design(truth["design"]["amplicon"], [truth["design"]["guide"]],
                          expected_hdr_amplicon=truth["design"]["donor_amplicon"])  # fmt: skip
    source = FastqPaired(folder / "r1.fastq.gz", folder / "r2.fastq.gz")
    monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 65_536)
    opened = dict(chunk_ring._open)

    def tables(threads: int, quality: int) -> dict[str, str]:
        settings = AnalysisSettings(quality=QualitySettings(min_base_quality=quality))
        result = run(source, [design], ["s"], settings=settings, threads=threads).samples[0]
        out = tmp_path / f"{threads}-{quality}"
        write_sample_outputs(result, out)
        return {name: (out / name).read_text() for name in ("alleles.tsv", "positions.tsv", "indel_sizes.tsv")}

    for quality in (20, 0):  # both call sites: masked (Q20) and not (Q0)
        put = _count_puts(monkeypatch)
        two = tables(2, quality)
        assert len(put) >= 10 and all(put), quality  # ~1 MiB of each file in 64 KiB chunks
        assert chunk_ring._open == opened  # closed by the engine
        monkeypatch.setattr(run_module, "collapse_pair_files", lambda *a: None)  # the per-read loop
        assert tables(2, quality) == two == tables(1, quality)
        monkeypatch.undo()
        monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 65_536)


def _count_puts(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each chunk put into a ring fitted in its slot."""
    put: list[bool] = []
    original = ChunkRing.put

    def counted(ring: ChunkRing, index: int, chunk1: bytes | memoryview, chunk2: bytes | memoryview) -> Slot | None:
        slot = original(ring, index, chunk1, chunk2)
        put.append(slot is not None)
        return slot

    monkeypatch.setattr(ChunkRing, "put", counted)
    return put


_RING_BYTES = (chunked._IN_FLIGHT * 2 + 1) * 2 * pair_chunks.CHUNK_BYTES
"""The ring of a run with two workers: (chunks in flight per worker x 2 + 1) slots of a chunk of each file."""


def _shared_mappings(pid: int) -> list[tuple[int, str]]:
    """The size and name of each shared mapping of process ``pid``."""
    found = []
    try:
        lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split(maxsplit=5)
        if fields[1][3] == "s":
            start, end = (int(address, 16) for address in fields[0].split("-"))
            found.append((end - start, fields[5] if len(fields) > 5 else ""))
    return found


def _shm_names(pid: int) -> set[Path]:
    """The files in /dev/shm that process ``pid`` maps or holds open."""
    names = {name.removesuffix(" (deleted)") for _, name in _shared_mappings(pid)}
    with contextlib.suppress(OSError):  # the process ended
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):  # the descriptor was closed
                names.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return {Path(name) for name in names if name.startswith("/dev/shm/")}


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc to watch the run's mappings")
def test_a_killed_paired_run_leaves_nothing_in_shared_memory(tmp_path: Path) -> None:
    """kill -9 of a paired run with two workers while its ring is in use: no file of it is left in /dev/shm."""
    design = simulate.random_design(seed=2024, with_donor=False)
    r1, r2 = tmp_path / "r1.fastq.gz", tmp_path / "r2.fastq.gz"
    simulate.simulate(design, 100_000, r1, r2, error_rate=0.01, read_length=150, seed=5)
    command = [sys.executable, "-m", "editcheck", "quantify", "--r1", str(r1), "--r2", str(r2), "-a", design.amplicon,
               "-g", design.guide, "-t", "2", "-o", str(tmp_path / "out")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    named: set[Path] = set()
    try:
        deadline = time.monotonic() + 60
        while not any(size == _RING_BYTES for size, _ in _shared_mappings(process.pid)):  # the ring is in use
            assert process.poll() is None, "the run finished before its ring was seen; use a larger input"
            assert time.monotonic() < deadline, "no ring seen in the run after 60 s"
            time.sleep(0.01)
        for pid in group_members(process.pid):
            named |= _shm_names(pid)
        assert process.poll() is None, "the run finished before it could be killed; use a larger input"
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # never leave a run behind, whatever happened above
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    deadline = time.monotonic() + 10
    while group_members(process.pid) and time.monotonic() < deadline:  # the workers die with the group
        time.sleep(0.05)
    left = sorted(path for path in named if path.exists())
    for path in left:  # the defect's leftovers: removed, so that a failing run does not fill /dev/shm
        path.unlink(missing_ok=True)
    assert process.returncode == -signal.SIGKILL
    assert left == []
