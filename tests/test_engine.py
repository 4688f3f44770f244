"""The one engine: every route is a source handed to it, and every route gives the same tables.

Simulated single-end reads (known truth) go through ``quantify`` from FASTQ, a one-amplicon ``quantify_pool``,
the same reads in a genome-aligned BAM read at a site, and a source of the test's own (the plug-in point for a
new input type); the typed records replace the tuples and negative sentinels of the routes before.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pysam
import pytest

from editcheck import simulate
from editcheck.alignment.assignment import Assignment
from editcheck.design import build_design, reverse_complement
from editcheck.engine import AnalysisSettings, SampleResult, run
from editcheck.engine.pairs import resolve_unmerged
from editcheck.engine.workers import PooledCall, PoolWorker
from editcheck.pipeline import quantify
from editcheck.pooled import quantify_pool
from editcheck.reads.alignments import GenomeSite
from editcheck.reads.collapse import QualitySettings
from editcheck.reads.fastq import iter_single
from editcheck.reads.records import Read, pair_key
from editcheck.results.sample import write_sample_outputs

SETTINGS = AnalysisSettings(quality=QualitySettings(min_base_quality=20))
_rng = random.Random(111)
AMPLICON_A, AMPLICON_B = ("".join(_rng.choice("ACGT") for _ in range(200)) for _ in range(2))


def _tables(result: SampleResult, folder: Path) -> dict[str, object]:
    write_sample_outputs(result, folder)
    summary = json.loads((folder / "summary.json").read_text())
    tables = {name: (folder / name).read_text() for name in ("alleles.tsv", "positions.tsv", "indel_sizes.tsv")}
    return {**tables, **{key: summary[key] for key in ("reads", "outcomes", "edited", "edit_types")}}


class ListSource:
    """A source of the test's own: reads held in memory."""

    def __init__(self, reads: list[Read]) -> None:
        self.reads = reads
        self.path = "memory"
        self.inputs = ("memory",)
        self.paired: bool | None = False
        self.site: GenomeSite | None = None

    def fragments(self) -> Iterator[Read]:
        return iter(self.reads)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    folder = tmp_path_factory.mktemp("engine")
    design = simulate.random_design(seed=11)
    truth = simulate.simulate(design, 3000, folder / "reads.fastq.gz", read_length=200, seed=4)
    amplicon = truth["design"]["amplicon"]
    # The same reads in a BAM on a contig that is the amplicon, each placed at the amplicon's start
    # (reads reaching past its end soft-clipped there); the engine realigns them to the amplicon anyway.
    lines = ["@HD\tVN:1.6\tSO:unsorted", f"@SQ\tSN:amp\tLN:{len(amplicon)}"]
    for name, sequence, qualities in iter_single(folder / "reads.fastq.gz"):
        matched = min(len(sequence), len(amplicon))
        cigar = f"{matched}M" + (f"{len(sequence) - matched}S" if len(sequence) > matched else "")
        lines.append(f"{name.split()[0]}\t0\tamp\t1\t60\t{cigar}\t*\t0\t0\t{sequence}\t{qualities}")
    (folder / "reads.sam").write_text("\n".join(lines) + "\n")
    pysam.sort("-o", str(folder / "reads.bam"), str(folder / "reads.sam"), catch_stdout=False)
    pysam.index(str(folder / "reads.bam"))
    return folder / "reads.fastq.gz", truth, folder / "reads.bam"


def test_fastq_pool_bam_and_a_new_source_give_the_same_tables_and_the_truth(simulated, tmp_path: Path) -> None:
    fastq, truth, bam = simulated
    amplicon = truth["design"]["amplicon"]
    design = build_design(amplicon, [truth["design"]["guide"]], expected_hdr_amplicon=truth["design"]["donor_amplicon"])
    from_fastq = quantify(fastq, design=design, settings=SETTINGS)
    expected = _tables(from_fastq, tmp_path / "fastq")
    from_pool = quantify_pool(fastq, None, [design], settings=SETTINGS, threads=2).samples[0]
    assert _tables(from_pool, tmp_path / "pool") == expected
    from_bam = quantify(bam, design=design, settings=SETTINGS, site=GenomeSite("amp", 0, len(amplicon)))
    assert _tables(from_bam, tmp_path / "bam") == expected
    source = ListSource(list(iter_single(fastq)))
    from_memory = run(source, [design], ["memory"], settings=SETTINGS).samples[0]
    assert _tables(from_memory, tmp_path / "memory") == expected
    # The numbers: every read in; each class within 1% of the reads of the simulated truth (sequencing errors
    # move a few reads; substitutions of a nuclease are reported, not edits).
    reads, outcomes = expected["reads"], expected["outcomes"]
    assert reads["input"] == truth["n_reads"] == 3000
    truth_counts = dict(truth["expected_classification"])
    truth_counts["unmodified"] += truth["class_counts"]["substitution"]
    truth_counts["modified"] -= truth["class_counts"]["substitution"]
    for outcome in ("unmodified", "modified", "hdr"):
        assert abs(outcomes[outcome]["reads"] - truth_counts[outcome]) <= 30, outcome
    assert from_fastq.tally.deletion_sizes and sum(from_fastq.tally.deletion_sizes.values()) > 0


def test_pooled_reads_carry_an_assignment_status_not_a_negative_number() -> None:
    designs = [build_design(AMPLICON_A, name="a"), build_design(AMPLICON_B, name="b")]
    worker = PoolWorker(designs, AnalysisSettings())
    placed = worker(reverse_complement(AMPLICON_B))
    assert (placed.status, placed.amplicon, placed.call.outcome) == (Assignment.ASSIGNED, 1, "unmodified")
    junk = worker("T" * 150)
    assert (junk.status, junk.amplicon, junk.call) == (Assignment.UNASSIGNED, None, None)
    too_long = worker(AMPLICON_A * 5)
    assert (too_long.status, too_long.amplicon) == (Assignment.TOO_LONG, None)


def test_resolve_unmerged_is_the_one_rule_for_pairs() -> None:
    worker = PoolWorker([build_design(AMPLICON_A, name="a")], AnalysisSettings())
    covering, short = worker(AMPLICON_A), worker(AMPLICON_A[:40])
    unassigned = PooledCall(Assignment.UNASSIGNED)
    # One amplicon: both mates belong to it; the mate covering the window speaks.
    pair = resolve_unmerged(short, covering)
    assert (pair.status, pair.amplicon, pair.mate, pair.chosen.call.outcome) == (
        Assignment.ASSIGNED,
        0,
        1,
        "unmodified",
    )
    # A mate without an amplicon leaves the pair to the other; mates on different amplicons: ambiguous.
    assert resolve_unmerged(unassigned, covering)[:3] == (Assignment.ASSIGNED, 0, 1)
    elsewhere = PooledCall(Assignment.ASSIGNED, 1, covering.alignment, covering.call)
    ambiguous = resolve_unmerged(covering, elsewhere)
    assert (ambiguous.status, ambiguous.amplicon, ambiguous.chosen.call.outcome) == (
        Assignment.AMBIGUOUS,
        None,
        "not_aligned",
    )
    assert resolve_unmerged(unassigned, PooledCall(Assignment.TOO_LONG)).status is Assignment.TOO_LONG
    assert pair_key("AC", "GT") == "AC+GT"


@pytest.mark.parametrize("paired", [False, True])
def test_per_read_calls_name_every_quality_filtered_read(tmp_path: Path, paired: bool) -> None:
    """A read dropped by the mean-quality filter whose (masked) sequence equals a kept read's was given the kept
    read's call in reads.tsv.gz (the second pass looked calls up by sequence); now reads.tsv.gz and
    summary.json agree."""
    import gzip

    from click.testing import CliRunner

    from editcheck.cli import main

    first, second = AMPLICON_A[:120], reverse_complement(AMPLICON_A[80:])  # overlapping: merged
    deleted = AMPLICON_A[:95] + AMPLICON_A[99:]
    records = [("kept", "I"), ("dropped", "5"), ("edited", "I")]  # '5' = Q20: not masked, mean 20 < 30
    r1, r2 = [], []
    for name, quality in records:
        read1 = deleted[:120] if name == "edited" else first
        read2 = reverse_complement(deleted[80:]) if name == "edited" else second
        if not paired:
            read1 = deleted if name == "edited" else AMPLICON_A
        r1.append(f"@{name}\n{read1}\n+\n{quality * len(read1)}\n")
        r2.append(f"@{name}\n{read2}\n+\n{quality * len(read2)}\n")
    (tmp_path / "r1.fastq").write_text("".join(r1))
    (tmp_path / "r2.fastq").write_text("".join(r2))
    arguments = ["quantify", "--r1", str(tmp_path / "r1.fastq"), "-a", AMPLICON_A, "-w", "90-110",
                 "--min-mean-quality", "30", "--write-reads", "-o", str(tmp_path / "out")]  # fmt: skip
    if paired:
        arguments[3:3] = ["--r2", str(tmp_path / "r2.fastq")]
    outcome = CliRunner().invoke(main, arguments)
    assert outcome.exit_code == 0, outcome.output
    with gzip.open(tmp_path / "out" / "reads.tsv.gz", "rt") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle][1:]
    assert rows == [["kept", "unmodified", "", ""], ["dropped", "quality_filtered", "", ""],
                    ["edited", "modified", "96_99del", ""]]  # fmt: skip
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["reads"]["quality_filtered"] == 1
    assert sorted((tmp_path / "out").iterdir()) == sorted(
        tmp_path / "out" / name for name in (
            "alleles.tsv", "indel_sizes.tsv", "positions.tsv", "reads.tsv.gz", "summary.json", "summary.tsv",
            ".editcheck-result", "manifest.json",
        ) if (tmp_path / "out" / name).exists()
    )  # fmt: skip
    assert not any(path.name.endswith("spool.gz") for path in (tmp_path / "out").iterdir())


def test_per_read_calls_come_from_the_run_not_a_second_reading(tmp_path: Path) -> None:
    from editcheck.results.read_calls import ReadCallSpool

    reads = tmp_path / "reads.fastq"
    reads.write_text(f"@a x\n{AMPLICON_A}\n+\n{'I' * 200}\n@b\n{AMPLICON_A[:95] + AMPLICON_A[99:]}\n+\n{'I' * 196}\n")
    spool = ReadCallSpool(tmp_path / "spool.gz")
    quantify(reads, design=build_design(AMPLICON_A, window="90-110"), read_sink=spool)
    reads.write_text("")  # the input is gone: the rows come from the spool
    assert list(spool.rows()) == [["a", "unmodified", "", ""], ["b", "modified", "96_99del", ""]]
    assert not (tmp_path / "spool.gz").exists()


def test_per_read_calls_of_a_bam_site_equal_those_of_the_same_reads_in_fastq(simulated, tmp_path: Path) -> None:
    """--write-reads was refused with --bam (the second reading only knew FASTQ); the engine's sink serves any source."""
    import gzip

    from click.testing import CliRunner

    from editcheck.cli import main

    fastq, truth, bam = simulated
    amplicon = truth["design"]["amplicon"]
    common = ["-a", amplicon, "-g", truth["design"]["guide"], "--write-reads"]
    runner = CliRunner()
    from_fastq = runner.invoke(main, ["quantify", "--r1", str(fastq), *common, "-o", str(tmp_path / "fastq")])
    from_bam = runner.invoke(main, ["quantify", "--bam", str(bam), "--site", f"amp:1-{len(amplicon)}", *common,
                                    "-o", str(tmp_path / "bam")])  # fmt: skip
    assert from_fastq.exit_code == 0 and from_bam.exit_code == 0, from_fastq.output + from_bam.output

    def rows(folder: Path) -> list[str]:
        with gzip.open(folder / "reads.tsv.gz", "rt") as handle:
            return sorted(handle.read().splitlines()[1:])

    expected = rows(tmp_path / "fastq")
    assert len(expected) == 3000 and rows(tmp_path / "bam") == expected
    outcomes = [row.split("\t")[1] for row in expected]
    summary = json.loads((tmp_path / "fastq" / "summary.json").read_text())
    assert outcomes.count("modified") == summary["outcomes"]["modified"]["reads"] > 0
