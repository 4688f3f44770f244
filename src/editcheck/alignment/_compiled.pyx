# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The per-unique-read hot path compiled (Cython): the functions of :mod:`editcheck.alignment.events`, the
pure-Python reference implementation, with the same arguments and identical results.

Sequences are ASCII; they are walked as C characters.  Indel placement follows
:func:`editcheck.alignment.placement.place_indels` step by step on two character buffers: gap runs are
found on the gapped row as it was when its pass began, and each run moves within the stretch bounded by
its neighbours, exactly as the reference does with strings.  Built by ``pip install`` (setup.py); when it is
missing, :mod:`editcheck.alignment.hotpath` falls back to the reference.  Quality masking's kernels (at the
end) take plain values, not the classifier: their references are in :mod:`editcheck.classification.quality`
and :class:`editcheck.engine.masking.SitesWorker`, which chooses them.
"""

from libc.stdlib cimport free, malloc
from libc.string cimport memchr, memcmp, memcpy, memset

from editcheck.alignment._named cimport named_tuple

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


cdef extern from "string.h":
    void* memmem(const void* haystack, size_t haystack_length, const void* needle, size_t needle_length) nogil

from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_GET_LENGTH, PyUnicode_KIND

from editcheck.alignment import events as _reference


cdef inline bint _one_byte(str text):
    """True for a string of one byte per character (ASCII and Latin-1: its characters are bytes to compare)."""
    return PyUnicode_KIND(text) == 1


def signature_index(str read, object signatures):
    """The index of the only one of ``signatures`` that ``read`` contains; -1 when it contains none or several."""
    cdef Py_ssize_t found = -1, index = 0, read_length = PyUnicode_GET_LENGTH(read), length
    cdef const void* text = PyUnicode_1BYTE_DATA(read)
    cdef str signature
    if not _one_byte(read):
        return _reference.signature_index(read, signatures)
    for signature in signatures:
        length = PyUnicode_GET_LENGTH(signature)
        if not _one_byte(signature):
            return _reference.signature_index(read, signatures)
        if length == 0 or memmem(text, read_length, PyUnicode_1BYTE_DATA(signature), length) != NULL:
            if found >= 0:
                return -1
            found = index
        index += 1
    return found



cdef inline bint _starts_with(const char* text, Py_ssize_t length, const char* prefix, Py_ssize_t size) noexcept:
    return size <= length and memcmp(text, prefix, size) == 0


def anchor_clips(str read, str first_anchor, str last_anchor, Py_ssize_t anchor_length):
    """Where a read's overhang beyond the amplicon ends is cut off: ``(clip_left, clip_right, begin_free,
    end_free)`` (see the reference)."""
    if not (_one_byte(read) and _one_byte(first_anchor) and _one_byte(last_anchor)):
        return _reference.anchor_clips(read, first_anchor, last_anchor, anchor_length)
    cdef const char* text = <const char*>PyUnicode_1BYTE_DATA(read)
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(read), clip_left = 0, clip_right = length, found, size
    cdef int begin_free = 0, end_free = 0
    cdef const char* first = <const char*>PyUnicode_1BYTE_DATA(first_anchor)
    cdef const char* last = <const char*>PyUnicode_1BYTE_DATA(last_anchor)
    cdef const char* hit
    cdef const char* next_hit
    size = PyUnicode_GET_LENGTH(first_anchor)
    if not _starts_with(text, length, first, size):
        hit = <const char*>memmem(text, length, first, size)
        found = -1 if hit == NULL else hit - text
        if found > 0:
            clip_left = found
        else:
            begin_free = 1
    size = PyUnicode_GET_LENGTH(last_anchor)
    if not (size <= length and memcmp(text + length - size, last, size) == 0):
        # The last occurrence: str.rfind, by searching on past each occurrence found.
        hit = <const char*>memmem(text, length, last, size)
        while hit != NULL and hit + 1 - text <= length - size:
            next_hit = <const char*>memmem(hit + 1, length - (hit + 1 - text), last, size)
            if next_hit == NULL:
                break
            hit = next_hit
        found = -1 if hit == NULL else hit - text
        if found >= clip_left:
            clip_right = found + anchor_length
        else:
            end_free = 1
    return clip_left, clip_right, begin_free, end_free

cdef Py_ssize_t _lay_out(
    const char* sequence, Py_ssize_t sequence_length, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end,
    object insertions, object deletions, Py_ssize_t offset, char* out, Py_ssize_t capacity,
) except -2:
    """:func:`editcheck.alignment.events.laid_out` into ``out``: the characters written, or -1 when the events
    are not what an alignment gives (unsorted, overlapping, out of the read or the buffer; the reference then
    decides)."""
    cdef Py_ssize_t insertion_count = len(insertions), deletion_count = len(deletions), next_insertion = 0
    cdef Py_ssize_t next_deletion = 0, written, read = offset, position = start, at, size, piece
    cdef bint is_insertion
    cdef str bases
    if start < 0 or end < start or length < end or offset < 0 or start > capacity:
        return -1
    memset(out, UNCOVERED, start)
    written = start
    while next_insertion < insertion_count or next_deletion < deletion_count:
        # Merge by position, an insertion before a deletion at the same position (the reference's sort).
        if next_deletion >= deletion_count:
            is_insertion = True
        elif next_insertion >= insertion_count:
            is_insertion = False
        else:
            is_insertion = insertions[next_insertion][0] <= deletions[next_deletion][0]
        if is_insertion:
            at, bases = insertions[next_insertion]
            size = PyUnicode_GET_LENGTH(bases)
            next_insertion += 1
        else:
            at, size = deletions[next_deletion]
            next_deletion += 1
        if at < position or size <= 0:
            return -1  # unsorted or overlapping events: left to the reference
        piece = at - position
        if read + piece > sequence_length or written + piece > capacity:
            return -1
        memcpy(out + written, sequence + read, piece)
        written += piece
        read += piece
        position = at
        if is_insertion:
            read += size
        else:
            if written + size > capacity:
                return -1
            memset(out + written, GAP, size)
            written += size
            position += size
    piece = end - position
    if piece < 0 or read > sequence_length or written + piece + (length - end) > capacity:
        return -1
    piece = min(piece, sequence_length - read)  # the read may end before the span does (a shorter slice)
    memcpy(out + written, sequence + read, piece)
    written += piece
    memset(out + written, UNCOVERED, length - end)
    return written + length - end


def laid_out(
    str sequence, Py_ssize_t length, Py_ssize_t start, Py_ssize_t end, object insertions, object deletions,
    Py_ssize_t offset,
):
    """The projection of ``sequence`` read from base ``offset`` on, over the reference span [start, end) of a
    reference of ``length``: its bases in order, deletions as '-', inserted bases left out, '.' outside."""
    cdef Py_ssize_t capacity = length + 1, written
    if not _one_byte(sequence) or length < 0:
        return _reference.laid_out(sequence, length, start, end, insertions, deletions, offset)
    cdef char* buffer = <char*>malloc(capacity)
    if buffer == NULL:
        raise MemoryError()
    try:
        written = _lay_out(
            <const char*>PyUnicode_1BYTE_DATA(sequence), PyUnicode_GET_LENGTH(sequence), length, start, end,
            insertions, deletions, offset, buffer, capacity,
        )  # fmt: skip
        if written < 0:
            return _reference.laid_out(sequence, length, start, end, insertions, deletions, offset)
        return buffer[:written].decode("latin-1")
    finally:
        free(buffer)


def layout_offset(str sequence, str projection, Py_ssize_t start, Py_ssize_t end, object insertions, object deletions):
    """The read base ``offset`` (0 first, then the one that ends the span at the read's last base) from which
    :func:`laid_out` gives ``projection`` back; -1 when neither does."""
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(projection), consumed = end - start, sequence_length, written
    cdef Py_ssize_t candidate
    cdef Py_ssize_t offsets[2]
    cdef Py_ssize_t count = 1
    cdef str bases
    if not _one_byte(sequence) or not _one_byte(projection):
        return _reference.layout_offset(sequence, projection, start, end, insertions, deletions)
    for _, size in deletions:
        consumed -= size
    for _, bases in insertions:
        consumed += PyUnicode_GET_LENGTH(bases)
    sequence_length = PyUnicode_GET_LENGTH(sequence)
    offsets[0] = 0
    if sequence_length != consumed:
        offsets[1] = sequence_length - consumed
        count = 2
    cdef char* buffer = <char*>malloc(length + 1)
    if buffer == NULL:
        raise MemoryError()
    try:
        for candidate in range(count):
            if offsets[candidate] < 0:
                continue
            written = _lay_out(
                <const char*>PyUnicode_1BYTE_DATA(sequence), sequence_length, length, start, end, insertions,
                deletions, offsets[candidate], buffer, length + 1,
            )  # fmt: skip
            if written < 0:
                return _reference.layout_offset(sequence, projection, start, end, insertions, deletions)
            if written == length and memcmp(buffer, PyUnicode_1BYTE_DATA(projection), length) == 0:
                return offsets[candidate]
        return -1
    finally:
        free(buffer)


cdef extern from "Python.h":
    int PyFloat_Pack8(double value, char* out, int little_endian) except -1
    double PyFloat_Unpack8(const char* data, int little_endian) except? -1.0
    bint PyUnicode_IS_ASCII(object text)

from cpython.long cimport PyLong_FromLongLong
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_New, PyTuple_SET_ITEM
from cpython.ref cimport Py_INCREF
from libc.stdlib cimport realloc

from editcheck.alignment.packing import Unpackable
from marshal import dumps as _marshal_dumps

cdef enum:
    PACK_NONE = 0
    PACK_FALSE = 1
    PACK_TRUE = 2
    PACK_FLOAT = 3
    PACK_INT = 4
    PACK_STRING = 5
    PACK_TUPLE = 6
    PACK_SMALL_INT = 0x10
    PACK_SMALL_INTS = 0x70
    PACK_SHORT_STRING = 0x80
    PACK_SHORT = 0x40
    PACK_SHORT_TUPLE = 0xC0

cdef long long PACK_LARGEST_INT = (<long long>1) << 62


cdef struct _Out:
    unsigned char* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int _reserve(_Out* out, Py_ssize_t more) except -1:
    cdef Py_ssize_t capacity = out.capacity
    cdef unsigned char* grown
    if out.size + more <= capacity:
        return 0
    while capacity < out.size + more:
        capacity *= 2
    grown = <unsigned char*>realloc(out.data, capacity)
    if grown == NULL:
        raise MemoryError()
    out.data, out.capacity = grown, capacity
    return 0


cdef int _put_varint(_Out* out, unsigned long long number) except -1:
    _reserve(out, 10)
    while number >= 0x80:
        out.data[out.size] = (number & 0x7F) | 0x80
        out.size += 1
        number >>= 7
    out.data[out.size] = <unsigned char>number
    out.size += 1
    return 0


cdef int _put_sized(_Out* out, unsigned char short_tag, unsigned char long_tag, Py_ssize_t length) except -1:
    """The tag of a string or tuple of ``length`` items: ``short_tag + length`` in one byte when it fits
    (below PACK_SHORT), else ``long_tag`` and the length as a varint (room for one byte reserved already)."""
    if length < PACK_SHORT:
        out.data[out.size] = short_tag + length
        out.size += 1
    else:
        out.data[out.size] = long_tag
        out.size += 1
        _put_varint(out, length)
    return 0


cdef int _pack_value(object value, _Out* out) except -1:
    cdef Py_ssize_t length, index
    cdef long long number
    cdef int overflow
    _reserve(out, 10)
    if value is None:
        out.data[out.size] = PACK_NONE
        out.size += 1
    elif type(value) is bool:
        out.data[out.size] = PACK_TRUE if value is True else PACK_FALSE
        out.size += 1
    elif type(value) is int:
        number = PyLong_AsLongLongAndOverflow(value, &overflow)
        if overflow or not (-PACK_LARGEST_INT < number < PACK_LARGEST_INT):
            raise Unpackable(f"int out of range: {value}")
        if 0 <= number < PACK_SMALL_INTS:
            out.data[out.size] = PACK_SMALL_INT + number
            out.size += 1
        else:
            out.data[out.size] = PACK_INT
            out.size += 1
            _put_varint(out, <unsigned long long>(2 * number) if number >= 0 else <unsigned long long>(-2 * number - 1))
    elif type(value) is float:
        out.data[out.size] = PACK_FLOAT
        PyFloat_Pack8(<double>value, <char*>out.data + out.size + 1, 1)
        out.size += 9
    elif type(value) is str:
        if not PyUnicode_IS_ASCII(value):
            raise Unpackable("a string that is not ASCII")
        length = PyUnicode_GET_LENGTH(value)
        _put_sized(out, PACK_SHORT_STRING, PACK_STRING, length)
        _reserve(out, length)
        memcpy(out.data + out.size, PyUnicode_1BYTE_DATA(value), length)
        out.size += length
    elif type(value) is tuple:
        length = len(<tuple>value)
        _put_sized(out, PACK_SHORT_TUPLE, PACK_TUPLE, length)
        for index in range(length):
            _pack_value((<tuple>value)[index], out)
    else:
        raise Unpackable(f"a value of type {type(value).__name__}")
    return 0


cdef extern from "Python.h":
    long long PyLong_AsLongLongAndOverflow(object value, int* overflow) except? -1


def pack(object value):
    """``value`` (a tuple) packed (:mod:`editcheck.alignment.packing`); :class:`Unpackable` when it holds a value
    of another type."""
    cdef _Out out
    if type(value) is not tuple:
        raise Unpackable("only a tuple is packed")
    out.capacity = 256
    out.size = 0
    out.data = <unsigned char*>malloc(out.capacity)
    if out.data == NULL:
        raise MemoryError()
    try:
        _pack_value(value, &out)
        return (<char*>out.data)[:out.size]
    finally:
        free(out.data)


cdef Py_ssize_t _get_varint(const unsigned char* data, Py_ssize_t size, Py_ssize_t* position) except -1:
    cdef unsigned long long number = 0
    cdef int shift = 0
    cdef unsigned char byte
    while True:
        if position[0] >= size or shift > 63:
            raise ValueError("packed bytes cut short")
        byte = data[position[0]]
        position[0] += 1
        number |= (<unsigned long long>(byte & 0x7F)) << shift
        if byte < 0x80:
            if number >= (<unsigned long long>1) << 63:
                raise ValueError("not packed bytes: a varint out of range")
            return <Py_ssize_t>number
        shift += 7


from sys import intern as _intern


cdef inline bint _identifier(const unsigned char* text, Py_ssize_t length) noexcept:
    """``str.isidentifier`` of ASCII bytes: a letter or '_' first, then letters, digits or '_'."""
    cdef Py_ssize_t index
    cdef unsigned char character
    if length == 0 or (b"0"[0] <= text[0] <= b"9"[0]):
        return False
    for index in range(length):
        character = text[index]
        if not (
            b"a"[0] <= character <= b"z"[0] or b"A"[0] <= character <= b"Z"[0] or b"0"[0] <= character <= b"9"[0]
            or character == b"_"[0]
        ):  # fmt: skip
            return False
    return True


cdef object _unpack_value(const unsigned char* data, Py_ssize_t size, Py_ssize_t* position):
    cdef unsigned char tag
    cdef Py_ssize_t length, index
    cdef unsigned long long number
    cdef tuple items
    cdef object item
    cdef str text
    if position[0] >= size:
        raise ValueError("packed bytes cut short")
    tag = data[position[0]]
    position[0] += 1
    if tag >= PACK_SHORT_TUPLE or tag == PACK_TUPLE:
        length = _get_varint(data, size, position) if tag == PACK_TUPLE else tag - PACK_SHORT_TUPLE
        if length > size - position[0]:  # (each item takes a byte at least)
            raise ValueError("packed bytes cut short")
        items = PyTuple_New(length)
        for index in range(length):
            item = _unpack_value(data, size, position)
            Py_INCREF(item)
            PyTuple_SET_ITEM(items, index, item)
        return items
    if tag >= PACK_SHORT_STRING or tag == PACK_STRING:
        length = _get_varint(data, size, position) if tag == PACK_STRING else tag - PACK_SHORT_STRING
        if length > size - position[0]:
            raise ValueError("packed bytes cut short")
        position[0] += length
        text = (<const char*>data)[position[0] - length : position[0]].decode("ascii")
        return _intern(text) if _identifier(data + position[0] - length, length) else text
    if tag >= PACK_SMALL_INT:
        return PyLong_FromLongLong(tag - PACK_SMALL_INT)
    if tag == PACK_INT:
        number = <unsigned long long>_get_varint(data, size, position)
        return PyLong_FromLongLong(<long long>(number >> 1) if not number & 1 else -<long long>((number + 1) >> 1))
    if tag == PACK_FLOAT:
        if position[0] + 8 > size:
            raise ValueError("packed bytes cut short")
        position[0] += 8
        return PyFloat_Unpack8(<const char*>data + position[0] - 8, 1)
    if tag == PACK_NONE:
        return None
    if tag == PACK_FALSE:
        return False
    if tag == PACK_TRUE:
        return True
    raise ValueError(f"not packed bytes: tag {tag:#x} at byte {position[0] - 1}")


def unpack(bytes data):
    """The value :func:`pack` packed into ``data``."""
    cdef Py_ssize_t position = 0
    value = _unpack_value(<const unsigned char*>(<char*>data), len(data), &position)
    if position != len(data):
        raise ValueError("packed bytes with trailing data")
    return value


DEF _PROJECTION = 6  # AlignedRead's fields (checked by the caller): ..., start, end, projection, insertions, deletions


cdef class ResultDecoder:
    """:func:`editcheck.engine.workers.python_decode_result` compiled (its reference, with equal results of the
    same types): a unique read's result as :func:`editcheck.engine.workers.encode_result` packed it, unpacked and
    rebuilt as named tuples in one call, the projection laid out again from the read where it was left out.
    Bytes in another format (``marshal``'s: not one of ``tags``) go to ``fallback``, the reference."""

    cdef dict statuses
    cdef object pooled, classified, aligned_type, call_type, fallback
    cdef frozenset tags

    def __init__(
        self, dict statuses, object pooled, object classified, object aligned_type, object call_type,
        frozenset tags, object fallback,
    ):
        if aligned_type._fields[_PROJECTION] != "projection" or aligned_type._fields[_PROJECTION - 2] != "start":
            raise ValueError("an alignment type with other fields than the decoder's")
        self.statuses, self.pooled, self.classified = statuses, pooled, classified
        self.aligned_type, self.call_type, self.tags, self.fallback = aligned_type, call_type, tags, fallback

    def __call__(self, str sequence, bytes encoded):
        cdef Py_ssize_t position = 0, size = len(encoded)
        if size == 0 or encoded[0] not in self.tags:
            return self.fallback(sequence, encoded)
        value = _unpack_value(<const unsigned char*>(<char*>encoded), size, &position)
        if position != size:
            raise ValueError("packed bytes with trailing data")
        cdef tuple packed = <tuple?>value
        if len(packed) == 4:
            call = packed[3]
            return named_tuple(self.pooled, (
                self.statuses[packed[0]], packed[1], self._aligned(sequence, packed[2]),
                None if call is None else named_tuple(self.call_type, call),
            ))  # fmt: skip
        if len(packed) != 2:
            raise ValueError(f"a packed result of {len(packed)} values")
        return named_tuple(
            self.classified, (self._aligned(sequence, packed[0]), named_tuple(self.call_type, packed[1]))
        )

    cdef object _aligned(self, str sequence, object aligned):
        if aligned is None:
            return None
        cdef tuple fields = <tuple?>aligned
        cdef Py_ssize_t count = len(fields)
        if count <= _PROJECTION + 2:
            raise ValueError("a packed alignment with too few values")
        projection = fields[_PROJECTION]
        if projection is None:
            projection = sequence
        elif type(projection) is tuple:
            offset, length = projection
            projection = laid_out(
                sequence, length, fields[_PROJECTION - 2], fields[_PROJECTION - 1], fields[_PROJECTION + 1],
                fields[_PROJECTION + 2], offset,
            )  # fmt: skip
        else:
            return named_tuple(self.aligned_type, fields)
        return named_tuple(self.aligned_type, _replaced(fields, _PROJECTION, projection, -1, None))


# --- Quality masking (#13): a masked read's substitutions, for editcheck.classification.quality ------------------


def masked_substitution_parts(str projection, tuple substitutions, str events, tuple positions, str reference):
    """The parts of an alignment and call that change when the read's substitutions at reference ``positions``
    are masked to N: ``(projection, substitutions, events)`` with N at those positions of the projection, their
    substitutions left out and their labels (``{position + 1}{reference base}>{read base}``) left out of the
    ``;``-separated events.  The compiled form of
    :func:`editcheck.classification.quality.masked_substitution_parts`, with identical results."""
    return _substitution_parts(projection, substitutions, events, positions, reference)


cdef class SubstitutionMasker:
    """:func:`editcheck.classification.quality.python_masked_substitutions` compiled (equal results of the same
    types): ``masker(aligned, call, positions, reference)`` gives the masked alignment and call, built as the
    named tuples ``aligned_type`` and ``call_type`` (whose projection, substitutions and events are fields
    ``projection_at``, ``substitutions_at`` and ``events_at``) from the parts of :func:`masked_substitution_parts`."""

    cdef object aligned_type, call_type
    cdef Py_ssize_t projection_at, substitutions_at, events_at

    def __init__(
        self, object aligned_type, object call_type, Py_ssize_t projection_at, Py_ssize_t substitutions_at,
        Py_ssize_t events_at,
    ):
        self.aligned_type, self.call_type = aligned_type, call_type
        self.projection_at, self.substitutions_at, self.events_at = projection_at, substitutions_at, events_at

    def __call__(self, object aligned, object call, tuple positions, str reference):
        if not (isinstance(aligned, tuple) and isinstance(call, tuple)):
            raise TypeError("an alignment and a call (named tuples) to mask")
        cdef tuple parts = _substitution_parts(
            aligned[self.projection_at], aligned[self.substitutions_at], call[self.events_at], positions, reference
        )
        return (
            named_tuple(self.aligned_type, _replaced(aligned, self.projection_at, parts[0], self.substitutions_at,
                                                    parts[1])),
            named_tuple(self.call_type, _replaced(call, self.events_at, parts[2], -1, None)),
        )


DEF _MOST_MASKED = 64  # masked positions taken on the C path (more: the general code below)


cdef class AlignmentMasker:
    """:func:`editcheck.classification.quality.python_masked_alignment` compiled (equal results of the same
    types): ``masker(aligned, sites)`` gives ``aligned`` (the named tuple ``aligned_type``, whose projection,
    insertions and substitutions are fields ``projection_at``, ``insertions_at`` and ``substitutions_at``) with N
    at the quality ``sites`` given, ``(read position, reference position, inserted-base index)`` each: N in the
    projection at an aligned base's reference position (and its substitution left out), N at the inserted base.
    Sites it does not take on its C path (more than :data:`_MOST_MASKED`, a position outside the projection or
    an insertion, text that is not ASCII) go to ``reference`` (the pure-Python function), which also raises as
    it does."""

    cdef object aligned_type, reference
    cdef Py_ssize_t projection_at, insertions_at, substitutions_at

    def __init__(
        self, object aligned_type, Py_ssize_t projection_at, Py_ssize_t insertions_at, Py_ssize_t substitutions_at,
        object reference,
    ):
        self.aligned_type, self.reference = aligned_type, reference
        self.projection_at, self.insertions_at, self.substitutions_at = projection_at, insertions_at, substitutions_at

    def __call__(self, object aligned, object sites):
        if not isinstance(aligned, tuple) or type(sites) not in (tuple, list):
            return self.reference(aligned, sites)
        cdef Py_ssize_t count = len(sites), k, j, spot, at_reference = 0, in_insertions = 0
        cdef Py_ssize_t spots[_MOST_MASKED]
        cdef object site, position, index, projection, insertions, substitutions, masked, item
        cdef unsigned char* out
        cdef list kept
        if count > _MOST_MASKED:
            return self.reference(aligned, sites)
        for site in sites:
            if type(site) is not tuple or PyTuple_GET_SIZE(site) != 3:
                return self.reference(aligned, sites)
            position = <object>PyTuple_GET_ITEM(site, 1)
            index = <object>PyTuple_GET_ITEM(site, 2)
            if type(position) is not int or type(index) is not int:
                return self.reference(aligned, sites)
            if index >= 0:
                in_insertions += 1
                continue
            spot = position
            for k in range(at_reference):  # (a set in the reference: one N per position)
                if spots[k] == spot:
                    break
            else:
                spots[at_reference] = spot
                at_reference += 1
        projection = aligned[self.projection_at]
        insertions = aligned[self.insertions_at]
        substitutions = aligned[self.substitutions_at]
        if type(projection) is not str or not PyUnicode_IS_ASCII(projection):
            return self.reference(aligned, sites)
        for k in range(at_reference):
            if spots[k] < 0 or spots[k] >= PyUnicode_GET_LENGTH(projection):
                return self.reference(aligned, sites)
        if in_insertions:
            insertions = _masked_insertions(insertions, sites)
            if insertions is None:
                return self.reference(aligned, sites)
        if at_reference:
            masked = PyUnicode_New(PyUnicode_GET_LENGTH(projection), 127)
            out = PyUnicode_1BYTE_DATA(masked)
            memcpy(out, PyUnicode_1BYTE_DATA(projection), PyUnicode_GET_LENGTH(projection))
            for k in range(at_reference):
                out[spots[k]] = b"N"
            projection = masked
            if substitutions:
                kept = []
                for item in substitutions:
                    position = item[0]
                    if type(position) is not int:
                        return self.reference(aligned, sites)
                    spot = position
                    for j in range(at_reference):
                        if spots[j] == spot:
                            break
                    else:
                        kept.append(item)
                substitutions = tuple(kept)
        return named_tuple(self.aligned_type, _replaced(
            aligned, self.projection_at, projection, self.insertions_at, insertions, self.substitutions_at,
            substitutions,
        ))  # fmt: skip


cdef object _masked_insertions(object insertions, object sites):
    """The insertions ``((position, bases), ...)`` with N at the inserted bases of ``sites`` (those with an
    inserted-base index), each pair a new tuple as the reference makes them; None where the reference must
    decide (an index outside its bases, text that is not ASCII, a site at no insertion's position is fine)."""
    cdef list pairs = []
    cdef object pair, position, bases, site, masked
    cdef Py_ssize_t length, index
    cdef unsigned char* out
    cdef bint touched
    for pair in insertions:
        if type(pair) is not tuple or PyTuple_GET_SIZE(pair) != 2:
            return None
        position = <object>PyTuple_GET_ITEM(pair, 0)
        bases = <object>PyTuple_GET_ITEM(pair, 1)
        if type(bases) is not str or not PyUnicode_IS_ASCII(bases):
            return None
        touched = False
        masked = bases
        for site in sites:
            if <object>PyTuple_GET_ITEM(site, 2) < 0 or <object>PyTuple_GET_ITEM(site, 1) != position:
                continue
            index = <object>PyTuple_GET_ITEM(site, 2)
            length = PyUnicode_GET_LENGTH(bases)
            if index >= length:
                return None
            if not touched:
                masked = PyUnicode_New(length, 127)
                memcpy(PyUnicode_1BYTE_DATA(masked), PyUnicode_1BYTE_DATA(bases), length)
                touched = True
            out = PyUnicode_1BYTE_DATA(masked)
            out[index] = b"N"
        pairs.append((position, masked))
    return tuple(pairs)


cdef tuple _replaced(
    object fields, Py_ssize_t first_at, object first, Py_ssize_t second_at, object second,
    Py_ssize_t third_at=-1, object third=None,
):
    """The items of ``fields`` (a tuple, or a named one) with item ``first_at`` replaced by ``first``, item
    ``second_at`` (-1: none) by ``second`` and item ``third_at`` (-1: none) by ``third``."""
    cdef Py_ssize_t count = PyTuple_GET_SIZE(fields), k
    cdef tuple replaced = PyTuple_New(count)
    cdef object item
    for k in range(count):
        if k == first_at:
            item = first
        elif k == second_at:
            item = second
        elif k == third_at:
            item = third
        else:
            item = <object>PyTuple_GET_ITEM(fields, k)
        Py_INCREF(item)
        PyTuple_SET_ITEM(replaced, k, item)
    return replaced


cdef tuple _substitution_parts(str projection, tuple substitutions, str events, tuple positions, str reference):
    """:func:`masked_substitution_parts`: on C characters (:func:`_usual_parts`, as the workers' masked reads are
    made) for ASCII text and up to :data:`_MOST_MASKED` int positions inside both sequences (nearly every masked
    read), the general code otherwise (which also raises as the reference does for a position outside them)."""
    cdef Py_ssize_t count = PyTuple_GET_SIZE(positions), k
    cdef Py_ssize_t spots[_MOST_MASKED]
    cdef object item, parts
    if count <= _MOST_MASKED:
        for k in range(count):
            item = <object>PyTuple_GET_ITEM(positions, k)
            if type(item) is not int:
                break
            spots[k] = item
        else:
            parts = _usual_parts(projection, substitutions, events, spots, count, reference)
            if parts is not None:
                return <tuple>parts
    return _general_substitution_parts(projection, substitutions, events, positions, reference)


cdef tuple _general_substitution_parts(
    str projection, tuple substitutions, str events, tuple positions, str reference
):
    cdef Py_ssize_t count = len(positions), position, k
    cdef list characters
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
    characters = list(projection)  # (any text: the ASCII text took the C path)
    for k in range(count):
        characters[<Py_ssize_t>positions[k]] = "N"
    return "".join(characters), tuple(kept), events


# --- Quality masking (#13): a unique read's quality sites and its masked reads, for editcheck.engine.masking -----


cdef enum:
    FEW_SITES = 32  # sites held on the stack (a read usually has 1-8: the donor's, an error)
    FEW_MARKS = 1024  # a read's span marked on the stack (longer spans: on the heap)


cdef struct _Sites:
    Py_ssize_t count
    Py_ssize_t* read  # each site's read position, ascending
    Py_ssize_t* reference  # its reference position
    Py_ssize_t* inserted  # its index among an insertion's bases, or -1 for an aligned base
    bint heap
    Py_ssize_t few[3 * FEW_SITES]


cdef int _sites_hold(_Sites* sites, Py_ssize_t count) except -1:
    """Room for ``count`` sites (on the stack for a few; free it with :func:`_sites_free`)."""
    sites.count = count
    sites.heap = count > FEW_SITES
    if sites.heap:
        sites.read = <Py_ssize_t*>malloc(3 * count * sizeof(Py_ssize_t))
        if sites.read == NULL:
            sites.heap = False
            raise MemoryError()
    else:
        sites.read = sites.few
    sites.reference = sites.read + count
    sites.inserted = sites.read + 2 * count
    return 0


cdef void _sites_free(_Sites* sites) noexcept:
    if sites.heap:
        free(sites.read)
        sites.heap = False


cdef int _sites_given(_Sites* sites, tuple given) except -1:
    """``given`` (quality sites as tuples ``(read position, reference position, inserted index)``) held."""
    cdef Py_ssize_t k
    cdef tuple site
    _sites_hold(sites, len(given))
    for k in range(sites.count):
        site = given[k]
        sites.read[k] = site[0]
        sites.reference[k] = site[1]
        sites.inserted[k] = site[2]
    return 0


cdef int _sites_found(
    _Sites* sites, Py_ssize_t length, bint reverse, Py_ssize_t start, Py_ssize_t end, str projection,
    tuple insertions, tuple deletions, tuple substitutions, bytes decisive,
) except -1:
    """The quality sites of a read whose aligned bases are all its bases, held in ``sites`` (1); 0 where this
    does not apply (see :func:`quality_sites_of`), nothing held.  The few decisive positions and marked sites
    are found with ``memchr`` (a read has ~5 of ~250 positions), the marks on the stack for a read's span."""
    cdef Py_ssize_t span = end - start, position, read, count = 0, k, limit, covered, at, begin, size
    cdef const unsigned char* flags_of = decisive
    cdef const unsigned char* bases
    cdef const unsigned char* found_at
    cdef unsigned char* marked
    cdef unsigned char few_marked[FEW_MARKS]
    cdef unsigned char base
    cdef tuple inserted_at, deleted, site
    cdef object substituted
    cdef str inserted
    cdef list found
    covered = span
    for inserted_at in insertions:
        covered += len(<str>inserted_at[1])
    for deleted in deletions:
        covered -= <Py_ssize_t>deleted[1]
    if covered != length or span <= 0 or not _one_byte(projection) or PyUnicode_GET_LENGTH(projection) < end:
        return 0
    if span <= FEW_MARKS:
        marked = few_marked
    else:
        marked = <unsigned char*>malloc(span)
    if marked == NULL:
        raise MemoryError()
    try:
        memset(marked, 0, span)
        for substituted in substitutions:
            position = substituted[0]
            if position < start or position >= end:
                return 0
            if not marked[position - start]:
                marked[position - start] = 1
                count += 1
        bases = PyUnicode_1BYTE_DATA(projection)
        limit = min(end, len(decisive))
        position = start
        while position < limit:  # each decisive position (flag not 0; the flags are 0 or 1)
            found_at = <const unsigned char*>memchr(flags_of + position, 1, limit - position)
            if found_at == NULL:
                break
            position = found_at - flags_of
            if not marked[position - start]:
                base = bases[position]
                if base != b"-" and base != b"." and base != b"N":
                    marked[position - start] = 1
                    count += 1
            position += 1
        if not insertions and not deletions:  # most reads: read and reference in step, no sort needed
            _sites_hold(sites, count)
            if reverse:  # read position length - 1 - (position - start): descending reference positions
                k = count
                position = 0
                while k > 0:
                    found_at = <const unsigned char*>memchr(marked + position, 1, span - position)
                    position = found_at - marked
                    k -= 1
                    sites.read[k] = length - 1 - position
                    sites.reference[k] = start + position
                    sites.inserted[k] = -1
                    position += 1
            else:
                k = 0
                position = 0
                while k < count:
                    found_at = <const unsigned char*>memchr(marked + position, 1, span - position)
                    position = found_at - marked
                    sites.read[k] = position
                    sites.reference[k] = start + position
                    sites.inserted[k] = -1
                    k += 1
                    position += 1
            return 1
        # As the reference: each site's read position is its reference position shifted by the inserted bases
        # before it (at or before it for an aligned base) and the deleted bases before it.
        found = []
        for position in range(start, end):
            if marked[position - start]:
                read = position - start
                for inserted_at in insertions:
                    at = inserted_at[0]
                    if start <= at <= position:
                        read += len(<str>inserted_at[1])
                for deleted in deletions:
                    begin, size = deleted
                    if begin < position:
                        read -= min(size, position - begin)
                found.append((read, position, -1))
        for inserted_at in insertions:
            position = inserted_at[0]
            inserted = inserted_at[1]
            read = position - start
            for other in insertions:
                at = other[0]
                if start <= at < position:
                    read += len(<str>other[1])
            for deleted in deletions:
                begin, size = deleted
                if begin < position:
                    read -= min(size, position - begin)
            for k in range(len(inserted)):
                if inserted[k] != "N":
                    found.append((read + k, position, k))
        if reverse:
            found = [(length - 1 - site[0], site[1], site[2]) for site in found]
        found.sort()
        _sites_given(sites, tuple(found))
        return 1
    finally:
        if span > FEW_MARKS:
            free(marked)


cdef tuple _site_tuples(_Sites* sites):
    """The held sites as :func:`quality_sites_of` gives them."""
    cdef tuple made = PyTuple_New(sites.count), site
    cdef Py_ssize_t k
    for k in range(sites.count):
        site = (sites.read[k], sites.reference[k], sites.inserted[k])
        Py_INCREF(site)
        PyTuple_SET_ITEM(made, k, site)
    return made


cdef tuple _site_positions(_Sites* sites):
    """The held sites' read positions."""
    cdef tuple positions = PyTuple_New(sites.count)
    cdef Py_ssize_t k
    cdef object number
    for k in range(sites.count):
        number = sites.read[k]
        Py_INCREF(number)
        PyTuple_SET_ITEM(positions, k, number)
    return positions


def quality_sites_of(
    Py_ssize_t length, bint reverse, Py_ssize_t start, Py_ssize_t end, str projection, tuple insertions,
    tuple deletions, tuple substitutions, bytes decisive,
):
    """The quality sites of a read of ``length`` bases whose aligned bases are all its bases (reference
    ``start``..``end``, ``reverse``, its ``projection``, ``insertions``, ``deletions`` and ``substitutions``),
    and their read positions: ``(sites, read positions)``, as
    :func:`editcheck.classification.quality.quality_sites` gives the sites (sorted by read position), with the
    reference positions whose ``decisive`` byte is 1 (one byte per reference position, 0 or 1) as its
    ``decisive``.  None where this does not apply (an overhang clipped, so that the aligned bases must be
    found in the read; a substitution outside the span; a projection that is not one byte per character):
    the caller then runs the reference."""
    cdef _Sites sites
    sites.heap = False
    try:
        if not _sites_found(
            &sites, length, reverse, start, end, projection, insertions, deletions, substitutions, decisive
        ):  # fmt: skip
            return None
        return _site_tuples(&sites), _site_positions(&sites)
    finally:
        _sites_free(&sites)


def masked_reads_of(
    Py_ssize_t length, object aligned, object call, object lows, bytes decisive, Py_ssize_t events_index,
    bytes blocked, str reference, object status_value, object amplicon, bint substitutable, dict shared,
    object find_sites, object fallback, object context, bint keyed=True,
):
    """A called unique read's quality sites and masked reads, in one call: ``(site read positions, masked
    reads)``.  The sites as :func:`quality_sites_of` finds them from ``aligned`` (the read's alignment, a tuple
    in :class:`~editcheck.alignment.aligner.AlignedRead`'s field order; ``length`` its read's length;
    ``decisive`` one byte per reference position), held in C (no tuple per site unless a mask needs
    ``fallback``); where that does not apply, ``find_sites(context)`` gives them (tuples as it gives them).  The
    masked reads as :meth:`editcheck.engine.masking.SitesWorker.masked` gives them (its pure-Python reference,
    with identical results).

    For each ``(low, reads)`` of ``lows``: the mask (``low``'s positions among the sites' read positions, in
    ``low``'s order; none: skipped), its reads summed over equal masks, and for each distinct mask six fields
    ``mask, reads, key, made, amplicon, reference`` one after the other in one flat tuple.  The usual mask (the
    design is ``substitutable``, i.e. no prime edit, and the call has events; every masked site an aligned base
    whose reference position is not ``blocked``, i.e. outside the window and not decisive) is made here:
    ``made`` its reference positions in the sites' order, ``key`` the hash of ``(status_value, amplicon, masked
    alignment, masked call)`` as plain tuples (the hash of the named tuples
    :func:`editcheck.engine.masking.masked_key` hashes), the alignment and call masked as
    :func:`masked_substitution_parts` masks them on ``reference``; any other mask by ``fallback(context, sites,
    mask) -> (made, key)``, ``sites`` as :func:`quality_sites_of` gives them.  Without ``keyed`` (a run that
    merges no masked reads alike) a usual mask's key is None, not worked out.  One-position masks and positions
    are taken from ``shared`` (one tuple per position)."""
    return _sites_and_masks(
        length, aligned, call, lows, decisive, events_index, blocked, reference, status_value, amplicon, substitutable,
        shared, find_sites, fallback, context, keyed,
    )  # fmt: skip


cdef tuple _sites_and_masks(
    Py_ssize_t length, object aligned, object call, object lows, bytes decisive, Py_ssize_t events_index,
    bytes blocked, str reference, object status_value, object amplicon, bint substitutable, dict shared,
    object find_sites, object fallback, object context, bint keyed,
):
    """:func:`masked_reads_of` (callable from C: :class:`ChunkRunner`)."""
    cdef _Sites sites
    cdef object given = None
    cdef tuple read_aligned = <tuple>aligned
    sites.heap = False
    try:
        if not _sites_found(
            &sites, length, read_aligned[2], read_aligned[4], read_aligned[5], read_aligned[6], read_aligned[7],
            read_aligned[8], read_aligned[9], decisive,
        ):  # fmt: skip
            given = tuple(find_sites(context))
            _sites_given(&sites, given)
        if sites.count == 0:
            return (), ()
        positions = _site_positions(&sites)
        if not lows:
            return positions, ()
        return positions, _masked_reads(
            &sites, given, lows, read_aligned, call, events_index, blocked, reference, status_value, amplicon,
            substitutable and bool((<tuple>call)[events_index]), shared, fallback, context, keyed,
        )  # fmt: skip
    finally:
        _sites_free(&sites)


cdef tuple _masked_reads(
    _Sites* sites, object given, object lows, tuple aligned, object call, Py_ssize_t events_index, bytes blocked,
    str reference, object status_value, object amplicon, bint substitutable, dict shared, object fallback,
    object context, bint keyed,
):
    """:func:`masked_reads_of`'s masked reads of the held ``sites`` (``given``: those sites as tuples, or None:
    made for ``fallback`` when it is first needed)."""
    cdef Py_ssize_t count = sites.count, k, j, position, size, chosen_count, low_count
    cdef const Py_ssize_t* site_read = sites.read
    cdef const Py_ssize_t* site_reference = sites.reference
    cdef const Py_ssize_t* site_inserted = sites.inserted
    cdef Py_ssize_t* chosen = NULL
    cdef char* in_mask = NULL
    cdef const unsigned char* blocked_of = blocked
    cdef Py_ssize_t blocked_length = len(blocked)
    cdef list done = []
    cdef tuple mask, made_positions, low
    cdef bint usual
    cdef object reads, made, key, number, entry
    cdef object reference_index = aligned[0]
    cdef Py_ssize_t few_chosen[FEW_SITES]
    cdef char few_in_mask[FEW_SITES]
    cdef bint heap = count > FEW_SITES
    if heap:
        chosen = <Py_ssize_t*>malloc(count * sizeof(Py_ssize_t))
        in_mask = <char*>malloc(count)
    else:  # (a read's few sites: on the stack)
        chosen, in_mask = few_chosen, few_in_mask
    try:
        if chosen == NULL or in_mask == NULL:
            raise MemoryError()
        for entry in lows:
            low, reads = entry
            # The mask: low's positions that are sites' read positions, in low's order (a site's read position
            # is found once: they differ from site to site).
            memset(in_mask, 0, count)
            size = 0
            low_count = len(low)
            for k in range(low_count):
                position = low[k]
                for j in range(count):
                    if site_read[j] == position:
                        in_mask[j] = 1
                        size += 1
                        break
            if size == 0:
                continue
            mask = PyTuple_New(size)
            j = 0
            for k in range(low_count):
                number = low[k]
                position = number
                for chosen_count in range(count):
                    if site_read[chosen_count] == position:
                        Py_INCREF(number)
                        PyTuple_SET_ITEM(mask, j, number)
                        j += 1
                        break
            for k in range(0, len(done), 6):
                if done[k] == mask:
                    done[k + 1] = done[k + 1] + reads
                    break
            else:
                usual = substitutable
                chosen_count = 0
                if usual:  # every masked site (in the sites' order) an aligned base outside the blocked positions
                    for j in range(count):
                        if in_mask[j]:
                            position = site_reference[j]
                            if site_inserted[j] >= 0 or position < 0 or position >= blocked_length or blocked_of[position]:
                                usual = False
                                break
                            chosen[chosen_count] = position
                            chosen_count += 1
                if usual:
                    made_positions = PyTuple_New(chosen_count)
                    for j in range(chosen_count):
                        number = chosen[j]
                        Py_INCREF(number)
                        PyTuple_SET_ITEM(made_positions, j, number)
                    key = _usual_key(
                        aligned, call, events_index, chosen, chosen_count, made_positions, reference, status_value,
                        amplicon,
                    ) if keyed else None  # fmt: skip
                    made = made_positions
                else:
                    if given is None:
                        given = _site_tuples(sites)
                    made, key = fallback(context, given, mask)
                if size == 1:
                    mask = shared.setdefault(mask, mask)
                if type(made) is tuple and len(<tuple>made) == 1:
                    made = shared.setdefault(made, made)
                done += (mask, reads, key, made, amplicon, reference_index)
        return tuple(done)
    finally:
        if heap:
            free(chosen)
            free(in_mask)


cdef inline object _masked_key(object status_value, object amplicon, object aligned, object call):
    """``editcheck.engine.masking.masked_key`` of a masked result given by its parts: the hash of ``(status's value,
    amplicon, masked alignment, masked call)`` (plain tuples or the named tuples: their hashes are equal)."""
    return hash((status_value, amplicon, aligned, call))


cdef class OtherMasks:
    """``editcheck.engine.masking._made_otherwise`` compiled (equal results), the ``fallback`` that
    :func:`masked_reads_of` and :class:`ChunkRunner` are given for a mask that is not the usual one:
    ``other(context, sites, mask) -> (made, key)``, ``context`` as ``MaskingKernel`` makes it (``(classifier,
    result, decisive, references, sequence, keyed, encoded)``).  The masked alignment is ``masker(aligned, the
    masked sites)`` (the compiled ``masked_alignment``), its call ``classifier.classify`` of it, as
    ``masked_read`` makes them for a mask that is not the usual one; the result the named tuple ``pooled_type``,
    encoded (``encode_result``'s bytes, for the sequence ``masked_sequence`` gives) when ``encoded``, and its key
    the hash ``masked_key`` gives when ``keyed``.  No Python frame per mask (the reference's four calls:
    ``_made_otherwise``, ``_masked_made``, ``masked_read``, ``substitution_positions``)."""

    cdef object masker, pooled_type, masked_sequence

    def __init__(self, object masker, object pooled_type, object masked_sequence):
        self.masker, self.pooled_type, self.masked_sequence = masker, pooled_type, masked_sequence

    def __call__(self, tuple context, object sites, tuple mask):
        cdef object classifier = context[0], sequence = context[4], status, amplicon, aligned, masked, call, key
        cdef tuple result = <tuple>context[1]
        cdef list chosen
        cdef object site, only, status_value
        cdef set positions
        status, amplicon, aligned = result[0], result[1], result[2]
        if len(mask) == 1:
            only = mask[0]
            chosen = [site for site in sites if (<tuple>site)[0] == only]
        else:
            positions = set(mask)
            chosen = [site for site in sites if (<tuple>site)[0] in positions]
        masked = self.masker(aligned, chosen)
        call = classifier.classify(masked)
        status_value = status.value
        key = _masked_key(status_value, amplicon, masked, call) if context[5] else None
        if context[6]:
            return _encoded_pooled(self.masked_sequence(sequence, mask), status_value, amplicon, masked, call), key
        return named_tuple(self.pooled_type, (status, amplicon, masked, call)), key


cdef object _usual_key(
    object aligned, object call, Py_ssize_t events_index, const Py_ssize_t* positions, Py_ssize_t count,
    tuple made_positions, str reference, object status_value, object amplicon,
):
    """The hash of the usual mask's masked result: ``(status_value, amplicon, aligned, call)`` with N at reference
    ``positions`` of the projection, their substitutions and event labels left out (as plain tuples: the hash of
    the named tuples is the same)."""
    cdef tuple read_aligned = <tuple>aligned, read_call = <tuple>call, parts
    parts = _usual_parts(read_aligned[6], read_aligned[9], read_call[events_index], positions, count, reference)
    if parts is None:  # (not ASCII, or a position beyond the projection: as the reference does it)
        parts = _general_substitution_parts(
            read_aligned[6], read_aligned[9], read_call[events_index], made_positions, reference
        )
    return _masked_key(
        status_value, amplicon, _replaced(read_aligned, 6, parts[0], 9, parts[1]),
        _replaced(read_call, events_index, parts[2], -1, None),
    )  # fmt: skip


cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)

cdef Py_ssize_t _substitution_label(char* out, Py_ssize_t position, unsigned char was, unsigned char read) noexcept:
    """Write ``{position + 1}{was}>{read}`` (a substitution's label, :func:`describe_events`' form) at ``out``
    (room for 24 characters; ``position`` >= 0), its length returned: printf's parsing of a format cost more than
    the label (10M reads at Q20: ~50 ms of the main process)."""
    cdef char digits[20]
    cdef Py_ssize_t count = 0, k
    cdef size_t number = <size_t>position + 1
    while True:
        digits[count] = <char>(48 + number % 10)
        count += 1
        number //= 10
        if number == 0:
            break
    for k in range(count):
        out[k] = digits[count - 1 - k]
    out[count] = <char>was
    out[count + 1] = b">"
    out[count + 2] = <char>read
    return count + 3


cdef object _usual_parts(
    str projection, tuple substitutions, str events, const Py_ssize_t* positions, Py_ssize_t count, str reference
):
    """:func:`masked_substitution_parts` in C for ASCII strings: ``(projection, substitutions, events)`` (the
    given objects where nothing is left out); None where it does not apply."""
    cdef Py_ssize_t length, k, j, begin, end, events_length, written = 0, removed = 0, label_size, position
    cdef const unsigned char* projection_of
    cdef const unsigned char* reference_of
    cdef const unsigned char* events_of
    cdef unsigned char* out
    cdef char* labels = NULL
    cdef Py_ssize_t* label_lengths = NULL
    cdef bint matched, first = True, heap = False
    cdef char few_labels[8 * 48]
    cdef Py_ssize_t few_lengths[8]
    cdef unsigned char few_out[512]
    cdef object masked, kept_events, substituted
    cdef list kept
    if not (PyUnicode_IS_ASCII(projection) and PyUnicode_IS_ASCII(reference) and PyUnicode_IS_ASCII(events)):
        return None
    length = PyUnicode_GET_LENGTH(projection)
    for k in range(count):
        if positions[k] < 0 or positions[k] >= length or positions[k] >= PyUnicode_GET_LENGTH(reference):
            return None
    projection_of = PyUnicode_1BYTE_DATA(projection)
    reference_of = PyUnicode_1BYTE_DATA(reference)
    masked = PyUnicode_New(length, 127)
    out = PyUnicode_1BYTE_DATA(masked)
    memcpy(out, projection_of, length)
    for k in range(count):
        out[positions[k]] = b"N"
    # The substitutions at the positions left out (the same tuple when there is none).
    kept = []
    for substituted in substitutions:
        position = substituted[0]
        matched = False
        for k in range(count):
            if positions[k] == position:
                matched = True
                break
        if not matched:
            kept.append(substituted)
    kept_substitutions = substitutions if len(kept) == len(substitutions) else tuple(kept)
    # The events: ";"-separated labels, those of the positions left out ("{position + 1}{reference}>{read}").
    events_length = PyUnicode_GET_LENGTH(events)
    if count <= 8 and events_length < 512:  # (the usual mask's one label, a read's few events: on the stack)
        labels, label_lengths, out = few_labels, few_lengths, few_out
    else:
        heap = True
        labels = <char*>malloc(count * 48)
        label_lengths = <Py_ssize_t*>malloc(count * sizeof(Py_ssize_t))
        out = <unsigned char*>malloc(events_length + 1)
    try:
        if labels == NULL or label_lengths == NULL or out == NULL:
            raise MemoryError()
        for k in range(count):
            label_lengths[k] = _substitution_label(
                labels + 48 * k, positions[k], reference_of[positions[k]], projection_of[positions[k]]
            )
        events_of = PyUnicode_1BYTE_DATA(events)
        begin = 0
        while True:
            end = begin
            while end < events_length and events_of[end] != b";":
                end += 1
            matched = False
            for k in range(count):
                label_size = label_lengths[k]
                if end - begin == label_size and memcmp(events_of + begin, labels + 48 * k, label_size) == 0:
                    matched = True
                    break
            if matched:
                removed += 1
            else:
                if not first:
                    out[written] = b";"
                    written += 1
                memcpy(out + written, events_of + begin, end - begin)
                written += end - begin
                first = False
            if end >= events_length:
                break
            begin = end + 1
        if removed == 0:
            kept_events = events
        else:
            kept_events = PyUnicode_New(written, 127)
            memcpy(PyUnicode_1BYTE_DATA(kept_events), out, written)
        return masked, kept_substitutions, kept_events
    finally:
        if heap:
            free(labels)
            free(label_lengths)
            free(out)


def masked_tally_calls(
    object unique, Py_ssize_t start, object counted_by_index, list workers, object expansion, object decode,
    object substitute, object masked_sequence, list sequences, object called_type, object pooled_type,
):
    """:meth:`editcheck.engine.masking.QualityMasking.calls` compiled (its pure-Python reference
    ``python_calls``: the same calls, equal, in the same order), a generator.  ``unique``: the ``(unique read,
    encoded result, reads as collapsed)`` from index ``start`` on; ``counted_by_index()``: the masked reads the main
    process counted, by unique read (asked when the pass starts, as the reference asks); ``workers``: the masked
    reads the workers called, by unique read (each set to None once taken); ``expansion(read, encoded, done,
    counted, False)``: a unique read's ``(left, masks, result)`` (``QualityMasking._expansion``), asked only where
    it is not one of the two cases done here (no masked read; only the worker's one mask); ``decode``,
    ``substitute`` and ``masked_sequence`` as the reference calls them; ``sequences``: the references' sequences
    by amplicon and reference.  Each call is made as the named tuple ``called_type``; a masked result made in
    this process is a ``pooled_type``."""
    cdef dict by_index = counted_by_index()
    cdef Py_ssize_t called = len(workers), index = start
    cdef object item, read, encoded, sequence, done, counted, result, todo, left, record, made, aligned, call
    cdef tuple entry, got
    for item in unique:
        read = (<tuple>item)[0]
        encoded = (<tuple>item)[1]
        sequence = (<tuple>read)[0]
        done = workers[index] if index < called else None
        counted = by_index.pop(index, None) if by_index else None
        if done is not None:
            workers[index] = None
        index += 1
        result = None
        if counted is None and done is None:  # no masked read
            left = (<tuple>read)[1]
            todo = ()
        elif counted is None and len(<tuple>done) == 6:  # the worker's one mask (RECORD fields)
            left = (<tuple>read)[1] - (<tuple>done)[1]
            todo = (done,)
        elif (
            done is not None and len(<tuple>done) == 6 and len(<list>counted) == 1
            and (<tuple>(<list>counted)[0])[0] == (<tuple>done)[0]
        ):  # later reads with the worker's one mask (the same error): ``expansion``'s usual case, done here
            entry = ((<tuple>done)[0], (<tuple>done)[1] + (<tuple>(<list>counted)[0])[1], *(<tuple>done)[2:])
            left = (<tuple>read)[1] - entry[1]
            todo = (entry,)
        else:
            left, todo, result = expansion(read, encoded, done, counted, False)
        if left or (todo and result is None):
            if result is None:
                result = decode(sequence, encoded)
            if left and (<tuple>result)[3] is not None:
                yield named_tuple(called_type, (sequence, left, (<tuple>result)[2], (<tuple>result)[3]))
        for record in todo:
            entry = <tuple>record
            made = entry[3]
            if type(made) is bytes:  # called by a worker
                got = <tuple>decode(masked_sequence(sequence, entry[0]), made)
                aligned, call = got[2], got[3]
            elif type(made) is pooled_type:  # called in this process
                aligned, call = (<tuple>made)[2], (<tuple>made)[3]
            else:  # the usual mask: the unique read's result with the masked substitutions
                got = <tuple>substitute(
                    (<tuple>result)[2], (<tuple>result)[3], made, (<list>sequences[entry[4]])[entry[5]]
                )
                aligned, call = got[0], got[1]
            if call is not None:
                yield named_tuple(called_type, (sequence, entry[1], aligned, call))


cdef object _compact_alignment(str sequence, object aligned):
    """``editcheck.engine.workers._compact_alignment``: the alignment as a plain tuple for :func:`pack`, its
    projection None when it is the read itself, ``(offset, length)`` when :func:`laid_out` rebuilds it."""
    if aligned is None:
        return None
    cdef tuple fields = <tuple>aligned
    cdef object projection = fields[6]
    cdef object offset
    if projection == sequence:
        return (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], None, fields[7], fields[8], fields[9])
    offset = layout_offset(sequence, projection, fields[4], fields[5], fields[7], fields[8])
    if offset < 0:
        return tuple(fields)
    return (
        fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], (offset, len(projection)), fields[7],
        fields[8], fields[9],
    )  # fmt: skip


cdef bytes _encoded_pooled(str sequence, object status_value, object amplicon, object aligned, object call):
    """``editcheck.engine.workers.encode_result`` of a pooled call ``(status, amplicon, aligned, call)``, given its
    status's value: the same bytes."""
    cdef tuple packed = (
        status_value, amplicon, _compact_alignment(sequence, aligned), None if call is None else tuple(call)
    )
    try:
        return pack(packed)
    except Unpackable:
        return _marshal_dumps(packed)


cdef class ChunkRunner:
    """The worker processes' pass over a chunk of unique reads for one design, in one call: what
    ``editcheck.engine.masking.SitesWorker._compiled_call`` gives (each read's ``(encoded result, site
    positions, masked reads)``) and, without lows, what the unmasked workers give (each read's encoded result),
    with the same results: the read aligned (``align``, the compiled aligner's) and classified as
    ``AmpliconWorker.aligned_call`` does (``max_length``, ``too_long_call``; a read best on another reference
    whose call ``needs_amplicon`` goes to ``classify_aligned``), its pooled call that of ``PoolWorker`` for one
    design (``assigned``, amplicon 0, as the named tuple ``pooled_type``), encoded as ``encode_result`` encodes
    it (:func:`pack`; ``status_value`` the status's value), and its sites and masked reads by
    :func:`masked_reads_of` as ``MaskingKernel`` calls it (``by_reference``: each reference's ``(decisive bytes,
    blocked bytes, sequence)``; ``classifier``, ``decisive`` and ``references`` the design's, for the context
    ``fallback`` is given).  No Python frame per read: on the 1M-read scale input's unique reads at Q20, one
    process, 9.4-9.6 -> 8.1-8.6 us a unique read."""

    cdef object align, classify, needs_amplicon, classify_aligned, too_long_call, assigned, status_value
    cdef object pooled_type, find_sites, fallback, classifier, decisive, references
    cdef list by_reference
    cdef dict shared
    cdef Py_ssize_t max_length, events_index
    cdef bint substitutable, keyed

    def __init__(
        self, object align, object classify, object needs_amplicon, object classify_aligned, Py_ssize_t max_length,
        object too_long_call, object assigned, object status_value, object pooled_type, Py_ssize_t events_index,
        list by_reference, bint substitutable, dict shared, object find_sites, object fallback, object classifier,
        object decisive, object references, bint keyed,
    ):
        self.align, self.classify, self.needs_amplicon = align, classify, needs_amplicon
        self.classify_aligned, self.max_length, self.too_long_call = classify_aligned, max_length, too_long_call
        self.assigned, self.status_value, self.pooled_type = assigned, status_value, pooled_type
        self.by_reference, self.events_index, self.substitutable = by_reference, events_index, substitutable
        self.shared, self.find_sites, self.fallback = shared, find_sites, fallback
        self.classifier, self.decisive, self.references, self.keyed = classifier, decisive, references, keyed

    cdef tuple _called(self, str sequence):
        """``AmpliconWorker.aligned_call``: the read's ``(alignment, call)``."""
        cdef object aligned, pair
        if PyUnicode_GET_LENGTH(sequence) > self.max_length:
            return None, self.too_long_call
        aligned = self.align(sequence)
        if aligned is not None and (<tuple>aligned)[0] != 0 and self.needs_amplicon(aligned):
            pair = self.classify_aligned(sequence, aligned)
            return (<tuple>pair)[0], (<tuple>pair)[1]
        return aligned, self.classify(aligned)

    def encoded(self, list sequences):
        """Each read's encoded result (the workers' results without quality masks)."""
        cdef list results = []
        cdef tuple called
        cdef str sequence
        for sequence in sequences:
            called = self._called(sequence)
            results.append(_encoded_pooled(sequence, self.status_value, 0, called[0], called[1]))
        return results

    def __call__(self, list sequences, object lows):
        """Each read's ``(encoded result, site positions, masked reads)``, ``lows`` giving its low-quality reads
        (one entry per read)."""
        cdef list results = []
        cdef Py_ssize_t k, count = len(sequences)
        cdef tuple called, kernel_of
        cdef str sequence
        cdef object aligned, call, result, encoded
        if len(lows) != count:
            raise ValueError("one entry of lows per unique read")
        for k in range(count):
            sequence = sequences[k]
            called = self._called(sequence)
            aligned, call = called[0], called[1]
            encoded = _encoded_pooled(sequence, self.status_value, 0, aligned, call)
            if aligned is None or call is None:
                results.append((encoded, (), ()))
                continue
            result = named_tuple(self.pooled_type, (self.assigned, 0, aligned, call))
            kernel_of = <tuple>self.by_reference[(<tuple>aligned)[0]]
            results.append((encoded, *_sites_and_masks(
                PyUnicode_GET_LENGTH(sequence), aligned, call, lows[k], kernel_of[0], self.events_index,
                kernel_of[1], kernel_of[2], self.status_value, 0, self.substitutable, self.shared, self.find_sites,
                self.fallback,
                (self.classifier, result, self.decisive, self.references, sequence, self.keyed, True), self.keyed,
            )))  # fmt: skip
        return results
