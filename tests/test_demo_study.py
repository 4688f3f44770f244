"""The bundled demo study end to end (issue #12 acceptance): README's main command, `snakemake --cores 2` with
config/config.yaml, in a copy of config/ and test_data/demo/, and every headline number against the demo's truth
(test_data/demo/truth.json, written by make_demo.py through editcheck.simulate.study).

The truth is the simulator's: each sample's realised read-level target engagement (product A) or edited % (B),
each group's true level (replicates vary about it logit-normally; reads are PCR copies of 3,000 molecules), each
patient series' direction, and each panel site's expected call.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from editcheck import study as study_model
from editcheck.evidence.groups import GroupEstimate, group_estimates
from editcheck.evidence.load import panel_summary, sample_estimates
from editcheck.evidence.records import SampleEstimate, SampleMetadata
from editcheck.evidence.series import durability_series
from editcheck.evidence.table import PASS, TARGET_EDITED, evidence_table, platform_table
from editcheck.statistics.durability import DECLINE, NO_DECLINE
from test_workflow import REPO, needs_snakemake, read_tsv, run_snakemake

DEMO = REPO / "test_data" / "demo"
TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))

pytestmark = [needs_snakemake, pytest.mark.slow]


@pytest.fixture(scope="session")
def demo_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's config/ and test_data/demo/ copied to a fresh folder and run as README says."""
    root = tmp_path_factory.mktemp("demo_study")
    shutil.copytree(REPO / "config", root / "config")
    shutil.copytree(DEMO, root / "test_data" / "demo")
    result = run_snakemake(root, "--cores", "2", configfile=root / "config" / "config.yaml")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return root


def _metadata(root: Path) -> dict[str, SampleMetadata]:
    study = study_model.read_study(root / "config" / "designs.tsv", root / "config" / "study_samples.tsv")
    return {
        sample.sample: SampleMetadata(
            sample.design_id, sample.condition, sample.replicate, sample.subject, sample.model, sample.tissue,
            sample.time_point.days if sample.time_point else None, sample.time_point.text if sample.time_point else "",
        )
        for sample in study.samples
        if sample.assay == study_model.ON_TARGET
    }  # fmt: skip


@pytest.fixture(scope="module")
def estimates(demo_study: Path) -> list[SampleEstimate]:
    metadata = _metadata(demo_study)
    return sample_estimates([demo_study / "results" / "ontarget" / name for name in metadata], metadata)


@pytest.fixture(scope="module")
def groups(estimates: list[SampleEstimate]) -> list[GroupEstimate]:
    return group_estimates(estimates)


def _headline(summary: dict, design_id: str) -> dict:
    if TRUTH["designs"][design_id]["measure"] == "target engagement":
        return summary["base_editing"]["target"]["engagement"]
    return summary["edited"]


def test_every_sample_matches_its_truth(demo_study: Path) -> None:
    """Target engagement (A) or edited % (B) of every on-target sample within 1 pp of its reads' truth (within
    its 95% CI for a sample under 2,000 reads); every sample in the report's summary."""
    assert len(TRUTH["samples"]) == 22
    for name, truth in TRUTH["samples"].items():
        summary = json.loads((demo_study / "results" / "ontarget" / name / "summary.json").read_text(encoding="utf-8"))
        observed = _headline(summary, truth["design_id"])
        assert summary["reads"]["input"] == truth["reads"], name
        if truth["reads"] >= 2000:
            assert observed["percent"] == pytest.approx(truth["read_level_percent"], abs=1.0), name
        else:
            assert observed["ci95_low"] <= truth["read_level_percent"] <= observed["ci95_high"], name
    # The report's summary tables (one per design, or one for the study) list every on-target sample once.
    rows = [row for path in sorted((demo_study / "results" / "report").rglob("summary.tsv")) for row in read_tsv(path)]
    reported = [row["sample"] for row in rows if row["assay"] == "on_target"]
    assert sorted(reported) == sorted(TRUTH["samples"])


def test_metadata_reaches_the_summaries(demo_study: Path) -> None:
    summary = json.loads(
        (demo_study / "results" / "ontarget" / "P01_6mo_2" / "summary.json").read_text(encoding="utf-8")
    )
    assert summary["metadata"]["subject"] == "P01"
    assert summary["metadata"]["time_point"] == "6 mo"
    assert summary["metadata"]["model"] == "clinical"


def test_pooled_time_point_intervals_cover_the_true_levels(groups: list[GroupEstimate]) -> None:
    """Each (design, subject, tissue, time point, condition) pooled over its biological replicates: its 95% CI
    covers the level the replicates were drawn about, and its estimate is near it."""
    levels = {(g["design_id"], g["subject"], g["time_point"], g["condition"]): g["level_percent"]
              for g in TRUTH["groups"] if g["assay"] == "on_target"}  # fmt: skip
    found = {(group.design_id, group.subject, group.time_label, group.condition): group for group in groups}
    assert set(found) == set(levels)
    for key, level in levels.items():
        estimate = found[key].headline
        assert estimate.low <= level <= estimate.high, (key, estimate)
        assert estimate.percent == pytest.approx(level, abs=8.0), key
        assert estimate.replicates == len(found[key].samples)
    animal = found[("A", "M01", "28 d", "treated")].target_engagement
    assert animal is not None and animal.percent == pytest.approx(42.0, abs=3.0)


def test_decline_detected_and_stable_subject_not_flagged(estimates: list[SampleEstimate]) -> None:
    """P01 declines from 45% to 26% over 11 months (three time points, three replicates each): its verdict says
    "decline detected" with a negative slope and a first-to-last change whose whole 95% CI is below 0 (with
    three time points the trend is fitted over the replicates and judged with the change, each at 97.5%).
    P02 is stable at 40%: "no decline detected", the slope's and every change's CI contain 0."""
    series = {entry.subject: entry for entry in durability_series(estimates)}
    assert set(series) == set(TRUTH["series"])
    declining, stable = series["P01"].result, series["P02"].result
    assert TRUTH["series"]["P01"]["direction"] == "decline" and TRUTH["series"]["P02"]["direction"] == "stable"
    assert declining.verdict.startswith(DECLINE + " (slope -"), declining.verdict
    assert declining.trend is not None and declining.trend.slope < 0 and declining.trend.pp_per_month < 0
    assert declining.trend.model == "replicates" and declining.trend.degrees_of_freedom == 7
    assert declining.trend.low < TRUTH["series"]["P01"]["slope_logit_per_month"] < declining.trend.high
    assert declining.changes[-1].high < 0
    assert declining.changes[-1].change == pytest.approx(26.0 - 45.0, abs=6.0)
    assert stable.verdict.startswith(NO_DECLINE + " ("), stable.verdict
    assert stable.trend is not None and stable.trend.low < 0 < stable.trend.high
    assert all(change.low < 0 < change.high for change in stable.changes)


def test_offtarget_calls_match_truth(demo_study: Path) -> None:
    calls = {
        row["site_id"]: row for row in read_tsv(demo_study / "results" / "offtarget" / "A" / "offtarget_calls.tsv")
    }
    sites = TRUTH["offtarget"]["sites"]
    assert set(calls) == set(sites)
    for site_id, site in sites.items():
        assert calls[site_id]["call"] == site["expected_call"], (site_id, calls[site_id]["reason"])
    edited = TRUTH["offtarget"]["edited_site"]
    assert float(calls[edited]["treated_percent"]) == pytest.approx(sites[edited]["treated_edited_percent"], abs=0.5)


def test_evidence_table_per_subject(
    demo_study: Path, groups: list[GroupEstimate], estimates: list[SampleEstimate]
) -> None:
    """Every treated group passes the default rule (lower bound above the control's upper bound); each
    product and subject's platform row says 'target edited'; product A's rows carry the panel with OT2 EDITED."""
    panels = [panel_summary(demo_study / "results" / "offtarget" / "A", "A")]
    rows = evidence_table(groups, estimates, panels)
    results = {f"{row.group.design_id}/{row.group.subject}/{row.group.time_label}": row.result for row in rows}
    assert results == TRUTH["evidence"]
    assert set(results.values()) == {PASS}
    for row in rows:
        assert row.threshold_percent is not None and row.threshold_percent < 1.0  # the mocks' upper bound
        if row.group.design_id == "A":
            assert row.panel is not None and row.panel.edited_sites == (TRUTH["offtarget"]["edited_site"],)
            assert (row.panel.edited, row.panel.not_detected, row.panel.inconclusive) == (1, 3, 0)
    platform = platform_table(rows, panels, durability_series(estimates, panels))
    assert {(row.design_id, row.subject): row.verdict for row in platform} == {
        ("A", "M01"): TARGET_EDITED, ("A", "P01"): TARGET_EDITED, ("A", "P02"): TARGET_EDITED, ("B", "P03"): TARGET_EDITED,
    }  # fmt: skip


def test_the_animal_panel_is_flagged_for_the_animal_only(demo_study: Path) -> None:
    """Product A's panel samples are the animal M01's (28 d): the report's evidence gives OT2 EDITED to M01's
    row, not to the patients P01 and P02, whose biopsies had no off-target panel; their durability series flag
    no off-target site."""
    report = demo_study / "results" / "report"
    rows = read_tsv(report / "evidence.tsv")
    (animal,) = [row for row in rows if (row["design_id"], row["subject"]) == ("A", "M01")]
    assert animal["offtarget_edited_sites"] == TRUTH["offtarget"]["edited_site"]
    assert animal["offtarget_sites_tested"] == "4"
    patients = [row for row in rows if row["subject"] in ("P01", "P02")]
    assert len(patients) == 6 and all(row["offtarget_sites_tested"] == "" for row in patients)
    trends = {row["subject"]: row for row in read_tsv(report / "trends.tsv")}
    assert trends["P01"]["offtarget_edited"] == trends["P02"]["offtarget_edited"] == ""
    platform = {(row["design_id"], row["subject"]): row for row in read_tsv(report / "platform.tsv")}
    assert platform[("A", "M01")]["offtarget_edited_sites"] == f"{TRUTH['offtarget']['edited_site']} (28 d)"
    assert platform[("A", "P01")]["offtarget_panels"] == "0"
