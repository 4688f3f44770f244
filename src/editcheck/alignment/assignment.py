"""Assigning reads of a pooled run to their amplicon: a k-mer vote picks candidates, alignment decides.

Every amplicon's k-mers (both strands) are indexed. A read's k-mers vote for the amplicons that
contain them; amplicons within a few votes of the best are aligned, and the one with the lowest
alignment penalty over the read's covered span wins. Near-identical amplicons therefore never swap
reads on k-mers alone: the alignment sees every differing base. Equal penalties leave the read
*ambiguous*; reads that no amplicon explains are *unassigned*; reads longer than the maximum read
length of their best k-mer candidate are *too long* and not aligned.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

from editcheck.alignment.aligner import AlignedRead
from editcheck.design import AmpliconDesign
from editcheck.sequences import reverse_complement

KMER = 12
STRIDE = 6
CANDIDATE_MARGIN = 0.5
"""Amplicons with at least this share of the best vote count are aligned."""


class Assignment(Enum):
    """What became of a read of a pooled run."""

    ASSIGNED = "assigned"
    """One amplicon explains it best."""
    UNASSIGNED = "unassigned"
    """No amplicon explains it (no k-mer candidate, or no candidate aligned)."""
    AMBIGUOUS = "ambiguous"
    """Two amplicons explain it equally well (or an unmerged pair's mates went to different amplicons)."""
    TOO_LONG = "too_long"
    """Longer than the maximum read length of its best k-mer candidate: not aligned."""


class Placement(NamedTuple):
    """A read's assignment, with its amplicon (an index into the designs) and alignment when assigned."""

    status: Assignment
    amplicon: int | None = None
    alignment: AlignedRead | None = None


class AmpliconIndex:
    """k-mer index over the references (amplicon and outcomes) of several designs."""

    def __init__(self, designs: Sequence[AmpliconDesign]) -> None:
        self.size = len(designs)
        index: dict[str, set[int]] = {}
        for number, design in enumerate(designs):
            for reference in design.references:
                for strand in (reference.sequence, reverse_complement(reference.sequence)):
                    for start in range(len(strand) - KMER + 1):
                        index.setdefault(strand[start : start + KMER], set()).add(number)
        self._index = {kmer: tuple(sorted(owners)) for kmer, owners in index.items()}

    def candidates(self, read: str) -> list[int]:
        """Amplicons worth aligning the read to, best vote first.

        Every STRIDE-th k-mer votes; a read with bases masked to N none of whose sampled k-mers is found
        (an N in each of them) is looked up again at every position, which finds any N-free k-mer it
        shares with an amplicon."""
        votes = self._votes(read, STRIDE)
        if not votes and "N" in read:
            votes = self._votes(read, 1)
        if not votes:
            return []
        best = max(votes.values())
        return sorted(
            (owner for owner, count in votes.items() if count >= CANDIDATE_MARGIN * best), key=lambda o: (-votes[o], o)
        )

    def _votes(self, read: str, stride: int) -> dict[int, int]:
        """Amplicon -> number of the read's k-mers (every ``stride``-th) it contains."""
        votes: dict[int, int] = {}
        index = self._index
        for start in range(0, len(read) - KMER + 1, stride):
            owners = index.get(read[start : start + KMER])
            if owners is None:
                continue
            for owner in owners:
                votes[owner] = votes.get(owner, 0) + 1
        return votes


def alignment_score(aligned: AlignedRead) -> int:
    """Score of an alignment over the span it covers (match +5, mismatch -4, gap -(18 + 2 L)).

    Unlike the aligner's penalty, the score rewards every matched base, so a read explained over
    its whole length by one amplicon beats a short chance match to another."""
    inserted = sum(len(bases) for _, bases in aligned.insertions)
    deleted = sum(length for _, length in aligned.deletions)
    columns = (aligned.end - aligned.start) + inserted
    matches = round(aligned.identity * columns / 100.0)
    mismatches = columns - matches - inserted - deleted
    gaps = len(aligned.insertions) + len(aligned.deletions)
    return 5 * matches - 4 * mismatches - 18 * gaps - 2 * (inserted + deleted)


def best_amplicon(results: Sequence[tuple[int, AlignedRead]]) -> Placement:
    """From (amplicon, alignment) candidates: the amplicon whose alignment scores highest; ambiguous on a
    tie, unassigned when there is none."""
    if not results:
        return Placement(Assignment.UNASSIGNED)
    ranked = sorted(((alignment_score(aligned), amplicon, aligned) for amplicon, aligned in results),
                    key=lambda item: (-item[0], item[1]))  # fmt: skip
    if len(ranked) > 1 and ranked[1][0] == ranked[0][0]:
        return Placement(Assignment.AMBIGUOUS)
    return Placement(Assignment.ASSIGNED, ranked[0][1], ranked[0][2])
