"""Seeded simulation of amplicon-sequencing reads with known editing outcomes.

The simulator draws a pool of alleles per outcome class (unmodified, deletion, insertion,
substitution, HDR and, optionally, large deletions and base-editor conversions), assigns exact
numbers of reads to each class, and writes FASTQ reads with substitution-only sequencing errors
whose qualities are low, so a Q<20 mask removes nearly all of them.  The truth (alleles, their
events and read counts) is returned and optionally written as JSON.  Optional extras: UMIs with
PCR duplicates (``simulate(umi_length=...)``), PCR copies of few template molecules without UMIs
(``simulate(template_molecules=...)``), prime edits (``simulate(prime_editor=...)``), pooled amplicons
(``random_pool`` and ``simulate_pool``) and whole studies (``simulate.study``).  Same design, parameters and seed give byte-identical files in the same
environment; runs that use none of the extras are byte-identical to earlier versions.

The simulator is the test oracle of editcheck, so it keeps its own, deliberately independent
primitives (reverse complement and pattern search in ``primitives``, its own FASTQ writer in
``fastq``) instead of importing the library's: a bug shared by the oracle and the code under test
would go unseen.
It imports from the library only the error types and the atomic output writers.

The public API is the names below, imported from ``editcheck.simulate``; the modules are internal:

* ``designs`` -- ``SimulationDesign``, ``random_design``, ``random_pool``;
* ``outcomes`` -- the outcome classes, ``OutcomeMix``, ``BaseEditorSpec`` and where it acts;
* ``alleles`` -- the allele pools of each class and the allele of every read or molecule;
* ``sequencer`` -- sequencing errors and base qualities;
* ``fastq`` -- read templates and (gzip) FASTQ writing;
* ``molecules`` -- UMIs and PCR duplicates;
* ``truth`` -- the truth document;
* ``amplicon`` and ``pool`` -- the entry points ``simulate`` and ``simulate_pool``;
* ``prime`` -- a prime edit, its allele and the pegRNA that writes it;
* ``study`` -- ``simulate_study``: a small study with its sheets and truth (``editcheck simulate-study``,
  the bundled demo);
* ``command`` -- what ``editcheck simulate`` writes (nuclease/HDR, base-editor or prime-editor reads);
* ``parameters`` and ``primitives`` -- parameter checks and the independent sequence primitives.
"""

from __future__ import annotations

from editcheck.simulate.amplicon import simulate
from editcheck.simulate.designs import SimulationDesign, random_design, random_pool
from editcheck.simulate.outcomes import BaseEditorSpec, OutcomeMix
from editcheck.simulate.pool import simulate_pool

__all__ = [
    "BaseEditorSpec",
    "OutcomeMix",
    "SimulationDesign",
    "random_design",
    "random_pool",
    "simulate",
    "simulate_pool",
]
