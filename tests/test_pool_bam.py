"""Aligned reads of a pooled run as BAM (`quantify-pool --write-bam`): one BAM per amplicon, in its folder, with
the amplicon as contig, holding every unique read assigned to it, tagged as editcheck called it."""

from __future__ import annotations

import gzip
import json
import subprocess
from collections import Counter
from pathlib import Path

import pysam
import pytest
from click.testing import CliRunner

from editcheck import simulate
from editcheck.cli import main
from editcheck.results.bam import read_bam

MIX = simulate.OutcomeMix(unmodified=0.55, deletion=0.25, insertion=0.12, substitution=0.08, hdr=0.0)
N_READS = 3000


def _cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--debug", *(str(arg) for arg in args)], catch_exceptions=False)
    return result.exit_code, result.output


def _table(path: Path) -> list[dict[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [dict(zip(lines[0].split("\t"), line.split("\t"))) for line in lines[1:]]


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    folder = tmp_path_factory.mktemp("pool_bam")
    designs = simulate.random_pool(3, seed=11, near_identical_pairs=1)
    truth = simulate.simulate_pool(designs, N_READS, folder / "pool.fastq.gz", seed=4, error_rate=0.0, mix=MIX)
    sheet = folder / "amplicons.tsv"
    sheet.write_text("name\tamplicon\tguide\n" + "".join(f"amp {i}\t{d.amplicon}\t{d.guide}\n"
                                                         for i, d in enumerate(designs)))  # fmt: skip
    return folder / "pool.fastq.gz", sheet, truth


def test_each_amplicon_gets_a_bam_of_its_reads_tagged_as_called(pool, tmp_path, external_tool):
    reads, sheet, truth = pool
    samtools = external_tool("samtools")
    out = tmp_path / "pool"
    code, output = _cli("quantify-pool", "--r1", reads, "--amplicons", sheet, "--write-bam", "-o", out)
    assert code == 0, output
    assignment = json.loads((out / "assignment.json").read_text(encoding="utf-8"))
    designs = {row["name"]: row["amplicon"] for row in _table(sheet)}
    assert set(assignment["folders"]) == set(designs)
    with gzip.open(reads, "rt") as handle:
        fastq = Counter(handle.read().splitlines()[1::4])
    for name, amplicon in designs.items():
        folder = out / assignment["folders"][name]  # "amp 0" -> a safe folder name; the contig keeps a valid ID
        bam = folder / "reads.bam"
        subprocess.run([samtools, "quickcheck", "-v", str(bam)], check=True)
        assert (folder / "reads.bam.bai").is_file()
        header, records = read_bam(bam)
        contig = header["SQ"][0]["SN"]
        assert header["SQ"] == [{"SN": contig, "LN": len(amplicon)}] and header["HD"]["SO"] == "coordinate"
        assert (folder / "amplicon.fa").read_text(encoding="utf-8") == f">{contig}\n{amplicon}\n"
        assert "quantify-pool" in header["PG"][0]["CL"] and "/" not in header["PG"][0]["CL"]
        # every read assigned to this amplicon once, as the pool counted it
        assert sum(record["tags"]["XC"] for record in records) == assignment["assigned"][name]
        assert assignment["assigned"][name] == pytest.approx(truth["reads_per_amplicon"][int(name[-1])], abs=3)
        assert len({record["name"] for record in records}) == len(records)
        mapped = [record for record in records if not record["flag"] & 4]
        assert [record["position"] for record in mapped] == sorted(record["position"] for record in mapped)
        # the tags are the amplicon's alleles table: reads per (class, events)
        table: Counter[tuple[str, str]] = Counter()
        for allele in _table(folder / "alleles.tsv"):
            table[(allele["outcome"], allele["events"])] += int(allele["reads"])
        tagged: Counter[tuple[str, str]] = Counter()
        for record in mapped:
            tagged[(record["tags"]["XO"], record["tags"].get("XE", ""))] += record["tags"]["XC"]
        assert tagged == table and sum(table.values()) > 0
        assert {key for key, _ in tagged} >= {"unmodified", "modified"}
        # with a sorted index, a region query returns the reads over the amplicon
        with pysam.AlignmentFile(str(bam)) as handle:
            assert handle.count(contig) == len(mapped)
    assert sum(assignment["assigned"].values()) + assignment["unassigned"] + assignment["ambiguous"] == sum(
        fastq.values()
    )


def test_without_the_flag_no_bam_is_written(pool, tmp_path):
    reads, sheet, _ = pool
    out = tmp_path / "pool"
    code, output = _cli("quantify-pool", "--r1", reads, "--amplicons", sheet, "-o", out)
    assert code == 0, output
    assert not list(out.rglob("*.bam"))
