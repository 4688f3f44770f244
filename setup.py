"""The compiled hot paths: seven Cython extensions, built by ``pip install``: editcheck.alignment._compiled (the
per-unique-read kernels), editcheck.alignment._align_compiled (the read aligner's steps around WFA),
editcheck.classification._classify_compiled (a read's call from its alignment),
editcheck.reads._fastq_compiled (single-end FASTQ read and collapsed from bytes),
editcheck.reads._pairs_compiled (read pairs split, counted and merged),
editcheck.quantification._tally_compiled (the tally's pass over the calls) and
editcheck.quantification._profile_compiled (the position profiles counted).

Everything else about the package is declared in pyproject.toml.  Without a C compiler or Cython the package
still works: editcheck.alignment.hotpath, editcheck.classification.outcomes, editcheck.reads.collapse,
editcheck.reads.merge and editcheck.quantification.tally fall back to their pure-Python (numpy) reference
implementations.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension("editcheck.alignment._compiled", ["src/editcheck/alignment/_compiled.pyx"]),
            # ReadAligner.align's steps around WFA (with the kernels above; the Python methods without them).
            Extension("editcheck.alignment._align_compiled", ["src/editcheck/alignment/_align_compiled.pyx"]),
            # Classifier.python_classify compiled (the classifier runs that reference without it).
            Extension(
                "editcheck.classification._classify_compiled", ["src/editcheck/classification/_classify_compiled.pyx"]
            ),
            Extension("editcheck.reads._fastq_compiled", ["src/editcheck/reads/_fastq_compiled.pyx"]),
            # The read-pair merge (editcheck.reads.merge runs its pure-Python reference without it).
            Extension("editcheck.reads._pairs_compiled", ["src/editcheck/reads/_pairs_compiled.pyx"]),
            # The tally's pass over the calls (editcheck.quantification.tally runs python_count_calls without it).
            Extension("editcheck.quantification._tally_compiled", ["src/editcheck/quantification/_tally_compiled.pyx"]),
            # The position profiles' counts (editcheck.quantification.tally runs its numpy reference without it).
            Extension(
                "editcheck.quantification._profile_compiled", ["src/editcheck/quantification/_profile_compiled.pyx"]
            ),
        ],
        compiler_directives={"language_level": "3"},
        # the shared declarations: editcheck/reads/_hashing.pxd, editcheck/reads/_plain_text.pxd,
        # editcheck/alignment/_named.pxd
        include_path=["src"],
    )
)
