"""Telling file formats apart by their first bytes, and opening files that may be gzip-compressed.

Every sniff of a file's content lives here, so the readers agree on what a gzip, BGZF, BAM or CRAM file
looks like.  :func:`head` is for error paths (it never raises); :func:`open_binary` is the reading path.
"""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pysam
from xopen import xopen

from editcheck.errors import InputFormatError

GZIP_MAGIC = b"\x1f\x8b"
"""First bytes of a gzip file, and so of BGZF (bgzip, BAM)."""
BAM_MAGIC = b"BAM\x01"
"""First bytes of a BAM file's decompressed content."""
CRAM_MAGIC = b"CRAM"
"""First bytes of a CRAM file."""
UTF8_BOM = b"\xef\xbb\xbf"
"""The byte-order mark some editors write at the start of a UTF-8 text file."""

__all__ = [
    "BAM_MAGIC",
    "CRAM_MAGIC",
    "GZIP_MAGIC",
    "UTF8_BOM",
    "ByteReader",
    "check_readable",
    "head",
    "is_gzip",
    "open_binary",
    "quiet_htslib",
]


def head(path: str | Path, size: int, decompress: bool = False) -> bytes:
    """First ``size`` bytes of the file, of its decompressed content if asked (gzip/BGZF, bz2, xz, zstd,
    told by the name, then the content); empty when unreadable.  For error messages: it never raises."""
    try:
        if decompress:
            with xopen(path, "rb", threads=0) as handle:
                return handle.read(size)
        with open(path, "rb") as handle:
            return handle.read(size)
    except Exception:  # broad on purpose: only used to improve an error message that is raised anyway
        return b""


def is_gzip(path: str | Path) -> bool:
    """Whether the file starts with the gzip magic number (gzip or BGZF); False when unreadable."""
    return head(path, len(GZIP_MAGIC)) == GZIP_MAGIC


def check_readable(path: str | Path, kind: str) -> None:
    """Raise InputFormatError unless ``path`` is an existing, readable file (``kind`` names the format)."""
    if not os.path.exists(path):
        raise InputFormatError(path, "file not found")
    if os.path.isdir(path):
        raise InputFormatError(path, f"is a directory, not a {kind} file")
    if not os.access(path, os.R_OK):
        raise InputFormatError(path, "permission denied")


@contextlib.contextmanager
def quiet_htslib() -> Iterator[None]:
    """Silence htslib's own stderr messages while opening files: the errors raised by the caller replace them."""
    previous = pysam.set_verbosity(0)
    try:
        yield
    finally:
        pysam.set_verbosity(previous)


class ByteReader(Protocol):
    """A binary file, plain or decompressing: only ``read`` is used."""

    def read(self, size: int = -1, /) -> bytes: ...


@contextlib.contextmanager
def open_binary(path: Path, kind: str) -> Iterator[ByteReader]:
    """The file's bytes, decompressed when it starts with the gzip magic number (gzip or BGZF).

    A missing, unreadable or directory path raises :class:`InputFormatError` (``kind`` names the format
    expected, e.g. "FASTA").  Damaged compressed data raises from ``read``, as the decompressor does.
    """
    try:
        raw = open(path, "rb")  # noqa: SIM115 - opened apart to translate open errors; closed by `with raw` below
    except FileNotFoundError:
        raise InputFormatError(path, "file not found") from None
    except IsADirectoryError:
        raise InputFormatError(path, f"is a directory, not a {kind} file") from None
    except OSError as error:
        raise InputFormatError(path, f"cannot be read: {error.strerror or error}") from None
    with raw:
        if raw.read(len(GZIP_MAGIC)) != GZIP_MAGIC:
            raw.seek(0)
            yield raw
            return
        raw.seek(0)
        stream: gzip.GzipFile
        try:
            from isal.igzip import IGzipFile  # ISA-L inflate, several times faster than zlib

            stream = IGzipFile(fileobj=raw, mode="rb")
        except ImportError:  # pragma: no cover - isal comes with dnaio
            stream = gzip.GzipFile(fileobj=raw, mode="rb")
        with stream:
            yield stream
