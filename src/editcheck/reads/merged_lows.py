"""Low-quality positions of merged read pairs, a chunk of pairs at a time (the chunked route of paired FASTQ).

With a base-quality threshold, pairs are merged as sequenced and each merged read is collapsed on its
sequence; what a read's qualities decide is left to :class:`~editcheck.reads.collapse.QualityMasks`, which
needs, per read, the positions of its merged read whose quality (from the mates covering it:
:func:`~editcheck.reads.merge.read_merged_qualities`) is below the threshold.  :func:`chunk_lows` finds them
for a whole chunk, in the worker processes (compiled, one pass over each merged read; the numpy
:func:`chunk_lows_reference` without the extension): a position covered by one mate is low when that base
is; in the overlap, the higher quality of two agreeing bases, or the called base's quality against an N,
decides.  Where the mates disagree (both bases called) the merged read has the better mate's base, chosen by
the pair's own qualities (:func:`~editcheck.reads.merge.mate_choices`): the position is low when the two
qualities differ by less than the threshold.  :class:`MergedLows` gathers the chunks in the main process (a
few bytes per low position) and, once every merged read's quality sites are known, counts each read's mask into
the ``QualityMasks`` (:meth:`MergedLows.project`, compiled too): the same masks the per-read loop counts read
by read.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any, NamedTuple

import numpy as np

from editcheck.reads.collapse import QualityMasks
from editcheck.reads.merge import IMPLEMENTATION, MergeSettings, dense_seed_length, disagreements, merge_placed
from editcheck.sequences import COMPLEMENT

__all__ = ["ChunkLows", "MergedLows", "chunk_lows", "chunk_lows_reference", "disagreements", "merge_disagreeing"]

_Disagreeing = Callable[[str, str, str, str, int, float, int], tuple[str, str, int, int, tuple[int, ...]] | None]
_compiled_disagreeing: _Disagreeing | None = None
if IMPLEMENTATION == "compiled":
    from editcheck.reads import _pairs_compiled

    _compiled_disagreeing = _pairs_compiled.merge_placed_disagreeing

_N = ord("N")
_COMPLEMENT_CODES = np.frombuffer(bytes(range(256)).decode("latin-1").translate(COMPLEMENT).encode("latin-1"), np.uint8)
_SHIFT = 32
"""Low positions are keyed ``read << 32 | position`` (a merged read is far shorter than 2**32 bases)."""


class ChunkLows(NamedTuple):
    """A chunk's low-quality merged-read positions: one array entry per low position, by read then position."""

    entries: Any
    """The pair's index among the chunk's distinct pairs (numpy int32)."""
    reads: Any
    """The read's number in the chunk (numpy int32)."""
    positions: Any
    """The position in the merged read (numpy int32)."""


def _offsets(lengths: Any) -> Any:
    """Where each record's line starts in lines joined by line breaks."""
    offsets = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=offsets[1:])
    return offsets


def chunk_lows_reference(
    threshold: int, sequences1: list[bytes], qualities1: bytes, sequences2: list[bytes], qualities2: bytes,
    joined1: bytes, joined2: bytes, read_pairs: Any, placements: list[int | None],
    disagreements: list[tuple[int, ...]],
) -> ChunkLows:  # fmt: skip
    """The low positions of a chunk's merged reads.  ``qualities1``/``qualities2`` and ``joined1``/``joined2``
    are the chunk's qualities and sequences joined by line breaks; ``read_pairs[r]`` (a list or numpy array) is
    read ``r``'s distinct pair, merged at ``placements[pair]`` (None: not merged, no positions), its mates disagreeing at
    ``disagreements[pair]`` (:func:`disagreements`).  With numpy: the reference of the compiled
    :func:`chunk_lows` (run when the extension is missing)."""
    reads = len(read_pairs)
    pair_of = np.array(read_pairs, dtype=np.int64)
    merged_pair = np.array([d is not None for d in placements], dtype=bool)
    pair_offset = np.array([d or 0 for d in placements], dtype=np.int64)
    length1 = np.fromiter(map(len, sequences1), np.int64, reads)
    length2 = np.fromiter(map(len, sequences2), np.int64, reads)
    merged = merged_pair[pair_of]
    d = pair_offset[pair_of]
    start = np.maximum(d, 0)
    end = np.minimum(d + length2, length1)
    offsets1 = _offsets(length1)
    offsets2 = _offsets(length2)
    scores1 = np.frombuffer(qualities1, np.uint8) - np.uint8(33)  # line breaks wrap to 233
    scores2 = np.frombuffer(qualities2, np.uint8) - np.uint8(33)
    bases1 = np.frombuffer(joined1, np.uint8)
    bases2 = np.frombuffer(joined2, np.uint8)

    found1 = np.flatnonzero(scores1 < threshold)
    read1 = np.searchsorted(offsets1, found1, side="right") - 1
    position1 = found1 - offsets1[read1]
    found2 = np.flatnonzero(scores2 < threshold)
    read2 = np.searchsorted(offsets2, found2, side="right") - 1
    position2 = length2[read2] - 1 - (found2 - offsets2[read2]) + d[read2]  # in the merged read
    keep1 = merged[read1] & (position1 < end[read1])
    read1, position1 = read1[keep1], position1[keep1]
    keep2 = merged[read2] & (position2 >= start[read2])
    read2, position2 = read2[keep2], position2[keep2]
    alone1 = position1 < start[read1]  # R1 before the overlap
    alone2 = position2 >= end[read2]  # rc(R2) after it
    lows = [(read1[alone1] << _SHIFT) | position1[alone1], (read2[alone2] << _SHIFT) | position2[alone2]]

    # The overlap: either mate's low bases, judged with the other mate's (once: R2's where R1's is low too are R1's).
    read = read2[~alone2]
    position = position2[~alone2]
    also1 = scores1[offsets1[read] + position] < threshold
    read = np.concatenate([read1[~alone1], read[~also1]])
    position = np.concatenate([position1[~alone1], position[~also1]])
    both = (read << _SHIFT) | position
    at1 = offsets1[read] + position
    at2 = offsets2[read] + length2[read] - 1 - (position - d[read])
    base1 = bases1[at1]
    base2 = _COMPLEMENT_CODES[bases2[at2]]
    score1 = scores1[at1]
    score2 = scores2[at2]
    score = np.where(base1 == _N, score2, np.where(base2 == _N, score1, np.maximum(score1, score2)))
    agree = (base1 == base2) | (base1 == _N) | (base2 == _N)
    lows.append(both[agree & (score < threshold)])

    # Where the mates disagree (the same positions for every read of a pair), read by read: the merged read has
    # the better mate's base, low when the qualities are close.
    counts = np.fromiter(map(len, disagreements), np.int64, len(disagreements))
    per_read = counts[pair_of]
    total = int(per_read.sum())
    if total:
        first = np.cumsum(counts) - counts
        read = np.repeat(np.arange(reads, dtype=np.int64), per_read)
        spot = np.arange(total) - np.repeat(np.cumsum(per_read) - per_read, per_read) + first[pair_of][read]
        position = np.fromiter(chain.from_iterable(disagreements), np.int64, int(counts.sum()))[spot]
        at1 = offsets1[read] + position
        at2 = offsets2[read] + length2[read] - 1 - (position - d[read])
        difference = scores1[at1].astype(np.int16) - scores2[at2].astype(np.int16)
        low = np.maximum(np.abs(difference), 2) < threshold
        lows.append((read[low] << _SHIFT) | position[low])
    found = np.sort(np.concatenate(lows))
    read = (found >> _SHIFT).astype(np.int32)
    return ChunkLows(pair_of[read].astype(np.int32), read, (found & ((1 << _SHIFT) - 1)).astype(np.int32))


_ChunkLows = Callable[
    [int, list[bytes], bytes, list[bytes], bytes, bytes, bytes, Any, list[int | None]], tuple[Any, Any, Any]
]
_compiled_lows: _ChunkLows | None = None
_compiled_project: Callable[[list[Any], list[tuple[int, ...] | None], dict[Any, int]], None] | None = None
if IMPLEMENTATION == "compiled":
    _compiled_lows = _pairs_compiled.chunk_lows
    _compiled_project = _pairs_compiled.project_lows


def chunk_lows(
    threshold: int, sequences1: list[bytes], qualities1: bytes, sequences2: list[bytes], qualities2: bytes,
    joined1: bytes, joined2: bytes, read_pairs: Any, placements: list[int | None],
    disagreements: list[tuple[int, ...]],
) -> ChunkLows:  # fmt: skip
    """:func:`chunk_lows_reference`, compiled (one pass over each merged read's positions, no array per step)
    when the extension is built."""
    if _compiled_lows is None:
        return chunk_lows_reference(
            threshold, sequences1, qualities1, sequences2, qualities2, joined1, joined2, read_pairs, placements,
            disagreements,
        )  # fmt: skip
    return ChunkLows(
        *_compiled_lows(
            threshold, sequences1, qualities1, sequences2, qualities2, joined1, joined2, read_pairs, placements
        )
    )  # fmt: skip


def merge_disagreeing(
    first: str, qualities1: str, second: str, qualities2: str, settings: MergeSettings
) -> tuple[str, str, int, int, tuple[int, ...]] | None:
    """:func:`~editcheck.reads.merge.merge_placed` and the merged read's :func:`disagreements`, as a fifth item; in
    one compiled pass when the compiled merge runs."""
    if _compiled_disagreeing is not None:
        rate = settings.max_mismatch_rate
        try:
            return _compiled_disagreeing(
                first, qualities1, second, qualities2, settings.min_overlap, rate, dense_seed_length(rate)
            )
        except UnicodeEncodeError:
            pass
    placed = merge_placed(first, qualities1, second, qualities2, settings)
    if placed is None:
        return None
    return (*placed, disagreements(first, second, placed[2], placed[3]))


class MergedLows:
    """The chunks' low positions, gathered in file order in the main process and counted into a
    :class:`~editcheck.reads.collapse.QualityMasks` once every merged read's quality sites are settled."""

    def __init__(self) -> None:
        self._chunks: list[tuple[Any, Any]] = []
        """Per chunk: its low positions' keys (sequence << 32 | position, int64) and reads (int32, in the chunk)."""

    def add(self, lows: ChunkLows, sequence_of_pair: list[int]) -> None:
        """One chunk, after the earlier ones; ``sequence_of_pair[p]``: the first-seen index of the chunk's pair ``p``'s
        merged read (-1 if not merged)."""
        index = np.array(sequence_of_pair, dtype=np.int64)
        keys = (index[lows.entries] << _SHIFT) | lows.positions
        if len(keys):
            self._chunks.append((keys, lows.reads))

    def project(self, masks: QualityMasks) -> None:
        """Count every read's mask (its low positions at its merged read's quality sites) into ``masks``, whose
        sequences must all be settled; chunk by chunk, each dropped once counted.  Compiled
        (:func:`~editcheck.reads._pairs_compiled.project_lows`: each low position looked up among its
        sequence's few sites, no search of every site) when the extension is built; the same masks, counted in
        the same order, as :meth:`project_reference`."""
        if _compiled_project is None:
            self.project_reference(masks)
            return
        chunks, self._chunks = self._chunks, []
        _compiled_project(chunks, masks.sites, masks.masks)

    def project_reference(self, masks: QualityMasks) -> None:
        """:meth:`project` with numpy and Python (the reference of the compiled one)."""
        sites = [(index << _SHIFT) | p for index, spots in enumerate(masks.sites) if spots for p in spots]
        chunks = self._chunks
        chunks.reverse()
        if not sites:
            chunks.clear()
            return
        known = np.array(sites, dtype=np.int64)  # sorted: by sequence, then position
        last = len(known) - 1
        counted = masks.masks
        position_mask = (1 << _SHIFT) - 1
        while chunks:
            keys, numbers = chunks.pop()
            hit = known[np.minimum(np.searchsorted(known, keys), last)] == keys
            keys, numbers = keys[hit], numbers[hit]
            order = np.lexsort((keys, numbers))
            found, reads = keys[order].tolist(), numbers[order].tolist()
            k = 0
            total = len(found)
            while k < total:
                read = reads[k]
                index = found[k] >> _SHIFT
                mask = [found[k] & position_mask]
                k += 1
                while k < total and reads[k] == read:
                    mask.append(found[k] & position_mask)
                    k += 1
                key = (index, tuple(mask))
                counted[key] = counted.get(key, 0) + 1
