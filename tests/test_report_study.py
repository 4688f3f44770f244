"""One report for a whole study (#12 item 6): the evidence overview, durability, a section per design with an
allele view for every sample, never a table mixing designs; the CLI refusing mixed designs without the study's
sheets; the print stylesheet and the PDF from headless Chromium."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import subprocess
import time
from pathlib import Path

import pytest

from editcheck import simulate
from editcheck.pipeline import quantify
from editcheck.report.appendix import write_report
from editcheck.report.pdf import find_chromium, fixed_ids, print_pdf
from editcheck.results.sample import write_sample_outputs
from editcheck.study import read_study
from test_workflow_study import DESIGN_SEEDS, write_tsv

# (sample, design, condition, subject, time point, edited fraction): P1 (design A) edited at two time points,
# P3 (design A) not edited at all (its evidence row must FAIL), P2 (design B) at two time points; a mock each.
RUNS = [
    ("P1_28d", "A", "treated", "P1", "28 d", 0.40), ("P1_84d", "A", "treated", "P1", "84 d", 0.30),
    ("P3_28d", "A", "treated", "P3", "28 d", 0.0), ("mock_A", "A", "control", "", "", 0.0),
    ("P2_1mo", "B", "treated", "P2", "1 mo", 0.20), ("P2_3mo", "B", "treated", "P2", "3 mo", 0.15),
    ("mock_B", "B", "control", "", "", 0.0),
]  # fmt: skip
READS = 300


@pytest.fixture(scope="module")
def study_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The study's sheets, reads and each sample's quantify folder (results/<sample>)."""
    folder = tmp_path_factory.mktemp("study_report")
    (folder / "reads").mkdir()
    designs = {
        design_id: simulate.random_design(seed=seed, with_donor=False) for design_id, seed in DESIGN_SEEDS.items()
    }
    # Design A's off-target panel: its on-target site with the genome columns `editcheck nominate` writes, and a
    # candidate site without them (its mismatches to the on-target protospacer are counted by the report).
    other = simulate.random_design(seed=14, with_donor=False)
    write_tsv(folder / "sites_A.tsv", ["site_id", "amplicon", "protospacer", "on_target", "contig", "start", "end", "strand",
                                       "mismatches", "bulge_type", "bulge_size"],
              [["ON_A", designs["A"].amplicon, designs["A"].guide, "yes", "chr7", "1001", "1023", "+", "0", "none", "0"],
               ["OT_A", other.amplicon, other.guide, "no", "", "", "", "", "", "", ""]])  # fmt: skip
    write_tsv(folder / "designs.tsv", ["design_id", "amplicon", "guide", "offtarget_sites"],
              [[design_id, design.amplicon, design.guide, "sites_A.tsv" if design_id == "A" else ""]
               for design_id, design in designs.items()])  # fmt: skip
    rows = []
    for number, (name, design_id, condition, subject, time_point, rate) in enumerate(RUNS):
        mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate, insertion=0.0, substitution=0.0, hdr=0.0)
        simulate.simulate(designs[design_id], READS, folder / "reads" / f"{name}.fastq.gz", mix=mix, error_rate=0.001,
                          seed=500 + number)  # fmt: skip
        model = "clinical" if subject else "cell_line"
        rows.append([name, design_id, condition, "1", f"reads/{name}.fastq.gz", subject, model, "liver", time_point])
    panel = [["panel_T", "A", "treated", "1", "reads/P1_28d.fastq.gz", "", "", "", ""],
             ["panel_C", "A", "control", "1", "reads/mock_A.fastq.gz", "", "", "", ""]]  # fmt: skip
    write_tsv(folder / "samples.tsv", ["sample", "design_id", "condition", "replicate", "r1", "subject", "model",
                                       "tissue", "time_point", "assay"],
              [*([*row, "on_target"] for row in rows), *([*row, "off_target_panel"] for row in panel)])  # fmt: skip
    write_tsv(folder / "panel_samples.tsv", ["sample", "condition", "r1"], [[row[0], row[2], row[4]] for row in panel])
    from click.testing import CliRunner

    from editcheck.cli import main

    result = CliRunner().invoke(main, ["offtarget", "--sites", str(folder / "sites_A.tsv"), "--samples",
                                       str(folder / "panel_samples.tsv"), "--min-site-reads", "1", "-o",
                                       str(folder / "panels" / "A")])  # fmt: skip
    assert result.exit_code == 0, result.output
    study = read_study(folder / "designs.tsv", folder / "samples.tsv")
    for sample in study.samples_of("A") + study.samples_of("B"):
        result = quantify(sample.r1, design=study.designs[sample.design_id].design, sample=sample.sample)
        write_sample_outputs(result, folder / "results" / sample.sample)
    return folder


def _report(folder: Path, out: Path, pdf: bool | None = False) -> list[Path]:
    study = read_study(folder / "designs.tsv", folder / "samples.tsv")
    return write_report(sorted((folder / "results").iterdir()), [folder / "panels" / "A"], out, title="study", study=study, pdf=pdf,
                        command=["editcheck", "report"])  # fmt: skip


def _tables(html: str) -> list[tuple[str, str]]:
    """(design, body) of every table tagged with its design."""
    return re.findall(r'<table[^>]*data-design="([^"]+)"[^>]*>(.*?)</table>', html, flags=re.S)


def test_study_report_has_the_evidence_durability_and_every_samples_alleles(study_results: Path) -> None:
    out = study_results / "report"
    _report(study_results, out)
    evidence = {(row["design_id"], row["subject"], row["time_point"]): row["result"]
                for row in csv.DictReader(io.StringIO((out / "evidence.tsv").read_text()), delimiter="\t")}  # fmt: skip
    assert evidence == {("A", "P1", "28 d"): "PASS", ("A", "P1", "84 d"): "PASS", ("A", "P3", "28 d"): "FAIL",
                        ("B", "P2", "1 mo"): "PASS", ("B", "P2", "3 mo"): "PASS"}  # fmt: skip
    platform = {(row["design_id"], row["subject"]): row["verdict"]
                for row in csv.DictReader(io.StringIO((out / "platform.tsv").read_text()), delimiter="\t")}  # fmt: skip
    assert platform == {("A", "P1"): "target edited", ("A", "P3"): "not shown", ("B", "P2"): "target edited"}
    html = (out / "report.html").read_text()
    # The overview comes first: the evidence table, then the platform table, then durability, then the designs.
    order = [
        html.index(marker)
        for marker in ('id="evidence"', 'id="platform"', 'id="durability"', 'id="design-A"', 'id="design-B"')
    ]
    assert order == sorted(order)
    assert html.count('<td class="text FAIL">FAIL</td>') == 1 and html.count('<td class="text PASS">PASS</td>') == 4
    # A durability figure for each subject with two time points, with its verdict line.
    durability = html[html.index('id="durability"') : html.index('id="design-A"')]
    assert durability.count("<svg") == 1 and "A - P1" in durability and "B - P2" in durability
    assert "P3" not in durability
    # An allele view for every sample, in its design's section, with the guide, PAM and cut marked.
    views = re.findall(r'<div class="allele-view" data-sample="([^"]+)">', html)
    assert sorted(views) == sorted(name for name, *_ in RUNS)
    assert html.index('data-sample="mock_B"') > html.index('id="design-B"') > html.index('data-sample="P3_28d"')
    assert '<th class="g' in html and '<th class="p' in html and " c" in html
    # P1 at 28 d: the unmodified allele is the most frequent, with its read count; 40% deleted in all.
    p1 = html[html.index('data-sample="P1_28d"') :]
    p1 = p1[: p1.index("</table>")]
    assert f"{READS:,} aligned reads" in p1 and '<td class="label">unmodified</td>' in p1
    # No table mixes designs: each tagged table names only samples of its design.
    design_of = {name: design for name, design, *_ in RUNS} | {"panel_T": "A", "panel_C": "A"}
    tables = _tables(html)
    assert {design for design, _ in tables} == {"A", "B"}
    for design, body in tables:
        names = set(re.findall(r'<td class="text sample">([^<]+)</td>', body))
        assert all(design_of[name] == design for name in names), (design, names)
    # Design A's off-target sites with their locus and mismatches; design B has no panel.
    sites = [body for design, body in tables if "ON_A" in body]
    assert len(sites) == 1 and html.index("ON_A (on-target)") < html.index('id="design-B"')
    on, off = (
        re.search(rf"<tr><td class=\"text\">{name}.*?</tr>", sites[0], flags=re.S).group(0) for name in ("ON_A", "OT_A")
    )
    assert '<td class="text mono">chr7:1001-1023 (+)</td><td>0</td>' in on
    guide_a, guide_other = (
        simulate.random_design(seed=DESIGN_SEEDS["A"], with_donor=False).guide,
        simulate.random_design(seed=14, with_donor=False).guide,
    )
    expected = sum(a != b for a, b in zip(guide_a, guide_other))
    assert f'<td class="text mono">-</td><td>{expected}</td>' in off and expected > 5
    # Numbers with fixed decimals, and one indel histogram per sample (panels titled with the sample).
    assert re.search(r"<strong>\d+\.\d\d</strong> \(\d+\.\d\d&ndash;\d+\.\d\d\)", html)
    section_a = html[html.index('id="design-A"') : html.index('id="design-B"')]
    assert all(f"{name} ({READS:,} reads)" in section_a for name, design, *_ in RUNS if design == "A")
    assert "mock_B (" not in section_a
    assert "Run date: " in html and "thead { display: table-header-group; }" in html and "break-after: avoid" in html


def test_rerun_is_byte_identical_except_the_manifest_times(
    study_results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    first, second = study_results / "again1", study_results / "again2"
    _report(study_results, first)
    _report(study_results, second)
    for path in sorted(first.iterdir()):
        if path.name != "manifest.json":
            assert path.read_bytes() == (second / path.name).read_bytes(), path.name
    assert "Run date: 2026-01-01" in (first / "report.html").read_text()


def test_cli_refuses_results_of_two_designs_without_the_study_sheets(study_results: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from editcheck.cli import main

    folders = [f"--ontarget={study_results / 'results' / name}" for name in ("P1_28d", "P2_1mo")]
    result = CliRunner().invoke(main, ["report", *folders, "--no-pdf", "-o", str(tmp_path / "mixed")])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "results are of 2 different designs" in lines[0] and "--study-designs" in lines[0]
    assert not (tmp_path / "mixed").exists()
    sheets = [
        "--study-designs",
        str(study_results / "designs.tsv"),
        "--study-samples",
        str(study_results / "samples.tsv"),
    ]
    result = CliRunner().invoke(main, ["report", *folders, *sheets, "--no-pdf", "-o", str(tmp_path / "study")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "study" / "report.html").read_text()
    assert 'id="design-A"' in html and 'id="design-B"' in html


def test_cli_report_needs_the_study_sheets_but_not_the_reads(study_results: Path, tmp_path: Path) -> None:
    """The sheets copied where the reads are not (a reviewer's machine): the report reads their metadata only."""
    import shutil

    from click.testing import CliRunner

    from editcheck.cli import main

    sheets = tmp_path / "sheets"
    sheets.mkdir()
    for name in ("designs.tsv", "samples.tsv", "sites_A.tsv"):
        shutil.copy(study_results / name, sheets / name)
    assert not (sheets / "reads").exists()
    folders = [f"--ontarget={study_results / 'results' / name}" for name in ("P1_28d", "P1_84d", "P2_1mo")]
    result = CliRunner().invoke(main, ["report", *folders, "--study-designs", str(sheets / "designs.tsv"),
                                       "--study-samples", str(sheets / "samples.tsv"), "--no-pdf", "-o",
                                       str(tmp_path / "report")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert 'id="design-A"' in (tmp_path / "report" / "report.html").read_text()


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium on this machine (.ci/run installs Debian's chromium)")
def test_study_report_pdf_and_html_in_headless_chromium(study_results: Path, tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF's outline (pip install -e '.[test]')")
    out = study_results / "pdf"
    _report(study_results, out, pdf=True)
    html = out / "report.html"
    command = [
        str(find_chromium()), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", "--dump-dom", html.resolve().as_uri(),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert [line for line in completed.stderr.splitlines() if "CONSOLE" in line] == []
    assert completed.stdout.count('class="allele-view"') == len(RUNS)
    reader = pypdf.PdfReader(out / "report.pdf")
    # Chromium writes the headings as the PDF's outline (--generate-pdf-document-outline): the title, under it
    # one entry per section (h2), in the report's order; each design's allele views are entries of their own.
    ((title, sections),) = [(reader.outline[0].title, reader.outline[1])]
    assert title == "study"
    assert [entry.title for entry in sections if not isinstance(entry, list)] == [
        "Overview",
        "Durability",
        "Design A",
        "Design B",
        "Methods",
        "Provenance",
    ]
    titles = _outline_titles(reader.outline)
    assert sorted(t.split(":")[0] for t in titles if "aligned reads" in t) == sorted(name for name, *_ in RUNS)
    text = "".join(page.extract_text() for page in reader.pages)
    assert all(name in text for name, *_ in RUNS)
    again = study_results / "pdf_again"
    _report(study_results, again, pdf=True)
    assert (again / "report.pdf").read_bytes() == (out / "report.pdf").read_bytes()


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium on this machine (.ci/run installs Debian's chromium)")
def test_the_pdf_is_printed_once_the_page_has_settled(tmp_path: Path) -> None:
    """A page whose text changes 3 s (of page time) after its load event is printed with the settled text: the
    print waits for pending work on a virtual clock instead of racing it (before: "early", and on a busy
    machine whatever had run by then), and the wait costs no wall-clock time."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf reads the PDF's text (pip install -e '.[test]')")
    html = tmp_path / "late.html"
    html.write_text('<!doctype html><html><head><title>t</title></head><body><p id="x">early</p><script>'
                    "setTimeout(function () { document.getElementById('x').textContent = 'settled'; }, 3000);"
                    "</script></body></html>")  # fmt: skip
    started = time.monotonic()
    print_pdf(str(find_chromium()), html, tmp_path / "late.pdf", "2026-01-01")
    assert time.monotonic() - started < 60
    assert pypdf.PdfReader(tmp_path / "late.pdf").pages[0].extract_text().strip() == "settled"


def test_a_pdf_file_identifier_follows_the_content_not_the_clock() -> None:
    """Two prints of one document differing only in their clock-derived /ID get the same identifier, a digest of
    the document, at the same byte offsets (the spacing and the xref stay valid); a document without one is kept."""
    trailer = b"%%PDF-1.4\n1 0 obj\n<</A 1>>\nendobj\ntrailer\n<</Size 2 /ID [<%s> <%s>]>>\nstartxref\n9\n%%%%EOF\n"
    first = trailer % (b"0A1B2C3D4E5F60718293A4B5C6D7E8F9", b"0A1B2C3D4E5F60718293A4B5C6D7E8F9")
    second = trailer % (b"FFEEDDCCBBAA99887766554433221100", b"00112233445566778899AABBCCDDEEFF")
    assert fixed_ids(first) == fixed_ids(second) != first
    assert len(fixed_ids(first)) == len(first)
    (identifier,) = re.findall(rb"/ID \[<([0-9A-F]{32})> <\1>\]", fixed_ids(first))
    assert identifier == hashlib.sha256(trailer % (b"0" * 32, b"0" * 32)).hexdigest().upper()[:32].encode()
    assert fixed_ids(first.replace(b"/ID", b"/XX")) == first.replace(b"/ID", b"/XX")


def _outline_titles(outline: list) -> list[str]:  # type: ignore[type-arg]
    titles = []
    for entry in outline:
        if isinstance(entry, list):
            titles += _outline_titles(entry)
        else:
            titles.append(entry.title)
    return titles


def test_frameshift_summary_of_a_design_with_exons(tmp_path: Path) -> None:
    """Hand-made reads: 3 with a 1-bp deletion at the cut (frameshift), 1 with a 3-bp deletion (in frame), 4
    unmodified; the exon spans the amplicon. The report's frameshift table: 75.00% and 25.00% of 4 modified reads."""
    from editcheck.design import build_design

    design = simulate.random_design(seed=21, with_donor=False)
    built = build_design(design.amplicon, [design.guide], exons=f"1-{len(design.amplicon)}")
    cut = built.guides[0].cut_point + 1
    amplicon = design.amplicon
    reads = [amplicon[:cut] + amplicon[cut + 1 :]] * 3 + [amplicon[:cut] + amplicon[cut + 3 :]] + [amplicon] * 4
    fastq = "".join(f"@r{number}\n{read}\n+\n{'I' * len(read)}\n" for number, read in enumerate(reads))
    (tmp_path / "reads.fastq").write_text(fastq)
    write_sample_outputs(quantify(tmp_path / "reads.fastq", design=built, sample="S1"), tmp_path / "S1")
    write_report([tmp_path / "S1"], None, tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text()
    table = html[html.index("<h3>Frameshift summary") :]
    table = table[: table.index("</table>")]
    row = re.search(r'<td class="text sample">S1</td>(.*?)</tr>', table, flags=re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1))
    assert cells[0].startswith("75.00 (") and cells[0].endswith("&middot; 3/4")
    assert cells[1].startswith("25.00 (") and cells[1].endswith("&middot; 1/4")
