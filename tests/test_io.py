"""The io layer: the one FASTA reader (genomes, design sequences, indexed genomes) and format sniffing."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import pysam
import pytest

from editcheck.errors import InputFormatError
from editcheck.io.fasta import iter_fasta, open_indexed_fasta, read_sequence_file
from editcheck.io.formats import GZIP_MAGIC, head, is_gzip, open_binary
from editcheck.sequence_input import read_sequence_argument


def error_text(function: Callable[..., object], *args: object) -> str:
    with pytest.raises(InputFormatError) as caught:
        result = function(*args)
        if isinstance(result, Iterator):
            list(result)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------------------------ records of a FASTA


def test_multi_record_fasta_keeps_case_iupac_and_empty_records(tmp_path: Path) -> None:
    text = b">chr1 first contig\nACGTRYKM\nacgtn\n>chr2\r\nNNNN\r\n\n>empty\n>chr3\nG-*"
    plain = tmp_path / "g.fa"
    plain.write_bytes(text)
    expected = [("chr1", "ACGTRYKMacgtn"), ("chr2", "NNNN"), ("empty", ""), ("chr3", "G-*")]
    assert list(iter_fasta(plain)) == expected
    compressed = tmp_path / "g.fa.gz"
    compressed.write_bytes(gzip.compress(text))
    assert list(iter_fasta(compressed)) == expected
    marked = tmp_path / "bom.fa"  # saved by an editor that writes a UTF-8 byte-order mark
    marked.write_bytes(b"\xef\xbb\xbf" + text)
    assert list(iter_fasta(marked)) == expected


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file: no FASTA records"),
        (b"\n \n", "empty file: no FASTA records"),
        (b"@r1\nACGT\n+\nIIII\n", "not a FASTA file: expected '>' at the start of the first record, found '@r1'"),
        (b">a\nACGT\n>\nAC\n", "record 2: FASTA header without a name"),
        (b">a\nACGT\n>b\nAC\n>a x\nGG\n", "record 3: contig name 'a' appears twice"),
        (b">a\nACGT\n>b\nAC1T\n", "record 2: contig b: sequence contains '1', which is not a nucleotide letter"),
    ],
)
def test_fasta_errors_are_one_line_naming_file_and_record(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.fa"
    path.write_bytes(content)
    assert error_text(iter_fasta, path) == f"{path}: {problem}"


def test_missing_directory_and_truncated_fasta(tmp_path: Path) -> None:
    assert error_text(iter_fasta, tmp_path / "missing.fa") == f"{tmp_path / 'missing.fa'}: file not found"
    assert error_text(iter_fasta, tmp_path) == f"{tmp_path}: is a directory, not a FASTA file"
    cut = tmp_path / "cut.fa.gz"
    cut.write_bytes(gzip.compress(b">a\n" + b"ACGT" * 5000)[:-30])
    assert error_text(iter_fasta, cut).startswith(f"{cut}: truncated or corrupt gzip data")


# ---------------------------------------------------------------------- one sequence for a design option


def test_sequence_file_fasta_plain_and_gzip(tmp_path: Path) -> None:
    fasta = tmp_path / "amp.fa"
    fasta.write_text(">amp1 my amplicon\nACGTN\nacgt\n")
    assert read_sequence_file(fasta, "amplicon") == ("ACGTNacgt", "amp1")
    plain = tmp_path / "amp.txt"
    plain.write_text("\ufeffACGT\nGGCC\n\n")
    assert read_sequence_file(plain, "amplicon") == ("ACGTGGCC", None)
    unnamed = tmp_path / "unnamed.fa"
    unnamed.write_text(">\nACGT\n")
    assert read_sequence_file(unnamed, "donor") == ("ACGT", None)
    compressed = tmp_path / "amp.fa.gz"
    compressed.write_bytes(gzip.compress(b">amp1\nACGTN\nacgt\n"))
    assert read_sequence_file(compressed, "amplicon") == ("ACGTNacgt", "amp1")
    assert read_sequence_argument(str(compressed), "amplicon") == ("ACGTNacgt", "amp1")  # was "binary content"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file: no amplicon sequence"),
        (b">amp\n", "record 1: the FASTA record 'amp' has no sequence"),
        (b">a\nACGT\n>b\nGG\n>c\nT\n", "3 FASTA records; give one amplicon per file"),
        (b"ACGT\n>b\nGG\n", "not a FASTA file: text before the first '>' header line"),
        (b">amp\nAC GT\nAC#T\n", "record 1: record amp: sequence contains '#', which is not a nucleotide letter"),
        (b"\xff\xfe\x00A", "not a FASTA or sequence text file (binary content) for the amplicon"),
    ],
)
def test_sequence_file_errors(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "amp.fa"
    path.write_bytes(content)
    assert error_text(read_sequence_file, path, "amplicon") == f"{path}: {problem}"


# ------------------------------------------------------------------------------ indexed genome FASTA


def test_indexed_fasta_fetches_regions_and_names_plain_gzip(tmp_path: Path) -> None:
    genome = tmp_path / "genome.fa"
    genome.write_text(">chrA\n" + "ACGT" * 30 + "\n>chrB\nGGGGCCCC\n")
    with open_indexed_fasta(genome) as fasta:
        assert list(fasta.references) == ["chrA", "chrB"]
        assert fasta.fetch("chrA", 2, 7) == "GTACG"
        assert fasta.fetch("chrB", 3, 5) == "GC"
    zipped = tmp_path / "plain.fa.gz"
    zipped.write_bytes(gzip.compress(genome.read_bytes()))
    message = error_text(open_indexed_fasta, zipped)
    assert message.startswith(f"{zipped}: cannot index or read this compressed FASTA; it must be bgzip-compressed")
    bgzipped = tmp_path / "bgzf.fa.gz"
    pysam.tabix_compress(str(genome), str(bgzipped))
    with open_indexed_fasta(bgzipped) as fasta:
        assert fasta.fetch("chrB", 0, 4) == "GGGG"


# --------------------------------------------------------------------------------------- format sniffing


def test_head_and_gzip_sniffing(tmp_path: Path) -> None:
    plain = tmp_path / "reads.fastq.gz"  # the name says gzip, the content does not
    plain.write_bytes(b"@r1\nACGT\n+\nIIII\n")
    compressed = tmp_path / "reads.fq"  # and the other way round
    compressed.write_bytes(gzip.compress(b"@r1\nACGT\n+\nIIII\n"))
    assert not is_gzip(plain)
    assert is_gzip(compressed)
    assert head(compressed, 2) == GZIP_MAGIC
    assert head(compressed, 4, decompress=True) == b"@r1\n"
    assert head(plain, 4) == b"@r1\n"
    assert head(tmp_path / "missing", 4) == b""
    assert not is_gzip(tmp_path / "missing")
    assert head(tmp_path, 4, decompress=True) == b""
    for path in (plain, compressed):
        with open_binary(path, "FASTQ") as handle:
            assert handle.read() == b"@r1\nACGT\n+\nIIII\n"
    with pytest.raises(InputFormatError, match="is a directory, not a FASTQ file"), open_binary(tmp_path, "FASTQ"):
        pass
