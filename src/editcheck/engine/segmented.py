"""A run in bounded memory: a very large FASTQ input (single-end, or R1 and R2) analysed one segment at a time.

The engine keeps every unique sequence of its input (:mod:`editcheck.engine.run`), so its memory grows with them.
An input estimated to hold more than :data:`SEGMENTED_ABOVE` times ``segment_reads`` records is instead cut into
segments of ``segment_reads`` records (:func:`~editcheck.reads.segments.fastq_segments`), and each segment is run
through the same engine in turn.  A read's call depends on its own sequence and qualities only, so the whole
input's counts are the sums of the segments'; what is kept per unique sequence is merged on disk, in bounded
memory, in the run's spill folder:

* each amplicon's tally (:class:`~editcheck.quantification.tally_merge.TallyAccumulator`): counters and position
  profiles summed, alleles spilled per segment and merged by key, then sorted by reads as one run sorts them
  (the result's allele table is read from the spill folder: keep it until the result is written);
* the unique sequences of the input and of each amplicon, counted by 128-bit digests
  (:class:`~editcheck.reads.distinct.DistinctCounter`), so a sequence seen in several segments counts once.

Each segment is run and folded in a child process of its own (:func:`_in_child`, :class:`~editcheck.engine.forked.ForkedCall`), so that all of its memory
goes back to the system when it ends; this process keeps only what is merged.  Memory is that of a run of one
segment, plus the merge's fixed buffers.  The results are those of one unsegmented run, byte for byte: a read
pair's merged read too depends on that pair alone (where its mates disagree, its own qualities choose,
:func:`~editcheck.reads.merge.mate_choices`); an unmerged pair is counted once over all segments like a unique
read.  A problem in the input is reported as the whole file's reader reports it: the input is read again by the
reference reader up to its first problem (:func:`_first_problem`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import NoReturn, TypeGuard, TypeVar, cast

from editcheck.design import AmpliconDesign
from editcheck.engine.forked import ForkedCall
from editcheck.engine.result import PoolResult, SampleResult
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.sources import FastqPaired, FastqSingle, ReadSource
from editcheck.errors import InputFormatError, ParameterError
from editcheck.quantification.tally_merge import TallyAccumulator
from editcheck.reads.collapse import CollapsedReads
from editcheck.reads.distinct import DistinctCounter
from editcheck.reads.records import pair_key
from editcheck.reads.segments import SEGMENT_READS, estimated_records, fastq_segments

__all__ = ["SEGMENTED_ABOVE", "SegmentRun", "run_segmented", "segmented"]

SEGMENTED_ABOVE = 1.5
"""An input is segmented when it holds (by estimate) more than this many segments' reads: an input of a little
more than one segment is run whole."""

SegmentRun = Callable[[ReadSource, Callable[[int], None] | None], PoolResult]
"""The engine's run of one segment's source, telling its progress (reads of the segment) to the callable."""

_Result = TypeVar("_Result")

_SUMMED = tuple(field.name for field in fields(CollapsedReads) if field.type in ("int", int))
"""The read counts of :class:`~editcheck.reads.collapse.CollapsedReads`, summed over segments."""


def segmented(source: ReadSource, segment_reads: int = SEGMENT_READS) -> TypeGuard[FastqSingle | FastqPaired]:
    """Whether ``source`` is FASTQ (single-end, or read pairs in two files) large enough to be run a segment at a
    time."""
    if isinstance(segment_reads, bool) or not isinstance(segment_reads, int) or segment_reads < 1:
        raise ParameterError(f"a segment holds a positive whole number of reads, not {segment_reads!r}")
    if not isinstance(source, FastqSingle | FastqPaired):
        return False
    return estimated_records(source.path) > SEGMENTED_ABOVE * segment_reads


def run_segmented(
    source: FastqSingle | FastqPaired, designs: Sequence[AmpliconDesign], names: Sequence[str],
    settings: AnalysisSettings, run_segment: SegmentRun, progress: Callable[[int], None] | None, spill: Path,
    segment_reads: int = SEGMENT_READS,
) -> PoolResult:  # fmt: skip
    """The result of ``source`` run a segment of ``segment_reads`` records at a time by ``run_segment``; what is
    merged on disk goes to a new folder inside ``spill`` (the result's allele tables are read from it)."""
    spill.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="segmented-", dir=spill))
    try:
        return _merged_run(source, designs, names, settings, run_segment, progress, work, segment_reads)
    except InputFormatError as error:
        shutil.rmtree(work, ignore_errors=True)
        _first_problem(source, error)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work / "reads", ignore_errors=True)


@dataclass
class _Merged:
    """What a run in segments has gathered so far: each segment is folded into it (in a child process)."""

    reads: CollapsedReads
    amplicon_reads: list[CollapsedReads]
    """One per design; with one design, ``[reads]`` itself."""
    tallies: list[TallyAccumulator]
    unique: DistinctCounter
    amplicon_unique: list[DistinctCounter]
    unmerged_used: list[int]
    assigned: dict[str, int]
    fates: list[int]
    """Reads ambiguous, unassigned and too long."""


def _merged_run(
    source: FastqSingle | FastqPaired, designs: Sequence[AmpliconDesign], names: Sequence[str],
    settings: AnalysisSettings, run_segment: SegmentRun, progress: Callable[[int], None] | None, work: Path,
    segment_reads: int,
) -> PoolResult:  # fmt: skip
    pooled = len(designs) > 1
    paired = isinstance(source, FastqPaired)
    reads = CollapsedReads(paired=paired)
    merged = _Merged(
        reads,
        [CollapsedReads(paired=paired) for _ in designs] if pooled else [reads],
        [TallyAccumulator(design, work / f"alleles-{index}") for index, design in enumerate(designs)],
        DistinctCounter(work / "unique"),
        [DistinctCounter(work / f"unique-{index}") for index in range(len(designs))] if pooled else [],
        [0 for _ in designs],
        {design.name: 0 for design in designs},
        [0, 0, 0],
    )
    r2 = source.r2 if isinstance(source, FastqPaired) else None
    for segment in fastq_segments(source.path, work / "reads", segment_reads, r2):
        part_source = replace(source, path=segment.path)  # the source's settings, on the segment's file(s)
        if isinstance(part_source, FastqPaired):
            part_source = replace(part_source, r2=cast(Path, segment.r2))
        merged = _in_child(_fold, _shifted(progress, segment.first_record), merged, part_source, run_segment)
    merged.reads.distinct = merged.unique.count()
    for counted, counter in zip(merged.amplicon_reads, merged.amplicon_unique):
        counted.distinct = counter.count()
    site = str(source.site) if source.site is not None else None  # a FASTQ source's genome site, if told
    samples = [
        SampleResult(name, design, settings, source.inputs, counted, tally.result(), used, site=site)
        for name, design, counted, tally, used in zip(
            names, designs, merged.amplicon_reads, merged.tallies, merged.unmerged_used
        )
    ]
    return PoolResult(samples, merged.reads, merged.assigned, *merged.fates)


def _fold(
    merged: _Merged,
    part_source: FastqSingle | FastqPaired,
    run_segment: SegmentRun,
    progress: Callable[[int], None] | None,
) -> _Merged:
    """``merged`` with one more segment run and folded in (its alleles and unique sequences written to disk)."""
    part = run_segment(part_source, progress)
    _add_counts(merged.reads, part.reads)
    merged.unique.add(_unique_keys(part.reads))
    for index, sample in enumerate(part.samples):
        merged.tallies[index].add(sample.tally)
        merged.unmerged_used[index] += sample.unmerged_used
        if merged.amplicon_unique:
            _add_counts(merged.amplicon_reads[index], sample.reads)
            merged.amplicon_unique[index].add(_unique_keys(sample.reads))
    for name, count in part.assigned.items():
        merged.assigned[name] += count
    for position, count in enumerate((part.ambiguous, part.unassigned, part.too_long)):
        merged.fates[position] += count
    return merged


def _in_child(function: Callable[..., _Result], progress: Callable[[int], None] | None, *arguments: object) -> _Result:
    """``function(*arguments, tell)`` run in a forked process of its own, whose memory all goes back to the system
    when it ends (in this process, a segment's freed memory stayed: a run in 10M-read segments peaked at 1.46 GB, a
    fresh 10M-read run at 0.93 GB); ``tell(reads)`` reaches ``progress`` here.  Its result (pickled back), or what
    it raised."""
    with ForkedCall(function, *arguments, on_told=progress, task="the analysis of a segment") as child:
        return child.result()


def _shifted(progress: Callable[[int], None] | None, before: int) -> Callable[[int], None] | None:
    """``progress`` told the reads of the whole input, for a segment that starts after ``before`` of them."""
    if progress is None:
        return None
    tell = progress
    return lambda reads: tell(before + reads)


def _unique_keys(reads: CollapsedReads) -> Iterator[str]:
    """A segment's unique reads and unmerged pairs (:func:`~editcheck.reads.records.pair_key`), counted alike."""
    yield from reads.sequences
    for first, second in reads.unmerged_pairs:
        yield pair_key(first, second)


def _add_counts(total: CollapsedReads, part: CollapsedReads) -> None:
    for name in _SUMMED:
        setattr(total, name, getattr(total, name) + getattr(part, name))


def _first_problem(source: FastqSingle | FastqPaired, found: InputFormatError) -> NoReturn:
    """Raise the input's first problem as the whole file's reader names it (file, record and problem): a
    segment's reader named its own file, and records from the segment's start.  ``found`` when the reader finds
    none (the problem lay in the cutting: a file that cannot be decompressed)."""
    for _ in source.fragments():
        pass
    raise found
