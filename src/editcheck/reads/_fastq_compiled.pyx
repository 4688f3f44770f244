# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Single-end FASTQ collapsed from decompressed bytes (Cython): the records of a block parsed and checked in C,
each read's sequence counted, and with a base-quality threshold its low-quality positions counted as
:func:`editcheck.reads.collapse._collapse_batches_raw` counts them.

Only plain, valid FASTQ is taken: four lines per record ending in a line break, a header starting with ``@``
(ASCII, no carriage return), a sequence of ``A``, ``C``, ``G``, ``T``, ``N``, a ``+`` line empty or repeating the
header, and as many qualities as bases, each ``!`` to ``~``.  Reads are taken in batches of ``size`` records,
as :func:`editcheck.reads.fastq.iter_single_batches` yields them, and a batch is counted only when all its
records are taken: at the first record that is anything else (lowercase, ``.``, another character, a broken
record, CRLF, non-ASCII...) :meth:`BlockCounter.feed` stops before that batch, so that the caller reads the rest
of the file with the Python reader, which normalises it or names the problem exactly as before.  So does a read
longer than ``max_length`` bases, or a record that has grown past the most bytes such a record can take
(:func:`editcheck.reads.read_length.record_bytes`) before its end is in the block: the block never grows for it.

Each batch is counted as the Python loop counts it: its reads' sequences first (a new sequence gets the next
index and is handed to ``on_new``, in the order of first appearance), then, with ``masks``, its reads' qualities
(only the reads of sequences in flight or with quality sites), in C: a read of a sequence in flight has its
low-quality positions found and counted in the masks' pending dict as ``QualityMasks.add`` counts them, with no
Python call per read, but for a new sequence's first read: noted in the masks' :class:`FirstReadLows` when they
have one (the engine's do) and sent with the sequence to its worker as bytes, no Python object made for it.  Each
unique sequence has an entry (its key, reads and, once settled, up to 8 quality sites' read positions, taken from
the masks' list the first time they are needed) that its reads touch and nothing else: one cache line, not one per
array and Python object (10M reads of 792k sequences: the counter's quality work 1.3 -> 0.4 s).  A read of a
settled sequence that is low at some of those sites (one of them: the usual mask, a sequencing error at a
low-quality base; or several: a donor's bases at low-quality bases) is counted without a Python object, by which
of its sites are low: in its entry for the first such mask its reads have (most often their only one), else in a
table of this counter's own, keyed by (sequence index, those sites): :meth:`BlockCounter.flush_masks` adds those
counts to the masks' dict (``QualityMasks.masks``, the same counts the Python reader gives it) when the reading
is done.  Built by ``pip install`` (setup.py); without it, :mod:`editcheck.reads.collapse` runs the Python reader
alone.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.ref cimport PyObject, Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_New, PyTuple_SET_ITEM
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memchr, memcmp, memcpy, memmove, memset

from editcheck.reads._hashing cimport hash_bytes
from editcheck.reads._plain_text cimport plain_bases, plain_header, plain_qualities

from editcheck.reads.read_length import MAX_READ_LENGTH, record_bytes


cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    unsigned char* PyUnicode_1BYTE_DATA(object text)
    Py_hash_t PyObject_Hash(object value) except? -1


cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define EDITCHECK_PREFETCH(address) __builtin_prefetch((const void*)(address))
    #else
    #define EDITCHECK_PREFETCH(address) ((void)(address))
    #endif
    """
    void prefetch "EDITCHECK_PREFETCH"(const void* address) noexcept nogil


cdef enum:
    TAKEN = 0
    INCOMPLETE = 1
    UNUSUAL = 2


cdef inline str _hashed_ascii(const unsigned char* start, Py_ssize_t length):
    """A str of ``length`` ASCII characters at ``start`` (already checked), its hash worked out now (a str keeps
    it), while its characters are in the cache: the collapse's dict of the unique sequences, made once the reading
    ends, then reads none of them again (10M reads, 792k unique: that dict 0.18 / 0.24 -> 0.14 / 0.12 s, two runs
    each)."""
    cdef object text = PyUnicode_New(length, 127)
    if length:
        memcpy(PyUnicode_1BYTE_DATA(text), start, length)
    PyObject_Hash(text)
    return <str>text


cdef void* _grown(void* memory, size_t size) except NULL:
    """``memory`` reallocated to ``size`` bytes (MemoryError when it cannot be: ``memory`` is then left as it was,
    still owned by the caller)."""
    cdef void* grown = realloc(memory, size)
    if grown == NULL:
        raise MemoryError()
    return grown


cdef uint64_t* _empty_slots(Py_ssize_t size) except NULL:
    """A hash table's ``size`` slots, all empty (0)."""
    cdef uint64_t* slots = <uint64_t*>calloc(size, sizeof(uint64_t))
    if slots == NULL:
        raise MemoryError()
    return slots


cdef enum:
    INLINE_SITES = 8  # the most quality sites an entry holds (a read usually has 1-8: the donor's, an error)
    SITES_UNKNOWN = -1  # Entry.sites: not taken from the masks' sites yet (in flight, or not met since settled)
    SITES_ELSEWHERE = -2  # more than INLINE_SITES sites, or one past 65,535: read from the masks' sites tuple


cdef struct Entry:
    # One unique sequence, all that a read of it touches in one place (one cache line, not one per array).
    const unsigned char* key  # the characters of its str in the counter's ``sequences`` (which keeps them alive)
    int64_t tally  # its reads
    int32_t length
    int32_t sites  # how many quality sites it has (their read positions in ``at``), or SITES_*
    uint16_t at[INLINE_SITES]
    int32_t low_reads  # reads counted with the mask ``low_sites`` (the first its reads had) here, not in the table
    uint8_t low_sites  # which of its sites that mask has low, one bit each
    uint64_t hashed  # its key's hash: the table grows without reading every key again


cdef inline uint64_t _slot_of(uint64_t hashed, Py_ssize_t index) noexcept:
    """A used slot of the sequences' table: the upper half of the sequence's hash (a tag, so that a key whose hash
    differs is not compared) and its index + 1 (0 is a free slot)."""
    return (hashed & 0xFFFFFFFF00000000ULL) | <uint64_t>(index + 1)


cdef inline bint _tagged(uint64_t slot, uint64_t hashed) noexcept:
    """Whether a used slot's tag is that of ``hashed``."""
    return (slot ^ hashed) & 0xFFFFFFFF00000000ULL == 0


cdef inline Py_ssize_t _slot_index(uint64_t slot) noexcept:
    """The index of the sequence a used slot holds."""
    return <Py_ssize_t>(slot & 0xFFFFFFFFULL) - 1


cdef inline Entry* _named(Entry* entries, const uint64_t* slots, uint64_t mask, uint64_t hashed) noexcept:
    """The entry that the first slot of a sequence of hash ``hashed`` names if its tag is that hash's (most
    likely the sequence's own), else NULL: what finding the sequence reads (for a prefetch)."""
    cdef uint64_t slot = slots[hashed & mask]
    if slot == 0 or not _tagged(slot, hashed):
        return NULL
    return &entries[_slot_index(slot)]


cdef inline uint64_t _mixed(uint64_t key) noexcept:
    """A mask's key (sequence index << INLINE_SITES | one bit per site of its entry) mixed for its table's slots."""
    cdef uint64_t hashed = key * 0x9E3779B97F4A7C15ULL
    return hashed ^ (hashed >> 31)


cdef tuple _mask_of(Entry* entry, uint64_t low_sites, dict single):
    """The read positions of ``entry``'s sites marked in ``low_sites`` (one bit each, in the order of its sites), a
    tuple; one tuple per position for one-site masks (``single``: position -> its tuple)."""
    cdef Py_ssize_t k, found = 0
    cdef object position
    cdef tuple mask
    if low_sites & (low_sites - 1) == 0:  # one site: the usual mask
        while not (low_sites >> found) & 1:
            found += 1
        position = <Py_ssize_t>entry.at[found]
        mask = single.get(position)
        if mask is None:
            mask = single[position] = (position,)
        return mask
    for k in range(INLINE_SITES):
        found += (low_sites >> k) & 1
    mask = PyTuple_New(found)
    found = 0
    for k in range(entry.sites):
        if (low_sites >> k) & 1:
            position = <Py_ssize_t>entry.at[k]
            Py_INCREF(position)
            PyTuple_SET_ITEM(mask, found, position)
            found += 1
    return mask


cdef class FirstReadLows:
    """Each unique sequence's first read's low-quality read positions, noted by the compiled counter as it meets
    the sequence (:class:`BlockCounter`, with a ``QualityMasks`` whose ``first_reads`` is one of these): a record
    per sequence, from index 0 in first-seen order, in C.  The engine takes a chunk's records as one ``bytes``
    (:meth:`take_span`: native int32s, per sequence its number of positions then the positions) and sends them to
    the chunk's worker beside the other reads counted in flight, which :func:`chunk_lows` merges into what
    ``QualityMasks.take_pending`` gives: no tuple, dict entry or marshalled object per first read in the main
    process (nearly every unique sequence has one: the read it was first seen in).  A record taken once is
    taken: taken again, or never noted (a sequence the Python reader met), it has no position."""

    cdef int32_t* _data
    cdef Py_ssize_t _used
    cdef Py_ssize_t _capacity
    cdef int64_t* _offsets  # the record of index _base + k at _data[_offsets[k]]: n, then n positions (-1 - n: taken)
    cdef Py_ssize_t _base
    cdef Py_ssize_t _count
    cdef Py_ssize_t _offsets_capacity

    def __cinit__(self):
        self._capacity = 4096
        self._data = <int32_t*>malloc(self._capacity * sizeof(int32_t))
        self._offsets_capacity = 1024
        self._offsets = <int64_t*>malloc(self._offsets_capacity * sizeof(int64_t))
        if self._data == NULL or self._offsets == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self._data)
        free(self._offsets)

    cdef int add(
        self, Py_ssize_t index, const unsigned char* qualities, Py_ssize_t length, unsigned char limit
    ) except -1:
        """Note sequence ``index``'s first read (``qualities``, ``length`` of them): its positions below ``limit``."""
        cdef Py_ssize_t k, at, need
        if index != self._base + self._count:
            raise IndexError(f"first read of sequence {index} noted after {self._base + self._count - 1}")
        need = self._used + 1 + length
        if need > self._capacity:
            self._capacity = max(2 * self._capacity, need)
            self._data = <int32_t*>_grown(self._data, self._capacity * sizeof(int32_t))
        if self._count == self._offsets_capacity:
            self._offsets_capacity *= 2
            self._offsets = <int64_t*>_grown(self._offsets, self._offsets_capacity * sizeof(int64_t))
        at = self._used + 1
        for k in range(length):  # every position written, the next one over it unless low: no branch per base
            self._data[at] = <int32_t>k
            at += qualities[k] < limit
        self._data[self._used] = <int32_t>(at - self._used - 1)
        self._offsets[self._count] = self._used
        self._count += 1
        self._used = at
        return 0

    def take_span(self, Py_ssize_t start, Py_ssize_t stop) -> bytes:
        """The records of sequences ``start`` to ``stop`` (excluded), in order, as native int32s (one with no
        position for a sequence not noted or taken before); they are taken."""
        cdef Py_ssize_t index, k, size = 0
        cdef int32_t value
        cdef bytes packed
        cdef int32_t* out
        if start < 0 or stop < start:
            raise ValueError("a span of sequences from 0 on")
        for index in range(start, stop):
            size += 1
            k = index - self._base
            if 0 <= k < self._count and self._data[self._offsets[k]] > 0:
                size += self._data[self._offsets[k]]
        packed = PyBytes_FromStringAndSize(NULL, size * sizeof(int32_t))
        out = <int32_t*>PyBytes_AS_STRING(packed)
        for index in range(start, stop):
            k = index - self._base
            value = self._data[self._offsets[k]] if 0 <= k < self._count else 0
            if value > 0:
                memcpy(out, &self._data[self._offsets[k]], (value + 1) * sizeof(int32_t))
                out += value + 1
            else:
                out[0] = 0
                out += 1
            if 0 <= k < self._count and value >= 0:  # taken now (one with no position too)
                self._data[self._offsets[k]] = <int32_t>(-1 - value)
        self._forget_taken()
        return packed

    cdef void _forget_taken(self) noexcept:
        """Drop the taken records at the front once they are many (the engine takes chunks in order: all)."""
        cdef Py_ssize_t dead = 0, k, shift
        while dead < self._count and self._data[self._offsets[dead]] < 0:
            dead += 1
        if dead == 0 or (2 * dead < self._count and dead < 4096):
            return
        shift = self._offsets[dead] if dead < self._count else self._used
        memmove(self._data, self._data + shift, (self._used - shift) * sizeof(int32_t))
        self._used -= shift
        for k in range(dead, self._count):
            self._offsets[k - dead] = self._offsets[k] - shift
        self._count -= dead
        self._base += dead

    def held(self, Py_ssize_t start, Py_ssize_t stop) -> list:
        """The sequences from ``start`` to ``stop`` (excluded) whose first read is noted, not taken, and low
        somewhere."""
        cdef list found = []
        cdef Py_ssize_t index
        for index in range(max(start, self._base), min(stop, self._base + self._count)):
            if self._data[self._offsets[index - self._base]] > 0:
                found.append(index)
        return found


def chunk_lows(bytes first, list others) -> list:
    """Each sequence's reads counted in flight as ``QualityMasks.take_pending`` gives them (``(positions, reads)``
    pairs, first-seen order), from a chunk's first reads (:meth:`FirstReadLows.take_span`; empty: none noted)
    and its other reads counted in flight (``others``, one such tuple per sequence): a first read low somewhere
    comes first, with the other reads of its positions; ValueError for records that are not the chunk's."""
    cdef Py_ssize_t size, at = 0, index, count = len(others), n, k
    cdef const char* data
    cdef int32_t value
    cdef tuple low, other, pair
    cdef list out, rest
    cdef object reads, position
    if PyBytes_GET_SIZE(first) == 0:
        return others
    if PyBytes_GET_SIZE(first) % sizeof(int32_t):
        raise ValueError("first reads' records are not whole int32s")
    size = PyBytes_GET_SIZE(first) // sizeof(int32_t)
    data = PyBytes_AS_STRING(first)
    out = []
    for index in range(count):
        if at >= size:
            raise ValueError("fewer first reads' records than sequences")
        memcpy(&value, data + at * sizeof(int32_t), sizeof(int32_t))
        n = value
        at += 1
        if n < 0 or n > size - at:
            raise ValueError("a first read's record runs past the chunk's")
        if n == 0:
            out.append(others[index])
            continue
        low = PyTuple_New(n)
        for k in range(n):
            memcpy(&value, data + (at + k) * sizeof(int32_t), sizeof(int32_t))
            position = <Py_ssize_t>value
            Py_INCREF(position)
            PyTuple_SET_ITEM(low, k, position)
        at += n
        other = <tuple>others[index]
        if not other:
            out.append(((low, 1),))
            continue
        reads = 1
        rest = []
        for item in other:
            pair = <tuple>item
            if pair[0] == low:
                reads = reads + pair[1]
            else:
                rest.append(pair)
        out.append(((low, reads), *rest))
    if at != size:
        raise ValueError("more first reads' records than sequences")
    return out


cdef class BlockCounter:
    """Counts the reads of decompressed FASTQ blocks: their unique sequences in first-seen order (:meth:`sequences`,
    an index each) and the reads of each (:meth:`tallies`); see the module docstring.  The sequences are listed,
    not put in a dict as they are met: the caller makes the one dict of them all once the reading is done (10M
    reads at Q20, 792k unique sequences: the insertions into a dict of that size took 4% of the reading thread's
    samples, mostly cache misses)."""

    cdef list _sequences
    cdef object on_new
    cdef object masks
    cdef list sites
    cdef dict counted
    cdef dict pending
    cdef unsigned char limit
    cdef Py_ssize_t size
    cdef Py_ssize_t max_length
    cdef Py_ssize_t _record_most
    cdef Entry* _entries
    cdef Py_ssize_t _count
    cdef Py_ssize_t _capacity
    cdef uint64_t* _slots
    cdef Py_ssize_t _mask
    cdef Py_ssize_t* _sequence
    cdef Py_ssize_t* _length
    cdef Py_ssize_t* _quality
    cdef Py_ssize_t* _index
    cdef uint64_t* _hashed  # per batch slot: its read's hash
    cdef uint8_t* _first  # per batch slot: its read is its sequence's first, noted in first_reads
    cdef FirstReadLows first_reads
    cdef uint64_t* _low_keys
    cdef int64_t* _low_counts
    cdef Py_ssize_t _low_used
    cdef Py_ssize_t _low_capacity
    cdef uint64_t* _low_slots
    cdef Py_ssize_t _low_mask
    cdef public Py_ssize_t reads
    """Reads counted so far."""

    def __cinit__(
        self, object on_new, object masks, Py_ssize_t size, Py_ssize_t max_length=MAX_READ_LENGTH
    ):
        if size < 1:
            raise ValueError("batch size must be at least 1")
        if max_length < 1:
            raise ValueError("maximum read length must be at least 1")
        # (a read of 2^31 bases or more, were one allowed, is left to the Python reader: entries hold 32-bit lengths)
        self.max_length = min(max_length, 0x7FFFFFFF)
        self._record_most = record_bytes(self.max_length)
        self._sequences = []
        self.on_new = on_new
        self.masks = masks
        if masks is not None:
            self.sites = masks.sites
            self.counted = masks.masks
            self.pending = masks._pending  # shared: QualityMasks.take_pending and settle read it
            self.limit = ord(masks.limit)
            first_reads = getattr(masks, "first_reads", None)
            if first_reads is not None:
                self.first_reads = <FirstReadLows?>first_reads
        self.size = size
        self._capacity = 1024
        self._entries = <Entry*>malloc(self._capacity * sizeof(Entry))
        self._mask = 4095
        self._slots = <uint64_t*>calloc(self._mask + 1, sizeof(uint64_t))
        self._sequence = <Py_ssize_t*>malloc(size * sizeof(Py_ssize_t))
        self._length = <Py_ssize_t*>malloc(size * sizeof(Py_ssize_t))
        self._quality = <Py_ssize_t*>malloc(size * sizeof(Py_ssize_t))
        self._index = <Py_ssize_t*>malloc(size * sizeof(Py_ssize_t))
        self._hashed = <uint64_t*>malloc(size * sizeof(uint64_t))
        self._first = <uint8_t*>calloc(size, sizeof(uint8_t))
        # Masks of settled sequences whose sites their entry holds: (sequence index, the sites low) keyed as
        # index << INLINE_SITES | one bit per site (2^56 sequences, far beyond any run, fit in 64 bits).
        self._low_capacity = 1024
        self._low_keys = <uint64_t*>malloc(self._low_capacity * sizeof(uint64_t))
        self._low_counts = <int64_t*>malloc(self._low_capacity * sizeof(int64_t))
        self._low_mask = 4095
        self._low_slots = <uint64_t*>calloc(self._low_mask + 1, sizeof(uint64_t))
        if not (self._entries and self._slots and self._sequence and self._length and self._quality
                and self._index and self._hashed and self._first and self._low_keys and self._low_counts
                and self._low_slots):
            raise MemoryError()

    def __dealloc__(self):
        free(self._entries)
        free(self._slots)
        free(self._sequence)
        free(self._length)
        free(self._quality)
        free(self._index)
        free(self._hashed)
        free(self._first)
        free(self._low_keys)
        free(self._low_counts)
        free(self._low_slots)

    def tallies(self) -> list:
        """Reads per unique sequence, by index."""
        return [self._entries[i].tally for i in range(self._count)]

    def sequences(self) -> list:
        """The unique sequences, by index (first-seen order): a copy of the counter's list (the strings are shared;
        its entries point at their characters, so the list itself is never handed out to be changed)."""
        return list(self._sequences)

    def feed(self, const unsigned char[::1] block, Py_ssize_t length, bint final) -> int:
        """Count the whole batches of ``block[:length]`` (all of it when ``final``: the end of the file); the bytes
        used, or -1 at a batch with a record the Python reader must read (nothing of that batch counted)."""
        cdef const unsigned char* data = &block[0] if length else NULL
        cdef Py_ssize_t position = 0
        cdef Py_ssize_t start
        cdef Py_ssize_t taken
        cdef int status
        if length > block.shape[0]:
            raise ValueError("length beyond the block")
        while True:
            start = position
            taken = 0
            status = TAKEN
            while taken < self.size:
                status = self._record(data, length, &position, taken)
                if status != TAKEN:
                    break
                taken += 1
            if status == UNUSUAL:
                return -1
            if status == INCOMPLETE and not final:
                return start
            if status == INCOMPLETE and position < length:  # the file ends inside a record
                return -1
            if taken == 0:
                return position
            if self._count_batch(data, taken) == UNUSUAL:
                return -1
            if self.masks is not None:
                self._count_qualities(data, taken)
            self.reads += taken

    cdef int _record(self, const unsigned char* data, Py_ssize_t length, Py_ssize_t* position, Py_ssize_t slot):
        """Parse the record at ``position[0]`` into batch slot ``slot`` and move past it: TAKEN, INCOMPLETE (the
        block ends first; nothing moved) or UNUSUAL (also a read longer than ``max_length``, and a record whose
        bytes in the block are already more than such a record can take)."""
        cdef Py_ssize_t at = position[0]
        cdef const unsigned char* end
        cdef Py_ssize_t header, header_end, sequence, sequence_end, plus, plus_end, quality, quality_end, i
        cdef Py_ssize_t line_ends[4]
        cdef Py_ssize_t line
        cdef unsigned char bad
        if at >= length:
            return INCOMPLETE
        if data[at] != b'@':
            return UNUSUAL
        header = at + 1
        i = header
        for line in range(4):  # the record's four line breaks
            end = <const unsigned char*>memchr(data + i, b'\n', length - i)
            if end == NULL:
                return UNUSUAL if length - at > self._record_most else INCOMPLETE
            line_ends[line] = end - data
            i = line_ends[line] + 1
        header_end, sequence_end, plus_end, quality_end = line_ends[0], line_ends[1], line_ends[2], line_ends[3]
        sequence = header_end + 1
        plus = sequence_end + 1
        quality = plus_end + 1
        # Each line checked whole, without a branch per character (the compiler vectorises these loops); the bases
        # only where they are a new sequence's (_count_batch): a sequence in the table was checked when it came.
        bad = not plain_header(data + header, header_end - header)
        bad |= not plain_qualities(data + quality, quality_end - quality)
        if bad or quality_end - quality != sequence_end - sequence or data[plus] != b'+':
            return UNUSUAL
        if sequence_end - sequence > self.max_length:
            return UNUSUAL
        if plus_end - plus > 1 and (
            plus_end - plus - 1 != header_end - header or memcmp(data + plus + 1, data + header, header_end - header)
        ):
            return UNUSUAL
        self._sequence[slot] = sequence
        self._length[slot] = sequence_end - sequence
        self._quality[slot] = quality
        position[0] = quality_end + 1
        return TAKEN

    cdef int _count_batch(self, const unsigned char* data, Py_ssize_t taken) except -1:
        """Count the batch's sequences; a new one gets the next index, a None in the masks' sites (in flight),
        and is handed to ``on_new``.  Sequences are found by their bytes in a table of this counter's own (the
        index of each, pointing at the characters of its str in :meth:`sequences`, which keeps them alive): a
        read of a sequence seen before costs no Python object, nor a look at its bases (checked when the
        sequence came: only a sequence not in the table is checked, before anything of the batch is counted).
        TAKEN, or UNUSUAL for a batch with a new sequence whose bases the counter does not take (nothing of it
        counted: the Python reader reads it)."""
        cdef Py_ssize_t slot, index, length, place
        cdef const unsigned char* bases
        cdef uint64_t hashed
        cdef str sequence
        cdef Entry* entry
        cdef list sequences = self._sequences
        self._prefetch_batch(data, taken)
        for slot in range(taken):
            bases = data + self._sequence[slot]
            length = self._length[slot]
            index = self._find(bases, length, self._hashed[slot], &place)
            if index < 0 and not plain_bases(bases, length):
                return UNUSUAL
            self._index[slot] = index
        for slot in range(taken):
            self._first[slot] = 0
            index = self._index[slot]
            if index >= 0:
                self._entries[index].tally += 1
                continue
            bases = data + self._sequence[slot]
            length = self._length[slot]
            hashed = self._hashed[slot]
            index = self._find(bases, length, hashed, &place)  # again: an earlier read of the batch may have added it
            if index < 0:
                sequence = _hashed_ascii(bases, length)
                index = self._count
                if index == self._capacity:
                    self._grow()
                entry = &self._entries[index]
                entry.key = PyUnicode_1BYTE_DATA(sequence)
                entry.tally = 1
                entry.length = <int32_t>length
                entry.sites = SITES_UNKNOWN
                entry.low_reads = 0
                entry.low_sites = 0
                entry.hashed = hashed
                self._count = index + 1
                self._slots[place] = _slot_of(hashed, index)
                if 4 * self._count >= 3 * (self._mask + 1):
                    self._rehash()
                sequences.append(sequence)
                if self.masks is not None and PyList_GET_SIZE(self.sites) == index:
                    self.sites.append(None)  # in flight (on_new may settle earlier sequences, never this one)
                if self.first_reads is not None:  # its first read noted now, sent with it (not pending)
                    self.first_reads.add(index, data + self._quality[slot], length, self.limit)
                    self._first[slot] = 1
                self.on_new(sequence)
            else:
                self._entries[index].tally += 1
            self._index[slot] = index
        return TAKEN

    cdef void _prefetch_batch(self, const unsigned char* data, Py_ssize_t taken) noexcept:
        """Hash the batch's reads (``_hashed``) and ask the memory for what finding them will read, a pass per step
        of the chain for all the reads at once: each read's first slot, then the entry it names if its tag is the
        read's, then that entry's key (every cache line of it).  These are random places in a table larger than
        the caches, each step waiting on the one before: one read after another, every step is a miss waited
        on; here the batch's misses of a step overlap.  Hints only: :meth:`_find` reads the table itself."""
        cdef Py_ssize_t slot, line
        cdef uint64_t hashed
        cdef uint64_t* slots = self._slots
        cdef uint64_t mask = <uint64_t>self._mask
        cdef Entry* entry
        for slot in range(taken):
            hashed = hash_bytes(data + self._sequence[slot], self._length[slot], 0)
            self._hashed[slot] = hashed
            prefetch(&slots[hashed & mask])
        for slot in range(taken):
            entry = _named(self._entries, slots, mask, self._hashed[slot])
            if entry != NULL:
                prefetch(entry)
        for slot in range(taken):
            entry = _named(self._entries, slots, mask, self._hashed[slot])
            if entry != NULL:
                for line in range(0, entry.length, 64):
                    prefetch(entry.key + line)

    cdef Py_ssize_t _find(self, const unsigned char* bases, Py_ssize_t length, uint64_t hashed, Py_ssize_t* place):
        """The index of the sequence ``bases[:length]`` (hash ``hashed``), or -1 with its free slot in ``place``."""
        cdef Py_ssize_t at = <Py_ssize_t>(hashed & <uint64_t>self._mask)
        cdef uint64_t entry
        cdef Py_ssize_t index
        while True:
            entry = self._slots[at]
            if entry == 0:
                place[0] = at
                return -1
            if _tagged(entry, hashed):
                index = _slot_index(entry)
                if self._entries[index].length == length and memcmp(self._entries[index].key, bases, length) == 0:
                    return index
            at = (at + 1) & self._mask

    cdef int _rehash(self) except -1:
        """Twice the slots, every sequence placed again by its entry's hash (its key's bytes, scattered in memory,
        are not read again: 10M reads of 792k sequences at Q20, the growths' perf samples 222 -> 18 at 999 Hz)."""
        cdef Py_ssize_t size = 2 * (self._mask + 1)
        cdef uint64_t* slots = _empty_slots(size)
        cdef Py_ssize_t index, at
        cdef uint64_t hashed
        free(self._slots)
        self._slots = slots
        self._mask = size - 1
        for index in range(self._count):
            hashed = self._entries[index].hashed
            at = <Py_ssize_t>(hashed & <uint64_t>self._mask)
            while slots[at] != 0:
                at = (at + 1) & self._mask
            slots[at] = _slot_of(hashed, index)
        return 0

    cdef int _grow(self) except -1:
        cdef Py_ssize_t capacity = 2 * self._capacity
        self._entries = <Entry*>_grown(self._entries, capacity * sizeof(Entry))
        self._capacity = capacity
        return 0

    cdef int _count_qualities(self, const unsigned char* data, Py_ssize_t taken) except -1:
        """Count the batch's reads' masks: all low positions of a read of a sequence in flight, counted in the
        masks' pending reads as ``QualityMasks.add`` counts them (:meth:`_count_pending`), its sites below the
        threshold for a settled one with sites.  A sequence's sites are taken from the masks' list once, the
        first time one of its reads is counted settled (:meth:`_take_sites`; sites never change once settled),
        into its entry: a read of it then costs a look at its qualities there, and no Python object (its mask,
        which of those sites are low, is counted in its entry if it is the entry's first mask, else in this
        counter's table: :meth:`_count_low`)."""
        cdef Py_ssize_t slot, index, k
        cdef uint64_t low_sites
        cdef const unsigned char* qualities
        cdef unsigned char limit = self.limit
        cdef Entry* entry
        cdef object spots
        cdef list sites = self.sites
        for slot in range(taken):
            if self._first[slot]:  # noted in first_reads already
                continue
            index = self._index[slot]
            entry = &self._entries[index]
            if entry.sites == 0:
                continue
            qualities = data + self._quality[slot]
            if entry.sites < 0:
                if index >= PyList_GET_SIZE(sites):
                    raise IndexError("a unique sequence without its sites entry")
                spots = <object>PyList_GET_ITEM(sites, index)
                if spots is None:
                    self._count_pending(index, qualities, self._length[slot])
                    continue
                if entry.sites == SITES_UNKNOWN:
                    self._take_sites(entry, spots)
                if entry.sites == SITES_ELSEWHERE:
                    self._count_elsewhere(index, qualities, spots)
                    continue
            low_sites = 0
            for k in range(entry.sites):  # (none: the read is the sequence itself)
                if qualities[entry.at[k]] < limit:
                    low_sites |= (<uint64_t>1) << k
            if not low_sites:
                continue
            # counted in its entry (its first mask, most often its only one: an error at a low-quality base),
            # else in this counter's table (flush_masks)
            if entry.low_reads == 0:
                entry.low_sites = <uint8_t>low_sites
                entry.low_reads = 1
            elif entry.low_sites == low_sites and entry.low_reads < 0x7FFFFFFF:
                entry.low_reads += 1
            else:
                self._count_low((<uint64_t>index << INLINE_SITES) | low_sites)
        return 0

    cdef int _take_sites(self, Entry* entry, object spots) except -1:
        """Note a settled sequence's ``spots`` (its sites' read positions, a sequence of int) in its entry;
        IndexError for a site outside the read."""
        cdef Py_ssize_t k, spot
        cdef bint inline
        spots = tuple(spots)
        cdef Py_ssize_t count = PyTuple_GET_SIZE(spots)
        inline = count <= INLINE_SITES
        for k in range(count):
            spot = <Py_ssize_t><object>PyTuple_GET_ITEM(spots, k)
            if spot < 0 or spot >= entry.length:
                raise IndexError("a quality site outside the read")
            if spot > 0xFFFF:
                inline = False
            elif k < INLINE_SITES:
                entry.at[k] = <uint16_t>spot
        entry.sites = <int32_t>count if inline else SITES_ELSEWHERE
        return 0

    cdef int _count_elsewhere(self, Py_ssize_t index, const unsigned char* qualities, object spots) except -1:
        """A read of settled sequence ``index`` whose sites (``spots``) its entry does not hold: its mask counted
        in the masks' dict."""
        cdef unsigned char limit = self.limit
        cdef tuple low = tuple([spot for spot in spots if qualities[<Py_ssize_t>spot] < limit])
        if PyTuple_GET_SIZE(low):
            self._count_mask(index, low)
        return 0

    cdef int _count_mask(self, Py_ssize_t index, tuple low) except -1:
        """One more read of settled sequence ``index`` with mask ``low``, in the masks' dict."""
        key = (index, low)
        self.counted[key] = self.counted.get(key, 0) + 1
        return 0

    cdef int _count_low(self, uint64_t key) except -1:
        """One more read of the mask ``key`` (sequence index << INLINE_SITES | one bit per site of its entry)."""
        cdef Py_ssize_t at = <Py_ssize_t>(_mixed(key) & <uint64_t>self._low_mask)
        cdef uint64_t entry
        cdef Py_ssize_t used
        while True:
            entry = self._low_slots[at]
            if entry == 0:
                break
            if self._low_keys[entry - 1] == key:
                self._low_counts[entry - 1] += 1
                return 0
            at = (at + 1) & self._low_mask
        used = self._low_used
        if used == self._low_capacity:
            self._grow_lows()
        self._low_keys[used] = key
        self._low_counts[used] = 1
        self._low_used = used + 1
        self._low_slots[at] = <uint64_t>(used + 1)
        if 4 * self._low_used >= 3 * (self._low_mask + 1):
            self._rehash_lows(2 * (self._low_mask + 1))
        return 0

    cdef int _grow_lows(self) except -1:
        cdef Py_ssize_t capacity = 2 * self._low_capacity
        self._low_keys = <uint64_t*>_grown(self._low_keys, capacity * sizeof(uint64_t))
        self._low_counts = <int64_t*>_grown(self._low_counts, capacity * sizeof(int64_t))
        self._low_capacity = capacity
        return 0

    cdef int _rehash_lows(self, Py_ssize_t size) except -1:
        """``size`` slots (a power of two), every mask of the table placed again."""
        cdef uint64_t* slots = _empty_slots(size)
        cdef Py_ssize_t entry, at
        free(self._low_slots)
        self._low_slots = slots
        self._low_mask = size - 1
        for entry in range(self._low_used):
            at = <Py_ssize_t>(_mixed(self._low_keys[entry]) & <uint64_t>self._low_mask)
            while slots[at] != 0:
                at = (at + 1) & self._low_mask
            slots[at] = <uint64_t>(entry + 1)
        return 0

    def flush_masks(self) -> None:
        """Add the masks counted in the entries and in this counter's table to the masks' dict
        (``QualityMasks.masks``: ``(index, mask)`` -> reads, the mask the read positions of the sites low, in the
        order the sites are; one tuple per position for one-site masks), and empty them.  The caller flushes when
        the reading is done, before the masks are read."""
        cdef Py_ssize_t used, index
        cdef uint64_t key
        cdef Entry* entry
        cdef dict counted = self.counted
        cdef dict single = {}
        cdef object pair
        if self.masks is None:
            return
        for index in range(self._count):
            entry = &self._entries[index]
            if entry.low_reads:
                pair = (index, _mask_of(entry, entry.low_sites, single))
                counted[pair] = counted.get(pair, 0) + entry.low_reads
                entry.low_reads = 0
        for used in range(self._low_used):
            key = self._low_keys[used]
            index = <Py_ssize_t>(key >> INLINE_SITES)
            pair = (index, _mask_of(&self._entries[index], key & ((<uint64_t>1 << INLINE_SITES) - 1), single))
            counted[pair] = counted.get(pair, 0) + self._low_counts[used]
        self._low_used = 0
        memset(self._low_slots, 0, (self._low_mask + 1) * sizeof(uint64_t))

    cdef int _count_pending(self, Py_ssize_t index, const unsigned char* qualities, Py_ssize_t length) except -1:
        """A read of sequence ``index``, in flight: its low-quality positions (all of them, a tuple) counted in the
        masks' pending reads of that sequence, as ``QualityMasks.add`` counts them (none: nothing counted): its
        first read as ``((low, 1),)``, a dict from the second on (``collapse.Pending``)."""
        cdef Py_ssize_t k, found = 0
        cdef unsigned char limit = self.limit
        cdef tuple low
        cdef object item
        cdef object by_low
        cdef PyObject* seen
        for k in range(length):  # no branch per base: the compiler vectorises it
            found += qualities[k] < limit
        if found == 0:
            return 0
        low = PyTuple_New(found)
        found = 0
        for k in range(length):
            if qualities[k] < limit:
                item = k
                Py_INCREF(item)
                PyTuple_SET_ITEM(low, found, item)
                found += 1
        item = index
        seen = PyDict_GetItem(self.pending, item)
        if seen == NULL:  # its first read: no dict made (most sequences have no other while in flight)
            PyDict_SetItem(self.pending, item, ((low, 1),))
            return 0
        by_low = <object>seen
        if type(by_low) is tuple:
            by_low = dict(by_low)
            PyDict_SetItem(self.pending, item, by_low)
        seen = PyDict_GetItem(by_low, low)
        if seen == NULL:
            PyDict_SetItem(by_low, low, 1)
        else:
            PyDict_SetItem(by_low, low, <object>seen + 1)
        return 0
