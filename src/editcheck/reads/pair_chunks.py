"""Collapsing paired FASTQ files chunk by chunk: the fast route of :func:`editcheck.reads.collapse.collapse_fragments`.

The reading process only decompresses R1 and R2 and cuts them into chunks holding the same reads
(:func:`read_pair_views`); each chunk is counted on its own, in a worker process when there are several
(:func:`count_pair_chunk`): its records are checked all at once (C-level bytes operations), low-quality bases
are masked over the whole chunk (numpy), identical masked pairs are counted and each is placed once; where its
mates disagree, its reads are grouped by the bases their own qualities choose
(:func:`~editcheck.reads.merge.mate_choices`), and each group is merged with the qualities of its first read in
the chunk.  With ``raw`` (the engine, given a base-quality threshold) nothing is masked before merging:
identical pairs as sequenced are counted and merged, each read's merged-read positions below the threshold are
found over the whole chunk (:mod:`editcheck.reads.merged_lows`), and only the mates of pairs that do not merge
are masked, read by read.  :class:`PairTally` then folds the chunks, in file order, into the same
:class:`~editcheck.reads.collapse.CollapsedReads` the per-read loop builds, byte for byte:

* a pair's merged read depends on its sequences and its own choices of bases only, so whichever chunk (and
  worker) merged a group first gives the per-read loop's merged read; later chunks' merges are not made;
* taking each chunk's distinct pairs in the order of their first read, chunks in file order, meets every
  merged read (and unmerged pair) first at the same read as the per-read loop, so the unique reads keep their
  first-seen order.

The route is strict: a chunk with anything the per-read reader would normalise or refuse (lowercase or ``.``
bases, characters outside ``ACGTN``, qualities outside ``!``-``~``, a ``+`` line repeating the name, carriage
returns, non-ASCII or mismatched names, R1 and R2 out of step) is not counted (:func:`count_pair_chunk`
returns None), and the caller starts again with the per-read loop, which gives the usual result or the usual
error message; so is a chunk with a read longer than the maximum read length (the per-read loop refuses it,
:mod:`editcheck.reads.read_length`).  A record longer than a chunk (:data:`CHUNK_BYTES`) stops the reading
(dnaio's error), so no read is held beyond that.  Memory grows with the distinct pairs, not with the reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from io import BufferedIOBase
from itertools import chain
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any, NamedTuple, cast

import dnaio
import numpy as np
from xopen import xopen

from editcheck.reads.chunk_ring import Slot, take
from editcheck.reads.collapse import CollapsedReads, QualitySettings
from editcheck.reads.fastq import _READ_ERRORS, _is_stream, _same_file
from editcheck.reads.merge import IMPLEMENTATION, MergeSettings, mate_choices, merge_pair
from editcheck.reads.merged_lows import ChunkLows, MergedLows, chunk_lows, merge_disagreeing
from editcheck.reads.read_length import MAX_READ_LENGTH
from editcheck.sequences import reverse_complement

__all__ = [
    "CHUNK_BYTES", "READ_ERRORS", "ChunkCounts", "ChunkQualities", "PairTally", "count_pair_chunk", "count_slot_chunk",
    "forget_merged", "number_pairs", "number_pairs_reference", "read_pair_views", "usable",
]  # fmt: skip

CHUNK_BYTES = 4 * 1024**2
"""Largest chunk of each file (about 12,000 2x150 pairs)."""

_BASES = b"ACGTN\n"
_PRINTABLE = bytes(range(ord("!"), ord("~") + 1)) + b"\n"
_SPLIT_AT_SPACE = methodcaller("partition", b" ")
_FIRST_WORD = itemgetter(0)

Outcome = str | tuple[str, str]
"""A pair's fate: its merged read, or (R1, reverse-complemented R2) when it did not merge."""


class ChunkQualities(NamedTuple):
    """With a base-quality threshold, what a chunk's reads' qualities decide: their merged reads' low positions,
    and the unmerged pairs with their mates masked (each pair with its own qualities) and their reads, in the
    order of their first read."""

    lows: ChunkLows
    unmerged: list[tuple[tuple[str, str], int]]


PairKey = int | tuple[int, int]
"""A pair's sequences (R1, R2 as sequenced, or masked) as a 128-bit number (:func:`_pair_id`: two 64-bit hashes,
so the main process keeps ~44 bytes per distinct pair instead of both reads), with, where its mates disagree,
its choices of bases (:func:`~editcheck.reads.merge.mate_choices`): pairs with one key have one merged read."""

_LOW64 = (1 << 64) - 1


def _pair_id(hashed: int, check: int) -> int:
    """A pair's number from the hash of its key and of the reversed key: two pairs share it only if both 64-bit
    hashes collide (a chance of ~10^-25 among 10^7 distinct pairs)."""
    return (hashed & _LOW64) << 64 | (check & _LOW64)


ChunkCounts = tuple[int, list[tuple[PairKey, int, Outcome | None]], ChunkQualities | None]
"""A chunk's reads, and its distinct pairs (:data:`PairKey`), each with its number of reads and the outcome of
merging it with the qualities of its first read in the chunk (None: merged in an earlier chunk, see
:func:`count_pair_chunk`), in the order of those first reads; and with a base-quality threshold, its
:class:`ChunkQualities` (else None)."""


READ_ERRORS: tuple[type[BaseException], ...] = (*_READ_ERRORS, ValueError)
"""What reading a damaged or missing file raises (the per-read loop turns each into its message; ValueError:
a record longer than a chunk)."""


def usable(path1: str | Path, path2: str | Path, quality: QualitySettings) -> bool:
    """Whether the chunked route applies: two different files that can be read twice (not pipes: the per-read
    loop may have to start again), without the mean-quality filter (which takes the per-read loop)."""
    if quality.min_mean_quality or _same_file(path1, path2):
        return False
    return not _is_stream(path1) and not _is_stream(path2)


def read_pair_views(path1: str | Path, path2: str | Path) -> Iterator[tuple[memoryview, memoryview]]:
    """Chunks of R1 and R2 holding the same number of FASTQ records (as counted by lines), decompressed in this
    process with ISA-L, without copying: each pair of chunks is valid until the next one is asked for.  Raises
    whatever dnaio or the decompressor raise (the caller then takes the per-read loop, whose errors name the
    file and record)."""
    with xopen(path1, "rb", threads=0) as file1, xopen(path2, "rb", threads=0) as file2:
        yield from dnaio.read_paired_chunks(cast(BufferedIOBase, file1), cast(BufferedIOBase, file2), CHUNK_BYTES)


class _Records(NamedTuple):
    """A chunk's records: sequences and qualities, and the headers (with ``@``), sequences and qualities joined by
    line breaks."""

    sequences: list[bytes]
    qualities: list[bytes]
    joined_headers: bytes
    joined_sequences: bytes
    joined_qualities: bytes

    @property
    def headers(self) -> list[bytes]:
        """The headers, one by one."""
        return self.joined_headers.split(b"\n") if self.sequences else []


_Split = Callable[[bytes], tuple[list[bytes], list[bytes], bytes, bytes, bytes] | None]
split_records: _Split | None = None
"""The compiled record splitter (:func:`editcheck.reads._pairs_compiled.split_records`), None without it."""
if IMPLEMENTATION == "compiled":
    from editcheck.reads import _pairs_compiled

    split_records = _pairs_compiled.split_records


def _longest(records: _Records) -> int:
    """The length of a chunk's longest read (0 for none)."""
    return max(map(len, records.sequences), default=0)


def _records(chunk: bytes) -> _Records | None:
    """The records of a chunk of plain, valid FASTQ; None otherwise.  The compiled :func:`split_records` settles
    the plain chunks; the others, and every chunk without it, are judged by :func:`_records_reference`."""
    if split_records is not None and (found := split_records(chunk)) is not None:
        return _Records(*found)
    return _records_reference(chunk)


def _records_reference(chunk: bytes) -> _Records | None:
    """:func:`_records` in Python: the reference of the compiled :func:`split_records`."""
    if b"\r" in chunk:
        return None
    if chunk and not chunk.endswith(b"\n"):
        chunk += b"\n"  # the file's last line without its line break
    lines = chunk.split(b"\n")
    lines.pop()  # after the last line break
    if len(lines) % 4:
        return None
    headers = lines[0::4]
    separators = lines[2::4]
    if separators.count(b"+") != len(separators):
        return None
    joined_headers = b"\n".join(headers)
    if not joined_headers.isascii() or joined_headers.count(b"\n@") != len(headers) - 1:
        return None
    if headers and not joined_headers.startswith(b"@"):
        return None
    sequences = lines[1::4]
    qualities = lines[3::4]
    joined_sequences = b"\n".join(sequences)
    joined_qualities = b"\n".join(qualities)
    if joined_sequences.translate(None, _BASES) or joined_qualities.translate(None, _PRINTABLE):
        return None
    if list(map(len, sequences)) != list(map(len, qualities)):
        return None
    return _Records(sequences, qualities, joined_headers, joined_sequences, joined_qualities)


def _read_id(header: bytes) -> bytes:
    """The ID matching mates (as :mod:`editcheck.reads.fastq`): the name up to a space or tab, without /1 or /2."""
    identifier = header[1:].split(b" ", 1)[0].split(b"\t", 1)[0]
    return identifier[:-2] if identifier[-2:] in (b"/1", b"/2") else identifier


def _same_reads(records1: _Records, records2: _Records) -> bool:
    """Whether mates have the same IDs; the usual cases are settled on whole chunks, in C."""
    if len(records1.sequences) != len(records2.sequences):
        return False
    if records1.joined_headers == records2.joined_headers:
        return True
    # Illumina's comments: " 1:N:..." in R1, " 2:N:..." in R2.  The replaced text starts with a space, after the
    # ID, so equal headers after the replacement have equal IDs.
    if records1.joined_headers.replace(b" 1:", b" 2:") == records2.joined_headers:
        return True
    headers1, headers2 = records1.headers, records2.headers
    if list(map(_FIRST_WORD, map(_SPLIT_AT_SPACE, headers1))) == list(map(_FIRST_WORD, map(_SPLIT_AT_SPACE, headers2))):
        return True  # equal up to a space, so equal up to a space or tab
    return list(map(_read_id, headers1)) == list(map(_read_id, headers2))


def number_pairs_reference(first: list[bytes], second: list[bytes]) -> tuple[Any, list[int]]:
    """The distinct pairs ``(first[r], second[r])`` numbered in the order of their first read: ``(read_pairs,
    firsts)``, ``read_pairs[r]`` (numpy int64) read ``r``'s pair, ``firsts[p]`` pair ``p``'s first read.  The
    reference of the compiled :func:`number_pairs` (run when the extension is missing)."""
    pair_of: dict[tuple[bytes, bytes], int] = {}
    numbering = pair_of.setdefault
    read_pairs = np.array([numbering(key, len(pair_of)) for key in zip(first, second)], dtype=np.int64)
    return read_pairs, np.unique(read_pairs, return_index=True)[1].tolist()


if IMPLEMENTATION == "compiled":
    from editcheck.reads._pairs_compiled import number_pairs
else:
    number_pairs = number_pairs_reference


def _masked(records: _Records, threshold: int) -> list[bytes]:
    """Sequences with every base of quality below ``threshold`` (Phred) masked to N, all at once."""
    if not threshold:
        return records.sequences
    scores = np.frombuffer(records.joined_qualities, dtype=np.uint8) - np.uint8(33)  # line breaks wrap to 233
    low = np.flatnonzero(scores < threshold)
    if not len(low):
        return records.sequences
    joined = bytearray(records.joined_sequences)
    np.frombuffer(joined, dtype=np.uint8)[low] = ord("N")
    return bytes(joined).split(b"\n")


_merged_here: tuple[object, dict[int, Any], set[int]] = (None, {}, set())
"""The run this process last counted chunks for; the hashes of the pairs it merged for that run, each with a
check (the hash of the reversed key), or (check, placement (None: not merged), disagreements) for a pair whose
mates disagree or with a base-quality threshold; and the hashes of the pairs with choices of bases
(:func:`~editcheck.reads.merge.mate_choices`) it merged."""


def forget_merged() -> None:
    """Drop this process's memory of merged pairs (after a run counted in the calling process)."""
    global _merged_here
    _merged_here = (None, {}, set())


def count_pair_chunk(
    chunk1: bytes,
    chunk2: bytes,
    min_base_quality: int,
    merge: MergeSettings,
    run: object = None,
    raw: bool = False,
    max_read_length: int = MAX_READ_LENGTH,
) -> ChunkCounts | None:
    """Count and merge one chunk's pairs (see the module docstring); None when the chunk is not plain, valid
    FASTQ with R1 and R2 in step, or has a read longer than ``max_read_length``.  With ``raw`` (and a
    ``min_base_quality``) the pairs are counted and merged as sequenced and the chunk's :class:`ChunkQualities`
    come with them; else low-quality bases are masked to N in each mate first.

    Given a ``run`` token (equal for the chunks of one input, different between inputs), a process merges
    a pair only the first time it meets it in that run and gives None as the outcome afterwards: the pair
    was in an earlier chunk, so this chunk's merge would be ignored anyway.  The pairs are remembered by
    hash, checked by a second hash: None (the per-read loop) should two pairs share the first; a new pair with
    the choices of bases of one remembered (:func:`_merged_groups`) would come without its outcome, which
    :meth:`PairTally.add` reports.
    """
    global _merged_here
    if run is None or _merged_here[0] != run:
        _merged_here = (run, {}, set())
    remembered = _merged_here if run is not None else None
    records1 = _records(chunk1)
    records2 = _records(chunk2)
    if records1 is None or records2 is None:
        return None
    if _longest(records1) > max_read_length or _longest(records2) > max_read_length:
        return None
    if not _same_reads(records1, records2):
        return None
    if raw and min_base_quality:
        return _count_raw(records1, records2, min_base_quality, merge, remembered)
    masked1 = _masked(records1, min_base_quality)
    masked2 = _masked(records2, min_base_quality)
    groups = _merged_groups(masked1, records1.qualities, masked2, records2.qualities, merge, remembered, False)
    return None if groups is None else (len(masked1), groups.entries, None)


def count_slot_chunk(
    slot: Slot,
    min_base_quality: int,
    merge: MergeSettings,
    run: object = None,
    raw: bool = False,
    max_read_length: int = MAX_READ_LENGTH,
) -> ChunkCounts | None:
    """:func:`count_pair_chunk` of the chunks a :class:`~editcheck.reads.chunk_ring.ChunkRing` holds in ``slot``."""
    chunk1, chunk2 = take(slot)
    return count_pair_chunk(chunk1, chunk2, min_base_quality, merge, run, raw, max_read_length)


class _Groups(NamedTuple):
    """A chunk's reads grouped by merged read: each read's group (numpy int64), and by group, in the order of
    their first reads, its entry (:data:`ChunkCounts`), placement (None: not merged) and disagreements."""

    read_groups: Any
    entries: list[tuple[PairKey, int, Outcome | None]]
    placements: list[int | None]
    spots: list[tuple[int, ...]]


def _merged_groups(
    sequences1: list[bytes], qualities1: list[bytes], sequences2: list[bytes], qualities2: list[bytes],
    merge: MergeSettings, remembered: tuple[object, dict[int, Any], set[int]] | None, placed_always: bool,
) -> _Groups | None:  # fmt: skip
    """Group a chunk's pairs by merged read: pairs with the same sequences, and where their mates disagree the
    same choices of bases (:func:`~editcheck.reads.merge.mate_choices`, from each pair's own qualities).  Each
    group new to this process (``remembered``, see :data:`_merged_here`) is merged with the qualities of its
    first read; ``placed_always``: remember every pair's placement (the low positions need it), not only
    those whose mates disagree.  None when two pairs share a remembered hash."""
    read_pairs, firsts = number_pairs(sequences1, sequences2)
    counts = np.bincount(read_pairs, minlength=len(firsts)).tolist()
    merged_here = remembered[1] if remembered is not None else None
    chosen_here = remembered[2] if remembered is not None else None
    placements: list[int | None] = []
    spots: list[tuple[int, ...]] = []
    outcomes: list[Outcome | None] = []
    identities: list[int] = []
    for index in firsts:
        key = (sequences1[index], sequences2[index])
        hashed = hash(key)
        check = hash(key[::-1])
        identities.append(_pair_id(hashed, check))
        known = merged_here.get(hashed) if merged_here is not None else None
        if known is not None:
            remembered_check, d, disagree = known if isinstance(known, tuple) else (known, None, ())
            if remembered_check != check:  # another pair with this hash: its placement would be wrong here
                return None
            outcomes.append(None)
        else:
            sequence1 = key[0].decode()
            sequence2 = key[1].decode()
            placed = merge_disagreeing(
                sequence1, qualities1[index].decode(), sequence2, qualities2[index].decode(), merge
            )  # fmt: skip
            d = placed[2] if placed is not None else None
            disagree = placed[4] if placed is not None else ()
            if merged_here is not None:
                merged_here[hashed] = (check, d, disagree) if placed_always or disagree else check
            outcomes.append(placed[0] if placed is not None else (sequence1, reverse_complement(sequence2)))
        placements.append(d)
        spots.append(disagree)
    if not any(spots):
        entries: list[tuple[PairKey, int, Outcome | None]] = list(zip(identities, counts, outcomes))
        return _Groups(read_pairs, entries, placements, spots)
    return _chosen_groups(
        sequences1, qualities1, sequences2, qualities2, merge, chosen_here, read_pairs, firsts, placements, spots,
        outcomes, identities,
    )  # fmt: skip


def _chosen_groups(
    sequences1: list[bytes], qualities1: list[bytes], sequences2: list[bytes], qualities2: list[bytes],
    merge: MergeSettings, chosen_here: set[int] | None, read_pairs: Any, firsts: list[int],
    placements: list[int | None], spots: list[tuple[int, ...]], outcomes: list[Outcome | None], identities: list[int],
) -> _Groups:  # fmt: skip
    """:func:`_merged_groups` for a chunk with pairs whose mates disagree: their reads grouped by choices too."""
    counts = np.fromiter(map(len, spots), np.int64, len(spots))
    rows = np.flatnonzero(counts[read_pairs] > 0)  # the reads of pairs whose mates disagree, in read order
    pair_of_row = read_pairs[rows]
    choices = _read_choices(qualities1, qualities2, rows, pair_of_row, placements, spots, counts)
    pairs_met, first_rows = np.unique(pair_of_row, return_index=True)  # each pair's first read's choices...
    first_choice: list[int | None] = [None] * len(firsts)
    for pair, choice in zip(pairs_met.tolist(), choices[first_rows].tolist()):
        first_choice[pair] = choice
    by_pair = np.zeros(len(firsts), dtype=choices.dtype)
    by_pair[pairs_met] = choices[first_rows]
    other = np.flatnonzero(choices != by_pair[pair_of_row])  # ...and the reads choosing otherwise
    extra: dict[tuple[int, int], int] = {}  # (pair, choices) of a pair's later groups -> its number
    groups = read_pairs
    late: list[tuple[int, int]] = []
    for read, pair, choice in zip(rows[other].tolist(), pair_of_row[other].tolist(), choices[other].tolist()):
        late.append((read, extra.setdefault((pair, choice), len(firsts) + len(extra))))
    group_pair = list(range(len(firsts)))
    group_choice = first_choice
    group_firsts = firsts
    if extra:  # a pair's reads split between choices: every group numbered again, in the order of its first read
        groups = read_pairs.copy()
        for read, number in late:
            groups[read] = number
        for pair, choice in extra:  # numbered in this order
            group_pair.append(pair)
            group_choice.append(choice)
        numbers, first_reads, groups = np.unique(groups, return_index=True, return_inverse=True)
        order = np.argsort(first_reads, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        groups = rank[groups]
        group_pair = [group_pair[number] for number in numbers[order].tolist()]
        group_choice = [group_choice[number] for number in numbers[order].tolist()]
        group_firsts = first_reads[order].tolist()
    counts = np.bincount(groups, minlength=len(group_firsts)).tolist()
    entries: list[tuple[PairKey, int, Outcome | None]] = [
        (identities[pair], count, outcomes[pair] if index == firsts[pair] else None)
        for pair, index, count in zip(group_pair, group_firsts, counts)
    ]  # fmt: skip
    chosen = pairs_met.tolist() if not extra else [g for g, choice in enumerate(group_choice) if choice is not None]
    for group in chosen:  # the groups of pairs whose mates disagree: keyed with their choices
        identity, count, outcome = entries[group]
        index = group_firsts[group]
        sequence1, sequence2 = sequences1[index], sequences2[index]
        key = (cast(int, identity), cast(int, group_choice[group]))
        hashed = hash(key)
        if chosen_here is not None and hashed in chosen_here:
            outcome = None
        else:
            if chosen_here is not None:
                chosen_here.add(hashed)
            if outcome is None:  # merged with this group's own qualities
                placed = merge_pair(
                    sequence1.decode(), qualities1[index].decode(), sequence2.decode(), qualities2[index].decode(),
                    merge,
                )  # fmt: skip
                assert placed is not None  # the placement depends on the sequences only
                outcome = placed[0]
        entries[group] = (key, count, outcome)
    return _Groups(
        groups, entries, [placements[pair] for pair in group_pair], [spots[pair] for pair in group_pair]
    )  # fmt: skip


_MOST_CHOICES = 63
"""Disagreements of a pair whose choices :func:`_read_choices` packs in numpy (uint64); more take Python ints."""


def _read_choices(
    qualities1: list[bytes], qualities2: list[bytes], rows: Any, pair_of_row: Any, placements: list[int | None],
    spots: list[tuple[int, ...]], counts: Any,
) -> Any:  # fmt: skip
    """Each read's (``rows``) :func:`~editcheck.reads.merge.mate_choices` in its pair ``pair_of_row`` (numpy
    uint64, object for a chunk with a pair of more than :data:`_MOST_CHOICES` disagreements)."""
    if int(counts.max()) > _MOST_CHOICES:
        return np.array(
            [mate_choices(qualities1[read], qualities2[read], cast(int, placements[pair]), spots[pair])
             for read, pair in zip(rows.tolist(), pair_of_row.tolist())], dtype=object,
        )  # fmt: skip
    per_row = counts[pair_of_row]
    total = int(per_row.sum())
    starts = np.cumsum(per_row) - per_row
    row_of = np.repeat(np.arange(len(rows)), per_row)
    k = np.arange(total) - starts[row_of]  # the disagreement's number in its pair
    first_spot = np.cumsum(counts) - counts
    position = np.fromiter(chain.from_iterable(spots), np.int64, int(counts.sum()))[first_spot[pair_of_row][row_of] + k]
    chosen1 = [qualities1[read] for read in rows.tolist()]
    chosen2 = [qualities2[read] for read in rows.tolist()]
    length1 = np.fromiter(map(len, chosen1), np.int64, len(rows))
    length2 = np.fromiter(map(len, chosen2), np.int64, len(rows))
    offset1 = np.cumsum(length1) - length1
    offset2 = np.cumsum(length2) - length2
    d = np.array([placements[pair] for pair in pair_of_row.tolist()], dtype=np.int64)
    scores1 = np.frombuffer(b"".join(chosen1), np.uint8)[offset1[row_of] + position]
    scores2 = np.frombuffer(b"".join(chosen2), np.uint8)[offset2[row_of] + (length2 - 1 + d)[row_of] - position]
    bits = (scores2 > scores1).astype(np.uint64) << k.astype(np.uint64)
    return np.bitwise_or.reduceat(bits, starts) if total else np.zeros(0, np.uint64)


def _count_raw(
    records1: _Records, records2: _Records, threshold: int, merge: MergeSettings,
    remembered: tuple[object, dict[int, Any], set[int]] | None,
) -> ChunkCounts | None:  # fmt: skip
    """:func:`count_pair_chunk` with a base-quality threshold: pairs counted and merged as sequenced, with
    their :class:`ChunkQualities`."""
    groups = _merged_groups(
        records1.sequences, records1.qualities, records2.sequences, records2.qualities, merge, remembered, True
    )  # fmt: skip
    if groups is None:
        return None
    placements = groups.placements
    lows = chunk_lows(
        threshold, records1.sequences, records1.joined_qualities, records2.sequences, records2.joined_qualities,
        records1.joined_sequences, records2.joined_sequences, groups.read_groups, placements, groups.spots,
    )  # fmt: skip
    unmerged: dict[tuple[str, str], int] = {}
    if None in placements:
        masked1 = _masked(records1, threshold)
        masked2 = _masked(records2, threshold)
        for r, group in enumerate(groups.read_groups.tolist()):
            if placements[group] is None:
                outcome = (masked1[r].decode(), reverse_complement(masked2[r].decode()))
                unmerged[outcome] = unmerged.get(outcome, 0) + 1
    return len(records1.sequences), groups.entries, ChunkQualities(lows, list(unmerged.items()))


class PairTally:
    """Folds chunk counts, in file order, into :attr:`collapsed` (what the per-read loop builds); :attr:`outcomes`
    holds every distinct pair's outcome."""

    def __init__(self, lows: MergedLows | None = None) -> None:
        self.collapsed = CollapsedReads(paired=True)
        self.outcomes: dict[PairKey, Outcome] = {}
        self.lows = lows if lows is not None else MergedLows()
        """With a base-quality threshold, the merged reads' low positions (to be projected on their sites)."""
        self._index: dict[str, int] = {}
        self._chosen = 0
        """Keys of :attr:`outcomes` with choices of bases (pairs whose mates disagree)..."""
        self._varied: set[int] = set()
        """...and their distinct pairs as sequenced: ``unique_pairs`` counts pairs as sequenced."""

    def _unique_pairs(self) -> int:
        return len(self.outcomes) - self._chosen + len(self._varied)

    def _chosen_key(self, key: tuple[int, int]) -> None:
        """Note a new key of :attr:`outcomes` with choices of bases."""
        self._chosen += 1
        self._varied.add(key[0])

    def add(self, counts: ChunkCounts) -> list[str] | None:
        """Fold one chunk's counts; the merged reads first seen in it, in first-seen order.  None when a pair
        first seen in the input came without its outcome (a hash shared with an earlier pair, see
        :func:`count_pair_chunk`): the tally is then unusable."""
        reads, entries, qualities = counts
        collapsed = self.collapsed
        outcomes = self.outcomes
        sequences = collapsed.sequences
        unmerged_pairs = collapsed.unmerged_pairs
        new: list[str] = []
        merged = 0
        if qualities is not None:
            return self._add_raw(reads, entries, qualities)
        for key, count, outcome in entries:
            found = outcomes.get(key)
            if found is None:
                if outcome is None:
                    return None
                found = outcomes[key] = outcome
                if isinstance(key, tuple):
                    self._chosen_key(key)
            if isinstance(found, str):
                merged += count
                seen = sequences.get(found)
                if seen is None:
                    sequences[found] = count
                    new.append(found)
                else:
                    sequences[found] = seen + count
            else:
                unmerged_pairs[found] = unmerged_pairs.get(found, 0) + count
        collapsed.reads_in += reads
        collapsed.merged += merged
        collapsed.unmerged = collapsed.reads_in - collapsed.merged
        collapsed.unique_pairs = self._unique_pairs()
        return new

    def _add_raw(
        self, reads: int, entries: list[tuple[PairKey, int, Outcome | None]], qualities: ChunkQualities
    ) -> list[str] | None:
        """:meth:`add` for pairs counted as sequenced: unmerged pairs as the chunk masked them, and the merged
        reads' low positions to :attr:`lows`."""
        collapsed = self.collapsed
        outcomes = self.outcomes
        sequences = collapsed.sequences
        index = self._index
        new: list[str] = []
        merged = 0
        indices: list[int] = []
        for key, count, outcome in entries:
            found = outcomes.get(key)
            if found is None:
                if outcome is None:
                    return None
                found = outcomes[key] = outcome
                if isinstance(key, tuple):
                    self._chosen_key(key)
            if isinstance(found, str):
                merged += count
                position = index.get(found)
                if position is None:
                    position = index[found] = len(index)
                    sequences[found] = count
                    new.append(found)
                else:
                    sequences[found] += count
                indices.append(position)
            else:
                indices.append(-1)
        unmerged_pairs = collapsed.unmerged_pairs
        for masked, count in qualities.unmerged:
            unmerged_pairs[masked] = unmerged_pairs.get(masked, 0) + count
        self.lows.add(qualities.lows, indices)
        collapsed.reads_in += reads
        collapsed.merged += merged
        collapsed.unmerged = collapsed.reads_in - collapsed.merged
        collapsed.unique_pairs = self._unique_pairs()
        return new
