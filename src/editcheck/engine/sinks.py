"""Per-read output during the run: the engine tells a :class:`ReadSink` what became of every read as it
reads it, and the calls of the unique reads once they are known; the sink joins the two (input is never
read a second time)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from editcheck.classification.outcomes import ReadCall

__all__ = ["ReadSink"]


class ReadSink(Protocol):
    """Receives every read's unique read as it is read, then the unique reads' calls."""

    def read(self, name: str, unique: int) -> None:
        """A read (its header line) and its unique read: an index as described in :mod:`editcheck.reads.collapse`."""

    def calls(self, sequences: Sequence[ReadCall], pairs: Sequence[ReadCall], masked: Sequence[ReadCall] = ()) -> None:
        """The calls of the unique reads (in first-seen order), of the unmerged pairs (in first-seen order) and of
        the reads told a quality-mask entry (:data:`~editcheck.reads.collapse.MASKED` + k: ``masked[k]``)."""
