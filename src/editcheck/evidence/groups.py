"""Estimates per (design, subject, model, tissue, time point, condition), pooled over biological replicates
with the replicate as the unit (issue #12 item 3): :func:`editcheck.statistics.durability.point_estimate`
(a t interval on the replicates' empirical logits at their effective depths; one replicate: its own
interval, noted as read sampling only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from editcheck.errors import ParameterError
from editcheck.evidence.records import EDITED, TARGET_ENGAGEMENT, SampleEstimate
from editcheck.statistics.durability import PointEstimate, TimePoint, point_estimate

ONE_REPLICATE_NOTE = "one replicate: the interval is read sampling only (no between-replicate variation)"

GroupKey = tuple[str, str, str, str, float | None, str]
"""(design_id, subject, model, tissue, time in days or None, condition)."""


@dataclass(frozen=True)
class GroupEstimate:
    """One group's samples and their pooled estimates: target engagement (base editing with a target base;
    else None) and edited %."""

    design_id: str
    subject: str
    model: str
    tissue: str
    time_days: float | None
    time_label: str
    condition: str
    samples: tuple[str, ...]
    unit: str
    edited: PointEstimate
    target_engagement: PointEstimate | None

    @property
    def measure(self) -> str:
        """The headline measure: target engagement when the design has a target base, else edited."""
        return TARGET_ENGAGEMENT if self.target_engagement is not None else EDITED

    @property
    def headline(self) -> PointEstimate:
        return self.target_engagement if self.target_engagement is not None else self.edited

    @property
    def note(self) -> str:
        return ONE_REPLICATE_NOTE if self.headline.single_replicate else ""


def group_key(sample: SampleEstimate) -> GroupKey:
    meta = sample.metadata
    return (meta.design_id, meta.subject, meta.model, meta.tissue, meta.time_days, meta.condition)


def sort_key(key: GroupKey) -> tuple[str, str, str, str, bool, float, str]:
    """Groups in a stable order: design, subject, model, tissue, time (none first), condition."""
    design, subject, model, tissue, days, condition = key
    return (design, subject, model, tissue, days is not None, days or 0.0, condition)


def pooled(samples: Sequence[SampleEstimate], measure: str, days: float = 0.0) -> PointEstimate:
    """The replicate-aware estimate of ``measure`` over ``samples`` (each sample one replicate)."""
    return point_estimate(TimePoint(days, tuple(sample.measure(measure) for sample in samples)))


def _check_replicates(key: GroupKey, members: Sequence[SampleEstimate]) -> None:
    labels: dict[str, str] = {}
    for member in members:
        label = member.metadata.replicate
        if label and label in labels:
            raise ParameterError(
                f"samples {labels[label]!r} and {member.sample!r} are both replicate {label!r} of design {key[0]!r}, "
                f"subject {key[1]!r}, tissue {key[3]!r}, time point {member.metadata.time_label!r}"
            )
        labels[label] = member.sample


def group_estimates(samples: Sequence[SampleEstimate]) -> list[GroupEstimate]:
    """One :class:`GroupEstimate` per group of samples, in :func:`sort_key` order. Target engagement is pooled
    when every sample of the group has it."""
    groups: dict[GroupKey, list[SampleEstimate]] = {}
    for sample in samples:
        groups.setdefault(group_key(sample), []).append(sample)
    estimates = []
    for key in sorted(groups, key=sort_key):
        members = sorted(groups[key], key=lambda member: (member.metadata.replicate, member.sample))
        _check_replicates(key, members)
        design, subject, model, tissue, days, condition = key
        engaged = all(member.target_engagement is not None for member in members)
        units = {member.unit for member in members}
        estimates.append(GroupEstimate(
            design, subject, model, tissue, days, members[0].metadata.time_label, condition,
            tuple(member.sample for member in members), units.pop() if len(units) == 1 else "mixed",
            pooled(members, EDITED, days or 0.0),
            pooled(members, TARGET_ENGAGEMENT, days or 0.0) if engaged else None,
        ))  # fmt: skip
    return estimates
