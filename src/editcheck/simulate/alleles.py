"""The alleles of each outcome class, with their events, and which allele every read (or molecule) carries.

Each class has a pool of distinct alleles, drawn once per design: deletions and insertions at the
cut, substitutions next to it, the donor (HDR) and, optionally, large deletions.  Units of a class
are then drawn from its pool with Zipf weights; base-edit units draw their conversions per unit.
Events use 1-based amplicon coordinates plus the 0-based range over which an indel can be shifted
without changing the allele (``leftmost_start0`` .. ``rightmost_start0``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from editcheck.errors import ParameterError
from editcheck.simulate.designs import SimulationDesign
from editcheck.simulate.outcomes import ALL_CLASSES, EditSites, OutcomeMix
from editcheck.simulate.primitives import BASES, common_prefix

_MAX_DELETION = 30
_MAX_INSERTION = 5
_LARGE_DELETION = (50, 150)  # inclusive size range of large deletions
_LARGE_DELETION_ANCHOR = 25  # bases of the amplicon kept at each end by a large deletion


@dataclass
class Allele:
    """One simulated allele: its class, full sequence, events and (once assigned) read count."""

    id: str
    cls: str
    sequence: str
    events: list[dict[str, Any]]
    size: int = 0  # indel length (deletions, insertions)
    reads: int = 0


def _deletion_event(amplicon: str, start: int, length: int) -> dict[str, Any]:
    allele = amplicon[:start] + amplicon[start + length :]
    n = len(amplicon)
    prefix = common_prefix(allele, amplicon)
    suffix = min(common_prefix(allele[::-1], amplicon[::-1]), len(allele))
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
    prefix = common_prefix(allele, amplicon)
    suffix = min(common_prefix(allele[::-1], amplicon[::-1]), n)
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


def _deletion_pool(design: SimulationDesign, pool_size: int, rng: np.random.Generator, seen: set[str]) -> list[Allele]:
    """Deletions touching the cut: start <= c <= start + L, within the amplicon; P(L) ~ L^-1.1, 1-3 bp boosted."""
    amplicon, c = design.amplicon, design.cut_boundary
    n = len(amplicon)
    lengths = np.arange(1, _MAX_DELETION + 1)
    length_p = lengths**-1.1 * np.where(lengths <= 3, 2.0, 1.0)
    length_p /= length_p.sum()
    return _distinct_deletions(
        amplicon, pool_size, rng, seen, lambda: int(rng.choice(lengths, p=length_p)),
        lambda length: (max(0, c - length), min(c, n - length)), "del", "deletion",
    )  # fmt: skip


def _distinct_deletions(
    amplicon: str, pool_size: int, rng: np.random.Generator, seen: set[str], draw_length: Callable[[], int],
    starts: Callable[[int], tuple[int, int]], prefix: str, kind: str,
) -> list[Allele]:  # fmt: skip
    """Up to ``pool_size`` deletions not in ``seen`` (added to it): a length from ``draw_length``, a start
    uniform in ``starts(length)`` (inclusive bounds; skipped when empty), 200 draws per allele at most."""
    alleles: list[Allele] = []
    for _ in range(200 * pool_size):
        if len(alleles) >= pool_size:
            break
        length = draw_length()
        low, high = starts(length)
        if low > high:
            continue
        start = int(rng.integers(low, high + 1))
        sequence = amplicon[:start] + amplicon[start + length :]
        if sequence in seen:
            continue
        seen.add(sequence)
        event = _deletion_event(amplicon, start, length)
        alleles.append(Allele(f"{prefix}{len(alleles) + 1:03d}", kind, sequence, [event], size=length))
    return alleles


def _insertion_pool(design: SimulationDesign, pool_size: int, rng: np.random.Generator, seen: set[str]) -> list[Allele]:
    """Insertions of 1-5 bp exactly at the cut; the templated +1 (copy of the base 5' of the cut) comes first."""
    amplicon, c = design.amplicon, design.cut_boundary
    insertions: list[Allele] = []
    insertion_lengths = np.arange(1, _MAX_INSERTION + 1)
    insertion_p = np.array([0.6, 0.15, 0.1, 0.08, 0.07])
    for attempt in range(200 * pool_size):
        if len(insertions) >= pool_size:
            break
        if attempt == 0 and c > 0:
            inserted = amplicon[c - 1]
        else:
            size = int(rng.choice(insertion_lengths, p=insertion_p))
            inserted = "".join(BASES[i] for i in rng.integers(0, 4, size=size))
        sequence = amplicon[:c] + inserted + amplicon[c:]
        if sequence in seen:
            continue
        seen.add(sequence)
        event = _insertion_event(amplicon, c, inserted)
        insertions.append(Allele(f"ins{len(insertions) + 1:03d}", "insertion", sequence, [event], size=len(inserted)))
    return insertions


def _substitution_pool(
    design: SimulationDesign, pool_size: int, rng: np.random.Generator, seen: set[str]
) -> list[Allele]:
    """Single-nucleotide substitutions at c-2 .. c+1 (at most 12 distinct alleles), in random order."""
    amplicon, c = design.amplicon, design.cut_boundary
    n = len(amplicon)
    candidates = [
        (position, base)
        for position in range(max(0, c - 2), min(n, c + 2))
        for base in BASES
        if base != amplicon[position]
    ]
    order = rng.permutation(len(candidates))
    substitutions: list[Allele] = []
    for index in order[:pool_size]:
        position, base = candidates[int(index)]
        sequence = amplicon[:position] + base + amplicon[position + 1 :]
        if sequence in seen:
            continue
        seen.add(sequence)
        events = _substitution_events(amplicon, sequence)
        substitutions.append(Allele(f"sub{len(substitutions) + 1:03d}", "substitution", sequence, events))
    return substitutions


def _draw_alleles(design: SimulationDesign, pool_size: int, rng: np.random.Generator) -> dict[str, list[Allele]]:
    """The allele pools of the classic classes (the first allele of a pool has the largest weight).

    Pools are drawn in a fixed order (deletions, insertions, substitutions) from one generator,
    and no sequence appears in two pools.
    """
    amplicon = design.amplicon
    seen = {amplicon} | ({design.donor_amplicon} if design.donor_amplicon else set())
    pools: dict[str, list[Allele]] = {
        "unmodified": [Allele("wt", "unmodified", amplicon, [])],
        "hdr": [],
    }
    if design.donor_amplicon is not None:
        donor = design.donor_amplicon
        pools["hdr"] = [Allele("hdr", "hdr", donor, _substitution_events(amplicon, donor))]
    pools["deletion"] = _deletion_pool(design, pool_size, rng, seen)
    pools["insertion"] = _insertion_pool(design, pool_size, rng, seen)
    pools["substitution"] = _substitution_pool(design, pool_size, rng, seen)
    return pools


def _draw_large_deletions(design: SimulationDesign, pool_size: int, rng: np.random.Generator) -> list[Allele]:
    """Distinct deletions of 50-150 bp (size uniform) removing bases on both sides of the cut.

    Each keeps at least ``_LARGE_DELETION_ANCHOR`` bases of the amplicon at either end; the pool is
    empty when the amplicon is too short for that.
    """
    amplicon, c = design.amplicon, design.cut_boundary
    n, anchor = len(amplicon), _LARGE_DELETION_ANCHOR
    low_size, high_size = _LARGE_DELETION
    seen = {amplicon}
    alleles: list[Allele] = []
    if n - 2 * anchor < low_size or not anchor < c < n - anchor:
        return alleles
    return _distinct_deletions(
        amplicon, pool_size, rng, seen, lambda: int(rng.integers(low_size, high_size + 1)),
        lambda length: (max(anchor, c - length + 1), min(c - 1, n - anchor - length)), "ldel", "large_deletion",
    )  # fmt: skip


def draw_pools(
    design: SimulationDesign,
    mix: OutcomeMix,
    pool_size: int,
    rng: np.random.Generator,
    prime_edited: tuple[str, list[dict[str, Any]]] | None = None,
) -> dict[str, list[Allele]]:
    """Allele pools of every class (the base-edit pool is filled later, from the drawn conversions).

    ``prime_edited`` (sequence, events) is the one allele of the ``prime_edit`` class; it draws nothing
    from ``rng``, and an allele of another pool identical to it is an error (its class would be ambiguous).
    """
    pools = _draw_alleles(design, pool_size, rng)
    if mix.large_deletion > 0:
        pools["large_deletion"] = _draw_large_deletions(design, pool_size, rng)
    if mix.prime_edit > 0 and prime_edited is not None:
        sequence, events = prime_edited
        if any(allele.sequence == sequence for pool in pools.values() for allele in pool):
            raise ParameterError("the prime edit recreates an allele of another outcome class; choose another edit")
        pools["prime_edit"] = [Allele("pe", "prime_edit", sequence, events, size=0)]
    return pools


def check_pools(pools: dict[str, list[Allele]], counts: dict[str, int]) -> None:
    """Refuse a mix that gives reads to a class whose pool came out empty for this design."""
    for name in ALL_CLASSES:
        if name != "base_edit" and counts.get(name) and not pools.get(name):
            raise ParameterError(f"no {name} alleles can be drawn for this design")


def _base_edit_allele(amplicon: str, sites: EditSites, mask: int) -> Allele:
    """The allele with the sites whose bit is set in ``mask`` converted."""
    bases = list(amplicon)
    converted = [k for k in range(len(sites.positions)) if mask >> k & 1]
    for k in converted:
        bases[sites.positions[k]] = sites.product
    sequence = "".join(bases)
    label = "-".join(str(p) for p in sorted(sites.protospacer[k] for k in converted)) or "none"
    return Allele(f"be-{label}", "base_edit", sequence, _substitution_events(amplicon, sequence))


def _draw_base_edits(
    amplicon: str, sites: EditSites, count: int, rng: np.random.Generator
) -> tuple[list[Allele], np.ndarray]:
    """Per-unit conversions: the distinct patterns drawn (as alleles) and each unit's pattern index."""
    rates = np.full(len(sites.positions), sites.spec.bystander_rate)
    rates[sites.target] = sites.spec.target_rate
    converted = rng.random((count, len(sites.positions))) < rates
    masks = (converted.astype(np.int64) << np.arange(len(sites.positions), dtype=np.int64)).sum(axis=1)
    patterns, local = np.unique(masks, return_inverse=True)
    return [_base_edit_allele(amplicon, sites, int(mask)) for mask in patterns], local.reshape(-1)


def assign_units(
    design: SimulationDesign,
    pools: dict[str, list[Allele]],
    counts: dict[str, int],
    rng: np.random.Generator,
    sites: EditSites | None,
) -> tuple[list[Allele], np.ndarray]:
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
            pools[name], parts[name] = _draw_base_edits(design.amplicon, sites, counts[name], rng)
        else:
            pool = pools[name]
            weights = None if name == "large_deletion" else _zipf_weights(len(pool))  # large deletions: uniform
            parts[name] = rng.choice(len(pool), size=counts[name], p=weights)
    alleles: list[Allele] = []
    pieces = []
    for name in ALL_CLASSES:
        if name in parts:
            pieces.append(parts[name] + len(alleles))
        alleles.extend(pools.get(name, []))
    assignment = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    return alleles, assignment
