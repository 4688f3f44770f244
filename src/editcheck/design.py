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

VALID_AMPLICON = re.compile(r"^[ACGTN]+$")
VALID_GUIDE = re.compile(r"^[ACGTN]+$")
COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")

DEFAULT_CUT_OFFSET = 3
"""SpCas9 cuts 3 nt 5' of the PAM, between protospacer nucleotides 17 and 18."""

DEFAULT_WINDOW_FLANK = 3
"""Bases on each side of a cut that make up the default quantification window (6 bp per cut)."""

DEFAULT_EXCLUDE_ENDS = 15
"""Without a guide, the window is the amplicon less this many bases at each end (primer sequence)."""


def reverse_complement(sequence: str) -> str:
    """Reverse complement of an ACGTN sequence."""
    return sequence.translate(COMPLEMENT)[::-1]


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
    if strand == "+":
        cut_point = start + len(guide) - 1 - cut_offset
    else:
        cut_point = start + cut_offset - 1
    if not 0 <= cut_point < len(amplicon) - 1:
        raise DesignError(f"guide {guide}: cut site at offset {cut_offset} falls outside the amplicon")
    return GuideSite(guide, start, strand, cut_point)


def parse_window(text: str, amplicon_length: int) -> tuple[tuple[int, int], ...]:
    """Parse ``"90-96,120-125"`` (1-based inclusive) into 0-based half-open ranges."""
    ranges: list[tuple[int, int]] = []
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise DesignError(f"window {text!r}: expected 1-based ranges like 90-96 or 90-96,120-125")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first or last > amplicon_length:
            raise DesignError(f"window range {part} is outside the amplicon (1-{amplicon_length}) or reversed")
        ranges.append((first - 1, last))
    return tuple(ranges)


@dataclass(frozen=True)
class Reference:
    """One sequence reads are aligned to, with its cut points and quantification window."""

    name: str
    sequence: str
    cut_points: tuple[int, ...]
    window: tuple[bool, ...] = field(repr=False)

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


@dataclass(frozen=True)
class AmpliconDesign:
    """An amplicon with its guides, window and (optionally) the expected HDR amplicon."""

    name: str
    amplicon: Reference
    guides: tuple[GuideSite, ...]
    hdr: Reference | None = None
    cut_offset: int = DEFAULT_CUT_OFFSET
    window_description: str = ""

    @property
    def references(self) -> tuple[Reference, ...]:
        return (self.amplicon,) if self.hdr is None else (self.amplicon, self.hdr)


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
) -> AmpliconDesign:
    """Check the design and derive cut points, the quantification window and the HDR reference.

    The window is, in order of precedence: the explicit 1-based ``window`` ranges; ``window_flank``
    bases either side of every cut; or, without guides, the whole amplicon less ``exclude_ends``
    bases at each end. ``donor`` is a repair template placed into the amplicon by its homology arms;
    ``expected_hdr_amplicon`` is the full amplicon expected after perfect HDR.
    """
    sequence = clean_sequence(amplicon, "amplicon")
    if len(sequence) < 20:
        raise DesignError(f"amplicon is {len(sequence)} bp; at least 20 bp are needed")
    if cut_offset < 0 or window_flank < 0 or exclude_ends < 0:
        raise DesignError("cut offset, window flank and excluded ends must not be negative")
    sites = tuple(locate_guide(sequence, guide, cut_offset) for guide in guides)
    cut_points = tuple(sorted({site.cut_point for site in sites}))
    inside = [False] * len(sequence)
    if window:
        for start, end in parse_window(window, len(sequence)):
            inside[start:end] = [True] * (end - start)
        description = f"explicit {window} (1-based)"
    elif sites:
        for cut in cut_points:
            start, end = max(0, cut - window_flank + 1), min(len(sequence), cut + window_flank + 1)
            inside[start:end] = [True] * (end - start)
        description = f"{window_flank} bp either side of each cut"
    else:
        if 2 * exclude_ends >= len(sequence):
            raise DesignError(f"excluding {exclude_ends} bp at each end leaves no window in a {len(sequence)} bp amplicon")
        inside[exclude_ends : len(sequence) - exclude_ends] = [True] * (len(sequence) - 2 * exclude_ends)
        description = f"whole amplicon less {exclude_ends} bp at each end (no guide)"
    if not any(inside):
        raise DesignError("the quantification window is empty")
    reference = Reference(name, sequence, cut_points, tuple(inside))
    hdr = None
    if donor is not None and expected_hdr_amplicon is not None:
        raise DesignError("give either a donor template or the expected HDR amplicon, not both")
    if donor is not None:
        from editcheck.alignment.references import place_donor

        expected_hdr_amplicon = place_donor(sequence, clean_sequence(donor, "donor"))
    if expected_hdr_amplicon is not None:
        from editcheck.alignment.references import project_reference

        hdr_sequence = clean_sequence(expected_hdr_amplicon, "expected HDR amplicon")
        if hdr_sequence == sequence:
            raise DesignError("the HDR outcome is identical to the amplicon; the donor makes no change")
        hdr = project_reference(reference, "HDR", hdr_sequence)
    return AmpliconDesign(name, reference, sites, hdr, cut_offset, description)
