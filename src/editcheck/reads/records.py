"""The records reads travel in: a read, a read pair, a unique read with its count, and the key of an
unmerged pair.

``Read`` and ``ReadPair`` are what the readers yield (:mod:`editcheck.reads.fastq`,
:mod:`editcheck.reads.alignments`); they are named tuples, so they unpack like the plain tuples they replace
(the readers build them with ``tuple.__new__``, skipping the generated constructor); the engine's per-read
loop takes the same records as plain tuples (:data:`FragmentTuple`), which cost less.  A genome-aligned input yields both kinds: pairs whose mates were both taken at
the site, and reads alone (single-end reads, or mates whose partner was not taken).
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

__all__ = ["Fragment", "FragmentTuple", "PairTuple", "Read", "ReadPair", "ReadTuple", "UniqueRead", "pair_key"]


class Read(NamedTuple):
    """One read as sequenced: ``name`` is the whole header line without ``@``, qualities Phred+33."""

    name: str
    sequence: str
    qualities: str


class ReadPair(NamedTuple):
    """Both mates of a fragment as sequenced (R2 not reverse-complemented); ``name`` is R1's header."""

    name: str
    first: str
    first_qualities: str
    second: str
    second_qualities: str


Fragment: TypeAlias = Read | ReadPair
"""A pair, or a read on its own."""

ReadTuple: TypeAlias = tuple[str, str, str]
PairTuple: TypeAlias = tuple[str, str, str, str, str]
FragmentTuple: TypeAlias = ReadTuple | PairTuple
"""The same records as plain tuples, told apart by their length: what the engine's per-read loop takes.  Building
and unpacking a named tuple costs about 0.2 us more per read than a plain tuple (measured: 5-10% of the CPU
time of a whole run), so the FASTQ sources feed the engine plain tuples; :class:`Read` and :class:`ReadPair`
are such tuples and pass too."""


class UniqueRead(NamedTuple):
    """A distinct sequence (or unmerged pair, keyed by :func:`pair_key`) and the number of reads carrying it."""

    key: str
    reads: int
    """Reads (or read pairs, or molecules) carrying it (``count`` would shadow the tuple method)."""


PAIR_SEPARATOR = "+"


def pair_key(first: str, second_reverse_complemented: str) -> str:
    """The key of an unmerged pair in tables and per-read calls: ``R1 + '+' + reverse-complemented R2``."""
    return first + PAIR_SEPARATOR + second_reverse_complemented
