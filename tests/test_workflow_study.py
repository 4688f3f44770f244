"""The workflow runs a whole study (#12 item 2): several designs, subjects and time points in one run, each
sample quantified against its own design, a panel per design, one report for the whole study."""

from __future__ import annotations

import csv
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import editcheck
from editcheck import simulate

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

needs_snakemake = pytest.mark.skipif(
    shutil.which("snakemake", path=str(BIN)) is None and not (BIN / "snakemake").exists(),
    reason="snakemake is not installed: pip install -e '.[workflow]' to test the workflow",
)
DESIGN_SEEDS = {"A": 11, "B": 12}
# design -> (subject, edited fraction per time point); a mock per design.
SERIES = {
    "A": ("P1", {"28 d": 0.40, "84 d": 0.35, "182 d": 0.30}),
    "B": ("P2", {"1 mo": 0.20, "3 mo": 0.15, "6 mo": 0.10}),
}


def write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def make_study(folder: Path, reads: int = 300, panel: bool = False) -> Path:
    """A working folder with a 2-design, 2-subject, 3-time-point study (config.yaml, designs.tsv, samples.tsv)
    and simulated reads (nuclease edits at known rates); truth.json maps each sample to its design and rate."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reads").mkdir(exist_ok=True)
    designs, samples, truth = [], [], {}
    for design_id, seed in DESIGN_SEEDS.items():
        design = simulate.random_design(seed=seed, with_donor=False)
        sites = ""
        if panel:
            sites = f"sites_{design_id}.tsv"
            write_tsv(
                folder / sites,
                ["site_id", "amplicon", "protospacer"],
                [[f"ON_{design_id}", design.amplicon, design.guide]],
            )
        designs.append([design_id, design.amplicon, design.guide, sites])
        subject, points = SERIES[design_id]
        runs = [
            (f"{subject}_{point.replace(' ', '')}", "treated", subject, point, rate) for point, rate in points.items()
        ]
        runs.append((f"mock_{design_id}", "control", "", "", 0.0))
        for number, (name, condition, who, point, rate) in enumerate(runs):
            mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate, insertion=0.0, substitution=0.0, hdr=0.0)
            path = folder / "reads" / f"{name}.fastq.gz"
            simulate.simulate(design, reads, path, mix=mix, error_rate=0.001, seed=100 * seed + number)
            model = "clinical" if who else "cell_line"
            samples.append(
                [
                    name,
                    design_id,
                    condition,
                    "1",
                    "",
                    f"reads/{name}.fastq.gz",
                    who,
                    model,
                    "liver",
                    point,
                    "1e13 vg/kg",
                    f"lot-{design_id}",
                ]
            )
            truth[name] = {"design": design_id, "amplicon": design.amplicon, "edited": rate}
        if panel:
            for condition in ("treated", "control"):
                samples.append([f"panel_{design_id}_{condition}", design_id, condition, "1", "off_target_panel",
                                f"reads/{runs[0][0]}.fastq.gz", "", "", "", "", "", ""])  # fmt: skip
    write_tsv(folder / "designs.tsv", ["design_id", "amplicon", "guide", "offtarget_sites"], designs)
    header = [
        "sample",
        "design_id",
        "condition",
        "replicate",
        "assay",
        "r1",
        "subject",
        "model",
        "tissue",
        "time_point",
        "dose",
        "batch",
    ]
    write_tsv(folder / "samples.tsv", header, samples)
    (folder / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    config = {"study": {"designs": str(folder / "designs.tsv"), "samples": str(folder / "samples.tsv")},
              "report": {"title": "study test"}}  # fmt: skip
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return folder


def run_snakemake(workdir: Path, *args: str, configfile: Path | None = None) -> subprocess.CompletedProcess[str]:
    # Snakemake's Python imports editcheck to read a study: the editcheck under test, whatever the working folder.
    source = str(Path(editcheck.__file__).resolve().parents[1])
    python_path = os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONPATH": python_path}
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(configfile or workdir / "config.yaml"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def quantify(*args: object) -> tuple[int, str]:
    from click.testing import CliRunner

    from editcheck.cli import main

    result = CliRunner().invoke(main, ["quantify", *(str(arg) for arg in args)], catch_exceptions=False)
    return result.exit_code, result.output


def test_metadata_columns_appear_unchanged_in_summary(tmp_path: Path) -> None:
    """--metadata (a study sheet's columns) become summary.tsv columns and summary.json's metadata, as written."""
    folder = make_study(tmp_path / "study", reads=200)
    metadata = [("design_id", "A"), ("subject", "P1"), ("time_point", "28 d"), ("tissue", ""), ("dose", "1e13 vg/kg"),
                ("Zelltyp (Ärztin)", "Hepatozyt; 2 = zwei")]  # fmt: skip
    options = [word for key, value in metadata for word in ("--metadata", f"{key}={value}")]
    code, output = quantify("--r1", folder / "reads" / "P1_28d.fastq.gz", "--design-sheet", folder / "designs.tsv",
                            "--design", "A", *options, "-t", 1, "-o", tmp_path / "out")  # fmt: skip
    assert code == 0, output
    table = read_tsv(tmp_path / "out" / "summary.tsv")
    assert list(table[0])[-len(metadata) :] == [key for key, _ in metadata]
    assert all([row[key] for key, _ in metadata] == [value for _, value in metadata] for row in table)
    edited = next(row for row in table if row["name"] == "edited")
    assert (edited["reads"], edited["total"]) == ("80", "200")  # 40% of 200 simulated reads
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["metadata"] == dict(metadata) and summary["metadata_columns"] == [key for key, _ in metadata]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["-g", "ACGTACGTACGTACGTACGT"], "the design comes from --design-sheet; leave out --guide"),
     (["--cut-offset", "3"], "leave out --cut-offset"),
     (["--metadata", "sample=X"], "metadata column 'sample' is a column of summary.tsv; rename it"),
     (["--metadata", "novalue"], "--metadata 'novalue': give KEY=VALUE")],
)  # fmt: skip
def test_design_sheet_replaces_the_design_options(tmp_path: Path, args: list[str], message: str) -> None:
    folder = make_study(tmp_path / "study", reads=50)
    code, output = quantify("--r1", folder / "reads" / "P1_28d.fastq.gz", "--design-sheet", folder / "designs.tsv",
                            "--design", "A", *args, "-t", 1, "-o", tmp_path / "out")  # fmt: skip
    assert code != 0 and message in output, output
    assert not (tmp_path / "out").exists()


@needs_snakemake
def test_dry_run_plans_every_sample_against_its_own_design(tmp_path: Path) -> None:
    """2 designs, 2 subjects x 3 time points, a mock each, a panel each: 8 quantify jobs, 2 panels, 1 report,
    1 package."""
    folder = make_study(tmp_path, reads=20, panel=True)
    result = run_snakemake(folder, "--dry-run", "--printshellcmds")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    counts = {}
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit() and not fields[0].endswith(":"):
            counts[fields[0]] = int(fields[1])
    assert counts == {"quantify_ontarget": 8, "study_sample_sheet": 2, "offtarget_panel": 2, "build_report": 1,
                      "export_package": 1, "record_config": 1, "all": 1, "total": 16}  # fmt: skip
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    commands = {
        line.split("--sample ")[1].split()[0]: line
        for line in result.stdout.splitlines()
        if "editcheck quantify" in line
    }
    assert sorted(commands) == sorted(truth)
    for sample, line in commands.items():
        assert f"--design-sheet {folder / 'designs.tsv'} --design {truth[sample]['design']} " in line
        assert f"--metadata design_id={truth[sample]['design']} " in line and "--metadata batch=lot-" in line
    assert "--metadata 'time_point=84 d'" in commands["P1_84d"] and "--metadata 'time_point=6 mo'" in commands["P2_6mo"]
    for design in ("A", "B"):
        assert f"--samples results/study/{design}/panel_samples.tsv" in result.stdout
        assert f"--offtarget results/offtarget/{design} " in result.stdout
    report = next(line for line in result.stdout.splitlines() if "editcheck report" in line)
    assert f"--study-designs {folder / 'designs.tsv'} --study-samples {folder / 'samples.tsv'}" in report
    assert "-o results/report " in report and report.count("--ontarget ") == 8
    # Every job runs Snakemake's own editcheck (`python -m editcheck`), never whatever `editcheck` PATH holds.
    jobs = [line.split("Shell command: ")[-1].strip() for line in result.stdout.splitlines() if " -o " in line]
    assert len(jobs) == 8 + 2 + 1 + 1, jobs
    assert all(job.startswith(f"{shlex.quote(sys.executable)} -m editcheck ") for job in jobs), jobs


@needs_snakemake
def test_a_two_design_study_runs_each_sample_against_its_design(tmp_path: Path) -> None:
    folder = make_study(tmp_path, reads=200)
    result = run_snakemake(folder, "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    sheet = {row["sample"]: row for row in read_tsv(folder / "samples.tsv")}
    for sample, expected in truth.items():
        summary = json.loads((folder / "results" / "ontarget" / sample / "summary.json").read_text(encoding="utf-8"))
        assert summary["design"]["amplicon"] == expected["amplicon"]
        assert summary["design"]["amplicon_name"] == expected["design"]
        assert summary["reads"]["classified"] == 200
        assert abs(summary["edited"]["percent"] - 100 * expected["edited"]) < 1.0
        table = read_tsv(folder / "results" / "ontarget" / sample / "summary.tsv")
        columns = [column for column in sheet[sample] if column not in ("sample", "r1")]
        assert list(table[0])[-len(columns) :] == columns
        assert all(row[column] == sheet[sample][column] for row in table for column in columns)
    # One report for the study: every sample, each design's conditions pooled apart, the evidence per subject.
    report = read_tsv(folder / "results" / "report" / "summary.tsv")
    assert {row["sample"] for row in report} == set(truth)
    conditions = read_tsv(folder / "results" / "report" / "conditions.tsv")
    assert {(row["amplicon"], row["condition"]) for row in conditions} == {
        (d, c) for d in "AB" for c in ("treated", "control")
    }
    evidence = read_tsv(folder / "results" / "report" / "evidence.tsv")
    assert {(row["design_id"], row["subject"], row["result"]) for row in evidence} == {
        ("A", "P1", "PASS"),
        ("B", "P2", "PASS"),
    }
    html = (folder / "results" / "report" / "report.html").read_text(encoding="utf-8")
    assert html.count('class="allele-view"') == len(truth) and 'id="design-A"' in html and 'id="design-B"' in html
    from editcheck.report.pdf import find_chromium

    assert (folder / "results" / "report" / "report.pdf").is_file() == (find_chromium() is not None)


@needs_snakemake
@pytest.mark.parametrize(
    ("sheet", "column", "value", "message"),
    [("samples.tsv", "design_id", "C", "samples.tsv: record 1: sample P1_28d: unknown design_id 'C' (designs: A, B)"),
     ("samples.tsv", "time_point", "28", "samples.tsv: record 1: sample P1_28d: time_point '28' has no unit"),
     ("samples.tsv", "batch", None, "samples.tsv: column 'percent' is a column of summary.tsv"),
     ("designs.tsv", "guide", "ACGTACGTACGTACGTACGA", "designs.tsv: record 1: design A: guide ACGTACGTACGTACGTACGA is not in the amplicon")],
)  # fmt: skip
def test_a_bad_study_sheet_stops_the_workflow_with_one_line(
    tmp_path: Path, sheet: str, column: str, value: str | None, message: str
) -> None:
    folder = make_study(tmp_path, reads=20)
    table = read_tsv(folder / sheet)
    if value is None:
        table = [{("percent" if key == column else key): cell for key, cell in row.items()} for row in table]
    else:
        table[0][column] = value
    write_tsv(folder / sheet, list(table[0]), [list(row.values()) for row in table])
    result = run_snakemake(folder, "--dry-run")
    assert result.returncode != 0
    assert f"{folder}/{message}" in result.stdout + result.stderr, (result.stdout + result.stderr)[-3000:]
    assert "Traceback" not in result.stdout + result.stderr


@needs_snakemake
def test_the_bundled_demo_study_config_plans_its_jobs(tmp_path: Path) -> None:
    """config/config.yaml (the demo study) as README runs it: its sheets' relative paths resolve; every sample
    of both designs is quantified, product A gets its panel, and the study its report."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    (tmp_path / "test_data").symlink_to(REPO / "test_data")
    result = run_snakemake(tmp_path, "--dry-run", configfile=tmp_path / "config" / "config.yaml")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "report.html" in result.stdout and "results/offtarget/A/offtarget_calls.json" in result.stdout
    assert "results/offtarget/B/" not in result.stdout
    for sample in ("T1", "M1", "P01_1mo_1", "P02_12mo_2", "B_T1", "B_M1"):
        assert f"results/ontarget/{sample}/summary.json" in result.stdout


@needs_snakemake
def test_the_single_design_config_sets_the_demo_study_aside(tmp_path: Path) -> None:
    """config/single_design.yaml, given with --configfile from the repository root: Snakemake merges the study of
    config/config.yaml under it; the one-design run wins (study: null). A config giving both is refused."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    (tmp_path / "test_data").symlink_to(REPO / "test_data")
    result = run_snakemake(tmp_path, "--dry-run", configfile=tmp_path / "config" / "single_design.yaml")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "results/report/report.html" in result.stdout and "results/offtarget/offtarget_calls.json" in result.stdout
    assert "P01_1mo_1" not in result.stdout and "results/report/A/" not in result.stdout
    both = yaml.safe_load((tmp_path / "config" / "single_design.yaml").read_text(encoding="utf-8"))
    both["study"] = {"designs": "config/designs.tsv", "samples": "config/study_samples.tsv"}
    (tmp_path / "both.yaml").write_text(yaml.safe_dump(both), encoding="utf-8")
    result = run_snakemake(tmp_path, "--dry-run", configfile=tmp_path / "both.yaml")
    assert result.returncode != 0
    assert "config: give study (a whole study) or ontarget (one design), not both" in result.stdout + result.stderr
    without = yaml.safe_load((tmp_path / "config" / "single_design.yaml").read_text(encoding="utf-8"))
    del without["study"], without["offtarget"]  # a one-design config of before: its ontarget wins, with a note

    (tmp_path / "old.yaml").write_text(yaml.safe_dump(without), encoding="utf-8")
    result = run_snakemake(tmp_path, "--dry-run", configfile=tmp_path / "old.yaml")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "a one-design run (ontarget); ignoring the study of config/config.yaml" in result.stderr
    assert "results/report/report.html" in result.stdout and "offtarget_panel" not in result.stdout


@needs_snakemake
def test_write_vcf_merges_each_designs_samples_into_a_study_vcf(tmp_path: Path, external_tool) -> None:
    """study: write_vcf: each design's on-target samples' edits.vcf.gz merged into results/merged_vcf/vcf_<design>/
    (one sample column per sample, in the sheet's order, each as in its own file), packaged with the VCFs."""
    from editcheck.results.vcf import read_vcf_samples

    folder = make_study(tmp_path, reads=200)
    config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    config["study"]["write_vcf"] = True
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = run_snakemake(folder, "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    sheet = read_tsv(folder / "samples.tsv")
    bcftools = external_tool("bcftools")
    for design in ("A", "B"):
        merged = folder / "results" / "merged_vcf" / f"vcf_{design}"
        _, names, records = read_vcf_samples(merged / "edits.vcf.gz")
        assert names == [
            row["sample"] for row in sheet if row["design_id"] == design and row["assay"] != "off_target_panel"
        ]
        assert records and (merged / "edits.vcf.gz.tbi").is_file() and (merged / "amplicon.fa").is_file()
        by_key = {(r["POS"], r["REF"], r["ALT"]): r["sample_columns"] for r in records}
        for index, name in enumerate(names):
            _, _, own = read_vcf_samples(folder / "results" / "ontarget" / name / "edits.vcf.gz")
            for record in own:
                assert by_key[(record["POS"], record["REF"], record["ALT"])][index] == record["sample_columns"][0]
            assert sum(not set(columns[index]) <= {".", ":"} for columns in by_key.values()) == len(own)
        subprocess.run([bcftools, "view", "-H", str(merged / "edits.vcf.gz")], check=True, capture_output=True)
        packaged = folder / "results" / "package" / "results" / f"vcf_{design}" / "edits.vcf.gz"
        assert packaged.read_bytes() == (merged / "edits.vcf.gz").read_bytes()


def _genome_bam(path: Path, reads: Path, contig: str, genome: str, offset: int) -> None:
    """The FASTQ reads as a coordinate-sorted, indexed BAM on ``contig``, every read placed at ``offset``."""
    import gzip

    import pysam

    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": contig, "LN": len(genome)}]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam, gzip.open(reads, "rt") as handle:
        lines = handle.read().splitlines()
        for index in range(0, len(lines), 4):
            segment = pysam.AlignedSegment()
            segment.query_name = lines[index][1:].split()[0]
            segment.query_sequence = lines[index + 1]
            segment.flag, segment.reference_id, segment.reference_start = 0, 0, offset
            segment.mapping_quality = 60
            segment.cigartuples = [(0, len(lines[index + 1]))]
            segment.query_qualities = pysam.qualitystring_to_array(lines[index + 3])
            bam.write(segment)
    pysam.index(str(path))


@needs_snakemake
def test_write_vcf_merges_a_design_mixing_fastq_and_bam_per_coordinate_system(tmp_path: Path, external_tool) -> None:
    """A design with FASTQ samples (VCF on the amplicon) and a genome-aligned BAM sample (VCF on chrG) gets two
    study VCFs, results/merged_vcf/vcf_A_amplicon (the FASTQ samples) and vcf_A_genome (the BAM sample), instead
    of a merge that refuses files of two coordinate systems and stops the workflow; both are packaged."""
    from editcheck.results.vcf import read_vcf_samples

    design = simulate.random_design(seed=DESIGN_SEEDS["A"], with_donor=False)
    (tmp_path / "reads").mkdir()
    rows = []
    for number, (name, condition, rate) in enumerate([("T1", "treated", 0.4), ("mock", "control", 0.0),
                                                      ("T2", "treated", 0.3)]):  # fmt: skip
        mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate, insertion=0.0, substitution=0.0, hdr=0.0)
        simulate.simulate(design, 150, tmp_path / "reads" / f"{name}.fastq.gz", mix=mix, error_rate=0.001,
                          read_length=len(design.amplicon), seed=700 + number)  # fmt: skip
        rows.append([name, "A", condition, str(number + 1), f"reads/{name}.fastq.gz", "", ""])
    generator = random.Random(5)
    flank = "".join(generator.choice("ACGT") for _ in range(300))
    genome, offset = flank + design.amplicon + flank, len(flank)
    _genome_bam(tmp_path / "reads" / "T2.bam", tmp_path / "reads" / "T2.fastq.gz", "chrG", genome, offset)
    rows[2][4:] = ["", "reads/T2.bam", f"chrG:{offset + 1}-{offset + len(design.amplicon)}"]
    write_tsv(tmp_path / "designs.tsv", ["design_id", "amplicon", "guide"], [["A", design.amplicon, design.guide]])
    write_tsv(tmp_path / "samples.tsv", ["sample", "design_id", "condition", "replicate", "r1", "bam", "locus"], rows)
    config = {"study": {"designs": str(tmp_path / "designs.tsv"), "samples": str(tmp_path / "samples.tsv"),
                        "write_vcf": True}}  # fmt: skip
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = run_snakemake(tmp_path, "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    merged = tmp_path / "results" / "merged_vcf"
    assert sorted(path.name for path in merged.iterdir()) == ["vcf_A_amplicon", "vcf_A_genome"]
    bcftools = external_tool("bcftools")
    for folder, names, contig in (("vcf_A_amplicon", ["T1", "mock"], "A"), ("vcf_A_genome", ["T2"], "chrG")):
        _, merged_names, records = read_vcf_samples(merged / folder / "edits.vcf.gz")
        assert merged_names == names
        assert records and {record["#CHROM"] for record in records} == {contig}
        for index, name in enumerate(names):
            _, _, own = read_vcf_samples(tmp_path / "results" / "ontarget" / name / "edits.vcf.gz")
            by_key = {(r["POS"], r["REF"], r["ALT"]): r["sample_columns"][index] for r in records}
            assert {(r["POS"], r["REF"], r["ALT"]): r["sample_columns"][0] for r in own}.items() <= by_key.items()
        subprocess.run([bcftools, "view", "-H", str(merged / folder / "edits.vcf.gz")], check=True, capture_output=True)
        packaged = tmp_path / "results" / "package" / "results" / folder / "edits.vcf.gz"
        assert packaged.read_bytes() == (merged / folder / "edits.vcf.gz").read_bytes()
    assert (merged / "vcf_A_amplicon" / "amplicon.fa").is_file() and not (
        merged / "vcf_A_genome" / "amplicon.fa"
    ).exists()
