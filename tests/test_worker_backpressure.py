"""Reading waits for the workers: at most MAX_IN_FLIGHT chunks per worker process are unfinished at any time."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from editcheck.engine import workers
from editcheck.engine.workers import MAX_IN_FLIGHT, UniqueReadAligner


def _slow_worker() -> Callable[[str], int]:
    def work(sequence: str) -> int:
        time.sleep(0.002)
        return len(sequence)

    return work


def test_reading_waits_when_the_workers_fall_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "CHUNK", 5)
    sequences = ["A" * (1 + index % 7) for index in range(300)]  # 60 chunks of 10 ms each, sent at once
    most_unfinished = 0
    with UniqueReadAligner(2, (), _slow_worker) as aligner:
        for sequence in sequences:
            aligner.add(sequence)
            unfinished = sum(not part.ready() for part, _ in aligner._parts)
            most_unfinished = max(most_unfinished, unfinished)
        results = aligner.results()
    assert results == [len(sequence) for sequence in sequences]
    assert 2 <= most_unfinished <= MAX_IN_FLIGHT * 2 + 1
