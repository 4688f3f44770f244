"""Writing outputs atomically (temporary name, then rename) and deterministically."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_output(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; rename it to ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        text_options: dict[str, Any] = {} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(descriptor, mode, **text_options) as handle:
            yield handle
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def format_value(value: Any) -> str:
    """Format one table cell: floats with fixed precision so reruns give the same bytes."""
    kind = type(value)
    if kind is str:
        text: str = value  # (no str() call: this runs for every cell of the per-read table)
        return text
    if kind is int:
        return str(value)
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}" if value == value else "nan"
    return str(value)


def write_tsv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a tab-separated table atomically; rows are written in the order given."""
    write_tsv_lines(path, header, ("\t".join(map(format_value, row)) + "\n" for row in rows))


def write_tsv_lines(path: str | Path, header: Sequence[str], lines: Iterable[str]) -> None:
    """:func:`write_tsv` for rows given as their lines (tab-separated, each ending in a newline), formatted by the
    caller by :func:`format_value`'s rules: a large table of a fixed row shape, one f-string per row instead of a
    call per cell."""
    with atomic_output(path) as handle:
        handle.write(_header_line(header))
        handle.writelines(lines)


def write_tsv_chunks(path: str | Path, header: Sequence[str], chunks: Iterable[bytes]) -> None:
    """:func:`write_tsv_lines` for rows given as UTF-8 bytes, whole lines in chunks (made by compiled code: the
    same bytes the text file writes)."""
    with atomic_output(path, "wb") as handle:
        handle.write(_header_line(header).encode("utf-8"))
        handle.writelines(chunks)


def _header_line(header: Sequence[str]) -> str:
    return "\t".join(header) + "\n"


def write_tsv_gz(path: str | Path, header: Sequence[str], rows: Iterator[Sequence[Any]]) -> None:
    """Write a gzip-compressed table atomically, with a fixed gzip header (no timestamp)."""
    with (
        atomic_output(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as compressed,
    ):
        compressed.write(("\t".join(header) + "\n").encode())
        for row in rows:
            compressed.write(("\t".join(format_value(value) for value in row) + "\n").encode())


def write_json(path: str | Path, document: Any) -> None:
    """Write JSON atomically with sorted keys and a trailing newline."""
    with atomic_output(path) as handle:
        json.dump(document, handle, indent=2, sort_keys=True, allow_nan=False)
        handle.write("\n")
