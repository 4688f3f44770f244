"""The one engine: any :class:`~editcheck.engine.sources.ReadSource`, one amplicon or a pool, reads or molecules.

Reads (:func:`run`, without UMIs)
    Identical reads are collapsed as they are read (pairs merged once per distinct pair; paired FASTQ files
    chunk by chunk in the worker processes, :mod:`editcheck.engine.chunked`), each new unique read is sent to
    the worker pool (:class:`~editcheck.engine.workers.PoolWorker`: assigned to an
    amplicon when there are several, aligned and classified), unmerged pairs are resolved by the one rule
    (:func:`~editcheck.engine.pairs.resolve_unmerged`), and each amplicon's calls are tallied into its
    :class:`~editcheck.engine.result.SampleResult`.  With one design every read belongs to it, so the
    amplicon's read counts are the input's.  Until they are tallied, the unique reads' results are kept
    compact, one ``bytes`` each (:func:`~editcheck.engine.workers.encode_result`), and decoded one at a time
    as they are counted (with one design the tally's pass frees each as it goes): memory per unique sequence
    is its string, its encoded result and what the tables keep (its allele), not its alignment and call
    objects.

Molecules (with ``umi``)
    Each fragment becomes one read with its UMI (:mod:`editcheck.engine.molecules`), is assigned to its
    amplicon (with one design, at once), and is grouped with its amplicon's reads into molecules; each
    amplicon's consensus reads are then aligned and classified, and counted per read and per molecule.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeGuard, cast

from editcheck.alignment.assignment import Assignment
from editcheck.classification.called import CalledRead, classified_reads
from editcheck.classification.outcomes import ReadCall
from editcheck.design import AmpliconDesign
from editcheck.engine.chunked import collapse_pair_files, pair_ring
from editcheck.engine.masking import (
    ExpandedReads,
    MaskedResult,
    QualityMasking,
    ResultDecoder,
    SitesWorker,
)  # fmt: skip
from editcheck.engine.molecules import count_fragment, umi_records
from editcheck.engine.pairs import MateChoice, PairCall, resolve_unmerged
from editcheck.engine.result import PoolResult, SampleResult, UniqueAlignment
from editcheck.engine.segmented import run_segmented, segmented
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.sinks import ReadSink
from editcheck.engine.sources import FastqPaired, FastqSingle, ReadSource
from editcheck.engine.tally_parts import tally_in_parts, tally_spans
from editcheck.engine.workers import (
    PooledCall,
    PoolWorker,
    UniqueReadAligner,
    align_and_classify,
    decode_result,
)  # fmt: skip
from editcheck.errors import ParameterError
from editcheck.naming import available_cores
from editcheck.progress import EVERY
from editcheck.quantification.tally import Tally
from editcheck.reads.collapse import (
    CollapsedReads,
    QualityMasks,
    collapse_fragments,
    collapse_records,
    collapse_single,
)  # fmt: skip
from editcheck.reads.merged_lows import MergedLows
from editcheck.reads.records import ReadTuple, UniqueRead, pair_key
from editcheck.reads.segments import SEGMENT_READS
from editcheck.reads.umi import MoleculeCollector, UmiSettings

__all__ = ["run"]

_new: Any = tuple.__new__
_FREED: Any = (None, b"", None)


APART_CORES = 4
"""Cores from which single-end gzip FASTQ is decompressed apart whatever the number of workers."""


def _decompress_apart(threads: int) -> bool:
    """Whether single-end gzip FASTQ is decompressed in a thread of its own
    (:func:`~editcheck.reads.collapse.collapse_single`): when a core is left beside ``threads`` busy processes
    (the main process alone with 1, the workers with more), or with :data:`APART_CORES` cores or more.

    Measured on 2 cores, ``-t 2``, outputs identical: where the main process bounds the reading (3M reads of 28k
    unique sequences, the workers mostly idle) 2.44-2.46 -> 1.85-1.89 s; where both cores are busy (the 10M scale
    input, 792k unique sequences: 1.7-1.85 cores busy while reading) it only moves work, within +-3%, so not
    there.  From 4 cores the main process bounds the reading whatever the data (its ~11 CPU s at 10M Q20 against
    the workers' ~10, shared by 4): the gain is expected there, not measured (this machine has 2 cores).  A
    process of its own decompressing into shared memory did no better than the thread (1M ``-t 1`` 2.76-2.90
    against 2.91-3.08 s; the 3M reads above 1.85-1.88 against 1.87-1.89 s), so the thread stays."""
    cores = available_cores()
    return cores > threads or cores >= APART_CORES


def run(
    source: ReadSource,
    designs: Sequence[AmpliconDesign],
    names: Sequence[str],
    *,
    settings: AnalysisSettings = AnalysisSettings(),
    threads: int = 1,
    umi: UmiSettings | None = None,
    progress: Callable[[int], None] | None = None,
    keep_calls: bool = False,
    sink: ReadSink | None = None,
    keep_alignments: bool = False,
    spill: Path | None = None,
    segment_reads: int = SEGMENT_READS,
) -> PoolResult:
    """Quantify every amplicon of ``designs`` (results named ``names``) in the reads of ``source``; with
    ``sink``, tell it every read's call (one design, without UMIs: a molecule's reads have no call of their own);
    with ``keep_alignments``, each result keeps its unique reads' alignments (the BAM output).

    With a ``spill`` folder, FASTQ input (single-end or paired) of more than about 1.5 x ``segment_reads`` reads
    (pairs) is run in segments of ``segment_reads``, in bounded memory (:mod:`editcheck.engine.segmented`; not
    with UMIs, per-read calls, a sink or alignments kept, which keep something per read anyway): the same
    results, whose allele tables are then read from files in ``spill`` (keep it until the results are written)."""
    if sink is not None and (umi is not None or len(designs) != 1):
        raise ParameterError("per-read calls are written for one amplicon without UMIs")
    # Millions of small long-lived objects (unique reads, calls): the cyclic GC only costs time here.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if umi is not None:
            return _run_molecules(source, designs, names, settings, threads, umi, progress, keep_calls, keep_alignments)
        by_read = keep_calls or keep_alignments or sink is not None
        if spill is not None and not by_read and segmented(source, segment_reads):

            def run_segment(part: ReadSource, told: Callable[[int], None] | None) -> PoolResult:
                return _run_reads(part, designs, names, settings, threads, told, False, None)

            return run_segmented(source, designs, names, settings, run_segment, progress, spill, segment_reads)
        return _run_reads(source, designs, names, settings, threads, progress, keep_calls, sink, keep_alignments)
    finally:
        if collecting:
            gc.enable()


def _collapse(
    source: ReadSource, settings: AnalysisSettings, on_new: Callable[[str], None],
    progress: Callable[[int], None] | None, on_read: Callable[[str, int], None] | None,
    masks: QualityMasks | None = None, background: bool = False,
) -> CollapsedReads:  # fmt: skip
    if isinstance(source, FastqSingle) and on_read is None:  # in batches (per-read output: the loop below)
        reads = collapse_single(
            source.path, settings.quality, on_new, progress, masks, background, source.max_read_length
        )
    elif source.paired is False:  # single reads only: the faster loop
        records = cast(Iterator[ReadTuple], source.fragments())
        reads = collapse_records(records, settings.quality, on_new, progress, on_read, masks)
    else:
        reads = collapse_fragments(
            source.fragments(), settings.merge, settings.quality, on_new, progress, on_read, masks
        )
    _settle_pairing(source, reads)
    return reads


def _chunkable(source: ReadSource, sink: ReadSink | None) -> TypeGuard[FastqPaired]:
    """Paired FASTQ files without per-read output: collapsed chunk by chunk in the workers."""
    return sink is None and isinstance(source, FastqPaired)


def _settle_pairing(source: ReadSource, reads: CollapsedReads) -> None:
    """A BAM/CRAM is paired when any pair was read; reads of an input that is not paired are no lone mates."""
    if source.paired is None:
        reads.paired = bool(reads.merged or reads.unmerged)
    if not reads.paired:
        reads.lone_mates = 0


def _run_reads(
    source: ReadSource, designs: Sequence[AmpliconDesign], names: Sequence[str], settings: AnalysisSettings,
    threads: int, progress: Callable[[int], None] | None, keep_calls: bool, sink: ReadSink | None,
    keep_alignments: bool = False,
) -> PoolResult:  # fmt: skip
    # Reads and merged pairs are collapsed raw (the mates of unmerged pairs are masked).
    by_read = keep_calls or keep_alignments  # masked reads kept read by read: alike ones merged (else the tally adds)
    masking = (
        QualityMasking(designs, settings, keep_entries=sink is not None, keep_keys=by_read, merge_alike=by_read)
        if settings.quality.min_base_quality
        else None
    )
    on_read = None if sink is None else sink.read
    # Every unique read's result is kept encoded (workers.encode_result: one bytes each) and decoded as it is used.
    entries: ExpandedReads | None = None
    streamed = masking is not None and not by_read and sink is None and len(designs) == 1  # the tally's pass alone
    background = _decompress_apart(threads)
    # The paired chunks' ring is made before the worker processes are forked (they inherit it) and closed after.
    chunkable = _chunkable(source, sink)
    if masking is None:
        with (
            pair_ring(threads) if chunkable else nullcontext() as ring,
            UniqueReadAligner(threads, (designs, settings), compact=True) as aligner,
        ):
            chunked = (
                collapse_pair_files(source, settings, aligner, progress, None, ring)
                if _chunkable(source, sink)  # again: it narrows the source's type
                else None
            )
            reads = (
                chunked
                if chunked is not None
                else _collapse(source, settings, aligner.add, progress, on_read, None, background)
            )
            store: list[bytes] = aligner.results()
    else:
        # Each unique read goes to its worker with its reads counted so far, by their low-quality positions.
        with (
            (pair_ring(threads) if chunkable else nullcontext()) as ring,
            UniqueReadAligner(
                threads, (designs, settings, masking.merge_alike), SitesWorker, extras=masking.masks.take_chunk,
                on_results=masking.settle_chunk, kept=itemgetter(0),
            ) as aligner,
        ):  # fmt: skip
            lows = MergedLows()
            chunked = (
                collapse_pair_files(source, settings, aligner, progress, lows, ring)
                if _chunkable(source, sink)  # again: it narrows the source's type
                else None
            )
            if chunked is None:
                reads = _collapse(source, settings, aligner.add, progress, on_read, masking.masks, background)
            # (encoded result, site positions, masked calls): settled as each chunk came back, its encoded result kept
            store = aligner.results()
            if chunked is not None:  # its masked reads are called as they are tallied (QualityMasking.calls)
                reads = chunked
                lows.project(masking.masks)  # every merged read's sites are settled now
            masking.masks.forget_sites()  # every read is counted and projected: the sites are read no more
        # (unique read and the reads it stands for here, its result, its reads as collapsed: None for a masked read)
        if not streamed:  # streamed: one pass, the tally's (each result freed as it is read, nothing expanded kept)
            entries = masking.expand(_unique_reads(reads.sequences, store, consume=False))
            if sink is None:  # the entries hold the results now, and the last pass frees each as it tallies it
                store.clear()

    def stored(consume: bool = False) -> Iterator[tuple[UniqueRead, bytes | MaskedResult, int | None]]:
        """Each unique read with its result as kept; ``consume``: the last pass, each result freed once read."""
        yield from _unique_reads(reads.sequences, store, consume) if entries is None else entries.entries(consume)

    def unique(consume: bool = False) -> Iterator[tuple[UniqueRead, PooledCall, int | None]]:
        decoded = ResultDecoder()  # a masked read reuses its unique read's result, decoded just before
        for read, result, collapsed in stored(consume):
            yield read, decoded(read.key, result), collapsed

    worker = PoolWorker(designs, settings) if reads.unmerged_pairs else None
    pairs: list[tuple[UniqueRead, tuple[str, str], PairCall]] = []
    for (first, second), count in sorted(reads.unmerged_pairs.items()):
        assert worker is not None
        pairs.append(
            (
                UniqueRead(pair_key(first, second), count),
                (first, second),
                resolve_unmerged(worker(first), worker(second)),
            )
        )
    fates: Counter[Assignment] = Counter()
    kept: list[list[UniqueAlignment]] = [[] for _ in designs]
    if keep_alignments:  # with one design every read belongs to it, as counted below
        for (key, count), result, _ in unique():
            index = 0 if len(designs) == 1 else result.amplicon
            if index is not None and result.call is not None and count:
                kept[index].append(UniqueAlignment(key, key, count, result.alignment, result.call))
        for (key, count), mates, pair in pairs:
            index = 0 if len(designs) == 1 else pair.amplicon
            if index is not None:
                kept[index].append(UniqueAlignment(key, mates[pair.mate], count, *pair.chosen, pair.mate))
    calls: list[Iterable[CalledRead]]
    spans: list[range] | None = None
    if len(designs) == 1:  # every read belongs to the one amplicon, those filtered out by quality too
        amplicon_reads = [reads]
        pair_calls: list[list[CalledRead]] = [[CalledRead(key, count, *pair.chosen) for (key, count), _, pair in pairs]]
        # Tallied as decoded, the last pass over the results (the sink's is before): no per-read object is kept.
        if entries is not None:
            calls = [entries.calls(consume=True)]
        else:  # in consecutive spans of the unique reads, at once with several threads (engine.tally_parts)

            def span_calls(span: range) -> Iterator[CalledRead]:
                unique = _unique_reads(reads.sequences, store, True, span)
                return masking.calls(unique, span.start) if masking is not None else _stored_calls(unique)

            def calls_of(span: range) -> Iterator[CalledRead]:  # a part's: the unmerged pairs with the last
                own = span_calls(span)
                return chain(own, pair_calls[0]) if span.stop == len(reads.sequences) else own

            heavy = (index for index, _ in masking.masks.masks) if masking is not None else ()
            spans = tally_spans(len(reads.sequences), 1 if keep_calls else threads, heavy)
            calls = [span_calls(spans[0])] if len(spans) == 1 else [()]
    else:
        amplicon_reads = [CollapsedReads(paired=reads.paired) for _ in designs]
        listed: list[list[tuple[str, int, bytes | MaskedResult]]] = [[] for _ in designs]
        calls = [_called(amplicon_listed) for amplicon_listed in listed]
        pair_calls = [[] for _ in designs]
        decoded = ResultDecoder()
        for (key, count), kept_result, collapsed in stored(consume=True):  # the BAM's pass was before
            result = decoded(key, kept_result)
            if result.amplicon is None or result.call is None:
                fates[result.status] += count
                continue
            if count:  # kept as it was, decoded again when tallied
                listed[result.amplicon].append((key, count, kept_result))
            counted = amplicon_reads[result.amplicon]
            counted.reads_in += count
            if collapsed is not None:
                counted.sequences[key] = collapsed
            counted.merged += count if reads.paired else 0
        for (key, count), mates, pair in pairs:
            if pair.amplicon is None:
                fates[pair.status] += count
                continue
            pair_calls[pair.amplicon].append(CalledRead(key, count, *pair.chosen))
            counted = amplicon_reads[pair.amplicon]
            counted.reads_in += count
            counted.unmerged_pairs[mates] = count
            counted.unmerged += count
    if sink is not None:  # one design: every unique read has its call
        pair_calls_of = {mates: pair.chosen.call for _, mates, pair in pairs}
        results = cast(Iterator[PooledCall], map(decode_result, reads.sequences, store))  # kept with a sink
        unique_calls: list[ReadCall] = [result.call for result in results if result.call is not None]
        masked_calls = masking.entry_calls(unique_calls) if masking is not None else []
        sink.calls(unique_calls, [pair_calls_of[mates] for mates in reads.unmerged_pairs], masked_calls)
    site = str(source.site) if source.site is not None else None
    tallies: list[Tally | None] = [None for _ in designs]
    if spans is not None and len(spans) > 1:  # one design, counted in parts (the sink's pass is done)

        def release(span: range) -> None:  # a child has these results now
            store[span.start : span.stop] = [b""] * len(span)

        tallies[0] = tally_in_parts(designs[0], calls_of, spans, release)
    samples = [
        SampleResult.from_calls(
            name,
            design,
            settings,
            source.inputs,
            counted,
            chain(single, paired) if tally is None else tally,
            unmerged_used=classified_reads(paired),
            site=site,
            keep_calls=keep_calls,
            alignments=aligned if keep_alignments else None,
        )
        for name, design, counted, single, paired, aligned, tally in zip(
            names, designs, amplicon_reads, calls, pair_calls, kept, tallies
        )
    ]
    assigned = {design.name: counted.reads_in for design, counted in zip(designs, amplicon_reads)}
    return PoolResult(
        samples,
        reads,
        assigned,
        *(fates[s] for s in (Assignment.AMBIGUOUS, Assignment.UNASSIGNED, Assignment.TOO_LONG)),
    )


def _unique_reads(
    sequences: dict[str, int], store: list[bytes], consume: bool, span: range | None = None
) -> Iterator[tuple[UniqueRead, bytes, int | None]]:
    """Each unique read (those of ``span`` of the indices only, when given), the reads it stands for, its result
    and its reads as collapsed; ``consume``: each result freed from ``store`` once read."""
    items: Iterable[tuple[tuple[str, int], bytes]] = zip(sequences.items(), store)
    start = 0
    if span is not None:
        start = span.start
        items = islice(items, span.start, span.stop)
    for position, ((sequence, count), encoded) in enumerate(items, start):
        if consume:
            store[position] = b""
        yield _new(UniqueRead, (sequence, count)), encoded, count


def _stored_calls(unique: Iterable[tuple[UniqueRead, bytes, int | None]]) -> Iterator[CalledRead]:
    """The ``unique`` reads (:func:`_unique_reads`) with their calls as the tally takes them, each result decoded
    as it comes (the last pass over the results)."""
    for (sequence, count), encoded, _ in unique:
        _, _, aligned, call = cast(PooledCall, decode_result(sequence, encoded))
        if call is not None and count:
            yield _new(CalledRead, (sequence, count, aligned, call))


def _called(listed: list[tuple[str, int, bytes | MaskedResult]]) -> Iterator[CalledRead]:
    """One amplicon's unique reads as the tally reads them, each decoded as it comes and then freed."""
    decoded = ResultDecoder()
    for position, (key, count, kept) in enumerate(listed):
        listed[position] = _FREED
        result = decoded(key, kept)
        yield _new(CalledRead, (key, count, result.alignment, result.call))


def _run_molecules(
    source: ReadSource, designs: Sequence[AmpliconDesign], names: Sequence[str], settings: AnalysisSettings,
    threads: int, umi: UmiSettings, progress: Callable[[int], None] | None, keep_calls: bool,
    keep_alignments: bool = False,
) -> PoolResult:  # fmt: skip
    worker: PoolWorker | None = None

    def pool_worker() -> PoolWorker:
        nonlocal worker
        worker = worker or PoolWorker(designs, settings)
        return worker

    def choose(first: str, second: str) -> MateChoice:
        return MateChoice.of(resolve_unmerged(pool_worker()(first), pool_worker()(second)))

    placed: dict[str, tuple[Assignment, int | None]] = {}
    collectors = [MoleculeCollector(umi) for _ in designs]
    amplicon_reads = [CollapsedReads(paired=source.paired is True) for _ in designs]
    used = [0 for _ in designs]
    fates: Counter[Assignment] = Counter()
    reads_in = 0
    for reads_in, (barcode, sequence, qualities, kind, choice) in enumerate(
        umi_records(source.fragments(), source.path, settings, umi, choose), 1
    ):
        if progress is not None and reads_in % EVERY == 0:
            progress(reads_in)
        if choice is not None:  # an unmerged pair: assigned by both mates, as without UMIs
            status, amplicon = choice.status, choice.amplicon
        elif len(designs) == 1:
            status, amplicon = Assignment.ASSIGNED, 0
        elif sequence in placed:
            status, amplicon = placed[sequence]
        else:
            result = pool_worker()(sequence)
            status, amplicon = placed[sequence] = result.status, result.amplicon
        if amplicon is None:
            fates[status] += 1
            continue
        collectors[amplicon].add(barcode, sequence, qualities)
        used[amplicon] += count_fragment(amplicon_reads[amplicon], kind, choice)
    site = str(source.site) if source.site is not None else None
    samples = []
    for name, design, collector, counted, amplicon_used in zip(names, designs, collectors, amplicon_reads, used):
        molecules = collector.consensus()
        counted.sequences = dict(molecules.sequences)
        _settle_pairing(source, counted)
        sequences = list(molecules.sequences)
        results = align_and_classify(sequences, design, settings, threads)
        per_read = [CalledRead(sequence, molecules.reads_per_sequence[sequence], aligned, call)
                    for sequence, (aligned, call) in zip(sequences, results)]  # fmt: skip
        per_molecule = [called._replace(reads=molecules.sequences[called.key]) for called in per_read]
        aligned = [UniqueAlignment(called.key, called.key, called.reads, called.alignment, called.call,
                                   molecules=molecules.sequences[called.key]) for called in per_read]  # fmt: skip
        samples.append(SampleResult.from_calls(
            name, design, settings, source.inputs, counted, per_read, unmerged_used=amplicon_used,
            molecules=molecules, molecule_calls=per_molecule, site=site, keep_calls=keep_calls,
            alignments=aligned if keep_alignments else None,
        ))  # fmt: skip
    assigned = {design.name: counted.reads_in for design, counted in zip(designs, amplicon_reads)}
    reads = CollapsedReads(reads_in=reads_in, paired=source.paired is True)
    return PoolResult(
        samples,
        reads,
        assigned,
        *(fates[s] for s in (Assignment.AMBIGUOUS, Assignment.UNASSIGNED, Assignment.TOO_LONG)),
    )
