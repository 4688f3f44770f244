"""Pooled amplicons: one FASTQ set holding reads of many amplicons, each read assigned then quantified.

``read_amplicon_sheet`` loads the designs, ``quantify_pool`` assigns every unique read to an amplicon
(k-mer candidates, then alignment; see :mod:`editcheck.alignment.assignment`) and quantifies each
amplicon with the same classifier as a single-amplicon run; :mod:`editcheck.results.pool` writes and reads
its result folder.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from editcheck.alignment.aligner import AlignedRead
from editcheck.alignment.assignment import AmpliconIndex, Assignment, best_amplicon
from editcheck.classification.called import CalledRead, Classified
from editcheck.classification.outcomes import CLASSIFIED, NOT_ALIGNED, ReadCall
from editcheck.design import AmpliconDesign, build_design
from editcheck.errors import DesignError, InputFormatError, ParameterError
from editcheck.folders import safe_names
from editcheck.naming import sample_name_from_path
from editcheck.pipeline import (
    AmpliconWorker,
    AnalysisSettings,
    MateChoice,
    SampleResult,
    UniqueReadAligner,
    align_and_classify,
    choose_mate,
    count_fragment,
    umi_records,
    unmerged_used,
)
from editcheck.quantification.tally import tally_reads
from editcheck.reads.collapse import CollapsedReads, collapse_paired, collapse_single
from editcheck.reads.fastq import iter_paired, iter_single
from editcheck.reads.records import Fragment, pair_key
from editcheck.reads.umi import MoleculeCollector, UmiSettings
from editcheck.sequences import reverse_complement
from editcheck.sheets import read_sheet

SHEET_COLUMNS = ("name", "amplicon", "guide", "donor", "expected_hdr_amplicon", "base_editor", "target_position", "window")
REQUIRED_COLUMNS = ("name", "amplicon")


def read_amplicon_sheet(path: str | Path, **design_options: Any) -> list[AmpliconDesign]:
    """Designs from a tab-separated sheet: name, amplicon, and optionally guide (several separated by
    ','), donor, expected_hdr_amplicon, base_editor, target_position (1-based), window."""
    path = Path(path)
    rows = read_sheet(path, SHEET_COLUMNS, REQUIRED_COLUMNS, "amplicons")
    designs: list[AmpliconDesign] = []
    names: set[str] = set()
    for number, values in enumerate(rows, 1):
        name = values["name"]
        if not name or name in names:
            raise InputFormatError(path, f"amplicon name {name!r} is empty or repeated", number)
        names.add(name)
        guides = [guide for guide in values.get("guide", "").replace(";", ",").split(",") if guide]
        target = values.get("target_position") or None
        try:
            designs.append(
                build_design(
                    values["amplicon"], guides, name=name, window=values.get("window") or None,
                    donor=values.get("donor") or None,
                    expected_hdr_amplicon=values.get("expected_hdr_amplicon") or None,
                    base_editor=values.get("base_editor") or None, target=int(target) if target else None,
                    **design_options,
                )  # fmt: skip
            )
        except (DesignError, ValueError) as error:
            raise InputFormatError(path, f"amplicon {name}: {error}", number) from None
    safe_names([design.name for design in designs], "amplicon", path)
    check_distinct_amplicons(designs, [design.name for design in designs], path, "amplicon")
    return designs


def check_distinct_amplicons(designs: Sequence[AmpliconDesign], names: Sequence[str], path: Path, what: str) -> None:
    """Two rows with the same amplicon (on either strand) would leave every read of it ambiguous."""

    seen: dict[str, tuple[int, str]] = {}
    for number, (design, name) in enumerate(zip(designs, names), 1):
        sequence = design.amplicon.sequence.upper()
        for key in (sequence, reverse_complement(sequence)):
            if key in seen:
                first_number, first_name = seen[key]
                raise InputFormatError(
                    path, f"{what}s {first_name!r} (row {first_number}) and {name!r} have the same amplicon: "
                    "reads could not be assigned to either; give each amplicon once", number,
                )  # fmt: skip
        seen[sequence] = (number, name)


class PooledCall(NamedTuple):
    """A read of a pooled run: its assignment, and when assigned its amplicon (index into the designs),
    alignment and call there."""

    status: Assignment
    amplicon: int | None = None
    alignment: AlignedRead | None = None
    call: ReadCall | None = None


class PoolWorker:
    """Assigns one unique read to an amplicon and classifies it there.

    In a pool of one amplicon every read belongs to it: a read that does not align, or is too long, gets
    the call ``quantify`` gives it (``not_aligned``, ``too_long``) in that amplicon's tables."""

    def __init__(self, designs: Sequence[AmpliconDesign], settings: AnalysisSettings) -> None:
        self.index = AmpliconIndex(designs)
        self.workers = [AmpliconWorker(design, settings) for design in designs]

    def __call__(self, sequence: str) -> PooledCall:
        if len(self.workers) == 1:
            aligned, call = self.workers[0](sequence)
            return PooledCall(Assignment.ASSIGNED, 0, aligned, call)
        results = []
        candidates = self.index.candidates(sequence)
        if candidates and self.workers[candidates[0]].aligner.too_long(sequence):
            return PooledCall(Assignment.TOO_LONG)
        for candidate in candidates:
            aligned = self.workers[candidate].aligner.align(sequence)
            if aligned is not None:
                results.append((candidate, aligned))
        status, amplicon, aligned = best_amplicon(results)
        if amplicon is None:
            return PooledCall(status)
        aligned, call = self.workers[amplicon].classify_aligned(sequence, aligned)
        return PooledCall(status, amplicon, aligned, call)


@dataclass
class PoolResult:
    """Per-amplicon results of a pooled run and how reads were assigned."""

    samples: list[SampleResult]
    reads: CollapsedReads
    assigned: dict[str, int] = field(default_factory=dict)
    ambiguous: int = 0
    unassigned: int = 0
    too_long: int = 0
    """Reads longer than the maximum read length of their best candidate amplicon (not aligned)."""


def quantify_pool(
    r1: str | Path,
    r2: str | Path | None,
    designs: Sequence[AmpliconDesign],
    *,
    settings: AnalysisSettings = AnalysisSettings(),
    sample: str | None = None,
    threads: int = 1,
    umi: UmiSettings | None = None,
) -> PoolResult:
    """Assign and quantify the reads of a pooled run (single-end or paired-end FASTQ).

    With ``umi``, every read is assigned to its amplicon first, reads are then grouped by (amplicon, UMI)
    into molecules (a UMI shared by chance by two amplicons is two molecules), and each amplicon is
    quantified per read and per molecule, as ``quantify`` does for one amplicon."""
    if not designs:
        raise ParameterError("a pooled run needs at least one amplicon")
    threads = max(1, min(threads, os.cpu_count() or 1))
    if umi is not None:
        return _quantify_pool_molecules(r1, r2, designs, settings, sample, threads, umi)
    collecting = gc.isenabled()
    gc.disable()
    try:
        with UniqueReadAligner(designs[0], settings, threads, PoolWorker, (designs, settings)) as aligner:
            if r2 is None:
                reads = collapse_single(r1, settings.quality, on_new=aligner.add)
            else:
                reads = collapse_paired(r1, r2, settings.merge, settings.quality, on_new=aligner.add)
            results = aligner.results()
        worker = PoolWorker(designs, settings)
        pairs = sorted(reads.unmerged_pairs.items())
        unmerged = [(pair_key(first, second), count, assign_pair(worker(first), worker(second)))
                    for (first, second), count in pairs]  # fmt: skip
    finally:
        if collecting:
            gc.enable()
    per_amplicon: list[list[CalledRead]] = [[] for _ in designs]
    per_amplicon_reads = [CollapsedReads(paired=reads.paired) for _ in designs]
    ambiguous = unassigned = too_long = 0
    entries = [(sequence, reads.sequences[sequence], result) for sequence, result in zip(reads.sequences, results)]
    for number, (sequence, count, (status, amplicon, aligned, call)) in enumerate(entries + unmerged):
        if status is Assignment.AMBIGUOUS:
            ambiguous += count
        elif status is Assignment.UNASSIGNED:
            unassigned += count
        elif status is Assignment.TOO_LONG:
            too_long += count
        else:
            assert amplicon is not None and call is not None
            per_amplicon[amplicon].append(CalledRead(sequence, count, aligned, call))
            amplicon_reads = per_amplicon_reads[amplicon]
            amplicon_reads.reads_in += count
            if number < len(entries):
                amplicon_reads.sequences[sequence] = count
                amplicon_reads.merged += count if reads.paired else 0
            else:
                amplicon_reads.unmerged_pairs[pairs[number - len(entries)][0]] = count
                amplicon_reads.unmerged += count
    if len(designs) == 1:  # every read belongs to the one amplicon, those filtered out by quality too
        per_amplicon_reads[0].quality_filtered = reads.quality_filtered
        per_amplicon_reads[0].reads_in += reads.quality_filtered
    inputs = (str(r1),) if r2 is None else (str(r1), str(r2))
    name = sample or sample_name_from_path(r1)
    samples = []
    assigned: dict[str, int] = {}
    for design, calls, amplicon_reads in zip(designs, per_amplicon, per_amplicon_reads):
        assigned[design.name] = amplicon_reads.reads_in
        pair_calls = calls[len(amplicon_reads.sequences) :]  # merged reads first, then unmerged pairs
        samples.append(SampleResult(f"{name}:{design.name}", design, settings, inputs, amplicon_reads,
                                    tally_reads(design, calls), unmerged_used=unmerged_used(pair_calls)))  # fmt: skip
    return PoolResult(samples, reads, assigned, ambiguous, unassigned, too_long)


def assign_pair(first: PooledCall, second: PooledCall) -> PooledCall:
    """The assignment, alignment and call of an unmerged pair from its mates' (R1, R2 reverse-complemented);
    see :func:`pair_assignment`."""
    status, amplicon, _, (aligned, call) = pair_assignment(first, second)
    return PooledCall(status, amplicon, aligned, call) if amplicon is not None else PooledCall(status)


def pair_assignment(first: PooledCall, second: PooledCall) -> tuple[Assignment, int | None, int, Classified]:
    """(assignment, amplicon when assigned, the mate that speaks (0 = R1), its alignment and call) for an
    unmerged pair.

    A mate that found no amplicon, or could not tell amplicons apart, leaves the pair to the other mate;
    mates assigned to different amplicons make the pair ambiguous.  Within its amplicon the pair is
    classified from the mate :func:`editcheck.pipeline.choose_mate` picks, as in ``quantify``.
    """
    amplicons = {result.amplicon for result in (first, second) if result.amplicon is not None}
    amplicon: int | None = None
    if len(amplicons) > 1:
        status = Assignment.AMBIGUOUS
    elif amplicons:
        status, amplicon = Assignment.ASSIGNED, amplicons.pop()
    else:
        statuses = (first.status, second.status)
        status = next((s for s in (Assignment.AMBIGUOUS, Assignment.TOO_LONG) if s in statuses), Assignment.UNASSIGNED)
    mates = [
        Classified(mate.alignment, mate.call)
        if mate.amplicon == amplicon is not None and mate.call is not None else Classified(None, ReadCall(NOT_ALIGNED))
        for mate in (first, second)
    ]  # fmt: skip
    mate = choose_mate(mates)
    return status, amplicon, mate, mates[mate]


def _quantify_pool_molecules(
    r1: str | Path, r2: str | Path | None, designs: Sequence[AmpliconDesign], settings: AnalysisSettings,
    sample: str | None, threads: int, umi: UmiSettings,
) -> PoolResult:  # fmt: skip
    """The UMI route of :func:`quantify_pool`: pairs merged when they overlap, else assigned by both mates
    (:func:`assign_pair`) and read from the mate the one rule (:func:`editcheck.pipeline.choose_mate`) picks;
    merged, unmerged and unmerged-used pairs are counted per amplicon, as without UMIs."""
    worker = PoolWorker(designs, settings)
    fragments: Iterable[Fragment] = iter_single(r1) if r2 is None else iter_paired(r1, r2)
    records = umi_records(fragments, r1, settings, umi, _pool_mate_chooser(worker))
    amplicon_of: dict[str, tuple[Assignment, int | None]] = {}
    collectors = [MoleculeCollector(umi) for _ in designs]
    per_amplicon_reads = [CollapsedReads(paired=r2 is not None) for _ in designs]
    used = [0 for _ in designs]
    reads_in = ambiguous = unassigned = too_long = 0
    for barcode, sequence, qualities, kind, choice in records:
        reads_in += 1
        if choice is not None:  # an unmerged pair: assigned by both mates, as without UMIs
            status, amplicon = choice.status, choice.amplicon
        elif sequence in amplicon_of:
            status, amplicon = amplicon_of[sequence]
        else:
            assigned_read = worker(sequence)
            status, amplicon = amplicon_of[sequence] = assigned_read.status, assigned_read.amplicon
        if status is Assignment.AMBIGUOUS:
            ambiguous += 1
        elif status is Assignment.UNASSIGNED:
            unassigned += 1
        elif status is Assignment.TOO_LONG:
            too_long += 1
        else:
            assert amplicon is not None
            collectors[amplicon].add(barcode, sequence, qualities)
            used[amplicon] += count_fragment(per_amplicon_reads[amplicon], kind, choice)
    inputs = (str(r1),) if r2 is None else (str(r1), str(r2))
    name = sample or sample_name_from_path(r1)
    samples, assigned = [], {}
    for design, collector, amplicon_reads, amplicon_used in zip(designs, collectors, per_amplicon_reads, used):
        molecules = collector.consensus()
        sequences = list(molecules.sequences)
        results = align_and_classify(sequences, design, settings, threads)
        per_read = [CalledRead(seq, molecules.reads_per_sequence[seq], aligned, call) for seq, (aligned, call) in zip(sequences, results)]
        per_molecule = [called._replace(reads=molecules.sequences[called.key]) for called in per_read]
        assigned[design.name] = amplicon_reads.reads_in
        amplicon_reads.sequences = dict(molecules.sequences)
        amplicon_reads.lone_mates = 0  # FASTQ input: every R1 has its R2
        samples.append(SampleResult(f"{name}:{design.name}", design, settings, inputs, amplicon_reads,
                                    tally_reads(design, per_read), unmerged_used=amplicon_used, molecules=molecules,
                                    molecule_tally=tally_reads(design, per_molecule)))  # fmt: skip
    reads = CollapsedReads(reads_in=reads_in, paired=r2 is not None)
    return PoolResult(samples, reads, assigned, ambiguous, unassigned, too_long)


def _pool_mate_chooser(worker: PoolWorker) -> Callable[[str, str], MateChoice]:
    """``choose(R1, R2 reverse-complemented)`` -> the pair's amplicon (:func:`assign_pair`: mates assigned to
    different amplicons make it ambiguous) and the mate :func:`choose_mate` picks there (:func:`pair_assignment`,
    as without UMIs)."""

    def choose(first: str, second: str) -> MateChoice:
        status, amplicon, mate, (_, call) = pair_assignment(worker(first), worker(second))
        return MateChoice(mate, call.outcome in CLASSIFIED, status, amplicon)

    return choose
