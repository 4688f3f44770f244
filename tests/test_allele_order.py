"""The alleles table's order (decreasing reads, ties by reference, aligned sequence, outcome, events) as
``sorted_alleles`` makes it, by the faster ``sort_keys``: the same order as sorting the key tuples (#13)."""

from __future__ import annotations

import random

import pytest

from editcheck.quantification.tally import Allele, sort_keys, sorted_alleles

REFERENCES = ["Reference", "HDR", "amp", "amp2", "a"]
SEQUENCES = ["", "A", "AC", "AC-", "ACG", "ACGT", "ACGTN", "N", "-AC", "TTT"]
OUTCOMES = ["unmodified", "deletion", "insertion", "substitution", "HDR"]
EVENTS = ["", "12A>G", "12A>G;14C>T", "3D2", "3I1"]


def _keys(rng: random.Random, count: int) -> list[tuple[str, str, str, str]]:
    """Distinct keys drawn from few values: many share a sequence (with other references, outcomes or events),
    and sequences that are prefixes of others."""
    keys = {
        (rng.choice(REFERENCES), rng.choice(SEQUENCES), rng.choice(OUTCOMES), rng.choice(EVENTS)) for _ in range(count)
    }
    listed = sorted(keys)
    rng.shuffle(listed)
    return listed


@pytest.mark.parametrize("seed", range(40))
def test_sort_keys_orders_as_sorting_the_tuples(seed: int) -> None:
    rng = random.Random(seed)
    keys = _keys(rng, rng.choice([0, 1, 2, 5, 30, 200, 1200]))
    got = list(keys)
    sort_keys(got)
    assert got == sorted(keys)


def test_ties_on_the_sequence_are_ordered_by_the_rest_of_the_key() -> None:
    keys = [("amp", "ACGT", "substitution", "2G>A"), ("amp", "ACGT", "deletion", ""), ("HDR", "ACGT", "HDR", ""),
            ("amp", "AC", "deletion", "3D2"), ("amp", "ACGT", "deletion", "1A>T"), ("HDR", "A", "HDR", "")]  # fmt: skip
    sort_keys(keys)
    assert keys == [("HDR", "A", "HDR", ""), ("HDR", "ACGT", "HDR", ""), ("amp", "AC", "deletion", "3D2"),
                    ("amp", "ACGT", "deletion", ""), ("amp", "ACGT", "deletion", "1A>T"),
                    ("amp", "ACGT", "substitution", "2G>A")]  # fmt: skip


def test_sorted_alleles_by_decreasing_reads_then_by_key() -> None:
    rng = random.Random(7)
    counts = {key: rng.choice([1, 1, 1, 2, 3, 50]) for key in _keys(rng, 1500)}
    expected = [Allele(*key, reads) for key, reads in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    assert sorted_alleles(dict(counts)) == expected
    assert len({allele.reads for allele in expected}) == 4
