# cython: language_level=3
"""The checks of plain FASTQ lines shared by the compiled readers (editcheck.reads._fastq_compiled: single-end
records; editcheck.reads._pairs_compiled: chunks of read pairs): each a whole line without a branch per
character, so that the compiler runs it on many bytes at once; inline, so each extension compiles them in."""

from libc.stdint cimport uint64_t
from libc.string cimport memcpy


cdef inline uint64_t _zero_bytes(uint64_t word) noexcept nogil:
    """0x80 in each byte of ``word`` that is 0, 0 in the others."""
    return ~(((word & 0x7F7F7F7F7F7F7F7FULL) + 0x7F7F7F7F7F7F7F7FULL) | word | 0x7F7F7F7F7F7F7F7FULL)


cdef inline bint plain_bases(const unsigned char* data, Py_ssize_t length) noexcept nogil:
    """Whether the ``length`` bytes at ``data`` are all A, C, G, T or N (8 at a time)."""
    cdef uint64_t word
    cdef uint64_t wrong = 0
    cdef Py_ssize_t at = 0
    cdef unsigned char code
    while at + 8 <= length:
        memcpy(&word, data + at, 8)
        wrong |= 0x8080808080808080ULL ^ (
            _zero_bytes(word ^ 0x4141414141414141ULL) | _zero_bytes(word ^ 0x4343434343434343ULL)
            | _zero_bytes(word ^ 0x4747474747474747ULL) | _zero_bytes(word ^ 0x5454545454545454ULL)
            | _zero_bytes(word ^ 0x4E4E4E4E4E4E4E4EULL)
        )
        at += 8
    while at < length:
        code = data[at]
        wrong |= (code != b'A') & (code != b'C') & (code != b'G') & (code != b'T') & (code != b'N')
        at += 1
    return wrong == 0


cdef inline bint plain_header(const unsigned char* data, Py_ssize_t length) noexcept nogil:
    """Whether the ``length`` bytes at ``data`` are all ASCII without a carriage return."""
    cdef unsigned char bad = 0
    cdef unsigned char code
    cdef Py_ssize_t i
    for i in range(length):
        code = data[i]
        bad |= (code >> 7) | (code == b'\r')
    return bad == 0


cdef inline bint plain_qualities(const unsigned char* data, Py_ssize_t length) noexcept nogil:
    """Whether the ``length`` bytes at ``data`` are all ``!`` to ``~``."""
    cdef unsigned char bad = 0
    cdef Py_ssize_t i
    for i in range(length):
        bad |= <unsigned char>(data[i] - 33) > 93  # below '!' wraps around to 223 and more
    return bad == 0
