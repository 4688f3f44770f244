"""What installing editcheck pulls in: the library's runtime dependencies leave out the test tools and the
workflow's own needs (issue #11, item 6), and the library neither imports them nor needs them to run."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
LIBRARY = REPOSITORY / "src" / "editcheck"
# Used only by the tests and CI (pytest, mypy, ruff) or only by the Snakemake workflow (pandas, snakemake).
NOT_RUNTIME = {"pytest", "mypy", "ruff", "pandas", "snakemake"}


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings such as ``"numpy>=1.26,<3"`` or ``"editcheck[workflow]"``."""
    names = set()
    for requirement in requirements:
        match = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert match, requirement
        names.add(match.group(0).lower())
    return names


def _project() -> dict:
    with open(REPOSITORY / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]


def test_runtime_dependencies_leave_out_test_tools_and_workflow_needs() -> None:
    project = _project()
    runtime = _names(project["dependencies"])
    assert not runtime & NOT_RUNTIME
    extras = project["optional-dependencies"]
    assert {"pandas", "snakemake"} <= _names(extras["workflow"])
    assert {"pytest", "mypy", "ruff", "import-linter", "editcheck"} <= _names(extras["test"])
    # Every tool CI runs is pinned to a range: an unbounded linter release could fail CI on unchanged code.
    for requirement in extras["test"]:
        if not requirement.startswith("editcheck"):
            assert ">=" in requirement and "<" in requirement.replace("<=", ""), requirement


def _imported_modules(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports, at module level or inside functions."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_library_source_never_imports_test_or_workflow_packages() -> None:
    offenders = {
        str(path.relative_to(REPOSITORY)): sorted(_imported_modules(path) & NOT_RUNTIME)
        for path in sorted(LIBRARY.rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_library_imports_and_runs_without_pandas_or_pytest(tmp_path: Path) -> None:
    """Every module imports, and a small simulated sample is quantified, with pandas and pytest unimportable."""
    script = f"""
import importlib, json, pkgutil, sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {{"pandas", "pytest"}}:
            raise ImportError(f"{{name}} is blocked")
        return None

for name in [name for name in sys.modules if name.split(".")[0] in {{"pandas", "pytest"}}]:
    del sys.modules[name]
sys.meta_path.insert(0, Block())
import editcheck
for module in pkgutil.walk_packages(editcheck.__path__, "editcheck."):
    if module.name != "editcheck.__main__":  # runs the command line
        importlib.import_module(module.name)

from editcheck import simulate
from editcheck.design import build_design
from editcheck.pipeline import quantify

simulated = simulate.random_design(seed=3, with_donor=False)
r1 = {str(tmp_path / "r1.fastq")!r}
truth = simulate.simulate(simulated, 200, r1, seed=3, error_rate=0.0)
result = quantify(r1, design=build_design(simulated.amplicon, [simulated.guide]))
print(json.dumps({{"truth": truth["class_counts"], "outcomes": dict(result.tally.outcomes)}}))
"""
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    truth = document["truth"]
    assert sum(truth.values()) == 200 and truth["deletion"] + truth["insertion"] > 0
    # Default counting: indels are edits; substitutions alone are not (sequencing errors look the same).
    assert document["outcomes"] == {
        "unmodified": truth["unmodified"] + truth["substitution"],
        "modified": truth["deletion"] + truth["insertion"],
    }
