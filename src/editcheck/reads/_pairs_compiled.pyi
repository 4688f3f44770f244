"""Types of the compiled read pairs (_pairs_compiled.pyx): the merge (editcheck.reads.merge.merge_placed) and the
numbering of identical pairs (editcheck.reads.pair_chunks), the merged reads' low-quality positions
(editcheck.reads.merged_lows)."""

from typing import Any

def merge_placed(
    seq1: str, qual1: str, seq2: str, qual2: str, min_overlap: int, max_rate: float, dense_length: int
) -> tuple[str, str, int, int] | None: ...
def merge_placed_disagreeing(
    seq1: str, qual1: str, seq2: str, qual2: str, min_overlap: int, max_rate: float, dense_length: int
) -> tuple[str, str, int, int, tuple[int, ...]] | None: ...
def number_pairs(first: list[bytes], second: list[bytes]) -> tuple[Any, list[int]]: ...
def split_records(chunk: bytes) -> tuple[list[bytes], list[bytes], bytes, bytes, bytes] | None: ...
def chunk_lows(
    threshold: int, sequences1: list[bytes], qualities1: bytes, sequences2: list[bytes], qualities2: bytes,
    joined1: bytes, joined2: bytes, read_pairs: Any, placements: list[int | None],
) -> tuple[Any, Any, Any]: ...  # fmt: skip
def project_lows(chunks: list[Any], sites: list[tuple[int, ...] | None], counted: dict[Any, int]) -> None: ...
