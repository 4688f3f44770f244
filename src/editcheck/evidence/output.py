"""The study evidence as files: groups.tsv (item 3), durability.tsv and trends.tsv (item 4), evidence.tsv and
platform.tsv (item 5), and evidence.json holding all five. Rows sorted, numbers with fixed decimals, no
timestamps: the same inputs give the same bytes. The column lists are here, beside the writer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from editcheck import __version__
from editcheck.evidence.groups import GroupEstimate
from editcheck.evidence.series import DurabilitySeries
from editcheck.evidence.table import EvidenceRow, PlatformRow, ThresholdRule
from editcheck.folders import output_folder
from editcheck.outputs import write_json, write_tsv
from editcheck.statistics.durability import DAYS_PER_MONTH, PointEstimate

SCHEMA_VERSION = 1
GROUP_COLUMNS = (
    "design_id", "subject", "model", "tissue", "time_days", "time_point", "condition", "samples", "replicates",
    "unit", "measure", "percent", "ci95_low", "ci95_high", "basis", "edited_percent", "edited_ci95_low",
    "edited_ci95_high", "note",
)  # fmt: skip
DURABILITY_COLUMNS = (
    "design_id", "subject", "model", "tissue", "measure", "time_days", "time_months", "time_point", "samples",
    "replicates", "percent", "ci95_low", "ci95_high", "basis", "change_pp", "change_ci95_low", "change_ci95_high",
)  # fmt: skip
TREND_COLUMNS = (
    "design_id", "subject", "model", "tissue", "measure", "time_points", "slope_logit_per_month",
    "slope_ci95_low", "slope_ci95_high", "slope_pp_per_month", "slope_pp_ci95_low", "slope_pp_ci95_high",
    "mean_level_percent", "degrees_of_freedom", "dispersion", "tau2", "trend_fit", "verdict", "offtarget_edited",
)  # fmt: skip
EVIDENCE_COLUMNS = (
    "design_id", "subject", "model", "tissue", "time_days", "time_point", "measure", "replicates", "percent",
    "ci95_low", "ci95_high", "basis", "control_percent", "control_ci95_low", "control_ci95_high",
    "control_source", "rule", "threshold_percent", "result", "offtarget_sites_tested", "offtarget_edited",
    "offtarget_not_detected", "offtarget_inconclusive", "offtarget_worst_lod_percent", "offtarget_edited_sites",
    "evidence_source", "note",
)  # fmt: skip
PLATFORM_COLUMNS = (
    "design_id", "subject", "verdict", "evidence_rows", "passing_rows", "best_measure", "best_percent",
    "best_ci95_low", "best_ci95_high", "best_result", "best_source", "offtarget_panels", "offtarget_sites_tested",
    "offtarget_edited_sites", "offtarget_inconclusive_calls", "offtarget_worst_lod_percent", "durability",
)  # fmt: skip

DECIMALS = {
    "time_days": 2, "time_months": 2, "percent": 2, "ci95_low": 2, "ci95_high": 2, "edited_percent": 2,
    "edited_ci95_low": 2, "edited_ci95_high": 2, "change_pp": 2, "change_ci95_low": 2, "change_ci95_high": 2,
    "slope_logit_per_month": 4, "slope_ci95_low": 4, "slope_ci95_high": 4, "slope_pp_per_month": 2,
    "slope_pp_ci95_low": 2, "slope_pp_ci95_high": 2, "mean_level_percent": 2, "dispersion": 3, "tau2": 4,
    "control_percent": 2, "control_ci95_low": 2, "control_ci95_high": 2, "threshold_percent": 2,
    "offtarget_worst_lod_percent": 3, "best_percent": 2, "best_ci95_low": 2, "best_ci95_high": 2,
}  # fmt: skip
"""Fixed decimals of each numeric column (the TSV files); the JSON keeps 6 decimals."""


def _estimate(point: PointEstimate | None, prefix: str = "") -> dict[str, Any]:
    if point is None:
        return {f"{prefix}percent": None, f"{prefix}ci95_low": None, f"{prefix}ci95_high": None}
    return {f"{prefix}percent": point.percent, f"{prefix}ci95_low": point.low, f"{prefix}ci95_high": point.high}


def group_records(groups: Sequence[GroupEstimate]) -> list[dict[str, Any]]:
    """groups.tsv rows as dictionaries of raw values."""
    return [
        {"design_id": g.design_id, "subject": g.subject, "model": g.model, "tissue": g.tissue, "time_days": g.time_days,
         "time_point": g.time_label, "condition": g.condition, "samples": ",".join(g.samples),
         "replicates": g.headline.replicates, "unit": g.unit, "measure": g.measure, **_estimate(g.headline),
         "basis": g.headline.basis, **_estimate(g.edited, "edited_"), "note": g.note}
        for g in groups
    ]  # fmt: skip


def durability_records(series: Sequence[DurabilitySeries]) -> list[dict[str, Any]]:
    """durability.tsv rows: one per series and time point, with the change from the series' first time point."""
    records = []
    for entry in series:
        changes = {change.days: change for change in entry.result.changes}
        for point, label, samples in zip(entry.result.points, entry.time_labels, entry.samples):
            change = changes.get(point.days)
            records.append({
                "design_id": entry.design_id, "subject": entry.subject, "model": entry.model, "tissue": entry.tissue,
                "measure": entry.measure, "time_days": point.days, "time_months": point.days / DAYS_PER_MONTH,
                "time_point": label, "samples": ",".join(samples), "replicates": point.replicates, **_estimate(point),
                "basis": point.basis, "change_pp": change.change if change else None,
                "change_ci95_low": change.low if change else None, "change_ci95_high": change.high if change else None,
            })  # fmt: skip
    return records


def trend_records(series: Sequence[DurabilitySeries]) -> list[dict[str, Any]]:
    """trends.tsv rows: one per series, with its verdict and the off-target sites edited at any time point."""
    records = []
    for entry in series:
        trend = entry.result.trend
        numbers: dict[str, Any] = dict.fromkeys(TREND_COLUMNS[6:16])
        if trend is not None:
            numbers = dict(zip(TREND_COLUMNS[6:16], (
                trend.slope, trend.low, trend.high, trend.pp_per_month, trend.pp_low, trend.pp_high,
                trend.level_percent, trend.degrees_of_freedom, trend.dispersion, trend.tau2,
            )))  # fmt: skip
        records.append({
            "design_id": entry.design_id, "subject": entry.subject, "model": entry.model, "tissue": entry.tissue,
            "measure": entry.measure, "time_points": sum(point.has_data for point in entry.result.points), **numbers,
            "trend_fit": trend.model if trend is not None else None, "verdict": entry.result.verdict,
            "offtarget_edited": ",".join(f"{site} ({label})" for site, label in entry.offtarget_edited),
        })  # fmt: skip
    return records


def evidence_records(rows: Sequence[EvidenceRow], rule: ThresholdRule) -> list[dict[str, Any]]:
    """evidence.tsv rows: one per treated group."""
    records = []
    for row in rows:
        group, panel = row.group, row.panel
        records.append({
            "design_id": group.design_id, "subject": group.subject, "model": group.model, "tissue": group.tissue,
            "time_days": group.time_days, "time_point": group.time_label, "measure": group.measure,
            "replicates": group.headline.replicates, **_estimate(group.headline), "basis": group.headline.basis,
            **_estimate(row.control, "control_"), "control_source": row.control_source, "rule": rule.description,
            "threshold_percent": row.threshold_percent, "result": row.result,
            "offtarget_sites_tested": panel.sites_tested if panel else None,
            "offtarget_edited": panel.edited if panel else None,
            "offtarget_not_detected": panel.not_detected if panel else None,
            "offtarget_inconclusive": panel.inconclusive if panel else None,
            "offtarget_worst_lod_percent": panel.worst_lod_percent if panel else None,
            "offtarget_edited_sites": ",".join(panel.edited_sites) if panel else None,
            "evidence_source": row.source, "note": group.note,
        })  # fmt: skip
    return records


def platform_records(rows: Sequence[PlatformRow]) -> list[dict[str, Any]]:
    """platform.tsv rows: one per product (design) and subject."""
    return [
        {"design_id": row.design_id, "subject": row.subject, "verdict": row.verdict, "evidence_rows": row.evidence_rows,
         "passing_rows": row.passing_rows, "best_measure": row.best.group.measure,
         **{f"best_{key}": value for key, value in _estimate(row.best.group.headline).items()},
         "best_result": row.best.result, "best_source": row.best.source, "offtarget_panels": row.panels,
         "offtarget_sites_tested": row.sites_tested,
         "offtarget_edited_sites": ",".join(f"{site} ({label})" for site, label in row.edited_sites),
         "offtarget_inconclusive_calls": row.inconclusive_calls, "offtarget_worst_lod_percent": row.worst_lod_percent,
         "durability": "; ".join(row.durability)}
        for row in rows
    ]  # fmt: skip


def _cell(column: str, value: Any) -> Any:
    if isinstance(value, float) and column in DECIMALS:
        return f"{value:.{DECIMALS[column]}f}"
    return value


def _rounded(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def write_evidence_tables(
    folder: Path,
    groups: Sequence[GroupEstimate],
    series: Sequence[DurabilitySeries],
    rows: Sequence[EvidenceRow],
    platform: Sequence[PlatformRow],
    rule: ThresholdRule = ThresholdRule(),
) -> list[str]:
    """Write the five tables and evidence.json into ``folder`` (each file atomically); returns the file names."""
    tables = {
        "groups.tsv": (GROUP_COLUMNS, group_records(groups)),
        "durability.tsv": (DURABILITY_COLUMNS, durability_records(series)),
        "trends.tsv": (TREND_COLUMNS, trend_records(series)),
        "evidence.tsv": (EVIDENCE_COLUMNS, evidence_records(rows, rule)),
        "platform.tsv": (PLATFORM_COLUMNS, platform_records(platform)),
    }
    for name, (columns, records) in tables.items():
        write_tsv(folder / name, columns, [[_cell(column, record[column]) for column in columns] for record in records])
    document = {
        "schema_version": SCHEMA_VERSION, "tool": "editcheck", "editcheck_version": __version__,
        "rule": {"kind": rule.kind, "percent": rule.percent, "description": rule.description},
        **{name.removesuffix(".tsv"): [{column: _rounded(record[column]) for column in columns} for record in records]
           for name, (columns, records) in tables.items()},
    }  # fmt: skip
    write_json(folder / "evidence.json", document)
    return [*tables, "evidence.json"]


def write_evidence_outputs(
    out_dir: str | Path,
    groups: Sequence[GroupEstimate],
    series: Sequence[DurabilitySeries],
    rows: Sequence[EvidenceRow],
    platform: Sequence[PlatformRow],
    rule: ThresholdRule = ThresholdRule(),
) -> list[Path]:
    """The evidence tables as the result folder ``out_dir``, all or nothing (:func:`editcheck.folders.output_folder`)."""
    with output_folder(out_dir) as staging:
        names = write_evidence_tables(staging, groups, series, rows, platform, rule)
    return [Path(out_dir) / name for name in names]
