"""`editcheck simulate` for base and prime editors, and `editcheck simulate-study` (issue #12 item 7): what a user
needs to try the tool, each checked against its truth by analysing the reads with `editcheck quantify`."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from editcheck import study as study_model
from editcheck.cli import main
from editcheck.simulate import random_design, simulate
from editcheck.simulate.prime import PrimeEditSpec, prime_edit


def _run(*args: object) -> str:
    result = CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _quantify(folder: Path, truth: dict, out: Path) -> dict:
    """Quantify the simulated reads with the options the truth names (run from the reads' folder)."""
    options = [str(folder / value) if value.endswith(".fa") else value for value in truth["quantify_options"]]
    _run("quantify", "--r1", folder / "sim_R1.fastq.gz", *options, "-t", 1, "-o", out)
    return json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize(("editor", "target", "conversion"), [("CBE", 6, "C>T"), ("ABE", 7, "A>G")])
def test_base_editor_reads_match_their_truth(tmp_path: Path, editor: str, target: int, conversion: str) -> None:
    folder = tmp_path / "sim"
    _run("simulate", "-n", 2000, "--base-editor", editor, "--target-position", target, "--editing-window", "3-9",
         "--target-rate", 0.3, "--bystander-rate", 0.1, "--indel-rate", 0.05, "--seed", 4, "-o", folder)  # fmt: skip
    truth = json.loads((folder / "sim.truth.json").read_text())
    editing = truth["base_editing"]
    assert (editing["conversion"], editing["target"], editing["window"]) == (conversion, target, [3, 9])
    assert truth["design"]["guide"][target - 1] == conversion[0]
    counts = truth["class_counts"]
    assert counts["deletion"] + counts["insertion"] == 100  # 5% of 2,000 reads
    summary = _quantify(folder, truth, tmp_path / "out")
    engagement = summary["base_editing"]["target"]["engagement"]
    expected = 100 * editing["target_converted_reads"] / truth["n_reads"]
    assert 25 < expected < 32  # 95% of reads exposed at 30%
    assert engagement["percent"] == pytest.approx(expected, abs=1.0)
    assert summary["base_editing"]["protospacer_window"] == [3, 9]


@pytest.mark.parametrize("edit", ["substitution", "insertion", "deletion"])
def test_prime_editor_reads_match_their_truth(tmp_path: Path, edit: str) -> None:
    folder = tmp_path / "sim"
    _run("simulate", "-n", 1500, "--prime-edit", edit, "--prime-edit-rate", 0.3, "--indel-rate", 0.02, "--seed", 2,
         "-o", folder)  # fmt: skip
    truth = json.loads((folder / "sim.truth.json").read_text())
    prime = truth["prime_editing"]
    assert prime["pegrna_spacer"] == truth["design"]["guide"] and prime["prime_edited_reads"] == 450
    assert truth["expected_classification"]["prime_edit"] == 450
    assert not (folder / "sim.hdr_amplicon.fa").exists()
    summary = _quantify(folder, truth, tmp_path / "out")
    outcomes = summary["outcomes"]
    assert outcomes["prime_edit"]["reads"] == pytest.approx(450, abs=5)
    assert outcomes["prime_edit"]["reads"] + outcomes.get("prime_edit_with_changes", {"reads": 0})["reads"] <= 450 + 30


def test_prime_edit_allele_and_pegrna_are_consistent_on_either_strand() -> None:
    """The edited allele is the amplicon with the edit 3' of the nick on the spacer's strand, and the extension is
    the reverse complement of PBS target + RT copy (written independently here for a reverse-strand guide)."""
    design = random_design(seed=3, with_donor=False)
    complement = str.maketrans("ACGT", "TGCA")
    flipped = type(design)(design.amplicon.translate(complement)[::-1], design.guide)
    assert flipped.guide_strand == "-"
    forward = prime_edit(design, PrimeEditSpec(offset=2, deleted=0, inserted="GAT"))
    reverse = prime_edit(flipped, PrimeEditSpec(offset=2, deleted=0, inserted="GAT"))
    assert forward.edited_amplicon.translate(complement)[::-1] == reverse.edited_amplicon
    assert forward.extension == reverse.extension
    nick = design.amplicon.index(design.guide) + 17
    assert forward.edited_amplicon == design.amplicon[: nick + 2] + "GAT" + design.amplicon[nick + 2 :]
    rt = forward.edited_amplicon[nick : nick + 2 + 3 + 10]
    assert forward.extension == (design.amplicon[nick - 13 : nick] + rt).translate(complement)[::-1]
    assert forward.events == [{"type": "insertion", "after": nick + 2, "length": 3, "inserted": "GAT"}]


def test_template_molecules_make_pcr_duplicates(tmp_path: Path) -> None:
    """2,000 reads from 500 molecules: every read is a PCR copy of one of them, each molecule's outcome drawn once,
    so the edited share of reads varies several times more than binomially (about 7x: 1/M + CV^2/M + 1/N against
    1/N, CV^2 about 0.5 from the per-molecule PCR efficiency); the truth counts the molecules read."""
    design = random_design(seed=1, with_donor=False)
    shares = []
    for seed in range(16):
        truth = simulate(design, 2000, tmp_path / "reads.fastq", seed=seed, template_molecules=500, pcr_cycles=10)
        molecules = truth["template_molecules"]
        assert molecules["n"] == 500 == sum(molecules["class_counts"].values()) and molecules["sequenced"] <= 500
        assert molecules["duplicate_reads_percent"] >= 75
        assert sum(truth["class_counts"].values()) == 2000
        shares.append(truth["expected_classification"]["modified"] / 2000)
    mean = sum(shares) / len(shares)
    binomial = 0.37 * 0.63 / 2000
    assert sum((share - mean) ** 2 for share in shares) / (len(shares) - 1) > 3 * binomial
    independent = simulate(design, 2000, tmp_path / "reads.fastq", seed=1)
    assert "template_molecules" not in independent


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-editor", "ABE", "--target-position", "12"], "--target-position 12 lies outside the editing window 4-8"),
        (["--base-editor", "CBE", "--prime-edit", "insertion"], "give --base-editor or --prime-edit, not both"),
        (["--base-editor", "ABE", "--editing-window", "8-4"], "--editing-window must satisfy 1 <= start <= end <= 20"),
        (["--base-editor", "ABE", "--target-rate", "1.5"], "--target-rate must be a fraction between 0 and 1, got 1.5"),
        (["--prime-edit", "deletion", "--prime-edit-rate", "0.9", "--indel-rate", "0.2"], "the rates add up to more than 1"),
    ],
)  # fmt: skip
def test_bad_simulate_options_give_one_line_and_no_output(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["simulate", "-n", "100", *args, "-o", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "out").exists()


def test_simulate_study_writes_a_readable_study_with_its_truth(tmp_path: Path) -> None:
    _run("simulate-study", "--seed", 5, "--reads", 300, "-o", tmp_path / "study")
    folder = tmp_path / "study"
    study = study_model.read_study(folder / "designs.tsv", folder / "samples.tsv")
    truth = json.loads((folder / "truth.json").read_text())
    assert list(study.designs) == ["A", "B"] == list(truth["designs"])
    assert study.designs["A"].design.base_editor is not None and study.designs["B"].design.base_editor is None
    on_target = [sample for sample in study.samples if sample.assay == study_model.ON_TARGET]
    assert {sample.sample for sample in on_target} == set(truth["samples"])
    assert {sample.sample for sample in study.samples_of("A", study_model.OFF_TARGET_PANEL)} == {
        "PT1",
        "PT2",
        "PC1",
        "PC2",
    }
    assert {sample.subject for sample in on_target} == {"", "M01", "P01", "P02", "P03"}
    assert {sample.time_point.text for sample in on_target if sample.subject == "P01"} == {"1 mo", "6 mo", "12 mo"}
    for name, sample in truth["samples"].items():
        with gzip.open(folder / "ontarget" / f"{name}.fastq.gz", "rt") as handle:
            assert sum(1 for _ in handle) == 4 * 300
        if sample["condition"] == "treated":
            assert sample["replicate_percent"] != sample["level_percent"]  # between-replicate variation
            assert 0 < sample["duplicate_reads_percent"] < 15  # 300 reads of 3,000 molecules: a few duplicates
        else:
            assert sample["read_level_percent"] == 0
    assert truth["offtarget"]["sites"]["OT2"]["expected_call"] == "EDITED"
    assert 0 < truth["offtarget"]["sites"]["OT2"]["treated_edited_percent"] < 10
    again = tmp_path / "again"
    _run("simulate-study", "--seed", 5, "--reads", 300, "-o", again)
    assert (again / "truth.json").read_bytes() == (folder / "truth.json").read_bytes()
    assert (again / "samples.tsv").read_bytes() == (folder / "samples.tsv").read_bytes()
    assert gzip.decompress((again / "panel" / "PT1.fastq.gz").read_bytes()) == gzip.decompress(
        (folder / "panel" / "PT1.fastq.gz").read_bytes()
    )
