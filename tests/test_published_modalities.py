"""Base and prime editing against CRISPResso2 v2.3.4's published results (../shared MANIFEST.md)."""

from __future__ import annotations

import pytest

from editcheck.classification.outcomes import ClassificationSettings
from editcheck.design import build_design
from editcheck.errors import DesignError
from editcheck.pipeline import AnalysisSettings, quantify
from editcheck.quantification.base_editing import base_editing_summary, conversion_table
from editcheck.reads.collapse import QualitySettings

CRISPRESSO2 = AnalysisSettings(
    classification=ClassificationSettings(count_substitutions=True), quality=QualitySettings(min_base_quality=0)
)
"""CRISPResso2's counting: every substitution in the window is an edit, and no base is masked."""

FANC = (
    "CGGATGTTCCAATCAGTACGCAGAGAGTCGCCGTCTCCAAGGTGAAAGCGGAAGTAGGGCCTTCGCGCACCTCATGGAATCCCTTCTGCAGCACCTGGATCGCTTTTCC"
    "GAGCTTCTGGCGGTCTCAAGCACTACCTACGTCAGCACCTGGGACCCCGCCACCGTGCGCCGGGCCTTGCAGTGGGCGCGCTACCTGCGCCACATCCATCGGCGCTTTGGTCGG"
)
FANC_ABE = (
    "CGGATGTTCCAATCAGTACGCAGAGAGTCGCCGTCTCCAAGGTGAAAGCGGAAGTAGGGCCTTCGCGCACCTCATGGAATCCCTTCTGCAGCACCTGGGACCCCGCCACCG"
    "TGCGCCGGGCCTTGCAGTGGGCGCGCTACCTGCGCCACATCCATCGGCGCTTTGGTCGG"
)
FANC_GUIDE = "GGAATCCCTTCTGCAGCACC"
PE_AMPLICON = (
    "ACGTCTCATATGCCCCTTGGCAGTCATCTTAGTCATTACCTGAGGTGTTCGTTGTAACTCATATAAACTGAGTTCCCATGTTTTGCTTAATGGTTGAGTTCCGTTTGTCT"
    "GCACAGCCTGAGACATTGCTGGAAATAAAGAAGAGAGAAAAACAATTTTAGTATTTGGAAGGGAAGTGCTATGGTCTGAATGTATGTGTCCCACCAAAATTCCTACGT"
)
PE_SPACER, PE_EXTENSION = "GTCATCTTAGTCATTACCTG", "AACGAACACCTCATGTAATGACTAAGATG"
PE_NICKING = "CTCAACCATTAAGCAAAACAT"
PE_SCAFFOLD = "GTTTTAGAGCTAGAAATAGCAAGTTAAAATAAGGCTAGTCCGTTATCAACTTGAAAAAGTGGCACCGAGTCGGTGC"


def conversions(design, tally):
    return {row.position: row.converted for row in conversion_table(design, tally)}


def test_abe_a_to_g_at_79_is_4_percent(crispresso2_inputs):
    design = build_design(FANC_ABE, [FANC_GUIDE], base_editor="ABE", target=79)
    tally = quantify(crispresso2_inputs / "vcf_base_edit_abe.fastq", design=design).tally
    at_79 = conversions(design, tally)[79]
    assert (at_79.reads, at_79.total) == (4, 100)
    summary = base_editing_summary(design, tally)
    assert summary["target"]["protospacer_position"] == 4
    assert summary["target"]["engagement"]["reads"] == 4
    # The editing window counts without widening the quantification window by hand.
    assert tally.edited.reads >= 4


def test_cbe_c_to_t_at_81_82_83(crispresso2_inputs):
    design = build_design(FANC, [FANC_GUIDE], base_editor="CBE")
    tally = quantify(crispresso2_inputs / "vcf_base_edit_cbe.fastq", design=design).tally
    table = conversions(design, tally)
    assert [table[position].percent for position in (81, 82, 83)] == [15.0, 17.0, 8.0]
    assert tally.base_edit_classes["converted"] == 25  # the 25 truly edited reads


def test_vcf_prime_edit_basic_13_precise(crispresso2_inputs):
    # CRISPResso2: reference 81 (72 unmodified / 9 modified), prime-edited 19 (13 precise / 6 modified).
    design = build_design(FANC, window_flank=1, pegrnas=[(FANC_GUIDE, "ATCTGGATCGGCTGCAGAAGGGA")])
    outcomes = quantify(
        crispresso2_inputs / "vcf_prime_edit_basic.fastq", design=design, settings=CRISPRESSO2
    ).tally.outcomes
    assert outcomes["prime_edit"] == 13
    assert outcomes["prime_edit_with_changes"] == 6
    assert outcomes["unmodified"] == 72
    assert outcomes["modified"] + outcomes["large_deletion"] == 9


def test_prime_editor_matches_published(crispresso2_inputs):
    # CRISPResso2: precise 9,118; scaffold-incorporated 530; reference 14,398 (+249 ambiguous, which
    # editcheck resolves to the reference: they carry no prime-edit-specific base).
    design = build_design(
        PE_AMPLICON, window_flank=1, pegrnas=[(PE_SPACER, PE_EXTENSION)], nicking_guides=[PE_NICKING],
        scaffold=PE_SCAFFOLD,
    )  # fmt: skip
    tally = quantify(crispresso2_inputs / "prime_editor.fastq.gz", design=design, threads=2, settings=CRISPRESSO2).tally
    outcomes = tally.outcomes
    reference = outcomes["unmodified"] + outcomes["modified"] + outcomes["large_deletion"]
    assert outcomes["prime_edit"] == pytest.approx(9118, rel=0.02)
    assert reference == pytest.approx(14398, rel=0.02)
    assert outcomes["scaffold_insertion"] == pytest.approx(530, rel=0.03)


def test_prime_edit_orientation_is_stated_and_checked():
    reversed_extension = "TCCCTTCTGCAGCCGATCCAGAT"  # the extension given as DNA of the edited strand
    design = build_design(FANC, pegrnas=[(FANC_GUIDE, reversed_extension)])
    assert "reverse-complemented" in design.prime_edit.notes[0]
    assert design.prime_edited.sequence[79:102] == "TCCCTTCTGCAGCCGATCCAGAT"
    with pytest.raises(DesignError, match=r"PBS .* does not pair with 6 or more protospacer bases ending at the nick"):
        build_design(FANC, pegrnas=[(FANC_GUIDE, "ACGTTGCAACGTTGCAACGTTGCA")])
