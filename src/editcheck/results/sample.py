"""Writer of one sample's on-target result folder: summary.tsv/.json, alleles, positions, indel sizes, base
editing, per-read calls (their rows from :mod:`editcheck.results.read_calls`; the reader is
:mod:`editcheck.results.sample_reader`; the column lists are here)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from editcheck import __version__
from editcheck.alignment.aligner import max_read_length
from editcheck.classification.outcomes import (
    CLASS_LABELS,
    EDITABLE_BASE_MASKED,
    FRAMESHIFT,
    HDR,
    IMPERFECT_HDR,
    IN_FRAME,
    LARGE_DELETION,
    MODIFIED,
    NONCODING,
    NOT_ALIGNED,
    PRIMER_DIMER,
    TOO_LONG,
    WINDOW_NOT_COVERED,
)
from editcheck.engine import SampleResult
from editcheck.errors import ParameterError
from editcheck.folders import output_folder
from editcheck.outputs import write_json, write_tsv, write_tsv_chunks, write_tsv_gz, write_tsv_lines
from editcheck.quantification.background import substitution_background
from editcheck.quantification.base_editing import base_editing_summary, conversion_table
from editcheck.quantification.tally import (
    POSITION_SYMBOLS,
    Allele,
    Proportion,
    applicable_outcomes,
    compiled_allele_line_chunks,
)
from editcheck.statistics.intervals import effective_counts, wilson_bounds

SCHEMA_VERSION = 1
SUMMARY_COLUMNS = ("sample", "group", "name", "reads", "total", "percent", "ci95_low", "ci95_high")
ALLELE_COLUMNS = ("reference", "aligned_sequence", "outcome", "events", "reads", "percent_of_aligned")
POSITION_COLUMNS = ("reference", "position", "reference_base", "in_window", "reads_covering",
                    "A", "C", "G", "T", "N", "deletion", "insertion_after")  # fmt: skip
INDEL_SIZE_COLUMNS = ("kind", "size", "reads", "percent_of_classified")
BASE_EDITING_COLUMNS = (
    "position", "protospacer_position", "reference_base", "in_editing_window", "is_target",
    "reads_covering", "converted_reads", "converted_percent_of_reads", "ci95_low", "ci95_high",
    "from_plus_to_reads", "converted_percent_of_from_plus_to", "ci95_low_from_plus_to",
    "ci95_high_from_plus_to",
)  # fmt: skip
READ_CALL_COLUMNS = ("read_id", "outcome", "events", "base_edit")
METHOD = (
    "Reads collapsed to unique sequences; each aligned end to end to the amplicon (and HDR outcome) with WFA2 "
    "(affine gaps: match 0, mismatch 18, gap open 36, extend 9, i.e. +5/-4/-20/-2 scores), read overhang clipped; "
    "indels moved within equal-scoring placements to the cut site when possible, else leftmost; bases below the "
    "base-quality threshold are masked to N and are never substitutions; a read is modified when a deletion "
    "overlaps the window or an insertion lies inside it, or (with a base editor) the editor's conversion falls in "
    "it; other substitutions in the window are reported, not counted as edits, unless substitutions are counted "
    "(--count-substitutions, CRISPResso2's rule). HDR reads are called by the donor-specific changes they show: "
    "all and no other edit, hdr; some, imperfect_hdr; none, not HDR. The substitution background is the median "
    "per-base substitution rate at positions outside the window. Percentages over reads covering the window, "
    "with Wilson 95% confidence intervals. These intervals describe read sampling only: they treat every read as "
    "an independent draw, so they neither include the variation between biological replicates nor the PCR "
    "duplication of a limited number of template molecules (with --umi, the per-molecule intervals do the "
    "latter). Pool replicates with `editcheck report --samples`, which takes the replicate as the unit."
)


INDEPENDENT_READS = (
    "reads, each assumed an independent draw (no template input given: with few template molecules behind "
    "the reads the intervals are too narrow; give --input-copies or --input-ng, or use UMIs)"
)


def capped(value: dict[str, Any], copies: float | None) -> dict[str, Any]:
    """A proportion (as :meth:`Proportion.as_dict` writes it) with its Wilson 95% interval at the effective
    depth 1/(1/reads + 1/copies): N reads copied from M template molecules carry at most that information."""
    if copies is None or not value["total"]:
        return value
    _, depth = effective_counts(value["reads"], value["total"], copies)
    low, high = wilson_bounds(value["reads"] / value["total"], depth)
    return {
        **value,
        "ci95_low": round(100 * low, 6),
        "ci95_high": round(100 * high, 6),
        "effective_total": round(depth, 3),
    }


def _input_method(result: SampleResult) -> str:
    if result.input_copies is None:
        return ""
    return (
        f" Template input: {result.input_copies:g} copies; the intervals of the edited % and of target engagement "
        "use the effective depth 1/(1/reads + 1/copies) (reads are copies of a limited number of template "
        "molecules), other intervals read sampling only."
    )


def _sampling(result: SampleResult) -> dict[str, Any]:
    """What the per-sample intervals count, for summary.json."""
    if result.input_copies is None:
        return {"unit": INDEPENDENT_READS, "input_copies": None, "effective_classified": None}
    _, depth = effective_counts(0, result.tally.classified, result.input_copies)
    return {"unit": "reads capped by the template input at the effective depth 1/(1/reads + 1/copies)",
            "input_copies": result.input_copies, "effective_classified": round(depth, 3)}  # fmt: skip


def summary_document(result: SampleResult) -> dict[str, Any]:
    """The summary as a JSON-ready dictionary (no timestamps: reruns give the same bytes)."""
    tally = result.tally
    reads = result.reads
    design = result.design
    applicable = applicable_outcomes(design)
    outcomes = {outcome: tally.proportion(outcome).as_dict() for outcome in applicable}
    settings = asdict(result.settings)
    settings["max_read_length"] = max_read_length(design.references, result.settings.classification.max_length_factor)
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": "editcheck",
        "editcheck_version": __version__,
        "sample": result.sample,
        "inputs": list(result.inputs),
        "design": {
            "amplicon_name": design.name,
            "amplicon": design.amplicon.sequence,
            "guides": [
                {
                    "sequence": site.sequence,
                    "start": site.start + 1,
                    "end": site.end,
                    "strand": site.strand,
                    "cut_after": site.cut_point + 1,
                }
                for site in design.guides
            ],
            "cut_offset": design.cut_offset,
            "window": [f"{first}-{last}" for first, last in design.amplicon.window_ranges()],
            "window_rule": design.window_description,
            "hdr_amplicon": design.hdr.sequence if design.hdr else None,
            "prime_edited_amplicon": design.prime_edited.sequence if design.prime_edited else None,
            "prime_edit_notes": list(design.prime_edit.notes) if design.prime_edit else [],
            "notes": list(design.notes),
            "exons": [f"{start + 1}-{end}" for start, end in design.exons],
        },
        "settings": settings,
        "method": f"{METHOD}{_input_method(result)} {_counting_rule(result)}",
        "sampling": _sampling(result),
        "reads": {
            "input": reads.reads_in,
            "paired": reads.paired,
            "quality_filtered": reads.quality_filtered,
            "merged": reads.merged if reads.paired else None,
            "unmerged": reads.unmerged if reads.paired else None,
            "unmerged_used": result.unmerged_used if reads.paired else None,
            "lone_mates": reads.lone_mates if reads.paired else None,
            "unique_sequences": reads.unique_sequences,
            "aligned": tally.aligned,
            "not_aligned": tally.outcomes[NOT_ALIGNED],
            "too_long": tally.outcomes[TOO_LONG],
            "window_not_covered": tally.outcomes[WINDOW_NOT_COVERED],
            "editable_base_masked": tally.outcomes[EDITABLE_BASE_MASKED],
            "primer_dimer": tally.outcomes[PRIMER_DIMER],
            "classified": tally.classified,
            "outcome_ties_resolved_to_amplicon": tally.reference_ties,
        },
        "outcomes": outcomes,
        "outcome_labels": {outcome: CLASS_LABELS[outcome] for outcome in applicable},
        "edited": capped(tally.edited.as_dict(), result.input_copies),
        "edit_types": {
            "insertion": Proportion(tally.with_insertion, tally.classified).as_dict(),
            "deletion": Proportion(tally.with_deletion, tally.classified).as_dict(),
            "substitution": Proportion(tally.with_substitution, tally.classified).as_dict(),
            "other_substitution": Proportion(tally.with_other_substitution, tally.classified).as_dict(),
        },
        "substitution_background": substitution_background(tally),
    }
    if design.hdr is not None:
        hdr_reads = tally.outcomes[HDR] + tally.outcomes[IMPERFECT_HDR]
        document["hdr"] = {
            "donor_changes": [change.label for change in design.donor_changes],
            "imperfect_hdr_missing_donor_changes": Proportion(tally.imperfect_hdr_missing, tally.classified).as_dict(),
            "imperfect_hdr_with_other_edit": Proportion(tally.imperfect_hdr_other_edit, tally.classified).as_dict(),
            "reads_lacking_each_donor_change": {
                change.label: Proportion(tally.donor_change_missing[index], hdr_reads).as_dict()
                for index, change in enumerate(design.donor_changes)
            },
        }
    if result.site is not None:
        document["design"]["genome_site"] = result.site
    if result.molecules is not None and result.molecule_tally is not None:
        molecules, per_molecule = result.molecules, result.molecule_tally
        document["molecules"] = {
            "molecules": molecules.molecules,
            "molecules_dropped": molecules.molecules_dropped,
            "reads_in_molecules": molecules.reads_in_molecules,
            "umis": molecules.umis,
            "umis_merged": molecules.umis_merged,
            "family_size_histogram": {
                str(size): count for size, count in sorted(molecules.family_size_histogram.items())
            },
            "outcomes": {outcome: per_molecule.proportion(outcome).as_dict() for outcome in applicable},
            "edited": per_molecule.edited.as_dict(),
        }
    document["warnings"] = quality_warnings(result)
    base_editing = _base_editing(result)
    if base_editing is not None:
        document["base_editing"] = base_editing
    if design.exons:
        edited_total = tally.outcomes[MODIFIED] + tally.outcomes[LARGE_DELETION]
        document["coding"] = {
            "denominator": "modified reads (including large deletions) on the amplicon",
            **{
                name: Proportion(tally.coding[name], edited_total).as_dict()
                for name in (FRAMESHIFT, IN_FRAME, NONCODING)
            },
            "splice_site": Proportion(tally.splice_sites, edited_total).as_dict(),
        }
    return document


def _base_editing(result: SampleResult) -> dict[str, Any] | None:
    """The base-editing summary, its target engagement interval at the effective depth of the input."""
    editing = base_editing_summary(result.design, result.tally)
    if editing and editing.get("target"):
        editing["target"]["engagement"] = capped(editing["target"]["engagement"], result.input_copies)
    return editing


def headline(result: SampleResult) -> str:
    """The answer to the question asked, first: with a base editor and a target base, the target's conversion
    with its 95% CI (then any change in the window); otherwise the edited reads."""
    edited = capped(result.tally.edited.as_dict(), result.input_copies)
    low, high = edited["ci95_low"], edited["ci95_high"]
    text = f"edited {edited['percent']:.2f}% (95% CI {low:.2f}-{high:.2f})"
    editing = _base_editing(result)
    target = (editing or {}).get("target")
    if not editing or not target:
        return text
    engagement = target["engagement"]
    return (
        f"target conversion {editing['conversion_amplicon_strand']} at {target['amplicon_position']} "
        f"{engagement['percent']:.2f}% (95% CI {engagement['ci95_low']:.2f}-{engagement['ci95_high']:.2f}; "
        f"{engagement['reads']}/{engagement['total']} reads); any change in the window {text.removeprefix('edited ')}"
    )


def _counting_rule(result: SampleResult) -> str:
    """The thresholds and substitution rule this run used, in words for the methods text."""
    classification = result.settings.classification
    if classification.count_substitutions:
        rule = "every substitution in the window counted as an edit (--count-substitutions)"
    elif classification.ignore_substitutions:
        rule = "no substitution counted as an edit (--ignore-substitutions)"
    elif result.design.base_editor is not None:
        rule = f"only the {result.design.base_editor.name} conversion counted among substitutions"
    else:
        rule = "substitutions reported, not counted as edits"
    threshold = result.settings.quality.min_base_quality
    masking = (
        f"base-quality threshold Q{threshold}"
        if not threshold or result.reads.paired or result.molecules is not None
        else f"base-quality threshold Q{threshold} (reads collapsed as sequenced; a base below it is N where the "
        "read differs from its reference or at a base editor's editable base or a donor change, and counts as read "
        "elsewhere; indels as aligned)"
    )
    return f"This run: {masking}; {rule}."


MIN_CLASSIFIED_READS = 1000
MIN_ALIGNED_FRACTION = 0.9
MAX_NOT_COVERING_FRACTION = 0.1
MAX_UNMERGED_FRACTION = 0.1


def quality_warnings(result: SampleResult) -> list[str]:
    """Plain-language warnings about a sample's reads that a reviewer should see next to its numbers."""
    reads, tally = result.reads, result.tally
    analysed = reads.reads_in - reads.quality_filtered
    warnings = []
    if tally.classified < MIN_CLASSIFIED_READS:
        warnings.append(
            f"only {tally.classified} reads cover the window (fewer than {MIN_CLASSIFIED_READS}): wide intervals"
        )
    too_long = tally.outcomes[TOO_LONG]
    if analysed and tally.aligned + too_long < MIN_ALIGNED_FRACTION * analysed and reads.unique_reads:
        warnings.append(
            f"{100 * (1 - (tally.aligned + too_long) / analysed):.1f}% of reads did not align to the amplicon (wrong "
            "amplicon, contamination or primer dimers?)"
        )
    if too_long:
        limit = max_read_length(result.design.references, result.settings.classification.max_length_factor)
        warnings.append(
            f"{too_long} reads ({100 * too_long / max(1, analysed):.2f}%) are longer than {limit} bases and were not "
            "aligned (too_long: concatemers or long insertions?)"
        )
    if tally.aligned and tally.outcomes[WINDOW_NOT_COVERED] > MAX_NOT_COVERING_FRACTION * tally.aligned:
        warnings.append(
            f"{100 * tally.outcomes[WINDOW_NOT_COVERED] / tally.aligned:.1f}% of aligned reads do not cover the whole "
            "window (reads shorter than the amplicon?)"
        )
    if reads.paired and reads.reads_in and reads.unmerged > MAX_UNMERGED_FRACTION * reads.reads_in:
        warnings.append(f"{100 * reads.unmerged / reads.reads_in:.1f}% of pairs did not merge")
    return warnings


def _summary_rows(document: dict[str, Any]) -> list[list[Any]]:
    """summary.tsv's rows: one per (group, name) proportion of summary.json, each with its count, total, percent
    and 95% CI."""
    entries: list[tuple[str, str, dict[str, Any]]] = [
        ("outcome", name, value) for name, value in document["outcomes"].items()
    ]
    entries += [("edit_type", name, value) for name, value in document["edit_types"].items()]
    if "molecules" in document:
        molecules = {**document["molecules"]["outcomes"], "edited": document["molecules"]["edited"]}
        entries += [("molecule_outcome", name, value) for name, value in molecules.items()]
    base_editing = document.get("base_editing") or {}
    entries += [("base_edit", name, value) for name, value in base_editing.get("read_classes", {}).items()]
    if base_editing.get("target"):
        entries.append(("base_edit", "target_engagement", base_editing["target"]["engagement"]))
    coding = document.get("coding", {})
    entries += [
        ("coding", name, coding[name]) for name in (FRAMESHIFT, IN_FRAME, NONCODING, "splice_site") if coding.get(name)
    ]
    entries.append(("total", "edited", document["edited"]))
    sample = document["sample"]
    rows: list[list[Any]] = []
    for group, name, value in entries:
        proportion = [value[key] for key in ("reads", "total", "percent", "ci95_low", "ci95_high")]
        rows.append([sample, group, name, *proportion])
    for name, value in document["reads"].items():
        if isinstance(value, int) and not isinstance(value, bool):
            rows.append([sample, "reads", name, value, "", "", "", ""])
    return rows


def _allele_lines(alleles: Iterable[Allele], total: int) -> Iterator[str]:
    """alleles.tsv's rows as :func:`~editcheck.outputs.write_tsv` writes them (strings as they are, the read count
    as an integer, the percentage by :func:`~editcheck.outputs.format_value`'s ``.6g``), one f-string each; each
    read count's percentage formatted once (most alleles share a few counts: 10M reads' 791k alleles, 734 counts,
    formatted in 0.55 -> 0.31 s; each count's line end made once).  The reference of the compiled lines (:func:`_write_alleles`)."""
    shown: dict[int, str] = {}
    for reference, sequence, outcome, events, reads in alleles:
        end = shown.get(reads)
        if end is None:
            end = shown[reads] = _allele_line_end(reads, total)
        yield f"{reference}\t{sequence}\t{outcome}\t{events}{end}"


def _allele_line_end(reads: int, total: int) -> str:
    """An alleles.tsv line's end: a tab, the read count, a tab, its percentage of ``total`` (``.6g``), the line
    break."""
    return f"\t{reads}\t{100.0 * reads / total if total else 0.0:.6g}\n"


def _write_alleles(path: Path, alleles: Iterable[Allele], total: int) -> None:
    """Write alleles.tsv: its lines made by the compiled ``allele_line_chunks`` where it is built (the same bytes as
    :func:`_allele_lines`, without a Python string per line: 10M reads' 542k alleles written in 0.44-0.58 ->
    0.20-0.25 s, two runs each), else by :func:`_allele_lines`."""
    if compiled_allele_line_chunks is None:
        write_tsv_lines(path, ALLELE_COLUMNS, _allele_lines(alleles, total))
        return
    write_tsv_chunks(
        path, ALLELE_COLUMNS, compiled_allele_line_chunks(alleles, lambda reads: _allele_line_end(reads, total))
    )


def _position_rows(result: SampleResult) -> Iterator[list[Any]]:
    for profile in result.tally.positions:
        coverage = profile.coverage
        for index, base in enumerate(profile.sequence):
            covered = int(coverage[index])
            fractions = [
                (profile.counts[index, column] / covered) if covered else 0.0 for column in range(len(POSITION_SYMBOLS))
            ]
            inserted = profile.insertions_after[index] / covered if covered else 0.0
            yield [
                profile.reference,
                index + 1,
                base,
                profile.window[index],
                covered,
                *(float(f) for f in fractions),
                float(inserted),
            ]


def write_sample_outputs(
    result: SampleResult, out_dir: str | Path, read_calls: Iterator[list[Any]] | None = None
) -> list[Path]:
    """Write every table of one sample as the result folder ``out_dir`` (all or nothing, see
    :func:`editcheck.folders.output_folder`); returns the paths of the tables."""
    with output_folder(out_dir) as staging:
        names = write_sample_tables(result, staging, read_calls)
    return [Path(out_dir) / name for name in names]


def write_sample_tables(
    result: SampleResult, folder: Path, read_calls: Iterator[list[Any]] | None = None,
    metadata: Sequence[tuple[str, str]] = (),
) -> list[str]:  # fmt: skip
    """Write every table of one sample into ``folder`` (created if needed); returns the file names.

    ``metadata`` (column, value) pairs, e.g. a study's subject, tissue and time point, are written as given:
    into summary.json (``metadata``, and ``metadata_columns`` in their order) and as further columns of
    summary.tsv, the value repeated on every row."""
    for key, _ in metadata:
        if key in SUMMARY_COLUMNS:
            raise ParameterError(f"metadata column {key!r} is a column of summary.tsv; rename it")
    folder.mkdir(parents=True, exist_ok=True)
    document = summary_document(result)
    if metadata:
        document["metadata"] = dict(metadata)
        document["metadata_columns"] = [key for key, _ in metadata]
    names = ["summary.json", "summary.tsv", "alleles.tsv", "positions.tsv", "indel_sizes.tsv"]
    write_json(folder / "summary.json", document)
    values = [value for _, value in metadata]
    write_tsv(folder / "summary.tsv", [*SUMMARY_COLUMNS, *(key for key, _ in metadata)],
              [row + values for row in _summary_rows(document)])  # fmt: skip
    # One row at a time: a table of every unique read's allele is not built beside the alleles.
    _write_alleles(folder / "alleles.tsv", result.tally.alleles, result.tally.aligned)
    write_tsv(
        folder / "positions.tsv",
        POSITION_COLUMNS,
        list(_position_rows(result)),
    )
    classified = result.tally.classified
    size_rows = [
        [kind, size, reads, 100.0 * reads / classified if classified else 0.0]
        for kind, sizes in (
            ("deletion", result.tally.deletion_sizes),
            ("insertion", result.tally.insertion_sizes),
            ("large_deletion", result.tally.large_deletion_sizes),
        )
        for size, reads in sorted(sizes.items())
    ]
    write_tsv(folder / "indel_sizes.tsv", INDEL_SIZE_COLUMNS, size_rows)
    if result.design.base_editor is not None:
        rows = conversion_table(result.design, result.tally)
        write_tsv(
            folder / "base_editing.tsv",
            BASE_EDITING_COLUMNS,
            [
                [
                    row.position,
                    row.protospacer_position,
                    row.reference_base,
                    row.in_editing_window,
                    row.is_target,
                    row.converted.total,
                    row.converted.reads,
                    row.converted.percent,
                    *row.converted.interval,
                    row.converted_of_from_plus_to.total,
                    row.converted_of_from_plus_to.percent,
                    *row.converted_of_from_plus_to.interval,
                ]
                for row in rows
            ],
        )
        names.append("base_editing.tsv")
    if read_calls is not None:
        write_tsv_gz(folder / "reads.tsv.gz", READ_CALL_COLUMNS, read_calls)
        names.append("reads.tsv.gz")
    return names


__all__ = ["headline", "summary_document", "write_sample_outputs", "write_sample_tables"]
