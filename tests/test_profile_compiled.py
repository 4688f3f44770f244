"""The compiled position-profile counter (editcheck.quantification._profile_compiled) against its numpy reference
(the bincount of tally._ProfileCounter): the same counts for reads seen once and reads with weights, in blocks
of any size, and the same errors for projections that are not what an alignment gives (issue #13)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from editcheck.quantification import tally

compiled = pytest.importorskip("editcheck.quantification._profile_compiled")


def _projections(count: int, length: int, seed: int) -> list[str]:
    """Projections of every symbol: bases, N, deletions, uncovered ends, and a few odd characters (counted as
    not covered, as the reference's code table says)."""
    generator = random.Random(seed)
    projections = []
    for _ in range(count):
        start, end = sorted(generator.sample(range(length + 1), 2))
        middle = "".join(generator.choices("ACGTACGTACGTN--", k=end - start))
        if generator.random() < 0.05:
            middle = middle[:-1] + generator.choice("acgt*") if middle else middle
        projections.append("." * start + middle + "." * (length - end))
    return projections


def _counted(projections: list[str], weights: list[int], length: int, block: int) -> np.ndarray:
    counter = tally._ProfileCounter(length)
    counter.BLOCK = block
    for projection, weight in zip(projections, weights, strict=True):
        counter.add(projection, weight)
    return np.asarray(counter.profile("Reference", "A" * length, (False,) * length).counts)


def _numpy_counts(
    projections: list[str], weights: list[int], length: int, monkeypatch: pytest.MonkeyPatch
) -> np.ndarray:
    """The numpy reference's counts (what runs without the extension), in its own blocks."""
    with monkeypatch.context() as patch:
        patch.setattr(tally, "_count_symbols", None)
        return _counted(projections, weights, length, tally._ProfileCounter.BLOCK)


@pytest.mark.parametrize("block", [1, 7, 2048])
def test_compiled_counts_equal_the_numpy_reference(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    assert tally._count_symbols is compiled.count_symbols  # built, and chosen
    length = 61
    projections = _projections(3000, length, seed=block)
    generator = random.Random(17)
    weights = [1 if generator.random() < 0.7 else generator.choice((2, 3, 50, 10**6, 2**40)) for _ in projections]
    expected = _numpy_counts(projections, weights, length, monkeypatch)
    got = _counted(projections, weights, length, block)
    assert got.dtype == expected.dtype == np.int64
    assert np.array_equal(got, expected)
    # The counts are those of the symbols read: a hand count of one column.
    column = 30
    for symbol_index, symbol in enumerate(tally.POSITION_SYMBOLS):
        by_hand = sum(weight for projection, weight in zip(projections, weights) if projection[column] == symbol)
        assert got[column, symbol_index] == by_hand
    assert got.sum() > 0


def test_projections_of_another_length_or_not_ascii_are_refused_as_the_reference_refuses_them() -> None:
    counts = np.zeros(5 * 7, dtype=np.int64)
    codes = tally._SYMBOL_CODES
    with pytest.raises(ValueError, match="a projection of 4 characters, not 5"):
        compiled.count_symbols(counts, codes, ["ACGT.", "ACGT"], None, 5, 7)
    with pytest.raises(UnicodeEncodeError):
        compiled.count_symbols(counts, codes, ["ACGT\u00e9"], None, 5, 7)
    with pytest.raises(ValueError, match="as many weights"):
        compiled.count_symbols(counts, codes, ["ACGT."], [1, 2], 5, 7)
    with pytest.raises(ValueError, match="outside the counts' width"):
        compiled.count_symbols(counts, np.full(256, 7, dtype=np.int64), ["ACGT."], None, 5, 7)
    assert not counts.any()  # a refused block counts nothing, not even its good first projection
    # The reference refuses the same two projections.
    with pytest.raises(ValueError):
        tally._ProfileCounter(5)._codes(["ACGT"])
    with pytest.raises(UnicodeEncodeError):
        tally._ProfileCounter(5)._codes(["ACGT\u00e9"])
