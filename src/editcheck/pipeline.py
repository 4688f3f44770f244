"""Orchestration: reads -> unique reads -> alignment -> classification -> counts.

``quantify`` is the library entry point that the CLI and the workflow call.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editcheck.alignment.aligner import AlignedRead, ReadAligner
from editcheck.classification.outcomes import (
    NOT_ALIGNED,
    WINDOW_NOT_COVERED,
    ClassificationSettings,
    Classifier,
    ReadCall,
)
from editcheck.design import AmpliconDesign
from editcheck.errors import ParameterError
from editcheck.progress import EVERY
from editcheck.quantification.tally import Tally, tally_reads
from editcheck.reads.alignments import GenomeSite, iter_site_reads
from editcheck.reads.collapse import CollapsedReads, QualitySettings, collapse_paired, collapse_records, collapse_single
from editcheck.reads.fastq import iter_paired, iter_single
from editcheck.reads.merge import MergeSettings, merge_pair
from editcheck.reads.umi import MoleculeCollector, MoleculeResult, UmiExtractor, UmiSettings

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
    molecules: MoleculeResult | None = None
    """With UMIs: the molecules behind the reads."""
    molecule_tally: Tally | None = None
    """With UMIs: the same counts, one per molecule instead of one per read."""
    site: str | None = None
    """With BAM/CRAM input: the genome site quantified."""
    calls: dict[str, ReadCall] = field(default_factory=dict, repr=False)
    """Unique read (or ``R1 + '+' + R2`` for unmerged pairs) -> its call; used for per-read output."""


class AmpliconWorker:
    """Aligns and classifies one unique read against one design."""

    def __init__(self, design: AmpliconDesign, settings: AnalysisSettings) -> None:
        self.aligner = settings.aligner(design)
        self.classifier = Classifier(design, settings.classification)

    def __call__(self, sequence: str) -> tuple[AlignedRead | None, ReadCall]:
        aligned = self.aligner.align(sequence)
        return aligned, self.classifier.classify(aligned)


_worker: Callable[[str], Any] | None = None


def _init_worker(factory: Callable[..., Callable[[str], Any]], arguments: tuple) -> None:
    global _worker
    _worker = factory(*arguments)


def _init_pool_worker(factory: Callable[..., Callable[[str], Any]], arguments: tuple) -> None:
    """Worker processes leave Ctrl-C to the parent, which terminates the pool cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(factory, arguments)


def _process_chunk(sequences: Sequence[str]) -> list[Any]:
    assert _worker is not None
    worker = _worker
    return [worker(sequence) for sequence in sequences]


class UniqueReadAligner:
    """Aligns and classifies unique reads as they are found, in worker processes when threads > 1.

    Reading goes on in the calling process while workers align earlier chunks; results come back
    in submission order, so the output does not depend on the number of workers.
    """

    def __init__(
        self, design: AmpliconDesign, settings: AnalysisSettings, threads: int,
        worker: Callable[..., Callable[[str], Any]] = AmpliconWorker, arguments: tuple | None = None,
    ) -> None:  # fmt: skip
        self._pending: list[str] = []
        self._parts: list[Any] = []
        self._pool = None
        arguments = (design, settings) if arguments is None else arguments
        if threads > 1:
            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(threads, initializer=_init_pool_worker, initargs=(worker, arguments))
        else:
            _init_worker(worker, arguments)

    def add(self, sequence: str) -> None:
        self._pending.append(sequence)
        if len(self._pending) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._pool is None:
            self._parts.append(_process_chunk(self._pending))
        else:
            self._parts.append(self._pool.apply_async(_process_chunk, (self._pending,)))
        self._pending = []

    def results(self) -> list[Any]:
        """All results, in the order the sequences were added."""
        self._flush()
        results: list[Any] = []
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
    worker = AmpliconWorker(design, settings)
    results = []
    for (first, second), count in sorted(pairs.items()):
        best: tuple[AlignedRead | None, ReadCall] = (None, ReadCall(NOT_ALIGNED))
        for mate in (first, second):
            aligned, call = worker(mate)
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
    site: GenomeSite | None = None,
    reference_fasta: str | Path | None = None,
    umi: UmiSettings | None = None,
    progress: Callable[[int], None] | None = None,
) -> SampleResult:
    """Quantify editing in one sample: single-end (``r1``) or paired-end (``r1`` and ``r2``) FASTQ(.gz),
    or, with ``site``, the reads of a genome-aligned BAM/CRAM (``r1``) covering that site.

    With ``umi``, reads are grouped into molecules by their UMI and each molecule's consensus read is
    analysed; counts are reported per read and per molecule.
    """
    if threads < 1:
        raise ParameterError("threads must be at least 1")
    threads = min(threads, os.cpu_count() or 1)
    # Millions of small long-lived objects (unique reads, calls): the cyclic GC only costs time here.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if umi is not None or site is not None:
            return _quantify_records(
                r1, r2, design, settings, sample, threads, keep_calls, site, reference_fasta, umi, progress
            )
        return _quantify(r1, r2, design, settings, sample, threads, keep_calls, progress)
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
    progress: Callable[[int], None] | None = None,
) -> SampleResult:
    with UniqueReadAligner(design, settings, threads) as aligner:
        if r2 is None:
            reads = collapse_single(r1, settings.quality, on_new=aligner.add, progress=progress)
        else:
            reads = collapse_paired(r1, r2, settings.merge, settings.quality, on_new=aligner.add, progress=progress)
        results = aligner.results()
    sequences = list(reads.sequences)  # first-seen order, the order sequences were added above
    calls: list[tuple[str, int, AlignedRead | None, ReadCall]] = [
        (sequence, reads.sequences[sequence], aligned, call) for sequence, (aligned, call) in zip(sequences, results)
    ]
    unmerged = _classify_unmerged(reads.unmerged_pairs, design, settings)
    unmerged_used = sum(count for _, count, _, call in unmerged if call.outcome not in (NOT_ALIGNED, WINDOW_NOT_COVERED))
    calls.extend(unmerged)
    return _result(r1, r2, design, settings, sample, reads, calls, keep_calls, unmerged_used=unmerged_used)


def _result(
    r1: str | Path,
    r2: str | Path | None,
    design: AmpliconDesign,
    settings: AnalysisSettings,
    sample: str | None,
    reads: CollapsedReads,
    calls: list[tuple[str, int, AlignedRead | None, ReadCall]],
    keep_calls: bool,
    **extra: Any,
) -> SampleResult:
    """Tally the calls into a SampleResult named after the sample (or R1's file name)."""
    inputs = (str(r1),) if r2 is None else (str(r1), str(r2))
    name = sample or Path(r1).name.split(".")[0]
    result = SampleResult(name, design, settings, inputs, reads, tally_reads(design, calls), **extra)
    if keep_calls:
        result.calls = {sequence: call for sequence, _, _, call in calls}
    return result


def _quantify_records(
    r1: str | Path,
    r2: str | Path | None,
    design: AmpliconDesign,
    settings: AnalysisSettings,
    sample: str | None,
    threads: int,
    keep_calls: bool,
    site: GenomeSite | None,
    reference_fasta: str | Path | None,
    umi: UmiSettings | None,
    progress: Callable[[int], None] | None = None,
) -> SampleResult:
    """The BAM/CRAM and UMI routes: reads come from records rather than straight from FASTQ files."""
    if site is not None:
        if r2 is not None:
            raise ParameterError("BAM/CRAM input takes one file (both mates are read from it)")
        records = iter_site_reads(r1, site, reference_fasta=reference_fasta)
    elif r2 is None:
        records = iter_single(r1)
    else:
        records = merged_records(r1, r2, settings)
    molecules = None
    if umi is not None:
        extractor = UmiExtractor(umi, r1)
        collector = MoleculeCollector(umi)
        reads_in = 0
        for number, (name, sequence, qualities) in enumerate(records, 1):
            reads_in += 1
            if progress is not None and number % EVERY == 0:
                progress(number)
            barcode, sequence, qualities = extractor(number, name, sequence, qualities)
            collector.add(barcode, sequence, qualities)
        molecules = collector.consensus()
        reads = CollapsedReads(sequences=dict(molecules.sequences), reads_in=reads_in, paired=r2 is not None)
    else:
        reads = collapse_records(records, settings.quality, progress=progress)
        reads.paired = r2 is not None
    sequences = list(reads.sequences)
    results = align_and_classify(sequences, design, settings, threads)
    weights = molecules.reads_per_sequence if molecules is not None else reads.sequences
    calls = [(sequence, weights[sequence], aligned, call) for sequence, (aligned, call) in zip(sequences, results)]
    molecule_tally = None
    if molecules is not None:
        per_molecule = [(sequence, molecules.sequences[sequence], aligned, call) for sequence, _, aligned, call in calls]
        molecule_tally = tally_reads(design, per_molecule)
    return _result(
        r1, r2, design, settings, sample, reads, calls, keep_calls, molecules=molecules, molecule_tally=molecule_tally,
        site=str(site) if site is not None else None,
    )  # fmt: skip


def merged_records(r1: str | Path, r2: str | Path, settings: AnalysisSettings) -> Iterator[tuple[str, str, str]]:
    """Paired reads as single records: merged when they overlap, else R1 alone (for the UMI route)."""
    for name, first, first_qualities, second, second_qualities in iter_paired(r1, r2):
        merged = merge_pair(first, first_qualities, second, second_qualities, settings.merge)
        yield (name, *merged) if merged is not None else (name, first, first_qualities)
