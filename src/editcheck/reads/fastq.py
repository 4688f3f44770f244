"""Reading FASTQ files (plain or compressed) with errors that name the file, the record and the problem.

Both readers are generators built on dnaio, which decompresses gzip in-process with ISA-L.  Every record
is checked: the sequence may contain only A, C, G, T and N (lowercase is uppercased and ``.`` becomes
``N``), and every quality character must be printable Phred+33 (``!`` to ``~``).  Problems are raised
as :class:`~editcheck.errors.InputFormatError` (or :class:`~editcheck.errors.PairingError` for R1/R2
files that do not match) when the reader reaches them, so a caller that consumed part of a file before
the error must discard what it collected.

Records are numbered from 1 in file order.  Reads of length zero (as left by some trimmers) are
accepted and passed on unchanged.
"""

from __future__ import annotations

import lzma
import os
import zlib
from collections.abc import Iterator
from itertools import zip_longest
from pathlib import Path

import dnaio
from xopen import xopen

from editcheck.errors import InputFormatError, PairingError

__all__ = ["iter_paired", "iter_single"]

_BASES = b"ACGTN"
_PRINTABLE_QUALITIES = bytes(range(ord("!"), ord("~") + 1))
_NORMALISE = str.maketrans("acgtn.", "ACGTNN")
_GZIP_MAGIC = b"\x1f\x8b"


def _decompression_errors() -> tuple[type[Exception], ...]:
    """Exception classes the decompressors behind xopen raise for damaged data (not OSError subclasses)."""
    errors: list[type[Exception]] = [zlib.error, lzma.LZMAError]
    try:
        from isal.igzip_lib import IsalError

        errors.append(IsalError)
    except ImportError:  # pragma: no cover - isal is optional in xopen on some platforms
        pass
    try:
        from zlib_ng.zlib_ng import error as ZlibNgError

        errors.append(ZlibNgError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


_DECOMPRESSION_ERRORS = _decompression_errors()


def _head(path: str | Path, size: int, decompress: bool) -> bytes:
    """First ``size`` bytes of the file (decompressed if asked); empty when unreadable. Error paths only."""
    try:
        if decompress:
            with xopen(path, "rb", threads=0) as handle:
                return handle.read(size)
        with open(path, "rb") as handle:
            return handle.read(size)
    except Exception:  # noqa: BLE001 - only used to improve an error message that is raised anyway
        return b""


def _first_non_ascii_line(path: str | Path) -> int | None:
    """0-based number of the first line containing a non-ASCII byte. Error paths only."""
    try:
        with xopen(path, "rb", threads=0) as handle:
            for number, line in enumerate(handle):
                if not line.isascii():
                    return number
    except Exception:  # noqa: BLE001 - a damaged file may fail again; the caller has a fallback
        return None
    return None


def _not_fastq_problem(path: str | Path) -> str | None:
    """A 'this is not FASTQ at all' message when the first byte shows it, else None. Error paths only."""
    first = _head(path, 1, decompress=True)
    if not first or first == b"@":
        return None
    if first == b">":
        return "not a FASTQ file: it looks like FASTA (first line starts with '>'); FASTQ with base qualities is needed"
    if first.isascii() and first.decode().isprintable():
        return f"not a FASTQ file: the first line starts with {first.decode()!r} instead of '@'"
    return "not a FASTQ file: the content is binary or not text (first line does not start with '@')"


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_error(path: str | Path, error: dnaio.exceptions.FileFormatError, reads_so_far: int) -> InputFormatError:
    """Translate a dnaio parsing error into an InputFormatError naming the record."""
    message = getattr(error, "message", None) or str(error)
    line = getattr(error, "line", None)
    if line is None and "Non-ASCII" in message:
        # dnaio checks whole buffers, so its position is not the record's: find the line ourselves.
        line = _first_non_ascii_line(path)
        if line is None:
            record = reads_so_far + 1
            return InputFormatError(path, "non-ASCII character at or after this record", record)
        record = line // 4 + 1
        if record == 1 and (problem := _not_fastq_problem(path)) is not None:
            return InputFormatError(path, problem)
        return InputFormatError(path, f"non-ASCII character in line {line + 1} (FASTQ must be plain ASCII text)", record)
    if line is None:
        return InputFormatError(path, f"malformed FASTQ record: {_one_line(message)}", reads_so_far + 1)
    record = line // 4 + 1
    if record == 1 and (problem := _not_fastq_problem(path)) is not None:
        return InputFormatError(path, problem)
    if message.startswith("Premature end of file"):
        problem = f"file ends in the middle of a record at line {line + 1} (truncated file?)"
    elif message.startswith("Length of sequence and qualities differ"):
        problem = f"sequence and quality lengths differ (line {line + 1})"
    else:
        problem = f"malformed FASTQ record at line {line + 1}: {_one_line(message)}"
    return InputFormatError(path, problem, record)


def _open_error(path: str | Path, error: OSError) -> InputFormatError:
    if isinstance(error, FileNotFoundError):
        return InputFormatError(path, "file not found")
    if isinstance(error, IsADirectoryError):
        return InputFormatError(path, "is a directory, not a FASTQ file")
    if isinstance(error, PermissionError):
        return InputFormatError(path, "permission denied")
    return InputFormatError(path, f"cannot read file: {_one_line(error.strerror or str(error))}")


def _compression_error(path: str | Path, error: Exception) -> InputFormatError:
    """Errors from the decompressor (xopen/isal/zlib): truncated, corrupt, or not compressed at all.

    No record number: the decompressor reads ahead, so the reads already yielded say little about where
    the damage is.
    """
    is_gzip = _head(path, 2, decompress=False) == _GZIP_MAGIC
    kind = "gzip" if is_gzip else "compressed"
    if isinstance(error, EOFError):
        problem = f"truncated {kind} file (compressed stream ended early)"
    elif not is_gzip and str(path).lower().endswith(".gz"):
        problem = "not a gzip file, although the name ends in .gz"
    else:
        problem = f"corrupt {kind} data: {_one_line(str(error))}"
    return InputFormatError(path, problem)


def _sequence_problem(sequence: str) -> str | None:
    """The first character that is not a base, described for the user; None when all are bases."""
    for position, character in enumerate(sequence, 1):
        if character not in "ACGTN":
            shown = repr(character) if character.isprintable() else f"code {ord(character)}"
            return (
                f"sequence has {shown} at position {position}; only A, C, G, T and N are allowed "
                "(lowercase and '.' are accepted)"
            )
    return None


def _quality_problem(qualities: str) -> str:
    for position, character in enumerate(qualities, 1):
        if not "!" <= character <= "~":
            shown = f"{character!r} (code {ord(character)})" if character.isprintable() else f"code {ord(character)}"
            return f"quality character {shown} at position {position} is not valid Phred+33 (must be '!' to '~')"
    raise AssertionError("no invalid quality character")  # pragma: no cover


def _read(path: str | Path) -> Iterator[tuple[str, str, str]]:
    """Validated (name, sequence, qualities) for each record of one FASTQ file."""
    count = 0
    bases = _BASES
    printable = _PRINTABLE_QUALITIES
    normalise = _NORMALISE
    try:
        with dnaio.open(path, open_threads=0, fileformat="fastq") as reader:
            for record in reader:
                sequence = record.sequence
                qualities = record.qualities
                count += 1
                # One C-level pass each; the slow path runs only for lowercase, '.' or invalid data.
                if sequence.encode().translate(None, bases):
                    sequence = sequence.translate(normalise)
                    if sequence.encode().translate(None, bases):
                        raise InputFormatError(path, _sequence_problem(sequence) or "invalid sequence", count)
                if qualities.encode().translate(None, printable):
                    raise InputFormatError(path, _quality_problem(qualities), count)
                yield record.name, sequence, qualities
    except InputFormatError:
        raise
    except dnaio.exceptions.FileFormatError as error:
        raise _format_error(path, error, count) from None
    except EOFError as error:
        raise _compression_error(path, error) from None
    except OSError as error:
        if error.errno is not None:
            raise _open_error(path, error) from None
        raise _compression_error(path, error) from None  # gzip.BadGzipFile, bz2 "Invalid data stream"
    except _DECOMPRESSION_ERRORS as error:
        raise _compression_error(path, error) from None
    if count == 0:
        raise InputFormatError(path, "no reads (empty file)")


def iter_single(path: str | Path) -> Iterator[tuple[str, str, str]]:
    """Yield ``(name, sequence, qualities)`` for every read of a FASTQ file (plain, .gz, .bz2, .xz, .zst).

    ``name`` is the whole header line without ``@``; ``sequence`` is uppercase ACGTN.  Raises
    :class:`InputFormatError` (naming the file, the record when known, and the problem) for a missing,
    empty, truncated or malformed file, as the reader reaches the problem.
    """
    yield from _read(path)


def _read_id(name: str) -> str:
    """The read ID used to match mates: the name up to the first whitespace, without a trailing /1 or /2."""
    parts = name.split(None, 1)
    identifier = parts[0] if parts else ""
    if identifier[-2:] in ("/1", "/2"):
        identifier = identifier[:-2]
    return identifier


def _same_file(path1: str | Path, path2: str | Path) -> bool:
    try:
        return os.path.samefile(path1, path2)
    except OSError:
        return False


def iter_paired(path1: str | Path, path2: str | Path) -> Iterator[tuple[str, str, str, str, str]]:
    """Yield ``(name, sequence1, qualities1, sequence2, qualities2)`` for each pair of R1/R2 reads.

    ``name`` is R1's header.  Each file is validated as in :func:`iter_single`; in addition the files
    must hold the same number of reads, and mates must have the same ID (the name up to the first
    whitespace, ignoring a trailing ``/1`` or ``/2``), otherwise :class:`PairingError` is raised.
    """
    if _same_file(path1, path2):
        raise PairingError(path2, f"R2 is the same file as R1 ({path1})")
    number = 0
    for number, (read1, read2) in enumerate(zip_longest(_read(path1), _read(path2)), 1):
        if read1 is None:
            raise PairingError(
                path1, f"R1 ended after {number - 1} reads but R2 ({path2}) continues; the files must hold the same reads", number
            )
        if read2 is None:
            raise PairingError(
                path2, f"R2 ended after {number - 1} reads but R1 ({path1}) continues; the files must hold the same reads", number
            )
        name = read1[0]
        other = read2[0]
        if name != other and _read_id(name) != _read_id(other):
            raise PairingError(
                path1,
                f"read name {_read_id(name)!r} in R1 does not match {_read_id(other)!r} in R2 ({path2}); "
                "R1 and R2 must list the same reads in the same order",
                number,
            )
        yield name, read1[1], read1[2], read2[1], read2[2]
