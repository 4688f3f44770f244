"""User text to design values: sequences (cleaned, guide PAMs stripped), 1-based windows and protospacer
ranges, base conversions and base editor names. Each parser raises DesignError naming what it read."""

from __future__ import annotations

import re

from editcheck.design.model import BASES, PROTOSPACER_LENGTH, SPCAS9_PAM
from editcheck.errors import DesignError


def clean_sequence(sequence: str, what: str) -> str:
    """Upper-case a user sequence, drop whitespace and reject characters outside ACGTN."""
    cleaned = "".join(sequence.split()).upper().replace("U", "T")
    if not cleaned:
        raise DesignError(f"{what} is empty")
    bad = sorted(set(cleaned) - set("ACGTN"))
    if bad:
        raise DesignError(f"{what} contains characters outside ACGTN: {', '.join(repr(b) for b in bad)}")
    return cleaned


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
