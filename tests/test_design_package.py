"""The design package: the design imports nothing above it (no cycle with the aligner), and
``design_from_spec(DesignSpec(...))`` is the same design as the keyword ``build_design(...)``."""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

import editcheck
import editcheck.design
from editcheck.design import DesignSpec, build_design, design_from_spec

SOURCE = Path(editcheck.__file__).parent.parent
DESIGN = Path(editcheck.design.__file__)
DESIGN_FILES = sorted(DESIGN.parent.glob("*.py")) if DESIGN.name == "__init__.py" else [DESIGN]
BELOW_DESIGN = ("editcheck.sequences", "editcheck.scoring", "editcheck.errors")

AMPLICON = (
    "CGGATTCACTGCTTACCAGCATGGTAGCTAGCTTACGGACTTGCAGATGCCATCAGGTACCTCATGGACGTCGAGCTTAGCCTGAT"
    "GACTCAGTACCGGTACAGATTCGCTAGGCTAAGCATTGCAGTCCAAGTGTTACGGATCCTAGCGAAGTTCA"
)
GUIDE = AMPLICON[60:80]


def _editcheck_imports(path: Path) -> list[str]:
    """Every editcheck module a file imports, at module level or inside a function."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [name for name in names if name.split(".")[0] == "editcheck"]


@pytest.mark.parametrize("path", DESIGN_FILES, ids=lambda path: path.name)
def test_design_imports_only_itself_and_the_layers_below(path: Path) -> None:
    upward = [
        name for name in _editcheck_imports(path)
        if not (name == "editcheck.design" or name.startswith("editcheck.design.") or name in BELOW_DESIGN)
    ]  # fmt: skip
    assert upward == [], f"{path.name} imports {upward}"


def _fresh_interpreter(code: str) -> str:
    environment = {**os.environ, "PYTHONPATH": str(SOURCE)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    "first", ["editcheck.alignment.references", "editcheck.alignment.aligner", "editcheck.design.references",
              "editcheck.design.build", "editcheck.design"],
)  # fmt: skip
def test_each_side_of_the_former_cycle_imports_first_in_a_fresh_interpreter(first: str) -> None:
    assert _fresh_interpreter(f"import {first}; print('ok')") == "ok"


def _substituted(position: int) -> str:
    """The amplicon with one base changed (the HDR outcome of a one-base donor edit)."""
    return AMPLICON[:position] + ("A" if AMPLICON[position] != "A" else "C") + AMPLICON[position + 1 :]


def test_building_a_design_with_an_hdr_outcome_loads_no_aligner() -> None:
    code = (
        "import sys\n"
        "from editcheck.design import build_design\n"
        f"amplicon, hdr = {AMPLICON!r}, {_substituted(70)!r}\n"
        f"design = build_design(amplicon, [{GUIDE!r}], expected_hdr_amplicon=hdr)\n"
        "print(design.hdr is not None, sorted(m for m in sys.modules if m.startswith('editcheck.alignment')))"
    )
    assert _fresh_interpreter(code) == "True []"


def test_design_from_spec_equals_the_keyword_build() -> None:
    hdr = _substituted(70)
    options = {
        "name": "Site1", "window_flank": 5, "expected_hdr_amplicon": hdr, "base_editor": "CBE",
        "editing_window": (3, 9), "exons": "30-120",
    }  # fmt: skip
    by_keywords = build_design(AMPLICON, [GUIDE], **options)  # type: ignore[arg-type]
    spec = DesignSpec(AMPLICON, (GUIDE,), **options)  # type: ignore[arg-type]
    assert design_from_spec(spec) == by_keywords
    assert by_keywords.hdr is not None and [change.label for change in by_keywords.donor_changes] == [
        f"71{AMPLICON[70]}>{hdr[70]}"
    ]
    assert by_keywords.exons == ((29, 120),)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
