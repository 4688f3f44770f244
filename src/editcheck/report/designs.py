"""Which design each result of a report belongs to, and the study evidence behind the report's overview.

A report covers one study: each on-target sample and off-target panel is assigned to its design, and the
report draws each design in a section of its own (samples of different designs never share a table or a
plot). With a study (its designs and samples sheets) the samples sheet says which design each sample
belongs to; without one, results quantified against different designs (another amplicon or guide) are
refused: nothing else could say which of them belong together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from editcheck.errors import ParameterError
from editcheck.evidence.groups import GroupEstimate, group_estimates
from editcheck.evidence.load import panel_scope, panel_summary, sample_estimates, study_metadata
from editcheck.evidence.records import CONDITIONS, SampleMetadata
from editcheck.evidence.series import DurabilitySeries, durability_series
from editcheck.evidence.table import EvidenceRow, PlatformRow, ThresholdRule, evidence_table, platform_table
from editcheck.results.sample_reader import OnTargetSample
from editcheck.study import Study


@dataclass
class DesignPart:
    """One design's section of the report: its on-target samples (sorted by name) and its panels."""

    design_id: str
    samples: list[OnTargetSample] = field(default_factory=list)
    panels: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class StudyEvidence:
    """The evidence of the study (:mod:`editcheck.evidence`) the report's overview shows and writes."""

    groups: list[GroupEstimate]
    series: list[DurabilitySeries]
    rows: list[EvidenceRow]
    platform: list[PlatformRow]
    rule: ThresholdRule


def _design_key(sample: OnTargetSample) -> tuple[str, tuple[str, ...]]:
    design = sample.summary["design"]
    return str(design["amplicon"]).upper(), tuple(
        str(guide["sequence"]).upper() for guide in design.get("guides") or []
    )


def split_by_design(samples: Sequence[OnTargetSample], panels: Sequence[tuple[Path, dict[str, Any]]],
                    study: Study | None) -> list[DesignPart]:  # fmt: skip
    """The report's designs in order (the study's designs sheet order; else the one design) with their
    samples and panels. Without a study, results of more than one design are a :class:`ParameterError`."""
    parts: dict[str, DesignPart] = {}
    if study is None:
        keys = {_design_key(sample): sample for sample in samples}
        if len(keys) > 1:
            names = ", ".join(
                f"{sample.folder} ({sample.summary['design']['amplicon_name']})" for sample in keys.values()
            )
            raise ParameterError(f"the results are of {len(keys)} different designs ({names}): give the study's sheets "
                                 "(--study-designs and --study-samples) saying which design each sample belongs to")  # fmt: skip
        if len(panels) > 1:
            raise ParameterError(
                "several off-target panels need the study's sheets saying which design each belongs to"
            )
        name = str(samples[0].summary["design"]["amplicon_name"]) if samples else "panel"
        return [DesignPart(name, sorted(samples, key=lambda sample: sample.name), list(panels))]
    design_of = {sample.sample: sample.design_id for sample in study.samples}
    for design_id in study.designs:
        parts[design_id] = DesignPart(design_id)
    for sample in samples:
        if sample.name not in design_of:
            raise ParameterError(
                f"{sample.folder}: sample {sample.name!r} is not in the study's samples sheet {study.samples_sheet}"
            )
        parts[design_of[sample.name]].samples.append(sample)
    for folder, panel in panels:
        designs = {design_of.get(str(entry["sample"])) for entry in panel["samples"]}
        if None in designs or len(designs) != 1:
            raise ParameterError(
                f"{folder}: the panel's samples are not the samples of one design of the study's samples sheet "
                f"{study.samples_sheet}"
            )
        parts[str(designs.pop())].panels.append((folder, panel))
    for part in parts.values():
        part.samples.sort(key=lambda sample: sample.name)
    return [part for part in parts.values() if part.samples or part.panels]


def study_evidence(parts: Sequence[DesignPart], study: Study | None, conditions: Mapping[str, str] | None,
                   rule: ThresholdRule) -> StudyEvidence | None:  # fmt: skip
    """The evidence of the report's samples: from the study's metadata, or (one design without a study) from
    the samples' conditions; None when neither says which samples are treated."""
    if study is not None:
        metadata = study_metadata(study.samples)
    elif conditions:
        design_id = parts[0].design_id
        metadata = {name: SampleMetadata(design_id, condition) for name, condition in conditions.items()
                    if condition in CONDITIONS}  # fmt: skip
    else:
        return None
    folders = [sample.folder for part in parts for sample in part.samples if sample.name in metadata]
    if not folders:
        return None
    estimates = sample_estimates(folders, metadata)
    # A panel whose treated samples are one subject's speaks for that subject (and time point), else for the design.
    summaries = [
        panel_summary(folder, part.design_id, *(
            panel_scope([str(entry["sample"]) for entry in panel["samples"]], study.samples) if study else ("", None, "")
        ))
        for part in parts
        for folder, panel in part.panels
    ]  # fmt: skip
    groups = group_estimates(estimates)
    series = durability_series(estimates, summaries)
    rows = evidence_table(groups, estimates, summaries, rule)
    return StudyEvidence(groups, series, rows, platform_table(rows, summaries, series), rule)
