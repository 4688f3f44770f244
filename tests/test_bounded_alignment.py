"""Alignment cost bounded per read: short reads on long amplicons, over-long reads (issue #8, items 7-8)."""

from __future__ import annotations

import random
import time

import pytest

from editcheck.alignment.aligner import SEED_MARGIN, ReadAligner
from editcheck.classification.outcomes import Classifier
from editcheck.design import build_design, reverse_complement


def random_design(length: int, seed: int):
    generator = random.Random(seed)
    amplicon = "".join(generator.choice("ACGT") for _ in range(length))
    middle = length // 2
    amplicon = amplicon[: middle + 21] + "GG" + amplicon[middle + 23 :]  # NGG PAM after the guide
    return build_design(amplicon, [amplicon[middle : middle + 20]]), generator


def substrings(amplicon: str, generator: random.Random, count: int, length: int, error_rate: float):
    """(start, read as sequenced, substituted reference positions) of random substrings, half reverse-complemented.

    Each ends more than SEED_MARGIN bases from the amplicon ends: reads reaching closer keep the
    end-to-end alignment of that end (unchanged results on full-length amplicon reads)."""
    reads = []
    for index in range(count):
        start = generator.randrange(SEED_MARGIN + 1, len(amplicon) - length - SEED_MARGIN)
        bases = list(amplicon[start : start + length])
        changed = []
        for offset in range(length):
            if generator.random() < error_rate:
                bases[offset] = generator.choice([base for base in "ACGT" if base != bases[offset]])
                changed.append(start + offset)
        read = "".join(bases)
        reads.append((start, reverse_complement(read) if index % 2 else read, changed))
    return reads


@pytest.mark.parametrize("error_rate", [0.0, 0.01])
def test_short_reads_on_a_long_amplicon_align_where_they_come_from(error_rate):
    # 250-bp substrings of a 5-kb amplicon: before seeding, a quarter were "not aligned" (a chance match
    # at an amplicon end turned the uncovered amplicon into a deletion) and each cost ~50 ms.
    design, generator = random_design(5000, seed=8)
    aligner = ReadAligner(design.references)
    classifier = Classifier(design)
    reads = substrings(design.amplicon.sequence, generator, 200, 250, error_rate)
    began = time.process_time()
    results = [aligner.align(read) for _, read, _ in reads]
    per_read = (time.process_time() - began) / len(reads)
    for (start, read, changed), aligned in zip(reads, results):
        assert aligned is not None, read
        assert (aligned.start, aligned.end) == (start, start + 250)
        assert aligned.insertions == () and aligned.deletions == ()
        assert sorted(position for position, _ in aligned.substitutions) == changed
        assert classifier.classify(aligned).outcome in ("unmodified", "modified", "window_not_covered")
    assert per_read < 0.005  # seconds of CPU; ~0.05 ms when seeded, ~50 ms when the whole amplicon is aligned


def test_partial_reads_on_a_short_amplicon_get_no_spurious_deletion():
    # Unmerged mates, trimmed reads: 150-bp pieces of a 300-bp amplicon, exact copies.
    design, generator = random_design(300, seed=3)
    aligner = ReadAligner(design.references)
    for start, read, _ in substrings(design.amplicon.sequence, generator, 200, 150, 0.0):
        aligned = aligner.align(read)
        assert aligned is not None
        assert (aligned.start, aligned.end, aligned.deletions, aligned.substitutions) == (start, start + 150, (), ())


def test_a_read_with_a_large_deletion_ending_inside_the_amplicon_keeps_its_deletion():
    design, _ = random_design(3000, seed=4)
    amplicon = design.amplicon.sequence
    read = amplicon[1300:1500] + amplicon[1900:2050]  # 400-bp deletion, read ends 950 bp before the amplicon end
    aligned = ReadAligner(design.references).align(read)
    assert (aligned.start, aligned.end) == (1300, 2050)
    assert [length for _, length in aligned.deletions] == [400]
    assert Classifier(design).classify(aligned).outcome == "large_deletion"
