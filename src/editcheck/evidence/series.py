"""Durability per subject and design (issue #12 item 4): the treated samples of one (design, subject, model,
tissue) over their time points, through :func:`editcheck.statistics.durability.durability`; off-target sites
called EDITED in any of the subject's panels (or the design's) at any time point are flagged with them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from editcheck.evidence.records import EDITED, TARGET_ENGAGEMENT, PanelSummary, SampleEstimate
from editcheck.statistics.durability import Durability, TimePoint, durability

SeriesKey = tuple[str, str, str, str]
"""(design_id, subject, model, tissue)."""


@dataclass(frozen=True)
class DurabilitySeries:
    """One subject's series under one design in one model and tissue."""

    design_id: str
    subject: str
    model: str
    tissue: str
    measure: str
    time_labels: tuple[str, ...]
    """The time points as written, in the order of ``result.points``."""
    samples: tuple[tuple[str, ...], ...]
    """The samples of each time point."""
    result: Durability
    offtarget_edited: tuple[tuple[str, str], ...]
    """(site id, time point as written, or ``any`` for a panel without one) of every off-target site called
    EDITED in this subject's or the design's panels."""

    @property
    def title(self) -> str:
        where = ", ".join(part for part in (self.model, self.tissue) if part)
        return f"{self.design_id} - {self.subject}" + (f" ({where})" if where else "")


def edited_offtarget_sites(panels: Sequence[PanelSummary], design_id: str, subject: str) -> tuple[tuple[str, str], ...]:
    """(site, time label) of every EDITED off-target call in the panels of this design and subject (and the
    design's panels that name no subject), sorted."""
    found = {
        (site, panel.time_label or "any")
        for panel in panels
        if panel.design_id == design_id and panel.subject in (subject, "")
        for site in panel.edited_sites
    }
    return tuple(sorted(found))


def durability_series(samples: Sequence[SampleEstimate], panels: Sequence[PanelSummary] = (),
                      confidence: float = 0.95) -> list[DurabilitySeries]:  # fmt: skip
    """A series for every (design, subject, model, tissue) whose treated samples span two or more time
    points, sorted by that key. The measure is target engagement when every sample of the design has one."""
    engaged: dict[str, bool] = {}
    for sample in samples:
        engaged[sample.design_id] = engaged.get(sample.design_id, True) and sample.target_engagement is not None
    grouped: dict[SeriesKey, dict[float, list[SampleEstimate]]] = {}
    for sample in samples:
        meta = sample.metadata
        if sample.is_control or meta.time_days is None or not meta.subject:
            continue
        key = (meta.design_id, meta.subject, meta.model, meta.tissue)
        grouped.setdefault(key, {}).setdefault(meta.time_days, []).append(sample)
    series = []
    for key in sorted(grouped):
        times = grouped[key]
        if len(times) < 2:
            continue
        measure = TARGET_ENGAGEMENT if engaged[key[0]] else EDITED
        ordered = sorted(times)
        members = [
            sorted(times[days], key=lambda sample: (sample.metadata.replicate, sample.sample)) for days in ordered
        ]
        points = [
            TimePoint(days, tuple(sample.measure(measure) for sample in group)) for days, group in zip(ordered, members)
        ]
        series.append(DurabilitySeries(
            *key, measure, tuple(group[0].metadata.time_label for group in members),
            tuple(tuple(sample.sample for sample in group) for group in members), durability(points, confidence),
            edited_offtarget_sites(panels, key[0], key[1]),
        ))  # fmt: skip
    return series
