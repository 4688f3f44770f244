"""Interruptions that stick: Ctrl-C and SIGTERM stop a run even where Python drops the exception they raise.

The CLI's handler (:func:`interrupt`) raises ``KeyboardInterrupt``, which unwinds the run: its workers end and its
staging folder is removed.  But Python ignores an exception raised inside some callbacks, printing only
"Exception ignored in ...": an ``os.register_at_fork`` hook (logging's lock release, run in the parent after each
fork) or a ``__del__``.  A signal that landed there while the run forked a process was lost, and the run went on to
leave a complete result with exit status 0 (seen once in ~60 runs of a segmented run sent SIGTERM under load).  So
the handler notes the interruption before raising, and the output folder asks :func:`raise_if_interrupted` before
it moves a result in; the command's exit status says so too (:func:`interrupted`)."""

from __future__ import annotations

import signal
from types import FrameType

__all__ = ["install", "interrupt", "interrupted", "raise_if_interrupted"]

_interrupted = False


def interrupt(signal_number: int, frame: FrameType | None) -> None:
    """The handler of SIGTERM and Ctrl-C: noted, then ``KeyboardInterrupt`` (as Ctrl-C by default)."""
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def install() -> None:
    """:func:`interrupt` for SIGTERM, and for SIGINT where Python's own handler is in place (not one a host
    program set); a command starts not interrupted (one run in-process after another, as the tests run them)."""
    global _interrupted
    _interrupted = False
    signal.signal(signal.SIGTERM, interrupt)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)


def interrupted() -> bool:
    """Whether this process was interrupted (whatever became of the exception)."""
    return _interrupted


def raise_if_interrupted() -> None:
    """``KeyboardInterrupt`` again if this process was interrupted: an interruption whose exception was dropped
    still stops the run here."""
    if _interrupted:
        raise KeyboardInterrupt
