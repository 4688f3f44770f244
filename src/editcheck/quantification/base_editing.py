"""Base-editing figures: conversion at every editable base, target engagement, per-read classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from editcheck.classification.outcomes import BASE_EDIT_CLASSES
from editcheck.design import AmpliconDesign
from editcheck.quantification.tally import POSITION_SYMBOLS, Proportion, Tally


@dataclass(frozen=True)
class ConversionRow:
    """Conversion at one amplicon base of the editor's from-type."""

    position: int
    """1-based amplicon position."""
    protospacer_position: int
    """1-based position in the protospacer (outside 1..20 when outside the guide)."""
    in_editing_window: bool
    is_target: bool
    reference_base: str
    converted: Proportion
    """Reads showing the to-base / reads covering the position, less those with the base masked to N."""
    converted_of_from_plus_to: Proportion
    """Reads showing the to-base / reads showing the from- or the to-base."""


def conversion_table(design: AmpliconDesign, tally: Tally) -> list[ConversionRow]:
    """One row per amplicon base of the editor's from-type (forward strand), across the whole amplicon."""
    editor = design.base_editor
    if editor is None:
        return []
    profile = tally.positions[0]
    from_base, to_base = editor.forward_conversion
    from_column, to_column = POSITION_SYMBOLS.index(from_base), POSITION_SYMBOLS.index(to_base)
    coverage = profile.coverage - profile.counts[:, POSITION_SYMBOLS.index("N")]
    window = set(editor.positions)
    rows = []
    for position, base in enumerate(profile.sequence):
        if base != from_base:
            continue
        to_count = int(profile.counts[position, to_column])
        from_count = int(profile.counts[position, from_column])
        rows.append(
            ConversionRow(
                position + 1,
                editor.protospacer_position(position),
                position in window,
                position == editor.target,
                base,
                Proportion(to_count, int(coverage[position])),
                Proportion(to_count, to_count + from_count),
            )
        )
    return rows


def base_editing_summary(design: AmpliconDesign, tally: Tally) -> dict[str, Any] | None:
    """Editor, window, target engagement and per-read class proportions, for summary.json."""
    editor = design.base_editor
    if editor is None:
        return None
    denominator = sum(tally.base_edit_classes.values())
    classes = {name: Proportion(tally.base_edit_classes[name], denominator).as_dict() for name in BASE_EDIT_CLASSES
               if name in tally.base_edit_classes or name in _expected_classes(editor.target is not None)}  # fmt: skip
    target = None
    if editor.target is not None:
        target = {
            "amplicon_position": editor.target + 1,
            "protospacer_position": editor.protospacer_position(editor.target),
            "engagement": Proportion(tally.target_converted, denominator).as_dict(),
        }
    rows = conversion_table(design, tally)
    return {
        "editor": editor.name,
        "conversion_guide_strand": f"{editor.conversion[0]}>{editor.conversion[1]}",
        "conversion_amplicon_strand": f"{editor.forward_conversion[0]}>{editor.forward_conversion[1]}",
        "protospacer_window": list(editor.protospacer_window),
        "amplicon_window": [position + 1 for position in editor.positions],
        "target": target,
        "read_classes": classes,
        "read_class_denominator": "reads assigned to the amplicon that cover the window and show every editable base "
        "of the editing window (none masked to N)",
        "window_conversion_percent_of_reads": {
            str(row.position): row.converted.as_dict() for row in rows if row.in_editing_window
        },
    }


def _expected_classes(with_target: bool) -> tuple[str, ...]:
    if with_target:
        return ("intended_only", "intended_and_bystander", "bystander_only", "indel", "unedited")
    return ("converted", "indel", "unedited")
