"""A function run in a forked child process of its own, its result pickled back (:class:`ForkedCall`).

The child sees this process's memory as it was at the fork (nothing is sent to it), and all of its own memory goes
back to the system when it ends.  The engine runs a segment of a large input this way
(:mod:`editcheck.engine.segmented`), and the parts of a tally at once (:mod:`editcheck.engine.tally_parts`).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from editcheck.errors import EditcheckError

__all__ = ["ForkedCall"]

_Result = TypeVar("_Result")

_PR_SET_PDEATHSIG = 1
"""prctl(2): the signal a process gets when its parent ends."""

_CHILD_ENDS_WITHIN = 30.0
"""Seconds an ended-early child is given to clean up (a worker pool of its own) before it is killed."""

PIPE_BYTES = 1 << 20
"""The pipes from a forked child and to and from the worker pool's processes hold this much (:func:`grow_pipe`;
Linux's limit for a process: 1 MiB; else their 64 KiB stay): what they carry, chunks of about a megabyte, passes in
fewer turns of the processes."""


def grow_pipe(end: Connection) -> None:
    """Grow the pipe of ``end`` (either end) to :data:`PIPE_BYTES`, where the system allows it (Linux; within its
    limit for a process); else it stays as it is."""
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


class ForkedCall(Generic[_Result]):
    """``function(*arguments, tell)`` started in a forked child process (``tell(value)`` reaches ``on_told`` here,
    in order, when given, e.g. its progress or parts of its result; else ``tell`` is None); :meth:`result` waits
    for its result (taking what it tells on the way) or raises what it raised.  ``task``
    names the work in the error said when the child ends without a result (e.g. killed for want of memory).
    Used as a context manager, a child whose result was not taken is ended on the way out."""

    def __init__(
        self, function: Callable[..., _Result], *arguments: object, task: str,
        on_told: Callable[[Any], None] | None = None,
    ) -> None:  # fmt: skip
        self.task = task
        self._on_told = on_told
        context = multiprocessing.get_context("fork")
        self._receiving, sending = context.Pipe(duplex=False)
        grow_pipe(sending)
        self._process = context.Process(
            target=_child, args=(sending, function, arguments, on_told is not None, task), name="editcheck-child"
        )
        self._process.start()
        sending.close()

    def result(self) -> _Result:
        """The child's result (what it tells handed to ``on_told`` on the way), or what it raised; the child has
        ended."""
        try:
            while True:
                kind, value = self._receiving.recv()
                if kind != "told":
                    break
                assert self._on_told is not None
                self._on_told(value)
        except EOFError:
            self._process.join()
            raise EditcheckError(
                f"{self.task} ended without a result (exit code {self._process.exitcode}: out of memory?)"
            ) from None
        finally:
            self.close()
        if kind == "raised":
            raise value
        return cast(_Result, value)

    def close(self) -> None:
        """End the child if it still runs (a child interrupted already ignores it and ends on its own)."""
        process = self._process
        if process.is_alive():
            process.terminate()
        process.join(_CHILD_ENDS_WITHIN)
        if process.is_alive():
            process.kill()
            process.join()
        self._receiving.close()

    def __enter__(self) -> ForkedCall[_Result]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _child(
    connection: Connection, function: Callable[..., object], arguments: tuple[object, ...], telling: bool, task: str
) -> None:
    """The child of :class:`ForkedCall`.  Interrupted (Ctrl-C, or the parent's SIGTERM: KeyboardInterrupt, as in
    the parent), it cleans up (its worker pool) and ends without a word: the run says it was aborted.  It gets
    SIGTERM when the parent dies, where Linux offers it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    signal.signal(signal.SIGINT, _interrupt_once)
    signal.signal(signal.SIGTERM, _interrupt_once)
    try:
        tell = (lambda value: connection.send(("told", value))) if telling else None
        try:
            message: tuple[str, object] = ("result", function(*arguments, tell))
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # raised again in the parent
            message = ("raised", error)
        try:
            connection.send(message)
        except Exception as error:  # not picklable: said in the parent's words
            connection.send(("raised", EditcheckError(f"{task} failed: {error}")))
    except KeyboardInterrupt:
        os._exit(1)
    connection.close()


def _interrupt_once(signal_number: int, frame: object) -> None:
    """The child's Ctrl-C and SIGTERM: the first interrupts it; later ones (Ctrl-C reaches the whole group, then
    the interrupted parent ends the child with SIGTERM) are ignored, so they cannot break into its clean-up."""
    signal.signal(signal.SIGINT, _ignored)  # not SIG_IGN: one already pending would raise "ignored due to race"
    signal.signal(signal.SIGTERM, _ignored)
    raise KeyboardInterrupt


def _ignored(signal_number: int, frame: object) -> None:
    """A signal that changes nothing."""
