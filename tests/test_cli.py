"""End-to-end tests of the command line (in-process with click's CliRunner).

Every failure must end with exit code 1 and ONE line on stderr, "Error: <file>[: record N]: <problem>",
and must leave nothing behind: no output folder (or an empty one) and no hidden staging files.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from editcheck import __version__
from editcheck.cli import main
from editcheck.folders import MARKER

OUTPUT_TABLES = ("summary.tsv", "summary.json", "alleles.tsv", "positions.tsv", "indel_sizes.tsv")

# A tiny hand-made design: 90 bp amplicon, guide on + at 31-50 (1-based) with PAM TGG at 51-53,
# so the SpCas9 cut is after base 47 and the default window (3 bp either side) is 45-50.
TINY_AMPLICON = "GGATCACAGTCTACACTGCTCACTCCAACCCCGGCCCCTGAGTCCGAGGATGGGGTGCTTCAGAGTATGTATACCACTGGGTAGGATACG"
TINY_GUIDE = "CCGGCCCCTGAGTCCGAGGA"
TINY_READS = {
    "wt1": TINY_AMPLICON,
    "wt2": TINY_AMPLICON,
    "wt3": TINY_AMPLICON,
    "sub_outside_window": TINY_AMPLICON[:9] + ("A" if TINY_AMPLICON[9] != "A" else "C") + TINY_AMPLICON[10:],
    "del4": TINY_AMPLICON[:44] + TINY_AMPLICON[48:],  # deletes 1-based 45-48, across the cut
    "ins1": TINY_AMPLICON[:47] + "T" + TINY_AMPLICON[47:],  # insertion at the cut
}


# ----------------------------------------------------------------------------------------------- helpers


def _runner() -> CliRunner:
    """A runner keeping stderr apart from stdout (the default from click 8.2; an option before)."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()


def run(*args: object) -> Result:
    return _runner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def fastq_text(records: dict[str, str] | list[tuple[str, str]]) -> str:
    items = records.items() if isinstance(records, dict) else records
    return "".join(f"@{name}\n{sequence}\n+\n{'I' * len(sequence)}\n" for name, sequence in items)


def assert_one_line_error(result: Result, *fragments: str, exit_code: int = 1) -> str:
    """Exact exit code; stderr is one line starting with 'Error:' and containing every fragment."""
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout.strip() == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("Error:"), line
    assert "Traceback" not in line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def assert_no_outputs(out: Path) -> None:
    """The -o folder was not created (or holds nothing), and no staging/temporary entry is left beside it."""
    if out.exists():
        assert out.is_dir() and list(out.iterdir()) == [], sorted(p.name for p in out.iterdir())
    leftovers = [entry.name for entry in out.parent.iterdir() if entry.name.startswith(".")]
    assert leftovers == [], leftovers


def assert_no_hidden_files(out: Path) -> None:
    for folder in (out, out.parent):
        hidden = [entry.name for entry in folder.iterdir() if entry.name.startswith(".") and entry.name != MARKER]
        assert hidden == [], (folder, hidden)


def read_rows(path: Path) -> int:
    """Data rows of reads.tsv.gz (after checking its header)."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert lines[0].split("\t") == ["read_id", "outcome", "events", "base_edit"]
    return len(lines) - 1


# ---------------------------------------------------------------------------------------------- fixtures


def _simulate(folder: Path, *extra: str) -> tuple[Path, dict]:
    result = run("simulate", "-n", 200, "-o", folder, *extra)
    assert result.exit_code == 0, result.stderr
    truth = json.loads((folder / "sim.truth.json").read_text())
    return folder, truth


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """200 simulated single-end reads (sim_R1.fastq.gz, sim.amplicon.fa, sim.hdr_amplicon.fa, sim.truth.json)."""
    return _simulate(tmp_path_factory.mktemp("sim"))


@pytest.fixture(scope="module")
def sim_paired(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """200 simulated 150-bp read pairs over the 250-bp amplicon (sim_R1/sim_R2.fastq.gz)."""
    return _simulate(tmp_path_factory.mktemp("sim_paired"), "--paired")


@pytest.fixture(scope="module")
def sim_plain(sim: tuple[Path, dict]) -> list[str]:
    """The simulated single-end reads as FASTQ text lines (4 per record)."""
    folder, _ = sim
    with gzip.open(folder / "sim_R1.fastq.gz", "rt", encoding="ascii") as handle:
        return handle.read().splitlines(keepends=True)


def design_args(sim: tuple[Path, dict]) -> list[str]:
    folder, truth = sim
    return ["-a", str(folder / "sim.amplicon.fa"), "-g", truth["design"]["guide"]]


def quantify_sim(sim: tuple[Path, dict], out: Path, *extra: object) -> Result:
    folder, _ = sim
    return run("quantify", "--r1", folder / "sim_R1.fastq.gz", *design_args(sim),
               "-e", folder / "sim.hdr_amplicon.fa", "-o", out, *extra)  # fmt: skip


# --------------------------------------------------------------------------------------- 1-4: bad reads


def test_truncated_gzip(tmp_path: Path, sim_plain: list[str], sim: tuple[Path, dict]) -> None:
    data = gzip.compress("".join(sim_plain).encode("ascii"), mtime=0)
    r1 = tmp_path / "cut.fastq.gz"
    r1.write_bytes(data[:-20])
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, *design_args(sim), "-o", out)
    line = assert_one_line_error(result, "cut.fastq.gz", "truncated")
    assert "gzip" in line
    assert_no_outputs(out)


def test_malformed_record_names_record(tmp_path: Path, sim_plain: list[str], sim: tuple[Path, dict]) -> None:
    lines = list(sim_plain)
    lines[11] = lines[11].rstrip("\n")[:-5] + "\n"  # quality of record 3 five characters short
    r1 = tmp_path / "bad.fastq"
    r1.write_text("".join(lines))
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, *design_args(sim), "-o", out)
    line = assert_one_line_error(result, "bad.fastq", "record 3")
    assert "quality" in line and "differ" in line
    assert "record 30" not in line  # exactly record 3
    assert_no_outputs(out)


def test_invalid_base_names_record(tmp_path: Path) -> None:
    reads = list(TINY_READS.items())
    reads[3] = ("weird", TINY_AMPLICON[:20] + "X" + TINY_AMPLICON[21:])
    r1 = tmp_path / "tiny.fastq"
    r1.write_text(fastq_text(reads))
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "-a", TINY_AMPLICON, "-g", TINY_GUIDE, "-o", out)
    assert_one_line_error(result, "tiny.fastq", "record 4", "'X'", "position 21")
    assert_no_outputs(out)


@pytest.fixture()
def pair_files(sim_paired: tuple[Path, dict]) -> tuple[list[str], list[str]]:
    folder, _ = sim_paired
    mates = []
    for name in ("sim_R1.fastq.gz", "sim_R2.fastq.gz"):
        with gzip.open(folder / name, "rt", encoding="ascii") as handle:
            mates.append(handle.read().splitlines(keepends=True)[:40])  # first 10 reads
    return mates[0], mates[1]


def test_pairs_with_different_read_counts(tmp_path: Path, pair_files: tuple[list[str], list[str]],
                                          sim_paired: tuple[Path, dict]) -> None:  # fmt: skip
    r1_lines, r2_lines = pair_files
    r1, r2 = tmp_path / "p_R1.fastq", tmp_path / "p_R2.fastq"
    r1.write_text("".join(r1_lines))
    r2.write_text("".join(r2_lines[:36]))  # R2 one read short
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "--r2", r2, *design_args(sim_paired), "-o", out)
    line = assert_one_line_error(result, "p_R2.fastq", "record 10", "R2 ended after 9 reads")
    assert "same" in line
    assert_no_outputs(out)

    # and the other way round: R1 shorter than R2
    r1.write_text("".join(r1_lines[:36]))
    r2.write_text("".join(r2_lines))
    result = run("quantify", "--r1", r1, "--r2", r2, *design_args(sim_paired), "-o", out)
    assert_one_line_error(result, "p_R1.fastq", "record 10", "R1 ended after 9 reads")
    assert_no_outputs(out)


def test_pairs_with_different_read_names(tmp_path: Path, pair_files: tuple[list[str], list[str]],
                                         sim_paired: tuple[Path, dict]) -> None:  # fmt: skip
    r1_lines, r2_lines = pair_files
    r2_lines = list(r2_lines)
    r2_lines[16] = "@someone_else/2\n"  # header of record 5
    r1, r2 = tmp_path / "n_R1.fastq", tmp_path / "n_R2.fastq"
    r1.write_text("".join(r1_lines))
    r2.write_text("".join(r2_lines))
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "--r2", r2, *design_args(sim_paired), "-o", out)
    assert_one_line_error(result, "n_R1.fastq", "record 5", "someone_else", "n_R2.fastq", "does not match")
    assert_no_outputs(out)


def test_r2_same_file_as_r1(tmp_path: Path) -> None:
    r1 = tmp_path / "same.fastq"
    r1.write_text(fastq_text(TINY_READS))
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "--r2", r1, "-a", TINY_AMPLICON, "-g", TINY_GUIDE, "-o", out)
    assert_one_line_error(result, "same.fastq", "R2 is the same file as R1")
    assert_no_outputs(out)


@pytest.mark.parametrize(
    ("name", "content", "fragments"),
    [
        ("reads.fasta.fastq", b">r1\nACGT\n", ("looks like FASTA",)),
        ("plain.fastq.gz", b"@r1\nACGT\n+\nIIII\n", ("not a gzip file",)),
    ],
)
def test_not_fastq(tmp_path: Path, name: str, content: bytes, fragments: tuple[str, ...]) -> None:
    r1 = tmp_path / name
    r1.write_bytes(content)
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "-a", TINY_AMPLICON, "-g", TINY_GUIDE, "-o", out)
    assert_one_line_error(result, name, *fragments)
    assert_no_outputs(out)


@pytest.mark.parametrize("name", ["empty.fastq", "empty.fastq.gz"])
def test_empty_fastq(tmp_path: Path, name: str) -> None:
    r1 = tmp_path / name
    if name.endswith(".gz"):
        r1.write_bytes(gzip.compress(b"", mtime=0))
    else:
        r1.write_bytes(b"")
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "-a", TINY_AMPLICON, "-g", TINY_GUIDE, "-o", out)
    assert_one_line_error(result, name, "no reads", "empty")
    assert_no_outputs(out)


# ------------------------------------------------------------------------------------ 5-8: bad design


def test_guide_not_in_amplicon(tmp_path: Path) -> None:
    r1 = tmp_path / "tiny.fastq"
    r1.write_text(fastq_text(TINY_READS))
    out = tmp_path / "out"
    guide = "ACGTACGTACGTACGTACGT"
    result = run("quantify", "--r1", r1, "-a", TINY_AMPLICON, "-g", guide, "-o", out)
    assert_one_line_error(result, f"guide {guide}", "not in the amplicon", exit_code=1)
    assert_no_outputs(out)


def test_amplicon_with_invalid_characters(tmp_path: Path) -> None:
    r1 = tmp_path / "tiny.fastq"
    r1.write_text(fastq_text(TINY_READS))
    out = tmp_path / "out"
    amplicon = "ACGTX" + TINY_AMPLICON
    result = run("quantify", "--r1", r1, "-a", amplicon, "-o", out)
    assert_one_line_error(result, "amplicon", "outside ACGTN", "'X'")
    assert_no_outputs(out)


def test_amplicon_fasta_with_invalid_characters(tmp_path: Path) -> None:
    r1 = tmp_path / "tiny.fastq"
    r1.write_text(fastq_text(TINY_READS))
    fasta = tmp_path / "amp.fa"
    fasta.write_text(">amp\nACGTXACGT" + TINY_AMPLICON + "\n")
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "-a", fasta, "-g", TINY_GUIDE, "-o", out)
    assert_one_line_error(result, "amplicon", "outside ACGTN", "'X'")
    assert_no_outputs(out)


def test_missing_r1(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("quantify", "--r1", tmp_path / "absent_R1.fastq.gz", "-a", TINY_AMPLICON, "-g", TINY_GUIDE, "-o", out)
    assert_one_line_error(result, "absent_R1.fastq.gz", "not found")
    assert_no_outputs(out)


def test_missing_r2(tmp_path: Path) -> None:
    r1 = tmp_path / "tiny.fastq"
    r1.write_text(fastq_text(TINY_READS))
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "--r2", tmp_path / "absent_R2.fastq", "-a", TINY_AMPLICON, "-o", out)
    assert_one_line_error(result, "absent_R2.fastq", "not found")
    assert_no_outputs(out)


@pytest.mark.parametrize(
    ("window", "fragments"),
    [
        ("500-600", ("window", "500-600", "outside the amplicon", "1-90")),
        ("abc", ("window", "'abc'", "expected 1-based ranges")),
        ("50-40", ("window", "50-40", "reversed")),
        ("0-10", ("window", "0-10", "outside the amplicon")),
    ],
)
def test_bad_window(tmp_path: Path, window: str, fragments: tuple[str, ...]) -> None:
    r1 = tmp_path / "tiny.fastq"
    r1.write_text(fastq_text(TINY_READS))
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "-a", TINY_AMPLICON, "-g", TINY_GUIDE, "-w", window, "-o", out)
    assert_one_line_error(result, *fragments)
    assert_no_outputs(out)


# --------------------------------------------------------------------------------------- 9-11: success


def test_tiny_design_counts(tmp_path: Path) -> None:
    """Hand-made reads with known outcomes: 4 unmodified (one with a substitution outside the window), 2 edited."""
    r1 = tmp_path / "tiny.fastq"
    r1.write_text(fastq_text(TINY_READS))
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "-a", TINY_AMPLICON, "-g", TINY_GUIDE, "--write-reads", "-o", out)
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sample"] == "tiny"
    assert summary["design"]["guides"] == [
        {"sequence": TINY_GUIDE, "start": 31, "end": 50, "strand": "+", "cut_after": 47}
    ]
    assert summary["design"]["window"] == ["45-50"]
    assert summary["reads"]["input"] == 6 and summary["reads"]["classified"] == 6
    assert summary["outcomes"]["unmodified"]["reads"] == 4
    assert summary["outcomes"]["modified"]["reads"] == 2
    assert summary["edited"]["reads"] == 2 and summary["edited"]["total"] == 6
    with gzip.open(out / "reads.tsv.gz", "rt") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle][1:]
    assert [row[0] for row in rows] == list(TINY_READS)
    outcomes = {row[0]: row[1] for row in rows}
    assert outcomes == {"wt1": "unmodified", "wt2": "unmodified", "wt3": "unmodified",
                        "sub_outside_window": "unmodified", "del4": "modified", "ins1": "modified"}  # fmt: skip
    assert "del" in dict((row[0], row[2]) for row in rows)["del4"]
    assert "ins" in dict((row[0], row[2]) for row in rows)["ins1"]


def test_quantify_writes_all_outputs(tmp_path: Path, sim: tuple[Path, dict]) -> None:
    out = tmp_path / "out"
    result = quantify_sim(sim, out, "--write-reads")
    assert result.exit_code == 0, result.stderr
    names = sorted(entry.name for entry in out.iterdir())
    assert names == sorted([*OUTPUT_TABLES, "reads.tsv.gz", MARKER])
    for name in OUTPUT_TABLES:
        assert (out / name).stat().st_size > 0, name
    assert_no_hidden_files(out)
    assert read_rows(out / "reads.tsv.gz") == 200
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reads"]["input"] == 200
    assert summary["reads"]["paired"] is False
    assert summary["sample"] == "sim"
    assert summary["editcheck_version"] == __version__
    header = (out / "summary.tsv").read_text().splitlines()[0]
    assert header.split("\t") == ["sample", "group", "name", "reads", "total", "percent", "ci95_low", "ci95_high"]

    # without --write-reads: the five tables only
    plain = tmp_path / "plain"
    result = quantify_sim(sim, plain)
    assert result.exit_code == 0, result.stderr
    assert sorted(entry.name for entry in plain.iterdir()) == sorted([*OUTPUT_TABLES, MARKER])
    assert_no_hidden_files(plain)


def test_quantify_output_folder_is_created_with_parents(tmp_path: Path, sim: tuple[Path, dict]) -> None:
    out = tmp_path / "deep" / "er" / "out"
    result = quantify_sim(sim, out)
    assert result.exit_code == 0, result.stderr
    assert sorted(entry.name for entry in out.iterdir()) == sorted([*OUTPUT_TABLES, MARKER])
    assert_no_hidden_files(out)


def test_quantify_is_deterministic(tmp_path: Path, sim: tuple[Path, dict]) -> None:
    folders = {}
    for label, threads in (("a", 1), ("b", 1), ("c", 2)):
        folders[label] = tmp_path / label
        result = quantify_sim(sim, folders[label], "--write-reads", "-t", threads)
        assert result.exit_code == 0, result.stderr
    reference = {entry.name: entry.read_bytes() for entry in folders["a"].iterdir()}
    assert "reads.tsv.gz" in reference and len(reference) == 7  # six tables and the result-folder marker
    for label in ("b", "c"):
        other = {entry.name: entry.read_bytes() for entry in folders[label].iterdir()}
        assert other.keys() == reference.keys()
        for name, content in reference.items():
            assert other[name] == content, (label, name)


def test_rerun_into_same_folder_overwrites(tmp_path: Path, sim: tuple[Path, dict]) -> None:
    out = tmp_path / "out"
    assert quantify_sim(sim, out).exit_code == 0
    first = {entry.name: entry.read_bytes() for entry in out.iterdir()}
    (out / "summary.tsv").write_text("stale\n")
    (out / "alleles.tsv").write_text("stale\n")

    result = quantify_sim(sim, out)
    assert result.exit_code == 0, result.stderr
    second = {entry.name: entry.read_bytes() for entry in out.iterdir()}
    assert second == first
    assert_no_hidden_files(out)

    # a changed analysis into the same folder replaces the results
    result = quantify_sim(sim, out, "--sample", "renamed")
    assert result.exit_code == 0, result.stderr
    assert json.loads((out / "summary.json").read_text())["sample"] == "renamed"
    assert (out / "summary.tsv").read_text().splitlines()[1].startswith("renamed\t")
    assert_no_hidden_files(out)


def test_failed_rerun_keeps_previous_results(tmp_path: Path, sim: tuple[Path, dict]) -> None:
    out = tmp_path / "out"
    assert quantify_sim(sim, out).exit_code == 0
    before = {entry.name: entry.read_bytes() for entry in out.iterdir()}
    bad = tmp_path / "bad.fastq"
    bad.write_text("@r1\nACGT\n+\nII\n")
    result = run("quantify", "--r1", bad, *design_args(sim), "-o", out)
    assert_one_line_error(result, "bad.fastq", "record 1")
    assert {entry.name: entry.read_bytes() for entry in out.iterdir()} == before
    assert_no_hidden_files(out)


def test_output_folder_below_a_regular_file(tmp_path: Path) -> None:
    r1 = tmp_path / "tiny.fastq"
    r1.write_text(fastq_text(TINY_READS))
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder\n")
    result = run("quantify", "--r1", r1, "-a", TINY_AMPLICON, "-g", TINY_GUIDE, "-o", blocker / "out")
    assert_one_line_error(result, "blocker")
    assert [entry.name for entry in tmp_path.iterdir() if entry.name.startswith(".")] == []


# ----------------------------------------------------------------------------------------- 12: help


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"editcheck, version {__version__}"
    # One version: the package metadata is read from editcheck/_version.py, which `import editcheck` reads without
    # loading importlib.metadata (a command starts ~30 ms sooner).
    assert importlib.metadata.version("editcheck") == __version__
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, editcheck; print('importlib.metadata' in sys.modules)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert loaded.stdout.strip() == "False"


_BLAS_AT_NUMPY = """
import os, sys
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            print(os.environ.get("OPENBLAS_NUM_THREADS"))
        return None
sys.meta_path.insert(0, Watch())
import editcheck.cli
"""


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("3", "3")])
def test_the_command_line_loads_numpy_with_one_blas_thread_unless_told(given: str | None, expected: str) -> None:
    # OpenBLAS starts (and spins) a thread per core when numpy is loaded: ~0.1 CPU s per command for nothing.
    environment = {key: value for key, value in os.environ.items() if key != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        environment["OPENBLAS_NUM_THREADS"] = given
    seen = subprocess.run(
        [sys.executable, "-c", _BLAS_AT_NUMPY], capture_output=True, text=True, check=True, env=environment
    )
    assert seen.stdout.split() == [expected]  # as numpy was first imported


@pytest.mark.parametrize("args", [[]] + [[name] for name in sorted(main.commands)])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(args: list[str], flag: str) -> None:
    result = run(*args, flag)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Usage:")
    assert result.stderr == ""


def test_subcommands() -> None:
    assert isinstance(main, click.Group)
    assert {"quantify", "quantify-pool", "simulate"} <= set(main.commands)


# ------------------------------------------------------------------------------------ 13: paired-end


def test_paired_end_success(tmp_path: Path, sim_paired: tuple[Path, dict]) -> None:
    folder, truth = sim_paired
    assert truth["paired"] is True
    out = tmp_path / "out"
    result = run("quantify", "--r1", folder / "sim_R1.fastq.gz", "--r2", folder / "sim_R2.fastq.gz",
                 *design_args(sim_paired), "-e", folder / "sim.hdr_amplicon.fa", "--write-reads", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert sorted(entry.name for entry in out.iterdir()) == sorted([*OUTPUT_TABLES, "reads.tsv.gz", MARKER])
    assert_no_hidden_files(out)
    reads = json.loads((out / "summary.json").read_text())["reads"]
    assert reads["paired"] is True
    assert reads["input"] == 200
    assert reads["merged"] + reads["unmerged"] == 200
    assert reads["merged"] >= 190  # 2 x 150 bp over a 250 bp amplicon: (almost) every pair overlaps
    assert reads["classified"] >= reads["merged"] - 5
    assert read_rows(out / "reads.tsv.gz") == 200
    summary_rows = {row.split("\t")[2]: row.split("\t")[3] for row in (out / "summary.tsv").read_text().splitlines()[1:]
                    if row.split("\t")[1] == "reads"}  # fmt: skip
    assert summary_rows["merged"] == str(reads["merged"])


def test_small_samples_carry_a_warning(tmp_path: Path) -> None:
    r1 = tmp_path / "tiny.fastq"
    r1.write_text(fastq_text(TINY_READS))
    out = tmp_path / "out"
    result = run("quantify", "--r1", r1, "-a", TINY_AMPLICON, "-g", TINY_GUIDE, "-o", out)
    assert result.exit_code == 0
    warnings = json.loads((out / "summary.json").read_text())["warnings"]
    assert any("cover the window" in warning for warning in warnings)
    assert "warning:" in result.stderr
