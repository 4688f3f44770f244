"""Chunks of reads handed to the worker processes through a shared file mapping instead of a pipe.

A pool task's arguments are pickled and written to a pipe, and the worker reads and unpickles them: a chunk
is copied four times on its way.  A :class:`ChunkRing` is a file of ``slots`` equal slots, mapped by the
calling process and, on first use, by each worker (by path: the pool's processes were forked before the file
existed).  The calling process copies each chunk into the next slot and sends only where it lies (a
:class:`Slot`); the worker copies it out (:func:`take`).  Slot ``i`` is written again ``slots`` chunks later,
so the caller must by then have received the result of the chunk it held (the engine keeps at most ``slots -
1`` chunks in flight).  The file is in ``/dev/shm`` (memory) when that is writable, its space reserved at
once (a full file system fails there, never while writing), and it is deleted when the ring is closed.
"""

from __future__ import annotations

import contextlib
import itertools
import mmap
import os
import tempfile
from typing import NamedTuple

__all__ = ["ChunkRing", "Slot", "take"]

_SHARED_MEMORY = "/dev/shm"


_RINGS = itertools.count()
"""Numbers the rings of this process: a deleted ring's file name may come again, its number does not."""


class Slot(NamedTuple):
    """Where a pair of chunks lies: the ring (this process's id and the ring's number), its file, the offset of
    the first chunk, the two chunks' lengths (the second follows the first)."""

    ring: tuple[int, int]
    path: str
    offset: int
    length1: int
    length2: int


class ChunkRing:
    """``slots`` slots of ``slot_bytes`` bytes in a mapped temporary file (see the module docstring)."""

    def __init__(self, slots: int, slot_bytes: int) -> None:
        """Raises OSError when the file cannot be made, sized or mapped."""
        shared = os.path.isdir(_SHARED_MEMORY) and os.access(_SHARED_MEMORY, os.W_OK)
        descriptor, self.path = tempfile.mkstemp(prefix="editcheck-chunks-", dir=_SHARED_MEMORY if shared else None)
        self._slots = slots
        self._slot_bytes = slot_bytes
        self.ring = (os.getpid(), next(_RINGS))
        try:
            os.posix_fallocate(descriptor, 0, slots * slot_bytes)
            self._map = mmap.mmap(descriptor, slots * slot_bytes)
        except BaseException:
            os.unlink(self.path)
            raise
        finally:
            os.close(descriptor)

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
        offset = (index % self._slots) * self._slot_bytes
        self._map[offset : offset + length1] = chunk1
        self._map[offset + length1 : offset + length1 + length2] = chunk2
        return Slot(self.ring, self.path, offset, length1, length2)

    def close(self) -> None:
        """Unmap and delete the file (workers keep their own mapping until they take from another ring)."""
        self._map.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self) -> ChunkRing:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()


_mapped: tuple[tuple[int, int], mmap.mmap] | None = None
"""The ring this process last took from: its identity and this process's mapping of its file."""


def take(slot: Slot) -> tuple[bytes, bytes]:
    """The two chunks in ``slot`` (copied out of the ring; the file mapped on first use)."""
    global _mapped
    if _mapped is None or _mapped[0] != slot.ring:
        if _mapped is not None:
            _mapped[1].close()
            _mapped = None
        with open(slot.path, "rb") as handle:
            _mapped = (slot.ring, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
    mapping = _mapped[1]
    middle = slot.offset + slot.length1
    return mapping[slot.offset : middle], mapping[middle : middle + slot.length2]
