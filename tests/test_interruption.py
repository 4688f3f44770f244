"""Interrupted runs leave no output that looks complete, and a rerun finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from editcheck import simulate
from process_groups import group_members


@pytest.fixture(scope="module")
def large_input(tmp_path_factory) -> tuple[Path, str, str]:
    folder = tmp_path_factory.mktemp("interrupt")
    design = simulate.random_design(seed=2024, with_donor=False)
    simulate.simulate(design, 300_000, folder / "reads.fastq.gz", error_rate=0.01, seed=5)
    return folder / "reads.fastq.gz", design.amplicon, design.guide


@pytest.fixture(scope="module")
def large_pairs(tmp_path_factory) -> tuple[Path, Path]:
    """Read pairs of the same design: R1 and R2 files."""
    folder = tmp_path_factory.mktemp("interrupt_pairs")
    design = simulate.random_design(seed=2024, with_donor=False)
    simulate.simulate(design, 300_000, folder / "r1.fastq.gz", folder / "r2.fastq.gz", error_rate=0.01, seed=6,
                      read_length=150)  # fmt: skip
    return folder / "r1.fastq.gz", folder / "r2.fastq.gz"


@pytest.mark.parametrize(
    ("signal_number", "whole_group", "segments"),
    # Ctrl-C reaches the whole process group; `kill PID` and schedulers' SIGTERM reach the main process only.
    # ``segments``: the input run in segments of 30,000 reads (its segment writer is a process of its own);
    # "pairs": read pairs run in such segments (R1 and R2 cut side by side).
    [(signal.SIGINT, True, False), (signal.SIGTERM, False, False), (signal.SIGKILL, True, False),
     (signal.SIGINT, True, True), (signal.SIGTERM, False, True), (signal.SIGINT, True, "pairs")],
)  # fmt: skip
def test_interrupted_quantify_leaves_no_complete_looking_output(
    request, large_input, tmp_path, signal_number, whole_group, segments
) -> None:
    reads, amplicon, guide = large_input
    out = tmp_path / "out"
    if segments == "pairs":
        r1, r2 = request.getfixturevalue("large_pairs")
        inputs = ["--r1", str(r1), "--r2", str(r2)]
    else:
        inputs = ["--r1", str(reads)]
    command = [sys.executable, "-m", "editcheck", "quantify", *inputs, "-a", amplicon, "-g", guide,
               "-t", "2", "-o", str(out), *(["--segment-reads", "30000"] if segments else [])]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        time.sleep(1.0)
        assert process.poll() is None, "the run finished before it could be interrupted; use a larger input"
        if whole_group:
            os.killpg(process.pid, signal_number)
        else:
            os.kill(process.pid, signal_number)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:  # never leave a run behind, whatever happened above
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode != 0
    # Nothing that looks like a result: no summary, no tables (hidden temporary names at most).
    visible = [path.name for path in tmp_path.rglob("*") if not path.name.startswith(".") and path.name != "out"]
    assert visible == []
    if signal_number != signal.SIGKILL:
        # Ctrl-C and SIGTERM: workers end quietly (no BrokenPipeError tracebacks), staging is removed.
        assert b"Traceback" not in stderr and b"Error" not in stderr.replace(b"Aborted", b""), stderr.decode()[-2000:]
        assert list(tmp_path.iterdir()) == []
        # No worker, segment child or segment writer left running (a zombie left to init is not: two were seen
        # once in ~100 read-pair runs interrupted in segments, reaped by init within 2 s).
        assert group_members(process.pid, running_only=True) == []
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert (out / "summary.json").exists() and (out / "alleles.tsv").exists()
    # kill -9 left a staging folder behind: the rerun removed it (the run that owned it is dead).
    assert [path.name for path in tmp_path.iterdir()] == ["out"]


def test_an_interruption_whose_exception_python_drops_still_stops_the_run(large_input, tmp_path) -> None:
    """SIGTERM landing in an at-fork hook (as logging's lock release, run in the parent after each fork): Python
    drops the KeyboardInterrupt the handler raises there ("Exception ignored"), and the run used to go on and leave
    a complete result with status 0.  The interruption is noted: no result, status 1."""
    reads, amplicon, guide = large_input
    out = tmp_path / "out"
    script = (
        "import os, signal, sys\n"
        "sent = []\n"
        "def hook():  # at the first fork with SIGTERM not blocked (the worker pool's forks block it)\n"
        "    if not sent and signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, []):\n"
        "        sent.append(1)\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        for _ in range(100000):  # the handler runs here, inside the hook, whose exception is dropped\n"
        "            pass\n"
        "os.register_at_fork(after_in_parent=hook)\n"
        "from editcheck.cli import run\n"
        "sys.argv = ['editcheck', *sys.argv[1:]]\n"
        "run()\n"
    )
    command = [sys.executable, "-c", script, "quantify", "--r1", str(reads), "-a", amplicon, "-g", guide, "-t", "2",
               "-o", str(out)]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert "Exception ignored" in finished.stderr and "KeyboardInterrupt" in finished.stderr  # dropped, as said
    assert finished.returncode == 1 and "Aborted" in finished.stderr
    assert list(tmp_path.iterdir()) == []  # no result, no staging folder
