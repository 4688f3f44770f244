"""Paired FASTQ files collapsed chunk by chunk in the worker processes (:mod:`editcheck.reads.pair_chunks`).

The calling process decompresses R1 and R2 and hands out chunks (when there are worker processes, through
the shared memory of a :class:`~editcheck.reads.chunk_ring.ChunkRing`, which the engine makes with
:func:`pair_ring` BEFORE it forks them, so that they inherit it); the workers check, mask, count and merge
them; the calling process folds their counts in file order and only then sends the new merged reads to be
aligned, so that nothing has been sent when a chunk turns out unusual and the per-read loop starts again.
The result is the per-read loop's, byte for byte (see :mod:`editcheck.reads.pair_chunks`).
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.sources import FastqPaired
from editcheck.engine.workers import UniqueReadAligner
from editcheck.progress import EVERY
from editcheck.reads import pair_chunks
from editcheck.reads.chunk_ring import ChunkRing
from editcheck.reads.collapse import CollapsedReads
from editcheck.reads.merged_lows import MergedLows
from editcheck.reads.pair_chunks import (
    READ_ERRORS,
    ChunkCounts,
    PairTally,
    count_pair_chunk,
    count_slot_chunk,
    forget_merged,
    read_pair_views,
    usable,
)

__all__ = ["collapse_pair_files", "pair_ring"]

_RUNS = itertools.count()
"""Numbers the runs of this process (the workers' memory of merged pairs is per run)."""

_IN_FLIGHT = 2
"""Chunks waiting or being counted per worker process: enough to keep them busy, few enough to bound memory."""


@contextmanager
def pair_ring(threads: int) -> Iterator[ChunkRing | None]:
    """The ring through which :func:`collapse_pair_files` hands its chunks to ``threads`` worker processes,
    closed on leaving; to be made before the worker processes are forked (they inherit it).  None with one
    thread, or when the system will not give one (the chunks then travel through the pipe)."""
    ring = ChunkRing.open(_IN_FLIGHT * threads + 1, 2 * pair_chunks.CHUNK_BYTES) if threads > 1 else None
    try:
        yield ring
    finally:
        if ring is not None:
            ring.close()


def collapse_pair_files(
    source: FastqPaired, settings: AnalysisSettings, aligner: UniqueReadAligner,
    progress: Callable[[int], None] | None = None, lows: MergedLows | None = None, ring: ChunkRing | None = None,
) -> CollapsedReads | None:  # fmt: skip
    """Collapse the pairs of ``source`` chunk by chunk and send the merged reads to ``aligner`` in first-seen
    order; None (nothing sent) when the chunked route does not apply or a chunk is unusual: the caller then
    takes the per-read loop, which gives its result or its error message.  Given ``lows`` (and a base-quality
    threshold), pairs are merged as sequenced and ``lows`` gathers their merged reads' low-quality positions
    (the caller projects them on the quality sites, :meth:`MergedLows.project`, and calls the masked reads as it
    tallies them, :meth:`~editcheck.engine.masking.QualityMasking.calls`), as
    :func:`~editcheck.reads.collapse.collapse_fragments` does with a ``QualityMasks``; else mates are masked
    before merging.  Given a ``ring`` (:func:`pair_ring`, made before ``aligner`` forked its worker processes),
    the chunks travel through it (at most its slots - 1 in flight), else through the pipe; it is closed when
    the collapse ends (closing it again, as its maker does, is harmless)."""
    if not usable(source.path, source.r2, settings.quality):
        return None
    tally = PairTally(lows)
    raw = lows is not None
    new: list[str] = []
    pending: deque[Callable[[], ChunkCounts | None]] = deque()
    limit = _IN_FLIGHT * max(1, aligner.processes)
    if ring is not None:  # slot i is written again ring.slots chunks later: the chunk it held must be folded
        limit = min(limit, ring.slots - 1)
    threshold = settings.quality.min_base_quality
    longest = source.max_read_length  # a longer read: the chunk is not counted, the per-read loop refuses it
    shown = 0
    run = (os.getpid(), next(_RUNS))

    def fold() -> bool:
        nonlocal shown
        counts = pending.popleft()()
        if counts is None:
            return False
        added = tally.add(counts)
        if added is None:
            return False
        new.extend(added)
        if progress is not None and tally.collapsed.reads_in // EVERY > shown:
            shown = tally.collapsed.reads_in // EVERY
            progress(tally.collapsed.reads_in)
        return True

    try:
        for index, (chunk1, chunk2) in enumerate(read_pair_views(source.path, source.r2)):
            slot = ring.put(index, chunk1, chunk2) if ring is not None else None
            if slot is not None:
                pending.append(aligner.submit(count_slot_chunk, slot, threshold, settings.merge, run, raw, longest))
            else:
                pending.append(
                    aligner.submit(
                        count_pair_chunk, bytes(chunk1), bytes(chunk2), threshold, settings.merge, run, raw, longest
                    )
                )
            while len(pending) > limit:
                if not fold():
                    return None
        while pending:
            if not fold():
                return None
    except READ_ERRORS:  # damaged or unusual input: the per-read loop names the problem
        return None
    finally:
        if ring is not None:  # done with: this process's pages of it freed now, not when the run ends
            ring.close()
        if not aligner.processes:
            forget_merged()
    if not tally.collapsed.reads_in:
        return None  # empty files: the per-read loop's error
    for sequence in new:
        aligner.add(sequence)
    return tally.collapsed
