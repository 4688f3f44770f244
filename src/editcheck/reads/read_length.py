"""The maximum read length: no single read of an untrusted input may exhaust memory.

Every reader (single-end and paired FASTQ, compiled and Python; BAM/CRAM sites) refuses a read longer than
``max_read_length`` bases with :func:`too_long` (one line naming the file, the record and the problem), and
stops growing its buffers before such a read is held whole: a FASTQ record is never buffered much beyond
:func:`record_bytes` of the limit.
"""

from __future__ import annotations

from pathlib import Path

from editcheck.errors import InputFormatError, ParameterError

__all__ = ["MAX_NAME_LENGTH", "MAX_READ_LENGTH", "check_max_read_length", "record_bytes", "too_long"]

MAX_READ_LENGTH = 100_000
"""Default longest read, in bases.  Amplicon data never comes near it: Illumina reads are at most 600 bases
(2x300), merged pairs at most their sum, PacBio HiFi and ONT amplicons a few kb (the longest routine targets,
whole genes or long-range PCR of a locus, stay under about 20 kb); 100,000 leaves five times that.  At it, a
FASTQ record is about 200 kB, so the readers' buffers stay around a megabyte where a corrupt or hostile file
with one endless line would otherwise take all the memory."""

MAX_NAME_LENGTH = 65_536
"""Longest header line (name and comment) a FASTQ record's buffer makes room for; real names are about 100
characters."""


def check_max_read_length(value: object) -> int:
    """``value`` as a maximum read length (a positive integer), or :class:`ParameterError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"maximum read length must be a positive whole number of bases, not {value!r}")
    return value


def record_bytes(max_read_length: int) -> int:
    """The most bytes a FASTQ record with a read of ``max_read_length`` bases takes: its header (and the ``+``
    line repeating it) up to :data:`MAX_NAME_LENGTH`, its bases and qualities, four line breaks (CRLF: eight)."""
    return 2 * (max_read_length + MAX_NAME_LENGTH) + 8


def too_long(
    path: str | Path, record: int | None, length: int, max_read_length: int, read: str = "read"
) -> InputFormatError:
    """The error for ``read`` (e.g. ``read 'x' at chr1:100``) of ``length`` bases, over the limit."""
    return InputFormatError(
        path,
        f"{read} of {length:,} bases is longer than the maximum read length ({max_read_length:,}; --max-read-length)",
        record,
    )
