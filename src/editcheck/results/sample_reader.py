"""Reader of one sample's on-target result folder (written by :mod:`editcheck.results.sample`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editcheck.results.files import NUMBER, PROPORTION, check_document, read_json, read_tsv
from editcheck.results.sample import (
    ALLELE_COLUMNS,
    BASE_EDITING_COLUMNS,
    INDEL_SIZE_COLUMNS,
    POSITION_COLUMNS,
    READ_CALL_COLUMNS,
    SUMMARY_COLUMNS,
)

SUMMARY_SCHEMA: dict[str, Any] = {
    "sample": str, "inputs": list, "method": str, "settings": dict, "outcomes": dict, "edited": PROPORTION,
    "edit_types": {"deletion": PROPORTION},
    "design": {"amplicon_name": str, "amplicon": str, "guides": list},
    "reads": {"input": NUMBER, "classified": NUMBER},
}  # fmt: skip


def _only(columns: tuple[str, ...], *names: str) -> tuple[str, ...]:
    """Some of a table's columns (named from the writer's list, so a renamed column fails here at import)."""
    missing = [name for name in names if name not in columns]
    if missing:
        raise ValueError(f"not columns of the table: {missing}")
    return names


# The columns a reader relies on (the others may be absent from an older folder).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "summary.tsv": SUMMARY_COLUMNS,
    "alleles.tsv": _only(ALLELE_COLUMNS, "reference", "aligned_sequence", "outcome", "percent_of_aligned"),
    "positions.tsv": _only(
        POSITION_COLUMNS,
        "reference",
        "position",
        "reference_base",
        "in_window",
        "A",
        "C",
        "G",
        "T",
        "N",
        "deletion",
        "insertion_after",
    ),
    "indel_sizes.tsv": _only(INDEL_SIZE_COLUMNS, "kind", "size", "reads"),
    "base_editing.tsv": _only(BASE_EDITING_COLUMNS, "in_editing_window"),
    "reads.tsv.gz": READ_CALL_COLUMNS,
}


@dataclass
class OnTargetSample:
    """What the report needs from one ``editcheck quantify`` folder."""

    folder: Path
    summary: dict[str, Any]
    alleles: list[dict[str, str]]
    positions: list[dict[str, str]]
    indel_sizes: list[dict[str, str]]
    base_editing: list[dict[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.summary["sample"])


def read_table(folder: str | Path, name: str) -> list[dict[str, str]]:
    """One table of a sample folder (``summary.tsv``, ``alleles.tsv``, ``positions.tsv``, ``indel_sizes.tsv``,
    ``base_editing.tsv`` or ``reads.tsv.gz``) as rows of strings, its required columns checked."""
    return read_tsv(Path(folder) / name, REQUIRED_COLUMNS.get(name, ()))


def read_summary(folder: str | Path) -> dict[str, Any]:
    """summary.json of a sample folder, its required fields checked."""
    path = Path(folder) / "summary.json"
    summary: dict[str, Any] = read_json(path)
    check_document(summary, SUMMARY_SCHEMA, path)
    for name, value in summary["outcomes"].items():
        check_document(value, PROPORTION, path, f"outcomes.{name}")
    return summary


def load_ontarget(folder: str | Path) -> OnTargetSample:
    """Load one on-target result folder."""
    folder = Path(folder)
    summary = read_summary(folder)
    base_editing = read_table(folder, "base_editing.tsv") if (folder / "base_editing.tsv").exists() else []
    return OnTargetSample(
        folder, summary, read_table(folder, "alleles.tsv"), read_table(folder, "positions.tsv"),
        read_table(folder, "indel_sizes.tsv"), base_editing,
    )  # fmt: skip
