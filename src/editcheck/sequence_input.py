"""Sequences a user gives on the command line: inline, or a file holding them (FASTA or plain text).

An amplicon, donor or HDR amplicon option takes either the sequence itself or the path of a file
with one FASTA record, plain or gzip (or the bare sequence on one or more lines; read by
:func:`editcheck.io.fasta.read_sequence_file`). A value that names no file is
the sequence, unless it looks like a path (a FASTA/text extension or a '/'), then the file is
missing. The sequence's letters are checked by the design (:func:`editcheck.design.clean_sequence`).
"""

from __future__ import annotations

from pathlib import Path

from editcheck.io.fasta import read_sequence_file

FILE_SUFFIXES = frozenset({".fa", ".fasta", ".fna", ".fas", ".txt", ".gz"})
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
    return read_sequence_file(path, what)
