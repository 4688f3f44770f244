"""editcheck: evidence that a gene-editing therapy hit its target, from sequencing reads."""

from typing import Any

from editcheck._version import __version__

__all__ = ["SampleResult", "__version__", "quantify"]


def __getattr__(name: str) -> Any:  # lazy: keep `import editcheck` and `editcheck --help` fast
    if name in ("quantify", "SampleResult"):
        from editcheck import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
