"""Merging overlapping read pairs into one read covering the whole amplicon fragment.

R2 is sequenced from the other strand, so R1 is compared with the reverse complement of R2 (``rc2``, with
R2's qualities reversed).  The placement is described by the offset ``d``: the position in R1 where
``rc2[0]`` sits.  The overlap is where both reads cover the fragment.

The fragment starts at R1's first base and ends at ``rc2``'s last base, so the merged read is R1 before
the overlap, the consensus of the overlap, and ``rc2`` after it.  Whatever lies beyond those ends is
adapter read-through and is dropped: R1 past the end of ``rc2`` (fragment shorter than R1) and ``rc2``
before the start of R1 (a "dovetail", fragment shorter than R2).

Placement
    A placement is acceptable when its overlap is at least ``min_overlap`` bases and
    ``mismatches <= max_mismatch_rate * overlap``; positions where either read has N count neither as
    matches nor as mismatches.  Among acceptable placements the highest score
    ``matches - 3 * mismatches`` wins, then the longer overlap, then the larger offset (so the choice is
    deterministic).  A mismatch costs about what three matching bases are worth as evidence at a
    per-base error rate near 1%; scoring evidence rather than the mismatch rate alone keeps a chance
    perfect 10-base overlap from beating the real 60-base overlap that carries one sequencing error.

    Candidate offsets come from exact seeds rather than from trying every offset:

    1. three 12-base seeds, 16 bases apart, from the start of ``rc2`` looked up in R1, and three from
       the start of R1 looked up in ``rc2`` (an overlap always begins at the start of one of the two);
       every occurrence counts, and a seed window containing N moves past it.  A best placement
       scoring at least 20 is taken;
    2. otherwise, back-to-back shorter seeds along all of ``rc2`` (7 bases for the default 10% rate,
       so an acceptable overlap of 28 or more bases at R1's end always holds an error-free seed), and
       every offset with an overlap of up to 27 bases at R1's end;
    3. pairs with a read of 40 bases or fewer try every offset.

    This finds the best-scoring placement except in rare cases: the first pass takes a convincing
    placement while a better one exists (which takes repetitive sequence, where several placements
    score alike and which is right is ambiguous anyway); a dovetail (offset below 0) or an overlap
    with many Ns whose seeds are all broken; a fragment shorter than 28 bases.

Consensus in the overlap (qualities are Phred+33 characters)
    * same base in both reads: that base, with the higher of the two qualities;
    * N in one read: the other read's base and quality;
    * different called bases: the base with the higher quality, with quality = winner - loser (at
      least 2, ``#``); on equal qualities R1's base wins with quality 2 (``#``), marking it unreliable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import AnyStr, cast

from editcheck.compiled import compiled_module
from editcheck.errors import ParameterError
from editcheck.sequences import COMPLEMENT, reverse_complement

__all__ = [
    "IMPLEMENTATION", "MergeSettings", "dense_seed_length", "differences", "disagreements", "mate_choices",
    "merge_pair", "merge_placed", "merge_placed_reference", "overlap_span", "read_merged_qualities",
    "reverse_complement",
]  # fmt: skip

_Merged = tuple[str, str, int, int]


def _load_compiled() -> Callable[[str, str, str, str, int, float, int], _Merged | None] | None:
    """The compiled merge (:func:`editcheck.reads._pairs_compiled.merge_placed`, Cython, built by ``pip install``), or
    None when it is not wanted or not built (:func:`~editcheck.compiled.compiled_module`: then the pure-Python
    reference runs, same results, slower)."""
    module = compiled_module("editcheck.reads._pairs_compiled", "read-pair merge")
    return (
        None
        if module is None
        else cast(Callable[[str, str, str, str, int, float, int], _Merged | None], module.merge_placed)
    )


_compiled = _load_compiled()
IMPLEMENTATION = "python" if _compiled is None else "compiled"
"""Which merge runs: ``compiled`` or ``python`` (chosen once, at import; worker processes inherit it)."""


_SEED = 12
"""Seed length: a chance 12-mer hit in a 150-base read happens about once in 10^5 seeds."""
_START_SEEDS = 3
"""First-pass seeds taken from the start of each read ..."""
_SEED_STEP = 16
"""... this many bases apart."""
_SHORT = 27
"""Overlaps up to this length may hold only one first-pass seed; they are checked offset by offset."""
_CONVINCING = 20
"""A first-pass placement scoring this much is taken without the slower second pass: a wrong placement
scores 20 by chance roughly once in 10^9 pairs (unless the amplicon is repetitive)."""
_TINY = 40
"""Pairs with a read this short are placed by trying every offset (seeds are too few to rely on)."""
_MISMATCH_WEIGHT = 3
_EPSILON = 1e-9


@dataclass(frozen=True)
class MergeSettings:
    """How much R1 and R2 must overlap, and agree, to be merged."""

    min_overlap: int = 10
    """Fewest overlapping bases accepted."""
    max_mismatch_rate: float = 0.1
    """Most mismatches allowed per overlapping base (N positions are not mismatches)."""

    def __post_init__(self) -> None:
        if isinstance(self.min_overlap, bool) or not isinstance(self.min_overlap, int) or self.min_overlap < 5:
            raise ParameterError(f"min_overlap must be an integer of at least 5, not {self.min_overlap!r}")
        rate = self.max_mismatch_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 0.5:
            raise ParameterError(f"max_mismatch_rate must be at least 0 and below 0.5, not {rate!r}")


# Byte-parallel ("SWAR") arithmetic on Python integers holding ASCII strings, one byte per character.
# All characters are below 128, so per-byte sums and differences below never carry into the next byte.
_HIGH: dict[int, int] = {}
_LOW7: dict[int, int] = {}
_N_BYTES: dict[int, int] = {}


def _constants(size: int) -> tuple[int, int, int]:
    high = _HIGH.get(size)
    if high is None:
        high = _HIGH[size] = int.from_bytes(b"\x80" * size, "big")
        _LOW7[size] = int.from_bytes(b"\x7f" * size, "big")
        _N_BYTES[size] = int.from_bytes(b"N" * size, "big")
    return high, _LOW7[size], _N_BYTES[size]


def _differences(x: str, y: str) -> tuple[int, int, int]:
    """(mismatches, N positions, bit mask of differing bytes) for equal-length ACGTN strings.

    A mismatch is a position where both have a called base and they differ.  In the mask, bit
    ``8 * j + 7`` is set when the characters ``len(x) - 1 - j`` differ (mismatch or N against a base).
    """
    size = len(x)
    high, low7, n_bytes = _constants(size)
    a = int.from_bytes(x.encode(), "big")
    b = int.from_bytes(y.encode(), "big")
    differ = ((a ^ b) + low7) & high
    if "N" not in x and "N" not in y:
        return differ.bit_count(), 0, differ
    called = (((a ^ n_bytes) + low7) & high) & (((b ^ n_bytes) + low7) & high)
    return (differ & called).bit_count(), size - called.bit_count(), differ


differences = _differences
"""Public name of :func:`_differences` (used to find where two mates disagree)."""


def differing_bytes(differ: int, size: int) -> list[int]:
    """The indices, last first, of the characters that a :func:`differences` mask ``differ`` of two strings of
    ``size`` characters marks as differing (bit ``8 * j + 7`` is character ``size - 1 - j``)."""
    found = []
    while differ:
        bit = differ.bit_length() - 1
        differ ^= 1 << bit
        found.append(size - 1 - (bit >> 3))
    return found[::-1]


def _max_qualities(x: str, y: str) -> str:
    """Position-wise higher quality character of two equal-length quality strings."""
    if x == y:
        return x
    size = len(x)
    high = _constants(size)[0]
    a = int.from_bytes(x.encode(), "big")
    b = int.from_bytes(y.encode(), "big")
    a_wins = ((((a | high) - b) & high) >> 7) * 0xFF
    return (b ^ ((a ^ b) & a_wins)).to_bytes(size, "big").decode()


def _consensus(x: str, qx: str, y: str, qy: str, differ: int) -> tuple[str, str]:
    """Consensus of two aligned reads (see the module docstring); ``differ`` is from :func:`_differences`."""
    qualities = _max_qualities(qx, qy)
    if not differ:
        return x, qualities
    size = len(x)
    bases = bytearray(x.encode())
    scores = bytearray(qualities.encode())
    for i in differing_bytes(differ, size):
        base_x = x[i]
        base_y = y[i]
        if base_x == "N":
            bases[i] = ord(base_y)
            scores[i] = ord(qy[i])
        elif base_y == "N":
            scores[i] = ord(qx[i])
        else:
            quality_x = ord(qx[i])
            quality_y = ord(qy[i])
            if quality_y > quality_x:
                bases[i] = ord(base_y)
            scores[i] = 33 + max(abs(quality_x - quality_y), 2)
    return bases.decode(), scores.decode()


@lru_cache(maxsize=32)
def dense_seed_length(max_rate: float) -> int:
    """Longest seed length (12 down to 5) for the second seed pass at which every acceptable overlap of
    more than ``_SHORT`` bases at R1's end holds an error-free seed (by pigeonhole: more back-to-back
    seeds than allowed mismatches).  Mismatch rates above about 0.15 get 5, without that guarantee."""
    for length in range(_SEED, 4, -1):
        if all(overlap // length > int(max_rate * overlap + _EPSILON) for overlap in range(_SHORT + 1, 1001)):
            return length
    return 5


def _seed_hits(
    offsets: set[int], source: str, target: str, length: int, step: int, count: int, source_is_rc2: bool
) -> None:
    """Add the offsets given by exact seeds of ``source`` found in ``target`` (every occurrence).

    Up to ``count`` seeds of ``length`` bases are taken ``step`` apart from the start of ``source``; a
    window containing N is moved to start just after its last N, so masked or uncalled bases cost one
    seed's worth of sequence rather than a seed.
    """
    find = target.find
    end = len(source) - length
    if "N" not in source:
        for p in range(0, min(end + 1, count * step), step):
            seed = source[p : p + length]
            i = find(seed)
            while i >= 0:
                offsets.add(i - p if source_is_rc2 else p - i)
                i = find(seed, i + 1)
        return
    p = 0
    while count and p <= end:
        seed = source[p : p + length]
        n = seed.rfind("N")
        if n >= 0:
            p += n + 1
            continue
        count -= 1
        i = find(seed)
        while i >= 0:
            offsets.add(i - p if source_is_rc2 else p - i)
            i = find(seed, i + 1)
        p += step


def _start_seed_offsets(seq1: str, rc2: str) -> set[int]:
    """Offsets from exact 12-base seeds at the starts of both reads (pass 1).

    An overlap with R1's end (offset >= 0) always begins at rc2's start; a dovetail or an R1 inside rc2
    (offset <= 0) always begins at R1's start.  So three seeds 16 bases apart from rc2's start are
    looked up in R1, and three from R1's start in rc2.
    """
    offsets: set[int] = set()
    _seed_hits(offsets, rc2, seq1, _SEED, _SEED_STEP, _START_SEEDS, True)
    _seed_hits(offsets, seq1, rc2, _SEED, _SEED_STEP, _START_SEEDS, False)
    return offsets


def _dense_seed_offsets(seq1: str, rc2: str, length: int) -> set[int]:
    """Offsets from back-to-back seeds of ``length`` bases along all of rc2, plus rc2's last bases (pass 2)."""
    offsets: set[int] = set()
    _seed_hits(offsets, rc2, seq1, length, length, len(rc2), True)
    tail = len(rc2) - length
    seed = rc2[tail:]
    if tail > 0 and "N" not in seed:  # rc2's end: the only part of rc2 in the overlap of a short dovetail
        find = seq1.find
        i = find(seed)
        while i >= 0:
            offsets.add(i - tail)
            i = find(seed, i + 1)
    return offsets


def _placement(seq1: str, rc2: str, d: int, max_rate: float) -> tuple[tuple[int, int, int], int] | None:
    """Ranking key ``(score, overlap, d)`` and difference mask for offset ``d``; None if unacceptable."""
    start = d if d > 0 else 0
    end = min(d + len(rc2), len(seq1))
    overlap = end - start
    x = seq1[start:end]
    y = rc2[start - d : end - d]
    if x == y:
        return (overlap - x.count("N"), overlap, d), 0
    mismatches, unknown, differ = _differences(x, y)
    if mismatches > max_rate * overlap + _EPSILON:
        return None
    return (overlap - unknown - (1 + _MISMATCH_WEIGHT) * mismatches, overlap, d), differ


def _short_placements(
    seq1: str, rc2: str, shortest: int, longest: int, max_rate: float, skip: set[int]
) -> list[tuple[tuple[int, int, int], int]]:
    """Acceptable placements whose overlap (``shortest`` to ``longest`` bases) is R1's end against
    rc2's start, compared all at once on integers holding the two ``longest``-base windows."""
    length1 = len(seq1)
    tail = seq1[length1 - longest :]
    head = rc2[:longest]
    found = []
    if "N" in tail or "N" in head:
        for overlap in range(shortest, longest + 1):
            d = length1 - overlap
            if d not in skip and (placement := _placement(seq1, rc2, d, max_rate)) is not None:
                found.append(placement)
        return found
    a = int.from_bytes(tail.encode(), "big")
    b = int.from_bytes(head.encode(), "big")
    high, low7, _ = _constants(longest)
    for overlap in range(shortest, longest + 1):
        d = length1 - overlap
        if d in skip:
            continue
        # R1's last `overlap` bytes are a's low bytes; rc2's first `overlap` bytes are b's high bytes.
        differ = (((a ^ (b >> (8 * (longest - overlap)))) & ((1 << (8 * overlap)) - 1)) + low7) & high
        mismatches = differ.bit_count()
        if mismatches <= max_rate * overlap + _EPSILON:
            found.append(((overlap - (1 + _MISMATCH_WEIGHT) * mismatches, overlap, d), differ))
    return found


def merge_pair(
    seq1: str, qual1: str, seq2: str, qual2: str, settings: MergeSettings = MergeSettings()
) -> tuple[str, str] | None:
    """Merge R1 and R2 (as sequenced: uppercase ACGTN, Phred+33 qualities) into ``(sequence, qualities)``.

    Returns None when no placement has at least ``settings.min_overlap`` overlapping bases with at most
    ``settings.max_mismatch_rate`` mismatches per overlapping base.  See the module docstring for how
    the placement and the consensus are chosen.  Reads must be ASCII (as :mod:`editcheck.reads.fastq`
    guarantees): the comparisons work on bytes.
    """
    placed = merge_placed(seq1, qual1, seq2, qual2, settings)
    return None if placed is None else (placed[0], placed[1])


def merge_placed(
    seq1: str, qual1: str, seq2: str, qual2: str, settings: MergeSettings = MergeSettings()
) -> tuple[str, str, int, int] | None:
    """:func:`merge_pair`, with the placement: ``(sequence, qualities, d, differ)``, ``d`` the offset in R1 of the
    reverse-complemented R2's first base (it depends on the sequences only, never on the qualities), ``differ``
    the bit mask of the overlap's differing bases (as :func:`differences` gives it; mismatches and N against a
    base).  Runs the compiled merge when it is built (:data:`IMPLEMENTATION`), else (or for non-ASCII reads)
    :func:`merge_placed_reference`: the same results."""
    if _compiled is not None:
        rate = settings.max_mismatch_rate
        try:
            return _compiled(seq1, qual1, seq2, qual2, settings.min_overlap, rate, dense_seed_length(rate))
        except UnicodeEncodeError:
            pass
    return merge_placed_reference(seq1, qual1, seq2, qual2, settings)


def merge_placed_reference(
    seq1: str, qual1: str, seq2: str, qual2: str, settings: MergeSettings = MergeSettings()
) -> tuple[str, str, int, int] | None:
    """:func:`merge_placed` in pure Python: the reference implementation of the compiled merge."""
    length1 = len(seq1)
    length2 = len(seq2)
    if len(qual1) != length1 or len(qual2) != length2:
        raise ValueError("each read needs as many quality characters as bases")
    min_overlap = settings.min_overlap
    max_rate = settings.max_mismatch_rate
    rc2 = seq2.translate(COMPLEMENT)[::-1]
    lowest = min_overlap - length2  # offsets outside [lowest, highest] overlap by fewer than min_overlap
    highest = length1 - min_overlap
    if highest < lowest:
        return None

    # Pass 1: long seeds at the starts of the reads.
    offsets = _start_seed_offsets(seq1, rc2)
    best_key: tuple[int, int, int] | None = None
    best_differ = 0
    for d in offsets:  # _placement inlined: this loop runs for every pair
        if d < lowest or d > highest:
            continue
        start = d if d > 0 else 0
        end = d + length2 if d + length2 < length1 else length1
        overlap = end - start
        x = seq1[start:end]
        y = rc2[start - d : end - d]
        if x == y:
            key = (overlap - x.count("N"), overlap, d)
            differ = 0
        else:
            mismatches, unknown, differ = _differences(x, y)
            if mismatches > max_rate * overlap + _EPSILON:
                continue
            key = (overlap - unknown - (1 + _MISMATCH_WEIGHT) * mismatches, overlap, d)
        if best_key is None or key > best_key:
            best_key = key
            best_differ = differ
    if best_key is not None and best_key[0] >= _CONVINCING:
        return (*_merge(seq1, qual1, rc2, qual2[::-1], best_key[2], best_differ), best_key[2], best_differ)

    # Nothing convincing yet (errors in every long seed, a short overlap, or no overlap at all).
    placements: list[tuple[tuple[int, int, int], int]] = []
    if min(length1, length2) <= _TINY:
        # Reads this short: try every offset.
        for d in range(lowest, highest + 1):
            if d not in offsets and (placement := _placement(seq1, rc2, d, max_rate)) is not None:
                placements.append(placement)
    else:
        # Pass 2: dense short seeds, back to back, so an overlap of more than _SHORT bases at R1's end
        # with an acceptable number of mismatches has an exact seed.
        dense = dense_seed_length(max_rate)
        for d in _dense_seed_offsets(seq1, rc2, dense) - offsets:
            if lowest <= d <= highest and (placement := _placement(seq1, rc2, d, max_rate)) is not None:
                placements.append(placement)
        # Overlaps of up to _SHORT bases at R1's end: every offset.
        if min_overlap <= _SHORT:
            placements += _short_placements(seq1, rc2, min_overlap, _SHORT, max_rate, offsets)
    for key, differ in placements:
        if best_key is None or key > best_key:
            best_key = key
            best_differ = differ
    if best_key is None:
        return None
    return (*_merge(seq1, qual1, rc2, qual2[::-1], best_key[2], best_differ), best_key[2], best_differ)


def _merge(seq1: str, qual1: str, rc2: str, rq2: str, d: int, differ: int) -> tuple[str, str]:
    """R1 before the overlap + consensus of the overlap + rc2 after it."""
    length1 = len(seq1)
    length2 = len(rc2)
    start = d if d > 0 else 0
    end = d + length2 if d + length2 < length1 else length1
    sequence, qualities = _consensus(
        seq1[start:end], qual1[start:end], rc2[start - d : end - d], rq2[start - d : end - d], differ
    )
    if start:
        sequence = seq1[:start] + sequence
        qualities = qual1[:start] + qualities
    if end - d < length2:
        sequence += rc2[end - d :]
        qualities += rq2[end - d :]
    return sequence, qualities


def overlap_span(length1: int, length2: int, d: int) -> tuple[int, int]:
    """The overlap of a pair placed at ``d``, ``(start, end)``, in R1's (and the merged read's) coordinates."""
    return (d if d > 0 else 0), (d + length2 if d + length2 < length1 else length1)


def read_merged_qualities(seq1: str, qual1: str, seq2: str, qual2: str, d: int) -> str:
    """The qualities of one read pair's merged read, its pair placed at ``d`` (:func:`merge_placed`, whose
    placement depends on the sequences only): the consensus qualities of the module docstring, from this pair's
    own qualities, without looking for the placement again."""
    length1 = len(seq1)
    rc2 = seq2.translate(COMPLEMENT)[::-1]
    rq2 = qual2[::-1]
    start, end = overlap_span(length1, len(rc2), d)
    x = seq1[start:end]
    y = rc2[start - d : end - d]
    overlap = _consensus(x, qual1[start:end], y, rq2[start - d : end - d], differences(x, y)[2])[1]
    return qual1[:start] + overlap + rq2[end - d :]


def disagreements(first: str, second: str, d: int, differ: int | None = None) -> tuple[int, ...]:
    """The positions of a pair's merged read (placed at ``d``) where its mates read different bases, neither N;
    ``differ``, when known, is the overlap's difference mask (:func:`~editcheck.reads.merge.merge_placed`)."""
    length1, length2 = len(first), len(second)
    if differ is not None and (not differ or ("N" not in first and "N" not in second)):
        start = d if d > 0 else 0
        size = (d + length2 if d + length2 < length1 else length1) - start
        return tuple(start + k for k in differing_bytes(differ, size))  # every differing byte is a mismatch
    rc2 = second.translate(COMPLEMENT)[::-1]
    start = d if d > 0 else 0
    end = d + length2 if d + length2 < length1 else length1
    x = first[start:end]
    y = rc2[start - d : end - d]
    if x == y:
        return ()
    mismatches, _, differ = differences(x, y)
    if not mismatches:
        return ()  # only N against a base
    return tuple(start + k for k in differing_bytes(differ, len(x)) if x[k] != "N" and y[k] != "N")


def mate_choices(qual1: AnyStr, qual2: AnyStr, d: int, spots: Sequence[int]) -> int:
    """Which mate's base one pair's own qualities put in its merged read where its mates disagree: bit ``k`` set
    when R2's base wins at ``spots[k]`` (merged-read positions, :func:`disagreements`, of a pair placed at
    ``d``), its quality being higher (R1's base wins on equal qualities: the consensus of the module docstring).
    Pairs with the same sequences and the same choices have the same merged read."""
    last = len(qual2) - 1 + d  # rc(R2)[p - d] is R2[last - p]
    code = 0
    for k, position in enumerate(spots):
        if qual2[last - position] > qual1[position]:
            code |= 1 << k
    return code
