"""Write the workflow demo: simulated base-editing reads with known truth, and the sheets in config/.

Run from anywhere (paths are taken relative to this file):

    python test_data/demo/make_demo.py [--out DIR] [--config-dir DIR]

It is deterministic (fixed seeds; gzip with level 9 and no name or timestamp), so running it again
gives the same files.  What it writes:

* ``ontarget/amplicon.fa`` -- a 200-bp amplicon whose protospacer has an A at positions 5 and 7.
* ``ontarget/{T1,T2,T3,M1}.fastq.gz`` -- 1,500 single-end reads each.  T1-T3 are treated with an
  adenine base editor (ABE, A>G in protospacer positions 4-8, target = position 5) at about 42%
  target conversion with bystander conversions and about 4% indels; M1 is an unedited mock.
* ``panel/{PT1,PT2,PC1,PC2}.fastq.gz`` -- one multiplexed FASTQ per panel sample, 1,100 reads per
  site of a 5-site panel (100-bp amplicons).  Site ON1 is the on-target site (the middle 100 bp of
  the on-target amplicon), OT1-OT4 carry the guide with 3 or 4 mismatches (OT3 on the reverse
  strand).  In the treated samples PT1 and PT2, ON1 is edited as in T1-T3 and OT2 at a low level
  (about 2.5% of reads carry an A>G conversion in the window or an indel); the other sites and
  the control samples PC1 and PC2 are unedited.
* ``truth.json`` -- the numbers a correct analysis should reproduce: per on-target sample the
  target conversion and indel percentages, per panel site and sample the edited reads, and the
  expected call of every site.
* ``../../config/samples.tsv``, ``sites.tsv`` and ``panel_samples.tsv`` -- the workflow's demo
  sheets (reads paths relative to the sheet's folder).

Reads carry sequencing errors (substitutions with low qualities), so ``--min-base-quality 20``
removes nearly all of them; the truth counts the simulated alleles, not what survives masking.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from editcheck.simulate import BaseEditorSpec, OutcomeMix, SimulationDesign, random_design, simulate

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent.parent / "config"
SEED = 20240611

ONTARGET_READS = 1500
PANEL_READS_PER_SITE = 1100
ONTARGET_LENGTH = 200
PANEL_LENGTH = 100
COMPLEMENT = str.maketrans("ACGT", "TGCA")

#: Treated on-target mix: 96% of reads exposed to the editor, 3% deletions, 1% insertions.
TREATED_MIX = OutcomeMix(unmodified=0.0, deletion=0.03, insertion=0.01, substitution=0.0, hdr=0.0, base_edit=0.96)
#: Target conversion rate among exposed reads, per treated replicate (0.96 * 0.44 ~ 42%).
TARGET_RATES = {"T1": 0.43, "T2": 0.44, "T3": 0.45}
BYSTANDER_RATE = 0.3
#: The weakly edited off-target site: 0.5% indels, A>G at the target in 2% and bystanders in 0.5%.
LOW_MIX = OutcomeMix(unmodified=0.0, deletion=0.004, insertion=0.001, substitution=0.0, hdr=0.0, base_edit=0.995)
LOW_EDITOR = BaseEditorSpec(conversion=("A", "G"), window=(4, 8), target=5, target_rate=0.02, bystander_rate=0.005)
CLEAN_MIX = OutcomeMix(unmodified=1.0, deletion=0.0, insertion=0.0, substitution=0.0, hdr=0.0)

PANEL_SAMPLES = {"PT1": "treated", "PT2": "treated", "PC1": "control", "PC2": "control"}
#: Off-target sites: protospacer positions (1-based) that differ from the guide, and the strand.
OFF_TARGETS = {
    "OT1": ((2, 13, 18), "+"),
    "OT2": ((1, 11, 16), "+"),
    "OT3": ((3, 10, 14, 19), "-"),
    "OT4": ((9, 12, 17), "+"),
}
EDITED_SITE = "OT2"


def reverse_complement(sequence: str) -> str:
    return sequence.translate(COMPLEMENT)[::-1]


def random_bases(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGT"), size=n))


def mismatched(guide: str, positions: tuple[int, ...], rng: np.random.Generator) -> str:
    """The guide with a different base at each 1-based position."""
    bases = list(guide)
    for position in positions:
        bases[position - 1] = str(rng.choice([b for b in "ACGT" if b != bases[position - 1]]))
    return "".join(bases)


def off_target_design(
    guide: str, positions: tuple[int, ...], strand: str, rng: np.random.Generator
) -> SimulationDesign:
    """A 100-bp amplicon carrying ``guide`` with mismatches + an NGG PAM near its middle."""
    protospacer = mismatched(guide, positions, rng)
    for _ in range(100):
        site = protospacer + random_bases(rng, 1) + "GG"
        left = random_bases(rng, 38)
        right = random_bases(rng, PANEL_LENGTH - 38 - len(site))
        amplicon = left + (site if strand == "+" else reverse_complement(site)) + right
        if amplicon.count(protospacer) + amplicon.count(reverse_complement(protospacer)) == 1:
            return SimulationDesign(amplicon, protospacer)
    raise RuntimeError("could not place the off-target protospacer once")  # pragma: no cover


def editor(target_rate: float) -> BaseEditorSpec:
    return BaseEditorSpec(conversion=("A", "G"), window=(4, 8), target=5, target_rate=target_rate,
                          bystander_rate=BYSTANDER_RATE)  # fmt: skip


def write_gzip(path: Path, data: bytes) -> None:
    """gzip level 9 without file name or timestamp: the same bytes on every run."""
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as out:
        out.write(data)


def read_records(path: Path) -> list[list[bytes]]:
    lines = path.read_bytes().splitlines(keepends=True)
    return [lines[i : i + 4] for i in range(0, len(lines), 4)]


def edited_reads(truth: dict) -> int:
    """Reads a base-editor site analysis counts as edited: any conversion in the window, or an indel."""
    if "base_editing" in truth:
        return truth["n_reads"] - truth["base_editing"]["classes"]["unedited"]
    return truth["n_reads"] - truth["class_counts"]["unmodified"]


def simulate_ontarget(design: SimulationDesign, out: Path) -> dict:
    samples = {}
    for index, name in enumerate(["T1", "T2", "T3", "M1"]):
        with tempfile.TemporaryDirectory() as tmp:
            fastq = Path(tmp) / "reads.fastq"
            if name in TARGET_RATES:
                truth = simulate(design, ONTARGET_READS, fastq, mix=TREATED_MIX, base_editor=editor(TARGET_RATES[name]),
                                 read_length=ONTARGET_LENGTH, seed=SEED + index)  # fmt: skip
            else:
                truth = simulate(design, ONTARGET_READS, fastq, mix=CLEAN_MIX, read_length=ONTARGET_LENGTH,
                                 seed=SEED + index)  # fmt: skip
            write_gzip(out / f"{name}.fastq.gz", fastq.read_bytes())
        counts = truth["class_counts"]
        indels = counts.get("deletion", 0) + counts.get("insertion", 0)
        converted = truth["base_editing"]["target_converted_reads"] if "base_editing" in truth else 0
        samples[name] = {
            "condition": "treated" if name in TARGET_RATES else "control",
            "reads": truth["n_reads"],
            "target_converted_reads": converted,
            "target_conversion_percent": round(100 * converted / truth["n_reads"], 4),
            "indel_reads": indels,
            "indel_percent": round(100 * indels / truth["n_reads"], 4),
            "simulated_target_rate": TARGET_RATES.get(name, 0.0),
        }
    return samples


def simulate_panel(sites: dict[str, SimulationDesign], on_target_design: SimulationDesign, out: Path) -> dict:
    per_sample: dict[str, dict] = {}
    for sample_index, (sample, condition) in enumerate(PANEL_SAMPLES.items()):
        records: list[list[bytes]] = []
        per_sample[sample] = {}
        for site_index, (site_id, design) in enumerate(sites.items()):
            seed = SEED + 100 * (sample_index + 1) + site_index
            if condition == "treated" and design is on_target_design:
                options = {"mix": TREATED_MIX, "base_editor": editor(0.44)}
            elif condition == "treated" and site_id == EDITED_SITE:
                options = {"mix": LOW_MIX, "base_editor": LOW_EDITOR}
            else:
                options = {"mix": CLEAN_MIX}
            with tempfile.TemporaryDirectory() as tmp:
                fastq = Path(tmp) / "reads.fastq"
                truth = simulate(design, PANEL_READS_PER_SITE, fastq, read_length=PANEL_LENGTH, seed=seed, **options)
                for number, record in enumerate(read_records(fastq)):
                    allele = record[0].rstrip(b"\n").split(b":", 1)[1]
                    record[0] = b"@%s_%05d:%s\n" % (site_id.encode(), number, allele)
                    records.append(record)
            per_sample[sample][site_id] = {"reads": truth["n_reads"], "edited_reads": edited_reads(truth)}
        order = np.random.default_rng(SEED + 1000 + sample_index).permutation(len(records))
        write_gzip(out / f"{sample}.fastq.gz", b"".join(b"".join(records[i]) for i in order))
    return per_sample


def write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.write_text("".join("\t".join(map(str, row)) + "\n" for row in [header, *rows]), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for reads and truth [this folder]")
    parser.add_argument("--config-dir", type=Path, default=CONFIG, help="folder for the sheets [config/]")
    args = parser.parse_args(argv)
    out, config_dir = args.out, args.config_dir
    ontarget_dir, panel_dir = out / "ontarget", out / "panel"
    for folder in (ontarget_dir, panel_dir, config_dir):
        folder.mkdir(parents=True, exist_ok=True)

    design = random_design(seed=SEED, length=ONTARGET_LENGTH, guide_start=85, with_donor=False)
    (ontarget_dir / "amplicon.fa").write_text(f">demo_ABE_site\n{design.amplicon}\n", encoding="ascii")
    ontarget = simulate_ontarget(design, ontarget_dir)

    rng = np.random.default_rng(SEED + 7)  # not SEED: random_design drew the on-target amplicon from that stream
    start = design.amplicon.index(design.guide) - 38
    on_panel = SimulationDesign(design.amplicon[start : start + PANEL_LENGTH], design.guide)
    sites: dict[str, SimulationDesign] = {"ON1": on_panel}
    for site_id, (positions, strand) in OFF_TARGETS.items():
        sites[site_id] = off_target_design(design.guide, positions, strand, rng)
    panel = simulate_panel(sites, on_panel, panel_dir)

    relative = Path(os.path.relpath(out.resolve(), config_dir.resolve()))
    write_tsv(config_dir / "samples.tsv", ["sample", "condition", "replicate", "r1", "r2"],
              [[name, truth["condition"], name[1:], (relative / "ontarget" / f"{name}.fastq.gz").as_posix(), ""]
               for name, truth in ontarget.items()])  # fmt: skip
    write_tsv(config_dir / "panel_samples.tsv", ["sample", "condition", "replicate", "r1", "r2"],
              [[name, condition, name[2:], (relative / "panel" / f"{name}.fastq.gz").as_posix(), ""]
               for name, condition in PANEL_SAMPLES.items()])  # fmt: skip
    site_columns = ["site_id", "amplicon", "protospacer", "cut_offset", "editor", "on_target", "window"]
    write_tsv(config_dir / "sites.tsv", site_columns,
              [[site_id, site.amplicon, site.guide, 3, "ABE", "yes" if site is on_panel else "no", ""]
               for site_id, site in sites.items()])  # fmt: skip

    treated = [name for name, condition in PANEL_SAMPLES.items() if condition == "treated"]
    truth = {
        "schema_version": 1,
        "generator": "test_data/demo/make_demo.py",
        "seed": SEED,
        "ontarget": {
            "amplicon_name": "demo_ABE_site",
            "amplicon": design.amplicon,
            "guide": design.guide,
            "base_editor": "ABE",
            "editing_window": [4, 8],
            "target_protospacer_position": 5,
            "target_amplicon_position": design.amplicon.index(design.guide) + 5,
            "percent_denominator": "all reads of the sample",
            "samples": ontarget,
        },
        "offtarget": {
            "edited_site": EDITED_SITE,
            "on_target_site": "ON1",
            "edited_reads_definition": "reads with an A>G conversion in protospacer positions 4-8 or an indel",
            "sites": {
                site_id: {
                    "on_target": site is on_panel,
                    "strand": "+" if site_id == "ON1" else OFF_TARGETS[site_id][1],
                    "mismatch_positions": [] if site_id == "ON1" else list(OFF_TARGETS[site_id][0]),
                    "expected_call": "EDITED" if site_id in ("ON1", EDITED_SITE) else "NOT_DETECTED",
                    "treated_edited_percent": round(
                        100 * sum(panel[s][site_id]["edited_reads"] for s in treated)
                        / sum(panel[s][site_id]["reads"] for s in treated), 4
                    ),
                }
                for site_id, site in sites.items()
            },
            "samples": {name: {"condition": PANEL_SAMPLES[name], "sites": panel[name]} for name in PANEL_SAMPLES},
        },
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
