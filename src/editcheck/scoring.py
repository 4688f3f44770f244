"""The alignment scoring shared by the read aligner and the design's derived references.

WFA2 penalties (mismatch 18, gap open 36, gap extension 9), the exact WFA equivalent of the scores
match +5, mismatch -4, gap -(18 + 2 L) that amplicon tools in this field use, and the factory of an
exact affine aligner with them. It sits below both :mod:`editcheck.alignment` (reads to references)
and :mod:`editcheck.design` (an HDR outcome or a donor placed on the amplicon), so the two score
alike without the design importing the aligner.
"""

from __future__ import annotations

from math import gcd

from pywfa import WavefrontAligner

MISMATCH_PENALTY = 18
GAP_OPEN_PENALTY = 36
GAP_EXTEND_PENALTY = 9


PENALTY_UNIT = gcd(MISMATCH_PENALTY, GAP_OPEN_PENALTY, GAP_EXTEND_PENALTY)
"""The penalties' common factor (9): an aligner given them divided by it (2, 4, 1) scores every alignment in
proportion, so it finds the same optimal alignments, and it steps through 9 times fewer scores."""


def wfa_aligner(reference: str | None, span: str, memory_mode: str = "high", **free: int) -> WavefrontAligner:
    """An exact (no heuristic) affine WFA aligner with editcheck's penalties."""
    return _aligner(reference, span, memory_mode, 1, free)


def reduced_wfa_aligner(reference: str | None, span: str) -> WavefrontAligner:
    """:func:`wfa_aligner` with the penalties divided by :data:`PENALTY_UNIT`: the same alignments, ~1.5x faster
    (its ``score`` is in those units)."""
    return _aligner(reference, span, "high", PENALTY_UNIT, {})


def _aligner(reference: str | None, span: str, memory_mode: str, unit: int, free: dict[str, int]) -> WavefrontAligner:
    return WavefrontAligner(
        reference,
        span=span,
        distance="affine",
        memory_mode=memory_mode,
        mismatch=MISMATCH_PENALTY // unit,
        gap_opening=GAP_OPEN_PENALTY // unit,
        gap_extension=GAP_EXTEND_PENALTY // unit,
        heuristic=None,
        **free,
    )
