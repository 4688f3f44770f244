"""Defaults derived from the environment and from file names: sample names and worker counts."""

from __future__ import annotations

import os
import re
from pathlib import Path

READ_FILE_EXTENSIONS = (".fastq.gz", ".fq.gz", ".fastq.bz2", ".fq.bz2", ".fastq", ".fq", ".bam", ".cram", ".sam", ".gz")
"""Extensions removed from a reads file's name to make a sample name (longest first where they nest)."""

_READ_NUMBER = re.compile(r"(?:_S\d+)?(?:_L\d{3})?[._](?:R)?[12](?:_\d{3})?$", re.IGNORECASE)
"""A read-number suffix (``_R1``, ``_2``, ``.R1``, Illumina's ``_S1_L001_R1_001``) at the end of a stem."""


def sample_name_from_path(path: str | Path) -> str:
    """A sample name from a reads file: the file name less its extensions and read-number suffix.

    ``wk04_R1.fastq.gz`` -> ``wk04``; ``KO_S3_L001_R1_001.fastq.gz`` -> ``KO``; ``ctrl.bam`` -> ``ctrl``.
    A name that would become empty keeps its stem.
    """
    name = Path(path).name
    lowered = name.lower()
    for extension in READ_FILE_EXTENSIONS:
        if lowered.endswith(extension) and len(name) > len(extension):
            name = name[: -len(extension)]
            break
    stripped = _READ_NUMBER.sub("", name)
    return stripped or name


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which container limits set), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - platforms without sched_getaffinity
        return max(1, os.cpu_count() or 1)
