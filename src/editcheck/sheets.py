"""Reading tab-separated sheets (amplicons, sites, samples) with one-line errors naming file and row."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from editcheck.errors import InputFormatError


def read_sheet(path: str | Path, allowed: Sequence[str], required: Sequence[str], what: str = "rows") -> list[dict[str, str]]:
    """Rows of a TSV sheet as dicts of stripped strings; '#' lines are comments. Unknown or missing
    columns and an empty sheet are errors naming the file."""
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
    for column in columns:
        if column not in allowed:
            raise InputFormatError(path, f"unknown column {column!r}; columns are: {', '.join(allowed)}")
    for column in required:
        if column not in columns:
            raise InputFormatError(path, f"missing column {column!r}")
    return [{key: (value or "").strip() for key, value in row.items() if key is not None} for row in rows]
