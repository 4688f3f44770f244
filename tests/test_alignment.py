"""Alignment, indel placement and classification on small hand-made cases."""

from __future__ import annotations

import random

import pytest

from editcheck.alignment.aligner import ReadAligner
from editcheck.alignment.placement import place_indels
from editcheck.classification.outcomes import Classifier, aligned_sequence, describe_events
from editcheck.design import build_design, reverse_complement
from editcheck.errors import DesignError

# 80 bp amplicon; the guide's cut falls between 1-based positions 42 and 43, inside the run AAAA (40-45).
LEFT = "GATTCGCATGCCTGACGTTAGCCATGCGATCGTACCTGAAAAAAGTCGGATCCAGTCTTGCAGGCTTCAGTCCAGGTTCA"
AMPLICON = LEFT
GUIDE = AMPLICON[25:45]  # cut after protospacer nt 17 -> after amplicon position 42 (1-based)


@pytest.fixture(scope="module")
def design():
    return build_design(AMPLICON, [GUIDE], window_flank=1)


def align(design, read):
    aligner = ReadAligner(design.references)
    return aligner.align(read)


def test_guide_cut_and_window(design):
    site = design.guides[0]
    assert (site.start, site.strand, site.cut_point) == (25, "+", 41)
    assert design.amplicon.window_ranges() == [(42, 43)]


def test_reverse_strand_guide_cut():
    design = build_design(AMPLICON, [reverse_complement(GUIDE)])
    site = design.guides[0]
    assert site.strand == "-"
    assert site.cut_point == 25 + 3 - 1


def test_guide_not_in_amplicon_and_duplicated():
    with pytest.raises(DesignError, match="not in the amplicon"):
        build_design(AMPLICON, ["ACGTACGTACGTACGTACGT"])
    with pytest.raises(DesignError, match="occurs 2 times"):
        build_design(AMPLICON + AMPLICON, [GUIDE])


def test_deletion_in_repeat_placed_at_cut(design):
    read = AMPLICON[:40] + AMPLICON[41:]  # one A of the AAAAAA run (0-based 38-43) deleted
    aligned = align(design, read)
    assert aligned.deletions == ((42, 1),)  # the deletion starts right after the cut (0-based 42)
    assert Classifier(design).classify(aligned).outcome == "modified"


def test_deletion_in_repeat_leftmost_without_guide():
    design = build_design(AMPLICON)
    read = AMPLICON[:40] + AMPLICON[41:]
    aligned = align(design, read)
    assert aligned.deletions == ((38, 1),)


def test_insertion_in_repeat_placed_at_cut(design):
    read = AMPLICON[:40] + "A" + AMPLICON[40:]
    aligned = align(design, read)
    assert aligned.insertions == ((42, "A"),)
    call = Classifier(design).classify(aligned)
    assert (call.outcome, call.insertion_bases) == ("modified", 1)
    assert describe_events(aligned, AMPLICON) == "42_43insA"
    assert aligned_sequence(aligned) == AMPLICON[:42] + "a" + AMPLICON[42:]


def test_insertion_outside_window_is_not_counted(design):
    read = AMPLICON[:60] + "GG" + AMPLICON[60:]
    aligned = align(design, read)
    assert aligned.insertions
    assert Classifier(design).classify(aligned).outcome == "unmodified"


def test_overhang_is_clipped_and_n_is_never_a_substitution(design):
    read = "TTTTGGCA" + AMPLICON[:42] + "N" + AMPLICON[43:] + "CCGGTTAACC"
    aligned = align(design, read)
    assert (aligned.start, aligned.end) == (0, len(AMPLICON))
    assert aligned.substitutions == () and aligned.insertions == () and aligned.deletions == ()
    assert Classifier(design).classify(aligned).outcome == "unmodified"


def test_reverse_complement_read(design):
    read = reverse_complement(AMPLICON[:42] + "T" + AMPLICON[43:])
    aligned = align(design, read)
    assert aligned.reverse
    assert aligned.substitutions == ((42, "T"),)


def test_partial_read_does_not_cover_window(design):
    aligned = align(design, AMPLICON[:35])
    assert (aligned.start, aligned.end) == (0, 35)
    assert aligned.projection[35:] == "." * (len(AMPLICON) - 35)
    assert Classifier(design).classify(aligned).outcome == "window_not_covered"


def test_unrelated_read_is_not_aligned(design):
    generator = random.Random(5)
    junk = "".join(generator.choice("ACGT") for _ in range(80))
    assert Classifier(design).classify(align(design, junk)).outcome == "not_aligned"


def test_place_indels_moves_only_equivalent_gaps():
    # Deletion of one C in "ACCCT": every placement is equivalent, leftmost without cut sites.
    reference, read = place_indels("GACCCTG", "GACC-TG", 0, ())
    assert (reference, read) == ("GACCCTG", "GA-CCTG")
    # A read base crossing the gap must face an equal reference base: a mismatch moves along with it.
    reference, read = place_indels("GACCCTG", "GAGC-TG", 0, ())
    assert read == "GA-GCTG"
    # Different flanking reference bases: the gap cannot move.
    assert place_indels("GACGTG", "GAC-TG", 0, ()) == ("GACGTG", "GAC-TG")
    # With a cut boundary at 4 the insertion of C in "CCC" moves to the cut.
    assert place_indels("GA-CCTG", "GACCCTG", 0, (4,)) == ("GACC-TG", "GACCCTG")


def test_ungapped_shortcut_matches_the_aligner(design):
    generator = random.Random(11)
    aligner = ReadAligner(design.references)
    for _ in range(200):
        read = list(AMPLICON)
        for _ in range(generator.randint(0, 4)):
            read[generator.randrange(len(read))] = generator.choice("ACGTN")
        read = "".join(read)
        fast = aligner.align(read)
        assert fast is not None
        # Compare with WFA on the same read forced through the gapped path (one extra base at the end
        # is clipped as overhang, so the reference span and calls must be identical).
        forced = aligner.align(read + "T")
        assert forced.substitutions == fast.substitutions
        assert forced.deletions == forced.insertions == ()


def test_frameshift_in_frame_noncoding_and_splice():
    # Exon 31-60 (1-based) around the cut after 42.
    design = build_design(AMPLICON, [GUIDE], window_flank=3, exons="31-60")
    classifier = Classifier(design)
    aligner = ReadAligner(design.references)

    def coding(read):
        call = classifier.classify(aligner.align(read))
        return call.outcome, call.coding, call.splice_site

    assert coding(AMPLICON[:42] + AMPLICON[43:]) == ("modified", "frameshift", False)  # 1-bp deletion
    assert coding(AMPLICON[:42] + AMPLICON[45:]) == ("modified", "in_frame", False)  # 3-bp deletion
    assert coding(AMPLICON[:42] + "GG" + AMPLICON[42:]) == ("modified", "frameshift", False)  # 2-bp insertion
    assert coding(AMPLICON) == ("unmodified", "", False)
    noncoding = build_design(AMPLICON, [GUIDE], window_flank=3, exons="5-20")
    call = Classifier(noncoding).classify(aligner.align(AMPLICON[:42] + AMPLICON[43:]))
    assert call.coding == "noncoding"
    splice = build_design(AMPLICON, [GUIDE], window_flank=3, exons="44-70")
    call = Classifier(splice).classify(aligner.align(AMPLICON[:41] + AMPLICON[43:]))  # deletes 42-43, 5' of exon
    assert call.splice_site


def test_twin_prime_editing_two_pegrnas():
    from editcheck.design import reverse_complement as rc

    amplicon = ("TTGACCTAGGCATCGATCAGTTCGAACTGGATCCGTACGATTGCAGCTAGCTTACGGATCCAGTCAGGTACCATGCAAGCTTG"
                "GATCGTACCGTAGCATGCTAGCATCGATCGGATCCTAGCTTAGCAGTCGATCGTAGCTAGCAATCGACTGA")  # fmt: skip
    first = amplicon[30:50]  # + strand spacer, nick after 46
    second = rc(amplicon[70:90])  # - strand spacer, nick after 72
    new = "GAATTC"  # replaces amplicon[47:73]
    edited = amplicon[:47] + new + amplicon[73:]
    # Each pegRNA's flap: PBS (13 nt up to its nick) + the new sequence written on its strand.
    flap_first = amplicon[34:47] + new + amplicon[73:78]
    extension_first = rc(flap_first)
    flap_second = rc(amplicon[73:86]) + rc(new) + rc(amplicon[42:47])
    extension_second = rc(flap_second)
    design = build_design(amplicon, pegrnas=[(first, extension_first), (second, extension_second)])
    assert design.prime_edited.sequence == edited
    assert len(design.prime_edit.flaps) == 2


def test_unmerged_pairs_are_counted_and_used_when_a_mate_covers_the_window(tmp_path):
    from editcheck.pipeline import quantify

    generator = random.Random(8)
    amplicon = "".join(generator.choice("ACGT") for _ in range(400))
    guide = amplicon[80:100]
    design = build_design(amplicon, [guide])
    edited_r1 = amplicon[:97] + amplicon[100:153]  # 3-bp deletion at the cut
    records1, records2 = [], []
    for index in range(40):
        first = edited_r1 if index < 10 else amplicon[:150]
        second = reverse_complement(amplicon[250:400])  # no overlap with R1: the pair cannot merge
        records1.append(f"@p{index}/1\n{first}\n+\n{'I' * len(first)}\n")
        records2.append(f"@p{index}/2\n{second}\n+\n{'I' * len(second)}\n")
    (tmp_path / "r1.fastq").write_text("".join(records1))
    (tmp_path / "r2.fastq").write_text("".join(records2))
    result = quantify(tmp_path / "r1.fastq", tmp_path / "r2.fastq", design=design)
    assert (result.reads.merged, result.reads.unmerged) == (0, 40)
    assert result.unmerged_used == 40
    assert result.tally.outcomes["modified"] == 10 and result.tally.outcomes["unmodified"] == 30
