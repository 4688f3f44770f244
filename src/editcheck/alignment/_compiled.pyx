# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The per-unique-read hot path compiled (Cython): the functions of :mod:`editcheck.alignment.events`, the
pure-Python reference implementation, with the same arguments and identical results.

Sequences are ASCII; they are walked as C characters.  Indel placement follows
:func:`editcheck.alignment.placement.place_indels` step by step on two character buffers: gap runs are
found on the gapped row as it was when its pass began, and each run moves within the stretch bounded by
its neighbours, exactly as the reference does with strings.  Built by ``pip install`` (setup.py); when it is
missing, :mod:`editcheck.alignment.hotpath` falls back to the reference.
"""

from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from editcheck.sequences import CIGAR_DELETION, CIGAR_INSERTION, CIGAR_MATCH, CIGAR_MISMATCH

cdef enum:
    MATCH = 0
    INSERTION = 1
    DELETION = 2
    MISMATCH = 8

if (CIGAR_MATCH, CIGAR_INSERTION, CIGAR_DELETION, CIGAR_MISMATCH) != (MATCH, INSERTION, DELETION, MISMATCH):
    raise ImportError("editcheck.alignment._compiled was built with other CIGAR codes than editcheck.sequences")

cdef list _BASES = [chr(code) for code in range(128)]
"""One-character strings by character code."""

cdef char GAP = b"-"
cdef char UNKNOWN = b"N"
cdef char UNCOVERED = b"."


def core_span(object operations, Py_ssize_t read_length, Py_ssize_t low, Py_ssize_t high):
    """An end-to-end alignment of a read to reference[low:high] without its terminal gaps: the core operations
    and the spans they align; ``None`` when nothing but gaps is left."""
    cdef Py_ssize_t first = 0, last = len(operations), code, length
    cdef Py_ssize_t read_start = 0, reference_start = low, read_end = read_length, reference_end = high
    while first < last:
        code, length = operations[first]
        if code == INSERTION:
            read_start += length
        elif code == DELETION:
            reference_start += length
        else:
            break
        first += 1
    while last > first:
        code, length = operations[last - 1]
        if code == INSERTION:
            read_end -= length
        elif code == DELETION:
            reference_end -= length
        else:
            break
        last -= 1
    if first == last:
        return None
    return operations[first:last], read_start, read_end, reference_start, reference_end


def core_penalty(object core, Py_ssize_t mismatch, Py_ssize_t gap_open, Py_ssize_t gap_extend):
    """The penalty of core operations (mismatches, and every other operation but a match as a gap) and
    whether there is a gap."""
    cdef Py_ssize_t penalty = 0, code, length
    cdef bint has_gap = False
    for code, length in core:
        if code == MISMATCH:
            penalty += mismatch * length
        elif code != MATCH:
            penalty += gap_open + gap_extend * length
            has_gap = True
    return penalty, has_gap


def mismatches(str reference, str read, Py_ssize_t offset, list found):
    """Append (offset + i, read[i]) where the equal-length strings differ, skipping N in the read."""
    if reference == read:
        return
    cdef bytes reference_bytes = reference.encode("ascii")
    cdef bytes read_bytes = read.encode("ascii")
    cdef const char* first = reference_bytes
    cdef const char* second = read_bytes
    cdef Py_ssize_t index, length = min(len(reference_bytes), len(read_bytes))
    for index in range(length):
        if first[index] != second[index] and second[index] != UNKNOWN:
            found.append((offset + index, _BASES[<unsigned char>second[index]]))


def ungapped_substitutions(str reference, str read, Py_ssize_t limit):
    """For an equal-length read: (differing columns, substitutions without N), or ``None`` when more than
    ``limit`` columns differ."""
    if reference == read:
        return 0, ()
    cdef bytes reference_bytes = reference.encode("ascii")
    cdef bytes read_bytes = read.encode("ascii")
    cdef const char* first = reference_bytes
    cdef const char* second = read_bytes
    cdef Py_ssize_t index, differing = 0, length = min(len(reference_bytes), len(read_bytes))
    cdef list substitutions = []
    for index in range(length):
        if first[index] != second[index]:
            differing += 1
            if differing > limit:
                return None
            if second[index] != UNKNOWN:
                substitutions.append((index, _BASES[<unsigned char>second[index]]))
    return differing, tuple(substitutions)


cdef Py_ssize_t _distance_to_cuts(Py_ssize_t start, Py_ssize_t end, const Py_ssize_t* cuts, Py_ssize_t count) noexcept:
    """Distance from the reference interval [start, end] to the nearest cut boundary (0 if it touches)."""
    cdef Py_ssize_t best = 1 << 30, index, boundary
    for index in range(count):
        boundary = cuts[index]
        if start <= boundary <= end:
            return 0
        best = min(best, abs(start - boundary), abs(end - boundary))
    return best


cdef bint _is_cut(Py_ssize_t position, const Py_ssize_t* cuts, Py_ssize_t count) noexcept:
    cdef Py_ssize_t index
    for index in range(count):
        if cuts[index] == position:
            return True
    return False


cdef void _place_indels(
    char* reference, char* read, Py_ssize_t length, Py_ssize_t reference_start, const Py_ssize_t* cuts,
    Py_ssize_t cut_count, char* snapshot, char* moved,
) noexcept:
    """:func:`editcheck.alignment.placement.place_indels` on the two gapped rows, in place."""
    cdef char* gapped
    cdef char* other
    cdef const char* counted
    cdef bint is_deletion, has_best
    cdef Py_ssize_t pass_index, column, begin, end, left, right, gaps_before, index, column_reference, run
    cdef Py_ssize_t best_shift, best_distance, shift, position, span_end, distance, low, high, split, kept
    for pass_index in range(2):
        is_deletion = pass_index == 0
        gapped = read if is_deletion else reference
        other = reference if is_deletion else read
        memcpy(snapshot, gapped, length)
        # The reference row as it was when the pass began: unchanged in the deletion pass, the snapshot in the
        # insertion pass (the reference counts its gaps on that string).
        counted = reference if is_deletion else snapshot
        column = 0
        while column < length:
            if snapshot[column] != GAP:
                column += 1
                continue
            begin = column
            while column < length and snapshot[column] == GAP:
                column += 1
            end = column
            left = 0
            while (
                begin - left - 1 >= 0
                and gapped[begin - left - 1] != GAP
                and other[begin - left - 1] != GAP
                and other[begin - left - 1] == other[end - left - 1]
            ):
                left += 1
            right = 0
            while (
                end + right < length
                and gapped[end + right] != GAP
                and other[end + right] != GAP
                and other[begin + right] == other[end + right]
            ):
                right += 1
            if left == 0 and right == 0:
                continue
            gaps_before = 0
            for index in range(begin):
                if counted[index] == GAP:
                    gaps_before += 1
            column_reference = reference_start + begin - gaps_before
            run = end - begin
            best_shift = -left
            best_distance = 0
            has_best = False
            if cut_count:
                for shift in range(-left, right + 1):
                    position = column_reference + shift
                    span_end = position + run if is_deletion else position
                    distance = 2 * _distance_to_cuts(position, span_end, cuts, cut_count)
                    if not _is_cut(position, cuts, cut_count):
                        distance += 1
                    if not has_best or distance < best_distance:
                        best_shift, best_distance, has_best = shift, distance, True
            if best_shift == 0:
                continue
            low, high = begin - left, end + right
            kept = begin - low
            memcpy(moved, gapped + low, kept)
            memcpy(moved + kept, gapped + end, high - end)
            split = begin + best_shift - low
            memcpy(gapped + low, moved, split)
            memset(gapped + low + split, GAP, run)
            memcpy(gapped + low + split + run, moved + split, (high - low - run) - split)


cdef tuple _from_gapped(
    Py_ssize_t reference_length, const char* reference, const char* read, Py_ssize_t length, Py_ssize_t start,
    Py_ssize_t end,
):
    """Events and the projection of a gapped alignment of the covered span (see the reference)."""
    cdef list insertions = [], deletions = [], substitutions = []
    cdef Py_ssize_t column = 0, position = start, unmatched = 0, stop, index, reference_columns = 0, written
    cdef Py_ssize_t tail = max(0, reference_length - end)
    cdef char base
    for index in range(length):
        if reference[index] != GAP:
            reference_columns += 1
    cdef Py_ssize_t projection_length = start + reference_columns + tail
    cdef char* projection = <char*>malloc(projection_length + 1)
    if projection == NULL:
        raise MemoryError()
    try:
        memset(projection, UNCOVERED, start)
        written = start
        while column < length:
            if reference[column] == GAP:
                stop = column
                while stop < length and reference[stop] == GAP:
                    stop += 1
                insertions.append((position, read[column:stop].decode("ascii")))
            elif read[column] == GAP:
                stop = column
                while stop < length and read[stop] == GAP:
                    stop += 1
                deletions.append((position, stop - column))
                memset(projection + written, GAP, stop - column)
                written += stop - column
                position += stop - column
            else:
                stop = column
                while stop < length and reference[stop] != GAP and read[stop] != GAP:
                    base = read[stop]
                    if base == UNKNOWN:
                        unmatched += 1
                    elif base != reference[stop]:
                        substitutions.append((position + stop - column, _BASES[<unsigned char>base]))
                        unmatched += 1
                    projection[written] = base
                    written += 1
                    stop += 1
                position += stop - column
                column = stop
                continue
            unmatched += stop - column
            column = stop
        memset(projection + written, UNCOVERED, tail)
        identity = 100.0 * <double>(length - unmatched) / <double>length
        return identity, projection[:projection_length].decode("ascii"), tuple(insertions), tuple(deletions), tuple(substitutions)
    finally:
        free(projection)


def build_events(
    str reference, str read, object core, Py_ssize_t read_start, Py_ssize_t read_end, Py_ssize_t reference_start,
    Py_ssize_t reference_end, bint has_gap, object cut_boundaries,
):
    """Events, projection and identity of one alignment: ``core`` (CIGAR operations without terminal gaps)
    aligns read[read_start:read_end] to reference[reference_start:reference_end]; indels placed by the rule."""
    cdef bytes reference_bytes = reference.encode("ascii")
    cdef bytes read_bytes = read.encode("ascii")
    cdef const char* reference_chars = reference_bytes
    cdef const char* read_chars = read_bytes
    cdef Py_ssize_t code, size, position, column, mismatched, columns, length, cut_count, index
    cdef Py_ssize_t reference_position, read_position
    cdef list substitutions
    cdef char base
    if read_start < 0 or reference_start < 0 or read_end > len(read_bytes) or reference_end > len(reference_bytes):
        raise ValueError("alignment span outside the sequences")
    if not has_gap:
        if read_end - read_start != reference_end - reference_start:
            raise ValueError("ungapped alignment of unequal spans")
        substitutions = []
        mismatched = 0
        position = 0
        for code, size in core:
            if size < 0 or position + size > read_end - read_start:
                raise ValueError("CIGAR operations run past the aligned spans")
            if code == MISMATCH:
                mismatched += size
                for column in range(position, position + size):
                    base = read_chars[read_start + column]
                    if base != UNKNOWN:
                        substitutions.append((reference_start + column, _BASES[<unsigned char>base]))
            position += size
        columns = reference_end - reference_start
        identity = 100.0 * <double>(columns - mismatched) / <double>columns
        projection = "." * reference_start + read[read_start:read_end] + "." * (len(reference) - reference_end)
        return identity, projection, (), (), tuple(substitutions)
    length = 0
    for code, size in core:
        length += size
    cut_count = len(cut_boundaries)
    cdef char* buffer = <char*>malloc(4 * length + 4)
    cdef Py_ssize_t* cuts = <Py_ssize_t*>malloc((cut_count + 1) * sizeof(Py_ssize_t))
    if buffer == NULL or cuts == NULL:
        free(buffer)
        free(cuts)
        raise MemoryError()
    cdef char* reference_row = buffer
    cdef char* read_row = buffer + length + 1
    try:
        for index in range(cut_count):
            cuts[index] = cut_boundaries[index]
        reference_position, read_position, column = reference_start, read_start, 0
        for code, size in core:
            if size < 0 or (
                code != INSERTION and reference_position + size > reference_end
            ) or (code != DELETION and read_position + size > read_end):
                raise ValueError("CIGAR operations run past the aligned spans")
            if code == MATCH or code == MISMATCH:
                memcpy(reference_row + column, reference_chars + reference_position, size)
                memcpy(read_row + column, read_chars + read_position, size)
                reference_position += size
                read_position += size
            elif code == INSERTION:
                memset(reference_row + column, GAP, size)
                memcpy(read_row + column, read_chars + read_position, size)
                read_position += size
            else:
                memcpy(reference_row + column, reference_chars + reference_position, size)
                memset(read_row + column, GAP, size)
                reference_position += size
            column += size
        _place_indels(
            reference_row, read_row, length, reference_start, cuts, cut_count, buffer + 2 * length + 2,
            buffer + 3 * length + 3,
        )
        return _from_gapped(len(reference), reference_row, read_row, length, reference_start, reference_end)
    finally:
        free(buffer)
        free(cuts)


def describe_events(str reference, object insertions, object deletions, object substitutions):
    """All differences from the reference in 1-based HGVS-like notation, e.g. ``92_94del;95_96insAT;100C>T``."""
    cdef list events = []
    cdef Py_ssize_t start, length, position
    for start, length in deletions:
        label = f"{start + 1}del" if length == 1 else f"{start + 1}_{start + length}del"
        events.append((start, label))
    for position, bases in insertions:
        events.append((position, f"{position}_{position + 1}ins{bases}"))
    for position, base in substitutions:
        events.append((position, f"{position + 1}{reference[position]}>{base}"))
    events.sort()
    return ";".join([label for _, label in events])


# --- Quality masking (#13): a masked read's substitutions, for editcheck.classification.quality ------------------


def masked_substitution_parts(str projection, tuple substitutions, str events, tuple positions, str reference):
    """The parts of an alignment and call that change when the read's substitutions at reference ``positions``
    are masked to N: ``(projection, substitutions, events)`` with N at those positions of the projection, their
    substitutions left out and their labels (``{position + 1}{reference base}>{read base}``) left out of the
    ``;``-separated events.  The compiled form of
    :func:`editcheck.classification.quality.masked_substitution_parts`, with identical results."""
    return _substitution_parts(projection, substitutions, events, positions, reference)


cdef tuple _substitution_parts(str projection, tuple substitutions, str events, tuple positions, str reference):
    cdef Py_ssize_t count = len(positions), position, k
    cdef list kept
    cdef str label, item
    cdef tuple substituted
    cdef object labels
    if count == 1:
        position = positions[0]
        label = f"{position + 1}{reference[position]}>{projection[position]}"
        if events.find(label) >= 0:
            kept = []
            for item in events.split(";"):
                if item != label:
                    kept.append(item)
            events = ";".join(kept)
        kept = []
        for substituted in substitutions:
            if substituted[0] != position:
                kept.append(substituted)
        return projection[:position] + "N" + projection[position + 1 :], tuple(kept), events
    labels = set()
    for k in range(count):
        position = positions[k]
        labels.add(f"{position + 1}{reference[position]}>{projection[position]}")
    kept = []
    for item in events.split(";"):
        if item not in labels:
            kept.append(item)
    events = ";".join(kept)
    kept = []
    for substituted in substitutions:
        if substituted[0] not in positions:
            kept.append(substituted)
    masked = bytearray(projection, "ascii")
    for k in range(count):
        masked[<Py_ssize_t>positions[k]] = 78  # N
    return masked.decode("ascii"), tuple(kept), events
