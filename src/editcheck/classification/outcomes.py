"""Assigning every aligned read an outcome class from the edits inside the quantification window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, NamedTuple

from editcheck.alignment.aligner import AlignedRead
from editcheck.alignment.hotpath import describe_events as _describe
from editcheck.compiled import compiled_module
from editcheck.design import AMPLICON, HDR_KIND, AmpliconDesign, Reference

UNMODIFIED = "unmodified"
MODIFIED = "modified"
LARGE_DELETION = "large_deletion"
HDR = "hdr"
IMPERFECT_HDR = "imperfect_hdr"
PRIME_EDIT = "prime_edit"
PRIME_EDIT_WITH_CHANGES = "prime_edit_with_changes"
SCAFFOLD_INSERTION = "scaffold_insertion"
AMBIGUOUS = "ambiguous"
WINDOW_NOT_COVERED = "window_not_covered"
EDITABLE_BASE_MASKED = "editable_base_masked"
"""With a base editor: a base the editor can convert, in its window, is masked to N (low quality), so the
read does not show its editing state. Such reads are left out of every percentage; masking does not
depend on the edit, so the rest are an unbiased sample."""
PRIMER_DIMER = "primer_dimer"
NOT_ALIGNED = "not_aligned"
TOO_LONG = "too_long"

CLASSIFIED = (
    UNMODIFIED, MODIFIED, LARGE_DELETION, HDR, IMPERFECT_HDR, PRIME_EDIT, PRIME_EDIT_WITH_CHANGES, SCAFFOLD_INSERTION,
    AMBIGUOUS,
)  # fmt: skip
"""Classes of reads that cover the window; their sum is the denominator of every percentage."""
EDITED = (MODIFIED, LARGE_DELETION, HDR, IMPERFECT_HDR, PRIME_EDIT, PRIME_EDIT_WITH_CHANGES, SCAFFOLD_INSERTION)

CLASS_LABELS = {
    UNMODIFIED: "Unmodified",
    MODIFIED: "Modified (indel in the window, or a base editor's conversion; NHEJ when a donor is given)",
    LARGE_DELETION: "Large deletion (at least the large-deletion size, overlapping the window)",
    HDR: "Perfect HDR (every donor-specific change present, no other edit in the window)",
    IMPERFECT_HDR: "Imperfect HDR (some donor-specific changes present, others missing or another edit in the window)",
    PRIME_EDIT: "Precise prime edit",
    PRIME_EDIT_WITH_CHANGES: "Prime edit with another change in the window",
    SCAFFOLD_INSERTION: "Prime edit with pegRNA scaffold-derived insertion",
    AMBIGUOUS: "Ambiguous (fits two outcome references equally)",
    WINDOW_NOT_COVERED: "Aligned but not covering the whole window",
    EDITABLE_BASE_MASKED: "Aligned, but a base the editor can convert is masked to N (low quality)",
    PRIMER_DIMER: "Primer dimer or short fragment (only the amplicon ends, too short to call a deletion)",
    NOT_ALIGNED: "Not aligned (below the identity threshold)",
    TOO_LONG: "Too long to align (longer than the maximum read length)",
}

# Per-read base-editing classes (with a base editor).
INTENDED_ONLY = "intended_only"
INTENDED_AND_BYSTANDER = "intended_and_bystander"
BYSTANDER_ONLY = "bystander_only"
CONVERTED = "converted"
INDEL = "indel"
UNEDITED = "unedited"
BASE_EDIT_CLASSES = (INTENDED_ONLY, INTENDED_AND_BYSTANDER, BYSTANDER_ONLY, CONVERTED, INDEL, UNEDITED)

# Coding consequence (with exons).
FRAMESHIFT = "frameshift"
IN_FRAME = "in_frame"
NONCODING = "noncoding"


@dataclass(frozen=True)
class ClassificationSettings:
    """Which event types make a read modified, and what counts as a large deletion.

    By default the biology decides which substitutions make a read edited: with a base editor, its
    conversions (from-base to to-base at a from-base in the window); with an HDR or prime-edit
    outcome, the outcome-specific bases; for a nuclease, none (nucleases make indels; an isolated
    substitution in the window is far more often a sequencing error). Substitutions are always
    reported. ``count_substitutions`` makes every substitution in the window an edit, as the field's
    reference tool (CRISPResso2) counts; ``ignore_substitutions`` makes none an edit.
    """

    ignore_substitutions: bool = False
    ignore_insertions: bool = False
    ignore_deletions: bool = False
    large_deletion_min: int = 50
    """Deletions at least this long overlapping the window make a read ``large_deletion``."""
    min_anchor: int = 25
    """Aligned amplicon bases needed on each side of a large deletion (fewer: primer dimer)."""
    min_identity: float = 60.0
    """Percent identity a read needs; for a large deletion, computed without the deletion."""
    max_length_factor: float = 2.0
    """Reads longer than this x the longest reference + 500 bases are ``too_long``: not aligned, counted."""

    count_substitutions: bool = False
    """Every substitution in the window makes a read modified (CRISPResso2's counting)."""

    def __post_init__(self) -> None:
        if self.ignore_substitutions and self.count_substitutions:
            from editcheck.errors import ParameterError

            raise ParameterError("give --count-substitutions or --ignore-substitutions, not both")


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
    base_edit: str = ""
    """Base-editing class (with a base editor), e.g. ``intended_only``."""
    target_converted: bool = False
    coding: str = ""
    """``frameshift``, ``in_frame`` or ``noncoding`` for edited reads when exons are given."""
    splice_site: bool = False
    large_deletion: int = 0
    """Length of the largest deletion when the read is a large deletion."""
    other_substitutions: int = 0
    """Substitutions in the window that are not the editor's conversions or donor bases (reported only)."""
    donor_missing: int = 0
    """With an HDR outcome: bit i set when donor change i is absent from the read (HDR classes only)."""
    hdr_other_edit: bool = False
    """An HDR read with an edit besides the donor's changes in the window."""


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
        self._references = design.references
        self._windows = [_WindowIndex(reference) for reference in self._references]
        self._editing = frozenset(design.base_editor.positions) if design.base_editor else frozenset()
        editor = design.base_editor
        self._editor = editor is not None
        self._editable = tuple(
            position for position in sorted(self._editing) if design.amplicon.sequence[position] == editor.forward_conversion[0]
        ) if editor else ()  # fmt: skip
        self._exons = design.exons
        self._scaffold_probe = _scaffold_probe(design)
        self._scaffold_junction = _scaffold_junction(design, self._scaffold_probe)
        self._donor_changes = design.donor_changes if design.hdr is not None else ()
        self._donor_positions = [
            frozenset(
                position
                for change in self._donor_changes
                for position in (
                    range(change.hdr_start, change.hdr_end) if reference.kind == HDR_KIND
                    else range(change.amplicon_start, change.amplicon_end)
                )
            )
            for reference in self._references
        ]  # fmt: skip
        # Indels that are a donor change itself (present on the amplicon, or absent on the HDR outcome)
        # are judged as donor changes, not as further edits.
        self._donor_indels: list[tuple[frozenset[tuple[int, str]], frozenset[tuple[int, int]]]] = []
        for reference in self._references:
            on_hdr = reference.kind == HDR_KIND
            insertions = frozenset(
                (change.hdr_start, change.amplicon_bases) if on_hdr else (change.amplicon_start, change.hdr_bases)
                for change in self._donor_changes
                if (on_hdr and not change.hdr_bases) or (not on_hdr and not change.amplicon_bases)
            )
            deletions = frozenset(
                (change.hdr_start, change.hdr_end - change.hdr_start) if on_hdr
                else (change.amplicon_start, change.amplicon_end - change.amplicon_start)
                for change in self._donor_changes
                if (on_hdr and not change.amplicon_bases) or (not on_hdr and not change.hdr_bases)
            )  # fmt: skip
            self._donor_indels.append((insertions, deletions))
        self._donor_checks = [self._checks(reference.kind == HDR_KIND) for reference in self._references]
        self.classify: Callable[[AlignedRead | None], ReadCall] = (
            self.python_classify if ClassifierCore is None else ClassifierCore(self).classify
        )
        """The outcome of a read; ``None`` (no alignment) is ``not_aligned``: :meth:`python_classify`, compiled
        where it is built (:mod:`editcheck.classification._classify_compiled`, identical calls)."""

    def python_classify(self, aligned: AlignedRead | None) -> ReadCall:
        """The outcome of a read; ``None`` (no alignment) is ``not_aligned`` (the reference of :attr:`classify`)."""
        if aligned is None:
            return ReadCall(NOT_ALIGNED)
        index, ambiguous, _, identity, start, end, projection, insertions, deletions, substitutions = aligned
        reference = self._references[index]
        sequence = reference.sequence
        settings = self.settings
        largest = max(deletions, key=_length) if deletions else (0, 0)
        if identity < settings.min_identity:
            fate = self._low_identity_fate(aligned, largest, len(sequence))
            if fate != LARGE_DELETION:
                return ReadCall(fate)
        window = self._windows[index]
        if start > window.first or end <= window.last:
            return ReadCall(WINDOW_NOT_COVERED, events=describe_events(aligned, sequence))
        if self._editable and reference.kind == AMPLICON and any(projection[p] == "N" for p in self._editable):
            return ReadCall(EDITABLE_BASE_MASKED, events=describe_events(aligned, sequence))
        insertion_bases = deletion_bases = 0
        donor_changes = self._donor_changes
        donor_insertions, donor_deletions = self._donor_indels[index] if donor_changes else ((), ())
        if not settings.ignore_insertions:
            for position, bases in insertions:
                if window.contains_insertion(position) and (position, bases) not in donor_insertions:
                    insertion_bases += len(bases)
        if not settings.ignore_deletions:
            prefix = window.prefix
            for begin, length in deletions:
                if prefix[begin + length] - prefix[begin] > 0 and (begin, length) not in donor_deletions:
                    deletion_bases += length  # (the deletion overlaps the window)
        indel_in_window = bool(insertion_bases or deletion_bases)
        inside = window.inside
        in_window = [(position, base) for position, base in substitutions if inside[position]] if substitutions else []
        kind = reference.kind
        donor_present = donor_missing = 0
        if donor_changes:
            donor_present, donor_missing = self._donor_state(aligned)
            if in_window:
                donor_positions = self._donor_positions[index]
                in_window = [(position, base) for position, base in in_window if position not in donor_positions]
        conversions = self._conversions(in_window, sequence) if kind == AMPLICON and self._editor else 0
        other_substitutions = len(in_window) - conversions
        if settings.count_substitutions:
            counted_substitutions = len(in_window)
        elif settings.ignore_substitutions:
            counted_substitutions = 0
        else:
            counted_substitutions = conversions
        edited = indel_in_window or counted_substitutions
        large = largest[1] if largest[1] >= settings.large_deletion_min and window.overlaps(*largest) else 0
        hdr_other_edit = False
        # A read that fits the amplicon and an outcome reference equally well shows no outcome-specific
        # base, so it is not evidence of that outcome: the aligner resolves such ties to the amplicon.
        if ambiguous and index != 0:
            outcome = AMBIGUOUS
        elif donor_changes and donor_present:
            # HDR is decided by the donor-specific bases the read shows, whichever reference it fits best.
            hdr_other_edit = bool(edited)
            outcome = IMPERFECT_HDR if donor_missing or hdr_other_edit else HDR
        elif kind in (AMPLICON, HDR_KIND):
            # No donor-specific base: not HDR, whatever reference the read fits (the worker realigns such
            # reads to the amplicon; this is the fallback).
            outcome = LARGE_DELETION if large else MODIFIED if edited else UNMODIFIED
            donor_missing = 0
        elif self._has_scaffold_insertion(aligned):
            outcome = SCAFFOLD_INSERTION
        else:
            outcome = PRIME_EDIT_WITH_CHANGES if edited else PRIME_EDIT
        base_edit, target_converted = (
            self._base_edit(aligned, indel_in_window) if kind == AMPLICON and self._editor else ("", False)
        )
        coding, splice = ("", False)
        if self._exons and kind == AMPLICON and outcome in (MODIFIED, LARGE_DELETION):
            coding, splice = self._coding_effect(aligned, window)
        return _new(ReadCall, (
            outcome, insertion_bases, deletion_bases, len(in_window),
            _describe(sequence, insertions, deletions, substitutions), base_edit, target_converted,
            coding, splice, large, other_substitutions, donor_missing, hdr_other_edit,
        ))  # fmt: skip

    def quality_positions(self, reference: int) -> frozenset[int]:
        """Positions of reference ``reference`` whose read base decides a call whatever it reads: the base
        editor's editable bases (on the amplicon) and the donor's changes (see :mod:`.quality`)."""
        editable = self._editable if self._references[reference].kind == AMPLICON else ()
        donor = self._donor_positions[reference] if self._donor_changes else frozenset()
        return frozenset(editable) | donor

    def needs_amplicon(self, aligned: AlignedRead) -> bool:
        """A read on the HDR outcome that carries none of the donor-specific changes."""
        return (
            bool(self._donor_changes) and self._references[aligned.reference].kind == HDR_KIND
            and self._donor_state(aligned)[0] == 0
        )  # fmt: skip

    def _conversions(self, substitutions: list[tuple[int, str]], sequence: str) -> int:
        """Substitutions that are the base editor's conversion: its from-base read as its to-base."""
        editor = self.design.base_editor
        if editor is None:
            return 0
        from_base, to_base = editor.forward_conversion
        return sum(1 for position, base in substitutions if base == to_base and sequence[position] == from_base)

    def _checks(self, on_hdr: bool) -> tuple[tuple[int, int, int, int, str], ...]:
        """The donor changes as :meth:`_donor_state` checks them on one reference, worked out once:
        ``(bit, kind, start, end, bases)``, kind 0 a substitution at ``start``, 1 an indel read on the HDR
        outcome, 2 a donor insertion on the amplicon, 3 a donor deletion on the amplicon (``bases`` its '-')."""
        checks = []
        for index, change in enumerate(self._donor_changes):
            if len(change.amplicon_bases) == 1 and len(change.hdr_bases) == 1:
                position = change.hdr_start if on_hdr else change.amplicon_start
                checks.append((1 << index, 0, position, position + 1, change.hdr_bases))
            elif on_hdr:
                checks.append((1 << index, 1, change.hdr_start, change.hdr_end, change.hdr_bases))
            elif change.hdr_bases:
                checks.append((1 << index, 2, change.amplicon_start, change.amplicon_end, change.hdr_bases))
            else:
                start, end = change.amplicon_start, change.amplicon_end
                checks.append((1 << index, 3, start, end, "-" * (end - start)))
        return tuple(checks)

    def _donor_state(self, aligned: AlignedRead) -> tuple[int, int]:
        """Bit masks of the donor changes the read shows and of those it lacks (deleted, wild-type,
        another base or not covered); a donor base masked to N is in neither.

        A donor substitution is shown by its base. A donor insertion or deletion is shown only with
        ``DONOR_INDEL_FLANK`` intact bases either side and no other indel there: a longer NHEJ deletion
        that happens to remove the same bases carries no donor-specific junction.
        """
        present = missing = 0
        projection = aligned.projection
        insertions: dict[int, str] | None = None
        for bit, kind, start, end, bases in self._donor_checks[aligned.reference]:
            if kind == 0:
                base = projection[start]
                if base == "N":
                    continue  # a masked base is no evidence either way
                shown = base == bases
            else:
                if insertions is None:
                    insertions = dict(aligned.insertions)
                if kind == 1:
                    # A donor insertion: its bases read through; a donor deletion: nothing inserted at the junction.
                    shown = projection[start:end] == bases and _intact_flanks(projection, insertions, start, end)
                elif kind == 2:  # a donor insertion: the same bases inserted at its junction
                    shown = insertions.get(start) == bases and _intact_flanks(
                        projection, {at: inserted for at, inserted in insertions.items() if at != start}, start, start
                    )
                else:  # a donor deletion: exactly its bases deleted
                    shown = (
                        end > start
                        and projection[start:end] == bases
                        and _intact_flanks(projection, insertions, start, end)
                    )
            if shown:
                present |= bit
            else:
                missing |= bit
        return present, missing

    def _low_identity_fate(self, aligned: AlignedRead, largest: tuple[int, int], length: int) -> str:
        """A read below the identity threshold: a large deletion with good anchors, a primer dimer, or junk."""
        start, size = largest
        if size < self.settings.large_deletion_min:
            return NOT_ALIGNED
        columns = (aligned.end - aligned.start) + sum(len(bases) for _, bases in aligned.insertions)
        matches = aligned.identity * columns / 100.0
        identity_without = 100.0 * matches / max(1, columns - size)
        if identity_without < max(self.settings.min_identity, LARGE_DELETION_MIN_FLANK_IDENTITY):
            return NOT_ALIGNED
        left_anchor, right_anchor = start - aligned.start, aligned.end - (start + size)
        if left_anchor >= self.settings.min_anchor and right_anchor >= self.settings.min_anchor:
            return LARGE_DELETION
        if aligned.start == 0 and aligned.end == length:
            return PRIMER_DIMER
        return NOT_ALIGNED

    def _base_edit(self, aligned: AlignedRead, indel_in_window: bool) -> tuple[str, bool]:
        editor = self.design.base_editor
        if editor is None:
            return "", False
        if indel_in_window:
            return INDEL, False
        from_base, to_base = editor.forward_conversion
        sequence = self._references[aligned.reference].sequence
        converted = [
            position for position, base in aligned.substitutions
            if base == to_base and position in self._editing and sequence[position] == from_base
        ]  # fmt: skip
        if editor.target is None:
            return (CONVERTED if converted else UNEDITED), False
        target = editor.target in converted
        bystanders = len(converted) - target
        if target:
            return (INTENDED_AND_BYSTANDER if bystanders else INTENDED_ONLY), True
        return (BYSTANDER_ONLY if bystanders else UNEDITED), False

    def _coding_effect(self, aligned: AlignedRead, window: _WindowIndex) -> tuple[str, bool]:
        """Net change of coding length from in-window indels: frameshift, in-frame or noncoding."""
        net = 0
        touches_exon = False
        splice = False
        for start, length in aligned.deletions:
            if not window.overlaps(start, length):
                continue
            for exon_start, exon_end in self._exons:
                overlap = min(exon_end, start + length) - max(exon_start, start)
                if overlap > 0:
                    net -= overlap
                    touches_exon = True
                if _touches_splice_site(start, start + length, exon_start, exon_end):
                    splice = True
        for position, bases in aligned.insertions:
            if not window.contains_insertion(position):
                continue
            for exon_start, exon_end in self._exons:
                if exon_start < position < exon_end:
                    net += len(bases)
                    touches_exon = True
                if _touches_splice_site(position - 1, position + 1, exon_start, exon_end):
                    splice = True
        for position, _base in aligned.substitutions:
            if window.inside[position]:
                for exon_start, exon_end in self._exons:
                    if exon_start <= position < exon_end:
                        touches_exon = True
                    if _touches_splice_site(position, position + 1, exon_start, exon_end):
                        splice = True
        if not touches_exon:
            return NONCODING, splice
        return (FRAMESHIFT if net % 3 else IN_FRAME), splice

    def _has_scaffold_insertion(self, aligned: AlignedRead) -> bool:
        """The read continues from the end of the templated flap with bases copied from the pegRNA
        scaffold instead of the reference (read in the alignment at the flap's 3' end)."""
        probe = self._scaffold_probe
        prime = self.design.prime_edit
        if not probe or prime is None or prime.scaffold_position is None:
            return False
        position = prime.scaffold_position
        flap_start = position - len(prime.flaps[0][2]) if prime.scaffold_strand == "+" else position
        # An insertion that repeats part of the flap can sit at several equivalent positions:
        # look for the flap end joined to the scaffold bases in the read itself.
        if (
            self._scaffold_junction
            and any(flap_start <= at <= position + len(bases) for at, bases in aligned.insertions)
            and self._scaffold_junction in aligned_sequence(aligned).upper().replace("-", "").replace(".", "")
        ):
            return True
        inserted = "".join(bases for at, bases in aligned.insertions if at == position)
        if prime.scaffold_strand == "+":
            following = inserted + aligned.projection[position : position + len(probe) + 1].replace("-", "")
            return following.startswith(probe)
        preceding = aligned.projection[max(0, position - len(probe) - 1) : position].replace("-", "") + inserted
        return preceding.endswith(probe)


_new = tuple.__new__

_compiled_classifier = compiled_module("editcheck.classification._classify_compiled", "classifier")
ClassifierCore: Any = None if _compiled_classifier is None else _compiled_classifier.ClassifierCore
""":meth:`Classifier.python_classify` compiled (or None: the Python method runs), chosen once, at import."""


def _length(deletion: tuple[int, int]) -> int:
    return deletion[1]


DONOR_INDEL_FLANK = 5
"""Intact read bases needed either side of a donor insertion or deletion for the read to show it."""

LARGE_DELETION_MIN_FLANK_IDENTITY = 85.0
"""Outside a large deletion, a read must match this well: short anchors of junk do not qualify."""


def _intact_flanks(projection: str, insertions: dict[int, str], start: int, end: int) -> bool:
    """``DONOR_INDEL_FLANK`` covered, undeleted bases before ``start`` and from ``end``, and no insertion
    from ``start - flank + 1`` to ``end + flank - 1`` (so none at the junction itself either)."""
    flank = DONOR_INDEL_FLANK
    if start - flank < 0 or end + flank > len(projection):
        return False
    around = projection[start - flank : start] + projection[end : end + flank]
    if "-" in around or "." in around:
        return False
    return not any(start - flank < at < end + flank for at in insertions)


def _touches_splice_site(start: int, end: int, exon_start: int, exon_end: int) -> bool:
    """An event [start, end) touches the 2 intronic bases flanking either end of an exon."""
    return (start < exon_start and end > exon_start - 2) or (start < exon_end + 2 and end > exon_end)


def _scaffold_probe(design: AmpliconDesign) -> str:
    """The shortest run of scaffold-derived bases that differs from the edited reference at the flap's
    3' end (the field's reference tool uses the same rule); empty without a scaffold."""
    prime, edited = design.prime_edit, design.prime_edited
    if prime is None or edited is None or prime.scaffold_sequence is None or prime.scaffold_position is None:
        return ""
    scaffold, position, reference = prime.scaffold_sequence, prime.scaffold_position, edited.sequence
    for length in range(1, len(scaffold) + 1):
        if prime.scaffold_strand == "+":
            probe, continuation = scaffold[:length], reference[position : position + length]
        else:
            probe, continuation = scaffold[-length:], reference[max(0, position - length) : position]
        if probe != continuation:
            return probe
    return scaffold


SCAFFOLD_FLAP_CONTEXT = 10
"""Flap bases that must precede (or follow) the scaffold-derived bases in a read's own sequence."""


def _scaffold_junction(design: AmpliconDesign, probe: str) -> str:
    prime, edited = design.prime_edit, design.prime_edited
    if not probe or prime is None or edited is None or prime.scaffold_position is None:
        return ""
    position, reference = prime.scaffold_position, edited.sequence
    if prime.scaffold_strand == "+":
        return reference[max(0, position - SCAFFOLD_FLAP_CONTEXT) : position] + probe
    return probe + reference[position : position + SCAFFOLD_FLAP_CONTEXT]


def describe_events(aligned: AlignedRead, reference: str) -> str:
    """All differences from the reference in 1-based HGVS-like notation, e.g. ``92_94del;95_96insAT;100C>T``."""
    return _describe(reference, aligned.insertions, aligned.deletions, aligned.substitutions)


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
