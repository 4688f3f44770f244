# cython: language_level=3
"""The byte-string hash of the compiled readers' own hash tables (editcheck.reads._fastq_compiled: unique
sequences; editcheck.reads._pairs_compiled: identical pairs): inline, so each extension compiles it in."""

from libc.stdint cimport uint64_t
from libc.string cimport memcpy


cdef inline uint64_t hash_bytes(const unsigned char* data, Py_ssize_t size, uint64_t seed) noexcept nogil:
    """A fast 64-bit hash of ``size`` bytes, chained through ``seed`` (multiply-xor over 8-byte words, then
    mixed).  Not for an adversary's worst case: a collision costs the tables a byte-by-byte comparison only."""
    cdef uint64_t hashed = seed ^ 0x9E3779B97F4A7C15ULL ^ <uint64_t>size
    cdef uint64_t word
    cdef Py_ssize_t at = 0
    while at + 8 <= size:
        memcpy(&word, data + at, 8)
        hashed = (hashed ^ word) * 0xFF51AFD7ED558CCDULL
        hashed ^= hashed >> 29
        at += 8
    word = 0
    if at < size:
        memcpy(&word, data + at, size - at)
        hashed = (hashed ^ word) * 0xFF51AFD7ED558CCDULL
    hashed ^= hashed >> 32
    hashed *= 0xC4CEB9FE1A85EC53ULL
    hashed ^= hashed >> 29
    return hashed
