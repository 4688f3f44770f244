"""Imported by the command line before numpy: one BLAS thread unless the user says otherwise.

numpy's OpenBLAS starts a thread per core when it is loaded, and that thread spins for a while on a core of its
own: ~0.05-0.1 CPU s in every editcheck command (``import numpy``: 0.11 -> 0.05 CPU s with one thread), which
editcheck's few and tiny matrix products never repay, and which the workflow pays once per sample and step on
cores its other jobs need.  A value already set (``OPENBLAS_NUM_THREADS``) is kept.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
