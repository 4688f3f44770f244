"""The evidence appendix: content, escaping, byte-identical reruns, and loading in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from editcheck import simulate
from editcheck.design import build_design
from editcheck.pipeline import quantify
from editcheck.report.appendix import write_report
from editcheck.results.sample import write_sample_outputs

HOSTILE_NAME = "<script>alert('x')</script>&T1"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    design = simulate.random_design(seed=2024, with_donor=False)
    truth = simulate.simulate(design, 1500, folder / "be.fastq.gz", base_editor=simulate.BaseEditorSpec(), seed=3)
    built = build_design(design.amplicon, [design.guide], base_editor="ABE", target_in_protospacer=5)
    for name, reads in ((HOSTILE_NAME, folder / "be.fastq.gz"),):
        write_sample_outputs(quantify(reads, design=built, sample=name), folder / "q1")
    (folder / "truth.json").write_text(json.dumps(truth["base_editing"]))
    return folder


def test_report_contents_and_escaping(results: Path) -> None:
    out = results / "report"
    write_report([results / "q1"], None, out, command=["editcheck", "report"])
    html = (out / "report.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html
    assert "target engagement" in html and "% of from+to" in html
    summary = (out / "summary.tsv").read_text().splitlines()
    assert summary[0].startswith("sample\tassay\tsite")
    assert len(summary) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"][0]["sha256"] and manifest["inputs"][0]["reads"] == 1500
    assert {entry["path"].split("/")[-1] for entry in manifest["outputs"]} >= {
        "report.html",
        "summary.tsv",
        "summary.json",
    }
    assert manifest["started"] <= manifest["finished"]


def test_rerun_is_byte_identical_except_times(results: Path) -> None:
    first, second = results / "r1", results / "r2"
    write_report([results / "q1"], None, first, command=["editcheck"])
    write_report([results / "q1"], None, second, command=["editcheck"])
    for name in ("report.html", "summary.tsv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in (first, second)]
    for manifest in manifests:
        manifest.pop("started"), manifest.pop("finished")
        for entry in manifest["outputs"]:
            entry["path"] = entry["path"].replace("/r1/", "/rX/").replace("/r2/", "/rX/")
    assert manifests[0] == manifests[1]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="no Chromium on this machine (.ci/run installs Debian's chromium)")
def test_report_loads_in_headless_chromium(results: Path, tmp_path: Path) -> None:
    out = results / "chromium"
    write_report([results / "q1"], None, out)
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", "--dump-dom",
        (out / "report.html").resolve().as_uri(),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "<h1>editcheck evidence appendix</h1>" in completed.stdout
    assert completed.stdout.count("<svg") >= 4
    console_errors = [line for line in completed.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert console_errors == []


def test_forest_plot_scale_is_not_set_by_the_on_target_site() -> None:
    from editcheck.report.plots import forest_figure

    figure = forest_figure(
        ["on", "off1", "off2"], [(40.0, 38.0, 42.0), (0.3, 0.1, 0.5), (0.0, -0.1, 0.1)],
        ["EDITED", "EDITED", "NOT_DETECTED"], [0.2, 0.2, 0.2], [True, False, False],
    )  # fmt: skip
    off_axes, on_axes = figure.axes
    assert [label.get_text() for label in off_axes.get_yticklabels()] == ["off1", "off2"]
    assert [label.get_text() for label in on_axes.get_yticklabels()] == ["on"]
    assert off_axes.get_xlim()[1] < 1.0 < 40.0 < on_axes.get_xlim()[1]


def test_conditions_pool_replicates_not_reads() -> None:
    # Three treated replicates at 40/45/35% of 1,000 reads: the pooled interval is a t interval on the
    # replicate logits (4.30 x SD / sqrt 3), far wider than the Wilson interval of the 3,000 pooled reads.
    import math

    from scipy import stats

    from editcheck.report.appendix import _condition_rows
    from editcheck.results.sample_reader import OnTargetSample

    def sample(name: str, edited: int) -> OnTargetSample:
        summary = {"sample": name, "design": {"amplicon_name": "amp"}, "edited": {"reads": edited, "total": 1000}}
        return OnTargetSample(Path(name), summary, [], [], [])

    samples = [sample("T1", 400), sample("T2", 450), sample("T3", 350), sample("M1", 2)]
    rows = _condition_rows(samples, {"T1": "treated", "T2": "treated", "T3": "treated", "M1": "control"})
    control, treated = rows
    logits = [math.log((x + 0.5) / (1000 - x + 0.5)) for x in (400, 450, 350)]
    mean, sd = sum(logits) / 3, stats.tstd(logits)
    half = stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    expit = lambda value: 100 / (1 + math.exp(-value))  # noqa: E731
    assert treated["edited"]["ci95_low"] == pytest.approx(expit(mean - half))
    assert treated["edited"]["ci95_high"] == pytest.approx(expit(mean + half))
    assert treated["edited"]["ci95_high"] - treated["edited"]["ci95_low"] > 15  # Wilson on 3,000 reads: ~3.5 pp
    assert control["edited"]["basis"].startswith("read sampling only")
