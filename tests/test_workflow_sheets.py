"""The one-design workflow's sheets use the library's column lists (#11): the schemas name the same columns,
and a column the library reads but the one-design workflow cannot run (bam) is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from editcheck.offtarget.panel import SAMPLE_COLUMNS, SITE_COLUMNS
from test_workflow import REPO, make_workdir, needs_snakemake, read_tsv, run_snakemake, write_tsv

SCHEMAS = REPO / "workflows" / "schemas"


@pytest.mark.parametrize(
    ("schema", "columns"), [("samples.schema.yaml", SAMPLE_COLUMNS), ("sites.schema.yaml", SITE_COLUMNS)]
)
def test_one_design_schemas_name_the_library_columns(schema: str, columns: tuple[str, ...]) -> None:
    document = yaml.safe_load((SCHEMAS / schema).read_text(encoding="utf-8"))
    assert sorted(document["properties"]) == sorted(columns)


def test_the_workflow_restates_no_column_list() -> None:
    common = (REPO / "workflows" / "rules" / "common.smk").read_text(encoding="utf-8")
    assert "from editcheck.sheets import PANEL_SAMPLE_COLUMNS as SAMPLE_COLUMNS" in common
    assert "from editcheck.sheets import PANEL_SITE_COLUMNS as SITE_COLUMNS" in common
    assert "SAMPLE_COLUMNS = (" not in common and "SITE_COLUMNS = (" not in common


@needs_snakemake
def test_a_bam_sample_in_a_one_design_sheet_is_one_line(tmp_path: Path) -> None:
    workdir = make_workdir(tmp_path, offtarget=False)
    rows = read_tsv(workdir / "samples.tsv")
    rows[0]["bam"] = str(REPO / "test_data" / "demo" / "ontarget" / "T1.fastq.gz")
    for row in rows[1:]:
        row["bam"] = ""
    write_tsv(workdir / "samples.tsv", rows)
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "genome-aligned reads (bam)" in line]
    assert len(lines) == 1 and "samples.tsv" in lines[0] and f"sample {rows[0]['sample']}" in lines[0], lines
