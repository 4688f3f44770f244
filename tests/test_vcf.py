"""Edits as VCF (`quantify --write-vcf`): records against the simulator's truth, bcftools accepting every file."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pysam
import pytest
from click.testing import CliRunner

from editcheck import simulate
from editcheck.cli import main
from editcheck.results.vcf import normalise, parse_event, read_vcf
from editcheck.statistics.intervals import wilson_interval

N_READS = 3000
MIX = simulate.OutcomeMix(
    unmodified=0.5, deletion=0.22, insertion=0.10, substitution=0.05, hdr=0.08, large_deletion=0.05
)


def _cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--debug", *(str(arg) for arg in args)], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Error-free reads (so every count is exact) with deletions, insertions, substitutions, HDR, large deletions."""
    folder = tmp_path_factory.mktemp("vcf_sim")
    design = simulate.random_design(seed=2024)
    truth = simulate.simulate(design, N_READS, folder / "r1.fastq.gz", mix=MIX, error_rate=0.0, seed=11)
    return folder / "r1.fastq.gz", truth


def expected_records(truth: dict, offset: int = 0) -> Counter[tuple[int, str, str]]:
    """(POS, REF, ALT) -> reads from the simulator's own events: indels at their leftmost equivalent place
    (the simulator's ``leftmost_start0``), padded with the base before them."""
    amplicon = truth["design"]["amplicon"]
    expected: Counter[tuple[int, str, str]] = Counter()
    for allele in truth["alleles"]:
        for event in allele["events"]:
            if event["type"] == "substitution":
                key = (event["position"], event["ref"], event["alt"])
            elif event["type"] == "deletion":
                start, length = event["leftmost_start0"], event["length"]
                assert start > 0
                key = (start, amplicon[start - 1 : start + length], amplicon[start - 1])
            else:
                start, length = event["leftmost_start0"], event["length"]
                key = (start, amplicon[start - 1], amplicon[start - 1] + allele["sequence"][start : start + length])
            expected[(key[0] + offset, key[1], key[2])] += allele["reads"]
    return expected


def observed_records(path: Path) -> Counter[tuple[int, str, str]]:
    _, records = read_vcf(path)
    return Counter({(int(r["POS"]), r["REF"], r["ALT"]): int(r["info"]["READS"]) for r in records})


def check_with_bcftools(external_tool, vcf: Path, fasta: Path) -> None:
    """bcftools reads the file and finds every REF in the FASTA, with nothing left to left-align."""
    bcftools = external_tool("bcftools")
    subprocess.run([bcftools, "view", "-H", str(vcf)], check=True, capture_output=True)
    norm = subprocess.run([bcftools, "norm", "--check-ref", "e", "-f", str(fasta), "-Ov", "-o", "/dev/null", str(vcf)],
                          capture_output=True, text=True)  # fmt: skip
    assert norm.returncode == 0, norm.stderr
    records = len(read_vcf(vcf)[1])
    # "Lines total/split/realigned/skipped": no record needed realigning, so editcheck left-normalised every one
    assert f"{records}/0/0/0" in norm.stderr, norm.stderr


def test_amplicon_vcf_matches_truth_and_bcftools_accepts_it(simulated, tmp_path, external_tool):
    reads, truth = simulated
    design = truth["design"]
    out = tmp_path / "sample"
    code, output = _cli("quantify", "--r1", reads, "-a", design["amplicon"], "-g", design["guide"], "-e",
                        design["donor_amplicon"], "--sample", "S1", "--write-vcf", "-o", out)  # fmt: skip
    assert code == 0, output
    vcf = out / "edits.vcf.gz"
    assert {path.name for path in out.iterdir()} >= {
        "edits.vcf.gz",
        "edits.vcf.gz.tbi",
        "amplicon.fa",
        "amplicon.fa.fai",
    }
    expected = expected_records(truth)
    # the truth holds deletions in repeats (leftmost != rightmost): left-normalisation is exercised
    assert any(event["leftmost_start0"] < event["rightmost_start0"] for allele in truth["alleles"]
               for event in allele["events"] if event["type"] == "deletion" and allele["reads"])  # fmt: skip
    assert observed_records(vcf) == expected
    meta, records = read_vcf(vcf)
    assert "##source=editcheck 0.1.0" in meta and not any("date" in line.lower() for line in meta)
    assert f"##contig=<ID=Reference,length={len(design['amplicon'])}>" in meta
    positions = [int(record["POS"]) for record in records]
    assert positions == sorted(positions)
    for record in records:
        info = record["info"]
        carrying = int(info["READS"])
        assert int(info["CLASSIFIED"]) == N_READS
        low, high = wilson_interval(carrying, N_READS)
        assert float(info["AF"]) == pytest.approx(carrying / N_READS, rel=1e-5)
        assert (float(info["AF_CI95_LOW"]), float(info["AF_CI95_HIGH"])) == pytest.approx((low, high), rel=1e-5)
        assert sum(int(n) for n in info["OUTCOME_READS"].split(",")) == carrying
        assert record["sample"] == {"AO": info["READS"], "DP": str(N_READS), "AF": info["AF"]}
        for label in info["EVENT"].split(","):  # the cut-placed event normalises to this record
            assert normalise(parse_event(label), design["amplicon"]) == (
                int(record["POS"]),
                record["REF"],
                record["ALT"],
            )
    hdr = truth["class_counts"]["hdr"]
    donor = [r for r in records if r["info"]["OUTCOMES"] == "hdr"]  # HDR reads re-aligned to the amplicon
    assert donor and all(int(r["info"]["READS"]) == hdr for r in donor)
    check_with_bcftools(external_tool, vcf, out / "amplicon.fa")
    samtools = external_tool("samtools")
    copy = tmp_path / "copy.fa"
    shutil.copy(out / "amplicon.fa", copy)
    subprocess.run([samtools, "faidx", str(copy)], check=True)
    assert (tmp_path / "copy.fa.fai").read_bytes() == (out / "amplicon.fa.fai").read_bytes()

    # --vcf-min-reads drops rarer events; the same inputs give the same bytes
    again = tmp_path / "again"
    code, output = _cli("quantify", "--r1", reads, "-a", design["amplicon"], "-g", design["guide"], "-e",
                        design["donor_amplicon"], "--sample", "S2", "--write-vcf", "--vcf-min-reads", 50, "-o", again)  # fmt: skip
    assert code == 0, output
    assert observed_records(again / "edits.vcf.gz") == Counter({k: v for k, v in expected.items() if v >= 50})
    assert 0 < len(read_vcf(again / "edits.vcf.gz")[1]) < len(records)
    check_with_bcftools(external_tool, again / "edits.vcf.gz", again / "amplicon.fa")
    rerun = tmp_path / "rerun"
    _cli("quantify", "--r1", reads, "-a", design["amplicon"], "-g", design["guide"], "-e", design["donor_amplicon"],
         "--sample", "S1", "--write-vcf", "-o", rerun)  # fmt: skip
    for name in ("edits.vcf.gz", "edits.vcf.gz.tbi", "amplicon.fa", "amplicon.fa.fai"):
        assert (rerun / name).read_bytes() == (out / name).read_bytes(), name

    # a study VCF: bcftools merges the per-sample files, each sample's counts kept in FORMAT
    bcftools = external_tool("bcftools")
    merged = tmp_path / "study.vcf"
    subprocess.run(
        [bcftools, "merge", "-m", "none", "-Ov", "-o", str(merged), str(vcf), str(again / "edits.vcf.gz")], check=True
    )
    lines = [line.split("\t") for line in merged.read_text().splitlines() if not line.startswith("##")]
    assert lines[0][9:] == ["S1", "S2"]
    common = {key for key, reads in expected.items() if reads >= 50}
    rows = {(int(row[1]), row[3], row[4]): row for row in lines[1:]}
    assert set(rows) == set(expected)
    for key in common:
        assert rows[key][10].split(":")[0] == rows[key][9].split(":")[0] == str(expected[key])


def _genome(truth: dict, flank: int) -> tuple[str, int]:
    rng = random.Random(5)
    left = "".join(rng.choice("ACGT") for _ in range(flank))
    right = "".join(rng.choice("ACGT") for _ in range(200))
    return left + truth["design"]["amplicon"] + right, flank


def _bam(path: Path, reads: Path, contig: str, length: int, offset: int) -> None:
    """The FASTQ reads as a coordinate-sorted, indexed BAM, every read placed at the amplicon's start."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": contig, "LN": length}]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam, gzip.open(reads, "rt") as handle:
        lines = handle.read().splitlines()
        for index in range(0, len(lines), 4):
            segment = pysam.AlignedSegment()
            segment.query_name = lines[index][1:].split()[0]
            segment.query_sequence = lines[index + 1]
            segment.flag = 0
            segment.reference_id = 0
            segment.reference_start = offset
            segment.mapping_quality = 60
            segment.cigartuples = [(0, len(lines[index + 1]))]
            segment.query_qualities = pysam.qualitystring_to_array(lines[index + 3])
            bam.write(segment)
    pysam.index(str(path))


def test_genome_aligned_input_gives_genome_coordinates(simulated, tmp_path, external_tool):
    reads, truth = simulated
    genome, offset = _genome(truth, 300)
    fasta = tmp_path / "genome.fa"
    fasta.write_text(f">chrT\n{genome}\n")
    pysam.faidx(str(fasta))
    bam = tmp_path / "reads.bam"
    _bam(bam, reads, "chrT", len(genome), offset)
    site = f"chrT:{offset + 1}-{offset + len(truth['design']['amplicon'])}"
    out = tmp_path / "genome_sample"
    code, output = _cli("quantify", "--bam", bam, "--site", site, "--reference", fasta, "-g", truth["design"]["guide"],
                        "-e", truth["design"]["donor_amplicon"], "--write-vcf", "-o", out)  # fmt: skip
    assert code == 0, output
    vcf = out / "edits.vcf.gz"
    assert observed_records(vcf) == expected_records(truth, offset)
    meta, records = read_vcf(vcf)
    assert f"##contig=<ID=chrT,length={len(genome)}>" in meta
    assert {record["#CHROM"] for record in records} == {"chrT"}
    assert not (out / "amplicon.fa").exists()  # the genome is the reference
    check_with_bcftools(external_tool, vcf, fasta)

    # an amplicon that is not the genome's forward-strand sequence at the site cannot be placed: one line, no output
    from editcheck.sequences import reverse_complement

    wrong = tmp_path / "wrong"
    result = CliRunner().invoke(main, ["quantify", "--bam", str(bam), "--site", site, "--reference", str(fasta), "-a",
                                       reverse_complement(truth["design"]["amplicon"]), "--write-vcf", "-o", str(wrong)])  # fmt: skip
    assert result.exit_code == 1
    assert "genome's forward strand" in result.output and len(result.output.strip().splitlines()) == 1
    assert not wrong.exists()


def test_workflow_option_write_vcf_passes_the_flag(tmp_path):
    """config ontarget.write_vcf (off by default) adds --write-vcf to every quantify job."""
    import yaml

    from test_workflow import make_workdir, needs_snakemake, run_snakemake  # the workflow tests' demo helpers

    if needs_snakemake.args[0]:
        pytest.skip(needs_snakemake.kwargs["reason"])
    workdir = make_workdir(tmp_path, offtarget=False)
    default = run_snakemake(workdir, "--dry-run", "--printshellcmds")
    assert default.returncode == 0, default.stderr[-2000:]
    assert "editcheck quantify" in default.stdout and "--write-vcf" not in default.stdout
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["ontarget"]["write_vcf"] = True
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    with_vcf = run_snakemake(workdir, "--dry-run", "--printshellcmds")
    assert with_vcf.returncode == 0, with_vcf.stderr[-2000:]
    commands = [line for line in with_vcf.stdout.splitlines() if "editcheck quantify" in line]
    assert commands and all("--write-vcf" in line for line in commands)


def test_user_names_in_the_vcf(simulated, tmp_path, external_tool):
    """An amplicon name that is no valid contig ID becomes a safe one (also in amplicon.fa); a sample name that
    cannot be a VCF column is a one-line error and nothing is written."""
    reads, truth = simulated
    amplicon = truth["design"]["amplicon"]
    out = tmp_path / "named"
    code, output = _cli("quantify", "--r1", reads, "-a", amplicon, "--amplicon-name", "EMX1 site <1>", "-g",
                        truth["design"]["guide"], "--sample", "#S 1", "--write-vcf", "-o", out)  # fmt: skip
    assert code == 0, output
    meta, records = read_vcf(out / "edits.vcf.gz")
    contig = records[0]["#CHROM"]
    assert contig.startswith("EMX1_site__1__") and f"##contig=<ID={contig},length={len(amplicon)}>" in meta
    assert (out / "amplicon.fa").read_text() == f">{contig}\n{amplicon}\n"
    check_with_bcftools(external_tool, out / "edits.vcf.gz", out / "amplicon.fa")
    bad = tmp_path / "bad"
    result = CliRunner().invoke(main, ["quantify", "--r1", str(reads), "-a", amplicon, "--sample", "S\t1",
                                       "--write-vcf", "-o", str(bad)])  # fmt: skip
    assert result.exit_code == 1 and "cannot name a VCF sample column" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not bad.exists()
