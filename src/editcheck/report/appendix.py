"""The evidence appendix: one self-contained HTML page, a cross-sample summary.tsv and manifest.json.

It reads the result folders that ``editcheck quantify`` (on-target) and ``editcheck offtarget``
(candidate sites) wrote, so it can be rebuilt from results alone. Sample names and all other user
text are HTML-escaped by the template engine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from editcheck import __version__
from editcheck.errors import ParameterError
from editcheck.evidence.output import evidence_records, platform_records, write_evidence_tables
from editcheck.evidence.table import ThresholdRule
from editcheck.folders import MARKER, output_folder
from editcheck.outputs import atomic_output, write_json, write_tsv
from editcheck.provenance import build_manifest, dependency_versions, now, sha256
from editcheck.report import plots
from editcheck.report.alleles import allele_view
from editcheck.report.designs import DesignPart, split_by_design, study_evidence
from editcheck.report.durability import durability_plot
from editcheck.report.multiqc import write_multiqc
from editcheck.report.pdf import find_chromium, print_pdf
from editcheck.results.offtarget import load_offtarget
from editcheck.results.sample_reader import OnTargetSample, load_ontarget
from editcheck.statistics.intervals import wilson_interval
from editcheck.statistics.replicates import replicate_interval
from editcheck.study import Study

TEMPLATES = Path(__file__).parent / "templates"
HEATMAP_ROWS = 40
"""Samples per heatmap figure."""
ROWS_PER_FIGURE = 40
"""Samples per figure of one row per sample (editing by sample, read QC)."""


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
                "outcomes": {
                    name: summary["outcomes"][name] for name in sorted(summary["outcomes"], key=_outcome_rank)
                },
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
        edited = [
            (member.summary["molecules"] if unit == "molecules" else member.summary)["edited"] for member in members
        ]
        targets = [
            ((member.summary.get("base_editing") or {}).get("target") or {}).get("engagement") for member in members
        ]
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


def _indel_figures(samples: Sequence[OnTargetSample]) -> list[str]:
    """An indel-size histogram per sample (never pooled), all on one scale (sizes and % of classified reads)."""
    sizes = []
    for sample in samples:
        deletions: dict[int, int] = {}
        insertions: dict[int, int] = {}
        for row in sample.indel_sizes:
            target = deletions if row["kind"] == "deletion" else insertions if row["kind"] == "insertion" else None
            if target is not None:
                target[int(row["size"])] = target.get(int(row["size"]), 0) + int(row["reads"])
        sizes.append((deletions, insertions, int(sample.summary["reads"]["classified"])))
    extent = max([1, *(size for deletions, insertions, _ in sizes for size in [*deletions, *insertions])])
    top = max([0.0, *(100.0 * reads / total for deletions, insertions, total in sizes if total
                      for reads in [*deletions.values(), *insertions.values()])])  # fmt: skip
    top = max(1.0, top)
    return [plots.indel_histogram(sample.name, deletions, insertions, total, extent, top)
            for sample, (deletions, insertions, total) in zip(samples, sizes)]  # fmt: skip


def _heatmap_figures(samples: Sequence[OnTargetSample]) -> list[str]:
    """Per position x sample: with a base editor, the conversion of the editor's base at each editable base of
    the editing window (% of reads covering it); else any change (substitution, deletion, insertion after) at
    each position of the quantification window. Paged :data:`HEATMAP_ROWS` samples at a time."""
    if not samples:
        return []
    editing = samples[0].summary.get("base_editing")
    name = samples[0].summary["design"]["amplicon_name"]
    matrix: dict[str, dict[int, float]] = {}
    marks: dict[int, str] = {}
    if editing:
        label = f"{editing['conversion_amplicon_strand']} conversion (% of reads)"
        for sample in samples:
            for row in sample.base_editing:
                if row["in_editing_window"] == "true":
                    matrix.setdefault(sample.name, {})[int(row["position"])] = float(row["converted_percent_of_reads"])
                    if row["is_target"] == "true":
                        marks[int(row["position"])] = "target"
    else:
        label = "reads changed at the position (%)"
        for sample in samples:
            for row in sample.positions:
                if row["reference"] != name or row["in_window"] != "true" or row["reference_base"] not in "ACGT":
                    continue
                changed = 1 - float(row[row["reference_base"]]) - float(row["N"]) + float(row["insertion_after"])
                matrix.setdefault(sample.name, {})[int(row["position"])] = 100 * max(0.0, changed)
    positions = sorted({position for values in matrix.values() for position in values})
    if not positions:
        return []
    names = [sample.name for sample in samples]
    values = [[matrix.get(sample, {}).get(position, 0.0) for position in positions] for sample in names]
    return [plots.conversion_heatmap(names[i : i + HEATMAP_ROWS], positions, values[i : i + HEATMAP_ROWS], label, marks)
            for i in range(0, len(names), HEATMAP_ROWS)]  # fmt: skip


def _coding_rows(samples: Sequence[OnTargetSample]) -> list[dict[str, Any]]:
    """Frameshift / in-frame / non-coding shares of the modified reads, per sample of a design with exons."""
    return [{"sample": sample.name, **sample.summary["coding"]} for sample in samples if sample.summary.get("coding")]


def _mismatches(first: str, second: str) -> int | None:
    """Mismatches between two protospacers of one length (None when the lengths differ: a bulge)."""
    if len(first) != len(second):
        return None
    return sum(a != b for a, b in zip(first.upper(), second.upper()))


def _panel_sites(panel: dict[str, Any], guides: Sequence[str]) -> list[dict[str, Any]]:
    """The panel's sites with their genome locus and mismatches: as the site sheet gives them (`editcheck
    nominate` writes contig, start, end, strand, mismatches and bulge), else the BAM locus and the mismatches of
    the site's protospacer to the on-target one (the panel's on-target site, else the design's guide)."""
    on_target = [str(site.get("protospacer") or "") for site in panel["sites"] if site["on_target"]]
    reference = next((guide for guide in [*on_target, *guides] if guide), "")
    sites = []
    for site in panel["sites"]:
        protospacer = str(site.get("protospacer") or "")
        locus = str(site.get("locus") or "")
        if site.get("contig"):
            span = f":{site['start']}-{site['end']}" if site.get("start") and site.get("end") else ""
            locus = f"{site['contig']}{span}" + (f" ({site['strand']})" if site.get("strand") else "")
        mismatches: Any = site.get("mismatches")
        if mismatches in (None, ""):
            mismatches = _mismatches(protospacer, reference) if protospacer and reference else None
        bulge = (
            f"{site['bulge_type']} {site.get('bulge_size') or ''}".strip()
            if site.get("bulge_type") not in (None, "", "none")
            else ""
        )
        sites.append({**site, "locus": locus, "protospacer": protospacer, "mismatches": mismatches, "bulge": bulge})
    return sites


def _paged(values: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


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
        scope = "Panels of the study not named here are outside this family."
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
    parts = [
        f"{family}; the panel's on-target site is a single pre-specified test, outside the family.",
        ontarget,
        scope,
    ]
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
    offtarget: str | Path | Sequence[str | Path] | None,
    out_dir: str | Path,
    *,
    title: str = "editcheck evidence appendix",
    config: str | Path | None = None,
    command: list[str] | None = None,
    conditions: dict[str, str] | None = None,
    study: Study | None = None,
    rule: ThresholdRule = ThresholdRule(),
    pdf: bool | None = False,
) -> list[Path]:
    """Write one report for a study (or one design) as the result folder ``out_dir`` (all or nothing, see
    :func:`editcheck.folders.output_folder`): report.html, summary.tsv, conditions.tsv (on-target rates pooled
    per design and condition, replicates as the unit), the study's evidence tables (groups, durability, trends,
    evidence, platform .tsv and evidence.json; when a study or the conditions say which samples are treated),
    manifest.json, the MultiQC custom-content files (:mod:`editcheck.report.multiqc`) and report.pdf, printed by
    headless Chromium (``pdf=None``: when one is installed, as the CLI does; ``True`` requires one).
    ``offtarget``: one or several ``editcheck offtarget`` folders. Results of several designs need ``study`` (see
    :mod:`editcheck.report.designs`). Returns the paths written."""
    started = now()
    out_dir = Path(out_dir)
    panels = [] if offtarget is None else [offtarget] if isinstance(offtarget, str | Path) else list(offtarget)
    for folder in [*ontarget, *panels]:
        inside = Path(os.path.abspath(out_dir)), Path(os.path.abspath(folder))
        if inside[0] == inside[1] or inside[0] in inside[1].parents or inside[1] in inside[0].parents:
            raise ParameterError(
                f"{out_dir}: the report folder must not be, hold or sit inside the result folder {folder}"
            )
    browser = find_chromium() if pdf is not False else None
    if pdf and browser is None:
        raise ParameterError("--pdf: no headless Chromium found (chromium, chromium-browser or google-chrome on PATH)")
    with output_folder(out_dir) as staging:
        names = _write_report(ontarget, panels, staging, out_dir, title=title, config=config, command=command,
                              conditions=conditions, started=started, study=study, rule=rule, browser=browser)  # fmt: skip
    return [out_dir / name for name in names]


def _part_view(part: DesignPart, conditions: dict[str, str] | None) -> dict[str, Any]:
    """What the template draws for one design."""
    samples = part.samples
    rows = _ontarget_rows(samples)
    design = samples[0].summary["design"] if samples else None
    view: dict[str, Any] = {
        "design_id": part.design_id, "samples": samples, "design": design, "ontarget_rows": rows,
        "condition_rows": _condition_rows(samples, conditions), "bystanders": _bystander_rows(samples),
        "coding": _coding_rows(samples), "alleles": [allele_view(sample) for sample in samples],
        "heatmaps": _heatmap_figures(samples), "indels": _indel_figures(samples),
        "settings": samples[0].summary["settings"] if samples else None, "editing": [], "qc": [],
        "panels": [],
    }  # fmt: skip
    if rows:
        values = [((row["target"] or row["edited"])["percent"], (row["target"] or row["edited"])["ci95_low"],
                   (row["target"] or row["edited"])["ci95_high"]) for row in rows]  # fmt: skip
        label = "target engagement" if rows[0]["target"] else "edited reads"
        view["editing"] = [plots.editing_by_sample([row["sample"] for row in page], values[i * ROWS_PER_FIGURE :][: len(page)], label)
                           for i, page in enumerate(_paged(rows, ROWS_PER_FIGURE))]  # fmt: skip
        view["qc"] = [_qc_plot(page, None) for page in _paged(samples, ROWS_PER_FIGURE)]
    guides = [str(guide["sequence"]) for guide in (design or {}).get("guides") or []]
    for folder, panel in part.panels:
        sites = _panel_sites(panel, guides)
        forest = None
        if sites:
            forest = plots.forest_plot(
                [site["site"] + (" (on-target)" if site["on_target"] else "") for site in sites],
                [(site["excess_percent"], *site["excess_ci95"]) for site in sites], [site["call"] for site in sites],
                [site["lod_percent"] for site in sites], [bool(site["on_target"]) for site in sites],
            )  # fmt: skip
        view["panels"].append({**panel, "folder": str(folder), "sites": sites, "forest": forest,
                               "qc": _qc_plot([], panel), "multiplicity": multiplicity_statement(samples, panel)})  # fmt: skip
    if not part.panels:
        view["multiplicity"] = multiplicity_statement(samples, None)
    return view


def _methods(samples: Sequence[OnTargetSample]) -> list[dict[str, Any]]:
    """Every distinct method text of the samples, with the samples it describes."""
    texts: dict[str, list[str]] = {}
    for sample in samples:
        texts.setdefault(str(sample.summary["method"]), []).append(sample.name)
    return [{"text": text, "samples": names} for text, names in texts.items()]


def _merged_panel(parts: Sequence[DesignPart]) -> dict[str, Any] | None:
    """The report's panels as one for the MultiQC table: site ids prefixed with the design when several."""
    panels = [(part.design_id, panel) for part in parts for _, panel in part.panels]
    if len(panels) <= 1:
        return panels[0][1] if panels else None
    sites = [{**site, "site": f"{design_id}:{site['site']}"} for design_id, panel in panels for site in panel["sites"]]
    return {"sites": sites}


def _write_report(
    ontarget: Sequence[str | Path], offtarget: Sequence[str | Path], staging: Path, out_dir: Path, *, title: str,
    config: str | Path | None, command: list[str] | None, conditions: dict[str, str] | None, started: str,
    study: Study | None, rule: ThresholdRule, browser: str | None,
) -> list[str]:  # fmt: skip
    """Write the report's files into ``staging``; returns their names."""
    samples = [load_ontarget(folder) for folder in ontarget]
    if study is not None:
        conditions = {sample.sample: sample.condition for sample in study.samples}
    _check_sample_names(samples, conditions)
    panels = [(Path(folder), load_offtarget(folder)) for folder in offtarget]
    parts = split_by_design(samples, panels, study)
    evidence = study_evidence(parts, study, conditions, rule)
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                              keep_trailing_newline=True)  # fmt: skip
    environment.filters["pct"] = fixed
    environment.filters["sci"] = lambda value: "" if value is None or value == "" else f"{float(value):.2e}"
    environment.filters["pvalue"] = p_value
    ordered = [sample for part in parts for sample in part.samples]
    all_panels = [panel for part in parts for _, panel in part.panels]
    inputs = [entry for part in parts for entry in _inputs(part.samples, None)]
    inputs += [entry for panel in all_panels for entry in _inputs([], panel)]
    checksums = {path: (sha256(path) if Path(path).is_file() else None) for path, _ in inputs}
    durability = [durability_plot(page) for page in _paged(evidence.series, 6)] if evidence else []
    html = environment.get_template("report.html.j2").render(
        title=title,
        version=__version__,
        parts=[_part_view(part, conditions) for part in parts],
        evidence=evidence,
        evidence_records=(
            {"rows": evidence_records(evidence.rows, evidence.rule), "platform": platform_records(evidence.platform)}
            if evidence
            else None
        ),
        durability=durability,
        methods=_methods(ordered),
        run_date=run_date(started),
        study=study,
        provenance={
            "dependencies": dependency_versions(),
            "inputs": [
                {"path": path, "reads": reads, "sha256": checksums[path]} for path, reads in sorted(set(inputs))
            ],
            "command": " ".join(command or []),
        },
    )
    with atomic_output(staging / "report.html") as handle:
        handle.write(html)
    summary = [row for part in parts for row in _summary_rows(part.samples, None, conditions)]
    summary += [row for panel in all_panels for row in _summary_rows([], panel, conditions)]
    summary.sort(key=lambda row: (row[1], str(row[2]), str(row[0])))
    write_tsv(staging / "summary.tsv", SUMMARY_COLUMNS, summary)
    write_tsv(staging / "conditions.tsv", CONDITION_COLUMNS,
              [row for part in parts for row in _condition_table(_condition_rows(part.samples, conditions))])  # fmt: skip
    names = ["report.html", "summary.tsv", "conditions.tsv"]
    if evidence is not None:
        names += write_evidence_tables(staging, evidence.groups, evidence.series, evidence.rows, evidence.platform,
                                       evidence.rule)  # fmt: skip
    names += write_multiqc(ordered, _merged_panel(parts), staging)
    if browser is not None:
        print_pdf(browser, staging / "report.html", staging / "report.pdf", run_date(started))
        names.append("report.pdf")
    result_files = [path for folder in [*ontarget, *offtarget]
                    for path in sorted(Path(folder).rglob("*")) if path.is_file() and path.name != MARKER]  # fmt: skip
    manifest = build_manifest(
        command=command or [],
        parameters={
            "ontarget": [str(folder) for folder in ontarget],
            "offtarget": [str(folder) for folder in offtarget],
            "title": title,
            "conditions": conditions or {},
            "study": None
            if study is None
            else {"designs": str(study.designs_sheet), "samples": str(study.samples_sheet)},
            "rule": {"kind": rule.kind, "percent": rule.percent},
        },
        inputs=inputs,
        outputs=[*result_files, *(staging / name for name in names)],
        started=started,
        config=config,
    )
    for entry in manifest["outputs"]:  # the staged files are named as they will be found: in out_dir
        if Path(entry["path"]).parent == staging:
            entry["path"] = str(out_dir / Path(entry["path"]).name)
    manifest["outputs"].sort(key=lambda entry: entry["path"])
    write_json(staging / "manifest.json", manifest)
    return [*names, "manifest.json"]


def fixed(value: Any, decimals: int = 2) -> str:
    """A percentage (or any number) with fixed decimals; empty for a missing value."""
    return "" if value is None or value == "" else f"{float(value):.{decimals}f}"


def p_value(value: Any) -> str:
    """A p or q value in scientific notation; an underflow to 0 is written as the bound it is."""
    if value is None or value == "":
        return ""
    number = float(value)
    return "< 1e-300" if number < 1e-300 else f"{number:.2e}"


def run_date(started: str) -> str:
    """The run's date (UTC, a day: reruns on one day give the same bytes); ``SOURCE_DATE_EPOCH`` fixes it."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).date().isoformat()
    return started[:10]


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
