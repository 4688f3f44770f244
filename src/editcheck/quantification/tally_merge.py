"""The tally of a whole run from the tallies of its segments, in bounded memory.

Every read's call is independent of the other reads, so a run's :class:`Tally` is the sum of its segments':
the counters and counts are summed, the per-position profiles added array by array, and the alleles (one
per unique aligned sequence, the only part that grows with the run) summed on disk by
:class:`~editcheck.quantification.allele_store.AlleleRuns`.  Every field of :class:`Tally` is merged by its
kind (a ``Counter``, an ``int``, the alleles, the profiles); a field of another kind stops the merge rather
than being dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields
from pathlib import Path

import numpy as np

from editcheck.design import AmpliconDesign
from editcheck.quantification.allele_store import AlleleRuns
from editcheck.quantification.tally import PositionProfile, Tally, tally_reads

__all__ = ["TallyAccumulator"]


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
        total = self._total
        for item in fields(Tally):
            name = item.name
            value = getattr(tally, name)
            if name == "alleles":
                self._alleles.add(value)
            elif name == "positions":
                _add_profiles(total.positions, value)
            elif isinstance(value, Counter):
                getattr(total, name).update(value)
            elif isinstance(value, int):
                setattr(total, name, getattr(total, name) + value)
            else:
                raise TypeError(f"Tally field {name!r} of type {type(value).__name__} has no merge rule")
        self.segments += 1

    def result(self) -> Tally:
        """The run's tally: the sums of every segment added (the alleles a finished ``AlleleFile``)."""
        self._finished = True
        total = self._total
        merged = Tally(**{item.name: getattr(total, item.name) for item in fields(Tally)})
        merged.alleles = self._alleles.finish()
        return merged


def _add_profiles(totals: list[PositionProfile], profiles: list[PositionProfile]) -> None:
    if [(p.reference, p.sequence) for p in profiles] != [(p.reference, p.sequence) for p in totals]:
        raise ValueError(
            "a segment's position profiles are not those of the design's references: "
            f"{[p.reference for p in profiles]} vs {[p.reference for p in totals]}"
        )
    for total, profile in zip(totals, profiles):
        np.add(total.counts, profile.counts, out=total.counts)
        np.add(total.insertions_after, profile.insertions_after, out=total.insertions_after)
