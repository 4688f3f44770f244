"""Chunks sent with extras travel marshalled to and from the worker processes, and pickled when they hold a value
marshal does not write: the same results either way, in order, as with no worker process."""

from __future__ import annotations

import marshal
from collections.abc import Callable, Sequence
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import pytest

from editcheck.engine import workers
from editcheck.engine.workers import UniqueReadAligner

READS = 200
CHUNK = 16


def _extras_worker(odd: bool) -> Callable[[Sequence[str], Sequence[Any]], list[Any]]:
    """A worker of whole chunks: each read's length and its extra; with ``odd``, a Fraction for reads of 21 bases."""

    def work(sequences: Sequence[str], extras: Sequence[Any]) -> list[Any]:
        return [
            (len(sequence), Fraction(len(sequence), 3) if odd and len(sequence) == 21 else extra)
            for sequence, extra in zip(sequences, extras)
        ]

    return work


def _sequence(index: int) -> str:
    return "ACGT" * (1 + index % 9) + "A" * (index % 5)


def _extra(index: int, odd: bool) -> Any:
    return Fraction(index, 2) if odd and index == 40 else (((index, index + 1), 2),)


def _run(threads: int, odd_results: bool, odd_extras: bool) -> tuple[list[Any], list[tuple[int, int]]]:
    delivered: list[tuple[int, int]] = []
    with UniqueReadAligner(
        threads, (odd_results,), _extras_worker,
        extras=lambda start, stop: [_extra(index, odd_extras) for index in range(start, stop)],
        on_results=lambda start, chunk, results: delivered.append((start, len(results))),
    ) as aligner:  # fmt: skip
        for index in range(READS):
            aligner.add(_sequence(index))
        return aligner.results(), delivered


@pytest.mark.parametrize(("odd_results", "odd_extras"), [(False, False), (True, False), (False, True)])
def test_chunks_with_extras_give_the_results_of_one_process(
    odd_results: bool, odd_extras: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workers, "CHUNK", CHUNK)
    one, delivered_one = _run(1, odd_results, odd_extras)
    calls = {"dumps": 0, "loads": 0}

    def dumps(value: Any) -> bytes:
        calls["dumps"] += 1  # in this process: a chunk marshalled to be sent (the workers count their own)
        return marshal.dumps(value)

    def loads(data: bytes) -> Any:
        calls["loads"] += 1  # in this process: a chunk's results marshalled back
        return marshal.loads(data)

    monkeypatch.setattr(workers, "marshal", SimpleNamespace(dumps=dumps, loads=loads))
    two, delivered_two = _run(2, odd_results, odd_extras)
    chunks = -(-READS // CHUNK)
    assert two == one and [length for length, _ in one] == [len(_sequence(index)) for index in range(READS)]
    assert delivered_two == delivered_one == [(start, CHUNK) for start in range(0, READS - 8, CHUNK)] + [(192, 8)]
    odd_chunks = {index // CHUNK for index in range(READS) if len(_sequence(index)) == 21} if odd_results else set()
    assert calls["dumps"] == chunks  # every chunk tried; the one with a Fraction extra is pickled instead
    assert calls["loads"] == chunks - len(odd_chunks) - odd_extras  # its results, and those holding a Fraction
    assert any(type(extra) is Fraction for _, extra in one) == (odd_results or odd_extras)


@pytest.mark.parametrize(
    "sequences", [["ACGT"], [""], ["", ""], ["A", ""], ["", "ACGTN", "", "T" * 1000]]
)  # fmt: skip
def test_sequences_packed_as_lines_come_back_as_they_were(sequences: list[str]) -> None:
    packed = workers._packed_sequences(sequences)
    assert packed == "\n".join(sequences).encode("ascii")
    assert workers._unpacked_sequences(packed) == sequences


@pytest.mark.parametrize("odd", ["AC\nGT", "ACGT\n", "ACGTé", ""])
def test_a_chunk_whose_sequences_are_not_lines_travels_pickled(odd: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "CHUNK", CHUNK)
    if odd:
        with pytest.raises(ValueError):
            workers._packed_sequences(["ACGT", odd])
    sequences = [odd if index == 70 else _sequence(index) for index in range(READS)]
    found = {}
    for threads in (1, 2):
        with UniqueReadAligner(
            threads, (False,), _extras_worker, extras=lambda start, stop: [(start, index) for index in range(start, stop)]
        ) as aligner:  # fmt: skip
            for sequence in sequences:
                aligner.add(sequence)
            found[threads] = aligner.results()
    assert (
        found[2]
        == found[1]
        == [(len(sequence), (index // CHUNK * CHUNK, index)) for index, sequence in enumerate(sequences)]
    )


@pytest.mark.parametrize("threads", [1, 2])
def test_kept_results_are_what_is_kept_of_each_once_told(threads: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``kept``, ``on_results`` is told each chunk's whole results and :meth:`UniqueReadAligner.results`
    gives what ``kept`` keeps of each, in order (the engine keeps a unique read's encoded result, the rest settled)."""
    monkeypatch.setattr(workers, "CHUNK", CHUNK)
    told: list[Any] = []
    with UniqueReadAligner(
        threads, (False,), _extras_worker,
        extras=lambda start, stop: [_extra(index, False) for index in range(start, stop)],
        on_results=lambda start, chunk, results: told.extend(results), kept=lambda result: result[0],
    ) as aligner:  # fmt: skip
        for index in range(READS):
            aligner.add(_sequence(index))
        kept = aligner.results()
    assert told == [(len(_sequence(index)), _extra(index, False)) for index in range(READS)]
    assert kept == [length for length, _ in told]
