"""Global alignment of unique reads to the reference amplicon(s) with WFA2 (pywfa).

Each read is aligned end to end with affine gaps and full traceback. The penalties
(mismatch 18, gap open 36, gap extension 9) are the exact WFA equivalent of the scores
match +5, mismatch -4, gap -(18 + 2 L) that amplicon tools in this field use. Terminal gaps are
not edits: read bases beyond the amplicon ends (primer/adapter overhang) are clipped and
amplicon bases before the read's first or after its last aligned base are *not covered*.
Indels are then placed by :mod:`editcheck.alignment.placement`.  The per-read work after WFA (the
alignment's core span and penalty, CIGAR to events with indel placement, the ungapped shortcut) runs in the
kernels :mod:`editcheck.alignment.hotpath` selects: compiled (Cython) or the pure-Python reference.

A read that starts or ends inside the amplicon (a short read on a long amplicon, an unmerged mate)
is first located by exact k-mer seeds unique in the reference; it is aligned to that stretch only,
with the uncovered amplicon ends free, so its cost does not grow with the amplicon's length and
a chance match at a far amplicon end cannot turn the uncovered part into a "deletion".
Large alignment problems run in WFA2's low-memory modes (bidirectional BiWFA end to end, whose
memory grows with the alignment score rather than its square; ``low`` with free ends), and reads
longer than :func:`max_read_length` are not aligned at all (they are counted as ``too_long``).

The seeded covered-span search and the WFA2 memory modes work on one alignment state, so they stay together;
the CIGAR walk, indel placement and classification live in their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from pywfa import WavefrontAligner

from editcheck.alignment.hotpath import (
    AlignerCore,
    anchor_clips,
    build_events,
    core_penalty,
    core_span,
    mismatches,
    signature_index,
    ungapped_substitutions,
)
from editcheck.design import Reference
from editcheck.scoring import (
    GAP_EXTEND_PENALTY,
    GAP_OPEN_PENALTY,
    MISMATCH_PENALTY,
    reduced_wfa_aligner,
    wfa_aligner,
)
from editcheck.sequences import CIGAR_DELETION, CIGAR_MATCH, reverse_complement

KMER = 10
ANCHOR = 12
MIN_READ_LENGTH = 10
"""Shorter reads (e.g. left empty by a trimmer) are not aligned."""
"""Exact matches to the amplicon's first and last bases locate primer-anchored read ends quickly."""
DEFAULT_MIN_IDENTITY = 60.0
"""Reads whose best alignment has a lower percent identity are counted as not aligned."""
SEED = 12
SEED_STRIDE = 4
"""Read k-mers looked up (every SEED_STRIDE-th) among the reference's unique SEED-mers."""
MAX_END_MISMATCH_FRACTION = 0.2
"""Read bases between a read end and its nearest seed may differ this much from the reference."""
SEED_MARGIN = 32
"""Reference bases aligned beyond the seeded span of a read that starts or ends inside the amplicon:
room for an indel before the read's first (or after its last) seed."""
HIGH_MEMORY_MAX_LENGTH = 3000
"""Alignments of a longer read + reference run in a low-memory mode: BiWFA (memory linear in the
score) end to end, WFA2's ``low`` mode with free ends. The default mode stores every wavefront:
about 100 MB at this size, gigabytes for a 13-kb read."""
MAX_ALIGNMENT_MEMORY = 1 << 30
"""A low-memory alignment needing more bytes than this is abandoned (the read is not aligned)."""
DEFAULT_MAX_LENGTH_FACTOR = 2.0
MAX_LENGTH_SLACK = 500
"""A read may be this many bases longer than the factor x the longest reference (short amplicons)."""


def max_read_length(references: Sequence[Reference], factor: float = DEFAULT_MAX_LENGTH_FACTOR) -> int:
    """Longest read aligned: ``factor`` x the longest reference + MAX_LENGTH_SLACK bases (room for
    long insertions and primer/adapter overhang); longer reads are ``too_long``, not aligned."""
    return int(factor * max(len(reference.sequence) for reference in references)) + MAX_LENGTH_SLACK


class AlignedRead(NamedTuple):
    """A unique read placed on a reference: the covered span and every difference from it."""

    reference: int
    """Index of the best reference (0 = amplicon, 1 = HDR outcome)."""
    ambiguous: bool
    """True when two references fit equally well; the lowest-numbered one is kept."""
    reverse: bool
    """True when the read is the reverse complement of the amplicon."""
    identity: float
    """Percent identity over the covered span (matches / alignment columns)."""
    start: int
    end: int
    """Covered reference span [start, end)."""
    projection: str
    """The read base at every reference position: ACGTN, '-' deleted, '.' not covered."""
    insertions: tuple[tuple[int, str], ...]
    """(p, bases): bases inserted between reference positions p - 1 and p."""
    deletions: tuple[tuple[int, int], ...]
    """(start, length) of deleted reference stretches."""
    substitutions: tuple[tuple[int, str], ...]
    """(position, read base) where the read differs from the reference (N never counts)."""


_new: Any = tuple.__new__
"""Builds a named tuple from its fields without the generated ``__new__`` (once per unique read)."""

SIGNATURE_FLANK = 10


def _signatures(sequences: list[str]) -> list[str]:
    """For several references, the stretch where each differs from the first, with flanks."""
    if len(sequences) < 2:
        return []
    first = sequences[0]
    prefix = min(_common_prefix(first, other) for other in sequences[1:])
    suffix = min(_common_prefix(first[::-1], other[::-1]) for other in sequences[1:])
    signatures = []
    for sequence in sequences:
        end = max(len(sequence) - suffix, prefix)
        signatures.append(sequence[max(0, prefix - SIGNATURE_FLANK) : end + SIGNATURE_FLANK])
    return signatures if len(set(signatures)) == len(signatures) else []


def _common_prefix(first: str, second: str) -> int:
    length = 0
    for a, b in zip(first, second):
        if a != b:
            break
        length += 1
    return length


def _unique_seeds(sequence: str) -> dict[str, int]:
    """SEED-mers occurring once in ``sequence`` -> their position."""
    positions: dict[str, int] = {}
    repeated: set[str] = set()
    for start in range(len(sequence) - SEED + 1):
        kmer = sequence[start : start + SEED]
        if kmer in positions:
            repeated.add(kmer)
        else:
            positions[kmer] = start
    for kmer in repeated:
        del positions[kmer]
    return positions


def locate(seeds: dict[str, int], reference: str, read: str, from_end: bool = False) -> int | None:
    """Where ``read`` starts on ``reference`` (with ``from_end``: where its last base ends), from exact
    seed matches scanned from that end of the read: the first seed whose diagonal another seed
    confirms (a chance 12-mer match says nothing) places the read's end on that diagonal. ``None``
    when no seed is confirmed or the read bases between the end and that seed do not match the
    reference on the diagonal but for sequencing errors (an indel, junk or adapter there leaves
    the read's end unknown)."""
    starts = range(0, len(read) - SEED + 1, SEED_STRIDE)
    first_hit: dict[int, int] = {}
    get = seeds.get
    for start in reversed(starts) if from_end else starts:
        position = get(read[start : start + SEED])
        if position is None:
            continue
        diagonal = position - start
        if diagonal not in first_hit:
            first_hit[diagonal] = start
            continue
        start = first_hit[diagonal]  # the confirmed seed nearest the end
        if from_end:
            tail = start + SEED
            return (
                diagonal + len(read) if _close(reference[diagonal + tail : diagonal + len(read)], read[tail:]) else None
            )
        return diagonal if diagonal >= 0 and _close(reference[diagonal : diagonal + start], read[:start]) else None
    return None


def _close(reference: str, read: str) -> bool:
    """Equal lengths and at most 2 + MAX_END_MISMATCH_FRACTION of the bases differing (N never counts)."""
    if len(reference) != len(read):
        return False
    found: list[tuple[int, str]] = []
    mismatches(reference, read, 0, found)
    return len(found) <= 2 + MAX_END_MISMATCH_FRACTION * len(read)


class ReadAligner:
    """Aligns reads to one or more references and returns an :class:`AlignedRead` or ``None``."""

    def __init__(
        self, references: Sequence[Reference], min_identity: float = DEFAULT_MIN_IDENTITY, large_deletion_min: int = 50,
        max_length_factor: float = DEFAULT_MAX_LENGTH_FACTOR,
    ) -> None:  # fmt: skip
        self.references = tuple(references)
        self.min_identity = min_identity
        self.large_deletion_min = large_deletion_min
        self.max_read_length = max_read_length(self.references, max_length_factor)
        # In reduced penalties (scoring.PENALTY_UNIT: the same alignments, faster; tests/test_aligner_shortcuts.py);
        # the penalty compared between references is computed from the CIGAR (core_penalty), never WFA's score.
        # The low-memory aligners of very long reads keep the full ones (BiWFA's own breakpoint search, untested).
        self._end_to_end = [reduced_wfa_aligner(reference.sequence, "end-to-end") for reference in self.references]
        self._ends_free = [reduced_wfa_aligner(reference.sequence, "ends-free") for reference in self.references]
        self._sliced = reduced_wfa_aligner(None, "ends-free")
        self._low_memory_end_to_end = wfa_aligner(None, "end-to-end", "biwfa", max_memory=MAX_ALIGNMENT_MEMORY)
        self._low_memory_ends_free = wfa_aligner(None, "ends-free", "low", max_memory=MAX_ALIGNMENT_MEMORY)
        self._seeds = [_unique_seeds(reference.sequence) for reference in self.references]
        self._anchors = [(reference.sequence[:ANCHOR], reference.sequence[-ANCHOR:]) for reference in self.references]
        self._targets = [
            (reference.sequence, first, last) for reference, (first, last) in zip(self.references, self._anchors)
        ]  # fmt: skip
        self._cut_boundaries = [tuple(cut + 1 for cut in reference.cut_points) for reference in self.references]
        forward: set[str] = set()
        backward: set[str] = set()
        for reference in self.references:
            sequence = reference.sequence
            reverse = reverse_complement(sequence)
            forward.update(sequence[i : i + KMER] for i in range(len(sequence) - KMER + 1))
            backward.update(reverse[i : i + KMER] for i in range(len(reverse) - KMER + 1))
        self._forward_only = frozenset(forward - backward)
        self._reverse_only = frozenset(backward - forward)
        first = self.references[0].sequence
        self._forward_anchors = (first[:ANCHOR], first[-ANCHOR:])
        self._reverse_anchors = (reverse_complement(first[-ANCHOR:]), reverse_complement(first[:ANCHOR]))
        self._signatures = tuple(_signatures([reference.sequence for reference in self.references]))
        self._all = range(len(self.references))
        self._single = tuple((index,) for index in self._all)
        self._core = None if AlignerCore is None else AlignerCore(self)
        """:meth:`align` compiled (:mod:`editcheck.alignment.hotpath`), or None: the methods below.  It takes the
        state above as it is now: an aligner is not changed once made."""

    @property
    def direct_align(self) -> Callable[..., AlignedRead | None]:
        """:meth:`align` without its Python frame where it is compiled (the compiled core's own ``align``, same
        arguments and results), for code that aligns many reads from C (the workers' chunk runner); else
        :meth:`align` itself."""
        return self.align if self._core is None else self._core.align

    def candidates(self, read: str) -> range | tuple[int, ...]:
        """References worth aligning to: one whose sequence-specific stretch the read contains
        exactly fits better than the others, so only that one is aligned."""
        if not self._signatures:
            return self._all
        found = signature_index(read, self._signatures)
        return self._all if found < 0 else self._single[found]

    def orientations(self, read: str) -> tuple[bool, ...]:
        """Which orientations to try: forward, reverse, or both when k-mers do not decide."""
        first, last = self._forward_anchors
        if first in read or last in read:
            return (False,)
        first, last = self._reverse_anchors
        if first in read or last in read:
            return (True,)
        forward = reverse = 0
        for index in range(0, len(read) - KMER + 1, KMER):
            kmer = read[index : index + KMER]
            if kmer in self._forward_only:
                forward += 1
            elif kmer in self._reverse_only:
                reverse += 1
        if forward > reverse:
            return (False,)
        if reverse > forward:
            return (True,)
        return (False, True)

    def too_long(self, read: str) -> bool:
        """True for a read longer than :attr:`max_read_length`, which :meth:`align` does not align."""
        return len(read) > self.max_read_length

    def align(self, read: str, only: int | None = None) -> AlignedRead | None:
        """Align one read; ``None`` if no reference reaches the identity threshold (reads with a large
        deletion are returned whatever their identity: the classifier judges them by their anchors)
        or the read is shorter than MIN_READ_LENGTH or :meth:`too_long`. ``only`` restricts the
        alignment to one reference (by index)."""
        if self._core is not None:
            aligned: AlignedRead | None = self._core.align(read, only)
            return aligned
        if len(read) < MIN_READ_LENGTH or len(read) > self.max_read_length:
            return None
        best: tuple[Any, ...] | None = None
        best_penalty = 0
        tie = False
        for reverse in self.orientations(read):
            sequence = reverse_complement(read) if reverse else read
            for index in self.candidates(sequence) if only is None else (only,):
                result = self._align_to(index, sequence, reverse)
                if result is None:
                    continue
                penalty = result[0]
                if best is None or penalty < best_penalty:
                    best, best_penalty, tie = result, penalty, False
                elif penalty == best_penalty and result[1] != best[1]:
                    tie = True
        if best is None:
            return None
        # Only the winning alignment is turned into events (placement is the costly part).
        best = best[2] if len(best) == 3 else self._build(*best[1:])
        if best.identity < self.min_identity and not any(
            length >= self.large_deletion_min for _, length in best.deletions
        ):
            return None  # (a read with a large deletion is judged by the classifier, without the deletion)
        if tie:
            tied: AlignedRead = _new(AlignedRead, (best[0], True, *best[2:]))
            return tied
        return best

    def _align_to(self, index: int, read: str, reverse: bool) -> tuple[Any, ...] | None:
        """Align to one reference: ``(penalty, index, AlignedRead)`` for the ungapped shortcut,
        else ``(penalty, index, reverse, text, core operations, read_start, read_end,
        reference_start, reference_end, has_gap)`` for :meth:`_build`.

        Read overhang beyond the amplicon ends is free: cut off at an exact match to the
        amplicon's first/last bases, or left to WFA's free text ends. The penalty leaves out
        terminal gaps, so references are compared on the span the read covers."""
        reference, first_anchor, last_anchor = self._targets[index]
        read_length, reference_length = len(read), len(reference)
        clip_left, clip_right, begin_free, end_free = anchor_clips(read, first_anchor, last_anchor, ANCHOR)
        text = read[clip_left:clip_right] if clip_left or clip_right < read_length else read
        text_length = len(text)
        if text_length == reference_length:
            limit = MAX_FREE_END_MISMATCHES if begin_free or end_free else MAX_UNGAPPED_MISMATCHES
            ungapped = _ungapped(index, reverse, reference, text, limit)
            if ungapped is not None:
                return ungapped[0], index, ungapped[1]
        low, high = 0, reference_length
        pattern_begin = pattern_end = 0
        if (begin_free or end_free) and text_length < reference_length - SEED_MARGIN:
            # A read end that seeds place well inside the amplicon: align to the seeded stretch only,
            # with the amplicon bases beyond it free (they are not covered, not deleted). Reads about
            # as long as the amplicon, and read ends near an amplicon end, keep the end-to-end alignment.
            seeds = self._seeds[index]
            start = locate(seeds, reference, text) if begin_free else None
            if start is not None and start > SEED_MARGIN:
                low = start - SEED_MARGIN
                pattern_begin, begin_free = 2 * SEED_MARGIN, 0
            stop = locate(seeds, reference, text, from_end=True) if end_free else None
            if stop is not None and stop < len(reference) - SEED_MARGIN:
                high = stop + SEED_MARGIN
                pattern_end, end_free = 2 * SEED_MARGIN, 0
            pattern_begin, pattern_end = min(pattern_begin, high - low), min(pattern_end, high - low)
        aligner = self._run(index, text, low, high, pattern_begin, pattern_end, begin_free, end_free)
        if aligner.status != 0:
            return None
        trimmed = core_span(aligner.cigartuples, text_length, low, high)
        if trimmed is None:
            return None
        core, read_start, read_end, reference_start, reference_end = trimmed
        if (begin_free and core[0][1] < ANCHOR) or (end_free and core[-1][1] < ANCHOR):  # maybe a stray end
            core, read_start, read_end, reference_start, reference_end = _strip_stray_ends(
                text,
                reference,
                core,
                read_start,
                read_end,
                reference_start,
                reference_end,
                begin_free > 0,
                end_free > 0,
            )
        penalty, has_gap = core_penalty(core, MISMATCH_PENALTY, GAP_OPEN_PENALTY, GAP_EXTEND_PENALTY)
        return penalty, index, reverse, text, core, read_start, read_end, reference_start, reference_end, has_gap

    def _run(
        self, index: int, text: str, low: int, high: int, pattern_begin: int, pattern_end: int, begin_free: int,
        end_free: int,
    ) -> WavefrontAligner:  # fmt: skip
        """Align ``text`` to reference[low:high] with the given free ends; returns the aligner (status, CIGAR)."""
        reference = self.references[index].sequence
        pattern: str | None = None
        free = pattern_begin or pattern_end or begin_free or end_free
        if (high - low) + len(text) > HIGH_MEMORY_MAX_LENGTH:
            aligner = self._low_memory_ends_free if free else self._low_memory_end_to_end
            pattern = reference[low:high]
        elif low == 0 and high == len(reference):
            aligner = self._ends_free[index] if free else self._end_to_end[index]
        else:
            aligner, pattern = self._sliced, reference[low:high]
        if free:
            aligner.pattern_begin_free = pattern_begin
            aligner.pattern_end_free = pattern_end
            aligner.text_begin_free = len(text) if begin_free else 0
            aligner.text_end_free = len(text) if end_free else 0
        if pattern is None:
            aligner.wavefront_align(text)
        else:
            aligner.wavefront_align(text, pattern)
        return aligner

    def _build(
        self, index: int, reverse: bool, read: str, core: list[tuple[int, int]], read_start: int, read_end: int,
        reference_start: int, reference_end: int, has_gap: bool,
    ) -> AlignedRead:  # fmt: skip
        """Events, projection and identity of one alignment, with indels placed by the rule (the hot path:
        :mod:`editcheck.alignment.hotpath`)."""
        reference = self.references[index].sequence
        identity, projection, insertions, deletions, substitutions = build_events(
            reference, read, core, read_start, read_end, reference_start, reference_end, has_gap,
            self._cut_boundaries[index],
        )  # fmt: skip
        aligned: AlignedRead = _new(AlignedRead, (
            index, False, reverse, identity, reference_start, reference_end, projection, insertions, deletions,
            substitutions,
        ))  # fmt: skip
        return aligned


def _stray(core: list[tuple[int, int]], index: int) -> bool:
    """Operation ``index`` is an exact match of fewer than ``ANCHOR`` bases (see :func:`_strip_stray_ends`)."""
    return 0 <= index < len(core) and core[index][0] == CIGAR_MATCH and core[index][1] < ANCHOR


def _clean(core: list[tuple[int, int]], index: int) -> bool:
    """Operation ``index`` is an exact match of at least ``ANCHOR`` bases."""
    return 0 <= index < len(core) and core[index][0] == CIGAR_MATCH and core[index][1] >= ANCHOR


def _deletion(core: list[tuple[int, int]], index: int) -> bool:
    return 0 <= index < len(core) and core[index][0] == CIGAR_DELETION


def _strip_stray_ends(
    read: str, reference: str, core: list[tuple[int, int]], read_start: int, read_end: int,
    reference_start: int, reference_end: int, begin_free: bool, end_free: bool,
) -> tuple[list[tuple[int, int]], int, int, int, int]:  # fmt: skip
    """A read that starts (or stops) inside the amplicon, as genome-aligned reads do, must leave the amplicon
    bases before it uncovered; WFA charges them as a deletion anyway and may put a chance match of a few
    read bases in front of it.  On a free read end (no amplicon end found there), an exact match of fewer
    than ``ANCHOR`` bases followed by a deletion is such a stray when the read matches the amplicon exactly
    for at least ``ANCHOR`` bases on the other side of the deletion: the deletion becomes uncovered
    amplicon and the stray bases are clipped, less those that match the amplicon next to the clean match.
    A stray with a mismatch, or without a clean match beyond the deletion (an unrelated read), keeps its
    alignment.  Returns the new core operations and spans."""
    if begin_free and _stray(core, 0) and _deletion(core, 1) and _clean(core, 2):
        read_start += core[0][1]
        reference_start += core[0][1] + core[1][1]
        extend = 0
        limit = min(read_start, reference_start)
        while extend < limit and read[read_start - extend - 1] == reference[reference_start - extend - 1]:
            extend += 1
        read_start -= extend
        reference_start -= extend
        core = [(CIGAR_MATCH, core[2][1] + extend), *core[3:]]
    last = len(core) - 1
    if end_free and _stray(core, last) and _deletion(core, last - 1) and _clean(core, last - 2):
        read_end -= core[-1][1]
        reference_end -= core[-1][1] + core[-2][1]
        extend = 0
        limit = min(len(read) - read_end, len(reference) - reference_end)
        while extend < limit and read[read_end + extend] == reference[reference_end + extend]:
            extend += 1
        read_end += extend
        reference_end += extend
        core = [*core[:-3], (CIGAR_MATCH, core[-3][1] + extend)]
    return core, read_start, read_end, reference_start, reference_end


MAX_UNGAPPED_MISMATCHES = (2 * (GAP_OPEN_PENALTY + GAP_EXTEND_PENALTY)) // MISMATCH_PENALTY - 1
"""An equal-length read with at most this many mismatches has no better gapped alignment: any
alignment with gaps needs an insertion and a deletion, costing at least 2 x (open + extend)."""

MAX_FREE_END_MISMATCHES = (GAP_OPEN_PENALTY + GAP_EXTEND_PENALTY - 1) // MISMATCH_PENALTY
"""The same for an equal-length read whose ends are free (no amplicon end found in it, e.g. a sequencing error
in its first or last ``ANCHOR`` bases): any other alignment skips read bases, so it deletes as many amplicon bases
(the amplicon's ends are not free), costing at least open + extend; with at most this many mismatches the
ungapped alignment costs less, so it is the one optimum WFA would return."""


def _ungapped(
    index: int, reverse: bool, reference: str, read: str, limit: int = MAX_UNGAPPED_MISMATCHES
) -> tuple[int, AlignedRead] | None:
    """Shortcut for reads as long as the reference with at most ``limit`` mismatches: no aligner call needed."""
    found = ungapped_substitutions(reference, read, limit)
    if found is None:
        return None
    differing, substitutions = found
    identity = 100.0 * (len(reference) - differing) / len(reference)
    aligned: AlignedRead = _new(
        AlignedRead, (index, False, reverse, identity, 0, len(reference), read, (), (), substitutions)
    )
    return MISMATCH_PENALTY * differing, aligned
