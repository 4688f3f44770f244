"""The inputs of the study-level evidence: one sample's estimate with its study metadata, and one off-target
panel's summary. Plain typed records, built by :mod:`editcheck.evidence.load` or by hand."""

from __future__ import annotations

from dataclasses import dataclass

from editcheck.statistics.durability import ReplicateCounts

TREATED = "treated"
CONTROL_CONDITIONS = ("control", "untreated")
CONDITIONS = (TREATED, *CONTROL_CONDITIONS)

TARGET_ENGAGEMENT = "target engagement"
EDITED = "edited"


@dataclass(frozen=True)
class SampleMetadata:
    """What the study's sample sheet says about one sample (the study layer builds these from its rows)."""

    design_id: str
    condition: str
    """``treated``, ``control`` or ``untreated``."""
    replicate: str = ""
    subject: str = ""
    """Patient or animal id; empty for samples that belong to no subject (e.g. a pooled mock)."""
    model: str = ""
    """Clinical biopsy, animal model, non-animal model, cell line (as written in the sheet)."""
    tissue: str = ""
    time_days: float | None = None
    """The time point converted to days; None when the sample has none."""
    time_label: str = ""
    """The time point as written (``12 wk``)."""
    extra: tuple[tuple[str, str], ...] = ()
    """Further sheet columns (dose, free columns), carried through untouched."""


@dataclass(frozen=True)
class SampleEstimate:
    """One sample's on-target result with its study metadata."""

    sample: str
    metadata: SampleMetadata
    edited: ReplicateCounts
    """Edited of classified reads (molecules with UMIs), with the effective depth when the input was given."""
    target_engagement: ReplicateCounts | None = None
    """Base editing: the target base's conversion of reads covering it (None without a target base)."""
    unit: str = "reads"
    """What ``edited`` counts: ``reads`` or ``molecules``."""
    folder: str = ""

    @property
    def design_id(self) -> str:
        return self.metadata.design_id

    @property
    def is_control(self) -> bool:
        return self.metadata.condition in CONTROL_CONDITIONS

    def measure(self, name: str) -> ReplicateCounts:
        """The counts of ``name``: :data:`TARGET_ENGAGEMENT` (falls back to edited when absent) or :data:`EDITED`."""
        if name == TARGET_ENGAGEMENT and self.target_engagement is not None:
            return self.target_engagement
        return self.edited


@dataclass(frozen=True)
class PanelSummary:
    """One off-target panel's result for a design (and a subject and time point when the study says so):
    counts of the off-target sites' calls (on-target sites excluded)."""

    design_id: str
    subject: str = ""
    """Empty: the panel speaks for the design as a whole (e.g. tested in a cell model)."""
    time_days: float | None = None
    time_label: str = ""
    sites: tuple[str, ...] = ()
    """Off-target site ids tested."""
    edited: int = 0
    not_detected: int = 0
    inconclusive: int = 0
    worst_lod_percent: float | None = None
    """The largest limit of detection among NOT_DETECTED sites (percentage points); None if there is none."""
    edited_sites: tuple[str, ...] = ()
    folder: str = ""

    @property
    def sites_tested(self) -> int:
        return len(self.sites)
