"""Turning classified unique reads into counts: outcomes, edit types, indel sizes, alleles, positions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import compress, islice
from operator import eq, itemgetter
from typing import NamedTuple, Protocol

import numpy as np

from editcheck.classification.called import CalledRead
from editcheck.classification.outcomes import (
    AMBIGUOUS,
    CLASSIFIED,
    EDITABLE_BASE_MASKED,
    EDITED,
    HDR,
    IMPERFECT_HDR,
    LARGE_DELETION,
    MODIFIED,
    NOT_ALIGNED,
    PRIME_EDIT,
    PRIME_EDIT_WITH_CHANGES,
    PRIMER_DIMER,
    SCAFFOLD_INSERTION,
    UNMODIFIED,
    WINDOW_NOT_COVERED,
    aligned_sequence,
)
from editcheck.compiled import compiled_module
from editcheck.design import AmpliconDesign
from editcheck.statistics.intervals import wilson_interval

POSITION_SYMBOLS = "ACGTN-"


def applicable_outcomes(design: AmpliconDesign) -> tuple[str, ...]:
    """The outcome classes a design can produce, in reporting order."""
    outcomes = [UNMODIFIED, MODIFIED, LARGE_DELETION]
    if design.hdr is not None:
        outcomes += [HDR, IMPERFECT_HDR]
    if design.prime_edited is not None:
        outcomes += [PRIME_EDIT, PRIME_EDIT_WITH_CHANGES]
        if design.prime_edit is not None and design.prime_edit.scaffold_sequence:
            outcomes.append(SCAFFOLD_INSERTION)
    if len(design.references) > 2:
        outcomes.append(AMBIGUOUS)
    return tuple(outcomes)


@dataclass(frozen=True)
class Proportion:
    """A count out of a denominator, as a percentage with its Wilson 95% confidence interval."""

    reads: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.reads / self.total if self.total else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        low, high = wilson_interval(self.reads, self.total)
        return 100.0 * low, 100.0 * high

    def as_dict(self) -> dict[str, float | int]:
        low, high = self.interval
        return {"reads": self.reads, "total": self.total, "percent": round(self.percent, 6),
                "ci95_low": round(low, 6), "ci95_high": round(high, 6)}  # fmt: skip


class Allele(NamedTuple):
    """Reads sharing one aligned sequence on one reference."""

    reference: str
    aligned_sequence: str
    outcome: str
    events: str
    reads: int


class AlleleTable(Protocol):
    """The alleles of a tally, in the alleles table's order: a list in memory, or a table streamed from disk
    (:class:`editcheck.quantification.allele_store.AlleleFile`, a segmented run's); only iterated and sized."""

    def __iter__(self) -> Iterator[Allele]: ...

    def __len__(self) -> int: ...


@dataclass
class PositionProfile:
    """Per-position base, deletion and insertion counts on one reference."""

    reference: str
    sequence: str
    window: tuple[bool, ...]
    counts: np.ndarray
    """Shape (len(sequence), 6): reads showing A, C, G, T, N, deletion at each position."""
    insertions_after: np.ndarray
    """Reads with an insertion between each position and the next."""

    @property
    def coverage(self) -> np.ndarray:
        coverage: np.ndarray = self.counts.sum(axis=1)
        return coverage


@dataclass
class Tally:
    """Everything counted for one sample."""

    outcomes: Counter[str] = field(default_factory=Counter)
    large_deletion_sizes: Counter[int] = field(default_factory=Counter)
    base_edit_classes: Counter[str] = field(default_factory=Counter)
    target_converted: int = 0
    coding: Counter[str] = field(default_factory=Counter)
    splice_sites: int = 0
    reference_ties: int = 0
    """Reads fitting the amplicon and the HDR outcome equally, resolved to the amplicon."""
    with_indel: int = 0
    """Reads with an insertion or deletion counted in the window."""
    with_insertion: int = 0
    with_deletion: int = 0
    with_substitution: int = 0
    """Reads with a substitution in the window (reported whether or not it makes the read edited)."""
    with_other_substitution: int = 0
    """Reads with a substitution in the window that is neither a base editor's conversion nor a donor base."""
    donor_change_missing: Counter[int] = field(default_factory=Counter)
    """HDR-class reads lacking donor change i (index into the design's donor changes)."""
    imperfect_hdr_missing: int = 0
    """Imperfect-HDR reads that lack at least one donor change."""
    imperfect_hdr_other_edit: int = 0
    """Imperfect-HDR reads with an edit besides the donor's changes in the window."""
    deletion_sizes: Counter[int] = field(default_factory=Counter)
    insertion_sizes: Counter[int] = field(default_factory=Counter)
    alleles: AlleleTable = field(default_factory=list)
    """A list when tallied in memory (:func:`tally_reads`), an ``AlleleFile`` when merged from segments."""
    positions: list[PositionProfile] = field(default_factory=list)

    @property
    def classified(self) -> int:
        return sum(self.outcomes[outcome] for outcome in CLASSIFIED)

    @property
    def aligned(self) -> int:
        return (
            self.classified + self.outcomes[WINDOW_NOT_COVERED] + self.outcomes[PRIMER_DIMER]
            + self.outcomes[EDITABLE_BASE_MASKED]
        )  # fmt: skip

    def proportion(self, *outcomes: str) -> Proportion:
        return Proportion(sum(self.outcomes[outcome] for outcome in outcomes), self.classified)

    @property
    def edited(self) -> Proportion:
        return self.proportion(*EDITED)


AlleleCounts = dict[tuple[str, str, str, str], int]
"""Reads by allele key ``(reference, aligned sequence, outcome, events)``, before :func:`sorted_alleles`."""


def tally_reads(design: AmpliconDesign, calls: Iterable[CalledRead]) -> Tally:
    """Count classified unique reads, each weighted by its number of reads.

    ``calls`` holds a :class:`CalledRead` for every unique read or unmerged pair.
    """
    tally, allele_counts = counted_reads(design, calls)
    tally.alleles = sorted_alleles(allele_counts)
    return tally


def counted_reads(design: AmpliconDesign, calls: Iterable[CalledRead]) -> tuple[Tally, AlleleCounts]:
    """:func:`tally_reads` but for the alleles: the tally without them, and the reads of each allele by key."""
    tally = Tally()
    references = design.references
    allele_counts: AlleleCounts = {}
    profiles = [_ProfileCounter(len(reference.sequence)) for reference in references]
    names = [reference.name for reference in references]
    if _count_calls is None:
        python_count_calls(tally, names, profiles, allele_counts, calls)
    else:
        _count_calls(
            tally, names, profiles, allele_counts, calls, aligned_sequence, NOT_ALIGNED, AMBIGUOUS, PRIMER_DIMER, HDR,
            IMPERFECT_HDR, CLASSIFIED,
        )  # fmt: skip
    for reference, profile in zip(references, profiles):
        tally.positions.append(profile.profile(reference.name, reference.sequence, reference.window))
    return tally, allele_counts


def python_count_calls(
    tally: Tally, names: list[str], profiles: list[_ProfileCounter], allele_counts: AlleleCounts,
    calls: Iterable[CalledRead],
) -> None:  # fmt: skip
    """Count ``calls`` into ``tally``, ``allele_counts`` and the references' ``profiles`` (by reference index;
    ``names`` the references' names): the reference of the compiled
    :func:`editcheck.quantification._tally_compiled.count_calls`, which :func:`counted_reads` runs where it is
    built."""
    for _sequence, count, aligned, call in calls:
        outcome = call.outcome
        tally.outcomes[outcome] += count
        if aligned is None or outcome == NOT_ALIGNED:
            continue
        if aligned.ambiguous and outcome != AMBIGUOUS:
            tally.reference_ties += count
        if outcome in CLASSIFIED:
            if call.insertion_bases or call.deletion_bases:
                tally.with_indel += count
            if call.insertion_bases:
                tally.with_insertion += count
                tally.insertion_sizes[call.insertion_bases] += count
            if call.deletion_bases:
                tally.with_deletion += count
                tally.deletion_sizes[call.deletion_bases] += count
            if call.substitutions:
                tally.with_substitution += count
            if call.other_substitutions:
                tally.with_other_substitution += count
            if outcome == IMPERFECT_HDR:
                if call.donor_missing:
                    tally.imperfect_hdr_missing += count
                if call.hdr_other_edit:
                    tally.imperfect_hdr_other_edit += count
            if call.donor_missing and outcome in (HDR, IMPERFECT_HDR):
                for index in range(call.donor_missing.bit_length()):
                    if call.donor_missing >> index & 1:
                        tally.donor_change_missing[index] += count
            if call.large_deletion:
                tally.large_deletion_sizes[call.large_deletion] += count
            if call.base_edit:
                tally.base_edit_classes[call.base_edit] += count
                if call.target_converted:
                    tally.target_converted += count
            if call.coding:
                tally.coding[call.coding] += count
            if call.splice_site:
                tally.splice_sites += count
        key = (names[aligned.reference], aligned_sequence(aligned), outcome, call.events)
        allele_counts[key] = allele_counts.get(key, 0) + count
        if outcome not in (AMBIGUOUS, PRIMER_DIMER):
            profile = profiles[aligned.reference]
            profile.add(aligned.projection, count)
            for position, _bases in aligned.insertions:
                if position > 0:
                    profile.insertions[position - 1] += count


def sorted_alleles(allele_counts: AlleleCounts) -> list[Allele]:
    """Alleles by decreasing read count, ties by reference, sequence, outcome and events.

    The keys are tuples of the tally's own strings (an aligned sequence is the read's projection itself when
    it has no insertion), not one joined string split again: two fewer copies of every unique read's
    sequence at the run's peak of memory.  ``allele_counts`` is emptied, and each key freed once its allele is
    made, so the keys and the alleles are not all alive together.  Where the compiled tally is built, a count's
    alleles are made by ``append_alleles`` (no Python call per allele; the alleles untracked by the cyclic garbage
    collector, which no collection after the run then visits: the 10M scale input's 792k alleles at Q0 sorted in
    1.39 -> 0.99 s, its 542k at Q20 in 0.85-0.90 -> 0.67 s)."""
    by_count: dict[int, list[tuple[str, str, str, str]]] = {}
    for key, reads in allele_counts.items():
        by_count.setdefault(reads, []).append(key)
    allele_counts.clear()  # the keys live on in by_count, each until its allele is made
    alleles: list[Allele] = []
    for reads in sorted(by_count, reverse=True):
        keys = by_count.pop(reads)
        sort_keys(keys)
        if _append_alleles is not None and type(reads) is int:
            _append_alleles(alleles, keys, reads, Allele)
            continue
        keys.reverse()
        while keys:
            reference, sequence, outcome, events = keys.pop()
            alleles.append(Allele(reference, sequence, outcome, events, reads))
    return alleles


def sort_keys(keys: list[tuple[str, str, str, str]]) -> None:
    """Sort allele keys in place as ``keys.sort()`` sorts them, faster (the alleles of a 10M-read run: 1.90 -> 1.36 s
    with their grouping by reads): by aligned sequence alone (the sort compares strings, not tuples), then by
    reference (a stable sort, skipped when there is one), and runs of adjacent keys with one sequence (rare) by
    the whole key."""
    keys.sort(key=itemgetter(1))
    if len({key[0] for key in keys}) > 1:
        keys.sort(key=itemgetter(0))
    start = end = 0  # the run of keys with one sequence being gathered: keys[start:end]
    for index in _equal_sequence_indices(keys):
        if index - 1 >= end:  # a new run: the one before is sorted
            keys[start:end] = sorted(keys[start:end])
            start = index - 1
        end = index + 1
    keys[start:end] = sorted(keys[start:end])


def python_equal_sequence_indices(keys: list[tuple[str, str, str, str]]) -> list[int]:
    """The indices ``i`` (from 1, ascending) where ``keys[i]`` has the sequence of ``keys[i - 1]``: the reference of
    the compiled ``equal_sequence_indices`` (:func:`sort_keys` runs it where it is built)."""
    sequences = [key[1] for key in keys]
    return list(compress(range(1, len(sequences)), map(eq, sequences, islice(sequences, 1, None))))


_SYMBOL_CODES = np.full(256, len(POSITION_SYMBOLS), dtype=np.int64)
for _code, _symbol in enumerate(POSITION_SYMBOLS.encode("ascii")):
    _SYMBOL_CODES[_symbol] = _code

_compiled_tally = compiled_module("editcheck.quantification._tally_compiled", "tally")
_count_calls = None if _compiled_tally is None else _compiled_tally.count_calls
"""Counts a pass of calls (compiled), or None: :func:`python_count_calls`, the reference, runs."""
_append_alleles = None if _compiled_tally is None else _compiled_tally.append_alleles
"""Makes a count's alleles from its sorted keys (compiled), or None: :func:`sorted_alleles`'s loop makes them."""
_equal_sequence_indices = (
    python_equal_sequence_indices if _compiled_tally is None else _compiled_tally.equal_sequence_indices
)
"""Where adjacent allele keys share a sequence (:func:`sort_keys`): compiled, or :func:`python_equal_sequence_indices`."""
compiled_allele_line_chunks = None if _compiled_tally is None else _compiled_tally.allele_line_chunks
"""Makes alleles.tsv's lines in chunks of bytes (compiled, :mod:`editcheck.quantification._tally_compiled`), or None:
:func:`editcheck.results.sample._allele_lines`, the reference, makes them."""

_compiled_profiles = compiled_module("editcheck.quantification._profile_compiled", "position-profile counter")
_count_symbols = None if _compiled_profiles is None else _compiled_profiles.count_symbols
"""Adds a block of projections into a profile's counts (compiled), or None: the numpy reference below runs."""


class _ProfileCounter:
    """Weighted symbol counts per position of one reference, counted as the projections come: one bincount per
    block of :data:`BLOCK` projections (most unique reads are seen once: those without weights), so no list of
    every projection is kept; or, when built, each block by the compiled counter
    (:mod:`editcheck.quantification._profile_compiled`: the same counts, 3x faster on the 1M benchmark input's
    reads).  Counts are integers (numpy's weighted ones summed exactly in float64, rounded per block), so the
    blocks' sizes do not change them."""

    BLOCK = 2048
    """Projections per bincount: the int64 codes of a block (BLOCK x length x 8 bytes) are transient memory."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.width = len(POSITION_SYMBOLS) + 1  # the last code is '.', not covered
        self.counts = np.zeros(length * self.width, dtype=np.int64)
        self.offsets = np.arange(length, dtype=np.int64) * self.width
        self.insertions = np.zeros(length, dtype=np.int64)
        """Reads with an insertion between each position and the next."""
        self._singles: list[str] = []
        self._repeated: list[str] = []
        self._weights: list[int] = []

    def add(self, projection: str, weight: int) -> None:
        if weight == 1:
            self._singles.append(projection)
            if len(self._singles) >= self.BLOCK:
                self._count_singles()
        else:
            self._repeated.append(projection)
            self._weights.append(weight)
            if len(self._repeated) >= self.BLOCK:
                self._count_repeated()

    def _codes(self, projections: list[str]) -> np.ndarray:
        block = "".join(projections).encode("ascii")
        codes: np.ndarray = _SYMBOL_CODES[np.frombuffer(block, dtype=np.uint8)].reshape(-1, self.length) + self.offsets
        return codes.ravel()

    def _count_singles(self) -> None:
        if self._singles:
            if _count_symbols is not None:
                _count_symbols(self.counts, _SYMBOL_CODES, self._singles, None, self.length, self.width)
            else:
                self.counts += np.bincount(self._codes(self._singles), minlength=self.length * self.width)
            self._singles = []

    def _count_repeated(self) -> None:
        if self._repeated:
            if _count_symbols is not None:
                _count_symbols(self.counts, _SYMBOL_CODES, self._repeated, self._weights, self.length, self.width)
            else:
                weight = np.repeat(np.asarray(self._weights, dtype=np.float64), self.length)
                counted = np.bincount(self._codes(self._repeated), weights=weight, minlength=self.length * self.width)
                self.counts += np.rint(counted).astype(np.int64)
            self._repeated, self._weights = [], []

    def profile(self, name: str, sequence: str, window: tuple[bool, ...]) -> PositionProfile:
        """The profile of every projection added."""
        self._count_singles()
        self._count_repeated()
        matrix = self.counts.reshape(self.length, self.width)[:, : len(POSITION_SYMBOLS)].copy()
        return PositionProfile(name, sequence, window, matrix, self.insertions)
