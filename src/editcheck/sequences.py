"""Nucleotide primitives shared by the library: bases, IUPAC codes, complements and CIGAR operation codes.

One place for what every module needs about DNA letters, so they cannot drift apart.  The read
simulator (:mod:`editcheck.simulate`) deliberately keeps its own copies: it is the test oracle, and an
error here must not be reproduced there.
"""

from __future__ import annotations

BASES = "ACGT"
"""The four unambiguous bases, in the order used for 0..3 codes."""

IUPAC: dict[str, str] = {
    "A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT",
    "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip
"""IUPAC nucleotide codes (upper case) and the bases each stands for."""

_COMPLEMENT_CODES = {"A": "T", "C": "G", "G": "C", "T": "A", "R": "Y", "Y": "R", "S": "S", "W": "W", "K": "M",
                     "M": "K", "B": "V", "V": "B", "D": "H", "H": "D", "N": "N"}  # fmt: skip
COMPLEMENT = str.maketrans(
    {**_COMPLEMENT_CODES, **{code.lower(): base.lower() for code, base in _COMPLEMENT_CODES.items()}}
)
"""``str.translate`` table complementing every IUPAC code in either case (``R`` <-> ``Y``, ``N`` -> ``N``);
any other character (a gap ``-``, ``*``) is kept as it is."""


def complement(sequence: str) -> str:
    """The complement of a DNA sequence, base by base (IUPAC codes, either case; other characters kept)."""
    return sequence.translate(COMPLEMENT)


def reverse_complement(sequence: str) -> str:
    """Reverse complement of a DNA sequence (IUPAC codes, either case; other characters kept, reversed)."""
    return sequence.translate(COMPLEMENT)[::-1]


# CIGAR operation codes as BAM stores them and pysam / pywfa report them in ``cigartuples``.
CIGAR_MATCH = 0
"""``M``: alignment match (the bases may be equal or not)."""
CIGAR_INSERTION = 1
"""``I``: bases in the read (query) absent from the reference."""
CIGAR_DELETION = 2
"""``D``: reference bases absent from the read."""
CIGAR_SKIP = 3
"""``N``: skipped reference region (an intron in RNA alignments)."""
CIGAR_SOFT_CLIP = 4
"""``S``: read bases present in the stored sequence but not aligned."""
CIGAR_HARD_CLIP = 5
"""``H``: read bases removed from the stored sequence."""
CIGAR_PADDING = 6
"""``P``: padding (silent deletion from a padded reference)."""
CIGAR_EQUAL = 7
"""``=``: aligned bases that are equal."""
CIGAR_MISMATCH = 8
"""``X``: aligned bases that differ (pywfa reports mismatches with this code)."""

CIGAR_LETTERS = "MIDNSHP=X"
"""The letter of each CIGAR operation code, indexed by the code."""

__all__ = [
    "BASES",
    "CIGAR_DELETION",
    "CIGAR_EQUAL",
    "CIGAR_HARD_CLIP",
    "CIGAR_INSERTION",
    "CIGAR_LETTERS",
    "CIGAR_MATCH",
    "CIGAR_MISMATCH",
    "CIGAR_PADDING",
    "CIGAR_SKIP",
    "CIGAR_SOFT_CLIP",
    "COMPLEMENT",
    "IUPAC",
    "complement",
    "reverse_complement",
]
