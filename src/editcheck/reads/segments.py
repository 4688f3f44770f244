"""Cutting a large FASTQ(.gz) input (one file, or R1 and R2) into segments of whole records, for a run in
bounded memory.

A run keeps every unique sequence it has seen, so its memory grows with the input's unique sequences.  A very
large input is therefore analysed a segment at a time (:mod:`editcheck.engine.segmented`): the file is
decompressed once, and every ``reads`` records (4 lines each) are written as a plain FASTQ file (R1 and R2:
one file each, the same records), analysed, and removed.  The next segment is written, in a process of its
own, while one is analysed: at most two are on disk.

Cutting only counts lines: records are checked, as always, by the readers of each segment.  A problem in the
input is therefore found segment by segment; the engine then names it as the whole file's reader would
(:func:`editcheck.engine.segmented.run_segmented`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BufferedIOBase
from itertools import count
from multiprocessing.connection import Connection
from pathlib import Path
from typing import cast

from editcheck.errors import InputFormatError

__all__ = ["FIRST_SEGMENT_READS", "SEGMENT_READS", "Segment", "estimated_records", "fastq_segments"]

SEGMENT_READS = 10_000_000
"""Records per segment by default: a segment takes the memory of a run of that many reads (on the scale
benchmark's 250-bp reads at Q20: ~800k unique sequences, ~0.93 GiB), and its plain FASTQ file ~5.6 GB of disk
in the output's staging folder.  Inputs of up to 1.5 times this many reads are run whole, as fast as before."""

FIRST_SEGMENT_READS = 1_000_000
"""Records of the first segment (when segments are larger): the analysis waits for the first segment to be
written, and only for it; the others are written while the one before is analysed."""

_CHUNK = 4 * 1024**2
"""Decompressed bytes read at once while cutting."""

_NEWLINE = ord("\n")

_SAMPLE = 1024**2
"""Bytes of a file's start (compressed, for gzip) looked at to estimate its number of records."""

_ASSUMED_RATIO = 4.0
"""Decompressed / compressed size assumed for a compressed input whose start cannot be decompressed with zlib
(bz2, xz, zstd): FASTQ compresses about 3.5-5 fold."""


@dataclass(frozen=True)
class Segment:
    """One segment: its plain FASTQ file (R1's, with R2's in ``r2`` for read pairs) and where it starts in the
    input."""

    path: Path
    first_record: int
    """Records of the input before this segment."""
    r2: Path | None = None


def estimated_records(path: str | Path) -> int:
    """About how many FASTQ records ``path`` holds, from its size and its start (0 when unreadable or empty):
    enough to tell a few million reads from a hundred million, nothing more."""
    from editcheck.io.formats import head, is_gzip  # here: the CLI imports this module for its default

    try:
        size = os.path.getsize(path)
    except OSError:
        return 0
    start = head(path, _SAMPLE)
    if not start:
        return 0
    ratio = 1.0
    if is_gzip(path):
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            sample = decompressor.decompress(start)
        except zlib.error:
            return 0
        ratio = len(sample) / max(1, len(start) - len(decompressor.unconsumed_tail) - len(decompressor.unused_data))
    else:
        sample = head(path, _SAMPLE, decompress=True)
        if sample and sample != start:
            ratio = _ASSUMED_RATIO
    lines = sample.count(b"\n")
    if lines < 4:
        return 0
    record_bytes = sample.rfind(b"\n") / lines * 4
    return int(size * ratio / record_bytes)


def fastq_segments(
    path: str | Path, directory: Path, reads: int = SEGMENT_READS, r2: str | Path | None = None
) -> Iterator[Segment]:
    """The segments of the FASTQ(.gz) file ``path`` (and its R2 file ``r2``), ``reads`` records each (the first
    :data:`FIRST_SEGMENT_READS`, or ``reads`` if fewer; the last one the rest), written as plain FASTQ files in
    ``directory``.  R1 and R2 are cut at the same record numbers: should their records not match, each
    segment's paired reader finds it.  The next segment is written in a process of its own while the caller
    uses this one (so the decompression overlaps the analysis: at most two segments are on disk); each
    segment's files are removed once the next is asked for (or the iteration ends).  A file that cannot be
    opened or decompressed raises :class:`~editcheck.errors.InputFormatError` naming it."""
    if reads < 1:
        raise ValueError("a segment holds at least one record")
    directory.mkdir(parents=True, exist_ok=True)
    writer = _SegmentWriter(path, r2, directory, min(reads, FIRST_SEGMENT_READS), reads)
    try:
        while (segment := writer.take()) is not None:
            try:
                yield segment
            finally:
                segment.path.unlink(missing_ok=True)
                if segment.r2 is not None:
                    segment.r2.unlink(missing_ok=True)
    finally:
        writer.stop()


class _SegmentWriter:
    """Writes the segments in a process of its own (decompressing and writing never wait for the analysis's
    interpreter lock, nor it for them), one after the other, each once the one before was taken; hands each over
    (or the error that stopped it) through :meth:`take`."""

    def __init__(self, path: str | Path, r2: str | Path | None, directory: Path, first: int, reads: int) -> None:
        self.path, self.directory = path, directory
        context = multiprocessing.get_context("fork")  # before the run's worker pool: a small process to copy
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=_write_segments,
            args=(path, r2, directory, first, reads, child),
            name="editcheck-segments",
            daemon=True,
        )
        self._process.start()
        child.close()

    def take(self) -> Segment | None:
        """The next segment (None at the end of the file); raises what stopped the writing."""
        try:
            message = self._connection.recv()
        except EOFError:
            raise InputFormatError(self.path, "cutting the input into segments stopped unexpectedly") from None
        if message[0] == "error":
            raise message[1]
        if message[0] == "end":
            return None
        self._connection.send("taken")
        return Segment(Path(message[1]), message[2], None if message[3] is None else Path(message[3]))

    def stop(self) -> None:
        """Stop writing and wait for the process; a segment not taken is removed."""
        self._process.terminate()
        self._process.join()
        self._connection.close()
        for left in self.directory.glob("segment-*.fastq"):
            left.unlink(missing_ok=True)


def _write_segments(
    path: str | Path, r2: str | Path | None, directory: Path, first: int, reads: int, connection: Connection
) -> None:
    """The segment writer's process: each segment written, announced, and the next begun once it is taken."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run stops it (an interrupted run, an error)...
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # ...with SIGTERM: an end without a word
    try:
        with contextlib.ExitStack() as stack:
            cutters = [_LineCutter(stack.enter_context(_opened(mate)), mate) for mate in (path, r2) if mate is not None]
            before = 0
            for index in count():
                size = first if index == 0 else reads
                files = [directory / f"segment-{index}{suffix}.fastq" for suffix in ("", "_R2")[: len(cutters)]]
                lines = [cutter.copy(file, 4 * size) for cutter, file in zip(cutters, files)]
                if index and not any(lines):
                    for file in files:
                        file.unlink(missing_ok=True)
                    break
                connection.send(("segment", str(files[0]), before, str(files[1]) if r2 is not None else None))
                if connection.recv() != "taken" or min(lines) < 4 * size:
                    break
                before += size
        connection.send(("end",))
    except EOFError:  # the run is gone
        return
    except Exception as error:  # told to the run, which raises it
        try:
            connection.send(("error", error))
        except Exception:  # not picklable
            connection.send(("error", InputFormatError(path, f"cannot be read: {error}")))


def _opened(path: str | Path) -> BufferedIOBase:
    from xopen import xopen  # here: the CLI imports this module for its default

    try:
        return cast(BufferedIOBase, xopen(path, "rb", threads=0))
    except OSError as error:
        raise InputFormatError(path, f"cannot be read: {error.strerror or error}") from error


class _LineCutter:
    """Copies a decompressed stream to segment files a given number of lines at a time, through one reused
    buffer (a new 4-MiB ``bytes`` per read cost a page fault per 4 kB: seconds of system time per GB)."""

    def __init__(self, handle: BufferedIOBase, path: str | Path) -> None:
        self.handle = handle
        self.path = path
        self.buffer = bytearray(_CHUNK)
        self.view = memoryview(self.buffer)
        self.start = self.end = 0
        """The bytes read and not yet written: ``buffer[start:end]``."""

    def _fill(self) -> int:
        """Read the next bytes into the buffer (all of it taken): how many."""
        try:
            self.start, self.end = 0, self.handle.readinto(self.view) or 0
        except Exception as error:  # OSError, EOFError, zlib's and the ISA-L / zstd decompressors' own errors
            raise InputFormatError(self.path, f"cannot be decompressed: {error}") from error
        return self.end

    def copy(self, target: Path, lines: int) -> int:
        """Write the next ``lines`` lines (fewer at the end of the file, a last line without its line break
        included) to ``target``; the lines written."""
        written = 0
        ended = True  # the bytes written so far end with a line break
        buffer = self.buffer
        with open(target, "wb") as out:
            while written < lines:
                if self.start == self.end and not self._fill():
                    break
                start, end = self.start, self.end
                breaks = buffer.count(b"\n", start, end)
                if written + breaks < lines:
                    out.write(self.view[start:end])
                    written += breaks
                    ended = buffer[end - 1] == _NEWLINE
                    self.start = end
                    continue
                cut = start
                for _ in range(lines - written):
                    cut = buffer.index(b"\n", cut, end) + 1
                out.write(self.view[start:cut])
                self.start = cut
                written = lines
        return written if ended else written + 1  # the file's last line, without its line break
