"""A shareable evidence package (``editcheck export``): result folders (report, samples, pools, off-target
panels, study evidence, merged study VCFs) copied into one folder and one ``.tar.gz`` for a collaborator or a reviewer, without
the raw reads: the report, every table and JSON document, the schemas and column dictionary they follow
(:mod:`editcheck.schemas`), a manifest with the SHA-256 of every input read file and sheet, and a README
describing the contents, generated from the column dictionary.

* Every JSON document is checked against its schema and every table's columns against the dictionary before
  anything is written; a file that does not match stops the export (one line naming it).
* The analyst's folders never enter the package: each absolute path an output records (the read files,
  the result folders, the working folder, $HOME) is cut to the part below the folder that held it (a read
  file becomes its file name; its checksum in manifest.json identifies it); a text file that still names one
  of those folders stops the export.
* Same results, same bytes: files in sorted order, the archive with fixed times, owners and modes and a
  gzip header without name or time; only manifest.json records times (of the export and of the report run).
"""

from __future__ import annotations

import gzip
import html
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from editcheck import __version__
from editcheck.errors import InputFormatError, ParameterError
from editcheck.folders import MARKER, output_folder, safe_name
from editcheck.outputs import _UMASK, atomic_output, write_json
from editcheck.provenance import now, sha256, software
from editcheck.schemas import (
    COLUMNS,
    DOCUMENTS,
    SCHEMA_FILES,
    SCHEMA_VERSION,
    check_document,
    check_table,
    column_dictionary,
    schema_text,
)

SHARED_SUFFIXES = (".tsv", ".tsv.gz", ".json", ".txt", ".html", ".pdf", ".bed")
"""Files of a result folder that go into every package: tables, documents, methods, the report."""
BAM_VCF_SUFFIXES = (".vcf.gz", ".vcf.gz.tbi", ".fa", ".fa.fai", ".bam", ".bam.bai", ".bai", ".csi")
"""Files that go in only with ``--with-bam-vcf``: the VCF and BAM with their indexes and the amplicon FASTA."""
TEXT_SUFFIXES = (".tsv", ".json", ".txt", ".html", ".bed", ".fa", ".fai", ".md")
KINDS = (
    ("report", ("report.html", "manifest.json"), "evidence report (`editcheck report`)"),
    ("offtarget", ("offtarget_calls.json",), "off-target panel (`editcheck offtarget`)"),
    ("pool", ("assignment.json", "pool_summary.tsv"), "pooled run (`editcheck quantify-pool`)"),
    ("evidence", ("evidence.json",), "study evidence tables"),
    ("sample", ("summary.json",), "on-target sample (`editcheck quantify`)"),
    ("nominate", ("candidates.tsv",), "candidate off-target sites (`editcheck nominate`)"),
    ("vcf", ("edits.vcf.gz",), "study VCF: one design's samples in one file (`editcheck merge-vcf`)"),
)
"""Kinds of result folder, told apart by the files they hold (first match wins), with their description."""
ARCHIVE_SUFFIX = ".tar.gz"


@dataclass(frozen=True)
class Source:
    """One result folder to package: where it is, what it is, and its folder in the package."""

    folder: Path
    kind: str
    target: str


def archive_path(out: str | Path) -> Path:
    """The archive written beside the package folder ``out``: ``<out>.tar.gz``."""
    out = Path(os.path.abspath(out))
    return out.with_name(out.name + ARCHIVE_SUFFIX)


def folder_kind(folder: Path) -> str:
    """The kind of an editcheck result folder (:data:`KINDS`); anything else is a one-line error."""
    if not folder.is_dir():
        raise InputFormatError(folder, "not a folder (give editcheck result folders)")
    if not (folder / MARKER).is_file():
        raise InputFormatError(folder, "not an editcheck result folder (no .editcheck-result marker)")
    for kind, names, _ in KINDS:
        if all((folder / name).is_file() for name in names):
            return kind
    raise InputFormatError(folder, "holds no editcheck result (report.html, summary.json, offtarget_calls.json, ...)")


def sources_of(results: Sequence[str | Path]) -> list[Source]:
    """The result folders with their kinds and package folders: the report (at most one) as ``report/``,
    the others as ``results/<folder name>/`` (two folders of one name are an error)."""
    sources: list[Source] = []
    taken: dict[str, Path] = {}
    for given in results:
        folder = Path(given)
        kind = folder_kind(folder)
        name = safe_name(Path(os.path.abspath(folder)).name)
        target = "report" if kind == "report" else f"results/{name}"
        if target.casefold() in taken:
            what = (
                "two report folders (give one)"
                if kind == "report"
                else f"two result folders named {name!r} (rename one)"
            )
            raise ParameterError(f"{taken[target.casefold()]} and {folder}: {what}")
        taken[target.casefold()] = folder
        sources.append(Source(folder, kind, target))
    return sorted(sources, key=lambda source: source.target)


def _packaged(path: Path, with_bam_vcf: bool) -> bool:
    name = path.name
    if any(part.startswith(".") for part in path.parts):
        return False
    if name.endswith(BAM_VCF_SUFFIXES):
        return with_bam_vcf
    return name.endswith(SHARED_SUFFIXES)


def _files(source: Source, with_bam_vcf: bool) -> list[Path]:
    """The files of a result folder that go into the package, relative to it, sorted."""
    return sorted(
        path.relative_to(source.folder)
        for path in source.folder.rglob("*")
        if path.is_file() and _packaged(path.relative_to(source.folder), with_bam_vcf)
    )


# ----------------------------------------------------------------------------------------------------------
# The analyst's folders


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def private_folders(sources: Sequence[Source], documents: dict[Path, Any], extra: Sequence[Path]) -> list[str]:
    """Absolute folders of the analyst's machine that outputs may name, longest first: the folder of every
    absolute path a document records, the result folders and their parents, the folder of each of ``extra``
    (sheets, the package), the working folder and $HOME."""
    folders = {os.getcwd(), os.path.expanduser("~")}
    for source in sources:
        place = os.path.abspath(source.folder)
        folders.update({place, os.path.dirname(place)})
    for path in extra:
        folders.add(os.path.dirname(os.path.abspath(path)))
    for document in documents.values():
        for text in _strings(document):
            if os.path.isabs(text) and "\n" not in text:
                folders.add(os.path.dirname(os.path.normpath(text)))
    return sorted((folder for folder in folders if folder.strip(os.sep)), key=lambda folder: (-len(folder), folder))


def scrub(text: str, folders: Sequence[str]) -> str:
    """``text`` with every ``<folder>/`` of ``folders`` (and its HTML-escaped form) removed, longest first."""
    for folder in folders:
        text = text.replace(folder + os.sep, "").replace(html.escape(folder + os.sep), "")
    return text


def _scrub_value(value: Any, folders: Sequence[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, folders)
    if isinstance(value, dict):
        return {key: _scrub_value(item, folders) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_value(item, folders) for item in value]
    return value


def _check_no_leak(path: Path, shown: str, folders: Sequence[str]) -> None:
    """A text file of the package must not name one of the analyst's folders."""
    if not path.name.endswith(TEXT_SUFFIXES):
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    for folder in folders:
        for form in (folder, html.escape(folder)):
            if form in text:
                raise ParameterError(f"{shown}: still names the folder {folder} of this machine after its paths were "
                                     "made relative; not packaged")  # fmt: skip


# ----------------------------------------------------------------------------------------------------------
# The package


def _read_document(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputFormatError(path, f"not valid JSON ({error})") from None


def _copy(source: Path, target: Path, folders: Sequence[str], documents: dict[Path, Any]) -> None:
    """One file into the package: JSON documents re-written with the private folders cut, other text
    files with them cut, binary files as they are."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source in documents:
        write_json(target, _scrub_value(documents[source], folders))
    elif source.name.endswith(TEXT_SUFFIXES):
        text = source.read_text(encoding="utf-8")
        with atomic_output(target) as handle:
            handle.write(scrub(text, folders))
    else:
        with atomic_output(target, "wb") as handle, open(source, "rb") as original:
            while block := original.read(1 << 20):
                handle.write(block)


def _read_files(source: Source, documents: dict[Path, Any]) -> list[tuple[str, int | None]]:
    """The read files a result folder records, with the reads (pairs) each sample's input held."""
    folder = source.folder
    if source.kind == "sample":
        summary = documents[folder / "summary.json"]
        return [(path, summary["reads"]["input"]) for path in summary["inputs"]]
    if source.kind == "pool":
        summaries = [
            document
            for path, document in documents.items()
            if path.name == "summary.json" and path.parent.parent == folder
        ]
        reads = documents[folder / "assignment.json"]["reads_in"]
        return sorted({(path, reads) for summary in summaries for path in summary["inputs"]})
    if source.kind == "offtarget":
        files = []
        for sample in documents[folder / "offtarget_calls.json"]["samples"]:
            assignment = documents.get(folder / sample["folder"] / "assignment.json") or {}
            files += [(sample[key], assignment.get("reads_in")) for key in ("r1", "r2", "bam") if sample.get(key)]
        return files
    return []


def _input_entries(
    sources: Sequence[Source], documents: dict[Path, Any], sheets: Sequence[Path], folders: Sequence[str]
) -> list[dict[str, Any]]:
    """Every read file and sheet behind the results with its SHA-256: as the report's manifest recorded it,
    else hashed now when the file is at the path the result records (else null)."""
    recorded: dict[str, dict[str, Any]] = {}
    for source in sources:
        if source.kind == "report":
            for entry in documents[source.folder / "manifest.json"].get("inputs", []):
                recorded[entry["path"]] = {"reads": entry.get("reads"), "sha256": entry.get("sha256"), "kind": "reads"}
    for source in sources:
        for name, reads in _read_files(source, documents):
            if name not in recorded:
                digest = sha256(name) if Path(name).is_file() else None
                recorded[name] = {"reads": reads, "sha256": digest, "kind": "reads"}
    for sheet in sheets:
        recorded[str(sheet)] = {"reads": None, "sha256": sha256(sheet), "kind": "sheet"}
    entries = {(scrub(path, folders), entry["sha256"]): entry for path, entry in recorded.items()}
    return [
        {"path": path, **entry}
        for (path, _), entry in sorted(entries.items(), key=lambda item: (item[0][0], str(item[0][1])))
    ]


def _source_times(sources: Sequence[Source], documents: dict[Path, Any]) -> list[dict[str, Any]]:
    entries = []
    for source in sources:
        entry: dict[str, Any] = {"folder": source.target, "kind": source.kind}
        manifest = documents.get(source.folder / "manifest.json")
        if source.kind == "report" and manifest is not None:
            entry.update({"started": manifest.get("started"), "finished": manifest.get("finished")})
        entries.append(entry)
    return entries


def write_package(
    results: Sequence[str | Path], out: str | Path, *, sheets: Sequence[str | Path] = (), with_bam_vcf: bool = False,
    command: Sequence[str] = (),
) -> list[Path]:  # fmt: skip
    """Write the package folder ``out`` (all or nothing, :func:`editcheck.folders.output_folder`) and the
    archive ``<out>.tar.gz`` beside it; returns both paths."""
    started = now()
    out = Path(out)
    if not results:
        raise ParameterError("give at least one result folder to export")
    sheet_paths = [Path(sheet) for sheet in sheets]
    for sheet in sheet_paths:
        if not sheet.is_file():
            raise InputFormatError(sheet, "sheet not found")
    resolved = Path(os.path.abspath(out))
    archive = archive_path(out)
    for given in [*results, *sheet_paths]:
        place = Path(os.path.abspath(given))
        if place in (resolved, archive) or resolved in place.parents or place in resolved.parents:
            raise ParameterError(f"{out}: the package must not be, hold or sit inside the input {given}")
    sources = sources_of(results)
    files = {source: _files(source, with_bam_vcf) for source in sources}
    documents: dict[Path, Any] = {}
    for source, names in files.items():
        for name in names:
            path = source.folder / name
            if path.name in DOCUMENTS:
                documents[path] = _read_document(path)
                check_document(path, documents[path])
            elif path.name.endswith((".tsv", ".tsv.gz")):
                check_table(path)
    folders = private_folders(sources, documents, [*sheet_paths, resolved])
    temporary: Path | None = None
    try:
        with output_folder(out, [*results, *sheet_paths]) as staging:
            descriptor, temporary_name = tempfile.mkstemp(prefix=f".{archive.name}.", suffix=".tmp", dir=archive.parent)
            os.close(descriptor)
            temporary = Path(temporary_name)
            _write_staging(staging, out, temporary, sources, files, documents, folders, sheet_paths, with_bam_vcf,
                           command, started)  # fmt: skip
        os.replace(temporary, archive)  # after the folder is in place: the archive never precedes its folder
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    return [out, out.with_name(out.name + ARCHIVE_SUFFIX)]


def _write_staging(
    staging: Path, out: Path, archive: Path, sources: Sequence[Source], files: dict[Source, list[Path]], documents: dict[Path, Any],
    folders: Sequence[str], sheet_paths: Sequence[Path], with_bam_vcf: bool, command: Sequence[str], started: str,
) -> None:  # fmt: skip
    """Every file of the package into ``staging``, and the archive of it into ``archive`` (a hidden
    temporary file beside the archive's final place)."""
    for source, names in files.items():
        for name in names:
            _copy(source.folder / name, staging / source.target / name, folders, documents)
    for schema in SCHEMA_FILES:
        with atomic_output(staging / "schemas" / schema) as handle:
            handle.write(schema_text(schema))
    with atomic_output(staging / "README.md") as handle:
        handle.write(readme(sources, files, with_bam_vcf))
    for path in sorted(staging.rglob("*")):
        if path.is_file():
            _check_no_leak(path, str(out / path.relative_to(staging)), folders)
    manifest = package_manifest(staging, command=[scrub(arg, folders) for arg in command], sources=sources,
                                documents=documents, sheets=sheet_paths, folders=folders,
                                with_bam_vcf=with_bam_vcf, started=started)  # fmt: skip
    write_json(staging / "manifest.json", manifest)
    check_document(staging / "manifest.json", manifest)
    _check_no_leak(staging / "manifest.json", str(out / "manifest.json"), folders)
    os.chmod(archive, 0o666 & ~_UMASK)
    write_archive(staging, Path(os.path.abspath(out)).name, archive)


def package_manifest(
    staging: Path, *, command: list[str], sources: Sequence[Source], documents: dict[Path, Any],
    sheets: Sequence[Path], folders: Sequence[str], with_bam_vcf: bool, started: str,
) -> dict[str, Any]:  # fmt: skip
    """manifest.json of the package (manifest.schema.json): versions, the export command, the results it
    holds (with the report run's times), every input with its checksum, every file with its checksum."""
    config = None
    for source in sources:
        manifest = documents.get(source.folder / "manifest.json")
        if source.kind == "report" and manifest is not None and manifest.get("config"):
            config = _scrub_value(manifest["config"], folders)
    outputs = [
        {"path": path.relative_to(staging).as_posix(), "sha256": sha256(path), "bytes": path.stat().st_size}
        for path in sorted(staging.rglob("*"))
        if path.is_file() and path.name != MARKER and path != staging / "manifest.json"
    ]
    return {
        **software(),
        "command": command,
        "parameters": {"results": [source.target for source in sources], "with_bam_vcf": with_bam_vcf},
        "config": config,
        "inputs": _input_entries(sources, documents, sheets, folders),
        "outputs": outputs,
        "schemas": {"schema_version": SCHEMA_VERSION, "columns": f"schemas/{COLUMNS}"},
        "sources": _source_times(sources, documents),
        "started": started,
        "finished": now(),
    }


def write_archive(folder: Path, name: str, target: Path) -> None:
    """``folder`` as a gzip-compressed tar under the top folder ``name``: members sorted, times 0, owner
    root (0/0, no names), modes 755/644, the gzip header without file name or time; the result marker left out."""
    paths = sorted(path for path in folder.rglob("*") if path.name != MARKER)
    with (
        open(target, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        archive.addfile(_member(name, directory=True))
        for path in paths:
            member = _member(f"{name}/{path.relative_to(folder).as_posix()}", directory=path.is_dir())
            if path.is_dir():
                archive.addfile(member)
                continue
            data = path.read_bytes()
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))


def _member(name: str, *, directory: bool) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    member.mode = 0o755 if directory else 0o644
    member.mtime = 0
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member


def readme(sources: Sequence[Source], files: dict[Source, list[Path]], with_bam_vcf: bool) -> str:
    """README.md of the package: what it is, its folders, and every table and document it holds with the
    meaning of each column (from the column dictionary)."""
    described = dict((kind, description) for kind, _, description in KINDS)
    lines = [
        "# editcheck evidence package", "",
        f"Written by `editcheck export` (editcheck {__version__}, output schema version {SCHEMA_VERSION}). It holds "
        "the results of an editcheck analysis without the raw reads: the report, every table and JSON document, the "
        "schemas they follow and `manifest.json`, which lists every input read file and sheet with its SHA-256 and "
        "every file of this package with its SHA-256. Paths of the analyst's machine are cut to the part below the "
        "folder that held them (an input read file is named by its file name; its checksum identifies it), so a JSON "
        "or text file whose paths were cut differs from the checksum the report's own manifest recorded for it.",
        "",
        "Tables are tab-separated UTF-8 with one header line (`.tsv.gz`: gzip-compressed); an empty cell is a missing "
        "value. `schemas/columns.json` is the machine-readable column dictionary; `schemas/*.schema.json` are JSON "
        "Schemas (draft 2020-12) of the JSON documents, for any draft 2020-12 validator (e.g. Python's `jsonschema`). "
        "Only `manifest.json` records times; every other file is byte-identical when the same results are exported "
        "again.",
        "", "## Contents", "",
        "| Folder | What |", "|---|---|",
    ]  # fmt: skip
    for source in sources:
        lines.append(f"| `{source.target}/` | {described[source.kind]} |")
    lines += ["| `schemas/` | JSON Schemas of the documents and the column dictionary of the tables |",
              "| `manifest.json` | Provenance: versions, command, inputs and files with SHA-256, run times |", ""]  # fmt: skip
    if not with_bam_vcf:
        lines += [
            "VCF, BAM and amplicon FASTA files of the results are not included (export with `--with-bam-vcf`).",
            "",
        ]
    schema_of = {document: schema for document, schema in DOCUMENTS.items()}
    present: dict[str, list[str]] = {}
    tables: dict[str, dict[str, Any]] = {}
    for source, names in files.items():
        for name in names:
            where = f"{source.target}/{name.as_posix()}"
            if name.name in schema_of:
                present.setdefault(name.name, []).append(where)
            elif name.name.endswith((".tsv", ".tsv.gz")):
                table = check_table(source.folder / name)
                tables[table["id"]] = table
                present.setdefault(table["id"], []).append(where)
    lines += ["## JSON documents", ""]
    for document, schema in schema_of.items():
        if document in present:
            lines.append(
                f"- `{document}` ({len(present[document])} file(s), e.g. `{present[document][0]}`): `schemas/{schema}`"
            )
    lines += ["- `manifest.json` (this package's): `schemas/manifest.schema.json`", ""]
    others = sorted({f"{source.target}/{name.as_posix()}" for source, names in files.items() for name in names
                     if name.name not in schema_of and not name.name.endswith((".tsv", ".tsv.gz"))})  # fmt: skip
    if others:
        lines += ["## Other files", "", *(f"- `{name}`: {_other_file(name)}" for name in others), ""]
    lines += ["## Tables", ""]
    order = [table["id"] for table in column_dictionary()["tables"]]
    for table_id in sorted(tables, key=order.index):
        table = tables[table_id]
        files_here = present[table_id]
        lines += [f"### `{table['file']}` ({table['folder']}: {table['written_by']})", "", table["description"], "",
                  f"{len(files_here)} file(s), e.g. `{files_here[0]}`.", "",
                  "| Column | Type | Unit | Meaning |", "|---|---|---|---|"]  # fmt: skip
        for column in table["columns"]:
            lines.append(f"| `{column['name']}` | {column['type']} | {column['unit']} | {column['meaning']} |")
        if table.get("additional_columns"):
            extra = table["additional_columns"]
            lines.append(f"| (further columns) | {extra['type']} |  | {extra['meaning']} |")
        lines.append("")
    return "\n".join(lines)


OTHER_FILES = (
    ("report.html", "the evidence appendix: one self-contained HTML page (figures inline)"),
    ("report.pdf", "the evidence appendix as PDF"),
    ("_mqc.json", "MultiQC custom content (`multiqc report/` shows an editcheck section)"),
    ("methods.txt", "the methods of the off-target calls, in words"),
    (".bed", "the candidate sites as BED (0-based starts)"),
    (".vcf.gz", "the edits as VCF (bgzipped; INFO fields described in its header)"),
    (".tbi", "tabix index of the VCF"),
    (".fa", "the amplicon as FASTA (the contig of the VCF and BAM)"),
    (".fai", "FASTA index"),
    (
        ".bam",
        "aligned reads as BAM: one record per unique read (XC:i its reads, XO:Z class, XE:Z events; see its @CO lines)",
    ),
    (".bai", "BAM index"),
    (".csi", "BAM index"),
)


def _other_file(name: str) -> str:
    return next((meaning for ending, meaning in OTHER_FILES if name.endswith(ending)), "result file")


__all__ = ["archive_path", "folder_kind", "readme", "scrub", "sources_of", "write_archive", "write_package"]
