"""Chunks of reads handed to the worker processes through shared memory instead of a pipe.

A pool task's arguments are pickled and written to a pipe, and the worker reads and unpickles them: a chunk
is copied four times on its way.  A :class:`ChunkRing` is an anonymous shared mapping of ``slots`` equal
slots, made by the calling process BEFORE it forks its worker processes, which inherit it: there is no file,
so nothing is left behind however the run ends (a killed run's memory goes with its last process).  The
calling process copies each chunk into the next slot and sends only where it lies (a :class:`Slot`); the
worker copies it out (:func:`take`), finding its inherited mapping by the ring's identity.  A worker forked
before the ring was made has no such mapping, and :func:`take` says so.  Slot ``i`` is written again
``slots`` chunks later, so the caller must by then have received the result of the chunk it held (the engine
keeps at most ``slots - 1`` chunks in flight).
"""

from __future__ import annotations

import itertools
import mmap
import os
from typing import NamedTuple

__all__ = ["ChunkRing", "Slot", "take"]


_RINGS = itertools.count()
"""Numbers the rings of this process: with its id, a ring's identity, never given to another ring."""

_open: dict[tuple[int, int], mmap.mmap] = {}
"""The open rings' mappings by identity: the process's own, and in a forked process those open at the fork."""


class Slot(NamedTuple):
    """Where a pair of chunks lies: the ring (the id of the process that made it and the ring's number), the
    offset of the first chunk, the two chunks' lengths (the second follows the first)."""

    ring: tuple[int, int]
    offset: int
    length1: int
    length2: int


class ChunkRing:
    """``slots`` slots of ``slot_bytes`` bytes in an anonymous shared mapping (see the module docstring)."""

    def __init__(self, slots: int, slot_bytes: int) -> None:
        """Raises OSError when the system will not map that much shared memory."""
        self.slots = slots
        self._slot_bytes = slot_bytes
        self._map = mmap.mmap(-1, slots * slot_bytes, flags=mmap.MAP_SHARED)
        self.ring = (os.getpid(), next(_RINGS))
        _open[self.ring] = self._map

    @classmethod
    def open(cls, slots: int, slot_bytes: int) -> ChunkRing | None:
        """A ring, or None when the system will not give one (the chunks then travel through the pipe)."""
        try:
            return cls(slots, slot_bytes)
        except OSError:
            return None

    def put(self, index: int, chunk1: bytes | memoryview, chunk2: bytes | memoryview) -> Slot | None:
        """Copy the ``index``-th pair of chunks into slot ``index % slots``; None (nothing copied) when they do not
        fit in a slot."""
        length1 = len(chunk1)
        length2 = len(chunk2)
        if length1 + length2 > self._slot_bytes:
            return None
        offset = (index % self.slots) * self._slot_bytes
        self._map[offset : offset + length1] = chunk1
        self._map[offset + length1 : offset + length1 + length2] = chunk2
        return Slot(self.ring, offset, length1, length2)

    def close(self) -> None:
        """Forget and unmap the ring (worker processes keep their inherited mapping until they end); closing a
        closed ring does nothing."""
        _open.pop(self.ring, None)
        self._map.close()

    def __enter__(self) -> ChunkRing:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()


def take(slot: Slot) -> tuple[bytes, bytes]:
    """The two chunks in ``slot``, copied out of the ring this process made or inherited.

    Raises RuntimeError when this process has no such ring: made after it was forked, or closed."""
    mapping = _open.get(slot.ring)
    if mapping is None:
        raise RuntimeError(
            f"chunk ring {slot.ring} is not mapped in process {os.getpid()}: a ring must be made before the worker"
            " processes are forked, and stay open while they take from it"
        )
    middle = slot.offset + slot.length1
    return mapping[slot.offset : middle], mapping[middle : middle + slot.length2]
