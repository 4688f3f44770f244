"""Base qualities cost no collapsing for read pairs too (issue #13): mates are merged as sequenced, merged reads are
collapsed on their sequence, and each read's merged qualities (from the mates covering each position) matter
only at its sequence's quality sites, as for single-end reads.

Simulated pairs whose correct bases are sometimes below Q20 (as on a real sequencer) keep at Q20 the unique
sequences of Q0 and every class within 0.1 percentage points of the truth; hand-made pairs check the merged
qualities where the mates disagree, and that the chunked route (workers) counts the same masks as the per-read
loop.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from base_editing_truth import assert_base_editing_matches_truth
from editcheck import simulate
from editcheck.design import build_design
from editcheck.engine import AnalysisSettings, run
from editcheck.engine.chunked import collapse_pair_files
from editcheck.engine.sources import FastqPaired
from editcheck.engine.workers import UniqueReadAligner
from editcheck.pipeline import quantify
from editcheck.reads import pair_chunks
from editcheck.reads.collapse import QualityMasks, QualitySettings, collapse_fragments
from editcheck.reads.fastq import iter_paired_tuples
from editcheck.reads.merge import MergeSettings, mate_choices, merge_placed, read_merged_qualities
from editcheck.reads.merged_lows import MergedLows
from editcheck.results.sample import write_sample_outputs
from test_pair_chunks import _echo, _pairs, _reverse_complement, _write

PAIRS = 12_000
TOLERANCE = 0.1  # percentage points
Q0 = AnalysisSettings(quality=QualitySettings(min_base_quality=0))
Q20 = AnalysisSettings(quality=QualitySettings(min_base_quality=20))


@pytest.fixture(scope="module")
def abe_pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[FastqPaired, dict, object]:
    folder = tmp_path_factory.mktemp("abe_pairs")
    design = simulate.random_design(seed=2024, with_donor=False)
    mix = simulate.OutcomeMix(unmodified=0.5, deletion=0.06, insertion=0.04, substitution=0.0, hdr=0.0, base_edit=0.4)
    truth = simulate.simulate(design, PAIRS, folder / "r1.fastq.gz", folder / "r2.fastq.gz", read_length=150, mix=mix,
                              base_editor=simulate.BaseEditorSpec(), error_rate=0.005, low_quality_rate=0.02,
                              seed=29)  # fmt: skip
    built = build_design(design.amplicon, [design.guide], base_editor="ABE",
                         target_in_protospacer=truth["base_editing"]["target"])  # fmt: skip
    return FastqPaired(folder / "r1.fastq.gz", folder / "r2.fastq.gz"), truth, built


def test_low_quality_bases_add_no_unique_merged_read_and_keep_the_truth(abe_pairs) -> None:
    source, truth, built = abe_pairs
    raw = quantify(source.path, source.r2, design=built, settings=Q0)
    masked = quantify(source.path, source.r2, design=built, settings=Q20)
    # Masking the mates before merging gave ~2.7x the unique reads of Q0 on these pairs.
    assert len(masked.reads.sequences) == len(raw.reads.sequences)
    assert masked.reads.unique_pairs == raw.reads.unique_pairs
    tally = masked.tally
    hidden = tally.outcomes["editable_base_masked"]
    assert 0 < hidden < 0.01 * PAIRS
    assert tally.classified + hidden == tally.aligned == PAIRS
    assert_base_editing_matches_truth(tally, truth, PAIRS, TOLERANCE)
    assert tally.with_other_substitution == 0 < raw.tally.with_other_substitution


def test_quantify_tables_same_chunked_or_per_read_for_one_or_two_workers(
    abe_pairs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _, built = abe_pairs
    run_module = sys.modules["editcheck.engine.run"]
    monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 131_072)

    def tables(threads: int, label: str) -> dict[str, str]:
        result = run(source, [built], ["s"], settings=Q20, threads=threads).samples[0]
        folder = tmp_path / label
        write_sample_outputs(result, folder)
        summary = json.loads((folder / "summary.json").read_text())
        return {
            **{name: (folder / name).read_text() for name in ("alleles.tsv", "positions.tsv", "indel_sizes.tsv")},
            "summary": json.dumps({key: summary[key] for key in ("reads", "outcomes", "edited", "edit_types")}),
        }

    two = tables(2, "two")
    one = tables(1, "one")
    monkeypatch.setattr(run_module, "collapse_pair_files", lambda *a: None)  # the per-read loop
    assert tables(2, "per_read") == two == one
    assert json.loads(two["summary"])["reads"]["editable_base_masked"] > 0


@pytest.mark.parametrize("threshold", [20, 30, 3, 2])
@pytest.mark.parametrize("threads", [1, 2])
def test_chunked_route_counts_the_per_read_masks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int, threads: int
) -> None:
    """Every position of every merged read a quality site: the masks are each read's low merged positions."""
    monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 16_384)  # about 25 pairs a chunk
    pairs = _pairs(6000, seed=13)
    # One pair whose mates disagree at fragment position 100, again and again with either mate the better there:
    # each copy's merged read has its better mate's base, low there when the two qualities differ by less than
    # the threshold.
    rng = random.Random(8)
    fragment = "".join(rng.choice("ACGT") for _ in range(200))
    read2 = _reverse_complement(fragment[50:])
    read2 = read2[:99] + {"A": "C", "C": "G", "G": "T", "T": "A"}[read2[99]] + read2[100:]
    r1_better = low_at_100 = 0
    for _ in range(400):
        weak, strong = rng.choice("+5?"), rng.choice("DI")
        first, second = (strong, weak) if rng.random() < 0.5 else (weak, strong)
        r1_better += first == strong
        low_at_100 += max(ord(strong) - ord(weak), 2) < threshold
        pairs.insert(rng.randrange(len(pairs)), (fragment[:150], "I" * 100 + first + "I" * 49, read2,
                                                 "I" * 99 + second + "I" * 50))  # fmt: skip
    source = _write(tmp_path, pairs)
    settings = AnalysisSettings(quality=QualitySettings(min_base_quality=threshold))
    masks = QualityMasks(threshold)
    reference = collapse_fragments(iter_paired_tuples(source.path, source.r2), settings.merge, settings.quality,
                                   masks=masks)  # fmt: skip
    for index, sequence in enumerate(reference.sequences):
        masks.settle(index, tuple(range(len(sequence))))
    lows = MergedLows()
    with UniqueReadAligner(threads, (), _echo) as aligner:
        chunked = collapse_pair_files(source, settings, aligner, None, lows)
        aligner.results()
    assert chunked is not None
    projected = QualityMasks(threshold)
    for index, sequence in enumerate(chunked.sequences):
        projected.settle(index, tuple(range(len(sequence))))
    lows.project(projected)
    assert list(chunked.sequences.items()) == list(reference.sequences.items())
    assert list(chunked.unmerged_pairs.items()) == list(reference.unmerged_pairs.items())
    for field in ("reads_in", "merged", "unmerged", "unique_pairs"):
        assert getattr(chunked, field) == getattr(reference, field), field
    assert projected.masks == masks.masks
    copies = [
        i for i, merged in enumerate(reference.sequences) if merged[:100] + merged[101:] == fragment[:100] + fragment[101:]
    ]  # fmt: skip
    r1_base = [reads for sequence, reads in reference.sequences.items() if sequence == fragment]
    assert r1_base == [r1_better]  # R1's base where R1's is the better (R1 reads the fragment there)
    assert len(copies) == 2 and 150 < r1_better < 250
    at_100 = sum(reads for (i, mask), reads in masks.masks.items() if i in copies and 100 in mask)
    assert at_100 == low_at_100
    assert 150 < at_100 < 400 if threshold >= 20 else at_100 == 0  # differences of Q5-Q30 at 100
    if threshold > 2:
        assert sum(masks.masks.values()) > 200
    # Unmerged pairs keep their mates masked, each pair with its own qualities.
    assert sum("N" in first + second for first, second in reference.unmerged_pairs) > (100 if threshold >= 20 else 0)


def test_where_the_mates_disagree_each_pair_has_its_better_mates_base_and_quality_difference() -> None:
    rng = random.Random(5)
    fragment = "".join(rng.choice("ACGT") for _ in range(200))
    read1 = fragment[:150]
    read2 = _reverse_complement(fragment[50:])
    other = {"A": "C", "C": "G", "G": "T", "T": "A"}
    read2 = read2[:99] + other[read2[99]] + read2[100:]  # disagrees with R1 at fragment position 100
    high = "I" * 150  # Q40
    r1_better = (high, "I" * 99 + "5" + "I" * 50)  # R2's base Q20 there: R1's base, quality 40 - 20 = 20
    placed = merge_placed(read1, r1_better[0], read2, r1_better[1])
    assert placed is not None and placed[0] == fragment and placed[2] == 50
    _, qualities, d, _ = placed
    assert read_merged_qualities(read1, r1_better[0], read2, r1_better[1], d) == qualities
    assert qualities[100] == "5" and mate_choices(*r1_better, d, (100,)) == 0
    # The same pair with R1's base the weaker one: R2's base, quality 20 again.
    r2_better = ("I" * 100 + "5" + "I" * 49, high)
    placed = merge_placed(read1, r2_better[0], read2, r2_better[1])
    assert placed is not None and placed[2] == d and mate_choices(*r2_better, d, (100,)) == 1
    assert placed[0] == fragment[:100] + _reverse_complement(read2)[50] + fragment[101:] != fragment
    own = read_merged_qualities(read1, r2_better[0], read2, r2_better[1], d)
    assert own == placed[1] and own[100] == "5" and own[:100] + own[101:] == qualities[:100] + qualities[101:]
    # Close qualities: R1's base, its quality the difference (Q5); equal qualities: R1's base, quality 2.
    close = (high, "I" * 99 + "D" + "I" * 50)  # R1's Q40 against R2's Q35
    assert read_merged_qualities(read1, close[0], read2, close[1], d)[100] == "&"
    assert read_merged_qualities(read1, high, read2, high, d)[100] == "#" and mate_choices(high, high, d, (100,)) == 0


def test_a_pair_sharing_a_remembered_pairs_hash_takes_the_per_read_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker remembers each merged pair's placement by hash; a different pair with that hash would get the wrong
    placement, so a second hash is checked and the chunk is refused."""
    chunk1 = b"@a\nACGTACGTACGTACGTACGTAAAC\n+\nIIIIIIIIIIIIIIIIIIIIIIII\n"
    chunk2 = b"@a\nGTTTACGTACGTACGTACGTACGT\n+\nIIIIIIIIIIIIIIIIIIIIIIII\n"
    other = b"@a\nACGTACGTACGTACGTACGTAAAC\n+\nIIIIIIIIIIIIIIIIIIIIIIII\n"
    pair_chunks.forget_merged()
    first = pair_chunks.count_pair_chunk(chunk1, chunk2, 20, MergeSettings(), "raw run", raw=True)
    assert first is not None and first[1][0][2] is not None
    assert pair_chunks.count_pair_chunk(chunk1, chunk2, 20, MergeSettings(), "raw run", raw=True) is not None
    remembered = pair_chunks._merged_here[1]
    (hashed,) = remembered
    real_hash = hash
    monkeypatch.setattr("builtins.hash", lambda key: hashed if key == (other[3:27], other[3:27]) else real_hash(key))
    assert pair_chunks.count_pair_chunk(other, other, 20, MergeSettings(), "raw run", raw=True) is None
    pair_chunks.forget_merged()
