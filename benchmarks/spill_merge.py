"""CPU time and peak memory of the merge side of a segmented run (prints figures; not a test).

Each case runs in a child process (its own peak RSS): ``AlleleRuns`` on N alleles of 250-base aligned sequences
given in R segments (a quarter of each segment's keys repeat the previous segment's), timed as adds, finish (the
merge and external sort) and one iteration of the finished table; the same alleles held in one list, for
comparison; and ``DistinctCounter`` on K 250-base keys added twice. Usage:

    python benchmarks/spill_merge.py [--alleles 2000000] [--segments 4] [--chunk 200000] [--keys 1000000]
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def _segments(total: int, segments: int) -> Iterator[list]:
    from editcheck.quantification.tally import Allele

    rng = random.Random(1)
    base = "".join(rng.choice("ACGT") for _ in range(250))
    per = total // segments
    for segment in range(segments):
        alleles = []
        for index in range(per):
            key = segment * per + index - (per if segment and index % 4 == 0 else 0)
            first, second, third = key % 250, key // 250 % 250, key // 62500
            sequence = base[:first] + "ACGT-"[third % 5] + base[first + 1 :]
            sequence = sequence[:second] + "ACGTN"[third // 5 % 5] + sequence[second + 1 :]
            alleles.append(Allele("Reference", sequence, "modified", f"{first}:{second}:{third}", 1 + key % 37))
        rng.shuffle(alleles)  # a segment's alleles come ordered by reads, not by key
        yield alleles


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _alleles_case(total: int, segments: int, chunk: int, held: bool) -> None:
    from editcheck.quantification.allele_store import AlleleRuns

    with tempfile.TemporaryDirectory() as folder:
        if held:
            kept = [allele for segment in _segments(total, segments) for allele in segment]
            print(f"list: {len(kept):,} alleles held, peak RSS {_peak_mib():.0f} MiB")
            return
        runs, adding = AlleleRuns(Path(folder), chunk=chunk), 0.0
        for alleles in _segments(total, segments):
            start = time.process_time()
            runs.add(alleles)
            adding += time.process_time() - start
            del alleles
        added = _peak_mib()
        start = time.process_time()
        table = runs.finish()
        finishing = time.process_time() - start
        start = time.process_time()
        count = sum(1 for _ in table)
        iterating = time.process_time() - start
        size = table.path.stat().st_size / 2**20
        print(f"AlleleRuns: {total:,} alleles in {segments} segments, chunk {chunk:,}: add {adding:.2f} CPU s, "
              f"finish {finishing:.2f} CPU s, iterate {iterating:.2f} CPU s ({count:,} alleles, {size:.0f} MiB "
              f"on disk), peak RSS {added:.0f} MiB after the adds (the segments' own alleles), {_peak_mib():.0f} MiB at "
              f"the end")  # fmt: skip


def _distinct_case(keys: int) -> None:
    from editcheck.reads.distinct import DistinctCounter

    rng = random.Random(2)
    base = "".join(rng.choice("ACGT") for _ in range(200))
    values = [base + f"{index:050d}" for index in range(keys)]
    with tempfile.TemporaryDirectory() as folder:
        counter = DistinctCounter(Path(folder))
        start = time.process_time()
        counter.add(values)
        counter.add(values)
        adding = time.process_time() - start
        start = time.process_time()
        distinct = counter.count()
        counting = time.process_time() - start
    print(f"DistinctCounter: {2 * keys:,} keys added in {adding:.2f} CPU s ({2 * keys / adding:,.0f} keys/s), "
          f"{distinct:,} distinct counted in {counting:.2f} CPU s ({2 * keys / counting:,.0f} keys/s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alleles", type=int, default=2_000_000)
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=200_000)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--case", choices=["store", "list", "distinct"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case == "distinct":
        _distinct_case(args.keys)
    elif args.case:
        _alleles_case(args.alleles, args.segments, args.chunk, held=args.case == "list")
    else:
        for case in ("store", "list", "distinct"):
            subprocess.run([sys.executable, __file__, *sys.argv[1:], "--case", case], check=True)


if __name__ == "__main__":
    main()
