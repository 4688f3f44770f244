"""Golden outputs: run editcheck on the demo and on the shared CRISPResso2 cases, and fingerprint every output.

Used to prove that a change which must not alter results (a refactor, a faster code path) does not:

    python benchmarks/golden_outputs.py --out /tmp/before            # on the old commit
    python benchmarks/golden_outputs.py --out /tmp/after --compare /tmp/before
    python benchmarks/golden_outputs.py --out /tmp/after --compare /tmp/before --no-run   # compare again only

Every output file is listed with its SHA-256, normalised so that two ``--out`` folders compare whatever their
paths and run times (:class:`Normaliser`; the script prints what it normalised): the ``--out`` folder's own
path in the text of any output (results record their inputs' absolute paths: provenance), manifest.json's
times, command and working folder, and each ``.tar.gz`` (the export package) member by member. ``--compare``
takes an earlier ``--out`` folder (or its golden.json, whose folder is then fingerprinted again, normalised
as now). The report states its run date: runs on different days differ there unless both set the same
``SOURCE_DATE_EPOCH``. The shared cases are skipped, with a line saying so, when ``../shared`` is not beside
the repository. Exit status 1 when ``--compare`` finds a difference.

Besides the published cases as CRISPResso2 ran them, the shared reads are also run through every other input
route, from inputs this script derives from them deterministically (``inputs/``, not fingerprinted): per-read
calls (``--write-reads``, single-end and paired, with a mean-quality filter), UMIs (single-end prefix, paired
header), pooled runs (one amplicon paired, two amplicons single-end and paired, with and without UMIs), the
same pairs as a genome-aligned BAM (``--bam --site``, with and without UMIs) and an off-target panel of BAM
samples.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED = REPOSITORY.parent / "shared" / "data" / "crispresso2_tests" / "inputs"

# The published cases' amplicons and guides, as the published-result tests give them (one copy of each).
sys.path.insert(0, str(REPOSITORY / "tests"))
from test_published_results import FANC, FANC_GUIDE, FANC_HDR, HEK3, HEK3_GUIDE, NHEJ  # noqa: E402

# name -> editcheck quantify arguments (reads relative to SHARED)
SHARED_CASES: dict[str, list[str]] = {
    "fanc_cas9": ["--r1", "FANC.Cas9.fastq", "-a", FANC, "-g", FANC_GUIDE, "-w", "92-93"],
    "fanc_hdr": ["--r1", "FANC.Cas9.fastq", "-a", FANC, "-g", FANC_GUIDE, "-w", "92-93", "-e", FANC_HDR],
    "fanc_untreated": ["--r1", "FANC.Untreated.fastq", "-a", FANC, "-g", FANC_GUIDE, "-w", "92-93"],
    "hek3": ["--r1", "HEK3.Cas9.fastq", "-a", HEK3, "-g", HEK3_GUIDE, "--window-flank", "1"],
    "vcf_basic": ["--r1", "vcf_basic.fastq", "-a", FANC, "-g", FANC_GUIDE, "-w", "90-96"],
    "vcf_no_edits": ["--r1", "vcf_no_edits.fastq", "-a", FANC, "-g", FANC_GUIDE, "-w", "92-93"],
    "abe": ["--r1", "vcf_base_edit_abe.fastq", "-a", FANC, "-g", FANC_GUIDE, "--base-editor", "ABE"],
    "cbe": ["--r1", "vcf_base_edit_cbe.fastq", "-a", FANC, "-g", FANC_GUIDE, "--base-editor", "CBE"],
    "prime_basic": [
        "--r1", "vcf_prime_edit_basic.fastq", "-a", FANC, "--window-flank", "1",
        "--pegrna-spacer", FANC_GUIDE, "--pegrna-extension", "ATCTGGATCGGCTGCAGAAGGGA",
    ],
    "nhej_pairs": ["--r1", "nhej.r1.fastq.gz", "--r2", "nhej.r2.fastq.gz", "-a", NHEJ, "-t", "2"],
    "fanc_reads": ["--r1", "FANC.Cas9.fastq", "-a", FANC, "-g", FANC_GUIDE, "-w", "92-93", "--write-reads",
                   "--min-mean-quality", "30", "-t", "2"],
    "nhej_reads": ["--r1", "nhej.r1.fastq.gz", "--r2", "nhej.r2.fastq.gz", "-a", NHEJ, "--write-reads",
                   "--min-mean-quality", "25"],
    "fanc_umi_prefix": ["--r1", "FANC.Cas9.fastq", "-a", FANC[8:], "-g", FANC_GUIDE, "--umi", "prefix",
                        "--umi-length", "8", "-t", "2"],
}  # fmt: skip


def _write_derived_inputs(folder: Path) -> dict[str, Path]:
    """Inputs for the UMI, pooled and BAM routes, derived from the shared reads (same bytes on every run)."""
    import random

    import pysam

    from editcheck.reads.fastq import iter_paired, iter_single
    from editcheck.sequences import reverse_complement

    folder.mkdir(parents=True)
    paths = {name: folder / name for name in (
        "umi.r1.fastq", "umi.r2.fastq", "pool.fastq", "pool.r1.fastq", "pool.r2.fastq", "nhej.sam", "umi.sam",
        "amplicons.tsv", "nhej_amplicon.tsv", "sites.tsv", "samples.tsv",
    )}  # fmt: skip
    rng = random.Random(11)
    umis = ["".join(rng.choice("ACGT") for _ in range(8)) for _ in range(3000)]
    umi1, umi2, pool, pool1, pool2 = [], [], [], [], []
    sam = ["@HD\tVN:1.6\tSO:unsorted", f"@SQ\tSN:nhej\tLN:{len(NHEJ)}"]
    umi_sam = list(sam)
    for name, first, first_qualities, second, second_qualities in iter_paired(SHARED / "nhej.r1.fastq.gz",
                                                                               SHARED / "nhej.r2.fastq.gz"):  # fmt: skip
        name = name.split()[0].removesuffix("/1")
        umi = rng.choice(umis)
        umi1.append(f"@{name}_{umi}\n{first}\n+\n{first_qualities}\n")
        umi2.append(f"@{name}_{umi}\n{second}\n+\n{second_qualities}\n")
        pool1.append(f"@{name}\n{first}\n+\n{first_qualities}\n")
        pool2.append(f"@{name}\n{second}\n+\n{second_qualities}\n")
        stored = reverse_complement(second)
        start2 = max(1, len(NHEJ) - len(stored) + 1)
        for lines, read in ((sam, name), (umi_sam, f"{name}_{umi}")):
            lines.append(f"{read}\t99\tnhej\t1\t60\t{len(first)}M\t=\t{start2}\t0\t{first}\t{first_qualities}")
            lines.append(
                f"{read}\t147\tnhej\t{start2}\t60\t{len(stored)}M\t=\t1\t0\t{stored}\t{second_qualities[::-1]}"
            )
    for source in ("FANC.Cas9.fastq", "HEK3.Cas9.fastq"):
        for number, (name, sequence, qualities) in enumerate(iter_single(SHARED / source)):
            name = f"{source[:4]}{number}"
            pool.append(f"@{name}\n{sequence}\n+\n{qualities}\n")
            if len(sequence) >= 120:  # as pairs: the read's first and last 100 bases, not overlapping
                pool1.append(f"@{name}\n{sequence[:100]}\n+\n{qualities[:100]}\n")
                pool2.append(f"@{name}\n{reverse_complement(sequence[-100:])}\n+\n{qualities[-100:][::-1]}\n")
    for key, lines in (("umi.r1.fastq", umi1), ("umi.r2.fastq", umi2), ("pool.fastq", pool),
                       ("pool.r1.fastq", pool1), ("pool.r2.fastq", pool2)):  # fmt: skip
        paths[key].write_text("".join(lines))
    for key, lines in (("nhej.sam", sam), ("umi.sam", umi_sam)):
        paths[key].write_text("\n".join(lines) + "\n")
        bam = paths[key].with_suffix(".bam")
        pysam.sort("-o", str(bam), str(paths[key]), catch_stdout=False)
        pysam.index(str(bam))
        paths[bam.name] = bam
    paths["amplicons.tsv"].write_text(
        f"name\tamplicon\tguide\twindow\nFANC\t{FANC}\t{FANC_GUIDE}\t92-93\nHEK3\t{HEK3}\t{HEK3_GUIDE}\t\n"
        f"NHEJ\t{NHEJ}\t\t\n"
    )
    paths["nhej_amplicon.tsv"].write_text(f"name\tamplicon\nNHEJ\t{NHEJ}\n")
    paths["sites.tsv"].write_text(
        f"site_id\tamplicon\tprotospacer\twindow\tlocus\nnhej\t{NHEJ}\t{NHEJ[80:100]}\t90-110\tnhej:1-{len(NHEJ)}\n"
    )
    paths["samples.tsv"].write_text("sample\tcondition\tbam\nT\ttreated\tnhej.bam\nC\tcontrol\tumi.bam\n")
    return paths


def _route_cases(paths: dict[str, Path]) -> dict[str, list[str]]:
    """name -> editcheck arguments (command first) of the runs over the derived inputs."""
    nhej_site = f"nhej:1-{len(NHEJ)}"
    pairs = ["--r1", str(paths["umi.r1.fastq"]), "--r2", str(paths["umi.r2.fastq"])]
    return {
        "nhej_umi_pairs": ["quantify", *pairs, "-a", NHEJ, "--umi", "header", "-t", "2"],
        "nhej_bam": ["quantify", "--bam", str(paths["nhej.bam"]), "--site", nhej_site, "-a", NHEJ, "-t", "2"],
        "nhej_bam_umi": ["quantify", "--bam", str(paths["umi.bam"]), "--site", nhej_site, "-a", NHEJ, "--umi", "header"],
        "pool_one_paired": ["quantify-pool", "--r1", str(SHARED / "nhej.r1.fastq.gz"), "--r2",
                            str(SHARED / "nhej.r2.fastq.gz"), "--amplicons", str(paths["nhej_amplicon.tsv"])],
        "pool_one_umi": ["quantify-pool", *pairs, "--amplicons", str(paths["nhej_amplicon.tsv"]), "--umi", "header"],
        "pool_single": ["quantify-pool", "--r1", str(paths["pool.fastq"]), "--amplicons", str(paths["amplicons.tsv"]),
                        "-t", "2"],
        "pool_single_umi": ["quantify-pool", "--r1", str(paths["pool.fastq"]), "--amplicons",
                            str(paths["amplicons.tsv"]), "--umi", "prefix", "--umi-length", "6"],
        "pool_paired": ["quantify-pool", "--r1", str(paths["pool.r1.fastq"]), "--r2", str(paths["pool.r2.fastq"]),
                        "--amplicons", str(paths["amplicons.tsv"]), "-t", "2"],
        "pool_paired_umi": ["quantify-pool", "--r1", str(paths["pool.r1.fastq"]), "--r2", str(paths["pool.r2.fastq"]),
                            "--amplicons", str(paths["amplicons.tsv"]), "--umi", "prefix", "--umi-length", "6"],
        "panel_bam": ["offtarget", "--sites", str(paths["sites.tsv"]), "--samples", str(paths["samples.tsv"]),
                      "--min-site-reads", "10"],
    }  # fmt: skip


def _editcheck(*arguments: str, cwd: Path | None = None) -> None:
    command = [sys.executable, "-m", "editcheck", *arguments]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    if completed.returncode != 0:
        raise SystemExit(f"failed ({completed.returncode}): {' '.join(command)}\n{completed.stderr}")


def _run_demo(out: Path, min_base_quality: int | None) -> None:
    workdir = out / "demo"
    workdir.mkdir(parents=True)
    for item in ("config", "test_data"):
        shutil.copytree(REPOSITORY / item, workdir / item)
    if min_base_quality is not None:
        config = workdir / "config" / "config.yaml"
        text = config.read_text().replace("min_base_quality: 20", f"min_base_quality: {min_base_quality}")
        config.write_text(text)
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPOSITORY / "Snakefile"), "--directory", str(workdir),
        "--cores", "2", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"demo workflow failed:\n{completed.stderr[-3000:]}")


_VARYING = {"started", "finished", "command", "cwd"}
"""manifest.json keys that differ between runs by design (at any depth: the package manifest repeats the
report's times under ``sources``)."""
OUT_MARK = "<OUT>"
"""What the ``--out`` folder's absolute path becomes in the text of every output (provenance records it)."""
TEXT_SUFFIXES = (".tsv", ".json", ".txt", ".html", ".md", ".bed", ".fa", ".fai", ".yaml", ".csv", ".svg")
SKIPPED = {".snakemake", "logs", "benchmarks", "config", "test_data", "inputs"}


class Normaliser:
    """Fingerprints of one ``--out`` folder's files with what differs between two runs of the same code taken
    out, counting what it took out: the folder's own path (in the text of any output), manifest.json's times,
    command and working folder, and the checksum and size a manifest lists for another manifest.json (itself
    compared normalised); a ``.tar.gz`` is fingerprinted member by member (its own bytes hold the manifest's
    times)."""

    def __init__(self, out: Path) -> None:
        self.paths = sorted({str(out), os.path.abspath(out), str(out.resolve())}, key=len, reverse=True)
        self.counts: dict[str, int] = {}

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _text(self, data: bytes) -> bytes:
        normalised = data
        for path in self.paths:
            normalised = normalised.replace(path.encode(), OUT_MARK.encode())
        if normalised != data:
            self._count("files naming the --out folder (path replaced by <OUT>)")
        return normalised

    def _manifest(self, data: bytes) -> bytes:
        def strip(value: object) -> object:
            if isinstance(value, dict):
                for key in _VARYING.intersection(value):
                    self._count(f"manifest.json {key!r} fields removed")
                kept = {k: strip(v) for k, v in value.items() if k not in _VARYING}
                if str(kept.get("path", "")).endswith("manifest.json") and {"sha256", "bytes"} & set(kept):
                    self._count("checksums/sizes of a manifest.json listed in a manifest removed")
                    kept = {k: v for k, v in kept.items() if k not in ("sha256", "bytes")}
                return kept
            if isinstance(value, list):
                return [strip(v) for v in value]
            return value

        return json.dumps(strip(json.loads(data)), sort_keys=True).encode()

    def fingerprint(self, name: str, data: bytes) -> str:
        """SHA-256 of one file's bytes, normalised (``name`` tells its kind)."""
        if name.endswith(TEXT_SUFFIXES):
            data = self._text(data)
        if name.rsplit("/", 1)[-1] == "manifest.json":
            data = self._manifest(data)
        return hashlib.sha256(data).hexdigest()

    def archive(self, relative: str, path: Path) -> dict[str, str]:
        """``relative!member`` -> fingerprint of every file in a .tar.gz (member times, owners and modes aside)."""
        self._count("tarballs compared member by member (member metadata and the gzip header aside)")
        table = {}
        with tarfile.open(path, "r:gz") as archive:
            for member in archive.getmembers():
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is not None:
                    table[f"{relative}!{member.name}"] = self.fingerprint(member.name, handle.read())
        return table

    def table(self) -> dict[str, str]:
        """Relative path -> fingerprint of every result file under the folder (logs, benchmarks, Snakemake state
        and the derived inputs excluded)."""
        out = Path(self.paths[-1])
        table: dict[str, str] = {}
        for path in sorted(out.rglob("*")):
            relative = path.relative_to(out)
            if not path.is_file() or SKIPPED.intersection(relative.parts) or relative.name == "golden.json":
                continue
            if path.name.endswith(".tar.gz"):
                table.update(self.archive(relative.as_posix(), path))
            else:
                table[relative.as_posix()] = self.fingerprint(relative.as_posix(), path.read_bytes())
        return table


def fingerprints(out: Path) -> dict[str, str]:
    """Relative path -> normalised SHA-256 of every result file under ``out`` (see :class:`Normaliser`)."""
    return Normaliser(out).table()


def earlier_table(given: Path) -> tuple[dict[str, str], str]:
    """The fingerprints to compare with: an earlier ``--out`` folder (or the golden.json inside one) is
    fingerprinted again, normalised as now whichever version wrote its golden.json; a golden.json away from its
    outputs is taken as stored. Returns the table and a line saying which."""
    folder = given if given.is_dir() else given.parent
    if any(path.name != "golden.json" for path in folder.iterdir()):
        normaliser = Normaliser(folder)
        table = normaliser.table()
        return table, f"fingerprinted {folder} again ({_counted(normaliser)})"
    return json.loads(given.read_text()), f"{given} as stored (its outputs are not beside it)"


def _counted(normaliser: Normaliser) -> str:
    return "; ".join(f"{count} {what}" for what, count in sorted(normaliser.counts.items())) or "nothing normalised"


def compare(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """One line per file that differs between two fingerprint tables (missing now, new, differs)."""
    lines = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            state = "missing now" if name not in after else "new" if name not in before else "differs"
            lines.append(f"  {state}: {name}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="new folder for the outputs and golden.json")
    parser.add_argument("--compare", type=Path, help="an earlier --out folder (or its golden.json) to compare with")
    parser.add_argument("--no-run", action="store_true", help="compare the existing --out folder without running")
    parser.add_argument(
        "--min-base-quality", type=int, help="run every command (and the demo workflow) with this threshold"
    )
    arguments = parser.parse_args()
    out: Path = arguments.out
    if arguments.no_run:
        if not out.is_dir() or arguments.compare is None:
            raise SystemExit(f"--no-run: give an existing --out folder ({out}) and --compare")
    else:
        _run_all(out, arguments.min_base_quality)
    normaliser = Normaliser(out)
    table = normaliser.table()
    if not arguments.no_run:
        (out / "golden.json").write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
        print(f"{len(table)} output files fingerprinted in {out / 'golden.json'}")
    print(f"normalised in {out}: {_counted(normaliser)}")
    if arguments.compare is None:
        return 0
    before, how = earlier_table(arguments.compare)
    print(f"compared with: {how}")
    differ = compare(before, table)
    for line in differ:
        print(line)
    identical = sum(before.get(name) == fingerprint for name, fingerprint in table.items())
    print(f"{identical} identical, {len(differ)} different")
    return 1 if differ else 0


def _run_all(out: Path, min_base_quality: int | None) -> None:
    quality = [] if min_base_quality is None else ["--min-base-quality", str(min_base_quality)]
    if out.exists():
        raise SystemExit(f"{out}: already exists; give a new folder")
    out.mkdir(parents=True)
    _run_demo(out, min_base_quality)
    if SHARED.is_dir():
        for name, case in SHARED_CASES.items():
            case = [str(SHARED / a) if a.endswith((".fastq", ".fastq.gz")) else a for a in case]
            _editcheck("quantify", *case, *quality, "--sample", name, "-o", str(out / "shared" / name))
        # Run from ``out`` with relative paths: the inputs' paths recorded in the outputs are the same every run.
        derived = {key: path.relative_to(out) for key, path in _write_derived_inputs(out / "inputs").items()}
        for name, case in _route_cases(derived).items():
            named = ["--sample", name] if case[0] != "offtarget" else []
            _editcheck(*case, *quality, *named, "-o", str(Path("routes") / name), cwd=out)
    else:
        print(f"shared cases skipped: {SHARED} is absent")


if __name__ == "__main__":
    sys.exit(main())
