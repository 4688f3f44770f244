"""The number of distinct reads of a run too large to hold its unique reads in memory.

A segmented run collapses each segment on its own; a read sequence (or an unmerged pair's key) may recur in
many segments.  :class:`DistinctCounter` counts the distinct keys over all segments exactly up to a collision
of 128-bit hashes (BLAKE2b, 16-byte digests: for 10^9 keys the chance of any collision is ~10^-21), in memory
bounded by one bucket: each segment's digests are appended to ``buckets`` files chosen by the digest's
leading bytes, and :meth:`DistinctCounter.count` counts the distinct digests of one bucket at a time (16 bytes
per digest on disk and while counting).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np

__all__ = ["DistinctCounter"]

DIGEST_SIZE = 16
_BATCH = 1 << 18
"""Keys hashed and partitioned at once: bounds the memory of one add (~20 MiB: the digests as bytes objects)."""


class DistinctCounter:
    """Distinct keys over several adds, by their hashes partitioned into bucket files.

    The bucket files go to a private folder made inside ``directory`` (several counters may share one
    ``directory``); ``buckets`` (1 to 65536) files, chosen by the digest's first two bytes."""

    def __init__(self, directory: Path, buckets: int = 256) -> None:
        if not 1 <= buckets <= 1 << 16:
            raise ValueError(f"buckets must be 1 to 65536, got {buckets}")
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.directory = Path(tempfile.mkdtemp(prefix="distinct-", dir=directory))
        self.buckets = buckets
        self._used: set[int] = set()

    def _path(self, bucket: int) -> Path:
        return self.directory / f"bucket-{bucket:05d}.bin"

    def add(self, keys: Iterable[str]) -> None:
        """Add one segment's keys (repeats, within the segment or of earlier ones, count once)."""
        iterator = iter(keys)
        while digests := _digests(islice(iterator, _BATCH)):
            self._append(digests)

    def _append(self, digests: bytes) -> None:
        table = np.frombuffer(digests, dtype=np.uint8).reshape(-1, DIGEST_SIZE)
        bucket_of = ((table[:, 0].astype(np.int64) << 8) | table[:, 1]) % self.buckets
        order = np.argsort(bucket_of, kind="stable")
        sorted_buckets = bucket_of[order]
        ordered = table[order]
        present, starts = np.unique(sorted_buckets, return_index=True)
        ends = [*starts[1:].tolist(), len(ordered)]
        for bucket, start, end in zip(present.tolist(), starts.tolist(), ends):
            with open(self._path(bucket), "ab") as handle:
                handle.write(ordered[start:end].tobytes())
            self._used.add(bucket)

    def count(self) -> int:
        """The number of distinct keys added so far."""
        distinct = 0
        for bucket in sorted(self._used):
            digests = np.fromfile(self._path(bucket), dtype=np.uint64).reshape(-1, 2)
            order = np.lexsort((digests[:, 1], digests[:, 0]))
            ordered = digests[order]
            changed = np.any(ordered[1:] != ordered[:-1], axis=1)
            distinct += 1 + int(np.count_nonzero(changed))
        return distinct


def _digests(keys: Iterator[str]) -> bytes:
    blake2b = hashlib.blake2b
    return b"".join([blake2b(key.encode(), digest_size=DIGEST_SIZE).digest() for key in keys])
