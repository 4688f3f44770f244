"""Study samples written as the plain sample sheet that `editcheck offtarget --samples` and
`editcheck report --samples` read (e.g. one design's panel samples)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from editcheck.outputs import write_tsv
from editcheck.sheets import PANEL_SAMPLE_COLUMNS
from editcheck.study.samples import OFF_TARGET_PANEL, StudySample

__all__ = ["PANEL_SHEET_COLUMNS", "panel_samples", "write_sample_sheet"]

PANEL_SHEET_COLUMNS = PANEL_SAMPLE_COLUMNS
"""The columns written; the off-target panel's sheet reader accepts each (a test holds the two together)."""


def panel_samples(samples: Sequence[StudySample], design_id: str) -> list[StudySample]:
    """The off-target panel samples of one design, in the sheet's order."""
    return [sample for sample in samples if sample.design_id == design_id and sample.assay == OFF_TARGET_PANEL]


def write_sample_sheet(samples: Sequence[StudySample], path: str | Path) -> None:
    """Write ``samples`` (e.g. :func:`panel_samples`) as a plain sample sheet: untreated samples are
    controls there, and reads paths are absolute (the sheet is written away from the study's sheet)."""

    def cell(value: Path | str | None) -> str:
        return "" if value is None else str(Path(value).resolve()) if isinstance(value, Path) else value

    rows = [
        [sample.sample, "control" if sample.is_control else "treated", sample.replicate, cell(sample.r1),
         cell(sample.r2), cell(sample.bam), cell(sample.pair), cell(sample.input_copies), cell(sample.input_ng)]
        for sample in samples
    ]  # fmt: skip
    write_tsv(path, PANEL_SHEET_COLUMNS, rows)
