"""``simulate``: reads of one amplicon with known editing outcomes, and their truth.

The run, in order (one seeded generator, so the order of the draws is part of the output):
allele pools per class, molecule sizes (UMI runs), exact per-class counts, the allele of every
unit, the shuffled read order (and UMIs), the reads with their errors; then the truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from editcheck.outputs import write_json
from editcheck.simulate.alleles import Allele, assign_units, check_pools, draw_pools
from editcheck.simulate.designs import SimulationDesign, design_truth
from editcheck.simulate.fastq import ReadNames, output_paths, read_templates, write_reads
from editcheck.simulate.molecules import molecule_sizes, molecule_truth, shuffled_molecule_reads
from editcheck.simulate.outcomes import BaseEditorSpec, OutcomeMix, exact_counts, resolve_mix
from editcheck.simulate.parameters import check_read_parameters, check_umi_parameters
from editcheck.simulate.truth import allele_truth, outcome_truth


def _shuffled_reads(alleles: list[Allele], units: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ReadNames]:
    """The allele of every read (the units, shuffled) and the read names ``sim{i:07d}:{allele_id}``."""
    ids = [a.id.encode() for a in alleles]
    assignment = rng.permutation(units) if units.size else units

    def names(begin: int, chunk: np.ndarray) -> list[bytes]:
        return [b"@sim%07d:%s" % (begin + k, ids[a]) for k, a in enumerate(chunk.tolist())]

    return assignment, names


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
    check_read_parameters(n_reads, read_length, error_rate, alleles_per_class)
    check_umi_parameters(umi_length, reads_per_molecule)
    mix, sites = resolve_mix(design, mix, base_editor)
    paths = output_paths(out_r1, out_r2)
    paired = len(paths) == 2

    rng = np.random.default_rng(seed)
    pools = draw_pools(design, mix, alleles_per_class, rng)
    sizes = molecule_sizes(n_reads, float(reads_per_molecule), rng) if umi_length else None
    counts = exact_counts(n_reads if sizes is None else int(sizes.size), mix.fractions())
    check_pools(pools, counts)
    alleles, units = assign_units(design, pools, counts, rng, sites)
    if sizes is None:
        assignment, names = _shuffled_reads(alleles, units, rng)
    else:
        assignment, names = shuffled_molecule_reads(alleles, units, sizes, umi_length, rng)
    for index, reads in enumerate(np.bincount(assignment, minlength=len(alleles))):
        alleles[index].reads = int(reads)
    templates = read_templates(alleles, read_length, paired)
    errors, bases = write_reads(paths, templates, assignment, names, read_length, error_rate, rng)

    truth: dict[str, Any] = {
        "schema_version": 1,
        "generator": "editcheck simulate",
        "seed": seed,
        "n_reads": n_reads,
        "paired": paired,
        "read_length": read_length,
        "error_rate": float(error_rate),
        "realised_error_rate": errors / bases if bases else 0.0,
        "design": design_truth(design),
        "mix": mix.fractions(),
        **outcome_truth(design, mix, alleles, sites),
    }
    molecules: list[int] | None = None
    if sizes is not None:
        truth["molecules"], molecules = molecule_truth(
            n_reads, alleles, units, sizes, counts, design.amplicon, sites, umi_length, float(reads_per_molecule)
        )
    truth["alleles"] = allele_truth(alleles, molecules)
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth
