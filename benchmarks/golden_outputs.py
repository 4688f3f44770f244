"""Golden outputs: run editcheck on the demo and on the shared CRISPResso2 cases, and fingerprint every output.

Used to prove that a change which must not alter results (a refactor, a faster code path) does not:

    python benchmarks/golden_outputs.py --out /tmp/before            # on the old commit
    python benchmarks/golden_outputs.py --out /tmp/after --compare /tmp/before/golden.json

Every output file is listed with its SHA-256; ``manifest.json`` is fingerprinted without its times and
absolute paths (the only parts allowed to differ between runs). The shared cases are skipped, with a line
saying so, when ``../shared`` is not beside the repository. Exit status 1 when ``--compare`` finds a difference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
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
}  # fmt: skip


def _editcheck(*arguments: str) -> None:
    command = [sys.executable, "-m", "editcheck", *arguments]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"failed ({completed.returncode}): {' '.join(command)}\n{completed.stderr}")


def _run_demo(out: Path) -> None:
    workdir = out / "demo"
    workdir.mkdir(parents=True)
    for item in ("config", "test_data"):
        shutil.copytree(REPOSITORY / item, workdir / item)
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPOSITORY / "Snakefile"), "--directory", str(workdir),
        "--cores", "2", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"demo workflow failed:\n{completed.stderr[-3000:]}")


_VARYING = {"started", "finished", "command", "cwd"}
"""manifest.json keys that differ between runs by design."""


def _fingerprint(path: Path) -> str:
    if path.name == "manifest.json":
        document = json.loads(path.read_text())

        def strip(value: object) -> object:
            if isinstance(value, dict):
                return {k: strip(v) for k, v in value.items() if k not in _VARYING}
            if isinstance(value, list):
                return [strip(v) for v in value]
            return value

        data = json.dumps(strip(document), sort_keys=True).encode()
    else:
        data = path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def fingerprints(out: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every result file under ``out`` (logs, benchmarks and Snakemake state excluded)."""
    skipped = {".snakemake", "logs", "benchmarks", "config", "test_data"}
    table = {}
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out)
        if path.is_file() and not skipped.intersection(relative.parts) and relative.name != "golden.json":
            table[relative.as_posix()] = _fingerprint(path)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="new folder for the outputs and golden.json")
    parser.add_argument("--compare", type=Path, help="an earlier golden.json to compare with")
    arguments = parser.parse_args()
    out: Path = arguments.out
    if out.exists():
        raise SystemExit(f"{out}: already exists; give a new folder")
    out.mkdir(parents=True)
    _run_demo(out)
    if SHARED.is_dir():
        for name, case in SHARED_CASES.items():
            case = [str(SHARED / a) if a.endswith((".fastq", ".fastq.gz")) else a for a in case]
            _editcheck("quantify", *case, "--sample", name, "-o", str(out / "shared" / name))
    else:
        print(f"shared cases skipped: {SHARED} is absent")
    table = fingerprints(out)
    (out / "golden.json").write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"{len(table)} output files fingerprinted in {out / 'golden.json'}")
    if arguments.compare is None:
        return 0
    before = json.loads(arguments.compare.read_text())
    differ = sorted(name for name in set(before) | set(table) if before.get(name) != table.get(name))
    for name in differ:
        state = "missing now" if name not in table else "new" if name not in before else "differs"
        print(f"  {state}: {name}")
    print(f"{len(table) - len(differ)} identical, {len(differ)} different")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
