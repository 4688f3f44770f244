"""The per-unique-read hot path in pure Python, the reference implementation: an alignment's CIGAR to its
events (indels placed by :mod:`editcheck.alignment.placement`), projection and identity; the ungapped
shortcut; read/reference differences; the events as text.

:mod:`editcheck.alignment._compiled` is the same in Cython and must give identical results (a test compares
them on simulated reads of every outcome class); :mod:`editcheck.alignment.hotpath` picks one of the two.
"""

from __future__ import annotations

from collections.abc import Sequence

from editcheck.alignment.placement import place_indels
from editcheck.sequences import CIGAR_DELETION, CIGAR_INSERTION, CIGAR_MATCH, CIGAR_MISMATCH

__all__ = [
    "Events", "Span", "anchor_clips", "build_events", "core_penalty", "core_span", "describe_events", "laid_out",
    "layout_offset", "mismatches", "signature_index", "ungapped_substitutions",
]  # fmt: skip

Events = tuple[float, str, tuple[tuple[int, str], ...], tuple[tuple[int, int], ...], tuple[tuple[int, str], ...]]
"""(identity, projection, insertions, deletions, substitutions), as :class:`~editcheck.alignment.aligner.AlignedRead`
holds them."""
Span = tuple[list[tuple[int, int]], int, int, int, int]
"""(core operations, read_start, read_end, reference_start, reference_end)."""


def core_span(operations: list[tuple[int, int]], read_length: int, low: int, high: int) -> Span | None:
    """An end-to-end alignment of a read to reference[low:high] without its terminal gaps: the core operations
    and the spans they align; ``None`` when nothing but gaps is left."""
    first, last = 0, len(operations)
    read_start, reference_start = 0, low
    read_end, reference_end = read_length, high
    while first < last and operations[first][0] in (CIGAR_INSERTION, CIGAR_DELETION):
        code, length = operations[first]
        if code == CIGAR_INSERTION:
            read_start += length
        else:
            reference_start += length
        first += 1
    while last > first and operations[last - 1][0] in (CIGAR_INSERTION, CIGAR_DELETION):
        code, length = operations[last - 1]
        if code == CIGAR_INSERTION:
            read_end -= length
        else:
            reference_end -= length
        last -= 1
    if first == last:
        return None
    return operations[first:last], read_start, read_end, reference_start, reference_end


def core_penalty(core: Sequence[tuple[int, int]], mismatch: int, gap_open: int, gap_extend: int) -> tuple[int, bool]:
    """The penalty of core operations (mismatches, and every other operation but a match as a gap) and
    whether there is a gap."""
    penalty = 0
    has_gap = False
    for code, length in core:
        if code == CIGAR_MISMATCH:
            penalty += mismatch * length
        elif code != CIGAR_MATCH:
            penalty += gap_open + gap_extend * length
            has_gap = True
    return penalty, has_gap


def mismatches(reference: str, read: str, offset: int, found: list[tuple[int, str]]) -> None:
    """Append (offset + i, read[i]) where the equal-length strings differ, skipping N in the read.

    XOR of the two byte strings as integers finds differing bytes in C; the loop runs once per difference.
    """
    if reference == read:
        return
    difference = int.from_bytes(reference.encode("ascii"), "little") ^ int.from_bytes(read.encode("ascii"), "little")
    while difference:
        index = ((difference & -difference).bit_length() - 1) >> 3
        base = read[index]
        if base != "N":
            found.append((offset + index, base))
        difference &= ~(0xFF << (index << 3))


def ungapped_substitutions(reference: str, read: str, limit: int) -> tuple[int, tuple[tuple[int, str], ...]] | None:
    """For an equal-length read: (differing columns, substitutions without N), or ``None`` when more than
    ``limit`` columns differ."""
    if reference == read:
        return 0, ()
    difference = int.from_bytes(reference.encode("ascii"), "little") ^ int.from_bytes(read.encode("ascii"), "little")
    columns: list[int] = []
    while difference:
        column = ((difference & -difference).bit_length() - 1) >> 3
        columns.append(column)
        if len(columns) > limit:
            return None
        difference &= ~(0xFF << (column << 3))
    return len(columns), tuple((column, read[column]) for column in columns if read[column] != "N")


def build_events(
    reference: str, read: str, core: Sequence[tuple[int, int]], read_start: int, read_end: int,
    reference_start: int, reference_end: int, has_gap: bool, cut_boundaries: Sequence[int],
) -> Events:  # fmt: skip
    """Events, projection and identity of one alignment: ``core`` (CIGAR operations without terminal gaps)
    aligns read[read_start:read_end] to reference[reference_start:reference_end]; indels placed by the rule."""
    if not has_gap:
        substitutions: list[tuple[int, str]] = []
        covered_read = read[read_start:read_end]
        mismatched = 0
        position = 0
        for code, length in core:
            if code == CIGAR_MISMATCH:
                mismatched += length
                for column in range(position, position + length):
                    base = covered_read[column]
                    if base != "N":
                        substitutions.append((reference_start + column, base))
            position += length
        columns = reference_end - reference_start
        identity = 100.0 * (columns - mismatched) / columns
        projection = "." * reference_start + covered_read + "." * (len(reference) - reference_end)
        return identity, projection, (), (), tuple(substitutions)
    reference_parts: list[str] = []
    read_parts: list[str] = []
    reference_position, read_position = reference_start, read_start
    for code, length in core:
        if code in (CIGAR_MATCH, CIGAR_MISMATCH):
            reference_parts.append(reference[reference_position : reference_position + length])
            read_parts.append(read[read_position : read_position + length])
            reference_position += length
            read_position += length
        elif code == CIGAR_INSERTION:
            reference_parts.append("-" * length)
            read_parts.append(read[read_position : read_position + length])
            read_position += length
        else:
            reference_parts.append(reference[reference_position : reference_position + length])
            read_parts.append("-" * length)
            reference_position += length
    reference_aligned, read_aligned = place_indels(
        "".join(reference_parts), "".join(read_parts), reference_start, cut_boundaries
    )
    return _from_gapped(reference, reference_aligned, read_aligned, reference_start, reference_end)


def _next_gap(text: str, column: int, length: int) -> int:
    found = text.find("-", column)
    return length if found == -1 else found


def _gap_end(text: str, column: int, length: int) -> int:
    stop = column
    while stop < length and text[stop] == "-":
        stop += 1
    return stop


def _from_gapped(reference: str, reference_aligned: str, read_aligned: str, start: int, end: int) -> Events:
    """Derive events and the projection from a gapped alignment of the covered span."""
    insertions: list[tuple[int, str]] = []
    deletions: list[tuple[int, int]] = []
    substitutions: list[tuple[int, str]] = []
    projection_parts = ["." * start]
    column = 0
    position = start
    unmatched = 0
    length = len(reference_aligned)
    while column < length:
        if reference_aligned[column] == "-":
            stop = _gap_end(reference_aligned, column, length)
            insertions.append((position, read_aligned[column:stop]))
        elif read_aligned[column] == "-":
            stop = _gap_end(read_aligned, column, length)
            deletions.append((position, stop - column))
            projection_parts.append("-" * (stop - column))
            position += stop - column
        else:
            stop = min(_next_gap(reference_aligned, column, length), _next_gap(read_aligned, column, length))
            segment = read_aligned[column:stop]
            before = len(substitutions)
            mismatches(reference_aligned[column:stop], segment, position, substitutions)
            unmatched += len(substitutions) - before + segment.count("N")
            projection_parts.append(segment)
            position += stop - column
            column = stop
            continue
        unmatched += stop - column
        column = stop
    projection_parts.append("." * (len(reference) - end))
    identity = 100.0 * (length - unmatched) / length
    return identity, "".join(projection_parts), tuple(insertions), tuple(deletions), tuple(substitutions)


def describe_events(
    reference: str, insertions: Sequence[tuple[int, str]], deletions: Sequence[tuple[int, int]],
    substitutions: Sequence[tuple[int, str]],
) -> str:  # fmt: skip
    """All differences from the reference in 1-based HGVS-like notation, e.g. ``92_94del;95_96insAT;100C>T``."""
    events: list[tuple[int, str]] = []
    for start, length in deletions:
        label = f"{start + 1}del" if length == 1 else f"{start + 1}_{start + length}del"
        events.append((start, label))
    for position, bases in insertions:
        events.append((position, f"{position}_{position + 1}ins{bases}"))
    for position, base in substitutions:
        events.append((position, f"{position + 1}{reference[position]}>{base}"))
    events.sort()
    return ";".join(label for _, label in events)


def signature_index(read: str, signatures: Sequence[str]) -> int:
    """The index of the only one of ``signatures`` that ``read`` contains; -1 when it contains none or several."""
    found = -1
    for index, signature in enumerate(signatures):
        if signature in read:
            if found >= 0:
                return -1
            found = index
    return found


def laid_out(
    sequence: str, length: int, start: int, end: int, insertions: Sequence[tuple[int, str]],
    deletions: Sequence[tuple[int, int]], offset: int,
) -> str:  # fmt: skip
    """The projection of ``sequence`` read from base ``offset`` on, over the reference span [start, end) of a
    reference of ``length``: its bases in order, deletions as '-', inserted bases left out, '.' outside."""
    if not insertions and not deletions:
        return "." * start + sequence[offset : offset + end - start] + "." * (length - end)
    parts = ["." * start]
    read, position = offset, start
    events = sorted([(p, 0, len(bases)) for p, bases in insertions] + [(p, 1, n) for p, n in deletions])
    for at, kind, size in events:
        parts.append(sequence[read : read + at - position])
        read += at - position
        position = at
        if kind == 0:
            read += size
        else:
            parts.append("-" * size)
            position += size
    parts.append(sequence[read : read + end - position])
    parts.append("." * (length - end))
    return "".join(parts)


def layout_offset(
    sequence: str, projection: str, start: int, end: int, insertions: Sequence[tuple[int, str]],
    deletions: Sequence[tuple[int, int]],
) -> int:  # fmt: skip
    """The read base ``offset`` (0 first, then the one that ends the span at the read's last base) from which
    :func:`laid_out` gives ``projection`` back; -1 when neither does."""
    consumed = end - start - sum(n for _, n in deletions) + sum(len(bases) for _, bases in insertions)
    length = len(projection)
    for offset in (0, len(sequence) - consumed) if len(sequence) != consumed else (0,):
        if offset >= 0 and projection == laid_out(sequence, length, start, end, insertions, deletions, offset):
            return offset
    return -1


def anchor_clips(read: str, first_anchor: str, last_anchor: str, anchor_length: int) -> tuple[int, int, int, int]:
    """Where a read's overhang beyond the amplicon ends is cut off: ``(clip_left, clip_right, begin_free,
    end_free)``.  The read keeps its start when it starts with ``first_anchor`` (the amplicon's first bases),
    else is clipped before its first occurrence, else its start is left free (1); likewise its end at the last
    occurrence of ``last_anchor`` (``anchor_length`` bases) that does not start before the left clip."""
    clip_left = begin_free = 0
    if not read.startswith(first_anchor):
        found = read.find(first_anchor)
        if found > 0:
            clip_left = found
        else:
            begin_free = 1
    clip_right = len(read)
    end_free = 0
    if not read.endswith(last_anchor):
        found = read.rfind(last_anchor)
        if found >= clip_left:
            clip_right = found + anchor_length
        else:
            end_free = 1
    return clip_left, clip_right, begin_free, end_free
