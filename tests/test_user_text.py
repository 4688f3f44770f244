"""User text the CLI hands to the library (#11 item 5): protospacer ranges and base conversions (design),
sequences given inline or as a FASTA / plain-text file (sequence_input), each with a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from editcheck.cli import main
from editcheck.design import build_design, parse_base_editor, parse_conversion, parse_protospacer_range
from editcheck.errors import DesignError, InputFormatError
from editcheck.sequence_input import names_a_file, read_sequence_argument

# 90 bp; guide on + at 31-50 (1-based), PAM TGG at 51-53.
AMPLICON = "GGATCACAGTCTACACTGCTCACTCCAACCCCGGCCCCTGAGTCCGAGGATGGGGTGCTTCAGAGTATGTATACCACTGGGTAGGATACG"
GUIDE = "CCGGCCCCTGAGTCCGAGGA"


@pytest.mark.parametrize(
    ("text", "expected"), [("4-8", (4, 8)), ("5", (5, 5)), (" 3 - 9 ", (3, 9)), ("12-12", (12, 12))]
)
def test_protospacer_range(text: str, expected: tuple[int, int]) -> None:
    assert parse_protospacer_range(text) == expected


@pytest.mark.parametrize("text", ["4-", "-8", "4-8-9", "four-eight", "4:8", "", "+4-8", "4.5-8"])
def test_protospacer_range_rejects_other_text(text: str) -> None:
    with pytest.raises(DesignError, match=r"editing window .*: expected protospacer positions like 4-8"):
        parse_protospacer_range(text)


@pytest.mark.parametrize(("text", "expected"), [("C>G", ("C", "G")), ("a>g", ("A", "G")), (" T > C ", ("T", "C"))])
def test_conversion(text: str, expected: tuple[str, str]) -> None:
    assert parse_conversion(text) == expected
    assert parse_base_editor(text) == (None, expected)


@pytest.mark.parametrize("text", ["C>GT", "AC>G", ">G", "C>", "C>C", "C>N", "U>C", "C>G>T", "CG"])
def test_conversion_must_change_one_base_into_another(text: str) -> None:
    with pytest.raises(DesignError, match="expected one of A, C, G, T changed into another"):
        parse_conversion(text)


def test_base_editor_preset_names_pass_through() -> None:
    assert parse_base_editor("ABE") == ("ABE", None)
    assert parse_base_editor("cbe") == ("cbe", None)


@pytest.mark.parametrize("conversion", [("", "G"), ("AC", "G"), ("C", "GT")])
def test_design_rejects_a_conversion_of_several_or_no_bases(conversion: tuple[str, str]) -> None:
    """The check was a substring test ("GT" in "ACGT"), so such conversions were accepted."""
    with pytest.raises(DesignError, match="must change one of A, C, G, T into another"):
        build_design(AMPLICON, [GUIDE], conversion=conversion)


def test_design_places_a_parsed_conversion() -> None:
    editor, conversion = parse_base_editor("c>g")
    design = build_design(AMPLICON, [GUIDE], base_editor=editor, conversion=conversion,
                          editing_window=parse_protospacer_range("3-5"))  # fmt: skip
    assert design.base_editor is not None
    assert design.base_editor.name == "C>G" and design.base_editor.forward_conversion == ("C", "G")
    assert design.base_editor.positions == (32, 33, 34)  # protospacer 3-5 on a + strand guide starting at 30


@pytest.mark.parametrize(("value", "message"), [("C>GT", "base conversion 'C>GT'"), ("AC>G", "base conversion 'AC>G'")])
def test_cli_rejects_a_malformed_conversion_in_one_line(tmp_path: Path, value: str, message: str) -> None:
    reads = tmp_path / "r.fastq"
    reads.write_text(f"@r\n{AMPLICON}\n+\n{'I' * len(AMPLICON)}\n")
    result = CliRunner().invoke(main, ["quantify", "--r1", str(reads), "-a", AMPLICON, "-g", GUIDE,
                                       "--base-editor", value, "-o", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


def test_sequence_given_inline() -> None:
    assert read_sequence_argument(AMPLICON, "amplicon") == (AMPLICON, None)
    assert read_sequence_argument("A" * 400, "amplicon") == ("A" * 400, None)  # too long for a file name
    assert not names_a_file("A" * 400)


def test_sequence_from_fasta_and_plain_files(tmp_path: Path) -> None:
    fasta = tmp_path / "amplicon.fa"
    fasta.write_text(f"\ufeff>EMX1 site 1\n{AMPLICON[:50]}\n{AMPLICON[50:]}\n\n")
    assert read_sequence_argument(str(fasta), "amplicon") == (AMPLICON, "EMX1")
    plain = tmp_path / "donor"
    plain.write_text(f"{AMPLICON[:40]}\n  {AMPLICON[40:]}  \n")
    assert read_sequence_argument(str(plain), "donor") == (AMPLICON, None)
    assert names_a_file(fasta) and not names_a_file(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty file: no amplicon sequence"),
     (b">a\nACGT\n>b\nACGT\n", "2 FASTA records; give one amplicon per file"),
     (b">only_header\n", "record 1: the FASTA record 'only_header' has no sequence"),
     (b"ACGT\n>a\nACGT\n", "not a FASTA file: text before the first '>' header line"),
     (b"\xff\xfe\x00\x01", "binary content")],
)  # fmt: skip
def test_bad_sequence_files_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "amplicon.fa"
    path.write_bytes(content)
    with pytest.raises(InputFormatError) as error:
        read_sequence_argument(str(path), "amplicon")
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


@pytest.mark.parametrize("value", ["missing.fa", "sub/amplicon", "x.TXT"])
def test_a_path_that_names_no_file_is_missing_not_a_sequence(tmp_path: Path, value: str) -> None:
    with pytest.raises(FileNotFoundError) as error:
        read_sequence_argument(str(tmp_path / value) if "/" in value else value, "amplicon")
    assert error.value.filename.endswith(value)
