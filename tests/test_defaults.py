"""Defaults a user meets first: sample names from file names, one base-quality threshold everywhere,
as many workers as the process has cores, and a guide given with its PAM (issue #10, items 3 and 10)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from editcheck.cli import main
from editcheck.design import build_design
from editcheck.pipeline import quantify
from editcheck.reads.collapse import QualitySettings

REPOSITORY = Path(__file__).resolve().parents[1]
AMPLICON = "GGATCACAGTCTACACTGCTCACTCCAACCCCGGCCCCTGAGTCCGAGGATGGGGTGCTTCAGAGTATGTATACCACTGGGTAGGATACG"
GUIDE = "CCGGCCCCTGAGTCCGAGGA"  # PAM TGG follows; SpCas9 cuts after 1-based base 47


def _fastq(path: Path, reads: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"@r{i}\n{sequence}\n+\n{quality}\n" for i, (sequence, quality) in enumerate(reads)))
    return path


def _option(command: str, name: str):
    return next(param for param in main.commands[command].params if param.name == name)


@pytest.mark.parametrize(
    ("file_name", "sample"),
    [("wk04_R1.fastq.gz", "wk04"), ("wk04_R2.fq", "wk04"), ("KO_S3_L001_R1_001.fastq.gz", "KO"),
     ("mock_1.fastq", "mock"), ("day.7.R1.fastq", "day.7"), ("sample1.fastq", "sample1")],
)  # fmt: skip
def test_default_sample_name_drops_extensions_and_read_number(tmp_path, file_name, sample):
    reads = _fastq(tmp_path / file_name.removesuffix(".gz"), [(AMPLICON, "I" * len(AMPLICON))])
    if file_name.endswith(".gz"):
        import gzip

        target = tmp_path / file_name
        target.write_bytes(gzip.compress(reads.read_bytes()))
        reads = target
    assert quantify(reads, design=build_design(AMPLICON, [GUIDE])).sample == sample


def test_min_base_quality_is_twenty_in_library_cli_and_workflow():
    assert QualitySettings().min_base_quality == 20
    for command in ("quantify", "quantify-pool", "offtarget"):
        option = _option(command, "min_base_quality")
        assert option.default == 20 and option.show_default
    config = yaml.safe_load((REPOSITORY / "config" / "config.yaml").read_text())
    assert config["study"]["min_base_quality"] == config["offtarget"]["min_base_quality"] == 20
    config = yaml.safe_load((REPOSITORY / "config" / "single_design.yaml").read_text())
    assert config["ontarget"]["min_base_quality"] == config["offtarget"]["min_base_quality"] == 20
    schema = yaml.safe_load((REPOSITORY / "workflows" / "schemas" / "config.schema.yaml").read_text())
    for section in ("ontarget", "offtarget"):
        assert schema["properties"][section]["properties"]["min_base_quality"]["default"] == 20


def test_low_quality_substitution_in_window_is_masked_by_default(tmp_path):
    # The base at 1-based 46 (inside the 45-50 window) reads wrong at Q10; the rest at Q40.
    position = 45
    wrong = "A" if AMPLICON[position] != "A" else "C"
    read = AMPLICON[:position] + wrong + AMPLICON[position + 1 :]
    quality = "I" * position + "+" + "I" * (len(read) - position - 1)
    reads = _fastq(tmp_path / "r.fastq", [(read, quality), (AMPLICON, "I" * len(AMPLICON))])
    tally = quantify(reads, design=build_design(AMPLICON, [GUIDE])).tally
    assert tally.outcomes["unmodified"] == 2
    assert tally.with_substitution == 0


def test_threads_default_to_the_cores_available():
    for command in ("quantify", "quantify-pool", "offtarget"):
        option = _option(command, "threads")
        assert callable(option.default) and option.default() == len(os.sched_getaffinity(0))


def test_methods_text_states_the_threshold_and_the_substitution_rule(tmp_path):
    from editcheck.classification.outcomes import ClassificationSettings
    from editcheck.pipeline import AnalysisSettings
    from editcheck.results.sample import summary_document

    reads = _fastq(tmp_path / "r.fastq", [(AMPLICON, "I" * len(AMPLICON))])
    method = summary_document(quantify(reads, design=build_design(AMPLICON, [GUIDE])))["method"]
    assert method.endswith(
        "This run: base-quality threshold Q20 (reads collapsed as sequenced; a base below it is N where the read "
        "differs from its reference or at a base editor's editable base or a donor change, and counts as read "
        "elsewhere; indels as aligned); substitutions reported, not counted as edits."
    )
    counting = AnalysisSettings(classification=ClassificationSettings(count_substitutions=True))
    method = summary_document(quantify(reads, design=build_design(AMPLICON, [GUIDE]), settings=counting))["method"]
    assert "every substitution in the window counted as an edit (--count-substitutions)" in method
