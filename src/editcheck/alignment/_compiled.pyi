"""Types of the compiled hot path (_compiled.pyx); the same signatures as editcheck.alignment.events."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from editcheck.alignment.events import Events, Span

def core_span(operations: list[tuple[int, int]], read_length: int, low: int, high: int) -> Span | None: ...
def core_penalty(
    core: Sequence[tuple[int, int]], mismatch: int, gap_open: int, gap_extend: int
) -> tuple[int, bool]: ...
def mismatches(reference: str, read: str, offset: int, found: list[tuple[int, str]]) -> None: ...
def ungapped_substitutions(reference: str, read: str, limit: int) -> tuple[int, tuple[tuple[int, str], ...]] | None: ...
def build_events(
    reference: str,
    read: str,
    core: Sequence[tuple[int, int]],
    read_start: int,
    read_end: int,
    reference_start: int,
    reference_end: int,
    has_gap: bool,
    cut_boundaries: Sequence[int],
) -> Events: ...
def describe_events(
    reference: str,
    insertions: Sequence[tuple[int, str]],
    deletions: Sequence[tuple[int, int]],
    substitutions: Sequence[tuple[int, str]],
) -> str: ...
def signature_index(read: str, signatures: Sequence[str]) -> int: ...
def laid_out(
    sequence: str,
    length: int,
    start: int,
    end: int,
    insertions: Sequence[tuple[int, str]],
    deletions: Sequence[tuple[int, int]],
    offset: int,
) -> str: ...
def layout_offset(
    sequence: str,
    projection: str,
    start: int,
    end: int,
    insertions: Sequence[tuple[int, str]],
    deletions: Sequence[tuple[int, int]],
) -> int: ...
def pack(value: tuple[Any, ...]) -> bytes: ...
def unpack(data: bytes) -> Any: ...
def anchor_clips(read: str, first_anchor: str, last_anchor: str, anchor_length: int) -> tuple[int, int, int, int]: ...
def masked_substitution_parts(
    projection: str,
    substitutions: tuple[tuple[int, str], ...],
    events: str,
    positions: tuple[int, ...],
    reference: str,
) -> tuple[str, tuple[tuple[int, str], ...], str]: ...

class AlignmentMasker:
    def __init__(
        self, aligned_type: Any, projection_at: int, insertions_at: int, substitutions_at: int, reference: Any
    ) -> None: ...
    def __call__(self, aligned: tuple[Any, ...], sites: Any) -> Any: ...

class OtherMasks:
    def __init__(self, masker: Any, pooled_type: Any, masked_sequence: Any) -> None: ...
    def __call__(self, context: tuple[Any, ...], sites: Any, mask: tuple[int, ...]) -> tuple[Any, int | None]: ...

class ChunkRunner:
    def __init__(
        self,
        align: Any,
        classify: Any,
        needs_amplicon: Any,
        classify_aligned: Any,
        max_length: int,
        too_long_call: Any,
        assigned: Any,
        status_value: Any,
        pooled_type: Any,
        events_index: int,
        by_reference: list[Any],
        substitutable: bool,
        shared: dict[Any, Any],
        find_sites: Any,
        fallback: Any,
        classifier: Any,
        decisive: Any,
        references: Any,
        keyed: bool,
    ) -> None: ...
    def encoded(self, sequences: list[str]) -> list[bytes]: ...
    def __call__(self, sequences: list[str], lows: Any) -> list[tuple[bytes, tuple[int, ...], tuple[Any, ...]]]: ...

class SubstitutionMasker:
    def __init__(
        self, aligned_type: Any, call_type: Any, projection_at: int, substitutions_at: int, events_at: int
    ) -> None: ...
    def __call__(
        self, aligned: tuple[Any, ...], call: tuple[Any, ...], positions: tuple[int, ...], reference: str
    ) -> tuple[Any, Any]: ...

def quality_sites_of(
    length: int,
    reverse: bool,
    start: int,
    end: int,
    projection: str,
    insertions: tuple[tuple[int, str], ...],
    deletions: tuple[tuple[int, int], ...],
    substitutions: tuple[tuple[int, str], ...],
    decisive: bytes,
) -> tuple[tuple[tuple[int, int, int], ...], tuple[int, ...]] | None: ...
def masked_reads_of(
    length: int,
    aligned: tuple[Any, ...],
    call: tuple[Any, ...],
    lows: Sequence[tuple[tuple[int, ...], int]],
    decisive: bytes,
    events_index: int,
    blocked: bytes,
    reference: str,
    status_value: object,
    amplicon: int,
    substitutable: bool,
    shared: dict[tuple[int, ...], tuple[int, ...]],
    find_sites: Callable[[Any], Sequence[tuple[int, int, int]]],
    fallback: Callable[[Any, Sequence[tuple[int, int, int]], tuple[int, ...]], tuple[object, int | None]],
    context: Any,
    keyed: bool = True,
) -> tuple[tuple[int, ...], tuple[Any, ...]]: ...

class ResultDecoder:
    def __init__(
        self,
        statuses: dict[Any, Any],
        pooled: Any,
        classified: Any,
        aligned_type: Any,
        call_type: Any,
        tags: frozenset[int],
        fallback: Callable[[str, bytes], Any],
    ) -> None: ...
    def __call__(self, sequence: str, encoded: bytes) -> Any: ...

def masked_tally_calls(
    unique: Iterable[tuple[Any, bytes, int | None]],
    start: int,
    counted_by_index: Callable[[], dict[int, Any]],
    workers: list[Any],
    expansion: Callable[..., tuple[int, Sequence[tuple[Any, ...]], Any]],
    decode: Callable[[str, bytes], Any],
    substitute: Callable[..., tuple[Any, Any]],
    masked_sequence: Callable[[str, tuple[int, ...]], str],
    sequences: list[list[str]],
    called_type: type[Any],
    pooled_type: type[Any],
) -> Iterator[Any]: ...
