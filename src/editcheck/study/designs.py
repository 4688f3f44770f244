"""The designs sheet of a study: one row per product (design), everything `editcheck quantify` takes.

A tab-separated sheet with a header line (``#`` lines are comments, empty cells mean "not given"):

=============================  ===================================================================
``design_id``                  the design's name (a plain name: letters, digits, ``_.-``); required
``amplicon``                   the amplicon sequence, or a FASTA file (relative to the sheet); required
``amplicon_name``              its name in the outputs [``design_id``]
``guide``                      protospacer(s) without PAM, several separated by ``,``
``cut_offset``                 nt 5' of the PAM [3]
``window``                     quantification window, 1-based amplicon ranges (``90-96,120-125``)
``window_flank``               bases counted either side of each cut without ``window`` [3]
``exclude_ends``               without guide or window: bases left out at each end [15]
``donor``                      HDR donor template (sequence or FASTA file)
``expected_hdr_amplicon``      the amplicon after perfect HDR (sequence or FASTA file)
``base_editor``                ``ABE``, ``CBE`` or a conversion such as ``C>G``
``editing_window``             protospacer positions of the base-editing window (``4-8``)
``target_position``            the base the therapy must convert, 1-based on the amplicon
``target_protospacer_position``  the same, 1-based in the protospacer
``pegrna_spacer``              pegRNA spacer(s), ``,``-separated, each with its ``pegrna_extension``
``pegrna_extension``           pegRNA 3' extension(s) (RTT + PBS), in the order of the spacers
``nicking_guide``              nicking sgRNA spacer(s) (PE3), ``,``-separated
``pegrna_scaffold``            the pegRNA scaffold (scaffold-derived insertions)
``coding_sequence``            exon sequence(s) inside the amplicon, ``,``-separated
``exons``                      exons as 1-based amplicon ranges (``40-180``)
``offtarget_sites``            a site sheet of `editcheck offtarget` (relative to this sheet): the
                               design's off-target panel
``reference``                  genome FASTA for BAM/CRAM samples of the design (relative to the sheet)
=============================  ===================================================================

Each row is built by the library's one design builder (:func:`editcheck.design.design_from_spec`), so a
guide that is not in the amplicon or a window outside it is the builder's message, prefixed with the sheet,
the row and the design.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from editcheck.design import AmpliconDesign, DesignSpec, design_from_spec, parse_base_editor, parse_protospacer_range
from editcheck.design.model import DEFAULT_CUT_OFFSET, DEFAULT_EXCLUDE_ENDS, DEFAULT_WINDOW_FLANK
from editcheck.errors import DesignError, InputFormatError
from editcheck.folders import safe_names
from editcheck.io.fasta import read_sequence_file
from editcheck.sheets import read_sheet

__all__ = ["DESIGN_COLUMNS", "DESIGN_REQUIRED", "StudyDesign", "design_from_sheet", "read_design_sheet"]

DESIGN_COLUMNS = (
    "design_id", "amplicon", "amplicon_name", "guide", "cut_offset", "window", "window_flank", "exclude_ends",
    "donor", "expected_hdr_amplicon", "base_editor", "editing_window", "target_position",
    "target_protospacer_position", "pegrna_spacer", "pegrna_extension", "nicking_guide", "pegrna_scaffold",
    "coding_sequence", "exons", "offtarget_sites", "reference",
)  # fmt: skip
"""Every column of a designs sheet, in the documented order."""
DESIGN_REQUIRED = ("design_id", "amplicon")
"""Columns every designs sheet must have."""
_INLINE_SEQUENCE = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class StudyDesign:
    """One row of a designs sheet: its id, the built design, the optional off-target site sheet and genome
    FASTA (resolved against the sheet's folder), and the row number (from 1 below the header)."""

    design_id: str
    design: AmpliconDesign
    offtarget_sites: Path | None
    reference: Path | None
    row: int


def _sequence(value: str, folder: Path, what: str) -> tuple[str, str | None]:
    """A sequence written in the cell, or (when the cell is not letters only) a FASTA/text file holding it,
    relative to the sheet's folder; returns (sequence, record name or None)."""
    if _INLINE_SEQUENCE.fullmatch(value):
        return value, None
    path = folder / value
    if not path.is_file():
        raise ValueError(f"{what} file {path} not found (a cell holds the sequence itself or a FASTA file)")
    return read_sequence_file(path, what)


def _integer(row: dict[str, str], column: str) -> int | None:
    """A whole number >= 0 from a cell, or None when the cell is empty."""
    text = row.get(column, "")
    if not text:
        return None
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"{column} must be a whole number >= 0, not {text!r}")
    return int(text)


def _integer_or(row: dict[str, str], column: str, default: int) -> int:
    value = _integer(row, column)
    return default if value is None else value


def _list(row: dict[str, str], column: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in row.get(column, "").split(",") if part.strip())


def _file(row: dict[str, str], column: str, folder: Path) -> Path | None:
    value = row.get(column, "")
    if not value:
        return None
    path = folder / value
    if not path.is_file():
        raise ValueError(f"{column} file {path} not found")
    return path


def _spec(row: dict[str, str], folder: Path) -> DesignSpec:
    """The :class:`DesignSpec` of one row (sequences read from their files, numbers and ranges parsed)."""
    design_id = row["design_id"]
    if not row.get("amplicon"):
        raise ValueError("amplicon is empty: give the sequence or a FASTA file")
    amplicon = _sequence(row["amplicon"], folder, "amplicon")[0]
    donor = _sequence(row["donor"], folder, "donor")[0] if row.get("donor") else None
    expected = row.get("expected_hdr_amplicon")
    spacers, extensions = _list(row, "pegrna_spacer"), _list(row, "pegrna_extension")
    if len(spacers) != len(extensions):
        raise ValueError(
            f"{len(spacers)} pegrna_spacer and {len(extensions)} pegrna_extension: give one extension per spacer"
        )
    editor, conversion = parse_base_editor(row["base_editor"]) if row.get("base_editor") else (None, None)
    window = row.get("editing_window")
    return DesignSpec(
        amplicon=amplicon, guides=_list(row, "guide"), name=row.get("amplicon_name") or design_id,
        cut_offset=_integer_or(row, "cut_offset", DEFAULT_CUT_OFFSET), window=row.get("window") or None,
        window_flank=_integer_or(row, "window_flank", DEFAULT_WINDOW_FLANK),
        exclude_ends=_integer_or(row, "exclude_ends", DEFAULT_EXCLUDE_ENDS), donor=donor,
        expected_hdr_amplicon=_sequence(expected, folder, "HDR amplicon")[0] if expected else None,
        base_editor=editor, conversion=conversion,
        editing_window=parse_protospacer_range(window) if window else None,
        target=_integer(row, "target_position"), target_in_protospacer=_integer(row, "target_protospacer_position"),
        pegrnas=tuple(zip(spacers, extensions)), nicking_guides=_list(row, "nicking_guide"),
        scaffold=row.get("pegrna_scaffold") or None, coding_sequences=_list(row, "coding_sequence"),
        exons=row.get("exons") or None,
    )  # fmt: skip


def read_design_sheet(path: str | Path) -> dict[str, StudyDesign]:
    """design_id -> :class:`StudyDesign` for every row of a designs sheet, in the sheet's order; any problem
    (unknown or missing column, repeated or unsafe id, a design the builder refuses, a missing file) is an
    :class:`~editcheck.errors.InputFormatError` naming the sheet and the row."""
    path = Path(path)
    rows = read_sheet(path, DESIGN_COLUMNS, DESIGN_REQUIRED, "designs")
    designs: dict[str, StudyDesign] = {}
    for number, row in enumerate(rows, 1):
        design_id = row["design_id"]
        if not design_id:
            raise InputFormatError(path, "design_id is empty", number)
        repeated = next(
            (other for other in designs.values() if other.design_id.casefold() == design_id.casefold()), None
        )
        if repeated is not None:  # design ids name folders (results/offtarget/<design_id>/): case is ignored
            raise InputFormatError(
                path, f"design_id {design_id!r} repeats row {repeated.row} (names are folder names: case is ignored)",
                number,
            )  # fmt: skip
        check_plain_name(path, design_id, "design_id", number)
        try:
            design = design_from_spec(_spec(row, path.parent))
            sites, reference = _file(row, "offtarget_sites", path.parent), _file(row, "reference", path.parent)
        except (DesignError, ValueError) as error:
            raise InputFormatError(path, f"design {design_id}: {error}", number) from None
        designs[design_id] = StudyDesign(design_id, design, sites, reference, number)
    return designs


def design_from_sheet(path: str | Path, design_id: str) -> StudyDesign:
    """The design ``design_id`` of a designs sheet (the whole sheet is checked)."""
    designs = read_design_sheet(path)
    if design_id not in designs:
        raise InputFormatError(path, f"no design {design_id!r}; designs are: {', '.join(designs)}")
    return designs[design_id]


def check_plain_name(path: Path, name: str, column: str, number: int) -> None:
    """A name that becomes a folder or file name must already be one (:func:`editcheck.folders.safe_names`
    would rename it): an error naming the sheet, row and the name it would get."""
    folder = safe_names([name], column, path)[name]
    if folder != name:
        raise InputFormatError(
            path, f"{column} {name!r} is not a plain name (letters, digits, '_', '.', '-', not starting with '.', "
            f"at most 100 characters; it would become {folder!r}); rename it", number,
        )  # fmt: skip
