"""The shared nucleotide primitives: IUPAC complements in either case, and CIGAR codes as pysam uses them."""

from __future__ import annotations

import pysam
import pytest

from editcheck.sequences import (
    BASES,
    CIGAR_DELETION,
    CIGAR_EQUAL,
    CIGAR_HARD_CLIP,
    CIGAR_INSERTION,
    CIGAR_LETTERS,
    CIGAR_MATCH,
    CIGAR_MISMATCH,
    CIGAR_PADDING,
    CIGAR_SKIP,
    CIGAR_SOFT_CLIP,
    IUPAC,
    complement,
    reverse_complement,
)


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ("AACGTN", "NACGTT"),
        ("aacgtn", "nacgtt"),
        ("GATTACA", "TGTAATC"),
        ("AcGt", "aCgT"),
        ("ACGRYSWKMBDHVN", "NBDHVKMWSRYCGT"),
        ("rykm", "kmry"),  # r->y, y->r, k->m, m->k, then reversed
        ("AC-GT", "AC-GT"),  # an alignment gap stays a gap
        ("NNNN", "NNNN"),
        ("", ""),
    ],
)
def test_reverse_complement(sequence: str, expected: str) -> None:
    assert reverse_complement(sequence) == expected


def test_complement_keeps_the_order_and_unknown_characters() -> None:
    assert complement("ACGTRYN") == "TGCAYRN"
    assert complement("a*c") == "t*g"
    assert complement("") == ""


def test_iupac_complement_stands_for_the_complementary_bases() -> None:
    """For every code, the complement's bases are the complements of the code's bases (R=AG -> Y=CT)."""
    pair = {"A": "T", "C": "G", "G": "C", "T": "A"}
    assert set(IUPAC) == set("ACGTRYSWKMBDHVN")
    for code, bases in IUPAC.items():
        assert set(IUPAC[complement(code)]) == {pair[base] for base in bases}, code
        assert complement(code.lower()) == complement(code).lower()
        assert reverse_complement(reverse_complement(code)) == code
    assert all(set(bases) <= set(BASES) for bases in IUPAC.values())


def test_cigar_codes_are_those_of_sam_and_pysam() -> None:
    codes = [CIGAR_MATCH, CIGAR_INSERTION, CIGAR_DELETION, CIGAR_SKIP, CIGAR_SOFT_CLIP, CIGAR_HARD_CLIP,
             CIGAR_PADDING, CIGAR_EQUAL, CIGAR_MISMATCH]  # fmt: skip
    assert codes == [pysam.CMATCH, pysam.CINS, pysam.CDEL, pysam.CREF_SKIP, pysam.CSOFT_CLIP, pysam.CHARD_CLIP,
                     pysam.CPAD, pysam.CEQUAL, pysam.CDIFF]  # fmt: skip
    assert [CIGAR_LETTERS[code] for code in codes] == list("MIDNSHP=X")
    segment = pysam.AlignedSegment()
    segment.cigarstring = "2H3S10M1I4D2N5=1X2P"
    assert [(CIGAR_LETTERS[code], length) for code, length in segment.cigartuples or []] == [
        ("H", 2), ("S", 3), ("M", 10), ("I", 1), ("D", 4), ("N", 2), ("=", 5), ("X", 1), ("P", 2)
    ]  # fmt: skip
