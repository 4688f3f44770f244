"""Shared fixtures: paths to ../shared data (skipped with a reason when absent) and simulated samples."""

from __future__ import annotations

from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_DATA = REPOSITORY.parent / "shared" / "data" / "crispresso2_tests"


@pytest.fixture(scope="session")
def crispresso2_inputs() -> Path:
    """Folder of the CRISPResso2 integration-test reads; skip when ../shared is not beside the clone."""
    folder = SHARED_DATA / "inputs"
    if not folder.is_dir():
        pytest.skip(f"real test data not available: {folder} is absent (it is only beside the developers' clones)")
    return folder


@pytest.fixture(scope="session")
def simulated_100k(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """100k single-end 250-bp reads with HDR, indels and substitutions, 0.2% sequencing errors."""
    from editcheck import simulate

    folder = tmp_path_factory.mktemp("sim100k")
    design = simulate.random_design(seed=2024)
    truth = simulate.simulate(design, 100_000, folder / "r1.fastq.gz", error_rate=0.002, seed=7)
    return folder / "r1.fastq.gz", truth


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The single-design demo workflow (tests/test_workflow.py's working folder), run once with ``--cores 2`` for
    every test that reads its results: tests/test_workflow.py, and tests/test_slurm.py's comparison with the
    cluster's run.  The tests read it and leave it as it is."""
    from test_workflow import make_workdir, run_snakemake

    workdir = make_workdir(tmp_path_factory.mktemp("workflow"))
    result = run_snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return workdir


REQUIRE_TOOLS = "EDITCHECK_REQUIRE_TOOLS"
"""Set by .ci/run after installing bcftools and samtools: a missing tool then fails the test instead of skipping it."""


@pytest.fixture(scope="session")
def external_tool():
    """``external_tool(name)``: the path of a command-line tool (bcftools, samtools); skips with the reason
    when it is missing, or fails when $EDITCHECK_REQUIRE_TOOLS is set (CI installs them)."""
    import os
    import shutil

    def find(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            message = f"{name} is not installed (Debian: apt-get install -y {name})"
            if os.environ.get(REQUIRE_TOOLS):
                pytest.fail(f"{message}, and ${REQUIRE_TOOLS} says CI installed it")
            pytest.skip(message)
        return path

    return find
