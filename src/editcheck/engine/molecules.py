"""The UMI stage: every fragment of any source becomes one read with its UMI, ready for the molecule consensus.

A pair is merged when its mates overlap; otherwise the mate that :func:`~editcheck.engine.pairs.resolve_unmerged`
picks represents it (decided once per distinct pair), and it is counted as unmerged, and as unmerged-used when
that mate's own call covers the window, before the consensus, as without UMIs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import NamedTuple

from editcheck.engine.pairs import MateChoice
from editcheck.engine.settings import AnalysisSettings
from editcheck.reads.collapse import CollapsedReads
from editcheck.reads.merge import merge_pair
from editcheck.reads.records import FragmentTuple
from editcheck.reads.umi import UmiExtractor, UmiSettings
from editcheck.sequences import reverse_complement

__all__ = ["Kind", "UmiRead", "count_fragment", "umi_records"]


class Kind(Enum):
    """How a UMI-route record was read."""

    SINGLE = "single"
    """A single-end read (or a BAM/CRAM mate without its partner)."""
    MERGED = "merged"
    """A pair merged into one read."""
    UNMERGED = "unmerged"
    """An unmerged pair, represented by one mate."""


class UmiRead(NamedTuple):
    """One fragment on the UMI route: its UMI, the read that represents it, how it was read, and for an
    unmerged pair the mate choice."""

    umi: str
    sequence: str
    qualities: str
    kind: Kind
    choice: MateChoice | None = None


def count_fragment(reads: CollapsedReads, kind: Kind, choice: MateChoice | None) -> int:
    """Count one UMI-route record in ``reads`` (input, merged, unmerged, lone mates) as the route without
    UMIs counts it; 1 when it is an unmerged pair whose chosen mate covers the window, else 0."""
    reads.reads_in += 1
    if kind is Kind.MERGED:
        reads.merged += 1
    elif kind is Kind.UNMERGED:
        reads.unmerged += 1
        return int(choice is not None and choice.used)
    else:  # a read without its mate: a lone mate when the input turns out to be paired (the caller decides)
        reads.lone_mates += 1
    return 0


def umi_records(
    fragments: Iterable[FragmentTuple],
    path: str | Path,
    settings: AnalysisSettings,
    umi: UmiSettings,
    choose: Callable[[str, str], MateChoice],
) -> Iterator[UmiRead]:
    """A :class:`UmiRead` per fragment: the UMI taken from R1 (or the read), then the pair merged when it
    overlaps, else represented by the mate ``choose(R1, R2 reverse-complemented)`` picks."""
    extractor = UmiExtractor(umi, path)
    chosen: dict[tuple[str, str], MateChoice] = {}
    for number, fragment in enumerate(fragments, 1):
        if len(fragment) == 3:
            yield UmiRead(*extractor(number, *fragment), Kind.SINGLE)
            continue
        name, first, first_qualities, second, second_qualities = fragment
        barcode, first, first_qualities = extractor(number, name, first, first_qualities)
        merged = merge_pair(first, first_qualities, second, second_qualities, settings.merge)
        if merged is not None:
            yield UmiRead(barcode, *merged, Kind.MERGED)
            continue
        choice = chosen.get((first, second))
        if choice is None:
            choice = chosen[(first, second)] = choose(first, reverse_complement(second))
        if choice.mate == 0:
            yield UmiRead(barcode, first, first_qualities, Kind.UNMERGED, choice)
        else:
            yield UmiRead(barcode, reverse_complement(second), second_qualities[::-1], Kind.UNMERGED, choice)
