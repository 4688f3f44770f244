"""The plan of the simulated study (``editcheck.simulate.study``): its products, groups of samples with their
true levels, the patients' series, the off-target sites, and the knobs (:class:`StudySpec`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from editcheck.errors import ParameterError

DAYS = {"d": 1.0, "mo": 30.4375}
AMPLICON_LENGTH, PANEL_LENGTH = 160, 100
INDEL_RATE = 0.04
"""Product A: share of reads with an indel at the nick (the rest are exposed to the editor)."""
BYSTANDER_RATE = 0.3
DECLINE_PER_MONTH = (math.log(0.26 / 0.74) - math.log(0.45 / 0.55)) / 11
"""P01: log-odds change per month (45% at 1 month to 26% at 12 months)."""


@dataclass(frozen=True)
class Group:
    """Samples of one design, subject, model, tissue, time point and condition."""

    design_id: str
    subject: str
    model: str
    tissue: str
    time_point: str
    condition: str
    names: tuple[str, ...]
    level: float
    """True rate: target engagement (A) or edited reads (B) as a fraction of reads; at 1 month for a series."""
    dose: str = ""
    assay: str = "on_target"


def _series(subject: str, level: float, replicates: int, slope: float) -> list[Group]:
    groups = []
    for months in (1, 6, 12):
        logit = math.log(level / (1 - level)) + slope * (months - 1)
        names = tuple(f"{subject}_{months}mo_{r}" for r in range(1, replicates + 1))
        groups.append(Group("A", subject, "clinical", "liver", f"{months} mo", "treated", names,
                            1 / (1 + math.exp(-logit)), "1 mg/kg"))  # fmt: skip
    return groups


GROUPS: tuple[Group, ...] = (
    Group("A", "M01", "animal", "liver", "28 d", "treated", ("T1", "T2", "T3"), 0.42, "1e13 vg/kg"),
    Group("A", "", "animal", "liver", "28 d", "control", ("M1",), 0.0),
    *_series("P01", 0.45, 3, DECLINE_PER_MONTH),
    *_series("P02", 0.40, 2, 0.0),
    Group("B", "P03", "non_animal", "hepatocytes", "7 d", "treated", ("B_T1", "B_T2"), 0.30, "MOI 10"),
    Group("B", "", "non_animal", "hepatocytes", "7 d", "control", ("B_M1",), 0.0),
    Group("A", "M01", "animal", "liver", "28 d", "treated", ("PT1", "PT2"), 0.42, "1e13 vg/kg", "off_target_panel"),
    Group("A", "", "animal", "liver", "28 d", "control", ("PC1", "PC2"), 0.0, "", "off_target_panel"),
)
SERIES = {"P01": "decline", "P02": "stable"}

#: Off-target sites of product A: protospacer positions (1-based) that differ from the guide, and the strand.
OFF_TARGETS = {"OT1": ((2, 13, 18), "+"), "OT2": ((1, 11, 16), "+"), "OT3": ((3, 10, 14, 19), "-"),
               "OT4": ((9, 12, 17), "+")}  # fmt: skip
EDITED_SITE, ON_TARGET_SITE = "OT2", "ON1"
#: The weakly edited site: 0.4% indels; A>G at its target base in 1.5% and at each other A of its window in
#: 0.3% of reads (times the treated replicate's lognormal multiplier).
LOW_INDELS, LOW_TARGET, LOW_BYSTANDER = 0.004, 0.015, 0.003


@dataclass(frozen=True)
class StudySpec:
    """The knobs of the simulated study (defaults: the bundled demo's)."""

    seed: int = 1
    reads: int = 2000
    """Reads per on-target sample."""
    panel_reads_per_site: int = 1100
    molecules: int = 3000
    """Template molecules behind each on-target sample (and each site of a panel sample: ``panel_molecules``)."""
    panel_molecules: int = 5000
    pcr_cycles: int = 12
    replicate_sd: float = 0.1
    offtarget_sd: float = 0.2
    error_rate: float = 0.002

    def __post_init__(self) -> None:
        for name in ("reads", "panel_reads_per_site", "molecules", "panel_molecules"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 10**7:
                raise ParameterError(f"{name} must be an integer between 100 and 10,000,000, got {value!r}")
        for name in ("replicate_sd", "offtarget_sd"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 <= value <= 2):
                raise ParameterError(f"{name} must be between 0 and 2, got {value!r}")


def days(label: str) -> float:
    """A time point of the plan (``28 d``, ``6 mo``) in days."""
    number, unit = label.split()
    return float(number) * DAYS[unit]
