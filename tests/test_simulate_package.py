"""The simulator package (issue #11 item 3): same bytes as before the split, small independent modules."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest

import editcheck.simulate as simulation
from editcheck.simulate import BaseEditorSpec, OutcomeMix, SimulationDesign, random_design, random_pool, simulate

COMPLEMENT = str.maketrans("ACGT", "TGCA")
PUBLIC = {"BaseEditorSpec", "OutcomeMix", "SimulationDesign", "random_design", "random_pool", "simulate",
          "simulate_pool"}  # fmt: skip
#: What the oracle may import from the library: its error types and the atomic output writers.
LIBRARY_IMPORTS_ALLOWED = {"editcheck.errors", "editcheck.outputs"}


def _revcomp(sequence: str) -> str:
    return sequence.translate(COMPLEMENT)[::-1]


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


# Golden hashes written by the single-module simulator (simulate.py as of a50fe53) for the draws that
# the classic golden hash of test_simulate.py does not reach: UMIs, base editing on a reverse-strand
# guide, large deletions, and pooled amplicons.


def test_umi_base_editing_on_a_reverse_guide_is_unchanged(tmp_path: Path) -> None:
    forward = random_design(seed=11)
    assert forward.donor_amplicon is not None
    design = SimulationDesign(_revcomp(forward.amplicon), forward.guide, 3, _revcomp(forward.donor_amplicon))
    r1, r2, truth = tmp_path / "r1.fq", tmp_path / "r2.fq", tmp_path / "t.json"
    mix = OutcomeMix(unmodified=0.2, hdr=0.05, deletion=0.05, insertion=0.05, substitution=0.05, base_edit=0.6)
    result = simulate(design, 400, r1, r2, read_length=120, seed=15, truth_path=truth, mix=mix,
                      base_editor=BaseEditorSpec(), umi_length=8, reads_per_molecule=2.5)  # fmt: skip
    assert result["base_editing"]["strand"] == "-" and "base_editing" in result["molecules"]
    assert _digest(r1, r2, truth) == "1879db4bb004dacdc153c5004f98897be353b6a545848215e46de1a7650fd0b3"


def test_large_deletions_are_unchanged(tmp_path: Path) -> None:
    r1, truth = tmp_path / "r1.fq", tmp_path / "t.json"
    mix = OutcomeMix(unmodified=0.4, large_deletion=0.15)
    result = simulate(random_design(seed=12), 300, r1, seed=10, truth_path=truth, mix=mix, alleles_per_class=7)
    assert sum(result["large_deletion_sizes"].values()) == 45
    assert _digest(r1, truth) == "be574fa73adaa29b0cba9ccc25e3e3559b764e34d4efe572aafe3267a31adf0f"


def test_pool_is_unchanged(tmp_path: Path) -> None:
    designs = random_pool(4, seed=3, length=180, near_identical_pairs=1)
    r1, r2, truth = tmp_path / "r1.fq", tmp_path / "r2.fq", tmp_path / "t.json"
    result = simulation.simulate_pool(designs, 500, r1, r2, seed=4, read_length=100, truth_path=truth,
                                      share_concentration=0.5)  # fmt: skip
    assert sum(result["reads_per_amplicon"]) == 500 and [pair[:2] for pair in result["similar_pairs"]] == [[0, 1]]
    assert _digest(r1, r2, truth) == "3b34b48e8dfc60ee40b0db43275f398d6a03038ec17b7f5a62c2f55c20bdab41"


def test_public_api_is_the_package() -> None:
    assert set(simulation.__all__) == PUBLIC
    assert all(getattr(simulation, name).__module__.startswith("editcheck.simulate.") for name in PUBLIC)


def _modules() -> list[Path]:
    package = getattr(simulation, "__path__", None)
    if package is None:
        pytest.fail("editcheck.simulate is a single module, not a package")
    return sorted(Path(next(iter(package))).glob("*.py"))


def test_modules_are_small() -> None:
    sizes = {path.name: len(path.read_text().splitlines()) for path in _modules()}
    assert len(sizes) >= 6 and max(sizes.values()) <= 400, sizes


def test_oracle_imports_no_analysis_code() -> None:
    """The simulator is the test oracle: it shares no sequence code with what it tests."""
    imported = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    library = {name for name in imported if name.split(".")[0] == "editcheck"}
    assert library - {name for name in library if name.startswith("editcheck.simulate.")} == LIBRARY_IMPORTS_ALLOWED
