"""One amplicon's tally counted in parts at once, on the cores the worker processes have left idle.

After the reads are collapsed and every unique read is back from the workers, the tally's pass (decoding each
unique read's result, calling its masked reads, counting) runs in the main process alone.  Every read's call is
independent of the others, so the tally of the unique reads is the sum of the tallies of consecutive spans of them
(:func:`~editcheck.quantification.tally_merge.merged_tallies`: byte-identical results).  With several threads
and enough unique reads, the spans after the first are tallied in forked child processes
(:class:`~editcheck.engine.forked.ForkedCall`: they see the results as they are, nothing is sent to them), while
this process tallies the first.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from itertools import islice, pairwise

from editcheck.classification.called import CalledRead
from editcheck.design import AmpliconDesign
from editcheck.engine.forked import ForkedCall
from editcheck.naming import available_cores
from editcheck.quantification.tally import AlleleCounts, Tally, counted_reads, tally_reads
from editcheck.quantification.tally_merge import add_allele_counts, merged_tallies

__all__ = ["PART_UNIQUE_READS", "tally_in_parts", "tally_spans"]

PART_UNIQUE_READS = 20_000
"""The fewest unique reads a part of the tally is given (fewer: not worth a child process)."""

ALLELES_TOLD = 20_000
"""Alleles a child sends at once."""


HEAVY_EXTRA = 0.7
"""What a mask the main process counted (reads of a unique read counted after it was sent to its worker: called
as the tally meets it) adds to the tally's work on its unique read, in unique reads (10M reads at Q20, measured:
~5.7 us a unique read, ~3.9 us more a mask counted there; the first span holds most of them, its sequences
being the first seen and the most read)."""


def tally_spans(unique_reads: int, threads: int, heavy: Iterable[int] = ()) -> list[range]:
    """Consecutive spans of the unique reads' indices, one per part of the tally: as many as ``threads`` (and the
    cores) allow with at least :data:`PART_UNIQUE_READS` unique reads each, and one span of them all otherwise.
    The spans share the work alike: each unique read costs one, and :data:`HEAVY_EXTRA` more for each time its
    index is in ``heavy`` (its masks counted by the main process)."""
    parts = max(1, min(threads, available_cores(), unique_reads // max(1, PART_UNIQUE_READS)))
    if parts == 1:
        return [range(unique_reads)]
    extra = sorted(heavy)

    def cost(stop: int) -> float:  # of the unique reads before ``stop``
        return stop + HEAVY_EXTRA * bisect_left(extra, stop)

    total = cost(unique_reads)
    bounds = [0]
    for part in range(1, parts):
        target = total * part / parts
        low, high = bounds[-1] + 1, unique_reads - (parts - part)  # every span keeps a unique read at least
        while low < high:  # the last stop whose cost is within the target
            middle = (low + high + 1) // 2
            if cost(middle) <= target:
                low = middle
            else:
                high = middle - 1
        bounds.append(low)
    bounds.append(unique_reads)
    return [range(start, stop) for start, stop in pairwise(bounds)]


def tally_in_parts(
    design: AmpliconDesign, calls_of: Callable[[range], Iterable[CalledRead]], spans: Sequence[range],
    release: Callable[[range], None] | None = None,
) -> Tally:  # fmt: skip
    """The tally of ``calls_of(span)`` over every span, in order: the first span's counted here, the others' in a
    forked child process each, at the same time.  ``release(span)`` is called here once a child has the span (to
    free what only the child reads now).  A child sends its alleles in chunks of :data:`ALLELES_TOLD`, each added
    to this process's alleles as it comes: no message of them all, and no second table of them, is held."""
    if len(spans) == 1:
        return tally_reads(design, calls_of(spans[0]))
    alleles: AlleleCounts = {}  # this process's own, once counted: the children's are added in (result)

    def add(part: list[tuple[tuple[str, str, str, str], int]]) -> None:
        add_allele_counts(alleles, part)

    children: list[ForkedCall[Tally]] = []
    try:
        for span in spans[1:]:
            children.append(ForkedCall(_counted_span, design, calls_of, span, on_told=add, task="a part of the tally"))
            if release is not None:
                release(span)
        own, alleles = counted_reads(design, calls_of(spans[0]))
        tallies = [own, *(child.result() for child in children)]
    finally:
        for child in children:
            child.close()
    return merged_tallies(design, tallies, alleles)


def _counted_span(
    design: AmpliconDesign, calls_of: Callable[[range], Iterable[CalledRead]], span: range,
    tell: Callable[[list[tuple[tuple[str, str, str, str], int]]], None],
) -> Tally:  # fmt: skip
    """A child's part: its tally, its alleles told in chunks on the way."""
    tally, alleles = counted_reads(design, calls_of(span))
    items = iter(alleles.items())
    while chunk := list(islice(items, ALLELES_TOLD)):
        tell(chunk)
    return tally
