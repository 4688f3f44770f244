"""The one FASTA reader: streaming records of plain or gzip/BGZF FASTA, a one-sequence file given for a
design option, and random access to an indexed genome FASTA.

Every problem is an :class:`~editcheck.errors.InputFormatError` naming the file and, where there is one,
the record (numbered from 1): a missing, empty or non-FASTA file, a header without a name, a name given
twice, a character that is not a nucleotide letter, truncated or corrupt compressed data.  Sequences
are returned as written (case kept, IUPAC codes kept); the callers decide what they accept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pysam

from editcheck.errors import InputFormatError
from editcheck.io.formats import UTF8_BOM, ByteReader, check_readable, head, is_gzip, open_binary, quiet_htslib

__all__ = ["FASTA_SUFFIXES", "iter_fasta", "iter_fasta_bytes", "open_indexed_fasta", "read_sequence_file"]

FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
"""File name suffixes of FASTA files."""

_SEQUENCE_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1)) + b"*-"
_WHITESPACE = b" \t\r\n\v\f"
_READ_CHUNK = 1 << 24


def _chunks(handle: ByteReader, path: Path) -> Iterator[bytes]:
    """The file's bytes in large chunks; decompression errors become InputFormatError."""
    while True:
        try:
            chunk = handle.read(_READ_CHUNK)
        except Exception as error:  # zlib.error, isal's IsalError, EOFError, BadGzipFile (OSError)
            raise InputFormatError(path, f"truncated or corrupt gzip data ({error})") from None
        if not chunk:
            return
        yield chunk


def _line_blocks(path: Path, handle: ByteReader) -> Iterator[bytes]:
    """Blocks of whole lines from the first '>' on (the last block may lack its final newline).

    Leading blank lines and a UTF-8 byte-order mark (as some editors write) are skipped."""
    chunks = _chunks(handle, path)
    pending = b""
    first = True
    for chunk in chunks:
        if first and chunk.startswith(UTF8_BOM):
            chunk = chunk[len(UTF8_BOM) :]
        first = False
        pending = chunk.lstrip(_WHITESPACE)
        if pending:
            break
    if not pending:
        raise InputFormatError(path, "empty file: no FASTA records")
    if pending[:1] != b">":
        shown = pending[:30].split(b"\n")[0].decode("utf-8", "replace")
        raise InputFormatError(
            path, f"not a FASTA file: expected '>' at the start of the first record, found {shown!r}"
        )
    for chunk in chunks:
        data = pending + chunk
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
            pending = data[cut:]
        else:
            pending = data
    if pending:
        yield pending


def iter_fasta_bytes(
    path: str | Path, *, noun: str = "contig", unnamed: bool = False
) -> Iterator[tuple[str, bytearray]]:
    """(name, sequence) per record in file order, sequences as bytearrays without line breaks.

    The name is the first word of the header.  ``noun`` names a record in messages ("contig b:
    sequence contains '1'"); with ``unnamed`` a header without a name gives the name "" instead of
    an error.  Reads the file in large blocks: fast enough for whole genomes.
    """
    path = Path(path)
    names: set[str] = set()
    record = 0
    name: str | None = None
    sequence = bytearray()
    with open_binary(path, "FASTA") as handle:
        for data in _line_blocks(path, handle):
            position = 0
            while position < len(data):
                if data[position] == 62:  # '>' at a line start: a header
                    line_end = data.find(b"\n", position)
                    line_end = len(data) if line_end < 0 else line_end
                    if name is not None:
                        yield name, sequence
                    record += 1
                    fields = data[position + 1 : line_end].decode("utf-8", "replace").split()
                    if not fields and not unnamed:
                        raise InputFormatError(path, "FASTA header without a name", record)
                    name = fields[0] if fields else ""
                    if name in names:
                        raise InputFormatError(path, f"{noun} name {name!r} appears twice", record)
                    names.add(name)
                    sequence = bytearray()
                    position = line_end + 1
                    continue
                next_header = data.find(b"\n>", position)
                stop = len(data) if next_header < 0 else next_header + 1
                letters = data[position:stop].translate(None, _WHITESPACE)
                other = letters.translate(None, _SEQUENCE_LETTERS)
                if other:
                    raise InputFormatError(
                        path, f"{noun} {name}: sequence contains {other[:1].decode('latin-1')!r}, "
                        "which is not a nucleotide letter", record,
                    )  # fmt: skip
                sequence += letters
                position = stop
    if name is not None:
        yield name, sequence


def iter_fasta(path: str | Path) -> Iterator[tuple[str, str]]:
    """(name, sequence) for each record of a FASTA or gzip-compressed FASTA file, in file order.

    The name is the first word of the header. Missing, empty and non-FASTA files, nameless or
    repeated contigs and non-letter characters in sequences raise
    :class:`~editcheck.errors.InputFormatError` naming the file and the record.
    """
    for name, sequence in iter_fasta_bytes(path):
        yield name, sequence.decode("ascii")


def read_sequence_file(path: str | Path, what: str) -> tuple[str, str | None]:
    """The one sequence of a file given for a design option (``what``: "amplicon", "donor"...):
    a FASTA file (plain or gzip) with exactly one record, or the plain sequence on one or more lines.
    Returns (sequence, record name or None)."""
    path = Path(path)
    if not is_gzip(path):
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
    records = list(iter_fasta_bytes(path, noun="record", unnamed=True))
    if len(records) > 1:
        raise InputFormatError(path, f"{len(records)} FASTA records; give one {what} per file")
    name, sequence = records[0]
    if not sequence:
        raise InputFormatError(path, f"the FASTA record {name!r} has no sequence", 1)
    return sequence.decode("ascii"), name or None


def open_indexed_fasta(path: str | Path) -> pysam.FastaFile:
    """Open an indexed (``.fai``; plain or bgzip with ``.gzi``) FASTA for random access, letting pysam
    create the .fai when it is missing and the folder is writable."""
    check_readable(path, "FASTA")
    path = str(path)
    hint = f"create the index with: samtools faidx {path}"
    if not os.path.exists(path + ".fai"):
        folder = os.path.dirname(os.path.abspath(path))
        if not os.access(folder, os.W_OK):
            raise InputFormatError(path, f"the FASTA has no index ({path}.fai) and its folder is not writable; {hint}")
    try:
        with quiet_htslib():
            return pysam.FastaFile(path)
    except (OSError, ValueError) as error:
        if is_gzip(path):
            problem = (
                "cannot index or read this compressed FASTA; it must be bgzip-compressed (not plain gzip) "
                f"with .fai and .gzi indexes: bgzip the uncompressed file, then {hint}"
            )
        elif not head(path, 1).startswith(b">"):
            problem = "not a FASTA file (the first line does not start with '>')"
        else:
            problem = f"cannot index or read the FASTA ({error}); {hint}"
        raise InputFormatError(path, problem) from None
