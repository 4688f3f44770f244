"""Provenance manifest: versions, platform, command, inputs and outputs with checksums, run times.

The manifest is the only file that records time; every data table stays byte-identical on rerun.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from editcheck import __version__
from editcheck.schemas import SCHEMA_VERSION

DEPENDENCIES = (
    "biopython", "click", "dnaio", "jinja2", "matplotlib", "numpy", "pandas", "pysam", "pywfa", "scipy",
    "snakemake", "snakemake-executor-plugin-slurm",
)  # fmt: skip


def sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def dependency_versions() -> dict[str, str | None]:
    """Installed versions of editcheck's dependencies (None when not installed)."""
    versions: dict[str, str | None] = {}
    for name in DEPENDENCIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def software() -> dict[str, Any]:
    """The fields that open every manifest: schema version, tool, editcheck's and its dependencies' versions,
    Python and platform."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": "editcheck",
        "editcheck_version": __version__,
        "dependencies": dependency_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def build_manifest(
    *,
    command: list[str],
    parameters: dict[str, Any],
    inputs: Iterable[tuple[str, int | None]],
    outputs: Iterable[str | Path],
    started: str,
    config: str | Path | None = None,
) -> dict[str, Any]:
    """The manifest document; ``inputs`` are (path, reads or None), ``outputs`` the files written."""
    config_entry = None
    if config is not None:
        config_path = Path(config)
        config_entry = {
            "path": str(config_path),
            "sha256": sha256(config_path),
            "text": config_path.read_text(encoding="utf-8"),
        }
    input_entries = []
    for path, reads in sorted(set(inputs)):
        entry: dict[str, Any] = {"path": path, "reads": reads}
        entry["sha256"] = sha256(path) if Path(path).is_file() else None
        input_entries.append(entry)
    return {
        **software(),
        "command": command,
        "parameters": parameters,
        "config": config_entry,
        "inputs": input_entries,
        "outputs": [{"path": str(path), "sha256": sha256(path)} for path in sorted(map(str, outputs))],
        "started": started,
        "finished": now(),
    }
