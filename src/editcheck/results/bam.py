"""Aligned reads as BAM: writer and reader of ``reads.bam`` (coordinate-sorted, with its ``.bai`` index) in a sample folder.

One record per UNIQUE read: identical reads are collapsed before alignment (as editcheck counts them), so
each record stands for the reads in its ``XC:i`` tag, and the ``XC`` of all records sum to the sample's
reads (every outcome class, the classified and the others).  Every record is placed by editcheck's own
alignment, so IGV shows what editcheck called:

- ``XC:i`` reads carrying this sequence, ``XO:Z`` editcheck's outcome class, ``XE:Z`` the events on the
  amplicon (the ``events`` notation of alleles.tsv, 1-based on the amplicon; absent when none), ``XB:Z``
  the base-editing class (with a base editor), ``XR:Z`` the outcome reference the read was called on when
  it is not the amplicon (HDR, prime edit), ``XP:Z`` the mate that speaks for an unmerged pair (R1 or R2),
  ``XM:i`` the molecules (with UMIs: the record is a molecule consensus), ``NM:i`` the edit distance.
- Reads called on an outcome reference (HDR, prime edit) are re-aligned to the amplicon, as in the VCF, so
  IGV shows one contig and the donor's changes as mismatches.
- Read bases beyond the aligned span (primer or adapter overhang, bases past the amplicon's ends) are
  soft-clipped; the sequence is written on the amplicon's forward strand (flag 16 for reverse reads).
  An unmerged pair is written as the mate that speaks for it.  Base qualities are not kept (``*``).
- Reads that did not align (``not_aligned``, ``too_long``, and outcome-reference reads that do not
  re-align to the amplicon) are written unmapped (flag 4) after the mapped ones, with their tags.

Coordinates: on the amplicon as its own contig (``amplicon.fa`` and its ``.fai`` beside it, shared with the
VCF), or for genome-aligned input (``--bam`` with ``--site``) on the genome: the site's contig (its length
from the input's header), the amplicon's first base at the site's start, so the BAM overlays the input.

The header has ``@HD SO:coordinate``, one ``@SQ`` with its length, ``@PG`` with editcheck's version and the
command (file names, no directories), ``@CO`` lines saying the above, and no date: reruns give the same bytes.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pysam

from editcheck import __version__
from editcheck.alignment.aligner import AlignedRead
from editcheck.classification.outcomes import NOT_ALIGNED, TOO_LONG, describe_events
from editcheck.engine.result import UniqueAlignment
from editcheck.errors import InputFormatError
from editcheck.pipeline import SampleResult
from editcheck.results.vcf import GenomePlacement, check_genome, vcf_contig, write_fasta
from editcheck.sequences import CIGAR_DELETION, CIGAR_INSERTION, CIGAR_MATCH, CIGAR_SOFT_CLIP, reverse_complement

BAM_NAME = "reads.bam"
MAPPING_QUALITY = 60
TAGS = (
    ("XC", "reads carrying this unique sequence (identical reads are collapsed: one record per unique read)"),
    ("XO", "editcheck's outcome class"),
    ("XE", "events on the amplicon, 1-based (the events notation of alleles.tsv); absent when none"),
    ("XB", "base-editing class (with a base editor)"),
    ("XR", "the outcome reference the read was called on, when not the amplicon (HDR, prime edit)"),
    ("XP", "the mate that speaks for an unmerged pair (R1 or R2)"),
    ("XM", "molecules behind this consensus read (with UMIs)"),
    ("NM", "edit distance to the amplicon"),
)


def _cigar(aligned: AlignedRead, oriented: str) -> tuple[list[tuple[int, int]], int, int] | None:
    """The CIGAR of an amplicon alignment on the read as written (``oriented``), with the read bases beyond
    the aligned span soft-clipped, and the edit distance; None when the aligned bases are not in the read."""
    operations: list[tuple[int, int]] = []
    inserted = dict(aligned.insertions)
    bases: list[str] = []
    distance = len(aligned.substitutions)

    def add(code: int, length: int) -> None:
        if operations and operations[-1][0] == code:
            operations[-1] = (code, operations[-1][1] + length)
        else:
            operations.append((code, length))

    leading = inserted.pop(aligned.start, "")  # an insertion before the first covered base: clipped
    trailing = inserted.pop(aligned.end, "")
    projection = aligned.projection
    for position in range(aligned.start, aligned.end):
        if position in inserted:
            add(CIGAR_INSERTION, len(inserted[position]))
            bases.append(inserted[position])
            distance += len(inserted[position])
        base = projection[position]
        if base == "-":
            add(CIGAR_DELETION, 1)
            distance += 1
        else:
            add(CIGAR_MATCH, 1)
            bases.append(base)
    core = "".join(bases)
    left = oriented.find(leading + core + trailing)
    if left < 0:
        return None
    left += len(leading)
    right = len(oriented) - left - len(core)
    cigar = ([(CIGAR_SOFT_CLIP, left)] if left else []) + operations + ([(CIGAR_SOFT_CLIP, right)] if right else [])
    return cigar, left, distance


def _records(
    result: SampleResult, genome: GenomePlacement | None
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(mapped, unmapped) as tuples (position, reverse, order, name, flag, cigar, sequence, tags)."""
    design = result.design
    amplicon = design.amplicon
    offset = genome.start if genome is not None else 0
    aligner = None
    mapped: list[tuple[Any, ...]] = []
    unmapped: list[tuple[Any, ...]] = []
    for order, unique in enumerate(result.alignments):
        name = f"{'pair' if unique.mate is not None else 'read'}{order + 1}"
        aligned = unique.alignment if unique.call.outcome not in (NOT_ALIGNED, TOO_LONG) else None
        tags: list[tuple[str, Any]] = [("XC", unique.reads), ("XO", unique.call.outcome)]
        if aligned is not None and aligned.reference != 0:
            tags.append(("XR", design.references[aligned.reference].name))
            if aligner is None:
                aligner = result.settings.aligner(design)
            aligned = aligner.align(unique.sequence, only=0)
        events = describe_events(aligned, amplicon.sequence) if aligned is not None else ""
        if events:
            tags.append(("XE", events))
        tags += _optional_tags(unique)
        placed = None
        if aligned is not None:
            oriented = reverse_complement(unique.sequence) if aligned.reverse else unique.sequence
            placed = _cigar(aligned, oriented)
        if aligned is None or placed is None:
            unmapped.append((0, False, order, name, 4, None, unique.sequence, tags))
            continue
        cigar, _, distance = placed
        tags.append(("NM", distance))
        flag = 16 if aligned.reverse else 0
        mapped.append((offset + aligned.start, aligned.reverse, order, name, flag, cigar, oriented, tags))
    mapped.sort(key=lambda record: record[:3])
    return mapped, unmapped


def _optional_tags(unique: UniqueAlignment) -> list[tuple[str, Any]]:
    tags: list[tuple[str, Any]] = []
    if unique.call.base_edit:
        tags.append(("XB", unique.call.base_edit))
    if unique.mate is not None:
        tags.append(("XP", f"R{unique.mate + 1}"))
    if unique.molecules is not None:
        tags.append(("XM", unique.molecules))
    return tags


def bam_header(result: SampleResult, genome: GenomePlacement | None, command: str) -> dict[str, Any]:
    """The header: @HD, the one @SQ, @PG (version and command, no paths or date) and @CO describing the records."""
    amplicon = result.design.amplicon
    if genome is None:
        sequence = {"SN": vcf_contig(amplicon.name), "LN": len(amplicon.sequence)}
    else:
        sequence = {"SN": genome.contig, "LN": genome.contig_length}
    comments = [
        "editcheck: one record per UNIQUE read (identical reads collapsed); XC:i = the reads it stands for",
        "editcheck: reads that did not align (not_aligned, too_long) are written unmapped (flag 4) at the end",
        "editcheck: reads called on an outcome reference (HDR, prime edit) are re-aligned to the amplicon",
    ]
    if genome is not None:
        comments.append(
            f"editcheck: amplicon at {genome.contig}:{genome.start + 1}-{genome.start + len(amplicon.sequence)}"
        )
    comments += [f"editcheck: {tag}: {meaning}" for tag, meaning in TAGS]
    return {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [sequence],
        "PG": [{"ID": "editcheck", "PN": "editcheck", "VN": __version__, "CL": command}],
        "CO": comments,
    }


def write_bam(
    result: SampleResult, folder: Path, *, genome: GenomePlacement | None = None, command: str = "editcheck quantify"
) -> list[str]:
    """Write reads.bam and its .bai into ``folder`` (and amplicon.fa with its .fai on the amplicon as contig);
    returns the file names. ``result`` must hold its alignments (``quantify(..., keep_alignments=True)``)."""
    if genome is not None:
        check_genome(result, genome)
    mapped, unmapped = _records(result, genome)
    path = folder / BAM_NAME
    temporary = folder / f".{BAM_NAME}.tmp"
    try:
        _write_records(temporary, bam_header(result, genome, command), [*mapped, *unmapped])
        temporary.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    pysam.index(str(path))
    names = [BAM_NAME, BAM_NAME + ".bai"]
    if genome is None:
        names += write_fasta(folder, vcf_contig(result.design.amplicon.name), result.design.amplicon.sequence)
    return names


def _write_records(path: Path, header: dict[str, Any], records: list[tuple[Any, ...]]) -> None:
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam:
        for position, _, _, name, flag, cigar, sequence, tags in records:
            segment = pysam.AlignedSegment(bam.header)
            segment.query_name = name
            segment.flag = flag
            segment.query_sequence = sequence
            if cigar is not None:
                segment.reference_id = 0
                segment.reference_start = position
                segment.mapping_quality = MAPPING_QUALITY
                segment.cigartuples = cigar
            else:
                segment.reference_id = segment.next_reference_id = -1
                segment.reference_start = segment.next_reference_start = -1
            segment.set_tags(tags)
            bam.write(segment)


def read_bam(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An editcheck BAM: its header as a dict and its records (name, flag, contig, 1-based position, CIGAR,
    sequence, tags) in file order."""
    path = Path(path)
    if not path.is_file():
        raise InputFormatError(path, "file not found")
    try:
        with pysam.AlignmentFile(str(path), "rb", check_sq=False) as bam:
            header = bam.header.to_dict()
            records = [
                {"name": segment.query_name, "flag": segment.flag, "contig": segment.reference_name,
                 "position": segment.reference_start + 1 if not segment.is_unmapped else 0,
                 "cigar": segment.cigarstring, "sequence": segment.query_sequence, "tags": dict(segment.get_tags())}
                for segment in bam.fetch(until_eof=True)
            ]  # fmt: skip
    except (OSError, ValueError) as error:
        raise InputFormatError(path, f"not a readable BAM ({error})") from None
    return header, records


__all__ = ["BAM_NAME", "TAGS", "bam_header", "read_bam", "write_bam"]
