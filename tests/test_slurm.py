"""The SLURM profile on a real cluster (issue #14 item 6): threads that fit a small node, and the demo run
through `profiles/slurm` on a single-node Slurm cluster started on this machine.

The cluster test needs root and Debian's `slurm-wlm` and `munge` (`.ci/run` installs them when it can and
then sets EDITCHECK_REQUIRE_SLURM=1, which turns the skip into a failure); it starts the daemons with
tests/local_slurm.sh and stops them afterwards, also when the test fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from test_workflow import BIN, ONTARGET_SAMPLES, REPO, TRUTH, make_workdir, needs_snakemake, read_tsv, run_snakemake

PROFILE = REPO / "profiles" / "slurm"
CLUSTER_SCRIPT = Path(__file__).with_name("local_slurm.sh")
REQUIRED = os.environ.get("EDITCHECK_REQUIRE_SLURM") == "1"
# A pending job with one of these reasons never starts: it asks for more than the partition's nodes have.
NEVER_STARTS = ("PartitionConfig", "PartitionNodeLimit", "PartitionTimeLimit", "BadConstraints", "ReqNodeNotAvail")
TIMEOUT_SECONDS = 600
# A dry run plans with the local executor, whose --cores (1 unless given) would cap every job's threads: give
# it more cores than any rule asks, so that the profile alone decides, as under the SLURM executor.
DRY_RUN = ("--dry-run", "--workflow-profile", str(PROFILE), "--cores", "64")

needs_slurm_plugin = pytest.mark.skipif(
    importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
    reason="snakemake-executor-plugin-slurm is not installed (pip install 'editcheck[workflow]')",
)


def planned_jobs(output: str) -> dict[str, dict[str, int]]:
    """Dry-run output -> threads and mem_mb of every job, keyed by rule (and sample for per-sample rules)."""
    jobs = {}
    for block in output.split("\nrule ")[1:]:
        rule = block.split(":", 1)[0]
        sample = re.search(r"wildcards: sample=(\S+)", block)
        threads = re.search(r"\n\s+threads: (\d+)", block)
        memory = re.search(r"resources: .*\bmem_mb=(\d+)", block)
        if rule in ("all", "record_config"):
            continue
        jobs[rule if sample is None else f"{rule}/{sample.group(1)}"] = {
            "threads": int(threads.group(1)) if threads else 1,
            "mem_mb": int(memory.group(1)),
        }
    return jobs


@needs_snakemake
@needs_slurm_plugin
def test_profile_jobs_fit_a_two_cpu_node_and_grow_with_max_threads(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path)
    result = run_snakemake(workdir, *DRY_RUN)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    jobs = planned_jobs(result.stdout)
    assert set(jobs) == {*(f"quantify_ontarget/{name}" for name in ONTARGET_SAMPLES),
                         "offtarget_panel", "build_report", "export_package"}  # fmt: skip
    # As shipped: no job asks more than 2 CPUs (a larger request pends for ever with reason PartitionConfig)
    # and none more memory than a small node has (the reads-based floors: 2,000 MB per sample, 4,000 for the panel).
    assert {name: job["threads"] for name, job in jobs.items()} == {
        name: 1 if name in ("build_report", "export_package") else 2 for name in jobs
    }
    assert max(job["mem_mb"] for job in jobs.values()) == 4000
    # On larger nodes one value, max-threads, gives each rule the threads the profile sets for it.
    result = run_snakemake(workdir, *DRY_RUN, "--max-threads", "16")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    threads = {name: job["threads"] for name, job in planned_jobs(result.stdout).items()}
    assert threads == {
        name: {"build_report": 1, "export_package": 1, "offtarget_panel": 8}.get(name, 4) for name in jobs
    }


def slurm_unavailable() -> str | None:
    """Why the cluster test cannot run here, or None."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install 'editcheck[workflow]')"
    if os.geteuid() != 0:
        return "not root: starting munged, slurmctld and slurmd for a local Slurm cluster needs root"
    for daemon in ("slurmctld", "slurmd", "munged"):
        if shutil.which(daemon) is None and not Path("/usr/sbin", daemon).exists():
            return f"{daemon} is not installed (Debian: apt-get install -y slurm-wlm munge)"
    return None


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[None]:
    """A single-node Slurm cluster on this machine, stopped afterwards unless it was already running."""
    reason = slurm_unavailable()
    if reason is not None:
        if REQUIRED:
            pytest.fail(f"EDITCHECK_REQUIRE_SLURM=1 but {reason}")
        pytest.skip(reason)
    already_up = subprocess.run([str(CLUSTER_SCRIPT), "status"], capture_output=True, check=False).returncode == 0
    try:
        started = subprocess.run(
            [str(CLUSTER_SCRIPT), "start"], capture_output=True, text=True, timeout=120, check=False
        )
        assert started.returncode == 0, started.stdout + started.stderr
        yield
    finally:
        if not already_up:
            subprocess.run([str(CLUSTER_SCRIPT), "stop"], capture_output=True, timeout=120, check=False)


def squeue(*args: str) -> list[str]:
    result = subprocess.run(["squeue", "--noheader", *args], capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.split()


def run_on_slurm(workdir: Path) -> tuple[float, str, list[str]]:
    """The demo through profiles/slurm: wall seconds, the Snakemake log and the Slurm job ids it submitted.

    Fails as soon as one of the run's jobs pends for a reason that never clears (rather than waiting silently).
    """
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(workdir / "config.yaml"), "--workflow-profile", str(PROFILE),
               # The shipped profile as it is, except the plugin's first status check (40 s by default, kind to a
               # busy controller) and the interval between checks: a one-node test cluster answers at once.
               "--slurm-init-seconds-before-status-checks", "5", "--seconds-between-status-checks", "5"]  # fmt: skip
    log_path = workdir / "snakemake.log"
    run_id = None
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            while process.poll() is None:
                assert time.monotonic() - start < TIMEOUT_SECONDS, f"no result after {TIMEOUT_SECONDS} s"
                found = re.search(r"SLURM run ID: (\S+)", log_path.read_text(encoding="utf-8"))
                run_id = found.group(1) if found else None
                if run_id is not None:
                    for line in squeue("--states=PENDING", "--name", run_id, "--format=%i|%r"):
                        job, reason = line.split("|", 1)
                        assert reason not in NEVER_STARTS, f"Slurm job {job} would pend for ever: reason {reason}"
                time.sleep(2)
        finally:
            if process.poll() is None:
                process.terminate()  # Snakemake cancels its Slurm jobs on the way out
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if run_id is not None:
                subprocess.run(["scancel", "--name", run_id], capture_output=True, timeout=60, check=False)
    seconds = time.monotonic() - start
    text = log_path.read_text(encoding="utf-8")
    assert process.returncode == 0, text[-3000:]
    return seconds, text, re.findall(r"has been submitted with SLURM jobid (\d+)", text)


@needs_snakemake
@pytest.mark.slow
@pytest.mark.slurm
def test_demo_runs_on_a_slurm_cluster(
    slurm_cluster: None,
    demo_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    local = demo_run  # the same demo run locally with --cores 2 (tests/conftest.py)
    cluster = make_workdir(tmp_path / "slurm")
    seconds, log, submitted = run_on_slurm(cluster)

    # One Slurm job per sample, the panel, the report and the package (record_config runs locally); squeue lists them
    # (MinJobAge), every one COMPLETED.
    samples = ONTARGET_SAMPLES
    assert len(submitted) == len(samples) + 3, log[-3000:]  # the samples, the panel, the report, the package
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)  # type: ignore[union-attr]
    states = dict(line.split("|") for line in squeue("--states=all", "--name", run_id, "--format=%i|%T"))
    assert states == dict.fromkeys(submitted, "COMPLETED")
    record_property("slurm_jobs", len(submitted))
    record_property("slurm_wall_seconds", round(seconds))
    with capsys.disabled():
        print(f"\nSlurm demo run: {len(submitted)} Slurm jobs, {seconds:.0f} s wall")

    # The report and its headline numbers are the local run's, byte for byte, and right.
    assert (cluster / "results" / "report" / "report.html").stat().st_size > 0
    for table in ("report/summary.tsv", "offtarget/offtarget_calls.tsv",
                  *(f"ontarget/{name}/summary.json" for name in samples)):  # fmt: skip
        assert (cluster / "results" / table).read_bytes() == (local / "results" / table).read_bytes(), table
    rows = {row["sample"]: row for row in read_tsv(cluster / "results" / "report" / "summary.tsv")
            if row["assay"] == "on_target"}  # fmt: skip
    for name in samples:
        observed = float(rows[name]["target_engagement_percent"])
        assert observed == pytest.approx(TRUTH["samples"][name]["read_level_percent"], abs=1.0), name
        summary = json.loads((cluster / "results" / "ontarget" / name / "summary.json").read_text(encoding="utf-8"))
        assert summary["base_editing"]["target"]["engagement"]["percent"] == pytest.approx(observed, abs=0.01)
