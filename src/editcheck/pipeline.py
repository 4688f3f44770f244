"""Orchestration: reads -> unique reads -> alignment -> classification -> counts.

``quantify`` is the library entry point that the CLI and the workflow call.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from editcheck.alignment.aligner import DEFAULT_MIN_IDENTITY, AlignedRead, ReadAligner
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
    min_identity: float = DEFAULT_MIN_IDENTITY

    def __post_init__(self) -> None:
        if not 0 <= self.min_identity <= 100:
            raise ParameterError(f"minimum identity {self.min_identity} must be between 0 and 100")


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
    _worker_state = (ReadAligner(design.references, settings.min_identity), Classifier(design, settings.classification))


def _align_chunk(sequences: Sequence[str]) -> list[tuple[AlignedRead | None, ReadCall]]:
    assert _worker_state is not None
    aligner, classifier = _worker_state
    results = []
    for sequence in sequences:
        aligned = aligner.align(sequence)
        results.append((aligned, classifier.classify(aligned)))
    return results


def _chunks(sequences: Sequence[str]) -> Iterable[Sequence[str]]:
    for begin in range(0, len(sequences), CHUNK):
        yield sequences[begin : begin + CHUNK]


def align_and_classify(
    sequences: Sequence[str], design: AmpliconDesign, settings: AnalysisSettings, threads: int = 1
) -> list[tuple[AlignedRead | None, ReadCall]]:
    """Align and classify unique reads, in order; with ``threads`` > 1 in worker processes."""
    if threads <= 1 or len(sequences) < 2 * CHUNK:
        _init_worker(design, settings)
        return _align_chunk(sequences)
    context = multiprocessing.get_context("fork")
    with context.Pool(threads, initializer=_init_worker, initargs=(design, settings)) as pool:
        results: list[tuple[AlignedRead | None, ReadCall]] = []
        for part in pool.imap(_align_chunk, _chunks(sequences)):
            results.extend(part)
    return results


def _classify_unmerged(
    pairs: dict[tuple[str, str], int], design: AmpliconDesign, settings: AnalysisSettings
) -> list[tuple[str, int, AlignedRead | None, ReadCall]]:
    """Use an unmerged pair when one mate covers the window: the covering mate with the higher identity."""
    aligner = ReadAligner(design.references, settings.min_identity)
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
    if r2 is None:
        reads = collapse_single(r1, settings.quality)
    else:
        reads = collapse_paired(r1, r2, settings.merge, settings.quality)
    sequences = sorted(reads.sequences)
    results = align_and_classify(sequences, design, settings, threads)
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
