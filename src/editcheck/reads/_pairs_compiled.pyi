"""Types of the compiled read pairs (_pairs_compiled.pyx): the merge (editcheck.reads.merge.merge_placed) and the
numbering of identical pairs (editcheck.reads.pair_chunks)."""

from typing import Any

def merge_placed(
    seq1: str, qual1: str, seq2: str, qual2: str, min_overlap: int, max_rate: float, dense_length: int
) -> tuple[str, str, int, int] | None: ...
def number_pairs(first: list[bytes], second: list[bytes]) -> tuple[Any, list[int]]: ...
def split_records(chunk: bytes) -> tuple[list[bytes], list[bytes], bytes, bytes, bytes] | None: ...
