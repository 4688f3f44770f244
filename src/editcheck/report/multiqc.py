"""MultiQC custom content written into the report folder, so ``multiqc <report folder>`` shows editcheck's
results beside the QC of the other tools of a pipeline (MultiQC's "custom content": files named ``*_mqc``):

* ``editcheck_summary_mqc.tsv``: the headline table, one row per on-target sample (reads, aligned %,
  reads classified, edited % with its 95% CI, target engagement with its 95% CI with a base editor);
* ``editcheck_read_fates_mqc.json``: a bar graph of what became of every sample's reads;
* ``editcheck_offtarget_mqc.tsv``: the per-site calls of the off-target panel (with a panel only).

The plot configuration sits in each file (a ``#``-commented YAML header in the TSVs, written as JSON,
which YAML reads; the keys of the JSON document), the three sections under one "editcheck" heading.
Values are written as the result folders hold them; no timestamps, so reruns give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from editcheck.outputs import atomic_output, format_value, write_json
from editcheck.results.sample_reader import OnTargetSample

SUMMARY_NAME = "editcheck_summary_mqc.tsv"
FATES_NAME = "editcheck_read_fates_mqc.json"
OFFTARGET_NAME = "editcheck_offtarget_mqc.tsv"
PARENT = {
    "parent_id": "editcheck",
    "parent_name": "editcheck",
    "parent_description": "Gene-editing evidence from amplicon sequencing (editcheck): on-target editing with 95% "
    "confidence intervals, what became of the reads, and the off-target panel's calls.",
}
PERCENT = {"min": 0, "max": 100, "suffix": "%", "format": "{:,.2f}"}
COUNT = {"format": "{:,.0f}", "min": 0}
SUMMARY_HEADERS: dict[str, dict[str, Any]] = {
    "amplicon": {"title": "Amplicon", "description": "Amplicon name"},
    "reads": {"title": "Reads", "description": "Reads (pairs) in the input", **COUNT},
    "aligned_percent": {"title": "Aligned", "description": "Reads aligned to the amplicon, % of the input", **PERCENT},
    "classified": {"title": "Classified", "description": "Reads covering the quantification window: the denominator", **COUNT},
    "edited_percent": {"title": "Edited", "description": "Edited reads, % of the reads classified", **PERCENT},
    "edited_ci95_low": {"title": "Edited CI low", "description": "Lower bound of the Wilson 95% CI of the edited %", **PERCENT},
    "edited_ci95_high": {"title": "Edited CI high", "description": "Upper bound of the Wilson 95% CI of the edited %", **PERCENT},
    "target_engagement_percent": {"title": "Target", "description": "Target base converted, % of the reads classified (base editor)", **PERCENT},
    "target_ci95_low": {"title": "Target CI low", "description": "Lower bound of the 95% CI of target engagement", **PERCENT},
    "target_ci95_high": {"title": "Target CI high", "description": "Upper bound of the 95% CI of target engagement", **PERCENT},
}  # fmt: skip
FATES = (
    ("edited", "Classified, edited", "#d62728"),
    ("unedited", "Classified, not edited", "#1f77b4"),
    ("editable_base_masked", "Editable base masked (low quality)", "#9467bd"),
    ("window_not_covered", "Window not covered", "#ff7f0e"),
    ("primer_dimer", "Primer dimer", "#8c564b"),
    ("not_aligned", "Not aligned", "#7f7f7f"),
    ("too_long", "Too long to align", "#bcbd22"),
    ("quality_filtered", "Quality filtered", "#17becf"),
    ("other", "Not counted in a class (e.g. a mate without its partner)", "#c7c7c7"),
)
OFFTARGET_HEADERS: dict[str, dict[str, Any]] = {
    "on_target": {"title": "On-target", "description": "The panel's on-target site"},
    "call": {"title": "Call", "description": "EDITED, NOT_DETECTED or INCONCLUSIVE"},
    "treated_percent": {"title": "Treated", "description": "Edited reads in the treated samples, %", **PERCENT},
    "control_percent": {"title": "Control", "description": "Edited reads in the control samples, %", **PERCENT},
    "excess_percent": {"title": "Excess", "description": "Treated minus control, percentage points", "suffix": " pp", "format": "{:,.3f}"},
    "excess_ci95_low": {"title": "Excess CI low", "description": "Lower bound of the 95% CI of the excess", "suffix": " pp", "format": "{:,.3f}"},
    "excess_ci95_high": {"title": "Excess CI high", "description": "Upper bound of the 95% CI of the excess", "suffix": " pp", "format": "{:,.3f}"},
    "q_value": {"title": "q", "description": "Benjamini-Hochberg q value", "format": "{:.3g}"},
    "lod_percent": {"title": "LOD", "description": "Limit of detection of the decision rule at this site, %", **PERCENT},
    "treated_reads": {"title": "Treated reads", "description": "Reads at the site in the treated samples", **COUNT},
    "control_reads": {"title": "Control reads", "description": "Reads at the site in the control samples", **COUNT},
}  # fmt: skip


def _cell(value: Any) -> str:
    """A table cell: tabs and line breaks would split the row, a leading '#' would make it a header line
    (MultiQC strips the space put before it)."""
    text = " ".join(format_value(value).split()) if isinstance(value, str) else format_value(value)
    return f" {text}" if text.startswith("#") else text


def _write_table(path: Path, config: dict[str, Any], first: str, rows: Sequence[Sequence[Any]]) -> None:
    """A custom-content TSV: the configuration as a commented header, then the columns and rows."""
    header = json.dumps(config, indent=1, ensure_ascii=True)
    with atomic_output(path) as handle:
        handle.writelines(f"# {line}\n" for line in header.splitlines())
        handle.write("\t".join([first, *config["headers"]]) + "\n")
        handle.writelines("\t".join(_cell(value) for value in row) + "\n" for row in rows)


def summary_rows(samples: Sequence[OnTargetSample]) -> list[list[Any]]:
    """One row per sample, in the columns of :data:`SUMMARY_HEADERS` (the last three, target engagement,
    empty without a target base)."""
    rows = []
    for sample in sorted(samples, key=lambda sample: sample.name):
        summary = sample.summary
        reads, edited = summary["reads"], summary["edited"]
        target = ((summary.get("base_editing") or {}).get("target") or {}).get("engagement") or {}
        aligned = 100.0 * reads["aligned"] / reads["input"] if reads.get("input") else 0.0
        rows.append([
            sample.name, summary["design"]["amplicon_name"], reads["input"], aligned, reads["classified"],
            edited["percent"], edited["ci95_low"], edited["ci95_high"], target.get("percent", ""),
            target.get("ci95_low", ""), target.get("ci95_high", ""),
        ])  # fmt: skip
    return rows


def read_fates(sample: OnTargetSample) -> dict[str, int]:
    """What became of one sample's reads: the classes of :data:`FATES`, summing to the input."""
    reads = sample.summary["reads"]
    edited = int(sample.summary["edited"]["reads"])
    fates = {"edited": edited, "unedited": int(reads["classified"]) - edited}
    for name in (
        "editable_base_masked",
        "window_not_covered",
        "primer_dimer",
        "not_aligned",
        "too_long",
        "quality_filtered",
    ):
        fates[name] = int(reads.get(name) or 0)
    fates["other"] = max(0, int(reads["input"]) - sum(fates.values()))
    return fates


def offtarget_rows(panel: dict[str, Any]) -> list[list[Any]]:
    """One row per site of the panel, in the columns of :data:`OFFTARGET_HEADERS`."""
    rows = []
    for site in sorted(panel["sites"], key=lambda site: (not site["on_target"], site["site"])):
        low, high = site["excess_ci95"]
        rows.append([
            site["site"], "yes" if site["on_target"] else "no", site["call"], site.get("treated_percent", ""),
            site.get("control_percent", ""), site["excess_percent"], low, high,
            "" if site.get("q_value") is None else site["q_value"], site["lod_percent"],
            site.get("treated_reads", ""), site.get("control_reads", ""),
        ])  # fmt: skip
    return rows


def write_multiqc(samples: Sequence[OnTargetSample], panel: dict[str, Any] | None, folder: Path) -> list[str]:
    """Write the MultiQC custom-content files into ``folder``; returns their names."""
    names = []
    if samples:
        rows = summary_rows(samples)
        headers = dict(SUMMARY_HEADERS)
        if all(row[-3] == "" for row in rows):  # no target base in any sample: no target columns
            rows = [row[:-3] for row in rows]
            headers = {key: value for key, value in headers.items() if not key.startswith("target_")}
        _write_table(folder / SUMMARY_NAME, {
            "id": "editcheck_summary", "section_name": "On-target editing",
            "description": "Per sample: reads, aligned %, edited % and (with a base editor) target engagement, with "
                           "Wilson 95% confidence intervals over the reads classified.",
            "plot_type": "table", **PARENT,
            "pconfig": {"id": "editcheck_summary_table", "title": "editcheck: on-target editing", "namespace": "editcheck",
                        "col1_header": "Sample"},
            "headers": headers,
        }, "Sample", rows)  # fmt: skip
        write_json(folder / FATES_NAME, {
            "id": "editcheck_read_fates", "section_name": "Read fates",
            "description": "What became of every sample's reads: classified (edited or not), or why not.",
            "plot_type": "bargraph", **PARENT,
            "pconfig": {"id": "editcheck_read_fates_plot", "title": "editcheck: read fates", "ylab": "Reads",
                        "cpswitch_counts_label": "Reads"},
            "categories": {name: {"name": label, "color": color} for name, label, color in FATES},
            "data": {sample.name: read_fates(sample) for sample in sorted(samples, key=lambda sample: sample.name)},
        })  # fmt: skip
        names += [SUMMARY_NAME, FATES_NAME]
    if panel is not None and panel["sites"]:
        _write_table(folder / OFFTARGET_NAME, {
            "id": "editcheck_offtarget", "section_name": "Off-target panel",
            "description": "Per candidate site: the call, editing in treated and control samples, the excess with its "
                           "95% CI, the Benjamini-Hochberg q value and the limit of detection.",
            "plot_type": "table", **PARENT,
            "pconfig": {"id": "editcheck_offtarget_table", "title": "editcheck: off-target calls", "namespace": "editcheck",
                        "col1_header": "Site"},
            "headers": OFFTARGET_HEADERS,
        }, "Site", offtarget_rows(panel))  # fmt: skip
        names.append(OFFTARGET_NAME)
    return names


__all__ = ["FATES_NAME", "OFFTARGET_NAME", "SUMMARY_NAME", "read_fates", "write_multiqc"]
