"""Analytical validation of editcheck's statistics on simulated counts with known truth.

The generative model is deliberately richer than the statistics it checks (see the notes on realistic
noise): per replicate a true rate drawn around the condition's rate (logit-normal with SD ``sd`` for
on-target rates, a log-normal multiplier with SD ``sd`` for low off-target backgrounds); then, when
``molecules`` is set, a bottleneck of that many template molecules, each edited or not once, each
copied by PCR with its own efficiency e ~ Beta(16, 4) over ``PCR_CYCLES`` cycles (family size
(1 + e)^cycles, so some molecules are over-represented), and the sequenced reads a multinomial draw over
the copies. Without ``molecules`` reads are binomial draws from the replicate's rate.

:func:`validation_table` prints the analytical-validation table a dossier asks for: the coverage of the
on-target pooled 95% CI, the false-call rate on null off-target sites (P(p < 0.05) and EDITED), and the
EDITED rate at 1x and 2x the reported limit of detection in 40-site panels. Everything is seeded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np

from editcheck.offtarget.significance import EDITED, CallSettings, Replicate, call_panel
from editcheck.statistics.replicates import replicate_interval

PCR_CYCLES = 12
PANEL_SITES = 40


def replicate_rates(rng: np.random.Generator, rate: float, sd: float, count: int, scale: str) -> np.ndarray:
    """True rates of ``count`` replicates: logit-normal (``scale="logit"``) or a mean-one log-normal
    multiplier (``scale="log"``) around ``rate``."""
    if scale == "logit":
        return 1.0 / (1.0 + np.exp(-(math.log(rate / (1 - rate)) + rng.normal(0.0, sd, count))))
    return np.minimum(rate * np.exp(rng.normal(-sd * sd / 2, sd, count)), 1.0)


def sequenced_edited(rng: np.random.Generator, reads: int, rate: float, molecules: int | None) -> int:
    """Edited reads among ``reads`` from a sample whose true rate is ``rate`` (see the module docstring)."""
    if molecules is None:
        return int(rng.binomial(reads, rate))
    edited = rng.random(molecules) < rate
    family = (1.0 + rng.beta(16.0, 4.0, molecules)) ** PCR_CYCLES
    return int(rng.binomial(reads, family[edited].sum() / family.sum()))


def ontarget_coverage(
    rng: np.random.Generator, *, rate: float = 0.4, replicates: int = 3, reads: int = 10_000, sd: float = 0.1,
    molecules: int | None = None, trials: int = 1000,
) -> float:  # fmt: skip
    """Share of trials whose pooled replicate-level 95% CI holds the true (median) rate."""
    covered = 0
    for _ in range(trials):
        rates = replicate_rates(rng, rate, sd, replicates, "logit")
        counts = [(sequenced_edited(rng, reads, p, molecules), reads) for p in rates]
        estimate = replicate_interval(counts)
        covered += estimate.low <= rate <= estimate.high
    return covered / trials


@dataclass(frozen=True)
class PanelDesign:
    """Depths of the treated and control replicates of every site, and the noise of the panel."""

    label: str
    treated_reads: tuple[int, ...]
    control_reads: tuple[int, ...]
    background: float
    sd: float = 0.0
    molecules: int | None = None
    input_given: bool = True
    """Whether the statistics are told the molecule count (as the input amount)."""


def simulate_panel(
    rng: np.random.Generator, design: PanelDesign, excess: Sequence[float]
) -> list[tuple[str, bool, list[Replicate], list[Replicate]]]:
    """One panel: a site per entry of ``excess`` (0 for null sites), as ``call_panel`` input."""
    told = design.molecules if design.input_given else None
    sites: list[tuple[str, bool, list[Replicate], list[Replicate]]] = []
    for index, extra in enumerate(excess):
        treated_rates = replicate_rates(rng, design.background + extra, design.sd, len(design.treated_reads), "log")
        control_rates = replicate_rates(rng, design.background, design.sd, len(design.control_reads), "log")
        treated = [Replicate(f"T{r + 1}", sequenced_edited(rng, n, p, design.molecules), n, told)
                   for r, (n, p) in enumerate(zip(design.treated_reads, treated_rates))]  # fmt: skip
        control = [Replicate(f"C{r + 1}", sequenced_edited(rng, n, p, design.molecules), n, told)
                   for r, (n, p) in enumerate(zip(design.control_reads, control_rates))]  # fmt: skip
        sites.append((f"site{index}", False, treated, control))
    return sites


def null_rates(
    rng: np.random.Generator, design: PanelDesign, panels: int, settings: CallSettings = CallSettings()
) -> tuple[float, float]:
    """(P(p < 0.05), EDITED rate) over the sites of ``panels`` all-null panels."""
    significant = edited = total = 0
    for _ in range(panels):
        calls, _ = call_panel(simulate_panel(rng, design, [0.0] * PANEL_SITES), settings)
        significant += sum(call.p_value < 0.05 for call in calls)
        edited += sum(call.call == EDITED for call in calls)
        total += len(calls)
    return significant / total, edited / total


def reported_lod(
    rng: np.random.Generator, design: PanelDesign, panels: int = 5, settings: CallSettings = CallSettings()
) -> float:
    """The median LOD (a proportion) that null panels of this design report for their sites (a panel's
    LOD depends on its own estimate of tau2, so one panel alone is a noisy reference)."""
    lods = []
    for _ in range(panels):
        calls, _ = call_panel(simulate_panel(rng, design, [0.0] * PANEL_SITES), settings)
        lods += [call.lod_percent for call in calls]
    return float(np.median(lods)) / 100


def detection_rate(
    rng: np.random.Generator, design: PanelDesign, excess: float, panels: int, settings: CallSettings = CallSettings()
) -> float:
    """EDITED rate of one site at a true ``excess`` among PANEL_SITES - 1 null sites."""
    hits = 0
    for _ in range(panels):
        calls, _ = call_panel(simulate_panel(rng, design, [excess] + [0.0] * (PANEL_SITES - 1)), settings)
        hits += calls[0].call == EDITED
    return hits / panels


class _OnTargetScenario(TypedDict, total=False):
    sd: float
    molecules: int


ONTARGET_GRID: list[_OnTargetScenario] = [
    {"sd": 0.0}, {"sd": 0.1}, {"sd": 0.2}, {"sd": 0.1, "molecules": 1000},
]  # fmt: skip
PANEL_GRID = [
    PanelDesign("3x10k vs 3x10k, bg 0.3%, SD 0.2", (10_000,) * 3, (10_000,) * 3, 0.003, 0.2),
    PanelDesign("3x10k vs 1x10k, bg 0.3%, SD 0", (10_000,) * 3, (10_000,), 0.003, 0.0),
    PanelDesign("1x30k vs 1x30k, bg 0.3%, SD 0.2", (30_000,), (30_000,), 0.003, 0.2),
    PanelDesign("3x10k vs 3x10k from 1,000 molecules, input given", (10_000,) * 3, (10_000,) * 3, 0.003, 0.0, 1000),
    PanelDesign("3x20k vs 3x20k, bg 0.05%, SD 0", (20_000,) * 3, (20_000,) * 3, 0.0005, 0.0),
]
VALIDATION_COLUMNS = ("check", "scenario", "measured", "target")
"""Columns of the table :func:`format_table` writes (`editcheck validate -o`)."""
SIZES = {"smoke": (20, 1, 2), "small": (400, 25, 100), "full": (2000, 100, 400)}
"""Trials per grid: (on-target replicate series, null panels, panels per detection rate). ``smoke`` only
checks that the command runs (too few trials for conclusions)."""


def validation_table(grid: str = "small", seed: int = 1) -> list[dict[str, str]]:
    """Rows of the analytical-validation table (check, scenario, measured, target)."""
    series, null_panels, detection_panels = SIZES[grid]
    rng = np.random.default_rng(seed)
    rows = []
    for options in ONTARGET_GRID:
        coverage = ontarget_coverage(rng, trials=series, **options)
        molecules = f", {options['molecules']:,} molecules" if options.get("molecules") else ""
        rows.append({"check": "on-target pooled 95% CI coverage",
                     "scenario": f"40%, 3x10k reads, between-replicate logit SD {options['sd']}{molecules}",
                     "measured": f"{100 * coverage:.1f}%", "target": "93-97%"})  # fmt: skip
    for design in PANEL_GRID:
        significant, edited = null_rates(rng, design, null_panels)
        rows.append({"check": "null sites: P(p < 0.05) / EDITED", "scenario": design.label,
                     "measured": f"{100 * significant:.1f}% / {100 * edited:.2f}%", "target": "<= 7% / <= 5%"})  # fmt: skip
    for design in PANEL_GRID:
        lod = reported_lod(rng, design, panels=min(10, null_panels))
        rates = [detection_rate(rng, design, multiple * lod, detection_panels) for multiple in (1, 2)]
        rows.append({"check": "EDITED at 1x / 2x reported LOD (40-site panel)",
                     "scenario": f"{design.label}; LOD {100 * lod:.3g} pp",
                     "measured": f"{100 * rates[0]:.0f}% / {100 * rates[1]:.0f}%", "target": "70-90% / >= 95%"})  # fmt: skip
    return rows


def format_table(rows: Sequence[dict[str, str]]) -> str:
    """Tab-separated table with a header line."""
    return (
        "\n".join(
            ["\t".join(VALIDATION_COLUMNS), *("\t".join(row[column] for column in VALIDATION_COLUMNS) for row in rows)]
        )
        + "\n"
    )


__all__ = [
    "VALIDATION_COLUMNS",
    "PanelDesign",
    "detection_rate",
    "format_table",
    "null_rates",
    "ontarget_coverage",
    "reported_lod",
    "simulate_panel",
    "validation_table",
]
