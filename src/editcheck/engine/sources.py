"""Where reads come from: the :class:`ReadSource` protocol and its implementations.

A source yields fragments (reads and pairs: :class:`~editcheck.reads.records.Read` and
:class:`~editcheck.reads.records.ReadPair`, or the same as plain tuples,
:data:`~editcheck.reads.records.FragmentTuple`, which the FASTQ sources yield for speed) and says what the
outputs need to know about its input.  A new
input type is a reader in :mod:`editcheck.reads` and a source here; the engine (:mod:`editcheck.engine.run`)
takes any source, alone or pooled, with or without UMIs.  Every source refuses a read longer than its
``max_read_length`` (:mod:`editcheck.reads.read_length`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from editcheck.reads.alignments import GenomeSite, iter_site_fragments
from editcheck.reads.fastq import iter_paired_tuples, iter_single_tuples
from editcheck.reads.read_length import MAX_READ_LENGTH, check_max_read_length
from editcheck.reads.records import FragmentTuple, PairTuple, ReadTuple

__all__ = ["BamSite", "FastqPaired", "FastqSingle", "ReadSource", "read_source"]


class ReadSource(Protocol):
    """What the engine reads."""

    @property
    def path(self) -> str | Path:
        """The file named in errors about a read's content (R1)."""

    @property
    def inputs(self) -> tuple[str, ...]:
        """The input files, as recorded in summary.json."""

    @property
    def paired(self) -> bool | None:
        """False: only single reads; True: only pairs; None: known from the reads (a BAM/CRAM holds either)."""

    @property
    def site(self) -> GenomeSite | None:
        """The genome site read, for genome-aligned input."""

    @property
    def max_read_length(self) -> int:
        """The longest read taken, in bases; a longer one is an input error."""

    def fragments(self) -> Iterator[FragmentTuple]:
        """Every fragment, in input order."""


@dataclass(frozen=True)
class FastqSingle:
    """Single-end FASTQ(.gz)."""

    path: str | Path
    paired: bool | None = False
    site: GenomeSite | None = None
    max_read_length: int = MAX_READ_LENGTH

    def __post_init__(self) -> None:
        check_max_read_length(self.max_read_length)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (str(self.path),)

    def fragments(self) -> Iterator[ReadTuple]:
        return iter_single_tuples(self.path, self.max_read_length)


@dataclass(frozen=True)
class FastqPaired:
    """Paired-end FASTQ(.gz): R1 and R2."""

    path: str | Path
    r2: str | Path
    paired: bool | None = True
    site: GenomeSite | None = None
    max_read_length: int = MAX_READ_LENGTH

    def __post_init__(self) -> None:
        check_max_read_length(self.max_read_length)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (str(self.path), str(self.r2))

    def fragments(self) -> Iterator[PairTuple]:
        return iter_paired_tuples(self.path, self.r2, self.max_read_length)


@dataclass(frozen=True)
class BamSite:
    """The reads of a genome-aligned BAM/CRAM overlapping one site (mates paired up, see
    :func:`~editcheck.reads.alignments.iter_site_fragments`)."""

    path: str | Path
    genome_site: GenomeSite
    reference_fasta: str | Path | None = None
    paired: bool | None = None
    max_read_length: int = MAX_READ_LENGTH

    def __post_init__(self) -> None:
        check_max_read_length(self.max_read_length)

    @property
    def site(self) -> GenomeSite | None:
        return self.genome_site

    @property
    def inputs(self) -> tuple[str, ...]:
        return (str(self.path),)

    def fragments(self) -> Iterator[FragmentTuple]:
        return iter_site_fragments(
            self.path, self.genome_site, reference_fasta=self.reference_fasta, max_read_length=self.max_read_length
        )


def read_source(
    r1: str | Path, r2: str | Path | None = None, site: GenomeSite | None = None,
    reference_fasta: str | Path | None = None, max_read_length: int = MAX_READ_LENGTH,
) -> ReadSource:  # fmt: skip
    """The source of ``quantify``'s arguments: FASTQ single or paired, or a BAM/CRAM (``r1``) at ``site``; a
    read longer than ``max_read_length`` bases is refused (the limit checked by the source itself)."""
    if site is not None:
        return BamSite(r1, site, reference_fasta, max_read_length=max_read_length)
    if r2 is None:
        return FastqSingle(r1, max_read_length=max_read_length)
    return FastqPaired(r1, r2, max_read_length=max_read_length)
