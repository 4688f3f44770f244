"""Write the workflow demo: a small simulated study with known truth, and the sheets in config/.

Run from anywhere (paths are taken relative to this file):

    python test_data/demo/make_demo.py [--out DIR] [--config-dir DIR]

It is ``editcheck simulate-study --seed 20240611`` (``editcheck.simulate.study``; read its docstring for the
biology and the noise) with the sheets written into config/. Deterministic (fixed seeds; gzip with level 9
and no name or timestamp), so running it again gives the same files. What it writes:

* ``designs/{A,B}.fa`` -- product A (adenine base editor, target = protospacer position 5, window 4-8) and
  product B (a nuclease with its own guide), 160-bp amplicons.
* ``ontarget/<sample>.fastq.gz`` -- 2,000 single-end reads each, PCR copies of 3,000 template molecules:
  product A in an animal model (T1-T3 at ~42% target engagement, mock M1) and in two patients' liver
  biopsies at 1, 6 and 12 months (P01_* declining from 45% to 26%, three replicates per time point;
  P02_* stable at 40%, two replicates); product B in a third patient's hepatocytes (B_T1, B_T2 at ~30%
  indels; mock B_M1).
* ``panel/{PT1,PT2,PC1,PC2}.fastq.gz`` -- product A's 5-site off-target panel, 1,100 reads per site (5,000
  molecules): ON1 is the on-target site, OT1-OT4 carry the guide with 3-4 mismatches (OT3 on the reverse
  strand); in the treated animals PT1 and PT2, OT2 is truly edited in ~3% of reads.
* ``truth.json`` -- what a correct analysis reproduces: every sample's read-level figures, every group's
  true level, each series' direction, each treated group's evidence, each site's call.
* ``../../config/designs.tsv``, ``study_samples.tsv`` (the study: ``config/config.yaml``) and ``samples.tsv``,
  ``panel_samples.tsv``, ``sites.tsv`` (product A's animal samples and panel for the one-design config
  ``config/single_design.yaml``), reads paths relative to the sheet's folder.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from editcheck.simulate.study import StudySpec, simulate_study

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent.parent / "config"
SEED = 20240611
SINGLE_DESIGN = {"samples.tsv": ("T1", "T2", "T3", "M1"), "panel_samples.tsv": ("PT1", "PT2", "PC1", "PC2")}
SINGLE_COLUMNS = ["sample", "condition", "replicate", "input_copies", "r1", "r2"]


def write_single_design_sheets(config_dir: Path) -> None:
    """Product A's animal samples and panel as the one-design sheets (from the study's samples sheet)."""
    with open(config_dir / "study_samples.tsv", encoding="utf-8", newline="") as handle:
        rows = {row["sample"]: row for row in csv.DictReader(handle, delimiter="\t")}
    for sheet, names in SINGLE_DESIGN.items():
        lines = ["\t".join(SINGLE_COLUMNS)]
        for name in names:
            row = rows[name]
            lines.append("\t".join([name, row["condition"], row["replicate"], row["input_copies"], row["r1"], ""]))
        (config_dir / sheet).write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for reads and truth [this folder]")
    parser.add_argument("--config-dir", type=Path, default=CONFIG, help="folder for the sheets [config/]")
    args = parser.parse_args(argv)
    simulate_study(args.out, StudySpec(seed=SEED), sheet_folder=args.config_dir, samples_sheet="study_samples.tsv")
    write_single_design_sheets(args.config_dir)


if __name__ == "__main__":
    main()
