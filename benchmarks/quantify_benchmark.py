"""Throughput and memory of `editcheck quantify` on simulated reads (prints figures; not a test).

Simulates 1M single-end 250-bp reads and 1M 2x150 pairs at 0.2% sequencing error (once, cached in
--work), then runs `editcheck quantify` in a child process per case and prints reads/s, wall time,
CPU time and the child's peak RSS. Usage:

    python benchmarks/quantify_benchmark.py [--reads 1000000] [--threads 2] [--work /tmp/editcheck-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def simulate(work: Path, n_reads: int, paired: bool) -> Path:
    folder = work / f"{'pe' if paired else 'se'}_{n_reads}"
    if not (folder / "sim.truth.json").exists():
        command = [sys.executable, "-m", "editcheck", "simulate", "-n", str(n_reads), "-o", str(folder), "--seed", "11"]
        if paired:
            command.append("--paired")
        subprocess.run(command, check=True)
    return folder


def run_case(
    label: str, folder: Path, paired: bool, threads: int, n_reads: int, reads_file: str = "sim_R1.fastq.gz"
) -> dict:
    truth = json.loads((folder / "sim.truth.json").read_text())
    command = [
        sys.executable, "-m", "editcheck", "quantify", "--r1", str(folder / reads_file),
        "-a", str(folder / "sim.amplicon.fa"), "-g", truth["design"]["guide"],
        "-e", str(folder / "sim.hdr_amplicon.fa"), "-t", str(threads), "-o", str(folder / f"out_t{threads}"),
    ]  # fmt: skip
    if paired:
        command += ["--r2", str(folder / "sim_R2.fastq.gz")]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)  # this child's own CPU time and peak RSS (with its workers)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{label}: editcheck quantify failed")
    cpu = usage.ru_utime + usage.ru_stime
    summary = json.loads((folder / f"out_t{threads}" / "summary.json").read_text())
    row = {
        "case": label, "reads": n_reads, "threads": threads, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
        "reads_per_s": round(n_reads / wall), "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "unique_sequences": summary["reads"]["unique_sequences"], "edited_percent": summary["edited"]["percent"],
    }  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/editcheck-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    single = simulate(args.work, args.reads, paired=False)
    paired = simulate(args.work, args.reads, paired=True)
    run_case("single-end 250 bp .gz", single, False, args.threads, args.reads)
    run_case("paired-end 2x150 .gz", paired, True, args.threads, args.reads)
    # Memory grows with unique sequences, not reads: the same reads four times over (gzip members
    # concatenated) have the same unique sequences and should need about the same peak RSS.
    repeated = single / "sim_R1.x4.fastq.gz"
    if not repeated.exists():
        data = (single / "sim_R1.fastq.gz").read_bytes()
        repeated.write_bytes(data * 4)
    run_case("single-end, same file 4x", single, False, args.threads, 4 * args.reads, repeated.name)
    print("targets on 2 cores: >= 400k single-end reads/s, >= 200k pairs/s, peak RSS < 1 GB", flush=True)


if __name__ == "__main__":
    main()
