"""The compiled hot paths: two Cython extensions, built by ``pip install``: editcheck.alignment._compiled (the
per-unique-read kernels) and editcheck.reads._fastq_compiled (single-end FASTQ read and collapsed from bytes).

Everything else about the package is declared in pyproject.toml.  Without a C compiler or Cython the package
still works: editcheck.alignment.hotpath and editcheck.reads.collapse fall back to the pure-Python reference
implementations.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension("editcheck.alignment._compiled", ["src/editcheck/alignment/_compiled.pyx"]),
            Extension("editcheck.reads._fastq_compiled", ["src/editcheck/reads/_fastq_compiled.pyx"]),
        ],
        compiler_directives={"language_level": "3"},
    )
)
