"""The experiment design: amplicon, guides and their cut sites, quantification window, HDR outcome.

Coordinates are 0-based inside the library. A *cut point* is the index of the last amplicon base
5' of the cut (on the amplicon's forward strand), so the cut lies between ``cut_point`` and
``cut_point + 1``. Windows given by users are 1-based inclusive ranges, as people count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from editcheck.errors import DesignError
from editcheck.sequences import complement, reverse_complement

VALID_AMPLICON = re.compile(r"^[ACGTN]+$")
VALID_GUIDE = re.compile(r"^[ACGTN]+$")

BASES = frozenset("ACGT")
"""The four bases a base editor converts from and to."""

DEFAULT_CUT_OFFSET = 3
"""SpCas9 cuts 3 nt 5' of the PAM, between protospacer nucleotides 17 and 18."""

DEFAULT_WINDOW_FLANK = 3
"""Bases on each side of a cut that make up the default quantification window (6 bp per cut)."""

FLAP_JUNCTION_FLANK = 5
"""Bases either side of a pegRNA flap's 3' junction added to the window."""

DEFAULT_EXCLUDE_ENDS = 15
"""Without a guide, the window is the amplicon less this many bases at each end (primer sequence)."""


def clean_sequence(sequence: str, what: str) -> str:
    """Upper-case a user sequence, drop whitespace and reject characters outside ACGTN."""
    cleaned = "".join(sequence.split()).upper().replace("U", "T")
    if not cleaned:
        raise DesignError(f"{what} is empty")
    bad = sorted(set(cleaned) - set("ACGTN"))
    if bad:
        raise DesignError(f"{what} contains characters outside ACGTN: {', '.join(repr(b) for b in bad)}")
    return cleaned


@dataclass(frozen=True)
class GuideSite:
    """Where a guide sits on the amplicon and where the nuclease cuts."""

    sequence: str
    start: int
    """0-based start of the protospacer on the amplicon's forward strand."""
    strand: str
    """``+`` if the guide reads along the amplicon, ``-`` if along its reverse complement."""
    cut_point: int
    """0-based index of the last base 5' of the cut (forward strand)."""

    @property
    def end(self) -> int:
        return self.start + len(self.sequence)


def locate_guide(amplicon: str, guide: str, cut_offset: int = DEFAULT_CUT_OFFSET) -> GuideSite:
    """Find a guide on either strand of the amplicon; it must occur exactly once."""
    guide = clean_sequence(guide, "guide")
    hits: list[tuple[int, str]] = []
    for strand, probe in (("+", guide), ("-", reverse_complement(guide))):
        position = amplicon.find(probe)
        while position != -1:
            hits.append((position, strand))
            position = amplicon.find(probe, position + 1)
    if not hits:
        raise DesignError(f"guide {guide} is not in the amplicon (searched both strands)")
    if len(hits) > 1:
        places = ", ".join(f"{start + 1}{strand}" for start, strand in hits)
        raise DesignError(f"guide {guide} occurs {len(hits)} times in the amplicon (at {places}); it must be unique")
    start, strand = hits[0]
    cut_point = start + len(guide) - 1 - cut_offset if strand == "+" else start + cut_offset - 1
    if not 0 <= cut_point < len(amplicon) - 1:
        raise DesignError(f"guide {guide}: cut site at offset {cut_offset} falls outside the amplicon")
    return GuideSite(guide, start, strand, cut_point)


PROTOSPACER_LENGTH = 20
SPCAS9_PAM = re.compile(r"[ACGT]GG")


def without_pam(guide: str, what: str, notes: list[str]) -> str:
    """A guide given with its PAM (20 nt + NGG, 23 nt) becomes its 20-nt protospacer, with a note.

    The cut is placed from the protospacer's 3' end, so a PAM left on the guide would move it 3 bp.
    Only the unmistakable case is recognised: 23 nt ending in an SpCas9 PAM (NGG).
    """
    cleaned = clean_sequence(guide, what)
    if len(cleaned) == PROTOSPACER_LENGTH + 3 and SPCAS9_PAM.fullmatch(cleaned[-3:]):
        protospacer = cleaned[:PROTOSPACER_LENGTH]
        notes.append(
            f"{what} {cleaned} is 23 nt ending in the PAM {cleaned[-3:]}: its first 20 nt {protospacer} were used as "
            "the protospacer (give the guide without its PAM to silence this note)"
        )
        return protospacer
    return cleaned


def parse_window(text: str, amplicon_length: int, what: str = "window") -> tuple[tuple[int, int], ...]:
    """Parse ``"90-96,120-125"`` (1-based inclusive) into 0-based half-open ranges; ``what`` names the
    option in messages (window, exons)."""
    ranges: list[tuple[int, int]] = []
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise DesignError(f"{what} {text!r}: expected 1-based ranges like 90-96 or 90-96,120-125")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first or last > amplicon_length:
            raise DesignError(f"{what} range {part} is outside the amplicon (1-{amplicon_length}) or reversed")
        ranges.append((first - 1, last))
    return tuple(ranges)


def parse_protospacer_range(text: str, what: str = "editing window") -> tuple[int, int]:
    """Parse ``"4-8"`` (or ``"5"``), 1-based inclusive protospacer positions (1 = PAM-distal end), into
    (first, last); order and length are checked against the guide by :func:`resolve_base_editor`."""
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", "".join(text.split()))
    if not match:
        raise DesignError(f"{what} {text!r}: expected protospacer positions like 4-8")
    first = int(match.group(1))
    return first, int(match.group(2) or first)


def parse_conversion(text: str) -> tuple[str, str]:
    """Parse a base conversion on the guide strand, ``"C>G"`` (any case), into ("C", "G")."""
    from_base, _, to_base = "".join(text.split()).upper().partition(">")
    if from_base not in BASES or to_base not in BASES or from_base == to_base:
        raise DesignError(f"base conversion {text!r}: expected one of A, C, G, T changed into another, e.g. C>G")
    return from_base, to_base


def parse_base_editor(text: str) -> tuple[str | None, tuple[str, str] | None]:
    """A base editor as a user writes it: a preset name (``ABE``, ``CBE``; checked by
    :func:`resolve_base_editor`) gives (name, None); a conversion such as ``C>G`` gives (None, ("C", "G"))."""
    if ">" in text:
        return None, parse_conversion(text)
    return text, None


AMPLICON, HDR_KIND, PRIME_EDIT_KIND = "amplicon", "hdr", "prime_edit"


@dataclass(frozen=True)
class Reference:
    """One sequence reads are aligned to, with its cut points and quantification window."""

    name: str
    sequence: str
    cut_points: tuple[int, ...]
    window: tuple[bool, ...] = field(repr=False)
    kind: str = AMPLICON
    """``amplicon``, ``hdr`` (outcome of HDR) or ``prime_edit`` (intended prime-edited amplicon)."""

    @property
    def window_positions(self) -> tuple[int, ...]:
        return tuple(index for index, inside in enumerate(self.window) if inside)

    def window_ranges(self) -> list[tuple[int, int]]:
        """The window as 1-based inclusive ranges."""
        ranges: list[tuple[int, int]] = []
        for position in self.window_positions:
            if ranges and ranges[-1][1] == position:
                ranges[-1] = (ranges[-1][0], position + 1)
            else:
                ranges.append((position + 1, position + 1))
        return ranges


BASE_EDITOR_PRESETS = {"ABE": ("A", "G", (4, 8)), "CBE": ("C", "T", (4, 8))}
"""Conversion on the guide strand and editing window in protospacer positions (1 = PAM-distal end)."""


@dataclass(frozen=True)
class BaseEditor:
    """A base editor resolved on the amplicon's forward strand."""

    name: str
    conversion: tuple[str, str]
    """(from, to) on the guide strand, e.g. ("A", "G") for an adenine base editor."""
    protospacer_window: tuple[int, int]
    guide: GuideSite
    forward_conversion: tuple[str, str]
    """(from, to) on the amplicon's forward strand (complemented for a reverse-strand guide)."""
    positions: tuple[int, ...]
    """0-based amplicon positions of the editing window."""
    target: int | None = None
    """0-based amplicon position of the base the therapy must convert."""

    def protospacer_position(self, amplicon_position: int) -> int:
        """1-based protospacer position of a 0-based amplicon position (may lie outside 1..20)."""
        if self.guide.strand == "+":
            return amplicon_position - self.guide.start + 1
        return self.guide.end - amplicon_position


@dataclass(frozen=True)
class PrimeEdit:
    """How the intended prime-edited amplicon was built, and where scaffold-derived bases would sit."""

    flaps: tuple[tuple[int, int, str], ...]
    """(start, end, new sequence) replaced on the amplicon by each pegRNA's templated flap."""
    notes: tuple[str, ...]
    """Orientation decisions, stated for the user."""
    scaffold_position: int | None = None
    """Position on the prime-edited reference where scaffold-derived bases would be inserted."""
    scaffold_sequence: str | None = None
    """DNA copied from the scaffold, in forward-strand orientation as it would appear at that position."""
    scaffold_strand: str = "+"
    """'+': scaffold bases follow the flap (read 5'->3'); '-': they precede it."""


@dataclass(frozen=True)
class DonorChange:
    """One donor-specific change: amplicon[amplicon_start:amplicon_end] becomes hdr[hdr_start:hdr_end].

    A substitution spans one base on both; a donor insertion is empty on the amplicon, a donor
    deletion empty on the HDR outcome.
    """

    amplicon_start: int
    amplicon_end: int
    hdr_start: int
    hdr_end: int
    amplicon_bases: str
    hdr_bases: str

    @property
    def label(self) -> str:
        """1-based on the amplicon, e.g. ``97C>T``, ``120_121insGAATTC``, ``130_133del``."""
        if len(self.amplicon_bases) == 1 and len(self.hdr_bases) == 1:
            return f"{self.amplicon_start + 1}{self.amplicon_bases}>{self.hdr_bases}"
        if not self.amplicon_bases:
            return f"{self.amplicon_start}_{self.amplicon_start + 1}ins{self.hdr_bases}"
        if self.amplicon_end - self.amplicon_start == 1:
            return f"{self.amplicon_start + 1}del"
        return f"{self.amplicon_start + 1}_{self.amplicon_end}del"


@dataclass(frozen=True)
class AmpliconDesign:
    """An amplicon with its guides, window and the outcome references (HDR, prime edit)."""

    name: str
    amplicon: Reference
    guides: tuple[GuideSite, ...]
    hdr: Reference | None = None
    cut_offset: int = DEFAULT_CUT_OFFSET
    window_description: str = ""
    base_editor: BaseEditor | None = None
    prime_edited: Reference | None = None
    prime_edit: PrimeEdit | None = None
    exons: tuple[tuple[int, int], ...] = ()
    """Coding stretches as 0-based half-open amplicon ranges."""
    donor_changes: tuple[DonorChange, ...] = ()
    """With an HDR outcome: the donor-specific changes that tell an HDR read from the amplicon."""
    notes: tuple[str, ...] = ()
    """What was done to the user's input on the way (trimmed sequences, guide PAMs removed), stated for the user."""

    @property
    def references(self) -> tuple[Reference, ...]:
        return tuple(reference for reference in (self.amplicon, self.hdr, self.prime_edited) if reference is not None)


def resolve_base_editor(
    sequence: str,
    sites: Sequence[GuideSite],
    editor: str,
    window: tuple[int, int] | None = None,
    conversion: tuple[str, str] | None = None,
    target: int | None = None,
    target_in_protospacer: int | None = None,
) -> BaseEditor:
    """Place a base editor's window on the amplicon: ``editor`` is ABE, CBE or custom (then give
    ``conversion``); ``target`` is 1-based on the amplicon, ``target_in_protospacer`` 1-based in the guide."""
    if not sites:
        raise DesignError("base editing needs the guide (-g) that positions the editing window")
    preset = BASE_EDITOR_PRESETS.get(editor.upper())
    if conversion is not None:
        from_base, to_base = conversion
        default_window = preset[2] if preset else (4, 8)
    elif preset is not None:
        from_base, to_base, default_window = preset
    else:
        raise DesignError(f"unknown base editor {editor!r}: use ABE, CBE, or give the conversion (e.g. A>G)")
    if from_base not in BASES or to_base not in BASES or from_base == to_base:
        raise DesignError(f"base conversion {from_base}>{to_base} must change one of A, C, G, T into another")
    first, last = window or default_window
    guide = sites[0]
    length = len(guide.sequence)
    if not 1 <= first <= last:
        raise DesignError(f"editing window {first}-{last} must be 1-based and ordered")
    if last > length:
        raise DesignError(f"editing window {first}-{last} reaches beyond the {length}-nt protospacer (positions 1-{length})")
    if guide.strand == "+":
        positions = [guide.start + p - 1 for p in range(first, last + 1)]
        forward = (from_base, to_base)
    else:
        positions = [guide.end - p for p in range(first, last + 1)]
        forward = (complement(from_base), complement(to_base))
    positions = sorted(p for p in positions if 0 <= p < len(sequence))
    target_position = None
    if target is not None and target_in_protospacer is not None:
        raise DesignError("give the target position on the amplicon or in the protospacer, not both")
    if target is not None:
        if not 1 <= target <= len(sequence):
            raise DesignError(f"target position {target} is outside the amplicon (1-{len(sequence)})")
        target_position = target - 1
    elif target_in_protospacer is not None:
        if not 1 <= target_in_protospacer <= length:
            raise DesignError(f"target protospacer position {target_in_protospacer} is outside the guide (1-{length})")
        target_position = guide.start + target_in_protospacer - 1 if guide.strand == "+" else guide.end - target_in_protospacer
    if target_position is not None and sequence[target_position] != forward[0]:
        raise DesignError(
            f"target position {target_position + 1} is {sequence[target_position]} on the amplicon, not the editor's "
            f"{forward[0]} ({from_base} on the guide strand)"
        )
    name = editor.upper() if preset else f"{from_base}>{to_base}"
    return BaseEditor(name, (from_base, to_base), (first, last), guide, forward, tuple(positions), target_position)


def build_design(
    amplicon: str,
    guides: Sequence[str] = (),
    *,
    name: str = "Reference",
    cut_offset: int = DEFAULT_CUT_OFFSET,
    window: str | None = None,
    window_flank: int = DEFAULT_WINDOW_FLANK,
    exclude_ends: int = DEFAULT_EXCLUDE_ENDS,
    donor: str | None = None,
    expected_hdr_amplicon: str | None = None,
    base_editor: str | None = None,
    editing_window: tuple[int, int] | None = None,
    conversion: tuple[str, str] | None = None,
    target: int | None = None,
    target_in_protospacer: int | None = None,
    pegrnas: Sequence[tuple[str, str]] = (),
    nicking_guides: Sequence[str] = (),
    scaffold: str | None = None,
    coding_sequences: Sequence[str] = (),
    exons: str | None = None,
) -> AmpliconDesign:
    """Check the design and derive cut points, the quantification window and outcome references.

    The window is, in order of precedence: the explicit 1-based ``window`` ranges; ``window_flank``
    bases either side of every cut (guides, pegRNA spacers and nicking guides); or, without guides,
    the whole amplicon less ``exclude_ends`` bases at each end. A base editor's editing window and a
    prime edit's flap are always added to it, so their edits count without widening it by hand.
    ``donor`` is a repair template placed into the amplicon by its homology arms;
    ``expected_hdr_amplicon`` is the full amplicon expected after perfect HDR. ``pegrnas`` are
    (spacer, 3' extension = RTT + PBS) pairs, written 5'->3' as on the pegRNA.
    """
    sequence = clean_sequence(amplicon, "amplicon")
    if len(sequence) < 20:
        raise DesignError(f"amplicon is {len(sequence)} bp; at least 20 bp are needed")
    if cut_offset < 0 or window_flank < 0 or exclude_ends < 0:
        raise DesignError("cut offset, window flank and excluded ends must not be negative")
    notes: list[str] = []
    sites = tuple(locate_guide(sequence, without_pam(guide, "guide", notes), cut_offset) for guide in guides)
    prime_sites = tuple(
        locate_guide(sequence, without_pam(spacer, "pegRNA spacer", notes), cut_offset) for spacer, _ in pegrnas
    )
    nicking_sites = tuple(
        locate_guide(sequence, without_pam(guide, "nicking guide", notes), cut_offset) for guide in nicking_guides
    )
    all_sites = sites + prime_sites + nicking_sites
    cut_points = tuple(sorted({site.cut_point for site in all_sites}))
    inside = [False] * len(sequence)
    if window:
        for start, end in parse_window(window, len(sequence)):
            inside[start:end] = [True] * (end - start)
        description = f"explicit {window} (1-based)"
    elif all_sites:
        for cut in cut_points:
            start, end = max(0, cut - window_flank + 1), min(len(sequence), cut + window_flank + 1)
            inside[start:end] = [True] * (end - start)
        description = f"{window_flank} bp either side of each cut"
    else:
        if 2 * exclude_ends >= len(sequence):
            raise DesignError(f"excluding {exclude_ends} bp at each end leaves no window in a {len(sequence)} bp amplicon")
        inside[exclude_ends : len(sequence) - exclude_ends] = [True] * (len(sequence) - 2 * exclude_ends)
        description = f"whole amplicon less {exclude_ends} bp at each end (no guide)"
    editor = None
    if base_editor is None and conversion is None:
        unused = [label for label, value in (("a target position", target), ("a target protospacer position",
                  target_in_protospacer), ("an editing window", editing_window)) if value is not None]  # fmt: skip
        if unused:
            verb = "was" if len(unused) == 1 else "were"
            raise DesignError(f"{' and '.join(unused)} {verb} given without a base editor (--base-editor)")
    else:
        editor = resolve_base_editor(
            sequence, sites or prime_sites, base_editor or "custom", editing_window, conversion, target, target_in_protospacer
        )
        for position in editor.positions:
            inside[position] = True
        description += f"; plus the {editor.name} editing window (protospacer {editor.protospacer_window[0]}-{editor.protospacer_window[1]})"
    prime_edit = None
    prime_sequence = None
    if pegrnas:
        from editcheck.alignment.references import build_prime_edit

        prime_sequence, prime_edit = build_prime_edit(sequence, prime_sites, [extension for _, extension in pegrnas], scaffold)
        for (start, end, _), site in zip(prime_edit.flaps, prime_sites):
            # The 3' end of the new DNA, where the edited flap joins the old strand, is where flap
            # resolution goes wrong: +-5 bp around it are always in the window (as in the field's
            # reference tool), besides the nick windows.
            junction = end if site.strand == "+" else start
            low, high = max(0, junction - FLAP_JUNCTION_FLANK), min(len(sequence), junction + FLAP_JUNCTION_FLANK)
            inside[low:high] = [True] * (high - low)
        description += f"; plus {FLAP_JUNCTION_FLANK} bp either side of each pegRNA flap's 3' junction"
    elif scaffold is not None:
        raise DesignError("a pegRNA scaffold was given without a pegRNA spacer and extension")
    if not any(inside):
        raise DesignError("the quantification window is empty")
    reference = Reference(name, sequence, cut_points, tuple(inside))
    hdr = None
    changes: tuple[DonorChange, ...] = ()
    if donor is not None and expected_hdr_amplicon is not None:
        raise DesignError("give either a donor template or the expected HDR amplicon, not both")
    if donor is not None:
        from editcheck.alignment.references import place_donor

        expected_hdr_amplicon = place_donor(sequence, clean_sequence(donor, "donor"))
    if expected_hdr_amplicon is not None:
        from editcheck.alignment.references import amplicon_ends_missing, project_reference
        from editcheck.alignment.references import donor_changes as find_donor_changes

        hdr_sequence = clean_sequence(expected_hdr_amplicon, "expected HDR amplicon")
        missing_left, missing_right = amplicon_ends_missing(sequence, hdr_sequence)
        if missing_left or missing_right:
            ends = [f"{count} bp at the {end} end" for count, end in ((missing_left, "5'"), (missing_right, "3'")) if count]
            notes.append(
                f"the HDR sequence ({len(hdr_sequence)} bp) does not reach the amplicon's ends: the amplicon's own "
                f"{' and '.join(ends)} were added to it (a donor does not change the primers)"
            )
            hdr_sequence = sequence[:missing_left] + hdr_sequence + sequence[len(sequence) - missing_right :]
        if hdr_sequence == sequence:
            raise DesignError("the HDR outcome is identical to the amplicon; the donor makes no change")
        hdr = project_reference(reference, "HDR", hdr_sequence, HDR_KIND, notes)
        if hdr.sequence == sequence:
            raise DesignError("the HDR outcome differs from the amplicon only beyond the amplicon's ends; the donor makes no change inside it")
        changes = find_donor_changes(sequence, hdr.sequence)
    prime_edited = None
    if prime_sequence is not None:
        from editcheck.alignment.references import project_reference

        prime_edited = project_reference(reference, "Prime-edited", prime_sequence, PRIME_EDIT_KIND, notes)
    exon_ranges = _exon_ranges(sequence, coding_sequences, exons)
    return AmpliconDesign(
        name, reference, sites, hdr, cut_offset, description, editor, prime_edited, prime_edit, exon_ranges,
        changes, tuple(notes),
    )  # fmt: skip


def _exon_ranges(sequence: str, coding_sequences: Sequence[str], exons: str | None) -> tuple[tuple[int, int], ...]:
    """Coding stretches from exon sequences (each must occur once in the amplicon) or 1-based ranges."""
    ranges: list[tuple[int, int]] = []
    for coding in coding_sequences:
        exon = clean_sequence(coding, "coding sequence")
        start = sequence.find(exon)
        if start == -1:
            raise DesignError(f"coding sequence {exon[:30]}{'...' if len(exon) > 30 else ''} is not in the amplicon")
        if sequence.find(exon, start + 1) != -1:
            raise DesignError(f"coding sequence {exon[:30]}... occurs more than once in the amplicon")
        ranges.append((start, start + len(exon)))
    if exons:
        ranges.extend(parse_window(exons, len(sequence), "exons"))
    return tuple(sorted(ranges))
