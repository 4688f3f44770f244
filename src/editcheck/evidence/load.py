"""Building the evidence inputs from result folders: :class:`SampleEstimate` from ``editcheck quantify`` folders
(summary.json through :mod:`editcheck.results.sample_reader`) and the study's metadata, :class:`PanelSummary`
from an ``editcheck offtarget`` folder (:mod:`editcheck.results.offtarget`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from editcheck.errors import InputFormatError, ParameterError
from editcheck.evidence.records import CONDITIONS, PanelSummary, SampleEstimate, SampleMetadata
from editcheck.offtarget.significance import EDITED, INCONCLUSIVE, NOT_DETECTED
from editcheck.results.offtarget import load_offtarget
from editcheck.results.sample_reader import read_summary
from editcheck.statistics.durability import ReplicateCounts
from editcheck.study.samples import ON_TARGET, StudySample


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _counts(value: Mapping[str, Any], path: Path, where: str) -> ReplicateCounts:
    edited, total = _number(value.get("reads")), _number(value.get("total"))
    effective = _number(value.get("effective_total"))
    if edited is None or total is None or (value.get("effective_total") is not None and effective is None):
        raise InputFormatError(path, f"{where}: counts are not numbers")
    if not 0 <= edited <= total or (effective is not None and effective <= 0 < total):
        raise InputFormatError(path, f"{where}: {edited:g} of {total:g} is not a count of a total")
    return ReplicateCounts(edited, total, effective)


def check_metadata(sample: str, metadata: SampleMetadata) -> None:
    """The metadata a study sheet gives is untrusted: one line naming the sample and the problem."""
    if not metadata.design_id:
        raise ParameterError(f"sample {sample!r}: no design_id")
    if metadata.condition not in CONDITIONS:
        raise ParameterError(
            f"sample {sample!r}: condition {metadata.condition!r} is not one of {', '.join(CONDITIONS)}"
        )
    if metadata.time_days is not None and not math.isfinite(metadata.time_days):
        raise ParameterError(f"sample {sample!r}: time point {metadata.time_label!r} is not a finite number of days")


def sample_estimate(folder: str | Path, metadata: Mapping[str, SampleMetadata]) -> SampleEstimate:
    """One quantify folder's estimate with the metadata of its sample (looked up by the sample name in
    summary.json); a sample the metadata does not name is an error naming the file."""
    return _estimate(Path(folder), read_summary(folder), metadata)


def _estimate(folder: Path, summary: Mapping[str, Any], metadata: Mapping[str, SampleMetadata]) -> SampleEstimate:
    path = folder / "summary.json"
    name = str(summary["sample"])
    if name not in metadata:
        raise InputFormatError(path, f"sample {name!r} is not in the study's sample sheet")
    check_metadata(name, metadata[name])
    molecules = summary.get("molecules")
    if isinstance(molecules, dict) and isinstance(molecules.get("edited"), dict):
        edited, unit = _counts(molecules["edited"], path, "molecules.edited"), "molecules"
    else:
        edited, unit = _counts(summary["edited"], path, "edited"), "reads"
    target = (summary.get("base_editing") or {}).get("target") or {}
    engagement = target.get("engagement") if isinstance(target, dict) else None
    return SampleEstimate(
        name, metadata[name], edited,
        _counts(engagement, path, "base_editing.target.engagement") if isinstance(engagement, dict) else None,
        unit, str(folder),
    )  # fmt: skip


def sample_estimates(folders: Iterable[str | Path], metadata: Mapping[str, SampleMetadata]) -> list[SampleEstimate]:
    """Every folder's estimate, sorted by sample name. A sample given twice, or two samples of one design
    quantified against different amplicons, is an error naming the files."""
    estimates: list[SampleEstimate] = []
    amplicons: dict[str, tuple[str, Path]] = {}
    seen: dict[str, Path] = {}
    for folder in folders:
        summary = read_summary(folder)
        estimate = _estimate(Path(folder), summary, metadata)
        path = Path(folder) / "summary.json"
        if estimate.sample in seen:
            raise InputFormatError(path, f"sample {estimate.sample!r} is also the sample of {seen[estimate.sample]}")
        seen[estimate.sample] = path
        amplicon = str(summary["design"]["amplicon"]).upper()
        known = amplicons.setdefault(estimate.design_id, (amplicon, path))
        if known[0] != amplicon:
            raise InputFormatError(
                path,
                f"design {estimate.design_id!r}: quantified against another amplicon than {known[1]} (wrong design_id?)",
            )
        estimates.append(estimate)
    return sorted(estimates, key=lambda estimate: estimate.sample)


def panel_summary(
    folder: str | Path, design_id: str, subject: str = "", time_days: float | None = None, time_label: str = ""
) -> PanelSummary:
    """The off-target sites' calls of one ``editcheck offtarget`` folder, for a design (and a subject and
    time point when the panel was run per subject and time point)."""
    document = load_offtarget(folder)
    path = Path(folder) / "offtarget_calls.json"
    counts = {EDITED: 0, NOT_DETECTED: 0, INCONCLUSIVE: 0}
    sites, edited_sites, lods = [], [], []
    for number, site in enumerate(document["sites"]):
        if site["on_target"]:
            continue
        if site["call"] not in counts:
            raise InputFormatError(path, f"sites[{number}]: unknown call {site['call']!r}")
        counts[site["call"]] += 1
        sites.append(str(site["site"]))
        if site["call"] == EDITED:
            edited_sites.append(str(site["site"]))
        elif site["call"] == NOT_DETECTED:
            lods.append(float(site["lod_percent"]))
    return PanelSummary(
        design_id, subject, time_days, time_label, tuple(sorted(sites)), counts[EDITED], counts[NOT_DETECTED],
        counts[INCONCLUSIVE], max(lods) if lods else None, tuple(sorted(edited_sites)), str(folder),
    )  # fmt: skip


def panel_scope(panel_samples: Sequence[str], study_samples: Iterable[StudySample]) -> tuple[str, float | None, str]:
    """Whom an off-target panel speaks for: (subject, time point in days, time point as written) when every
    treated sample of the panel (by name, as the samples sheet gives them) names one subject, the time point
    too when they share one; ("", None, "") otherwise: a design-wide panel, whose EDITED sites are flagged for
    every subject of the design. Controls (mocks) carry no subject and are not counted."""
    by_name = {sample.sample: sample for sample in study_samples}
    treated = [by_name[name] for name in panel_samples if name in by_name and not by_name[name].is_control]
    subjects = {sample.subject for sample in treated}
    if len(subjects) != 1 or "" in subjects:
        return "", None, ""
    times = {None if sample.time_point is None else (sample.time_point.days, sample.time_point.text)
             for sample in treated}  # fmt: skip
    time = times.pop() if len(times) == 1 else None
    return subjects.pop(), None if time is None else time[0], "" if time is None else time[1]


def study_metadata(samples: Iterable[StudySample]) -> dict[str, SampleMetadata]:
    """sample name -> :class:`SampleMetadata` of every on-target sample of a study's samples sheet (the
    sheet's free columns, dose included, carried in ``extra`` as written)."""
    known = {"design_id", "condition", "replicate", "assay", "subject", "model", "tissue", "time_point", "pair"}
    return {
        sample.sample: SampleMetadata(
            sample.design_id,
            sample.condition,
            sample.replicate,
            sample.subject,
            sample.model,
            sample.tissue,
            None if sample.time_point is None else sample.time_point.days,
            "" if sample.time_point is None else sample.time_point.text,
            tuple((column, value) for column, value in sample.metadata if column not in known),
        )
        for sample in samples
        if sample.assay == ON_TARGET
    }
