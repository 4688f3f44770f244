"""The compiled hot paths: Cython extensions (editcheck.alignment._compiled, editcheck.reads._pairs_compiled), built by
``pip install``.

Everything else about the package is declared in pyproject.toml.  Without a C compiler or Cython the package
still works: editcheck.alignment.hotpath and editcheck.reads.merge fall back to their pure-Python reference
implementations.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension("editcheck.alignment._compiled", ["src/editcheck/alignment/_compiled.pyx"]),
            # The read-pair merge (editcheck.reads.merge runs its pure-Python reference without it).
            Extension("editcheck.reads._pairs_compiled", ["src/editcheck/reads/_pairs_compiled.pyx"]),
        ],
        compiler_directives={"language_level": "3"},
    )
)
