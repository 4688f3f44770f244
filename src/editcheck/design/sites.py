"""Placing the design's parts on the amplicon: a guide (either strand, exactly once) and its cut point,
a base editor's editing window and target, and coding stretches."""

from __future__ import annotations

from collections.abc import Sequence

from editcheck.design.model import BASE_EDITOR_PRESETS, BASES, DEFAULT_CUT_OFFSET, BaseEditor, GuideSite
from editcheck.design.parse import clean_sequence, parse_window
from editcheck.errors import DesignError
from editcheck.sequences import complement, reverse_complement


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
        raise DesignError(
            f"editing window {first}-{last} reaches beyond the {length}-nt protospacer (positions 1-{length})"
        )
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
        target_position = (
            guide.start + target_in_protospacer - 1 if guide.strand == "+" else guide.end - target_in_protospacer
        )
    if target_position is not None and sequence[target_position] != forward[0]:
        raise DesignError(
            f"target position {target_position + 1} is {sequence[target_position]} on the amplicon, not the editor's "
            f"{forward[0]} ({from_base} on the guide strand)"
        )
    name = editor.upper() if preset else f"{from_base}>{to_base}"
    return BaseEditor(name, (from_base, to_base), (first, last), guide, forward, tuple(positions), target_position)


def exon_ranges(sequence: str, coding_sequences: Sequence[str], exons: str | None) -> tuple[tuple[int, int], ...]:
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
