"""Assigning every aligned read an outcome class from the edits inside the quantification window."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

from editcheck.alignment.aligner import AlignedRead
from editcheck.design import AmpliconDesign, Reference

UNMODIFIED = "unmodified"
MODIFIED = "modified"
HDR = "hdr"
IMPERFECT_HDR = "imperfect_hdr"
AMBIGUOUS = "ambiguous"
WINDOW_NOT_COVERED = "window_not_covered"
NOT_ALIGNED = "not_aligned"

CLASSIFIED = (UNMODIFIED, MODIFIED, HDR, IMPERFECT_HDR, AMBIGUOUS)
"""Classes of reads that cover the window; their sum is the denominator of every percentage."""
ALL_FATES = CLASSIFIED + (WINDOW_NOT_COVERED, NOT_ALIGNED)

CLASS_LABELS = {
    UNMODIFIED: "Unmodified",
    MODIFIED: "Modified (indel or substitution in window; NHEJ when a donor is given)",
    HDR: "Perfect HDR",
    IMPERFECT_HDR: "Imperfect HDR (HDR outcome with a further edit in the window)",
    AMBIGUOUS: "Ambiguous (fits two non-amplicon references equally)",
    WINDOW_NOT_COVERED: "Aligned but not covering the whole window",
    NOT_ALIGNED: "Not aligned (below the identity threshold)",
}


@dataclass(frozen=True)
class ClassificationSettings:
    """Which event types make a read modified."""

    ignore_substitutions: bool = False
    ignore_insertions: bool = False
    ignore_deletions: bool = False


class ReadCall(NamedTuple):
    """The outcome of one unique read and the edits that decided it."""

    outcome: str
    insertion_bases: int = 0
    """Inserted bases counted in the window."""
    deletion_bases: int = 0
    """Deleted bases of deletions that overlap the window."""
    substitutions: int = 0
    """Substitutions counted in the window."""
    events: str = ""
    """Every difference from the assigned reference, as written by :func:`describe_events`."""


class _WindowIndex:
    """Constant-time window queries on one reference."""

    def __init__(self, reference: Reference) -> None:
        self.inside = reference.window
        self.prefix = [0, *accumulate(int(flag) for flag in reference.window)]
        positions = reference.window_positions
        self.first, self.last = positions[0], positions[-1]

    def overlaps(self, start: int, length: int) -> bool:
        return self.prefix[start + length] - self.prefix[start] > 0

    def contains_insertion(self, position: int) -> bool:
        """An insertion between position - 1 and position counts when both flanks are in the window."""
        return 0 < position < len(self.inside) and self.inside[position - 1] and self.inside[position]


class Classifier:
    """Classifies aligned reads of one design."""

    def __init__(self, design: AmpliconDesign, settings: ClassificationSettings = ClassificationSettings()) -> None:
        self.design = design
        self.settings = settings
        self._windows = [_WindowIndex(reference) for reference in design.references]

    def classify(self, aligned: AlignedRead | None) -> ReadCall:
        """The outcome of a read; ``None`` (no alignment) is ``not_aligned``."""
        if aligned is None:
            return ReadCall(NOT_ALIGNED)
        window = self._windows[aligned.reference]
        sequence = self.design.references[aligned.reference].sequence
        if aligned.start > window.first or aligned.end <= window.last:
            return ReadCall(WINDOW_NOT_COVERED, events=describe_events(aligned, sequence))
        settings = self.settings
        insertion_bases = deletion_bases = substitutions = 0
        if not settings.ignore_insertions:
            for position, bases in aligned.insertions:
                if window.contains_insertion(position):
                    insertion_bases += len(bases)
        if not settings.ignore_deletions:
            for start, length in aligned.deletions:
                if window.overlaps(start, length):
                    deletion_bases += length
        if not settings.ignore_substitutions:
            inside = window.inside
            substitutions = sum(1 for position, _ in aligned.substitutions if inside[position])
        edited = insertion_bases or deletion_bases or substitutions
        # A read that fits the amplicon and the HDR outcome equally well shows no donor-specific
        # base, so it is not evidence of HDR: the aligner resolves such ties to the amplicon.
        if aligned.ambiguous and aligned.reference != 0:
            outcome = AMBIGUOUS
        elif aligned.reference == 0:
            outcome = MODIFIED if edited else UNMODIFIED
        else:
            outcome = IMPERFECT_HDR if edited else HDR
        return ReadCall(outcome, insertion_bases, deletion_bases, substitutions, describe_events(aligned, sequence))


def describe_events(aligned: AlignedRead, reference: str) -> str:
    """All differences from the reference in 1-based HGVS-like notation, e.g. ``92_94del;95_96insAT;100C>T``."""
    events: list[tuple[int, str]] = []
    for start, length in aligned.deletions:
        label = f"{start + 1}del" if length == 1 else f"{start + 1}_{start + length}del"
        events.append((start, label))
    for position, bases in aligned.insertions:
        events.append((position, f"{position}_{position + 1}ins{bases}"))
    for position, base in aligned.substitutions:
        events.append((position, f"{position + 1}{reference[position]}>{base}"))
    events.sort()
    return ";".join(label for _, label in events)


def aligned_sequence(aligned: AlignedRead) -> str:
    """The read laid on reference coordinates: '-' deleted, '.' not covered, insertions in lower case."""
    if not aligned.insertions:
        return aligned.projection
    parts: list[str] = []
    previous = 0
    for position, bases in aligned.insertions:
        parts.append(aligned.projection[previous:position])
        parts.append(bases.lower())
        previous = position
    parts.append(aligned.projection[previous:])
    return "".join(parts)
