"""Sequencing errors are not edits (issue #10 item 9): on independent simulations with known truth and
0.2% / 0.5% substitution errors, default settings put every class within 0.1 percentage points of the
truth, for a nuclease with an HDR donor and for an adenine base editor; the substitution background is
estimated from the reads themselves."""

from __future__ import annotations

import pytest

from base_editing_truth import assert_base_editing_matches_truth, percent
from editcheck import simulate
from editcheck.classification.outcomes import ClassificationSettings
from editcheck.design import build_design
from editcheck.pipeline import AnalysisSettings, quantify
from editcheck.quantification.background import substitution_background
from editcheck.reads.collapse import QualitySettings

READS = 20_000
TOLERANCE = 0.1  # percentage points


@pytest.mark.parametrize("error_rate", [0.002, 0.005])
def test_nuclease_with_donor_every_class_within_0_1_points(tmp_path, error_rate):
    design = simulate.random_design(seed=31, with_donor=True)
    truth = simulate.simulate(design, READS, tmp_path / "r.fastq.gz", error_rate=error_rate, seed=17)
    built = build_design(design.amplicon, [design.guide], expected_hdr_amplicon=design.donor_amplicon)
    tally = quantify(tmp_path / "r.fastq.gz", design=built).tally
    counts = truth["class_counts"]
    assert tally.classified == READS
    observed = {
        "unmodified": tally.outcomes["unmodified"],
        "modified": tally.outcomes["modified"] + tally.outcomes["large_deletion"],
        "hdr": tally.outcomes["hdr"],
        "imperfect_hdr": tally.outcomes["imperfect_hdr"],
        "deletion": tally.with_deletion,
        "insertion": tally.with_insertion,
        "substitution": tally.with_substitution,
    }
    expected = {
        # A nuclease's substitution is reported (as a substitution), not an edit: those reads are unmodified.
        "unmodified": counts["unmodified"] + counts["substitution"],
        "modified": counts["deletion"] + counts["insertion"],
        "hdr": counts["hdr"],
        "imperfect_hdr": 0,
        "deletion": counts["deletion"],
        "insertion": counts["insertion"],
        "substitution": counts["substitution"],
    }
    for name, reads in expected.items():
        assert percent(observed[name], READS) == pytest.approx(percent(reads, READS), abs=TOLERANCE), name
    edited_truth = percent(counts["deletion"] + counts["insertion"] + counts["hdr"], READS)
    assert tally.edited.percent == pytest.approx(edited_truth, abs=TOLERANCE)


@pytest.mark.parametrize("error_rate", [0.002, 0.005])
def test_adenine_base_editor_every_class_within_0_1_points(tmp_path, error_rate):
    design = simulate.random_design(seed=2024, with_donor=False)
    mix = simulate.OutcomeMix(unmodified=0.5, deletion=0.06, insertion=0.04, substitution=0.0, hdr=0.0, base_edit=0.4)
    spec = simulate.BaseEditorSpec()
    truth = simulate.simulate(design, READS, tmp_path / "abe.fastq.gz", mix=mix, base_editor=spec,
                              error_rate=error_rate, seed=23)  # fmt: skip
    editing = truth["base_editing"]
    built = build_design(design.amplicon, [design.guide], base_editor="ABE", target_in_protospacer=editing["target"])
    tally = quantify(tmp_path / "abe.fastq.gz", design=built).tally
    # Reads with an editable base masked to N (an error at low quality) do not show their editing state:
    # they are reported apart, and the percentages are over the reads that show every editable base.
    masked = tally.outcomes["editable_base_masked"]
    assert 0 < masked < 3 * error_rate * READS
    determined = tally.classified
    assert determined + masked == READS == tally.aligned
    assert sum(tally.base_edit_classes.values()) == determined
    assert_base_editing_matches_truth(tally, truth, READS, TOLERANCE)
    assert tally.with_other_substitution <= TOLERANCE / 100 * READS


def test_background_is_estimated_from_the_reads(tmp_path):
    design = simulate.random_design(seed=2024, with_donor=False)
    truth = simulate.simulate(design, 5_000, tmp_path / "r.fastq.gz", error_rate=0.005, seed=3)
    built = build_design(design.amplicon, [design.guide])
    unmasked = AnalysisSettings(quality=QualitySettings(min_base_quality=0))
    raw = substitution_background(quantify(tmp_path / "r.fastq.gz", design=built, settings=unmasked).tally)
    # 3% of simulated errors are written as N, which is never a substitution.
    assert raw["per_base_percent_median"] == pytest.approx(100 * truth["realised_error_rate"] * 0.97, rel=0.25)
    assert raw["expected_reads_with_background_substitution_in_window_percent"] > 2.0
    masked = substitution_background(quantify(tmp_path / "r.fastq.gz", design=built).tally)
    assert masked["per_base_percent_median"] == 0.0


def test_crispresso2_counting_is_kept_as_an_option(tmp_path):
    # --count-substitutions with no masking reproduces the other tool's counting: errors in the window are edits.
    design = simulate.random_design(seed=31, with_donor=False)
    truth = simulate.simulate(design, 5_000, tmp_path / "r.fastq.gz", error_rate=0.005, seed=5)
    built = build_design(design.amplicon, [design.guide])
    counting = AnalysisSettings(
        classification=ClassificationSettings(count_substitutions=True), quality=QualitySettings(min_base_quality=0)
    )
    tally = quantify(tmp_path / "r.fastq.gz", design=built, settings=counting).tally
    counted = truth["expected_classification"][
        "modified"
    ]  # the simulator's truth counts substitution reads as modified
    assert tally.outcomes["modified"] > counted  # plus the reads with an error in the window
    default = quantify(tmp_path / "r.fastq.gz", design=built).tally
    assert default.outcomes["modified"] == pytest.approx(counted - truth["class_counts"]["substitution"], abs=5)
