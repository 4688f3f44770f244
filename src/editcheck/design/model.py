"""The experiment design as data: amplicon, guides and their cut sites, quantification window, outcome
references (HDR, prime edit), base editor, and the constants that define their defaults.

Coordinates are 0-based inside the library. A *cut point* is the index of the last amplicon base
5' of the cut (on the amplicon's forward strand), so the cut lies between ``cut_point`` and
``cut_point + 1``. Windows given by users are 1-based inclusive ranges, as people count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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

PROTOSPACER_LENGTH = 20
"""Length of an SpCas9 protospacer, the guide a 23-nt guide + PAM is cut back to."""
SPCAS9_PAM = re.compile(r"[ACGT]GG")
"""The SpCas9 PAM (NGG) recognised at the end of a guide given with its PAM."""


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
