"""Pooled amplicons: one FASTQ set holding reads of many amplicons, each read assigned then quantified.

``read_amplicon_sheet`` loads the designs; ``quantify_pool`` runs the engine (:mod:`editcheck.engine`) over
them: every unique read is assigned to an amplicon (k-mer candidates, then alignment; see
:mod:`editcheck.alignment.assignment`) and quantified with the same classifier as a single-amplicon run;
:mod:`editcheck.results.pool` writes and reads its result folder.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from editcheck.design import AmpliconDesign, build_design
from editcheck.engine import AnalysisSettings, PoolResult, read_source, run
from editcheck.engine.workers import PooledCall, PoolWorker
from editcheck.errors import DesignError, InputFormatError, ParameterError
from editcheck.folders import safe_names
from editcheck.naming import sample_name_from_path
from editcheck.reads.read_length import MAX_READ_LENGTH
from editcheck.reads.segments import SEGMENT_READS
from editcheck.reads.umi import UmiSettings
from editcheck.sequences import reverse_complement
from editcheck.sheets import read_sheet

__all__ = [
    "PoolResult", "PoolWorker", "PooledCall", "check_distinct_amplicons", "quantify_pool", "read_amplicon_sheet",
]  # fmt: skip

SHEET_COLUMNS = (
    "name",
    "amplicon",
    "guide",
    "donor",
    "expected_hdr_amplicon",
    "base_editor",
    "target_position",
    "window",
)
REQUIRED_COLUMNS = ("name", "amplicon")


def read_amplicon_sheet(path: str | Path, **design_options: Any) -> list[AmpliconDesign]:
    """Designs from a tab-separated sheet: name, amplicon, and optionally guide (several separated by
    ','), donor, expected_hdr_amplicon, base_editor, target_position (1-based), window."""
    path = Path(path)
    rows = read_sheet(path, SHEET_COLUMNS, REQUIRED_COLUMNS, "amplicons")
    designs: list[AmpliconDesign] = []
    names: set[str] = set()
    for number, values in enumerate(rows, 1):
        name = values["name"]
        if not name or name in names:
            raise InputFormatError(path, f"amplicon name {name!r} is empty or repeated", number)
        names.add(name)
        guides = [guide for guide in values.get("guide", "").replace(";", ",").split(",") if guide]
        target = values.get("target_position") or None
        try:
            designs.append(
                build_design(
                    values["amplicon"],
                    guides,
                    name=name,
                    window=values.get("window") or None,
                    donor=values.get("donor") or None,
                    expected_hdr_amplicon=values.get("expected_hdr_amplicon") or None,
                    base_editor=values.get("base_editor") or None,
                    target=int(target) if target else None,
                    **design_options,
                )
            )
        except (DesignError, ValueError) as error:
            raise InputFormatError(path, f"amplicon {name}: {error}", number) from None
    safe_names([design.name for design in designs], "amplicon", path)
    check_distinct_amplicons(designs, [design.name for design in designs], path, "amplicon")
    return designs


def check_distinct_amplicons(designs: Sequence[AmpliconDesign], names: Sequence[str], path: Path, what: str) -> None:
    """Two rows with the same amplicon (on either strand) would leave every read of it ambiguous."""

    seen: dict[str, tuple[int, str]] = {}
    for number, (design, name) in enumerate(zip(designs, names), 1):
        sequence = design.amplicon.sequence.upper()
        for key in (sequence, reverse_complement(sequence)):
            if key in seen:
                first_number, first_name = seen[key]
                raise InputFormatError(
                    path, f"{what}s {first_name!r} (row {first_number}) and {name!r} have the same amplicon: "
                    "reads could not be assigned to either; give each amplicon once", number,
                )  # fmt: skip
        seen[sequence] = (number, name)


def quantify_pool(
    r1: str | Path,
    r2: str | Path | None,
    designs: Sequence[AmpliconDesign],
    *,
    settings: AnalysisSettings = AnalysisSettings(),
    sample: str | None = None,
    threads: int = 1,
    umi: UmiSettings | None = None,
    keep_alignments: bool = False,
    max_read_length: int = MAX_READ_LENGTH,
    spill: Path | None = None,
    segment_reads: int = SEGMENT_READS,
) -> PoolResult:
    """Assign and quantify the reads of a pooled run (single-end or paired-end FASTQ).

    With ``umi``, every read is assigned to its amplicon first, reads are then grouped by (amplicon, UMI)
    into molecules (a UMI shared by chance by two amplicons is two molecules), and each amplicon is
    quantified per read and per molecule, as ``quantify`` does for one amplicon. With ``keep_alignments``
    each amplicon's result keeps the alignments of its unique reads (the BAM output).  A read longer than
    ``max_read_length`` bases is an input error.  ``spill`` and ``segment_reads``: a large FASTQ input run in
    segments, as :func:`~editcheck.pipeline.quantify` runs it."""
    if not designs:
        raise ParameterError("a pooled run needs at least one amplicon")
    threads = max(1, min(threads, os.cpu_count() or 1))
    name = sample or sample_name_from_path(r1)
    names = [f"{name}:{design.name}" for design in designs]
    return run(read_source(r1, r2, max_read_length=max_read_length), designs, names, settings=settings, threads=threads, umi=umi,
               keep_alignments=keep_alignments, spill=spill, segment_reads=segment_reads)  # fmt: skip
