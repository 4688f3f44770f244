"""The compiled hot path: one Cython extension (editcheck.alignment._compiled), built by ``pip install``.

Everything else about the package is declared in pyproject.toml.  Without a C compiler or Cython the package
still works: editcheck.alignment.hotpath falls back to the pure-Python reference implementation.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("editcheck.alignment._compiled", ["src/editcheck/alignment/_compiled.pyx"])],
        compiler_directives={"language_level": "3"},
    )
)
