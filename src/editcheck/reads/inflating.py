"""A gzip file decompressed in a process of its own, into blocks of shared memory (:class:`InflatingProcess`).

Reading single-end gzip FASTQ, the reading process's one thread is the run's bottleneck, and ISA-L's inflate
is about 40% of its work (10M reads: ~4.5 of ~11 CPU s).  A thread does not take it off: ISA-L's reader takes the
GIL between its steps, and beside a busy Python thread it waits for it (1M reads: 0.45 s alone, 3.75 s beside a
thread running Python).  So a forked process decompresses, into the slots of an anonymous shared mapping made
before the fork, and tells through a pipe which slot it filled and how much (two integers); the reading process
uses each block where it lies and gives the slot back.  The decompressed bytes are copied once (into the slot),
never through a pipe; no file is made, and the process ends with the reading, or with its parent.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import signal
import struct
from io import BufferedIOBase
from pathlib import Path
from types import TracebackType
from typing import cast

from xopen import xopen

from editcheck.naming import end_with_parent

__all__ = ["ROOM", "SLOTS", "InflatingProcess", "fill"]

SLOTS = 4
"""Blocks the process may fill ahead of the reader."""

ROOM = 256 * 1024
"""Bytes kept free before each block, for the previous block's unused tail (a batch of records at most)."""

_MESSAGE = struct.Struct("=qq")
"""A filled slot: its number and the bytes in it (-1: reading failed)."""

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class InflatingProcess:
    """``path`` decompressed by a forked process into blocks of ``block`` bytes (the last one shorter), taken in
    order with :meth:`next_block`; each block has :data:`ROOM` writable bytes before it.  Used as a context
    manager: the process is ended on the way out, whatever happened."""

    def __init__(self, path: str | Path, block: int, slots: int = SLOTS) -> None:
        self.block = block
        self._stride = ROOM + block
        self._mapping = mmap.mmap(-1, slots * self._stride)
        self.memory = memoryview(self._mapping)
        """The slots, each :data:`ROOM` bytes then a block: what :meth:`next_block` hands out lies here."""
        take_free, self._free = os.pipe()
        self._filled, tell_filled = os.pipe()
        # Signals stay blocked from the fork until the child has its own handlers (it must not run this process's).
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            self._pid = os.fork()
            if self._pid == 0:  # the child: never returns
                _inflate(str(path), self.memory, self._stride, block, take_free, tell_filled, previous)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        os.close(take_free)
        os.close(tell_filled)
        self._slot: int | None = None
        for slot in range(slots):
            os.write(self._free, _MESSAGE.pack(slot, 0))

    def next_block(self) -> tuple[int, int] | None:
        """The next block: the offset in :attr:`memory` where it starts and its length (shorter than ``block``: the
        end of the file); None when the file could not be read (opened, decompressed) to its end.  The block
        handed before is given back to the process: nothing of it may be used afterwards."""
        if self._slot is not None:
            with contextlib.suppress(BrokenPipeError):  # the process is done: it filled the file's last block
                os.write(self._free, _MESSAGE.pack(self._slot, 0))
            self._slot = None
        message = _read_exactly(self._filled, _MESSAGE.size)
        if len(message) < _MESSAGE.size:  # the process ended without a word
            return None
        slot, length = _MESSAGE.unpack(message)
        if length < 0:
            return None
        self._slot = slot
        return slot * self._stride + ROOM, length

    def close(self) -> None:
        """End the process (at once, if it still reads) and free the shared memory."""
        if self._pid <= 0:
            return
        for descriptor in (self._free, self._filled):
            os.close(descriptor)
        pid, self._pid = self._pid, 0
        with contextlib.suppress(ChildProcessError):  # reaped already (by whoever reaps every child)
            done, _ = os.waitpid(pid, os.WNOHANG)
            if not done:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        self.memory.release()
        with contextlib.suppress(BufferError):  # a block still in use (an error on the way): freed with it
            self._mapping.close()

    def __enter__(self) -> InflatingProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _inflate(
    path: str, memory: memoryview, stride: int, block: int, take_free: int, tell_filled: int,
    mask: set[int | signal.Signals],
) -> None:  # fmt: skip
    """The child: fill each slot it is given with the next ``block`` bytes and say so, until the end of the file or
    of its parent; any failure said as a length of -1 (the reader then reads the file itself and names the
    problem).  Interrupted, it ends without a word: the parent ends the run."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent ends this one
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        end_with_parent()
        with xopen(path, "rb", threads=0) as opened:
            handle = cast(BufferedIOBase, opened)
            while True:
                message = _read_exactly(take_free, _MESSAGE.size)
                if len(message) < _MESSAGE.size:  # the reader is gone
                    break
                slot, _ = _MESSAGE.unpack(message)
                start = slot * stride + ROOM
                try:
                    length = fill(handle, memory[start : start + block])
                except Exception:  # any reading failure: the reader reads the file itself and names it
                    os.write(tell_filled, _MESSAGE.pack(slot, -1))
                    break
                os.write(tell_filled, _MESSAGE.pack(slot, length))
                if length < block:  # the end of the file
                    break
        code = 0
    except BaseException:  # the reader sees the pipe end without a word and reads the file itself
        pass
    finally:
        os._exit(code)


def fill(handle: BufferedIOBase, view: memoryview) -> int:
    """Fill ``view`` from ``handle`` (``view`` then released); the bytes filled (fewer than its length: the end of
    the file)."""
    with view:
        filled = 0
        while filled < len(view):
            got = handle.readinto(view[filled:])
            if not got:
                break
            filled += got
    return filled


def _read_exactly(descriptor: int, size: int) -> bytes:
    """``size`` bytes from a pipe, or fewer if it ends first."""
    data = b""
    while len(data) < size:
        got = os.read(descriptor, size - len(data))
        if not got:
            break
        data += got
    return data
