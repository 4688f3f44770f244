"""Collapsing reads into unique sequences with counts, after optional quality filters and pair merging.

Memory grows with the number of *unique* sequences (or unique pairs), never with the number of reads.

Base qualities (given a :class:`QualityMasks`; merged pairs too, with their merged qualities): reads are collapsed
on their raw sequence;
a read's low-quality bases matter only at its unique sequence's quality sites (where it differs from its
reference, or a base that decides its call: :mod:`editcheck.classification.quality`), known once the
sequence is aligned.  :class:`QualityMasks` counts, per unique sequence, the reads by their *mask*: the tuple
of its sites that are below the threshold (empty for nearly every read).  Without it low-quality bases are
masked to N before collapsing (in each mate of a pair, before merging); with it, so are the mates of pairs that
do not merge.

Single-end FASTQ (:func:`collapse_single`) is read and collapsed from decompressed bytes by a compiled counter
(:mod:`editcheck.reads._fastq_compiled`, Cython, built by ``pip install``) for as long as its records are plain,
valid FASTQ, batch by batch exactly as the Python loops count them; the rest of the file (from the batch of the
first record to normalise or refuse on) is read by the Python reader, the reference implementation, which gives
the usual normalisation and error messages.  ``EDITCHECK_PURE_PYTHON=1`` or a missing extension: the Python
reader reads it all (same results).

Per-read output: given ``on_read``, the collapse calls ``on_read(name, unique)`` for every read as it reads it,
``unique`` saying which unique read it became (an index, so that a caller can spool it compactly): its
position among ``sequences`` in first-seen order (0, 1, ...), :data:`QUALITY_FILTERED` for a read dropped by
the quality filter, or ``pair_index(j)`` for the unmerged pair at position ``j`` of ``unmerged_pairs``.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from editcheck.compiled import compiled_module
from editcheck.progress import EVERY
from editcheck.reads.fastq import BATCH, iter_paired_tuples, iter_single_batches, iter_single_tuples, read_blocks
from editcheck.reads.merge import (
    MergeSettings,
    disagreements,
    mate_choices,
    merge_placed,
    read_merged_qualities,
)
from editcheck.reads.read_length import MAX_READ_LENGTH, record_bytes
from editcheck.reads.records import FragmentTuple, ReadTuple
from editcheck.sequences import reverse_complement

if TYPE_CHECKING:
    from editcheck.reads._fastq_compiled import BlockCounter, FirstReadLows

DEFAULT_MIN_BASE_QUALITY = 20
"""Bases below Phred 20 (1% error) are masked to N: the default of the library, the CLI and the workflow."""


@dataclass(frozen=True)
class QualitySettings:
    """Read filters: drop reads by mean Phred quality (off by default); mask bases below
    ``min_base_quality`` to N, so a low-quality base is never a substitution (Q20 by default)."""

    min_mean_quality: float = 0.0
    min_base_quality: int = DEFAULT_MIN_BASE_QUALITY

    def __post_init__(self) -> None:
        from editcheck.errors import ParameterError

        if not 0 <= self.min_mean_quality <= 60 or not 0 <= self.min_base_quality <= 60:
            raise ParameterError("quality thresholds must be between 0 and 60")


@dataclass
class CollapsedReads:
    """Unique sequences with their counts, and what happened to every input read."""

    sequences: dict[str, int] = field(default_factory=dict)
    """Unique (merged) reads -> number of reads."""
    unmerged_pairs: dict[tuple[str, str], int] = field(default_factory=dict)
    """Pairs that did not merge: (R1, reverse-complemented R2) -> number of pairs."""
    reads_in: int = 0
    """Reads (single-end) or read pairs (paired-end) in the input."""
    quality_filtered: int = 0
    merged: int = 0
    unmerged: int = 0
    paired: bool = False
    unique_pairs: int = 0
    lone_mates: int = 0
    """Paired BAM/CRAM input: mates whose partner was not taken at the site, analysed alone."""
    distinct: int | None = None
    """The unique reads and unmerged pairs, when counted without keeping them (a run in segments,
    :mod:`editcheck.engine.segmented`: ``sequences`` and ``unmerged_pairs`` are then empty, ``unique_pairs`` the
    sum of the segments')."""

    @property
    def unique_reads(self) -> int:
        """Unique (merged) reads (and unmerged pairs, when :attr:`distinct` counted them)."""
        return len(self.sequences) if self.distinct is None else self.distinct

    @property
    def unique_sequences(self) -> int:
        """Unique (merged) reads and unique unmerged pairs."""
        return self.unique_reads + len(self.unmerged_pairs)


def _masker(threshold: int) -> Callable[[str, str], str]:
    """Function masking bases with quality below ``threshold`` (Phred+33) to N.

    Low-quality bases are usually few per read: they are flagged by one ``bytes.translate`` of the
    qualities (a 256-byte table, in C; ``str.translate`` with a mapping took twice as long per read), found
    with ``bytes.find`` and the sequence is rebuilt from slices, not base by base.
    """
    table = bytes(0 if 33 <= code < 33 + threshold else 1 for code in range(256))

    def mask(sequence: str, qualities: str) -> str:
        flags = qualities.encode("ascii").translate(table)
        index = flags.find(0)
        if index == -1:
            return sequence
        parts = []
        previous = 0
        while index != -1:
            parts.append(sequence[previous:index])
            parts.append("N")
            previous = index + 1
            index = flags.find(0, previous)
        parts.append(sequence[previous:])
        return "".join(parts)

    return mask


MASKED = 1 << 48
"""``on_read``'s indices from ``MASKED`` on are a :class:`QualityMasks` entry (``MASKED + k``: entry ``k``)."""


Pending = dict[tuple[int, ...], int] | tuple[tuple[tuple[int, ...], int], ...]
"""The reads of one sequence in flight, by their low-quality read positions: its first read's as the ``((positions,
1),)`` that :meth:`QualityMasks.take_pending` gives (most sequences have no other read while in flight: no dict made
and freed for them), a dict ``{positions: reads}`` from its second read on."""


def count_pending(pending: dict[int, Pending], index: int, low: tuple[int, ...]) -> None:
    """One more read of sequence ``index``, in flight, low at ``low`` (non-empty), in ``pending`` (:data:`Pending`
    each; the compiled counter counts them alike)."""
    found = pending.get(index)
    if found is None:
        pending[index] = ((low, 1),)
        return
    if isinstance(found, tuple):
        found = pending[index] = dict(found)
    found[low] = found.get(low, 0) + 1


PendingReads = tuple[tuple[tuple[int, ...], int], ...]
"""A sequence's reads counted in flight as :meth:`QualityMasks.take_pending` gives them: ``(positions, reads)`` pairs,
first-seen order."""


def pending_reads(found: Pending) -> PendingReads:
    """A sequence's :data:`Pending` reads as ``(positions, reads)`` pairs, in first-seen order."""
    return found if isinstance(found, tuple) else tuple(found.items())


def chunk_lows_reference(first: bytes, others: list[PendingReads]) -> list[PendingReads]:
    """Each sequence's :data:`PendingReads` from a chunk's first reads (``first``: native int32s, per sequence its
    number of low positions then the positions, as ``FirstReadLows.take_span`` gives them; empty: none noted) and
    its other reads counted in flight (``others``, one per sequence): the first read, when low somewhere, first,
    with the other reads of its positions.  The reference of the compiled ``chunk_lows``, which the workers run."""
    if not first:
        return others
    values = array("i")
    if len(first) % values.itemsize:
        raise ValueError("first reads' records are not whole int32s")
    values.frombytes(first)
    out: list[PendingReads] = []
    at = 0
    for other in others:
        if at >= len(values):
            raise ValueError("fewer first reads' records than sequences")
        n = values[at]
        if n < 0 or n > len(values) - at - 1:
            raise ValueError("a first read's record runs past the chunk's")
        low = tuple(values[at + 1 : at + 1 + n])
        at += 1 + n
        if not low:
            out.append(other)
            continue
        reads = 1 + sum(count for positions, count in other if positions == low)
        out.append(((low, reads), *((positions, count) for positions, count in other if positions != low)))
    if at != len(values):
        raise ValueError("more first reads' records than sequences")
    return out


class QualityMasks:
    """Low-quality read positions per unique sequence, counted by mask (see the module docstring).

    The engine tells it each unique sequence's quality sites (:meth:`settle`, by first-seen index) as soon as
    its alignment comes back.  A read of a settled sequence costs one look at the qualities of those few read
    positions (none when it has none); a read of a sequence still being aligned keeps its low-quality
    positions (all of them, a compact tuple, counted per distinct tuple) until the sequence is sent to its
    worker (:meth:`take_pending`: the worker projects them) or settled, when they are projected onto its sites.
    Memory so stays bounded by the unique sequences and those in flight.  The compiled single-end counter
    (:mod:`editcheck.reads._fastq_compiled`) counts reads exactly as :meth:`add` does, in C, into the same
    pending dict (``_pending``: sequence index -> its :data:`Pending` reads, first-seen order) and :attr:`masks`,
    but for each new sequence's first read, which it notes in :attr:`first_reads` (in C; taken with the others).

    With ``on_read`` (per-read calls), a read with a non-empty mask is told an entry index (``MASKED + k``):
    :meth:`entry` says which unique sequence and mask entry ``k`` became.
    """

    def __init__(self, threshold: int) -> None:
        self.limit = chr(33 + threshold)
        self._table = bytes(0 if 33 <= code < 33 + threshold else 1 for code in range(256))
        self.sites: list[tuple[int, ...] | None] = []
        """Per unique sequence: its sites' read positions (sorted); None while in flight."""
        self.masks: dict[tuple[int, tuple[int, ...]], int] = {}
        """(unique sequence, non-empty mask) -> reads (one dict: most sequences have one mask or none)."""
        self._pending: dict[int, Pending] = {}
        self._entries: list[tuple[int, tuple[int, ...]]] = []
        self._entry_of: dict[tuple[int, tuple[int, ...]], int] = {}
        self._tickets: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
        self._single: dict[tuple[int, ...], tuple[int, ...]] = {}
        """Sites of one read position, one tuple per position shared by every sequence with them (most sequences
        with sites have one: a sequencing error); no sites are the one empty tuple."""
        self.first_reads: FirstReadLows | None = None
        """Where the compiled counter notes each new sequence's first read (its low positions, in C) instead of
        counting it pending: part of the pending reads (:meth:`take_pending`, :meth:`settle`), sent to the worker
        as bytes (:meth:`take_chunk`).  None: every read in flight is counted pending (the Python reader)."""

    def low(self, qualities: str) -> tuple[int, ...]:
        """Every position of ``qualities`` below the threshold (one ``bytes.translate`` in C)."""
        flags = qualities.encode("ascii").translate(self._table)
        index = flags.find(0)
        found = []
        while index != -1:
            found.append(index)
            index = flags.find(0, index + 1)
        return tuple(found)

    def settle(self, index: int, positions: tuple[int, ...]) -> None:
        """Unique sequence ``index`` (first-seen order) has quality sites at read ``positions`` (sorted)."""
        sites = self.sites
        while len(sites) <= index:
            sites.append(None)
        if len(positions) == 1:  # the usual non-empty sites: one object per position, not per sequence
            positions = self._single.setdefault(positions, positions)
        sites[index] = positions
        lows = self.take_pending(index)
        tickets = self._tickets.pop(index, ()) if self._tickets else ()
        if not lows and not tickets:
            return
        if lows and positions:
            masks = self.masks
            if len(positions) == 1:  # the usual one site: the reads low there (no set, no list per read)
                site = positions[0]
                one: tuple[int, tuple[int, ...]] = (index, positions)
                for low, reads in lows:
                    if site in low:
                        masks[one] = masks.get(one, 0) + reads
            else:
                relevant = set(positions)
                for low, reads in lows:
                    projected = tuple([p for p in low if p in relevant])
                    if projected:
                        key = (index, projected)
                        masks[key] = masks.get(key, 0) + reads
        if tickets:
            relevant = set(positions)
            for k, low in tickets:
                self._entries[k] = (index, tuple([p for p in low if p in relevant]))

    def settle_from(self, start: int, positions: Iterable[tuple[int, ...]]) -> None:
        """:meth:`settle` the unique sequences from index ``start`` on, one after the other, with their sites'
        ``positions`` (a chunk of results: one call, and no call per sequence without reads to project)."""
        sites, single = self.sites, self._single
        found_all = positions if isinstance(positions, list) else list(positions)
        stop = start + len(found_all)
        if len(sites) < stop:
            sites.extend([None] * (stop - len(sites)))
        sites[start:stop] = [single.setdefault(found, found) if len(found) == 1 else found for found in found_all]
        # then those with reads to project (pending, or noted for per-read calls), in index order
        waiting = {index for index in (*self._pending, *self._tickets) if start <= index < stop}
        if self.first_reads is not None:
            waiting.update(self.first_reads.held(start, stop))
        for index in sorted(waiting):
            self.settle(index, found_all[index - start])

    def forget_sites(self) -> None:
        """Free every sequence's sites once the reading is done, every sequence settled and every read counted and
        projected (10M reads, 792k unique: ~80 MB at the run's peak); they are read no more (:attr:`sites` then
        refuses to be read)."""
        self.sites = _FORGOTTEN

    def take_pending(self, index: int) -> PendingReads:
        """The reads of unique sequence ``index`` counted while it is in flight, by their (non-empty) low-quality
        positions, in first-seen order (its first read's first), as ``(positions, reads)``; they are no longer
        pending here (nor counted in :attr:`masks`): the engine sends them with the sequence to its worker, which
        masks, counts and calls them.  Reads counted afterwards are projected by :meth:`settle`.  The engine takes a
        chunk's at once (:meth:`take_chunk`)."""
        counted = self._take_counted(index)
        if self.first_reads is None:
            return counted
        return chunk_lows(self.first_reads.take_span(index, index + 1), [counted])[0]

    def take_chunk(self, start: int, stop: int) -> tuple[bytes, list[PendingReads]]:
        """:meth:`take_pending` of the unique sequences ``start`` to ``stop`` (excluded) as the engine sends them to
        a chunk's worker, which merges them (:data:`chunk_lows` gives what ``take_pending`` gives each, in order):
        the first reads :attr:`first_reads` noted, as bytes (empty without), and the reads counted pending here.
        No call per sequence for the latter (most have none; those that have are found among the few sequences
        with pending reads, those in flight)."""
        first = self.first_reads.take_span(start, stop) if self.first_reads is not None else b""
        taken: list[PendingReads] = [()] * (stop - start)
        pending = self._pending
        if pending:
            for index in [index for index in pending if start <= index < stop]:
                taken[index - start] = self._take_counted(index)
        return first, taken

    def _take_counted(self, index: int) -> PendingReads:
        """The reads of ``index`` counted pending here (not those :attr:`first_reads` noted), taken."""
        pending = self._pending.pop(index, None)
        return pending_reads(pending) if pending else ()

    def add(self, index: int, qualities: str) -> tuple[int, ...]:
        """Count one read of unique sequence ``index``; its mask (its low-quality positions, all of them when
        the sequence is still in flight)."""
        while len(self.sites) <= index:
            self.sites.append(None)
        sites = self.sites[index]
        if sites is None:
            low = self.low(qualities)
            if low:
                count_pending(self._pending, index, low)
            return low
        limit = self.limit
        for position in sites:
            if qualities[position] < limit:
                break
        else:  # no site below the threshold (or no site): nearly every read
            return ()
        mask = tuple([p for p in sites if qualities[p] < limit])
        key = (index, mask)
        self.masks[key] = self.masks.get(key, 0) + 1
        return mask

    def add_noting(self, index: int, qualities: str) -> int:
        """:meth:`add`, returning the ``on_read`` index of the read."""
        settled = index < len(self.sites) and self.sites[index] is not None
        mask = self.add(index, qualities)
        if not mask:
            return index
        key = (index, mask) if settled else (-1 - index, mask)
        k = self._entry_of.get(key)
        if k is None:
            k = self._entry_of[key] = len(self._entries)
            self._entries.append((index, mask))
            if not settled:
                self._tickets.setdefault(index, []).append((k, mask))
        return MASKED + k

    def entry(self, k: int) -> tuple[int, tuple[int, ...]]:
        """(unique sequence, mask) of ``on_read`` index ``MASKED + k``, once the sequence is settled (the mask
        may then be empty: that read is the sequence itself)."""
        return self._entries[k]

    @property
    def entries(self) -> int:
        return len(self._entries)


class _ForgottenSites(list[tuple[int, ...] | None]):
    """:attr:`QualityMasks.sites` after :meth:`QualityMasks.forget_sites`: reading or growing it is a mistake."""

    def _refuse(self, *arguments: object) -> Any:
        raise RuntimeError("quality sites read after QualityMasks.forget_sites")

    __getitem__ = __len__ = __iter__ = append = _refuse


_FORGOTTEN = _ForgottenSites()


def _mean_quality_ok(threshold: float) -> Callable[[str], bool]:
    offset = 33 + threshold

    def ok(qualities: str) -> bool:
        return bool(qualities) and sum(qualities.encode("ascii")) >= offset * len(qualities)

    return ok


def _ignore(sequence: str) -> None:
    return None


QUALITY_FILTERED = -1
"""``on_read``'s index of a read dropped by the quality filter."""


def pair_index(position: int) -> int:
    """``on_read``'s index of the unmerged pair at ``position`` of ``unmerged_pairs`` (-2, -3, ...); its own inverse."""
    return -2 - position


def collapse_single(
    path: str | Path,
    quality: QualitySettings = QualitySettings(),
    on_new: Callable[[str], None] = _ignore,
    progress: Callable[[int], None] | None = None,
    masks: QualityMasks | None = None,
    background: bool = False,
    max_read_length: int = MAX_READ_LENGTH,
) -> CollapsedReads:
    """Count unique single-end reads of a FASTQ file; ``on_new`` is called with each sequence when first seen;
    ``masks`` as in :func:`collapse_records`, which gives the same result read by read; ``background``:
    decompress in a thread of its own (:func:`~editcheck.reads.fastq.iter_single_batches`); a read longer than
    ``max_read_length`` is refused (:mod:`editcheck.reads.read_length`).

    Read in batches: each batch's identical sequences are counted at once, and only a sequence not counted
    before is checked for bases other than ACGTN."""
    if quality.min_mean_quality or (quality.min_base_quality and masks is None):
        return collapse_records(iter_single_tuples(path, max_read_length), quality, on_new, progress, masks=masks)
    raw = masks if masks is not None and quality.min_base_quality else None
    positions: dict[str, int] = {}
    tallies: list[int] = []
    reads = 0
    if _BLOCK_COUNTER is not None:  # the compiled reader as far as it goes, then the Python one for the rest
        finished, sequences, tallies, reads = _count_blocks(
            _BLOCK_COUNTER, path, on_new, progress, raw, background, max_read_length
        )
        if finished:
            return _collapsed(sequences, tallies, reads)
        positions = dict(zip(sequences, range(len(sequences))))
        del sequences
    if raw is not None:
        batches = iter_single_batches(
            path, positions, background=background, skip=reads, max_read_length=max_read_length
        )
        return _collapse_batches_raw(batches, positions, on_new, progress, raw, tallies, reads)
    collapsed = _collapsed(positions, tallies, reads)
    counts = collapsed.sequences
    get = counts.get
    shown = reads // EVERY
    for sequences, _ in iter_single_batches(
        path, counts, background=background, skip=reads, max_read_length=max_read_length
    ):
        reads += len(sequences)
        for sequence, count in Counter(sequences).items():
            seen = get(sequence)
            if seen is None:
                counts[sequence] = count
                on_new(sequence)
            else:
                counts[sequence] = seen + count
        if progress is not None and reads // EVERY > shown:
            shown = _progress(progress, shown, reads)
    collapsed.reads_in = reads
    return collapsed


def _collapsed(sequences: dict[str, int] | list[str], tallies: list[int], reads: int) -> CollapsedReads:
    """The collapse of ``reads`` reads counted as unique ``sequences`` (first-seen order) and their ``tallies``:
    the sequences listed (the compiled counter's), their dict made once, with the counts; or a dict of their
    indices, which becomes the counts (no second dict of every sequence)."""
    collapsed = CollapsedReads(reads_in=reads)
    if isinstance(sequences, list):
        collapsed.sequences = dict(zip(sequences, tallies))
        return collapsed
    for sequence, count in zip(sequences, tallies):
        sequences[sequence] = count
    collapsed.sequences = sequences
    return collapsed


_FASTQ_COMPILED = compiled_module("editcheck.reads._fastq_compiled", "FASTQ reader")
"""The compiled single-end reader's module, or None: ``EDITCHECK_PURE_PYTHON`` set or the extension not built
(:func:`~editcheck.compiled.compiled_module`)."""


def _compiled_counter() -> type[BlockCounter] | None:
    """The compiled FASTQ block counter, or None (see :data:`_FASTQ_COMPILED`)."""
    return None if _FASTQ_COMPILED is None else cast("type[BlockCounter]", _FASTQ_COMPILED.BlockCounter)


_BLOCK_COUNTER = _compiled_counter()
"""What reads single-end FASTQ first in :func:`collapse_single` (chosen once, at import); None: the Python reader
(:func:`~editcheck.reads.fastq.iter_single_batches`), the reference implementation, reads it all."""

_FIRST_READ_LOWS: type[FirstReadLows] | None = None if _FASTQ_COMPILED is None else _FASTQ_COMPILED.FirstReadLows
"""Where the compiled counter notes new sequences' first reads (:attr:`QualityMasks.first_reads`), or None."""

chunk_lows: Callable[[bytes, list[PendingReads]], list[PendingReads]] = (
    chunk_lows_reference if _FASTQ_COMPILED is None else _FASTQ_COMPILED.chunk_lows
)
"""Each sequence's :meth:`QualityMasks.take_pending` reads from a chunk's :meth:`QualityMasks.take_chunk`
(``first``, ``others``), as the worker needs them: compiled where built, else :func:`chunk_lows_reference`."""


def _count_blocks(
    counter_type: type[BlockCounter], path: str | Path, on_new: Callable[[str], None],
    progress: Callable[[int], None] | None, masks: QualityMasks | None, background: bool, max_read_length: int,
) -> tuple[bool, list[str], list[int], int]:  # fmt: skip
    """Count the reads of ``path`` with the compiled block counter (into ``masks``) for as long as they are plain,
    valid FASTQ: whether it counted them all, the unique sequences and their tallies by index (first-seen order)
    and the reads counted (whole batches of :data:`~editcheck.reads.fastq.BATCH`, where the Python reader takes
    over)."""
    if masks is not None and masks.first_reads is None and _FIRST_READ_LOWS is not None:
        masks.first_reads = _FIRST_READ_LOWS()  # first reads noted in C, sent as bytes (QualityMasks.take_chunk)
    counter = counter_type(on_new, masks, BATCH, max_read_length)
    shown = 0

    def feed(block: bytearray, length: int, final: bool) -> int:
        nonlocal shown
        used = counter.feed(block, length, final)
        if progress is not None and counter.reads // EVERY > shown:
            shown = _progress(progress, shown, counter.reads)
        return used

    most = BATCH * record_bytes(max_read_length)
    finished = (
        read_blocks(path, feed, background, most) and counter.reads > 0
    )  # an empty file: the Python reader says so
    counter.flush_masks()  # the one-site masks it counted itself, into masks.masks
    return finished, counter.sequences(), counter.tallies(), counter.reads


def _progress(progress: Callable[[int], None], shown: int, reads: int) -> int:
    """Tell ``progress`` every multiple of :data:`EVERY` reads up to ``reads`` after ``shown`` of them, as the
    per-read loops do; the multiples now told."""
    for multiple in range(shown + 1, reads // EVERY + 1):
        progress(multiple * EVERY)
    return reads // EVERY


def _collapse_batches_raw(
    batches: Iterable[tuple[list[str], list[str]]], positions: dict[str, int], on_new: Callable[[str], None],
    progress: Callable[[int], None] | None, masks: QualityMasks, tallies: list[int] | None = None, reads: int = 0,
) -> CollapsedReads:  # fmt: skip
    """:func:`_collapse_raw` on batches of reads: each batch's new sequences are counted and sent first, then its
    reads' masks are counted (only the reads of sequences with quality sites, or still in flight).  ``tallies``
    and ``reads``: the counts of the reads before ``batches`` (``positions`` then holds their sequences)."""
    if tallies is None:
        tallies = []
    sites = masks.sites
    add = masks.add
    limit = masks.limit
    counted = masks.masks
    shown = reads // EVERY
    for sequences, qualities in batches:  # ``positions`` grows below: the sequences the reader need not check
        reads += len(sequences)
        watched: dict[str, tuple[int, tuple[int, ...] | None]] = {}
        for sequence, count in Counter(sequences).items():
            index = positions.get(sequence)
            if index is None:
                index = positions[sequence] = len(tallies)
                tallies.append(count)
                if len(sites) == index:
                    sites.append(None)  # in flight (on_new may settle earlier sequences, never this one)
                on_new(sequence)
                watched[sequence] = (index, None)
            else:
                tallies[index] += count
                spots = sites[index]
                if spots != ():
                    watched[sequence] = (index, spots)
        if watched:
            for sequence, read_qualities in compress(zip(sequences, qualities), map(watched.__contains__, sequences)):
                index, spots = watched[sequence]
                if spots is None:
                    spots = sites[index]  # settled since it was sent?
                    if spots is None:
                        add(index, read_qualities)
                        continue
                for spot in spots:  # QualityMasks.add for a settled sequence, inlined
                    if read_qualities[spot] < limit:
                        key = (index, tuple([p for p in spots if read_qualities[p] < limit]))
                        counted[key] = counted.get(key, 0) + 1
                        break
        if progress is not None and reads // EVERY > shown:
            shown = _progress(progress, shown, reads)
    return _collapsed(positions, tallies, reads)


def collapse_records(
    records: Iterable[ReadTuple],
    quality: QualitySettings = QualitySettings(),
    on_new: Callable[[str], None] = _ignore,
    progress: Callable[[int], None] | None = None,
    on_read: Callable[[str, int], None] | None = None,
    masks: QualityMasks | None = None,
) -> CollapsedReads:
    """Count unique reads from ``(name, sequence, qualities)`` records (FASTQ, or BAM/CRAM reads);
    ``progress`` is called with the number of reads read so far every 65,536 reads; ``on_read`` as in the
    module docstring.  With ``masks`` (and a base-quality threshold) reads are collapsed on their raw sequence
    and ``masks`` counts their low-quality positions; without it low-quality bases are masked to N first."""
    if masks is not None and quality.min_base_quality:
        return _collapse_raw(records, quality, on_new, progress, on_read, masks)
    if on_read is not None:
        return _collapse_noting_reads(records, quality, on_new, progress, on_read)
    collapsed = CollapsedReads()
    every = EVERY - 1 if progress is not None else -1
    counts = collapsed.sequences
    get = counts.get
    if quality.min_mean_quality or quality.min_base_quality:
        keep = _mean_quality_ok(quality.min_mean_quality) if quality.min_mean_quality else None
        mask = _masker(quality.min_base_quality) if quality.min_base_quality else None
        for _name, sequence, qualities in records:
            collapsed.reads_in += 1
            if collapsed.reads_in & every == 0 and progress is not None:
                progress(collapsed.reads_in)
            if keep is not None and not keep(qualities):
                collapsed.quality_filtered += 1
                continue
            if mask is not None:
                sequence = mask(sequence, qualities)
            seen = get(sequence)
            if seen is None:
                counts[sequence] = 1
                on_new(sequence)
            else:
                counts[sequence] = seen + 1
        return collapsed
    reads = 0
    for _name, sequence, _qualities in records:
        reads += 1
        if reads & every == 0 and progress is not None:
            progress(reads)
        seen = get(sequence)
        if seen is None:
            counts[sequence] = 1
            on_new(sequence)
        else:
            counts[sequence] = seen + 1
    collapsed.reads_in = reads
    return collapsed


def _collapse_raw(
    records: Iterable[ReadTuple], quality: QualitySettings, on_new: Callable[[str], None],
    progress: Callable[[int], None] | None, on_read: Callable[[str, int], None] | None, masks: QualityMasks,
) -> CollapsedReads:  # fmt: skip
    """:func:`collapse_records` on raw sequences, counting low-quality positions in ``masks``; ``on_new`` may
    settle earlier sequences in ``masks`` (the engine does when their alignments come back)."""
    collapsed = CollapsedReads()
    every = EVERY - 1 if progress is not None else -1
    keep = _mean_quality_ok(quality.min_mean_quality) if quality.min_mean_quality else None
    positions: dict[str, int] = {}
    tallies: list[int] = []
    sites = masks.sites
    add = masks.add if on_read is None else masks.add_noting
    reads = 0
    for name, sequence, qualities in records:
        reads += 1
        if reads & every == 0 and progress is not None:
            progress(reads)
        if keep is not None and not keep(qualities):
            collapsed.quality_filtered += 1
            if on_read is not None:
                on_read(name, QUALITY_FILTERED)
            continue
        index = positions.get(sequence)
        if index is None:
            index = positions[sequence] = len(tallies)
            tallies.append(1)
            if len(sites) == index:
                sites.append(None)  # in flight (on_new may settle earlier sequences, never this one)
            on_new(sequence)
        else:
            tallies[index] += 1
        noted = add(index, qualities)
        if on_read is not None:
            on_read(name, noted if isinstance(noted, int) else index)
    collapsed.reads_in = reads
    for sequence, count in zip(positions, tallies):  # the index becomes the counts: no second dict of every sequence
        positions[sequence] = count
    collapsed.sequences = positions
    return collapsed


def _collapse_noting_reads(
    records: Iterable[ReadTuple], quality: QualitySettings, on_new: Callable[[str], None],
    progress: Callable[[int], None] | None, on_read: Callable[[str, int], None],
) -> CollapsedReads:  # fmt: skip
    """:func:`collapse_records` telling ``on_read`` what became of every read (a loop of its own, so that the
    usual path pays nothing for it)."""
    collapsed = CollapsedReads()
    every = EVERY - 1 if progress is not None else -1
    counts = collapsed.sequences
    positions: dict[str, int] = {}
    keep = _mean_quality_ok(quality.min_mean_quality) if quality.min_mean_quality else None
    mask = _masker(quality.min_base_quality) if quality.min_base_quality else None
    for name, sequence, qualities in records:
        collapsed.reads_in += 1
        if collapsed.reads_in & every == 0 and progress is not None:
            progress(collapsed.reads_in)
        if keep is not None and not keep(qualities):
            collapsed.quality_filtered += 1
            on_read(name, QUALITY_FILTERED)
            continue
        if mask is not None:
            sequence = mask(sequence, qualities)
        position = positions.get(sequence)
        if position is None:
            position = positions[sequence] = len(positions)
            counts[sequence] = 1
            on_new(sequence)
        else:
            counts[sequence] += 1
        on_read(name, position)
    return collapsed


def filter_fragments(
    fragments: Iterable[FragmentTuple], quality: QualitySettings, mask_lone: bool = True
) -> Iterator[tuple[str, tuple[str, str, str | None, str | None] | None]]:
    """Quality filtering and masking of pairs and lone reads: yields ``(name, (seq1, qual1, seq2, qual2))``
    (``seq2`` and ``qual2`` None for a lone read), or ``(name, None)`` for a filtered fragment (a pair
    is dropped when either mate fails the mean quality); lone reads are left unmasked unless ``mask_lone``."""
    keep = _mean_quality_ok(quality.min_mean_quality) if quality.min_mean_quality else None
    mask = _masker(quality.min_base_quality) if quality.min_base_quality else None
    for fragment in fragments:
        sequence2: str | None
        qualities2: str | None
        if len(fragment) == 3:
            name, sequence1, qualities1 = fragment
            sequence2 = qualities2 = None
        else:
            name, sequence1, qualities1, sequence2, qualities2 = fragment
        if keep is not None and not (keep(qualities1) and (qualities2 is None or keep(qualities2))):
            yield name, None
            continue
        if mask is not None and (mask_lone or sequence2 is not None):
            sequence1 = mask(sequence1, qualities1)
            if sequence2 is not None and qualities2 is not None:
                sequence2 = mask(sequence2, qualities2)
        yield name, (sequence1, qualities1, sequence2, qualities2)


def collapse_paired(
    path1: str | Path,
    path2: str | Path,
    merge: MergeSettings = MergeSettings(),
    quality: QualitySettings = QualitySettings(),
    on_new: Callable[[str], None] = _ignore,
    progress: Callable[[int], None] | None = None,
    max_read_length: int = MAX_READ_LENGTH,
) -> CollapsedReads:
    """Count unique pairs of a paired FASTQ set (see :func:`collapse_fragments`)."""
    return collapse_fragments(iter_paired_tuples(path1, path2, max_read_length), merge, quality, on_new, progress)


def collapse_fragments(
    fragments: Iterable[FragmentTuple],
    merge: MergeSettings = MergeSettings(),
    quality: QualitySettings = QualitySettings(),
    on_new: Callable[[str], None] = _ignore,
    progress: Callable[[int], None] | None = None,
    on_read: Callable[[str, int], None] | None = None,
    masks: QualityMasks | None = None,
) -> CollapsedReads:
    """Count unique pairs, placing each unique pair once when first seen (merging it again where its mates disagree
    and a pair chooses other bases), and count merged reads.

    ``fragments`` are pairs ``(name, R1, R1 qualities, R2, R2 qualities)`` with both mates as sequenced (FASTQ
    pairs, or BAM/CRAM mates from :func:`editcheck.reads.alignments.iter_site_fragments`); a lone read
    ``(name, sequence, qualities)`` is a lone mate, counted like a merged read (and in ``lone_mates``).  Identical pairs
    are placed once; where their mates disagree, each pair's own qualities choose its bases
    (:func:`~editcheck.reads.merge.mate_choices`), so its merged read never depends on the order of the
    reads.  ``on_new`` is called
    with each merged sequence when first seen; ``on_read`` as in the module docstring.  With ``masks`` (and a
    base-quality threshold) lone reads are collapsed on their raw sequence and their low-quality positions
    counted there, as single-end reads are, and so are merged pairs: their mates are merged as sequenced and
    each merged read's qualities (:func:`~editcheck.reads.merge.read_merged_qualities`, from the mates
    covering each position) are counted in ``masks``; the mates of an unmerged pair are masked to N (each pair
    with its own qualities).  Without ``masks`` the mates of pairs are masked before merging.
    """
    if masks is not None and not quality.min_base_quality:
        masks = None
    raw = masks is not None
    mask_mates = _masker(quality.min_base_quality) if raw else None
    if raw:
        quality = QualitySettings(min_mean_quality=quality.min_mean_quality, min_base_quality=0)
    collapsed = CollapsedReads(paired=True)
    # Each pair as sequenced: its outcome (merged with its first read's qualities), placement and disagreements;
    # and the merged read of each pair and choice of bases where its mates disagree (:func:`mate_choices`).
    pairs: dict[tuple[str, str], tuple[str | tuple[str, str], int, tuple[int, ...]]] = {}
    chosen: dict[tuple[str, str, int], str] = {}
    sequences = collapsed.sequences
    unmerged_pairs = collapsed.unmerged_pairs
    every = EVERY - 1 if progress is not None else -1
    positions: dict[str, int] = {}
    pair_positions: dict[tuple[str, str], int] = {}
    for name, item in filter_fragments(fragments, quality, mask_lone=not raw):
        collapsed.reads_in += 1
        if collapsed.reads_in & every == 0 and progress is not None:
            progress(collapsed.reads_in)
        if item is None:
            collapsed.quality_filtered += 1
            if on_read is not None:
                on_read(name, QUALITY_FILTERED)
            continue
        if item[2] is None or item[3] is None:
            collapsed.lone_mates += 1
            outcome: str | tuple[str, str] = item[0]
        else:
            key = (item[0], item[2])
            found = pairs.get(key)
            placed = None
            if found is None:
                placed = merge_placed(item[0], item[1], item[2], item[3], merge)
                if placed is None:
                    found = ((item[0], reverse_complement(item[2])), 0, ())
                else:
                    found = (placed[0], placed[2], disagreements(item[0], item[2], placed[2], placed[3]))
                pairs[key] = found
            outcome, offset, spots = found
            if spots:  # the mates disagree: this pair's own qualities choose the bases
                choice = (*key, mate_choices(item[1], item[3], offset, spots))
                merged_read = chosen.get(choice)
                if merged_read is None:
                    if placed is None:  # not merged with this pair's qualities yet (the placement is the same)
                        placed = merge_placed(item[0], item[1], item[2], item[3], merge)
                        assert placed is not None
                    merged_read = chosen[choice] = placed[0]
                outcome = merged_read
            if isinstance(outcome, str):
                collapsed.merged += 1
            elif mask_mates is not None:  # an unmerged pair: its mates masked with their own qualities
                outcome = (mask_mates(item[0], item[1]), reverse_complement(mask_mates(item[2], item[3])))
        if isinstance(outcome, str):
            seen = sequences.get(outcome)
            if seen is None:
                sequences[outcome] = 1
                on_new(outcome)
            else:
                sequences[outcome] = seen + 1
            if masks is not None or on_read is not None:
                index = positions.setdefault(outcome, len(positions))
                noted = index
                if masks is not None:
                    if item[2] is None or item[3] is None:  # a lone read: its qualities are its own
                        qualities = item[1]
                    else:
                        qualities = read_merged_qualities(item[0], item[1], item[2], item[3], offset)
                    if on_read is None:
                        masks.add(index, qualities)
                    else:
                        noted = masks.add_noting(index, qualities)
                if on_read is not None:
                    on_read(name, noted)
        else:
            collapsed.unmerged += 1
            unmerged_pairs[outcome] = unmerged_pairs.get(outcome, 0) + 1
            if on_read is not None:
                on_read(name, pair_index(pair_positions.setdefault(outcome, len(pair_positions))))
    collapsed.unique_pairs = len(pairs)
    return collapsed
