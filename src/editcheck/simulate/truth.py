"""The truth returned (and written as JSON) by the entry points: per-class counts, sizes, base editing.

Counts are weighted by reads (``Allele.reads``) or, for UMI runs, by molecules; ``expected_classification``
is what a correct classifier reports (a base-edit read without any conversion is unmodified).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from editcheck.simulate.alleles import Allele
from editcheck.simulate.designs import SimulationDesign, to_amplicon
from editcheck.simulate.outcomes import BASE_EDIT_CLASSES, INDEL_CLASSES, EditSites, OutcomeMix


def _class_totals(alleles: list[Allele], weights: list[int], classes: list[str]) -> dict[str, int]:
    totals = dict.fromkeys(classes, 0)
    for allele, weight in zip(alleles, weights, strict=True):
        totals[allele.cls] += weight
    return totals


def expected_classification(alleles: list[Allele], weights: list[int], amplicon: str) -> dict[str, int]:
    """What a classifier should report: base-edit reads without a conversion count as unmodified; with
    prime-edited alleles, their reads under ``prime_edit``."""
    result = {"unmodified": 0, "modified": 0, "hdr": 0}
    if any(allele.cls == "prime_edit" for allele in alleles):
        result["prime_edit"] = 0
    for allele, weight in zip(alleles, weights, strict=True):
        if allele.cls == "unmodified" or (allele.cls == "base_edit" and allele.sequence == amplicon):
            result["unmodified"] += weight
        elif allele.cls in ("hdr", "prime_edit"):
            result[allele.cls] += weight
        else:
            result["modified"] += weight
    return result


def _size_counts(alleles: list[Allele], weights: list[int], cls: str) -> dict[str, int]:
    sizes: Counter[int] = Counter()
    for allele, weight in zip(alleles, weights, strict=True):
        if allele.cls == cls:
            sizes[allele.size] += weight
    return {str(size): count for size, count in sorted(sizes.items()) if count}


def base_editing_counts(alleles: list[Allele], weights: list[int], sites: EditSites) -> dict[str, Any]:
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
    design: SimulationDesign, sites: EditSites, alleles: list[Allele], weights: list[int]
) -> dict[str, Any]:
    spec = sites.spec
    ends = sorted(to_amplicon(design, p) for p in spec.window)
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
        **base_editing_counts(alleles, weights, sites),
    }


def allele_truth(alleles: list[Allele], molecules: list[int] | None = None) -> list[dict[str, Any]]:
    """One row per allele: id, class, sequence, events, reads (and molecules in UMI runs)."""
    rows = [{"id": a.id, "class": a.cls, "sequence": a.sequence, "events": a.events, "reads": a.reads} for a in alleles]
    if molecules is not None:
        for row, count in zip(rows, molecules, strict=True):
            row["molecules"] = count
    return rows


def outcome_truth(
    design: SimulationDesign,
    mix: OutcomeMix,
    alleles: list[Allele],
    sites: EditSites | None,
) -> dict[str, Any]:
    """Read-level class counts, expected classification and size/base-editing summaries of one amplicon."""
    weights = [a.reads for a in alleles]
    truth: dict[str, Any] = {
        "class_counts": _class_totals(alleles, weights, list(mix.fractions())),
        "expected_classification": expected_classification(alleles, weights, design.amplicon),
        "deletion_sizes": _size_counts(alleles, weights, "deletion"),
        "insertion_sizes": _size_counts(alleles, weights, "insertion"),
    }
    if mix.large_deletion > 0:
        truth["large_deletion_sizes"] = _size_counts(alleles, weights, "large_deletion")
    if sites is not None:
        truth["base_editing"] = _base_editing_truth(design, sites, alleles, weights)
    return truth
