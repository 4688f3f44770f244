"""The per-patient / per-product evidence table and the platform table (issue #12 item 5).

**Evidence table**: one row per treated group (design, subject, model, tissue, time point) with its headline
estimate (target engagement with a target base, else edited %) and 95% CI, and the pass/fail of its lower
bound against the rule in :class:`ThresholdRule`:

- ``control`` (default): the lower bound exceeds the upper bound of the design's untreated/control estimate
  in the same tissue, or, when the design has no control in that tissue, of all its controls (pooled with the
  replicate as the unit: each control sample one replicate). No control at all: not evaluable;
- ``fixed``: the lower bound exceeds a fixed percentage.

Each row also carries the off-target result of the most specific panel for it (same subject and time point,
then same subject, then the design's panel at that time point, then the design's panel; another subject's
panel never: see :func:`editcheck.evidence.load.panel_scope` for whom a panel speaks) and its evidence
source (model, tissue, time point).

**Platform table**: one row per product (design) and subject: the strongest evidence (highest lower bound),
how many rows pass, the off-target sites over all the subject's and the design's panels (any EDITED site
flagged), and the durability verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from editcheck.errors import ParameterError
from editcheck.evidence.groups import GroupEstimate, pooled
from editcheck.evidence.records import TREATED, PanelSummary, SampleEstimate
from editcheck.evidence.series import DurabilitySeries, edited_offtarget_sites
from editcheck.statistics.durability import PointEstimate

CONTROL_RULE, FIXED_RULE = "control", "fixed"
PASS, FAIL, NOT_EVALUABLE = "PASS", "FAIL", "NOT EVALUABLE"
SAME_TISSUE, DESIGN_CONTROLS, NO_CONTROL = "same tissue", "all controls of the design", "none"
TARGET_EDITED, NOT_SHOWN = "target edited", "not shown"


@dataclass(frozen=True)
class ThresholdRule:
    """What the lower CI bound of a treated estimate must exceed: the control's upper bound (``control``) or
    a fixed ``percent`` (``fixed``)."""

    kind: str = CONTROL_RULE
    percent: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in (CONTROL_RULE, FIXED_RULE):
            raise ParameterError(f"threshold rule must be {CONTROL_RULE!r} or {FIXED_RULE!r}, not {self.kind!r}")
        if self.kind == FIXED_RULE and (
            self.percent is None or not 0 <= self.percent < 100 or math.isnan(self.percent)
        ):
            raise ParameterError(f"a fixed threshold needs a percentage in [0, 100), not {self.percent!r}")
        if self.kind == CONTROL_RULE and self.percent is not None:
            raise ParameterError("the control rule takes no percentage (use the fixed rule for one)")

    @property
    def description(self) -> str:
        if self.kind == FIXED_RULE:
            return f"lower 95% bound > {self.percent:g}%"
        return "lower 95% bound > upper 95% bound of the untreated/control estimate"


@dataclass(frozen=True)
class EvidenceRow:
    """One treated group's evidence that the target was edited."""

    group: GroupEstimate
    control: PointEstimate | None
    control_source: str
    threshold_percent: float | None
    """What the lower bound had to exceed (the control's upper bound, or the fixed percentage)."""
    result: str
    panel: PanelSummary | None

    @property
    def source(self) -> str:
        group = self.group
        return ", ".join(part or "-" for part in (group.model, group.tissue, group.time_label))


@dataclass(frozen=True)
class PlatformRow:
    """One product (design) and subject across all their evidence."""

    design_id: str
    subject: str
    verdict: str
    evidence_rows: int
    passing_rows: int
    best: EvidenceRow
    """The row with the highest lower bound among passing rows (among all rows when none passes)."""
    sites_tested: int
    panels: int
    edited_sites: tuple[tuple[str, str], ...]
    inconclusive_calls: int
    """INCONCLUSIVE calls over all those panels (a site inconclusive at two time points counts twice)."""
    worst_lod_percent: float | None
    durability: tuple[str, ...]
    """``tissue: verdict`` of each durability series of this design and subject."""


def control_estimate(
    samples: Sequence[SampleEstimate], design_id: str, tissue: str, measure: str
) -> tuple[PointEstimate | None, str]:
    """The design's control estimate in ``tissue`` (else over all its controls) and which one it is."""
    controls = [sample for sample in samples if sample.design_id == design_id and sample.is_control]
    same = [sample for sample in controls if sample.metadata.tissue == tissue]
    chosen, source = (same, SAME_TISSUE) if same else (controls, DESIGN_CONTROLS)
    if not chosen:
        return None, NO_CONTROL
    return pooled(sorted(chosen, key=lambda sample: sample.sample), measure), source


def matching_panel(panels: Sequence[PanelSummary], group: GroupEstimate) -> PanelSummary | None:
    """The most specific panel for a group (see the module docstring); None without one."""
    for subject, days in ((group.subject, group.time_days), (group.subject, None), ("", group.time_days), ("", None)):
        found = [panel for panel in panels
                 if panel.design_id == group.design_id and panel.subject == subject and panel.time_days == days]  # fmt: skip
        if len(found) > 1:
            raise ParameterError(
                f"design {group.design_id!r}: {len(found)} off-target panels for subject {subject!r} at time point "
                f"{found[0].time_label!r} ({', '.join(panel.folder for panel in found)})"
            )
        if found:
            return found[0]
    return None


def judge(group: GroupEstimate, rule: ThresholdRule, control: PointEstimate | None) -> tuple[str, float | None]:
    """PASS / FAIL / NOT EVALUABLE of a group's lower bound, and the threshold it was held to."""
    threshold = (
        rule.percent
        if rule.kind == FIXED_RULE
        else (control.high if control is not None and control.has_data else None)
    )
    if threshold is None or not group.headline.has_data:
        return NOT_EVALUABLE, threshold
    return (PASS if group.headline.low > threshold else FAIL), threshold


def evidence_table(groups: Sequence[GroupEstimate], samples: Sequence[SampleEstimate],
                   panels: Sequence[PanelSummary] = (), rule: ThresholdRule = ThresholdRule()) -> list[EvidenceRow]:  # fmt: skip
    """One row per treated group (in the groups' order). The control estimate is shown with either rule."""
    rows = []
    for group in groups:
        if group.condition != TREATED:
            continue
        control, source = control_estimate(samples, group.design_id, group.tissue, group.measure)
        result, threshold = judge(group, rule, control)
        rows.append(EvidenceRow(group, control, source, threshold, result, matching_panel(panels, group)))
    return rows


def platform_table(rows: Sequence[EvidenceRow], panels: Sequence[PanelSummary] = (),
                   series: Sequence[DurabilitySeries] = ()) -> list[PlatformRow]:  # fmt: skip
    """One row per (design, subject) of the evidence rows, sorted."""
    by_subject: dict[tuple[str, str], list[EvidenceRow]] = {}
    for row in rows:
        by_subject.setdefault((row.group.design_id, row.group.subject), []).append(row)
    table = []
    for (design_id, subject), members in sorted(by_subject.items()):
        passing = [row for row in members if row.result == PASS]
        candidates = passing or members
        best = max(candidates, key=lambda row: row.group.headline.low if row.group.headline.has_data else -1.0)
        evaluable = any(row.result != NOT_EVALUABLE for row in members)
        verdict = TARGET_EDITED if passing else NOT_SHOWN if evaluable else NOT_EVALUABLE
        mine = [panel for panel in panels if panel.design_id == design_id and panel.subject in (subject, "")]
        lods = [panel.worst_lod_percent for panel in mine if panel.worst_lod_percent is not None]
        table.append(PlatformRow(
            design_id, subject, verdict, len(members), len(passing), best,
            len({site for panel in mine for site in panel.sites}), len(mine),
            edited_offtarget_sites(panels, design_id, subject), sum(panel.inconclusive for panel in mine),
            max(lods) if lods else None,
            tuple(f"{entry.tissue or entry.model or '-'}: {entry.result.verdict}" for entry in series
                  if entry.design_id == design_id and entry.subject == subject),
        ))  # fmt: skip
    return table
