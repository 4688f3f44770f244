"""Assignment of pooled reads under the default quality masking: reads with low-quality bases masked to N
find their amplicon, and a pool of one amplicon gives every read the fate ``quantify`` gives it."""

from __future__ import annotations

import random
from pathlib import Path

from editcheck.alignment.assignment import STRIDE, AmpliconIndex
from editcheck.design import build_design, reverse_complement
from editcheck.pipeline import AnalysisSettings, quantify
from editcheck.pooled import quantify_pool
from editcheck.reads.collapse import QualitySettings
from editcheck.reads.umi import UmiSettings

_rng = random.Random(1012)
FIRST, SECOND = ("".join(_rng.choice("ACGT") for _ in range(240)) for _ in range(2))


def _low_quality_positions(length: int) -> set[int]:
    """Positions 24m and 24m + 17: an N in every k-mer the index samples (every 6th, k = 12), while the
    16 bases between them leave N-free 12-mers at other offsets."""
    assert STRIDE == 6
    return {position for start in range(0, length, 24) for position in (start, start + 17) if position < length}


def _fastq(path: Path, reads: list[str]) -> Path:
    records = []
    for number, read in enumerate(reads):
        low = _low_quality_positions(len(read))
        qualities = "".join("#" if position in low else "I" for position in range(len(read)))  # Q2 / Q40
        records.append(f"@r{number}\n{read}\n+\n{qualities}\n")
    path.write_text("".join(records))
    return path


def test_masked_reads_find_their_amplicon_by_n_free_kmers() -> None:
    index = AmpliconIndex([build_design(FIRST, name="first"), build_design(SECOND, name="second")])
    low = _low_quality_positions(len(SECOND))
    masked = "".join("N" if position in low else base for position, base in enumerate(SECOND))
    assert index.candidates(masked) == [1]
    assert index.candidates("N" * 240) == []


def test_masked_reads_of_a_pool_are_assigned_and_classified(tmp_path: Path) -> None:
    designs = [
        build_design(FIRST, [FIRST[100:120]], name="first"),
        build_design(SECOND, [SECOND[90:110]], name="second"),
    ]
    result = quantify_pool(_fastq(tmp_path / "pool.fastq", [FIRST] * 7 + [SECOND] * 4), None, designs)
    assert (result.unassigned, result.ambiguous, result.too_long) == (0, 0, 0)
    assert result.assigned == {"first": 7, "second": 4}
    assert [sample.tally.outcomes["unmodified"] for sample in result.samples] == [7, 4]


def test_a_pool_of_one_amplicon_gives_every_read_the_fate_quantify_gives_it(tmp_path: Path) -> None:
    """A random read (no k-mer of the amplicon), a read too short to align and one too long to align were
    unassigned or counted at the pool level; ``quantify`` counts them in the amplicon's tables."""
    design = build_design(FIRST, [FIRST[100:120]], name="first")
    junk = "".join(random.Random(7).choice("ACGT") for _ in range(200))
    fastq = _fastq(
        tmp_path / "reads.fastq", [FIRST] * 3 + [junk] * 2 + ["ACGTTGCA"] + [FIRST * 5]
    )  # 1,200 > 2 x 240 + 500
    single = quantify(fastq, design=design).tally.outcomes
    pool = quantify_pool(fastq, None, [design])
    pooled = pool.samples[0].tally.outcomes
    fates = ("unmodified", "window_not_covered", "not_aligned", "too_long")
    assert tuple(pooled[fate] for fate in fates) == (3, 2, 1, 1)
    assert pooled == single
    assert (pool.unassigned, pool.too_long, pool.assigned) == (0, 0, {"first": 7})
    # A read dropped by its mean quality (the 8-base one: Q35.2 < Q36) belongs to the amplicon too.
    strict = AnalysisSettings(quality=QualitySettings(min_mean_quality=36))
    single_reads = quantify(fastq, design=design, settings=strict).reads
    pooled_reads = quantify_pool(fastq, None, [design], settings=strict).samples[0].reads
    assert (pooled_reads.reads_in, pooled_reads.quality_filtered) == (
        single_reads.reads_in,
        single_reads.quality_filtered,
    )
    assert single_reads.quality_filtered == 1


def _umi_pairs(folder: Path, pairs: list[tuple[str, str]]) -> tuple[Path, Path]:
    """Paired FASTQ (R2 given on the amplicon's strand, written reverse-complemented), one UMI per pair."""
    first, second = [], []
    for number, (read1, read2) in enumerate(pairs):
        umi = "".join("ACGT"[(number >> (2 * k)) & 3] * 2 for k in range(4))  # 2+ substitutions apart
        for records, read in ((first, read1), (second, reverse_complement(read2))):
            records.append(f"@p{number}_{umi}\n{read}\n+\n{'I' * len(read)}\n")
    paths = folder / "u1.fastq", folder / "u2.fastq"
    for path, records in zip(paths, (first, second)):
        path.write_text("".join(records))
    return paths


def test_the_pools_umi_route_counts_pairs_and_assigns_them_like_the_route_without_umis(tmp_path: Path) -> None:
    """Merged and unmerged pairs, unmerged pairs classified from a mate covering the window, and pairs whose
    mates come from different amplicons (ambiguous) are counted alike with and without UMIs."""
    designs = [
        build_design(FIRST, [FIRST[100:120]], name="first"),
        build_design(SECOND, [SECOND[90:110]], name="second"),
    ]
    pairs = [(FIRST[:150], FIRST[-150:])] * 6  # overlapping: merged
    pairs += [(SECOND[:130], SECOND[150:])] * 4  # no overlap; R1 covers the window
    pairs += [(SECOND[:60], SECOND[180:])] * 1  # no overlap; neither mate reaches the window
    pairs += [(FIRST[:130], SECOND[150:])] * 2  # mates of two amplicons: ambiguous
    r1, r2 = _umi_pairs(tmp_path, pairs)
    plain = quantify_pool(r1, r2, designs)
    with_umis = quantify_pool(r1, r2, designs, umi=UmiSettings("header"))
    for result in (plain, with_umis):
        assert (result.assigned, result.ambiguous, result.unassigned) == ({"first": 6, "second": 5}, 2, 0)
        counts = [(s.reads.reads_in, s.reads.merged, s.reads.unmerged, s.unmerged_used) for s in result.samples]
        assert counts == [(6, 6, 0, 0), (5, 0, 5, 4)]
    assert [s.molecules.molecules for s in with_umis.samples if s.molecules] == [6, 5]
