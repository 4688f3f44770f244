"""One exception family for problems the user can fix; the CLI prints each as one line."""

from __future__ import annotations

from pathlib import Path


class EditcheckError(Exception):
    """A problem with the user's input or parameters, reported as a single line."""


class InputFormatError(EditcheckError):
    """A file that cannot be read: names the file, the record (1-based) when known, and the problem."""

    def __init__(self, path: str | Path, problem: str, record: int | None = None) -> None:
        super().__init__(str(path), problem, record)
        self.path = str(path)
        self.problem = problem
        self.record = record

    def __str__(self) -> str:
        where = self.path if self.record is None else f"{self.path}: record {self.record}"
        return f"{where}: {self.problem}"


class PairingError(InputFormatError):
    """R1 and R2 files that do not describe the same fragments in the same order."""


class DesignError(EditcheckError):
    """An amplicon, guide, window or donor that does not make sense together."""


class ParameterError(EditcheckError):
    """A parameter value outside what the analysis can use."""
