"""UMI runs: molecules with distinct random UMIs, each sequenced as one or more reads (PCR duplicates).

Every molecule yields max(1, Poisson(``reads_per_molecule``)) reads; the last molecule is trimmed so
the run has exactly ``n_reads`` reads.  Reads of all molecules are shuffled together and named
``sim{i:07d}:{allele_id}_{UMI}``.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from editcheck.errors import ParameterError
from editcheck.simulate.alleles import Allele
from editcheck.simulate.fastq import ReadNames
from editcheck.simulate.outcomes import EditSites
from editcheck.simulate.primitives import BASES
from editcheck.simulate.truth import base_editing_counts, expected_classification

_BASE_ASCII = np.frombuffer(BASES.encode(), dtype=np.uint8)


def molecule_sizes(n_reads: int, mean: float, rng: np.random.Generator) -> np.ndarray:
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


def shuffled_molecule_reads(
    alleles: list[Allele], units: np.ndarray, sizes: np.ndarray, umi_length: int, rng: np.random.Generator
) -> tuple[np.ndarray, ReadNames]:
    """The allele of every read (molecule ``m`` repeated ``sizes[m]`` times, shuffled) and the read names."""
    ids = [a.id.encode() for a in alleles]
    read_molecule = rng.permutation(np.repeat(np.arange(units.size), sizes)) if units.size else units
    assignment = units[read_molecule]
    umis = _unique_umis(int(units.size), umi_length, rng)

    def names(begin: int, chunk: np.ndarray) -> list[bytes]:
        molecules = read_molecule[begin : begin + chunk.size].tolist()
        return [
            b"@sim%07d:%s_%s" % (begin + k, ids[a], umis[m])
            for k, (a, m) in enumerate(zip(chunk.tolist(), molecules, strict=True))
        ]

    return assignment, names


def molecule_truth(
    n_reads: int,
    alleles: list[Allele],
    units: np.ndarray,
    sizes: np.ndarray,
    counts: dict[str, int],
    amplicon: str,
    sites: EditSites | None,
    umi_length: int,
    reads_per_molecule: float,
) -> tuple[dict[str, Any], list[int]]:
    """The truth's ``molecules`` section (molecule-level counts) and the molecules of each allele."""
    molecules = [int(v) for v in np.bincount(units, minlength=len(alleles))]
    histogram = Counter(sizes.tolist())
    truth: dict[str, Any] = {
        "n": int(units.size),
        "umi_length": umi_length,
        "reads_per_molecule": float(reads_per_molecule),
        "mean_reads_per_molecule": n_reads / units.size if units.size else 0.0,
        "reads_per_molecule_histogram": {str(k): v for k, v in sorted(histogram.items())},
        "class_counts": counts,
        "expected_classification": expected_classification(alleles, molecules, amplicon),
    }
    if sites is not None:
        truth["base_editing"] = base_editing_counts(alleles, molecules, sites)
    return truth, molecules


def pcr_reads_per_molecule(n_molecules: int, n_reads: int, cycles: int, rng: np.random.Generator) -> np.ndarray:
    """Reads of each of ``n_molecules`` template molecules after PCR (no UMIs): a molecule bottleneck.

    Each molecule is amplified for ``cycles`` cycles with its own efficiency e ~ Beta(16, 4) (copies
    grow by Binomial(copies, e) per cycle: branching, so early luck is amplified: jackpots), then the
    ``n_reads`` reads are a multinomial draw over all copies. Molecules with no read are not sequenced;
    with reads near or above the molecules, read counts vary far more than binomial(reads, p).
    """
    if isinstance(n_molecules, bool) or not isinstance(n_molecules, int) or n_molecules < 1:
        raise ParameterError(f"template_molecules must be a positive integer, got {n_molecules!r}")
    if isinstance(cycles, bool) or not isinstance(cycles, int) or not 1 <= cycles <= 30:
        raise ParameterError(f"pcr_cycles must be an integer in 1-30, got {cycles!r}")
    efficiency = rng.beta(16.0, 4.0, size=n_molecules)
    copies = np.ones(n_molecules, dtype=np.int64)
    for _ in range(cycles):
        copies += rng.binomial(copies, efficiency)
    reads: np.ndarray = rng.multinomial(n_reads, copies / copies.sum()).astype(np.int64)
    return reads
