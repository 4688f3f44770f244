"""Sequences a user gives on the command line: inline, or a file holding them (FASTA or plain text).

An amplicon, donor or HDR amplicon option takes either the sequence itself or the path of a file
with one FASTA record (or the bare sequence on one or more lines). A value that names no file is
the sequence, unless it looks like a path (a FASTA/text extension or a '/'), then the file is
missing. The sequence's letters are checked by the design (:func:`editcheck.design.clean_sequence`).
"""

from __future__ import annotations

from pathlib import Path

from editcheck.errors import InputFormatError

FILE_SUFFIXES = frozenset({".fa", ".fasta", ".fna", ".txt"})
"""Extensions that make a value a file name even when no such file exists (so a typo is not a sequence)."""


def names_a_file(value: str | Path) -> bool:
    """Whether ``value`` names an existing file; a value too long to be a file name (a sequence) is not one."""
    try:
        return Path(value).is_file()
    except OSError:  # ENAMETOOLONG: an inline sequence over 255 characters
        return False


def read_sequence_argument(value: str, what: str) -> tuple[str, str | None]:
    """A sequence given inline, or a file holding it: FASTA (first and only record) or the plain
    sequence on one or more lines; returns (sequence, record name or None). ``what`` names the
    sequence in messages (amplicon, donor, HDR amplicon)."""
    path = Path(value)
    if not names_a_file(path):
        if path.suffix.lower() in FILE_SUFFIXES or "/" in value:
            raise FileNotFoundError(2, "file not found", value)
        return value, None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputFormatError(path, f"not a FASTA or sequence text file (binary content) for the {what}") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputFormatError(path, f"empty file: no {what} sequence")
    if not lines[0].startswith(">"):
        if any(line.startswith(">") for line in lines):
            raise InputFormatError(path, "not a FASTA file: text before the first '>' header line")
        return "".join(lines), None  # a plain sequence file (checked as a sequence by the design)
    headers = [number for number, line in enumerate(lines) if line.startswith(">")]
    if len(headers) > 1:
        raise InputFormatError(path, f"{len(headers)} FASTA records; give one {what} per file")
    words = lines[0][1:].split()
    name = words[0] if words else None
    sequence = "".join(lines[1:])
    if not sequence:
        raise InputFormatError(path, f"the FASTA record {name or ''!r} has no sequence", 1)
    return sequence, name
