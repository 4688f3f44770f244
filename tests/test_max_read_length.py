"""The maximum read length: a read longer than it is refused by every reader with one line naming the file and
the record, before it is held whole (a child process's peak memory shows it), and a read at it is accepted."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pysam
import pytest
from click.testing import CliRunner, Result

from editcheck.cli import main
from editcheck.engine.sources import BamSite, FastqPaired, FastqSingle
from editcheck.errors import InputFormatError, ParameterError
from editcheck.reads import collapse, pair_chunks
from editcheck.reads.alignments import GenomeSite, iter_site_fragments
from editcheck.reads.fastq import iter_paired, iter_single, iter_single_batches
from editcheck.reads.merge import MergeSettings
from editcheck.reads.read_length import MAX_READ_LENGTH, check_max_read_length, record_bytes

SOURCE = Path(__file__).resolve().parents[1] / "src"
AMPLICON = "GGATCACAGTCTACACTGCTCACTCCAACCCCGGCCCCTGAGTCCGAGGATGGGGTGCTTCAGAGTATGTATACCACTGGGTAGGATACG"
GUIDE = "CCGGCCCCTGAGTCCGAGGA"
RECORDS = 30
LONG_AT = 12
"""The over-long read is record 12 of 30 (in a batch of the Python reader and a block of the compiled one)."""


def _long_read(length: int) -> str:
    return (AMPLICON * (length // len(AMPLICON) + 1))[:length]


def _fastq(path: Path, long_length: int | None, mate: int = 0) -> Path:
    """RECORDS reads of the amplicon, record LONG_AT ``long_length`` bases instead (None: all amplicons)."""
    text = ""
    for number in range(1, RECORDS + 1):
        sequence = _long_read(long_length) if number == LONG_AT and long_length is not None else AMPLICON
        name = f"r{number}" + (f" {mate}:N:0:1" if mate else "")
        text += f"@{name}\n{sequence}\n+\n{'I' * len(sequence)}\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode(), compresslevel=1))
    else:
        path.write_text(text)
    return path


def _message(path: Path, length: int, limit: int = MAX_READ_LENGTH) -> str:
    return (
        f"{path}: record {LONG_AT}: read of {length:,} bases is longer than the maximum read length "
        f"({limit:,}; --max-read-length)"
    )


@pytest.fixture(params=["compiled", "python"])
def route(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The compiled readers (when built), or the pure-Python reference readers as EDITCHECK_PURE_PYTHON=1 picks."""
    if request.param == "python":
        monkeypatch.setattr(collapse, "_BLOCK_COUNTER", None)
        monkeypatch.setattr(pair_chunks, "split_records", None)
    elif collapse._BLOCK_COUNTER is None or pair_chunks.split_records is None:
        pytest.skip("the compiled extensions are not built")
    return str(request.param)


def _run(*args: object) -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def _quantify(out: Path, *reads: Path, extra: tuple[object, ...] = ()) -> Result:
    files = ["--r1", reads[0]] + (["--r2", reads[1]] if len(reads) > 1 else [])
    return _run("quantify", *files, "-a", AMPLICON, "-g", GUIDE, "-t", 1, "-o", out, *extra)


def _assert_refused(result: Result, message: str, out: Path) -> None:
    assert result.exit_code == 1, (result.exit_code, result.stderr)
    assert result.stderr == f"Error: {message}\n"
    assert not out.exists()
    assert [entry.name for entry in out.parent.iterdir() if entry.name.startswith(".")] == []


@pytest.mark.parametrize("suffix", [".fastq", ".fastq.gz"])
def test_quantify_refuses_a_single_end_read_over_the_limit(route: str, suffix: str, tmp_path: Path) -> None:
    reads = _fastq(tmp_path / f"reads{suffix}", MAX_READ_LENGTH + 1)
    out = tmp_path / "out"
    _assert_refused(_quantify(out, reads), _message(reads, MAX_READ_LENGTH + 1), out)


@pytest.mark.parametrize("suffix", [".fastq", ".fastq.gz"])
def test_quantify_refuses_a_paired_read_over_the_limit(route: str, suffix: str, tmp_path: Path) -> None:
    r1 = _fastq(tmp_path / f"r1{suffix}", None, 1)
    r2 = _fastq(tmp_path / f"r2{suffix}", MAX_READ_LENGTH + 1, 2)
    out = tmp_path / "out"
    _assert_refused(_quantify(out, r1, r2), _message(r2, MAX_READ_LENGTH + 1), out)
    _assert_refused(_quantify(out, r2, r1), _message(r2, MAX_READ_LENGTH + 1), out)  # the long read in R1


def test_a_read_at_the_limit_is_accepted_one_base_more_refused(route: str, tmp_path: Path) -> None:
    over = _fastq(tmp_path / "over.fastq.gz", MAX_READ_LENGTH + 1)
    _assert_refused(_quantify(tmp_path / "over", over), _message(over, MAX_READ_LENGTH + 1), tmp_path / "over")
    reads = _fastq(tmp_path / "reads.fastq.gz", MAX_READ_LENGTH)
    result = _quantify(tmp_path / "single", reads)
    assert result.exit_code == 0, result.stderr
    r1 = _fastq(tmp_path / "r1.fastq.gz", None, 1)
    r2 = _fastq(tmp_path / "r2.fastq.gz", MAX_READ_LENGTH, 2)
    result = _quantify(tmp_path / "paired", r1, r2)
    assert result.exit_code == 0, result.stderr
    for folder in ("single", "paired"):
        reads = json.loads((tmp_path / folder / "summary.json").read_text())["reads"]
        assert reads["input"] == RECORDS


def test_the_option_sets_the_limit(route: str, tmp_path: Path) -> None:
    reads = _fastq(tmp_path / "reads.fastq", 500)
    out = tmp_path / "out"
    _assert_refused(_quantify(out, reads, extra=("--max-read-length", 499)), _message(reads, 500, 499), out)
    assert _quantify(out, reads, extra=("--max-read-length", 500)).exit_code == 0
    refused = _quantify(tmp_path / "zero", reads, extra=("--max-read-length", 0))
    assert refused.exit_code == 2 and "--max-read-length" in refused.stderr


def test_quantify_pool_refuses_it_and_takes_the_option(route: str, tmp_path: Path) -> None:
    sheet = tmp_path / "amplicons.tsv"
    sheet.write_text(f"name\tamplicon\tguide\na\t{AMPLICON}\t{GUIDE}\nb\t{AMPLICON[::-1]}\t{GUIDE[::-1]}\n")
    reads = _fastq(tmp_path / "reads.fastq.gz", 501)
    out = tmp_path / "out"
    result = _run("quantify-pool", "--r1", reads, "--amplicons", sheet, "-t", 1, "-o", out, "--max-read-length", 500)
    _assert_refused(result, _message(reads, 501, 500), out)
    result = _run("quantify-pool", "--r1", reads, "--amplicons", sheet, "-t", 1, "-o", out, "--max-read-length", 501)
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("paired", [False, True])
def test_pure_python_command_refuses_it(paired: bool, tmp_path: Path) -> None:
    """EDITCHECK_PURE_PYTHON=1 in a process of its own: the message and the exit code of the real command."""
    reads = [_fastq(tmp_path / "r1.fastq.gz", None if paired else MAX_READ_LENGTH + 1, 1)]
    if paired:
        reads.append(_fastq(tmp_path / "r2.fastq.gz", MAX_READ_LENGTH + 1, 2))
    files = ["--r1", str(reads[0])] + (["--r2", str(reads[1])] if paired else [])
    out = tmp_path / "out"
    command = [sys.executable, "-m", "editcheck", "quantify", *files, "-a", AMPLICON, "-g", GUIDE, "-o", str(out)]
    environment = {**os.environ, "EDITCHECK_PURE_PYTHON": "1", "PYTHONPATH": str(SOURCE)}
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 1, finished.stderr
    assert finished.stderr.strip().splitlines()[-1] == f"Error: {_message(reads[-1], MAX_READ_LENGTH + 1)}"
    assert not out.exists()


def test_every_python_reader_refuses_it_at_its_record(tmp_path: Path) -> None:
    reads = _fastq(tmp_path / "reads.fastq", 91)
    mates = _fastq(tmp_path / "mates.fastq", None)
    expected = _message(reads, 91, 90)
    for reading in (
        lambda: list(iter_single(reads, 90)),
        lambda: list(iter_single_batches(reads, max_read_length=90, size=7)),
        lambda: list(iter_single_batches(reads, max_read_length=90, skip=5)),
        lambda: list(iter_paired(mates, reads, 90)),
        lambda: list(iter_paired(reads, mates, 90)),
        lambda: collapse.collapse_single(reads, collapse.QualitySettings(min_mean_quality=20), max_read_length=90),
    ):
        with pytest.raises(InputFormatError) as raised:
            reading()
        assert str(raised.value) == expected
    assert len(list(iter_single(reads, 91))) == RECORDS
    assert len(list(iter_paired(mates, reads, 91))) == RECORDS


def test_an_earlier_problem_in_the_batch_is_named_first(tmp_path: Path) -> None:
    """The first problem in file order is the one reported, as before."""
    path = _fastq(tmp_path / "reads.fastq", 91)
    lines = path.read_text().splitlines(keepends=True)
    lines[4 * 4 + 1] = "ACGTX" + lines[4 * 4 + 1][5:]  # record 5
    path.write_text("".join(lines))
    with pytest.raises(InputFormatError, match="record 5: sequence has 'X' at position 5"):
        list(iter_single_batches(path, max_read_length=90))


def test_the_compiled_counter_leaves_a_long_read_to_the_python_reader() -> None:
    counter_type = collapse._BLOCK_COUNTER
    if counter_type is None:
        pytest.skip("the compiled extensions are not built")
    record = b"@r\n" + b"A" * 61 + b"\n+\n" + b"I" * 61 + b"\n"
    assert counter_type(print, None, 1, 61).feed(bytearray(record), len(record), True) == len(record)
    assert counter_type(print, None, 1, 60).feed(bytearray(record), len(record), True) == -1
    # A record not whole in the block, already longer than any record of reads of the limit: no waiting for more.
    partial = b"@r\n" + b"A" * (record_bytes(60) + 1)
    assert counter_type(print, None, 1, 60).feed(bytearray(partial), len(partial), False) == -1
    assert counter_type(print, None, 1, 60).feed(bytearray(partial[:100]), 100, False) == 0  # waits for more


def test_a_chunk_with_a_long_read_is_left_to_the_per_read_loop() -> None:
    chunk1 = b"".join(b"@r%d\n%s\n+\n%s\n" % (n, b"A" * 61, b"I" * 61) for n in range(3))
    chunk2 = chunk1.replace(b"A", b"C")
    assert pair_chunks.count_pair_chunk(chunk1, chunk2, 0, MergeSettings(), max_read_length=61) is not None
    assert pair_chunks.count_pair_chunk(chunk1, chunk2, 0, MergeSettings(), max_read_length=60) is None


def test_bam_reads_over_the_limit_are_refused(tmp_path: Path) -> None:
    genome = "ACGT" * 100
    sam = tmp_path / "reads.sam"
    header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{len(genome)}\n"
    rows = [
        f"short\t0\tchr1\t11\t60\t50M\t*\t0\t0\t{genome[10:60]}\t{'I' * 50}\n",
        f"long\t0\tchr1\t21\t60\t61M\t*\t0\t0\t{genome[20:81]}\t{'I' * 61}\n",
    ]
    sam.write_text(header + "".join(rows))
    bam = tmp_path / "reads.bam"
    pysam.view("-b", "-o", str(bam), str(sam), catch_stdout=False)
    pysam.index(str(bam))
    site = GenomeSite.parse("chr1:30-40")
    assert len(list(iter_site_fragments(bam, site, max_read_length=61))) == 2
    with pytest.raises(InputFormatError) as raised:
        list(iter_site_fragments(bam, site, max_read_length=60))
    assert str(raised.value) == (
        f"{bam}: read 'long' at chr1:21 of 61 bases is longer than the maximum read length (60; --max-read-length)"
    )


@pytest.mark.parametrize("value", [0, -5, 1.5, True, "100"])
def test_the_limit_must_be_a_positive_whole_number(value: object) -> None:
    with pytest.raises(ParameterError, match="maximum read length must be a positive whole number"):
        check_max_read_length(value)
    for source in (
        lambda: FastqSingle("r1.fastq", max_read_length=value),
        lambda: FastqPaired("r1.fastq", "r2.fastq", max_read_length=value),
        lambda: BamSite("reads.bam", GenomeSite.parse("chr1:30-40"), max_read_length=value),
    ):  # a source made directly checks its limit too, not only read_source
        with pytest.raises(ParameterError, match="maximum read length must be a positive whole number"):
            source()


_MEMORY_SCRIPT = """
import resource, sys
from editcheck.errors import InputFormatError
from editcheck.reads.collapse import QualitySettings, collapse_paired, collapse_single
paths = sys.argv[2:]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    if sys.argv[1] == "paired":
        collapse_paired(*paths)
    else:
        collapse_single(paths[0], QualitySettings(min_base_quality=0))
except InputFormatError as error:
    print(error.record, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


@pytest.mark.parametrize(("pure", "paired"), [("", False), ("1", False), ("", True)])
def test_a_50_mb_read_is_refused_in_bounded_memory(pure: str, paired: bool, tmp_path: Path) -> None:
    """The 50-Mb read of record 12 is refused with the peak memory (a child process's maximum resident set)
    grown by less than 16 MB: reading it whole took 2 x 50 MB for the record, and dnaio's buffer twice that."""
    length = 50_000_000
    mates = _fastq(tmp_path / "mates.fastq.gz", None, 1)
    reads = _fastq(tmp_path / "reads.fastq.gz", length, 2)
    environment = {**os.environ, "EDITCHECK_PURE_PYTHON": pure, "PYTHONPATH": str(SOURCE)}
    arguments = ["paired", str(mates), str(reads)] if paired else ["single", str(reads)]
    command = [sys.executable, "-c", _MEMORY_SCRIPT, *arguments]
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120, check=True)
    record, grown_kb = map(int, finished.stdout.split())
    assert record == LONG_AT
    assert grown_kb < 16_000, grown_kb
