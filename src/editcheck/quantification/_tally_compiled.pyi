"""Types of the compiled tally pass (_tally_compiled.pyx)."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

def count_calls(
    tally: Any,
    names: list[str],
    profiles: list[Any],
    allele_counts: dict[tuple[str, str, str, str], int],
    calls: Iterable[Any],
    aligned_sequence: Callable[[Any], str],
    not_aligned: str,
    ambiguous: str,
    primer_dimer: str,
    hdr: str,
    imperfect_hdr: str,
    classified: Iterable[str],
) -> None: ...
def equal_sequence_indices(keys: list[tuple[str, str, str, str]]) -> list[int]: ...
def append_alleles(
    alleles: list[Any], keys: list[tuple[str, str, str, str]], reads: int, allele_type: type
) -> None: ...
def allele_line_chunks(
    alleles: Iterable[tuple[str, str, str, str, int]], suffix_of: Callable[[int], str], chunk: int = ...
) -> Iterator[bytes]: ...
