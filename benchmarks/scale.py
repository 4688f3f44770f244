"""Throughput and memory of `editcheck quantify` at scale, against `gzip -dc` of the same file (prints figures; not a test).

Simulates (seeded, with `editcheck simulate`; cached in --work) 1M single-end reads (250 bp, 0.2% errors, every
outcome class) and 1M 2x150 pairs, plus the --reads N single-end input and the --pairs N paired input when asked
(e.g. --reads 10000000), then
runs `editcheck quantify` (default settings) in a child process for every combination of:

- code path: this checkout's `src/`, and with --compare-code PATH another checkout's source folder (its
  PYTHONPATH: the "previous release" column);
- workers: `-t 2` and `-t 1`;
- base-quality masking: `--min-base-quality 20` (the default) and `0`.

Each row prints wall and CPU seconds (the child and the worker processes it reaped), reads/s (wall), the peak
RSS (the largest single process of the run, from the child's `wait4` rusage: the parent and each worker are
separate processes), the unique sequences (summary.json), the peak RSS per unique sequence, and the ratio of the
wall time to `gzip -dc` of the same input measured in the same run (both files for pairs, one after the other).
After an input's rows come the lines that compare them: each masked row's wall, CPU and unique sequences against
the same code and workers at `--min-base-quality 0`, and whether the output folders are byte-identical between
the code paths and between the worker counts.
The 1-minute load average is printed beside every row: the machine may be shared, so compare ratios and CPU
seconds rather than absolute wall times.  Each code path's bytecode is compiled first (``compileall``), as an
installed release has it.

With --segment-reads N [N ...], every input is also run in segments of N reads (pairs) (`quantify
--segment-reads N`: bounded memory, :mod:`editcheck.engine.segmented`), code "segNM" (N in millions), and the row ends with
whether its output folder is byte-identical to the whole run's ("same") or not.

With --repeat N, every row is run N times, each round running every code path once (interleaved, so that the
machine's drift hits them alike), and `gzip -dc` N times per input: the row gives the median wall and CPU seconds,
the largest peak RSS, the ratio of the median walls, and ends with the range of its wall times. Usage:

    python benchmarks/scale.py [--work /tmp/editcheck-scale] [--reads 10000000] [--pairs 10000000]
                               [--compare-code ../main/src] [--repeat 3]
                               [--only-single | --only-paired] [--threads 2 1] [--min-base-quality 20 0]
                               [--low-quality-rate 0.02] [--segment-reads 2000000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SEED = 11
BASE_READS = 1_000_000
PART_READS = 25_000_000
"""A larger single-end input is simulated in parts of this many reads, in parallel."""


@dataclass(frozen=True)
class Input:
    """A simulated input: its reads (one file, or R1 and R2), its design files and its size."""

    label: str
    folder: Path
    reads: int
    paired: bool

    @property
    def files(self) -> list[Path]:
        names = ["sim_R1.fastq.gz", "sim_R2.fastq.gz"] if self.paired else ["sim_R1.fastq.gz"]
        return [self.folder / name for name in names]


def simulate(work: Path, reads: int, paired: bool, low_quality_rate: float = 0.0) -> Input:
    """The seeded simulated input (made once, then reused from ``work``); ``low_quality_rate``: the share of
    correct bases with a quality below Q20 (``editcheck simulate --low-quality-rate``).  A single-end input of
    more than :data:`PART_READS` reads is simulated in parts of that many reads (seeds 101, 102, ...; the same
    design), two at a time, and their gzip files concatenated."""
    folder = work / f"{'pe' if paired else 'se'}_{reads}{f'_lq{low_quality_rate:g}' if low_quality_rate else ''}"
    if not (folder / "sim.truth.json").exists():
        options = ["--low-quality-rate", str(low_quality_rate)] if low_quality_rate else []
        if paired or reads <= PART_READS:
            _simulate(folder, reads, SEED, ["--paired", *options] if paired else options)
        else:
            _simulate_in_parts(folder, reads, options)
    kind = "2x150 pairs" if paired else "single-end"
    return Input(f"{reads / 1e6:g}M {kind}", folder, reads, paired)


def _simulate(folder: Path, reads: int, seed: int, options: list[str]) -> None:
    command = [sys.executable, "-m", "editcheck", "simulate", "-n", str(reads), "-o", str(folder), "--seed", str(seed)]
    subprocess.run([*command, *options], check=True, env=_environment(REPOSITORY / "src"))


def _simulate_in_parts(folder: Path, reads: int, options: list[str]) -> None:
    sizes = [min(PART_READS, reads - start) for start in range(0, reads, PART_READS)]
    parts = [folder.with_name(f"{folder.name}.part{number}") for number in range(1, len(sizes) + 1)]
    jobs = [(part, size, 100 + number) for number, (part, size) in enumerate(zip(parts, sizes), 1)]
    with ThreadPoolExecutor(max_workers=2) as pool:  # a part already made (its truth written) is kept
        list(
            pool.map(
                lambda job: _simulate(*job, options), [job for job in jobs if not (job[0] / "sim.truth.json").exists()]
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "sim_R1.fastq.gz", "wb") as joined:
        for part in parts:
            with open(part / "sim_R1.fastq.gz", "rb") as piece:
                shutil.copyfileobj(piece, joined, 1 << 24)
    for name in ("sim.amplicon.fa", "sim.hdr_amplicon.fa", "sim.truth.json"):  # the same design in every part
        shutil.copy(parts[0] / name, folder / name)
    for part in parts:
        shutil.rmtree(part)


def compile_bytecode(code: Path) -> None:
    """Compile the bytecode of a source folder (``__pycache__``), as ``pip install`` of a release does.  An editable
    checkout run with ``PYTHONDONTWRITEBYTECODE`` set (as on this machine) would otherwise compile its ~300 modules
    anew in every run: ~0.08 s of each row's wall time that no installed copy spends."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(code)], check=True, stdout=subprocess.DEVNULL)


def _environment(code: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(code)
    return environment


def _measure(
    command: list[str], env: dict[str, str] | None = None, stdout: int | None = None
) -> tuple[float, float, int]:
    """Run ``command``; its wall seconds, CPU seconds (with the children it reaped) and peak RSS in bytes."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=stdout, stderr=subprocess.DEVNULL if stdout is None else None)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed ({status}): {' '.join(command)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def gzip_seconds(data: Input) -> tuple[float, float]:
    """Wall and CPU seconds of ``gzip -dc`` of every file of the input, to /dev/null."""
    wall = cpu = 0.0
    for path in data.files:
        with open(os.devnull, "wb") as sink:
            start = time.perf_counter()
            process = subprocess.Popen(["gzip", "-dc", str(path)], stdout=sink)
            _, status, usage = os.wait4(process.pid, 0)
            wall += time.perf_counter() - start
            cpu += usage.ru_utime + usage.ru_stime
        if status != 0:
            raise SystemExit(f"gzip -dc {path} failed")
    return wall, cpu


def quantify(
    data: Input, code: Path, threads: int, min_base_quality: int, out: Path, extra: tuple[str, ...] = ()
) -> dict[str, float]:
    """One `editcheck quantify` run with ``code`` first on the path (and the options ``extra``)."""
    truth = json.loads((data.folder / "sim.truth.json").read_text())
    command = [
        sys.executable, "-m", "editcheck", "quantify", "--r1", str(data.files[0]),
        "-a", str(data.folder / "sim.amplicon.fa"), "-g", truth["design"]["guide"],
        "-e", str(data.folder / "sim.hdr_amplicon.fa"), "-t", str(threads), "-o", str(out),
        "--min-base-quality", str(min_base_quality), *extra,
    ]  # fmt: skip
    if data.paired:
        command += ["--r2", str(data.files[1])]
    wall, cpu, rss = _measure(command, env=_environment(code))
    summary = json.loads((out / "summary.json").read_text())
    unique = summary["reads"]["unique_sequences"]
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss": rss, "unique": unique}


def _same_folders(first: Path, second: Path) -> bool:
    """Whether two output folders hold the same files with the same bytes."""
    return _digests(first) == _digests(second)


def _digests(folder: Path) -> dict[str, str]:
    """Each file of an output folder (by its path in it) and the SHA-256 of its bytes, read in blocks: a 10M-read
    run's folder (~150 MB) is not held in memory to be compared."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                found[str(path.relative_to(folder))] = hashlib.file_digest(handle, "sha256").hexdigest()
    return found


HEADER = (
    f"{'input':<22} {'code':<9} {'-t':>2} {'minBQ':>5} {'wall s':>7} {'CPU s':>7} {'reads/s':>9} {'peak RSS':>9} "
    f"{'unique':>9} {'B/unique':>9} {'x gzip':>7} {'load':>5}"
)


def _row(data: Input, code: str, threads: int, quality: int, figures: dict[str, float], gzip_wall: float) -> str:
    return (
        f"{data.label:<22} {code:<9} {threads:>2} {quality:>5} {figures['wall_s']:>7.2f} {figures['cpu_s']:>7.2f} "
        f"{data.reads / figures['wall_s']:>9,.0f} {figures['peak_rss'] / 2**20:>6.0f} MiB {figures['unique']:>9,} "
        f"{figures['peak_rss'] / max(1, figures['unique']):>9,.0f} {figures['wall_s'] / gzip_wall:>7.2f} "
        f"{os.getloadavg()[0]:>5.2f}"
    )


def _comparisons(
    data: Input,
    outputs: Path,
    codes: list[str],
    threads: list[int],
    medians: dict[tuple[str, int, int], dict[str, float]],
) -> list[str]:
    """The lines that set an input's rows side by side: what base-quality masking costs (each masked row's median
    wall and unique sequences against the same code and workers without masking, ``minBQ 0``), and whether the
    output folders are byte-identical between the code paths (each minBQ and -t) and between the worker counts
    (each code path and minBQ)."""
    lines = []
    qualities = sorted({quality for _, _, quality in medians})
    for code in codes:
        for count in threads:
            plain = medians.get((code, count, 0))
            for quality in qualities:
                masked = medians.get((code, count, quality))
                if quality and plain is not None and masked is not None:
                    lines.append(
                        f"{data.label:<22} {code:<9} {count:>2} minBQ {quality} / minBQ 0: wall "
                        f"{masked['wall_s'] / plain['wall_s']:.2f}x, CPU {masked['cpu_s'] / plain['cpu_s']:.2f}x, "
                        f"unique {masked['unique']:,.0f} / {plain['unique']:,.0f}"
                    )

    read: dict[tuple[str, int, int], dict[str, str]] = {}

    def folder(code: str, count: int, quality: int) -> dict[str, str]:  # its digests, each folder read once
        if (code, count, quality) not in read:
            read[code, count, quality] = _digests(outputs / f"{data.folder.name}_{code}_t{count}_q{quality}")
        return read[code, count, quality]

    for quality in qualities:
        for count in threads:
            for code in codes[1:]:
                alike = folder(codes[0], count, quality) == folder(code, count, quality)
                lines.append(
                    f"{data.label:<22} outputs {codes[0]} / {code} -t {count} minBQ {quality}: "
                    f"{'identical' if alike else 'DIFFERENT'}"
                )
        for code in codes:
            for count in threads[1:]:
                alike = folder(code, threads[0], quality) == folder(code, count, quality)
                lines.append(
                    f"{data.label:<22} outputs {code} -t {threads[0]} / -t {count} minBQ {quality}: "
                    f"{'identical' if alike else 'DIFFERENT'}"
                )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/editcheck-scale"), help="Cache of inputs and outputs.")
    parser.add_argument("--reads", type=int, default=BASE_READS, help="Also a single-end input of this many reads.")
    parser.add_argument("--compare-code", type=Path, help="Another checkout's source folder (PYTHONPATH), run alike.")
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--min-base-quality", type=int, nargs="+", default=[20, 0])
    parser.add_argument("--pairs", type=int, help="Also a paired-end input of this many pairs.")
    parser.add_argument("--only-single", action="store_true", help="Skip the paired-end input.")
    parser.add_argument("--only-paired", action="store_true", help="Only the paired inputs (reads/s = pairs/s).")
    parser.add_argument("--jsonl", type=Path, help="Also append every run as JSON to this file.")
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="Run each row this many times, interleaved with the other code paths' runs (and gzip -dc as often), "
        "and print the medians and the range of the wall times: this machine's speed moves by 10-20%% within an "
        "hour, more than many changes.",
    )  # fmt: skip
    parser.add_argument(
        "--segment-reads", type=int, nargs="*", default=[],
        help="Also run each input in segments of this many reads (pairs), and say whether its outputs equal "
        "the whole run's.",
    )  # fmt: skip
    parser.add_argument(
        "--low-quality-rate", type=float, default=0.02,
        help="Share of correct bases simulated below Q20 (errors always are). Default 0.02: the CRISPResso2 "
        "test reads of ../shared have 2.0-5.6%% of their bases below Q20; 0 gives the earlier input.",
    )  # fmt: skip
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat takes 1 or more")
    args.work.mkdir(parents=True, exist_ok=True)
    rate = args.low_quality_rate
    if args.only_single and args.only_paired:
        parser.error("--only-single and --only-paired exclude each other")
    inputs = [] if args.only_paired else [simulate(args.work, BASE_READS, paired=False, low_quality_rate=rate)]
    if args.reads != BASE_READS and not args.only_paired:
        inputs.append(simulate(args.work, args.reads, paired=False, low_quality_rate=rate))
    if not args.only_single:
        inputs.append(simulate(args.work, BASE_READS, paired=True, low_quality_rate=rate))
        if args.pairs not in (None, BASE_READS):
            inputs.append(simulate(args.work, args.pairs, paired=True, low_quality_rate=rate))
    codes = [("this", REPOSITORY / "src")]
    if args.compare_code is not None:
        codes.append(("compared", args.compare_code.resolve()))
    for _, path in codes:  # bytecode made first, as an installed release has it (see compile_bytecode)
        compile_bytecode(path)
    print(f"cores: {os.cpu_count()}; load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(HEADER, flush=True)
    for data in inputs:
        gzips = [gzip_seconds(data) for _ in range(args.repeat)]
        gzip_wall, gzip_cpu = statistics.median(w for w, _ in gzips), statistics.median(c for _, c in gzips)
        spread = f" ({min(w for w, _ in gzips):.2f}-{max(w for w, _ in gzips):.2f} s, median of {args.repeat})"
        print(
            f"{data.label:<22} gzip -dc: {gzip_wall:.2f} s wall, {gzip_cpu:.2f} s CPU"
            + (spread if args.repeat > 1 else ""),
            flush=True,
        )
        medians: dict[tuple[str, int, int], dict[str, float]] = {}
        for quality in args.min_base_quality:
            for threads in args.threads:
                runs: list[tuple[str, Path, tuple[str, ...]]] = [(code, path, ()) for code, path in codes]
                runs += [
                    (f"seg{size / 1e6:g}M", codes[0][1], ("--segment-reads", str(size))) for size in args.segment_reads
                ]
                whole = args.work / "out" / f"{data.folder.name}_{codes[0][0]}_t{threads}_q{quality}"
                measured: dict[str, list[dict[str, float]]] = {code: [] for code, _, _ in runs}
                for repeat in range(args.repeat):  # the code paths interleaved, so that the machine's drift hits all
                    for code, path, extra in runs:
                        out = args.work / "out" / f"{data.folder.name}_{code}_t{threads}_q{quality}"
                        figures = quantify(data, path, threads, quality, out, extra)
                        if extra and not _same_folders(whole, out):
                            figures["different"] = 1
                        measured[code].append(figures)
                        if args.jsonl is not None:
                            record = {"input": data.label, "code": code, "threads": threads,
                                      "min_base_quality": quality, "repeat": repeat, **figures,
                                      "gzip_wall_s": gzip_wall, "load": os.getloadavg()[0]}  # fmt: skip
                            with args.jsonl.open("a") as handle:
                                handle.write(json.dumps(record) + "\n")
                for code, _, extra in runs:
                    every = measured[code]
                    figures = {
                        "wall_s": statistics.median(f["wall_s"] for f in every),
                        "cpu_s": statistics.median(f["cpu_s"] for f in every),
                        "peak_rss": max(f["peak_rss"] for f in every),
                        "unique": every[0]["unique"],
                    }
                    walls = [f["wall_s"] for f in every]
                    same = f" {'DIFFERENT' if any(f.get('different') for f in every) else 'same'}" if extra else ""
                    shown = f" walls {min(walls):.2f}-{max(walls):.2f} s" if args.repeat > 1 else ""
                    print(_row(data, code, threads, quality, figures, gzip_wall) + same + shown, flush=True)
                    medians[code, threads, quality] = figures
        for line in _comparisons(data, args.work / "out", [code for code, _ in codes], args.threads, medians):
            print(line, flush=True)


if __name__ == "__main__":
    main()
