"""The alleles of a segmented run summed on disk: AlleleRuns and the AlleleFile it finishes (#13).

The truth is the alleles table of all the segments' alleles summed in memory and ordered by the tally's own
rule (``tally.sorted_alleles``: decreasing reads, ties by reference, aligned sequence, outcome, events).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from editcheck.quantification import allele_store
from editcheck.quantification.allele_store import AlleleFile, AlleleRuns
from editcheck.quantification.tally import Allele, sorted_alleles

SEQUENCE = "".join(random.Random(5).choice("ACGT") for _ in range(60))


def _key_pool(rng: random.Random, size: int) -> list[tuple[str, str, str, str]]:
    """Keys alike in all but one part, sequences alike but at their ends or one a prefix of another."""
    keys = set()
    while len(keys) < size:
        position = rng.randrange(len(SEQUENCE))
        sequence = SEQUENCE[:position] + rng.choice("ACGTN-") + SEQUENCE[position + 1 :]
        sequence = sequence[: rng.choice([len(SEQUENCE), len(SEQUENCE), position + 1])]
        keys.add((rng.choice(["Reference", "HDR", "Ref"]), sequence, rng.choice(["modified", "unmodified", "hdr"]),
                  rng.choice(["", f"{position}X", f"{position}X,{position + 1}D2"])))  # fmt: skip
    return sorted(keys)


def _segments(seed: int, runs: int, size: int = 400) -> list[list[Allele]]:
    """Segments drawing their keys from one pool (so they share many), each key once per segment, with read
    counts drawn from few values (so many ties)."""
    rng = random.Random(seed)
    pool = _key_pool(rng, size)
    segments = []
    for _ in range(runs):
        keys = rng.sample(pool, rng.randint(0, size // 2))
        segments.append([Allele(*key, rng.choice([1, 1, 2, 3, 5])) for key in keys])
    return segments


def _truth(segments: list[list[Allele]]) -> list[Allele]:
    summed: Counter[tuple[str, str, str, str]] = Counter()
    for segment in segments:
        for allele in segment:
            summed[allele[:4]] += allele.reads
    return sorted_alleles(dict(summed))


def _finished(segments: list[list[Allele]], folder: Path, chunk: int) -> AlleleFile:
    runs = AlleleRuns(folder, chunk=chunk)
    for segment in segments:
        runs.add(segment)
    return runs.finish()


@pytest.mark.parametrize(("seed", "runs", "chunk", "fan_in", "batch"), [
    (1, 1, 500_000, 64, 1024), (2, 2, 3, 64, 1024), (3, 5, 7, 2, 1024), (4, 7, 1, 3, 1024), (5, 4, 50, 4, 3),
    (6, 3, 10_000, 2, 1024), (7, 6, 40, 64, 1), (8, 3, 100, 2, 7),
])  # fmt: skip
def test_finished_alleles_are_the_summed_alleles_in_table_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, runs: int, chunk: int, fan_in: int, batch: int
) -> None:
    monkeypatch.setattr(allele_store, "MAX_FAN_IN", fan_in)  # merge passes when more runs than this
    monkeypatch.setattr(allele_store, "BATCH", batch)  # groups of equal reads across the batches of a run
    segments = _segments(seed, runs)
    truth = _truth(segments)
    table = _finished(segments, tmp_path, chunk)
    assert list(table) == truth
    assert len(table) == len(truth) and bool(table)
    assert list(table) == truth, "a second iteration reads the same alleles again"
    if runs > 1:  # the segments share keys: alleles concatenated without summing them would not pass
        assert sum(len(segment) for segment in segments) > len(truth)
    # Only the finished table is left: intermediate runs are deleted once merged.
    assert [path.name for path in table.path.parent.iterdir()] == ["alleles.bin"]


def test_equal_keys_within_one_add_are_summed(tmp_path: Path) -> None:
    alleles = [Allele("R", "ACGT", "modified", "2X", 2), Allele("R", "ACG", "modified", "", 3),
               Allele("R", "ACGT", "modified", "2X", 4)]  # fmt: skip
    table = _finished([alleles, alleles[1:2]], tmp_path, 2)
    assert list(table) == [Allele("R", "ACG", "modified", "", 6), Allele("R", "ACGT", "modified", "2X", 6)]


def test_no_alleles(tmp_path: Path) -> None:
    empty = _finished([], tmp_path / "none", 3)
    assert len(empty) == 0 and not empty and list(empty) == []
    empty = _finished([[], []], tmp_path / "empty", 3)
    assert len(empty) == 0 and list(empty) == []


def test_same_adds_give_identical_files(tmp_path: Path) -> None:
    """Byte-identical runs and table for the same alleles, whether or not their strings are shared objects."""
    segments = _segments(8, 4)
    copies = [[Allele(*(("".join(part) if isinstance(part, str) else part) for part in a)) for a in s]
              for s in segments]  # fmt: skip
    first, second = AlleleRuns(tmp_path / "a", chunk=5), AlleleRuns(tmp_path / "b", chunk=5)
    for segment, copy in zip(segments, copies, strict=True):
        first.add(segment)
        second.add(copy)
    runs = sorted(first.directory.iterdir())
    assert len(runs) == 4
    assert [path.read_bytes() for path in runs] == [path.read_bytes() for path in sorted(second.directory.iterdir())]
    one, two = first.finish(), second.finish()
    assert one.path.read_bytes() == two.path.read_bytes()
    assert first.finish() is one, "finishing again gives the same table"
    with pytest.raises(RuntimeError):
        first.add(segments[0])


def test_runs_of_different_stores_share_a_folder(tmp_path: Path) -> None:
    first, second = AlleleRuns(tmp_path), AlleleRuns(tmp_path)
    first.add([Allele("R", "A", "modified", "", 1)])
    second.add([Allele("R", "C", "modified", "", 2)])
    assert [a.aligned_sequence for a in first.finish()] == ["A"]
    assert [a.aligned_sequence for a in second.finish()] == ["C"]


def test_chunk_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunk"):
        AlleleRuns(tmp_path, chunk=0)
