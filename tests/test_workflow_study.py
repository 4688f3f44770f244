"""The workflow runs a whole study (#12 item 2): several designs, subjects and time points in one run, each
sample quantified against its own design, a panel per design, one report per design."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from editcheck import simulate

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

needs_snakemake = pytest.mark.skipif(
    shutil.which("snakemake", path=str(BIN)) is None and not (BIN / "snakemake").exists(),
    reason="snakemake is not installed: pip install -e '.[workflow]' to test the workflow",
)
DESIGN_SEEDS = {"A": 11, "B": 12}
# design -> (subject, edited fraction per time point); a mock per design.
SERIES = {"A": ("P1", {"28 d": 0.40, "84 d": 0.35, "182 d": 0.30}), "B": ("P2", {"1 mo": 0.20, "3 mo": 0.15, "6 mo": 0.10})}


def write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def make_study(folder: Path, reads: int = 300, panel: bool = False) -> Path:
    """A working folder with a 2-design, 2-subject, 3-time-point study (config.yaml, designs.tsv, samples.tsv)
    and simulated reads (nuclease edits at known rates); truth.json maps each sample to its design and rate."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reads").mkdir(exist_ok=True)
    designs, samples, truth = [], [], {}
    for design_id, seed in DESIGN_SEEDS.items():
        design = simulate.random_design(seed=seed, with_donor=False)
        sites = ""
        if panel:
            sites = f"sites_{design_id}.tsv"
            write_tsv(folder / sites, ["site_id", "amplicon", "protospacer"], [[f"ON_{design_id}", design.amplicon, design.guide]])
        designs.append([design_id, design.amplicon, design.guide, sites])
        subject, points = SERIES[design_id]
        runs = [(f"{subject}_{point.replace(' ', '')}", "treated", subject, point, rate) for point, rate in points.items()]
        runs.append((f"mock_{design_id}", "control", "", "", 0.0))
        for number, (name, condition, who, point, rate) in enumerate(runs):
            mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate, insertion=0.0, substitution=0.0, hdr=0.0)
            path = folder / "reads" / f"{name}.fastq.gz"
            simulate.simulate(design, reads, path, mix=mix, error_rate=0.001, seed=100 * seed + number)
            model = "clinical" if who else "cell_line"
            samples.append([name, design_id, condition, "1", "", f"reads/{name}.fastq.gz", who, model, "liver", point, "1e13 vg/kg", f"lot-{design_id}"])
            truth[name] = {"design": design_id, "amplicon": design.amplicon, "edited": rate}
        if panel:
            for condition in ("treated", "control"):
                samples.append([f"panel_{design_id}_{condition}", design_id, condition, "1", "off_target_panel",
                                f"reads/{runs[0][0]}.fastq.gz", "", "", "", "", "", ""])  # fmt: skip
    write_tsv(folder / "designs.tsv", ["design_id", "amplicon", "guide", "offtarget_sites"], designs)
    header = ["sample", "design_id", "condition", "replicate", "assay", "r1", "subject", "model", "tissue", "time_point", "dose", "batch"]
    write_tsv(folder / "samples.tsv", header, samples)
    (folder / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    config = {"study": {"designs": str(folder / "designs.tsv"), "samples": str(folder / "samples.tsv")},
              "report": {"title": "study test"}}  # fmt: skip
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return folder


def run_snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    command += ["--configfile", str(workdir / "config.yaml"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
