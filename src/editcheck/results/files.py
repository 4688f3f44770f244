"""Opening a result file for a reader: JSON and TSV with one-line errors naming the file, and a small
type check of a document's required fields."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from editcheck.errors import InputFormatError

NUMBER = (int, float)
PROPORTION = {"reads": NUMBER, "total": NUMBER, "percent": NUMBER, "ci95_low": NUMBER, "ci95_high": NUMBER}


def check_document(document: Any, schema: dict[str, Any], path: Path, where: str = "") -> None:
    """A result file's required fields and their types: one line naming the file and what is missing."""
    if not isinstance(document, dict):
        raise InputFormatError(
            path, f"{repr(where) if where else 'the document'} is not a JSON object (not an editcheck result file?)"
        )
    for key, expected in schema.items():
        name = f"{where}.{key}" if where else key
        if key not in document:
            raise InputFormatError(path, f"missing {name!r} (not an editcheck result file, or from another version?)")
        value = document[key]
        if isinstance(expected, dict):
            check_document(value, expected, path, name)
        elif not isinstance(value, expected) or (expected is NUMBER and isinstance(value, bool)):
            raise InputFormatError(path, f"{name!r} has the wrong type ({type(value).__name__})")


def read_tsv(path: Path, required: Sequence[str] = ()) -> list[dict[str, str]]:
    """Rows of a result table (plain or gzip-compressed by its ``.gz`` name) as dicts of strings; a missing
    ``required`` column is an error naming the file."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except FileNotFoundError:
        raise InputFormatError(path, "file not found (is this an editcheck result folder?)") from None
    except (UnicodeDecodeError, csv.Error, gzip.BadGzipFile, EOFError) as error:
        raise InputFormatError(path, f"not a readable table ({error})") from None
    columns = rows[0].keys() if rows else ()
    for column in required:
        if rows and column not in columns:
            raise InputFormatError(path, f"missing column {column!r} (not an editcheck result table?)")
    return rows


def read_json(path: Path) -> Any:
    """A result document; a missing, non-text or invalid file is an error naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFormatError(path, "file not found (is this an editcheck result folder?)") from None
    except json.JSONDecodeError as error:
        raise InputFormatError(path, f"not valid JSON ({error.msg} at line {error.lineno})") from None
    except UnicodeDecodeError:
        raise InputFormatError(path, "not a text (JSON) file") from None
