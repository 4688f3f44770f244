"""Bad, faulty and hostile input (issue #8): nothing written outside the output folder, all-or-nothing
results, one-line errors instead of tracebacks.

The first part has one test per numbered item of the issue (each failed before the fix); then the
catalogue's classes (bad FASTQ, bad design, bad sheets, faults, hostile names, resource abuse) as
parametrised cases, and a seeded fuzz test of mutated FASTQ and sheet files. Commands run in-process
(click's CliRunner) unless the test needs a real process (signals, resource limits).
"""

from __future__ import annotations

import errno
import gzip
import json
import logging
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from editcheck import simulate
from editcheck.cli import main
from editcheck.errors import ParameterError
from editcheck.folders import MARKER, output_folder, safe_name, safe_names

FIRST = simulate.random_design(seed=1, with_donor=False)
SECOND = simulate.random_design(seed=2, with_donor=False)
HOSTILE_NAMES = [
    "..",
    ".",
    "/abs/x",
    "../../escape",
    "a\\b",
    "two words",
    "ünïcødé-名前",
    "$(touch PWNED);rm -rf x|y`z`",
    ".hidden",
    "a/b",
]


# ----------------------------------------------------------------------------------------------- helpers


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        return CliRunner()


def run(*args: object, catch: bool = False) -> Result:
    return _runner().invoke(main, [str(arg) for arg in args], catch_exceptions=catch)


def one_line_error(result: Result, *fragments: str) -> str:
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def fastq(path: Path, sequences: list[str]) -> Path:
    path.write_text(
        "".join(f"@r{number}\n{sequence}\n+\n{'I' * len(sequence)}\n" for number, sequence in enumerate(sequences))
    )
    return path


def edited(design: simulate.SimulationDesign) -> str:
    """The amplicon with 4 bases deleted across the cut (17 nt into the protospacer)."""
    cut = design.amplicon.find(design.guide) + 17
    return design.amplicon[: cut - 2] + design.amplicon[cut + 2 :]


def snapshot(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*")}


def assert_only_inside(before: set[Path], root: Path, out: Path) -> None:
    """Every path created under ``root`` lies inside ``out`` (or is ``out`` or one of its parents)."""
    created = snapshot(root) - before
    outside = [path for path in created if path != out and out not in path.parents and path not in out.parents]
    assert outside == [], outside


def pool_sheet(path: Path, names: list[str], designs: list[simulate.SimulationDesign] | None = None) -> Path:
    designs = designs or [FIRST, SECOND]
    rows = [f"{name}\t{design.amplicon}\t{design.guide}" for name, design in zip(names, designs)]
    path.write_text("name\tamplicon\tguide\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def pool_reads(tmp_path: Path) -> Path:
    return fastq(tmp_path / "pool.fastq", [FIRST.amplicon] * 6 + [edited(FIRST)] * 2 + [SECOND.amplicon] * 5)


def panel_inputs(folder: Path, samples: list[str], sites: list[str]) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    treated = fastq(folder / "treated.fastq", [edited(FIRST)] * 8 + [FIRST.amplicon] * 2 + [SECOND.amplicon] * 6)
    control = fastq(folder / "control.fastq", [FIRST.amplicon] * 10 + [SECOND.amplicon] * 6)
    (folder / "sites.tsv").write_text(
        "site_id\tamplicon\tprotospacer\ton_target\n"
        f"{sites[0]}\t{FIRST.amplicon}\t{FIRST.guide}\tyes\n{sites[1]}\t{SECOND.amplicon}\t{SECOND.guide}\tno\n",
        encoding="utf-8",
    )
    (folder / "samples.tsv").write_text(
        f"sample\tcondition\tr1\n{samples[0]}\ttreated\t{treated}\n{samples[1]}\tcontrol\t{control}\n", encoding="utf-8"
    )
    return folder / "sites.tsv", folder / "samples.tsv"


def quantify_args(reads: Path, out: Path) -> list[object]:
    return ["quantify", "--r1", reads, "-a", FIRST.amplicon, "-g", FIRST.guide, "-o", out]


# ------------------------------------------------------------------------ 1. path traversal, safe names


def test_safe_name_is_stable_unique_and_plain() -> None:
    assert safe_name("HEK3_site-1.v2") == "HEK3_site-1.v2"  # plain names are kept
    mapped = {name: safe_name(name) for name in HOSTILE_NAMES}
    for name, folder in mapped.items():
        assert "/" not in folder and "\\" not in folder and not folder.startswith(".") and folder.isascii(), folder
        assert folder == safe_name(name)  # stable
    assert len(set(mapped.values())) == len(mapped)  # distinct names stay distinct
    assert safe_name("a b") != safe_name("a_b") == "a_b"
    with pytest.raises(ParameterError, match="empty"):
        safe_name("")
    with pytest.raises(ParameterError, match="'Amp' and 'amp' would share the output folder"):
        safe_names(["Amp", "amp"], "amplicon")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_pool_amplicon_names_never_escape_the_output_folder(tmp_path: Path, pool_reads: Path, name: str) -> None:
    if name == "/abs/x":
        name = str(tmp_path / "abs" / "x")
    work = tmp_path / "work" / "deeper"
    work.mkdir(parents=True)
    sheet = pool_sheet(tmp_path / "amplicons.tsv", [name, "second"])
    out = work / "out"
    before = snapshot(tmp_path)
    result = run("quantify-pool", "--r1", pool_reads, "--amplicons", sheet, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert_only_inside(before, tmp_path, out)
    rows = [line.split("\t") for line in (out / "pool_summary.tsv").read_text(encoding="utf-8").splitlines()]
    assert rows[0][-1] == "folder"
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name[name][1] == "8" and by_name["second"][1] == "5"  # the original name stays in the table
    folder = by_name[name][-1]
    assert folder == safe_name(name) and (out / folder / "summary.json").is_file()
    assert json.loads((out / folder / "summary.json").read_text())["design"]["amplicon_name"] == name
    assert not (tmp_path / "PWNED").exists() and not (work / "PWNED").exists()


@pytest.mark.parametrize("name", ["..", ".", "/abs/x", "../x", "a\\b", "x y;$(id)", "é"])
def test_offtarget_sample_and_site_names_never_escape_and_report_reads_them(tmp_path: Path, name: str) -> None:
    if name == "/abs/x":
        name = str(tmp_path / "abs" / "x")
    sites, samples = panel_inputs(tmp_path / "in", [name, "control_1"], [name, "OT1"])
    out = tmp_path / "work" / "panel"
    before = snapshot(tmp_path)
    result = run("offtarget", "--sites", sites, "--samples", samples, "--min-site-reads", 1, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert_only_inside(before, tmp_path, out)
    calls = json.loads((out / "offtarget_calls.json").read_text())
    assert {site["site"] for site in calls["sites"]} == {name, "OT1"}
    treated = out / "samples" / safe_name(name)
    assert json.loads((treated / "assignment.json").read_text())["assigned"] == {name: 10, "OT1": 6}
    assert (treated / safe_name(name) / "summary.json").is_file()
    # the report finds the per-sample folders by the same mapping
    report = tmp_path / "work" / "report"
    result = run("report", "--offtarget", out, "-o", report)
    assert result.exit_code == 0, result.stderr
    assert (report / "report.html").is_file()


def test_names_sharing_a_folder_or_empty_are_refused(tmp_path: Path, pool_reads: Path) -> None:
    sheet = pool_sheet(tmp_path / "amplicons.tsv", ["Amp", "amp"])
    one_line_error(run("quantify-pool", "--r1", pool_reads, "--amplicons", sheet, "-o", tmp_path / "o"),
                   "'Amp' and 'amp' would share the output folder")  # fmt: skip
    sites, samples = panel_inputs(tmp_path / "in", ["S", "s"], ["A", "B"])
    one_line_error(run("offtarget", "--sites", sites, "--samples", samples, "-o", tmp_path / "o"), "'S' and 's'")
    assert not (tmp_path / "o").exists()


def test_simulate_prefix_cannot_name_another_folder(tmp_path: Path) -> None:
    one_line_error(run("simulate", "-n", 5, "--prefix", "../escape", "-o", tmp_path / "sim"), "--prefix '../escape'")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 3. all or nothing, 4. existing folder


def _failing_write(monkeypatch: pytest.MonkeyPatch, module: object, name: str, fail_on: str) -> None:
    """Make ``module.write_tsv``/``write_json`` fail like a full disk when writing ``fail_on``."""
    original = getattr(module, name)

    def write(path: Path, *args: object, **kwargs: object) -> None:
        if Path(path).name == fail_on:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(path, *args, **kwargs)

    monkeypatch.setattr(module, name, write)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_pool_disk_full_midway_leaves_the_previous_result_untouched(tmp_path: Path, pool_reads: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from editcheck.results import pool as pool_results

    sheet = pool_sheet(tmp_path / "amplicons.tsv", ["first", "second"])
    out = tmp_path / "out"
    assert run("quantify-pool", "--r1", pool_reads, "--amplicons", sheet, "-o", out).exit_code == 0
    previous = tree(out)
    other = fastq(tmp_path / "other.fastq", [SECOND.amplicon] * 3)
    _failing_write(monkeypatch, pool_results, "write_tsv", "pool_summary.tsv")
    line = one_line_error(
        run("quantify-pool", "--r1", other, "--amplicons", sheet, "-o", out), "No space left on device"
    )
    assert line == f"Error: {out}: cannot write the result: No space left on device"  # not "None: ..."
    assert tree(out) == previous  # no amplicon folder of the failed run mixed into the old result
    assert [entry.name for entry in tmp_path.iterdir() if entry.name.startswith(".")] == []


def test_offtarget_disk_full_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from editcheck.results import offtarget as panel_results

    sites, samples = panel_inputs(tmp_path / "in", ["T1", "C1"], ["ON", "OT1"])
    _failing_write(monkeypatch, panel_results, "write_tsv", "offtarget_calls.tsv")
    out = tmp_path / "panel"
    one_line_error(
        run("offtarget", "--sites", sites, "--samples", samples, "-o", out), f"{out}: cannot write the result"
    )
    assert not out.exists()  # no per-sample folders that look complete
    assert [entry.name for entry in tmp_path.iterdir() if entry.name.startswith(".")] == []


def test_existing_result_is_replaced_whole_and_other_folders_are_refused(tmp_path: Path, pool_reads: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    out = tmp_path / "out"
    sheet = pool_sheet(tmp_path / "amplicons.tsv", ["first", "second"])
    assert run("quantify-pool", "--r1", pool_reads, "--amplicons", sheet, "-o", out).exit_code == 0
    renamed = pool_sheet(tmp_path / "renamed.tsv", ["FANC", "second"])
    with caplog.at_level(logging.INFO, logger="editcheck"):
        result = run("quantify-pool", "--r1", pool_reads, "--amplicons", renamed, "-o", out)
    assert result.exit_code == 0
    assert f"replacing the earlier result in {out}" in caplog.text
    assert sorted(entry.name for entry in out.iterdir()) == sorted(
        [MARKER, "FANC", "second", "assignment.json", "pool_summary.tsv"]
    )
    # a folder that is not an editcheck result is never merged into or replaced
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    one_line_error(
        run(*quantify_args(pool_reads, mine)), f"{mine}: folder exists and is not an editcheck result folder"
    )
    assert [entry.name for entry in mine.iterdir()] == ["notes.txt"]
    # an empty folder (as Snakemake creates) is fine
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(*quantify_args(pool_reads, empty)).exit_code == 0 and (empty / "summary.json").is_file()


def test_a_second_run_into_a_locked_folder_stops_at_once(tmp_path: Path, pool_reads: Path) -> None:
    out = tmp_path / "out"
    with output_folder(out) as staging:
        (staging / "x").write_text("first run")
        line = one_line_error(
            run(*quantify_args(pool_reads, out)), f"{out}: another editcheck run is writing this output folder"
        )
        assert line
    assert (out / "x").read_text() == "first run"
    assert run(*quantify_args(pool_reads, out)).exit_code == 0  # the lock is gone with the first run
    assert [entry.name for entry in tmp_path.iterdir() if entry.name.startswith(".")] == []


# ----------------------------------------------------------------------------- 5. stale staging folders


def test_staging_of_a_dead_run_is_removed_at_the_next_start(tmp_path: Path, pool_reads: Path) -> None:
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = "".join(c if c.isalnum() or c in "_.-" else "_" for c in socket.gethostname())[:40]
    stale = tmp_path / f".out.editcheck-tmp.{host}.{dead.pid}.abc123"
    stale.mkdir()
    (stale / "summary.json").write_bytes(b"x" * 1_000_000)
    alive = tmp_path / f".out.editcheck-tmp.{host}.{os.getpid()}.def456"  # a live run's staging stays
    alive.mkdir()
    assert run(*quantify_args(pool_reads, tmp_path / "out")).exit_code == 0
    assert not stale.exists() and alive.exists()


# ---------------------------------------------------------- 6. write errors name the real output path


def _limited_run(args: list[object], limit: int) -> subprocess.CompletedProcess:
    import resource

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "editcheck", *map(str, args)], capture_output=True, text=True,
                          preexec_fn=limit_file_size, timeout=120, check=False)  # fmt: skip


def test_file_size_limit_names_the_output_path(tmp_path: Path) -> None:
    reads = fastq(tmp_path / "reads.fastq", [FIRST.amplicon] * 20 + [edited(FIRST)] * 5)
    out = tmp_path / "out"
    result = _limited_run(quantify_args(reads, out), 4_000)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [f"Error: {out}: cannot write the result: File too large"], result.stderr
    assert "None" not in lines[0] and "editcheck-tmp" not in lines[0]
    assert not out.exists() and [e.name for e in tmp_path.iterdir() if e.name.startswith(".")] == []


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 256-kB tmpfs (needs root and a kernel that allows the mount; skipped otherwise)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_disk_full_names_the_output_path_and_keeps_the_previous_result(tmp_path: Path, small_tmpfs: Path) -> None:
    reads = fastq(tmp_path / "reads.fastq", [FIRST.amplicon] * 10)
    out = small_tmpfs / "out"
    assert run(*quantify_args(reads, out)).exit_code == 0
    previous = tree(out)
    (small_tmpfs / "filler").write_bytes(b"\0" * (256 * 1024 - 2 * len(b"".join(previous.values())) - 8192))
    result = _limited_run([*quantify_args(reads, out), "--write-reads"], 1 << 40)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {out}") and "No space left on device" in lines[0] and "None" not in lines[0]
    assert tree(out) == previous
    assert sorted(entry.name for entry in small_tmpfs.iterdir()) == ["filler", "out"]


def test_read_only_place_names_the_output_path(tmp_path: Path, small_tmpfs: Path) -> None:
    reads = fastq(tmp_path / "reads.fastq", [FIRST.amplicon] * 10)
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    out = small_tmpfs / "out"
    line = one_line_error(run(*quantify_args(reads, out)), f"{out}: cannot write here: Read-only file system")
    assert "editcheck-tmp" not in line and "editcheck-lock" not in line


# --------------------------------------------------------------------------- 11. report: user text, schema


def test_report_takes_dollar_signs_in_sample_names_literally(tmp_path: Path, pool_reads: Path) -> None:
    out = tmp_path / "q"
    assert run(*quantify_args(pool_reads, out), "--sample", "ctrl $\\frac{$ 5$ \\alpha$").exit_code == 0
    result = run("report", "--ontarget", out, "-o", tmp_path / "report")
    assert result.exit_code == 0, result.stderr
    assert "ctrl $\\frac{$ 5$ \\alpha$" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("change", "message"), [
    (lambda document: document.pop("edited"), "summary.json: missing 'edited'"),
    (lambda document: document["reads"].pop("classified"), "summary.json: missing 'reads.classified'"),
    (lambda document: document.update(edited="x"), "summary.json: 'edited' is not a JSON object"),
    (lambda document: document["outcomes"].update(modified={"reads": 1}), "missing 'outcomes.modified.total'"),
])  # fmt: skip
def test_report_says_what_a_result_file_lacks(tmp_path: Path, pool_reads: Path, change, message: str) -> None:
    out = tmp_path / "q"
    assert run(*quantify_args(pool_reads, out)).exit_code == 0
    document = json.loads((out / "summary.json").read_text())
    change(document)
    (out / "summary.json").write_text(json.dumps(document))
    one_line_error(run("report", "--ontarget", out, "-o", tmp_path / "report"), message)
    assert not (tmp_path / "report").exists()


# ------------------------------------------------------------------------ 12. long inline sequences


def test_inline_sequences_longer_than_a_file_name(tmp_path: Path) -> None:
    design = simulate.random_design(seed=3, length=400)
    assert design.donor_amplicon is not None and len(design.amplicon) > 255
    reads = fastq(tmp_path / "reads.fastq", [design.amplicon] * 5 + [design.donor_amplicon] * 3)
    for option in ("-e", "-d"):
        donor = design.donor_amplicon if option == "-e" else design.donor_amplicon[20:-20]
        result = run(
            "quantify", "--r1", reads, "-a", design.amplicon, "-g", design.guide, option, donor, "-o", tmp_path / option
        )
        assert result.exit_code == 0, result.stderr
        assert json.loads((tmp_path / option / "summary.json").read_text())["outcomes"]["hdr"]["reads"] == 3


# ------------------------------------------------------------------------ 13. silently accepted input


@pytest.mark.parametrize(("options", "message"), [
    (["--target-position", "110"], "a target position was given without a base editor"),
    (["--target-protospacer-position", "5"], "a target protospacer position was given without a base editor"),
    (["--editing-window", "4-8"], "an editing window was given without a base editor"),
    (["--base-editor", "ABE", "--editing-window", "15-40"], "editing window 15-40 reaches beyond the 20-nt protospacer"),
])  # fmt: skip
def test_options_that_would_be_ignored_are_errors(
    tmp_path: Path, pool_reads: Path, options: list[str], message: str
) -> None:
    one_line_error(run(*quantify_args(pool_reads, tmp_path / "out"), *options), message)


def test_same_amplicon_twice_in_a_pool_is_an_error(tmp_path: Path, pool_reads: Path) -> None:
    sheet = pool_sheet(tmp_path / "amplicons.tsv", ["A", "B"], [FIRST, FIRST])
    one_line_error(run("quantify-pool", "--r1", pool_reads, "--amplicons", sheet, "-o", tmp_path / "out"),
                   "amplicons.tsv: record 2: amplicons 'A' (row 1) and 'B' have the same amplicon")  # fmt: skip


def test_report_samples_given_twice_or_missing_from_the_sheet(tmp_path: Path, pool_reads: Path) -> None:
    out = tmp_path / "q"
    assert run(*quantify_args(pool_reads, out), "--sample", "T1").exit_code == 0
    one_line_error(
        run("report", "--ontarget", out, "--ontarget", out, "-o", tmp_path / "r"), "sample 'T1' is given twice"
    )
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample\tcondition\nT2\ttreated\n")
    one_line_error(run("report", "--ontarget", out, "--samples", sheet, "-o", tmp_path / "r"),
                   f"sample 'T1' ({out}) is not in the --samples sheet")  # fmt: skip


# ------------------------------------------------------------------------------------- 14. messages


def test_sheet_with_a_byte_order_mark(tmp_path: Path, pool_reads: Path) -> None:
    sheet = pool_sheet(tmp_path / "amplicons.tsv", ["first", "second"])
    sheet.write_bytes(b"\xef\xbb\xbf" + sheet.read_bytes())
    result = run("quantify-pool", "--r1", pool_reads, "--amplicons", sheet, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr


def test_amplicon_files_plain_sequence_and_empty_record(tmp_path: Path, pool_reads: Path) -> None:
    plain = tmp_path / "amplicon.txt"
    plain.write_text(FIRST.amplicon[:100] + "\n" + FIRST.amplicon[100:] + "\n")
    result = run("quantify", "--r1", pool_reads, "-a", plain, "-g", FIRST.guide, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["reads"]["classified"] == 8
    empty = tmp_path / "empty.fa"
    empty.write_text(">amp\n")
    one_line_error(run("quantify", "--r1", pool_reads, "-a", empty, "-g", FIRST.guide, "-o", tmp_path / "o2"),
                   f"{empty}: record 1: the FASTA record 'amp' has no sequence")  # fmt: skip


def test_exon_errors_say_exons(tmp_path: Path, pool_reads: Path) -> None:
    one_line_error(run(*quantify_args(pool_reads, tmp_path / "out"), "--exons", "40-999"),
                   "exons range 40-999 is outside the amplicon (1-250)")  # fmt: skip


def test_binary_data_on_stdin_is_not_called_truncated(tmp_path: Path) -> None:
    for data in (bytes(random.Random(1).randrange(256) for _ in range(4000)), b"\x1f\x8b\x08\x00garbage"):
        result = subprocess.run([sys.executable, "-m", "editcheck", *map(str, quantify_args(Path("/dev/stdin"), tmp_path / "o"))],
                                input=data, capture_output=True, timeout=60, check=False)  # fmt: skip
        stderr = result.stderr.decode()
        assert result.returncode == 1 and len(stderr.strip().splitlines()) == 1, stderr
        assert "truncated file" not in stderr and "truncated gzip" not in stderr and "/dev/stdin" in stderr


# ------------------------------------------------------------------ the catalogue's classes, parametrised

GOOD = "@r1\n" + FIRST.amplicon + "\n+\n" + "I" * len(FIRST.amplicon) + "\n"
BAD_FASTQ = {
    "empty": "",
    "blank lines": "\n\n\n",
    "fasta": ">r1\n" + FIRST.amplicon + "\n",
    "truncated record": GOOD + "@r2\n" + FIRST.amplicon + "\n",
    "quality shorter": GOOD + "@r2\nACGT\n+\nII\n",
    "bad base": GOOD + "@r2\nACGZ\n+\nIIII\n",
    "bad quality": GOOD + "@r2\nACGT\n+\nII\x01I\n",
    "no plus line": "@r1\nACGT\nIIII\n",
    "non-ascii": GOOD + "@r2\nAC\u00e9T\n+\nIIII\n",
    "binary": "\x00\x01\x02" * 50,
    "windows line ends": GOOD.replace("\n", "\r\n") + "@r2\rAC",
}


@pytest.mark.parametrize("case", sorted(BAD_FASTQ))
def test_catalogue_bad_fastq(tmp_path: Path, case: str) -> None:
    reads = tmp_path / "reads.fastq"
    reads.write_text(BAD_FASTQ[case], encoding="utf-8")
    result = run(*quantify_args(reads, tmp_path / "out"), catch=True)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code:
        one_line_error(result, str(reads))
        assert not (tmp_path / "out").exists()


def test_catalogue_bad_gzip(tmp_path: Path) -> None:
    reads = tmp_path / "reads.fastq.gz"
    reads.write_bytes(gzip.compress(GOOD.encode() * 50)[:-30])
    one_line_error(run(*quantify_args(reads, tmp_path / "out")), f"{reads}: truncated gzip file")


@pytest.mark.parametrize(("options", "message"), [
    (["-a", "ACGT" * 10, "-g", FIRST.guide], "not in the amplicon"),
    (["-a", FIRST.amplicon[:-1] + "!", "-g", FIRST.guide], "amplicon"),
    (["-a", FIRST.amplicon, "-g", FIRST.guide, "-w", "0-5"], "window range 0-5 is outside the amplicon"),
    (["-a", FIRST.amplicon, "-g", FIRST.guide, "-w", "a-b"], "window 'a-b'"),
    (["-a", FIRST.amplicon, "-g", FIRST.guide, "-e", FIRST.amplicon], "identical to the amplicon"),
    (["-a", "missing.fa", "-g", FIRST.guide], "missing.fa: file not found"),
])  # fmt: skip
def test_catalogue_bad_design(tmp_path: Path, pool_reads: Path, options: list[str], message: str) -> None:
    one_line_error(run("quantify", "--r1", pool_reads, *options, "-o", tmp_path / "out"), message)
    assert not (tmp_path / "out").exists()


BAD_SHEETS = {
    "empty": ("", "no amplicons"),
    "header only": ("name\tamplicon\n", "no amplicons"),
    "unknown column": ("name\tamplicon\tcolour\nA\tACGT\tred\n", "unknown column 'colour'"),
    "missing column": ("name\nA\n", "missing column 'amplicon'"),
    "empty name": (f"name\tamplicon\n\t{FIRST.amplicon}\n", "empty"),
    "repeated name": (f"name\tamplicon\nA\t{FIRST.amplicon}\nA\t{SECOND.amplicon}\n", "repeated"),
    "binary": ("\x00\xff\xfe" * 20, "amplicons.tsv"),
    "bad target": (
        f"name\tamplicon\tguide\tbase_editor\ttarget_position\nA\t{FIRST.amplicon}\t{FIRST.guide}\tABE\tx\n",
        "amplicon A",
    ),
    "quote": (f'name\tamplicon\n"A\t{FIRST.amplicon}\n', "amplicons.tsv"),
}


@pytest.mark.parametrize("case", sorted(BAD_SHEETS))
def test_catalogue_bad_sheets(tmp_path: Path, pool_reads: Path, case: str) -> None:
    text, message = BAD_SHEETS[case]
    sheet = tmp_path / "amplicons.tsv"
    sheet.write_bytes(text.encode("utf-8", "surrogateescape") if case != "binary" else b"\x00\xff\xfe" * 20)
    one_line_error(run("quantify-pool", "--r1", pool_reads, "--amplicons", sheet, "-o", tmp_path / "out"), message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fault", ["output is a file", "parent is a file", "root", "input is a folder"])
def test_catalogue_faults(tmp_path: Path, pool_reads: Path, fault: str) -> None:
    (tmp_path / "file").write_text("x")
    out = {"output is a file": tmp_path / "file", "parent is a file": tmp_path / "file" / "out", "root": Path("/")}.get(
        fault, tmp_path / "out"
    )
    reads = tmp_path if fault == "input is a folder" else pool_reads
    result = run(*quantify_args(reads, out))
    assert result.exit_code in (1, 2) and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and (len(lines) == 1 or result.exit_code == 2), (
        result.stderr
    )  # 2: click usage
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize("case", ["20k reads of N", "one 1-MB read name", "many tiny reads", "200 amplicons"])
def test_catalogue_resource_abuse(tmp_path: Path, case: str) -> None:
    """Inputs built to be expensive finish (or fail in one line) in seconds."""
    reads = tmp_path / "reads.fastq"
    if case == "20k reads of N":
        fastq(reads, ["N" * 150] * 20_000)
    elif case == "one 1-MB read name":
        reads.write_text("@" + "x" * 1_000_000 + "\n" + FIRST.amplicon + "\n+\n" + "I" * len(FIRST.amplicon) + "\n")
    elif case == "many tiny reads":
        fastq(reads, ["ACGT"[i % 4] * (1 + i % 7) for i in range(20_000)])
    else:
        fastq(reads, [FIRST.amplicon] * 3)
        rng = random.Random(7)
        amplicons = ["".join(rng.choice("ACGT") for _ in range(150)) for _ in range(200)]
        (tmp_path / "sheet.tsv").write_text(
            "name\tamplicon\n" + "".join(f"A{i}\t{a}\n" for i, a in enumerate(amplicons))
        )
        result = run("quantify-pool", "--r1", reads, "--amplicons", tmp_path / "sheet.tsv", "-o", tmp_path / "out")
        assert result.exit_code == 0, result.stderr
        assert len(list((tmp_path / "out").iterdir())) == 203  # 200 folders, two tables, the marker
        return
    result = run(*quantify_args(reads, tmp_path / "out"))
    assert result.exit_code == 0, result.stderr


# ------------------------------------------------------------------------------------------ seeded fuzz


def _mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(6)
        position = rng.randrange(len(data) + 1)
        if kind == 0 and data:  # flip a byte
            data[min(position, len(data) - 1)] = rng.randrange(256)
        elif kind == 1:  # delete a stretch
            del data[position : position + rng.randint(1, 40)]
        elif kind == 2:  # insert random or structural bytes
            data[position:position] = rng.choice(
                [b"\n", b"@", b"+", b"\t", b"\r\n", b"\x00", b"..", b"/", bytes([rng.randrange(256)])]
            )
        elif kind == 3:  # truncate
            del data[position:]
        elif kind == 4 and data:  # duplicate a stretch
            start = rng.randrange(len(data))
            data[position:position] = data[start : start + rng.randint(1, 80)]
        else:  # swap two lines
            lines = bytes(data).split(b"\n")
            if len(lines) > 2:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                data = bytearray(b"\n".join(lines))
    return bytes(data)


def _check_fuzz_result(result: Result, root: Path, before: set[Path], out: Path, label: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (label, repr(result.exception))
    assert "Traceback" not in result.stderr, (label, result.stderr)
    if result.exit_code != 0:
        lines = result.stderr.strip().splitlines()
        assert result.exit_code in (1, 2) and lines and lines[-1].startswith("Error: "), (label, result.stderr)
        if result.exit_code == 1:
            assert len(lines) == 1, (label, result.stderr)
        assert not out.exists(), label
    assert_only_inside(before, root, out)


def test_fuzzed_fastq_and_sheets(tmp_path: Path) -> None:
    """300 mutated FASTQ files and 150 mutated pool sheets (seeded): success, or one line and no output."""
    rng = random.Random(20260808)
    good_fastq = "".join(f"@read{i} x\n{sequence}\n+\n{'I' * len(sequence)}\n"
                         for i, sequence in enumerate([FIRST.amplicon[:150], edited(FIRST)[:150], SECOND.amplicon[:150]]))  # fmt: skip
    good_sheet = pool_sheet(tmp_path / "good.tsv", ["first", "second"]).read_bytes()
    reads_ok = fastq(tmp_path / "ok.fastq", [FIRST.amplicon] * 3 + [SECOND.amplicon] * 2)
    outcomes = {"ok": 0, "error": 0}
    for number in range(300):
        work = tmp_path / f"f{number}"
        work.mkdir()
        reads = work / ("reads.fastq.gz" if number % 5 == 0 else "reads.fastq")
        data = _mutate(good_fastq.encode(), rng)
        reads.write_bytes(gzip.compress(data, mtime=0) if number % 5 == 0 else data)
        if number % 10 == 1:  # mutate the compressed bytes themselves
            reads.write_bytes(_mutate(gzip.compress(good_fastq.encode(), mtime=0), rng))
        out = work / "out"
        before = snapshot(tmp_path)
        result = run(*quantify_args(reads, out), catch=True)
        _check_fuzz_result(result, tmp_path, before, out, f"fastq {number}")
        outcomes["ok" if result.exit_code == 0 else "error"] += 1
        shutil.rmtree(work)
    for number in range(150):
        work = tmp_path / f"s{number}"
        work.mkdir()
        sheet = work / "amplicons.tsv"
        sheet.write_bytes(_mutate(good_sheet, rng))
        out = work / "out"
        before = snapshot(tmp_path)
        result = run("quantify-pool", "--r1", reads_ok, "--amplicons", sheet, "-o", out, catch=True)
        _check_fuzz_result(result, tmp_path, before, out, f"sheet {number}: {sheet.read_bytes()[:200]!r}")
        outcomes["ok" if result.exit_code == 0 else "error"] += 1
        shutil.rmtree(work)
    assert outcomes["ok"] > 20 and outcomes["error"] > 100, outcomes  # the fuzzing reaches both paths


def test_an_output_folder_holding_the_input_is_refused(tmp_path: Path, pool_reads: Path) -> None:
    """Replacing an earlier result folder would delete reads someone put into it."""
    out = tmp_path / "out"
    assert run(*quantify_args(pool_reads, out)).exit_code == 0
    reads = Path(shutil.copy(pool_reads, out / "reads.fastq"))
    one_line_error(run(*quantify_args(reads, out)), f"{out}: holds the input {reads}")
    assert reads.read_bytes() == pool_reads.read_bytes()


def test_errors_inside_the_staging_folder_name_the_real_path(tmp_path: Path) -> None:
    """A permission error on a staged file is reported for the file's place in the output folder."""
    from editcheck.folders import OutputFolderError

    out = tmp_path / "out"
    with pytest.raises(OutputFolderError) as caught, output_folder(out) as staging:
        raise PermissionError(errno.EACCES, "Permission denied", str(staging / "FANC" / "summary.json"))
    assert str(caught.value) == f"{out}/FANC/summary.json: cannot write the result: Permission denied"
    with pytest.raises(OutputFolderError, match="file system root"), output_folder("/"):
        pass
    assert list(tmp_path.iterdir()) == []
