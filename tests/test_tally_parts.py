"""The tally counted in parts at once (#13, engine.tally_parts): consecutive spans of the unique reads tallied in
forked children and this process give the bytes of one tally of them all; a child's failure is the run's."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pysam
import pytest
from click.testing import CliRunner

from editcheck.classification.called import CalledRead
from editcheck.cli import main
from editcheck.design import build_design
from editcheck.engine import AnalysisSettings
from editcheck.engine.forked import PIPE_BYTES, ForkedCall
from editcheck.engine.tally_parts import tally_in_parts, tally_spans
from editcheck.engine.workers import AmpliconWorker
from editcheck.errors import EditcheckError
from editcheck.quantification.tally import tally_reads
from editcheck.reads.collapse import collapse_single
from editcheck.simulate import random_design, simulate

READS = 3000


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Single-end and paired reads of every outcome class, 3% of their bases below Q20, gzipped."""
    folder = tmp_path_factory.mktemp("tally_parts")
    design = random_design(seed=43)
    truth = simulate(design, READS, folder / "reads.fastq.gz", seed=43, low_quality_rate=0.03, error_rate=0.004)
    simulate(design, READS, folder / "pairs_R1.fastq.gz", folder / "pairs_R2.fastq.gz", seed=44, read_length=125,
             low_quality_rate=0.03, error_rate=0.004)  # fmt: skip
    return folder, truth


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def _records(bam: Path) -> list[str]:
    with pysam.AlignmentFile(str(bam), "rb", check_sq=False) as handle:
        return [record.to_string() for record in handle]


def _quantify(folder: Path, truth: dict, out: Path, threads: int, quality: str, paired: bool, *extra: str) -> None:
    design = truth["design"]
    reads = ["--r1", folder / "reads.fastq.gz"]
    if paired:
        reads = ["--r1", folder / "pairs_R1.fastq.gz", "--r2", folder / "pairs_R2.fastq.gz"]
    args = ["quantify", *reads, "-a", design["amplicon"], "-g", design["guide"], "-e", design["donor_amplicon"],
            "-o", out, "-t", threads, "--min-base-quality", quality, "--write-vcf", *extra]  # fmt: skip
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("quality", "paired", "extra"),
    [("20", False, ()), ("0", False, ()), ("20", True, ()), ("0", True, ()),
     ("0", False, ("--write-reads", "--write-bam"))],  # per-read outputs: their pass over the results comes first
)  # fmt: skip
def test_a_tally_in_parts_writes_the_bytes_of_one_tally(
    simulated: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quality: str, paired: bool,
    extra: tuple[str, ...],
) -> None:  # fmt: skip
    folder, truth = simulated
    _quantify(folder, truth, tmp_path / "one", 1, quality, paired, *extra)
    module = sys.modules["editcheck.engine.tally_parts"]
    monkeypatch.setattr(module, "PART_UNIQUE_READS", 50)  # parts of a few unique reads each
    spans_seen: list[int] = []
    real = tally_in_parts

    def spy(design, calls_of, spans, release):  # type: ignore[no-untyped-def]
        spans_seen.append(len(spans))
        return real(design, calls_of, spans, release)

    monkeypatch.setattr(sys.modules["editcheck.engine.run"], "tally_in_parts", spy)
    _quantify(folder, truth, tmp_path / "parts", 2, quality, paired, *extra)
    assert spans_seen == [2]  # this process and a child
    expected, got = _files(tmp_path / "one"), _files(tmp_path / "parts")
    assert sorted(got) == sorted(expected)
    for name in expected:
        if name.endswith(".bam"):  # its header names the command (-t): the records are compared
            assert _records(tmp_path / "parts" / name) == _records(tmp_path / "one" / name), name
        elif not name.endswith(".bai"):  # (the index: offsets into that BAM)
            assert got[name] == expected[name], name
    summary = json.loads(expected["summary.json"])
    assert summary["reads"]["unique_sequences"] > 200  # parts of 50 unique reads or more
    if paired:  # some pairs do not overlap: tallied with the last part
        assert summary["reads"]["unmerged"] > 0
    assert multiprocessing.active_children() == []


def test_spans_are_consecutive_and_cover_every_unique_read(monkeypatch: pytest.MonkeyPatch) -> None:
    module = sys.modules["editcheck.engine.tally_parts"]
    monkeypatch.setattr(module, "available_cores", lambda: 4)
    assert tally_spans(0, 4) == [range(0, 0)]
    assert tally_spans(39_999, 4) == [range(0, 39_999)]  # two parts need 20,000 unique reads each
    assert tally_spans(40_000, 4) == [range(0, 20_000), range(20_000, 40_000)]
    assert tally_spans(100_001, 4) == [range(0, 25_000), range(25_000, 50_000), range(50_000, 75_000),
                                       range(75_000, 100_001)]  # fmt: skip
    assert tally_spans(100_001, 1) == [range(0, 100_001)]
    monkeypatch.setattr(module, "available_cores", lambda: 2)
    assert len(tally_spans(100_001, 8)) == 2  # no more parts than cores


def test_spans_share_the_work_of_masks_counted_by_the_main_process(monkeypatch: pytest.MonkeyPatch) -> None:
    module = sys.modules["editcheck.engine.tally_parts"]
    monkeypatch.setattr(module, "available_cores", lambda: 4)
    extra = module.HEAVY_EXTRA
    # the first 50,000 unique reads have a mask counted by the main process each (as the first seen, most read do)
    first, second = tally_spans(100_000, 2, iter(range(50_000)))
    stop = first.stop
    assert stop == int(50_000 * (2 + extra) / 2 / (1 + extra))  # 39,705 with 0.7: the cost of each span alike
    assert (first.start, second.stop, second.start) == (0, 100_000, stop)
    costs = (stop * (1 + extra), (50_000 - stop) * (1 + extra) + 50_000)
    assert abs(costs[0] - costs[1]) <= 2 * (1 + extra)
    # a mask counted twice costs twice; one unique read with all the work still leaves every span a unique read
    assert tally_spans(100_000, 2, [7] * 10**6) == [range(0, 7), range(7, 100_000)]
    assert tally_spans(40_000, 4, [39_999] * 10**6) == [range(0, 39_999), range(39_999, 40_000)]
    three = tally_spans(90_000, 3, [0, 0, 1])  # a few: nearly the even split
    assert [len(span) for span in three] == [29_998, 30_001, 30_001]  # 2.1 more work in the first


@pytest.fixture(scope="module")
def called(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("called")
    design = random_design(seed=5)
    simulate(design, 800, folder / "reads.fq", seed=5, alleles_per_class=10)
    amplicon = build_design(design.amplicon, [design.guide], expected_hdr_amplicon=design.donor_amplicon)
    worker = AmpliconWorker(amplicon, AnalysisSettings())
    sequences = collapse_single(folder / "reads.fq").sequences
    return amplicon, [CalledRead(sequence, reads, *worker(sequence)) for sequence, reads in sequences.items()]


def test_parts_merged_equal_the_tally_of_all_calls_in_every_field_and_order(called) -> None:  # type: ignore[no-untyped-def]
    design, calls = called
    truth = tally_reads(design, calls)
    merged = tally_in_parts(design, lambda span: calls[span.start : span.stop], [range(0, 7), range(7, 300),
                                                                                 range(300, len(calls))])  # fmt: skip
    assert merged.alleles == truth.alleles
    assert len({allele.aligned_sequence for allele in truth.alleles}) > 20
    for name in ("outcomes", "deletion_sizes", "insertion_sizes"):
        assert list(getattr(merged, name).items()) == list(getattr(truth, name).items()), name  # first-seen order
    assert merged.with_indel == truth.with_indel > 0
    for got, expected in zip(merged.positions, truth.positions, strict=True):
        assert (got.counts == expected.counts).all() and got.counts.sum() > 0
        assert (got.insertions_after == expected.insertions_after).all()


def test_alleles_met_in_several_parts_are_counted_once_in_order(called) -> None:  # type: ignore[no-untyped-def]
    # An allele of several parts (here every one of them: the calls three times over, in shuffled spans, four
    # parts) has all its reads, in the one tally's order.
    design, calls = called
    again = calls + calls[::-1] + calls[100:] + calls[:100]
    truth = tally_reads(design, again)
    n = len(calls)
    spans = [range(0, n // 2), range(n // 2, n + 7), range(n + 7, 2 * n + 300), range(2 * n + 300, 3 * n)]
    merged = tally_in_parts(design, lambda span: again[span.start : span.stop], spans)
    assert merged.alleles == truth.alleles
    assert merged.alleles[0].reads == 3 * tally_reads(design, calls).alleles[0].reads


def test_what_a_part_raises_is_raised_and_a_part_that_dies_is_said(called) -> None:  # type: ignore[no-untyped-def]
    design, calls = called
    spans = [range(0, 10), range(10, len(calls))]

    def failing(span: range) -> Iterator[CalledRead]:
        if span.start:
            raise ValueError("a part failed")
        yield from calls[span.start : span.stop]

    with pytest.raises(ValueError, match="a part failed"):
        tally_in_parts(design, failing, spans)

    def dying(span: range) -> Iterator[CalledRead]:
        if span.start:
            os._exit(3)
        yield from calls[span.start : span.stop]

    with pytest.raises(EditcheckError, match=r"a part of the tally ended without a result \(exit code 3"):
        tally_in_parts(design, dying, spans)
    assert multiprocessing.active_children() == []


def _told_and_answered(tell: object) -> int:
    assert callable(tell)
    tell(b"x" * 3_000_000)  # a chunk of megabytes, as a part's alleles are told
    return 42


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux's")
def test_a_child_tells_through_a_pipe_of_a_mebibyte() -> None:
    """A child's told chunks (megabytes of alleles) pass through a pipe of PIPE_BYTES, not the 64 KiB default, where
    the system allows it (fewer turns of the two processes: 10M reads at Q20, the tally's last part received in
    0.58 / 0.58 / 0.62 -> 0.54 / 0.47 / 0.53 s)."""
    told: list[bytes] = []
    call = ForkedCall(_told_and_answered, task="a test", on_told=told.append)
    size = fcntl.fcntl(call._receiving.fileno(), fcntl.F_GETPIPE_SZ)
    assert call.result() == 42
    assert told == [b"x" * 3_000_000]
    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    assert size >= min(PIPE_BYTES, limit)
    assert size > 65536 or limit <= 65536
