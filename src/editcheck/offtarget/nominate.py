"""In-silico nomination of candidate off-target sites: every place in a genome where a guide matches
with a PAM, up to a number of mismatches and, optionally, a small DNA or RNA bulge.

The search is exhaustive (no index, no heuristics) and vectorised with numpy. Each contig is read
whole (one at a time) and scanned in cache-sized blocks that overlap by one site length. For each
block and strand the bases are coded 0..3 (anything else, N included, is 4 and never part of a
site) and laid out so that a site always reads ``protospacer, PAM`` from left to right: the
reverse complement for the minus strand, and reversed again for 5' PAMs (Cas12a). Then, per block:

* one 0/1 plane per base (``X == base``), OR-ed together for IUPAC codes;
* the PAM filter: the planes of the PAM bases, shifted and AND-ed;
* matches of the protospacer: the planes of the guide bases, shifted and summed position by position
  (a uint8 accumulator per anchor); a site passes when
  ``positions compared - matches <= max_mismatches``.

Measured on the 2-core development machine (20 Mb, one strand, NGG, <= 4 mismatches): these dense
plane sums over 256-kb blocks take 0.015 s, against 0.055 s for gathering the 20 guide positions at
the PAM candidates, 0.07 s for packing the candidates into uint64 codes compared by XOR and
``np.bitwise_count``, and 0.05-0.16 s for the same dense sums over the whole array (out of cache).

Bulges are searched as gapped guide variants, each with the same mismatch limit, as Cas-OFFinder
does, but computed without repeating the work per variant: with the site anchored at its PAM, the
guide bases between a bulge and the PAM sit where they sit without a bulge, and the bases on the far
side of the bulge are shifted by the bulge (+b for extra DNA bases, -b for missing guide bases).
Matches of every guide suffix (anchored at the PAM) and of every guide prefix at each shift are
running sums, so a variant costs one addition and one comparison. Variants are deduplicated per
locus (strand and PAM position): a locus found without a bulge is reported without one; otherwise
the variant with the fewest mismatches, then the smallest bulge, then DNA before RNA, then the
bulge nearest the guide's 5' end is kept.

Coordinates are 0-based half-open on the + strand in :class:`Site`; the TSV written by
:func:`write_sites` gives 1-based starts, as people count, and the BED file 0-based starts.

Over 500 lines by choice: the block scan, the bulge shifts and the site records share the coded-plane
layout described above; split apart, each piece would need that layout as a public interface.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from editcheck.errors import InputFormatError, ParameterError
from editcheck.io.fasta import FASTA_SUFFIXES, iter_fasta, iter_fasta_bytes
from editcheck.outputs import atomic_output, write_tsv
from editcheck.sequences import BASES, IUPAC, reverse_complement

_BASE_BIT = {base: 1 << index for index, base in enumerate(BASES)}
_MASK = {code: sum(_BASE_BIT[base] for base in bases) for code, bases in IUPAC.items()}
_ALL = 0b1111

MAX_BULGE = 2
MAX_MISMATCHES = 8
GUIDE_LENGTHS = (12, 40)
PAM_LENGTHS = (1, 12)
BULGE_FLANK = 2
"""A bulge has at least this many guide bases on either side of it (no bulge at the guide's ends)."""

DEFAULT_BLOCK = 1 << 18
"""Site starts per block: small enough for the working arrays of a block to stay in cache."""

# 0..3 for ACGT (either case), 4 for everything else.
_CODE = np.full(256, 4, dtype=np.uint8)
for _index, _base in enumerate(BASES):
    _CODE[ord(_base)] = _CODE[ord(_base.lower())] = _index
_COMPLEMENT_CODE = np.array([3, 2, 1, 0, 4], dtype=np.uint8)[_CODE]


# ----------------------------------------------------------------------------------------------
# The search specification and the sites found


@dataclass(frozen=True)
class SearchSpec:
    """What to search for: a guide (protospacer without PAM, IUPAC codes allowed), its PAM and the
    mismatch and bulge limits.

    ``pam_5prime`` is for nucleases whose PAM lies 5' of the protospacer (Cas12a, ``TTTV``).
    Sequences are upper-cased and U becomes T; anything else outside the IUPAC codes, lengths
    outside 12..40 (guide) or 1..12 (PAM), mismatches outside 0..8 and bulges outside 0..2 raise
    :class:`~editcheck.errors.ParameterError`.
    """

    guide: str
    pam: str = "NGG"
    pam_5prime: bool = False
    max_mismatches: int = 4
    max_dna_bulge: int = 0
    max_rna_bulge: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "guide", _clean_iupac(self.guide, "guide", GUIDE_LENGTHS))
        object.__setattr__(self, "pam", _clean_iupac(self.pam, "PAM", PAM_LENGTHS))
        for name, value, top in (
            ("max_mismatches", self.max_mismatches, MAX_MISMATCHES),
            ("max_dna_bulge", self.max_dna_bulge, MAX_BULGE),
            ("max_rna_bulge", self.max_rna_bulge, MAX_BULGE),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= top:
                raise ParameterError(f"{name} must be a whole number from 0 to {top}, not {value!r}")
            object.__setattr__(self, name, int(value))
        if not isinstance(self.pam_5prime, bool):
            raise ParameterError(f"pam_5prime must be true or false, not {self.pam_5prime!r}")
        compared = sum(base != "N" for base in self.guide)
        if compared - self.max_rna_bulge <= self.max_mismatches:
            raise ParameterError(
                f"guide {self.guide} has {compared} specified (non-N) bases: too few for "
                f"{self.max_mismatches} mismatches and RNA bulges of {self.max_rna_bulge}"
            )

    @property
    def site_length(self) -> int:
        """Length of a site without bulges: protospacer plus PAM."""
        return len(self.guide) + len(self.pam)


def _clean_iupac(sequence: str, what: str, lengths: tuple[int, int]) -> str:
    if not isinstance(sequence, str):
        raise ParameterError(f"{what} must be a sequence of IUPAC nucleotide codes, not {sequence!r}")
    cleaned = "".join(sequence.split()).upper().replace("U", "T")
    bad = sorted(set(cleaned) - set(IUPAC))
    if bad:
        listed = ", ".join(repr(character) for character in bad)
        raise ParameterError(f"{what} {sequence!r} contains characters that are not IUPAC nucleotide codes: {listed}")
    if not lengths[0] <= len(cleaned) <= lengths[1]:
        raise ParameterError(
            f"{what} {cleaned!r} is {len(cleaned)} nt long; it must be {lengths[0]} to {lengths[1]} nt"
        )
    return cleaned


@dataclass(frozen=True)
class Site:
    """One candidate site.

    ``start``/``end`` are 0-based half-open on the + strand and cover protospacer and PAM. The
    sequences are on the guide's strand, 5'->3'. ``site_sequence`` is the protospacer as found:
    mismatched bases in lower case (so it has exactly ``mismatches`` lower-case letters), DNA-bulge
    bases included in upper case, and ``-`` where guide bases are missing (RNA bulge).
    ``mismatch_positions`` are 1-based positions on the guide, counted from its 5' end (for a 3'
    PAM, 1 is the PAM-distal base; for a 5' PAM, 1 is next to the PAM). ``bulge_position`` is the
    number of guide bases 5' of the bulge (0 without one). With ``flank`` > 0, ``amplicon`` is the
    + strand reference ``[start - flank, end + flank)`` clipped to the contig, and
    ``amplicon_offset`` is where the site starts in it.
    """

    contig: str
    start: int
    end: int
    strand: str
    site_sequence: str
    pam_sequence: str
    mismatches: int
    mismatch_positions: tuple[int, ...]
    bulge_type: str
    bulge_size: int
    bulge_position: int = 0
    amplicon: str = field(default="", repr=False)
    amplicon_offset: int = -1

    @property
    def protospacer(self) -> str:
        """The protospacer as found: upper case, no PAM, no bulge dashes (what the site sheet needs)."""
        return self.site_sequence.replace("-", "").upper()


# ----------------------------------------------------------------------------------------------
# The vectorised scan


@dataclass(frozen=True)
class _Variant:
    kind: int  # 0 none, 1 DNA bulge, 2 RNA bulge
    size: int
    split: int  # guide bases left of the bulge in scan orientation
    shift: int  # +size for DNA bulges, -size for RNA bulges: how far the left part moves left
    suffix: int  # the guide suffix (from this index on, scan orientation) that sits against the PAM
    compared: int  # guide positions compared (non-N, not removed by an RNA bulge)


class _Scanner:
    """The search for one spec, in scan orientation (protospacer left of the PAM)."""

    def __init__(self, spec: SearchSpec) -> None:
        guide, pam = spec.guide, spec.pam
        if spec.pam_5prime:
            guide, pam = guide[::-1], pam[::-1]
        self.spec = spec
        self.guide_masks = tuple(_MASK[base] for base in guide)
        self.pam_masks = tuple(_MASK[base] for base in pam)
        self.g = len(guide)
        self.m = len(pam)
        self.left = self.g + spec.max_dna_bulge  # bases left of the PAM at most
        self.pad = spec.max_dna_bulge  # so that unbulged sites at a contig's start have an anchor
        self.max_length = self.left + self.m
        compared = [mask != _ALL for mask in self.guide_masks]
        variants = [_Variant(0, 0, 0, 0, 0, sum(compared))]
        for size in range(1, spec.max_dna_bulge + 1):
            for split in range(BULGE_FLANK, self.g - BULGE_FLANK + 1):
                variants.append(_Variant(1, size, split, size, split, sum(compared)))
        for size in range(1, spec.max_rna_bulge + 1):
            for split in range(BULGE_FLANK, self.g - BULGE_FLANK - size + 1):
                kept = sum(compared) - sum(compared[split : split + size])
                variants.append(_Variant(2, size, split, -size, split + size, kept))
        self.variants = tuple(variants)
        self.thresholds = np.array([v.compared - spec.max_mismatches for v in variants], dtype=np.int16)
        self.shifts = sorted({v.shift for v in variants[1:]})
        self.suffixes_needed = sorted({v.suffix for v in variants})
        by_prefix: dict[tuple[int, int], list[int]] = {}
        for index, variant in enumerate(variants[1:], 1):
            by_prefix.setdefault((variant.shift, variant.split), []).append(index)
        self.by_prefix = by_prefix

    def scan(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hits in one coded block ``x`` (padded on the left by ``self.pad`` codes of 4).

        Returns anchors (index of the PAM's first base in ``x``), variant indexes and mismatches.
        Sites are not yet checked for non-ACGT bases outside the compared positions.
        """
        g, left = self.g, self.left
        count = len(x) - self.m - left + 1
        empty = np.empty(0, dtype=np.int64)
        if count <= 0:
            return empty, empty, empty
        planes: dict[int, np.ndarray] = {}

        def plane(mask: int) -> np.ndarray:
            found = planes.get(mask)
            if found is None:
                bits = [index for index in range(4) if mask >> index & 1]
                found = x == bits[0]
                for bit in bits[1:]:
                    found |= x == bit
                planes[mask] = found
            return found

        def at(mask: int, offset: int) -> np.ndarray:
            """The plane of ``mask`` at ``offset`` from the anchor (the PAM's first base), per anchor."""
            return plane(mask)[left + offset : left + offset + count]

        pam_ok: np.ndarray | None = None
        for offset, mask in enumerate(self.pam_masks):
            if mask == _ALL:
                continue
            if pam_ok is None:
                pam_ok = at(mask, offset).copy()
            else:
                pam_ok &= at(mask, offset)
        if pam_ok is None:  # a PAM of Ns only checks nothing; non-ACGT bases are removed later
            pam_ok = np.ones(count, dtype=bool)

        anchors: list[np.ndarray] = []
        kinds: list[np.ndarray] = []
        mismatches: list[np.ndarray] = []

        def collect(matches: np.ndarray, variant: int) -> None:
            # thresholds are >= 1: SearchSpec rejects guides with too few specified bases
            passed = matches >= self.thresholds[variant]
            passed &= pam_ok
            found = np.flatnonzero(passed)
            if len(found):
                anchors.append(found + left)
                kinds.append(np.full(len(found), variant, dtype=np.int64))
                mismatches.append(self.variants[variant].compared - matches[found].astype(np.int64))

        # matches of each guide suffix, anchored at the PAM (suffix g is empty)
        accumulator = np.zeros(count, dtype=np.uint8)
        suffix: dict[int, np.ndarray] = {}
        needed = set(self.suffixes_needed)
        for index in range(g - 1, -1, -1):
            mask = self.guide_masks[index]
            if mask != _ALL:
                np.add(accumulator, at(mask, index - g).view(np.uint8), out=accumulator)
            if index in needed and index > 0:
                suffix[index] = accumulator.copy()
        suffix[0] = accumulator
        collect(accumulator, 0)

        if len(self.variants) > 1:
            prefix = np.zeros(count, dtype=np.uint8)
            total = np.empty(count, dtype=np.uint8)
            for shift in self.shifts:
                prefix.fill(0)
                for split in range(1, g + 1):
                    mask = self.guide_masks[split - 1]
                    if mask != _ALL:
                        np.add(prefix, at(mask, split - 1 - g - shift).view(np.uint8), out=prefix)
                    for variant in self.by_prefix.get((shift, split), ()):
                        np.add(prefix, suffix[self.variants[variant].suffix], out=total)
                        collect(total, variant)
        if not anchors:
            return empty, empty, empty
        return np.concatenate(anchors), np.concatenate(kinds), np.concatenate(mismatches)


@dataclass
class _Hits:
    """Raw hits of one contig, as parallel arrays."""

    start: list[np.ndarray] = field(default_factory=list)
    end: list[np.ndarray] = field(default_factory=list)
    minus: list[np.ndarray] = field(default_factory=list)
    pam: list[np.ndarray] = field(default_factory=list)
    variant: list[np.ndarray] = field(default_factory=list)
    mismatches: list[np.ndarray] = field(default_factory=list)


def _scan_contig(sequence: bytearray, scanner: _Scanner, block: int) -> dict[str, np.ndarray]:
    """All hits of one contig (both strands, all variants), deduplicated per locus."""
    length = len(sequence)
    spec = scanner.spec
    hits = _Hits()
    if length < scanner.g - spec.max_rna_bulge + scanner.m:
        return _dedup(hits, scanner)
    raw_all = np.frombuffer(sequence, dtype=np.uint8)
    buffer = np.empty(min(length, block + scanner.max_length - 1) + scanner.pad, dtype=np.uint8)
    buffer[: scanner.pad] = 4
    variant_starts = np.array([-(scanner.g + v.shift) for v in scanner.variants], dtype=np.int64)
    for low in range(0, length, block):
        high = min(length, low + block + scanner.max_length - 1)
        size = high - low
        raw = raw_all[low:high]
        owned_end = min(length, low + block)
        for minus in (False, True):
            reverse = minus != spec.pam_5prime
            table = _COMPLEMENT_CODE if minus else _CODE
            x = buffer[: scanner.pad + size]
            np.take(table, raw[::-1] if reverse else raw, out=x[scanner.pad :])
            anchors, variants, mismatches = scanner.scan(x)
            if not len(anchors):
                continue
            lefts = anchors + variant_starts[variants]  # in x
            rights = anchors + scanner.m
            # drop sites with any non-ACGT base (N runs, IUPAC codes, the padding)
            invalid = np.flatnonzero(x > 3)
            if len(invalid):
                following = np.searchsorted(invalid, lefts)
                bad = following < len(invalid)
                bad[bad] = invalid[following[bad]] < rights[bad]
                keep = ~bad
                anchors, variants, mismatches = anchors[keep], variants[keep], mismatches[keep]
                lefts, rights = lefts[keep], rights[keep]
            lefts = lefts - scanner.pad
            rights = rights - scanner.pad
            pams = anchors - scanner.pad
            if reverse:
                starts, ends, pams = low + size - rights, low + size - lefts, low + size - pams - scanner.m
            else:
                starts, ends, pams = low + lefts, low + rights, low + pams
            owned = (starts >= low) & (starts < owned_end)
            hits.start.append(starts[owned])
            hits.end.append(ends[owned])
            hits.minus.append(np.full(int(owned.sum()), minus))
            hits.pam.append(pams[owned])
            hits.variant.append(variants[owned])
            hits.mismatches.append(mismatches[owned])
    return _dedup(hits, scanner)


def _dedup(hits: _Hits, scanner: _Scanner) -> dict[str, np.ndarray]:
    """One hit per locus (strand, PAM position): unbulged first, then fewest mismatches, smallest
    bulge, DNA before RNA, bulge nearest the guide's 5' end; sorted by start, strand, bulge."""
    if not hits.start:
        empty = np.empty(0, dtype=np.int64)
        return {key: empty for key in ("start", "end", "minus", "pam", "variant", "mismatches", "position")}
    arrays = {
        key: np.concatenate(getattr(hits, key)) for key in ("start", "end", "minus", "pam", "variant", "mismatches")
    }
    arrays["minus"] = arrays["minus"].astype(np.int64)
    variants = scanner.variants
    kind = np.array([v.kind for v in variants])[arrays["variant"]]
    size = np.array([v.size for v in variants])[arrays["variant"]]
    arrays["position"] = np.array([_guide_split(scanner, v) for v in variants])[arrays["variant"]]
    order = np.lexsort((arrays["position"], kind, size, arrays["mismatches"], kind > 0, arrays["pam"], arrays["minus"]))
    locus_minus, locus_pam = arrays["minus"][order], arrays["pam"][order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (locus_minus[1:] != locus_minus[:-1]) | (locus_pam[1:] != locus_pam[:-1])
    kept = order[first]
    kept = kept[
        np.lexsort(
            (
                arrays["position"][kept],
                arrays["end"][kept],
                size[kept],
                kind[kept],
                arrays["minus"][kept],
                arrays["start"][kept],
            )
        )
    ]
    return {key: value[kept] for key, value in arrays.items()}


def _guide_split(scanner: _Scanner, variant: _Variant) -> int:
    """Guide bases 5' of the bulge, in guide orientation (0 without a bulge)."""
    if variant.kind == 0:
        return 0
    if not scanner.spec.pam_5prime:
        return variant.split
    return scanner.g - variant.split - (variant.size if variant.kind == 2 else 0)


def _describe(contig: str, sequence: bytearray, spec: SearchSpec, start: int, end: int, minus: bool,
              kind: int, size: int, split: int) -> Site:  # fmt: skip
    """A Site from its coordinates and variant; mismatches are recounted from the sequences."""
    found = sequence[start:end].decode("ascii").upper()
    if minus:
        found = reverse_complement(found)
    m = len(spec.pam)
    pam, protospacer = (found[:m], found[m:]) if spec.pam_5prime else (found[-m:], found[:-m])
    guide = spec.guide
    if kind == 1:  # extra DNA bases after `split` guide bases
        pairs = list(zip(range(split), protospacer[:split])) + list(
            zip(range(split, len(guide)), protospacer[split + size :])
        )
        shown = list(protospacer)
        index_of = {k: k for k in range(split)} | {k: k + size for k in range(split, len(guide))}
    elif kind == 2:  # guide bases split..split+size-1 missing from the DNA
        pairs = list(zip(range(split), protospacer[:split])) + list(
            zip(range(split + size, len(guide)), protospacer[split:])
        )
        shown = list(protospacer[:split]) + ["-"] * size + list(protospacer[split:])
        index_of = {k: k for k in range(len(guide))}
    else:
        pairs = list(zip(range(len(guide)), protospacer))
        shown = list(protospacer)
        index_of = {k: k for k in range(len(guide))}
    positions = []
    for k, base in pairs:
        if base not in IUPAC[guide[k]]:
            positions.append(k + 1)
            shown[index_of[k]] = base.lower()
    return Site(
        contig, int(start), int(end), "-" if minus else "+", "".join(shown), pam, len(positions), tuple(positions),
        ("none", "DNA", "RNA")[kind], int(size), int(split),
    )  # fmt: skip


def _with_amplicon(site: Site, sequence: bytearray, flank: int) -> Site:
    low = max(0, site.start - flank)
    high = min(len(sequence), site.end + flank)
    amplicon = sequence[low:high].decode("ascii").upper()
    amplicon = re.sub("[^ACGT]", "N", amplicon)
    return dataclasses.replace(site, amplicon=amplicon, amplicon_offset=site.start - low)


def nominate(genome_fasta: str | Path, spec: SearchSpec, *, flank: int = 0, block: int = DEFAULT_BLOCK) -> list[Site]:
    """Candidate sites of ``spec`` in a genome FASTA (or FASTA.gz), both strands.

    Sites are sorted by contig (file order), start, strand, then bulge type, size, end and
    position; each locus (strand and PAM position) is reported once. Sites overlapping any
    non-ACGT base or a contig end are never reported. With ``flank`` > 0 each site carries its
    reference amplicon (see :class:`Site`). ``block`` is the number of site starts scanned per
    block (memory and speed; results do not depend on it).
    """
    if not isinstance(flank, int) or flank < 0:
        raise ParameterError(f"flank must be a whole number >= 0, not {flank!r}")
    if not isinstance(block, int) or block < 1:
        raise ParameterError(f"block must be a positive whole number, not {block!r}")
    scanner = _Scanner(spec)
    sites: list[Site] = []
    for contig, sequence in iter_fasta_bytes(genome_fasta):
        found = _scan_contig(sequence, scanner, block)
        for start, end, minus, variant in zip(
            found["start"].tolist(), found["end"].tolist(), found["minus"].tolist(), found["variant"].tolist()
        ):
            chosen = scanner.variants[variant]
            site = _describe(contig, sequence, spec, start, end, bool(minus), chosen.kind, chosen.size,
                             _guide_split(scanner, chosen))  # fmt: skip
            if flank:
                site = _with_amplicon(site, sequence, flank)
            sites.append(site)
        del sequence
    return sites


# ----------------------------------------------------------------------------------------------
# Outputs

SITE_COLUMNS = (
    "contig", "start", "end", "strand", "site_sequence", "pam", "mismatches", "mismatch_positions",
    "bulge_type", "bulge_size",
)  # fmt: skip
SHEET_COLUMNS = (
    "site_id", "amplicon", "protospacer", "cut_offset", "contig", "start", "end", "strand", "mismatches",
    "bulge_type", "bulge_size",
)  # fmt: skip
"""The site sheet of `editcheck offtarget`: each site's amplicon and protospacer, and where it is in the genome
(1-based start, as in the sites TSV) with its mismatches and bulge, carried into the panel's calls and report."""


def site_id(number: int, site: Site) -> str:
    """The name of the ``number``-th site (1-based): ``site_{n}_{mm}mm``."""
    return f"site_{number}_{site.mismatches}mm"


def write_sites(
    sites: Sequence[Site],
    tsv_path: str | Path,
    bed_path: str | Path | None = None,
    amplicons_path: str | Path | None = None,
    genome_fasta: str | Path | None = None,
    flank: int = 0,
    *,
    cut_offset: int = 3,
) -> None:
    """Write sites as a TSV (1-based starts), optionally BED (0-based) and amplicons.

    TSV columns: contig, start, end, strand, site_sequence, pam, mismatches, mismatch_positions,
    bulge_type, bulge_size, then ``amplicon`` when ``flank`` > 0, then ``site_id``. With
    ``flank`` > 0 the amplicon of each site is ``[start - flank, end + flank)`` on the + strand
    (clipped to the contig; non-ACGT bases as N), read from ``genome_fasta`` or, without it, taken
    from the sites (nominated with the same flank). ``amplicons_path`` ending in .fa/.fasta is
    written as FASTA; otherwise as a site sheet for ``editcheck offtarget`` (:data:`SHEET_COLUMNS`: site_id,
    amplicon, protospacer, cut_offset and the site's contig, start, end, strand, mismatches and bulge). ``cut_offset`` is the nuclease's cut position in nt from the 3' end of
    the protospacer (3 for SpCas9 and SaCas9).
    """
    if not isinstance(flank, int) or flank < 0:
        raise ParameterError(f"flank must be a whole number >= 0, not {flank!r}")
    if amplicons_path is not None and flank == 0:
        raise ParameterError("amplicons need a flank > 0 (bases either side of each site)")
    sites = list(sites)
    if flank:
        sites = _attach_amplicons(sites, genome_fasta, flank)
    names = [site_id(number, site) for number, site in enumerate(sites, 1)]
    header = list(SITE_COLUMNS) + (["amplicon"] if flank else []) + ["site_id"]
    rows = []
    for name, site in zip(names, sites):
        row = [
            site.contig, site.start + 1, site.end, site.strand, site.site_sequence, site.pam_sequence, site.mismatches,
            ",".join(map(str, site.mismatch_positions)), site.bulge_type, site.bulge_size,
        ]  # fmt: skip
        if flank:
            row.append(site.amplicon)
        row.append(name)
        rows.append(row)
    write_tsv(tsv_path, header, rows)
    if bed_path is not None:
        with atomic_output(bed_path) as handle:
            for name, site in zip(names, sites):
                handle.write(f"{site.contig}\t{site.start}\t{site.end}\t{name}\t{site.mismatches}\t{site.strand}\n")
    if amplicons_path is not None:
        if Path(amplicons_path).suffix.lower() in FASTA_SUFFIXES:
            with atomic_output(amplicons_path) as handle:
                for name, site in zip(names, sites):
                    handle.write(
                        f">{name} {site.contig}:{site.start + 1}-{site.end}({site.strand}) "
                        f"protospacer={site.protospacer} cut_offset={cut_offset}\n{site.amplicon}\n"
                    )
        else:
            sheet = [(name, site.amplicon, site.protospacer, cut_offset, site.contig, site.start + 1, site.end, site.strand,
                      site.mismatches, site.bulge_type, site.bulge_size) for name, site in zip(names, sites)]  # fmt: skip
            write_tsv(amplicons_path, SHEET_COLUMNS, sheet)


def _attach_amplicons(sites: list[Site], genome_fasta: str | Path | None, flank: int) -> list[Site]:
    if genome_fasta is None:
        for site in sites:
            core = site.amplicon_offset + site.end - site.start
            if site.amplicon_offset != min(flank, site.start) or not core <= len(site.amplicon) <= core + flank:
                raise ParameterError(
                    f"flank {flank}: the sites carry no amplicons of that flank; give the genome FASTA "
                    "or nominate with the same flank"
                )
        return sites
    wanted: dict[str, list[int]] = {}
    for index, site in enumerate(sites):
        wanted.setdefault(site.contig, []).append(index)
    result = list(sites)
    for contig, sequence in iter_fasta_bytes(genome_fasta):
        for index in wanted.pop(contig, ()):
            if result[index].end > len(sequence):
                raise InputFormatError(genome_fasta, f"contig {contig} is shorter than site end {result[index].end}")
            result[index] = _with_amplicon(result[index], sequence, flank)
        if not wanted:
            break
    if wanted:
        missing = next(iter(wanted))
        raise InputFormatError(genome_fasta, f"contig {missing!r} of the sites is not in the genome")
    return result


def read_fasta_names(path: str | Path) -> list[str]:  # pragma: no cover - convenience for callers
    """Contig names in file order."""
    return [name for name, _ in iter_fasta_bytes(path)]


__all__ = ["SearchSpec", "Site", "iter_fasta", "nominate", "site_id", "write_sites"]
