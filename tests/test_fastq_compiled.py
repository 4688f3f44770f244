"""The compiled single-end FASTQ reader and collapser (issue #13, editcheck.reads._fastq_compiled): the same
unique reads in the same first-seen order, the same read counts, quality masks and errors as the Python reader,
the reference implementation, on simulated reads with lowercase, N, '.', CRLF and damaged records mixed in."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
from array import array
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from editcheck.errors import InputFormatError
from editcheck.progress import EVERY
from editcheck.reads import collapse, fastq
from editcheck.reads.collapse import (
    CollapsedReads,
    PendingReads,
    QualityMasks,
    QualitySettings,
    chunk_lows,
    chunk_lows_reference,
    collapse_single,
)
from editcheck.reads.fastq import iter_single_batches


def fastq_text(records: list[tuple[str, str, str]], plus_names: bool = False) -> bytes:
    return "".join(
        f"@{name}\n{sequence}\n+{name if plus_names else ''}\n{qualities}\n" for name, sequence, qualities in records
    ).encode()


def simulated(count: int, seed: int) -> list[tuple[str, str, str]]:
    """Amplicon-like reads: copies of a 60-bp amplicon with substitutions, indels and N, of several lengths (and
    a few empty reads); qualities mostly high, a few bases below Q20."""
    rng = random.Random(seed)
    amplicon = "".join(rng.choice("ACGT") for _ in range(60))
    records = []
    for i in range(1, count + 1):
        read = list(amplicon)
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            position = rng.randrange(len(read))
            change = rng.random()
            if change < 0.6:
                read[position] = rng.choice("ACGTN")
            elif change < 0.8:
                del read[position : position + rng.randint(1, 5)]
            else:
                read.insert(position, rng.choice("ACGT"))
        sequence = "".join(read) if rng.random() > 0.002 else ""
        qualities = "".join(rng.choice("#+5") if rng.random() < 0.02 else rng.choice("?FI") for _ in sequence)
        records.append((f"read{i} sample=S1", sequence, qualities))
    return records


class Spy:
    """Wraps the compiled counter, noting the reads it counted (to know which reader counted what)."""

    def __init__(self, counter: Any) -> None:
        self.counter = counter
        self.counted: list[int] = []

    def __call__(self, *arguments: Any) -> Any:
        spy = self

        class Counting(self.counter):  # type: ignore[misc, name-defined]
            def feed(self, block: bytearray, length: int, final: bool) -> int:
                used = super().feed(block, length, final)
                spy.counted.append(self.reads)
                return used

        return Counting(*arguments)


def settling(masks: QualityMasks | None, lag: int) -> tuple[list[str], Callable[[str], None]]:
    """An ``on_new`` that settles the sequence sent ``lag`` sequences earlier, as the engine does when alignments
    come back; its sites are the positions of its A and G among its first 40 bases (none for some)."""
    sent: list[str] = []

    def on_new(sequence: str) -> None:
        sent.append(sequence)
        if masks is not None and len(sent) > lag:
            index = len(sent) - 1 - lag
            sites = () if index % 3 == 0 else tuple(p for p, base in enumerate(sent[index][:40]) if base in "AG")
            masks.settle(index, sites)

    return sent, on_new


def collapsed_with(
    monkeypatch: pytest.MonkeyPatch, counter: Any, path: Path, threshold: int, lag: int, background: bool = False
) -> tuple[CollapsedReads | str, list[str], list[int], QualityMasks | None]:
    """The collapse of ``path`` read by ``counter`` first (None: the Python reader alone): the result (or the
    error message with its record), sequences sent, progress told and the quality masks."""
    monkeypatch.setattr(collapse, "_BLOCK_COUNTER", counter)
    masks = QualityMasks(threshold) if threshold else None
    sent, on_new = settling(masks, lag)
    shown: list[int] = []
    try:
        result: CollapsedReads | str = collapse_single(
            path, QualitySettings(min_base_quality=threshold), on_new, shown.append, masks, background
        )
    except InputFormatError as problem:
        result = f"{problem} (record {problem.record})"
    return result, sent, shown, masks


def assert_same(compiled: tuple[Any, ...], reference: tuple[Any, ...]) -> None:
    result, sent, shown, masks = compiled
    expected, expected_sent, expected_shown, expected_masks = reference
    if isinstance(expected, str):
        assert result == expected
        return
    assert isinstance(result, CollapsedReads)
    assert list(result.sequences.items()) == list(expected.sequences.items())  # counts, first-seen order
    assert result.reads_in == expected.reads_in
    assert sent == expected_sent and shown == expected_shown
    if expected_masks is not None:
        assert masks is not None
        # The same reads per (unique sequence, mask); not in the same order: the compiled counter keeps the
        # masks of settled sequences in a table of its own and adds them when the reading is done
        # (BlockCounter.flush_masks), and whoever reads the masks takes each sequence's masks sorted.
        assert masks.masks == expected_masks.masks
        assert masks.sites == expected_masks.sites
        assert [masks.take_pending(i) for i in range(len(sent))] == [
            expected_masks.take_pending(i) for i in range(len(sent))
        ]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 8 KiB: records cut at block ends, and batches of 256 records longer than a block."""
    monkeypatch.setattr(fastq, "BLOCK_BYTES", 8192)


COMPILED = collapse._BLOCK_COUNTER


def test_the_compiled_reader_is_built_and_selected() -> None:
    assert COMPILED is not None and COMPILED.__module__ == "editcheck.reads._fastq_compiled"


@pytest.mark.parametrize("threshold", [20, 0])
@pytest.mark.parametrize("lag", [0, 3, 100000])
@pytest.mark.usefixtures("small_blocks")
def test_compiled_collapse_equals_the_reference_on_simulated_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int, lag: int
) -> None:
    records = simulated(3000, seed=11)
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(fastq_text(records)))
    spy = Spy(COMPILED)
    compiled = collapsed_with(monkeypatch, spy, path, threshold, lag)
    reference = collapsed_with(monkeypatch, None, path, threshold, lag)
    assert_same(compiled, reference)
    assert spy.counted[-1] == 3000  # the compiled reader counted every read
    result = compiled[0]
    assert isinstance(result, CollapsedReads) and result.reads_in == 3000 and 300 < len(result.sequences) < 3000
    if threshold:
        assert lag == 100000 or (compiled[3] is not None and sum(compiled[3].masks.values()) > 50)


@pytest.mark.parametrize("lag", [0, 100000])
def test_progress_and_the_engine_sized_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lag: int) -> None:
    records = simulated(2 * EVERY + 700, seed=5)
    path = tmp_path / "r.fq"
    path.write_bytes(fastq_text(records, plus_names=True))  # '+' lines repeating the header are taken too
    spy = Spy(COMPILED)
    compiled = collapsed_with(monkeypatch, spy, path, 20, lag)
    assert_same(compiled, collapsed_with(monkeypatch, None, path, 20, lag))
    assert compiled[2] == [EVERY, 2 * EVERY] and spy.counted[-1] == len(records)


def _damaged(records: list[tuple[str, str, str]], kind: str) -> bytes:
    """The reads' FASTQ text with one kind of damage or unusual content at read 1,500 (of 3,000)."""
    changed = list(records)
    name, sequence, qualities = changed[1499]
    if kind == "lowercase":
        changed[1499] = (name, sequence.lower(), qualities)
    elif kind == "dot":
        changed[1499] = (name, "." + sequence[1:], qualities)
    elif kind == "bad base":
        changed[1499] = (name, "X" + sequence[1:], qualities)
    elif kind == "bad quality":
        changed[1499] = (name, sequence, " " + qualities[1:])
    elif kind == "lengths differ":
        changed[1499] = (name, sequence, qualities + "I")
    elif kind == "non-ASCII name":
        changed[1499] = ("réad", sequence, qualities)
    text = fastq_text(changed)
    if kind == "CRLF":
        return text.replace(b"\n", b"\r\n")
    if kind == "no final line break":
        return text[:-1]
    if kind == "blank line at the end":
        return text + b"\n"
    if kind == "other plus name":
        return text.replace(b"\n+\n", b"\n+other\n", 1)
    if kind == "no header":
        lines = text.split(b"\n")
        lines[4 * 1499] = b"read1500"
        return b"\n".join(lines)
    if kind == "cut record":
        return text[: text.index(b"@read2999")] + b"@read2999\nACGT\n"
    if kind == "empty":
        return b""
    return text


KINDS = [
    "lowercase", "dot", "bad base", "bad quality", "lengths differ", "non-ASCII name", "CRLF", "no final line break",
    "blank line at the end", "other plus name", "no header", "cut record", "empty",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("compressed", "background"), [(True, False), (False, False), (True, True)])
@pytest.mark.usefixtures("small_blocks")
def test_unusual_records_give_the_reference_result_or_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, compressed: bool, background: bool
) -> None:
    """(gzip in the background: decompressed in a thread of its own)"""
    text = _damaged(simulated(3000, seed=7), kind)
    path = tmp_path / ("r.fq.gz" if compressed else "r.fq")
    path.write_bytes(gzip.compress(text) if compressed else text)
    for threshold in (20, 0):
        spy = Spy(COMPILED)
        compiled = collapsed_with(monkeypatch, spy, path, threshold, 2, background)
        assert_same(compiled, collapsed_with(monkeypatch, None, path, threshold, 2))
        counted = spy.counted[-1] if spy.counted else 0
        if kind in ("no final line break",):
            assert counted == 3000
        elif kind in ("blank line at the end", "cut record"):
            assert counted == 2816  # whole batches of 256 before the last one, which the Python reader reads
        elif kind not in ("CRLF", "empty", "other plus name"):
            assert counted == 1280  # five batches of 256 before read 1,500
        if kind in ("lowercase", "dot", "no final line break", "CRLF"):
            assert isinstance(compiled[0], CollapsedReads) and compiled[0].reads_in == 3000
        else:
            assert isinstance(compiled[0], str) and "r.fq" in compiled[0]


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
@pytest.mark.parametrize("background", [False, True])
def test_damaged_gzip_gives_the_reference_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str, background: bool
) -> None:
    data = bytearray(gzip.compress(fastq_text(simulated(20000, seed=3))))
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8
    path = tmp_path / "r.fq.gz"
    path.write_bytes(bytes(data))
    compiled = collapsed_with(monkeypatch, COMPILED, path, 20, 2, background)
    reference = collapsed_with(monkeypatch, None, path, 20, 2, background)
    assert compiled[0] == reference[0] and isinstance(compiled[0], str) and "gzip" in compiled[0]


def test_missing_file_and_directory_give_the_reference_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in (tmp_path / "absent.fq.gz", tmp_path):
        compiled = collapsed_with(monkeypatch, COMPILED, path, 0, 0)
        assert compiled[0] == collapsed_with(monkeypatch, None, path, 0, 0)[0]
        assert isinstance(compiled[0], str) and ("file not found" in compiled[0] or "directory" in compiled[0])


def test_batches_can_start_after_skipped_records(tmp_path: Path) -> None:
    records = [(f"r{i}", "ACGT"[i % 4] * 3, "III") for i in range(1, 11)]
    records[8] = ("r9", "ACGX", "IIII")
    path = tmp_path / "r.fq"
    path.write_bytes(fastq_text(records))
    batches = iter_single_batches(path, size=2, skip=4)
    assert next(batches) == (["CCC", "GGG"], ["III", "III"])  # records 5 and 6
    assert next(batches) == (["TTT", "AAA"], ["III", "III"])
    with pytest.raises(InputFormatError) as caught:
        next(batches)
    assert caught.value.record == 9 and "sequence has 'X' at position 4" in str(caught.value)


def _selected(environment: dict[str, str]) -> str:
    script = "from editcheck.reads import collapse; print(collapse._BLOCK_COUNTER is None)"
    run = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, **environment}, capture_output=True, text=True, check=True
    )
    return run.stdout.strip()


def test_the_environment_selects_the_python_reader() -> None:
    assert _selected({"EDITCHECK_PURE_PYTHON": "1"}) == "True"
    assert _selected({"EDITCHECK_PURE_PYTHON": "0"}) == "False"


@pytest.mark.parametrize("length", [1, 7, 8, 9, 17])
def test_the_compiled_check_takes_exactly_acgtn_and_printable_qualities(length: int) -> None:
    # Every byte at every position of an 8-byte word and of the tail: a record is taken only when valid.
    assert COMPILED is not None
    for position in range(length):
        for code in range(256):
            sequence = bytearray(b"A" * length)
            sequence[position] = code
            qualities = bytearray(b"I" * length)
            qualities[position] = code
            for record, valid in (
                (b"@r\n" + sequence + b"\n+\n" + b"I" * length + b"\n", code in b"ACGTN"),
                (b"@r\n" + b"A" * length + b"\n+\n" + qualities + b"\n", 33 <= code <= 126),
            ):
                block = bytearray(record)
                used = COMPILED(lambda sequence: None, None, 256).feed(block, len(block), True)
                assert used == (len(block) if valid else -1), (position, code)


class NoPythonCounting(QualityMasks):
    """Quality masks whose per-read Python counting fails the test: the compiled counter must count in C."""

    def add(self, index: int, qualities: str) -> tuple[int, ...]:
        raise AssertionError("QualityMasks.add called for a read the compiled counter counts")

    def low(self, qualities: str) -> tuple[int, ...]:
        raise AssertionError("QualityMasks.low called for a read the compiled counter counts")


@pytest.mark.parametrize("lag", [0, 3, 40, 100000])
def test_reads_in_flight_are_counted_in_c_as_the_reference_counts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lag: int
) -> None:
    # Reads of a sequence still being aligned keep all their low-quality positions (pending, per distinct tuple,
    # first-seen order) with no Python call per read; settled ones are projected on their sites as before.
    records = simulated(3000, seed=23)
    again = [(f"again{i}", records[i % 50][1], records[(i * 7) % 3000][2]) for i in range(600)]  # other qualities
    records += [(name, sequence, qualities) for name, sequence, qualities in again if len(qualities) == len(sequence)]
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(fastq_text(records)))
    monkeypatch.setattr(collapse, "QualityMasks", NoPythonCounting)
    monkeypatch.setattr(collapse, "_BLOCK_COUNTER", COMPILED)
    masks = NoPythonCounting(20)
    sent, on_new = settling(masks, lag)
    result = collapse_single(path, QualitySettings(min_base_quality=20), on_new, None, masks)
    reference = collapsed_with(monkeypatch, None, path, 20, lag)
    assert_same((result, sent, [], masks), (reference[0], reference[1], [], reference[3]))
    assert result.reads_in == len(records) and reference[3] is not None
    assert lag == 100000 or sum(reference[3].masks.values()) > 50  # settled sequences' reads were counted too


def test_masks_of_settled_sequences_are_counted_in_the_counters_table_until_flushed() -> None:
    # Reads of settled sequences low at some of their sites (one: the usual mask; or several) are counted without
    # a Python object per read, by which of the entry's sites are low, and reach masks.masks when flushed: the
    # reads per (sequence, positions), one tuple per position for one-site masks.  A sequence with more sites
    # than its entry holds (9) has its reads' masks counted in the dict from its tuple; one with as many as it
    # holds (8) keeps them all in the table, its last site included.
    assert COMPILED is not None
    first, second, third, fourth = "ACGTACGTAC", "ACGTTCGTAC", "TTGTACGTAC", "GGGTACGTAC"
    sites_of = {first: (1, 4), second: (1, 4), third: tuple(range(9)), fourth: tuple(range(1, 9))}
    high, one_low, two_low = "I" * 10, "IIII#IIIII", "I#II#IIIII"
    records = [("r0", first, high), ("r1", second, high), ("r2", third, high), ("r3", fourth, high)]
    records += [(f"a{i}", first, one_low) for i in range(5)] + [(f"b{i}", second, one_low) for i in range(3)]
    records += [("c", first, two_low), ("d", second, "IIIIIIII#I")]  # two sites low; a low base at no site
    records += [(f"e{i}", third, one_low) for i in range(4)] + [("f", third, two_low), ("g", third, "IIIIIIIII#")]
    records += [("h0", fourth, "IIIIIIII#I"), ("h1", fourth, "I#IIIIII#I"), ("h2", fourth, "I#IIIIII#I")]
    records += [("h3", fourth, "#IIIIIIIII"), ("h4", fourth, "I########I")]  # no site low; every site low
    block = bytearray(fastq_text(records))
    masks = QualityMasks(20)
    met: list[str] = []

    def on_new(sequence: str) -> None:  # settled at once (the sequence's index: the sequences met before it)
        masks.settle(len(met), sites_of[sequence])
        met.append(sequence)

    counter = COMPILED(on_new, masks, 2)
    assert counter.feed(block, len(block), True) == len(block)
    assert counter.sequences() == met == [first, second, third, fourth]
    assert counter.tallies() == [7, 5, 7, 6]
    assert masks.masks == {(2, (4,)): 4, (2, (1, 4)): 1}  # the others are in its table so far
    counter.flush_masks()
    flushed = {
        (0, (4,)): 5, (1, (4,)): 3, (0, (1, 4)): 1, (2, (4,)): 4, (2, (1, 4)): 1,
        (3, (8,)): 1, (3, (1, 8)): 2, (3, tuple(range(1, 9))): 1,
    }  # fmt: skip
    assert masks.masks == flushed
    ones = [mask for (index, mask) in masks.masks if len(mask) == 1 and index < 2]
    assert ones[0] is ones[1]  # one tuple per position
    counter.flush_masks()  # emptied: nothing added twice
    assert masks.masks == flushed
    expected = QualityMasks(20)
    for _, sequence, qualities in records:  # the Python reader's count, read by read
        index = [first, second, third, fourth].index(sequence)
        if index >= len(expected.sites):
            expected.settle(index, sites_of[sequence])
        expected.add(index, qualities)
    assert expected.masks == masks.masks


def test_sites_past_what_an_entry_holds_are_counted_from_the_masks() -> None:
    # A site at read position 66,000 (past the 16 bits an entry keeps a position in): that sequence's reads are
    # counted from its sites tuple, as the Python reader counts them.
    assert COMPILED is not None
    sequence = "ACGT" * 17_500
    high = "I" * len(sequence)
    low_far = high[:66_000] + "#" + high[66_001:]
    low_both = "I" * 5 + "#" + low_far[6:]
    records = [("r0", sequence, high), ("r1", sequence, low_far), ("r2", sequence, low_far), ("r3", sequence, low_both)]
    block = bytearray(fastq_text(records))
    masks = QualityMasks(20)
    counter = COMPILED(lambda _: masks.settle(0, (5, 66_000)), masks, 1)
    assert counter.feed(block, len(block), True) == len(block)
    counter.flush_masks()
    assert masks.masks == {(0, (66_000,)): 2, (0, (5, 66_000)): 1}


# A new sequence's first read noted in C by the compiled counter and sent with its chunk as bytes
# (FirstReadLows, chunk_lows): the reads in flight a worker gets, and the masks counted once every sequence is
# settled, come to those of the Python reader, which counts every read in flight pending.


def packed(records: list[tuple[int, ...]]) -> bytes:
    """First reads' records as FirstReadLows.take_span gives them: per sequence its count, then its positions."""
    values = array("i")
    for low in records:
        values.append(len(low))
        values.extend(low)
    return values.tobytes()


def random_chunk(rng: random.Random, size: int) -> tuple[list[tuple[int, ...]], list[PendingReads]]:
    lows = [tuple(sorted(rng.sample(range(40), rng.choice((1, 1, 2, 5))))) for _ in range(6)]
    firsts: list[tuple[int, ...]] = []
    others: list[PendingReads] = []
    for _ in range(size):
        firsts.append(rng.choice(lows) if rng.random() < 0.7 else ())
        chosen = rng.sample(lows, rng.choice((0, 0, 1, 2, 3)))
        others.append(tuple((low, rng.randint(1, 4)) for low in chosen))
    return firsts, others


def expected_lows(first: tuple[int, ...], other: PendingReads) -> PendingReads:
    """What QualityMasks.take_pending gives a sequence whose first read (low at ``first``) was counted pending
    before ``other``'s reads: one dict, first-seen order."""
    reads: dict[tuple[int, ...], int] = {first: 1} if first else {}
    for low, count in other:
        reads[low] = reads.get(low, 0) + count
    return tuple(reads.items())


@pytest.mark.parametrize("seed", range(4))
def test_a_chunks_first_reads_and_other_reads_merge_as_if_all_were_pending(seed: int) -> None:
    rng = random.Random(seed)
    firsts, others = random_chunk(rng, 300)
    expected = [expected_lows(first, other) for first, other in zip(firsts, others)]
    merges = Counter(bool(first) and any(low == first for low, _ in other) for first, other in zip(firsts, others))
    assert merges[True] > 20 and merges[False] > 100  # first reads alike to another read's lows, and not
    assert chunk_lows_reference(packed(firsts), others) == expected
    assert chunk_lows(packed(firsts), others) == expected
    assert chunk_lows(b"", others) == others  # nothing noted: the reads counted pending, as they are


@pytest.mark.parametrize(
    "first, problem",
    [
        (packed([(1,), ()])[:-1], "whole int32s"),
        (packed([(1,)]), "fewer first reads"),
        (packed([(1,), (), ()]), "more first reads"),
        (packed([(1, 2, 3), ()])[:-8], "runs past"),
        (array("i", [-1, 0]).tobytes(), "runs past"),
    ],
)
def test_first_reads_that_are_not_the_chunks_are_refused(first: bytes, problem: str) -> None:
    for merge in {chunk_lows, chunk_lows_reference}:
        with pytest.raises(ValueError, match=problem):
            merge(first, [(), ()])


def run_taking_chunks(
    monkeypatch: pytest.MonkeyPatch, path: Path, counter: object, chunk: int, lag: int
) -> tuple[list[str], list[PendingReads], QualityMasks]:
    """A collapse whose ``on_new`` takes each chunk of ``chunk`` sequences when the next one comes (as the engine's
    aligner does), then settles the sequences taken ``lag`` chunks earlier (sites: the read positions of its A and
    G among its first 40 bases, none for some); at the end every chunk is taken and settled.  The sequences, what
    was taken for each (merged, as the worker merges it) and the masks."""
    monkeypatch.setattr(collapse, "_BLOCK_COUNTER", counter)
    masks = QualityMasks(20)
    sent: list[str] = []
    taken: list[PendingReads] = []

    def settle_through(stop: int) -> None:
        for index in range(sum(site is not None for site in masks.sites), stop):
            masks.settle(index, sites_of(index, sent[index]))

    def take(stop: int) -> None:
        taken.extend(chunk_lows(*masks.take_chunk(len(taken), stop)))
        settle_through(max(0, len(taken) - lag * chunk))

    def on_new(sequence: str) -> None:
        if len(sent) - len(taken) >= chunk:
            take(len(sent))
        sent.append(sequence)

    collapse_single(path, QualitySettings(min_base_quality=20), on_new, None, masks)
    take(len(sent))
    settle_through(len(sent))
    return sent, taken, masks


def sites_of(index: int, sequence: str) -> tuple[int, ...]:
    return () if index % 3 == 0 else tuple(p for p, base in enumerate(sequence[:40]) if base in "AG")


def every_mask(
    sequences: list[str], taken: list[PendingReads], masks: QualityMasks
) -> Counter[tuple[int, tuple[int, ...]]]:
    """The reads of every (sequence, mask): those the main process counted, and those taken to the worker, which
    projects them on the sequence's sites."""
    counted: Counter[tuple[int, tuple[int, ...]]] = Counter(masks.masks)
    for index, (sequence, lows) in enumerate(zip(sequences, taken)):
        sites = set(sites_of(index, sequence))
        for low, reads in lows:
            mask = tuple(p for p in low if p in sites)
            if mask:
                counted[(index, mask)] += reads
    return counted


@pytest.mark.skipif(COMPILED is None, reason="the compiled FASTQ reader is not built here")
@pytest.mark.parametrize("lag", [0, 2])
def test_first_reads_travel_with_their_chunk_and_every_read_is_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lag: int
) -> None:
    records = simulated(6000, seed=31)
    path = tmp_path / "r.fq.gz"
    path.write_bytes(gzip.compress(fastq_text(records)))
    compiled = run_taking_chunks(monkeypatch, path, collapse._BLOCK_COUNTER, 100, lag)
    reference = run_taking_chunks(monkeypatch, path, None, 100, lag)
    sequences, taken, masks = compiled
    assert sequences == reference[0] and len(sequences) > 1000
    assert masks.first_reads is not None and reference[2].first_reads is None
    # Each sequence's first read, when low somewhere, is the first of its reads taken with its chunk (the Python
    # reader counts a batch's sequences before its qualities: the first reads of a chunk's last sequences come
    # after it was taken, and are projected on their sites instead).
    first_low: dict[str, tuple[int, ...]] = {}
    for _, sequence, qualities in records:
        first_low.setdefault(sequence, tuple(p for p, q in enumerate(qualities) if ord(q) - 33 < 20))
    noted = 0
    for sequence, lows in zip(sequences, taken):
        if first_low[sequence]:
            assert lows[0][0] == first_low[sequence]
            noted += 1
    assert noted > 300
    # Every read low somewhere is counted once: taken with its chunk (projected by the worker), or projected on
    # its sites by the main process.
    assert every_mask(*compiled) == every_mask(*reference)
    assert sum(every_mask(*compiled).values()) > 200
    assert sum(masks.masks.values()) > 20 and sum(reference[2].masks.values()) > 20  # counted by the main too
    assert chunk_lows(*masks.take_chunk(0, len(sequences))) == [()] * len(sequences)  # nothing left behind
