"""The allele view of one sample: its most frequent alleles around the guide as rows of bases, with the guide,
PAM, cut and quantification window marked on the reference, each allele's reads and share of aligned reads.

It is data for the report's HTML (a table of monospace text, not a picture: legible and searchable at any
number of samples, and it prints one sample per block); the template draws it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from editcheck.results.sample_reader import OnTargetSample

ALLELES_SHOWN = 10
"""Alleles listed per sample (the rest are summed in one "other alleles" line)."""
FLANK = 20
"""Bases shown on each side of the first guide's cut."""
PAM_LENGTH = 3


@dataclass(frozen=True)
class Column:
    """One reference base of the view and what it belongs to."""

    position: int
    """1-based on the amplicon."""
    base: str
    marks: str
    """Space-separated CSS classes: ``g`` guide, ``p`` PAM, ``w`` window, ``c`` the cut is right before it."""


@dataclass(frozen=True)
class AlleleRow:
    """One allele in the view: its bases (``None`` where equal to the reference), reads and percent."""

    bases: tuple[str | None, ...]
    outcome: str
    reads: int
    percent: float


@dataclass(frozen=True)
class AlleleView:
    sample: str
    start: int
    """1-based first position shown."""
    end: int
    columns: tuple[Column, ...]
    rows: tuple[AlleleRow, ...]
    other_reads: int
    other_percent: float
    aligned_reads: int


def _ranges(texts: Sequence[str]) -> list[tuple[int, int]]:
    ranges = []
    for text in texts:
        first, _, last = str(text).partition("-")
        ranges.append((int(first), int(last or first)))
    return ranges


def _reference_columns(aligned: str) -> str:
    """An aligned sequence without its insertions (lower case), so its columns match the reference."""
    return "".join(base for base in aligned if not base.islower())


def allele_view(sample: OnTargetSample, shown: int = ALLELES_SHOWN, flank: int = FLANK) -> AlleleView:
    """The view of ``sample`` around its first guide's cut (the amplicon's middle without a guide)."""
    design: dict[str, Any] = sample.summary["design"]
    reference = str(design["amplicon"])
    guides = design.get("guides") or []
    centre = int(guides[0]["cut_after"]) if guides else len(reference) // 2
    start, end = max(0, centre - flank), min(len(reference), centre + flank)
    guide_positions: set[int] = set()
    pam_positions: set[int] = set()
    cuts: set[int] = set()
    for guide in guides:
        first, last = int(guide["start"]), int(guide["end"])
        guide_positions.update(range(first, last + 1))
        pam = range(last + 1, last + 1 + PAM_LENGTH) if guide["strand"] == "+" else range(first - PAM_LENGTH, first)
        pam_positions.update(pam)
        cuts.add(int(guide["cut_after"]) + 1)
    window = {position for first, last in _ranges(design.get("window") or []) for position in range(first, last + 1)}
    columns = []
    for index in range(start, end):
        position = index + 1
        marks = [mark for mark, found in (("g", guide_positions), ("p", pam_positions), ("w", window), ("c", cuts))
                 if position in found]  # fmt: skip
        columns.append(Column(position, reference[index], " ".join(marks)))
    merged: dict[tuple[str, str], list[float]] = {}
    aligned = 0
    for allele in sample.alleles:
        if allele["reference"] != design["amplicon_name"] or allele["outcome"] == "not_aligned":
            continue
        bases = _reference_columns(allele["aligned_sequence"])[start:end]
        entry = merged.setdefault((bases, allele["outcome"]), [0, 0.0])
        entry[0] += int(allele["reads"])
        entry[1] += float(allele["percent_of_aligned"])
        aligned += int(allele["reads"])
    ordered = sorted(merged.items(), key=lambda item: (-item[1][0], item[0]))
    rows = tuple(
        AlleleRow(tuple(None if base == reference[start + i] else base for i, base in enumerate(bases)), outcome,
                  int(reads), percent)
        for (bases, outcome), (reads, percent) in ordered[:shown]
    )  # fmt: skip
    rest = ordered[shown:]
    return AlleleView(sample.name, start + 1, end, tuple(columns), rows, int(sum(entry[0] for _, entry in rest)),
                      sum(entry[1] for _, entry in rest), aligned)  # fmt: skip
