"""Reads at one genome site, taken from a coordinate-sorted, indexed BAM or CRAM file.

Amplicon data is sometimes delivered already aligned to the genome.  This module turns such a file back
into plain reads for the amplicon engine: :func:`site_amplicon` cuts the site's reference sequence from
the genome FASTA (it becomes the amplicon), and :func:`iter_site_reads` yields the reads at the site as
:class:`~editcheck.reads.records.Read` records, like :func:`editcheck.reads.fastq.iter_single`.

Which reads
    Mapped, primary (neither secondary nor supplementary), not QC-failed and not duplicate-marked
    reads whose alignment overlaps the site, with mapping quality at least ``min_mapping_quality``.
    With ``require_span`` (the default) the read must also cover the whole site, counting its soft
    clips as covered: the span is ``reference_start - leading soft clip`` to ``reference_end +
    trailing soft clip``.  Reads are found through the index by their *aligned* part, so a read whose
    aligned part lies wholly outside the site is not seen even if a soft clip would reach into it.

What is yielded
    The read's full stored sequence (pysam ``query_sequence``): reference-forward orientation (a
    reverse-strand read comes out as stored, i.e. already reverse-complemented), soft-clipped bases
    included, hard-clipped bases absent.  The genome aligner's placement is thrown away and the engine
    re-aligns the read to the amplicon from scratch; this matters because genome aligners often
    soft-clip a read at a large deletion rather than open a long gap.  IUPAC ambiguity codes in the
    stored sequence become ``N``.  Qualities are a Phred+33 string; a read stored without qualities
    (``*``) gets ``I`` (Q40) for every base.

Paired reads
    :func:`iter_site_reads` yields both mates, separately, as single reads named ``NAME/1`` and
    ``NAME/2``.  :func:`iter_site_fragments` (what ``quantify --site`` reads) yields each fragment once:
    both mates as sequenced (a reverse-strand mate reverse-complemented back) when both are taken at
    the site, so that the caller merges them exactly as it merges a FASTQ pair; a mate whose partner is
    not taken (elsewhere, filtered, or missing) alone.

Overlap, not span
    ``quantify --site`` takes every read that overlaps the site (``require_span=False``): a read that
    does not reach across the quantification window is then counted as ``window_not_covered`` by the
    engine rather than dropped unseen.

Errors
    Problems the user can fix raise :class:`~editcheck.errors.InputFormatError` naming the file: a
    missing file, a file that is not BAM/CRAM (a SAM text file cannot be read by region and must be
    converted), a missing index (with the ``samtools index`` command to create it), a CRAM without
    ``--reference``, a reference that does not decode the CRAM, a contig not in the header, a site past
    the contig's end.  A site with no reads is not an error: nothing is yielded and the caller reports it.
    A read longer than ``max_read_length`` bases is refused (:mod:`editcheck.reads.read_length`) before its
    sequence is decoded (htslib holds one alignment record at a time; nothing longer is kept).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pysam

from editcheck.errors import DesignError, InputFormatError, ParameterError
from editcheck.io.fasta import open_indexed_fasta
from editcheck.io.formats import BAM_MAGIC, CRAM_MAGIC, check_readable, head, quiet_htslib
from editcheck.reads.read_length import MAX_READ_LENGTH, too_long
from editcheck.reads.records import Fragment, Read, ReadPair
from editcheck.sequences import CIGAR_HARD_CLIP, CIGAR_SOFT_CLIP, reverse_complement

__all__ = ["GenomeSite", "contig_length", "count_site_reads", "iter_site_fragments", "iter_site_reads", "site_amplicon"]

_HEADER_RECORD_TYPES = (b"@HD", b"@SQ", b"@RG", b"@PG", b"@CO")
_SHOWN_CONTIGS = 5

# BAM stores bases as 4-bit codes "=ACMGRSVTWYHKDBN": ambiguity codes become N; '=' (same as the
# reference) is rejected where it is met, as it cannot be resolved without re-reading the reference.
_TO_ACGTN = str.maketrans("MRWSYKVHDBmrwsykvhdbacgtn", "NNNNNNNNNNNNNNNNNNNNACGTN")

# Flags that exclude a read: unmapped, secondary, QC fail, duplicate, supplementary.
_UNMAPPED = 0x4
_SECONDARY = 0x100
_QCFAIL = 0x200
_DUPLICATE = 0x400
_SUPPLEMENTARY = 0x800

_REGION = re.compile(r"^(?P<contig>.+):(?P<start>[0-9][0-9,]*)-(?P<end>[0-9][0-9,]*)$")


@dataclass(frozen=True)
class GenomeSite:
    """A genome interval: ``contig``, 0-based inclusive ``start`` and exclusive ``end`` (as in pysam)."""

    contig: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not self.contig:
            raise DesignError("genome site has an empty contig name")
        if self.start < 0 or self.end <= self.start:
            raise DesignError(
                f"genome site {self.contig}:{self.start}-{self.end} (0-based, end exclusive) is empty or negative"
            )

    @classmethod
    def parse(cls, text: str) -> GenomeSite:
        """Parse samtools-style ``contig:start-end`` (1-based, both ends included; commas allowed).

        ``"chr1:1,001-1,250"`` becomes ``GenomeSite("chr1", 1000, 1250)``.  The contig name may itself
        contain colons (``HLA-A*01:01:01:01:1-300``): the coordinates are taken after the last colon.
        Raises :class:`DesignError` for text in any other form or with ``start`` above ``end``.
        """
        cleaned = "".join(text.split())
        match = _REGION.match(cleaned)
        if match is None:
            raise DesignError(
                f"genome site {text!r} is not in the form CONTIG:START-END (1-based, inclusive, e.g. chr1:1000-1250)"
            )
        start = int(match["start"].replace(",", ""))
        end = int(match["end"].replace(",", ""))
        if start < 1:
            raise DesignError(f"genome site {text!r}: positions are 1-based, so START must be at least 1")
        if end < start:
            raise DesignError(f"genome site {text!r}: END ({end}) is before START ({start})")
        return cls(match["contig"], start - 1, end)

    @property
    def length(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        """samtools-style region text (1-based, inclusive), the inverse of :meth:`parse`."""
        return f"{self.contig}:{self.start + 1}-{self.end}"


def _contig_list(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_SHOWN_CONTIGS])
    if len(names) > _SHOWN_CONTIGS:
        shown += f", ... ({len(names)} in all)"
    return shown or "none"


def _unknown_contig(path: str | Path, contig: str, names: Sequence[str], where: str) -> InputFormatError:
    problem = f"contig {contig!r} is not in the {where}; its contigs are: {_contig_list(names)}"
    alternative = contig[3:] if contig.startswith("chr") else "chr" + contig
    if alternative in names:
        problem += f" (the file names it {alternative!r}: the genome builds use different naming)"
    return InputFormatError(path, problem)


def site_amplicon(reference_fasta: str | Path, site: GenomeSite) -> str:
    """The reference sequence of ``site`` (uppercase) from an indexed genome FASTA.

    The FASTA's ``.fai`` index is created next to it when missing (if the folder is writable).  Raises
    :class:`InputFormatError` for a missing or unreadable FASTA, a missing index that cannot be created,
    a contig the FASTA does not have, or a site reaching past the contig's end.  Ambiguity codes in
    the reference are returned as they are.
    """
    with open_indexed_fasta(reference_fasta) as fasta:
        if site.contig not in fasta.references:
            raise _unknown_contig(reference_fasta, site.contig, fasta.references, "FASTA")
        length = fasta.get_reference_length(site.contig)
        if site.end > length:
            raise InputFormatError(
                reference_fasta, f"site {site} reaches past the end of {site.contig} ({length:,} bp)"
            )
        sequence = fasta.fetch(site.contig, site.start, site.end).upper()
    if len(sequence) != site.length:  # a stale .fai (FASTA edited after indexing) can cut sequences short
        raise InputFormatError(
            reference_fasta,
            f"read {len(sequence)} bp for site {site} instead of {site.length}; the .fai index may be out of "
            f"date: delete it or re-run samtools faidx {reference_fasta}",
        )
    return sequence


def _not_alignments_problem(path: str | Path) -> str:
    """Why an existing file could not be opened as SAM/BAM/CRAM, from its first bytes. Error paths only."""
    first = head(path, 4, decompress=True)
    if first.startswith(BAM_MAGIC):
        return "the BAM header lists no reference sequences (@SQ lines): is it an unaligned BAM?"
    if first.startswith(b">"):
        return "not a BAM/CRAM file: it looks like FASTA (starts with '>')"
    if first.startswith(b"@") and not first.startswith(_HEADER_RECORD_TYPES):
        return "not a BAM/CRAM file: it looks like FASTQ (starts with '@' but not a SAM header line)"
    if not first:
        return "not a BAM/CRAM file: the file is empty"
    return "not a BAM/CRAM file, or its header lists no reference sequences (@SQ lines)"


def _open_alignments(path: str | Path, reference_fasta: str | Path | None) -> tuple[pysam.AlignmentFile, bool]:
    """Open an indexed BAM/CRAM for region queries; also say whether it is CRAM."""
    check_readable(path, "BAM/CRAM")
    is_cram = head(path, len(CRAM_MAGIC)) == CRAM_MAGIC
    reference: str | None = None
    if is_cram:
        if reference_fasta is None:
            raise InputFormatError(
                path,
                "is a CRAM file, which can only be decoded with the genome it was compressed against; "
                "pass that genome FASTA with --reference",
            )
        open_indexed_fasta(reference_fasta).close()  # clear errors for a missing FASTA or index, before htslib's
        reference = os.fspath(reference_fasta)
    try:
        with quiet_htslib():
            alignments = pysam.AlignmentFile(os.fspath(path), "r", reference_filename=reference)
    except PermissionError:
        raise InputFormatError(path, "permission denied") from None
    except (OSError, ValueError):
        raise InputFormatError(path, _not_alignments_problem(path)) from None
    if not (alignments.is_bam or alignments.is_cram):
        alignments.close()
        raise InputFormatError(
            path,
            "is SAM text, which cannot be read by region; convert and index it with: "
            f"samtools sort -o {Path(path).with_suffix('.bam')} {path} && "
            f"samtools index {Path(path).with_suffix('.bam')}",
        )
    if not alignments.has_index():
        index, kind = ("(.crai)", "CRAM") if alignments.is_cram else ("(.bai or .csi)", "BAM")
        alignments.close()
        raise InputFormatError(
            path,
            f"no index {index} found for this {kind}, so reads cannot be fetched by region; create the index "
            f"with: samtools index {path} (the file must be sorted by coordinate: samtools sort)",
        )
    return alignments, alignments.is_cram


def _soft_clips(cigar: list[tuple[int, int]]) -> tuple[int, int]:
    """Soft-clipped bases at the start and end of a CIGAR (inside any hard clips)."""
    leading = trailing = 0
    for operation, length in cigar:
        if operation == CIGAR_SOFT_CLIP:
            leading = length
            break
        if operation != CIGAR_HARD_CLIP:
            break
    for operation, length in reversed(cigar):
        if operation == CIGAR_SOFT_CLIP:
            trailing = length
            break
        if operation != CIGAR_HARD_CLIP:
            break
    return leading, trailing


def _site_segments(
    path: str | Path,
    site: GenomeSite,
    reference_fasta: str | Path | None,
    min_mapping_quality: int,
    require_span: bool,
    skip_duplicates: bool,
) -> Iterator[pysam.AlignedSegment]:
    """The alignment records :func:`iter_site_reads` yields reads for."""
    if min_mapping_quality < 0:
        raise ParameterError(f"minimum mapping quality must be 0 or more, got {min_mapping_quality}")
    alignments, is_cram = _open_alignments(path, reference_fasta)
    with alignments:
        names = alignments.references
        if site.contig not in names:
            raise _unknown_contig(path, site.contig, names, "BAM/CRAM header")
        length = alignments.get_reference_length(site.contig)
        if site.end > length:
            raise InputFormatError(
                path, f"site {site} reaches past the end of {site.contig} ({length:,} bp in the header)"
            )
        excluded = _UNMAPPED | _SECONDARY | _QCFAIL | _SUPPLEMENTARY | (_DUPLICATE if skip_duplicates else 0)
        try:
            for segment in alignments.fetch(site.contig, site.start, site.end):
                if segment.flag & excluded or segment.mapping_quality < min_mapping_quality:
                    continue
                if require_span:
                    cigar = segment.cigartuples
                    if not cigar:
                        continue
                    leading, trailing = _soft_clips(cigar)
                    end = segment.reference_end  # never None for a mapped segment with a CIGAR
                    if end is None or segment.reference_start - leading > site.start or end + trailing < site.end:
                        continue
                yield segment
        except OSError as error:
            if is_cram:
                problem = (
                    f"cannot decode the CRAM data at {site} ({error}); check that --reference "
                    f"({reference_fasta}) is the genome the CRAM was written against, and that the file is complete"
                )
            else:
                problem = f"cannot read the alignments at {site}: truncated or corrupt BAM ({error})"
            raise InputFormatError(path, problem) from None


def iter_site_reads(
    path: str | Path,
    site: GenomeSite,
    *,
    reference_fasta: str | Path | None = None,
    min_mapping_quality: int = 0,
    require_span: bool = True,
    skip_duplicates: bool = True,
    max_read_length: int = MAX_READ_LENGTH,
) -> Iterator[Read]:
    """Yield a :class:`Read` ``(name, sequence, qualities)`` for each read at ``site`` in an indexed BAM or CRAM file.

    See the module documentation for which reads are taken and what is yielded.  ``reference_fasta`` is
    needed for CRAM (and ignored for BAM).  ``skip_duplicates=False`` keeps duplicate-marked reads:
    duplicate marking by alignment position flags most reads of an amplicon library, whose fragments
    all start and end at the primers, so it should usually be off for amplicon data that went through
    MarkDuplicates.  Paired mates are yielded as separate reads named ``NAME/1`` and ``NAME/2``.
    """
    for segment in _site_segments(path, site, reference_fasta, min_mapping_quality, require_span, skip_duplicates):
        yield _record(path, segment, max_read_length)


def _mate_number(segment: pysam.AlignedSegment) -> int:
    """1 or 2 for a mate of a pair, 0 for a single-end read (or a record flagged as both or neither)."""
    if not segment.is_paired or segment.is_read1 == segment.is_read2:
        return 0
    return 1 if segment.is_read1 else 2


def _record(path: str | Path, segment: pysam.AlignedSegment, max_read_length: int) -> Read:
    """``(name, sequence, qualities)`` of one alignment record, as stored (mates named NAME/1, NAME/2)."""
    name = segment.query_name or ""
    number = _mate_number(segment)
    if number and not name.endswith(f"/{number}"):
        name += f"/{number}"
    if segment.query_length > max_read_length:
        where = f"read {name[:80]!r} at {segment.reference_name}:{segment.reference_start + 1}"
        raise too_long(path, None, segment.query_length, max_read_length, where)
    sequence = segment.query_sequence
    if not sequence:
        raise InputFormatError(
            path,
            f"read {name!r} at {segment.reference_name}:{segment.reference_start + 1} has no stored sequence "
            "(SEQ '*'); primary alignments must carry the read sequence",
        )
    sequence = sequence.translate(_TO_ACGTN)
    if "=" in sequence:
        raise InputFormatError(
            path,
            f"read {name!r} stores bases as '=' (meaning 'same as the reference'), which is not supported; "
            "the file must hold the read bases themselves",
        )
    qualities = segment.query_qualities_str
    if qualities is None:
        qualities = "I" * len(sequence)
    return Read(name, sequence, qualities)


def iter_site_fragments(
    path: str | Path,
    site: GenomeSite,
    *,
    reference_fasta: str | Path | None = None,
    min_mapping_quality: int = 0,
    require_span: bool = False,
    skip_duplicates: bool = True,
    max_read_length: int = MAX_READ_LENGTH,
) -> Iterator[Fragment]:
    """Yield each fragment at ``site`` once: a :class:`ReadPair` ``(name, R1, R1 qualities, R2, R2 qualities)``
    with both mates as sequenced (like a FASTQ pair) when both are taken at the site; a single-end read, or
    a mate whose partner is not taken, as a :class:`Read`, after all pairs, in file order.  The options are those of :func:`iter_site_reads`; by default every
    read overlapping the site is taken (``require_span=False``).  The mates kept waiting for their partner are
    each at most ``max_read_length`` bases.
    """

    waiting: dict[str, tuple[int, str, str, str]] = {}
    singles: list[Read] = []
    for segment in _site_segments(path, site, reference_fasta, min_mapping_quality, require_span, skip_duplicates):
        name, sequence, qualities = _record(path, segment, max_read_length)
        number = _mate_number(segment)
        if not number:
            singles.append(Read(name, sequence, qualities))
            continue
        if segment.is_reverse:
            sequence, qualities = reverse_complement(sequence), qualities[::-1]
        key = segment.query_name or ""
        mate = waiting.pop(key, None)
        if mate is None:
            waiting[key] = (number, name, sequence, qualities)
        elif mate[0] == number:  # the same mate twice: nothing to pair, keep both as they are
            singles.append(Read(mate[1], mate[2], mate[3]))
            waiting[key] = (number, name, sequence, qualities)
        elif number == 2:
            yield ReadPair(key, mate[2], mate[3], sequence, qualities)
        else:
            yield ReadPair(key, sequence, qualities, mate[2], mate[3])
    for _, name, sequence, qualities in waiting.values():
        singles.append(Read(name, sequence, qualities))
    yield from singles


def count_site_reads(
    path: str | Path,
    site: GenomeSite,
    *,
    reference_fasta: str | Path | None = None,
    min_mapping_quality: int = 0,
    require_span: bool = True,
    skip_duplicates: bool = True,
) -> int:
    """How many reads :func:`iter_site_reads` would yield with the same arguments (without building them)."""
    return sum(
        1 for _ in _site_segments(path, site, reference_fasta, min_mapping_quality, require_span, skip_duplicates)
    )


def contig_length(path: str | Path, contig: str, *, reference_fasta: str | Path | None = None) -> int:
    """The length of ``contig`` in the header of a BAM/CRAM (errors as for :func:`iter_site_reads`)."""
    alignments, _ = _open_alignments(path, reference_fasta)
    with alignments:
        names = list(alignments.references)
        if contig not in names:
            raise _unknown_contig(path, contig, names, "BAM/CRAM header")
        return int(alignments.get_reference_length(contig))
