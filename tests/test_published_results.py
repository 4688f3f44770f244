"""editcheck against CRISPResso2 v2.3.4's published results on the real CRISPResso2 test reads.

Numbers and windows come from ../shared/data/crispresso2_tests/MANIFEST.md. editcheck's identity is
computed over the span a read covers (read overhang past the primers is clipped), so it aligns a few
reads with very large indels that CRISPResso2 leaves unaligned; counts may therefore differ by a
read or two, which the tolerances below allow and no more.
"""

from __future__ import annotations

import pytest

from editcheck.classification.outcomes import ClassificationSettings
from editcheck.design import build_design
from editcheck.pipeline import AnalysisSettings, quantify
from editcheck.reads.collapse import QualitySettings

CRISPRESSO2 = AnalysisSettings(
    classification=ClassificationSettings(count_substitutions=True), quality=QualitySettings(min_base_quality=0)
)
"""CRISPResso2's counting: every substitution in the window is an edit, and no base is masked."""

FANC = (
    "CGGATGTTCCAATCAGTACGCAGAGAGTCGCCGTCTCCAAGGTGAAAGCGGAAGTAGGGCCTTCGCGCACCTCATGGAATCCCTTCTGCAGCACCTGGATCGCTTTTCC"
    "GAGCTTCTGGCGGTCTCAAGCACTACCTACGTCAGCACCTGGGACCCCGCCACCGTGCGCCGGGCCTTGCAGTGGGCGCGCTACCTGCGCCACATCCATCGGCGCTTTGGTCGG"
)
FANC_GUIDE = "GGAATCCCTTCTGCAGCACC"
FANC_HDR = (
    "CGGCCGGATGTTCCAATCAGTACGCAGAGAGTCGCCGTCTCCAAGGTGAAAGCTGAAGTAGGGCCTTCGCGCACCTCATGGAATCCCTTCTGCAGCTTTTCCGAGCTTCTGG"
    "CGGTCTCAAGCACTACCTACGTCAGCACCTGGGACCCCGCCACCGTGCGCCGGGCCTTGCAGTGGGCGCGCTACCTGCGCCACATCCATCGGCGCTTTGGTCGG"
)
HEK3 = (
    "GGAAACGCCCATGCAATTAGTCTATTTCTGCTGCAAGTAAGCATGCATTTGTAGGCTTGATGCTTTTTTTCTGCTTCTCCAGCCCTGGCCTGGGTCAATCCTTGGGGCC"
    "CAGACTGAGCACGTGATGGCAGAGGAAAGGAAGCCCTGCTTCCTCCAGAGGGCGTCGCAGGACAGCTTTTCCTAGACAGGGGCTAGTATGTGCAGCTCCTGCACCGGGAT"
    "ACTGGTTGACAAG"
)
HEK3_GUIDE = "GGCCCAGACTGAGCACGTGA"
NHEJ = (
    "AATGTCCCCCAATGGGAAGTTCATCTGGCACTGCCCACAGGTGAGGAGGTCATGATCCCCTTCTGGAGCTCCCAACGGGCCGTGGTCTGGTTCATCATCTGTAAGAATGG"
    "CTTCAAGAGGCTCGGCTGTGGTT"
)


def test_fanc_cas9_modified_matches_published(crispresso2_inputs):
    # CRISPResso2: 235 aligned, 173 unmodified, 62 modified (26.38%), default 2-bp window 92-93.
    design = build_design(FANC, [FANC_GUIDE], window="92-93")
    tally = quantify(crispresso2_inputs / "FANC.Cas9.fastq", design=design, settings=CRISPRESSO2).tally
    assert abs(tally.classified - 235) <= 3
    assert abs(tally.outcomes["unmodified"] - 173) <= 2
    # CRISPResso2 has no large-deletion class: its "modified" is editcheck's modified + large_deletion.
    assert abs(tally.edited.reads - 62) <= 2
    assert tally.edited.percent == pytest.approx(26.38, abs=1.0)
    low, high = tally.edited.interval
    assert low < 26.38 < high


def test_fanc_default_flank_one_equals_explicit_window(crispresso2_inputs):
    by_flank = quantify(crispresso2_inputs / "FANC.Cas9.fastq", design=build_design(FANC, [FANC_GUIDE], window_flank=1))
    by_window = quantify(
        crispresso2_inputs / "FANC.Cas9.fastq", design=build_design(FANC, [FANC_GUIDE], window="92-93")
    )
    assert by_flank.tally.outcomes == by_window.tally.outcomes


def test_hek3_modified_matches_published(crispresso2_inputs):
    # CRISPResso2: 244 aligned, 160 unmodified, 84 modified (34.43%). It drops reads whose large
    # deletion pulls identity under 60%; with that rescue switched off editcheck agrees.
    design = build_design(HEK3, [HEK3_GUIDE], window_flank=1)
    without_rescue = AnalysisSettings(
        classification=ClassificationSettings(large_deletion_min=10**6, count_substitutions=True),
        quality=QualitySettings(min_base_quality=0),
    )
    tally = quantify(crispresso2_inputs / "HEK3.Cas9.fastq", design=design, settings=without_rescue).tally
    assert abs(tally.classified - 244) <= 3
    assert abs(tally.outcomes["unmodified"] - 160) <= 2
    assert abs(tally.edited.reads - 84) <= 2
    # Default: the large deletions are kept (as their own class) and the unmodified count is unchanged.
    rescued = quantify(crispresso2_inputs / "HEK3.Cas9.fastq", design=design, settings=CRISPRESSO2).tally
    assert rescued.outcomes["unmodified"] == tally.outcomes["unmodified"]
    assert rescued.outcomes["large_deletion"] >= 3
    assert rescued.edited.reads > tally.edited.reads


def test_untreated_control_is_unmodified(crispresso2_inputs):
    design = build_design(FANC, [FANC_GUIDE], window="92-93")
    tally = quantify(crispresso2_inputs / "FANC.Untreated.fastq", design=design).tally
    assert tally.classified == 247
    assert tally.outcomes["modified"] == 0
    assert tally.edited.percent == 0.0


def test_vcf_basic_equals_truth(crispresso2_inputs):
    # Truth: 26 deletion + 7 insertion reads at 90-94; window 1-based 90-96, substitutions ignored.
    design = build_design(FANC, [FANC_GUIDE], window="90-96")
    settings = AnalysisSettings(classification=ClassificationSettings(ignore_substitutions=True))
    tally = quantify(crispresso2_inputs / "vcf_basic.fastq", design=design, settings=settings).tally
    assert tally.classified == 100
    assert tally.outcomes["modified"] == 33
    assert tally.with_deletion == 26
    assert tally.with_insertion == 7
    assert dict(tally.deletion_sizes) == {1: 6, 2: 9, 3: 2, 4: 3, 5: 2, 6: 1, 8: 1, 11: 1, 12: 1}


def test_vcf_no_edits_only_the_sequencing_error(crispresso2_inputs):
    design = build_design(FANC, [FANC_GUIDE], window="92-93")
    tally = quantify(crispresso2_inputs / "vcf_no_edits.fastq", design=design, settings=CRISPRESSO2).tally
    assert tally.outcomes["unmodified"] == 99
    assert tally.with_substitution == 1
    assert tally.with_deletion == tally.with_insertion == 0
    # By default a nuclease's substitution is reported, not an edit: every read is unmodified.
    default = quantify(crispresso2_inputs / "vcf_no_edits.fastq", design=design).tally
    assert default.outcomes["unmodified"] == 100
    assert default.with_substitution + default.with_other_substitution == 2 * default.with_substitution


def test_fanc_with_hdr_amplicon_matches_published(crispresso2_inputs):
    # CRISPResso2 -e FANC_HDR: 173 unmodified / 33 NHEJ / 15 HDR / 15 imperfect HDR, 0 ambiguous. It calls
    # a read HDR by the reference it fits best; editcheck by the donor-specific changes it shows (50G>T and
    # the 11-bp deletion 93_103). Most of those 30 reads are NHEJ deletions running into the donor's
    # deletion (no donor junction, wild-type 50G): NHEJ here. The edited total is the same.
    design = build_design(FANC, [FANC_GUIDE], window="92-93", expected_hdr_amplicon=FANC_HDR)
    assert [change.label for change in design.donor_changes] == ["50G>T", "93_103del"]
    assert "4 bp at the 5' end were trimmed" in design.notes[0]
    tally = quantify(crispresso2_inputs / "FANC.Cas9.fastq", design=design, settings=CRISPRESSO2).tally
    outcomes = tally.outcomes
    assert abs(outcomes["unmodified"] - 173) <= 3
    assert abs(tally.edited.reads - (33 + 15 + 15)) <= 2
    assert outcomes["hdr"] == 1
    assert outcomes["imperfect_hdr"] == 2
    assert tally.imperfect_hdr_missing == 2 and tally.donor_change_missing == {0: 1, 1: 1}
    assert outcomes["ambiguous"] == 0


@pytest.mark.parametrize("threads", [1, 2])
def test_nhej_paired_end_matches_published(crispresso2_inputs, threads):
    # No guide: window = amplicon less 15 bp at each end. CRISPResso2: 77.06% (fastp merge), 76.69% (own merge).
    design = build_design(NHEJ)
    result = quantify(
        crispresso2_inputs / "nhej.r1.fastq.gz",
        crispresso2_inputs / "nhej.r2.fastq.gz",
        design=design,
        threads=threads,
        settings=CRISPRESSO2,
    )
    assert result.reads.reads_in == 25_000
    assert result.reads.merged + result.reads.unmerged == 25_000
    assert result.reads.merged > 24_000
    assert 76.69 - 0.5 <= result.tally.edited.percent <= 77.06 + 0.5
    assert result.tally.classified > 24_500
