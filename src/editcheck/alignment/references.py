"""Former home of the derived references (HDR outcome, prime-edit alleles, window projection), kept so
that imports written before the design package keep working: they live in :mod:`editcheck.design.references`,
below the aligner, so the design no longer imports from ``alignment`` (#11)."""

from __future__ import annotations

from editcheck.design.references import (
    MAX_END_OVERHANG,
    MIN_DONOR_IDENTITY,
    amplicon_ends_missing,
    build_prime_edit,
    donor_changes,
    map_positions,
    place_donor,
    project_reference,
    templated_allele,
)

__all__ = [
    "MAX_END_OVERHANG", "MIN_DONOR_IDENTITY", "amplicon_ends_missing", "build_prime_edit", "donor_changes",
    "map_positions", "place_donor", "project_reference", "templated_allele",
]  # fmt: skip
