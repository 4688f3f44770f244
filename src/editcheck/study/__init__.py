"""A study: several designs (products), subjects, tissues and time points analysed together.

Two tab-separated sheets describe it:

- the *designs* sheet (:mod:`~editcheck.study.designs`): one row per design, everything
  `editcheck quantify` takes (amplicon, guides, editor, window, donor, pegRNA, exons...) and the design's
  optional off-target site sheet; each row is built by the one design builder;
- the *samples* sheet (:mod:`~editcheck.study.samples`): one row per sample with its design, condition,
  replicate, assay (on-target amplicon or off-target panel), reads and study metadata (subject, model,
  tissue, time point with a unit (:mod:`~editcheck.study.time_points`), dose, and any free columns, which
  are carried into every output as written).

:func:`read_study` reads and checks both; every problem is one line naming the sheet, the row and the
problem. :mod:`~editcheck.study.panels` writes samples (e.g. a design's panel) as the plain sample sheet
`editcheck offtarget` reads; :mod:`~editcheck.study.metadata` checks ``--metadata KEY=VALUE`` of the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from editcheck.folders import safe_name
from editcheck.study.designs import DESIGN_COLUMNS, DESIGN_REQUIRED, StudyDesign, design_from_sheet, read_design_sheet
from editcheck.study.metadata import parse_metadata
from editcheck.study.panels import PANEL_SHEET_COLUMNS, panel_samples, write_sample_sheet
from editcheck.study.samples import (
    ASSAYS,
    CONDITIONS,
    METADATA_EXCLUDED,
    MODELS,
    OFF_TARGET_PANEL,
    ON_TARGET,
    SAMPLE_COLUMNS,
    SAMPLE_REQUIRED,
    StudySample,
    read_sample_sheet,
)
from editcheck.study.time_points import DAYS_PER_UNIT, TimePoint, parse_time_point

__all__ = [
    "ASSAYS", "CONDITIONS", "DAYS_PER_UNIT", "DESIGN_COLUMNS", "DESIGN_REQUIRED", "METADATA_EXCLUDED", "MODELS",
    "OFF_TARGET_PANEL", "ON_TARGET", "PANEL_SHEET_COLUMNS", "SAMPLE_COLUMNS", "SAMPLE_REQUIRED", "Study",
    "StudyDesign", "StudySample", "TimePoint", "design_from_sheet", "panel_samples", "parse_metadata",
    "parse_time_point", "read_design_sheet", "read_sample_sheet", "read_study", "write_sample_sheet",
]  # fmt: skip


@dataclass(frozen=True)
class Study:
    """The designs (by id, in the sheet's order) and samples (in the sheet's order) of a study."""

    designs_sheet: Path
    samples_sheet: Path
    designs: Mapping[str, StudyDesign]
    samples: Sequence[StudySample]

    def samples_of(self, design_id: str, assay: str = ON_TARGET) -> list[StudySample]:
        """The samples of one design and assay, in the sheet's order."""
        return [sample for sample in self.samples if sample.design_id == design_id and sample.assay == assay]

    def coordinate_groups(self, design_id: str) -> dict[str, list[StudySample]]:
        """The on-target samples of one design grouped by the coordinates their VCFs are written in (the files
        that can merge into one), in the sheet's order: ``amplicon`` for FASTQ reads, ``genome`` for
        genome-aligned BAM/CRAM at one locus (``genome_<locus>`` for each locus when they name several)."""
        groups: dict[str, list[StudySample]] = {}
        loci: dict[str, list[StudySample]] = {}
        for sample in self.samples_of(design_id):
            if sample.bam is None:
                groups.setdefault("amplicon", []).append(sample)
            else:
                loci.setdefault((sample.locus or "").replace(",", ""), []).append(sample)
        if len(loci) == 1:
            groups["genome"] = next(iter(loci.values()))
        else:
            groups.update((f"genome_{safe_name(locus)}", members) for locus, members in loci.items())
        return groups

    def panel_designs(self) -> list[str]:
        """The designs with off-target panel samples, in the designs sheet's order."""
        return [design_id for design_id in self.designs if self.samples_of(design_id, OFF_TARGET_PANEL)]


def read_study(designs_sheet: str | Path, samples_sheet: str | Path, *, check_files: bool = True) -> Study:
    """Read and check a study's designs and samples sheets; without ``check_files`` the samples' reads files
    need not exist (for the report, which reads only the metadata)."""
    designs = read_design_sheet(designs_sheet)
    samples = read_sample_sheet(samples_sheet, designs, check_files=check_files)
    return Study(Path(designs_sheet), Path(samples_sheet), designs, samples)
