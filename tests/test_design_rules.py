"""Design rules of issue #10: prime edits of any size (item 2), HDR classes from donor-specific changes
(item 1) and guides given with their PAM (item 3), on hand-made amplicons and reads."""

from __future__ import annotations

import random

import pytest

from editcheck.alignment.aligner import ReadAligner
from editcheck.design import build_design, reverse_complement
from editcheck.errors import DesignError
from editcheck.pipeline import AmpliconWorker, AnalysisSettings

_RANDOM = random.Random(10)
AMPLICON = "".join(_RANDOM.choice("ACGT") for _ in range(260))
# A + strand spacer at 100-119 (0-based) followed by an NGG PAM: SpCas9 nicks/cuts after base 116.
AMPLICON = AMPLICON[:100] + "GATTACAGGCTTCAGCAATC" + "TGG" + AMPLICON[123:]
SPACER = AMPLICON[100:120]
NICK = 117
SCAFFOLD = "GTTTTAGAGCTAGAAATAGCAAGTTAAAATAAGGCTAGTCCGTTATCAACTTGAAAAAGTGGCACCGAGTCGGTGC"


def _pegrna_extension(pbs: int, edit: str, removed: int, homology: int) -> tuple[str, str]:
    """A pegRNA 3' extension (RTT + PBS, 5'->3') that writes ``edit`` at the nick in place of ``removed``
    bases, and the intended allele."""
    flap = AMPLICON[NICK - pbs : NICK] + edit + AMPLICON[NICK + removed : NICK + removed + homology]
    return reverse_complement(flap), AMPLICON[:NICK] + edit + AMPLICON[NICK + removed :]


@pytest.mark.parametrize(
    ("edit", "removed"),
    [("GAATTCGATATCAAGCTTGCGGCCGCTCTAGAACTAGTGGATCCCCCG", 0),  # 48-bp insertion
     ("".join(_RANDOM.choice("ACGT") for _ in range(100)), 0),  # 100-bp insertion
     ("", 30),  # 30-bp deletion
     ("T" if AMPLICON[NICK + 2] != "T" else "A", 1)],  # a substitution 3 bp after the nick (via a 1-for-1 swap)
)  # fmt: skip
def test_prime_edit_of_any_size_is_built_from_pbs_and_rt_template(edit, removed):
    if len(edit) == 1:  # keep the two bases before the substituted one
        edit, removed = AMPLICON[NICK : NICK + 2] + edit, 3
    extension, expected = _pegrna_extension(13, edit, removed, 15)
    design = build_design(AMPLICON, pegrnas=[(SPACER, extension)])
    assert design.prime_edited.sequence == expected
    # A read carrying the edit is a precise prime edit; the amplicon itself is unmodified.
    worker = AmpliconWorker(design, AnalysisSettings())
    assert worker(expected)[1].outcome == "prime_edit"
    assert worker(AMPLICON)[1].outcome == "unmodified"


def test_prime_edit_on_the_minus_strand_and_scaffold_insertion():
    amplicon = reverse_complement(AMPLICON)
    insertion = "GAATTCGATATCAAGCTTGCGGCCGCTCTAGAACTAGTGGATCCCCCG"
    extension, expected = _pegrna_extension(13, insertion, 0, 15)
    design = build_design(amplicon, pegrnas=[(SPACER, extension)], scaffold=SCAFFOLD)
    assert design.prime_edited.sequence == reverse_complement(expected)
    worker = AmpliconWorker(design, AnalysisSettings())
    assert worker(reverse_complement(expected))[1].outcome == "prime_edit"
    # Reverse transcription running on into the scaffold: scaffold-derived bases after the flap's 3' end.
    scaffold_dna = reverse_complement(SCAFFOLD)[:12]
    flap_end = NICK + len(insertion) + 15
    with_scaffold = expected[:flap_end] + scaffold_dna + expected[flap_end:]
    assert worker(reverse_complement(with_scaffold))[1].outcome == "scaffold_insertion"


def test_prime_edit_error_says_what_failed():
    extension, _ = _pegrna_extension(13, "GAATTC", 0, 15)
    broken = extension[:-13] + "ACGTACGTACGTA"  # the PBS no longer pairs at the nick
    with pytest.raises(DesignError, match=r"pegRNA 1 .*PBS .* does not pair with 6 or more protospacer bases"):
        build_design(AMPLICON, pegrnas=[(SPACER, broken)])


# ------------------------------------------------------------------------------------------- HDR classes

GUIDE = AMPLICON[100:120]  # SpCas9 cut after 1-based 117
# The donor: three substitutions near the cut (1-based 112, 121, 126).
DONOR_SITES = (111, 120, 125)
HDR_AMPLICON = "".join(
    ("A" if base != "A" else "C") if index in DONOR_SITES else base for index, base in enumerate(AMPLICON)
)


def _with(sequence: str, sites: tuple[int, ...], source: str) -> str:
    return "".join(source[index] if index in sites else base for index, base in enumerate(sequence))


def _classify(design, read):
    return AmpliconWorker(design, AnalysisSettings())(read)[1]


def test_hdr_classes_follow_the_donor_specific_bases():
    design = build_design(AMPLICON, [GUIDE], expected_hdr_amplicon=HDR_AMPLICON)
    assert [change.label for change in design.donor_changes] == [
        f"{site + 1}{AMPLICON[site]}>{HDR_AMPLICON[site]}" for site in DONOR_SITES
    ]
    assert _classify(design, HDR_AMPLICON).outcome == "hdr"
    # The wild-type base at one intended change: imperfect, and the missing change is named.
    partial = _with(HDR_AMPLICON, (125,), AMPLICON)
    call = _classify(design, partial)
    assert call.outcome == "imperfect_hdr" and call.donor_missing == 0b100 and not call.hdr_other_edit
    # Only one of three donor bases (the read fits the amplicon better): still imperfect HDR, not NHEJ.
    one = _with(AMPLICON, (120,), HDR_AMPLICON)
    call = _classify(design, one)
    assert call.outcome == "imperfect_hdr" and call.donor_missing == 0b101
    # All donor bases with an indel at the cut: imperfect HDR with another edit.
    call = _classify(design, HDR_AMPLICON[:117] + HDR_AMPLICON[119:])
    assert call.outcome == "imperfect_hdr" and call.hdr_other_edit and call.donor_missing == 0


def test_nhej_deletion_over_the_donor_sites_is_not_hdr():
    # A donor that deletes 1-based 118-127 and changes 1-based 140; the read has a 40-bp NHEJ deletion
    # (1-based 110-149) removing every donor site: it fits the HDR outcome better but shows no donor change.
    hdr = AMPLICON[:117] + AMPLICON[127:139] + ("A" if AMPLICON[139] != "A" else "C") + AMPLICON[140:]
    design = build_design(AMPLICON, [GUIDE], expected_hdr_amplicon=hdr)
    assert [change.label for change in design.donor_changes] == ["118_127del", f"140{AMPLICON[139]}>{hdr[129]}"]
    read = AMPLICON[:109] + AMPLICON[149:]
    aligned = ReadAligner(design.references).align(read)
    assert aligned.reference == 1  # the HDR outcome fits better ...
    aligned, call = AmpliconWorker(design, AnalysisSettings())(read)
    assert call.outcome == "modified"  # ... but the read is NHEJ, described against the amplicon
    assert aligned.reference == 0 and aligned.deletions == ((109, 40),)
    assert _classify(design, hdr).outcome == "hdr"
    # The same rule in a pooled run.
    from editcheck.pooled import PoolWorker

    assert PoolWorker([design], AnalysisSettings())(read).call.outcome == "modified"


def test_expected_hdr_amplicon_with_longer_ends_is_aligned_and_noted():
    design = build_design(AMPLICON, [GUIDE], expected_hdr_amplicon="ACGTA" + HDR_AMPLICON)
    assert design.hdr.sequence == HDR_AMPLICON
    assert design.notes == (
        "the HDR sequence (265 bp) extends beyond the amplicon's ends: it was aligned to the amplicon and 5 bp at "
        "the 5' end were trimmed, so both references span the same bases",
    )
    assert [change.label for change in design.donor_changes] == [
        f"{site + 1}{AMPLICON[site]}>{HDR_AMPLICON[site]}" for site in DONOR_SITES
    ]


def test_expected_hdr_amplicon_with_shorter_ends_is_completed_and_noted():
    design = build_design(AMPLICON, [GUIDE], expected_hdr_amplicon=HDR_AMPLICON[3:-2])
    assert design.hdr.sequence == HDR_AMPLICON
    assert design.notes == (
        "the HDR sequence (255 bp) does not reach the amplicon's ends: the amplicon's own 3 bp at the 5' end and "
        "2 bp at the 3' end were added to it (a donor does not change the primers)",
    )
    assert len(design.donor_changes) == len(DONOR_SITES)


# ------------------------------------------------------------------------------------------- guide + PAM


def test_guide_given_with_its_pam_uses_the_protospacer_with_a_note():
    with_pam = AMPLICON[100:123]
    assert with_pam.endswith("TGG")
    design = build_design(AMPLICON, [with_pam])
    assert design.guides[0].sequence == GUIDE
    assert design.guides[0].cut_point == build_design(AMPLICON, [GUIDE]).guides[0].cut_point == 116
    assert design.notes == (
        f"guide {with_pam} is 23 nt ending in the PAM TGG: its first 20 nt {GUIDE} were used as the protospacer "
        "(give the guide without its PAM to silence this note)",
    )
    # A 20-nt guide that happens to end in GG is left alone.
    assert build_design(AMPLICON, [AMPLICON[103:123]]).notes == ()
