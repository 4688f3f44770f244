"""Cutting a large single-end FASTQ(.gz) input into segments of whole records, for a run in bounded memory.

A run keeps every unique sequence it has seen, so its memory grows with the input's unique sequences.  A very
large input is therefore analysed a segment at a time (:mod:`editcheck.engine.segmented`): the file is
decompressed once, and every ``reads`` records (4 lines each) are written as a plain FASTQ file, analysed, and
removed.  The next segment is written, in a thread, while one is analysed: at most two are on disk.

Cutting only counts lines: records are checked, as always, by the readers of each segment.  A problem in the
input is therefore found segment by segment; the engine then names it as the whole file's reader would
(:func:`editcheck.engine.segmented.run_segmented`).
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BufferedIOBase
from itertools import count
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

_SAMPLE = 1024**2
"""Bytes of a file's start (compressed, for gzip) looked at to estimate its number of records."""

_ASSUMED_RATIO = 4.0
"""Decompressed / compressed size assumed for a compressed input whose start cannot be decompressed with zlib
(bz2, xz, zstd): FASTQ compresses about 3.5-5 fold."""


@dataclass(frozen=True)
class Segment:
    """One segment: its plain FASTQ file and where it starts in the input."""

    path: Path
    first_record: int
    """Records of the input before this segment."""


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
    path: str | Path, directory: Path, reads: int = SEGMENT_READS, first: int | None = None
) -> Iterator[Segment]:
    """The segments of the FASTQ(.gz) file ``path``, ``reads`` records each (the first ``first``, by default
    :data:`FIRST_SEGMENT_READS` or ``reads`` if fewer; the last one the rest), written as plain FASTQ files in
    ``directory``.  The next segment is written in a thread of its own while the caller uses this one (so the
    decompression overlaps the analysis: at most two segments are on disk); each segment's file is removed once
    the next is asked for (or the iteration ends).  A file that cannot be opened or decompressed raises
    :class:`~editcheck.errors.InputFormatError` naming it."""
    if reads < 1 or (first is not None and first < 1):
        raise ValueError("a segment holds at least one record")
    directory.mkdir(parents=True, exist_ok=True)
    writer = _SegmentWriter(path, directory, min(reads, FIRST_SEGMENT_READS) if first is None else first, reads)
    writer.start()
    try:
        while (segment := writer.take()) is not None:
            try:
                yield segment
            finally:
                segment.path.unlink(missing_ok=True)
    finally:
        writer.stop()


class _SegmentWriter(threading.Thread):
    """Writes the segments one after the other, each once the one before was taken; hands each over (or the
    error that stopped it) through :meth:`take`."""

    def __init__(self, path: str | Path, directory: Path, first: int, reads: int) -> None:
        super().__init__(name="editcheck-segments", daemon=True)
        self.path, self.directory, self.first, self.reads = path, directory, first, reads
        self._ready = threading.Condition()
        self._handed: Segment | BaseException | bool | None = False
        """The segment ready (or the error, or None at the end); False while the next is being written."""
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            self._write()
        except BaseException as error:  # handed to the caller's thread, which raises it
            self._hand(error)

    def _write(self) -> None:
        with _opened(self.path) as handle:
            cutter = _LineCutter(handle, self.path, self._stopped)
            before = 0
            for index in count():
                size = self.first if index == 0 else self.reads
                file = self.directory / f"segment-{index}.fastq"
                lines = cutter.copy(file, 4 * size)
                if self._stopped.is_set() or (index and not lines):
                    file.unlink(missing_ok=True)
                    break
                if not self._hand(Segment(file, before)) or lines < 4 * size:
                    break
                before += size
        self._hand(None)

    def _hand(self, item: Segment | BaseException | None) -> bool:
        """Hand ``item`` over and wait until it is taken; False when the caller stopped instead."""
        with self._ready:
            self._handed = item
            self._ready.notify_all()
            while self._waiting() and not self._stopped.is_set():
                self._ready.wait()
        if self._stopped.is_set() and isinstance(item, Segment):
            item.path.unlink(missing_ok=True)
        return not self._stopped.is_set()

    def _waiting(self) -> bool:
        """Whether something handed over is not taken yet (with ``_ready`` held)."""
        return self._handed is not False

    def take(self) -> Segment | None:
        """The next segment (None at the end of the file); raises what stopped the writing."""
        with self._ready:
            while self._handed is False:
                self._ready.wait()
            item, self._handed = self._handed, False
            self._ready.notify_all()
        if isinstance(item, BaseException):
            raise item
        assert not isinstance(item, bool)
        return item

    def stop(self) -> None:
        """Stop writing (at the next block read) and wait for the thread; a segment not taken is removed."""
        self._stopped.set()
        with self._ready:
            self._ready.notify_all()
        self.join()
        with self._ready:
            item, self._handed = self._handed, False
        if isinstance(item, Segment):
            item.path.unlink(missing_ok=True)


def _opened(path: str | Path) -> BufferedIOBase:
    from xopen import xopen  # here: the CLI imports this module for its default

    try:
        return cast(BufferedIOBase, xopen(path, "rb", threads=0))
    except OSError as error:
        raise InputFormatError(path, f"cannot be read: {error.strerror or error}") from error


class _LineCutter:
    """Copies a decompressed stream to segment files a given number of lines at a time."""

    def __init__(self, handle: BufferedIOBase, path: str | Path, stopped: threading.Event) -> None:
        self.handle = handle
        self.path = path
        self.stopped = stopped
        self.left = b""
        """Bytes read beyond the last segment's end."""

    def _read(self) -> bytes:
        try:
            return self.handle.read(_CHUNK)
        except (OSError, EOFError, ValueError, zlib.error) as error:
            raise InputFormatError(self.path, f"cannot be decompressed: {error}") from error
        except Exception as error:  # the ISA-L / zstd decompressors' own error classes
            raise InputFormatError(self.path, f"cannot be decompressed: {error}") from error

    def copy(self, target: Path, lines: int) -> int:
        """Write the next ``lines`` lines (fewer at the end of the file, a last line without its line break
        included) to ``target``; the lines written."""
        written = 0
        ended = True  # the bytes written so far end with a line break
        with open(target, "wb") as out:
            while written < lines and not self.stopped.is_set():
                chunk = self.left or self._read()
                self.left = b""
                if not chunk:
                    break
                breaks = chunk.count(b"\n")
                if written + breaks < lines:
                    out.write(chunk)
                    written += breaks
                    ended = chunk.endswith(b"\n")
                    continue
                end = 0
                for _ in range(lines - written):
                    end = chunk.index(b"\n", end) + 1
                out.write(chunk[:end])
                self.left = chunk[end:]
                written = lines
        return written if ended else written + 1  # the file's last line, without its line break
