"""Edits as VCF: writer and reader of ``edits.vcf.gz`` (bgzipped, tabix-indexed VCFv4.2) in a sample folder.

Every event (substitution, insertion, deletion) of the classified reads (those covering the window, the
denominator of every percentage) seen in at least ``min_reads`` reads becomes one record, its reads summed
over the alleles carrying it. Alleles placed on an outcome reference (HDR, prime edit) are re-aligned to
the amplicon first, so every record is a change from the amplicon (an HDR read shows the donor's changes).

Coordinates: on the amplicon as its own contig (``amplicon.fa`` and ``amplicon.fa.fai`` are written
beside the VCF, so ``bcftools norm -f amplicon.fa`` checks it), or for genome-aligned input (``--bam``
with ``--site``) on the genome: the site's contig, the amplicon's first base at the site's start.

REF/ALT are left-normalised as bcftools expects: an indel in a repeat is shifted to its leftmost
equivalent position on the amplicon and written with the base before it (the base after it when it
starts at the amplicon's first base). editcheck's own, cut-placed representation of the event (the
``events`` notation of alleles.tsv, 1-based on the amplicon, e.g. ``92_94del``) is kept in INFO/EVENT. On the genome the shift stops at the amplicon's first base (the bases
before it are not known here): ``bcftools norm -f genome.fa`` may move such a rare indel further left.

The header has no date (reruns give the same bytes) and the editcheck version in ``##source``.
Per-sample files of one design merge into a study VCF (:mod:`editcheck.results.vcf_merge`, ``editcheck
merge-vcf``; ``bcftools merge -m none`` gives the same records and FORMAT columns).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysam

from editcheck import __version__
from editcheck.classification.outcomes import CLASSIFIED, describe_events
from editcheck.errors import InputFormatError, ParameterError
from editcheck.folders import safe_name
from editcheck.outputs import atomic_output, format_value
from editcheck.pipeline import SampleResult
from editcheck.quantification.tally import Allele
from editcheck.statistics.intervals import wilson_interval

VCF_NAME = "edits.vcf.gz"
FASTA_NAME = "amplicon.fa"
FILE_FORMAT = "VCFv4.2"
VCF_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT")
INFO_FIELDS = (
    ("EVENT", ".", "String", "editcheck's cut-placed representation of the event(s) behind this record, 1-based on the amplicon (the events notation of alleles.tsv)"),
    ("EVENT_TYPE", "A", "String", "substitution, insertion or deletion"),
    ("READS", "A", "Integer", "Reads carrying the event among the reads classified (summed over the alleles carrying it)"),
    ("CLASSIFIED", "1", "Integer", "Reads classified (covering the quantification window): the denominator of AF"),
    ("AF", "A", "Float", "Allele fraction: READS / CLASSIFIED"),
    ("AF_CI95_LOW", "A", "Float", "Lower bound of the Wilson 95% interval of AF (read sampling only)"),
    ("AF_CI95_HIGH", "A", "Float", "Upper bound of the Wilson 95% interval of AF (read sampling only)"),
    ("OUTCOMES", ".", "String", "Outcome classes of the reads carrying the event"),
    ("OUTCOME_READS", ".", "Integer", "Reads carrying the event in each class of OUTCOMES"),
    ("WINDOW", "0", "Flag", "The event lies in the quantification window (as editcheck counts edits)"),
)  # fmt: skip
FORMAT_FIELDS = (
    ("AO", "A", "Integer", "Reads carrying the event (INFO/READS of this sample)"),
    ("DP", "1", "Integer", "Reads classified (INFO/CLASSIFIED of this sample)"),
    ("AF", "A", "Float", "Allele fraction (INFO/AF of this sample)"),
)
_CONTIG = re.compile(r"[0-9A-Za-z!#$%&+./:;?@^_|~-][0-9A-Za-z!#$%&*+./:;=?@^_|~-]*")
_EVENT = re.compile(
    r"(?P<start>\d+)(?:_(?P<end>\d+))?del|(?P<after>\d+)_\d+ins(?P<bases>[ACGTN]+)|(?P<at>\d+)(?P<ref>[ACGTN])>(?P<alt>[ACGTN])"
)


@dataclass(frozen=True)
class GenomePlacement:
    """Where the amplicon lies on the genome (genome-aligned input): contig, 0-based start, the contig's
    length, and the genome's sequence there when known (checked against the amplicon)."""

    contig: str
    start: int
    contig_length: int
    sequence: str | None = None


@dataclass(frozen=True)
class VcfRecord:
    """One VCF record: 1-based ``position`` on ``contig`` with left-normalised ``ref``/``alt``."""

    contig: str
    position: int
    ref: str
    alt: str
    kind: str
    events: tuple[str, ...]
    reads: int
    outcomes: tuple[tuple[str, int], ...]
    in_window: bool


@dataclass(frozen=True)
class _Event:
    """One event on the amplicon, 0-based: a substitution at ``start``, a deletion of ``length`` bases
    from ``start``, or ``bases`` inserted before ``start``."""

    kind: str
    start: int
    length: int = 0
    bases: str = ""


def parse_event(label: str) -> _Event:
    """One event of the ``events`` notation (:func:`editcheck.classification.outcomes.describe_events`)."""
    match = _EVENT.fullmatch(label)
    if match is None:
        raise ValueError(f"not an editcheck event: {label!r}")
    if match["start"] is not None:
        start = int(match["start"]) - 1
        end = int(match["end"]) if match["end"] is not None else start + 1
        return _Event("deletion", start, end - start)
    if match["after"] is not None:
        return _Event("insertion", int(match["after"]), bases=match["bases"])
    return _Event("substitution", int(match["at"]) - 1, bases=match["alt"])


def normalise(event: _Event, reference: str) -> tuple[int, str, str]:
    """(1-based position, REF, ALT) of an event, indels shifted to their leftmost equivalent position
    and padded with the base before them (after them at the reference's first base), as VCF asks."""
    if event.kind == "substitution":
        return event.start + 1, reference[event.start], event.bases
    if event.kind == "deletion":
        start, length = event.start, event.length
        while start > 0 and reference[start - 1] == reference[start + length - 1]:
            start -= 1
        if start == 0:
            return 1, reference[: length + 1], reference[length]
        return start, reference[start - 1 : start + length], reference[start - 1]
    position, bases = event.start, event.bases
    while position > 0 and reference[position - 1] == bases[-1]:
        position -= 1
        bases = bases[-1] + bases[:-1]
    if position == 0:
        return 1, reference[0], bases + reference[0]
    return position, reference[position - 1], reference[position - 1] + bases


def _in_window(event: _Event, window: Sequence[bool]) -> bool:
    """As the classifier counts: a deletion overlapping the window, an insertion with both flanking
    bases in it, a substitution in it."""
    if event.kind == "deletion":
        return any(window[event.start : event.start + event.length])
    if event.kind == "insertion":
        return 0 < event.start < len(window) and window[event.start - 1] and window[event.start]
    return window[event.start]


def _amplicon_events(result: SampleResult, unplaced: list[int]) -> Iterator[tuple[Allele, str]]:
    """Every classified allele with its events on the amplicon (alleles on an outcome reference re-aligned to
    the amplicon), one at a time (a run in segments streams its alleles from disk); the reads of alleles that
    could not be re-aligned are added to ``unplaced[0]``."""
    design = result.design
    amplicon = design.amplicon
    aligner = None
    for allele in result.tally.alleles:
        if allele.outcome not in CLASSIFIED:
            continue
        if allele.reference == amplicon.name:
            yield allele, allele.events
            continue
        if aligner is None:
            aligner = result.settings.aligner(design)
        read = "".join(base for base in allele.aligned_sequence if base not in "-.").upper()
        aligned = aligner.align(read, only=0)
        if aligned is None:
            unplaced[0] += allele.reads
            continue
        yield allele, describe_events(aligned, amplicon.sequence)


def vcf_records(result: SampleResult, min_reads: int = 1, genome: GenomePlacement | None = None) -> list[VcfRecord]:
    """The VCF records of one sample, sorted by position, REF and ALT."""
    return _records(result, min_reads, genome)[0]


def _records(result: SampleResult, min_reads: int, genome: GenomePlacement | None) -> tuple[list[VcfRecord], int]:
    """The sorted records, and the reads of alleles that could not be placed on the amplicon."""
    if min_reads < 1:
        raise ParameterError(f"the minimum reads of a VCF record ({min_reads}) must be at least 1")
    amplicon = result.design.amplicon
    reference, window = amplicon.sequence, amplicon.window
    contig, offset = (genome.contig, genome.start) if genome is not None else (vcf_contig(amplicon.name), 0)
    merged: dict[tuple[int, str, str], dict[str, Any]] = {}
    unplaced = [0]
    for allele, events in _amplicon_events(result, unplaced):
        for label in events.split(";") if events else ():
            event = parse_event(label)
            key = normalise(event, reference)
            entry = merged.setdefault(
                key, {"kind": event.kind, "events": set(), "reads": 0, "outcomes": {}, "window": False}
            )
            entry["events"].add(label)
            entry["reads"] += allele.reads
            entry["outcomes"][allele.outcome] = entry["outcomes"].get(allele.outcome, 0) + allele.reads
            entry["window"] = entry["window"] or _in_window(event, window)
    records = [
        VcfRecord(
            contig,
            offset + position,
            ref,
            alt,
            entry["kind"],
            tuple(sorted(entry["events"])),
            entry["reads"],
            tuple(sorted(entry["outcomes"].items(), key=lambda item: (CLASSIFIED.index(item[0]), item[0]))),
            entry["window"],
        )
        for (position, ref, alt), entry in merged.items()
        if entry["reads"] >= min_reads
    ]
    records.sort(key=lambda record: (record.position, record.ref, record.alt))
    return records, unplaced[0]


def vcf_contig(name: str) -> str:
    """The amplicon's name as a VCF contig ID: itself when valid, else :func:`editcheck.folders.safe_name`."""
    return name if _CONTIG.fullmatch(name) else safe_name(name)


def _check_sample(sample: str) -> str:
    if not sample or any(character in sample for character in "\t\n\r") or sample != sample.strip():
        raise ParameterError(
            f"sample name {sample!r} cannot name a VCF sample column (empty, tab, newline or edge space)"
        )
    return sample


def check_genome(result: SampleResult, genome: GenomePlacement) -> None:
    """The amplicon fits on the genome contig and is its forward-strand sequence there (VCF and BAM)."""
    amplicon = result.design.amplicon.sequence
    if not _CONTIG.fullmatch(genome.contig):
        raise ParameterError(f"genome contig {genome.contig!r} is not a valid VCF contig name")
    if genome.start + len(amplicon) > genome.contig_length:
        raise ParameterError(f"the amplicon ({len(amplicon)} bp from {genome.start + 1}) runs past the end of "
                             f"{genome.contig} ({genome.contig_length} bp)")  # fmt: skip
    if genome.sequence is not None and genome.sequence.upper() != amplicon:
        raise ParameterError(f"the amplicon is not the genome's sequence at {genome.contig}:{genome.start + 1}-"
                             f"{genome.start + len(genome.sequence)}: output in genome coordinates needs the amplicon "
                             "as it reads on the genome's forward strand (leave out -a to take it from --reference)")  # fmt: skip


def header_lines(result: SampleResult, genome: GenomePlacement | None, unplaced: int) -> list[str]:
    """The meta-information lines and the column header line (no date: reruns give the same bytes)."""
    amplicon = result.design.amplicon
    lines = [f"##fileformat={FILE_FORMAT}", f"##source=editcheck {__version__}"]
    if genome is None:
        lines.append(f"##reference={FASTA_NAME}")
        lines.append(f"##contig=<ID={vcf_contig(amplicon.name)},length={len(amplicon.sequence)}>")
    else:
        lines.append(f"##contig=<ID={genome.contig},length={genome.contig_length}>")
        lines.append(
            f"##editcheck_amplicon=<Contig={genome.contig},Start={genome.start + 1},End={genome.start + len(amplicon.sequence)}>"
        )
    for key, number, kind, description in INFO_FIELDS:
        lines.append(f'##INFO=<ID={key},Number={number},Type={kind},Description="{description}">')
    for key, number, kind, description in FORMAT_FIELDS:
        lines.append(f'##FORMAT=<ID={key},Number={number},Type={kind},Description="{description}">')
    if unplaced:
        lines.append(f"##editcheck_reads_not_placed_on_amplicon={unplaced}")
    lines.append("\t".join([*VCF_COLUMNS, _check_sample(result.sample)]))
    return lines


def record_line(record: VcfRecord, classified: int) -> str:
    """One record as a VCF data line."""
    fraction = record.reads / classified if classified else 0.0
    low, high = wilson_interval(record.reads, classified)
    info = [
        f"EVENT={','.join(record.events)}", f"EVENT_TYPE={record.kind}", f"READS={record.reads}",
        f"CLASSIFIED={classified}", f"AF={format_value(fraction)}", f"AF_CI95_LOW={format_value(low)}",
        f"AF_CI95_HIGH={format_value(high)}", f"OUTCOMES={','.join(name for name, _ in record.outcomes)}",
        f"OUTCOME_READS={','.join(str(reads) for _, reads in record.outcomes)}",
    ]  # fmt: skip
    if record.in_window:
        info.append("WINDOW")
    sample = f"{record.reads}:{classified}:{format_value(fraction)}"
    return "\t".join([record.contig, str(record.position), ".", record.ref, record.alt, ".", "PASS", ";".join(info),
                      "AO:DP:AF", sample])  # fmt: skip


def write_vcf(
    result: SampleResult, folder: Path, *, min_reads: int = 1, genome: GenomePlacement | None = None
) -> list[str]:
    """Write edits.vcf.gz and its .tbi into ``folder`` (and amplicon.fa with its .fai on the amplicon as
    contig); returns the file names."""
    if genome is not None:
        check_genome(result, genome)
    records, unplaced = _records(result, min_reads, genome)
    classified = result.tally.classified
    plain = folder / VCF_NAME.removesuffix(".gz")
    with atomic_output(plain) as handle:
        handle.writelines(line + "\n" for line in header_lines(result, genome, unplaced))
        handle.writelines(record_line(record, classified) + "\n" for record in records)
    pysam.tabix_index(str(plain), preset="vcf", force=True)
    names = [VCF_NAME, VCF_NAME + ".tbi"]
    if genome is None:
        names += write_fasta(folder, vcf_contig(result.design.amplicon.name), result.design.amplicon.sequence)
    return names


def write_fasta(folder: Path, name: str, sequence: str) -> list[str]:
    """``amplicon.fa`` (one record, the sequence on one line) and its samtools ``.fai`` index."""
    with atomic_output(folder / FASTA_NAME) as handle:
        handle.write(f">{name}\n{sequence}\n")
    with atomic_output(folder / (FASTA_NAME + ".fai")) as handle:
        handle.write(f"{name}\t{len(sequence)}\t{len(name) + 2}\t{len(sequence)}\t{len(sequence) + 1}\n")
    return [FASTA_NAME, FASTA_NAME + ".fai"]


def read_vcf(path: str | Path) -> tuple[list[str], list[dict[str, Any]]]:
    """An editcheck VCF (plain or gzip/bgzip): its meta-information lines and its records as dicts of the
    columns, INFO parsed into ``info`` (flags as True) and the first sample's FORMAT values into ``sample``."""
    meta, _, records = read_vcf_samples(path)
    return meta, records


def read_vcf_samples(path: str | Path) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """As :func:`read_vcf`, with the sample names of the header and each record's sample columns as written
    (``sample_columns``)."""
    path = Path(path)
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rt", encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        raise InputFormatError(path, "file not found") from None
    except (OSError, UnicodeDecodeError, EOFError) as error:
        raise InputFormatError(path, f"not a readable VCF ({error})") from None
    if not lines or lines[0] != f"##fileformat={FILE_FORMAT}":
        raise InputFormatError(path, f"line 1: not a {FILE_FORMAT} file")
    meta = [line for line in lines if line.startswith("##")]
    columns = next((line.split("\t") for line in lines if line.startswith("#CHROM")), None)
    if columns is None or tuple(columns[: len(VCF_COLUMNS)]) != VCF_COLUMNS:
        raise InputFormatError(path, "no #CHROM column header line (not an editcheck VCF?)")
    records = []
    for number, line in enumerate(lines, 1):
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise InputFormatError(path, f"line {number}: {len(fields)} columns, the header has {len(columns)}")
        record: dict[str, Any] = dict(zip(columns, fields))
        record["info"] = _parse_info(record["INFO"])
        record["sample_columns"] = fields[len(VCF_COLUMNS) :]
        if len(columns) > len(VCF_COLUMNS):
            record["sample"] = dict(zip(record["FORMAT"].split(":"), fields[len(VCF_COLUMNS)].split(":")))
        records.append(record)
    return meta, columns[len(VCF_COLUMNS) :], records


def _parse_info(text: str) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for item in text.split(";") if text != "." else ():
        key, separator, value = item.partition("=")
        info[key] = value if separator else True
    return info


__all__ = [
    "GenomePlacement",
    "VcfRecord",
    "check_genome",
    "normalise",
    "parse_event",
    "read_vcf",
    "read_vcf_samples",
    "vcf_records",
    "write_vcf",
]
