"""Progress of long runs on stderr: reads processed and rate, only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

EVERY = 1 << 16
"""Reads between progress checks (a power of two: the check is one bit test per read)."""


class Progress:
    """Prints ``N reads, R reads/s`` at most every ``interval`` seconds, overwriting one line."""

    def __init__(self, label: str = "reads", stream: TextIO | None = None, interval: float = 1.0) -> None:
        self.stream = stream or sys.stderr
        self.label = label
        self.interval = interval
        self.start = self.last = time.monotonic()
        self.printed = False

    def __call__(self, reads: int) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        rate = reads / max(now - self.start, 1e-9)
        self.stream.write(f"\r{reads:,} {self.label} processed, {rate:,.0f}/s")
        self.stream.flush()
        self.printed = True

    def close(self) -> None:
        if self.printed:
            self.stream.write("\n")
            self.stream.flush()


def terminal_progress(label: str = "reads") -> Progress | None:
    """A progress printer when stderr is a terminal; None (quiet) in logs and pipes."""
    return Progress(label) if sys.stderr.isatty() else None
