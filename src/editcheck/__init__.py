"""editcheck: evidence that a gene-editing therapy hit its target, from sequencing reads."""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("editcheck")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["SampleResult", "__version__", "quantify"]


def __getattr__(name: str) -> Any:  # lazy: keep `import editcheck` and `editcheck --help` fast
    if name in ("quantify", "SampleResult"):
        from editcheck import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
