"""`editcheck export` (issue #14 item 5): one folder and one .tar.gz for a reviewer, with the report, every
table, the schemas, a manifest with the inputs' checksums and a README; byte-identical on rerun apart from the
manifest's times; no path of the analyst's machine inside; the output rules (staged, refuses its inputs)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from editcheck import export, schemas
from editcheck.cli import main
from editcheck.folders import OutputFolderError
from test_schemas import demo_results

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "test_data" / "demo"
RESULTS = ("report", "T1", "M1", "pool", "panel", "evidence")


def _export(*args: object) -> str:
    result = CliRunner().invoke(main, ["export", *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _fails(*args: object) -> str:
    result = CliRunner().invoke(main, ["export", *map(str, args)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    demo_results(folder)
    return folder


@pytest.fixture(scope="module")
def package(demo: Path) -> Path:
    _export(*(demo / name for name in RESULTS), "--sheet", demo / "panel_samples.tsv", "-o", demo / "out" / "package")
    return demo / "out" / "package"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def _archive(path: Path) -> tuple[list[tarfile.TarInfo], dict[str, bytes]]:
    with tarfile.open(path, "r:gz") as archive:
        members = archive.getmembers()
        contents = {member.name: archive.extractfile(member).read() for member in members if member.isfile()}  # type: ignore[union-attr]
    return members, contents


def test_package_holds_report_tables_schemas_manifest_and_readme(demo: Path, package: Path) -> None:
    files = _files(package)
    for name in ("report/report.html", "report/summary.tsv", "report/conditions.tsv", "report/manifest.json",
                 "report/editcheck_summary_mqc.tsv", "results/T1/summary.json", "results/T1/alleles.tsv",
                 "results/T1/reads.tsv.gz", "results/panel/offtarget_calls.tsv", "results/panel/methods.txt",
                 "results/panel/samples/PT1/OT1/positions.tsv", "results/pool/assignment.json",
                 "results/evidence/platform.tsv", "README.md", "manifest.json"):  # fmt: skip
        assert name in files, name
    for name in schemas.SCHEMA_FILES:
        assert files[f"schemas/{name}"] == (REPO / "src" / "editcheck" / "schemas" / name).read_bytes()
    # Tables are copied as written; the raw reads, the VCF and the results' markers are not packaged (the
    # package's own marker lets the next export replace it).
    assert files["results/T1/alleles.tsv"] == (demo / "T1" / "alleles.tsv").read_bytes()
    assert files["results/T1/reads.tsv.gz"] == (demo / "T1" / "reads.tsv.gz").read_bytes()
    assert not [name for name in files if name.endswith((".fastq.gz", ".vcf.gz", ".tbi", ".fa", "/.editcheck-result"))]
    assert ".editcheck-result" in files
    # Every JSON document of the package, its own manifest included, follows its schema.
    for name, data in files.items():
        if Path(name).name in schemas.DOCUMENTS:
            schemas.check_document(package / name, json.loads(data))


def _truth_reads(sample: str) -> int:
    """Reads of a demo sample by the demo's truth: an on-target sample's reads, a panel sample's reads over its sites."""
    truth = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))
    if sample in truth["samples"]:
        return int(truth["samples"][sample]["reads"])
    return sum(int(site["reads"]) for site in truth["offtarget"]["samples"][sample]["sites"].values())


def test_manifest_lists_inputs_with_their_checksums_and_every_file(demo: Path, package: Path) -> None:
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    inputs = {entry["path"]: entry for entry in manifest["inputs"]}
    for name, folder in (("T1", "ontarget"), ("M1", "ontarget"), ("PT1", "panel"), ("PC2", "panel")):
        digest = hashlib.sha256((DEMO / folder / f"{name}.fastq.gz").read_bytes()).hexdigest()
        assert inputs[f"{name}.fastq.gz"] == {"path": f"{name}.fastq.gz", "kind": "reads", "sha256": digest,
                                              "reads": _truth_reads(name)}  # fmt: skip
    sheet = hashlib.sha256((demo / "panel_samples.tsv").read_bytes()).hexdigest()
    assert inputs["panel_samples.tsv"] == {"path": "panel_samples.tsv", "kind": "sheet", "sha256": sheet, "reads": None}
    listed = {entry["path"]: entry["sha256"] for entry in manifest["outputs"]}
    files = _files(package)
    assert set(listed) == set(files) - {"manifest.json", ".editcheck-result"}
    for name, digest in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
    assert manifest["schemas"] == {"schema_version": schemas.SCHEMA_VERSION, "columns": "schemas/columns.json"}
    report = next(source for source in manifest["sources"] if source["kind"] == "report")
    report_manifest = json.loads((demo / "report" / "manifest.json").read_text(encoding="utf-8"))
    assert (report["started"], report["finished"]) == (report_manifest["started"], report_manifest["finished"])


def test_no_path_of_the_analysts_machine_inside(demo: Path, package: Path) -> None:
    private = [str(demo), str(REPO), os.getcwd()]
    home = os.path.expanduser("~")
    if home.strip("/"):
        private.append(home)
    _, archived = _archive(package.with_name("package.tar.gz"))
    everything = {**_files(package), **{f"tar:{name}": data for name, data in archived.items()}}
    for name, data in everything.items():
        texts = [data, gzip.decompress(data)] if name.endswith(".gz") else [data]
        for text in texts:
            for path in private:
                assert path.encode() not in text, (name, path)
    # The paths the results recorded are cut to the file names.
    summary = json.loads(everything["results/T1/summary.json"])
    assert summary["inputs"] == ["T1.fastq.gz"]
    calls = json.loads(everything["results/panel/offtarget_calls.json"])
    assert [sample["r1"] for sample in calls["samples"]] == [
        "PT1.fastq.gz",
        "PT2.fastq.gz",
        "PC1.fastq.gz",
        "PC2.fastq.gz",
    ]
    assert b">T1.fastq.gz<" in everything["report/report.html"]
    # The panel's per-site sample summaries record each read file's absolute path in the results (provenance);
    # every one is packaged, in the folder and the archive, with the path cut to the file name.
    sites = sorted(path.relative_to(demo).as_posix() for path in (demo / "panel" / "samples").glob("*/*/summary.json"))
    assert len(sites) == 4 * 5  # 4 panel samples x 5 sites of config/sites.tsv
    for name in sites:
        recorded = json.loads((demo / name).read_text())["inputs"]
        assert len(recorded) == 1 and os.path.isabs(recorded[0]), name
        for packaged in (f"results/{name}", f"tar:package/results/{name}"):
            assert json.loads(everything[packaged])["inputs"] == [Path(recorded[0]).name], packaged


def test_archive_is_the_folder_with_fixed_metadata(package: Path) -> None:
    archive = package.with_name("package.tar.gz")
    raw = archive.read_bytes()
    assert raw[:4] == b"\x1f\x8b\x08\x00" and raw[4:8] == b"\x00\x00\x00\x00"  # no FNAME flag, mtime 0
    members, contents = _archive(archive)
    names = [member.name for member in members]
    assert names[0] == "package" and names == sorted(names, key=lambda name: name.split("/"))
    for member in members:
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", ""), member.name
        assert member.mode == (0o755 if member.isdir() else 0o644), member.name
    files = _files(package)
    files.pop(".editcheck-result")
    assert contents == {f"package/{name}": data for name, data in files.items()}


def test_rerun_and_copy_elsewhere_give_the_same_bytes_apart_from_manifest_times(
    demo: Path, package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "copied results"
    for name in RESULTS:
        shutil.copytree(demo / name, elsewhere / name)
    shutil.copy(demo / "panel_samples.tsv", elsewhere / "panel_samples.tsv")
    _export(*(elsewhere / name for name in RESULTS), "--sheet", elsewhere / "panel_samples.tsv", "-o",
            tmp_path / "again" / "package")  # fmt: skip
    first, second = _files(package), _files(tmp_path / "again" / "package")
    assert sorted(first) == sorted(second)
    for name in first:
        if name != "manifest.json":
            assert first[name] == second[name], name
    manifests = [json.loads(files["manifest.json"]) for files in (first, second)]
    for manifest in manifests:
        manifest.pop("started"), manifest.pop("finished"), manifest.pop("command")
    assert manifests[0] == manifests[1]
    # With the clock fixed, the archive itself is byte-identical.
    monkeypatch.setattr(export, "now", lambda: "2026-01-01T00:00:00+00:00")
    for target in ("one", "two"):
        command = ["editcheck", "export", "-o", str(tmp_path / "out" / "package")]
        export.write_package([demo / name for name in RESULTS], tmp_path / "out" / "package", command=command)
        shutil.move(tmp_path / "out", tmp_path / target)
    assert (tmp_path / "one" / "package.tar.gz").read_bytes() == (tmp_path / "two" / "package.tar.gz").read_bytes()
    # The package folder's own path is cut too (the command names it).
    manifest = json.loads((tmp_path / "one" / "package" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == ["editcheck", "export", "-o", "package"]


def test_with_bam_vcf_adds_the_vcf_and_amplicon(demo: Path, tmp_path: Path) -> None:
    _export(demo / "T1", "--with-bam-vcf", "-o", tmp_path / "package")
    files = _files(tmp_path / "package")
    for name in ("edits.vcf.gz", "edits.vcf.gz.tbi", "amplicon.fa", "amplicon.fa.fai"):
        assert files[f"results/T1/{name}"] == (demo / "T1" / name).read_bytes(), name
    readme = files["README.md"].decode()
    assert "not included" not in readme and "### `summary.tsv` (sample" in readme


def test_readme_describes_every_table_from_the_dictionary(package: Path) -> None:
    readme = (package / "README.md").read_text(encoding="utf-8")
    assert "| `results/panel/` | off-target panel (`editcheck offtarget`) |" in readme
    assert "VCF, BAM and amplicon FASTA files of the results are not included" in readme
    for table_id in ("offtarget_calls", "alleles", "report_conditions", "evidence_platform", "pool_summary"):
        table = schemas.table_entry(table_id)
        assert f"### `{table['file']}` ({table['folder']}" in readme, table_id
        for column in table["columns"]:
            assert f"| `{column['name']}` | {column['type']} | {column['unit']} | {column['meaning']} |" in readme
    assert "`summary.json` (" in readme and "`schemas/summary.schema.json`" in readme
    assert "- `report/report.html`: the evidence appendix" in readme
    assert "- `results/panel/methods.txt`: the methods of the off-target calls" in readme


def test_refuses_to_write_into_or_around_an_input(demo: Path, tmp_path: Path) -> None:
    assert "must not be, hold or sit inside the input" in _fails(demo / "T1", "-o", demo / "T1" / "package")
    assert "must not be, hold or sit inside the input" in _fails(demo / "T1", "-o", demo / "T1")
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep")
    assert "is not an editcheck result folder" in _fails(demo / "T1", "-o", user)
    assert (user / "notes.txt").read_text() == "keep" and not (tmp_path / "mine.tar.gz").exists()


def test_bad_results_are_one_line_and_leave_nothing(demo: Path, tmp_path: Path) -> None:
    reads = tmp_path / "reads"
    reads.mkdir()
    shutil.copy(DEMO / "ontarget" / "T1.fastq.gz", reads)
    assert (
        _fails(reads, "-o", tmp_path / "p1")
        == f"Error: {reads}: not an editcheck result folder (no .editcheck-result marker)"
    )
    broken = tmp_path / "broken" / "T1"
    shutil.copytree(demo / "T1", broken)
    summary = json.loads((broken / "summary.json").read_text(encoding="utf-8"))
    del summary["edited"]
    (broken / "summary.json").write_text(json.dumps(summary))
    message = _fails(broken, "-o", tmp_path / "p2")
    assert message == (f"Error: {broken / 'summary.json'}: does not match summary.schema.json (schema_version 1) at "
                       "the top level: 'edited' is a required property")  # fmt: skip
    assert "two result folders named 'T1'" in _fails(demo / "T1", broken, "-o", tmp_path / "p3")
    for name in ("p1", "p2", "p3"):
        assert not (tmp_path / name).exists() and not (tmp_path / f"{name}.tar.gz").exists()
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_without_a_report_the_inputs_come_from_the_result_folders(demo: Path, tmp_path: Path) -> None:
    """Each panel sample's read file with the reads of its whole input (assignment.json), hashed at export."""
    _export(demo / "panel", demo / "pool", "-o", tmp_path / "package")
    manifest = json.loads((tmp_path / "package" / "manifest.json").read_text(encoding="utf-8"))
    expected = [{"path": f"{name}.fastq.gz", "kind": "reads", "reads": 5500,
                 "sha256": hashlib.sha256((DEMO / "panel" / f"{name}.fastq.gz").read_bytes()).hexdigest()}
                for name in ("PC1", "PC2", "PT1", "PT2")]  # fmt: skip
    assert manifest["inputs"] == expected
    assert [source["kind"] for source in manifest["sources"]] == ["offtarget", "pool"]


def test_a_failure_while_packaging_leaves_the_earlier_package_and_no_temporary_files(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _export(demo / "T1", "-o", tmp_path / "package")
    before = {**_files(tmp_path / "package"), "archive": (tmp_path / "package.tar.gz").read_bytes()}

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "write_archive", full_disk)
    with pytest.raises(OutputFolderError, match="package: cannot write the result: No space left on device"):
        export.write_package([demo / "T1", demo / "M1"], tmp_path / "package")
    assert {**_files(tmp_path / "package"), "archive": (tmp_path / "package.tar.gz").read_bytes()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["package", "package.tar.gz"]
    monkeypatch.undo()
    _export(demo / "T1", demo / "M1", "-o", tmp_path / "package")  # an earlier package is replaced as a whole
    assert "results/M1/summary.json" in _files(tmp_path / "package")
    _, archived = _archive(tmp_path / "package.tar.gz")
    assert "package/results/M1/summary.json" in archived
