"""``simulate_pool``: reads of several amplicons in one FASTQ (or pair), with per-amplicon truth.

The run, in order (one seeded generator): each amplicon's share of the reads, then per amplicon
its allele pools and the allele of each of its reads, then the shuffled reads of all amplicons
with their errors; then the truth.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from editcheck.errors import ParameterError
from editcheck.outputs import write_json
from editcheck.simulate.alleles import Allele, assign_units, check_pools, draw_pools
from editcheck.simulate.designs import SimulationDesign, design_truth, similar_pairs
from editcheck.simulate.fastq import ReadNames, output_paths, read_templates, write_reads
from editcheck.simulate.outcomes import ALL_CLASSES, EditSites, OutcomeMix, exact_counts, resolve_mix
from editcheck.simulate.parameters import check_read_parameters
from editcheck.simulate.truth import allele_truth, outcome_truth

_Resolved = tuple[OutcomeMix, EditSites | None]


def _largest_remainder(total: int, shares: np.ndarray) -> list[int]:
    """Integers proportional to ``shares`` (which sum to 1) that sum to ``total`` exactly."""
    raw = shares * total
    counts = np.floor(raw).astype(np.int64)
    order = sorted(range(len(shares)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: total - int(counts.sum())]:
        counts[i] += 1
    return [int(v) for v in counts]


def _amplicon_shares(
    n_amplicons: int, n_reads: int, concentration: float, rng: np.random.Generator
) -> tuple[np.ndarray, list[int]]:
    """Each amplicon's share, ``0.9 * Dirichlet(concentration) + 0.1 / n``, and its exact read count."""
    shares = 0.9 * rng.dirichlet(np.full(n_amplicons, float(concentration))) + 0.1 / n_amplicons
    shares /= shares.sum()
    return shares, _largest_remainder(n_reads, shares)


def _draw_amplicons(
    designs: list[SimulationDesign],
    resolved: list[_Resolved],
    reads_per_amplicon: list[int],
    alleles_per_class: int,
    rng: np.random.Generator,
) -> tuple[list[list[Allele]], np.ndarray, list[bytes]]:
    """Per amplicon its alleles (with read counts); the pooled allele index of every read, unshuffled;
    and the label ``{amplicon_index}:{allele_id}`` of every pooled allele."""
    per_amplicon: list[list[Allele]] = []
    pieces: list[np.ndarray] = []
    labels: list[bytes] = []
    for index, (design, (amplicon_mix, sites), count) in enumerate(
        zip(designs, resolved, reads_per_amplicon, strict=True)
    ):
        pools = draw_pools(design, amplicon_mix, alleles_per_class, rng)
        counts = exact_counts(count, amplicon_mix.fractions())
        check_pools(pools, counts)
        alleles, units = assign_units(design, pools, counts, rng, sites)
        for allele, reads in zip(alleles, np.bincount(units, minlength=len(alleles)).tolist(), strict=True):
            allele.reads = int(reads)
        pieces.append(units + len(labels))
        labels.extend(b"%d:%s" % (index, a.id.encode()) for a in alleles)
        per_amplicon.append(alleles)
    return per_amplicon, np.concatenate(pieces), labels


def _pooled_names(labels: list[bytes]) -> ReadNames:
    def names(begin: int, chunk: np.ndarray) -> list[bytes]:
        return [b"@sim%07d:%s" % (begin + k, labels[a]) for k, a in enumerate(chunk.tolist())]

    return names


def _amplicon_truths(
    designs: list[SimulationDesign],
    resolved: list[_Resolved],
    per_amplicon: list[list[Allele]],
    shares: np.ndarray,
    reads_per_amplicon: list[int],
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """The truth of every amplicon, and the read counts per class over all of them."""
    amplicons = []
    class_counts: Counter[str] = Counter()
    for index, (design, (amplicon_mix, sites), alleles) in enumerate(zip(designs, resolved, per_amplicon, strict=True)):
        outcome = outcome_truth(design, amplicon_mix, alleles, sites)
        class_counts.update(outcome["class_counts"])
        amplicons.append(
            {
                "index": index,
                "design": design_truth(design),
                "share": float(shares[index]),
                "n_reads": reads_per_amplicon[index],
                "mix": amplicon_mix.fractions(),
                **outcome,
                "alleles": allele_truth(alleles),
            }
        )
    return amplicons, class_counts


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
    check_read_parameters(n_reads, read_length, error_rate, alleles_per_class)
    if not designs:
        raise ParameterError("simulate_pool needs at least one design")
    if not (isinstance(share_concentration, (int, float)) and share_concentration > 0):
        raise ParameterError(f"share_concentration must be positive, got {share_concentration!r}")
    resolved = [resolve_mix(design, mix, None) for design in designs]
    paths = output_paths(out_r1, out_r2)
    paired = len(paths) == 2

    rng = np.random.default_rng(seed)
    shares, reads_per_amplicon = _amplicon_shares(len(designs), n_reads, share_concentration, rng)
    per_amplicon, units, labels = _draw_amplicons(designs, resolved, reads_per_amplicon, alleles_per_class, rng)
    assignment = rng.permutation(units) if units.size else units
    all_alleles = [allele for alleles in per_amplicon for allele in alleles]
    templates = read_templates(all_alleles, read_length, paired)
    errors, bases = write_reads(paths, templates, assignment, _pooled_names(labels), read_length, error_rate, rng)

    amplicons, class_counts = _amplicon_truths(designs, resolved, per_amplicon, shares, reads_per_amplicon)
    truth: dict[str, Any] = {
        "schema_version": 1,
        "generator": "editcheck simulate_pool",
        "seed": seed,
        "n_reads": n_reads,
        "n_amplicons": len(designs),
        "paired": paired,
        "read_length": read_length,
        "error_rate": float(error_rate),
        "realised_error_rate": errors / bases if bases else 0.0,
        "read_name_format": "sim{i:07d}:{amplicon_index}:{allele_id}",
        "reads_per_amplicon": reads_per_amplicon,
        "class_counts": {name: class_counts[name] for name in ALL_CLASSES if name in class_counts},
        "similar_pairs": similar_pairs(designs),
        "amplicons": amplicons,
    }
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth
