"""Where reads come from: the :class:`ReadSource` protocol and its implementations.

A source yields fragments (reads and pairs: :class:`~editcheck.reads.records.Read` and
:class:`~editcheck.reads.records.ReadPair`, or the same as plain tuples,
:data:`~editcheck.reads.records.FragmentTuple`, which the FASTQ sources yield for speed) and says what the
outputs need to know about its input.  A new
input type is a reader in :mod:`editcheck.reads` and a source here; the engine (:mod:`editcheck.engine.run`)
takes any source, alone or pooled, with or without UMIs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from editcheck.reads.alignments import GenomeSite, iter_site_fragments
from editcheck.reads.fastq import iter_paired_tuples, iter_single_tuples
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

    def fragments(self) -> Iterator[FragmentTuple]:
        """Every fragment, in input order."""


@dataclass(frozen=True)
class FastqSingle:
    """Single-end FASTQ(.gz)."""

    path: str | Path
    paired: bool | None = False
    site: GenomeSite | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return (str(self.path),)

    def fragments(self) -> Iterator[ReadTuple]:
        return iter_single_tuples(self.path)


@dataclass(frozen=True)
class FastqPaired:
    """Paired-end FASTQ(.gz): R1 and R2."""

    path: str | Path
    r2: str | Path
    paired: bool | None = True
    site: GenomeSite | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return (str(self.path), str(self.r2))

    def fragments(self) -> Iterator[PairTuple]:
        return iter_paired_tuples(self.path, self.r2)


@dataclass(frozen=True)
class BamSite:
    """The reads of a genome-aligned BAM/CRAM overlapping one site (mates paired up, see
    :func:`~editcheck.reads.alignments.iter_site_fragments`)."""

    path: str | Path
    genome_site: GenomeSite
    reference_fasta: str | Path | None = None
    paired: bool | None = None

    @property
    def site(self) -> GenomeSite | None:
        return self.genome_site

    @property
    def inputs(self) -> tuple[str, ...]:
        return (str(self.path),)

    def fragments(self) -> Iterator[FragmentTuple]:
        return iter_site_fragments(self.path, self.genome_site, reference_fasta=self.reference_fasta)


def read_source(
    r1: str | Path, r2: str | Path | None = None, site: GenomeSite | None = None,
    reference_fasta: str | Path | None = None,
) -> ReadSource:  # fmt: skip
    """The source of ``quantify``'s arguments: FASTQ single or paired, or a BAM/CRAM (``r1``) at ``site``."""
    if site is not None:
        return BamSite(r1, site, reference_fasta)
    return FastqSingle(r1) if r2 is None else FastqPaired(r1, r2)
