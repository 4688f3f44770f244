"""Collapsing paired FASTQ files chunk by chunk: the fast route of :func:`editcheck.reads.collapse.collapse_fragments`.

The reading process only decompresses R1 and R2 and cuts them into chunks holding the same reads
(:func:`read_pair_views`); each chunk is counted on its own, in a worker process when there are several
(:func:`count_pair_chunk`): its records are checked all at once (C-level bytes operations), low-quality bases
are masked over the whole chunk (numpy), identical masked pairs are counted, and every pair distinct within the
chunk is merged once, with the qualities of its first read in the chunk.  With ``raw`` (the engine, given a
base-quality threshold) nothing is masked before merging: identical pairs as sequenced are counted and merged,
each read's merged-read positions below the threshold are found over the whole chunk
(:mod:`editcheck.reads.merged_lows`), and only the mates of pairs that do not merge are masked, read by read.  :class:`PairTally` then folds the
chunks, in file order, into the same :class:`~editcheck.reads.collapse.CollapsedReads` the per-read loop
builds, byte for byte:

* a pair seen for the first time in the whole input is first seen in its chunk, so the chunk's merge used the
  qualities of the input's first such pair, as the per-read loop does; later chunks' merges of that pair are
  ignored;
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
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any, NamedTuple, cast

import dnaio
import numpy as np
from xopen import xopen

from editcheck.reads.chunk_ring import Slot, take
from editcheck.reads.collapse import CollapsedReads, QualitySettings
from editcheck.reads.fastq import _READ_ERRORS, _is_stream, _same_file
from editcheck.reads.merge import IMPLEMENTATION, MergeSettings, merge_pair
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


ChunkCounts = tuple[int, list[tuple[tuple[bytes, bytes], int, Outcome | None]], ChunkQualities | None]
"""A chunk's reads, and its distinct pairs (R1, R2 as sequenced), each
with its number of reads and the outcome of merging it with the qualities of its first read in the chunk (None:
not merged, see :func:`count_pair_chunk`), in the order of those first reads; and with a base-quality
threshold, its :class:`ChunkQualities` (else None)."""


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


_merged_here: tuple[object, dict[int, Any]] = (None, {})
"""The run this process last counted chunks for, and the hashes of the pairs it merged for that run (with a
base-quality threshold, each with its placement, None if not merged, and where its mates disagree)."""


def forget_merged() -> None:
    """Drop this process's memory of merged pairs (after a run counted in the calling process)."""
    global _merged_here
    _merged_here = (None, {})


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
    FASTQ with R1 and R2 in step, or has a read longer than ``max_read_length``.  With ``raw`` (and a ``min_base_quality``) the pairs are counted and merged
    as sequenced and the chunk's :class:`ChunkQualities` come with them; else low-quality bases are masked to N
    in each mate first.

    Given a ``run`` token (equal for the chunks of one input, different between inputs), a process merges
    a pair only the first time it meets it in that run and gives None as the outcome afterwards: the pair
    was in an earlier chunk, so this chunk's merge would be ignored anyway.  The pairs are remembered by
    hash; two pairs with one hash leave a pair seen first in the input without an outcome, which
    :meth:`PairTally.add` reports.
    """
    global _merged_here
    if run is None or _merged_here[0] != run:
        _merged_here = (run, {})
    merged_here = _merged_here[1] if run is not None else None
    records1 = _records(chunk1)
    records2 = _records(chunk2)
    if records1 is None or records2 is None:
        return None
    if _longest(records1) > max_read_length or _longest(records2) > max_read_length:
        return None
    if not _same_reads(records1, records2):
        return None
    if raw and min_base_quality:
        return _count_raw(records1, records2, min_base_quality, merge, merged_here)
    qualities1 = records1.qualities
    qualities2 = records2.qualities
    masked1 = _masked(records1, min_base_quality)
    masked2 = _masked(records2, min_base_quality)
    read_pairs, firsts = number_pairs(masked1, masked2)
    counts = np.bincount(read_pairs, minlength=len(firsts)).tolist()
    entries: list[tuple[tuple[bytes, bytes], int, Outcome | None]] = []
    for index, count in zip(firsts, counts):
        key = (masked1[index], masked2[index])
        if merged_here is not None:
            hashed = hash(key)
            if hashed in merged_here:
                entries.append((key, count, None))
                continue
            merged_here[hashed] = None
        sequence1 = key[0].decode()
        sequence2 = key[1].decode()
        merged = merge_pair(sequence1, qualities1[index].decode(), sequence2, qualities2[index].decode(), merge)
        entries.append((key, count, merged[0] if merged is not None else (sequence1, reverse_complement(sequence2))))
    return len(masked1), entries, None


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


def _count_raw(
    records1: _Records, records2: _Records, threshold: int, merge: MergeSettings,
    merged_here: dict[int, Any] | None,
) -> ChunkCounts | None:  # fmt: skip
    """:func:`count_pair_chunk` with a base-quality threshold: pairs counted and merged as sequenced, with
    their :class:`ChunkQualities`.  The placement of a pair merged in an earlier chunk is remembered by hash,
    checked by a second hash: None (the per-read loop) should two pairs share the first."""
    qualities1 = records1.qualities
    qualities2 = records2.qualities
    sequences1 = records1.sequences
    sequences2 = records2.sequences
    reads = len(sequences1)
    read_pairs, firsts = number_pairs(sequences1, sequences2)
    counts = np.bincount(read_pairs, minlength=len(firsts)).tolist()
    entries: list[tuple[tuple[bytes, bytes], int, Outcome | None]] = []
    placements: list[int | None] = []
    spots: list[tuple[int, ...]] = []
    for index, count in zip(firsts, counts):
        key = (sequences1[index], sequences2[index])
        hashed = hash(key)
        if merged_here is not None and hashed in merged_here:
            entries.append((key, count, None))
            check, d, disagree = merged_here[hashed]
            if check != hash(key[::-1]):  # another pair with this hash: its placement would be wrong here
                return None
            placements.append(d)
            spots.append(disagree)
            continue
        sequence1 = key[0].decode()
        sequence2 = key[1].decode()
        placed = merge_disagreeing(sequence1, qualities1[index].decode(), sequence2, qualities2[index].decode(), merge)
        d = placed[2] if placed is not None else None
        disagree = placed[4] if placed is not None else ()
        if merged_here is not None:
            merged_here[hashed] = (hash(key[::-1]), d, disagree)
        placements.append(d)
        spots.append(disagree)
        entries.append((key, count, placed[0] if placed is not None else (sequence1, reverse_complement(sequence2))))
    lows = chunk_lows(
        threshold, records1.sequences, records1.joined_qualities, records2.sequences, records2.joined_qualities,
        records1.joined_sequences, records2.joined_sequences, read_pairs, placements, spots,
    )  # fmt: skip
    unmerged: dict[tuple[str, str], int] = {}
    if None in placements:
        masked1 = _masked(records1, threshold)
        masked2 = _masked(records2, threshold)
        for r, pair in enumerate(read_pairs.tolist()):
            if placements[pair] is None:
                outcome = (masked1[r].decode(), reverse_complement(masked2[r].decode()))
                unmerged[outcome] = unmerged.get(outcome, 0) + 1
    return reads, entries, ChunkQualities(lows, list(unmerged.items()))


class PairTally:
    """Folds chunk counts, in file order, into :attr:`collapsed` (what the per-read loop builds); :attr:`outcomes`
    holds every distinct pair's outcome."""

    def __init__(self, lows: MergedLows | None = None) -> None:
        self.collapsed = CollapsedReads(paired=True)
        self.outcomes: dict[tuple[bytes, bytes], Outcome] = {}
        self.lows = lows if lows is not None else MergedLows()
        """With a base-quality threshold, the merged reads' low positions (to be projected on their sites)."""
        self._index: dict[str, int] = {}

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
        collapsed.unique_pairs = len(outcomes)
        return new

    def _add_raw(
        self, reads: int, entries: list[tuple[tuple[bytes, bytes], int, Outcome | None]], qualities: ChunkQualities
    ) -> list[str] | None:
        """:meth:`add` for pairs counted as sequenced: unmerged pairs as the chunk masked them, and the merged
        reads' low positions to :attr:`lows`."""
        collapsed = self.collapsed
        outcomes = self.outcomes
        sequences = collapsed.sequences
        index = self._index
        new: list[str] = []
        merged = 0
        found_all: list[Outcome] = []
        indices: list[int] = []
        for key, count, outcome in entries:
            found = outcomes.get(key)
            if found is None:
                if outcome is None:
                    return None
                found = outcomes[key] = outcome
            found_all.append(found)
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
        self.lows.add(qualities.lows, indices, found_all)
        collapsed.reads_in += reads
        collapsed.merged += merged
        collapsed.unmerged = collapsed.reads_in - collapsed.merged
        collapsed.unique_pairs = len(outcomes)
        return new
