"""Per-site calls: is a candidate site edited above the untreated control's background?

For each site: a one-sided exact test stratified by replicate (treated > control), Benjamini-Hochberg
q-values across the off-target sites, the excess editing (treated - control) with Newcombe's 95%
interval, and a per-site limit of detection. The call is one of

- ``EDITED``: q below the threshold and excess at least the minimum effect;
- ``NOT_DETECTED``: no evidence of editing; the LOD says what excess this site could have shown;
- ``INCONCLUSIVE``: too few reads in treated or control, or a background too high to judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from editcheck.errors import ParameterError
from editcheck.statistics.intervals import wilson_interval
from editcheck.statistics.tests import (
    benjamini_hochberg,
    detection_limit,
    newcombe_interval,
    rule_of_three,
    stratified_exact_test,
)

EDITED, NOT_DETECTED, INCONCLUSIVE = "EDITED", "NOT_DETECTED", "INCONCLUSIVE"


@dataclass(frozen=True)
class CallSettings:
    """Thresholds of the decision rule (all reported with the calls)."""

    q_threshold: float = 0.05
    min_effect: float = 0.001
    """Minimum excess editing (a proportion: 0.001 = 0.1 percentage points)."""
    min_reads: int = 1000
    """Fewer reads in treated or control (summed over replicates): inconclusive."""
    max_background: float = 0.05
    """A control editing rate above this makes the site inconclusive."""
    alpha: float = 0.05
    power: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.q_threshold < 1 or not 0 < self.alpha < 1 or not 0 < self.power < 1:
            raise ParameterError("q threshold, alpha and power must lie between 0 and 1")
        if not 0 <= self.min_effect < 1 or not 0 < self.max_background <= 1 or self.min_reads < 0:
            raise ParameterError("minimum effect must be in [0, 1), maximum background in (0, 1], minimum reads >= 0")


@dataclass(frozen=True)
class Replicate:
    """Edited reads out of reads at one site in one sample."""

    sample: str
    edited: int
    reads: int


@dataclass
class SiteCall:
    """Every number behind one site's call."""

    site: str
    on_target: bool
    treated: list[Replicate]
    control: list[Replicate]
    treated_edited: int = 0
    treated_reads: int = 0
    control_edited: int = 0
    control_reads: int = 0
    treated_percent: float = 0.0
    treated_ci95: tuple[float, float] = (0.0, 100.0)
    control_percent: float = 0.0
    control_ci95: tuple[float, float] = (0.0, 100.0)
    excess_percent: float = 0.0
    excess_ci95: tuple[float, float] = (-100.0, 100.0)
    p_value: float = 1.0
    q_value: float | None = None
    lod_percent: float = 100.0
    """Smallest excess (percentage points) this site could detect (alpha, power in the settings)."""
    treated_upper_if_none_percent: float | None = None
    """With no edited treated read: the rule-of-three 95% upper bound on treated editing."""
    call: str = INCONCLUSIVE
    reason: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        document = asdict(self)
        document["treated_ci95"] = list(self.treated_ci95)
        document["control_ci95"] = list(self.control_ci95)
        document["excess_ci95"] = list(self.excess_ci95)
        return document


def _strata(treated: Sequence[Replicate], control: Sequence[Replicate]) -> list[tuple[int, int, int, int]]:
    """Pair treated replicate i with control replicate i; with fewer controls, each treated
    replicate is compared with all control reads pooled (the control's background estimate)."""
    if len(control) == len(treated):
        return [(t.edited, t.reads, c.edited, c.reads) for t, c in zip(treated, control)]
    pooled_edited = sum(c.edited for c in control)
    pooled_reads = sum(c.reads for c in control)
    return [(t.edited, t.reads, pooled_edited, pooled_reads) for t in treated]


def call_sites(
    sites: Sequence[tuple[str, bool, Sequence[Replicate], Sequence[Replicate]]],
    settings: CallSettings = CallSettings(),
) -> list[SiteCall]:
    """Calls for every (site id, is on-target, treated replicates, control replicates)."""
    calls: list[SiteCall] = []
    for site, on_target, treated, control in sites:
        call = SiteCall(site, on_target, list(treated), list(control))
        call.treated_edited = sum(r.edited for r in treated)
        call.treated_reads = sum(r.reads for r in treated)
        call.control_edited = sum(r.edited for r in control)
        call.control_reads = sum(r.reads for r in control)
        if call.treated_reads:
            call.treated_percent = 100.0 * call.treated_edited / call.treated_reads
        low, high = wilson_interval(call.treated_edited, call.treated_reads)
        call.treated_ci95 = (100 * low, 100 * high)
        if call.control_reads:
            call.control_percent = 100.0 * call.control_edited / call.control_reads
        low, high = wilson_interval(call.control_edited, call.control_reads)
        call.control_ci95 = (100 * low, 100 * high)
        call.excess_percent = call.treated_percent - call.control_percent
        if call.treated_reads and call.control_reads:
            low, high = newcombe_interval(call.treated_edited, call.treated_reads, call.control_edited, call.control_reads)
            call.excess_ci95 = (100 * low, 100 * high)
            strata = [stratum for stratum in _strata(treated, control) if stratum[1] and stratum[3]]
            call.p_value = stratified_exact_test(strata) if strata else 1.0
            background = call.control_edited / call.control_reads
            call.lod_percent = 100 * detection_limit(
                call.treated_reads, call.control_reads, background, settings.alpha, settings.power
            )
        if call.treated_edited == 0:
            call.treated_upper_if_none_percent = 100 * rule_of_three(call.treated_reads)
        calls.append(call)
    off_target = [call for call in calls if not call.on_target]
    for call, q_value in zip(off_target, benjamini_hochberg([call.p_value for call in off_target])):
        call.q_value = q_value
    for call in calls:
        if call.on_target:
            call.q_value = call.p_value  # a single pre-specified test: no adjustment
        _decide(call, settings)
    return calls


def _decide(call: SiteCall, settings: CallSettings) -> None:
    if call.treated_reads < settings.min_reads or call.control_reads < settings.min_reads:
        call.call, call.reason = INCONCLUSIVE, f"fewer than {settings.min_reads} reads in treated or control"
        return
    if call.control_reads and call.control_edited / call.control_reads > settings.max_background:
        call.call = INCONCLUSIVE
        call.reason = f"control background {call.control_percent:.3g}% above {100 * settings.max_background:.3g}%"
        return
    assert call.q_value is not None
    if call.q_value < settings.q_threshold and call.excess_percent >= 100 * settings.min_effect:
        call.call, call.reason = EDITED, (
            f"q = {call.q_value:.3g} < {settings.q_threshold} and excess {call.excess_percent:.3g} pp "
            f">= {100 * settings.min_effect:.3g} pp"
        )
    else:
        call.call = NOT_DETECTED
        call.reason = f"no excess detected; this site could detect {call.lod_percent:.3g} pp (LOD)"


def methods_text(settings: CallSettings, editors: Sequence[str] = ()) -> str:
    """The statistical method, generated from the parameters used (for reports and appendices)."""
    editing = ", ".join(sorted(set(editors))) or "nuclease"
    return (
        f"Each candidate site was quantified in treated and control samples with the same alignment and "
        f"classification engine (edits counted: {editing}; a read is edited when it carries an indel overlapping "
        f"the quantification window or, for base editors, the editor's conversion in its editing window). "
        f"Treated editing above control was tested one-sided with an exact conditional test stratified by "
        f"replicate (hypergeometric per treated/control replicate pair, convolved across pairs: Fisher's exact "
        f"test for one pair, the exact Cochran-Mantel-Haenszel test for several; a normal approximation beyond "
        f"20,000 possible totals). P-values of the off-target sites were adjusted with Benjamini-Hochberg; the "
        f"on-target site is a single pre-specified test. Proportions carry Wilson 95% intervals and the excess "
        f"(treated minus control) Newcombe's hybrid score interval. A site was called EDITED when q < "
        f"{settings.q_threshold} and the excess was at least {100 * settings.min_effect:.3g} percentage points; "
        f"INCONCLUSIVE when treated or control had fewer than {settings.min_reads} reads or the control "
        f"background exceeded {100 * settings.max_background:.3g}%; otherwise NOT DETECTED. The per-site limit "
        f"of detection is the smallest excess a one-sided two-proportion test at alpha = {settings.alpha} would "
        f"detect with {100 * settings.power:.0f}% power given the site's treated and control depths and control "
        f"background (normal approximation; background floored at 0.5/control reads)."
    )
