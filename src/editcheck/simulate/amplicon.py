"""``simulate``: reads of one amplicon with known editing outcomes, and their truth.

The run, in order (one seeded generator, so the order of the draws is part of the output):
allele pools per class, molecule sizes (UMI runs), exact per-class counts, the allele of every
unit, the shuffled read order (and UMIs), the reads with their errors; then the truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from editcheck.errors import ParameterError
from editcheck.outputs import write_json
from editcheck.simulate.alleles import Allele, assign_units, check_pools, draw_pools
from editcheck.simulate.designs import SimulationDesign, design_truth
from editcheck.simulate.fastq import ReadNames, output_paths, read_templates, write_reads
from editcheck.simulate.molecules import (
    molecule_sizes,
    molecule_truth,
    pcr_reads_per_molecule,
    shuffled_molecule_reads,
)
from editcheck.simulate.outcomes import BaseEditorSpec, OutcomeMix, exact_counts, resolve_mix
from editcheck.simulate.parameters import check_read_parameters, check_umi_parameters
from editcheck.simulate.prime import PrimeEdit, PrimeEditSpec, prime_edit, prime_edit_truth
from editcheck.simulate.truth import allele_truth, outcome_truth


def _shuffled_reads(alleles: list[Allele], units: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ReadNames]:
    """The allele of every read (the units, shuffled) and the read names ``sim{i:07d}:{allele_id}``."""
    ids = [a.id.encode() for a in alleles]
    assignment = rng.permutation(units) if units.size else units

    def names(begin: int, chunk: np.ndarray) -> list[bytes]:
        return [b"@sim%07d:%s" % (begin + k, ids[a]) for k, a in enumerate(chunk.tolist())]

    return assignment, names


def _prime_edit(design: SimulationDesign, mix: OutcomeMix, spec: PrimeEditSpec | None) -> PrimeEdit | None:
    """The prime edit of the run; a prime_edit share without a spec (or a spec without one) is an error."""
    if mix.prime_edit > 0 and spec is None:
        raise ParameterError("the outcome mix has a prime_edit fraction but no prime_editor was given")
    if spec is not None and mix.prime_edit == 0:
        raise ParameterError("a prime_editor was given but the outcome mix has no prime_edit fraction")
    return prime_edit(design, spec) if spec is not None else None


def _bottleneck_truth(
    alleles: list[Allele], units: np.ndarray, per_molecule: np.ndarray, counts: dict[str, int], cycles: int
) -> dict[str, Any]:
    """The molecules behind the reads of a bottlenecked run: how many, how many were read, per class."""
    sequenced = per_molecule > 0
    read_classes: dict[str, int] = dict.fromkeys(counts, 0)
    for unit in units[sequenced].tolist():
        read_classes[alleles[unit].cls] += 1
    reads = int(per_molecule.sum())
    return {
        "n": int(units.size),
        "sequenced": int(sequenced.sum()),
        "pcr_cycles": cycles,
        "duplicate_reads_percent": 100 * (1 - int(sequenced.sum()) / reads) if reads else 0.0,
        "class_counts": counts,
        "sequenced_class_counts": read_classes,
    }


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
    prime_editor: PrimeEditSpec | None = None,
    template_molecules: int = 0,
    pcr_cycles: int = 12,
    low_quality_rate: float = 0.0,
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

    ``prime_editor`` (see ``editcheck.simulate.prime``) gives the reads of the mix's ``prime_edit``
    share its one intended allele (the mix defaults to 40% prime-edited, 60% unmodified); the truth's
    ``prime_editing`` names the pegRNA spacer and extension that write it.

    ``template_molecules > 0`` (without UMIs) is a molecule bottleneck: each of that many template molecules
    draws its outcome class from the mix (a multinomial draw, not exact counts), each is amplified by PCR over ``pcr_cycles`` cycles with its own efficiency, and
    the reads are drawn from the copies (``pcr_reads_per_molecule``), so read counts are PCR duplicates
    of few molecules; the truth's counts are of reads, its ``template_molecules`` section of molecules.

    ``low_quality_rate`` gives that share of all bases, correct ones too, a quality below Q20 (the
    truth records it when not 0; see :mod:`editcheck.simulate.sequencer`).
    """
    if not 0.0 <= low_quality_rate <= 1.0:
        raise ParameterError(f"low_quality_rate must be between 0 and 1, got {low_quality_rate!r}")
    check_read_parameters(n_reads, read_length, error_rate, alleles_per_class)
    check_umi_parameters(umi_length, reads_per_molecule)
    if template_molecules and umi_length:
        raise ParameterError("template_molecules and umi_length are two ways of making molecules; give one")
    if mix is None and prime_editor is not None:
        mix = OutcomeMix(unmodified=0.6, deletion=0.0, insertion=0.0, substitution=0.0, hdr=0.0, prime_edit=0.4)
    mix, sites = resolve_mix(design, mix, base_editor)
    edit = _prime_edit(design, mix, prime_editor)
    paths = output_paths(out_r1, out_r2)
    paired = len(paths) == 2

    rng = np.random.default_rng(seed)
    prime_allele = (edit.edited_amplicon, edit.events) if edit is not None else None
    pools = draw_pools(design, mix, alleles_per_class, rng, prime_allele)
    sizes = molecule_sizes(n_reads, float(reads_per_molecule), rng) if umi_length else None
    if template_molecules:  # each molecule's outcome is drawn once: the bottleneck samples the mix
        fractions = mix.fractions()
        shares = np.array(list(fractions.values()))
        counts = dict(
            zip(fractions, (int(v) for v in rng.multinomial(template_molecules, shares / shares.sum())), strict=True)
        )
    else:
        counts = exact_counts(n_reads if sizes is None else int(sizes.size), mix.fractions())
    check_pools(pools, counts)
    alleles, units = assign_units(design, pools, counts, rng, sites)
    if template_molecules:
        per_molecule = pcr_reads_per_molecule(template_molecules, n_reads, pcr_cycles, rng)
        assignment, names = _shuffled_reads(alleles, np.repeat(units, per_molecule), rng)
    elif sizes is None:
        assignment, names = _shuffled_reads(alleles, units, rng)
    else:
        assignment, names = shuffled_molecule_reads(alleles, units, sizes, umi_length, rng)
    for index, reads in enumerate(np.bincount(assignment, minlength=len(alleles))):
        alleles[index].reads = int(reads)
    templates = read_templates(alleles, read_length, paired)
    errors, bases = write_reads(paths, templates, assignment, names, read_length, error_rate, rng, low_quality_rate)

    truth: dict[str, Any] = {
        "schema_version": 1,
        "generator": "editcheck simulate",
        "seed": seed,
        "n_reads": n_reads,
        "paired": paired,
        "read_length": read_length,
        "error_rate": float(error_rate),
        "realised_error_rate": errors / bases if bases else 0.0,
        **({"low_quality_rate": float(low_quality_rate)} if low_quality_rate else {}),
        "design": design_truth(design),
        "mix": mix.fractions(),
        **outcome_truth(design, mix, alleles, sites),
    }
    if edit is not None:
        truth["prime_editing"] = prime_edit_truth(edit, sum(a.reads for a in alleles if a.cls == "prime_edit"))
    if template_molecules:
        truth["template_molecules"] = _bottleneck_truth(alleles, units, per_molecule, counts, pcr_cycles)
    molecules: list[int] | None = None
    if sizes is not None:
        truth["molecules"], molecules = molecule_truth(
            n_reads, alleles, units, sizes, counts, design.amplicon, sites, umi_length, float(reads_per_molecule)
        )
    truth["alleles"] = allele_truth(alleles, molecules)
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth
