"""Throughput and memory of in-silico off-target nomination (prints figures; not a test).

Generates a seeded random genome (default 100 Mb in 4 contigs, with N runs and a few planted
near-copies of the guide) in a temporary folder, or uses --genome, then nominates one guide in a
child process per case (NGG, <= 4 mismatches; without bulges, then with 1-nt DNA and RNA bulges)
and prints Mb/s (both strands), wall time, the child's peak RSS and the extrapolation to a 3.1 Gb
genome. Usage:

    python benchmarks/nominate_benchmark.py [--size-mb 100] [--contigs 4] [--genome FASTA] [--work DIR]

Target on this 2-core machine: 3.1 Gb in <= 10 minutes, i.e. >= 5.2 Mb/s, with peak RSS < 2 GB
for a 250 Mb contig (--size-mb 250 --contigs 1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GUIDE = "GAGTCCGAGCAGAAGAAGAA"
HUMAN_GENOME_MB = 3100.0


def make_genome(path: Path, size_mb: float, contigs: int, guide: str, seed: int = 11) -> None:
    """Random ACGT contigs, line width 60, each with a 100-kb N run and 20 planted guide copies
    carrying 0-5 mismatches (half on the minus strand)."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    complement = bytes.maketrans(b"ACGT", b"TGCA")
    length = int(size_mb * 1e6) // contigs
    with open(path, "wb") as handle:
        for number in range(1, contigs + 1):
            sequence = letters[rng.integers(0, 4, length, dtype=np.uint8)]
            sequence[length // 3 : length // 3 + 100_000] = ord("N")
            for _ in range(20):
                site = bytearray(guide.encode() + b"AGG")
                for position in rng.choice(len(guide), int(rng.integers(0, 6)), replace=False):
                    site[position] = b"ACGT"[(b"ACGT".index(site[position]) + int(rng.integers(1, 4))) % 4]
                if rng.random() < 0.5:
                    site = bytearray(bytes(site).translate(complement)[::-1])
                start = int(rng.integers(0, length - len(site)))
                sequence[start : start + len(site)] = np.frombuffer(bytes(site), dtype=np.uint8)
            width = 60
            rows = -(-length // width)
            lines = np.full((rows, width + 1), ord("\n"), dtype=np.uint8)
            body = np.full(rows * width, ord("N"), dtype=np.uint8)
            body[:length] = sequence
            lines[:, :width] = body.reshape(rows, width)
            handle.write(f">chr{number}\n".encode())
            handle.write(lines.tobytes())


def child(genome: Path, guide: str, dna: int, rna: int) -> None:
    """Run one nomination in this process and print what it found as JSON."""
    from editcheck.io.fasta import iter_fasta_bytes
    from editcheck.offtarget.nominate import SearchSpec, nominate

    spec = SearchSpec(guide, "NGG", max_mismatches=4, max_dna_bulge=dna, max_rna_bulge=rna)
    start = time.perf_counter()
    sites = nominate(genome, spec)
    seconds = time.perf_counter() - start
    bases = sum(len(sequence) for _, sequence in iter_fasta_bytes(genome)) if dna == rna == 0 else None
    print(json.dumps({"sites": len(sites), "in_process_s": round(seconds, 2), "bases": bases}), flush=True)


def run_case(label: str, genome: Path, guide: str, dna: int, rna: int, bases: int | None) -> tuple[dict, int]:
    command = [sys.executable, __file__, "--child", str(genome), "--guide", guide, "--dna", str(dna), "--rna", str(rna)]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)  # this child's own CPU time and peak RSS
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{label}: nomination failed")
    result = json.loads(output.strip().splitlines()[-1])
    bases = bases or result["bases"]
    # the in-process time excludes interpreter start-up and the second pass that counts bases
    seconds = result["in_process_s"]
    rate = bases / 1e6 / seconds
    row = {
        "case": label, "genome_mb": round(bases / 1e6, 1), "sites": result["sites"], "nominate_s": seconds,
        "child_wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "mb_per_s_both_strands": round(rate, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "minutes_for_3.1_gb": round(HUMAN_GENOME_MB / rate / 60, 2),
    }  # fmt: skip
    print(json.dumps(row), flush=True)
    return row, bases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--genome", type=Path, help="FASTA(.gz) to search instead of a generated genome")
    parser.add_argument("--size-mb", type=float, default=100.0)
    parser.add_argument("--contigs", type=int, default=4)
    parser.add_argument("--guide", default=GUIDE)
    parser.add_argument("--work", type=Path, help="folder for the generated genome (default: a temporary folder)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--make-genome", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dna", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--rna", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.guide, args.dna, args.rna)
        return
    if args.make_genome:
        make_genome(args.make_genome, args.size_mb, args.contigs, args.guide)
        return
    with tempfile.TemporaryDirectory(prefix="editcheck-nominate-") as temporary:
        genome = args.genome
        if genome is None:
            folder = args.work or Path(temporary)
            folder.mkdir(parents=True, exist_ok=True)
            genome = folder / f"random_{args.size_mb:g}mb_{args.contigs}contigs.fa"
            if not genome.exists():
                # in a child process: the kernel counts a parent's peak RSS into a child's
                # (vfork/exec), so the parent stays small for the measurements below
                start = time.perf_counter()
                command = [sys.executable, __file__, "--make-genome", str(genome), "--size-mb", str(args.size_mb),
                           "--contigs", str(args.contigs), "--guide", args.guide]  # fmt: skip
                subprocess.run(command, check=True)
                print(f"generated {genome} in {time.perf_counter() - start:.1f} s", flush=True)
        plain, bases = run_case("NGG, <=4 mm, no bulges", genome, args.guide, 0, 0, None)
        bulged, _ = run_case("NGG, <=4 mm, 1-nt DNA + RNA bulges", genome, args.guide, 1, 1, bases)
    print(
        f"no bulges: {plain['mb_per_s_both_strands']} Mb/s -> {plain['minutes_for_3.1_gb']} min for 3.1 Gb; "
        f"with bulges: {bulged['mb_per_s_both_strands']} Mb/s -> {bulged['minutes_for_3.1_gb']} min; "
        f"peak RSS {max(plain['peak_rss_mb'], bulged['peak_rss_mb'])} MB. "
        "Target on 2 cores: >= 5.2 Mb/s (3.1 Gb in <= 10 min).",
        flush=True,
    )


if __name__ == "__main__":
    main()
