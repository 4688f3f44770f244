"""Single-end FASTQ read in batches (issue #13): the same reads, normalisation, counts, quality masks and errors as
the per-read reader and collapse, with the first problem in file order reported even when a later record of the
same batch (or a later batch) has another problem."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from editcheck.errors import InputFormatError
from editcheck.progress import EVERY
from editcheck.reads.collapse import QualityMasks, QualitySettings, collapse_records, collapse_single
from editcheck.reads.fastq import iter_single, iter_single_batches, iter_single_tuples


def fastq(records: list[tuple[str, str, str]]) -> bytes:
    return "".join(f"@{name}\n{sequence}\n+\n{qualities}\n" for name, sequence, qualities in records).encode()


def reads(count: int, seed: int = 1, length: int = 12) -> list[tuple[str, str, str]]:
    """``count`` reads drawn from a few sequences (so that they collapse), qualities from '#' to 'I'."""
    rng = random.Random(seed)
    pool = ["".join(rng.choice("ACGT") for _ in range(length)) for _ in range(7)]
    return [
        (f"r{i}", rng.choice(pool), "".join(rng.choice("#+5?I") for _ in range(length))) for i in range(1, count + 1)
    ]


def flat(path: Path, size: int) -> list[tuple[str, str]]:
    return [pair for sequences, qualities in iter_single_batches(path, size=size) for pair in zip(sequences, qualities)]


def error(call, *args, **kwargs) -> InputFormatError:
    with pytest.raises(InputFormatError) as caught:
        for _ in call(*args, **kwargs):
            pass
    return caught.value


@pytest.mark.parametrize("size", [1, 3, 7, 256])
def test_batches_are_the_reads_normalised_alike(tmp_path: Path, size: int) -> None:
    records = reads(20)
    records[4] = ("r5", "acgtnACGT.", "IIIIIIIIII")  # lowercase and '.' are normalised, in a late record of a batch
    records[19] = ("r20", "", "")
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(fastq(records)))
    assert flat(path, size) == [(sequence, qualities) for _, sequence, qualities in iter_single(path)]
    assert flat(path, size)[4] == ("ACGTNACGTN", "IIIIIIIIII")
    batches = [len(sequences) for sequences, _ in iter_single_batches(path, size=size)]
    assert batches == [size] * (20 // size) + ([20 % size] if 20 % size else [])


@pytest.mark.parametrize("size", [3, 8, 256])
@pytest.mark.parametrize(
    ("bad", "problem", "record"),
    [
        # a bad quality character late in a batch: named with its own record number
        ({6: ("r7", "ACGT", "II\x01I")}, "quality character code 1 at position 3 is not valid Phred+33", 7),
        ({6: ("r7", "ACGT", "I~\x7fI")}, "quality character code 127 at position 3", 7),
        # the first problem wins: a quality problem before a base problem in the same or a later batch ...
        ({5: ("r6", "ACGT", "I I!"), 6: ("r7", "ACXT", "IIII")}, "quality character ' ' (code 32) at position 2", 6),
        # ... and a base problem before a quality problem
        ({5: ("r6", "ACRT", "IIII"), 7: ("r8", "ACGT", "II I")}, "sequence has 'R' at position 3", 6),
        # a base problem of a sequence seen before, once valid
        ({6: ("r7", "ACGt", "IIII"), 7: ("r8", "ACG-", "IIII")}, "sequence has '-' at position 4", 8),
    ],
)
def test_the_first_problem_is_reported_with_its_record(
    tmp_path: Path, size: int, bad: dict[int, tuple[str, str, str]], problem: str, record: int
) -> None:
    records = [(f"r{i}", "ACGT", "IIII") for i in range(1, 13)]
    for position, replacement in bad.items():
        records[position] = replacement
    path = tmp_path / "bad.fq"
    path.write_bytes(fastq(records))
    expected = error(iter_single, path)
    found = error(iter_single_batches, path, size=size)
    assert (str(found), found.record) == (str(expected), expected.record)
    assert problem in str(found) and found.record == record


@pytest.mark.parametrize("size", [3, 256])
def test_a_record_problem_before_a_format_error_of_the_same_batch_wins(tmp_path: Path, size: int) -> None:
    records = [(f"r{i}", "ACGT", "IIII") for i in range(1, 6)]
    records[3] = ("r4", "ACGT", "II\tI")
    path = tmp_path / "bad.fq"
    path.write_bytes(fastq(records) + b"@r6\nACGT\n+\nIII\n")  # r6: lengths differ (dnaio's error)
    found = error(iter_single_batches, path, size=size)
    assert found.record == 4 and "quality character code 9 at position 3" in str(found)
    records[3] = ("r4", "ACGT", "IIII")
    path.write_bytes(fastq(records) + b"@r6\nACGT\n+\nIII\n")
    found = error(iter_single_batches, path, size=size)
    expected = error(iter_single, path)
    assert (str(found), found.record) == (str(expected), expected.record)
    assert found.record == 6 and "sequence and quality lengths differ" in str(found)


def test_reads_before_an_error_are_yielded_and_errors_match(tmp_path: Path) -> None:
    path = tmp_path / "cut.fq.gz"
    path.write_bytes(gzip.compress(fastq(reads(10)))[:-15])
    seen: list[int] = []
    with pytest.raises(InputFormatError) as caught:
        for sequences, _ in iter_single_batches(path, size=4):
            seen.append(len(sequences))
    assert str(caught.value) == str(error(iter_single, path))
    empty = tmp_path / "empty.fq"
    empty.write_bytes(b"")
    assert str(error(iter_single_batches, empty)) == str(error(iter_single, empty))


def test_known_valid_sequences_are_not_checked_again(tmp_path: Path) -> None:
    path = tmp_path / "r.fq"
    path.write_bytes(fastq([("a", "ACGT", "IIII"), ("b", "acgt", "IIII"), ("c", "ACGX", "IIII")]))
    # "acgt" is not in the valid set (it is not a normalised sequence), so it is normalised as usual
    batches = iter_single_batches(path, valid={"ACGT"}, size=2)
    assert next(batches) == (["ACGT", "ACGT"], ["IIII", "IIII"])
    with pytest.raises(InputFormatError, match="sequence has 'X' at position 4"):
        next(batches)


def settling(masks: QualityMasks, lag: int) -> tuple[list[str], object]:
    """An ``on_new`` that settles the sequence sent ``lag`` sequences earlier, its sites chosen from its bases
    (as the engine settles sequences as their alignments come back, later than they were sent)."""
    sent: list[str] = []

    def on_new(sequence: str) -> None:
        sent.append(sequence)
        if len(sent) > lag:
            index = len(sent) - 1 - lag
            masks.settle(index, tuple(p for p, base in enumerate(sent[index]) if base in "AG"))

    return sent, on_new


@pytest.mark.parametrize("lag", [0, 2, 1000])
def test_batched_collapse_counts_the_same_reads_and_masks(tmp_path: Path, lag: int) -> None:
    records = reads(3000, seed=5)
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(fastq(records)))
    settings = QualitySettings(min_base_quality=20)
    masks_batched, masks_per_read = QualityMasks(20), QualityMasks(20)
    sent_batched, on_new_batched = settling(masks_batched, lag)
    sent_per_read, on_new_per_read = settling(masks_per_read, lag)
    shown: list[int] = []
    batched = collapse_single(path, settings, on_new_batched, shown.append, masks_batched)
    per_read = collapse_records(iter_single_tuples(path), settings, on_new_per_read, None, masks=masks_per_read)
    for masks, sent in ((masks_batched, sent_batched), (masks_per_read, sent_per_read)):
        for index in range(len(sent)):
            if masks.sites[index] is None:
                masks.settle(index, tuple(p for p, base in enumerate(sent[index]) if base in "AG"))
    assert sent_batched == sent_per_read == list(per_read.sequences)
    assert (batched.sequences, batched.reads_in) == (per_read.sequences, per_read.reads_in) and batched.reads_in == 3000
    assert masks_batched.masks == masks_per_read.masks and sum(masks_batched.masks.values()) > 100
    assert shown == []  # fewer than EVERY reads
    q0 = collapse_single(path, QualitySettings(min_base_quality=0))
    assert q0.sequences == collapse_records(iter_single_tuples(path), QualitySettings(min_base_quality=0)).sequences


def test_progress_is_told_every_multiple_of_its_step(tmp_path: Path) -> None:
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(b"@r\nACGT\n+\nIIII\n" * (2 * EVERY + 5)))
    shown: list[int] = []
    collapsed = collapse_single(path, QualitySettings(min_base_quality=0), progress=shown.append)
    assert shown == [EVERY, 2 * EVERY] and collapsed.sequences == {"ACGT": 2 * EVERY + 5}


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "quality"])
def test_decompressing_in_the_background_gives_the_same_reads_and_errors(tmp_path: Path, damage: str) -> None:
    records = reads(5000, seed=3, length=40)
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(fastq(records)))
    assert flat(path, 256) == [pair for batch in iter_single_batches(path, background=True) for pair in zip(*batch)]
    if damage == "quality":
        records[4321] = (records[4321][0], records[4321][1], "I" * 39 + "\x1f")
        data = gzip.compress(fastq(records))
    else:
        data = bytearray(gzip.compress(fastq(records)))
        if damage == "truncated":
            data = data[: len(data) // 2]
        else:
            data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    expected = error(iter_single, path)
    found = error(iter_single_batches, path, background=True)
    assert (str(found), found.record) == (str(expected), expected.record)
    if damage == "quality":
        assert found.record == 4322


def test_missing_empty_and_directory_inputs_give_the_usual_messages_in_the_background(tmp_path: Path) -> None:
    empty = tmp_path / "empty.fq.gz"
    empty.write_bytes(gzip.compress(b""))
    for path in (tmp_path / "absent.fq.gz", tmp_path, empty):
        found = error(iter_single_batches, path, background=True)
        assert str(found) == str(error(iter_single, path))
    assert "no reads (empty file)" in str(error(iter_single_batches, empty, background=True))
