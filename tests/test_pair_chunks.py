"""Paired FASTQ collapsed chunk by chunk (in the worker processes) gives what the per-read loop gives, byte for byte.

The pairs are hand-made to cover what merging and collapsing must get right: overlaps of every length
(none at all, full, R2 inside R1, adapter read-through / dovetail), sequencing errors in the overlap with
their qualities, low-quality bases masked to N, N calls, pairs repeated with other qualities (the first one
seen decides the consensus) and merged reads shared by different pairs; chunks are made small so that pairs
recur across many chunks and both worker processes.  Unusual input (lowercase, ``+name`` lines, CRLF, /1 /2
names, mismatched mates) is left to the per-read loop: same result, same error.
"""

from __future__ import annotations

import importlib
import json
import random
from pathlib import Path

import numpy as np
import pytest

from editcheck import simulate
from editcheck.design import build_design
from editcheck.engine import AnalysisSettings, run
from editcheck.engine import chunked as chunked_module
from editcheck.engine.chunked import collapse_pair_files
from editcheck.engine.sources import FastqPaired
from editcheck.engine.workers import UniqueReadAligner
from editcheck.errors import PairingError
from editcheck.reads import pair_chunks
from editcheck.reads.collapse import CollapsedReads, QualitySettings, collapse_paired
from editcheck.reads.merge import MergeSettings, mate_choices
from editcheck.results.sample import write_sample_outputs

run_module = importlib.import_module("editcheck.engine.run")  # the module (the package exports its function `run`)
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
ADAPTER = "AGATCGGAAGAGCACACGTCTGAACTCCAGTCAC"


def _reverse_complement(sequence: str) -> str:
    return sequence.translate(_COMPLEMENT)[::-1]


def _qualities(rng: random.Random, length: int) -> str:
    """Mostly high qualities, with a 3' decline and scattered low ones (masked at Q20)."""
    return "".join(
        chr(33 + max(2, min(41, int(rng.gauss(36 - 14 * (i / max(1, length)) ** 3, 5))))) for i in range(length)
    )


def _sequenced(rng: random.Random, template: str, length: int, qualities: str) -> str:
    """The first ``length`` bases of ``template`` (adapter after it), with errors where qualities are low."""
    read = list((template + ADAPTER + "A" * 150)[:length])
    for i, quality in enumerate(qualities):
        error = 10 ** ((33 - ord(quality)) / 10)
        if rng.random() < error or rng.random() < 0.003:
            read[i] = "N" if rng.random() < 0.1 else rng.choice([b for b in "ACGT" if b != read[i]])
    return "".join(read)


def _pairs(count: int, seed: int) -> list[tuple[str, str, str, str]]:
    """Pairs from a few fragments (so that pairs and merged reads repeat), of every overlap."""
    rng = random.Random(seed)
    amplicon = "".join(rng.choice("ACGT") for _ in range(320))
    fragments = [amplicon[:length] for length in (30, 60, 100, 140, 150, 151, 180, 220, 260, 299, 300, 320)]
    fragments += [amplicon[:120] + amplicon[120 + d :] for d in (1, 3, 20)]  # deletions
    fragments += [amplicon[:130] + "GATTACA" + amplicon[130:250]]  # insertion
    fragments += ["".join(rng.choice("ACGT") for _ in range(400))]  # 2x150 with no overlap
    pairs = []
    for _ in range(count):
        fragment = rng.choice(fragments)
        length1 = rng.choice((150, 150, 150, 120, 75))
        length2 = rng.choice((150, 150, 150, 110, 60))
        clean = rng.random() < 0.3  # error-free copies recur exactly, with other qualities
        qualities1 = "I" * length1 if clean else _qualities(rng, length1)
        qualities2 = "I" * length2 if clean else _qualities(rng, length2)
        if clean:
            qualities1 = qualities1[:-1] + rng.choice("#5I")
        read1 = (fragment + ADAPTER + "A" * 150)[:length1] if clean else _sequenced(rng, fragment, length1, qualities1)
        template2 = _reverse_complement(fragment)
        read2 = (
            (template2 + ADAPTER + "A" * 150)[:length2] if clean else _sequenced(rng, template2, length2, qualities2)
        )
        pairs.append((read1, qualities1, read2, qualities2))
    return pairs


def _write(
    folder: Path, pairs: list[tuple[str, str, str, str]], names: tuple[str, str] = ("{} 1:N:0", "{} 2:N:0")
) -> FastqPaired:
    folder.mkdir(parents=True, exist_ok=True)
    for mate, name in enumerate(names):
        lines = []
        for i, pair in enumerate(pairs):
            lines.append(f"@{name.format(f'read{i}')}\n{pair[2 * mate]}\n+\n{pair[2 * mate + 1]}\n")
        (folder / f"r{mate + 1}.fastq").write_text("".join(lines))
    return FastqPaired(folder / "r1.fastq", folder / "r2.fastq")


def _echo(*_: object):  # a worker that returns the read: the test looks at the collapse, not the alignment
    return lambda sequence: sequence


def _chunked(source: FastqPaired, settings: AnalysisSettings, threads: int) -> tuple[CollapsedReads | None, list[str]]:
    with UniqueReadAligner(threads, (), _echo) as aligner:
        reads = collapse_pair_files(source, settings, aligner)
        return reads, aligner.results()


def _same(chunked: CollapsedReads, reference: CollapsedReads) -> None:
    assert list(chunked.sequences.items()) == list(reference.sequences.items())  # counts and first-seen order
    assert list(chunked.unmerged_pairs.items()) == list(reference.unmerged_pairs.items())
    for field in ("reads_in", "quality_filtered", "merged", "unmerged", "paired", "unique_pairs", "lone_mates"):
        assert getattr(chunked, field) == getattr(reference, field), field


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("min_base_quality", [20, 0])
def test_chunked_collapse_is_the_per_read_collapse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int, min_base_quality: int
) -> None:
    monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 16_384)  # about 25 pairs a chunk: 240 chunks
    source = _write(tmp_path, _pairs(6000, seed=13))
    settings = AnalysisSettings(quality=QualitySettings(min_base_quality=min_base_quality))
    reference = collapse_paired(source.path, source.r2, settings.merge, settings.quality)
    chunked, sent = _chunked(source, settings, threads)
    assert chunked is not None
    _same(chunked, reference)
    assert sent == list(reference.sequences)  # every merged read sent once to be aligned, in first-seen order
    # The cases are all there: unmerged pairs, merged reads shared by several distinct pairs, masked bases.
    assert reference.unmerged > 300 and reference.merged > 2000
    assert len(reference.sequences) + len(reference.unmerged_pairs) < reference.unique_pairs < 5000
    if min_base_quality:
        assert sum("N" in sequence for sequence in reference.sequences) > 100


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("order", ["r1_first", "r2_first", "alternating"])
def test_each_pairs_own_qualities_decide_the_consensus_whatever_the_order_and_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int, order: str
) -> None:
    """The same pair nine times with a mismatch in the overlap: two copies whose R1 base has the higher quality
    and seven whose R2 base has.  Each copy's own qualities pick its base, so the merged reads are 2 + 7 in any
    order of the reads, chunked (three pairs a chunk: a pair met again by a worker that merged it with the other
    choice) or read by read."""
    monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 1024)
    rng = random.Random(5)
    fragment = "".join(rng.choice("ACGT") for _ in range(200))
    read1 = fragment[:150]
    read2 = _reverse_complement(fragment[50:])
    other = {"A": "C", "C": "G", "G": "T", "T": "A"}
    # R2 disagrees with R1 at fragment position 100 (inside the overlap 50-150).
    read2 = read2[:99] + other[read2[99]] + read2[100:]
    r1_wins = (read1, "I" * 150, read2, "I" * 99 + "+" + "I" * 50)
    r2_wins = (read1, "I" * 100 + "+" + "I" * 49, read2, "I" * 150)
    pairs = {
        "r1_first": [r1_wins] + [r2_wins] * 7 + [r1_wins],
        "r2_first": [r2_wins] * 7 + [r1_wins] * 2,
        "alternating": [r2_wins, r1_wins] * 2 + [r2_wins] * 5,
    }[order]
    flipped = fragment[:100] + _reverse_complement(read2)[50] + fragment[101:]
    assert flipped != fragment
    settings = AnalysisSettings(quality=QualitySettings(min_base_quality=0))
    source = _write(tmp_path / order, pairs)
    chunked, _ = _chunked(source, settings, threads)
    assert chunked is not None and dict(chunked.sequences) == {fragment: 2, flipped: 7}
    assert chunked.unique_pairs == 1  # one pair as sequenced
    _same(chunked, collapse_paired(source.path, source.r2, MergeSettings(), settings.quality))


@pytest.mark.parametrize(
    "unusual",
    ["lowercase", "dot", "plus_name", "crlf", "slash_names", "no_final_newline", "mean_quality", "mismatched_names"],
)
def test_unusual_input_takes_the_per_read_loop(tmp_path: Path, unusual: str) -> None:
    pairs = _pairs(200, seed=3)
    settings = AnalysisSettings(quality=QualitySettings(min_base_quality=20))
    names = ("{}/1", "{}/2") if unusual == "slash_names" else ("{} 1:N:0", "{} 2:N:0")
    source = _write(tmp_path, pairs, names)
    r1 = Path(source.path)
    lines = r1.read_text().split("\n")
    if unusual == "lowercase":
        lines[5] = lines[5].lower()
    elif unusual == "dot":
        lines[5] = "." + lines[5][1:]
    elif unusual == "plus_name":
        lines[6] = "+read1 1:N:0"
    text = "\n".join(lines)
    if unusual == "crlf":
        text = text.replace("\n", "\r\n")
    elif unusual == "no_final_newline":
        text = text.rstrip("\n")
    elif unusual == "mean_quality":
        settings = AnalysisSettings(quality=QualitySettings(min_mean_quality=30, min_base_quality=20))
    elif unusual == "mismatched_names":
        text = text.replace("@read7 ", "@read77 ", 1)
    r1.write_text(text)
    if unusual == "mismatched_names":
        with pytest.raises(PairingError, match="read name 'read77' in R1 does not match 'read7'"):
            collapse_paired(source.path, source.r2, settings.merge, settings.quality)
        assert _chunked(source, settings, 2)[0] is None
        return
    reference = collapse_paired(source.path, source.r2, settings.merge, settings.quality)
    chunked, sent = _chunked(source, settings, 2)
    if unusual in ("slash_names", "no_final_newline"):  # plain FASTQ after all: counted in chunks
        assert chunked is not None
        _same(chunked, reference)
    else:
        assert chunked is None and sent == []


def test_hash_collision_of_a_new_pair_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that takes a pair first seen in the input for one it merged before (a shared hash) leaves it without
    an outcome; the tally refuses to guess."""
    chunk = b"@a\nACGTACGTACGTACGTACGT\n+\nIIIIIIIIIIIIIIIIIIII\n"
    mate = b"@a\nACGTACGTACGTACGTACGT\n+\nIIIIIIIIIIIIIIIIIIII\n"
    first = pair_chunks.count_pair_chunk(chunk, mate, 20, MergeSettings(), "run")
    again = pair_chunks.count_pair_chunk(chunk, mate, 20, MergeSettings(), "run")
    assert first is not None and again is not None
    assert first[1][0][2] is not None and again[1][0][2] is None  # merged once per run and process
    tally = pair_chunks.PairTally()
    assert tally.add(again) is None
    tally = pair_chunks.PairTally()
    assert tally.add(first) == [first[1][0][2]] and tally.add(again) == []
    assert tally.collapsed.reads_in == 2 and tally.collapsed.sequences == {first[1][0][2]: 2}


@pytest.fixture(scope="module")
def simulated_pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    folder = tmp_path_factory.mktemp("pairs")
    design = simulate.random_design(seed=21)
    truth = simulate.simulate(design, 4000, folder / "r1.fastq.gz", folder / "r2.fastq.gz", read_length=150, seed=9)
    return folder / "r1.fastq.gz", folder / "r2.fastq.gz", truth


def test_quantify_pairs_same_tables_chunked_or_per_read_and_for_one_or_two_workers(
    simulated_pairs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r1, r2, truth = simulated_pairs
    monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 65_536)
    design = build_design(truth["design"]["amplicon"], [truth["design"]["guide"]],
                          expected_hdr_amplicon=truth["design"]["donor_amplicon"])  # fmt: skip
    settings = AnalysisSettings(quality=QualitySettings(min_base_quality=20))
    calls = []
    monkeypatch.setattr(
        run_module, "collapse_pair_files", lambda *a: calls.append(1) or chunked_module.collapse_pair_files(*a)
    )

    def tables(threads: int, label: str) -> dict[str, str]:
        result = run(FastqPaired(r1, r2), [design], ["s"], settings=settings, threads=threads).samples[0]
        folder = tmp_path / label
        write_sample_outputs(result, folder)
        summary = json.loads((folder / "summary.json").read_text())
        return {
            **{name: (folder / name).read_text() for name in ("alleles.tsv", "positions.tsv", "indel_sizes.tsv")},
            "summary": json.dumps({key: summary[key] for key in ("reads", "outcomes", "edited", "edit_types")}),
        }

    two = tables(2, "two")
    one = tables(1, "one")
    assert len(calls) == 2
    monkeypatch.setattr(run_module, "collapse_pair_files", lambda *a: None)  # the per-read loop
    assert tables(2, "per_read") == two == one
    reads = json.loads(two["summary"])["reads"]
    assert reads["input"] == 4000 and reads["merged"] > 3900


@pytest.mark.parametrize("disagreements", [1, 5, 63, 64, 90])
def test_read_choices_are_each_reads_mate_choices(disagreements: int) -> None:
    """The choices of a chunk's reads, packed in numpy (up to 63 disagreements a pair) or in Python ints (more,
    possible for reads of more than 630 bases), are those :func:`mate_choices` gives read by read."""
    rng = random.Random(disagreements)
    length1, length2, d = 700, 650, 60
    placements: list[int | None] = []
    spots: list[tuple[int, ...]] = []
    for pair in range(6):
        placements.append(d + pair)
        spots.append(tuple(sorted(rng.sample(range(d + pair, length1), disagreements))) if pair % 3 else ())
    read_pairs = np.array([rng.randrange(6) for _ in range(200)], dtype=np.int64)
    qualities = [
        bytes(rng.choice(b"#+5?DI") for _ in range(length)) for length in (length1, length2) for _ in range(200)
    ]
    qualities1, qualities2 = qualities[:200], qualities[200:]
    counts = np.array([len(spot) for spot in spots], dtype=np.int64)
    rows = np.flatnonzero(counts[read_pairs] > 0)
    found = pair_chunks._read_choices(qualities1, qualities2, rows, read_pairs[rows], placements, spots, counts)
    expected = [
        mate_choices(qualities1[r], qualities2[r], placements[p], spots[p]) for r, p in zip(rows, read_pairs[rows])
    ]
    assert [int(choice) for choice in found.tolist()] == expected
    assert len(set(expected)) == 2 if disagreements == 1 else len(set(expected)) > 10
    assert disagreements <= 63 or max(expected) >= 1 << 63  # beyond uint64
