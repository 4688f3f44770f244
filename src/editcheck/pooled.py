"""Pooled amplicons: one FASTQ set holding reads of many amplicons, each read assigned then quantified.

``read_amplicon_sheet`` loads the designs, ``quantify_pool`` assigns every unique read to an amplicon
(k-mer candidates, then alignment; see :mod:`editcheck.alignment.assignment`) and quantifies each
amplicon with the same classifier as a single-amplicon run.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editcheck.alignment.aligner import AlignedRead
from editcheck.alignment.assignment import AMBIGUOUS_AMPLICON, UNASSIGNED, AmpliconIndex, best_amplicon
from editcheck.classification.outcomes import ReadCall
from editcheck.design import AmpliconDesign, build_design
from editcheck.errors import DesignError, InputFormatError, ParameterError
from editcheck.outputs import write_json, write_tsv
from editcheck.pipeline import (
    AmpliconWorker,
    AnalysisSettings,
    SampleResult,
    UniqueReadAligner,
    align_and_classify,
    merged_records,
)
from editcheck.quantification.tally import tally_reads
from editcheck.reads.collapse import CollapsedReads, collapse_paired, collapse_single
from editcheck.reads.fastq import iter_single
from editcheck.reads.umi import MoleculeCollector, UmiExtractor, UmiSettings
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
    return designs


class PoolWorker:
    """Assigns one unique read to an amplicon and classifies it there."""

    def __init__(self, designs: Sequence[AmpliconDesign], settings: AnalysisSettings) -> None:
        self.index = AmpliconIndex(designs)
        self.workers = [AmpliconWorker(design, settings) for design in designs]

    def __call__(self, sequence: str) -> tuple[int, AlignedRead | None, ReadCall | None]:
        results = []
        for amplicon in self.index.candidates(sequence):
            aligned = self.workers[amplicon].aligner.align(sequence)
            if aligned is not None:
                results.append((amplicon, aligned))
        amplicon, aligned = best_amplicon(results)
        if amplicon < 0:
            return amplicon, None, None
        return amplicon, aligned, self.workers[amplicon].classifier.classify(aligned)


@dataclass
class PoolResult:
    """Per-amplicon results of a pooled run and how reads were assigned."""

    samples: list[SampleResult]
    reads: CollapsedReads
    assigned: dict[str, int] = field(default_factory=dict)
    ambiguous: int = 0
    unassigned: int = 0


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
        unmerged = []
        for (first, second), count in sorted(reads.unmerged_pairs.items()):
            # Assigned by R1, or by R2 (stored reverse-complemented) when R1 finds no amplicon.
            result = worker(first)
            unmerged.append((first + "+" + second, count, result if result[0] >= 0 else worker(second)))
    finally:
        if collecting:
            gc.enable()
    per_amplicon: list[list[tuple[str, int, AlignedRead | None, ReadCall]]] = [[] for _ in designs]
    ambiguous = unassigned = 0
    entries = [(sequence, reads.sequences[sequence], result) for sequence, result in zip(reads.sequences, results)]
    for sequence, count, (amplicon, aligned, call) in entries + unmerged:
        if amplicon == AMBIGUOUS_AMPLICON:
            ambiguous += count
        elif amplicon == UNASSIGNED:
            unassigned += count
        else:
            per_amplicon[amplicon].append((sequence, count, aligned, call))
    inputs = (str(r1),) if r2 is None else (str(r1), str(r2))
    name = sample or Path(r1).name.split(".")[0]
    samples = []
    assigned: dict[str, int] = {}
    for design, calls in zip(designs, per_amplicon):
        assigned[design.name] = sum(count for _, count, _, _ in calls)
        amplicon_reads = CollapsedReads(reads_in=assigned[design.name], paired=reads.paired)
        samples.append(SampleResult(f"{name}:{design.name}", design, settings, inputs, amplicon_reads, tally_reads(design, calls)))
    return PoolResult(samples, reads, assigned, ambiguous, unassigned)


def _quantify_pool_molecules(
    r1: str | Path, r2: str | Path | None, designs: Sequence[AmpliconDesign], settings: AnalysisSettings,
    sample: str | None, threads: int, umi: UmiSettings,
) -> PoolResult:  # fmt: skip
    """The UMI route of :func:`quantify_pool` (paired reads are merged, else R1 is used, as in ``quantify``)."""
    records = iter_single(r1) if r2 is None else merged_records(r1, r2, settings)
    extractor = UmiExtractor(umi, r1)
    worker = PoolWorker(designs, settings)
    amplicon_of: dict[str, int] = {}
    collectors = [MoleculeCollector(umi) for _ in designs]
    reads_in = ambiguous = unassigned = 0
    for number, (name, sequence, qualities) in enumerate(records, 1):
        reads_in += 1
        barcode, sequence, qualities = extractor(number, name, sequence, qualities)
        amplicon = amplicon_of.get(sequence)
        if amplicon is None:
            amplicon = amplicon_of[sequence] = worker(sequence)[0]
        if amplicon == AMBIGUOUS_AMPLICON:
            ambiguous += 1
        elif amplicon == UNASSIGNED:
            unassigned += 1
        else:
            collectors[amplicon].add(barcode, sequence, qualities)
    inputs = (str(r1),) if r2 is None else (str(r1), str(r2))
    name = sample or Path(r1).name.split(".")[0]
    samples, assigned = [], {}
    for design, collector in zip(designs, collectors):
        molecules = collector.consensus()
        sequences = list(molecules.sequences)
        results = align_and_classify(sequences, design, settings, threads)
        per_read = [(seq, molecules.reads_per_sequence[seq], aligned, call) for seq, (aligned, call) in zip(sequences, results)]
        per_molecule = [(seq, molecules.sequences[seq], aligned, call) for seq, _, aligned, call in per_read]
        assigned[design.name] = molecules.reads_in_molecules + molecules.reads_dropped
        amplicon_reads = CollapsedReads(sequences=dict(molecules.sequences), reads_in=assigned[design.name], paired=r2 is not None)
        samples.append(SampleResult(f"{name}:{design.name}", design, settings, inputs, amplicon_reads,
                                    tally_reads(design, per_read), molecules=molecules,
                                    molecule_tally=tally_reads(design, per_molecule)))  # fmt: skip
    reads = CollapsedReads(reads_in=reads_in, paired=r2 is not None)
    return PoolResult(samples, reads, assigned, ambiguous, unassigned)


def write_pool_outputs(result: PoolResult, out_dir: str | Path) -> None:
    """One folder of tables per amplicon, plus pool_summary.tsv and assignment.json."""
    from editcheck.report.tables import write_sample_outputs

    out_dir = Path(out_dir)
    rows = []
    for sample in result.samples:
        write_sample_outputs(sample, out_dir / sample.design.name)
        edited = sample.tally.edited
        low, high = edited.interval
        per_molecule = sample.molecule_tally
        molecules = ["", "", ""] if per_molecule is None else [
            per_molecule.classified, per_molecule.edited.reads, per_molecule.edited.percent]  # fmt: skip
        rows.append([sample.design.name, result.assigned[sample.design.name], sample.tally.classified, edited.reads,
                     edited.percent, low, high, *molecules])  # fmt: skip
    write_json(
        out_dir / "assignment.json",
        {
            "reads_in": result.reads.reads_in,
            "unique_sequences": len(result.reads.sequences) + len(result.reads.unmerged_pairs),
            "assigned": result.assigned,
            "ambiguous": result.ambiguous,
            "unassigned": result.unassigned,
            "method": "k-mer candidates (k=12, both strands), then alignment score over the covered span; "
            "ties are ambiguous",
        },
    )
    write_tsv(
        out_dir / "pool_summary.tsv",
        ["amplicon", "reads_assigned", "classified", "edited_reads", "edited_percent", "ci95_low", "ci95_high",
         "molecules_classified", "edited_molecules", "edited_molecules_percent"],  # fmt: skip
        rows,
    )
