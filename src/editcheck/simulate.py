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
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

import numpy as np

from editcheck.errors import DesignError, ParameterError
from editcheck.outputs import atomic_output, write_json

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
            raise ParameterError(f"window must be 1-based protospacer positions 1 <= start <= end <= 20, got {self.window!r}")
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
    return weights / weights.sum()


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


def _edit_sites(design: SimulationDesign, spec: BaseEditorSpec) -> _EditSites:
    """Map the editing window to the amplicon; the target base must be the editor's from-base."""
    if design.guide_strand == "+":
        start = design.amplicon.index(design.guide)

        def to_amplicon(p: int) -> int:
            return start + p - 1

        source, product = spec.conversion
    else:
        start = design.amplicon.index(_reverse_complement(design.guide))

        def to_amplicon(p: int) -> int:
            return start + 20 - p

        source, product = (base.translate(_COMPLEMENT) for base in spec.conversion)
    low, high = spec.window
    if design.guide[spec.target - 1] != spec.conversion[0]:
        raise ParameterError(
            f"protospacer position {spec.target} is {design.guide[spec.target - 1]!r}, "
            f"not the base editor's from-base {spec.conversion[0]!r}"
        )
    pairs = sorted(
        (to_amplicon(p), p) for p in range(low, high + 1) if design.guide[p - 1] == spec.conversion[0]
    )
    positions = tuple(index for index, _ in pairs)
    return _EditSites(
        spec=spec,
        positions=positions,
        protospacer=tuple(p for _, p in pairs),
        target=positions.index(to_amplicon(spec.target)),
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

    Units of a class are drawn from its pool with Zipf weights; base-edit units draw their
    conversions independently per unit, and the base-edit pool becomes the patterns drawn.
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
            parts[name] = rng.choice(len(pool), size=counts[name], p=_zipf_weights(len(pool)))
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
    ends = sorted(
        design.amplicon.index(design.guide) + p - 1
        if design.guide_strand == "+"
        else design.amplicon.index(_reverse_complement(design.guide)) + 20 - p
        for p in spec.window
    )
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
    counts = {name: int(math.floor(value)) for name, value in raw.items()}
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
    return profile / profile.mean()


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
) -> dict[str, Any]:
    """Write simulated reads (single-end, or paired-end when ``out_r2`` is given) and return the truth.

    ``mix`` defaults to ``OutcomeMix()`` when the design has a donor, else the same mix with the
    HDR share moved to unmodified.  Read names are ``sim{i:07d}:{allele_id}`` (i from 0); mates
    carry the comments ``1:N:0`` / ``2:N:0``.  Single-end reads are the allele truncated to
    ``read_length``; R1 is the allele's first ``read_length`` bases and R2 the reverse complement
    of its last ``read_length`` bases.  Files ending in .gz are gzip-compressed.
    """
    if mix is None:
        mix = OutcomeMix() if design.donor_amplicon is not None else OutcomeMix(unmodified=0.63, hdr=0.0)
    if isinstance(n_reads, bool) or not isinstance(n_reads, int) or n_reads < 0:
        raise ParameterError(f"n_reads must be a non-negative integer, got {n_reads!r}")
    if isinstance(read_length, bool) or not isinstance(read_length, int) or read_length < 1:
        raise ParameterError(f"read_length must be a positive integer, got {read_length!r}")
    if not (isinstance(error_rate, (int, float)) and 0.0 <= error_rate <= 0.25):
        raise ParameterError(f"error_rate must be between 0 and 0.25, got {error_rate!r}")
    if isinstance(alleles_per_class, bool) or not isinstance(alleles_per_class, int) or alleles_per_class < 1:
        raise ParameterError(f"alleles_per_class must be a positive integer, got {alleles_per_class!r}")
    if mix.hdr > 0 and design.donor_amplicon is None:
        raise ParameterError("the outcome mix has an HDR fraction but the design has no donor_amplicon")
    paired = out_r2 is not None
    if paired and Path(out_r1).resolve() == Path(out_r2).resolve():  # type: ignore[arg-type]
        raise ParameterError("out_r1 and out_r2 must be different files")

    rng = np.random.default_rng(seed)
    pools = _draw_alleles(design, alleles_per_class, rng)
    counts = _exact_counts(n_reads, mix.fractions())
    for name in CLASSES:
        if counts[name] and not pools[name]:
            raise ParameterError(f"no {name} alleles can be drawn for this design")

    alleles = [allele for name in CLASSES for allele in pools[name]]
    class_first: dict[str, int] = {}
    position = 0
    for name in CLASSES:
        class_first[name] = position
        position += len(pools[name])
    assignment_parts = []
    for name in CLASSES:
        if counts[name]:
            chosen = rng.choice(len(pools[name]), size=counts[name], p=_zipf_weights(len(pools[name])))
            assignment_parts.append(chosen + class_first[name])
    assignment = (
        rng.permutation(np.concatenate(assignment_parts)) if assignment_parts else np.zeros(0, dtype=np.int64)
    )
    for index, reads in enumerate(np.bincount(assignment, minlength=len(alleles))):
        alleles[index].reads = int(reads)

    if paired:
        templates = [
            [a.sequence[:read_length] for a in alleles],
            [_reverse_complement(a.sequence[-read_length:]) for a in alleles],
        ]
        suffixes = [b" 1:N:0\n", b" 2:N:0\n"]
        paths = [Path(out_r1), Path(out_r2)]  # type: ignore[arg-type]
    else:
        templates = [[a.sequence[:read_length] for a in alleles]]
        suffixes = [b"\n"]
        paths = [Path(out_r1)]
    writers = [_ReadWriter(t, read_length, error_rate, rng) for t in templates]
    ids = [a.id.encode() for a in alleles]

    with _open_fastq(paths[0]) as first, (_open_fastq(paths[1]) if paired else _nothing()) as second:
        handles = [first, second] if paired else [first]
        for begin in range(0, n_reads, _CHUNK_READS):
            chunk = assignment[begin : begin + _CHUNK_READS]
            stems = [b"@sim%07d:%s" % (begin + k, ids[a]) for k, a in enumerate(chunk.tolist())]
            for writer, handle, suffix in zip(writers, handles, suffixes, strict=True):
                handle.write(writer.chunk(chunk, [stem + suffix for stem in stems]))

    errors = sum(w.errors for w in writers)
    bases = sum(w.bases for w in writers)
    deletion_sizes: Counter[str] = Counter()
    insertion_sizes: Counter[str] = Counter()
    for allele in alleles:
        if allele.cls == "deletion":
            deletion_sizes[str(allele.size)] += allele.reads
        elif allele.cls == "insertion":
            insertion_sizes[str(allele.size)] += allele.reads
    truth: dict[str, Any] = {
        "schema_version": 1,
        "generator": "editcheck simulate",
        "seed": seed,
        "n_reads": n_reads,
        "paired": paired,
        "read_length": read_length,
        "error_rate": float(error_rate),
        "realised_error_rate": errors / bases if bases else 0.0,
        "design": {
            "amplicon": design.amplicon,
            "guide": design.guide,
            "cut_offset": design.cut_offset,
            "donor_amplicon": design.donor_amplicon,
            "guide_strand": design.guide_strand,
            "cut_boundary": design.cut_boundary,
        },
        "mix": mix.fractions(),
        "class_counts": counts,
        "expected_classification": {
            "unmodified": counts["unmodified"],
            "modified": counts["deletion"] + counts["insertion"] + counts["substitution"],
            "hdr": counts["hdr"],
        },
        "deletion_sizes": {k: v for k, v in sorted(deletion_sizes.items(), key=lambda kv: int(kv[0])) if v},
        "insertion_sizes": {k: v for k, v in sorted(insertion_sizes.items(), key=lambda kv: int(kv[0])) if v},
        "alleles": [
            {"id": a.id, "class": a.cls, "sequence": a.sequence, "events": a.events, "reads": a.reads}
            for a in alleles
        ],
    }
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth


@contextmanager
def _nothing() -> Iterator[None]:
    yield None
