# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Read pairs compiled (Cython): the merge, :func:`editcheck.reads.merge.merge_placed`'s placement search and
consensus, with the same arguments (the settings unpacked) and identical results; and the numbering of a
chunk's identical pairs (:func:`number_pairs`, for :mod:`editcheck.reads.pair_chunks`).

The reference (:mod:`editcheck.reads.merge`, pure Python) compares reads on Python integers and collects
candidate offsets in a set; here the reads are walked as C characters and the candidates kept in a byte per
offset.  The candidates are the reference's (the seeds of both passes, the short overlaps at R1's end, every
offset for short reads), each placement scored alike (``(score, overlap, d)``, the largest wins), so the
chosen placement, the merged read, its qualities and the difference mask are the same.  Reads must be ASCII
(``UnicodeEncodeError`` otherwise: the caller then takes the reference).  Built by ``pip install`` (setup.py);
when it is missing, :mod:`editcheck.reads.merge` runs the reference.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport free, malloc, qsort, realloc
from libc.string cimport memchr, memcmp, memcpy, memset

from editcheck.reads._hashing cimport hash_bytes
from editcheck.reads._plain_text cimport plain_bases, plain_header, plain_qualities

import numpy as np

from editcheck.sequences import COMPLEMENT

cdef unsigned char _COMPLEMENT[128]
for _code in range(128):
    _COMPLEMENT[_code] = ord(chr(_code).translate(COMPLEMENT))

DEF SEED = 12
DEF START_SEEDS = 3
DEF SEED_STEP = 16
DEF SHORT = 27
DEF CONVINCING = 20
DEF TINY = 40
DEF MISMATCH_WEIGHT = 3
DEF EPSILON = 1e-9
DEF UNKNOWN = 78  # "N"

cdef struct Best:
    bint found
    long score
    long overlap
    long d


cdef inline void _seed_hits(
    unsigned char *offsets, long shift, const unsigned char *source, long source_length,
    const unsigned char *target, long target_length, long length, long step, long count, bint source_is_rc2,
) noexcept nogil:
    """The reference's ``_seed_hits``: up to ``count`` seeds ``step`` apart, a window holding N moved past its
    last N; every occurrence in ``target`` marks its offset (``offsets[d + shift]``)."""
    cdef long end = source_length - length
    cdef long p = 0
    cdef long n, k, i
    while count and p <= end:
        n = -1
        k = length - 1
        while k >= 0:
            if source[p + k] == UNKNOWN:
                n = k
                break
            k -= 1
        if n >= 0:
            p += n + 1
            continue
        count -= 1
        for i in range(target_length - length + 1):
            if target[i] == source[p] and memcmp(target + i, source + p, length) == 0:
                if source_is_rc2:
                    offsets[i - p + shift] = 1
                else:
                    offsets[p - i + shift] = 1
        p += step


cdef inline void _consider(
    Best *best, const unsigned char *seq1, long length1, const unsigned char *rc2, long length2, long d,
    double max_rate,
) noexcept nogil:
    """Score the placement at ``d`` as the reference's ``_placement`` does; keep it if acceptable and best."""
    cdef long start = d if d > 0 else 0
    cdef long end = d + length2 if d + length2 < length1 else length1
    cdef long overlap = end - start
    cdef double allowed = max_rate * overlap + EPSILON
    cdef long mismatches = 0
    cdef long unknown = 0
    cdef long i
    cdef unsigned char a, b
    cdef const unsigned char *x = seq1 + start
    cdef const unsigned char *y = rc2 + (start - d)
    for i in range(overlap):
        a = x[i]
        b = y[i]
        if a == b:
            if a == UNKNOWN:
                unknown += 1
        elif a == UNKNOWN or b == UNKNOWN:
            unknown += 1
        else:
            mismatches += 1
            if mismatches > allowed:
                return
    cdef long score = overlap - unknown - (1 + MISMATCH_WEIGHT) * mismatches
    if (
        not best.found
        or score > best.score
        or (score == best.score and (overlap > best.overlap or (overlap == best.overlap and d > best.d)))
    ):
        best.found = True
        best.score = score
        best.overlap = overlap
        best.d = d


def merge_placed(
    str seq1, str qual1, str seq2, str qual2, long min_overlap, double max_rate, long dense_length
):
    """:func:`editcheck.reads.merge.merge_placed` with the settings' ``min_overlap`` and ``max_mismatch_rate``,
    and the second pass's seed length (``_dense_seed_length(max_mismatch_rate)``)."""
    return _merge_placed(seq1, qual1, seq2, qual2, min_overlap, max_rate, dense_length, False)


def merge_placed_disagreeing(
    str seq1, str qual1, str seq2, str qual2, long min_overlap, double max_rate, long dense_length
):
    """:func:`merge_placed` and, as a fifth item, the merged read's positions where the mates read different
    bases, neither N (:func:`editcheck.reads.merged_lows.disagreements` of the placement)."""
    return _merge_placed(seq1, qual1, seq2, qual2, min_overlap, max_rate, dense_length, True)


cdef object _merge_placed(
    str seq1, str qual1, str seq2, str qual2, long min_overlap, double max_rate, long dense_length,
    bint disagreeing,
):
    cdef long length1 = len(seq1)
    cdef long length2 = len(seq2)
    if len(qual1) != length1 or len(qual2) != length2:
        raise ValueError("each read needs as many quality characters as bases")
    cdef bytes b1 = seq1.encode("ascii")
    cdef bytes bq1 = qual1.encode("ascii")
    cdef bytes b2 = seq2.encode("ascii")
    cdef bytes bq2 = qual2.encode("ascii")
    cdef long lowest = min_overlap - length2
    cdef long highest = length1 - min_overlap
    if highest < lowest:
        return None
    cdef const unsigned char *s1 = b1
    cdef const unsigned char *q1 = bq1
    cdef const unsigned char *s2 = b2
    cdef const unsigned char *q2 = bq2
    cdef long shift = length2
    cdef long size = length1 + length2 + 1
    cdef unsigned char *work = <unsigned char *> malloc(2 * length2 + 2 * size + 1)
    if work == NULL:
        raise MemoryError()
    cdef unsigned char *rc2 = work
    cdef unsigned char *rq2 = work + length2
    cdef unsigned char *first = work + 2 * length2
    cdef unsigned char *second = first + size
    cdef long i, d, overlap, tail, start, end
    cdef Best best
    best.found = False
    best.score = best.overlap = best.d = 0
    try:
        with nogil:
            for i in range(length2):
                rc2[i] = _COMPLEMENT[s2[length2 - 1 - i]]
                rq2[i] = q2[length2 - 1 - i]
            memset(first, 0, 2 * size)
            # Pass 1: long seeds at the starts of the reads.
            _seed_hits(first, shift, rc2, length2, s1, length1, SEED, SEED_STEP, START_SEEDS, True)
            _seed_hits(first, shift, s1, length1, rc2, length2, SEED, SEED_STEP, START_SEEDS, False)
            for d in range(lowest, highest + 1):
                if first[d + shift]:
                    _consider(&best, s1, length1, rc2, length2, d, max_rate)
            if not best.found or best.score < CONVINCING:
                if length1 <= TINY or length2 <= TINY:
                    for d in range(lowest, highest + 1):
                        if not first[d + shift]:
                            _consider(&best, s1, length1, rc2, length2, d, max_rate)
                else:
                    # Pass 2: back-to-back seeds along rc2, rc2's last bases, overlaps up to SHORT at R1's end.
                    _seed_hits(second, shift, rc2, length2, s1, length1, dense_length, dense_length, length2, True)
                    tail = length2 - dense_length
                    if tail > 0:
                        for i in range(tail, length2):
                            if rc2[i] == UNKNOWN:
                                break
                        else:
                            for i in range(length1 - dense_length + 1):
                                if memcmp(s1 + i, rc2 + tail, dense_length) == 0:
                                    second[i - tail + shift] = 1
                    if min_overlap <= SHORT:
                        for overlap in range(min_overlap, SHORT + 1):
                            second[length1 - overlap + shift] = 1
                    for d in range(lowest, highest + 1):
                        if second[d + shift] and not first[d + shift]:
                            _consider(&best, s1, length1, rc2, length2, d, max_rate)
        if not best.found:
            return None
        return _merged(s1, q1, length1, rc2, rq2, length2, best.d, disagreeing)
    finally:
        free(work)


cdef tuple _merged(
    const unsigned char *s1, const unsigned char *q1, long length1, const unsigned char *rc2,
    const unsigned char *rq2, long length2, long d, bint disagreeing,
):
    """``(sequence, qualities, d, differ)``: R1 before the overlap, the consensus of the overlap (the module
    docstring of :mod:`editcheck.reads.merge`), rc2 after it; ``differ`` the overlap's difference mask.  With
    ``disagreeing``, a fifth item: the positions where the mates read different bases, neither N."""
    cdef long start = d if d > 0 else 0
    cdef long end = d + length2 if d + length2 < length1 else length1
    cdef long overlap = end - start
    cdef long after = length2 - (end - d)
    cdef long total = start + overlap + after
    cdef bytearray sequence = bytearray(total)
    cdef bytearray qualities = bytearray(total)
    cdef bytearray mask = bytearray(overlap)
    cdef unsigned char *out = sequence
    cdef unsigned char *scores = qualities
    cdef unsigned char *differs = mask
    cdef long i, k, gap
    cdef bint differing = False
    cdef unsigned char a, b, qa, qb
    cdef list disagree = []
    for i in range(start):
        out[i] = s1[i]
        scores[i] = q1[i]
    for i in range(overlap):
        a = s1[start + i]
        b = rc2[start - d + i]
        qa = q1[start + i]
        qb = rq2[start - d + i]
        k = start + i
        if a == b:
            out[k] = a
            scores[k] = qa if qa >= qb else qb
            continue
        differing = True
        differs[i] = 0x80
        if a == UNKNOWN:
            out[k] = b
            scores[k] = qb
        elif b == UNKNOWN:
            out[k] = a
            scores[k] = qa
        else:
            if disagreeing:
                disagree.append(k)
            out[k] = b if qb > qa else a
            gap = <long> qa - <long> qb
            if gap < 0:
                gap = -gap
            scores[k] = 33 + (gap if gap > 2 else 2)
    for i in range(after):
        out[start + overlap + i] = rc2[end - d + i]
        scores[start + overlap + i] = rq2[end - d + i]
    differ = int.from_bytes(mask, "big") if differing else 0
    if disagreeing:
        disagree.reverse()  # last first, as the reference's walk over the difference mask gives them
        return sequence.decode("ascii"), qualities.decode("ascii"), d, differ, tuple(disagree)
    return sequence.decode("ascii"), qualities.decode("ascii"), d, differ


cdef inline bint _same(object x, object y):
    cdef Py_ssize_t size = PyBytes_GET_SIZE(x)
    return size == PyBytes_GET_SIZE(y) and memcmp(PyBytes_AS_STRING(x), PyBytes_AS_STRING(y), size) == 0


def number_pairs(list first, list second):
    """Number the distinct pairs ``(first[r], second[r])`` (bytes, as many in each list) in the order of their first
    read: ``(read_pairs, firsts)``, ``read_pairs[r]`` (numpy int64) read ``r``'s pair, ``firsts[p]`` (a list) pair
    ``p``'s first read.  Identical pairs are found by hash and compared byte by byte."""
    cdef Py_ssize_t reads = len(first)
    if len(second) != reads:
        raise ValueError("as many first as second mates are needed")
    cdef Py_ssize_t size = 16
    while size < 2 * reads:
        size *= 2
    cdef uint64_t mask = size - 1
    read_pairs = np.empty(reads, dtype=np.int64)
    cdef int64_t[::1] numbered = read_pairs
    cdef int64_t *slots = <int64_t *> malloc(size * sizeof(int64_t))
    cdef uint64_t *hashes = <uint64_t *> malloc((reads + 1) * sizeof(uint64_t))
    cdef int64_t *leaders = <int64_t *> malloc((reads + 1) * sizeof(int64_t))
    if slots == NULL or hashes == NULL or leaders == NULL:
        free(slots)
        free(hashes)
        free(leaders)
        raise MemoryError()
    cdef Py_ssize_t r, pairs = 0
    cdef uint64_t h, at
    cdef int64_t pair, leader
    cdef object x, y
    try:
        memset(slots, 0xFF, size * sizeof(int64_t))  # -1: empty
        for r in range(reads):
            x = first[r]
            y = second[r]
            if type(x) is not bytes or type(y) is not bytes:
                raise TypeError("mates must be bytes")
            h = hash_bytes(<const unsigned char *> PyBytes_AS_STRING(x), PyBytes_GET_SIZE(x), 0)
            h = hash_bytes(<const unsigned char *> PyBytes_AS_STRING(y), PyBytes_GET_SIZE(y), h)
            at = h & mask
            while True:
                pair = slots[at]
                if pair < 0:
                    slots[at] = pairs
                    hashes[pairs] = h
                    leaders[pairs] = r
                    numbered[r] = pairs
                    pairs += 1
                    break
                if hashes[pair] == h:
                    leader = leaders[pair]
                    if _same(first[leader], x) and _same(second[leader], y):
                        numbered[r] = pair
                        break
                at = (at + 1) & mask
        return read_pairs, [leaders[pair] for pair in range(pairs)]
    finally:
        free(slots)
        free(hashes)
        free(leaders)


cdef inline const unsigned char *_line_end(const unsigned char *at, const unsigned char *end) noexcept nogil:
    """Where the line starting at ``at`` ends (its line break, or ``end``)."""
    if at >= end:
        return end
    cdef const unsigned char *found = <const unsigned char *> memchr(at, 10, end - at)
    return end if found == NULL else found


def split_records(bytes chunk):
    """The records of a chunk of plain FASTQ, as :func:`editcheck.reads.pair_chunks._records` finds them:
    ``(sequences, qualities, joined_headers, joined_sequences, joined_qualities)`` (the lists' lines joined by
    line breaks); None when any record is not plain (a header not ``@`` and ASCII without carriage returns, a
    separator other than ``+``, bases other than ``ACGTN``, qualities outside ``!``-``~``, a quality line of
    another length) or the lines are not a multiple of four.  None is no verdict: the caller then asks the
    reference, which also accepts what it would normalise later, or refuses."""
    cdef const unsigned char *data = <const unsigned char *> PyBytes_AS_STRING(chunk)
    cdef Py_ssize_t size = PyBytes_GET_SIZE(chunk)
    cdef const unsigned char *end = data + size
    cdef Py_ssize_t lines = 0
    cdef const unsigned char *at = data
    if size == 0:
        return None  # the reference's verdict on an empty chunk
    with nogil:
        while at < end:
            at = _line_end(at, end) + 1
            lines += 1
    if lines % 4:
        return None
    cdef Py_ssize_t records = lines // 4
    cdef Py_ssize_t *starts = <Py_ssize_t *> malloc(3 * records * sizeof(Py_ssize_t) + 1)
    cdef Py_ssize_t *lengths = <Py_ssize_t *> malloc(2 * records * sizeof(Py_ssize_t) + 1)
    if starts == NULL or lengths == NULL:
        free(starts)
        free(lengths)
        raise MemoryError()
    cdef Py_ssize_t r, k, header_bytes = 0, sequence_bytes = 0
    cdef const unsigned char *line_end
    cdef bint plain = True
    cdef bytes joined_headers, joined_sequences, joined_qualities
    cdef unsigned char *out_headers
    cdef unsigned char *out_sequences
    cdef unsigned char *out_qualities
    cdef list sequences, qualities
    try:
        with nogil:
            at = data
            for r in range(records):
                # Header: "@", ASCII, no carriage return.
                line_end = _line_end(at, end)
                if line_end == at or at[0] != 64:
                    plain = False
                    break
                starts[3 * r] = at - data
                lengths[2 * r] = line_end - at
                header_bytes += line_end - at
                if not plain_header(at, line_end - at):
                    plain = False
                    break
                at = line_end + 1
                # Sequence: ACGTN.
                line_end = _line_end(at, end)
                starts[3 * r + 1] = at - data
                lengths[2 * r + 1] = line_end - at
                sequence_bytes += line_end - at
                if not plain_bases(at, line_end - at):
                    plain = False
                    break
                at = line_end + 1
                # Separator: "+" alone.
                line_end = _line_end(at, end)
                if line_end - at != 1 or at[0] != 43:
                    plain = False
                    break
                at = line_end + 1
                # Qualities: "!" to "~", as many as bases.
                line_end = _line_end(at, end)
                if line_end - at != lengths[2 * r + 1]:
                    plain = False
                    break
                starts[3 * r + 2] = at - data
                if not plain_qualities(at, line_end - at):
                    plain = False
                    break
                at = line_end + 1
        if not plain:
            return None
        joined_headers = PyBytes_FromStringAndSize(NULL, header_bytes + records - 1)
        joined_sequences = PyBytes_FromStringAndSize(NULL, sequence_bytes + records - 1)
        joined_qualities = PyBytes_FromStringAndSize(NULL, sequence_bytes + records - 1)
        out_headers = <unsigned char *> PyBytes_AS_STRING(joined_headers)
        out_sequences = <unsigned char *> PyBytes_AS_STRING(joined_sequences)
        out_qualities = <unsigned char *> PyBytes_AS_STRING(joined_qualities)
        sequences = [None] * records
        qualities = [None] * records
        for r in range(records):
            k = lengths[2 * r + 1]
            sequences[r] = PyBytes_FromStringAndSize(<const char *> data + starts[3 * r + 1], k)
            qualities[r] = PyBytes_FromStringAndSize(<const char *> data + starts[3 * r + 2], k)
            if r:
                out_headers[0] = out_sequences[0] = out_qualities[0] = 10
                out_headers += 1
                out_sequences += 1
                out_qualities += 1
            memcpy(out_headers, data + starts[3 * r], lengths[2 * r])
            out_headers += lengths[2 * r]
            memcpy(out_sequences, data + starts[3 * r + 1], k)
            out_sequences += k
            memcpy(out_qualities, data + starts[3 * r + 2], k)
            out_qualities += k
        return sequences, qualities, joined_headers, joined_sequences, joined_qualities
    finally:
        free(starts)
        free(lengths)



cdef struct _Lows:
    int32_t *read
    int32_t *position
    Py_ssize_t size
    Py_ssize_t capacity


cdef int _low(_Lows *lows, Py_ssize_t read, Py_ssize_t position) except -1 nogil:
    """Append one low position (read, position in its merged read), growing the buffers."""
    cdef Py_ssize_t capacity
    cdef int32_t *grown
    if lows.size == lows.capacity:
        capacity = 2 * lows.capacity + 4096
        grown = <int32_t *> realloc(lows.read, capacity * sizeof(int32_t))
        if grown == NULL:
            with gil:
                raise MemoryError()
        lows.read = grown
        grown = <int32_t *> realloc(lows.position, capacity * sizeof(int32_t))
        if grown == NULL:
            with gil:
                raise MemoryError()
        lows.position = grown
        lows.capacity = capacity
    lows.read[lows.size] = <int32_t> read
    lows.position[lows.size] = <int32_t> position
    lows.size += 1
    return 0


def chunk_lows(
    long threshold, list sequences1, bytes qualities1, list sequences2, bytes qualities2, bytes joined1,
    bytes joined2, read_pairs, list placements,
):
    """:func:`editcheck.reads.merged_lows.chunk_lows_reference` in one pass over each merged read's positions
    (finding where the mates disagree on the way), giving the same arrays in the same order: ``(entries, reads,
    positions)``, numpy int32, by read then position."""
    cdef Py_ssize_t reads = len(sequences1)
    cdef Py_ssize_t pairs = len(placements)
    cdef int64_t[::1] pair_of = np.ascontiguousarray(read_pairs, dtype=np.int64)
    if pair_of.shape[0] != reads or len(sequences2) != reads:
        raise ValueError("as many reads in each list are needed")
    cdef const unsigned char *s1 = <const unsigned char *> PyBytes_AS_STRING(qualities1)
    cdef const unsigned char *s2 = <const unsigned char *> PyBytes_AS_STRING(qualities2)
    cdef const unsigned char *b1 = <const unsigned char *> PyBytes_AS_STRING(joined1)
    cdef const unsigned char *b2 = <const unsigned char *> PyBytes_AS_STRING(joined2)
    cdef long limit = 33 + threshold
    cdef long *offset = <long *> malloc((pairs + 1) * sizeof(long))
    cdef unsigned char *merged = <unsigned char *> malloc(pairs + 1)
    cdef _Lows lows
    lows.read = NULL
    lows.position = NULL
    lows.size = 0
    lows.capacity = 0
    cdef Py_ssize_t p, r, k, m, o1 = 0, o2 = 0, length1, length2
    cdef long d, start, end, difference, score
    cdef unsigned char q1, q2, x, y
    cdef object placed
    if offset == NULL or merged == NULL:
        free(offset)
        free(merged)
        raise MemoryError()
    try:
        for p in range(pairs):
            placed = placements[p]
            merged[p] = placed is not None
            offset[p] = placed if placed is not None else 0
        for r in range(reads):
            length1 = PyBytes_GET_SIZE(sequences1[r])
            length2 = PyBytes_GET_SIZE(sequences2[r])
            p = pair_of[r]
            if merged[p]:
                d = offset[p]
                start = d if d > 0 else 0
                end = d + length2 if d + length2 < length1 else length1
                with nogil:
                    for m in range(start):  # R1 alone
                        if s1[o1 + m] < limit:
                            _low(&lows, r, m)
                    for m in range(start, end):  # the overlap
                        k = o2 + length2 - 1 - (m - d)
                        q1 = s1[o1 + m]
                        q2 = s2[k]
                        x = b1[o1 + m]
                        y = _COMPLEMENT[b2[k] & 127]
                        if x == y or x == UNKNOWN or y == UNKNOWN:  # the better quality, or the called base's
                            score = q2 if x == UNKNOWN else (q1 if y == UNKNOWN else (q1 if q1 >= q2 else q2))
                            if score < limit:
                                _low(&lows, r, m)
                        else:  # the mates disagree: the better mate's base, low when their qualities are close
                            difference = <long> q1 - <long> q2
                            if difference < 0:
                                difference = -difference
                            if (difference if difference > 2 else 2) < threshold:
                                _low(&lows, r, m)
                    for m in range(end, d + length2):  # rc(R2) alone
                        if s2[o2 + length2 - 1 - (m - d)] < limit:
                            _low(&lows, r, m)
            o1 += length1 + 1
            o2 += length2 + 1
        positions = np.empty(lows.size, dtype=np.int32)
        numbers = np.empty(lows.size, dtype=np.int32)
        entries = np.empty(lows.size, dtype=np.int32)
        _fill(positions, numbers, entries, &lows, pair_of)
        return entries, numbers, positions
    finally:
        free(offset)
        free(merged)
        free(lows.read)
        free(lows.position)


cdef void _fill(
    int32_t[::1] positions, int32_t[::1] numbers, int32_t[::1] entries, _Lows *lows, int64_t[::1] pair_of
) noexcept:
    cdef Py_ssize_t i
    for i in range(lows.size):
        positions[i] = lows.position[i]
        numbers[i] = lows.read[i]
        entries[i] = <int32_t> pair_of[lows.read[i]]


cdef struct _Hit:
    int64_t read
    int64_t key


cdef int _by_read_then_key(const void *a, const void *b) noexcept nogil:
    cdef const _Hit *x = <const _Hit *> a
    cdef const _Hit *y = <const _Hit *> b
    if x.read != y.read:
        return -1 if x.read < y.read else 1
    if x.key != y.key:
        return -1 if x.key < y.key else 1
    return 0


def project_lows(list chunks, list sites, dict counted):
    """:meth:`editcheck.reads.merged_lows.MergedLows.project_reference`'s counting in C: each chunk's low positions
    (``(keys, reads)``: numpy int64 ``sequence << 32 | position`` and int32 read numbers) kept where ``sites``
    (per sequence: its sites' positions, or None) has that position, grouped by read (by read, then key, as the
    reference sorts them) into ``(sequence, positions)`` masks counted into ``counted`` in the reference's order.
    Chunks are processed in order, each entry of ``chunks`` set to None once counted."""
    cdef Py_ssize_t sequences = len(sites)
    cdef Py_ssize_t *first = <Py_ssize_t *> malloc((sequences + 1) * sizeof(Py_ssize_t))
    if first == NULL:
        raise MemoryError()
    cdef Py_ssize_t total = 0, i, e, entries, hits, capacity = 0, k, start
    cdef object spots, position, mask_key
    for i in range(sequences):
        spots = sites[i]
        first[i] = total
        if spots:
            total += len(<tuple> spots)
    first[sequences] = total
    cdef int64_t *known = <int64_t *> malloc((total + 1) * sizeof(int64_t))
    cdef _Hit *found = NULL
    cdef _Hit *grown
    cdef int64_t[::1] keys
    cdef int32_t[::1] numbers
    cdef int64_t key, sequence, at, read
    cdef list mask
    if known == NULL:
        free(first)
        raise MemoryError()
    try:
        k = 0
        for i in range(sequences):
            spots = sites[i]
            if spots:
                for position in <tuple> spots:
                    known[k] = position
                    k += 1
        for i in range(len(chunks)):
            keys, numbers = chunks[i]
            chunks[i] = None
            entries = keys.shape[0]
            hits = 0
            for e in range(entries):
                key = keys[e]
                sequence = key >> 32
                if sequence < 0 or sequence >= sequences:
                    continue
                at = key - (sequence << 32)
                for k in range(first[sequence], first[sequence + 1]):
                    if known[k] == at:
                        if hits == capacity:
                            capacity = 2 * capacity + 1024
                            grown = <_Hit *> realloc(found, capacity * sizeof(_Hit))
                            if grown == NULL:
                                raise MemoryError()
                            found = grown
                        found[hits].read = numbers[e]
                        found[hits].key = key
                        hits += 1
                        break
            if not hits:
                continue
            qsort(found, hits, sizeof(_Hit), _by_read_then_key)
            k = 0
            while k < hits:
                read = found[k].read
                sequence = found[k].key >> 32
                mask = []
                while k < hits and found[k].read == read:
                    mask.append(found[k].key - (sequence << 32))
                    k += 1
                mask_key = (sequence, tuple(mask))
                counted[mask_key] = counted.get(mask_key, 0) + 1
    finally:
        free(first)
        free(known)
        free(found)
