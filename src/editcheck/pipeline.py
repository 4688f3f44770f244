"""One sample end to end: ``quantify``, the library entry point that the CLI and the workflow call.

A composition over the engine (:mod:`editcheck.engine`): the reads' source, one design, one result.  The
names below :func:`quantify` are re-exported from the engine for library users.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from editcheck.design import AmpliconDesign
from editcheck.engine import AnalysisSettings, ReadSink, SampleResult, read_source, run
from editcheck.engine.pairs import MateChoice, choose_mate, resolve_unmerged
from editcheck.engine.workers import AmpliconWorker, UniqueReadAligner, align_and_classify
from editcheck.errors import ParameterError
from editcheck.naming import sample_name_from_path
from editcheck.reads.alignments import GenomeSite
from editcheck.reads.read_length import MAX_READ_LENGTH
from editcheck.reads.segments import SEGMENT_READS
from editcheck.reads.umi import UmiSettings

__all__ = [
    "AmpliconWorker", "AnalysisSettings", "MateChoice", "SampleResult", "UniqueReadAligner", "align_and_classify",
    "choose_mate", "quantify", "resolve_unmerged",
]  # fmt: skip


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
    read_sink: ReadSink | None = None,
    keep_alignments: bool = False,
    max_read_length: int = MAX_READ_LENGTH,
    spill: Path | None = None,
    segment_reads: int = SEGMENT_READS,
) -> SampleResult:
    """Quantify editing in one sample: single-end (``r1``) or paired-end (``r1`` and ``r2``) FASTQ(.gz),
    or, with ``site``, the reads of a genome-aligned BAM/CRAM (``r1``) overlapping that site (its mates
    merged like FASTQ pairs; reads not covering the window counted as ``window_not_covered``).  A pair
    that does not merge is classified from one mate, chosen by :func:`choose_mate` on every route.

    With ``umi``, reads are grouped into molecules by their UMI and each molecule's consensus read is
    analysed; counts are reported per read and per molecule.  Without UMIs, ``read_sink`` is told every
    read's call during the run (``quantify --write-reads``); with ``keep_alignments`` the result keeps every unique
    read's alignment (``quantify --write-bam``).  A read longer than ``max_read_length`` bases is an input error
    (:mod:`editcheck.reads.read_length`).
    """
    if threads < 1:
        raise ParameterError("threads must be at least 1")
    if site is not None and r2 is not None:
        raise ParameterError("BAM/CRAM input takes one file (both mates are read from it)")
    source = read_source(r1, r2, site, reference_fasta, max_read_length)
    name = sample or sample_name_from_path(r1)
    threads = min(threads, os.cpu_count() or 1)
    return run(
        source,
        [design],
        [name],
        settings=settings,
        threads=threads,
        umi=umi,
        progress=progress,
        keep_calls=keep_calls,
        sink=read_sink,
        keep_alignments=keep_alignments,
        spill=spill,
        segment_reads=segment_reads,
    ).samples[0]
