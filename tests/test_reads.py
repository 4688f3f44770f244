"""FASTQ reading (including every kind of bad input) and read-pair merging."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from editcheck.errors import InputFormatError, PairingError, ParameterError
from editcheck.reads import MergeSettings, iter_paired, iter_single, merge_pair, reverse_complement
from editcheck.reads import merge as merge_module


def fastq(*records: tuple[str, str] | tuple[str, str, str]) -> bytes:
    """FASTQ text for (name, sequence[, qualities]) records; qualities default to 'I'."""
    lines = []
    for record in records:
        name, sequence = record[0], record[1]
        qualities = record[2] if len(record) == 3 else "I" * len(sequence)
        lines.append(f"@{name}\n{sequence}\n+\n{qualities}\n")
    return "".join(lines).encode()


def write(path: Path, data: bytes, compress: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


GOOD = fastq(("r1 extra words", "ACGTN"), ("r2", "acgtn"), ("r3", "AC.GT"), ("r4", ""))


def error_of(call, *args) -> InputFormatError:
    with pytest.raises(InputFormatError) as caught:
        for _ in call(*args):
            pass
    return caught.value


# --- reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_reads_plain_and_gzip(tmp_path: Path, compress: bool) -> None:
    path = write(tmp_path / ("r.fq.gz" if compress else "r.fq"), GOOD, compress)
    assert list(iter_single(path)) == [
        ("r1 extra words", "ACGTN", "IIIII"),
        ("r2", "ACGTN", "IIIII"),
        ("r3", "ACNGT", "IIIII"),
        ("r4", "", ""),
    ]


def test_gzip_content_is_detected_without_gz_name(tmp_path: Path) -> None:
    path = write(tmp_path / "r.fastq", GOOD, compress=True)
    assert len(list(iter_single(str(path)))) == 4


def test_windows_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path / "r.fq", b"@a\r\nACGT\r\n+\r\nIIII\r\n")
    assert list(iter_single(path)) == [("a", "ACGT", "IIII")]


def test_reader_is_lazy(tmp_path: Path) -> None:
    reads = iter_single(tmp_path / "absent.fq")  # nothing happens until iteration
    with pytest.raises(InputFormatError):
        next(reads)


def check_error(error: InputFormatError, path: Path, problem: str, record: int | None) -> None:
    text = str(error)
    assert str(path) in text
    assert problem in text
    assert error.record == record
    if record is not None:
        assert f"record {record}:" in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("name", "data", "problem", "record"),
    [
        ("empty.fq", b"", "no reads (empty file)", None),
        ("fasta.fq", b">r1\nACGT\n>r2\nACGT\n", "looks like FASTA", None),
        ("fasta.fa", b">r1\nACGT\n>r2\nACGT\n", "looks like FASTA", None),
        ("text.fq", b"hello world\nthis is not FASTQ at all\n", "not a FASTQ file", None),
        ("binary.fq", bytes(range(128, 256)) * 3, "not a FASTQ file", None),
        ("blank.fq", b"\n\n\n", "not a FASTQ file", None),
        ("lengths.fq", fastq(("a", "ACGT"), ("b", "ACGT", "III")), "sequence and quality lengths differ", 2),
        ("header.fq", fastq(("a", "ACGT")) + b"b\nACGT\n+\nIIII\n", "expected to start with '@'", 2),
        ("plus.fq", fastq(("a", "ACGT")) + b"@b\nACGT\nx\nIIII\n", "expected to start with '+'", 2),
        ("cut.fq", fastq(("a", "ACGT")) + b"@b\nACGT\n", "ends in the middle of a record", 2),
        ("trailing.fq", fastq(("a", "ACGT")) + b"\n\n", "blank lines at the end", 2),
        ("base.fq", fastq(("a", "ACGT"), ("b", "ACXT")), "sequence has 'X' at position 3", 2),
        ("iupac.fq", fastq(("a", "ACGT"), ("b", "ACRT")), "only A, C, G, T and N", 2),
        ("quality.fq", fastq(("a", "ACGT"), ("b", "ACGT", "II I")), "quality character ' '", 2),
        ("control.fq", fastq(("a", "ACGT"), ("b", "ACGT", "II\x01I")), "not valid Phred+33", 2),
        (
            "accent.fq",
            fastq(*[(f"r{i}", "ACGT") for i in range(1, 3000)]) + "@x\nACGÄ\n+\nIIII\n".encode(),
            "non-ASCII",
            3000,
        ),
        ("plain.fq.gz", GOOD, "not a gzip file", None),
    ],
)
def test_bad_single_files(tmp_path: Path, name: str, data: bytes, problem: str, record: int | None) -> None:
    path = write(tmp_path / name, data)
    error = error_of(iter_single, path)
    check_error(error, path, problem, record)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    check_error(error_of(iter_single, tmp_path / "absent.fq"), tmp_path / "absent.fq", "file not found", None)
    check_error(error_of(iter_single, tmp_path), tmp_path, "is a directory", None)


def test_empty_gzip(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.fq.gz", b"", compress=True)
    check_error(error_of(iter_single, path), path, "no reads (empty file)", None)


def test_truncated_gzip(tmp_path: Path) -> None:
    whole = gzip.compress(fastq(*[(f"r{i}", "ACGTACGTAC") for i in range(200)]))
    path = write(tmp_path / "cut.fq.gz", whole[:-20])
    check_error(error_of(iter_single, path), path, "truncated gzip file (compressed stream ended early)", None)


def test_corrupt_gzip(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(fastq(*[(f"r{i}", "ACGTACGTAC") for i in range(2000)])))
    data[12] ^= 0xFF  # inside the first deflate block header
    data[13] ^= 0xFF
    path = write(tmp_path / "bad.fq.gz", bytes(data))
    error = error_of(iter_single, path)
    assert str(path) in str(error)


# --- pairs --------------------------------------------------------------------------------------


def pair_files(tmp_path: Path, names1: list[str], names2: list[str], compress: bool = False) -> tuple[Path, Path]:
    suffix = ".fq.gz" if compress else ".fq"
    path1 = write(tmp_path / f"R1{suffix}", fastq(*[(name, "ACGTT") for name in names1]), compress)
    path2 = write(tmp_path / f"R2{suffix}", fastq(*[(name, "GGCAN") for name in names2]), compress)
    return path1, path2


@pytest.mark.parametrize(
    ("names1", "names2"),
    [
        (["a/1", "b/1"], ["a/2", "b/2"]),
        (["M:1:1 1:N:0:1", "M:1:2 1:N:0:1"], ["M:1:1 2:N:0:1", "M:1:2\t2:N:0:1"]),
        (["a", "b"], ["a", "b"]),
    ],
)
def test_pairs(tmp_path: Path, names1: list[str], names2: list[str]) -> None:
    path1, path2 = pair_files(tmp_path, names1, names2, compress=True)
    pairs = list(iter_paired(path1, path2))
    assert pairs == [(names1[0], "ACGTT", "IIIII", "GGCAN", "IIIII"), (names1[1], "ACGTT", "IIIII", "GGCAN", "IIIII")]


def test_r2_shorter(tmp_path: Path) -> None:
    path1, path2 = pair_files(tmp_path, ["a", "b", "c"], ["a", "b"])
    error = error_of(iter_paired, path1, path2)
    assert isinstance(error, PairingError)
    check_error(error, path2, "R2 ended after 2 reads but R1", 3)
    assert str(path1) in str(error)


def test_r1_shorter(tmp_path: Path) -> None:
    path1, path2 = pair_files(tmp_path, ["a", "b"], ["a", "b", "c"])
    error = error_of(iter_paired, path1, path2)
    assert isinstance(error, PairingError)
    check_error(error, path1, "R1 ended after 2 reads but R2", 3)
    assert str(path2) in str(error)


@pytest.mark.parametrize(("name1", "name2"), [("c/1", "d/2"), ("r11", "r12"), ("c/1", "c/3")])
def test_names_differ(tmp_path: Path, name1: str, name2: str) -> None:
    path1, path2 = pair_files(tmp_path, ["a/1", "b/1", name1], ["a/2", "b/2", name2])
    error = error_of(iter_paired, path1, path2)
    assert isinstance(error, PairingError)
    check_error(error, path1, f"read name {name1!r} in R1 does not match {name2!r} in R2", 3)
    assert str(path2) in str(error)


def test_same_file_twice(tmp_path: Path) -> None:
    path1, _ = pair_files(tmp_path, ["a"], ["a"])
    error = error_of(iter_paired, path1, path1)
    assert isinstance(error, PairingError)
    assert "same file" in str(error)


def test_pair_errors_name_the_right_file(tmp_path: Path) -> None:
    good = write(tmp_path / "good.fq", fastq(("a", "ACGT"), ("b", "ACGT"), ("c", "ACGT")))
    bad = write(tmp_path / "bad.fq", fastq(("a", "ACGT"), ("b", "ACGT"), ("c", "ACZT")))
    check_error(error_of(iter_paired, good, bad), bad, "sequence has 'Z'", 3)
    check_error(error_of(iter_paired, bad, good), bad, "sequence has 'Z'", 3)
    cut = write(tmp_path / "cut.fq", fastq(("a", "ACGT"), ("b", "ACGT")) + b"@c\nACGT\n")
    check_error(error_of(iter_paired, good, cut), cut, "ends in the middle of a record", 3)
    check_error(error_of(iter_paired, cut, good), cut, "ends in the middle of a record", 3)
    two = write(tmp_path / "two.fq", fastq(("a", "ACGT"), ("b", "ACGT")))
    check_error(error_of(iter_paired, two, cut), cut, "ends in the middle of a record", 3)
    check_error(error_of(iter_paired, cut, two), cut, "ends in the middle of a record", 3)
    empty = write(tmp_path / "empty.fq", b"")
    check_error(error_of(iter_paired, good, empty), empty, "no reads (empty file)", None)
    check_error(error_of(iter_paired, empty, good), empty, "no reads (empty file)", None)
    check_error(error_of(iter_paired, good, tmp_path / "absent.fq"), tmp_path / "absent.fq", "file not found", None)


def test_truncated_gzip_in_pair(tmp_path: Path) -> None:
    data = fastq(*[(f"r{i}", "ACGTACGTAC") for i in range(200)])
    good = write(tmp_path / "good.fq.gz", data, compress=True)
    cut = write(tmp_path / "cut.fq.gz", gzip.compress(data)[:-20])
    check_error(error_of(iter_paired, good, cut), cut, "truncated gzip file", None)
    check_error(error_of(iter_paired, cut, good), cut, "truncated gzip file", None)


# --- merging ------------------------------------------------------------------------------------

RANDOM = random.Random(20240601)


def random_dna(length: int) -> str:
    return "".join(RANDOM.choice("ACGT") for _ in range(length))


FRAGMENT = random_dna(250)
ADAPTER1 = "AGATCGGAAGAGCACACGTCTGAACTCCAGTCACGCATTAGCATCTCGTATGCCGTCTTCTGCTTG"
ADAPTER2 = "AGATCGGAAGAGCGTCGTGTAGGGAAAGAGTGTAGATCTCGGTGGTCGCCGTATCATTAAAAAAA"


def reads_of(fragment: str, length1: int = 150, length2: int = 150) -> tuple[str, str, str, str]:
    """R1 and R2 as sequenced from ``fragment`` (adapters after a short fragment), all quality 'I'."""
    read1 = (fragment + ADAPTER1 * 3)[:length1]
    read2 = (reverse_complement(fragment) + ADAPTER2 * 3)[:length2]
    return read1, "I" * length1, read2, "I" * length2


def substitute(sequence: str, position: int, base: str | None = None) -> str:
    if base is None:
        base = "A" if sequence[position] != "A" else "C"
    return sequence[:position] + base + sequence[position + 1 :]


def test_reverse_complement() -> None:
    assert reverse_complement("AACGTN") == "NACGTT"
    assert reverse_complement("aacgtn") == "nacgtt"
    assert reverse_complement("") == ""


@pytest.mark.parametrize("length", [250, 280, 290, 200, 150, 151])
def test_perfect_overlap_rebuilds_fragment(length: int) -> None:
    fragment = (FRAGMENT + random_dna(100))[:length]
    merged = merge_pair(*reads_of(fragment), MergeSettings())
    assert merged is not None
    assert merged[0] == fragment
    assert merged[1] == "I" * length


def test_minimum_overlap_is_inclusive() -> None:
    fragment = (FRAGMENT + random_dna(100))[:290]  # 150 + 150 - 290 = 10 overlapping bases
    assert merge_pair(*reads_of(fragment), MergeSettings(min_overlap=10)) is not None
    assert merge_pair(*reads_of(fragment), MergeSettings(min_overlap=11)) is None


def test_too_short_overlap_and_no_overlap() -> None:
    assert merge_pair(*reads_of((FRAGMENT + random_dna(100))[:291]), MergeSettings()) is None  # 9 bases
    assert merge_pair(*reads_of(random_dna(400)), MergeSettings()) is None


@pytest.mark.parametrize("r1_better", [True, False])
def test_mismatch_resolved_by_quality(r1_better: bool) -> None:
    read1, qual1, read2, qual2 = reads_of(FRAGMENT)
    # Fragment position 120 lies in the overlap (100..149): R1 index 120, R2 index 250 - 1 - 120 = 129.
    read1 = substitute(read1, 120, "A" if FRAGMENT[120] != "A" else "C")
    if r1_better:
        qual1 = qual1[:120] + "I" + qual1[121:]  # Q40
        qual2 = qual2[:129] + "+" + qual2[130:]  # Q10
        expected_base, expected_quality = read1[120], chr(33 + 30)
    else:
        qual1 = qual1[:120] + "+" + qual1[121:]
        expected_base, expected_quality = FRAGMENT[120], chr(33 + 30)
    merged = merge_pair(read1, qual1, read2, qual2, MergeSettings())
    assert merged is not None
    sequence, qualities = merged
    assert len(sequence) == len(qualities) == 250
    assert sequence[120] == expected_base
    assert qualities[120] == expected_quality
    assert sequence[:120] == read1[:120] and sequence[121:] == FRAGMENT[121:]


def test_mismatch_with_equal_qualities_keeps_r1_base_with_low_quality() -> None:
    read1, qual1, read2, qual2 = reads_of(FRAGMENT)
    read1 = substitute(read1, 110)
    sequence, qualities = merge_pair(read1, qual1, read2, qual2, MergeSettings())
    assert sequence[110] == read1[110]
    assert qualities[110] == "#"


def test_n_loses_to_a_called_base() -> None:
    read1, qual1, read2, qual2 = reads_of(FRAGMENT)
    read1 = substitute(read1, 130, "N")
    qual1 = qual1[:130] + "5" + qual1[131:]
    read2 = substitute(read2, 250 - 1 - 140, "N")
    qual2 = qual2[:109] + "#" + qual2[110:]
    sequence, qualities = merge_pair(read1, qual1, read2, qual2, MergeSettings())
    assert sequence == FRAGMENT
    assert qualities[130] == "I" and qualities[140] == "I"


def test_agreeing_positions_take_the_higher_quality() -> None:
    read1, _, read2, _ = reads_of(FRAGMENT)
    qual1 = "".join(RANDOM.choice("#+5?I") for _ in range(150))
    qual2 = "".join(RANDOM.choice("#+5?I") for _ in range(150))
    sequence, qualities = merge_pair(read1, qual1, read2, qual2, MergeSettings())
    rq2 = qual2[::-1]  # fragment position i is rq2[i - 100]
    assert sequence == FRAGMENT
    assert qualities[:100] == qual1[:100]
    assert qualities[100:150] == "".join(max(a, b) for a, b in zip(qual1[100:], rq2[:50]))
    assert qualities[150:] == rq2[50:]


def test_dovetail_drops_adapters() -> None:
    fragment = FRAGMENT[:90]  # shorter than both reads: each reads into its adapter
    merged = merge_pair(*reads_of(fragment), MergeSettings())
    assert merged is not None and merged[0] == fragment


def test_r2_inside_r1() -> None:
    fragment = FRAGMENT[:140]
    read1, qual1, read2, qual2 = reads_of(fragment, 150, 120)  # R1 reads 10 adapter bases
    merged = merge_pair(read1, qual1, read2, qual2, MergeSettings())
    assert merged is not None and merged[0] == fragment


def test_mismatch_rate_limit() -> None:
    read1, qual1, read2, qual2 = reads_of(FRAGMENT)  # 50-base overlap: 5 mismatches allowed at 10%
    for position in (101, 111, 121, 131, 141):
        read1 = substitute(read1, position)
    assert merge_pair(read1, qual1, read2, qual2, MergeSettings(max_mismatch_rate=0.1)) is not None
    read1 = substitute(read1, 146)
    assert merge_pair(read1, qual1, read2, qual2, MergeSettings(max_mismatch_rate=0.1)) is None
    assert merge_pair(read1, qual1, read2, qual2, MergeSettings(max_mismatch_rate=0.12)) is not None
    assert merge_pair(*reads_of(FRAGMENT), MergeSettings(max_mismatch_rate=0)) is not None


def test_errors_in_every_first_pass_seed_are_survived() -> None:
    read1, qual1, read2, qual2 = reads_of(FRAGMENT)
    for position in (105, 120, 137):  # inside rc(R2)'s seeds at 0-11, 16-27 and 32-43
        read1 = substitute(read1, position)
    merged = merge_pair(read1, qual1, read2, qual2, MergeSettings())
    assert merged is not None and len(merged[0]) == 250


@pytest.mark.parametrize("overlap", [10, 12, 15, 20, 27, 28, 35])
def test_short_overlap_with_an_error(overlap: int) -> None:
    fragment = (FRAGMENT + random_dna(100))[: 300 - overlap]
    read1, qual1, read2, qual2 = reads_of(fragment)
    read1 = substitute(read1, 150 - overlap + 2)  # an error near the start of the overlap
    merged = merge_pair(read1, qual1, read2, qual2, MergeSettings())
    assert merged is not None and len(merged[0]) == len(fragment)


def test_short_reads() -> None:
    fragment = FRAGMENT[:50]
    merged = merge_pair(*reads_of(fragment, 30, 30), MergeSettings())
    assert merged is not None and merged[0] == fragment


def test_quality_length_must_match() -> None:
    read1, qual1, read2, qual2 = reads_of(FRAGMENT)
    with pytest.raises(ValueError):
        merge_pair(read1, qual1[:-1], read2, qual2, MergeSettings())


@pytest.mark.parametrize(
    "settings",
    [{"min_overlap": 4}, {"min_overlap": 10.5}, {"max_mismatch_rate": 0.5}, {"max_mismatch_rate": -0.1}],
)
def test_settings_are_validated(settings: dict) -> None:
    with pytest.raises(ParameterError):
        MergeSettings(**settings)


def brute_force(read1: str, qual1: str, read2: str, qual2: str, settings: MergeSettings) -> tuple[str, str] | None:
    """Every offset scored: what merge_pair's seeds must find for ordinary (non-repetitive) reads."""
    rc2 = reverse_complement(read2)
    best = None
    for offset in range(settings.min_overlap - len(read2), len(read1) - settings.min_overlap + 1):
        found = merge_module._placement(read1, rc2, offset, settings.max_mismatch_rate)
        if found is not None and (best is None or found[0] > best[0]):
            best = found
    if best is None:
        return None
    return merge_module._merge(read1, qual1, rc2, qual2[::-1], best[0][2], best[1])


def test_matches_brute_force_on_random_pairs() -> None:
    generator = random.Random(7)
    settings = MergeSettings()
    for _ in range(150):
        fragment = "".join(generator.choice("ACGT") for _ in range(generator.randint(60, 320)))
        read1, _, read2, _ = reads_of(fragment)
        read1 = "".join(b if generator.random() > 0.01 else generator.choice("ACGTN") for b in read1)
        read2 = "".join(b if generator.random() > 0.01 else generator.choice("ACGTN") for b in read2)
        qual1 = "".join(generator.choice("#+5?I") for _ in read1)
        qual2 = "".join(generator.choice("#+5?I") for _ in read2)
        assert merge_pair(read1, qual1, read2, qual2, settings) == brute_force(read1, qual1, read2, qual2, settings)
