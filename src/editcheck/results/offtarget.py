"""An off-target panel result folder (``offtarget``): offtarget_calls.tsv and .json, methods.txt and one
pooled folder per sample under samples/ (:mod:`editcheck.results.pool`); writer and reader."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from editcheck import __version__
from editcheck.errors import InputFormatError
from editcheck.folders import output_folder, safe_name, safe_names
from editcheck.offtarget.panel import PanelResult
from editcheck.offtarget.significance import methods_text
from editcheck.outputs import atomic_output, write_json, write_tsv
from editcheck.results.files import NUMBER, check_document, read_json, read_tsv
from editcheck.results.pool import read_assignment, write_pool_tables
from editcheck.schemas import SCHEMA_VERSION
from editcheck.sheets import SITE_GENOME_COLUMNS as SITE_GENOME_FIELDS

CALL_COLUMNS = (
    "site_id", "on_target", "call", "treated_edited", "treated_reads", "treated_percent", "treated_ci95_low",
    "treated_ci95_high", "control_edited", "control_reads", "control_percent", "control_ci95_low", "control_ci95_high",
    "excess_percent", "excess_ci95_low", "excess_ci95_high", "excess_upper95_percent", "p_value", "q_value",
    "lod_percent", "replicates_treated", "replicates_control", "editor", "reason", *SITE_GENOME_FIELDS,
)  # fmt: skip


def write_panel_outputs(result: PanelResult, out_dir: str | Path) -> None:
    """The result folder ``out_dir`` of a panel, all or nothing (see :func:`editcheck.folders.output_folder`)."""
    with output_folder(out_dir) as staging:
        write_panel_tables(result, staging)


def write_panel_tables(result: PanelResult, out_dir: Path) -> None:
    """offtarget_calls.tsv and .json (every number behind each call, settings, methods), and the
    per-sample site quantifications under samples/<sample folder>/ (see :func:`editcheck.folders.safe_name`)."""
    editors = {site.site_id: site.editor for site in result.sites}
    sites = {site.site_id: site for site in result.sites}
    folders = safe_names(list(result.per_sample), "sample")
    for sample, pool in result.per_sample.items():
        write_pool_tables(pool, out_dir / "samples" / folders[sample])
    rows = []
    for call in result.calls:
        rows.append([
            call.site, call.on_target, call.call, call.treated_edited, call.treated_reads, call.treated_percent,
            *call.treated_ci95, call.control_edited, call.control_reads, call.control_percent, *call.control_ci95,
            call.excess_percent, *call.excess_ci95, call.excess_upper95_percent, call.p_value, call.q_value,
            call.lod_percent, call.replicates_treated, call.replicates_control, editors[call.site], call.reason,
            *(dict(sites[call.site].genome).get(column, "") for column in SITE_GENOME_FIELDS),
        ])  # fmt: skip
    other_sites = sum(len(panel.p_values) for panel in result.other_panels)
    methods = methods_text(result.settings, [editor for editor in editors.values() if editor != "NUCLEASE"],
                           result.dispersion, result.unit, (len(result.other_panels), other_sites))  # fmt: skip
    write_json(
        out_dir / "offtarget_calls.json",
        {
            "schema_version": SCHEMA_VERSION,
            "tool": "editcheck",
            "editcheck_version": __version__,
            "settings": {
                "q_threshold": result.settings.q_threshold,
                "min_effect_percent": 100 * result.settings.min_effect,
                "min_reads": result.settings.min_reads,
                "max_background_percent": 100 * result.settings.max_background,
                "power": result.settings.power,
                "test": result.settings.test,
            },
            "dispersion": (
                {
                    "tau2": result.dispersion.tau2,
                    "method": result.dispersion.method,
                    "units": result.dispersion.units,
                    "degrees_of_freedom": None if math.isinf(result.dispersion.degrees) else result.dispersion.degrees,
                    "unit_sampling_variance": result.dispersion.sampling,
                }
                if result.dispersion is not None
                else None
            ),
            "methods": methods,
            "fdr_family": {
                "off_target_sites": sum(not call.on_target for call in result.calls) + other_sites,
                "other_panels": [
                    {"calls": panel.path, "off_target_sites": len(panel.p_values)} for panel in result.other_panels
                ],
            },
            "samples": [
                {
                    "sample": s.sample,
                    "condition": s.condition,
                    "replicate": s.replicate,
                    "pair": s.pair,
                    "input_copies": s.input_copies,
                    "r1": str(s.r1) if s.r1 else None,
                    "r2": str(s.r2) if s.r2 else None,
                    "bam": str(s.bam) if s.bam else None,
                    "folder": f"samples/{folders[s.sample]}",
                }
                for s in result.samples
            ],
            "sites": [
                {
                    **call.as_dict(),
                    "editor": editors[call.site],
                    "amplicon": sites[call.site].design.amplicon.sequence,
                    "protospacer": sites[call.site].design.guides[0].sequence
                    if sites[call.site].design.guides
                    else None,
                    "locus": sites[call.site].locus,
                    **{column: dict(sites[call.site].genome).get(column) for column in SITE_GENOME_FIELDS},
                }
                for call in result.calls
            ],
        },
    )
    write_tsv(out_dir / "offtarget_calls.tsv", CALL_COLUMNS, rows)
    with atomic_output(out_dir / "methods.txt") as handle:
        handle.write(methods + "\n")


CALLS_SCHEMA: dict[str, Any] = {"samples": list, "sites": list, "methods": str, "settings": dict}
CALLS_SAMPLE_SCHEMA: dict[str, Any] = {"sample": str, "condition": str}
CALLS_SITE_SCHEMA: dict[str, Any] = {
    "site": str, "on_target": bool, "call": str, "excess_percent": NUMBER, "excess_ci95": list, "lod_percent": NUMBER,
    "treated": list, "control": list,
}  # fmt: skip


def read_calls_table(folder: str | Path) -> list[dict[str, str]]:
    """offtarget_calls.tsv of a panel folder as rows of strings, its columns checked."""
    return read_tsv(Path(folder) / "offtarget_calls.tsv", CALL_COLUMNS)


def read_methods(folder: str | Path) -> str:
    """methods.txt of a panel folder (without its final newline)."""
    path = Path(folder) / "methods.txt"
    try:
        return path.read_text(encoding="utf-8").removesuffix("\n")
    except FileNotFoundError:
        raise InputFormatError(path, "file not found (is this an editcheck result folder?)") from None
    except UnicodeDecodeError:
        raise InputFormatError(path, "not a text file") from None


def load_offtarget(folder: str | Path) -> dict[str, Any]:
    """Calls and per-sample assignment of one ``editcheck offtarget`` folder."""
    folder = Path(folder)
    document: dict[str, Any] = read_json(folder / "offtarget_calls.json")
    check_document(document, CALLS_SCHEMA, folder / "offtarget_calls.json")
    for number, sample in enumerate(document["samples"]):
        check_document(sample, CALLS_SAMPLE_SCHEMA, folder / "offtarget_calls.json", f"samples[{number}]")
    for number, site in enumerate(document["sites"]):
        check_document(site, CALLS_SITE_SCHEMA, folder / "offtarget_calls.json", f"sites[{number}]")
    assignments = []
    for sample in document["samples"]:
        assignment = read_assignment(folder / "samples" / safe_name(sample["sample"]))
        assignments.append({"sample": sample["sample"], "condition": sample["condition"], **assignment})
    document["assignments"] = assignments
    document["folder"] = str(folder)
    return document
