"""The one rule choosing each compiled extension or its pure-Python reference (editcheck.compiled)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import editcheck
from editcheck.compiled import PURE_PYTHON_VARIABLE

_SOURCE = str(Path(editcheck.__file__).parents[1])

_REPORT = (
    "from editcheck.alignment import hotpath\n"
    "from editcheck.classification import outcomes\n"
    "from editcheck.quantification import tally\n"
    "from editcheck.reads import collapse, merge\n"
    "print(hotpath.IMPLEMENTATION, collapse._BLOCK_COUNTER is None, merge.IMPLEMENTATION, hotpath.AlignerCore is None,\n"
    "      tally._count_symbols is None, outcomes.ClassifierCore is None, tally._count_calls is None,\n"
    "      hotpath.ChunkRunner is None)\n"
)


def _run(code: str, variable: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, PURE_PYTHON_VARIABLE: variable, "PYTHONPATH": _SOURCE}
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)


def test_every_extension_runs_when_built_and_the_variable_selects_every_reference() -> None:
    assert (_run(_REPORT, "").stdout, _run(_REPORT, "").stderr) == (
        "compiled False compiled False False False False False\n",
        "",
    )
    assert (_run(_REPORT, "0").stdout, _run(_REPORT, "0").stderr) == (
        "compiled False compiled False False False False False\n",
        "",
    )
    assert (_run(_REPORT, "1").stdout, _run(_REPORT, "1").stderr) == (
        "python True python True True True True True\n",
        "",
    )


def test_missing_extensions_fall_back_each_with_one_warning_line() -> None:
    block = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.endswith(('._compiled', '._fastq_compiled', '._pairs_compiled', '._profile_compiled',\n"
        "                          '._classify_compiled', '._tally_compiled')):\n"
        "            raise ImportError('not built here')\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    selected = _run(block + _REPORT, "")
    assert selected.stdout == "python True python True True True True True\n"
    assert sorted(selected.stderr.splitlines()) == [
        f"editcheck: warning: the compiled {what} is not built (not built here); using the pure-Python one "
        "(same results, slower; `pip install .` builds it)"
        for what in ("FASTQ reader", "classifier", "hot path", "position-profile counter", "read-pair merge", "tally")
    ]


def test_the_compiled_aligner_alone_missing_falls_back_to_its_methods_with_one_warning_line() -> None:
    block = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.endswith('._align_compiled'):\n"
        "            raise ImportError('not built here')\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    selected = _run(block + _REPORT, "")
    assert selected.stdout == "compiled False compiled True False False False False\n"
    assert selected.stderr == (
        "editcheck: warning: the compiled aligner is not built (not built here); using the pure-Python one "
        "(same results, slower; `pip install .` builds it)\n"
    )
