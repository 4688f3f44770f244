"""UMIs: extraction from headers and read starts, per-molecule consensus, family filtering and UMI merging."""

from __future__ import annotations

import itertools
import random

import pytest

from editcheck.errors import InputFormatError, ParameterError
from editcheck.reads.umi import MoleculeCollector, MoleculeResult, UmiExtractor, UmiSettings

PATH = "sample_R1.fastq.gz"


def header_umi(name: str, **settings: object) -> str:
    return UmiExtractor(UmiSettings(**settings), PATH)(1, name, "ACGTACGT", "IIIIIIII")[0]  # type: ignore[arg-type]


def collect(reads: list[tuple[str, str] | tuple[str, str, str]], **settings: object) -> MoleculeResult:
    collector = MoleculeCollector(UmiSettings(**settings))  # type: ignore[arg-type]
    for read in reads:
        collector.add(*read)
    return collector.consensus()


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"source": "tag"},
        {"source": "prefix"},
        {"source": "prefix", "length": 0},
        {"length": -1},
        {"length": 1.5},
        {"min_reads": 0},
        {"min_reads": True},
        {"merge_distance": 2},
        {"merge_distance": -1},
    ],
)
def test_invalid_settings(settings: dict) -> None:
    with pytest.raises(ParameterError):
        UmiSettings(**settings)


# --- extraction from the header -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "umi"),
    [
        ("read_ACGT", "ACGT"),
        ("read:ACGT", "ACGT"),
        ("read1_ACGT extra comment", "ACGT"),
        ("read_ACGT/1", "ACGT"),
        ("read1 RX:Z:ACGT", "ACGT"),
        ("read1 BC:Z:TTTT RX:Z:ACGT-GGCA QX:Z:IIII", "ACGT+GGCA"),
        ("read1\tRX:Z:ACGT", "ACGT"),
        ("read1 UMI:ACGT", "ACGT"),
        ("read1_TTTT UMI:ACGT", "ACGT"),  # an explicit token beats the name's last field
        ("M00123:45:000000000-ABCDE:1:1101:15589:1331:ACGTNA+TTGA 1:N:0:ATCACG", "ACGTNA+TTGA"),
        ("a_b:ACGT", "ACGT"),  # the later of '_' and ':' splits
        ("a:b_ACGT", "ACGT"),
    ],
)
def test_header_variants(name: str, umi: str) -> None:
    assert header_umi(name) == umi


def test_header_leaves_read_unchanged() -> None:
    extractor = UmiExtractor(UmiSettings(), PATH)
    assert extractor(3, "r_ACGT", "TTTTCC", "ABCDEF") == ("ACGT", "TTTTCC", "ABCDEF")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("read1", "no UMI"),
        ("M00123:45:000000000-ABCDE:1:1101:15589:1331 1:N:0:ATCACG", "no UMI"),
        ("read_acgt", "no UMI"),  # lowercase is not a UMI
        ("read_", "no UMI"),
        ("read_AC++GT", "no UMI"),
        ("", "no UMI"),
        ("read1 RX:Z:ACXT", "characters other than"),
        ("read1 UMI:", "characters other than"),
    ],
)
def test_header_errors_name_file_and_record(name: str, problem: str) -> None:
    with pytest.raises(InputFormatError) as caught:
        UmiExtractor(UmiSettings(), PATH)(17, name, "ACGT", "IIII")
    error = caught.value
    assert error.path == PATH and error.record == 17
    assert problem in error.problem
    assert str(error).startswith(f"{PATH}: record 17: ")


def test_header_length_check() -> None:
    assert header_umi("r_ACGT", length=4) == "ACGT"
    assert header_umi("r_ACGT+TTGA", length=8) == "ACGT+TTGA"  # '+' is not a base
    with pytest.raises(InputFormatError, match="has 5 bases, expected 4") as caught:
        UmiExtractor(UmiSettings(length=4), PATH)(9, "r_ACGTA", "A", "I")
    assert caught.value.record == 9


# --- extraction from the read start ---------------------------------------------------------------


def test_prefix_trims_sequence_and_qualities() -> None:
    extractor = UmiExtractor(UmiSettings(source="prefix", length=4), PATH)
    assert extractor(1, "read1 anything", "ACGTTTGCA", "ABCDEFGHI") == ("ACGT", "TTGCA", "EFGHI")
    assert extractor(2, "r", "ACGN", "ABCD") == ("ACGN", "", "")


def test_prefix_errors_name_file_and_record() -> None:
    extractor = UmiExtractor(UmiSettings(source="prefix", length=6), PATH)
    with pytest.raises(InputFormatError, match="shorter than the 6-base UMI") as caught:
        extractor(42, "r", "ACGT", "IIII")
    assert caught.value.path == PATH and caught.value.record == 42
    with pytest.raises(InputFormatError, match="other than A, C, G, T, N") as caught:
        extractor(43, "r", "ACGTX-AAAA", "IIIIIIIIII")
    assert caught.value.record == 43


# --- consensus ------------------------------------------------------------------------------------


TRUE = "ACGTACGTTGCAAGCT"


def with_error(sequence: str, position: int) -> str:
    base = "C" if sequence[position] != "C" else "G"
    return sequence[:position] + base + sequence[position + 1 :]


def test_identical_reads_are_their_own_consensus() -> None:
    result = collect([("AAAA", TRUE)] * 3 + [("CCCC", "TTTT")])
    assert result.sequences == {TRUE: 1, "TTTT": 1}
    assert result.reads_per_sequence == {TRUE: 3, "TTTT": 1}
    assert (result.molecules, result.molecules_dropped, result.reads_in_molecules) == (2, 0, 4)


def test_one_error_per_read_is_fixed() -> None:
    # Five reads, each with a different single error: no read is correct, the consensus is.
    reads = [("AAAA", with_error(TRUE, position)) for position in (0, 3, 7, 11, 15)]
    assert TRUE not in {read[1] for read in reads}
    result = collect(reads)
    assert result.sequences == {TRUE: 1}
    assert result.reads_per_sequence == {TRUE: 5}


def test_one_error_per_read_with_qualities() -> None:
    reads = [("AAAA", with_error(TRUE, position), "I" * len(TRUE)) for position in (0, 3, 7)]
    assert collect(reads).sequences == {TRUE: 1}


def test_dominant_sequence_wins() -> None:
    reads = [("AAAA", TRUE)] * 3 + [("AAAA", with_error(TRUE, 2))] * 2
    assert collect(reads).sequences == {TRUE: 1}


def test_tie_without_qualities_goes_to_base_order() -> None:
    # 1 vs 1 at position 0: A beats C, C beats G, G beats T.
    assert collect([("U", "AGG"), ("U", "CGG")]).sequences == {"AGG": 1}
    assert collect([("U", "TGG"), ("U", "GGG")]).sequences == {"GGG": 1}
    assert collect([("U", "TGC"), ("U", "CGA")]).sequences == {"CGA": 1}


def test_tie_broken_by_summed_quality() -> None:
    reads = [("U", "AGG", "#II"), ("U", "TGG", "III")]
    assert collect(reads).sequences == {"TGG": 1}
    # The sums count every read carrying the base: two low-quality A reads outweigh one high-quality T ...
    reads = [("U", "AGG", "5II"), ("U", "AGC", "5II"), ("U", "TGG", "III"), ("U", "TGC", "III")]
    # Position 0: 2 x '5' (20) < 2 x 'I' (40), T wins; position 2: G and C both 'I' + 'I', C wins by base order.
    assert collect(reads).sequences == {"TGC": 1}
    # ... equal sums fall back to base order.
    assert collect([("U", "AGG", "III"), ("U", "TGG", "III")]).sequences == {"AGG": 1}


def test_n_does_not_vote() -> None:
    assert collect([("U", "ANGT"), ("U", "ANGT"), ("U", "ACGN")]).sequences == {"ACGT": 1}
    assert collect([("U", "NNA"), ("U", "NNC"), ("U", "NNC")]).sequences == {"NNC": 1}


def test_consensus_length_is_the_most_common() -> None:
    reads = [("U", "ACGTA"), ("U", "ACGTA"), ("U", "ACGA"), ("U", "ACGC"), ("U", "ACGC")]
    result = collect(reads)
    assert result.sequences == {"ACGC": 1}  # 3 reads of length 4 beat 2 of length 5
    assert result.reads_per_sequence == {"ACGC": 5}  # reads of other lengths still count
    # Equal reads per length: the length of the most common sequence, then the longer length.
    assert collect([("U", "ACG"), ("U", "ACG"), ("U", "TTTT"), ("U", "TTTA")]).sequences == {"ACG": 1}
    assert collect([("U", "ACG"), ("U", "TTTT")]).sequences == {"TTTT": 1}


def test_min_reads_filters_and_counts() -> None:
    reads = [("A", "ACGT")] * 3 + [("C", "ACGT")] * 2 + [("G", "TTTT")]
    result = collect(reads, min_reads=2, merge_distance=0)
    assert result.sequences == {"ACGT": 2}
    assert result.reads_per_sequence == {"ACGT": 5}
    assert (result.molecules, result.molecules_dropped) == (2, 1)
    assert (result.reads_in_molecules, result.reads_dropped) == (5, 1)
    assert result.family_size_histogram == {1: 1, 2: 1, 3: 1}


def test_family_size_histogram() -> None:
    reads = []
    for index, size in enumerate([1, 1, 2, 5, 5, 5, 7]):
        reads += [(f"UMI{index}", "ACGT")] * size
    result = collect(reads, merge_distance=0)
    assert result.family_size_histogram == {1: 2, 2: 1, 5: 3, 7: 1}
    assert list(result.family_size_histogram) == sorted(result.family_size_histogram)
    assert result.molecules == 7 and result.umis == 7 and result.umis_merged == 0


def test_output_order_follows_first_appearance() -> None:
    result = collect([("GGGG", "TT"), ("AAAA", "CC"), ("GGGG", "TT")])
    assert list(result.sequences) == ["TT", "CC"]


def test_quality_length_mismatch() -> None:
    collector = MoleculeCollector()
    with pytest.raises(ValueError):
        collector.add("A", "ACGT", "III")
    assert collector.reads == 0


# --- directional UMI merging ----------------------------------------------------------------------


def test_large_family_absorbs_one_off_singleton() -> None:
    reads = [("ACGTACGT", TRUE)] * 10 + [("ACGTACGA", with_error(TRUE, 4))]
    result = collect(reads)
    assert result.sequences == {TRUE: 1}
    assert result.reads_per_sequence == {TRUE: 11}
    assert (result.umis, result.umis_merged, result.molecules) == (2, 1, 1)
    assert result.family_size_histogram == {11: 1}
    # merge_distance=0 keeps them apart.
    apart = collect(reads, merge_distance=0)
    assert apart.molecules == 2 and apart.family_size_histogram == {1: 1, 10: 1}


def test_equal_families_do_not_merge() -> None:
    reads = [("ACGTACGT", TRUE)] * 5 + [("ACGTACGA", TRUE)] * 5
    result = collect(reads)
    assert result.molecules == 2 and result.umis_merged == 0
    assert result.sequences == {TRUE: 2}


def test_directional_threshold() -> None:
    # 2 * 3 - 1 = 5: a family of 5 absorbs a neighbour of 3, a family of 4 does not.
    assert collect([("AAAA", "C")] * 5 + [("AAAT", "C")] * 3).molecules == 1
    assert collect([("AAAA", "C")] * 4 + [("AAAT", "C")] * 3).molecules == 2
    # Two singletons one apart merge (1 >= 2 * 1 - 1), as in UMI-tools.
    assert collect([("AAAA", "C"), ("AAAT", "C")]).molecules == 1


def test_merging_follows_chains_and_stops_at_distance_two() -> None:
    # AAAA (20) -> AAAT (5) -> AATT (2): one molecule; GGGG is far away.
    reads = [("AAAA", "C")] * 20 + [("AAAT", "C")] * 5 + [("AATT", "C")] * 2 + [("GGGG", "C")]
    result = collect(reads)
    assert result.molecules == 2 and result.umis_merged == 2
    assert result.family_size_histogram == {1: 1, 27: 1}
    # Without the bridging UMI, AATT is two substitutions from AAAA and stays on its own.
    assert collect([("AAAA", "C")] * 20 + [("AATT", "C")]).molecules == 2


def test_merging_respects_dual_umi_layout_and_n() -> None:
    assert collect([("AC+GT", "C")] * 10 + [("AC+GA", "C")]).molecules == 1
    assert collect([("AC+GT", "C")] * 10 + [("ACTGT", "C")]).molecules == 2  # '+' never substitutes
    assert collect([("ACGT", "C")] * 10 + [("ACGN", "C")]).molecules == 1  # N is a mismatch like any other
    assert collect([("ACGT", "C")] * 10 + [("ACG", "C")]).molecules == 2  # no indels


def test_merged_reads_vote_in_the_consensus() -> None:
    # The absorbed family's reads count: 3 + 2 reads against 4 at the last position.
    umi = "ACGTACGT"
    reads = [(umi, "AAAC")] * 3 + [(umi, "AAAG")] * 4 + [("ACGTACGA", "AAAC")] * 2
    assert collect(reads, merge_distance=0).sequences == {"AAAG": 1, "AAAC": 1}
    assert collect(reads).sequences == {"AAAC": 1}


# --- order independence and quality-sum storage ---------------------------------------------------


def random_reads(seed: int, with_qualities: bool) -> list[tuple[str, ...]]:
    rng = random.Random(seed)

    def random_bases(length: int) -> str:
        return "".join(rng.choice("ACGT") for _ in range(length))

    truth = {random_bases(6): random_bases(30) for _ in range(40)}
    reads: list[tuple[str, ...]] = []
    for umi, sequence in truth.items():
        for _ in range(rng.randint(1, 8)):
            read = list(sequence)
            for position in range(len(read)):
                if rng.random() < 0.08:
                    read[position] = rng.choice("ACGTN")
            if rng.random() < 0.1:
                del read[rng.randrange(len(read))]
            read_umi = umi if rng.random() > 0.1 else umi[:-1] + rng.choice("ACGT")
            qualities = "".join(rng.choice("#5?I") for _ in read)
            reads.append((read_umi, "".join(read), qualities) if with_qualities else (read_umi, "".join(read)))
    return reads


@pytest.mark.parametrize("with_qualities", [False, True])
def test_consensus_is_independent_of_read_order(with_qualities: bool) -> None:
    reads = random_reads(5, with_qualities)
    expected = collect(reads, min_reads=2)
    assert expected.molecules > 10
    for seed in range(5):
        shuffled = reads[:]
        random.Random(seed).shuffle(shuffled)
        result = collect(shuffled, min_reads=2)
        assert result.sequences == expected.sequences  # dict equality ignores the key order
        assert result.reads_per_sequence == expected.reads_per_sequence
        assert result.family_size_histogram == expected.family_size_histogram
        assert (result.molecules, result.molecules_dropped, result.umis_merged) == (
            expected.molecules,
            expected.molecules_dropped,
            expected.umis_merged,
        )


def test_large_families_keep_exact_quality_sums() -> None:
    # Past ~520 reads per (UMI, sequence) the quality sums move to wide integers; ties still use exact sums.
    # 600 'A' reads at quality '5' (sum 600 x 53) vs 600 'T' reads at quality '6' (sum 600 x 54): T wins.
    reads = [("U", "AC", "5I")] * 600 + [("U", "TC", "6I")] * 600
    assert collect(reads).sequences == {"TC": 1}
    shuffled = reads[:]
    random.Random(1).shuffle(shuffled)
    assert collect(shuffled).sequences == {"TC": 1}
    # Reads added first without qualities, then with, and merged families of large pairs.
    collector = MoleculeCollector()
    for _ in range(300):
        collector.add("AAAA", "AC")
    for _ in range(300):
        collector.add("AAAA", "AC", "5I")
    for _ in range(900):
        collector.add("AAAA", "TC", "$I")
    for _ in range(300):
        collector.add("AAAT", "AC", "II")
    # AAAT merges into AAAA (1500 >= 2 * 300 - 1): 900 A against 900 T at position 0; the A reads' qualities
    # sum to 300 x 0 (none given) + 300 x '5' + 300 x 'I' = 37800 codes, the T reads' to 900 x '$' = 32400.
    result = collector.consensus()
    assert result.sequences == {"AC": 1} and result.reads_in_molecules == 1800


def test_consensus_can_be_called_again() -> None:
    collector = MoleculeCollector()
    for read in random_reads(3, True):
        collector.add(*read)
    first = collector.consensus()
    assert collector.consensus() == first
    assert len(collector) == first.umis and collector.reads == first.reads_in_molecules + first.reads_dropped


def test_tie_broken_by_summed_quality_of_repeated_reads() -> None:
    # Two reads of each sequence: the sums of both reads' qualities at the differing position decide.
    a_reads = [("U", "GGAG", "II5I"), ("U", "GGAG", "II5I")]  # 2 x 53 = 106
    assert collect([*a_reads, ("U", "GGTG", "II#I"), ("U", "GGTG", "IIII")]).sequences == {"GGTG": 1}  # 35 + 73
    assert collect([*a_reads, ("U", "GGTG", "II#I"), ("U", "GGTG", "IIFI")]).sequences == {"GGAG": 1}  # 35 + 70


def test_merging_long_umis() -> None:
    # Past 27 bases the neighbour search switches from base-5 numbers to masked strings.
    long_umi = "ACGT" * 8
    one_off = long_umi[:-1] + "A"
    two_off = "T" + one_off[1:]
    result = collect([(long_umi, "C")] * 10 + [(one_off, "C")] + [(two_off, "C")] * 30 + [("AC+GT", "C")])
    # two_off (30) is one substitution from one_off (1) and claims it first; long_umi stays apart.
    assert result.family_size_histogram == {1: 1, 10: 1, 31: 1}
    assert result.umis_merged == 1


def test_neighbour_search_matches_brute_force() -> None:
    from editcheck.reads.umi import _neighbour_pairs

    rng = random.Random(11)
    umis = sorted(
        {
            "".join(rng.choice("ACGN") for _ in range(length)) + suffix
            for length, suffix in [(3, ""), (4, ""), (2, "+AC"), (29, "")] * 40
        }
    )

    def hamming_one(a: str, b: str) -> bool:
        differences = [(x, y) for x, y in zip(a, b) if x != y]
        return len(a) == len(b) and len(differences) == 1 and "+" not in differences[0]

    expected = {frozenset((a, b)) for a, b in itertools.combinations(umis, 2) if hamming_one(a, b)}
    found = [frozenset(pair) for pair in _neighbour_pairs(umis)]
    assert len(found) == len(set(found))
    assert set(found) == expected and len(expected) > 20
