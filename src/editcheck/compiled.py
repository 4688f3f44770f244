"""Which implementation of a compiled path runs: its Cython extension, or its pure-Python reference.

One rule for every compiled extension (the alignment hot path, the FASTQ reader, the read-pair merge): the
extension runs when it is built; ``EDITCHECK_PURE_PYTHON=1`` in the environment selects the reference instead,
and so does a missing extension, with a one-line warning on stderr.  Both give identical results; only the
speed differs.  Each module chooses once, at import, so worker processes inherit the choice.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

__all__ = ["PURE_PYTHON_VARIABLE", "compiled_module"]

PURE_PYTHON_VARIABLE = "EDITCHECK_PURE_PYTHON"
"""Set (not ``0``): every pure-Python reference runs, even where the extensions are built."""


def compiled_module(name: str, what: str) -> ModuleType | None:
    """The compiled extension ``name`` imported, or None when the reference is to run: ``EDITCHECK_PURE_PYTHON``
    set, or the extension not built (then one warning line naming ``what``, e.g. "hot path")."""
    if os.environ.get(PURE_PYTHON_VARIABLE, "") not in ("", "0"):
        return None
    try:
        return importlib.import_module(name)
    except ImportError as error:
        sys.stderr.write(
            f"editcheck: warning: the compiled {what} is not built ({error}); using the pure-Python one "
            "(same results, slower; `pip install .` builds it)\n"
        )
        return None
