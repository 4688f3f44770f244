"""Orchestration: reads -> unique reads -> alignment -> classification -> counts.

``quantify`` is the library entry point that the CLI and the workflow call.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Sequence
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

from editcheck.alignment.aligner import AlignedRead, ReadAligner
from editcheck.classification.outcomes import NOT_ALIGNED, WINDOW_NOT_COVERED, ClassificationSettings, Classifier, ReadCall
from editcheck.design import AmpliconDesign
from editcheck.errors import ParameterError
from editcheck.quantification.tally import Tally, tally_reads
from editcheck.reads.collapse import CollapsedReads, QualitySettings, collapse_paired, collapse_single
from editcheck.reads.merge import MergeSettings

CHUNK = 4000
"""Unique reads sent to a worker at a time."""


@dataclass(frozen=True)
class AnalysisSettings:
    """Every parameter that can change a result (recorded in summary.json)."""

    classification: ClassificationSettings = ClassificationSettings()
    quality: QualitySettings = QualitySettings()
    merge: MergeSettings = MergeSettings()

    def __post_init__(self) -> None:
        if not 0 <= self.classification.min_identity <= 100:
            raise ParameterError(f"minimum identity {self.classification.min_identity} must be between 0 and 100")

    def aligner(self, design: AmpliconDesign) -> ReadAligner:
        """The read aligner these settings call for."""
        return ReadAligner(design.references, self.classification.min_identity, self.classification.large_deletion_min)


@dataclass
class SampleResult:
    """Everything editcheck learned about one sample."""

    sample: str
    design: AmpliconDesign
    settings: AnalysisSettings
    inputs: tuple[str, ...]
    reads: CollapsedReads
    tally: Tally
    unmerged_used: int = 0
    calls: dict[str, ReadCall] = field(default_factory=dict, repr=False)
    """Unique read (or ``R1 + '+' + R2`` for unmerged pairs) -> its call; used for per-read output."""


_worker_state: tuple[ReadAligner, Classifier] | None = None


def _init_worker(design: AmpliconDesign, settings: AnalysisSettings) -> None:
    global _worker_state
    _worker_state = (settings.aligner(design), Classifier(design, settings.classification))


def _align_chunk(sequences: Sequence[str]) -> list[tuple[AlignedRead | None, ReadCall]]:
    assert _worker_state is not None
    aligner, classifier = _worker_state
    results = []
    for sequence in sequences:
        aligned = aligner.align(sequence)
        results.append((aligned, classifier.classify(aligned)))
    return results


class UniqueReadAligner:
    """Aligns and classifies unique reads as they are found, in worker processes when threads > 1.

    Reading goes on in the calling process while workers align earlier chunks; results come back
    in submission order, so the output does not depend on the number of workers.
    """

    def __init__(self, design: AmpliconDesign, settings: AnalysisSettings, threads: int) -> None:
        self._pending: list[str] = []
        self._parts: list[Any] = []
        self._pool = None
        if threads > 1:
            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(threads, initializer=_init_worker, initargs=(design, settings))
        else:
            _init_worker(design, settings)

    def add(self, sequence: str) -> None:
        self._pending.append(sequence)
        if len(self._pending) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._pool is None:
            self._parts.append(_align_chunk(self._pending))
        else:
            self._parts.append(self._pool.apply_async(_align_chunk, (self._pending,)))
        self._pending = []

    def results(self) -> list[tuple[AlignedRead | None, ReadCall]]:
        """All results, in the order the sequences were added."""
        self._flush()
        results: list[tuple[AlignedRead | None, ReadCall]] = []
        for part in self._parts:
            results.extend(part if self._pool is None else part.get())
        self.close()
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None

    def __enter__(self) -> UniqueReadAligner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def align_and_classify(
    sequences: Sequence[str], design: AmpliconDesign, settings: AnalysisSettings, threads: int = 1
) -> list[tuple[AlignedRead | None, ReadCall]]:
    """Align and classify unique reads, in order; with ``threads`` > 1 in worker processes."""
    with UniqueReadAligner(design, settings, threads) as aligner:
        for sequence in sequences:
            aligner.add(sequence)
        return aligner.results()


def _classify_unmerged(
    pairs: dict[tuple[str, str], int], design: AmpliconDesign, settings: AnalysisSettings
) -> list[tuple[str, int, AlignedRead | None, ReadCall]]:
    """Use an unmerged pair when one mate covers the window: the covering mate with the higher identity."""
    aligner = settings.aligner(design)
    classifier = Classifier(design, settings.classification)
    results = []
    for (first, second), count in sorted(pairs.items()):
        best: tuple[AlignedRead | None, ReadCall] = (None, ReadCall(NOT_ALIGNED))
        for mate in (first, second):
            aligned = aligner.align(mate)
            call = classifier.classify(aligned)
            if aligned is None:
                continue
            current = best[0]
            covers = call.outcome != WINDOW_NOT_COVERED
            best_covers = current is not None and best[1].outcome != WINDOW_NOT_COVERED
            if current is None or (covers and not best_covers) or (covers == best_covers and aligned.identity > current.identity):
                best = (aligned, call)
        results.append((first + "+" + second, count, best[0], best[1]))
    return results


def quantify(
    r1: str | Path,
    r2: str | Path | None = None,
    *,
    design: AmpliconDesign,
    settings: AnalysisSettings = AnalysisSettings(),
    sample: str | None = None,
    threads: int = 1,
    keep_calls: bool = False,
) -> SampleResult:
    """Quantify editing in one sample: single-end (``r1``) or paired-end (``r1`` and ``r2``) FASTQ(.gz)."""
    if threads < 1:
        raise ParameterError("threads must be at least 1")
    threads = min(threads, os.cpu_count() or 1)
    # Millions of small long-lived objects (unique reads, calls): the cyclic GC only costs time here.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _quantify(r1, r2, design, settings, sample, threads, keep_calls)
    finally:
        if collecting:
            gc.enable()


def _quantify(
    r1: str | Path,
    r2: str | Path | None,
    design: AmpliconDesign,
    settings: AnalysisSettings,
    sample: str | None,
    threads: int,
    keep_calls: bool,
) -> SampleResult:
    with UniqueReadAligner(design, settings, threads) as aligner:
        if r2 is None:
            reads = collapse_single(r1, settings.quality, on_new=aligner.add)
        else:
            reads = collapse_paired(r1, r2, settings.merge, settings.quality, on_new=aligner.add)
        results = aligner.results()
    sequences = list(reads.sequences)  # first-seen order, the order sequences were added above
    calls: list[tuple[str, int, AlignedRead | None, ReadCall]] = [
        (sequence, reads.sequences[sequence], aligned, call) for sequence, (aligned, call) in zip(sequences, results)
    ]
    unmerged = _classify_unmerged(reads.unmerged_pairs, design, settings)
    unmerged_used = sum(count for _, count, _, call in unmerged if call.outcome not in (NOT_ALIGNED, WINDOW_NOT_COVERED))
    calls.extend(unmerged)
    tally = tally_reads(design, calls)
    inputs = (str(r1),) if r2 is None else (str(r1), str(r2))
    name = sample or Path(r1).name.split(".")[0]
    result = SampleResult(name, design, settings, inputs, reads, tally, unmerged_used)
    if keep_calls:
        result.calls = {sequence: call for sequence, _, _, call in calls}
    return result
