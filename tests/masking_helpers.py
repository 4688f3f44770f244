"""What the quality-masking tests share: their amplicon, its reads with random changes, and masked keys that
all collide (so that only the results themselves decide which masked reads merge)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from editcheck.classification.outcomes import ClassificationSettings
from editcheck.design import reverse_complement
from editcheck.engine import masking
from editcheck.pipeline import AnalysisSettings
from editcheck.reads.collapse import QualitySettings

AMPLICON = (
    "CGTCAGGATTGACCGTAGGCTTACGGATCCATGCAAGTCGTACGGATCGATTCAGGCTAACGTTCGGAGCTAGGCATTCGACTGATCGTAGGCAATCG"
    "GATCCTAGCATTGCAGTCGATCGGATTACCGTAGCTAGGTCCAATGCCTAGGCTTGACTGCATAGGC"
)
GUIDE = AMPLICON[70:90]
Q20 = AnalysisSettings(ClassificationSettings(count_substitutions=True), QualitySettings(min_base_quality=20))


def other_base(base: str, k: int = 0) -> str:
    """The ``k``-th (0-2) of the three bases other than ``base``."""
    return [other for other in "ACGT" if other != base][k]


def add_random_reads(reads: dict[str, None], count: int, generator: random.Random) -> list[str]:
    """``reads`` grown to ``count`` distinct reads of :data:`AMPLICON` with 1-3 substitutions (some in the window),
    a deletion or an insertion now and then, a fifth of them reverse complemented; all of them, in order."""
    while len(reads) < count:
        read = list(AMPLICON)
        for _ in range(generator.choice((1, 1, 2, 3))):
            position = generator.randrange(len(read))
            read[position] = other_base(read[position], generator.randrange(3))
        sequence = "".join(read)
        shape = generator.random()
        if shape < 0.15:
            start = generator.randrange(20, len(sequence) - 20)
            sequence = sequence[:start] + sequence[start + generator.randint(1, 4) :]
        elif shape < 0.25:
            start = generator.randrange(20, len(sequence) - 20)
            sequence = sequence[:start] + "".join(generator.choice("ACGT") for _ in range(2)) + sequence[start:]
        if generator.random() < 0.2:
            sequence = reverse_complement(sequence)
        reads[sequence] = None
    return list(reads)


def colliding_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every masked read's key 0 (:func:`~editcheck.engine.masking.masked_key`, and the keys the compiled
    :func:`~editcheck.alignment._compiled.masked_reads_of` makes in the workers without it; the workers' chunks
    then go read by read, not through the compiled chunk runner, which calls the kernel itself)."""
    monkeypatch.setattr(masking, "masked_key", lambda *_: 0)
    monkeypatch.setattr(masking, "chunk_runner", lambda *_: None)  # the workers' kernel called read by read, as below
    original = getattr(masking, "masked_reads_of", None)
    if original is None:  # the pure-Python reference runs
        return

    def colliding(*arguments: Any) -> tuple[tuple[int, ...], tuple[Any, ...]]:
        positions, made = original(*arguments)
        records = list(made)
        records[2 :: masking.RECORD] = [0] * (len(records) // masking.RECORD)
        return positions, tuple(records)

    monkeypatch.setattr(masking, "masked_reads_of", colliding)
