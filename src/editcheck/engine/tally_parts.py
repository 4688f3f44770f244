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


def tally_spans(unique_reads: int, threads: int) -> list[range]:
    """Consecutive spans of the unique reads' indices, one per part of the tally: as many as ``threads`` (and the
    cores) allow with at least :data:`PART_UNIQUE_READS` unique reads each, and one span of them all otherwise."""
    parts = max(1, min(threads, available_cores(), unique_reads // max(1, PART_UNIQUE_READS)))
    bounds = [unique_reads * part // parts for part in range(parts + 1)]
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
