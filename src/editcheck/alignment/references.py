"""Deriving further references from the amplicon: the HDR outcome built from a donor template,
and the cut points and window carried over from the amplicon to such a reference."""

from __future__ import annotations

from pywfa import WavefrontAligner

from editcheck.alignment.aligner import GAP_EXTEND_PENALTY, GAP_OPEN_PENALTY, MISMATCH_PENALTY
from editcheck.design import Reference, reverse_complement
from editcheck.errors import DesignError

_MATCH, _INSERTION, _DELETION, _MISMATCH = 0, 1, 2, 8
MIN_DONOR_IDENTITY = 0.7


def _penalties(**free: int) -> WavefrontAligner:
    span = "ends-free" if free else "end-to-end"
    return WavefrontAligner(
        span=span,
        distance="affine",
        mismatch=MISMATCH_PENALTY,
        gap_opening=GAP_OPEN_PENALTY,
        gap_extension=GAP_EXTEND_PENALTY,
        heuristic=None,
        **free,
    )


def place_donor(amplicon: str, donor: str) -> str:
    """The amplicon after perfect HDR: the donor replaces the stretch its homology arms align to.

    The donor may be given in either orientation; the one that aligns better is used.
    """
    best: tuple[int, str] | None = None
    for candidate in (donor, reverse_complement(donor)):
        aligner = _penalties(
            pattern_begin_free=len(amplicon), pattern_end_free=len(amplicon), text_begin_free=0, text_end_free=0
        )
        aligner.wavefront_align(candidate, amplicon)
        pattern_start, pattern_end, _, _ = aligner.locations
        matches = sum(length for code, length in aligner.cigartuples if code == _MATCH)
        if matches < MIN_DONOR_IDENTITY * len(candidate):
            continue
        expected = amplicon[:pattern_start] + candidate + amplicon[pattern_end:]
        penalty = -aligner.score
        if best is None or penalty < best[0]:
            best = (penalty, expected)
    if best is None:
        raise DesignError(
            f"donor template ({len(donor)} bp) does not align to the amplicon on either strand "
            f"(needs at least {MIN_DONOR_IDENTITY:.0%} of its bases matching)"
        )
    return best[1]


def map_positions(source: str, target: str) -> list[int | None]:
    """For every position of ``source``, the aligned position in ``target`` (None if deleted).

    Bases of ``target`` beyond the ends of ``source`` are free end gaps, so they never map.
    """
    aligner = _penalties(pattern_begin_free=0, pattern_end_free=0, text_begin_free=len(target), text_end_free=len(target))
    aligner.wavefront_align(target, source)
    mapping: list[int | None] = []
    target_position = 0
    for code, length in aligner.cigartuples:
        if code in (_MATCH, _MISMATCH):
            mapping.extend(range(target_position, target_position + length))
            target_position += length
        elif code == _DELETION:
            mapping.extend([None] * length)
        else:
            target_position += length
    return mapping


def project_reference(reference: Reference, name: str, sequence: str) -> Reference:
    """A new reference whose cut points and window are carried over from ``reference`` by alignment.

    A window position deleted in the new sequence contributes the two bases that flank the
    deletion junction, so a window that falls inside a donor deletion still exists on the HDR
    reference.
    """
    mapping = map_positions(reference.sequence, sequence)
    mapped = [target for target in mapping if target is not None]
    if not mapped:
        raise DesignError(f"the {name} sequence does not align to the amplicon")
    # Bases beyond the amplicon's ends lie outside the primers: trim them so that both references
    # span the same stretch of genome.
    trim_left, trim_right = mapped[0], mapped[-1] + 1
    if trim_left or trim_right < len(sequence):
        sequence = sequence[trim_left:trim_right]
        mapping = [None if target is None else target - trim_left for target in mapping]

    def nearest_left(position: int) -> int:
        while position >= 0 and mapping[position] is None:
            position -= 1
        return -1 if position < 0 else mapping[position]  # type: ignore[return-value]

    def nearest_right(position: int) -> int:
        while position < len(mapping) and mapping[position] is None:
            position += 1
        return len(sequence) if position >= len(mapping) else mapping[position]  # type: ignore[return-value]

    inside = [False] * len(sequence)
    for position in reference.window_positions:
        target = mapping[position]
        if target is not None:
            inside[target] = True
        else:
            for flank in (nearest_left(position), nearest_right(position)):
                if 0 <= flank < len(sequence):
                    inside[flank] = True
    cut_points = tuple(sorted({max(0, nearest_left(cut)) for cut in reference.cut_points}))
    return Reference(name, sequence, cut_points, tuple(inside))
