"""The tally of a whole run from the tallies of its segments, in bounded memory.

Every read's call is independent of the other reads, so a run's :class:`Tally` is the sum of its segments':
the counters and counts are summed, the per-position profiles added array by array, and the alleles (one
per unique aligned sequence, the only part that grows with the run) summed on disk by
:class:`~editcheck.quantification.allele_store.AlleleRuns`.  Every field of :class:`Tally` is merged by its
kind (a ``Counter``, an ``int``, the alleles, the profiles); a field of another kind stops the merge rather
than being dropped.  The tallies of a run's parts counted at once (:func:`merged_tallies`, see
:mod:`editcheck.engine.tally_parts`) are summed alike, their alleles in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path

import numpy as np

from editcheck.design import AmpliconDesign
from editcheck.quantification.allele_store import AlleleRuns
from editcheck.quantification.tally import AlleleCounts, PositionProfile, Tally, sorted_alleles, tally_reads

__all__ = ["TallyAccumulator", "add_allele_counts", "merged_tallies"]


class TallyAccumulator:
    """Adds the tallies of a run's segments (one amplicon's design) into the run's tally.

    ``directory`` and ``chunk`` are those of the alleles' :class:`AlleleRuns` (its files go to a private folder
    inside ``directory``, which must outlive the tally :meth:`result` returns: its alleles are read from there)."""

    def __init__(self, design: AmpliconDesign, directory: Path, chunk: int = 500_000) -> None:
        self.design = design
        self._total = tally_reads(design, [])  # zero counts and zero profiles of every reference
        self._alleles = AlleleRuns(directory, chunk)
        self.segments = 0
        self._finished = False

    def add(self, tally: Tally) -> None:
        """Add one segment's tally (its alleles are written to disk)."""
        if self._finished:
            raise RuntimeError("a segment's tally added after the run's tally was made")
        _add_counts(self._total, tally)
        self._alleles.add(tally.alleles)
        self.segments += 1

    def result(self) -> Tally:
        """The run's tally: the sums of every segment added (the alleles a finished ``AlleleFile``)."""
        self._finished = True
        total = self._total
        merged = Tally(**{item.name: getattr(total, item.name) for item in fields(Tally)})
        merged.alleles = self._alleles.finish()
        return merged


def merged_tallies(design: AmpliconDesign, tallies: Iterable[Tally], allele_counts: AlleleCounts) -> Tally:
    """The sum in memory of the tallies of consecutive parts of one amplicon's unique reads, in their order, each
    without its alleles (:func:`~editcheck.quantification.tally.counted_reads`), and of their alleles summed by key
    in ``allele_counts`` (emptied): the tally of them all that :func:`~editcheck.quantification.tally.tally_reads`
    gives (the alleles sorted as it sorts them; the counters' keys in first-seen order)."""
    total = tally_reads(design, [])
    for tally in tallies:
        _add_counts(total, tally)
    total.alleles = sorted_alleles(allele_counts)
    return total


def add_allele_counts(total: AlleleCounts, part: Iterable[tuple[tuple[str, str, str, str], int]]) -> None:
    """Add the reads of a part's alleles (``(key, reads)`` each) into ``total``."""
    get = total.get
    for key, reads in part:
        total[key] = get(key, 0) + reads


def _add_counts(total: Tally, tally: Tally) -> None:
    """Add every field of ``tally`` but its alleles into ``total``: each by its kind (a field of another kind stops
    the merge rather than being dropped)."""
    for item in fields(Tally):
        name = item.name
        value = getattr(tally, name)
        if name == "alleles":
            continue
        if name == "positions":
            _add_profiles(total.positions, value)
        elif isinstance(value, Counter):
            getattr(total, name).update(value)
        elif isinstance(value, int):
            setattr(total, name, getattr(total, name) + value)
        else:
            raise TypeError(f"Tally field {name!r} of type {type(value).__name__} has no merge rule")


def _add_profiles(totals: list[PositionProfile], profiles: list[PositionProfile]) -> None:
    if [(p.reference, p.sequence) for p in profiles] != [(p.reference, p.sequence) for p in totals]:
        raise ValueError(
            "a segment's position profiles are not those of the design's references: "
            f"{[p.reference for p in profiles]} vs {[p.reference for p in totals]}"
        )
    for total, profile in zip(totals, profiles):
        np.add(total.counts, profile.counts, out=total.counts)
        np.add(total.insertions_after, profile.insertions_after, out=total.insertions_after)
