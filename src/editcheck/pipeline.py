"""Orchestration: reads -> unique reads -> alignment -> classification -> counts.

``quantify`` is the library entry point that the CLI and the workflow call.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

from editcheck.alignment.aligner import AlignedRead, ReadAligner
from editcheck.alignment.assignment import Assignment
from editcheck.classification.called import CalledRead, Classified, classified_reads
from editcheck.classification.outcomes import (
    CLASSIFIED,
    NOT_ALIGNED,
    TOO_LONG,
    ClassificationSettings,
    Classifier,
    ReadCall,
)
from editcheck.design import AmpliconDesign
from editcheck.errors import ParameterError
from editcheck.naming import sample_name_from_path
from editcheck.progress import EVERY
from editcheck.quantification.tally import Tally, tally_reads
from editcheck.reads.alignments import GenomeSite, iter_site_fragments
from editcheck.reads.collapse import (
    CollapsedReads,
    QualitySettings,
    collapse_fragments,
    collapse_paired,
    collapse_single,
)
from editcheck.reads.fastq import iter_paired, iter_single
from editcheck.reads.merge import MergeSettings, merge_pair
from editcheck.reads.records import Fragment, Read, pair_key
from editcheck.reads.umi import MoleculeCollector, MoleculeResult, UmiExtractor, UmiSettings
from editcheck.sequences import reverse_complement

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
        if not 1 <= self.classification.max_length_factor <= 100:
            raise ParameterError(f"maximum read length factor {self.classification.max_length_factor} must be between 1 and 100")

    def aligner(self, design: AmpliconDesign) -> ReadAligner:
        """The read aligner these settings call for."""
        classification = self.classification
        return ReadAligner(
            design.references, classification.min_identity, classification.large_deletion_min,
            classification.max_length_factor,
        )  # fmt: skip


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
    input_copies: float | None = None
    """Template copies behind the reads, when the user gave the input amount: the edited % and target
    engagement intervals then use the effective depth 1/(1/reads + 1/copies)."""
    calls: dict[str, ReadCall] = field(default_factory=dict, repr=False)
    """Unique read (or :func:`~editcheck.reads.records.pair_key` for unmerged pairs) -> its call; used for
    per-read output."""


class AmpliconWorker:
    """Aligns and classifies one unique read against one design."""

    def __init__(self, design: AmpliconDesign, settings: AnalysisSettings) -> None:
        self.aligner = settings.aligner(design)
        self.classifier = Classifier(design, settings.classification)

    def __call__(self, sequence: str) -> Classified:
        if self.aligner.too_long(sequence):
            return Classified(None, ReadCall(TOO_LONG))
        return self.classify_aligned(sequence, self.aligner.align(sequence))

    def classify_aligned(self, sequence: str, aligned: AlignedRead | None) -> Classified:
        """Classify a read's best alignment (realigned to the amplicon when it is HDR-free, see below)."""
        if aligned is not None and aligned.reference != 0 and self.classifier.needs_amplicon(aligned):
            # A read fitting the HDR outcome best without any donor-specific base (an NHEJ deletion that
            # removed the donor's sites) is not HDR: its edits are described against the amplicon.
            on_amplicon = self.aligner.align(sequence, only=0)
            if on_amplicon is not None:
                aligned = on_amplicon
        return Classified(aligned, self.classifier.classify(aligned))


_worker: Callable[[str], Any] | None = None


def _init_worker(factory: Callable[..., Callable[[str], Any]], arguments: tuple[Any, ...]) -> None:
    global _worker
    _worker = factory(*arguments)


def _init_pool_worker(factory: Callable[..., Callable[[str], Any]], arguments: tuple[Any, ...]) -> None:
    """Worker processes leave Ctrl-C to the parent, which terminates the pool cleanly; SIGTERM (sent by
    the parent's terminate, or to the whole process group) ends a worker at once and quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _WORKER_SIGNALS)
    _init_worker(factory, arguments)


def _process_chunk(sequences: Sequence[str]) -> list[Any]:
    assert _worker is not None
    worker = _worker
    return [worker(sequence) for sequence in sequences]


_WORKER_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _start_pool(threads: int, worker: Callable[..., Callable[[str], Any]], arguments: tuple[Any, ...]) -> Any:
    """A pool of forked workers. SIGINT and SIGTERM stay blocked from the fork until each worker has set its own
    handlers: a forked worker would otherwise run the parent's handlers (SIGTERM raising KeyboardInterrupt)
    during start-up, swallow the pool's terminate and leave the parent waiting for it for ever."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _WORKER_SIGNALS)
    try:
        context = multiprocessing.get_context("fork")
        return context.Pool(threads, initializer=_init_pool_worker, initargs=(worker, arguments))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class UniqueReadAligner:
    """Aligns and classifies unique reads as they are found, in worker processes when threads > 1.

    Reading goes on in the calling process while workers align earlier chunks; results come back
    in submission order, so the output does not depend on the number of workers.
    """

    def __init__(
        self, design: AmpliconDesign, settings: AnalysisSettings, threads: int,
        worker: Callable[..., Callable[[str], Any]] = AmpliconWorker, arguments: tuple[Any, ...] | None = None,
    ) -> None:  # fmt: skip
        self._pending: list[str] = []
        self._parts: list[Any] = []
        self._pool = None
        arguments = (design, settings) if arguments is None else arguments
        if threads > 1:
            self._pool = _start_pool(threads, worker, arguments)
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
) -> list[Classified]:
    """Align and classify unique reads, in order; with ``threads`` > 1 in worker processes."""
    with UniqueReadAligner(design, settings, threads) as aligner:
        for sequence in sequences:
            aligner.add(sequence)
        return aligner.results()


def choose_mate(mates: Sequence[Classified]) -> int:
    """Which mate speaks for an unmerged pair: the index into ``mates`` (R1's result first, then R2's).

    The one rule for a pair that did not merge, used by ``quantify`` (FASTQ and BAM/CRAM), ``quantify-pool``
    and the UMI route: the pair is one fragment, counted once, and classified from one mate.  A mate whose
    call covers the quantification window (a classified outcome) beats a mate that aligned without
    covering it (``window_not_covered``, ``primer_dimer``), which beats a mate too long to align
    (``too_long``), which beats a mate that did not align; between two mates of the same tier the higher
    identity over the covered span wins (the mate with fewer sequencing errors); R1 on a tie.
    """

    def rank(index: int) -> tuple[int, float, int]:
        aligned, call = mates[index]
        if aligned is None or call.outcome == NOT_ALIGNED:
            return (1 if call.outcome == TOO_LONG else 0, 0.0, -index)
        return (3 if call.outcome in CLASSIFIED else 2, aligned.identity, -index)

    return max(range(len(mates)), key=rank)


def classify_unmerged(pairs: Mapping[tuple[str, str], int], worker: Callable[[str], Classified]) -> list[CalledRead]:
    """A :class:`CalledRead` keyed by :func:`pair_key` for every unmerged pair (R2 reverse-complemented),
    each pair classified from the mate :func:`choose_mate` picks."""
    results = []
    for (first, second), count in sorted(pairs.items()):
        mates = [worker(first), worker(second)]
        aligned, call = mates[choose_mate(mates)]
        results.append(CalledRead(pair_key(first, second), count, aligned, call))
    return results


def unmerged_used(calls: list[CalledRead]) -> int:
    """Pairs among ``calls`` (from :func:`classify_unmerged`) whose chosen mate covers the window."""
    return classified_reads(calls)


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
    or, with ``site``, the reads of a genome-aligned BAM/CRAM (``r1``) overlapping that site (its mates
    merged like FASTQ pairs; reads not covering the window counted as ``window_not_covered``).  A pair
    that does not merge is classified from one mate, chosen by :func:`choose_mate` on every route.

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
        if site is not None and r2 is not None:
            raise ParameterError("BAM/CRAM input takes one file (both mates are read from it)")
        if umi is not None:
            return _quantify_records(
                r1, r2, design, settings, sample, threads, keep_calls, site, reference_fasta, umi, progress
            )
        return _quantify(r1, r2, design, settings, sample, threads, keep_calls, progress, site, reference_fasta)
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
    site: GenomeSite | None = None,
    reference_fasta: str | Path | None = None,
) -> SampleResult:
    with UniqueReadAligner(design, settings, threads) as aligner:
        if site is not None:
            fragments = iter_site_fragments(r1, site, reference_fasta=reference_fasta)
            reads = collapse_fragments(fragments, settings.merge, settings.quality, on_new=aligner.add, progress=progress)
            reads.paired = bool(reads.merged or reads.unmerged)
            if not reads.paired:  # single-end reads in the BAM/CRAM: none of them is a lone mate
                reads.lone_mates = 0
        elif r2 is None:
            reads = collapse_single(r1, settings.quality, on_new=aligner.add, progress=progress)
        else:
            reads = collapse_paired(r1, r2, settings.merge, settings.quality, on_new=aligner.add, progress=progress)
        results = aligner.results()
    sequences = list(reads.sequences)  # first-seen order, the order sequences were added above
    calls = [
        CalledRead(sequence, reads.sequences[sequence], aligned, call) for sequence, (aligned, call) in zip(sequences, results)
    ]
    unmerged = classify_unmerged(reads.unmerged_pairs, AmpliconWorker(design, settings))
    calls.extend(unmerged)
    return _result(
        r1, r2, design, settings, sample, reads, calls, keep_calls, unmerged_used=unmerged_used(unmerged),
        site=str(site) if site is not None else None,
    )  # fmt: skip


def _result(
    r1: str | Path,
    r2: str | Path | None,
    design: AmpliconDesign,
    settings: AnalysisSettings,
    sample: str | None,
    reads: CollapsedReads,
    calls: list[CalledRead],
    keep_calls: bool,
    **extra: Any,
) -> SampleResult:
    """Tally the calls into a SampleResult named after the sample (or R1's file name)."""
    inputs = (str(r1),) if r2 is None else (str(r1), str(r2))
    name = sample or sample_name_from_path(r1)
    result = SampleResult(name, design, settings, inputs, reads, tally_reads(design, calls), **extra)
    if keep_calls:
        result.calls = {called.key: called.call for called in calls}
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
    umi: UmiSettings,
    progress: Callable[[int], None] | None = None,
) -> SampleResult:
    """The UMI route: one consensus read per molecule, from FASTQ or BAM/CRAM reads."""
    fragments: Iterable[Fragment]
    if site is not None:
        fragments = iter_site_fragments(r1, site, reference_fasta=reference_fasta)
    elif r2 is None:
        fragments = iter_single(r1)
    else:
        fragments = iter_paired(r1, r2)
    records = umi_records(fragments, r1, settings, umi, amplicon_mate_chooser(design, settings))
    collector = MoleculeCollector(umi)
    reads = CollapsedReads(paired=r2 is not None)
    unmerged_used_reads = 0
    for number, (barcode, sequence, qualities, kind, choice) in enumerate(records, 1):
        if progress is not None and number % EVERY == 0:
            progress(number)
        unmerged_used_reads += count_fragment(reads, kind, choice)
        collector.add(barcode, sequence, qualities)
    molecules = collector.consensus()
    reads.sequences = dict(molecules.sequences)
    if site is not None:  # as without UMIs: a BAM/CRAM of single-end reads is not paired, has no lone mates
        reads.paired = bool(reads.merged or reads.unmerged)
    if not reads.paired:
        reads.lone_mates = 0
    sequences = list(reads.sequences)
    results = align_and_classify(sequences, design, settings, threads)
    calls = [CalledRead(sequence, molecules.reads_per_sequence[sequence], aligned, call)
             for sequence, (aligned, call) in zip(sequences, results)]  # fmt: skip
    per_molecule = [called._replace(reads=molecules.sequences[called.key]) for called in calls]
    return _result(
        r1, r2, design, settings, sample, reads, calls, keep_calls, molecules=molecules,
        molecule_tally=tally_reads(design, per_molecule), site=str(site) if site is not None else None,
        unmerged_used=unmerged_used_reads,
    )  # fmt: skip


class MateChoice(NamedTuple):
    """How an unmerged pair is read on the UMI route."""

    mate: int
    """The mate :func:`choose_mate` picks: 0 for R1, 1 for R2."""
    used: bool
    """The chosen mate's call covers the window (a classified outcome): counted in ``unmerged_used``."""
    status: Assignment = Assignment.ASSIGNED
    """The pair's assignment in a pool."""
    amplicon: int | None = 0
    """The pair's amplicon in a pool, when assigned."""


class Kind(Enum):
    """How a UMI-route record was read."""

    SINGLE = "single"
    """A single-end read (or a BAM/CRAM mate without its partner)."""
    MERGED = "merged"
    """A pair merged into one read."""
    UNMERGED = "unmerged"
    """An unmerged pair, represented by one mate."""


SINGLE, MERGED, UNMERGED = Kind.SINGLE, Kind.MERGED, Kind.UNMERGED


class UmiRead(NamedTuple):
    """One fragment on the UMI route: its UMI, the read that represents it, how it was read, and for an
    unmerged pair the mate choice."""

    umi: str
    sequence: str
    qualities: str
    kind: Kind
    choice: MateChoice | None = None


def amplicon_mate_chooser(design: AmpliconDesign, settings: AnalysisSettings) -> Callable[[str, str], MateChoice]:
    """``choose(R1, R2 reverse-complemented)`` -> the mate :func:`choose_mate` picks against one amplicon."""
    worker: AmpliconWorker | None = None

    def choose(first: str, second: str) -> MateChoice:
        nonlocal worker
        worker = worker or AmpliconWorker(design, settings)
        mates = [worker(first), worker(second)]
        mate = choose_mate(mates)
        return MateChoice(mate, mates[mate][1].outcome in CLASSIFIED)

    return choose


def count_fragment(reads: CollapsedReads, kind: Kind, choice: MateChoice | None) -> int:
    """Count one UMI-route record in ``reads`` (input, merged, unmerged, lone mates) as the route without
    UMIs counts it; 1 when it is an unmerged pair whose chosen mate covers the window, else 0."""
    reads.reads_in += 1
    if kind == MERGED:
        reads.merged += 1
    elif kind == UNMERGED:
        reads.unmerged += 1
        return int(choice is not None and choice.used)
    else:  # a read without its mate: a lone mate when the input turns out to be paired (the caller decides)
        reads.lone_mates += 1
    return 0


def umi_records(
    fragments: Iterable[Fragment],
    path: str | Path,
    settings: AnalysisSettings,
    umi: UmiSettings,
    choose: Callable[[str, str], MateChoice],
) -> Iterator[UmiRead]:
    """A :class:`UmiRead` ``(UMI, sequence, qualities, kind, choice)`` per fragment: the UMI taken from R1 (or the read), then the
    pair merged when it overlaps (kind ``merged``), else the mate ``choose(R1, R2 reverse-complemented)`` picks
    (kind ``unmerged``, with that choice: the one rule of :func:`choose_mate`, decided once per unique pair);
    a fragment without R2 is ``single``.  Unmerged pairs count in ``unmerged_used`` by their chosen read's
    own call, before the molecule's consensus."""
    extractor = UmiExtractor(umi, path)
    chosen: dict[tuple[str, str], MateChoice] = {}
    for number, fragment in enumerate(fragments, 1):
        if isinstance(fragment, Read):
            yield UmiRead(*extractor(number, *fragment), SINGLE)
            continue
        name, first, first_qualities, second, second_qualities = fragment
        barcode, first, first_qualities = extractor(number, name, first, first_qualities)
        merged = merge_pair(first, first_qualities, second, second_qualities, settings.merge)
        if merged is not None:
            yield UmiRead(barcode, *merged, MERGED)
            continue
        choice = chosen.get((first, second))
        if choice is None:
            choice = chosen[(first, second)] = choose(first, reverse_complement(second))
        if choice.mate == 0:
            yield UmiRead(barcode, first, first_qualities, UNMERGED, choice)
        else:
            yield UmiRead(barcode, reverse_complement(second), second_qualities[::-1], UNMERGED, choice)
