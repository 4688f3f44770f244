"""Base editing, large deletions, pooled amplicons and UMIs against simulated truth."""

from __future__ import annotations

import dnaio
import pytest

from editcheck import simulate
from editcheck.design import build_design
from editcheck.pipeline import AnalysisSettings, quantify
from editcheck.pooled import PoolWorker, quantify_pool
from editcheck.reads.collapse import QualitySettings
from editcheck.reads.umi import UmiSettings

MASK_ERRORS = AnalysisSettings(quality=QualitySettings(min_base_quality=20))


@pytest.fixture(scope="module")
def abe_run(tmp_path_factory):
    # An ABE therapy-like sample: 42% target conversion with bystanders, plus some indels.
    folder = tmp_path_factory.mktemp("abe")
    design = simulate.random_design(seed=2024, with_donor=False)
    mix = simulate.OutcomeMix(unmodified=0.0, deletion=0.06, insertion=0.04, substitution=0.0, hdr=0.0, base_edit=0.9)
    truth = simulate.simulate(
        design, 40_000, folder / "abe.fastq.gz", mix=mix, base_editor=simulate.BaseEditorSpec(), seed=5
    )
    editing = truth["base_editing"]
    built = build_design(design.amplicon, [design.guide], base_editor="ABE", target_in_protospacer=editing["target"])
    return quantify(folder / "abe.fastq.gz", design=built, settings=MASK_ERRORS, threads=2), truth


def test_abe_classes_within_0_3_points(abe_run):
    result, truth = abe_run
    n = truth["n_reads"]
    classes = result.tally.base_edit_classes
    # Reads with an editable base masked to N are reported apart (editable_base_masked), not classified.
    determined = sum(classes.values())
    assert determined + result.tally.outcomes["editable_base_masked"] == n
    for name, reads in truth["base_editing"]["classes"].items():
        assert 100 * classes[name] / determined == pytest.approx(100 * reads / n, abs=0.3), name
    assert 100 * result.tally.target_converted / determined == pytest.approx(
        100 * truth["base_editing"]["target_converted_reads"] / n, abs=0.3
    )


def test_abe_per_position_conversion_matches_truth(abe_run):
    from editcheck.quantification.base_editing import conversion_table

    result, truth = abe_run
    rows = {row.position: row for row in conversion_table(result.design, result.tally)}
    for position, reads in truth["base_editing"]["per_position"].items():
        row = rows[int(position)]
        assert row.in_editing_window
        assert row.converted.reads == pytest.approx(reads, abs=0.003 * truth["n_reads"])
        low, high = row.converted.interval
        assert low <= 100 * reads / truth["n_reads"] <= high


def test_large_deletions_detected(tmp_path):
    design = simulate.random_design(seed=2024, with_donor=False)
    mix = simulate.OutcomeMix(
        unmodified=0.5, deletion=0.0, insertion=0.0, substitution=0.0, hdr=0.0, large_deletion=0.5
    )
    truth = simulate.simulate(design, 10_000, tmp_path / "ldel.fastq.gz", mix=mix, seed=9)
    built = build_design(design.amplicon, [design.guide])
    tally = quantify(tmp_path / "ldel.fastq.gz", design=built, threads=2).tally
    expected = truth["class_counts"]["large_deletion"]
    assert tally.outcomes["large_deletion"] >= 0.99 * expected
    assert tally.outcomes["large_deletion"] <= expected + 0.001 * truth["n_reads"]
    assert sum(tally.large_deletion_sizes.values()) == tally.outcomes["large_deletion"]
    assert min(tally.large_deletion_sizes) >= 50 and max(tally.large_deletion_sizes) <= 150


def test_primer_dimers_are_not_deletions(tmp_path):
    design = simulate.random_design(seed=2024, with_donor=False)
    dimer = design.amplicon[:20] + design.amplicon[-20:]
    fastq = tmp_path / "dimer.fastq"
    fastq.write_text(f"@d1\n{dimer}\n+\n{'I' * len(dimer)}\n@ok\n{design.amplicon}\n+\n{'I' * len(design.amplicon)}\n")
    tally = quantify(fastq, design=build_design(design.amplicon, [design.guide])).tally
    assert tally.outcomes["primer_dimer"] == 1
    assert tally.outcomes["large_deletion"] == 0
    assert tally.outcomes["unmodified"] == 1


def test_pool_of_20_amplicons_assigns_reads(tmp_path):
    designs = simulate.random_pool(20, seed=2024)
    truth = simulate.simulate_pool(designs, 40_000, tmp_path / "pool.fastq.gz", seed=3)
    built = [build_design(d.amplicon, [d.guide], name=f"amp{i:02d}") for i, d in enumerate(designs)]
    result = quantify_pool(tmp_path / "pool.fastq.gz", None, built, threads=2)
    # Per read: the amplicon index is in the simulated read name.
    worker = PoolWorker(built, AnalysisSettings())
    correct = total = 0
    with dnaio.open(tmp_path / "pool.fastq.gz") as reader:
        for record in reader:
            total += 1
            correct += worker(record.sequence).amplicon == int(record.name.split(":")[1])
            if total == 5000:
                break
    assert correct >= 0.995 * total
    misplaced = sum(abs(result.assigned[f"amp{i:02d}"] - n) for i, n in enumerate(truth["reads_per_amplicon"])) / 2
    assert misplaced <= 0.005 * truth["n_reads"]
    assert result.unassigned + result.ambiguous <= 0.005 * truth["n_reads"]


def test_umi_collapsed_rate_equals_molecule_truth(tmp_path):
    design = simulate.random_design(seed=2024, with_donor=False)
    truth = simulate.simulate(design, 30_000, tmp_path / "umi.fastq.gz", umi_length=12, reads_per_molecule=5, seed=4)
    built = build_design(design.amplicon, [design.guide])
    result = quantify(tmp_path / "umi.fastq.gz", design=built, umi=UmiSettings(length=12))
    molecules = truth["molecules"]
    assert result.molecules.molecules == pytest.approx(molecules["n"], abs=0.002 * molecules["n"])
    # A nuclease's substitutions are reported, not edits: substitution molecules are unmodified.
    expected_modified = molecules["expected_classification"]["modified"] - molecules["class_counts"]["substitution"]
    tally = result.molecule_tally
    assert tally.classified == pytest.approx(molecules["n"], abs=0.002 * molecules["n"])
    assert 100 * tally.outcomes["modified"] / tally.classified == pytest.approx(
        100 * expected_modified / molecules["n"], abs=0.2
    )
    # Per read as well: the read-level rate is weighted by family sizes.
    assert result.tally.classified == pytest.approx(truth["n_reads"], abs=0.002 * truth["n_reads"])
