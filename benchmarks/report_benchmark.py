"""Wall time and peak memory of `editcheck report` on a 200-sample study (prints figures; not a test).

Writes a two-design study (a nuclease and an adenine base editor; 32 subjects per design at three time points
plus four mocks; --reads simulated reads per sample, the library's simulator) into --work, quantifies every
sample once (cached), then runs `editcheck report` with the study's sheets under `/usr/bin/time -v`, without
and (when a headless Chromium is installed) with the PDF, and prints the elapsed time and the peak RSS.
Usage:

    python benchmarks/report_benchmark.py [--samples 200] [--reads 200] [--work /tmp/editcheck-report-bench]
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

from editcheck import simulate
from editcheck.pipeline import quantify
from editcheck.report.pdf import find_chromium
from editcheck.results.sample import write_sample_outputs
from editcheck.study import read_study

DESIGNS = {"NUC": 11, "ABE": 2024}
TIME_POINTS = ("28 d", "84 d", "182 d")
MOCKS = 4


def _write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def make_study(work: Path, samples: int, reads: int) -> Path:
    """The study's sheets, reads and quantify folders under ``work`` (reused when present)."""
    if (work / "done").exists():
        return work
    shutil.rmtree(work, ignore_errors=True)
    (work / "reads").mkdir(parents=True)
    designs = {design_id: simulate.random_design(seed=seed, with_donor=False) for design_id, seed in DESIGNS.items()}
    _write_tsv(work / "designs.tsv", ["design_id", "amplicon", "guide", "base_editor", "target_protospacer_position"],
               [["NUC", designs["NUC"].amplicon, designs["NUC"].guide, "", ""],
                ["ABE", designs["ABE"].amplicon, designs["ABE"].guide, "ABE", "5"]])  # fmt: skip
    rows = []
    per_design = samples // len(DESIGNS)
    for design_index, (design_id, design) in enumerate(designs.items()):
        for number in range(per_design):
            seed = 1000 * design_index + number
            if number < MOCKS:
                name, condition, subject, point, rate = f"{design_id}_mock{number + 1}", "control", "", "", 0.0
            else:
                index = number - MOCKS
                subject, point = (
                    f"{design_id}_S{index // len(TIME_POINTS) + 1:02d}",
                    TIME_POINTS[index % len(TIME_POINTS)],
                )
                name, condition, rate = (
                    f"{subject}_{point.replace(' ', '')}",
                    "treated",
                    0.4 - 0.05 * (index % len(TIME_POINTS)),
                )
            path = work / "reads" / f"{name}.fastq.gz"
            if design_id == "ABE":
                simulate.simulate(design, reads, path, seed=seed, base_editor=simulate.BaseEditorSpec(target_rate=rate))
            else:
                mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate, insertion=0.0, substitution=0.0, hdr=0.0)
                simulate.simulate(design, reads, path, mix=mix, seed=seed)
            replicate = str(number + 1) if number < MOCKS else "1"
            rows.append([name, design_id, condition, replicate, f"reads/{name}.fastq.gz", subject,
                         "clinical" if subject else "cell_line", "liver", point])  # fmt: skip
    _write_tsv(work / "samples.tsv", ["sample", "design_id", "condition", "replicate", "r1", "subject", "model",
                                      "tissue", "time_point"], rows)  # fmt: skip
    study = read_study(work / "designs.tsv", work / "samples.tsv")
    for sample in study.samples:
        result = quantify(sample.r1, design=study.designs[sample.design_id].design, sample=sample.sample)
        write_sample_outputs(result, work / "results" / sample.sample)
    (work / "done").write_text("")
    return work


def run_report(work: Path, pdf: bool) -> tuple[float, float]:
    """Elapsed seconds and peak RSS (MiB) of one `editcheck report` run."""
    out = work / ("report_pdf" if pdf else "report")
    shutil.rmtree(out, ignore_errors=True)
    folders = [f"--ontarget={folder}" for folder in sorted((work / "results").iterdir())]
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "editcheck", "report", *folders,
               "--study-designs", str(work / "designs.tsv"), "--study-samples", str(work / "samples.tsv"),
               "--pdf" if pdf else "--no-pdf", "-o", str(out)]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        sys.exit(completed.stderr[-3000:])
    elapsed = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", completed.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", completed.stderr)
    assert elapsed is not None and rss is not None, completed.stderr[-2000:]
    hours, minutes, seconds = elapsed.groups()
    return 3600 * int(hours or 0) + 60 * int(minutes) + float(seconds), int(rss.group(1)) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path("/tmp/editcheck-report-bench"))
    args = parser.parse_args()
    work = make_study(args.work / f"{args.samples}x{args.reads}", args.samples, args.reads)
    cases = [False, True] if find_chromium() is not None else [False]
    for pdf in cases:
        seconds, mib = run_report(work, pdf)
        html = (work / ("report_pdf" if pdf else "report") / "report.html").stat().st_size / 2**20
        print(f"editcheck report, {args.samples} samples x {args.reads} reads, {'with' if pdf else 'without'} PDF: "
              f"{seconds:.1f} s wall, peak RSS {mib:.0f} MiB (report.html {html:.1f} MiB)")  # fmt: skip


if __name__ == "__main__":
    main()
