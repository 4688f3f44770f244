"""Per-read calls (reads.tsv.gz) without reading the input twice.

:class:`ReadCallSpool` is the engine's :class:`~editcheck.engine.ReadSink`: while the engine reads, it
spools every read's identifier and the index of its unique read to a compressed temporary file (in the
result's staging folder, a few bytes per read; memory stays bounded by one buffer); once the calls of the
unique reads are known, :meth:`ReadCallSpool.rows` reads the spool back and gives each read its call, in
input order, and removes the spool.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from editcheck.classification.outcomes import ReadCall
from editcheck.reads.collapse import MASKED, QUALITY_FILTERED, pair_index

__all__ = ["ReadCallSpool"]

_BUFFER = 65536
"""Reads held in memory before they are written to the spool."""


class ReadCallSpool:
    """Spools ``(read identifier, unique read)`` per read to ``path``; see the module docstring."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # Open for the whole run (closed by rows() or discard()), not for one block.
        self._file = gzip.open(self.path, "wt", compresslevel=1, encoding="utf-8")  # noqa: SIM115
        self._names: list[str] = []
        self._uniques: list[int] = []
        self._sequences: Sequence[ReadCall] = ()
        self._pairs: Sequence[ReadCall] = ()
        self._masked: Sequence[ReadCall] = ()

    def read(self, name: str, unique: int) -> None:
        self._names.append(name)
        self._uniques.append(unique)
        if len(self._names) >= _BUFFER:
            self._flush()

    def _flush(self) -> None:
        self._file.write(
            "".join(f"{_identifier(name)}\t{unique}\n" for name, unique in zip(self._names, self._uniques))
        )
        self._names.clear()
        self._uniques.clear()

    def calls(self, sequences: Sequence[ReadCall], pairs: Sequence[ReadCall], masked: Sequence[ReadCall] = ()) -> None:
        self._sequences, self._pairs, self._masked = sequences, pairs, masked

    def rows(self) -> Iterator[list[str]]:
        """The rows of reads.tsv.gz (``read_id, outcome, events, base_edit``) per read in input order (``quality_filtered`` for reads the
        quality filter dropped); the spool is removed once read, or when the rows are abandoned."""
        self._flush()
        self._file.close()
        sequences, pairs, masked = self._sequences, self._pairs, self._masked
        try:
            with gzip.open(self.path, "rt", encoding="utf-8") as spool:
                for line in spool:
                    identifier, _, text = line.rstrip("\n").rpartition("\t")
                    unique = int(text)
                    if unique == QUALITY_FILTERED:
                        yield [identifier, "quality_filtered", "", ""]
                        continue
                    if unique >= MASKED:
                        call = masked[unique - MASKED]
                    else:
                        call = sequences[unique] if unique >= 0 else pairs[pair_index(unique)]
                    yield [identifier, call.outcome, call.events, call.base_edit]
        finally:
            self.discard()

    def discard(self) -> None:
        """Close and remove the spool (also after an error)."""
        self._file.close()
        if self.path.exists():
            os.remove(self.path)


def _identifier(name: str) -> str:
    """The read's identifier: its header's first word."""
    words = name.split(None, 1)
    return words[0] if words else ""
