"""Reading tab-separated sheets (amplicons, sites, samples) with one-line errors naming file and row."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from editcheck.errors import InputFormatError

SITE_GENOME_COLUMNS = ("contig", "start", "end", "strand", "mismatches", "bulge_type", "bulge_size")
"""Optional columns of an off-target site sheet: where a site is in the genome, its mismatches and bulge (as
`editcheck nominate` writes them); carried as written into the panel's calls."""
PANEL_SITE_COLUMNS = (
    "site_id", "amplicon", "protospacer", "cut_offset", "editor", "on_target", "window", "locus", *SITE_GENOME_COLUMNS,
)  # fmt: skip
"""The columns of an off-target site sheet (`editcheck offtarget --sites`, the workflow's sites sheet)."""
PANEL_SAMPLE_COLUMNS = ("sample", "condition", "replicate", "r1", "r2", "bam", "pair", "input_copies", "input_ng")
"""The columns of a panel's samples sheet (`editcheck offtarget --samples`), also read for conditions by
`editcheck report --samples` and by the one-design workflow for its on-target sheet. Here, with no heavy
imports, so that the workflow reads them without importing the statistics."""


def read_sheet(
    path: str | Path, allowed: Sequence[str], required: Sequence[str], what: str = "rows", *, free_columns: bool = False
) -> list[dict[str, str]]:
    """Rows of a TSV sheet as dicts of stripped strings, keys in the header's order; '#' lines are comments.
    Unknown columns (unless ``free_columns``: then any further column is kept, and a repeated one is an error),
    missing columns and an empty sheet are errors naming the file."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:  # a spreadsheet's byte-order mark is dropped
            rows = list(csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"))
    except FileNotFoundError:
        raise InputFormatError(path, "file not found") from None
    except IsADirectoryError:
        raise InputFormatError(path, "is a folder, not a sheet") from None
    except UnicodeDecodeError:
        raise InputFormatError(path, "not a text (TSV) file") from None
    except csv.Error as error:
        raise InputFormatError(path, f"not a readable TSV sheet ({error})") from None
    if not rows:
        raise InputFormatError(path, f"no {what}: the sheet needs a header line and at least one row")
    columns = [column for column in rows[0] if column is not None]
    if free_columns:  # a repeated free column would silently keep only its last cell
        header = next(csv.reader([_header_line(path)], delimiter="\t"))
        for column in header:
            if header.count(column) > 1:
                raise InputFormatError(path, f"column {column!r} appears more than once in the header")
    for column in columns:
        if column not in allowed and not free_columns:
            raise InputFormatError(path, f"unknown column {column!r}; columns are: {', '.join(allowed)}")
    for column in required:
        if column not in columns:
            raise InputFormatError(path, f"missing column {column!r}")
    return [{key: (value or "").strip() for key, value in row.items() if key is not None} for row in rows]


def _header_line(path: Path) -> str:
    """The first line that is not a comment (the header), without its line ending."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for line in handle:
            if not line.startswith("#"):
                return line.rstrip("\r\n")
    return ""
