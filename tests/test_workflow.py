"""The Snakemake workflow on the bundled demo's one-design config (config/single_design.yaml: product A's
animal samples and its panel): end to end, lint, SLURM dry run, sheet errors, demo data. The demo as a whole
study (config/config.yaml) is tests/test_demo_study.py.

The workflow runs in a temporary folder (``--directory``) with a config and sheets that use
absolute paths, so nothing is written into the repository.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "test_data" / "demo"
TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))
SINGLE_DESIGN = REPO / "config" / "single_design.yaml"
#: The samples of the one-design sample sheet (product A in the animal model).
ONTARGET_SAMPLES = ("T1", "T2", "T3", "M1")
BIN = Path(sys.executable).parent
RULES = ("quantify_ontarget", "offtarget_panel", "build_report", "export_package")

needs_snakemake = pytest.mark.skipif(
    importlib.util.find_spec("snakemake") is None
    or shutil.which("editcheck", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}") is None,
    reason="snakemake (or the editcheck command) is not installed: pip install -e '.[workflow]' to test the workflow",
)


def run_snakemake(workdir: Path, *args: str, configfile: Path | None = None) -> subprocess.CompletedProcess:
    """Snakemake on the repository's Snakefile in ``workdir``; the venv's editcheck comes first on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(configfile or workdir / "config.yaml"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)


def write_tsv(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def absolute_sheet(source: Path, target: Path) -> Path:
    """A copy of a sample sheet with its reads paths made absolute."""
    rows = read_tsv(source)
    for row in rows:
        for column in ("r1", "r2"):
            if row.get(column):
                row[column] = str((source.parent / row[column]).resolve())
    write_tsv(target, rows)
    return target


def make_workdir(folder: Path, *, offtarget: bool = True) -> Path:
    """A working folder with config.yaml and sheets that point at the demo with absolute paths."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load(SINGLE_DESIGN.read_text(encoding="utf-8"))
    config["ontarget"]["samples"] = str(absolute_sheet(REPO / "config" / "samples.tsv", folder / "samples.tsv"))
    config["ontarget"]["amplicon"] = str(REPO / config["ontarget"]["amplicon"])
    if offtarget:
        config["offtarget"]["samples"] = str(
            absolute_sheet(REPO / "config" / "panel_samples.tsv", folder / "panel_samples.tsv")
        )
        config["offtarget"]["sites"] = str(shutil.copy(REPO / "config" / "sites.tsv", folder / "sites.tsv"))
    else:
        del config["offtarget"]
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return folder


@needs_snakemake
@pytest.mark.slow
def test_demo_outputs_and_logs(demo_run: Path) -> None:
    for name in ONTARGET_SAMPLES:
        for table in ("summary.json", "summary.tsv", "alleles.tsv", "positions.tsv", "base_editing.tsv"):
            assert (demo_run / "results" / "ontarget" / name / table).stat().st_size > 0
        assert (demo_run / "results" / "logs" / "quantify_ontarget" / f"{name}.log").exists()
        assert (demo_run / "results" / "benchmarks" / "quantify_ontarget" / f"{name}.tsv").exists()
    for path in ("offtarget/offtarget_calls.json", "offtarget/methods.txt", "config.yaml",
                 "report/report.html", "report/summary.tsv", "report/manifest.json"):  # fmt: skip
        assert (demo_run / "results" / path).stat().st_size > 0, path


@needs_snakemake
@pytest.mark.slow
def test_demo_ends_with_the_shareable_package(demo_run: Path) -> None:
    """The workflow's last rule exports the report, every sample and the panel with the sheets' checksums,
    as results/package/ and results/package.tar.gz, naming no folder of this machine."""
    import hashlib
    import tarfile

    package = demo_run / "results" / "package"
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["results"] == [
        "report",
        *(f"results/{name}" for name in sorted(ONTARGET_SAMPLES)),
        "results/offtarget",
    ]
    sheets = {entry["path"]: entry["sha256"] for entry in manifest["inputs"] if entry["kind"] == "sheet"}
    for name in ("samples.tsv", "panel_samples.tsv", "sites.tsv"):
        assert sheets[name] == hashlib.sha256((demo_run / name).read_bytes()).hexdigest(), name
    with tarfile.open(demo_run / "results" / "package.tar.gz", "r:gz") as archive:
        names = archive.getnames()
        for member in archive.getmembers():
            if member.isfile():
                data = archive.extractfile(member).read()  # type: ignore[union-attr]
                assert str(demo_run).encode() not in data and str(REPO).encode() not in data, member.name
    assert "package/report/report.html" in names and "package/results/offtarget/offtarget_calls.json" in names


@needs_snakemake
@pytest.mark.slow
def test_demo_target_conversion_matches_truth(demo_run: Path) -> None:
    expected = {name: TRUTH["samples"][name]["read_level_percent"] for name in ONTARGET_SAMPLES}
    for name, percent in expected.items():
        summary = json.loads((demo_run / "results" / "ontarget" / name / "summary.json").read_text(encoding="utf-8"))
        observed = summary["base_editing"]["target"]["engagement"]["percent"]
        assert observed == pytest.approx(percent, abs=1.0), name
    report_rows = {row["sample"]: row for row in read_tsv(demo_run / "results" / "report" / "summary.tsv")
                   if row["assay"] == "on_target"}  # fmt: skip
    assert set(report_rows) == set(expected)
    for name, percent in expected.items():
        assert float(report_rows[name]["target_engagement_percent"]) == pytest.approx(percent, abs=1.0), name


@needs_snakemake
@pytest.mark.slow
def test_demo_offtarget_calls_match_truth(demo_run: Path) -> None:
    calls = {row["site_id"]: row for row in read_tsv(demo_run / "results" / "offtarget" / "offtarget_calls.tsv")}
    sites = TRUTH["offtarget"]["sites"]
    assert set(calls) == set(sites)
    for site_id, site in sites.items():
        assert calls[site_id]["call"] == site["expected_call"], (site_id, calls[site_id]["reason"])
    on_target = TRUTH["offtarget"]["on_target_site"]
    assert calls[on_target]["on_target"] == "true" and calls[on_target]["call"] == "EDITED"
    assert calls[TRUTH["offtarget"]["edited_site"]]["call"] == "EDITED"
    assert [site for site, row in calls.items() if row["call"] == "NOT_DETECTED"] == [
        site for site, truth in sites.items() if truth["expected_call"] == "NOT_DETECTED"
    ]


@needs_snakemake
@pytest.mark.slow
def test_demo_rerun_has_nothing_to_do(demo_run: Path) -> None:
    result = run_snakemake(demo_run, "--dry-run")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


@needs_snakemake
def test_lint_is_clean(tmp_path: Path) -> None:
    result = run_snakemake(make_workdir(tmp_path), "--lint")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Congratulations" in result.stdout + result.stderr


@needs_snakemake
def test_slurm_profile_plans_the_jobs(tmp_path: Path) -> None:
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install 'editcheck[workflow]')")
    result = run_snakemake(make_workdir(tmp_path), "--dry-run", "--profile", str(REPO / "profiles" / "slurm"))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    for rule in RULES:
        assert rule in result.stdout, rule
    assert "runtime=240" in result.stdout  # the profile's set-resources reached offtarget_panel


@needs_snakemake
def test_offtarget_part_is_optional(tmp_path: Path) -> None:
    result = run_snakemake(make_workdir(tmp_path, offtarget=False), "--dry-run")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "quantify_ontarget" in result.stdout and "build_report" in result.stdout
    assert "offtarget_panel" not in result.stdout and "--offtarget" not in result.stdout


@needs_snakemake
@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        (["sample", "condition", "reads"], ["T1", "treated", "{r1}"],
         "samples.tsv: unknown column 'reads'; columns are: sample, condition, replicate, r1, r2, bam, pair, input_copies, input_ng"),
        (["sample", "condition", "r1"], ["T 1", "treated", "{r1}"],
         "samples.tsv: row 1: sample 'T 1' must not start with '.' and may only contain letters, digits, '_', '.' and '-'"),
        (["sample", "condition", "r1"], ["T1", "mock", "{r1}"],
         "samples.tsv: row 1: sample T1: condition must be treated or control, not 'mock'"),
        (["sample", "r1"], ["T1", "{r1}"], "samples.tsv: missing column 'condition'"),
        (["sample", "condition", "r1"], ["T1", "treated", "missing.fastq.gz"],
         "samples.tsv: row 1: sample T1: r1 file {folder}/missing.fastq.gz not found"),
    ],
)  # fmt: skip
def test_bad_sample_sheet_fails_with_one_line(tmp_path: Path, header: list[str], row: list[str], message: str) -> None:
    workdir = make_workdir(tmp_path, offtarget=False)
    r1 = str(DEMO / "ontarget" / "T1.fastq.gz")
    (workdir / "samples.tsv").write_text(
        "\t".join(header) + "\n" + "\t".join(cell.format(r1=r1) for cell in row) + "\n", encoding="utf-8"
    )
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    expected = message.format(folder=workdir)
    output = result.stdout + result.stderr  # snakemake 9 prints workflow errors on stdout
    lines = [line for line in output.splitlines() if line.endswith(expected)]
    assert lines, output[-3000:]
    assert lines[0] == f"{workdir / 'samples.tsv'}: {expected.removeprefix('samples.tsv: ')}"


def test_demo_data_is_reproducible(tmp_path: Path) -> None:
    """make_demo.py writes the committed reads (same FASTQ content), truth and sheets."""
    result = subprocess.run(
        [
            sys.executable,
            str(DEMO / "make_demo.py"),
            "--out",
            str(tmp_path / "demo"),
            "--config-dir",
            str(tmp_path / "config"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    committed = sorted(DEMO.rglob("*.fastq.gz"))
    assert len(committed) == 26
    assert sorted(path.relative_to(tmp_path / "demo") for path in (tmp_path / "demo").rglob("*.fastq.gz")) == [
        path.relative_to(DEMO) for path in committed
    ]
    for path in committed:
        fresh = tmp_path / "demo" / path.relative_to(DEMO)
        assert gzip.decompress(fresh.read_bytes()) == gzip.decompress(path.read_bytes()), path.name
    for name in ("truth.json", "designs/A.fa", "designs/B.fa"):
        assert (tmp_path / "demo" / name).read_text() == (DEMO / name).read_text(), name
    for name in ("samples.tsv", "panel_samples.tsv", "sites.tsv", "designs.tsv", "study_samples.tsv"):
        fresh = (tmp_path / "config" / name).read_text().replace("../demo/", "../test_data/demo/")
        assert fresh == (REPO / "config" / name).read_text(), name
    sizes = sum(path.stat().st_size for path in DEMO.rglob("*") if path.is_file())
    assert sizes < 6_000_000


@needs_snakemake
@pytest.mark.slow
def test_rerun_elsewhere_gives_identical_bytes(demo_run: Path, tmp_path: Path) -> None:
    """Same inputs and configuration, fresh folder: every output is byte-identical except the
    manifest's start and end times (logs and benchmark timings aside)."""
    second = tmp_path / "second"
    second.mkdir()
    result = run_snakemake(second, "--cores", "2", configfile=demo_run / "config.yaml")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]

    def outputs(folder: Path) -> dict[str, bytes]:
        files = {}
        for path in sorted((folder / "results").rglob("*")):
            relative = path.relative_to(folder).as_posix()
            if path.is_file() and "/logs/" not in relative and "/benchmarks/" not in relative:
                files[relative] = path.read_bytes()
        return files

    first_files, second_files = outputs(demo_run), outputs(second)
    assert sorted(first_files) == sorted(second_files)
    # The manifests record times (the package holds its own and the report's), and so does the archive of it.
    manifests = (
        "results/report/manifest.json",
        "results/package/manifest.json",
        "results/package/report/manifest.json",
    )
    for name in first_files:
        if name not in (*manifests, "results/package.tar.gz"):
            assert first_files[name] == second_files[name], name
    for manifest in manifests:
        documents = [json.loads(files[manifest]) for files in (first_files, second_files)]
        for document in documents:
            assert document.pop("started") and document.pop("finished")
            for source in document.get("sources", []):
                source.pop("started", None), source.pop("finished", None)
            for output in document["outputs"]:  # the checksum of the packaged report manifest, with its times
                if output["path"] == "report/manifest.json":
                    output.pop("sha256")
        assert documents[0] == documents[1], manifest


@needs_snakemake
@pytest.mark.parametrize("name", [".", "..", ".hidden", "a/b", "../x"])
def test_sample_names_that_are_not_folder_names_are_refused(tmp_path: Path, name: str) -> None:
    """A sample named '..' would write its tables into results/ (issue #8, item 1)."""
    workdir = make_workdir(tmp_path, offtarget=False)
    r1 = str(DEMO / "ontarget" / "T1.fastq.gz")
    (workdir / "samples.tsv").write_text(f"sample\tcondition\tr1\n{name}\ttreated\t{r1}\n", encoding="utf-8")
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    assert (
        f"row 1: sample {name!r} must not start with '.' and may only contain letters, digits"
        in result.stdout + result.stderr
    )


@needs_snakemake
def test_extra_options_are_arguments_never_shell_code(tmp_path: Path) -> None:
    """`extra` was pasted into the shell command unquoted: `$(...)` ran (issue #8, item 2)."""
    import yaml

    workdir = make_workdir(tmp_path, offtarget=False)
    config = yaml.safe_load((workdir / "config.yaml").read_text(encoding="utf-8"))
    config["ontarget"]["extra"] = f"--window-flank 4 $(touch {workdir}/PWNED)"
    (workdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = run_snakemake(workdir, "--dry-run", "--printshellcmds")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert f"--window-flank 4 '$(touch' '{workdir}/PWNED)'" in result.stdout
    # Run one job for real: editcheck gets the words as (unknown) arguments, no shell runs them.
    result = run_snakemake(workdir, "--cores", "1", "results/ontarget/T1/summary.json")
    assert result.returncode != 0
    assert not (workdir / "PWNED").exists()
    log = (workdir / "results" / "logs" / "quantify_ontarget" / "T1.log").read_text(encoding="utf-8")
    assert "Got unexpected extra arguments" in log or "No such option" in log, log
    config["ontarget"]["extra"] = "-o /tmp/elsewhere"
    (workdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    assert "config ontarget.extra: '-o': the output folder is set by the workflow" in result.stdout + result.stderr


@needs_snakemake
def test_offtarget_null_in_config_skips_the_panel(tmp_path: Path) -> None:
    """The documented `offtarget: null` crashed with AttributeError (issue #8, item 10)."""
    import yaml

    workdir = make_workdir(tmp_path)
    config = yaml.safe_load((workdir / "config.yaml").read_text(encoding="utf-8"))
    config["offtarget"] = None
    (workdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "quantify_ontarget" in result.stdout and "offtarget_panel" not in result.stdout


@needs_snakemake
def test_empty_sample_sheet_and_bom(tmp_path: Path) -> None:
    """An empty samples.tsv gave pandas' EmptyDataError; a UTF-8 BOM made the first column
    '\\ufeffsample' (issue #8, items 10 and 14)."""
    workdir = make_workdir(tmp_path, offtarget=False)
    (workdir / "samples.tsv").write_text("", encoding="utf-8")
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"{workdir / 'samples.tsv'}: empty file: the sheet needs a header line and rows" in output
    assert "EmptyDataError" not in output and "Traceback" not in output
    r1 = str(DEMO / "ontarget" / "T1.fastq.gz")
    (workdir / "samples.tsv").write_text(f"\ufeffsample\tcondition\tr1\nT1\ttreated\t{r1}\n", encoding="utf-8")
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "results/ontarget/T1/summary.json" in result.stdout


@needs_snakemake
def test_ontarget_sheet_input_amount_reaches_quantify(tmp_path: Path) -> None:
    """The on-target sheet's input_copies / input_ng become quantify's --input-copies / --input-ng (#9)."""
    workdir = make_workdir(tmp_path, offtarget=False)
    rows = read_tsv(workdir / "samples.tsv")
    for row in rows:
        row["input_ng"] = "20" if row["sample"] == "T1" else ""
        row["input_copies"] = "5000" if row["sample"] == "T2" else ""
    write_tsv(workdir / "samples.tsv", rows)
    result = run_snakemake(workdir, "--dry-run", "--printshellcmds")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    commands = {
        line.split("--sample ")[1].split()[0]: line
        for line in result.stdout.splitlines()
        if "editcheck quantify" in line
    }
    assert "--input-ng 20" in commands["T1"] and "--input-copies 5000" in commands["T2"]
    assert "--input" not in commands["T3"]
    rows[0]["input_copies"] = "5000"
    write_tsv(workdir / "samples.tsv", rows)
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    assert "give input_copies or input_ng, not both" in result.stdout + result.stderr
