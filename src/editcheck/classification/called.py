"""A unique read (or unmerged pair) with its count, the alignment that speaks for it and its call: the record
the engine hands to the tallies and the per-read output."""

from __future__ import annotations

from typing import NamedTuple

from editcheck.alignment.aligner import AlignedRead
from editcheck.classification.outcomes import CLASSIFIED, ReadCall

__all__ = ["CalledRead", "Classified", "classified_reads"]


class Classified(NamedTuple):
    """What an amplicon worker returns for one sequence: its best alignment (None when not aligned or too
    long) and its call."""

    alignment: AlignedRead | None
    call: ReadCall


class CalledRead(NamedTuple):
    """A unique read (its sequence, or an unmerged pair's ``R1 + '+' + rc(R2)`` key), the reads behind it,
    the alignment that speaks for it (None when not aligned) and its call."""

    key: str
    reads: int
    """Reads (or read pairs, or molecules) carrying it (``count`` would shadow the tuple method)."""
    alignment: AlignedRead | None
    call: ReadCall


def classified_reads(calls: list[CalledRead]) -> int:
    """Reads among ``calls`` whose call covers the window (a classified outcome)."""
    return sum(called.reads for called in calls if called.call.outcome in CLASSIFIED)
