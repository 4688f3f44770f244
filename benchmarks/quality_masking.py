"""Base-quality masking: unique sequences, cost and accuracy against the simulated truth (prints figures; not a test).

Simulates (seeded, with `editcheck simulate`; cached in --work) single-end reads whose sequencing errors carry
low qualities and whose correct bases are below Q20 at ``--low-quality-rate`` (as on a real sequencer), for a
nuclease with an HDR donor and for an adenine base editor, then runs `editcheck quantify` on each:

- this checkout at Q20 (reads collapsed as sequenced, qualities judged where the call depends on them) and Q0;
- with --compare-code PATH, another checkout's source folder at Q20 (e.g. the previous code path, which
  masked every low-quality base to N before collapsing).

Each row prints the unique sequences, wall and CPU seconds, peak RSS and, per outcome class, the difference from
the truth in percentage points of the reads that show it (the base editor: its per-read classes and the target
conversion, over the reads whose editable bases are all called). Usage:

    python benchmarks/quality_masking.py [--reads 200000] [--low-quality-rate 0.01] [--compare-code ../main/src]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import REPOSITORY, _environment, _measure

SEED = 13


def _simulate(folder: Path, reads: int, rate: float, editor: bool) -> dict:
    if not (folder / "sim.truth.json").exists():
        command = [
            sys.executable, "-m", "editcheck", "simulate", "-n", str(reads), "-o", str(folder), "--seed", str(SEED),
            "--error-rate", "0.005", "--low-quality-rate", str(rate),
        ] + (["--base-editor", "ABE"] if editor else [])  # fmt: skip
        subprocess.run(command, check=True, env=_environment(REPOSITORY / "src"), stdout=subprocess.DEVNULL)
    truth: dict = json.loads((folder / "sim.truth.json").read_text())
    return truth


def _quantify(folder: Path, truth: dict, code: Path, quality: int, out: Path) -> tuple[dict, float, float, int]:
    options = [str(folder / o) if o.endswith(".fa") else o for o in truth["quantify_options"]]
    command = [
        sys.executable, "-m", "editcheck", "quantify", "--r1", str(folder / "sim_R1.fastq.gz"), *options,
        "--min-base-quality", str(quality), "-t", "2", "-o", str(out),
    ]  # fmt: skip
    wall, cpu, rss = _measure(command, env=_environment(code))
    return json.loads((out / "summary.json").read_text()), wall, cpu, rss


def _errors(summary: dict, truth: dict) -> dict[str, float]:
    """Per class: observed minus true percentage points."""
    outcomes = summary["outcomes"]
    reads = truth["n_reads"]

    def count(name: str) -> int:
        return int(outcomes.get(name, {}).get("reads", 0))

    if "base_editing" in truth:
        editing = truth["base_editing"]
        classes = summary["base_editing"]["read_classes"]
        errors = {name: classes[name]["percent"] - 100 * true / reads for name, true in editing["classes"].items()}
        engagement = summary["base_editing"]["target"]["engagement"]["percent"]
        errors["target_converted"] = engagement - 100 * editing["target_converted_reads"] / reads
        return errors
    counts = truth["class_counts"]
    observed = {
        "unmodified": count("unmodified"),
        "modified": count("modified") + count("large_deletion"),
        "hdr": count("hdr") + count("imperfect_hdr"),
    }
    expected = {
        "unmodified": counts["unmodified"] + counts["substitution"],
        "modified": counts["deletion"] + counts["insertion"],
        "hdr": counts["hdr"],
    }
    return {name: 100 * (observed[name] - expected[name]) / reads for name in expected}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--work", type=Path, default=Path("/tmp/editcheck-quality"), help="Cache of inputs and outputs."
    )
    parser.add_argument("--reads", type=int, default=200_000)
    parser.add_argument("--low-quality-rate", type=float, default=0.01)
    parser.add_argument("--compare-code", type=Path, help="Another checkout's source folder (PYTHONPATH), at Q20.")
    args = parser.parse_args()
    runs = [("this", REPOSITORY / "src", 20), ("this", REPOSITORY / "src", 0)]
    if args.compare_code is not None:
        runs.append(("compared", args.compare_code.resolve(), 20))
    for label, editor in (("nuclease+HDR", False), ("ABE", True)):
        folder = args.work / f"{'abe' if editor else 'nuclease'}_{args.reads}_lq{args.low_quality_rate:g}"
        truth = _simulate(folder, args.reads, args.low_quality_rate, editor)
        print(f"{label}: {args.reads:,} reads, error rate 0.005, low-quality rate {args.low_quality_rate:g}")
        for code, path, quality in runs:
            out = args.work / "out" / f"{folder.name}_{code}_q{quality}"
            summary, wall, cpu, rss = _quantify(folder, truth, path, quality, out)
            errors = " ".join(f"{name} {value:+.3f}" for name, value in _errors(summary, truth).items())
            print(
                f"  {code:<8} Q{quality:<2} unique {summary['reads']['unique_sequences']:>8,} wall {wall:6.2f} s "
                f"CPU {cpu:6.2f} s RSS {rss / 2**20:5.0f} MiB | points from truth: {errors}",
                flush=True,
            )


if __name__ == "__main__":
    main()
