"""The simulator's own sequence primitives, deliberately independent of the library's.

The simulator is the test oracle: the reads it writes and the truth it returns are what every
analysis in editcheck is checked against.  It therefore shares no sequence code with the analysis
(``editcheck.alignment``, ``editcheck.reads``, ...): a bug in a shared reverse complement or pattern
search would be made on both sides and cancel out in every test.  These few functions restate on
purpose what the library has elsewhere; keep them here, small and obviously correct, and do not
replace them with imports from the library.
"""

from __future__ import annotations

BASES = "ACGT"
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def complement(sequence: str) -> str:
    """The base-by-base complement (A<->T, C<->G, N stays N)."""
    return sequence.translate(_COMPLEMENT)


def reverse_complement(sequence: str) -> str:
    """The reverse complement (A<->T, C<->G, N stays N)."""
    return sequence.translate(_COMPLEMENT)[::-1]


def occurrences(sequence: str, pattern: str) -> list[int]:
    """0-based start of every (possibly overlapping) occurrence of ``pattern``."""
    found, start = [], sequence.find(pattern)
    while start != -1:
        found.append(start)
        start = sequence.find(pattern, start + 1)
    return found


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of ``a`` and ``b``."""
    limit = min(len(a), len(b))
    i = 0
    while i < limit and a[i] == b[i]:
        i += 1
    return i
