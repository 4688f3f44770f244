"""Per-site calls: is a candidate site edited above the untreated control's background?

For each site: a one-sided test that treated editing exceeds control, Benjamini-Hochberg q-values across
the off-target sites, the excess editing (treated - control) with its 95% interval from the same model,
a limit of detection of the whole decision rule, and a one-sided 95% upper bound on the excess. The
test is chosen in :class:`CallSettings`:

- ``random-effects`` (default): replicates are the unit; between-replicate variation (tau2, logit scale)
  is estimated from the panel's off-target sites, and molecule counts (UMIs) or a known input of
  template copies cap each sample's effective depth (:mod:`editcheck.statistics.overdispersion`);
- ``exact``: reads are independent draws; the exact conditional test on the pooled reads (Fisher), or
  stratified by the pairs the sample sheet declares (exact Cochran-Mantel-Haenszel).

The call is one of

- ``EDITED``: q below the threshold and excess at least the minimum effect;
- ``NOT_DETECTED``: no evidence of editing; the LOD says what excess this site would have called
  EDITED with the stated power, the upper bound what excess the data still allow;
- ``INCONCLUSIVE``: too few reads in treated or control, or a background too high to judge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from editcheck.errors import ParameterError
from editcheck.statistics.detection import bh_site_threshold, decision_rule_lod
from editcheck.statistics.overdispersion import (
    between_replicate_variance,
    condition_mean,
    effective_counts,
    empirical_null_variance,
    excess_interval,
    excess_upper_bound,
    random_effects_test,
)
from editcheck.statistics.replicates import replicate_interval
from editcheck.statistics.tests import benjamini_hochberg, stratified_exact_test

EDITED, NOT_DETECTED, INCONCLUSIVE = "EDITED", "NOT_DETECTED", "INCONCLUSIVE"


TESTS = ("random-effects", "exact")


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
    power: float = 0.8
    """Power at which the limit of detection is stated."""
    test: str = "random-effects"
    """``random-effects`` (replicates as the unit) or ``exact`` (independent reads)."""

    def __post_init__(self) -> None:
        if not 0 < self.q_threshold < 1 or not 0 < self.power < 1:
            raise ParameterError("q threshold and power must lie between 0 and 1")
        if not 0 <= self.min_effect < 1 or not 0 < self.max_background <= 1 or self.min_reads < 0:
            raise ParameterError("minimum effect must be in [0, 1), maximum background in (0, 1], minimum reads >= 0")
        if self.test not in TESTS:
            raise ParameterError(f"test must be one of {', '.join(TESTS)}, not {self.test!r}")


@dataclass(frozen=True)
class Replicate:
    """Edited out of classified reads (or molecules) at one site in one sample."""

    sample: str
    edited: int
    reads: int
    molecules: float | None = None
    """Template molecules behind the reads (from the input amount), when known and not counted by UMIs."""
    pair: str | None = None
    """The pair/batch the sample sheet declares; only declared pairs are stratified."""

    def effective(self) -> tuple[float, float]:
        return effective_counts(self.edited, self.reads, self.molecules)


@dataclass(frozen=True)
class Dispersion:
    """The panel's between-replicate variance (logit scale) and where it came from."""

    tau2: float
    method: str
    units: int
    """Replicate groups (or sites, for the empirical null) it was estimated from."""
    degrees: float = math.inf
    """Degrees of freedom of the estimate: the test and the LOD use a t reference with them (the
    replicates' sum of k - 1, or the sites of the empirical null); infinite when tau2 is not estimated."""
    sampling: float = 0.0
    """Sampling variance of the units tau2 was estimated from (logit scale): with ``degrees`` it gives the
    estimate's spread, which the LOD integrates over (:func:`editcheck.statistics.overdispersion.tau2_draws`)."""


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
    treated_ci_basis: str = ""
    control_percent: float = 0.0
    control_ci95: tuple[float, float] = (0.0, 100.0)
    control_ci_basis: str = ""
    replicates_treated: int = 0
    """Treated samples with reads at this site."""
    replicates_control: int = 0
    excess_percent: float = 0.0
    excess_ci95: tuple[float, float] = (-100.0, 100.0)
    excess_upper95_percent: float | None = None
    """One-sided 95% upper bound on the true excess (percentage points)."""
    p_value: float = 1.0
    q_value: float | None = None
    lod_percent: float = 100.0
    """Smallest excess (percentage points) the whole decision rule calls EDITED with the stated power."""
    call: str = INCONCLUSIVE
    reason: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["treated_ci95"] = list(self.treated_ci95)
        document["control_ci95"] = list(self.control_ci95)
        document["excess_ci95"] = list(self.excess_ci95)
        return document


def _effective(replicates: Sequence[Replicate]) -> list[tuple[float, float]]:
    return [replicate.effective() for replicate in replicates if replicate.reads > 0]


def _summed(replicates: Sequence[Replicate]) -> tuple[float, float]:
    counts = _effective(replicates)
    return sum(x for x, _ in counts), sum(m for _, m in counts)


def _exact_strata(treated: Sequence[Replicate], control: Sequence[Replicate]) -> list[tuple[int, int, int, int]]:
    """One stratum per declared pair holding both conditions (each side's samples pooled); without
    declared pairs, one stratum of all reads. A control is never reused across strata."""
    pairs = {r.pair for r in [*treated, *control]}
    if None in pairs or len(pairs) < 2:
        groups = {"all": (list(treated), list(control))}
    else:
        groups = {
            pair: ([r for r in treated if r.pair == pair], [r for r in control if r.pair == pair])
            for pair in pairs
            if pair is not None
        }
    strata = []
    for pair in sorted(groups):
        treated_group, control_group = groups[pair]
        t_x, t_m = _summed(treated_group)
        c_x, c_m = _summed(control_group)
        if round(t_m) and round(c_m):
            strata.append((round(t_x), round(t_m), round(c_x), round(c_m)))
    return strata


def _condition_rate(counts: list[tuple[float, float]], on_target: bool, tau2: float) -> tuple[float, float, float, str]:
    """A condition's rate and 95% CI with the replicate as the unit: at off-target sites from the panel's
    random-effects model (tau2 borrowed from all off-target sites, so two replicates give a usable
    interval); at the on-target site, whose variation the off-target panel does not describe, a t
    interval on its own replicates (:func:`replicate_interval`)."""
    if on_target or not counts:
        estimate = replicate_interval(counts)
        return estimate.proportion, estimate.low, estimate.high, estimate.basis
    mean = condition_mean(counts, tau2)
    return mean.proportion, *mean.interval(), f"random-effects model ({len(counts)} replicates, panel tau2)"


def _replicate_excess(
    treated: list[tuple[float, float]], control: list[tuple[float, float]], confidence: float
) -> tuple[float, float, float]:
    """Treated minus control rate from each condition's replicate interval, with the MOVER interval."""
    t, c = replicate_interval(treated, confidence), replicate_interval(control, confidence)
    excess = t.proportion - c.proportion
    low = excess - ((t.proportion - t.low) ** 2 + (c.high - c.proportion) ** 2) ** 0.5
    high = excess + ((t.high - t.proportion) ** 2 + (c.proportion - c.low) ** 2) ** 0.5
    return excess, max(-1.0, low), min(1.0, high)


def estimate_dispersion(sites: Sequence[tuple[str, bool, Sequence[Replicate], Sequence[Replicate]]]) -> Dispersion:
    """tau2 from the off-target sites: replicate groups when there are any, else the empirical null."""
    off_target = [
        (_effective(treated), _effective(control)) for _, on_target, treated, control in sites if not on_target
    ]
    groups = [group for pair in off_target for group in pair]
    tau2, used, sampling = between_replicate_variance(groups)
    if used:
        degrees = sum(
            len([m for _, m in group if m > 0]) - 1 for group in groups if len([m for _, m in group if m > 0]) > 1
        )
        return Dispersion(tau2, "replicate groups (DerSimonian-Laird, pooled over off-target sites)", used, degrees,
                          sampling)  # fmt: skip
    tau2, used, sampling = empirical_null_variance(off_target)
    if used:
        return Dispersion(tau2, "empirical null (off-target sites whose treated-control logit difference is below 0)",
                          used, used, sampling)  # fmt: skip
    return Dispersion(0.0, "not estimable (no replicated condition and too few sites): reads assumed independent", used)


def call_sites(
    sites: Sequence[tuple[str, bool, Sequence[Replicate], Sequence[Replicate]]],
    settings: CallSettings = CallSettings(),
) -> list[SiteCall]:
    """Calls for every (site id, is on-target, treated replicates, control replicates)."""
    return call_panel(sites, settings)[0]


def call_panel(
    sites: Sequence[tuple[str, bool, Sequence[Replicate], Sequence[Replicate]]],
    settings: CallSettings = CallSettings(),
    other_p_values: Sequence[float] = (),
) -> tuple[list[SiteCall], Dispersion]:
    """Calls for every site, and the panel's between-replicate variance they rest on.

    ``other_p_values`` are the off-target p-values of other panels of the same study: one
    Benjamini-Hochberg family then spans them and this panel's off-target sites (study-wide FDR), and
    the LOD uses that family's size and rejections."""
    dispersion = estimate_dispersion(sites)
    tau2 = dispersion.tau2 if settings.test == "random-effects" else 0.0
    degrees = dispersion.degrees if settings.test == "random-effects" else math.inf
    sampling = dispersion.sampling if settings.test == "random-effects" else 0.0
    calls: list[SiteCall] = []
    for site, on_target, treated, control in sites:
        call = SiteCall(site, on_target, list(treated), list(control))
        call.treated_edited = sum(r.edited for r in treated)
        call.treated_reads = sum(r.reads for r in treated)
        call.control_edited = sum(r.edited for r in control)
        call.control_reads = sum(r.reads for r in control)
        treated_counts, control_counts = _effective(treated), _effective(control)
        call.replicates_treated, call.replicates_control = len(treated_counts), len(control_counts)
        for prefix, counts in (("treated", treated_counts), ("control", control_counts)):
            proportion, low, high, basis = _condition_rate(counts, on_target, tau2)
            setattr(call, f"{prefix}_percent", 100 * proportion)
            setattr(call, f"{prefix}_ci95", (100 * low, 100 * high))
            setattr(call, f"{prefix}_ci_basis", basis)
        if treated_counts and control_counts:
            if on_target:  # the rates' own replicate intervals, combined (MOVER), as its rates are shown
                excess, low, high = _replicate_excess(treated_counts, control_counts, 0.95)
                upper = _replicate_excess(treated_counts, control_counts, 0.90)[2]
            else:
                excess, low, high = excess_interval(treated_counts, control_counts, tau2)
                upper = excess_upper_bound(treated_counts, control_counts, tau2)
            call.excess_percent, call.excess_ci95 = 100 * excess, (100 * low, 100 * high)
            call.excess_upper95_percent = 100 * upper
            if settings.test == "random-effects":
                call.p_value = random_effects_test(treated_counts, control_counts, tau2, degrees)
            else:
                strata = _exact_strata(treated, control)
                call.p_value = stratified_exact_test(strata) if strata else 1.0
        calls.append(call)
    off_target = [call for call in calls if not call.on_target]
    family = benjamini_hochberg([call.p_value for call in off_target] + list(other_p_values))
    for call, q_value in zip(off_target, family):
        call.q_value = q_value
    other_rejections = sum(q_value < settings.q_threshold for q_value in family[len(off_target) :])
    for call in calls:
        if call.on_target:
            call.q_value = call.p_value  # a single pre-specified test: no adjustment
        _decide(call, settings)
    discoveries = sum(call.call == EDITED for call in off_target) + other_rejections
    for call in calls:
        _detection_limit(call, settings, (tau2, degrees, sampling), len(family), discoveries)
    return calls, dispersion


def _detection_limit(
    call: SiteCall, settings: CallSettings, spread: tuple[float, float, float], sites: int, discoveries: int
) -> None:
    """The site's LOD; ``spread`` is (tau2, its degrees of freedom, its units' sampling variance)."""
    tau2, degrees, sampling = spread
    treated_counts, control_counts = _effective(call.treated), _effective(call.control)
    if not treated_counts or not control_counts:
        return
    if call.on_target:
        alpha_site = settings.q_threshold
    else:
        alpha_site = bh_site_threshold(settings.q_threshold, sites, discoveries - (call.call == EDITED))
    background = condition_mean(control_counts, tau2).proportion
    call.lod_percent = 100 * decision_rule_lod(
        [m for _, m in treated_counts], [m for _, m in control_counts], background, tau2=tau2,
        alpha_site=alpha_site, min_effect=settings.min_effect, power=settings.power, degrees=degrees,
        sampling=sampling,
    )  # fmt: skip
    if call.call == NOT_DETECTED:
        call.reason = (
            f"no excess detected; the true excess is below {call.excess_upper95_percent:.3g} pp (95% upper bound); "
            f"this site calls {call.lod_percent:.3g} pp EDITED with {100 * settings.power:.0f}% power (LOD)"
        )


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
        call.call, call.reason = (
            EDITED,
            (
                f"q = {call.q_value:.3g} < {settings.q_threshold} and excess {call.excess_percent:.3g} pp "
                f">= {100 * settings.min_effect:.3g} pp"
            ),
        )
    else:
        call.call = NOT_DETECTED


def methods_text(
    settings: CallSettings,
    editors: Sequence[str] = (),
    dispersion: Dispersion | None = None,
    unit: str = "",
    other_panels: tuple[int, int] = (0, 0),
) -> str:
    """The statistical method, generated from the parameters used (for reports and appendices).

    ``unit`` says what was counted: UMI molecules, reads capped by a template input, or plain reads;
    ``other_panels`` (panels, off-target sites) of the study sharing this panel's FDR family."""
    if other_panels[0]:
        family = (
            f"adjusted with Benjamini-Hochberg in one family with the {other_panels[1]} off-target sites of "
            f"{other_panels[0]} other panel(s) of the study (study-wide FDR; their p-values from their own "
            f"offtarget_calls.json)"
        )
    else:
        family = (
            "adjusted with Benjamini-Hochberg (one family per `editcheck offtarget` run: a study of several guides "
            "or panels controls the FDR within each panel, not across them, unless the panels are run with "
            "--fdr-with)"
        )
    editing = ", ".join(sorted(set(editors))) or "nuclease"
    unit = unit or (
        "reads, each assumed an independent draw (no UMIs and no input amount were given; with few template "
        "molecules per sample this overstates the evidence)"
    )
    if settings.test == "random-effects":
        tau = (
            f"tau^2 = {dispersion.tau2:.4g} (between-replicate SD {dispersion.tau2 ** 0.5:.3g} on the logit scale), "
            f"estimated by {dispersion.method} from {dispersion.units} units"
            if dispersion is not None else "tau^2 estimated from the panel's off-target sites"
        )  # fmt: skip
        test = (
            "Treated editing above control was tested one-sided with a random-effects model on the logit scale "
            "that takes the biological replicate, not the read, as the unit of evidence: each replicate's "
            "empirical logit has variance 1/(m p (1-p)) + tau^2, m being its effective depth, and the condition "
            f"means are inverse-variance weighted; {tau}; the one-sided p-value refers the standardised "
            f"difference to a t distribution with the estimate's degrees of freedom. A random-effects (logit-normal) model was chosen over a "
            "beta-binomial likelihood because it is closed-form, stays finite with one replicate, zero counts "
            "and 100% editing, and lets the panel's many sites estimate the one variance that a site's two or "
            "three replicates cannot (with one sample per condition the variance comes from an empirical null: "
            "the spread of the treated-minus-control logits of the off-target sites where it is below 0, which "
            "editing cannot reach). With tau^2 = 0 it reduces to a test of two binomial proportions. Replicates are not "
            "paired in this test; samples are compared by condition"
        )
    else:
        test = (
            "Treated editing above control was tested one-sided with an exact conditional test that assumes "
            "every read is an independent draw: Fisher's exact test on the pooled reads, or, where the sample "
            "sheet declares pairs, the exact Cochran-Mantel-Haenszel test stratified by pair (a control is never "
            "reused across strata). Use this only when replicates agree within read sampling"
        )
    return (
        f"Each candidate site was quantified in treated and control samples with the same alignment and "
        f"classification engine (edits counted: {editing}; a read is edited when it carries an indel overlapping "
        f"the quantification window or, for base editors, the editor's conversion in its editing window). "
        f"Unit counted: {unit}. {test}. P-values of the off-target sites of this run were {family}; the "
        f"on-target site is a single pre-specified test. Treated and control rates at off-target sites are the "
        f"replicate proportions averaged with the "
        f"model's weights, with Wilson 95% intervals at the model's effective sample size (all reads when tau^2 = "
        f"0, fewer as tau^2 grows); at the on-target site (whose replicate variation the off-target panel does not describe) a "
        f"t interval on its own replicate logits (a Wilson interval, read sampling only, when a condition has one "
        f"replicate); the excess (treated "
        f"minus control) and its 95% interval combine the two conditions' intervals (MOVER), so at off-target sites "
        f"they come from the same model as the test. A site was called EDITED when q < {settings.q_threshold} and the excess was at "
        f"least {100 * settings.min_effect:.3g} percentage points; INCONCLUSIVE when treated or control had fewer "
        f"than {settings.min_reads} reads or the control background exceeded {100 * settings.max_background:.3g}%; "
        f"otherwise NOT DETECTED, reported with the one-sided 95% upper bound on the excess. The per-site limit "
        f"of detection is the smallest true excess that this whole decision rule (the test above at the "
        f"Benjamini-Hochberg threshold for the family's number of off-target sites and its other rejections, "
        f"and the minimum effect) calls EDITED with {100 * settings.power:.0f}% power at the site's effective "
        f"depths, control background (floored at 0.5/control depth) and the panel's tau^2, averaged over the "
        f"uncertainty of the tau^2 estimate (the true tau^2 it allows and the estimate the test then uses, from "
        f"its degrees of freedom) (normal approximation on the logit scale for the test and the delta method for "
        f"the excess, solved numerically)."
    )
