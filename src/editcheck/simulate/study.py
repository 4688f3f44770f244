"""``simulate_study``: a small study with known truth, written as the workflow takes it (``editcheck
simulate-study``; the bundled demo is this study with the demo's seed).

What it holds (:data:`GROUPS`): product **A**, an adenine base editor (A>G at protospacer position 5, window
4-8), in an animal model (three replicates at ~42% target engagement, and a mock), and in two patients'
liver biopsies at 1, 6 and 12 months (P01 declining from 45% to 26%, linear on the log-odds scale; P02
stable at 40%); product **B**, a nuclease with its own guide, in a third patient's primary hepatocytes (two
treated replicates at ~30% indels, and a mock); and product A's 5-site off-target panel (the on-target site
ON1 and four sites with 3-4 mismatches, OT3 on the reverse strand) in two treated and two control animals,
site OT2 truly edited in a few percent of reads (:data:`LOW_TARGET`).

The noise of real runs (``/work/shared/notes/realistic_noise.md``):

- **between-replicate variation**: each replicate's true rate is ``expit(logit(level) + N(0, sd^2))`` on target
  (``replicate_sd`` 0.1, about +-2.4 pp at 40%), and ``level * LN(-sd^2/2, sd)`` at the low off-target site
  (``offtarget_sd`` 0.2);
- **molecule bottleneck and PCR duplicates**: every sample's reads are PCR copies of ``molecules`` template
  molecules (per site in the panel), each amplified with its own efficiency (``simulate(template_molecules=)``);
  the sheets give that number as ``input_copies``;
- **sequencing errors**: substitutions at ``error_rate`` per base with low qualities, rising at the 3' end.

Files, under the output folder: ``designs.tsv``, ``samples.tsv`` and ``sites.tsv`` (paths relative to their
own folder, which may be another one: ``sheet_folder``), ``designs/<id>.fa``, ``ontarget/<sample>.fastq.gz``,
``panel/<sample>.fastq.gz`` (every site's reads of one panel sample, shuffled), ``truth.json``.
The truth gives every sample's realised read-level figures (what a correct analysis of its reads reports),
each replicate's true rate, each group's level (what its pooled interval should cover), each series'
direction, each treated group's expected evidence and each panel site's expected call.
"""

from __future__ import annotations

import gzip
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from editcheck.errors import ParameterError
from editcheck.outputs import atomic_output, write_json
from editcheck.simulate.amplicon import simulate
from editcheck.simulate.designs import SimulationDesign, random_design
from editcheck.simulate.outcomes import BaseEditorSpec, OutcomeMix
from editcheck.simulate.primitives import BASES, reverse_complement
from editcheck.simulate.study_plan import (
    AMPLICON_LENGTH,
    BYSTANDER_RATE,
    DECLINE_PER_MONTH,
    EDITED_SITE,
    GROUPS,
    INDEL_RATE,
    LOW_BYSTANDER,
    LOW_INDELS,
    LOW_TARGET,
    OFF_TARGETS,
    ON_TARGET_SITE,
    PANEL_LENGTH,
    SERIES,
    Group,
    StudySpec,
    days,
)

__all__ = ["StudySpec", "simulate_study"]


def _random_bases(rng: np.random.Generator, n: int) -> str:
    return "".join(BASES[i] for i in rng.integers(0, 4, size=n).tolist())


def _off_target_design(
    guide: str, positions: tuple[int, ...], strand: str, rng: np.random.Generator
) -> SimulationDesign:
    """A 100-bp amplicon carrying ``guide`` with mismatches at ``positions`` + an NGG PAM near its middle."""
    bases = list(guide)
    for position in positions:
        bases[position - 1] = str(rng.choice([b for b in BASES if b != bases[position - 1]]))
    protospacer = "".join(bases)
    for _ in range(100):
        site = protospacer + _random_bases(rng, 1) + "GG"
        left = _random_bases(rng, 38)
        right = _random_bases(rng, PANEL_LENGTH - 38 - len(site))
        amplicon = left + (site if strand == "+" else reverse_complement(site)) + right
        if amplicon.count(protospacer) + amplicon.count(reverse_complement(protospacer)) == 1:
            return SimulationDesign(amplicon, protospacer)
    raise ParameterError("could not place the off-target protospacer once")  # pragma: no cover


def _abe(target_rate: float, bystander_rate: float = BYSTANDER_RATE) -> BaseEditorSpec:
    return BaseEditorSpec(("A", "G"), (4, 8), 5, min(max(target_rate, 0.0), 1.0), bystander_rate)


def _replicate_rate(level: float, sd: float, rng: np.random.Generator) -> float:
    """The replicate's true rate: logit-normal about ``level`` (0 stays 0)."""
    if level <= 0:
        return 0.0
    return float(1 / (1 + math.exp(-(math.log(level / (1 - level)) + rng.normal(0.0, sd)))))


def _treatment(design_id: str, rate: float) -> dict[str, Any]:
    """``simulate`` options giving a read-level rate ``rate`` of the design's measure (0: untreated)."""
    if rate <= 0:
        return {"mix": OutcomeMix(unmodified=1.0, deletion=0.0, insertion=0.0, substitution=0.0, hdr=0.0)}
    if design_id == "A":
        mix = OutcomeMix(unmodified=0.0, deletion=0.75 * INDEL_RATE, insertion=0.25 * INDEL_RATE, substitution=0.0,
                         hdr=0.0, base_edit=1 - INDEL_RATE)  # fmt: skip
        return {"mix": mix, "base_editor": _abe(rate / (1 - INDEL_RATE))}
    return {
        "mix": OutcomeMix(unmodified=1 - rate, deletion=0.75 * rate, insertion=0.25 * rate, substitution=0.0, hdr=0.0)
    }


def _read_level(design_id: str, truth: dict[str, Any]) -> dict[str, Any]:
    """The realised read-level figures of one simulated sample."""
    n = truth["n_reads"]
    counts = truth["class_counts"]
    indels = counts.get("deletion", 0) + counts.get("insertion", 0)
    figures: dict[str, Any] = {"reads": n, "indel_reads": indels}
    if design_id == "A":
        converted = truth["base_editing"]["target_converted_reads"] if "base_editing" in truth else 0
        figures["target_converted_reads"] = converted
        figures["read_level_percent"] = round(100 * converted / n, 4)
    else:
        figures["read_level_percent"] = round(100 * indels / n, 4)
    figures["duplicate_reads_percent"] = round(truth["template_molecules"]["duplicate_reads_percent"], 4)
    return figures


def _write_gzip(path: Path, data: bytes) -> None:
    """gzip level 9 without file name or timestamp: the same bytes on every run."""
    with atomic_output(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9,
                                                         mtime=0) as out:  # fmt: skip
        out.write(data)


def _site_edited(truth: dict[str, Any]) -> int:
    """Reads a base-editor site analysis counts as edited: any conversion in the window, or an indel."""
    if "base_editing" in truth:
        return int(truth["n_reads"] - truth["base_editing"]["classes"]["unedited"])
    return int(truth["n_reads"] - truth["class_counts"]["unmodified"])


class _Writer:
    """Simulates and writes the study's reads, collecting the truth."""

    def __init__(self, out: Path, spec: StudySpec) -> None:
        self.out, self.spec = out, spec
        self.rng = np.random.default_rng(spec.seed)
        self.seeds = iter(self.rng.integers(2**31, size=1000).tolist())
        self.designs = {
            "A": random_design(seed=next(self.seeds), length=AMPLICON_LENGTH, guide_start=65, with_donor=False),
            "B": random_design(seed=next(self.seeds), length=AMPLICON_LENGTH, guide_start=75, with_donor=False),
        }
        site_rng = np.random.default_rng(next(self.seeds))
        a = self.designs["A"]
        start = a.amplicon.index(a.guide) - 38
        self.sites = {ON_TARGET_SITE: SimulationDesign(a.amplicon[start : start + PANEL_LENGTH], a.guide)}
        for site_id, (positions, strand) in OFF_TARGETS.items():
            self.sites[site_id] = _off_target_design(a.guide, positions, strand, site_rng)

    def ontarget(self, group: Group, name: str) -> dict[str, Any]:
        spec = self.spec
        rate = _replicate_rate(group.level, spec.replicate_sd, self.rng)
        with tempfile.TemporaryDirectory() as tmp:
            fastq = Path(tmp) / "reads.fastq"
            truth = simulate(self.designs[group.design_id], spec.reads, fastq, read_length=AMPLICON_LENGTH,
                             error_rate=spec.error_rate, seed=next(self.seeds), template_molecules=spec.molecules,
                             pcr_cycles=spec.pcr_cycles, **_treatment(group.design_id, rate))  # fmt: skip
            _write_gzip(self.out / "ontarget" / f"{name}.fastq.gz", fastq.read_bytes())
        return {"replicate_percent": round(100 * rate, 4), **_read_level(group.design_id, truth)}

    def panel(self, group: Group, name: str) -> dict[str, Any]:
        spec = self.spec
        treated = group.condition == "treated"
        on_rate = _replicate_rate(group.level, spec.replicate_sd, self.rng) if treated else 0.0
        low = float(np.exp(self.rng.normal(-(spec.offtarget_sd**2) / 2, spec.offtarget_sd))) if treated else 0.0
        records: list[bytes] = []
        sites: dict[str, Any] = {}
        for site_id, design in self.sites.items():
            if treated and site_id == ON_TARGET_SITE:
                options = _treatment("A", on_rate)
            elif treated and site_id == EDITED_SITE:
                mix = OutcomeMix(unmodified=0.0, deletion=0.8 * LOW_INDELS * low, insertion=0.2 * LOW_INDELS * low,
                                 substitution=0.0, hdr=0.0, base_edit=1 - LOW_INDELS * low)  # fmt: skip
                options = {"mix": mix, "base_editor": _abe(LOW_TARGET * low, LOW_BYSTANDER * low)}
            else:
                options = _treatment("A", 0.0)
            with tempfile.TemporaryDirectory() as tmp:
                fastq = Path(tmp) / "reads.fastq"
                truth = simulate(design, spec.panel_reads_per_site, fastq, read_length=PANEL_LENGTH,
                                 error_rate=spec.error_rate, seed=next(self.seeds),
                                 template_molecules=spec.panel_molecules, pcr_cycles=spec.pcr_cycles, **options)  # fmt: skip
                lines = fastq.read_bytes().splitlines(keepends=True)
            for number in range(0, len(lines), 4):
                allele = lines[number].rstrip(b"\n").split(b":", 1)[1]
                records.append(
                    b"@%s_%05d:%s\n" % (site_id.encode(), number // 4, allele)
                    + b"".join(lines[number + 1 : number + 4])
                )
            sites[site_id] = {"reads": truth["n_reads"], "edited_reads": _site_edited(truth)}
        order = self.rng.permutation(len(records)).tolist()
        _write_gzip(self.out / "panel" / f"{name}.fastq.gz", b"".join(records[i] for i in order))
        return {"sites": sites, "edited_site_multiplier": round(low, 6)}


def _relative(target: Path, sheet_folder: Path) -> str:
    return Path(os.path.relpath(target.resolve(), sheet_folder.resolve())).as_posix()


def _write_tsv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with atomic_output(path) as handle:
        handle.write("".join("\t".join(str(cell) for cell in row) + "\n" for row in [header, *rows]))


SAMPLE_COLUMNS = ["sample", "design_id", "condition", "replicate", "assay", "r1", "input_copies", "subject", "model",
                  "tissue", "time_point", "dose"]  # fmt: skip
DESIGN_COLUMNS = ["design_id", "amplicon", "amplicon_name", "guide", "cut_offset", "base_editor", "editing_window",
                  "target_protospacer_position", "offtarget_sites"]  # fmt: skip
SITE_COLUMNS = ["site_id", "amplicon", "protospacer", "cut_offset", "editor", "on_target", "window"]


def _sheets(writer: _Writer, out: Path, sheet_folder: Path, samples: dict[str, Any], samples_sheet: str) -> None:
    spec = writer.spec
    design_rows = []
    for design_id, design in writer.designs.items():
        fasta = out / "designs" / f"{design_id}.fa"
        with atomic_output(fasta) as handle:
            handle.write(f">product_{design_id}\n{design.amplicon}\n")
        editor = (
            ["ABE", "4-8", 5, _relative(sheet_folder / "sites.tsv", sheet_folder)]
            if design_id == "A"
            else ["", "", "", ""]
        )
        design_rows.append(
            [design_id, _relative(fasta, sheet_folder), f"product_{design_id}", design.guide, 3, *editor]
        )
    _write_tsv(sheet_folder / "designs.tsv", DESIGN_COLUMNS, design_rows)
    _write_tsv(sheet_folder / "sites.tsv", SITE_COLUMNS,
               [[site_id, site.amplicon, site.guide, 3, "ABE", "yes" if site_id == ON_TARGET_SITE else "no", ""]
                for site_id, site in writer.sites.items()])  # fmt: skip
    rows = []
    for name, sample in samples.items():
        folder = "ontarget" if sample["assay"] == "on_target" else "panel"
        copies = spec.molecules if sample["assay"] == "on_target" else spec.panel_molecules
        rows.append([name, sample["design_id"], sample["condition"], sample["replicate"], sample["assay"],
                     _relative(out / folder / f"{name}.fastq.gz", sheet_folder), copies, sample["subject"],
                     sample["model"], sample["tissue"], sample["time_point"], sample["dose"]])  # fmt: skip
    _write_tsv(sheet_folder / samples_sheet, SAMPLE_COLUMNS, rows)


def _group_truth(group: Group) -> dict[str, Any]:
    return {
        "design_id": group.design_id, "subject": group.subject, "model": group.model, "tissue": group.tissue,
        "time_point": group.time_point, "time_days": days(group.time_point), "condition": group.condition,
        "assay": group.assay, "samples": list(group.names), "level_percent": round(100 * group.level, 4),
    }  # fmt: skip


def _design_truth(writer: _Writer) -> dict[str, Any]:
    a, b = writer.designs["A"], writer.designs["B"]
    return {
        "A": {"amplicon_name": "product_A", "amplicon": a.amplicon, "guide": a.guide, "editor": "ABE",
              "editing_window": [4, 8], "target_protospacer_position": 5,
              "target_amplicon_position": a.amplicon.index(a.guide) + 5, "measure": "target engagement",
              "percent_denominator": "all reads of the sample"},
        "B": {"amplicon_name": "product_B", "amplicon": b.amplicon, "guide": b.guide, "editor": "nuclease",
              "measure": "edited", "percent_denominator": "all reads of the sample"},
    }  # fmt: skip


def _offtarget_truth(writer: _Writer, panels: dict[str, dict[str, Any]]) -> dict[str, Any]:
    treated = [name for name, panel in panels.items() if panel["condition"] == "treated"]
    sites = {}
    for site_id in writer.sites:
        reads = sum(panels[name]["sites"][site_id]["reads"] for name in treated)
        edited = sum(panels[name]["sites"][site_id]["edited_reads"] for name in treated)
        strand, mismatches = (
            ("+", []) if site_id == ON_TARGET_SITE else (OFF_TARGETS[site_id][1], list(OFF_TARGETS[site_id][0]))
        )
        sites[site_id] = {
            "on_target": site_id == ON_TARGET_SITE, "strand": strand, "mismatch_positions": mismatches,
            "expected_call": "EDITED" if site_id in (ON_TARGET_SITE, EDITED_SITE) else "NOT_DETECTED",
            "treated_edited_percent": round(100 * edited / reads, 4),
        }  # fmt: skip
    return {
        "design_id": "A", "edited_site": EDITED_SITE, "on_target_site": ON_TARGET_SITE,
        "edited_reads_definition": "reads with an A>G conversion in protospacer positions 4-8 or an indel",
        "sites": sites, "samples": panels,
    }  # fmt: skip


def simulate_study(out: str | Path, spec: StudySpec | None = None, sheet_folder: str | Path | None = None,
                   samples_sheet: str = "samples.tsv") -> dict[str, Any]:  # fmt: skip
    """Write the study (see the module docstring) into ``out`` (its sheets into ``sheet_folder``, default
    ``out``; the samples sheet named ``samples_sheet``) and return its truth, also written as
    ``out/truth.json``. ``spec`` defaults to ``StudySpec()``."""
    spec = spec if spec is not None else StudySpec()
    out = Path(out)
    sheets = Path(sheet_folder) if sheet_folder is not None else out
    for folder in (out / "ontarget", out / "panel", out / "designs", sheets):
        folder.mkdir(parents=True, exist_ok=True)
    writer = _Writer(out, spec)
    samples: dict[str, Any] = {}
    panels: dict[str, dict[str, Any]] = {}
    for group in GROUPS:
        for replicate, name in enumerate(group.names, 1):
            meta = {"design_id": group.design_id, "condition": group.condition, "replicate": replicate,
                    "assay": group.assay, "subject": group.subject, "model": group.model, "tissue": group.tissue,
                    "time_point": group.time_point, "time_days": days(group.time_point), "dose": group.dose,
                    "level_percent": round(100 * group.level, 4)}  # fmt: skip
            if group.assay == "on_target":
                samples[name] = {**meta, **writer.ontarget(group, name)}
            else:
                samples[name] = meta
                panels[name] = {"condition": group.condition, **writer.panel(group, name)}
    _sheets(writer, out, sheets, samples, samples_sheet)
    truth = {
        "schema_version": 1,
        "generator": "editcheck.simulate.study",
        "seed": spec.seed,
        "spec": {name: getattr(spec, name) for name in spec.__dataclass_fields__},
        "designs": _design_truth(writer),
        "samples": {name: sample for name, sample in samples.items() if sample["assay"] == "on_target"},
        "groups": [_group_truth(group) for group in GROUPS],
        "series": {
            subject: {
                "design_id": "A",
                "direction": direction,
                "tissue": "liver",
                "model": "clinical",
                "slope_logit_per_month": round(DECLINE_PER_MONTH if direction == "decline" else 0.0, 6),
            }
            for subject, direction in SERIES.items()
        },
        # Every treated group's true level (26% or more) lies far above its mocks' (0%): each must pass.
        "evidence": {
            f"{group.design_id}/{group.subject}/{group.time_point}": "PASS"
            for group in GROUPS
            if group.condition == "treated" and group.assay == "on_target"
        },
        "offtarget": _offtarget_truth(writer, panels),
    }
    write_json(out / "truth.json", truth)
    return truth
