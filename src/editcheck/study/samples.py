"""The samples sheet of a study: each sample's design, condition, reads and study metadata.

A tab-separated sheet with a header line (``#`` lines are comments, empty cells mean "not given"). Known
columns (:data:`SAMPLE_COLUMNS`):

* ``sample`` (required): a plain name (letters, digits, ``_.-``, not starting with ``.``), unique in the study;
  it names the sample's result folder.
* ``design_id`` (required): a ``design_id`` of the designs sheet.
* ``condition`` (required): ``treated``, ``control`` (e.g. a mock) or ``untreated``.
* ``replicate``: a label [1]; ``assay``: ``on_target`` (the design's amplicon, the default) or
  ``off_target_panel`` (the reads of the design's off-target site panel).
* reads: ``r1`` (+ ``r2``) FASTQ, or ``bam`` (genome-aligned BAM/CRAM) with its ``locus`` (``chr:start-end``);
  paths relative to the sheet's folder. ``input_copies`` or ``input_ng``: the template input behind the reads;
  ``pair``: a pair/batch shared by a treated and a control panel sample.
* study metadata: ``subject`` (patient or animal), ``model`` (``clinical`` biopsy, ``animal`` model,
  ``non_animal`` model, ``cell_line``), ``tissue`` (or cell type), ``time_point`` with a unit (see
  :mod:`editcheck.study.time_points`), ``dose``.

Any further column is a free metadata column. Every column but the sample name and the reads
(:data:`READ_COLUMNS`) is the sample's *metadata*: carried as written (strings, in the sheet's order) into
its outputs.

Checked, each as one line naming the sheet, the row and the problem: unknown design ids; a design whose
treated samples (per assay) have no control or untreated sample; time points without a parseable unit, and
a subject's series under one design mixing day-based and calendar units; two rows with the same subject,
design, tissue, time point (in days), replicate, condition and assay; repeated or unsafe sample names;
missing reads files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from editcheck.errors import InputFormatError
from editcheck.sheets import read_sheet
from editcheck.study.designs import StudyDesign, check_plain_name
from editcheck.study.time_points import TimePoint, mixed_units, parse_time_point

__all__ = [
    "ASSAYS", "CONDITIONS", "CONTROL_CONDITIONS", "METADATA_EXCLUDED", "MODELS", "OFF_TARGET_PANEL", "ON_TARGET",
    "READ_COLUMNS", "SAMPLE_COLUMNS", "SAMPLE_REQUIRED", "StudySample", "read_sample_sheet",
]  # fmt: skip

SAMPLE_COLUMNS = (
    "sample", "design_id", "condition", "replicate", "assay", "r1", "r2", "bam", "locus", "input_copies", "input_ng",
    "pair", "subject", "model", "tissue", "time_point", "dose",
)  # fmt: skip
"""The known columns of a samples sheet, in the documented order (any further column is free metadata)."""
SAMPLE_REQUIRED = ("sample", "design_id", "condition")
"""Columns every samples sheet must have."""
CONDITIONS = ("treated", "control", "untreated")
CONTROL_CONDITIONS = ("control", "untreated")
"""Conditions that serve as the control of a design's treated samples."""
ON_TARGET, OFF_TARGET_PANEL = "on_target", "off_target_panel"
ASSAYS = (ON_TARGET, OFF_TARGET_PANEL)
MODELS = ("clinical", "animal", "non_animal", "cell_line")
"""``model`` values: clinical biopsy, animal model, non-animal model (primary cells, organoids), cell line."""
READ_COLUMNS = ("r1", "r2", "bam", "locus", "input_copies", "input_ng")
"""The reads and their template input: recorded in the outputs' inputs and sampling, not as metadata."""
METADATA_EXCLUDED = ("sample", *READ_COLUMNS)
"""Columns that are not metadata (every other column of the sheet is)."""
_LOCUS = re.compile(r".+:\d[\d,]*-\d[\d,]*")
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class StudySample:
    """One row of a samples sheet, checked; paths resolved against the sheet's folder."""

    sample: str
    design_id: str
    condition: str
    replicate: str
    assay: str
    r1: Path | None
    r2: Path | None
    bam: Path | None
    locus: str | None
    input_copies: str | None
    input_ng: str | None
    pair: str | None
    subject: str
    model: str
    tissue: str
    time_point: TimePoint | None
    dose: str
    metadata: tuple[tuple[str, str], ...]
    """(column, value as written) for every metadata column of the sheet, in the sheet's order."""
    row: int

    @property
    def is_control(self) -> bool:
        """A control or untreated sample."""
        return self.condition in CONTROL_CONDITIONS


def _reads(
    path: Path, row: dict[str, str], number: int, name: str, assay: str, check_files: bool = True
) -> tuple[Path | None, Path | None, Path | None]:
    """R1, R2 and BAM of a row, each checked to exist (unless ``check_files`` is off); an on-target BAM needs its
    locus (a panel's BAM is read at each site's locus of the site sheet)."""
    files = {column: path.parent / row[column] if row.get(column) else None for column in ("r1", "r2", "bam")}
    if (files["r1"] is None) == (files["bam"] is None):
        raise InputFormatError(path, f"sample {name}: give r1 (FASTQ, with r2 if paired) or bam with its locus", number)
    if files["r2"] is not None and files["r1"] is None:
        raise InputFormatError(path, f"sample {name}: r2 needs r1 (a BAM holds both mates)", number)
    if files["bam"] is not None and assay == ON_TARGET and not _LOCUS.fullmatch(row.get("locus", "")):
        raise InputFormatError(
            path, f"sample {name}: bam needs its locus as chr:start-end, not {row.get('locus', '')!r}", number
        )
    if (files["bam"] is None or assay != ON_TARGET) and row.get("locus"):
        raise InputFormatError(
            path, f"sample {name}: locus is the genome site of an on-target bam; this sample has none", number
        )
    for column, reads in files.items():
        if check_files and reads is not None and not reads.is_file():
            raise InputFormatError(path, f"sample {name}: {column} file {reads} not found", number)
    return files["r1"], files["r2"], files["bam"]


def _choice(
    path: Path, row: dict[str, str], column: str, allowed: tuple[str, ...], number: int, default: str = ""
) -> str:
    value = row.get(column, "") or default
    if value and value not in allowed:
        raise InputFormatError(
            path, f"sample {row['sample']}: {column} must be {', '.join(allowed)}, not {value!r}", number
        )
    return value


def _input_amount(path: Path, row: dict[str, str], number: int) -> tuple[str | None, str | None]:
    copies, ng = row.get("input_copies") or None, row.get("input_ng") or None
    if copies and ng:
        raise InputFormatError(path, f"sample {row['sample']}: give input_copies or input_ng, not both", number)
    for column, value in (("input_copies", copies), ("input_ng", ng)):
        if value is not None and (not _NUMBER.fullmatch(value) or float(value) <= 0):
            raise InputFormatError(
                path, f"sample {row['sample']}: {column} must be a positive number, not {value!r}", number
            )
    return copies, ng


def _sample(
    path: Path, row: dict[str, str], number: int, designs: Mapping[str, StudyDesign], check_files: bool = True
) -> StudySample:
    name = row["sample"]
    if not name:
        raise InputFormatError(path, "sample name is empty", number)
    check_plain_name(path, name, "sample", number)
    design_id = row["design_id"]
    if design_id not in designs:
        known = ", ".join(designs) or "none"
        raise InputFormatError(path, f"sample {name}: unknown design_id {design_id!r} (designs: {known})", number)
    condition = _choice(path, row, "condition", CONDITIONS, number)
    if not condition:
        raise InputFormatError(path, f"sample {name}: condition is empty (treated, control or untreated)", number)
    assay = _choice(path, row, "assay", ASSAYS, number, default=ON_TARGET)
    if assay == OFF_TARGET_PANEL and designs[design_id].offtarget_sites is None:
        raise InputFormatError(
            path, f"sample {name}: assay {OFF_TARGET_PANEL} but design {design_id} has no offtarget_sites sheet", number
        )
    r1, r2, bam = _reads(path, row, number, name, assay, check_files)
    copies, ng = _input_amount(path, row, number)
    time_point = None
    if row.get("time_point"):
        try:
            time_point = parse_time_point(row["time_point"])
        except ValueError as error:
            raise InputFormatError(path, f"sample {name}: {error}", number) from None
    metadata = tuple((column, value) for column, value in row.items() if column not in METADATA_EXCLUDED)
    return StudySample(
        name, design_id, condition, row.get("replicate") or "1", assay, r1, r2, bam, row.get("locus") or None,
        copies, ng, row.get("pair") or None, row.get("subject", ""), _choice(path, row, "model", MODELS, number),
        row.get("tissue", ""), time_point, row.get("dose", ""), metadata, number,
    )  # fmt: skip


def read_sample_sheet(
    path: str | Path, designs: Mapping[str, StudyDesign], *, check_files: bool = True
) -> list[StudySample]:
    """Every row of a samples sheet as a :class:`StudySample`, checked against ``designs`` and each other
    (see the module docstring); the first problem is an :class:`~editcheck.errors.InputFormatError`. Without
    ``check_files`` the reads files need not exist (the metadata alone is read, as ``editcheck report`` does)."""
    path = Path(path)
    rows = read_sheet(path, SAMPLE_COLUMNS, SAMPLE_REQUIRED, "samples", free_columns=True)
    for column in rows[0]:
        if not column or "=" in column:
            raise InputFormatError(path, f"column name {column!r}: a metadata column needs a name without '='")
    samples: list[StudySample] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        sample = _sample(path, row, number, designs, check_files)
        if sample.sample.casefold() in seen:
            raise InputFormatError(
                path,
                f"sample name {sample.sample!r} repeats row {seen[sample.sample.casefold()]} (names are folder names: case is ignored)",
                number,
            )
        seen[sample.sample.casefold()] = number
        samples.append(sample)
    _check_duplicates(path, samples)
    _check_units(path, samples)
    _check_controls(path, samples)
    return samples


def _check_duplicates(path: Path, samples: list[StudySample]) -> None:
    """Two rows that describe the same measurement (time points compared in days: ``4 wk`` is ``28 d``)."""
    seen: dict[tuple[object, ...], StudySample] = {}
    for sample in samples:
        days = None if sample.time_point is None else round(sample.time_point.days, 6)
        key = (sample.subject, sample.design_id, sample.tissue, days, sample.replicate, sample.condition, sample.assay)
        if key in seen:
            first = seen[key]
            raise InputFormatError(
                path, f"sample {sample.sample} duplicates {first.sample} (row {first.row}): same subject, design, tissue, "
                "time point, replicate, condition and assay; give each replicate its own replicate label", sample.row,
            )  # fmt: skip
        seen[key] = sample


def _check_units(path: Path, samples: list[StudySample]) -> None:
    """A subject's series under one design uses day-based or calendar units, not both."""
    series: dict[tuple[str, str], list[StudySample]] = {}
    for sample in samples:
        if sample.time_point is not None:
            series.setdefault((sample.subject, sample.design_id), []).append(sample)
    for (subject, design_id), members in series.items():
        pair = mixed_units([member.time_point for member in members if member.time_point is not None])
        if pair is not None:
            exact, calendar = pair
            row = next(member.row for member in members if member.time_point is calendar)
            who = f"subject {subject}" if subject else "samples without a subject"
            raise InputFormatError(
                path, f"{who}, design {design_id}: time points {exact.text!r} and {calendar.text!r} mix day-based "
                "(h, d, wk) and calendar (mo, y) units, which have no exact conversion; write the series in one kind "
                "(e.g. days)", row,
            )  # fmt: skip


def _check_controls(path: Path, samples: list[StudySample]) -> None:
    """Every design and assay with treated samples has a control or untreated sample to compare them with."""
    for sample in samples:
        if sample.condition != "treated":
            continue
        if not any(
            other.is_control for other in samples if (other.design_id, other.assay) == (sample.design_id, sample.assay)
        ):
            raise InputFormatError(
                path, f"design {sample.design_id}: treated {sample.assay} samples (first: {sample.sample}) but no "
                f"control or untreated {sample.assay} sample of that design; add one (e.g. a mock)", sample.row,
            )  # fmt: skip
