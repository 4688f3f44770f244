"""The modalities end to end through the command line: base editing, prime editing, pools, BAM input, UMIs."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pysam
import pytest
from click.testing import CliRunner

from editcheck import simulate
from editcheck.cli import main


def run(*args: object):
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_base_editor_outputs(tmp_path: Path) -> None:
    design = simulate.random_design(seed=2024, with_donor=False)
    simulate.simulate(design, 3000, tmp_path / "be.fastq.gz", base_editor=simulate.BaseEditorSpec(), seed=2)
    out = tmp_path / "out"
    result = run("quantify", "--r1", tmp_path / "be.fastq.gz", "-a", design.amplicon, "-g", design.guide,
                 "--base-editor", "ABE", "--target-protospacer-position", 5, "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    document = summary(out)
    engagement = document["base_editing"]["target"]["engagement"]
    assert 38 < engagement["percent"] < 46
    assert engagement["ci95_low"] < engagement["percent"] < engagement["ci95_high"]
    header = (out / "base_editing.tsv").read_text().splitlines()[0].split("\t")
    assert "converted_percent_of_reads" in header and "converted_percent_of_from_plus_to" in header


def test_base_editor_headline_leads_with_target_conversion(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="editcheck")
    design = simulate.random_design(seed=2024, with_donor=False)
    simulate.simulate(design, 1500, tmp_path / "be.fastq.gz", base_editor=simulate.BaseEditorSpec(), seed=2)
    out = tmp_path / "out"
    result = run("quantify", "--r1", tmp_path / "be.fastq.gz", "-a", design.amplicon, "-g", design.guide,
                 "--base-editor", "ABE", "--target-protospacer-position", 5, "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    document = summary(out)
    target, edited = document["base_editing"]["target"], document["edited"]
    engagement = target["engagement"]
    assert engagement["percent"] < edited["percent"]  # bystanders and indels are not target conversion
    message = next(record.getMessage() for record in caplog.records if "classified" in record.getMessage())
    expected = (f"target conversion A>G at {target['amplicon_position']} {engagement['percent']:.2f}% "
                f"(95% CI {engagement['ci95_low']:.2f}-{engagement['ci95_high']:.2f}; "
                f"{engagement['reads']}/{engagement['total']} reads); any change in the window "
                f"{edited['percent']:.2f}%")  # fmt: skip
    assert expected in message
    from editcheck.report.appendix import write_report

    write_report([out], None, tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text()
    summary_table = html[html.index("<h3>Per sample</h3>") : html.index("<h3>Outcomes</h3>")]
    assert summary_table.index("target conversion % (95% CI)") < summary_table.index("any change in the window")
    assert f"<strong>{engagement['percent']:.2f}</strong>" in summary_table


def test_target_must_be_the_editors_base(tmp_path: Path) -> None:
    design = simulate.random_design(seed=2024, with_donor=False)
    (tmp_path / "r.fastq").write_text(f"@r\n{design.amplicon}\n+\n{'I' * len(design.amplicon)}\n")
    result = run("quantify", "--r1", tmp_path / "r.fastq", "-a", design.amplicon, "-g", design.guide,
                 "--base-editor", "CBE", "--target-protospacer-position", 5, "-o", tmp_path / "out")  # fmt: skip
    assert result.exit_code == 1
    assert "not the editor's C" in result.stderr
    assert not (tmp_path / "out").exists()


def test_prime_edit_cli(tmp_path: Path) -> None:
    amplicon = simulate.random_design(seed=7, with_donor=False).amplicon
    spacer = amplicon[60:80]
    new_base = "A" if amplicon[77] != "A" else "C"
    edited = amplicon[:77] + new_base + amplicon[78:]  # a substitution right after the nick
    # extension = RTT + PBS (5'->3' on the pegRNA) = reverse complement of the new strand's flap
    flap = edited[64:77] + edited[77:90]
    extension = flap[::-1].translate(str.maketrans("ACGT", "TGCA"))
    reads = [edited] * 30 + [amplicon] * 70
    (tmp_path / "pe.fastq").write_text("".join(f"@r{i}\n{s}\n+\n{'I' * len(s)}\n" for i, s in enumerate(reads)))
    out = tmp_path / "out"
    result = run("quantify", "--r1", tmp_path / "pe.fastq", "-a", amplicon, "--pegrna-spacer", spacer,
                 "--pegrna-extension", extension, "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    outcomes = summary(out)["outcomes"]
    assert outcomes["prime_edit"]["reads"] == 30
    assert outcomes["unmodified"]["reads"] == 70


def test_pool_cli(tmp_path: Path) -> None:
    designs = simulate.random_pool(4, seed=11, near_identical_pairs=1)
    truth = simulate.simulate_pool(designs, 2000, tmp_path / "pool.fastq.gz", seed=1)
    sheet = tmp_path / "amplicons.tsv"
    sheet.write_text(
        "name\tamplicon\tguide\n" + "".join(f"a{i}\t{d.amplicon}\t{d.guide}\n" for i, d in enumerate(designs))
    )
    out = tmp_path / "out"
    result = run("quantify-pool", "--r1", tmp_path / "pool.fastq.gz", "--amplicons", sheet, "-o", out)
    assert result.exit_code == 0, result.output
    assignment = json.loads((out / "assignment.json").read_text())
    assert [assignment["assigned"][f"a{i}"] for i in range(4)] == pytest.approx(truth["reads_per_amplicon"], abs=10)
    assert (out / "a0" / "summary.tsv").exists()
    assert len((out / "pool_summary.tsv").read_text().splitlines()) == 5


def test_pool_sheet_unknown_column(tmp_path: Path) -> None:
    sheet = tmp_path / "amplicons.tsv"
    sheet.write_text("name\tamplicon\tcolour\na\tACGTACGTACGTACGTACGTACGT\tred\n")
    (tmp_path / "r.fastq").write_text("@r\nACGTACGTACGT\n+\nIIIIIIIIIIII\n")
    result = run("quantify-pool", "--r1", tmp_path / "r.fastq", "--amplicons", sheet, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "amplicons.tsv: unknown column 'colour'" in result.stderr


@pytest.fixture
def site_bam(tmp_path: Path) -> tuple[Path, Path, str, str]:
    """A coordinate-sorted, indexed BAM at a 600-bp contig: 20 reads of the reference and 10 with a 4-bp
    deletion at the cut, all spanning the site; returns (BAM, genome FASTA, site, guide)."""
    generator = random.Random(3)
    contig = "".join(generator.choice("ACGT") for _ in range(600))
    fasta = tmp_path / "genome.fa"
    fasta.write_text(f">chrS\n{contig}\n")
    site_start, site_end = 200, 400  # 0-based; guide inside, cut near 300
    guide = contig[280:300]
    lines = ["@HD\tVN:1.6\tSO:coordinate", f"@SQ\tSN:chrS\tLN:{len(contig)}"]
    for i in range(20):  # reads span the whole site: they start 185-194 and are 220 bp long
        start = 185 + i % 10
        lines.append(f"ok{i}\t0\tchrS\t{start + 1}\t60\t220M\t*\t0\t0\t{contig[start : start + 220]}\t*")
    for i in range(10):  # 4-bp deletion at the cut (after 0-based 296)
        sequence = contig[190:297] + contig[301:410]
        lines.append(f"del{i}\t16\tchrS\t191\t60\t107M4D109M\t*\t0\t0\t{sequence}\t*")
    sam = tmp_path / "reads.sam"
    sam.write_text("\n".join(lines) + "\n")
    bam = tmp_path / "reads.bam"
    pysam.sort("-o", str(bam), str(sam), catch_stdout=False)
    pysam.index(str(bam))
    return bam, fasta, f"chrS:{site_start + 1}-{site_end}", guide


def test_bam_site_cli(tmp_path: Path, site_bam: tuple[Path, Path, str, str]) -> None:
    bam, fasta, site, guide = site_bam
    out = tmp_path / "out"
    result = run("quantify", "--bam", bam, "--site", site, "--reference", fasta, "-g", guide, "-o", out)
    assert result.exit_code == 0, result.output
    document = summary(out)
    assert document["outcomes"]["modified"]["reads"] == 10
    assert document["outcomes"]["unmodified"]["reads"] == 20
    assert document["sample"] == "reads"
    assert "deprecated" not in result.stderr


def test_bam_as_r1_still_works_with_a_deprecation_warning(
    tmp_path: Path, site_bam: tuple[Path, Path, str, str]
) -> None:
    bam, fasta, site, guide = site_bam
    run("quantify", "--bam", bam, "--site", site, "--reference", fasta, "-g", guide, "-o", tmp_path / "new")
    result = run("quantify", "--r1", bam, "--site", site, "--reference", fasta, "-g", guide, "-o", tmp_path / "old")
    assert result.exit_code == 0, result.output
    assert "--r1 with --site is deprecated" in result.stderr and "--bam" in result.stderr
    for table in ("summary.json", "summary.tsv", "alleles.tsv", "positions.tsv", "indel_sizes.tsv"):
        assert (tmp_path / "old" / table).read_bytes() == (tmp_path / "new" / table).read_bytes(), table


@pytest.mark.parametrize(
    ("reads", "message"),
    [(["--bam", "{bam}", "--r1", "{bam}", "--site", "{site}"], "give --bam or --r1/--r2, not both"),
     (["--bam", "{bam}", "--r2", "{bam}", "--site", "{site}"], "give --bam or --r1/--r2, not both"),
     (["--bam", "{bam}"], "--bam needs --site chr:start-end"),
     (["--site", "{site}"], "--site needs --bam"),
     (["--r1", "{bam}", "--r2", "{bam}", "--site", "{site}"], "give it as --bam, without --r2"),
     ([], "give the reads: --r1 (and --r2) FASTQ, or --bam with --site")],
)  # fmt: skip
def test_bam_option_errors(
    tmp_path: Path, site_bam: tuple[Path, Path, str, str], reads: list[str], message: str
) -> None:
    bam, fasta, site, guide = site_bam
    arguments = [word.format(bam=bam, site=site) for word in reads]
    result = run("quantify", *arguments, "--reference", fasta, "-g", guide, "-o", tmp_path / "out")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


def test_umi_cli(tmp_path: Path) -> None:
    design = simulate.random_design(seed=2024, with_donor=False)
    truth = simulate.simulate(design, 3000, tmp_path / "umi.fastq.gz", umi_length=10, reads_per_molecule=4, seed=8)
    out = tmp_path / "out"
    result = run("quantify", "--r1", tmp_path / "umi.fastq.gz", "-a", design.amplicon, "-g", design.guide,
                 "--umi", "header", "--umi-length", 10, "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    molecules = summary(out)["molecules"]
    assert molecules["molecules"] == pytest.approx(truth["molecules"]["n"], abs=5)
    # A nuclease's substitutions are reported, not edits: the simulated substitution molecules are unmodified.
    expected = (
        truth["molecules"]["expected_classification"]["modified"] - truth["molecules"]["class_counts"]["substitution"]
    )
    assert molecules["outcomes"]["modified"]["reads"] == pytest.approx(expected, abs=5)


def test_nominate_cli_feeds_the_site_sheet(tmp_path: Path) -> None:
    from editcheck.offtarget.panel import read_site_sheet

    generator = random.Random(12)
    genome = [generator.choice("ACGT") for _ in range(30_000)]
    guide = "GGAATCCCTTCTGCAGCACC"
    off_target = "GGAATCCaTTCTGCAGgACC".upper()  # 2 mismatches
    genome[10_000:10_023] = list(guide + "AGG")
    genome[20_000:20_023] = list(off_target + "TGG")
    (tmp_path / "genome.fa").write_text(">chrA\n" + "".join(genome) + "\n")
    out = tmp_path / "nominated"
    result = run("nominate", "--genome", tmp_path / "genome.fa", "-g", guide, "-m", 3, "--flank", 60, "-o", out)
    assert result.exit_code == 0, result.output
    rows = (out / "candidates.tsv").read_text().splitlines()[1:]
    found = {(row.split("\t")[1], row.split("\t")[6]) for row in rows}
    assert ("10001", "0") in found and ("20001", "2") in found
    sites = read_site_sheet(out / "site_sheet.tsv")
    assert {len(site.design.amplicon.sequence) for site in sites} == {23 + 120}


def _bam(tmp_path: Path, name: str, contig: str, reads: list[tuple[int, str, str]]) -> Path:
    """A sorted, indexed BAM from (0-based start, CIGAR, sequence) records on chrP."""
    lines = ["@HD\tVN:1.6\tSO:coordinate", f"@SQ\tSN:chrP\tLN:{len(contig)}"]
    lines += [
        f"r{i}\t0\tchrP\t{start + 1}\t60\t{cigar}\t*\t0\t0\t{sequence}\t*"
        for i, (start, cigar, sequence) in enumerate(reads)
    ]
    sam = tmp_path / f"{name}.sam"
    sam.write_text("\n".join(lines) + "\n")
    bam = tmp_path / f"{name}.bam"
    pysam.sort("-o", str(bam), str(sam), catch_stdout=False)
    pysam.index(str(bam))
    return bam


def test_offtarget_panel_from_bam(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="editcheck")
    generator = random.Random(21)
    contig = "".join(generator.choice("ACGT") for _ in range(2000))
    (tmp_path / "genome.fa").write_text(f">chrP\n{contig}\n")
    # Two sites: A at 300-500 (guide 380-400), B at 1200-1400 (guide 1280-1300); only A is edited.
    sites = {"A": (300, 380), "B": (1200, 1280)}
    (tmp_path / "sites.tsv").write_text(
        "site_id\tprotospacer\tlocus\ton_target\n"
        + "".join(
            f"{name}\t{contig[g : g + 20]}\tchrP:{s + 1}-{s + 200}\t{'yes' if name == 'A' else 'no'}\n"
            for name, (s, g) in sites.items()
        )
    )
    samples = ["sample\tcondition\tbam"]
    for sample, edited in (("T1", 300), ("C1", 0)):
        reads = []
        for name, (start, guide) in sites.items():
            cut = guide + 17
            for i in range(1200):
                if name == "A" and i < edited:
                    reads.append((start - 10, f"{cut - start + 10}M2D{start + 210 - cut - 2}M",
                                  contig[start - 10:cut] + contig[cut + 2:start + 210]))  # fmt: skip
                else:
                    reads.append((start - 10, "220M", contig[start - 10 : start + 210]))
        samples.append(
            f"{sample}\t{'treated' if sample == 'T1' else 'control'}\t{_bam(tmp_path, sample, contig, reads).name}"
        )
    (tmp_path / "samples.tsv").write_text("\n".join(samples) + "\n")
    out = tmp_path / "out"
    result = run("offtarget", "--sites", tmp_path / "sites.tsv", "--samples", tmp_path / "samples.tsv",
                 "--reference", tmp_path / "genome.fa", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    calls = {row.split("\t")[0]: row.split("\t") for row in (out / "offtarget_calls.tsv").read_text().splitlines()[1:]}
    assert calls["A"][2] == "EDITED" and calls["A"][3:5] == ["300", "1200"]
    assert calls["B"][2] == "NOT_DETECTED"
    # Headlines count off-target sites only; the on-target site A is reported on its own.
    assert (
        "1 off-target site: 0 EDITED, 1 NOT_DETECTED, 0 INCONCLUSIVE; on-target A: EDITED (excess 25.00 pp"
        in caplog.text
    )
    from editcheck.report.appendix import write_report

    write_report([], out, tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text()
    assert "<p>1 off-target site;" in html
    assert '<span class="EDITED">0 edited</span>' in html and '<span class="NOT_DETECTED">1 not detected</span>' in html
    assert 'On-target site A (not counted above): <span class="EDITED">edited</span>, excess 25.00 pp' in html
