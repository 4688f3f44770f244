"""A study VCF: the per-sample ``edits.vcf.gz`` of one design merged into one multi-sample file.

Records are merged as ``bcftools merge -m none`` merges them: one line per (CHROM, POS, REF, ALT), records
differing in REF or ALT kept apart (no multi-allelic lines), one sample column per input sample in the
order given, and a sample without the record written as missing (``.:.:.``). Each sample's own numbers
stay in FORMAT (AO, DP, AF) exactly as in its file. INFO differs from bcftools' (which keeps the first
file's values): the merged line describes the event over the study, so it keeps EVENT (every cut-placed
event behind the record), EVENT_TYPE and WINDOW, gives READS and OUTCOME_READS summed over the samples and
NS (the samples carrying it), and leaves out the one-sample ratios (CLASSIFIED, AF and its interval), which
are in FORMAT per sample.

Only files of one design merge: every input must name the same contig(s) with the same lengths (and, in
genome coordinates, the same amplicon placement; with ``amplicon.fa`` beside both, the same sequence), and
every sample name must be new; otherwise one line names the file and the difference. The output is
bgzipped and tabix-indexed, with ``amplicon.fa`` and its ``.fai`` beside it on the amplicon as contig; the
header has no date or paths (reruns give the same bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pysam

from editcheck import __version__
from editcheck.classification.outcomes import CLASSIFIED
from editcheck.errors import InputFormatError, ParameterError
from editcheck.io.fasta import iter_fasta
from editcheck.outputs import atomic_output
from editcheck.results.vcf import (
    FASTA_NAME,
    FILE_FORMAT,
    FORMAT_FIELDS,
    VCF_COLUMNS,
    VCF_NAME,
    read_vcf_samples,
    write_fasta,
)

FORMAT = ":".join(key for key, *_ in FORMAT_FIELDS)
MISSING = ":".join("." for _ in FORMAT_FIELDS)
MERGED_INFO = (
    ("NS", "1", "Integer", "Samples carrying the event"),
    ("EVENT", ".", "String", "editcheck's cut-placed representation(s) of the event behind this record in any sample, 1-based on the amplicon"),
    ("EVENT_TYPE", "A", "String", "substitution, insertion or deletion"),
    ("READS", "A", "Integer", "Reads carrying the event, summed over the samples (each sample's in FORMAT/AO)"),
    ("OUTCOMES", ".", "String", "Outcome classes of the reads carrying the event, in any sample"),
    ("OUTCOME_READS", ".", "Integer", "Reads carrying the event in each class of OUTCOMES, summed over the samples"),
    ("WINDOW", "0", "Flag", "The event lies in the quantification window (as editcheck counts edits)"),
)  # fmt: skip
_SHARED_META = ("##reference=", "##contig=", "##editcheck_amplicon=")
"""Meta lines that say which design (amplicon, placement) a file belongs to: equal in every input."""
_UNPLACED = "##editcheck_reads_not_placed_on_amplicon"
_READ_INFO = ("EVENT", "EVENT_TYPE", "READS", "OUTCOMES", "OUTCOME_READS")
"""The per-sample INFO fields the merge reads."""


@dataclass
class _Merged:
    """One merged record being built: its samples' FORMAT values and the INFO it sums."""

    kind: str
    events: set[str] = field(default_factory=set)
    reads: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    window: bool = False
    samples: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Input:
    path: Path
    meta: list[str]
    samples: list[str]
    records: list[dict[str, Any]]


def vcf_path(given: str | Path) -> Path:
    """The VCF of an input: the file itself, or a result folder's ``edits.vcf.gz``."""
    path = Path(given)
    if path.is_dir():
        path = path / VCF_NAME
        if not path.is_file():
            raise InputFormatError(path.parent, f"no {VCF_NAME} in this folder (quantify with --write-vcf)")
    return path


def _read(path: Path) -> _Input:
    meta, samples, records = read_vcf_samples(path)
    if not samples:
        raise InputFormatError(path, "no sample column (not a per-sample editcheck VCF)")
    for record in records:
        where = f"{record['#CHROM']}:{record['POS']}"
        if record["FORMAT"] != FORMAT:
            raise InputFormatError(path, f"{where}: FORMAT {record['FORMAT']!r}, not editcheck's {FORMAT!r}")
        missing = [key for key in _READ_INFO if key not in record["info"]]
        if missing or not record["POS"].isdigit() or not str(record["info"]["READS"]).isdigit():
            raise InputFormatError(path, f"{where}: not an editcheck record (INFO {', '.join(missing) or 'READS'})")
    return _Input(path, meta, samples, records)


def _design_lines(source: _Input) -> list[str]:
    return [line for line in source.meta if line.startswith(_SHARED_META)]


def _amplicon(path: Path) -> str | None:
    fasta = path.parent / FASTA_NAME
    if not fasta.is_file():
        return None
    return next((sequence for _, sequence in iter_fasta(fasta)), None)


def _check_same_design(inputs: Sequence[_Input]) -> str | None:
    """Every input names the first one's contigs and placement; returns the shared amplicon sequence (when an
    amplicon.fa lies beside the inputs)."""
    first = inputs[0]
    expected = _design_lines(first)
    if not any(line.startswith("##contig=") for line in expected):
        raise InputFormatError(first.path, "no ##contig line (not an editcheck VCF?)")
    sequence = _amplicon(first.path)
    seen: dict[str, Path] = {}
    for source in inputs:
        lines = _design_lines(source)
        if lines != expected:
            differing = sorted(set(lines) ^ set(expected))
            raise ParameterError(f"{source.path}: {differing[0]} differs from {first.path}: VCFs of different designs "
                                 "(contigs, amplicons) cannot be merged into one file")  # fmt: skip
        other = _amplicon(source.path)
        if sequence is not None and other is not None and other != sequence:
            raise ParameterError(f"{source.path}: its {FASTA_NAME} differs from {first.path}'s: VCFs of different "
                                 "designs cannot be merged into one file")  # fmt: skip
        sequence = sequence or other
        for sample in source.samples:
            if sample in seen:
                raise ParameterError(
                    f"{source.path}: sample {sample!r} is also in {seen[sample]}: give each sample once"
                )
            seen[sample] = source.path
    return sequence


def _merge_records(inputs: Sequence[_Input]) -> dict[tuple[int, str, str, str], _Merged]:
    merged: dict[tuple[int, str, str, str], _Merged] = {}
    for source in inputs:
        for record in source.records:
            key = (int(record["POS"]), record["REF"], record["ALT"], record["#CHROM"])
            info = record["info"]
            entry = merged.setdefault(key, _Merged(info["EVENT_TYPE"]))
            entry.events.update(info["EVENT"].split(","))
            entry.reads += int(info["READS"])
            for name, reads in zip(info["OUTCOMES"].split(","), info["OUTCOME_READS"].split(",")):
                entry.outcomes[name] = entry.outcomes.get(name, 0) + int(reads)
            entry.window = entry.window or info.get("WINDOW") is True
            columns = record["sample_columns"]
            for sample, value in zip(source.samples, columns):
                if value != MISSING:
                    entry.samples[sample] = value
    return merged


def _line(key: tuple[int, str, str, str], entry: _Merged, samples: Sequence[str]) -> str:
    position, ref, alt, contig = key
    order = {name: index for index, name in enumerate(CLASSIFIED)}  # as the per-sample writer orders them
    outcomes = sorted(entry.outcomes.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    info = [f"NS={len(entry.samples)}", f"EVENT={','.join(sorted(entry.events))}", f"EVENT_TYPE={entry.kind}",
            f"READS={entry.reads}", f"OUTCOMES={','.join(name for name, _ in outcomes)}",
            f"OUTCOME_READS={','.join(str(reads) for _, reads in outcomes)}"]  # fmt: skip
    if entry.window:
        info.append("WINDOW")
    values = [entry.samples.get(sample, MISSING) for sample in samples]
    return "\t".join([contig, str(position), ".", ref, alt, ".", "PASS", ";".join(info), FORMAT, *values])


def merge_vcfs(given: Sequence[str | Path], folder: Path) -> list[str]:
    """Merge the per-sample VCFs (files or result folders) of one design into ``folder``'s edits.vcf.gz (+ .tbi,
    and amplicon.fa + .fai when the inputs are on the amplicon); returns the file names written."""
    if not given:
        raise ParameterError("merge-vcf: give at least one VCF (or result folder) to merge")
    inputs = [_read(vcf_path(path)) for path in given]
    sequence = _check_same_design(inputs)
    samples = [sample for source in inputs for sample in source.samples]
    contigs = [
        line.split("ID=", 1)[1].split(",", 1)[0] for line in _design_lines(inputs[0]) if line.startswith("##contig=")
    ]
    merged = _merge_records(inputs)
    keys = sorted(merged, key=lambda key: (contigs.index(key[3]) if key[3] in contigs else len(contigs), key))
    header = [f"##fileformat={FILE_FORMAT}", f"##source=editcheck {__version__}", *_design_lines(inputs[0])]
    header += [
        f'##INFO=<ID={key},Number={number},Type={kind},Description="{text}">' for key, number, kind, text in MERGED_INFO
    ]
    header += [
        f'##FORMAT=<ID={key},Number={number},Type={kind},Description="{text}">'
        for key, number, kind, text in FORMAT_FIELDS
    ]
    for source in inputs:
        header += [_unplaced_line(line, source) for line in source.meta if line.startswith(_UNPLACED)]
    header.append("\t".join([*VCF_COLUMNS, *samples]))
    plain = folder / VCF_NAME.removesuffix(".gz")
    with atomic_output(plain) as handle:
        handle.writelines(line + "\n" for line in header)
        handle.writelines(_line(key, merged[key], samples) + "\n" for key in keys)
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    names = [VCF_NAME, VCF_NAME + ".tbi"]
    on_amplicon = any(line.startswith("##reference=") for line in _design_lines(inputs[0]))
    if on_amplicon and sequence is not None and len(contigs) == 1:
        names += write_fasta(folder, contigs[0], sequence)
    return names


def _unplaced_line(line: str, source: _Input) -> str:
    """A sample's count of reads not placed on the amplicon, named by its sample."""
    reads = line.split("=", 1)[1]
    if reads.startswith("<"):
        return line
    return f"{_UNPLACED}=<Sample={source.samples[0]},Reads={reads}>"


__all__ = ["MERGED_INFO", "merge_vcfs", "vcf_path"]
