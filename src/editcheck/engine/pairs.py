"""The one rule for a read pair that did not merge, on every route (FASTQ, BAM/CRAM, pooled, UMIs).

The pair is one fragment, counted once, and classified from one mate.  In a pool, a mate that found no
amplicon (or could not tell amplicons apart) leaves the pair to the other mate, and mates assigned to
different amplicons make the pair ambiguous; with one design both mates always belong to it.  Within its
amplicon the pair speaks through the mate :func:`choose_mate` picks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from editcheck.alignment.assignment import Assignment
from editcheck.classification.called import Classified
from editcheck.classification.outcomes import CLASSIFIED, NOT_ALIGNED, TOO_LONG, ReadCall
from editcheck.engine.workers import PooledCall

__all__ = ["MateChoice", "PairCall", "choose_mate", "resolve_unmerged"]


def choose_mate(mates: Sequence[Classified]) -> int:
    """Which mate speaks for an unmerged pair: the index into ``mates`` (R1's result first, then R2's).

    A mate whose call covers the quantification window (a classified outcome) beats a mate that aligned
    without covering it (``window_not_covered``, ``primer_dimer``), which beats a mate too long to align
    (``too_long``), which beats a mate that did not align; between two mates of the same tier the higher
    identity over the covered span wins (the mate with fewer sequencing errors); R1 on a tie.
    """

    def rank(index: int) -> tuple[int, float, int]:
        aligned, call = mates[index]
        if aligned is None or call.outcome == NOT_ALIGNED:
            return (1 if call.outcome == TOO_LONG else 0, 0.0, -index)
        return (3 if call.outcome in CLASSIFIED else 2, aligned.identity, -index)

    return max(range(len(mates)), key=rank)


class PairCall(NamedTuple):
    """An unmerged pair resolved: its assignment, its amplicon when assigned, the mate that speaks (0 = R1)
    and that mate's alignment and call (``not_aligned`` when the pair is not assigned)."""

    status: Assignment
    amplicon: int | None
    mate: int
    chosen: Classified


def resolve_unmerged(first: PooledCall, second: PooledCall) -> PairCall:
    """The pair from its mates' results (R1, and R2 reverse-complemented), by the rule of the module docstring."""
    amplicons = {result.amplicon for result in (first, second) if result.amplicon is not None}
    amplicon: int | None = None
    if len(amplicons) > 1:
        status = Assignment.AMBIGUOUS
    elif amplicons:
        status, amplicon = Assignment.ASSIGNED, amplicons.pop()
    else:
        statuses = (first.status, second.status)
        status = next((s for s in (Assignment.AMBIGUOUS, Assignment.TOO_LONG) if s in statuses), Assignment.UNASSIGNED)
    mates = [
        Classified(mate.alignment, mate.call)
        if mate.amplicon == amplicon is not None and mate.call is not None else Classified(None, ReadCall(NOT_ALIGNED))
        for mate in (first, second)
    ]  # fmt: skip
    mate = choose_mate(mates)
    return PairCall(status, amplicon, mate, mates[mate])


class MateChoice(NamedTuple):
    """How an unmerged pair is read on the UMI route (from :func:`resolve_unmerged`)."""

    mate: int
    """The mate that speaks: 0 for R1, 1 for R2."""
    used: bool
    """The chosen mate's call covers the window (a classified outcome): counted in ``unmerged_used``."""
    status: Assignment = Assignment.ASSIGNED
    """The pair's assignment (in a pool)."""
    amplicon: int | None = 0
    """The pair's amplicon, when assigned."""

    @classmethod
    def of(cls, pair: PairCall) -> MateChoice:
        return cls(pair.mate, pair.chosen.call.outcome in CLASSIFIED, pair.status, pair.amplicon)
