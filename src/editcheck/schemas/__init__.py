"""The published form of editcheck's outputs, shipped with the package: a JSON Schema (draft 2020-12) for
each JSON document (summary.json, offtarget_calls.json, manifest.json, assignment.json, evidence.json) and
one column dictionary (``columns.json``) for every table (name, type, unit, meaning), all under one
:data:`SCHEMA_VERSION`, which each JSON output carries as ``schema_version``.

:func:`check_document` and :func:`check_table` check a written file against them, with one-line errors
naming the file and the first problem (``editcheck export`` runs them on everything it packages).
"""

from __future__ import annotations

import functools
import gzip
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from editcheck.errors import InputFormatError

SCHEMA_VERSION = 1
"""Version of the output schemas; every JSON output carries it as ``schema_version``."""
DOCUMENTS = {
    "summary.json": "summary.schema.json",
    "offtarget_calls.json": "offtarget_calls.schema.json",
    "manifest.json": "manifest.schema.json",
    "assignment.json": "assignment.schema.json",
    "evidence.json": "evidence.schema.json",
}
"""Each editcheck JSON document's file name and its schema's file name."""
COLUMNS = "columns.json"
SCHEMA_FILES = (*DOCUMENTS.values(), COLUMNS)
"""Every file of this package's data, as an export ships them."""


def schema_text(name: str) -> str:
    """The text of one schema file (:data:`SCHEMA_FILES`), as shipped."""
    if name not in SCHEMA_FILES:
        raise ValueError(f"not an editcheck schema file: {name!r}")
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    schema = json.loads(schema_text(name))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@functools.cache
def column_dictionary() -> dict[str, Any]:
    """The column dictionary: ``{"schema_version", "types", "tables": [{"id", "file", "folder", "columns":
    [{"name", "type", "unit", "meaning"}], ...}]}``."""
    document: dict[str, Any] = json.loads(schema_text(COLUMNS))
    return document


def table_entry(table_id: str) -> dict[str, Any]:
    """One table of the column dictionary by its id (e.g. ``sample_summary``)."""
    for table in column_dictionary()["tables"]:
        if table["id"] == table_id:
            return dict(table)
    raise KeyError(table_id)


def tables_named(file_name: str) -> list[dict[str, Any]]:
    """The dictionary's tables written under this file name (``summary.tsv`` names two)."""
    return [table for table in column_dictionary()["tables"] if table["file"] == file_name]


def check_document(path: Path, document: Any, name: str | None = None) -> None:
    """``document`` (read from ``path``) against the schema of its file name (or of ``name``): one line
    naming the file, where in it and what is wrong, for the first problem found."""
    schema = DOCUMENTS.get(name or path.name)
    if schema is None:
        raise InputFormatError(path, "not an editcheck JSON document (no schema for this file name)")
    error = min(_validator(schema).iter_errors(document), key=lambda error: list(error.absolute_path), default=None)
    if error is not None:
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
        raise InputFormatError(path, f"does not match {schema} (schema_version {SCHEMA_VERSION}) at "
                                     f"{where.lstrip('.') or 'the top level'}: {error.message}")  # fmt: skip


def table_header(path: Path) -> list[str]:
    """The column names of a table (plain or ``.gz``), after any ``#`` comment lines (MultiQC's)."""
    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            for line in handle:
                if not line.startswith("#"):
                    columns: list[str] = line.rstrip("\n").split("\t")
                    return columns
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise InputFormatError(path, f"not a readable table ({error})") from None
    raise InputFormatError(path, "empty table: no header line")


def expected_columns(table: dict[str, Any], header: list[str]) -> list[str]:
    """The columns a header of this dictionary table may hold: its listed columns less the optional ones
    the header leaves out, then (when the table allows them) the header's additional columns."""
    optional = set(table.get("optional_columns", ()))
    listed = [
        column["name"] for column in table["columns"] if column["name"] not in optional or column["name"] in header
    ]
    if table.get("additional_columns") and header[: len(listed)] == listed:
        return [*listed, *header[len(listed) :]]
    return listed


def check_table(path: Path, table_id: str | None = None) -> dict[str, Any]:
    """A table's header against its entry in the column dictionary (by ``table_id``, else by file name;
    of two tables with one name, the one whose columns match); returns the entry."""
    header = table_header(path)
    candidates = [table_entry(table_id)] if table_id else tables_named(path.name)
    if not candidates:
        raise InputFormatError(path, f"no table of this name in the column dictionary ({COLUMNS})")
    for table in candidates:
        if header == expected_columns(table, header):
            return table
    wanted = " or ".join(repr("\t".join(expected_columns(table, header))) for table in candidates)
    raise InputFormatError(path, f"columns {chr(9).join(header)!r} are not the dictionary's {wanted} "
                                 f"(schema_version {SCHEMA_VERSION}, {COLUMNS})")  # fmt: skip


__all__ = [
    "COLUMNS", "DOCUMENTS", "SCHEMA_FILES", "SCHEMA_VERSION", "check_document", "check_table", "column_dictionary",
    "schema_text", "table_entry", "table_header", "tables_named",
]  # fmt: skip
