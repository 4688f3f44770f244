"""Which implementation of the per-unique-read hot path runs: compiled or the pure-Python reference.

The compiled one (:mod:`editcheck.alignment._compiled`, Cython, built by ``pip install``) is used when it is
built; ``EDITCHECK_PURE_PYTHON=1`` in the environment selects the reference (:mod:`editcheck.alignment.events`,
and :mod:`editcheck.alignment.packing` for results' bytes) instead, and so does a missing extension, with a
one-line warning on stderr.  Both give identical results (and bytes); only the speed differs.  The choice is made
once, at import, so worker processes inherit it.  With the compiled kernels, :class:`AlignerCore` (its own extension,
:mod:`editcheck.alignment._align_compiled`) also runs the read aligner's own steps around WFA (its reference: the
methods of :class:`~editcheck.alignment.aligner.ReadAligner`).
"""

from __future__ import annotations

from typing import Any

from editcheck.compiled import PURE_PYTHON_VARIABLE, compiled_module

__all__ = [
    "IMPLEMENTATION", "PURE_PYTHON_VARIABLE", "AlignerCore", "ChunkRunner", "ResultDecoder", "anchor_clips",
    "build_events", "core_penalty", "core_span", "describe_events", "laid_out", "layout_offset", "mismatches", "pack",
    "signature_index", "ungapped_substitutions", "unpack",
]  # fmt: skip

IMPLEMENTATION = "python" if compiled_module("editcheck.alignment._compiled", "hot path") is None else "compiled"
"""``compiled`` or ``python``."""

if IMPLEMENTATION == "compiled":
    from editcheck.alignment._compiled import ChunkRunner as _CompiledRunner
    from editcheck.alignment._compiled import ResultDecoder as _CompiledDecoder
    from editcheck.alignment._compiled import (
        anchor_clips,
        build_events,
        core_penalty,
        core_span,
        describe_events,
        laid_out,
        layout_offset,
        mismatches,
        pack,
        signature_index,
        ungapped_substitutions,
        unpack,
    )  # fmt: skip

    _aligner_module = compiled_module("editcheck.alignment._align_compiled", "aligner")
    AlignerCore: Any = None if _aligner_module is None else _aligner_module.AlignerCore
    """:meth:`editcheck.alignment.aligner.ReadAligner.align` compiled (or None: the Python method runs)."""
    ChunkRunner: Any = _CompiledRunner
    """The worker processes' pass over a chunk of unique reads compiled
    (``editcheck.engine.masking.SitesWorker``, :func:`editcheck.engine.workers.chunk_runner`)."""
    ResultDecoder: Any = _CompiledDecoder
    """:func:`editcheck.engine.workers.python_decode_result` compiled, as a callable class (or None: the function
    runs)."""
else:
    AlignerCore = None
    ChunkRunner = None
    ResultDecoder = None
    from editcheck.alignment.events import (
        anchor_clips,
        build_events,
        core_penalty,
        core_span,
        describe_events,
        laid_out,
        layout_offset,
        mismatches,
        signature_index,
        ungapped_substitutions,
    )  # fmt: skip
    from editcheck.alignment.packing import pack, unpack
