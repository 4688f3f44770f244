"""The alignment scoring shared by the read aligner and the design's derived references.

WFA2 penalties (mismatch 18, gap open 36, gap extension 9), the exact WFA equivalent of the scores
match +5, mismatch -4, gap -(18 + 2 L) that amplicon tools in this field use, and the factory of an
exact affine aligner with them. It sits below both :mod:`editcheck.alignment` (reads to references)
and :mod:`editcheck.design` (an HDR outcome or a donor placed on the amplicon), so the two score
alike without the design importing the aligner.
"""

from __future__ import annotations

from pywfa import WavefrontAligner

MISMATCH_PENALTY = 18
GAP_OPEN_PENALTY = 36
GAP_EXTEND_PENALTY = 9


def wfa_aligner(reference: str | None, span: str, memory_mode: str = "high", **free: int) -> WavefrontAligner:
    """An exact (no heuristic) affine WFA aligner with editcheck's penalties."""
    return WavefrontAligner(
        reference,
        span=span,
        distance="affine",
        memory_mode=memory_mode,
        mismatch=MISMATCH_PENALTY,
        gap_opening=GAP_OPEN_PENALTY,
        gap_extension=GAP_EXTEND_PENALTY,
        heuristic=None,
        **free,
    )
