"""Aligned reads as BAM (`quantify --write-bam`): every unique read once, placed and tagged as editcheck called
it, checked against the simulator's truth, the alleles table, samtools and pysam."""

from __future__ import annotations

import gzip
import json
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
from editcheck.results.bam import read_bam
from editcheck.sequences import reverse_complement
from test_vcf import _bam, _genome

N_READS = 2000
MIX = simulate.OutcomeMix(
    unmodified=0.5, deletion=0.22, insertion=0.10, substitution=0.05, hdr=0.08, large_deletion=0.05
)
JUNK = 7
"""Reads of random sequence added to the simulated ones: they do not align and must be written unmapped."""


def _cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--debug", *(str(arg) for arg in args)], catch_exceptions=False)
    return result.exit_code, result.output


def _fastq_reads(path: Path) -> list[str]:
    with gzip.open(path, "rt") as handle:
        return handle.read().splitlines()[1::4]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Error-free reads (so every placement is exact) with indels, substitutions, HDR, large deletions, and
    a few junk reads that do not align."""
    folder = tmp_path_factory.mktemp("bam_sim")
    design = simulate.random_design(seed=2024)
    truth = simulate.simulate(design, N_READS, folder / "sim.fastq.gz", mix=MIX, error_rate=0.0, seed=11)
    rng = random.Random(3)
    with gzip.open(folder / "sim.fastq.gz", "rt") as handle:
        text = handle.read()
    for index in range(JUNK):
        junk = "".join(rng.choice("ACGT") for _ in range(150))
        text += f"@junk{index}\n{junk}\n+\n{'I' * len(junk)}\n"
    with gzip.open(folder / "r1.fastq.gz", "wt") as handle:
        handle.write(text)
    return folder / "r1.fastq.gz", truth


def _design_options(truth: dict) -> list[str]:
    return ["-g", truth["design"]["guide"], "-e", truth["design"]["donor_amplicon"]]


def _deletions(cigar: list[tuple[int, int]], start: int) -> list[tuple[int, int]]:
    """(0-based reference start, length) of every deletion of a CIGAR."""
    found, position = [], start
    for code, length in cigar:
        if code == 2:
            found.append((position, length))
        if code in (0, 2, 7, 8):
            position += length
    return found


def test_bam_holds_every_unique_read_as_called(simulated, tmp_path, external_tool):
    reads, truth = simulated
    samtools = external_tool("samtools")
    amplicon = truth["design"]["amplicon"]
    out = tmp_path / "sample"
    code, output = _cli("quantify", "--r1", reads, "-a", amplicon, *_design_options(truth), "--write-bam", "-o", out)
    assert code == 0, output
    bam = out / "reads.bam"
    subprocess.run([samtools, "quickcheck", "-v", str(bam)], check=True)
    assert (out / "reads.bam.bai").is_file()
    assert (out / "amplicon.fa").read_text() == f">Reference\n{amplicon}\n"
    assert (
        out / "amplicon.fa.fai"
    ).read_text() == f"Reference\t{len(amplicon)}\t11\t{len(amplicon)}\t{len(amplicon) + 1}\n"

    header, records = read_bam(bam)
    assert header["HD"]["SO"] == "coordinate"
    assert header["SQ"] == [{"SN": "Reference", "LN": len(amplicon)}]
    program = header["PG"][0]
    assert program["PN"] == "editcheck" and "--write-bam" in program["CL"] and "/" not in program["CL"]
    assert any("UNIQUE read" in comment for comment in header["CO"])

    # every unique read once: the distinct input sequences, as written on the amplicon's strand
    fastq = _fastq_reads(reads)
    counts = Counter(fastq)
    written = [reverse_complement(r["sequence"]) if r["flag"] & 16 else r["sequence"] for r in records]
    assert sorted(written) == sorted(counts)
    assert len({r["name"] for r in records}) == len(records)
    assert all(r["tags"]["XC"] == counts[sequence] for r, sequence in zip(records, written))
    assert sum(r["tags"]["XC"] for r in records) == N_READS + JUNK

    # the junk reads: unmapped, at the end, tagged not_aligned
    unmapped = [r for r in records if r["flag"] & 4]
    assert len(unmapped) == JUNK and records[-JUNK:] == unmapped
    assert {r["tags"]["XO"] for r in unmapped} == {"not_aligned"}
    mapped = records[:-JUNK]
    assert [r["position"] for r in mapped] == sorted(r["position"] for r in mapped)

    # the tags are the alleles table: reads per (class, events) of the alleles on the amplicon, per class overall
    summary_classes: Counter[str] = Counter(r["tags"]["XO"] for r in records for _ in range(r["tags"]["XC"]))
    lines = (out / "alleles.tsv").read_text().splitlines()
    columns = lines[0].split("\t")
    alleles = [dict(zip(columns, line.split("\t"))) for line in lines[1:]]
    table: Counter[tuple[str, str]] = Counter()
    for allele in alleles:
        if allele["reference"] == "Reference":
            table[(allele["outcome"], allele["events"])] += int(allele["reads"])
    tagged: Counter[tuple[str, str]] = Counter()
    for record in mapped:
        if "XR" not in record["tags"]:
            tagged[(record["tags"]["XO"], record["tags"].get("XE", ""))] += record["tags"]["XC"]
    assert tagged == table
    per_class: Counter[str] = Counter()
    for allele in alleles:
        per_class[allele["outcome"]] += int(allele["reads"])
    assert Counter({k: v for k, v in summary_classes.items() if k != "not_aligned"}) == per_class
    assert summary_classes["hdr"] == truth["class_counts"]["hdr"] > 0
    hdr = [r for r in mapped if r["tags"]["XO"] == "hdr"]
    assert {r["tags"]["XR"] for r in hdr} == {"HDR"} and all(r["cigar"] == f"{len(amplicon)}M" for r in hdr)

    # every placement agrees with its sequence: NM recomputed from SEQ, CIGAR and the amplicon equals the tag
    with pysam.AlignmentFile(str(bam)) as handle:
        for segment in handle.fetch(until_eof=True):
            if segment.is_unmapped:
                continue
            read = segment.query_sequence
            distance = sum(length for code, length in segment.cigartuples if code in (1, 2))
            distance += sum(
                1 for q, r in segment.get_aligned_pairs() if q is not None and r is not None and read[q] != amplicon[r]
            )
            assert distance == segment.get_tag("NM"), segment.query_name

    # a known deletion sits where the simulator put it (within its equivalent positions; exact when unique)
    by_sequence = {sequence: record for record, sequence in zip(records, written)}
    checked = exact = 0
    with pysam.AlignmentFile(str(bam)) as handle:
        segments = {segment.query_name: segment for segment in handle.fetch(until_eof=True)}
    for allele in truth["alleles"]:
        events = allele["events"]
        if len(events) != 1 or events[0]["type"] != "deletion" or allele["class"] != "deletion":
            continue
        record = by_sequence[allele["sequence"]]
        segment = segments[record["name"]]
        ((start, length),) = _deletions(segment.cigartuples, segment.reference_start)
        event = events[0]
        assert length == event["length"]
        assert event["leftmost_start0"] <= start <= event["rightmost_start0"]
        checked += 1
        if event["leftmost_start0"] == event["rightmost_start0"]:
            assert start == event["leftmost_start0"]
            exact += 1
        assert record["tags"]["XE"] == (f"{start + 1}del" if length == 1 else f"{start + 1}_{start + length}del")
    assert checked >= 10 and exact >= 2

    # the index works: a region query returns the reads overlapping it
    middle = len(amplicon) // 2
    region = subprocess.run([samtools, "view", "-c", str(bam), f"Reference:{middle}-{middle}"], check=True,
                            capture_output=True, text=True)  # fmt: skip
    with pysam.AlignmentFile(str(bam)) as handle:
        expected = sum(1 for segment in handle.fetch(until_eof=True)
                       if not segment.is_unmapped and segment.reference_start < middle <= segment.reference_end)  # fmt: skip
    assert int(region.stdout) == expected > 0

    # a rerun gives the same bytes
    first = {name: (out / name).read_bytes() for name in ("reads.bam", "reads.bam.bai", "amplicon.fa")}
    shutil.rmtree(out)
    code, output = _cli("quantify", "--r1", reads, "-a", amplicon, *_design_options(truth), "--write-bam", "-o", out)
    assert code == 0, output
    assert {name: (out / name).read_bytes() for name in first} == first


def test_genome_aligned_input_gives_a_bam_in_genome_coordinates(simulated, tmp_path, external_tool):
    reads, truth = simulated
    samtools = external_tool("samtools")
    genome, offset = _genome(truth, 300)
    amplicon = truth["design"]["amplicon"]
    fasta = tmp_path / "genome.fa"
    fasta.write_text(f">chrT\n{genome}\n")
    pysam.faidx(str(fasta))
    simulated_only = tmp_path / "sim.fastq.gz"
    with gzip.open(reads, "rt") as handle, gzip.open(simulated_only, "wt") as target:
        target.write("\n".join(handle.read().splitlines()[: 4 * N_READS]) + "\n")
    bam_in = tmp_path / "input.bam"
    _bam(bam_in, simulated_only, "chrT", len(genome), offset)
    site = f"chrT:{offset + 1}-{offset + len(amplicon)}"
    genome_out, amplicon_out = tmp_path / "genome", tmp_path / "amplicon"
    code, output = _cli("quantify", "--bam", bam_in, "--site", site, "--reference", fasta, *_design_options(truth),
                        "--write-bam", "-o", genome_out)  # fmt: skip
    assert code == 0, output
    code, output = _cli("quantify", "--r1", simulated_only, "-a", amplicon, *_design_options(truth), "--write-bam",
                        "-o", amplicon_out)  # fmt: skip
    assert code == 0, output
    subprocess.run([samtools, "quickcheck", "-v", str(genome_out / "reads.bam")], check=True)
    header, records = read_bam(genome_out / "reads.bam")
    assert header["SQ"] == [{"SN": "chrT", "LN": len(genome)}]
    assert not (genome_out / "amplicon.fa").exists()  # the genome is the reference
    on_amplicon = {(r["sequence"], r["flag"]): r for r in read_bam(amplicon_out / "reads.bam")[1]}
    assert len(records) == len(on_amplicon)
    for record in records:
        twin = on_amplicon[(record["sequence"], record["flag"])]
        assert record["contig"] == "chrT" and record["position"] == twin["position"] + offset
        assert record["cigar"] == twin["cigar"] and record["tags"] == twin["tags"]
    # the BAM overlays the input: samtools reads both at the site
    for path in (genome_out / "reads.bam", bam_in):
        view = subprocess.run([samtools, "view", "-c", str(path), site], check=True, capture_output=True, text=True)
        assert int(view.stdout) > 0


def test_unmerged_pairs_are_written_from_the_mate_that_speaks(tmp_path, external_tool):
    """A pair that does not merge is one record: the sequence of the mate that speaks for it, and its XP tag."""
    samtools = external_tool("samtools")
    design = simulate.random_design(seed=7)
    truth = simulate.simulate(design, 300, tmp_path / "r1.fastq.gz", out_r2=tmp_path / "r2.fastq.gz", read_length=100,
                              mix=MIX, error_rate=0.0, seed=5)  # fmt: skip
    out = tmp_path / "pairs"
    code, output = _cli("quantify", "--r1", tmp_path / "r1.fastq.gz", "--r2", tmp_path / "r2.fastq.gz", "-a",
                        truth["design"]["amplicon"], "-g", truth["design"]["guide"], "--write-bam", "-o", out)  # fmt: skip
    assert code == 0, output
    subprocess.run([samtools, "quickcheck", "-v", str(out / "reads.bam")], check=True)
    _, records = read_bam(out / "reads.bam")
    r1, r2 = _fastq_reads(tmp_path / "r1.fastq.gz"), _fastq_reads(tmp_path / "r2.fastq.gz")
    pairs = Counter(zip(r1, r2))
    assert sum(r["tags"]["XC"] for r in records) == 300
    assert len(records) == len(pairs)  # pairs overlapping (a large deletion) merge: one record each too
    unmerged = [r for r in records if "XP" in r["tags"]]
    assert unmerged and {r["tags"]["XP"] for r in unmerged} <= {"R1", "R2"}
    mates = [(first, reverse_complement(second)) for first, second in pairs]
    for record in unmerged:
        sequence = reverse_complement(record["sequence"]) if record["flag"] & 16 else record["sequence"]
        index = 0 if record["tags"]["XP"] == "R1" else 1
        assert any(pair[index] == sequence for pair in mates)
        assert not record["flag"] & 4


def test_workflow_option_write_bam_passes_the_flag(tmp_path):
    """config ontarget.write_bam (off by default) adds --write-bam to every quantify job."""
    import yaml

    from test_workflow import make_workdir, needs_snakemake, run_snakemake  # the workflow tests' demo helpers

    if needs_snakemake.args[0]:
        pytest.skip(needs_snakemake.kwargs["reason"])
    workdir = make_workdir(tmp_path, offtarget=False)
    default = run_snakemake(workdir, "--dry-run", "--printshellcmds")
    assert default.returncode == 0, default.stderr[-2000:]
    assert "editcheck quantify" in default.stdout and "--write-bam" not in default.stdout
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["ontarget"]["write_bam"] = True
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    with_bam = run_snakemake(workdir, "--dry-run", "--printshellcmds")
    assert with_bam.returncode == 0, with_bam.stderr[-2000:]
    commands = [line for line in with_bam.stdout.splitlines() if "editcheck quantify" in line]
    assert commands and all("--write-bam" in line for line in commands)


def test_export_with_bam_vcf_packages_the_bam(simulated, tmp_path):
    reads, truth = simulated
    out = tmp_path / "S1"
    code, output = _cli("quantify", "--r1", reads, "-a", truth["design"]["amplicon"], *_design_options(truth),
                        "--write-bam", "-o", out)  # fmt: skip
    assert code == 0, output
    plain = tmp_path / "plain"
    code, output = _cli("export", out, "-o", plain)
    assert code == 0, output
    assert not list(plain.rglob("reads.bam*"))
    package = tmp_path / "package"
    code, output = _cli("export", out, "--with-bam-vcf", "-o", package)
    assert code == 0, output
    for name in ("reads.bam", "reads.bam.bai", "amplicon.fa", "amplicon.fa.fai"):
        assert (package / "results" / "S1" / name).read_bytes() == (out / name).read_bytes(), name
    readme = (package / "README.md").read_text(encoding="utf-8")
    assert "aligned reads as BAM: one record per unique read" in readme


def test_umi_consensus_reads_carry_their_reads_and_molecules(tmp_path, external_tool):
    """With UMIs each record is a molecule consensus: XC its reads, XM its molecules, summing to the run's."""
    samtools = external_tool("samtools")
    design = simulate.random_design(seed=2024, with_donor=False)
    simulate.simulate(design, 1500, tmp_path / "umi.fastq.gz", umi_length=10, reads_per_molecule=4, seed=8)
    out = tmp_path / "umi"
    code, output = _cli("quantify", "--r1", tmp_path / "umi.fastq.gz", "-a", design.amplicon, "-g", design.guide,
                        "--umi", "header", "--umi-length", 10, "--write-bam", "-o", out)  # fmt: skip
    assert code == 0, output
    subprocess.run([samtools, "quickcheck", "-v", str(out / "reads.bam")], check=True)
    _, records = read_bam(out / "reads.bam")
    molecules = json.loads((out / "summary.json").read_text())["molecules"]
    assert sum(r["tags"]["XM"] for r in records) == molecules["molecules"] > 0
    assert sum(r["tags"]["XC"] for r in records) == molecules["reads_in_molecules"]
