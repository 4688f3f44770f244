"""Reading FASTQ files (plain or compressed) with errors that name the file, the record and the problem.

Both readers are generators built on dnaio, which decompresses gzip in-process with ISA-L.  Every record
is checked: the sequence may contain only A, C, G, T and N (lowercase is uppercased and ``.`` becomes
``N``), and every quality character must be printable Phred+33 (``!`` to ``~``).  Problems are raised
as :class:`~editcheck.errors.InputFormatError` (or :class:`~editcheck.errors.PairingError` for R1/R2
files that do not match) when the reader reaches them, so a caller that consumed part of a file before
the error must discard what it collected.

Records are numbered from 1 in file order.  Reads of length zero (as left by some trimmers) are
accepted and passed on unchanged.  A read longer than ``max_read_length`` bases is refused
(:mod:`editcheck.reads.read_length`), and never held whole: dnaio doubles its buffer for as long as a record
does not fit, so the file it reads is handed to it through :class:`_Bounded`, which stops it once the buffer
outgrows twice :func:`~editcheck.reads.read_length.record_bytes` of the limit; the first record too long is
then found again, line by line, to name it.

:func:`iter_single_batches` reads single-end files a few hundred records at a time for the collapse: the same
records, checks, normalisation and errors (the first problem in file order is the one reported), with the
checks done on a whole batch at once (C-level string and numpy operations) and a record looked at alone only
when its batch has something to normalise or refuse.  :func:`read_blocks` hands a file's decompressed bytes in
large blocks to a consumer (the compiled collapse of :mod:`editcheck.reads.collapse`), which leaves whatever it
does not take (from the first unusual record's batch on) to :func:`iter_single_batches` (``skip``).
"""

from __future__ import annotations

import lzma
import os
import stat
import zlib
from collections.abc import Callable, Container, Generator, Iterator
from io import BufferedIOBase
from itertools import filterfalse, islice
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Protocol, cast

import dnaio
import numpy as np
from xopen import xopen

from editcheck.errors import InputFormatError, PairingError
from editcheck.io.formats import head, is_gzip
from editcheck.reads.read_length import MAX_NAME_LENGTH, MAX_READ_LENGTH, record_bytes, too_long
from editcheck.reads.records import PairTuple, Read, ReadPair, ReadTuple

__all__ = [
    "BLOCK_BYTES", "iter_paired", "iter_paired_tuples", "iter_single", "iter_single_batches", "iter_single_tuples",
    "read_blocks",
]  # fmt: skip

_BASES = b"ACGTN"
_PRINTABLE_QUALITIES = bytes(range(ord("!"), ord("~") + 1))
_NORMALISE = str.maketrans("acgtn.", "ACGTNN")
_new = tuple.__new__
"""Builds the records without their generated constructor (about half its cost on the per-read path)."""


def _decompression_errors() -> tuple[type[Exception], ...]:
    """Exception classes the decompressors behind xopen raise for damaged data (not OSError subclasses)."""
    errors: list[type[Exception]] = [zlib.error, lzma.LZMAError]
    try:
        from isal.igzip_lib import IsalError

        errors.append(cast(type[Exception], IsalError))  # isal's stub declares the class as an instance
    except ImportError:  # pragma: no cover - isal is optional in xopen on some platforms
        pass
    try:
        from zlib_ng.zlib_ng import error as ZlibNgError

        errors.append(cast(type[Exception], ZlibNgError))  # as above
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


_DECOMPRESSION_ERRORS = _decompression_errors()


def _is_stream(path: str | Path) -> bool:
    """True for a pipe or terminal (e.g. /dev/stdin), which can be read only once."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _first_non_ascii_line(path: str | Path) -> int | None:
    """0-based number of the first line containing a non-ASCII byte. Error paths only."""
    try:
        with xopen(path, "rb", threads=0) as handle:
            for number, line in enumerate(handle):
                if not line.isascii():
                    return number
    except Exception:  # broad on purpose: a damaged file may fail again; the caller has a fallback
        return None
    return None


def _not_fastq_problem(path: str | Path) -> str | None:
    """A 'this is not FASTQ at all' message when the first byte shows it, else None. Error paths only."""
    first = head(path, 1, decompress=True)
    if not first or first == b"@":
        return None
    if first.isspace():
        return "not a FASTQ file: the first line is blank or starts with a space instead of '@'"
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
        if reads_so_far == 0 and _is_stream(path):
            return InputFormatError(path, "not a FASTQ file: the content is binary or not text (read from a stream)")
        line = _first_non_ascii_line(path)
        if line is None:
            record = reads_so_far + 1
            return InputFormatError(path, "non-ASCII character at or after this record", record)
        record = line // 4 + 1
        if record == 1 and (problem := _not_fastq_problem(path)) is not None:
            return InputFormatError(path, problem)
        return InputFormatError(
            path, f"non-ASCII character in line {line + 1} (FASTQ must be plain ASCII text)", record
        )
    if line is None:
        return InputFormatError(path, f"malformed FASTQ record: {_one_line(message)}", reads_so_far + 1)
    record = line // 4 + 1
    if record == 1 and _is_stream(path):  # a pipe cannot be read again to look at the first bytes
        return InputFormatError(
            path, "not FASTQ text: the first record read from the stream is incomplete or binary", 1
        )
    if record == 1 and (problem := _not_fastq_problem(path)) is not None:
        return InputFormatError(path, problem)
    if message.startswith("Premature end of file"):
        rest = message.partition("was: ")[2].strip("'\"")
        if rest and not rest.replace("\\n", "").replace("\\r", "").replace("\\t", "").strip():
            problem = "blank lines at the end of the file instead of a record"
        elif "\\x" in rest or "\\u" in rest:  # dnaio shows the unreadable record with escapes
            problem = f"not FASTQ text: binary data in the record at line {line + 1}"
        else:
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
    if _is_stream(path):  # a pipe cannot be read again to tell truncated from corrupt or binary data
        return InputFormatError(
            path,
            f"not readable as compressed data (corrupt, truncated or binary input on a stream: {_one_line(str(error)) or type(error).__name__})",
        )
    gzip = is_gzip(path)
    kind = "gzip" if gzip else "compressed"
    if isinstance(error, EOFError):
        problem = f"truncated {kind} file (compressed stream ended early)"
    elif not gzip and str(path).lower().endswith(".gz"):
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


class _LongRecord(Exception):
    """Raised by :class:`_Bounded` when dnaio asks for more bytes at once than a record of reads no longer than
    ``max_read_length`` can need (its buffer doubled for a longer record)."""

    def __init__(self, max_read_length: int) -> None:
        super().__init__(max_read_length)
        self.max_read_length = max_read_length


class _Bounded:
    """A binary file handed to dnaio, which reads it ``size`` bytes at a time, ``size`` being the free room of its
    buffer: asked for more than twice :func:`record_bytes` of ``max_read_length`` (the buffer has doubled for a
    record longer than that), it raises :class:`_LongRecord` instead of letting the buffer grow on."""

    def __init__(self, handle: BufferedIOBase, max_read_length: int) -> None:
        self._handle = handle
        self._most = 2 * record_bytes(max_read_length)
        self._max_read_length = max_read_length

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._most:
            raise _LongRecord(self._max_read_length)
        return self._handle.read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:
        if len(buffer) > self._most:
            raise _LongRecord(self._max_read_length)
        return self._handle.readinto(buffer)

    def close(self) -> None:
        self._handle.close()

    @property
    def closed(self) -> bool:
        return self._handle.closed

    def __getattr__(self, name: str) -> object:
        return getattr(self._handle, name)


def _line_length(handle: BufferedIOBase) -> int | None:
    """The length of the next line without its line break (or CRLF), read 64 kB at a time; None at the end."""
    length = 0
    while part := handle.readline(65_536):
        if part.endswith(b"\n"):
            return length + len(part) - (2 if part.endswith(b"\r\n") else 1)
        length += len(part)
    return length if length else None


def _long_record_error(path: str | Path, max_read_length: int, reads_so_far: int) -> InputFormatError:
    """The error naming the first record of ``path`` with a read longer than ``max_read_length`` (or a header
    longer than :data:`MAX_NAME_LENGTH`), found line by line (bounded memory).  Error paths only."""
    if not _is_stream(path):
        try:
            with xopen(path, "rb", threads=0) as handle:
                line = 0
                while (length := _line_length(cast(BufferedIOBase, handle))) is not None:
                    record, kind = divmod(line, 4)
                    if kind in (1, 3) and length > max_read_length:
                        if kind == 1:
                            return too_long(path, record + 1, length, max_read_length)
                        return InputFormatError(
                            path,
                            f"quality line of {length:,} characters is longer than the maximum read length "
                            f"({max_read_length:,}; --max-read-length)",
                            record + 1,
                        )
                    if kind in (0, 2) and length > MAX_NAME_LENGTH:
                        return InputFormatError(
                            path,
                            f"header line of {length:,} characters is longer than the {MAX_NAME_LENGTH:,} allowed",
                            record + 1,
                        )
                    line += 1
        except _READ_ERRORS as error:  # damaged data before the long record: name that instead
            if (translated := _translate(path, error, reads_so_far)) is not None:
                return translated
    return InputFormatError(
        path,
        f"record longer than {record_bytes(max_read_length):,} bytes: a read longer than the maximum read length "
        f"({max_read_length:,}; --max-read-length) or a header longer than {MAX_NAME_LENGTH:,} characters",
        reads_so_far + 1,
    )


_READ_ERRORS: tuple[type[BaseException], ...] = (
    _LongRecord,
    dnaio.exceptions.FileFormatError,
    EOFError,
    OSError,
    *_DECOMPRESSION_ERRORS,
)


def _translate(path: str | Path, error: BaseException, reads_so_far: int) -> InputFormatError | None:
    """The InputFormatError for an error raised while opening or reading ``path``; None if unexpected."""
    if isinstance(error, _LongRecord):
        return _long_record_error(path, error.max_read_length, reads_so_far)
    if isinstance(error, dnaio.exceptions.FileFormatError):
        return _format_error(path, error, reads_so_far)
    if isinstance(error, EOFError):
        return _compression_error(path, error)
    if isinstance(error, OSError):
        if error.errno is not None:
            return _open_error(path, error)
        return _compression_error(path, error)  # gzip.BadGzipFile, bz2 "Invalid data stream"
    if isinstance(error, _DECOMPRESSION_ERRORS):
        return _compression_error(path, error)
    return None


class _FastqRecord(Protocol):
    """A dnaio record read from a FASTQ file, where (unlike FASTA) the qualities are always present."""

    @property
    def name(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def sequence(self) -> str: ...
    @property
    def qualities(self) -> str: ...


class _FastqReader(Protocol):
    """The part of dnaio's single-end reader used here, typed for FASTQ records."""

    @property
    def number_of_records(self) -> int: ...
    def __iter__(self) -> Iterator[_FastqRecord]: ...
    def __enter__(self) -> _FastqReader: ...
    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None: ...


def _open(path: str | Path, max_read_length: int, threads: int = 0) -> _FastqReader:
    """dnaio's reader of ``path``, its buffer bounded by ``max_read_length`` (:class:`_Bounded`)."""

    def bounded(name: str | Path, mode: str) -> _Bounded:  # dnaio reads with mode "rb"
        return _Bounded(cast(BufferedIOBase, xopen(name, "rb", threads=threads)), max_read_length)

    try:
        # fileformat="fastq": dnaio's records then always carry qualities (its types allow None for FASTA).
        return cast(_FastqReader, dnaio.open(path, opener=bounded, fileformat="fastq"))
    except _READ_ERRORS as error:
        _raise(path, error, 0)


def _checked(path: str | Path, record: int, sequence: str, qualities: str) -> str:
    """Slow path for a record that failed the fast check: the normalised sequence, or InputFormatError."""
    sequence = sequence.translate(_NORMALISE)
    if sequence.encode().translate(None, _BASES):
        raise InputFormatError(path, _sequence_problem(sequence) or "invalid sequence", record)
    if qualities.encode().translate(None, _PRINTABLE_QUALITIES):
        raise InputFormatError(path, _quality_problem(qualities), record)
    return sequence


def iter_single(path: str | Path, max_read_length: int = MAX_READ_LENGTH) -> Iterator[Read]:
    """Yield a :class:`Read` ``(name, sequence, qualities)`` for every read of a FASTQ file (plain, .gz, .bz2, .xz, .zst).

    ``name`` is the whole header line without ``@``; ``sequence`` is uppercase ACGTN.  Raises
    :class:`InputFormatError` (naming the file, the record when known, and the problem) for a missing,
    empty, truncated or malformed file, or a read longer than ``max_read_length`` bases, as the reader reaches
    the problem.
    """
    return cast(Iterator[Read], _single(path, max_read_length, True))


def iter_single_tuples(path: str | Path, max_read_length: int = MAX_READ_LENGTH) -> Iterator[ReadTuple]:
    """:func:`iter_single` yielding plain tuples (for the engine's per-read loop, see
    :data:`~editcheck.reads.records.FragmentTuple`)."""
    return _single(path, max_read_length, False)


def _single(path: str | Path, max_read_length: int, typed: bool) -> Iterator[ReadTuple]:
    reader = _open(path, max_read_length)
    bases = _BASES
    printable = _PRINTABLE_QUALITIES
    with reader:
        try:
            for record in reader:
                sequence = record.sequence
                qualities = record.qualities
                # One C-level pass over each; the slow path runs only for lowercase, '.' or bad data.
                if sequence.encode().translate(None, bases) or qualities.encode().translate(None, printable):
                    sequence = _checked(path, reader.number_of_records, sequence, qualities)
                if len(sequence) > max_read_length:
                    raise too_long(path, reader.number_of_records, len(sequence), max_read_length)
                yield _new(Read, (record.name, sequence, qualities)) if typed else (record.name, sequence, qualities)
        except _READ_ERRORS as error:
            _raise(path, error, reader.number_of_records)
        if reader.number_of_records == 0:
            raise InputFormatError(path, "no reads (empty file)")


BATCH = 256
"""Records per batch of :func:`iter_single_batches` (larger batches were slower: their records outgrow the
processor's caches)."""

_sequence_of = attrgetter("sequence")
_qualities_of = attrgetter("qualities")


def _valid_qualities(qualities: list[str]) -> bool:
    """Whether every character of ``qualities`` is printable Phred+33 ('!' to '~'), all at once."""
    codes = np.frombuffer("".join(qualities).encode("ascii"), dtype=np.uint8)
    return not bool(((codes - np.uint8(33)) > 93).any())  # below '!' wraps around to 223 and more


def iter_single_batches(
    path: str | Path,
    valid: Container[str] = frozenset(),
    size: int = BATCH,
    background: bool = False,
    skip: int = 0,
    max_read_length: int = MAX_READ_LENGTH,
) -> Iterator[tuple[list[str], list[str]]]:
    """Yield the reads of a single-end FASTQ file as batches ``(sequences, qualities)`` of up to ``size`` reads:
    :func:`iter_single`'s reads without names, checked and normalised alike, raising the same
    :class:`InputFormatError` for the same first problem (after yielding the batch of the reads before it).

    A sequence in ``valid`` (e.g. the collapse's unique sequences so far: uppercase ACGTN) is not checked again.
    With ``background``, a gzip file (not a stream) is decompressed in a thread of its own (ISA-L, which
    releases the interpreter's lock while it works); should reading fail there, the reads after those yielded
    are read again in this thread, whose reader then names the problem as :func:`iter_single` does (the
    thread reads ahead, so it may meet damaged data before a bad record the usual reader reports first).
    With ``skip``, the first ``skip`` records are read but not yielded (nor checked; no background thread).  A
    read longer than ``max_read_length`` is refused as :func:`iter_single` refuses it.
    """
    if skip:
        yield from _batches(path, _open(path, max_read_length), skip, valid, size, True, max_read_length)
        return
    threaded = _open_in_background(path, max_read_length) if background else None
    failed: int | None = 0
    if threaded is not None:
        failed = yield from _batches(path, threaded, 0, valid, size, False, max_read_length)
    if failed is not None:
        yield from _batches(path, _open(path, max_read_length), failed, valid, size, True, max_read_length)


def _open_in_background(path: str | Path, max_read_length: int) -> _FastqReader | None:
    """A reader of a gzip file decompressing in a thread of its own; None for other files and when opening it
    fails (the caller then opens the file as usual, to name the problem as :func:`iter_single` does)."""
    if _is_stream(path) or not is_gzip(path):
        return None
    try:
        return _open(path, max_read_length, threads=1)
    except InputFormatError:
        return None


def _batches(
    path: str | Path,
    reader: _FastqReader,
    skip: int,
    valid: Container[str],
    size: int,
    last: bool,
    max_read_length: int,
) -> Generator[tuple[list[str], list[str]], None, int | None]:
    """:func:`iter_single_batches` with ``reader``, after skipping ``skip`` records; unless it is the ``last``
    reader, a reading error is not raised but returned: the number of records yielded before it."""
    with reader:
        records = iter(reader)
        try:
            for _ in islice(records, skip):
                pass
        except _READ_ERRORS as error:
            _raise(path, error, reader.number_of_records)
        while True:
            first = reader.number_of_records + 1
            batch: list[_FastqRecord] = []
            failure: BaseException | None = None
            try:
                batch.extend(islice(records, size))  # keeps the records read before an error
            except _READ_ERRORS as error:
                failure = error
            read = len(batch)
            if read:
                sequences = list(map(_sequence_of, batch))
                qualities = list(map(_qualities_of, batch))
                del batch[:]
                if max(map(len, sequences)) > max_read_length:
                    _refuse_long(path, first, sequences, qualities, max_read_length)
                unknown = "".join(filterfalse(valid.__contains__, sequences))
                if unknown.encode().translate(None, _BASES) or not _valid_qualities(qualities):
                    _check_batch(path, first, sequences, qualities)
                yield sequences, qualities
            if failure is not None:
                if not last:
                    return first - 1 + read
                _raise(path, failure, reader.number_of_records)
            if read < size:
                break
        if reader.number_of_records == 0:
            raise InputFormatError(path, "no reads (empty file)")
    return None


def _raise(path: str | Path, error: BaseException, reads_so_far: int) -> NoReturn:
    """Raise ``error`` (a reading error) as the :class:`InputFormatError` naming the file, record and problem."""
    translated = _translate(path, error, reads_so_far)
    if translated is None:  # pragma: no cover
        raise error
    raise translated from None


def _refuse_long(
    path: str | Path, first: int, sequences: list[str], qualities: list[str], max_read_length: int
) -> NoReturn:
    """Raise the error of a batch's first read longer than ``max_read_length``, or of a record before it with
    another problem (the first problem in file order is the one reported)."""
    at = next(offset for offset, sequence in enumerate(sequences) if len(sequence) > max_read_length)
    _check_batch(path, first, sequences[:at], qualities[:at])
    _checked(path, first + at, sequences[at], qualities[at])
    raise too_long(path, first + at, len(sequences[at]), max_read_length)


def _check_batch(path: str | Path, first: int, sequences: list[str], qualities: list[str]) -> None:
    """A batch with something to normalise or refuse, record by record as :func:`iter_single` does: its
    sequences normalised in place, or the first record's problem raised (``first``: its first record's number)."""
    for offset, (sequence, quality) in enumerate(zip(sequences, qualities)):
        if sequence.encode().translate(None, _BASES) or quality.encode().translate(None, _PRINTABLE_QUALITIES):
            sequences[offset] = _checked(path, first + offset, sequence, quality)


BLOCK_BYTES = 1024**2
"""Decompressed bytes handed at once to :func:`read_blocks`'s consumer (grown when a batch of records needs more)."""

_BLOCK_ERRORS: tuple[type[BaseException], ...] = (*_READ_ERRORS, ValueError)
"""What opening or decompressing a damaged or unusual file may raise (the Python reader then names it)."""


def read_blocks(
    path: str | Path, feed: Callable[[bytearray, int, bool], int], background: bool = False,
    max_block: int = BATCH * record_bytes(MAX_READ_LENGTH),
) -> bool:  # fmt: skip
    """Decompress a FASTQ file (not a stream) in large blocks, in this process (ISA-L for gzip, as
    :func:`iter_single` does; in a thread of its own with ``background``), and hand each to
    ``feed(block, length, final)``, which returns the bytes of ``block[:length]`` it used (whole records; the rest
    is handed again before the next bytes) or -1 to stop.  ``final``: the end of the file (a missing last line
    break is added).  True when ``feed`` used the whole file; False when it stopped, opening or reading failed,
    or the block would grow beyond ``max_block`` bytes (a batch of records longer than a batch of reads of the
    maximum read length can be): nothing raised, the caller reads the rest with :func:`iter_single_batches`,
    whose errors name the problem.
    """
    if _is_stream(path):  # read once only: the Python reader must have it all
        return False
    try:
        handle = xopen(path, "rb", threads=1 if background and is_gzip(path) else 0)
    except _BLOCK_ERRORS:
        return False
    block = bytearray(BLOCK_BYTES)
    kept = 0
    with handle:
        while True:
            try:
                length = _fill(cast(BufferedIOBase, handle), block, kept)
            except _BLOCK_ERRORS:
                return False
            final = length < len(block)
            if final and length and block[length - 1] != ord("\n"):
                block[length] = ord("\n")  # the last line of the file without its line break (room: final)
                length += 1
            used = feed(block, length, final)
            if used < 0:
                return False
            if final:
                return used == length
            if used == 0:  # a batch of records longer than the block
                if 2 * len(block) > max(max_block, BLOCK_BYTES):
                    return False
                block.extend(bytes(len(block)))
            else:
                block[: length - used] = block[used:length]
            kept = length - used


def _fill(handle: BufferedIOBase, block: bytearray, start: int) -> int:
    """Fill ``block`` from ``start`` on; its length filled (less than all of it: the end of the file)."""
    with memoryview(block) as view:
        filled = start
        while filled < len(block):
            got = handle.readinto(view[filled:])
            if not got:
                break
            filled += got
    return filled


def _read_id(identifier: str) -> str:
    """The read ID used to match mates: the name's first word without a trailing /1 or /2."""
    return identifier[:-2] if identifier[-2:] in ("/1", "/2") else identifier


def _same_file(path1: str | Path, path2: str | Path) -> bool:
    try:
        return os.path.samefile(path1, path2)
    except OSError:
        return False


def iter_paired(path1: str | Path, path2: str | Path, max_read_length: int = MAX_READ_LENGTH) -> Iterator[ReadPair]:
    """Yield a :class:`ReadPair` ``(name, sequence1, qualities1, sequence2, qualities2)`` for each pair of R1/R2 reads.

    ``name`` is R1's header.  Each file is validated as in :func:`iter_single`; in addition the files
    must hold the same number of reads, and mates must have the same ID (the name up to the first
    whitespace, ignoring a trailing ``/1`` or ``/2``), otherwise :class:`PairingError` is raised.
    """
    return cast(Iterator[ReadPair], _paired(path1, path2, max_read_length, True))


def iter_paired_tuples(
    path1: str | Path, path2: str | Path, max_read_length: int = MAX_READ_LENGTH
) -> Iterator[PairTuple]:
    """:func:`iter_paired` yielding plain tuples (for the engine's per-read loop, see
    :data:`~editcheck.reads.records.FragmentTuple`)."""
    return _paired(path1, path2, max_read_length, False)


def _paired(path1: str | Path, path2: str | Path, max_read_length: int, typed: bool) -> Iterator[PairTuple]:
    if _same_file(path1, path2):
        raise PairingError(path2, f"R2 is the same file as R1 ({path1})")
    bases = _BASES
    printable = _PRINTABLE_QUALITIES
    reader1 = _open(path1, max_read_length)
    with reader1:
        reader2 = _open(path2, max_read_length)
        with reader2:
            records1 = iter(reader1)
            records2 = iter(reader2)
            try:
                for record1, record2 in zip(records1, records2):
                    sequence1 = record1.sequence
                    qualities1 = record1.qualities
                    sequence2 = record2.sequence
                    qualities2 = record2.qualities
                    if sequence1.encode().translate(None, bases) or qualities1.encode().translate(None, printable):
                        sequence1 = _checked(path1, reader1.number_of_records, sequence1, qualities1)
                    if sequence2.encode().translate(None, bases) or qualities2.encode().translate(None, printable):
                        sequence2 = _checked(path2, reader2.number_of_records, sequence2, qualities2)
                    if len(sequence1) > max_read_length:
                        raise too_long(path1, reader1.number_of_records, len(sequence1), max_read_length)
                    if len(sequence2) > max_read_length:
                        raise too_long(path2, reader2.number_of_records, len(sequence2), max_read_length)
                    id1 = record1.id
                    id2 = record2.id
                    if id1 != id2 and _read_id(id1) != _read_id(id2):
                        raise PairingError(
                            path1,
                            f"read name {id1!r} in R1 does not match {id2!r} in R2 ({path2}); "
                            "R1 and R2 must list the same reads in the same order",
                            reader1.number_of_records,
                        )
                    pair = (record1.name, sequence1, qualities1, sequence2, qualities2)
                    yield _new(ReadPair, pair) if typed else pair
            except _READ_ERRORS as error:
                # zip reads R1 first: when R1 is ahead of R2, the error came from R2.
                count1 = reader1.number_of_records
                count2 = reader2.number_of_records
                failing, count = (path2, count2) if count1 > count2 else (path1, count1)
                _raise(failing, error, count)
            # zip stopped at the first file to run out; R1 is read first, so if R1 is ahead, R2 ended.
            count1 = reader1.number_of_records
            count2 = reader2.number_of_records
            if count1 == 0:
                raise InputFormatError(path1, "no reads (empty file)")
            if count2 == 0:
                raise InputFormatError(path2, "no reads (empty file)")
            if count1 > count2:
                raise PairingError(
                    path2,
                    f"R2 ended after {count2} reads but R1 ({path1}) continues; the files must hold the same reads",
                    count2 + 1,
                )
            try:
                more = next(records2, None)
            except _READ_ERRORS as error:
                _raise(path2, error, count2)
            if more is not None:
                raise PairingError(
                    path1,
                    f"R1 ended after {count1} reads but R2 ({path2}) continues; the files must hold the same reads",
                    count1 + 1,
                )
