"""The output schemas shipped in the package (issue #14 item 4): the column dictionary against every writer's
column list, the JSON Schemas valid draft 2020-12, and every output of a demo run (quantify, quantify-pool,
offtarget, report, nominate, the study evidence tables, validate) checked against them with jsonschema."""

from __future__ import annotations

import csv
import fnmatch
import gzip
import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from editcheck import schemas
from editcheck.cli import main
from editcheck.errors import InputFormatError
from editcheck.evidence import output as evidence_output
from editcheck.offtarget import nominate
from editcheck.report import appendix, multiqc
from editcheck.results import offtarget, pool, sample
from editcheck.validation import VALIDATION_COLUMNS

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "test_data" / "demo"
SCHEMAS = REPO / "src" / "editcheck" / "schemas"
GUIDE = "GCTAACAACTAAAACGTAAC"  # product A of the demo study

WRITER_COLUMNS = {
    "sample_summary": sample.SUMMARY_COLUMNS,
    "alleles": sample.ALLELE_COLUMNS,
    "positions": sample.POSITION_COLUMNS,
    "indel_sizes": sample.INDEL_SIZE_COLUMNS,
    "base_editing": sample.BASE_EDITING_COLUMNS,
    "read_calls": sample.READ_CALL_COLUMNS,
    "pool_summary": pool.POOL_SUMMARY_COLUMNS,
    "offtarget_calls": offtarget.CALL_COLUMNS,
    "report_summary": tuple(appendix.SUMMARY_COLUMNS),
    "report_conditions": tuple(appendix.CONDITION_COLUMNS),
    "multiqc_summary": ("Sample", *multiqc.SUMMARY_HEADERS),
    "multiqc_offtarget": ("Site", *multiqc.OFFTARGET_HEADERS),
    "evidence_groups": evidence_output.GROUP_COLUMNS,
    "evidence_durability": evidence_output.DURABILITY_COLUMNS,
    "evidence_trends": evidence_output.TREND_COLUMNS,
    "evidence_table": evidence_output.EVIDENCE_COLUMNS,
    "evidence_platform": evidence_output.PLATFORM_COLUMNS,
    "candidates": (*nominate.SITE_COLUMNS, "amplicon", "site_id"),
    "site_sheet": nominate.SHEET_COLUMNS,
    "validation": VALIDATION_COLUMNS,
}
"""Each dictionary table and the column list its writer writes (from the writer's own constants)."""
WRITER_CONSTANTS = {
    (sample, "SUMMARY_COLUMNS"), (sample, "ALLELE_COLUMNS"), (sample, "POSITION_COLUMNS"),
    (sample, "INDEL_SIZE_COLUMNS"), (sample, "BASE_EDITING_COLUMNS"), (sample, "READ_CALL_COLUMNS"),
    (pool, "POOL_SUMMARY_COLUMNS"), (offtarget, "CALL_COLUMNS"), (appendix, "SUMMARY_COLUMNS"),
    (appendix, "CONDITION_COLUMNS"), (evidence_output, "GROUP_COLUMNS"), (evidence_output, "DURABILITY_COLUMNS"),
    (evidence_output, "TREND_COLUMNS"), (evidence_output, "EVIDENCE_COLUMNS"), (evidence_output, "PLATFORM_COLUMNS"),
    (nominate, "SITE_COLUMNS"), (nominate, "SHEET_COLUMNS"),
}  # fmt: skip
"""Every ``*_COLUMNS`` constant of the modules that write tables, as mapped above."""


def test_every_writer_column_list_has_its_dictionary_entry() -> None:
    dictionary = {table["id"]: table for table in schemas.column_dictionary()["tables"]}
    assert sorted(dictionary) == sorted(WRITER_COLUMNS)
    for table_id, columns in WRITER_COLUMNS.items():
        assert tuple(column["name"] for column in dictionary[table_id]["columns"]) == tuple(columns), table_id
    # A new column list in a writer module must be mapped above, hence described in the dictionary.
    found = {(module, name) for module in (sample, pool, offtarget, appendix, evidence_output, nominate)
             for name in dir(module) if name.endswith("_COLUMNS")}  # fmt: skip
    assert found == WRITER_CONSTANTS


def test_dictionary_entries_are_complete() -> None:
    dictionary = schemas.column_dictionary()
    assert dictionary["schema_version"] == schemas.SCHEMA_VERSION
    for table in dictionary["tables"]:
        assert table["file"] and table["folder"] and table["written_by"] and table["description"], table["id"]
        names = [column["name"] for column in table["columns"]]
        assert len(names) == len(set(names)), table["id"]
        for column in table["columns"]:
            assert column["type"] in dictionary["types"], (table["id"], column)
            assert isinstance(column["unit"], str) and column["meaning"].strip(), (table["id"], column)
        assert set(table.get("optional_columns", ())) <= set(names), table["id"]


def test_json_schemas_are_valid_draft_2020_12_and_versioned() -> None:
    for name in schemas.DOCUMENTS.values():
        schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        Draft202012Validator.check_schema(schema)
        assert schema["properties"]["schema_version"] == {"const": schemas.SCHEMA_VERSION}, name
        assert "schema_version" in schema["required"], name
    # One version for every output: the writers' own constants agree with it.
    assert sample.SCHEMA_VERSION == evidence_output.SCHEMA_VERSION == schemas.SCHEMA_VERSION


def test_the_schemas_are_package_data() -> None:
    """`pip install .` ships every file of src/editcheck/schemas (setuptools package-data globs)."""
    with open(REPO / "pyproject.toml", "rb") as handle:
        patterns = tomllib.load(handle)["tool"]["setuptools"]["package-data"]["editcheck"]
    shipped = [path.relative_to(SCHEMAS.parent).as_posix() for path in SCHEMAS.iterdir() if path.suffix == ".json"]
    assert sorted(shipped) == sorted(f"schemas/{name}" for name in schemas.SCHEMA_FILES)
    for path in shipped:
        assert any(fnmatch.fnmatch(path, pattern) for pattern in patterns), path


def _cli(*args: object) -> None:
    result = CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def demo_results(folder: Path) -> dict[str, Path]:
    """Every kind of output of the demo: two quantify folders (reads and VCF written), a pooled folder,
    the off-target panel, the report with conditions, nominate's candidates, study evidence, validate -o."""
    amplicon = DEMO / "designs" / "A.fa"
    for name in ("T1", "M1"):
        _cli("quantify", "--r1", DEMO / "ontarget" / f"{name}.fastq.gz", "-a", amplicon, "-g", GUIDE,
             "--base-editor", "ABE", "--editing-window", "4-8", "--target-protospacer-position", 5, "--write-reads",
             "--write-vcf", "--sample", name, "-t", 1, "-o", folder / name)  # fmt: skip
    with open(REPO / "config" / "sites.tsv", encoding="utf-8", newline="") as handle:
        sites = list(csv.DictReader(handle, delimiter="\t"))
    _write_sheet(folder / "amplicons.tsv", [{"name": site["site_id"], "amplicon": site["amplicon"],
                                              "guide": site["protospacer"]} for site in sites])  # fmt: skip
    _cli("quantify-pool", "--r1", DEMO / "panel" / "PT1.fastq.gz", "--amplicons", folder / "amplicons.tsv", "-t", 1,
         "-o", folder / "pool")  # fmt: skip
    with open(REPO / "config" / "panel_samples.tsv", encoding="utf-8", newline="") as handle:
        panel = list(csv.DictReader(handle, delimiter="\t"))
    for row in panel:
        row["r1"] = str((REPO / "config" / row["r1"]).resolve())
    _write_sheet(folder / "panel_samples.tsv", panel)
    _cli("offtarget", "--sites", REPO / "config" / "sites.tsv", "--samples", folder / "panel_samples.tsv", "-t", 1,
         "-o", folder / "panel")  # fmt: skip
    _write_sheet(
        folder / "conditions.tsv", [{"sample": "T1", "condition": "treated"}, {"sample": "M1", "condition": "control"}]
    )
    _cli("report", "--ontarget", folder / "T1", "--ontarget", folder / "M1", "--offtarget", folder / "panel",
         "--samples", folder / "conditions.tsv", "-o", folder / "report")  # fmt: skip
    (folder / "genome.fa").write_text("".join(f">{site['site_id']}\nACGT{site['amplicon']}TTGCA\n" for site in sites))
    _cli("nominate", "--genome", folder / "genome.fa", "-g", GUIDE, "-m", 4, "--flank", 30, "-o", folder / "nominate")
    from test_evidence import rebuilt_from_reversed_samples

    evidence_output.write_evidence_outputs(folder / "evidence", *rebuilt_from_reversed_samples())
    _cli("validate", "--grid", "smoke", "-o", folder / "validation.tsv")
    return {name: folder / name for name in ("T1", "M1", "pool", "panel", "report", "nominate", "evidence")}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("schemas")
    demo_results(folder)
    return folder


OUTPUT_FOLDERS = ("T1", "M1", "pool", "panel", "report", "nominate", "evidence")


def _outputs(demo: Path, pattern: str) -> list[Path]:
    return sorted(path for name in OUTPUT_FOLDERS for path in (demo / name).rglob(pattern))


def test_every_json_document_of_the_demo_matches_its_schema(demo: Path) -> None:
    validators = {
        document: Draft202012Validator(json.loads((SCHEMAS / name).read_text(encoding="utf-8")))
        for document, name in schemas.DOCUMENTS.items()
    }
    seen: dict[str, int] = {}
    for path in _outputs(demo, "*.json"):
        if path.name.endswith("_mqc.json"):  # MultiQC's own custom-content format
            continue
        assert path.name in validators, f"{path}: a JSON output without a schema"
        document = json.loads(path.read_text(encoding="utf-8"))
        errors = [
            f"{list(error.absolute_path)}: {error.message}" for error in validators[path.name].iter_errors(document)
        ]
        assert errors == [], path
        assert document["schema_version"] == schemas.SCHEMA_VERSION, path
        seen[path.name] = seen.get(path.name, 0) + 1
    # 2 quantify + 5 pooled amplicons + 4 panel samples x 5 sites; 1 pool + 4 panel samples; evidence.json from
    # the study evidence writer and from the report (which writes the evidence of its samples beside the HTML).
    assert seen == {"summary.json": 27, "assignment.json": 5, "offtarget_calls.json": 1, "manifest.json": 1,
                    "evidence.json": 2}  # fmt: skip


def _header(path: Path) -> list[str]:
    with (gzip.open if path.suffix == ".gz" else open)(path, "rt", encoding="utf-8") as handle:
        return next(line for line in handle if not line.startswith("#")).rstrip("\n").split("\t")


def test_every_table_of_the_demo_has_its_columns_in_the_dictionary(demo: Path) -> None:
    tables = [*_outputs(demo, "*.tsv"), *_outputs(demo, "*.tsv.gz"), demo / "validation.tsv"]
    matched = set()
    for path in tables:
        entries = schemas.tables_named(path.name) or schemas.tables_named("validation.tsv") * (path.parent == demo)
        assert entries, f"{path}: a table editcheck wrote has no entry in columns.json"
        header = _header(path)
        fits = [table for table in entries if header == schemas.expected_columns(table, header)]
        assert len(fits) == 1, (path, header)
        assert schemas.check_table(path)["id"] == fits[0]["id"]
        matched.add(fits[0]["id"])
    # Every table of the dictionary is exercised by the demo (the study tables by the evidence writer).
    assert matched == set(WRITER_COLUMNS)


def test_a_document_that_breaks_its_schema_is_one_line_naming_file_and_field(demo: Path, tmp_path: Path) -> None:
    document = json.loads((demo / "T1" / "summary.json").read_text(encoding="utf-8"))
    path = tmp_path / "summary.json"
    schemas.check_document(path, document)
    broken = {**document, "edited": {**document["edited"], "percent": "61%"}}
    with pytest.raises(
        InputFormatError,
        match=r"summary\.json: does not match summary\.schema\.json .* at edited\.percent: '61%' is not of type 'number'",
    ):
        schemas.check_document(path, broken)
    with pytest.raises(
        InputFormatError,
        match=r"at the top level: Additional properties are not allowed \('undocumented' was unexpected\)",
    ):
        schemas.check_document(path, {**document, "undocumented": 1})
    with pytest.raises(InputFormatError, match="at schema_version: 1 was expected"):
        schemas.check_document(path, {**document, "schema_version": 2})
    with pytest.raises(InputFormatError, match="no schema for this file name"):
        schemas.check_document(tmp_path / "other.json", document)


def test_study_metadata_is_an_object_of_strings_with_one_column_each(demo: Path, tmp_path: Path) -> None:
    """The study sheet's metadata (#14 study work): summary.json `metadata` (strings) and one extra
    column per key after summary.tsv's columns."""
    document = json.loads((demo / "T1" / "summary.json").read_text(encoding="utf-8"))
    metadata = {"metadata": {"subject": "P1", "tissue": "liver"}, "metadata_columns": ["subject", "tissue"]}
    schemas.check_document(tmp_path / "summary.json", {**document, **metadata})
    with pytest.raises(InputFormatError, match=r"at metadata\.day: 30 is not of type 'string'"):
        schemas.check_document(tmp_path / "summary.json", {**document, "metadata": {"day": 30}})
    lines = (demo / "T1" / "summary.tsv").read_text(encoding="utf-8").splitlines()
    extended = tmp_path / "summary.tsv"
    extended.write_text(
        "\n".join(f"{line}\t{'subject' if number == 0 else 'P1'}" for number, line in enumerate(lines)) + "\n"
    )
    assert schemas.check_table(extended)["id"] == "sample_summary"
    renamed = tmp_path / "alleles.tsv"
    renamed.write_text(
        (demo / "T1" / "alleles.tsv").read_text(encoding="utf-8").replace("percent_of_aligned", "share", 1)
    )
    with pytest.raises(InputFormatError, match=r"alleles\.tsv: columns .* are not the dictionary's"):
        schemas.check_table(renamed)
    extra = tmp_path / "x" / "alleles.tsv"
    extra.parent.mkdir()
    extra.write_text("".join(line + "\textra\n" for line in (demo / "T1" / "alleles.tsv").read_text().splitlines()))
    with pytest.raises(InputFormatError, match="are not the dictionary's"):
        schemas.check_table(extra)
