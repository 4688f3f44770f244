"""Place indels by one rule, whatever the aligner chose among equal-scoring alignments.

An indel inside a repeat can sit at several positions with the same score. Aligners break such ties
differently (WFA2 rightmost, parasail leftmost), so editcheck moves every indel within its range of
equivalent positions: to the placement nearest a cut site (a deletion touching the cut, or an
insertion at the cut, when the range allows it; among those, one starting right after the cut),
else to the leftmost placement when the reference has no cut site. Remaining ties go to the
leftmost placement. Only shifts that keep every column's
match/mismatch status are allowed, so the substitution calls and the score never change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

GAP_RUN = re.compile(r"-+")


def _distance_to_cuts(start: int, end: int, cut_boundaries: Sequence[int]) -> int:
    """Distance from the reference interval [start, end] to the nearest cut boundary (0 if it touches)."""
    best = 1 << 30
    for boundary in cut_boundaries:
        if start <= boundary <= end:
            return 0
        best = min(best, abs(start - boundary), abs(end - boundary))
    return best


def place_indels(
    reference_aligned: str, read_aligned: str, reference_start: int, cut_boundaries: Sequence[int]
) -> tuple[str, str]:
    """Return the gapped pair with every indel moved to its canonical position.

    ``reference_aligned`` and ``read_aligned`` are the gapped reference and read over the covered
    span, which begins at reference position ``reference_start``. ``cut_boundaries`` are reference
    indices of the first base 3' of each cut.
    """
    reference, read = reference_aligned, read_aligned
    for is_deletion in (True, False):
        gapped, other = (read, reference) if is_deletion else (reference, read)
        if "-" not in gapped:
            continue
        for run in GAP_RUN.finditer(gapped):
            begin, end = run.span()
            # How far can the gap move? The base that would cross the gap must equal the base at
            # the far end of the gap (in the ungapped sequence), and neither may be a gap.
            left = 0
            while (
                begin - left - 1 >= 0
                and gapped[begin - left - 1] != "-"
                and other[begin - left - 1] != "-"
                and other[begin - left - 1] == other[end - left - 1]
            ):
                left += 1
            right = 0
            while (
                end + right < len(other)
                and gapped[end + right] != "-"
                and other[end + right] != "-"
                and other[begin + right] == other[end + right]
            ):
                right += 1
            if left == 0 and right == 0:
                continue
            # Reference coordinate of the gap's first column.
            column_reference = reference_start + begin - reference.count("-", 0, begin)
            length = end - begin
            best_shift, best_distance = -left, None
            if cut_boundaries:
                for shift in range(-left, right + 1):
                    position = column_reference + shift
                    span_end = position + length if is_deletion else position
                    # Touching a cut is distance 0; starting right at it (CRISPResso-compatible) wins ties.
                    distance = 2 * _distance_to_cuts(position, span_end, cut_boundaries)
                    if position not in cut_boundaries:
                        distance += 1
                    if best_distance is None or distance < best_distance:
                        best_shift, best_distance = shift, distance
            if best_shift == 0:
                continue
            # Move the gap: the bases of ``gapped`` in the affected stretch keep their order.
            low, high = begin - left, end + right
            bases = gapped[low:begin] + gapped[end:high]
            split = begin + best_shift - low
            gapped = gapped[:low] + bases[:split] + "-" * length + bases[split:] + gapped[high:]
        if is_deletion:
            read = gapped
        else:
            reference = gapped
    return reference, read
