"""Types of the compiled single-end FASTQ block counter (_fastq_compiled.pyx)."""

from collections.abc import Callable
from typing import Any

class BlockCounter:
    reads: int
    def __init__(self, positions: dict[str, int], on_new: Callable[[str], None], masks: Any, size: int) -> None: ...
    def tallies(self) -> list[int]: ...
    def feed(self, block: bytearray, length: int, final: bool) -> int: ...
