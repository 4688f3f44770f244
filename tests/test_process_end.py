"""The command ends its process at once once its work is done (#13, editcheck.cli.run): the exit status of every
way a command ends, its output flushed, atexit functions run and other threads waited for; a quantify run's
outputs whole and the same bytes as the in-process runner's, whose calls keep nothing for the process's end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from editcheck import cli

ENV = {**os.environ, "PYTHONPATH": str(Path(cli.__file__).resolve().parents[1])}


def _command(*arguments: str, before: str = "") -> subprocess.CompletedProcess[str]:
    """``editcheck`` with ``arguments`` through ``cli.run`` in a new process, ``before`` run first."""
    code = (
        f"import sys\n{before}\nfrom editcheck import cli\nsys.argv = ['editcheck', *{list(arguments)!r}]\ncli.run()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)


@pytest.mark.parametrize(
    ("arguments", "status", "said"),
    [
        (("--version",), 0, "editcheck, version"),
        (("no-such-command",), 2, "No such command"),
        (("quantify", "--r1", "/no/such/reads.fastq", "-a", "ACGT", "-o", "/tmp/never"), 1, "file not found"),
    ],
)
def test_exit_status_and_message_of_every_ending(arguments: tuple[str, ...], status: int, said: str) -> None:
    ended = _command(*arguments)
    assert ended.returncode == status
    assert said in ended.stdout + ended.stderr


def test_output_is_flushed_atexit_functions_run_and_threads_awaited() -> None:
    before = (
        "import atexit, threading, time\n"
        "atexit.register(lambda: print('atexit ran', flush=False))\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread done', flush=False))).start()\n"
        "print('buffered', end='', flush=False)\n"
    )
    ended = _command("--version", before=before)
    assert ended.returncode == 0
    assert ended.stdout.startswith("buffered")
    assert "thread done" in ended.stdout and "editcheck, version" in ended.stdout
    assert ended.stdout.rstrip().endswith("atexit ran")  # after the command and the thread


def test_exit_status_of_system_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli._exit_status(None) == 0 and cli._exit_status(3) == 3 and cli._exit_status(True) == 1
    assert cli._exit_status("a message") == 1
    assert capsys.readouterr().err == "a message\n"


def test_quantify_through_run_writes_the_runners_bytes(tmp_path: Path) -> None:
    simulated = tmp_path / "sim"
    made = CliRunner().invoke(cli.main, ["simulate", "-n", "300", "-o", str(simulated)])
    assert made.exit_code == 0, made.output
    design = json.loads((simulated / "sim.truth.json").read_text())["design"]
    arguments = ["quantify", "--r1", str(simulated / "sim_R1.fastq.gz"), "-a", str(simulated / "sim.amplicon.fa"),
                 "-g", design["guide"], "-e", str(simulated / "sim.hdr_amplicon.fa"), "-t", "2"]  # fmt: skip
    ended = _command(*arguments, "-o", str(tmp_path / "run"))
    assert ended.returncode == 0, ended.stderr
    assert "300 reads" in ended.stderr
    in_process = CliRunner().invoke(cli.main, [*arguments, "-o", str(tmp_path / "runner")])
    assert in_process.exit_code == 0, in_process.output
    assert cli._LEFT_TO_EXIT is None  # called in-process, nothing is kept for the process's end

    def files(folder: Path) -> dict[str, bytes]:
        return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))}

    assert files(tmp_path / "run") == files(tmp_path / "runner")
    assert (tmp_path / "run" / "alleles.tsv").read_text().count("\n") > 5
