"""MultiQC custom content of the report folder: MultiQC (pip) run on a demo result folder shows editcheck's
sections with the numbers of the result files."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from editcheck.cli import main

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "test_data" / "demo"
GUIDE = "GCTAACAACTAAAACGTAAC"  # product A of the demo study
CONTROL = "#M1"  # a name MultiQC would take for a comment line unless the writer guards it


def _cli(*args: object) -> None:
    result = CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's on-target samples T1 and M1 and its off-target panel, quantified and reported."""
    folder = tmp_path_factory.mktemp("multiqc")
    for sample, name in (("T1", "T1"), ("M1", CONTROL)):
        _cli("quantify", "--r1", DEMO / "ontarget" / f"{sample}.fastq.gz", "-a", DEMO / "designs" / "A.fa",
             "-g", GUIDE, "--base-editor", "ABE", "--editing-window", "4-8", "--target-protospacer-position", 5,
             "--sample", name, "-t", 1, "-o", folder / sample)  # fmt: skip
    with open(REPO / "config" / "panel_samples.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        row["r1"] = str((REPO / "config" / row["r1"]).resolve())
    with open(folder / "panel_samples.tsv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    _cli("offtarget", "--sites", REPO / "config" / "sites.tsv", "--samples", folder / "panel_samples.tsv", "-t", 1,
         "-o", folder / "panel")  # fmt: skip
    _cli("report", "--ontarget", folder / "T1", "--ontarget", folder / "M1", "--offtarget", folder / "panel",
         "-o", folder / "report")  # fmt: skip
    return folder


def _multiqc() -> None:
    if importlib.util.find_spec("multiqc") is None:
        message = "MultiQC is not installed (pip install -e '.[test]')"
        if os.environ.get("EDITCHECK_REQUIRE_TOOLS"):
            pytest.fail(f"{message}, and $EDITCHECK_REQUIRE_TOOLS says CI installed the test tools")
        pytest.skip(message)


def test_report_writes_multiqc_files_byte_identical_on_rerun(report_folder: Path) -> None:
    names = ("editcheck_summary_mqc.tsv", "editcheck_read_fates_mqc.json", "editcheck_offtarget_mqc.tsv")
    rerun = report_folder / "report_again"
    _cli("report", "--ontarget", report_folder / "T1", "--ontarget", report_folder / "M1", "--offtarget",
         report_folder / "panel", "-o", rerun)  # fmt: skip
    for name in names:
        assert (rerun / name).read_bytes() == (report_folder / "report" / name).read_bytes(), name
    manifest = json.loads((report_folder / "report" / "manifest.json").read_text())
    assert {Path(entry["path"]).name for entry in manifest["outputs"]} >= set(names)
    # without a panel there is no off-target table; without on-target samples no headline table
    only_panel = report_folder / "report_panel"
    _cli("report", "--offtarget", report_folder / "panel", "-o", only_panel)
    assert (only_panel / "editcheck_offtarget_mqc.tsv").is_file()
    assert not (only_panel / "editcheck_summary_mqc.tsv").exists()


def test_multiqc_shows_the_editcheck_sections_with_the_result_numbers(report_folder: Path, tmp_path: Path) -> None:
    _multiqc()
    out = tmp_path / "multiqc"
    command = [sys.executable, "-m", "multiqc", str(report_folder / "report"), "-o", str(out), "--strict",
               "--no-version-check"]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    data = json.loads((out / "multiqc_data" / "multiqc_data.json").read_text())["report_saved_raw_data"]
    assert set(data) >= {"multiqc_editcheck_summary_table", "multiqc_editcheck_read_fates_plot",
                         "multiqc_editcheck_offtarget_table"}  # fmt: skip

    table = data["multiqc_editcheck_summary_table"]
    assert set(table) == {"T1", CONTROL}
    for sample, name in (("T1", "T1"), ("M1", CONTROL)):
        summary = json.loads((report_folder / sample / "summary.json").read_text())
        row, reads = table[name], summary["reads"]
        assert row["reads"] == reads["input"] == 2000 and row["classified"] == reads["classified"]
        assert row["aligned_percent"] == pytest.approx(100 * reads["aligned"] / reads["input"], rel=1e-5)
        for column, key in (
            ("edited_percent", "percent"),
            ("edited_ci95_low", "ci95_low"),
            ("edited_ci95_high", "ci95_high"),
        ):
            assert row[column] == pytest.approx(summary["edited"][key], rel=1e-5, abs=1e-9), column
        engagement = summary["base_editing"]["target"]["engagement"]
        assert row["target_engagement_percent"] == pytest.approx(engagement["percent"], rel=1e-5, abs=1e-9)
        assert row["target_ci95_high"] == pytest.approx(engagement["ci95_high"], rel=1e-5)
        fates = data["multiqc_editcheck_read_fates_plot"][name]
        assert sum(fates.values()) == reads["input"]
        assert fates["edited"] == summary["edited"]["reads"]
        assert fates["unedited"] == reads["classified"] - summary["edited"]["reads"]
        assert fates["editable_base_masked"] == reads["editable_base_masked"]
    # The demo's known result (its truth: 40.9% of T1's reads carry the target conversion).
    assert table["T1"]["target_engagement_percent"] == pytest.approx(40.9778, abs=1e-4)

    calls = json.loads((report_folder / "panel" / "offtarget_calls.json").read_text())["sites"]
    sites = data["multiqc_editcheck_offtarget_table"]
    assert set(sites) == {site["site"] for site in calls}
    for site in calls:
        row = sites[site["site"]]
        assert row["call"] == site["call"]
        assert row["on_target"] == ("yes" if site["on_target"] else "no")
        assert row["excess_percent"] == pytest.approx(site["excess_percent"], rel=1e-5, abs=1e-9)
        assert (row["excess_ci95_low"], row["excess_ci95_high"]) == pytest.approx(
            site["excess_ci95"], rel=1e-5, abs=1e-9
        )
        assert row["treated_reads"] == site["treated_reads"] and row["control_reads"] == site["control_reads"]
    assert {row["call"] for row in sites.values()} == {"EDITED", "NOT_DETECTED"}
    html = (out / "multiqc_report.html").read_text()
    assert "On-target editing" in html and "Read fates" in html and "Off-target panel" in html


def test_without_a_target_base_the_table_has_no_target_columns(report_folder: Path, tmp_path: Path) -> None:
    from editcheck.report.multiqc import SUMMARY_NAME, write_multiqc
    from editcheck.results.sample_reader import load_ontarget

    sample = load_ontarget(report_folder / "T1")
    del sample.summary["base_editing"]  # as a nuclease's summary
    assert write_multiqc([sample], None, tmp_path) == [SUMMARY_NAME, "editcheck_read_fates_mqc.json"]
    lines = [line for line in (tmp_path / SUMMARY_NAME).read_text().splitlines() if not line.startswith("#")]
    assert lines[0].split("\t") == ["Sample", "amplicon", "reads", "aligned_percent", "classified", "edited_percent",
                                    "edited_ci95_low", "edited_ci95_high"]  # fmt: skip
    assert lines[1].split("\t")[:3] == ["T1", "product_A", "2000"]
