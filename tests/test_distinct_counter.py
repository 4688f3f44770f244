"""Distinct reads over a segmented run's segments, counted by hashes partitioned on disk (#13).

The truth is ``len(set(...))`` of every key added: read sequences and unmerged pairs' keys, shared between
segments, repeated within one, alike but at their last base or one a prefix of another; empty segments.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from editcheck.reads.distinct import DistinctCounter
from editcheck.reads.records import pair_key

READ = "".join(random.Random(3).choice("ACGT") for _ in range(150))


def _pool(rng: random.Random, size: int) -> list[str]:
    keys = {READ, READ[:-1], READ[:-1] + "N"}
    while len(keys) < size:
        position = rng.randrange(len(READ))
        read = READ[:position] + rng.choice("ACGTN") + READ[position + 1 :]
        if rng.random() < 0.3:
            read = pair_key(read[:100], READ[-100:])
        elif rng.random() < 0.2:
            read = read[: rng.randrange(1, len(read))]
        keys.add(read)
    return sorted(keys)


def _segments(seed: int, count: int) -> list[list[str]]:
    rng = random.Random(seed)
    pool = _pool(rng, 3000)
    segments = [rng.choices(pool, k=rng.randint(0, 2000)) for _ in range(count)]  # repeats within a segment
    return [*segments, [], segments[0]]


@pytest.mark.parametrize(("seed", "buckets"), [(1, 256), (2, 1), (3, 7), (4, 65536), (5, 256)])
def test_count_is_the_number_of_distinct_keys(tmp_path: Path, seed: int, buckets: int) -> None:
    counter = DistinctCounter(tmp_path, buckets=buckets)
    seen: set[str] = set()
    for segment in _segments(seed, 1 + seed):
        counter.add(segment)
        seen.update(segment)
        assert counter.count() == len(seen)
    per_segment = sum(len(set(segment)) for segment in _segments(seed, 1 + seed))
    assert per_segment > len(seen), "the segments share keys: a sum of per-segment counts would not pass"


def test_keys_alike_but_at_their_end(tmp_path: Path) -> None:
    counter = DistinctCounter(tmp_path)
    keys = [READ, READ[:-1] + "A", READ[:-1] + "C", READ[:-1] + "G", READ[:-1] + "T", READ + "A", READ[:-1]]
    counter.add(keys)
    counter.add(keys[::-1])
    counter.add([pair_key(READ, READ), pair_key(READ, READ[:-1]), READ + "+" + READ])
    assert counter.count() == len(set(keys)) + 2


def test_nothing_added(tmp_path: Path) -> None:
    counter = DistinctCounter(tmp_path)
    assert counter.count() == 0
    counter.add([])
    counter.add(iter(()))
    assert counter.count() == 0


def test_same_adds_give_identical_files(tmp_path: Path) -> None:
    first, second = DistinctCounter(tmp_path, buckets=16), DistinctCounter(tmp_path, buckets=16)
    for segment in _segments(6, 3):
        first.add(segment)
        second.add(list(segment))
    files = sorted(first.directory.iterdir())
    assert len(files) == 16
    assert [path.read_bytes() for path in files] == [path.read_bytes() for path in sorted(second.directory.iterdir())]
    assert first.count() == second.count()


def test_buckets_must_be_in_range(tmp_path: Path) -> None:
    for buckets in (0, 65537):
        with pytest.raises(ValueError, match="buckets"):
            DistinctCounter(tmp_path, buckets=buckets)
