"""A study VCF (`editcheck merge-vcf`): the per-sample VCFs of one design in one multi-sample file, merged as
`bcftools merge -m none` merges them, accepted by bcftools, every sample's counts as in its own file."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pysam
import pytest
from click.testing import CliRunner

from editcheck import simulate
from editcheck.cli import main
from editcheck.results.vcf import read_vcf, read_vcf_samples
from test_vcf import check_with_bcftools

MIX = simulate.OutcomeMix(unmodified=0.55, deletion=0.2, insertion=0.1, substitution=0.05, hdr=0.1)
SAMPLES = {"S1": 11, "S2": 12, "S3": 13}  # sample -> simulation seed


def _cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*(str(arg) for arg in args)])
    return result.exit_code, result.output


def _quantify(folder: Path, simulated: simulate.SimulationDesign, sample: str, seed: int, reads: int = 1500) -> Path:
    fastq = folder / f"{sample}.fastq.gz"
    design = simulate.simulate(simulated, reads, fastq, mix=MIX, error_rate=0.0, seed=seed)["design"]
    out = folder / sample
    code, output = _cli("quantify", "--r1", fastq, "-a", design["amplicon"], "-g", design["guide"], "-e",
                        design["donor_amplicon"], "--sample", sample, "--write-vcf", "-o", out)  # fmt: skip
    assert code == 0, output
    return out


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    folder = tmp_path_factory.mktemp("vcf_merge")
    design = simulate.random_design(seed=2024)
    return folder, {sample: _quantify(folder, design, sample, seed) for sample, seed in SAMPLES.items()}


def _missing(value: str) -> bool:
    return set(value) <= {".", ":"}


def test_merged_vcf_holds_every_sample_as_in_its_own_file_and_bcftools_agrees(samples, tmp_path, external_tool):
    folder, outs = samples
    merged_folder = tmp_path / "study"
    # a result folder and a VCF file are both accepted as inputs
    code, output = _cli("merge-vcf", outs["S1"], outs["S2"] / "edits.vcf.gz", outs["S3"], "-o", merged_folder)
    assert code == 0, output
    merged = merged_folder / "edits.vcf.gz"
    assert {path.name for path in merged_folder.iterdir()} >= {"edits.vcf.gz", "edits.vcf.gz.tbi", "amplicon.fa",
                                                               "amplicon.fa.fai"}  # fmt: skip
    assert (merged_folder / "amplicon.fa").read_bytes() == (outs["S1"] / "amplicon.fa").read_bytes()
    meta, names, records = read_vcf_samples(merged)
    assert names == ["S1", "S2", "S3"]
    assert not any("date" in line.lower() or str(folder) in line for line in meta)

    # every sample's records, with its FORMAT values exactly as in its own file; missing where it lacks them
    by_key = {(int(r["POS"]), r["REF"], r["ALT"]): r for r in records}
    assert len(by_key) == len(records)
    union: set[tuple[int, str, str]] = set()
    for index, sample in enumerate(names):
        own = {(int(r["POS"]), r["REF"], r["ALT"]): r for r in read_vcf(outs[sample] / "edits.vcf.gz")[1]}
        union |= set(own)
        for key, record in by_key.items():
            value = record["sample_columns"][index]
            if key in own:
                assert value == own[key]["sample_columns"][0], (sample, key)
            else:
                assert value == ".:.:.", (sample, key)
    assert set(by_key) == union
    assert [(int(r["POS"]), r["REF"], r["ALT"]) for r in records] == sorted(by_key)
    shared = 0
    for record in records:
        present = [value for value in record["sample_columns"] if not _missing(value)]
        assert int(record["info"]["NS"]) == len(present)
        assert int(record["info"]["READS"]) == sum(int(value.split(":")[0]) for value in present)
        assert int(record["info"]["READS"]) == sum(int(n) for n in record["info"]["OUTCOME_READS"].split(","))
        shared += len(present) > 1
    assert shared > 0 and any(int(r["info"]["NS"]) == 1 for r in records)  # merged and unmerged lines both tested

    # bcftools reads it, finds every REF in the amplicon and left-aligns nothing
    check_with_bcftools(external_tool, merged, merged_folder / "amplicon.fa")
    with pysam.VariantFile(str(merged)) as handle:  # the tabix index answers a region query
        contig = next(iter(handle.header.contigs))
        assert len(list(handle.fetch(contig))) == len(records)

    # bcftools merge -m none gives the same lines and the same sample columns
    bcftools = external_tool("bcftools")
    theirs = subprocess.run([bcftools, "merge", "-m", "none", "-Ov", *(str(outs[s] / "edits.vcf.gz") for s in names)],
                            check=True, capture_output=True, text=True).stdout  # fmt: skip
    rows = [line.split("\t") for line in theirs.splitlines() if line and not line.startswith("#")]
    assert sorted((int(row[1]), row[3], row[4]) for row in rows) == sorted(by_key)
    for row in rows:
        ours = by_key[(int(row[1]), row[3], row[4])]["sample_columns"]
        for mine, bcf in zip(ours, row[9:]):
            assert mine == bcf or (_missing(mine) and _missing(bcf)), (row[:5], mine, bcf)

    # the same inputs give the same bytes
    again = tmp_path / "again"
    assert _cli("merge-vcf", outs["S1"], outs["S2"], outs["S3"], "-o", again)[0] == 0
    for name in ("edits.vcf.gz", "edits.vcf.gz.tbi", "amplicon.fa", "amplicon.fa.fai"):
        assert (again / name).read_bytes() == (merged_folder / name).read_bytes(), name


def test_merge_refuses_other_designs_and_repeated_samples_in_one_line(samples, tmp_path):
    folder, outs = samples
    other = _quantify(tmp_path, simulate.random_design(seed=7), "X1", 5, reads=300)
    out = tmp_path / "merged"
    code, output = _cli("merge-vcf", outs["S1"], other, "-o", out)
    assert code != 0 and not out.exists()
    assert "different designs" in output and str(other / "edits.vcf.gz") in output and len(output.splitlines()) == 1
    code, output = _cli("merge-vcf", outs["S1"], outs["S1"] / "edits.vcf.gz", "-o", out)
    assert code != 0 and "sample 'S1' is also in" in output and not out.exists()
    code, output = _cli("merge-vcf", folder, "-o", out)  # a folder without a VCF
    assert code != 0 and "no edits.vcf.gz in this folder" in output and not out.exists()


def test_merge_refuses_a_vcf_that_editcheck_did_not_write(samples, tmp_path):
    _, outs = samples
    foreign = tmp_path / "foreign.vcf"
    with gzip.open(outs["S1"] / "edits.vcf.gz", "rt") as handle:
        meta = [line for line in handle.read().splitlines() if line.startswith("#")]
    foreign.write_text("\n".join([*meta, "Reference\t5\t.\tA\tC\t.\tPASS\tDP=9\tAO:DP:AF\t1:9:0.1"]) + "\n")
    code, output = _cli("merge-vcf", outs["S2"], foreign, "-o", tmp_path / "merged")
    assert code != 0 and f"{foreign}: Reference:5: not an editcheck record (INFO EVENT" in output
    assert not (tmp_path / "merged").exists()
