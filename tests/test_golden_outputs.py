"""benchmarks/golden_outputs.py --compare: two --out folders of the same code compare equal whatever their paths
and run times (the out path recorded as provenance, manifest times, the export tarball), and a real
difference still shows."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "golden_outputs.py"


@pytest.fixture(scope="module")
def golden():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("golden_outputs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tarball(path: Path, members: dict[str, bytes], mtime: int) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), mtime
            archive.addfile(info, io.BytesIO(data))


def _out_folder(out: Path, clock: str, alleles: str) -> Path:
    """A miniature --out folder as two runs of the same code write it: the same results, but its own absolute
    path recorded by the sample and the panel, its own times in the manifests and the package."""
    results = out / "demo" / "results"
    for folder in ("ontarget/S1", "offtarget/A", "report", "package/report", "logs"):
        (results / folder).mkdir(parents=True, exist_ok=True)
    reads = f"{out}/demo/reads/S1.fastq.gz"
    (results / "ontarget/S1/summary.json").write_text(json.dumps({"inputs": [reads], "reads": {"input": 10}}))
    (results / "ontarget/S1/alleles.tsv").write_text(alleles)
    (results / "offtarget/A/panel_samples.tsv").write_text(f"sample\tcondition\tr1\nT\ttreated\t{reads}\n")
    (results / "logs/S1.log").write_text(f"started {clock}\n")
    report_manifest = json.dumps({"started": clock, "finished": clock, "command": ["editcheck", "report", str(out)],
                                  "cwd": str(out), "inputs": [{"path": reads, "sha256": "ab"}]})  # fmt: skip
    (results / "report/manifest.json").write_text(report_manifest)
    (results / "package/report/manifest.json").write_text(report_manifest.replace(f"{out}/", ""))
    package_manifest = json.dumps({
        "started": clock, "finished": clock, "command": ["editcheck", "export", "-o", "package"],
        "sources": [{"folder": "report", "kind": "report", "started": clock, "finished": clock}],
        "outputs": [{"path": "report/manifest.json", "bytes": len(report_manifest), "sha256": clock},
                    {"path": "report/summary.tsv", "bytes": 4, "sha256": "cd"}],
    })  # fmt: skip
    (results / "package/manifest.json").write_text(package_manifest)
    _tarball(results / "package.tar.gz", {"package/manifest.json": package_manifest.encode(),
                                          "package/report/summary.tsv": b"a\tb\n"}, mtime=len(clock))  # fmt: skip
    return out


def test_two_out_folders_of_the_same_run_compare_equal(golden, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = _out_folder(tmp_path / "before", "2026-01-01T10:00:00+00:00", "allele\treads\nA\t3\n")
    after = _out_folder(tmp_path / "a" / "much longer after", "2026-01-02T11:30:00+00:00", "allele\treads\nA\t3\n")
    # Without the normalisation every file that records the path or a time differs (the state before).
    raw = {path.relative_to(before).as_posix() for path in before.rglob("*") if path.is_file()
           and path.read_bytes() != (after / path.relative_to(before)).read_bytes()}  # fmt: skip
    assert {"demo/results/ontarget/S1/summary.json", "demo/results/package.tar.gz"} <= raw
    assert golden.compare(golden.earlier_table(before)[0], golden.fingerprints(after)) == []
    # The golden.json of the earlier folder stands for it: its folder is fingerprinted again.
    (before / "golden.json").write_text("{}")
    table, how = golden.earlier_table(before / "golden.json")
    assert table == golden.fingerprints(before) and how.startswith(f"fingerprinted {before} again")
    sys.argv = ["golden_outputs.py", "--out", str(after), "--compare", str(before), "--no-run"]
    assert golden.main() == 0
    printed = capsys.readouterr().out
    # Both folders are normalised: in each, 4 files name it (the sample, the panel sheet, the report manifest
    # twice); the times of the report's manifest, its copy in the package, and the package's manifest (its own
    # and the report's under sources) in the folder and in the tarball.
    for folder in (before, after):
        assert f"fingerprinted {folder} again" in printed or f"normalised in {folder}:" in printed
    assert printed.count("4 files naming the --out folder (path replaced by <OUT>)") == 2
    assert printed.count("6 manifest.json 'started' fields removed") == 2
    assert printed.count("2 manifest.json 'cwd' fields removed") == 2
    assert printed.count("2 checksums/sizes of a manifest.json listed in a manifest removed") == 2
    assert printed.count("1 tarballs compared member by member") == 2
    assert "8 identical, 0 different" in printed


def test_a_real_difference_still_shows(golden, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    before = _out_folder(tmp_path / "before", "2026-01-01T10:00:00+00:00", "allele\treads\nA\t3\n")
    after = _out_folder(tmp_path / "after", "2026-01-01T10:00:00+00:00", "allele\treads\nA\t4\n")
    (after / "demo" / "results" / "ontarget" / "S1" / "positions.tsv").write_text("position\n")
    with tarfile.open(after / "demo" / "results" / "package.tar.gz", "r:gz") as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]
    members["package/report/summary.tsv"] = b"a\tc\n"
    _tarball(after / "demo" / "results" / "package.tar.gz", members, mtime=0)
    sys.argv = ["golden_outputs.py", "--out", str(after), "--compare", str(before), "--no-run"]
    assert golden.main() == 1
    printed = capsys.readouterr().out
    assert [line for line in printed.splitlines() if line.startswith("  ")] == [
        "  differs: demo/results/ontarget/S1/alleles.tsv",
        "  new: demo/results/ontarget/S1/positions.tsv",
        "  differs: demo/results/package.tar.gz!package/report/summary.tsv",
    ]
    assert "6 identical, 3 different" in printed
