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
