"""Types of the compiled read-pair merge (_merge_compiled.pyx); see editcheck.reads.merge.merge_placed."""

def merge_placed(
    seq1: str, qual1: str, seq2: str, qual2: str, min_overlap: int, max_rate: float, dense_length: int
) -> tuple[str, str, int, int] | None: ...
