"""Types of the compiled read aligner's steps (_align_compiled.pyx)."""

from typing import Any

class AlignerCore:
    def __init__(self, owner: Any) -> None: ...
    def align(self, read: str, only: int | None = None) -> Any: ...
