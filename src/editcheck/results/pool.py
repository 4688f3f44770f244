"""A pooled result folder (``quantify-pool``, and each sample of an off-target panel): one sample folder per
amplicon (:mod:`editcheck.results.sample`), pool_summary.tsv and assignment.json; writer and reader. With
``quantify-pool --write-bam`` each amplicon's folder also holds its reads.bam (:func:`write_pool_bams`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from editcheck import __version__
from editcheck.engine import PoolResult
from editcheck.folders import output_folder, safe_names
from editcheck.outputs import write_json, write_tsv
from editcheck.results.bam import write_bam
from editcheck.results.files import NUMBER, check_document, read_json, read_tsv
from editcheck.results.sample import capped, write_sample_tables
from editcheck.schemas import SCHEMA_VERSION

POOL_SUMMARY_COLUMNS = (
    "amplicon", "reads_assigned", "classified", "edited_reads", "edited_percent", "ci95_low", "ci95_high",
    "molecules_classified", "edited_molecules", "edited_molecules_percent", "folder",
)  # fmt: skip
ASSIGNMENT_SCHEMA: dict[str, Any] = {"reads_in": NUMBER, "assigned": dict, "unassigned": NUMBER, "ambiguous": NUMBER}


def write_pool_bams(result: PoolResult, folder: Path, command: str = "editcheck quantify-pool") -> list[str]:
    """One reads.bam (+ .bai, amplicon.fa + .fai) in each amplicon's folder of a pooled result (the folders of
    :func:`write_pool_tables`): the unique reads assigned to that amplicon, on it as contig, tagged as
    :mod:`editcheck.results.bam` says (reads assigned to no amplicon are in none). ``result`` must hold its
    alignments (``quantify_pool(..., keep_alignments=True)``). Returns the files written, relative to ``folder``."""
    folders = safe_names([sample.design.name for sample in result.samples], "amplicon")
    written = []
    for sample in result.samples:
        name = folders[sample.design.name]
        written += [f"{name}/{file}" for file in write_bam(sample, folder / name, command=command)]
    return written


def write_pool_outputs(result: PoolResult, out_dir: str | Path) -> None:
    """The result folder ``out_dir`` of a pooled run, all or nothing (see
    :func:`editcheck.folders.output_folder`)."""
    with output_folder(out_dir) as staging:
        write_pool_tables(result, staging)


def write_pool_tables(result: PoolResult, folder: Path) -> None:
    """One folder of tables per amplicon (named by :func:`editcheck.folders.safe_name`), plus
    pool_summary.tsv and assignment.json (both with the original amplicon names) into ``folder``."""
    folders = safe_names([sample.design.name for sample in result.samples], "amplicon")
    rows = []
    for sample in result.samples:
        write_sample_tables(sample, folder / folders[sample.design.name])
        edited = sample.tally.edited
        interval = capped(edited.as_dict(), sample.input_copies)
        low, high = interval["ci95_low"], interval["ci95_high"]
        per_molecule = sample.molecule_tally
        molecules = ["", "", ""] if per_molecule is None else [
            per_molecule.classified, per_molecule.edited.reads, per_molecule.edited.percent]  # fmt: skip
        rows.append([sample.design.name, result.assigned[sample.design.name], sample.tally.classified, edited.reads,
                     edited.percent, low, high, *molecules, folders[sample.design.name]])  # fmt: skip
    write_json(
        folder / "assignment.json",
        {
            "schema_version": SCHEMA_VERSION,
            "tool": "editcheck",
            "editcheck_version": __version__,
            "reads_in": result.reads.reads_in,
            "unique_sequences": result.reads.unique_sequences,
            "assigned": result.assigned,
            "ambiguous": result.ambiguous,
            "unassigned": result.unassigned,
            "folders": folders,
            "too_long": result.too_long,
            "method": "k-mer candidates (k=12, both strands; every N-free k-mer of a read whose sampled k-mers "
            "hold masked bases), then alignment score over the covered span; ties are ambiguous; reads longer "
            "than the best candidate's maximum read length are too_long; with one amplicon every read is "
            "counted in its tables, as quantify counts it",
        },
    )
    write_tsv(
        folder / "pool_summary.tsv",
        POOL_SUMMARY_COLUMNS,
        rows,
    )


def read_pool_summary(folder: str | Path) -> list[dict[str, str]]:
    """pool_summary.tsv of a pooled folder as rows of strings, its columns checked."""
    return read_tsv(Path(folder) / "pool_summary.tsv", POOL_SUMMARY_COLUMNS)


def read_assignment(folder: str | Path) -> dict[str, Any]:
    """assignment.json of a pooled folder (reads in, assigned per amplicon, ambiguous, unassigned, ...)."""
    path = Path(folder) / "assignment.json"
    document: dict[str, Any] = read_json(path)
    check_document(document, ASSIGNMENT_SCHEMA, path)
    return document
