"""Seeded simulation of amplicon-sequencing reads with known editing outcomes.

The simulator draws a pool of alleles per outcome class (unmodified, deletion, insertion,
substitution, HDR and, optionally, large deletions and base-editor conversions), assigns exact
numbers of reads to each class, and writes FASTQ reads with substitution-only sequencing errors
whose qualities are low, so a Q<20 mask removes nearly all of them.  The truth (alleles, their
events and read counts) is returned and optionally written as JSON.  Optional extras: UMIs with
PCR duplicates (``simulate(umi_length=...)``) and pooled amplicons (``random_pool`` and
``simulate_pool``).  Same design, parameters and seed give byte-identical files in the same
environment; runs that use none of the extras are byte-identical to earlier versions.
"""

from __future__ import annotations

import gzip
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import numpy as np

from editcheck.errors import DesignError, ParameterError
from editcheck.outputs import atomic_output, write_json

_fast_gzip: ModuleType | None
try:  # ISA-L gzip is several times faster than zlib; it ships with xopen (a dnaio dependency).
    from isal import igzip as _fast_gzip
except ImportError:  # pragma: no cover - depends on the platform
    _fast_gzip = None

__all__ = [
    "BaseEditorSpec",
    "OutcomeMix",
    "SimulationDesign",
    "random_design",
    "random_pool",
    "simulate",
    "simulate_pool",
]

CLASSES = ("unmodified", "deletion", "insertion", "substitution", "hdr")  # always reported
EXTRA_CLASSES = ("large_deletion", "base_edit")  # reported only when their fraction is > 0
ALL_CLASSES = CLASSES + EXTRA_CLASSES
INDEL_CLASSES = ("deletion", "insertion", "large_deletion")
BASE_EDIT_CLASSES = ("intended_only", "intended_and_bystander", "bystander_only", "unedited", "indel")
# The simulator is the test oracle: it keeps its own deliberately independent primitives (bases, complement,
# reverse complement) instead of editcheck.sequences, so an error there cannot hide by being repeated here.
_BASES = "ACGT"
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
_MAX_DELETION = 30
_MAX_INSERTION = 5
_LARGE_DELETION = (50, 150)  # inclusive size range of large deletions
_LARGE_DELETION_ANCHOR = 25  # bases of the amplicon kept at each end by a large deletion
_CHUNK_READS = 32768
_N_FRACTION = 0.03  # share of error bases written as 'N'
_READ_SIGMA = 0.5  # sigma of the per-read lognormal error-rate multiplier


def _reverse_complement(sequence: str) -> str:
    return sequence.translate(_COMPLEMENT)[::-1]


def _occurrences(sequence: str, pattern: str) -> list[int]:
    """0-based start of every (possibly overlapping) occurrence of ``pattern``."""
    found, start = [], sequence.find(pattern)
    while start != -1:
        found.append(start)
        start = sequence.find(pattern, start + 1)
    return found


@dataclass(frozen=True)
class SimulationDesign:
    """An amplicon, its guide and (optionally) the amplicon expected after HDR.

    ``cut_offset`` is the distance of the cut from the PAM-proximal end of the protospacer
    (3 for SpCas9: the cut lies between protospacer nucleotides 17 and 18).
    """

    amplicon: str
    guide: str
    cut_offset: int = 3
    donor_amplicon: str | None = None

    def __post_init__(self) -> None:
        if not self.amplicon or set(self.amplicon) - set(_BASES):
            raise DesignError("amplicon must be a non-empty uppercase A/C/G/T sequence")
        if len(self.guide) != 20 or set(self.guide) - set(_BASES):
            raise DesignError("guide must be a 20-nt uppercase A/C/G/T protospacer")
        if not 0 < self.cut_offset < 20:
            raise DesignError(f"cut_offset must be between 1 and 19, got {self.cut_offset}")
        hits = len(_occurrences(self.amplicon, self.guide)) + len(
            _occurrences(self.amplicon, _reverse_complement(self.guide))
        )
        if hits != 1:
            raise DesignError(f"guide must occur exactly once on the amplicon (both strands), found {hits}")
        if self.donor_amplicon is not None:
            donor = self.donor_amplicon
            if len(donor) != len(self.amplicon) or set(donor) - set(_BASES):
                raise DesignError("donor_amplicon must be an uppercase A/C/G/T sequence as long as the amplicon")
            if donor == self.amplicon:
                raise DesignError("donor_amplicon is identical to the amplicon")

    @property
    def guide_strand(self) -> str:
        """'+' if the protospacer reads 5'->3' on the amplicon as given, '-' otherwise."""
        return "+" if self.guide in self.amplicon else "-"

    @property
    def cut_boundary(self) -> int:
        """Index c such that the cut lies between ``amplicon[c-1]`` and ``amplicon[c]`` (0-based)."""
        if self.guide_strand == "+":
            return self.amplicon.index(self.guide) + 20 - self.cut_offset
        return self.amplicon.index(_reverse_complement(self.guide)) + self.cut_offset


def random_design(
    seed: int = 2024, length: int = 250, guide_start: int = 105, with_donor: bool = True
) -> SimulationDesign:
    """A random amplicon with a forward 20-nt protospacer at ``guide_start`` (0-based) and an NGG PAM.

    Protospacer positions 5 and 7 (1-based) are 'A' (base-editor targets).  The donor amplicon
    carries the PAM's second G -> C plus SNVs at protospacer positions 13 and 15 (5 and 3 nt
    5' of the cut): three substitutions, all within 10 bp of the cut.
    """
    if guide_start < 0 or guide_start + 23 > length:
        raise ParameterError(f"guide_start {guide_start} leaves no room for a 20-nt guide and PAM in {length} bp")
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        bases = list("".join(rng.choice(list(_BASES), size=length)))
        bases[guide_start + 4] = "A"
        bases[guide_start + 6] = "A"
        bases[guide_start + 21] = "G"
        bases[guide_start + 22] = "G"
        amplicon = "".join(bases)
        guide = amplicon[guide_start : guide_start + 20]
        hits = len(_occurrences(amplicon, guide)) + len(_occurrences(amplicon, _reverse_complement(guide)))
        if hits == 1:
            break
    else:  # pragma: no cover - vanishingly unlikely for random sequence
        raise DesignError("could not draw an amplicon on which the guide occurs once")
    donor = None
    if with_donor:
        donor_bases = list(amplicon)
        donor_bases[guide_start + 22] = "C"
        for position in (guide_start + 12, guide_start + 14):
            alternatives = [base for base in _BASES if base != donor_bases[position]]
            donor_bases[position] = alternatives[int(rng.integers(len(alternatives)))]
        donor = "".join(donor_bases)
    return SimulationDesign(amplicon=amplicon, guide=guide, cut_offset=3, donor_amplicon=donor)


@dataclass(frozen=True)
class OutcomeMix:
    """Fractions of reads per outcome class; they must be non-negative and sum to 1.

    ``large_deletion`` (50-150 bp across the cut) and ``base_edit`` (reads exposed to the base
    editor, see ``BaseEditorSpec``) default to 0, which leaves the classic five-class mix unchanged.
    """

    unmodified: float = 0.55
    deletion: float = 0.22
    insertion: float = 0.10
    substitution: float = 0.05
    hdr: float = 0.08
    large_deletion: float = 0.0
    base_edit: float = 0.0

    def __post_init__(self) -> None:
        values = [getattr(self, item.name) for item in fields(self)]
        if any(not math.isfinite(value) or value < 0 for value in values):
            raise ParameterError(f"outcome fractions must be finite and non-negative, got {values}")
        if abs(sum(values) - 1.0) > 1e-6:
            raise ParameterError(f"outcome fractions must sum to 1, got {sum(values):.6g}")

    def fractions(self) -> dict[str, float]:
        """The fractions keyed by class name, in the fixed class order.

        The five classic classes are always present; ``large_deletion`` and ``base_edit`` only
        when non-zero (so truth files of classic mixes keep their former keys).
        """
        values = {name: float(getattr(self, name)) for name in CLASSES}
        values.update({name: float(getattr(self, name)) for name in EXTRA_CLASSES if getattr(self, name) > 0})
        return values


@dataclass(frozen=True)
class BaseEditorSpec:
    """A base editor: ``conversion`` (from, to) read on the guide strand, active in ``window``.

    ``window`` (inclusive) and ``target`` are 1-based protospacer positions (1 = PAM-distal 5' end
    of the guide).  Each exposed read independently has the target base converted with
    probability ``target_rate`` and every other from-base in the window (bystander) with
    probability ``bystander_rate``.  For a reverse-strand guide the conversion is complemented on
    the amplicon's forward strand (A>G on the guide strand is T>C on the amplicon).
    """

    conversion: tuple[str, str] = ("A", "G")
    window: tuple[int, int] = (4, 8)
    target: int = 5
    target_rate: float = 0.42
    bystander_rate: float = 0.3

    def __post_init__(self) -> None:
        object.__setattr__(self, "conversion", tuple(self.conversion))
        object.__setattr__(self, "window", tuple(self.window))
        bases_ok = all(isinstance(base, str) and len(base) == 1 and base in _BASES for base in self.conversion)
        if len(self.conversion) != 2 or not bases_ok or self.conversion[0] == self.conversion[1]:
            raise ParameterError(f"conversion must be two different bases such as ('A', 'G'), got {self.conversion!r}")
        if (
            len(self.window) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in self.window)
            or not 1 <= self.window[0] <= self.window[1] <= 20
        ):
            raise ParameterError(f"window must be protospacer positions 1 <= start <= end <= 20, got {self.window!r}")
        if isinstance(self.target, bool) or not isinstance(self.target, int):
            raise ParameterError(f"target must be an integer protospacer position, got {self.target!r}")
        if not self.window[0] <= self.target <= self.window[1]:
            raise ParameterError(f"target {self.target} lies outside the window {self.window}")
        for name in ("target_rate", "bystander_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ParameterError(f"{name} must be between 0 and 1, got {value!r}")

    @property
    def label(self) -> str:
        """The conversion as text, e.g. 'A>G'."""
        return f"{self.conversion[0]}>{self.conversion[1]}"


@dataclass
class _Allele:
    id: str
    cls: str
    sequence: str
    events: list[dict[str, Any]]
    size: int = 0  # indel length (deletions, insertions)
    reads: int = 0


def _common_prefix(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    i = 0
    while i < limit and a[i] == b[i]:
        i += 1
    return i


def _deletion_event(amplicon: str, start: int, length: int) -> dict[str, Any]:
    allele = amplicon[:start] + amplicon[start + length :]
    n = len(amplicon)
    prefix = _common_prefix(allele, amplicon)
    suffix = min(_common_prefix(allele[::-1], amplicon[::-1]), len(allele))
    return {
        "type": "deletion",
        "start": start + 1,
        "end": start + length,
        "length": length,
        "leftmost_start0": max(0, n - length - suffix),
        "rightmost_start0": min(prefix, n - length),
    }


def _insertion_event(amplicon: str, position: int, inserted: str) -> dict[str, Any]:
    allele = amplicon[:position] + inserted + amplicon[position:]
    n = len(amplicon)
    prefix = _common_prefix(allele, amplicon)
    suffix = min(_common_prefix(allele[::-1], amplicon[::-1]), n)
    return {
        "type": "insertion",
        "after": position,
        "length": len(inserted),
        "inserted": inserted,
        "leftmost_start0": max(0, n - suffix),
        "rightmost_start0": min(prefix, n),
    }


def _substitution_events(reference: str, allele: str) -> list[dict[str, Any]]:
    return [
        {"type": "substitution", "position": i + 1, "ref": r, "alt": a}
        for i, (r, a) in enumerate(zip(reference, allele, strict=True))
        if r != a
    ]


def _zipf_weights(count: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1, dtype=float)
    normalised: np.ndarray = weights / weights.sum()
    return normalised


def _draw_alleles(design: SimulationDesign, pool_size: int, rng: np.random.Generator) -> dict[str, list[_Allele]]:
    """The allele pools of each class (the first allele of a pool has the largest weight)."""
    amplicon, c = design.amplicon, design.cut_boundary
    n = len(amplicon)
    seen = {amplicon} | ({design.donor_amplicon} if design.donor_amplicon else set())
    pools: dict[str, list[_Allele]] = {
        "unmodified": [_Allele("wt", "unmodified", amplicon, [])],
        "hdr": [],
    }
    if design.donor_amplicon is not None:
        donor = design.donor_amplicon
        pools["hdr"] = [_Allele("hdr", "hdr", donor, _substitution_events(amplicon, donor))]

    # Deletions touching the cut: start <= c <= start + L, within the amplicon; P(L) ~ L^-1.1, 1-3 bp boosted.
    lengths = np.arange(1, _MAX_DELETION + 1)
    length_p = lengths ** -1.1 * np.where(lengths <= 3, 2.0, 1.0)
    length_p /= length_p.sum()
    deletions: list[_Allele] = []
    for _ in range(200 * pool_size):
        if len(deletions) >= pool_size:
            break
        length = int(rng.choice(lengths, p=length_p))
        low, high = max(0, c - length), min(c, n - length)
        if low > high:
            continue
        start = int(rng.integers(low, high + 1))
        sequence = amplicon[:start] + amplicon[start + length :]
        if sequence in seen:
            continue
        seen.add(sequence)
        event = _deletion_event(amplicon, start, length)
        deletions.append(_Allele(f"del{len(deletions) + 1:03d}", "deletion", sequence, [event], size=length))
    pools["deletion"] = deletions

    # Insertions of 1-5 bp exactly at the cut; the templated +1 (copy of the base 5' of the cut) comes first.
    insertions: list[_Allele] = []
    insertion_lengths = np.arange(1, _MAX_INSERTION + 1)
    insertion_p = np.array([0.6, 0.15, 0.1, 0.08, 0.07])
    for attempt in range(200 * pool_size):
        if len(insertions) >= pool_size:
            break
        if attempt == 0 and c > 0:
            inserted = amplicon[c - 1]
        else:
            size = int(rng.choice(insertion_lengths, p=insertion_p))
            inserted = "".join(_BASES[i] for i in rng.integers(0, 4, size=size))
        sequence = amplicon[:c] + inserted + amplicon[c:]
        if sequence in seen:
            continue
        seen.add(sequence)
        event = _insertion_event(amplicon, c, inserted)
        insertions.append(
            _Allele(f"ins{len(insertions) + 1:03d}", "insertion", sequence, [event], size=len(inserted))
        )
    pools["insertion"] = insertions

    # Single-nucleotide substitutions at c-2 .. c+1 (at most 12 distinct alleles), in random order.
    candidates = [
        (position, base)
        for position in range(max(0, c - 2), min(n, c + 2))
        for base in _BASES
        if base != amplicon[position]
    ]
    order = rng.permutation(len(candidates))
    substitutions: list[_Allele] = []
    for index in order[:pool_size]:
        position, base = candidates[int(index)]
        sequence = amplicon[:position] + base + amplicon[position + 1 :]
        if sequence in seen:
            continue
        seen.add(sequence)
        substitutions.append(
            _Allele(
                f"sub{len(substitutions) + 1:03d}",
                "substitution",
                sequence,
                _substitution_events(amplicon, sequence),
            )
        )
    pools["substitution"] = substitutions
    return pools


def _draw_large_deletions(design: SimulationDesign, pool_size: int, rng: np.random.Generator) -> list[_Allele]:
    """Distinct deletions of 50-150 bp (size uniform) removing bases on both sides of the cut.

    Each keeps at least ``_LARGE_DELETION_ANCHOR`` bases of the amplicon at either end; the pool is
    empty when the amplicon is too short for that.
    """
    amplicon, c = design.amplicon, design.cut_boundary
    n, anchor = len(amplicon), _LARGE_DELETION_ANCHOR
    low_size, high_size = _LARGE_DELETION
    seen = {amplicon}
    alleles: list[_Allele] = []
    if n - 2 * anchor < low_size or not anchor < c < n - anchor:
        return alleles
    for _ in range(200 * pool_size):
        if len(alleles) >= pool_size:
            break
        length = int(rng.integers(low_size, high_size + 1))
        low, high = max(anchor, c - length + 1), min(c - 1, n - anchor - length)
        if low > high:
            continue
        start = int(rng.integers(low, high + 1))
        sequence = amplicon[:start] + amplicon[start + length :]
        if sequence in seen:
            continue
        seen.add(sequence)
        event = _deletion_event(amplicon, start, length)
        alleles.append(_Allele(f"ldel{len(alleles) + 1:03d}", "large_deletion", sequence, [event], size=length))
    return alleles


def _draw_pools(
    design: SimulationDesign, mix: OutcomeMix, pool_size: int, rng: np.random.Generator
) -> dict[str, list[_Allele]]:
    """Allele pools of every class (the base-edit pool is filled later, from the drawn conversions)."""
    pools = _draw_alleles(design, pool_size, rng)
    if mix.large_deletion > 0:
        pools["large_deletion"] = _draw_large_deletions(design, pool_size, rng)
    return pools


@dataclass(frozen=True)
class _EditSites:
    """Where a base editor acts on a design (0-based amplicon indices, ascending)."""

    spec: BaseEditorSpec
    positions: tuple[int, ...]  # from-bases (forward strand) inside the window
    protospacer: tuple[int, ...]  # their 1-based protospacer positions
    target: int  # index into ``positions`` of the target base
    source: str  # from-base on the amplicon's forward strand
    product: str  # to-base on the amplicon's forward strand


def _protospacer_site(design: SimulationDesign) -> int:
    """0-based start of the protospacer (or of its reverse complement) on the amplicon."""
    if design.guide_strand == "+":
        return design.amplicon.index(design.guide)
    return design.amplicon.index(_reverse_complement(design.guide))


def _to_amplicon(design: SimulationDesign, position: int) -> int:
    """0-based amplicon index of 1-based protospacer ``position`` (1 = PAM-distal end of the guide)."""
    site = _protospacer_site(design)
    return site + position - 1 if design.guide_strand == "+" else site + 20 - position


def _edit_sites(design: SimulationDesign, spec: BaseEditorSpec) -> _EditSites:
    """Map the editing window to the amplicon; the target base must be the editor's from-base."""
    source, product = spec.conversion
    if design.guide_strand == "-":
        source, product = source.translate(_COMPLEMENT), product.translate(_COMPLEMENT)
    low, high = spec.window
    if design.guide[spec.target - 1] != spec.conversion[0]:
        raise ParameterError(
            f"protospacer position {spec.target} is {design.guide[spec.target - 1]!r}, "
            f"not the base editor's from-base {spec.conversion[0]!r}"
        )
    pairs = sorted(
        (_to_amplicon(design, p), p) for p in range(low, high + 1) if design.guide[p - 1] == spec.conversion[0]
    )
    positions = tuple(index for index, _ in pairs)
    return _EditSites(
        spec=spec,
        positions=positions,
        protospacer=tuple(p for _, p in pairs),
        target=positions.index(_to_amplicon(design, spec.target)),
        source=source,
        product=product,
    )


def _base_edit_allele(amplicon: str, sites: _EditSites, mask: int) -> _Allele:
    """The allele with the sites whose bit is set in ``mask`` converted."""
    bases = list(amplicon)
    converted = [k for k in range(len(sites.positions)) if mask >> k & 1]
    for k in converted:
        bases[sites.positions[k]] = sites.product
    sequence = "".join(bases)
    label = "-".join(str(p) for p in sorted(sites.protospacer[k] for k in converted)) or "none"
    return _Allele(f"be-{label}", "base_edit", sequence, _substitution_events(amplicon, sequence))


def _assign_units(
    design: SimulationDesign,
    pools: dict[str, list[_Allele]],
    counts: dict[str, int],
    rng: np.random.Generator,
    sites: _EditSites | None,
) -> tuple[list[_Allele], np.ndarray]:
    """Alleles (in class order) and the allele index of every unit (read or molecule), unshuffled.

    Units of a class are drawn from its pool with Zipf weights (large deletions: uniformly);
    base-edit units draw their conversions independently per unit, and the base-edit pool
    becomes the patterns drawn.
    """
    parts: dict[str, np.ndarray] = {}
    for name in ALL_CLASSES:
        if not counts.get(name):
            continue
        if name == "base_edit":
            assert sites is not None
            rates = np.full(len(sites.positions), sites.spec.bystander_rate)
            rates[sites.target] = sites.spec.target_rate
            converted = rng.random((counts[name], len(sites.positions))) < rates
            masks = (converted.astype(np.int64) << np.arange(len(sites.positions), dtype=np.int64)).sum(axis=1)
            patterns, local = np.unique(masks, return_inverse=True)
            pools[name] = [_base_edit_allele(design.amplicon, sites, int(mask)) for mask in patterns]
            parts[name] = local.reshape(-1)
        else:
            pool = pools[name]
            weights = None if name == "large_deletion" else _zipf_weights(len(pool))  # large deletions: uniform
            parts[name] = rng.choice(len(pool), size=counts[name], p=weights)
    alleles: list[_Allele] = []
    pieces = []
    for name in ALL_CLASSES:
        if name in parts:
            pieces.append(parts[name] + len(alleles))
        alleles.extend(pools.get(name, []))
    assignment = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    return alleles, assignment


def _check_pools(pools: dict[str, list[_Allele]], counts: dict[str, int]) -> None:
    for name in ALL_CLASSES:
        if name != "base_edit" and counts.get(name) and not pools.get(name):
            raise ParameterError(f"no {name} alleles can be drawn for this design")


def _class_totals(alleles: list[_Allele], weights: list[int], classes: list[str]) -> dict[str, int]:
    totals = dict.fromkeys(classes, 0)
    for allele, weight in zip(alleles, weights, strict=True):
        totals[allele.cls] += weight
    return totals


def _expected_classification(alleles: list[_Allele], weights: list[int], amplicon: str) -> dict[str, int]:
    """What a classifier should report: base-edit reads without a conversion count as unmodified."""
    result = {"unmodified": 0, "modified": 0, "hdr": 0}
    for allele, weight in zip(alleles, weights, strict=True):
        if allele.cls == "unmodified" or (allele.cls == "base_edit" and allele.sequence == amplicon):
            result["unmodified"] += weight
        elif allele.cls == "hdr":
            result["hdr"] += weight
        else:
            result["modified"] += weight
    return result


def _size_counts(alleles: list[_Allele], weights: list[int], cls: str) -> dict[str, int]:
    sizes: Counter[int] = Counter()
    for allele, weight in zip(alleles, weights, strict=True):
        if allele.cls == cls:
            sizes[allele.size] += weight
    return {str(size): count for size, count in sorted(sizes.items()) if count}


def _base_editing_counts(alleles: list[_Allele], weights: list[int], sites: _EditSites) -> dict[str, Any]:
    """Exact conversion counts: target converted, per window position (1-based amplicon), per class."""
    per_position = {str(position + 1): 0 for position in sites.positions}
    classes = dict.fromkeys(BASE_EDIT_CLASSES, 0)
    target_converted = 0
    target_position = sites.positions[sites.target]
    for allele, weight in zip(alleles, weights, strict=True):
        if allele.cls in INDEL_CLASSES:
            classes["indel"] += weight
            continue
        converted = [p for p in sites.positions if allele.sequence[p] == sites.product]
        for position in converted:
            per_position[str(position + 1)] += weight
        on_target = target_position in converted
        bystander = len(converted) > on_target
        target_converted += weight * on_target
        key = (
            ("intended_and_bystander" if bystander else "intended_only")
            if on_target
            else ("bystander_only" if bystander else "unedited")
        )
        classes[key] += weight
    return {"target_converted_reads": target_converted, "per_position": per_position, "classes": classes}


def _base_editing_truth(
    design: SimulationDesign, sites: _EditSites, alleles: list[_Allele], weights: list[int]
) -> dict[str, Any]:
    spec = sites.spec
    ends = sorted(_to_amplicon(design, p) for p in spec.window)
    return {
        "conversion": spec.label,
        "amplicon_conversion": f"{sites.source}>{sites.product}",
        "strand": design.guide_strand,
        "window": list(spec.window),
        "window_amplicon": [ends[0] + 1, ends[1] + 1],
        "target": spec.target,
        "target_amplicon_position": sites.positions[sites.target] + 1,
        "target_rate": float(spec.target_rate),
        "bystander_rate": float(spec.bystander_rate),
        "exposed_reads": sum(w for a, w in zip(alleles, weights, strict=True) if a.cls == "base_edit"),
        **_base_editing_counts(alleles, weights, sites),
    }


def _exact_counts(n_reads: int, fractions: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding of ``n_reads * fraction`` so the counts sum to ``n_reads`` exactly."""
    raw = {name: n_reads * value for name, value in fractions.items()}
    counts = {name: math.floor(value) for name, value in raw.items()}
    remainder = n_reads - sum(counts.values())
    by_remainder = sorted(fractions, key=lambda name: (-(raw[name] - counts[name]), ALL_CLASSES.index(name)))
    for name in by_remainder[:remainder]:
        counts[name] += 1
    return counts


def _cycle_profile(read_length: int) -> np.ndarray:
    """Relative error rate per cycle: flat, then rising linearly to 3x over the last 10% of cycles; mean 1."""
    cycles = np.arange(read_length, dtype=float)
    ramp_start = 0.9 * read_length
    span = max(read_length - 1 - ramp_start, 1e-9)
    profile = np.where(cycles < ramp_start, 1.0, 1.0 + 2.0 * (cycles - ramp_start) / span)
    normalised: np.ndarray = profile / profile.mean()
    return normalised


def _quality_table() -> np.ndarray:
    """256-entry lookup table (indexed by a random byte) of qualities for correct bases, centred on Q36."""
    q = np.arange(30, 41)
    p = np.exp(-0.5 * ((q - 36) / 2.0) ** 2)
    counts = np.floor(p / p.sum() * 256).astype(int)
    counts[np.argmax(p)] += 256 - counts.sum()
    return (np.repeat(q, counts) + 33).astype(np.uint8)


_BASE_INDEX = np.full(256, 0, dtype=np.uint8)
for _i, _b in enumerate(_BASES):
    _BASE_INDEX[ord(_b)] = _i
_BASE_ASCII = np.frombuffer(_BASES.encode(), dtype=np.uint8)


class _ReadWriter:
    """Turns allele templates into FASTQ bytes with errors and qualities, one chunk at a time."""

    def __init__(self, templates: list[str], read_length: int, error_rate: float, rng: np.random.Generator) -> None:
        self.lengths = np.array([len(t) for t in templates], dtype=np.int64)
        width = max(int(self.lengths.max()), 1)
        self.matrix = np.zeros((len(templates), width), dtype=np.uint8)
        for row, template in enumerate(templates):
            self.matrix[row, : len(template)] = np.frombuffer(template.encode(), dtype=np.uint8)
        profile = np.ones(width)
        profile[: min(width, read_length)] = _cycle_profile(read_length)[:width]
        self.cycle_rate = (profile * error_rate).astype(np.float32)
        self.rng = rng
        self.quality_table = _quality_table()
        self.errors = 0
        self.bases = 0

    def chunk(self, template_index: np.ndarray, names: list[bytes]) -> bytes:
        rng = self.rng
        lengths = self.lengths[template_index]
        width = self.matrix.shape[1]
        mask = np.arange(width) < lengths[:, None]
        sequence = self.matrix[template_index][mask]
        cycle = np.broadcast_to(np.arange(width), mask.shape)[mask]
        total = sequence.size

        multiplier = np.exp(rng.normal(-0.5 * _READ_SIGMA**2, _READ_SIGMA, size=lengths.size)).astype(np.float32)
        probability = self.cycle_rate[cycle] * np.repeat(multiplier, lengths)
        error = np.flatnonzero(rng.random(total, dtype=np.float32) < probability)
        quality = self.quality_table[rng.integers(0, 256, size=total, dtype=np.uint8)]
        if error.size:
            shift = rng.integers(1, 4, size=error.size, dtype=np.uint8)
            new = _BASE_ASCII[(_BASE_INDEX[sequence[error]] + shift) % 4]
            new[rng.random(error.size) < _N_FRACTION] = ord("N")
            sequence[error] = new
            quality[error] = rng.integers(5 + 33, 16 + 33, size=error.size, dtype=np.uint8)
        self.errors += int(error.size)
        self.bases += int(total)
        return _fastq_bytes(names, sequence, quality, lengths)


def _fastq_bytes(names: list[bytes], sequence: np.ndarray, quality: np.ndarray, lengths: np.ndarray) -> bytes:
    """Assemble FASTQ records; ``names`` include the leading '@' and trailing newline."""
    header = np.frombuffer(b"".join(names), dtype=np.uint8)
    header_lengths = np.fromiter((len(name) for name in names), dtype=np.int64, count=len(names))
    record_lengths = header_lengths + 2 * lengths + 4
    starts = np.zeros(len(names), dtype=np.int64)
    np.cumsum(record_lengths[:-1], out=starts[1:])
    out = np.empty(int(record_lengths.sum()), dtype=np.uint8)

    header_offsets = np.zeros(len(names), dtype=np.int64)
    np.cumsum(header_lengths[:-1], out=header_offsets[1:])
    out[np.repeat(starts - header_offsets, header_lengths) + np.arange(header.size)] = header

    base_offsets = np.zeros(len(names), dtype=np.int64)
    np.cumsum(lengths[:-1], out=base_offsets[1:])
    sequence_start = starts + header_lengths
    positions = np.repeat(sequence_start - base_offsets, lengths) + np.arange(sequence.size)
    out[positions] = sequence
    out[positions + np.repeat(lengths + 3, lengths)] = quality
    separator = sequence_start + lengths
    out[separator] = ord("\n")
    out[separator + 1] = ord("+")
    out[separator + 2] = ord("\n")
    out[starts + record_lengths - 1] = ord("\n")
    return out.tobytes()


@contextmanager
def _open_fastq(path: Path) -> Iterator[IO[bytes]]:
    """Atomic output; gzip (ISA-L level 1 if available, else zlib level 2) with no name or timestamp when .gz."""
    with atomic_output(path, "wb") as raw:
        if path.name.endswith(".gz"):
            if _fast_gzip is not None:
                handle: Any = _fast_gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0)
            else:  # pragma: no cover - depends on the platform
                handle = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=2, mtime=0)
            with handle:
                yield handle
        else:
            yield raw


def _templates(alleles: list[_Allele], read_length: int, paired: bool) -> list[list[str]]:
    """Per output file, the read template of every allele (R2 is reverse-complemented)."""
    if paired:
        return [
            [a.sequence[:read_length] for a in alleles],
            [_reverse_complement(a.sequence[-read_length:]) for a in alleles],
        ]
    return [[a.sequence[:read_length] for a in alleles]]


def _write_reads(
    paths: list[Path],
    templates: list[list[str]],
    assignment: np.ndarray,
    stems: Any,
    read_length: int,
    error_rate: float,
    rng: np.random.Generator,
) -> tuple[int, int]:
    """Write the reads chunk by chunk; ``stems(begin, chunk)`` gives the '@name' of each read.

    Returns (sequencing errors, bases) over all files.
    """
    paired = len(paths) == 2
    suffixes = [b" 1:N:0\n", b" 2:N:0\n"] if paired else [b"\n"]
    writers = [_ReadWriter(t, read_length, error_rate, rng) for t in templates]
    with ExitStack() as stack:
        handles = [stack.enter_context(_open_fastq(path)) for path in paths]
        for begin in range(0, assignment.size, _CHUNK_READS):
            chunk = assignment[begin : begin + _CHUNK_READS]
            names = stems(begin, chunk)
            for writer, handle, suffix in zip(writers, handles, suffixes, strict=True):
                handle.write(writer.chunk(chunk, [stem + suffix for stem in names]))
    return sum(w.errors for w in writers), sum(w.bases for w in writers)


def _output_paths(out_r1: str | Path, out_r2: str | Path | None) -> list[Path]:
    if out_r2 is None:
        return [Path(out_r1)]
    if Path(out_r1).resolve() == Path(out_r2).resolve():
        raise ParameterError("out_r1 and out_r2 must be different files")
    return [Path(out_r1), Path(out_r2)]


def _check_read_parameters(n_reads: Any, read_length: Any, error_rate: Any, alleles_per_class: Any) -> None:
    if isinstance(n_reads, bool) or not isinstance(n_reads, int) or n_reads < 0:
        raise ParameterError(f"n_reads must be a non-negative integer, got {n_reads!r}")
    if isinstance(read_length, bool) or not isinstance(read_length, int) or read_length < 1:
        raise ParameterError(f"read_length must be a positive integer, got {read_length!r}")
    if not (isinstance(error_rate, (int, float)) and 0.0 <= error_rate <= 0.25):
        raise ParameterError(f"error_rate must be between 0 and 0.25, got {error_rate!r}")
    if isinstance(alleles_per_class, bool) or not isinstance(alleles_per_class, int) or alleles_per_class < 1:
        raise ParameterError(f"alleles_per_class must be a positive integer, got {alleles_per_class!r}")


def _resolve_mix(
    design: SimulationDesign, mix: OutcomeMix | None, base_editor: BaseEditorSpec | None
) -> tuple[OutcomeMix, _EditSites | None]:
    """The mix to use (defaults as documented in ``simulate``) and, for base editing, the edit sites."""
    if mix is None:
        if base_editor is not None:
            mix = OutcomeMix(unmodified=0.0, deletion=0.0, insertion=0.0, substitution=0.0, hdr=0.0, base_edit=1.0)
        elif design.donor_amplicon is not None:
            mix = OutcomeMix()
        else:
            mix = OutcomeMix(unmodified=0.63, hdr=0.0)
    if mix.hdr > 0 and design.donor_amplicon is None:
        raise ParameterError("the outcome mix has an HDR fraction but the design has no donor_amplicon")
    if base_editor is not None and mix.base_edit == 0:
        raise ParameterError("a base_editor was given but the outcome mix has no base_edit fraction")
    if mix.base_edit > 0:
        return mix, _edit_sites(design, base_editor or BaseEditorSpec())
    return mix, None


def _design_truth(design: SimulationDesign) -> dict[str, Any]:
    return {
        "amplicon": design.amplicon,
        "guide": design.guide,
        "cut_offset": design.cut_offset,
        "donor_amplicon": design.donor_amplicon,
        "guide_strand": design.guide_strand,
        "cut_boundary": design.cut_boundary,
    }


def _allele_truth(alleles: list[_Allele], molecules: list[int] | None = None) -> list[dict[str, Any]]:
    rows = [
        {"id": a.id, "class": a.cls, "sequence": a.sequence, "events": a.events, "reads": a.reads} for a in alleles
    ]
    if molecules is not None:
        for row, count in zip(rows, molecules, strict=True):
            row["molecules"] = count
    return rows


def _outcome_truth(
    design: SimulationDesign,
    mix: OutcomeMix,
    alleles: list[_Allele],
    sites: _EditSites | None,
) -> dict[str, Any]:
    """Read-level class counts, expected classification and size/base-editing summaries of one amplicon."""
    weights = [a.reads for a in alleles]
    truth: dict[str, Any] = {
        "class_counts": _class_totals(alleles, weights, list(mix.fractions())),
        "expected_classification": _expected_classification(alleles, weights, design.amplicon),
        "deletion_sizes": _size_counts(alleles, weights, "deletion"),
        "insertion_sizes": _size_counts(alleles, weights, "insertion"),
    }
    if mix.large_deletion > 0:
        truth["large_deletion_sizes"] = _size_counts(alleles, weights, "large_deletion")
    if sites is not None:
        truth["base_editing"] = _base_editing_truth(design, sites, alleles, weights)
    return truth


def _molecule_sizes(n_reads: int, mean: float, rng: np.random.Generator) -> np.ndarray:
    """Reads per molecule, max(1, Poisson(mean)), drawn until they reach ``n_reads``; the last is trimmed."""
    parts: list[np.ndarray] = []
    total = 0
    expected = mean + math.exp(-mean)
    while total < n_reads:
        batch = int((n_reads - total) / expected * 1.05) + 16
        sizes = np.maximum(rng.poisson(mean, size=batch), 1)
        parts.append(sizes)
        total += int(sizes.sum())
    if not parts:
        return np.zeros(0, dtype=np.int64)
    sizes = np.concatenate(parts).astype(np.int64)
    cumulative = np.cumsum(sizes)
    count = int(np.searchsorted(cumulative, n_reads)) + 1
    sizes = sizes[:count]
    sizes[-1] -= int(cumulative[count - 1]) - n_reads
    return sizes


def _unique_umis(count: int, length: int, rng: np.random.Generator) -> list[bytes]:
    """``count`` distinct random UMIs of ``length`` bases (duplicates are redrawn)."""
    if 4**length < 2 * count:
        raise ParameterError(f"umi_length {length} is too short for {count} distinct UMIs")
    codes = rng.integers(0, 4, size=(count, length), dtype=np.uint8)
    while count:
        _, first = np.unique(np.ascontiguousarray(codes).view(f"V{length}").ravel(), return_index=True)
        duplicate = np.ones(count, dtype=bool)
        duplicate[first] = False
        if not duplicate.any():
            break
        codes[duplicate] = rng.integers(0, 4, size=(int(duplicate.sum()), length), dtype=np.uint8)
    ascii_codes = _BASE_ASCII[codes]
    return [row.tobytes() for row in ascii_codes]


def simulate(
    design: SimulationDesign,
    n_reads: int,
    out_r1: str | Path,
    out_r2: str | Path | None = None,
    *,
    mix: OutcomeMix | None = None,
    error_rate: float = 0.002,
    read_length: int = 250,
    seed: int = 1,
    truth_path: str | Path | None = None,
    alleles_per_class: int = 20,
    base_editor: BaseEditorSpec | None = None,
    umi_length: int = 0,
    reads_per_molecule: float = 0,
) -> dict[str, Any]:
    """Write simulated reads (single-end, or paired-end when ``out_r2`` is given) and return the truth.

    ``mix`` defaults to ``OutcomeMix()`` when the design has a donor, else the same mix with the
    HDR share moved to unmodified; with a ``base_editor`` it defaults to all reads exposed to the
    editor (``base_edit=1``).  Reads of the ``base_edit`` class get per-read conversions (see
    ``BaseEditorSpec``; the default spec is used if the mix has a ``base_edit`` share but no
    editor is given); other classes get none.  Read names are ``sim{i:07d}:{allele_id}`` (i from
    0); mates carry the comments ``1:N:0`` / ``2:N:0``.  Single-end reads are the allele truncated
    to ``read_length``; R1 is the allele's first ``read_length`` bases and R2 the reverse
    complement of its last ``read_length`` bases.  Files ending in .gz are gzip-compressed.

    With ``umi_length > 0`` the outcome mix is applied to molecules, each carrying a distinct
    random UMI and yielding max(1, Poisson(``reads_per_molecule``)) reads (PCR duplicates with
    independent sequencing errors; the last molecule is trimmed so there are exactly ``n_reads``
    reads, shuffled).  Names become ``sim{i:07d}:{allele_id}_{UMI}``.
    """
    _check_read_parameters(n_reads, read_length, error_rate, alleles_per_class)
    if isinstance(umi_length, bool) or not isinstance(umi_length, int) or umi_length < 0:
        raise ParameterError(f"umi_length must be a non-negative integer, got {umi_length!r}")
    if (
        isinstance(reads_per_molecule, bool)
        or not isinstance(reads_per_molecule, (int, float))
        or not 0 <= reads_per_molecule <= 1e6
    ):
        raise ParameterError(f"reads_per_molecule must be between 0 and 1e6, got {reads_per_molecule!r}")
    if reads_per_molecule > 0 and umi_length == 0:
        raise ParameterError("reads_per_molecule needs umi_length > 0")
    mix, sites = _resolve_mix(design, mix, base_editor)
    paths = _output_paths(out_r1, out_r2)
    paired = len(paths) == 2

    rng = np.random.default_rng(seed)
    pools = _draw_pools(design, mix, alleles_per_class, rng)
    sizes = _molecule_sizes(n_reads, float(reads_per_molecule), rng) if umi_length else None
    counts = _exact_counts(n_reads if sizes is None else int(sizes.size), mix.fractions())
    _check_pools(pools, counts)
    alleles, units = _assign_units(design, pools, counts, rng, sites)

    ids = [a.id.encode() for a in alleles]
    if sizes is None:
        assignment = rng.permutation(units) if units.size else units

        def stems(begin: int, chunk: np.ndarray) -> list[bytes]:
            return [b"@sim%07d:%s" % (begin + k, ids[a]) for k, a in enumerate(chunk.tolist())]

    else:
        read_molecule = rng.permutation(np.repeat(np.arange(units.size), sizes)) if units.size else units
        assignment = units[read_molecule]
        umis = _unique_umis(int(units.size), umi_length, rng)

        def stems(begin: int, chunk: np.ndarray) -> list[bytes]:
            molecules = read_molecule[begin : begin + chunk.size].tolist()
            return [
                b"@sim%07d:%s_%s" % (begin + k, ids[a], umis[m])
                for k, (a, m) in enumerate(zip(chunk.tolist(), molecules, strict=True))
            ]

    for index, reads in enumerate(np.bincount(assignment, minlength=len(alleles))):
        alleles[index].reads = int(reads)

    errors, bases = _write_reads(
        paths, _templates(alleles, read_length, paired), assignment, stems, read_length, error_rate, rng
    )
    outcome = _outcome_truth(design, mix, alleles, sites)
    truth: dict[str, Any] = {
        "schema_version": 1,
        "generator": "editcheck simulate",
        "seed": seed,
        "n_reads": n_reads,
        "paired": paired,
        "read_length": read_length,
        "error_rate": float(error_rate),
        "realised_error_rate": errors / bases if bases else 0.0,
        "design": _design_truth(design),
        "mix": mix.fractions(),
        **outcome,
    }
    molecules: list[int] | None = None
    if sizes is not None:
        molecules = [int(v) for v in np.bincount(units, minlength=len(alleles))]
        histogram = Counter(sizes.tolist())
        molecule_truth: dict[str, Any] = {
            "n": int(units.size),
            "umi_length": umi_length,
            "reads_per_molecule": float(reads_per_molecule),
            "mean_reads_per_molecule": n_reads / units.size if units.size else 0.0,
            "reads_per_molecule_histogram": {str(k): v for k, v in sorted(histogram.items())},
            "class_counts": counts,
            "expected_classification": _expected_classification(alleles, molecules, design.amplicon),
        }
        if sites is not None:
            molecule_truth["base_editing"] = _base_editing_counts(alleles, molecules, sites)
        truth["molecules"] = molecule_truth
    truth["alleles"] = _allele_truth(alleles, molecules)
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth


def _largest_remainder(total: int, shares: np.ndarray) -> list[int]:
    """Integers proportional to ``shares`` (which sum to 1) that sum to ``total`` exactly."""
    raw = shares * total
    counts = np.floor(raw).astype(np.int64)
    order = sorted(range(len(shares)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: total - int(counts.sum())]:
        counts[i] += 1
    return [int(v) for v in counts]


def _near_identical(design: SimulationDesign, rng: np.random.Generator, differences: int = 3) -> SimulationDesign:
    """A copy of ``design`` with ``differences`` SNVs away from the guide, PAM and likely indels."""
    amplicon, c = design.amplicon, design.cut_boundary
    n = len(amplicon)
    site = _protospacer_site(design)
    protected = set(range(site - 3, site + 23))  # guide and PAM on either strand
    candidates = [i for i in range(10, n - 10) if abs(i - c) >= 35 and i not in protected]
    if len(candidates) < differences:
        candidates = [i for i in range(n) if i not in protected]
    for _ in range(100):
        bases = list(amplicon)
        for position in rng.choice(candidates, size=differences, replace=False).tolist():
            alternatives = [base for base in _BASES if base != bases[position]]
            bases[position] = alternatives[int(rng.integers(len(alternatives)))]
        try:
            return SimulationDesign("".join(bases), design.guide, design.cut_offset)
        except DesignError:  # pragma: no cover - an SNV recreated the guide elsewhere
            continue
    raise DesignError("could not draw a near-identical amplicon")  # pragma: no cover


def _shares_guide(a: SimulationDesign, b: SimulationDesign) -> bool:
    """True if either design's guide (either strand) occurs in the other's amplicon."""
    return any(
        guide in other.amplicon or _reverse_complement(guide) in other.amplicon
        for guide, other in ((a.guide, b), (b.guide, a))
    )


def random_pool(
    n_amplicons: int = 20, seed: int = 2024, length: int = 250, near_identical_pairs: int = 2
) -> list[SimulationDesign]:
    """Random designs (no donors) for a pooled run; each guide occurs only in its own amplicon.

    Designs ``2k`` and ``2k + 1`` (k < ``near_identical_pairs``) form near-identical pairs: the
    second is the first with 3 SNVs placed at least 35 bp from the cut and outside the guide and
    PAM, and shares the first's guide.  All other designs are unrelated random amplicons with a
    forward guide near the middle.
    """
    for name, value, minimum in (
        ("n_amplicons", n_amplicons, 1),
        ("length", length, 100),
        ("near_identical_pairs", near_identical_pairs, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if 2 * near_identical_pairs > n_amplicons:
        raise ParameterError(f"{near_identical_pairs} near-identical pairs need {2 * near_identical_pairs} amplicons")
    rng = np.random.default_rng(seed)
    low, high = max(0, length // 2 - 40), min(length - 23, length // 2 - 10)
    designs: list[SimulationDesign] = []
    for _ in range(100 * n_amplicons):
        if len(designs) >= n_amplicons:
            break
        index = len(designs)
        twin = index < 2 * near_identical_pairs and index % 2 == 1
        if twin:
            candidate = _near_identical(designs[-1], rng)
            others = designs[:-1]
        else:
            guide_start = int(rng.integers(low, high + 1))
            candidate = random_design(int(rng.integers(2**32)), length, guide_start, with_donor=False)
            others = designs
        if any(_shares_guide(candidate, other) or candidate.amplicon == other.amplicon for other in others):
            continue
        designs.append(candidate)
    else:  # pragma: no cover - vanishingly unlikely for random sequence
        if len(designs) < n_amplicons:
            raise DesignError("could not draw a pool of amplicons with unique guides")
    return designs


def _similar_pairs(designs: list[SimulationDesign], threshold: int = 10) -> list[list[int]]:
    """[i, j, differences] for equal-length amplicons differing at <= ``threshold`` positions."""
    pairs = []
    by_length: dict[int, list[int]] = {}
    for index, design in enumerate(designs):
        by_length.setdefault(len(design.amplicon), []).append(index)
    for members in by_length.values():
        matrix = np.array([np.frombuffer(designs[i].amplicon.encode(), dtype=np.uint8) for i in members])
        for row, i in enumerate(members[:-1]):
            distances = (matrix[row + 1 :] != matrix[row]).sum(axis=1)
            for column in np.flatnonzero(distances <= threshold).tolist():
                pairs.append([i, members[row + 1 + column], int(distances[column])])
    return sorted(pairs)


def simulate_pool(
    designs: list[SimulationDesign],
    n_reads: int,
    out_r1: str | Path,
    out_r2: str | Path | None = None,
    *,
    seed: int = 1,
    error_rate: float = 0.002,
    read_length: int = 250,
    truth_path: str | Path | None = None,
    mix: OutcomeMix | None = None,
    alleles_per_class: int = 20,
    share_concentration: float = 2.0,
) -> dict[str, Any]:
    """Write reads from several amplicons into one FASTQ (or pair) and return per-amplicon truth.

    Amplicon ``i`` receives an exact, seeded share of the reads: ``0.9 * Dirichlet(share_concentration)
    + 0.1 / n`` (so every amplicon gets some).  Each amplicon uses ``mix`` or, by default, the
    default mix of ``simulate`` (HDR only if the design has a donor).  Reads are shuffled across
    amplicons and named ``sim{i:07d}:{amplicon_index}:{allele_id}``.
    """
    _check_read_parameters(n_reads, read_length, error_rate, alleles_per_class)
    if not designs:
        raise ParameterError("simulate_pool needs at least one design")
    if not (isinstance(share_concentration, (int, float)) and share_concentration > 0):
        raise ParameterError(f"share_concentration must be positive, got {share_concentration!r}")
    resolved = [_resolve_mix(design, mix, None) for design in designs]
    paths = _output_paths(out_r1, out_r2)
    paired = len(paths) == 2

    rng = np.random.default_rng(seed)
    n = len(designs)
    shares = 0.9 * rng.dirichlet(np.full(n, float(share_concentration))) + 0.1 / n
    shares /= shares.sum()
    reads_per_amplicon = _largest_remainder(n_reads, shares)
    per_amplicon: list[list[_Allele]] = []
    pieces: list[np.ndarray] = []
    labels: list[bytes] = []
    for index, (design, (amplicon_mix, sites), count) in enumerate(
        zip(designs, resolved, reads_per_amplicon, strict=True)
    ):
        pools = _draw_pools(design, amplicon_mix, alleles_per_class, rng)
        counts = _exact_counts(count, amplicon_mix.fractions())
        _check_pools(pools, counts)
        alleles, units = _assign_units(design, pools, counts, rng, sites)
        for allele, reads in zip(alleles, np.bincount(units, minlength=len(alleles)).tolist(), strict=True):
            allele.reads = int(reads)
        pieces.append(units + len(labels))
        labels.extend(b"%d:%s" % (index, a.id.encode()) for a in alleles)
        per_amplicon.append(alleles)
    combined = np.concatenate(pieces)
    assignment = rng.permutation(combined) if combined.size else combined

    def stems(begin: int, chunk: np.ndarray) -> list[bytes]:
        return [b"@sim%07d:%s" % (begin + k, labels[a]) for k, a in enumerate(chunk.tolist())]

    all_alleles = [allele for alleles in per_amplicon for allele in alleles]
    errors, bases = _write_reads(
        paths, _templates(all_alleles, read_length, paired), assignment, stems, read_length, error_rate, rng
    )
    amplicons = []
    class_counts: Counter[str] = Counter()
    for index, (design, (amplicon_mix, sites), alleles) in enumerate(zip(designs, resolved, per_amplicon, strict=True)):
        outcome = _outcome_truth(design, amplicon_mix, alleles, sites)
        class_counts.update(outcome["class_counts"])
        amplicons.append(
            {
                "index": index,
                "design": _design_truth(design),
                "share": float(shares[index]),
                "n_reads": reads_per_amplicon[index],
                "mix": amplicon_mix.fractions(),
                **outcome,
                "alleles": _allele_truth(alleles),
            }
        )
    truth: dict[str, Any] = {
        "schema_version": 1,
        "generator": "editcheck simulate_pool",
        "seed": seed,
        "n_reads": n_reads,
        "n_amplicons": n,
        "paired": paired,
        "read_length": read_length,
        "error_rate": float(error_rate),
        "realised_error_rate": errors / bases if bases else 0.0,
        "read_name_format": "sim{i:07d}:{amplicon_index}:{allele_id}",
        "reads_per_amplicon": reads_per_amplicon,
        "class_counts": {name: class_counts[name] for name in ALL_CLASSES if name in class_counts},
        "similar_pairs": _similar_pairs(designs),
        "amplicons": amplicons,
    }
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth
