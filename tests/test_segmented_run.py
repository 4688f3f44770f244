"""A large input (single-end, or read pairs) run a segment at a time (bounded memory, issue #13): every output
byte-identical to the whole run, the unique sequences counted once across segments, errors named as the whole file's reader names
them, nothing left behind."""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from editcheck.cli import main
from editcheck.design import build_design
from editcheck.engine import AnalysisSettings, FastqPaired, FastqSingle, run
from editcheck.engine.segmented import segmented
from editcheck.errors import InputFormatError, ParameterError
from editcheck.reads.alignments import GenomeSite
from editcheck.reads.collapse import QualitySettings
from editcheck.reads.segments import estimated_records, fastq_segments
from editcheck.results.sample import write_sample_tables
from editcheck.simulate import random_design, simulate

READS = 6000
SEGMENT = 1000
"""Six segments (the estimate of 6,000 reads is well above 1.5 segments)."""


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Simulated single-end reads of every outcome class, 3% of their bases below Q20, gzipped."""
    folder = tmp_path_factory.mktemp("segmented")
    design = random_design(seed=41)
    truth = simulate(design, READS, folder / "reads.fastq.gz", seed=41, low_quality_rate=0.03, error_rate=0.004)
    return folder / "reads.fastq.gz", truth


def _quantify(reads: Path, truth: dict, out: Path, *extra: object) -> Result:
    design = truth["design"]
    args = ["quantify", "--r1", reads, "-a", design["amplicon"], "-g", design["guide"], "-o", out, "-t", "2"]
    if design.get("donor_amplicon"):
        args += ["-e", design["donor_amplicon"]]
    return CliRunner().invoke(main, [str(arg) for arg in [*args, *extra]])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("quality", ["20", "0"])
def test_segmented_quantify_writes_the_same_bytes_as_the_whole_run(
    simulated: tuple[Path, dict], tmp_path: Path, quality: str
) -> None:
    reads, truth = simulated
    whole = _quantify(reads, truth, tmp_path / "whole", "--min-base-quality", quality, "--write-vcf")
    assert whole.exit_code == 0, whole.output
    parts = _quantify(reads, truth, tmp_path / "parts", "--min-base-quality", quality, "--write-vcf",
                      "--segment-reads", SEGMENT)  # fmt: skip
    assert parts.exit_code == 0, parts.output
    expected, got = _files(tmp_path / "whole"), _files(tmp_path / "parts")
    assert sorted(got) == sorted(expected)  # no spill or segment file left in the result
    for name in expected:
        assert got[name] == expected[name], name
    assert "edits.vcf.gz" in expected  # the VCF too, its alleles streamed from the spill folder
    summary = json.loads(expected["summary.json"])
    assert summary["reads"]["input"] == READS
    # Sequences recur across segments (the unmodified read in all six): counted once, as the whole run does.
    assert 100 < summary["reads"]["unique_sequences"] < READS


def _library_run(reads: Path, truth: dict, spill: Path | None, segment_reads: int, quality: int = 20):  # type: ignore[no-untyped-def]
    design = truth["design"]
    amplicon = build_design(design["amplicon"], [design["guide"]], expected_hdr_amplicon=design.get("donor_amplicon"))
    settings = AnalysisSettings(quality=QualitySettings(min_base_quality=quality))
    told: list[int] = []
    source = FastqSingle(reads, site=GenomeSite("chr7", 1000, 1300))  # the amplicon's genome site, told
    result = run(source, [amplicon], ["s"], settings=settings, threads=1, spill=spill, segment_reads=segment_reads,
                 progress=told.append)  # fmt: skip
    return result, told


def test_segmented_run_counts_every_unique_sequence_once_and_tells_progress_in_order(
    simulated: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("editcheck.engine.run", "editcheck.reads.collapse"):
        monkeypatch.setattr(sys.modules[module], "EVERY", 500)  # progress told every 500 reads
    reads, truth = simulated
    whole, whole_told = _library_run(reads, truth, None, SEGMENT)
    parts, parts_told = _library_run(reads, truth, tmp_path / "spill", SEGMENT)
    assert whole.reads.distinct is None and parts.reads.distinct is not None  # the segments were taken
    assert parts.reads.sequences == {}  # nothing per unique sequence is kept
    assert parts.reads.unique_sequences == len(whole.reads.sequences)
    assert parts.reads.reads_in == whole.reads.reads_in == READS
    sample, expected = parts.samples[0], whole.samples[0]
    assert sample.site == expected.site == "chr7:1001-1300"
    assert list(sample.tally.alleles) == list(expected.tally.alleles)
    assert sample.tally.outcomes == expected.tally.outcomes
    assert parts_told == whole_told == list(range(500, READS + 1, 500))
    assert [path.name for path in (tmp_path / "spill").iterdir()]  # the merged alleles, read from the spill folder
    assert not list((tmp_path / "spill").rglob("*.fastq"))  # no segment left


def test_a_pool_of_two_amplicons_gives_the_same_bytes_in_segments(simulated: tuple[Path, dict], tmp_path: Path) -> None:
    reads, truth = simulated
    other = random_design(seed=43, with_donor=False)
    other_reads = tmp_path / "other.fastq"
    simulate(other, 2500, other_reads, seed=43)
    pooled = tmp_path / "pool.fastq"
    with gzip.open(reads, "rt") as first, open(pooled, "w") as out:
        shutil.copyfileobj(first, out)
        out.write(other_reads.read_text())
    sheet = tmp_path / "amplicons.tsv"
    sheet.write_text(
        "name\tamplicon\tguide\n"
        f"one\t{truth['design']['amplicon']}\t{truth['design']['guide']}\n"
        f"two\t{other.amplicon}\t{other.guide}\n"
    )
    outs = []
    for label, extra in (("whole", []), ("parts", ["--segment-reads", "1500"])):
        out = tmp_path / label
        result = CliRunner().invoke(main, ["quantify-pool", "--r1", str(pooled), "--amplicons", str(sheet), "-o",
                                           str(out), *extra])  # fmt: skip
        assert result.exit_code == 0, result.output
        outs.append(_files(out))
    assert outs[0] == outs[1]
    assignment = json.loads(outs[0]["assignment.json"])
    assert assignment["reads_in"] == READS + 2500


def _damaged_copy(reads: Path, folder: Path, record: int, compress: bool) -> Path:
    lines = gzip.decompress(reads.read_bytes()).decode().splitlines(keepends=True)
    lines[4 * (record - 1) + 1] = lines[4 * (record - 1) + 1].replace("A", "J", 1)
    path = folder / ("damaged.fastq.gz" if compress else "damaged.fastq")
    data = "".join(lines).encode()
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


@pytest.mark.parametrize("compress", [True, False])
def test_a_bad_record_in_a_later_segment_is_named_as_the_whole_file_names_it(
    simulated: tuple[Path, dict], tmp_path: Path, compress: bool
) -> None:
    reads, truth = simulated
    damaged = _damaged_copy(reads, tmp_path, 4321, compress)  # in the fifth segment
    messages = []
    for label, extra in (("whole", []), ("parts", ["--segment-reads", SEGMENT])):
        result = _quantify(damaged, truth, tmp_path / label, *extra)
        assert result.exit_code == 1
        messages.append(result.output.strip().splitlines()[-1])
        assert not (tmp_path / label).exists()
    assert messages[0] == messages[1]
    assert f"{damaged}: record 4321:" in messages[1]
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]  # no staging or spill left


def test_a_truncated_gzip_is_named_as_the_whole_file_names_it(simulated: tuple[Path, dict], tmp_path: Path) -> None:
    reads, truth = simulated
    truncated = tmp_path / "truncated.fastq.gz"
    data = reads.read_bytes()
    truncated.write_bytes(data[: int(len(data) * 0.7)])
    messages = []
    for label, extra in (("whole", []), ("parts", ["--segment-reads", SEGMENT])):
        result = _quantify(truncated, truth, tmp_path / label, *extra)
        assert result.exit_code == 1
        messages.append(result.output.strip().splitlines()[-1])
    assert messages[0] == messages[1]
    assert "truncated gzip file" in messages[1]


def test_segments_hold_the_file_record_by_record(tmp_path: Path) -> None:
    records = [f"@r{index}\n{'ACGT' * (index % 5 + 1)}\n+\n{'I' * 4 * (index % 5 + 1)}\n" for index in range(23)]
    text = "".join(records)
    for name, data in (("plain.fastq", text.encode()), ("last.fastq", text[:-1].encode()),
                       ("reads.fastq.gz", gzip.compress(text.encode(), mtime=0))):  # fmt: skip
        path = tmp_path / name
        path.write_bytes(data)
        pieces, starts = [], []
        for segment in fastq_segments(path, tmp_path / "cut", 5):
            pieces.append(segment.path.read_bytes())
            starts.append(segment.first_record)
        assert starts == [0, 5, 10, 15, 20]
        assert b"".join(pieces) == (text.encode() if name.endswith(".gz") else data)
        assert pieces[0] == "".join(records[:5]).encode()
        assert not list((tmp_path / "cut").iterdir())  # each removed once read
    exact = tmp_path / "exact.fastq"
    exact.write_text("".join(records[:20]))
    assert [segment.first_record for segment in fastq_segments(exact, tmp_path / "cut", 5)] == [0, 5, 10, 15]


def test_the_estimate_decides_which_inputs_are_segmented(simulated: tuple[Path, dict], tmp_path: Path) -> None:
    reads, _ = simulated
    plain = tmp_path / "reads.fastq"
    plain.write_bytes(gzip.decompress(reads.read_bytes()))
    for path in (reads, plain):
        assert 0.9 * READS < estimated_records(path) < 1.1 * READS
    assert segmented(FastqSingle(reads), SEGMENT)
    assert not segmented(FastqSingle(reads), 4500)  # 6,000 reads: not above 1.5 segments of 4,500
    assert segmented(FastqPaired(reads, reads), SEGMENT)  # pairs too, by R1's estimate
    with pytest.raises(ParameterError):
        segmented(FastqSingle(reads), 0)
    empty = tmp_path / "empty.fastq"
    empty.write_text("")
    assert estimated_records(empty) == 0
    with pytest.raises(InputFormatError, match=r"missing\.fastq\.gz"):
        list(fastq_segments(tmp_path / "missing.fastq.gz", tmp_path / "cut", 10))


def test_write_sample_tables_reads_the_merged_alleles_from_the_spill_folder(
    simulated: tuple[Path, dict], tmp_path: Path
) -> None:
    reads, truth = simulated
    whole, _ = _library_run(reads, truth, None, SEGMENT, quality=0)
    parts, _ = _library_run(reads, truth, tmp_path / "spill", SEGMENT, quality=0)
    write_sample_tables(whole.samples[0], tmp_path / "whole")
    write_sample_tables(parts.samples[0], tmp_path / "parts")
    assert _files(tmp_path / "whole") == _files(tmp_path / "parts")


@pytest.fixture(scope="module")
def simulated_pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """Simulated 2x150 read pairs of every outcome class, 3% of their bases below Q20, errors in the overlaps
    (mates that disagree), some not overlapping enough to merge (the 330-bp amplicon's large insertions), and
    PCR copies of few molecules (identical pairs whose qualities differ), gzipped."""
    folder = tmp_path_factory.mktemp("segmented_pairs")
    design = random_design(seed=47)
    truth = simulate(design, READS, folder / "r1.fastq.gz", folder / "r2.fastq.gz", seed=47, read_length=150,
                     low_quality_rate=0.03, error_rate=0.01, template_molecules=1500)  # fmt: skip
    return folder / "r1.fastq.gz", folder / "r2.fastq.gz", truth


@pytest.mark.parametrize("quality", ["20", "0"])
def test_segmented_read_pairs_write_the_same_bytes_as_the_whole_run(
    simulated_pairs: tuple[Path, Path, dict], tmp_path: Path, quality: str
) -> None:
    r1, r2, truth = simulated_pairs
    runs = {}
    for label, extra in (("whole", []), ("parts", ["--segment-reads", SEGMENT])):
        result = _quantify(r1, truth, tmp_path / label, "--r2", r2, "--min-base-quality", quality, *extra)
        assert result.exit_code == 0, result.output
        runs[label] = _files(tmp_path / label)
    assert sorted(runs["parts"]) == sorted(runs["whole"])
    for name in runs["whole"]:
        assert runs["parts"][name] == runs["whole"][name], name
    reads = json.loads(runs["whole"]["summary.json"])["reads"]
    assert reads["input"] == READS and reads["merged"] > 0.9 * READS
    assert 100 < reads["unique_sequences"] < READS


def test_read_pairs_out_of_step_in_a_later_segment_are_named_as_the_whole_run_names_them(
    simulated_pairs: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    r1, r2, truth = simulated_pairs
    with gzip.open(r2, "rt") as handle:
        lines = handle.read().splitlines(keepends=True)
    short = tmp_path / "short_r2.fastq.gz"
    with gzip.open(short, "wt") as handle:
        handle.writelines(lines[: 4 * 4321])  # R2 ends at pair 4,321 of 6,000: in the fifth segment
    messages = []
    for label, extra in (("whole", []), ("parts", ["--segment-reads", SEGMENT])):
        result = _quantify(r1, truth, tmp_path / label, "--r2", short, *extra)
        assert result.exit_code == 1 and not (tmp_path / label).exists()
        messages.append(result.output)
    assert messages[0] == messages[1] and "short_r2.fastq.gz" in messages[0] and "4322" in messages[0].replace(",", "")
