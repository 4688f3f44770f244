# cython: language_level=3
"""The byte-string hash of the compiled readers' own hash tables (editcheck.reads._fastq_compiled: unique
sequences; editcheck.reads._pairs_compiled: identical pairs): inline, so each extension compiles it in."""

from libc.stdint cimport uint64_t
from libc.string cimport memcpy


cdef inline uint64_t _lane(uint64_t hashed, uint64_t word) noexcept nogil:
    hashed = (hashed ^ word) * 0xFF51AFD7ED558CCDULL
    return hashed ^ (hashed >> 29)


cdef inline uint64_t _rotated(uint64_t word, int bits) noexcept nogil:
    return (word << bits) | (word >> (64 - bits))


cdef inline uint64_t hash_bytes(const unsigned char* data, Py_ssize_t size, uint64_t seed) noexcept nogil:
    """A fast 64-bit hash of ``size`` bytes, chained through ``seed``: multiply-xor over 8-byte words in four
    independent lanes (32 bytes a step, which the processor runs side by side: a 300-base read in a third of the
    time of one chain), then mixed.  Not for an adversary's worst case: a collision costs the tables a
    byte-by-byte comparison only."""
    cdef uint64_t first = seed ^ 0x9E3779B97F4A7C15ULL ^ <uint64_t>size
    cdef uint64_t second = first ^ 0x6A09E667F3BCC909ULL
    cdef uint64_t third = first ^ 0xBB67AE8584CAA73BULL
    cdef uint64_t fourth = first ^ 0x3C6EF372FE94F82BULL
    cdef uint64_t word, hashed
    cdef Py_ssize_t at = 0
    while at + 32 <= size:
        memcpy(&word, data + at, 8)
        first = _lane(first, word)
        memcpy(&word, data + at + 8, 8)
        second = _lane(second, word)
        memcpy(&word, data + at + 16, 8)
        third = _lane(third, word)
        memcpy(&word, data + at + 24, 8)
        fourth = _lane(fourth, word)
        at += 32
    hashed = first ^ _rotated(second, 17) ^ _rotated(third, 31) ^ _rotated(fourth, 47)
    while at + 8 <= size:
        memcpy(&word, data + at, 8)
        hashed = _lane(hashed, word)
        at += 8
    word = 0
    if at < size:
        memcpy(&word, data + at, size - at)
        hashed = (hashed ^ word) * 0xFF51AFD7ED558CCDULL
    hashed ^= hashed >> 32
    hashed *= 0xC4CEB9FE1A85EC53ULL
    hashed ^= hashed >> 29
    return hashed
