"""The alleles table of a run too large to hold in memory: one sorted run file per segment, merged on disk.

A segmented run tallies each segment of its reads on its own; the segments' alleles (one per reference,
aligned sequence, outcome and events) are summed here in memory bounded by the ``chunk`` of alleles sorted at
once, whatever the number of segments or of alleles:

1. :meth:`AlleleRuns.add` writes one segment's alleles as a run sorted by key (reference, aligned sequence,
   outcome, events);
2. :meth:`AlleleRuns.finish` merges the runs streaming (:func:`heapq.merge`, at most :data:`MAX_FAN_IN` files
   open at once, in passes when there are more), summing the reads of equal keys, and sorts the merged alleles
   by decreasing reads with an external sort: runs of at most ``chunk`` alleles each sorted by reads (stably,
   so ties keep the key order), then merged a group of equal reads at a time (most alleles share a few small
   counts).  The order is that of :func:`editcheck.quantification.tally.sorted_alleles` (decreasing reads,
   ties by reference, aligned sequence, outcome, events);
3. the result is an :class:`AlleleFile`: its length, and its alleles streamed from disk on each iteration.

Files are batches of :data:`BATCH` plain tuples, pickled without memo (``Pickler.fast``: the bytes depend on
the values alone, not on which strings share an object), uncompressed.  They are this process's own scratch
files in a private folder made under the caller's ``directory``; intermediate runs are deleted as soon as
they are merged, the final file lives until the caller removes the directory.
"""

from __future__ import annotations

import heapq
import os
import pickle
import tempfile
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import TypeAlias

from editcheck.quantification.tally import Allele

__all__ = ["BATCH", "MAX_FAN_IN", "AlleleFile", "AlleleRuns"]

BATCH = 1024
"""Alleles per pickled batch: the read buffer of one open run."""
MAX_FAN_IN = 64
"""Runs merged at once (open files, and their read buffers, at the merge's peak)."""

_Record: TypeAlias = tuple[str, str, str, str, int]
"""An allele as stored: reference, aligned sequence, outcome, events, reads."""
_Merge: TypeAlias = Callable[[list[Path]], Iterator[_Record]]

_reads = itemgetter(4)


def _write_run(path: Path, records: Iterable[_Record]) -> int:
    """Write ``records`` in batches to ``path``; the number written."""
    written = 0
    iterator = iter(records)
    with open(path, "wb") as handle:
        pickler = pickle.Pickler(handle, protocol=5)
        pickler.fast = True  # no memo: deterministic bytes, and no memory growing with the file
        while batch := list(islice(iterator, BATCH)):
            pickler.dump(batch)
            written += len(batch)
    return written


def _read_batches(path: Path) -> Iterator[list[_Record]]:
    with open(path, "rb") as handle:
        unpickler = pickle.Unpickler(handle)
        while True:
            try:
                batch: list[_Record] = unpickler.load()
            except EOFError:
                return
            yield batch


def _read_run(path: Path) -> Iterator[_Record]:
    for batch in _read_batches(path):
        yield from batch


def _summed(records: Iterable[_Record]) -> Iterator[_Record]:
    """Key-ordered records with the reads of equal keys (adjacent) summed into one."""
    previous: _Record | None = None
    for record in records:
        if (
            previous is not None and record[1] == previous[1] and record[0] == previous[0]
            and record[2] == previous[2] and record[3] == previous[3]
        ):  # fmt: skip
            previous = (previous[0], previous[1], previous[2], previous[3], previous[4] + record[4])
            continue
        if previous is not None:
            yield previous
        previous = record
    if previous is not None:
        yield previous


def _merge_by_key(runs: list[Path]) -> Iterator[_Record]:
    # Tuples compare by key first; equal keys (from different runs, or repeated in one) come out adjacent and
    # are summed.
    return _summed(heapq.merge(*(_read_run(run) for run in runs)))


def _merge_by_reads(runs: list[Path]) -> Iterator[_Record]:
    """Runs each ordered by decreasing reads merged into one, equal reads in run order (stable: the runs were
    cut in order from one key-ordered stream and each sorted stably, so ties stay in key order).

    Merged a group of equal reads at a time (a slice of a batch found by bisection), not an allele at a
    time: most alleles share a few small counts, so the groups are long."""
    heads: list[tuple[list[_Record], int, Iterator[list[_Record]]]] = []
    for run in runs:
        batches = _read_batches(run)
        batch = next(batches, None)
        if batch:
            heads.append((batch, 0, batches))
    while heads:
        top = max(batch[start][4] for batch, start, _ in heads)
        following: list[tuple[list[_Record], int, Iterator[list[_Record]]]] = []
        for batch, start, batches in heads:
            while True:
                if batch[start][4] != top:  # this run's next group has fewer reads
                    following.append((batch, start, batches))
                    break
                end = bisect_right(batch, -top, lo=start, key=_negative_reads)
                yield from batch[start:end]
                if end < len(batch):
                    following.append((batch, end, batches))
                    break
                next_batch = next(batches, None)
                if next_batch is None:  # this run is done
                    break
                batch, start = next_batch, 0
        heads = following


def _negative_reads(record: _Record) -> int:
    return -record[4]


class AlleleFile:
    """A finished alleles table on disk: its length, and its :class:`Allele` s streamed on each iteration in the
    order of the alleles table (decreasing reads, ties by reference, aligned sequence, outcome, events)."""

    def __init__(self, path: Path, length: int) -> None:
        self.path = path
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __bool__(self) -> bool:
        return self._length > 0

    def __iter__(self) -> Iterator[Allele]:
        make = Allele._make
        for batch in _read_batches(self.path):
            yield from map(make, batch)

    def __repr__(self) -> str:
        return f"AlleleFile({str(self.path)!r}, {self._length})"


class AlleleRuns:
    """The alleles of a run's segments, one sorted run file per segment, merged by :meth:`finish`.

    Files go to a private folder made inside ``directory`` (several instances may share one ``directory``);
    ``chunk`` alleles at most are sorted in memory at once."""

    def __init__(self, directory: Path, chunk: int = 500_000) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1, got {chunk}")
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.directory = Path(tempfile.mkdtemp(prefix="alleles-", dir=directory))
        self.chunk = chunk
        self._runs: list[Path] = []
        self._files = 0
        self._finished: AlleleFile | None = None

    def _new_path(self) -> Path:
        self._files += 1
        return self.directory / f"run-{self._files:06d}.bin"

    def add(self, alleles: Iterable[Allele]) -> None:
        """Write one segment's alleles as a run sorted by key (equal keys, if any, are summed by the merge)."""
        if self._finished is not None:
            raise RuntimeError("alleles added after the runs were finished")
        records: list[_Record] = [tuple(allele) for allele in alleles]  # type: ignore[misc]
        if not records:
            return
        for field in (3, 2, 1, 0):  # by key: stable sorts on one string each, twice as fast as comparing tuples
            records.sort(key=itemgetter(field))
        path = self._new_path()
        _write_run(path, records)
        self._runs.append(path)

    def finish(self) -> AlleleFile:
        """Merge every run into the finished table (once; later calls return the same table)."""
        if self._finished is not None:
            return self._finished
        runs, self._runs = self._few(self._runs, _merge_by_key), []
        by_reads: list[Path] = []
        length = 0
        keyed = _merge_by_key(runs)
        while chunk := list(islice(keyed, self.chunk)):
            length += len(chunk)
            chunk.sort(key=_reads, reverse=True)  # stable: equal reads stay in key order
            path = self._new_path()
            _write_run(path, chunk)
            by_reads.append(path)
            del chunk
        _delete(runs)
        final = self.directory / "alleles.bin"
        if len(by_reads) == 1:
            os.replace(by_reads[0], final)  # one chunk: already in the table's order
        else:
            by_reads = self._few(by_reads, _merge_by_reads)
            _write_run(final, _merge_by_reads(by_reads))
            _delete(by_reads)
        self._finished = AlleleFile(final, length)
        return self._finished

    def _few(self, runs: list[Path], merge: _Merge) -> list[Path]:
        """At most :data:`MAX_FAN_IN` runs: passes merging that many consecutive runs at a time into one while
        there are more (each run deleted once merged)."""
        while len(runs) > MAX_FAN_IN:
            merged: list[Path] = []
            for start in range(0, len(runs), MAX_FAN_IN):
                group = runs[start : start + MAX_FAN_IN]
                path = self._new_path()
                _write_run(path, merge(group))
                _delete(group)
                merged.append(path)
            runs = merged
        return runs


def _delete(runs: list[Path]) -> None:
    for run in runs:
        run.unlink()
