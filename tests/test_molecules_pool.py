"""UMIs in pooled runs and off-target panels: molecules, not reads, are counted (issue #9 item 2)."""

from __future__ import annotations

import gzip

import pytest

from editcheck import simulate
from editcheck.reads.umi import UmiSettings


@pytest.fixture(scope="module")
def umi_pool(tmp_path_factory):
    """Two amplicons in one FASTQ, PCR duplicates with 12-base UMIs in the read names."""
    folder = tmp_path_factory.mktemp("umipool")
    designs = simulate.random_pool(2, seed=5, near_identical_pairs=0)
    truths = []
    parts = []
    for index, (design, rate) in enumerate(zip(designs, (0.1, 0.0))):
        mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate, insertion=0.0, substitution=0.0, hdr=0.0)
        path = folder / f"a{index}.fastq.gz"
        truths.append(simulate.simulate(design, 2000, path, mix=mix, seed=3 + index, umi_length=12,
                                        reads_per_molecule=8, error_rate=0.0))  # fmt: skip
        parts.append(gzip.decompress(path.read_bytes()))
    pooled = folder / "pool.fastq.gz"
    pooled.write_bytes(gzip.compress(b"".join(parts), mtime=0))
    return folder, designs, truths, pooled


def test_pool_counts_molecules_per_amplicon(umi_pool):
    from editcheck.design import build_design
    from editcheck.pooled import quantify_pool

    _, designs, truths, pooled = umi_pool
    built = [build_design(d.amplicon, [d.guide], name=f"amp{i}") for i, d in enumerate(designs)]
    result = quantify_pool(pooled, None, built, umi=UmiSettings("header", 12))
    for sample, truth in zip(result.samples, truths):
        molecules = truth["molecules"]["expected_classification"]
        assert sample.molecule_tally is not None
        assert sample.molecule_tally.classified == molecules["unmodified"] + molecules["modified"]
        assert sample.molecule_tally.edited.reads == molecules["modified"]
        assert sample.tally.classified == 2000  # reads are still reported per read
    # Without UMIs there is no molecule count.
    assert quantify_pool(pooled, None, built).samples[0].molecule_tally is None


def test_offtarget_with_umis_tests_molecules(umi_pool, tmp_path):
    from editcheck.offtarget.panel import read_sample_sheet, read_site_sheet, run_panel

    folder, designs, truths, pooled = umi_pool
    rows = ["site_id\tamplicon\tprotospacer\ton_target"]
    rows += [f"site{i}\t{d.amplicon}\t{d.guide}\tno" for i, d in enumerate(designs)]
    (tmp_path / "sites.tsv").write_text("\n".join(rows) + "\n")
    (tmp_path / "samples.tsv").write_text(
        f"sample\tcondition\treplicate\tr1\nT1\ttreated\t1\t{pooled}\nC1\tcontrol\t1\t{folder / 'a1.fastq.gz'}\n"
    )
    from editcheck.offtarget.significance import CallSettings

    result = run_panel(read_site_sheet(tmp_path / "sites.tsv"), read_sample_sheet(tmp_path / "samples.tsv"),
                       umi=UmiSettings("header", 12), call_settings=CallSettings(min_reads=0))  # fmt: skip
    site0 = result.calls[0]
    molecules = truths[0]["molecules"]["expected_classification"]
    assert site0.treated[0].edited == molecules["modified"]
    assert site0.treated[0].reads == molecules["unmodified"] + molecules["modified"]
    assert "molecules" in result.unit


def test_quantify_pool_command_with_umis(umi_pool, tmp_path):
    import csv

    from click.testing import CliRunner

    from editcheck.cli import main

    _, designs, truths, pooled = umi_pool
    sheet = tmp_path / "amplicons.tsv"
    sheet.write_text(
        "name\tamplicon\tguide\n" + "".join(f"amp{i}\t{d.amplicon}\t{d.guide}\n" for i, d in enumerate(designs))
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["quantify-pool", "--r1", str(pooled), "--amplicons", str(sheet), "--umi", "header",
                                       "--umi-length", "12", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    with open(out / "pool_summary.tsv", newline="") as handle:
        rows = {row["amplicon"]: row for row in csv.DictReader(handle, delimiter="\t")}
    molecules = truths[0]["molecules"]["expected_classification"]
    assert int(rows["amp0"]["edited_molecules"]) == molecules["modified"]
    assert int(rows["amp0"]["molecules_classified"]) == molecules["modified"] + molecules["unmodified"]
