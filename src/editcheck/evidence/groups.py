"""Estimates per (design, subject, model, tissue, time point, condition), pooled over biological replicates
with the replicate as the unit (issue #12 item 3): :func:`editcheck.statistics.durability.point_estimates`
(a t interval on the replicates' empirical logits at their effective depths). One replicate: when the same
(design, subject, model, tissue, condition) has other time points with replicates, their between-replicate
variance is borrowed (noted); otherwise its own interval, noted as read sampling only. Two replicates: when
the series has further replicated time points, the series' pooled between-replicate variance (on its pooled
degrees of freedom) instead of their own one degree of freedom (noted). Both assume the between-replicate
variance is the same at every time point of the series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from editcheck.errors import ParameterError
from editcheck.evidence.records import EDITED, TARGET_ENGAGEMENT, SampleEstimate
from editcheck.statistics.durability import (
    BORROWED_BASIS,
    POOLED_BASIS,
    PointEstimate,
    TimePoint,
    point_estimate,
    point_estimates,
)

ONE_REPLICATE_NOTE = "one replicate: the interval is read sampling only (no between-replicate variation)"
BORROWED_NOTE = "one replicate: between-replicate variance borrowed from the subject's other time points"
POOLED_NOTE = "few replicates: between-replicate variance pooled over the subject's time points (assumed equal at each)"

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
        if self.headline.basis == POOLED_BASIS:
            return POOLED_NOTE
        if not self.headline.single_replicate:
            return ""
        return BORROWED_NOTE if self.headline.basis == BORROWED_BASIS else ONE_REPLICATE_NOTE


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


def _series_estimates(groups: dict[GroupKey, list[SampleEstimate]], measure: str) -> dict[GroupKey, PointEstimate]:
    """``measure`` pooled per group, each group's single replicate borrowing from its series: the groups
    sharing its design, subject, model, tissue and condition."""
    series: dict[tuple[str, str, str, str, str], list[GroupKey]] = {}
    for key in sorted(groups, key=sort_key):
        series.setdefault((*key[:4], key[5]), []).append(key)
    estimates: dict[GroupKey, PointEstimate] = {}
    for keys in series.values():
        points = [TimePoint(key[4] or 0.0, tuple(member.measure(measure) for member in groups[key])) for key in keys]
        estimates.update(zip(keys, point_estimates(points)))
    return estimates


def group_estimates(samples: Sequence[SampleEstimate]) -> list[GroupEstimate]:
    """One :class:`GroupEstimate` per group of samples, in :func:`sort_key` order. Target engagement is pooled
    when every sample of the group has it (and borrows only from groups that have it too)."""
    groups: dict[GroupKey, list[SampleEstimate]] = {}
    for sample in samples:
        groups.setdefault(group_key(sample), []).append(sample)
    for key in groups:
        groups[key].sort(key=lambda member: (member.metadata.replicate, member.sample))
        _check_replicates(key, groups[key])
    engaged_groups = {key: members for key, members in groups.items()
                      if all(member.target_engagement is not None for member in members)}  # fmt: skip
    edited = _series_estimates(groups, EDITED)
    engagement = _series_estimates(engaged_groups, TARGET_ENGAGEMENT)
    estimates = []
    for key in sorted(groups, key=sort_key):
        members = groups[key]
        design, subject, model, tissue, days, condition = key
        units = {member.unit for member in members}
        estimates.append(GroupEstimate(
            design, subject, model, tissue, days, members[0].metadata.time_label, condition,
            tuple(member.sample for member in members), units.pop() if len(units) == 1 else "mixed",
            edited[key], engagement.get(key),
        ))  # fmt: skip
    return estimates
