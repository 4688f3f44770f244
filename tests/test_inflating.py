"""A gzip file decompressed by a process of its own into shared memory (reads.inflating, #13): every byte in order,
blocks of the size asked (the last one shorter, empty when the file ends on a block's edge), the room before each
block writable, a failure said as the end of the blocks, and no process left behind however the reading ends."""

from __future__ import annotations

import gzip
import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from editcheck.reads.inflating import ROOM, SLOTS, InflatingProcess


def _content(size: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.choice(b"ACGT\n@+I") for _ in range(size))


def _gone(pid: int) -> bool:
    """Whether the process has ended and been reaped (it is no child of this process any more)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def _blocks(inflating: InflatingProcess) -> list[bytes]:
    blocks = []
    while (got := inflating.next_block()) is not None:
        start, length = got
        blocks.append(bytes(inflating.memory[start : start + length]))
        inflating.memory[start - ROOM : start] = b"x" * ROOM  # the room before a block is the reader's to write
        if length < inflating.block:
            return blocks
    raise AssertionError("the blocks ended without a short last block")


@pytest.mark.parametrize("size", [0, 1, 4096, 5 * 4096, 5 * 4096 + 17, 40 * 4096 + 3])
def test_every_byte_comes_in_order_in_blocks_of_the_size_asked(tmp_path: Path, size: int) -> None:
    content = _content(size)
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(content))
    with InflatingProcess(path, 4096) as inflating:
        pid = inflating._pid
        blocks = _blocks(inflating)
    assert b"".join(blocks) == content
    assert [len(block) for block in blocks] == [4096] * (size // 4096) + [size % 4096]  # more blocks than slots
    assert _gone(pid)


def test_a_damaged_file_ends_the_blocks_and_the_process(tmp_path: Path) -> None:
    data = gzip.compress(_content(30 * 4096, seed=2))
    path = tmp_path / "r.fq.gz"
    path.write_bytes(data[: len(data) // 2])
    with InflatingProcess(path, 4096) as inflating:
        pid = inflating._pid
        taken = 0
        while inflating.next_block() is not None:
            taken += 1
    assert 0 < taken < 30 and _gone(pid)
    with InflatingProcess(tmp_path / "absent.fq.gz", 4096) as inflating:
        assert inflating.next_block() is None


def test_a_reading_stopped_early_leaves_no_process(tmp_path: Path) -> None:
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(_content(200 * 4096, seed=3)))
    with InflatingProcess(path, 4096) as inflating:
        pid = inflating._pid
        assert inflating.next_block() is not None
    assert _gone(pid)
    with pytest.raises(KeyError), InflatingProcess(path, 4096) as inflating:  # an error on the way out
        pid = inflating._pid
        raise KeyError("stop")
    assert _gone(pid)
    assert SLOTS >= 2


@pytest.mark.parametrize(("cores", "threads", "apart"), [(2, 1, True), (2, 2, False), (4, 4, True), (1, 1, False)])
def test_the_engine_decompresses_apart_with_a_spare_core_or_four_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int, threads: int, apart: bool
) -> None:
    """Single-end gzip FASTQ is decompressed by a process of its own when a core is left beside the workers, or
    from four cores (engine.run._decompress_apart), with the results of reading it in the main process."""
    from editcheck import simulate
    from editcheck.design import build_design
    from editcheck.engine.run import run
    from editcheck.engine.sources import FastqSingle
    from editcheck.reads import fastq

    engine = sys.modules["editcheck.engine.run"]
    design = simulate.random_design(seed=29)
    truth = simulate.simulate(design, 3000, tmp_path / "reads.fastq.gz", seed=7)
    amplicon = build_design(
        truth["design"]["amplicon"], [truth["design"]["guide"]], expected_hdr_amplicon=truth["design"]["donor_amplicon"]
    )
    started: list[int] = []

    class Started(fastq.InflatingProcess):
        def __init__(self, *arguments: Any) -> None:
            super().__init__(*arguments)
            started.append(self._pid)

    monkeypatch.setattr(fastq, "InflatingProcess", Started)
    monkeypatch.setattr(engine, "available_cores", lambda: cores)
    result = run(FastqSingle(tmp_path / "reads.fastq.gz"), [amplicon], ["s"], threads=threads)
    assert len(started) == (1 if apart else 0)
    monkeypatch.setattr(engine, "available_cores", lambda: 1)
    reference = run(FastqSingle(tmp_path / "reads.fastq.gz"), [amplicon], ["s"], threads=1)
    assert len(started) == (1 if apart else 0)
    tally, expected = result.samples[0].tally, reference.samples[0].tally
    assert tally.outcomes == expected.outcomes and list(tally.alleles) == list(expected.alleles)
    assert sum(tally.outcomes.values()) == 3000
