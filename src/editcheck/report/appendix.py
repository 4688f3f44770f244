"""The evidence appendix: one self-contained HTML page, a cross-sample summary.tsv and manifest.json.

It reads the result folders that ``editcheck quantify`` (on-target) and ``editcheck offtarget``
(candidate sites) wrote, so it can be rebuilt from results alone. Sample names and all other user
text are HTML-escaped by the template engine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from editcheck import __version__
from editcheck.errors import ParameterError
from editcheck.folders import MARKER, output_folder
from editcheck.outputs import atomic_output, write_json, write_tsv
from editcheck.provenance import build_manifest, dependency_versions, now, sha256
from editcheck.report import plots
from editcheck.report.multiqc import write_multiqc
from editcheck.results.offtarget import load_offtarget
from editcheck.results.sample_reader import OnTargetSample, load_ontarget
from editcheck.statistics.intervals import wilson_interval
from editcheck.statistics.replicates import replicate_interval

TEMPLATES = Path(__file__).parent / "templates"
ALLELE_PLOT_ALLELES = 12
PLOT_FLANK = 20


def _outcome_rank(name: str) -> tuple[int, str]:
    """Report order of outcome classes (summary.json stores them with sorted keys)."""
    from editcheck.classification.outcomes import CLASSIFIED

    return (CLASSIFIED.index(name) if name in CLASSIFIED else len(CLASSIFIED), name)


def _ontarget_rows(samples: Sequence[OnTargetSample]) -> list[dict[str, Any]]:
    rows = []
    for sample in samples:
        summary = sample.summary
        editing = summary.get("base_editing") or {}
        target = (editing.get("target") or {}).get("engagement")
        classes = editing.get("read_classes", {})
        rows.append(
            {
                "sample": sample.name,
                "amplicon": summary["design"]["amplicon_name"],
                "reads": summary["reads"]["input"],
                "classified": summary["reads"]["classified"],
                "edited": summary["edited"],
                "input_copies": (summary.get("sampling") or {}).get("input_copies"),
                "target": target,
                "intended_only": classes.get("intended_only"),
                "intended_and_bystander": classes.get("intended_and_bystander"),
                "bystander_only": classes.get("bystander_only"),
                "indel": classes.get("indel") or summary["edit_types"].get("deletion"),
                "outcomes": {name: summary["outcomes"][name] for name in sorted(summary["outcomes"], key=_outcome_rank)},
            }
        )
    return rows


def _condition_rows(samples: Sequence[OnTargetSample], conditions: dict[str, str] | None) -> list[dict[str, Any]]:
    """Per amplicon and condition, the editing rate pooled over replicates with the replicate as the unit
    (:func:`editcheck.statistics.replicates.replicate_interval`); molecule counts when UMIs were used.
    Samples without a condition are left out (a pooled estimate needs the sample sheet)."""
    groups: dict[tuple[str, str], list[OnTargetSample]] = {}
    for sample in samples:
        condition = (conditions or {}).get(sample.name)
        if condition:
            groups.setdefault((sample.summary["design"]["amplicon_name"], condition), []).append(sample)
    rows = []
    for (amplicon, condition), members in sorted(groups.items()):
        members = sorted(members, key=lambda member: member.name)
        unit = "molecules" if all("molecules" in member.summary for member in members) else "reads"
        edited = [(member.summary["molecules"] if unit == "molecules" else member.summary)["edited"] for member in members]
        targets = [((member.summary.get("base_editing") or {}).get("target") or {}).get("engagement") for member in members]
        row: dict[str, Any] = {"amplicon": amplicon, "condition": condition, "samples": [m.name for m in members],
                               "unit": unit, "edited": _pooled([(e["reads"], e["total"]) for e in edited]), "target": None}  # fmt: skip
        if unit == "reads" and all(targets):
            row["target"] = _pooled([(t["reads"], t["total"]) for t in targets if t is not None])
        rows.append(row)
    return rows


def _pooled(counts: list[tuple[int, int]]) -> dict[str, Any]:
    estimate = replicate_interval(counts)
    return {"percent": 100 * estimate.proportion, "ci95_low": 100 * estimate.low, "ci95_high": 100 * estimate.high,
            "replicates": estimate.replicates, "basis": estimate.basis}  # fmt: skip


def _allele_plot(sample: OnTargetSample) -> str:
    design = sample.summary["design"]
    reference = design["amplicon"]
    guides = design["guides"]
    centre = guides[0]["cut_after"] if guides else len(reference) // 2
    start, end = max(0, centre - PLOT_FLANK), min(len(reference), centre + PLOT_FLANK)
    alleles: list[tuple[str, float]] = []
    merged: dict[str, float] = {}
    for allele in sample.alleles:
        if allele["reference"] != design["amplicon_name"] or allele["outcome"] == "not_aligned":
            continue
        window = _reference_columns(allele["aligned_sequence"])[start:end]
        merged[window] = merged.get(window, 0.0) + float(allele["percent_of_aligned"])
    alleles = sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:ALLELE_PLOT_ALLELES]
    return plots.allele_plot(reference, alleles, start, end, f"{sample.name}: alleles around the cut ({start + 1}-{end})")


def _reference_columns(aligned: str) -> str:
    """An aligned sequence without its insertions (lower case), so columns match the reference."""
    return "".join(base for base in aligned if not base.islower())


def _profile_plot(sample: OnTargetSample) -> str:
    positions = [int(row["position"]) for row in sample.positions if row["reference"] == sample.summary["design"]["amplicon_name"]]
    rows = [row for row in sample.positions if row["reference"] == sample.summary["design"]["amplicon_name"]]
    series = {
        "deletion": [100 * float(row["deletion"]) for row in rows],
        "insertion": [100 * float(row["insertion_after"]) for row in rows],
    }
    editing = sample.summary.get("base_editing")
    if editing:
        to_base = editing["conversion_amplicon_strand"].split(">")[1]
        from_base = editing["conversion_amplicon_strand"].split(">")[0]
        series[f"{from_base}>{to_base}"] = [
            100 * float(row[to_base]) if row["reference_base"] == from_base else 0.0 for row in rows
        ]
    else:
        series["substitution"] = [
            100 * (1 - float(row[row["reference_base"]]) - float(row["deletion"]) - float(row["N"])) if row["reference_base"] in "ACGT" else 0.0
            for row in rows
        ]  # fmt: skip
    window = [int(row["position"]) for row in rows if row["in_window"] == "true"]
    return plots.position_profile(positions, series, window, f"{sample.name}: per-position profile")


def _indel_plot(samples: Sequence[OnTargetSample]) -> str:
    deletions: dict[int, int] = {}
    insertions: dict[int, int] = {}
    total = 0
    for sample in samples:
        total += int(sample.summary["reads"]["classified"])
        for row in sample.indel_sizes:
            target = deletions if row["kind"] == "deletion" else insertions if row["kind"] == "insertion" else None
            if target is not None:
                target[int(row["size"])] = target.get(int(row["size"]), 0) + int(row["reads"])
    return plots.indel_sizes(dict(sorted(deletions.items())), dict(sorted(insertions.items())), total)


def _qc_plot(samples: Sequence[OnTargetSample], offtarget: dict[str, Any] | None) -> str:
    names: list[str] = []
    fates: dict[str, list[int]] = {
        "classified": [], "window_not_covered": [], "primer_dimer": [], "not_aligned": [], "too_long": [],
    }  # fmt: skip
    for sample in samples:
        reads = sample.summary["reads"]
        names.append(sample.name)
        for fate in fates:
            fates[fate].append(int(reads.get(fate) or 0))
    if offtarget is not None:
        for entry in offtarget["assignments"]:
            names.append(f"{entry['sample']} (panel)")
            fates["classified"].append(sum(entry["assigned"].values()))
            fates["window_not_covered"].append(0)
            fates["primer_dimer"].append(0)
            fates["not_aligned"].append(entry["unassigned"] + entry["ambiguous"])
            fates["too_long"].append(entry.get("too_long", 0))
    return plots.read_qc(names, fates)


def multiplicity_statement(samples: Sequence[OnTargetSample], panel: dict[str, Any] | None) -> str:
    """The report's family for false-discovery control, in words: what was adjusted and what was not."""
    ontarget = (
        "The on-target editing rates (per sample, and per condition with the replicate as the unit) are "
        "estimates with 95% intervals, not tests, and are not adjusted for multiplicity."
        if samples else ""
    )  # fmt: skip
    if panel is None:
        return f"Multiplicity: {ontarget} No off-target panel is part of this report."
    off_target = [site for site in panel["sites"] if not site["on_target"]]
    q = (panel.get("settings") or {}).get("q_threshold", 0.05)
    others = (panel.get("fdr_family") or {}).get("other_panels") or []
    if others:
        family = (
            f"Multiplicity: the FDR family spans the study: this panel's {len(off_target)} off-target sites and the "
            f"{sum(other['off_target_sites'] for other in others)} of {len(others)} other panel(s) "
            f"({', '.join(Path(other['calls']).parent.name or other['calls'] for other in others)}) were adjusted "
            f"together by Benjamini-Hochberg and called EDITED at q < {q:g}"
        )
        scope = ("Panels of the study not named here are outside this family.")
    else:
        family = (
            f"Multiplicity: the FDR family is this report's off-target panel: its {len(off_target)} off-target "
            f"sites were adjusted together by Benjamini-Hochberg and called EDITED at q < {q:g}"
        )
        scope = (
            "A study of several guides, panels or time points controls the FDR within each panel, not across the "
            "study (across panels the false calls add up), unless the panels are run with `editcheck offtarget "
            "--fdr-with`."
        )
    parts = [f"{family}; the panel's on-target site is a single pre-specified test, outside the family.", ontarget, scope]
    return " ".join(part for part in parts if part)


def _summary_rows(
    samples: Sequence[OnTargetSample], offtarget: dict[str, Any] | None, conditions: dict[str, str] | None = None
) -> list[list[Any]]:
    """One row per sample x site (cross-sample summary.tsv)."""
    rows: list[list[Any]] = []
    for sample in samples:
        summary = sample.summary
        edited = summary["edited"]
        target = ((summary.get("base_editing") or {}).get("target") or {}).get("engagement") or {}
        rows.append([
            sample.name, "on_target", summary["design"]["amplicon_name"], (conditions or {}).get(sample.name, ""),
            summary["reads"]["input"],
            summary["reads"]["classified"], edited["reads"], edited["percent"], edited["ci95_low"], edited["ci95_high"],
            target.get("percent", ""), target.get("ci95_low", ""), target.get("ci95_high", ""), "", "", "", "", "",
        ])  # fmt: skip
    if offtarget is not None:
        conditions = {entry["sample"]: entry["condition"] for entry in offtarget["assignments"]}
        for site in offtarget["sites"]:
            for replicate in site["treated"] + site["control"]:
                reads, edited = replicate["reads"], replicate["edited"]
                low, high = wilson_interval(edited, reads)
                rows.append([
                    replicate["sample"], "off_target_panel", site["site"], conditions.get(replicate["sample"], ""), "",
                    reads, edited, 100 * edited / reads if reads else 0.0, 100 * low, 100 * high, "", "", "",
                    site["call"], site["q_value"], site["lod_percent"], site["excess_percent"],
                    site.get("excess_upper95_percent", ""),
                ])  # fmt: skip
    rows.sort(key=lambda row: (row[1], str(row[2]), str(row[0])))
    return rows


SUMMARY_COLUMNS = [
    "sample", "assay", "site", "condition", "reads_in", "reads_classified", "edited_reads", "edited_percent",
    "edited_ci95_low", "edited_ci95_high", "target_engagement_percent", "target_ci95_low", "target_ci95_high",
    "site_call", "site_q_value", "site_lod_percent", "site_excess_percent", "site_excess_upper95_percent",
]  # fmt: skip
CONDITION_COLUMNS = [
    "amplicon", "condition", "replicates", "samples", "unit", "edited_percent", "edited_ci95_low", "edited_ci95_high",
    "target_engagement_percent", "target_ci95_low", "target_ci95_high", "interval_basis",
]  # fmt: skip


def _condition_table(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    table = []
    for row in rows:
        target = row["target"] or {}
        table.append([
            row["amplicon"], row["condition"], row["edited"]["replicates"], ",".join(row["samples"]), row["unit"],
            row["edited"]["percent"], row["edited"]["ci95_low"], row["edited"]["ci95_high"], target.get("percent", ""),
            target.get("ci95_low", ""), target.get("ci95_high", ""), row["edited"]["basis"],
        ])  # fmt: skip
    return table


def write_report(
    ontarget: Sequence[str | Path],
    offtarget: str | Path | None,
    out_dir: str | Path,
    *,
    title: str = "editcheck evidence appendix",
    config: str | Path | None = None,
    command: list[str] | None = None,
    conditions: dict[str, str] | None = None,
) -> list[Path]:
    """Write report.html, summary.tsv, conditions.tsv (on-target rates pooled per condition, replicates
    as the unit), manifest.json and the MultiQC custom-content files (:mod:`editcheck.report.multiqc`) as
    the result folder ``out_dir`` (all or nothing, see :func:`editcheck.folders.output_folder`); returns
    their paths."""
    started = now()
    out_dir = Path(out_dir)
    for folder in [*ontarget, *([offtarget] if offtarget is not None else [])]:
        inside = Path(os.path.abspath(out_dir)), Path(os.path.abspath(folder))
        if inside[0] == inside[1] or inside[0] in inside[1].parents or inside[1] in inside[0].parents:
            raise ParameterError(f"{out_dir}: the report folder must not be, hold or sit inside the result folder {folder}")
    with output_folder(out_dir) as staging:
        multiqc = _write_report(ontarget, offtarget, staging, out_dir, title=title, config=config, command=command,
                                conditions=conditions, started=started)  # fmt: skip
    names = ["report.html", "summary.tsv", "conditions.tsv", "manifest.json", *multiqc]
    return [out_dir / name for name in names]


def _write_report(
    ontarget: Sequence[str | Path], offtarget: str | Path | None, staging: Path, out_dir: Path, *, title: str,
    config: str | Path | None, command: list[str] | None, conditions: dict[str, str] | None, started: str,
) -> list[str]:  # fmt: skip
    """Write the report's files into ``staging``; returns the names of the MultiQC files among them."""
    samples = [load_ontarget(folder) for folder in ontarget]
    _check_sample_names(samples, conditions)
    panel = load_offtarget(offtarget) if offtarget is not None else None
    figures: dict[str, Any] = {"alleles": [], "profiles": []}
    if samples:
        treated_first = sorted(samples, key=lambda s: (s.summary["edited"]["percent"] == 0, s.name))
        figures["alleles"].append(_allele_plot(treated_first[0]))
        figures["profiles"] = [_profile_plot(sample) for sample in samples]
        figures["indels"] = _indel_plot(samples)
        rows = _ontarget_rows(samples)
        figures["editing"] = plots.editing_by_sample(
            [row["sample"] for row in rows],
            [((row["target"] or row["edited"])["percent"], (row["target"] or row["edited"])["ci95_low"],
              (row["target"] or row["edited"])["ci95_high"]) for row in rows],  # fmt: skip
            "target engagement" if rows and rows[0]["target"] else "edited reads",
        )
    if samples or panel:
        figures["qc"] = _qc_plot(samples, panel)
    if panel is not None and panel["sites"]:
        figures["forest"] = plots.forest_plot(
            [site["site"] + (" (on-target)" if site["on_target"] else "") for site in panel["sites"]],
            [(site["excess_percent"], *site["excess_ci95"]) for site in panel["sites"]],
            [site["call"] for site in panel["sites"]],
            [site["lod_percent"] for site in panel["sites"]],
            [bool(site["on_target"]) for site in panel["sites"]],
        )
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                              keep_trailing_newline=True)  # fmt: skip
    environment.filters["pct"] = lambda value: "" if value is None or value == "" else f"{float(value):.3g}"
    environment.filters["sci"] = lambda value: "" if value is None else f"{float(value):.3g}"
    ontarget_rows = _ontarget_rows(samples)
    condition_rows = _condition_rows(samples, conditions)
    bystanders = _bystander_rows(samples)
    inputs = _inputs(samples, panel)
    checksums = {path: (sha256(path) if Path(path).is_file() else None) for path, _ in inputs}
    html = environment.get_template("report.html.j2").render(
        title=title,
        version=__version__,
        samples=samples,
        ontarget_rows=ontarget_rows,
        condition_rows=condition_rows,
        bystanders=bystanders,
        panel=panel,
        figures=figures,
        methods=[sample.summary["method"] for sample in samples[:1]],
        multiplicity=multiplicity_statement(samples, panel),
        settings=samples[0].summary["settings"] if samples else None,
        design=samples[0].summary["design"] if samples else None,
        provenance={
            "dependencies": dependency_versions(),
            "inputs": [{"path": path, "reads": reads, "sha256": checksums[path]} for path, reads in sorted(set(inputs))],
            "command": " ".join(command or []),
        },
    )
    with atomic_output(staging / "report.html") as handle:
        handle.write(html)
    write_tsv(staging / "summary.tsv", SUMMARY_COLUMNS, _summary_rows(samples, panel, conditions))
    write_tsv(staging / "conditions.tsv", CONDITION_COLUMNS, _condition_table(condition_rows))
    multiqc = write_multiqc(samples, panel, staging)
    result_files = [path for folder in [*ontarget, *([offtarget] if offtarget else [])]
                    for path in sorted(Path(folder).rglob("*")) if path.is_file() and path.name != MARKER]  # fmt: skip
    outputs = [*result_files, staging / "report.html", staging / "summary.tsv", staging / "conditions.tsv",
               *(staging / name for name in multiqc)]  # fmt: skip
    manifest = build_manifest(
        command=command or [],
        parameters={
            "ontarget": [str(folder) for folder in ontarget],
            "offtarget": str(offtarget) if offtarget else None,
            "title": title,
            "conditions": conditions or {},
        },
        inputs=inputs,
        outputs=outputs,
        started=started,
        config=config,
    )
    for entry in manifest["outputs"]:  # the staged files are named as they will be found: in out_dir
        if Path(entry["path"]).parent == staging:
            entry["path"] = str(out_dir / Path(entry["path"]).name)
    manifest["outputs"].sort(key=lambda entry: entry["path"])
    write_json(staging / "manifest.json", manifest)
    return multiqc


def _check_sample_names(samples: Sequence[OnTargetSample], conditions: dict[str, str] | None) -> None:
    """Every on-target sample once, and in the sample sheet when one gives the conditions."""
    seen: dict[str, Path] = {}
    for sample in samples:
        if sample.name in seen:
            raise ParameterError(f"sample {sample.name!r} is given twice: {seen[sample.name]} and {sample.folder}")
        seen[sample.name] = sample.folder
        if conditions and sample.name not in conditions:
            raise ParameterError(f"sample {sample.name!r} ({sample.folder}) is not in the --samples sheet")


def _inputs(samples: Sequence[OnTargetSample], panel: dict[str, Any] | None) -> list[tuple[str, int | None]]:
    """Every read file behind the report, with its number of reads (pairs for paired input)."""
    inputs: list[tuple[str, int | None]] = []
    for sample in samples:
        for path in sample.summary["inputs"]:
            inputs.append((path, sample.summary["reads"]["input"]))
    if panel is not None:
        reads_in = {entry["sample"]: entry["reads_in"] for entry in panel["assignments"]}
        for entry in panel["samples"]:
            for key in ("r1", "r2", "bam"):
                if entry.get(key):
                    inputs.append((entry[key], reads_in.get(entry["sample"])))
    return inputs


def _bystander_rows(samples: Sequence[OnTargetSample]) -> list[dict[str, Any]]:
    rows = []
    for sample in samples:
        for row in sample.base_editing:
            if row["in_editing_window"] == "true":
                rows.append({"sample": sample.name, **row})
    return rows
