"""Unique molecular identifiers (UMIs): finding them in reads, and one consensus read per molecule.

Extraction (:class:`UmiExtractor`)
----------------------------------
``source="header"`` looks for the UMI in the read's header line (the whole line after ``@``), in order:

1. A whitespace-separated token ``UMI:XXXX`` or ``RX:Z:XXXX`` (the SAM tag, as written by fgbio, UMI-tools
   ``--extract-method=tag`` and many demultiplexers) anywhere in the header; the first such token wins.  In
   these tokens ``-`` (the SAM convention) and ``+`` both join the parts of a dual UMI.
2. Otherwise the last field of the read name's first word, after dropping a trailing ``/1`` or ``/2`` and
   splitting at the last ``_`` or ``:`` (whichever comes later): ``read_ACGT`` (UMI-tools), ``read:ACGT``
   and ``read:UMI_ACGT`` (fastp), and
   ``M001:5:FC:1:1101:1589:1331:ACGT+TTGA`` (bcl2fastq / BCL Convert, where ``+`` joins dual UMIs).

A UMI is one or more parts of uppercase ``A``, ``C``, ``G``, ``T``, ``N`` joined by ``+`` (lowercase is not
accepted, so that ordinary words in read names are never taken for UMIs).  A header with neither form, or
whose candidate contains anything else (e.g. the tile coordinate of an Illumina name without a UMI), is an
:class:`~editcheck.errors.InputFormatError` naming the file and record.

``source="prefix"`` takes the first ``length`` bases of the read (R1) as the UMI and removes them, and their
qualities, from the read.

``length`` counts UMI bases, not the ``+`` separators.  It is required for ``prefix``; for ``header`` it is
optional, and when given, a UMI of any other length is an error.

Consensus (:class:`MoleculeCollector`)
--------------------------------------
Reads are grouped by UMI.  After optional directional UMI merging (below) each group ("family") is one
molecule; families with fewer than ``min_reads`` reads are dropped (and counted).  A molecule's consensus is:

* If all its reads are identical, that sequence (the common case, no voting).
* Otherwise the consensus length is the length most reads have; a tie goes to the length of the most
  common sequence, then to the longer length.  Reads of other lengths still count towards the family
  size, but do not vote.
* If one sequence makes up more than half of the reads of that length and has no ``N``, it wins every
  position outright and is the consensus.
* Otherwise, per position, the base (``A``, ``C``, ``G`` or ``T``) carried by most reads wins.  ``N``
  is a no-call and does not vote; a position is ``N`` only when every read has ``N`` there.  Ties go to
  the base with the highest summed quality (over the reads carrying it; only reads added *with*
  qualities contribute; Phred+33 codes are summed, which ranks like Phred sums between equal read
  counts), then to the first in the order ``A``, ``C``, ``G``, ``T``.  There is no
  minimum majority: the plurality base is always called.

The consensus depends only on the multiset of (UMI, sequence, qualities) reads, not on their order.  The
order of keys in the result dictionaries follows the first appearance of each molecule's UMI.

Directional UMI merging (``merge_distance=1``, as UMI-tools' ``directional`` method)
-----------------------------------------------------------------------------------------
UMI *a* absorbs UMI *b* when they differ by one substitution (same length, ``+`` at the same places; ``N``
counts as a mismatch) and ``reads(a) >= 2 * reads(b) - 1``.  UMIs are visited from the largest family down
(ties by UMI string); each unclaimed UMI starts a group and claims, breadth first, every unclaimed UMI it
can reach by such edges (so chains ``a -> b -> c`` merge).  Unlike UMI-tools, a search does not pass
through UMIs an earlier group already claimed.  Neighbours are found without comparing all
pairs: UMIs are bucketed by length and ``+`` layout, and two UMIs are one substitution apart exactly when
they agree after masking the same single position (``ACGT`` -> ``.CGT``, ``A.GT``, ...); each masked key
is a base-5 number and equal keys are found by sorting (masked strings past 27 bases), so the cost is
about UMIs x UMI length x log(UMIs), vectorised.  ``merge_distance=0`` turns merging off.

Memory
------
One dict entry per distinct (UMI, sequence) pair; identical sequences of different molecules share one string
object.  When qualities are passed to :meth:`MoleculeCollector.add`, each pair also keeps its per-position
quality sums: the read's quality string while the pair has one read (1 byte per base), then 2 bytes per
base.  The sums are needed for exact, order-independent tie-breaks, which may involve reads seen before the
molecule had a second distinct sequence.  This dominates memory: 1M 250-bp reads in 100k molecules with a
0.2% error rate (~500k pairs, most of them one read with a sequencing error) take ~25 MB without qualities
and ~240 MB with them.  Pass no qualities to skip it (ties then go by base order).

Over 500 lines by choice: extraction, the per-molecule quality sums and the consensus vote share one
family representation, and keeping them together keeps that packed layout private to this module.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from editcheck.errors import InputFormatError, ParameterError

__all__ = ["MoleculeCollector", "MoleculeResult", "UmiExtractor", "UmiSettings"]

_SOURCES = ("header", "prefix")
_UMI = re.compile(r"[ACGTN]+(?:\+[ACGTN]+)*")
_DASH_TO_PLUS = str.maketrans("-", "+")


@dataclass(frozen=True)
class UmiSettings:
    """Where the UMI is, how long it is, and how molecules are formed (see the module docstring)."""

    source: str = "header"
    """``"header"``: a ``UMI:``/``RX:Z:`` token or the last ``_``/``:`` field of the read name;
    ``"prefix"``: the first ``length`` bases of the read, which are removed from it."""
    length: int = 0
    """UMI bases (``+`` not counted).  Required for ``prefix``; for ``header`` 0 accepts any length."""
    min_reads: int = 1
    """Molecules supported by fewer reads are dropped (and counted)."""
    merge_distance: int = 1
    """1: directional merging of UMIs one substitution apart; 0: no merging."""

    def __post_init__(self) -> None:
        if self.source not in _SOURCES:
            raise ParameterError(f"UMI source must be 'header' or 'prefix', not {self.source!r}")
        if not _is_int(self.length) or self.length < 0:
            raise ParameterError(f"UMI length must be a whole number >= 0, not {self.length!r}")
        if self.source == "prefix" and self.length < 1:
            raise ParameterError("a UMI read from the start of the read (source 'prefix') needs its length (>= 1)")
        if not _is_int(self.min_reads) or self.min_reads < 1:
            raise ParameterError(f"minimum reads per molecule must be a whole number >= 1, not {self.min_reads!r}")
        if not _is_int(self.merge_distance) or self.merge_distance not in (0, 1):
            raise ParameterError(f"UMI merge distance must be 0 (off) or 1, not {self.merge_distance!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class UmiExtractor:
    """Callable returning ``(umi, sequence, qualities)`` for one read, the UMI removed from the read for ``prefix``.

    ``path`` is used only to name the file in errors.
    """

    def __init__(self, settings: UmiSettings, path: str | Path) -> None:
        self.settings = settings
        self.path = path
        self._length = settings.length
        self._extract = self._from_prefix if settings.source == "prefix" else self._from_header

    def __call__(self, record_number: int, name: str, sequence: str, qualities: str) -> tuple[str, str, str]:
        return self._extract(record_number, name, sequence, qualities)

    def _from_prefix(self, record_number: int, name: str, sequence: str, qualities: str) -> tuple[str, str, str]:
        length = self._length
        if len(sequence) < length:
            raise InputFormatError(
                self.path,
                f"read of {len(sequence)} bases is shorter than the {length}-base UMI at its start",
                record_number,
            )
        umi = sequence[:length]
        if _UMI.fullmatch(umi) is None:
            raise InputFormatError(
                self.path,
                f"UMI {umi!r} at the start of the read has characters other than A, C, G, T, N",
                record_number,
            )
        return umi, sequence[length:], qualities[length:]

    def _from_header(self, record_number: int, name: str, sequence: str, qualities: str) -> tuple[str, str, str]:
        umi = None
        if "UMI:" in name or "RX:Z:" in name:
            for token in name.split():
                if token.startswith("UMI:"):
                    umi = token[4:].translate(_DASH_TO_PLUS)
                    break
                if token.startswith("RX:Z:"):
                    umi = token[5:].translate(_DASH_TO_PLUS)
                    break
            if umi is not None and _UMI.fullmatch(umi) is None:
                raise InputFormatError(
                    self.path,
                    f"UMI {_shorten(umi)!r} in the read header has characters other than A, C, G, T, N "
                    "(and '+' or '-' joining dual UMIs)",
                    record_number,
                )
        if umi is None:
            words = name.split(None, 1)
            first = words[0] if words else ""
            if first[-2:] in ("/1", "/2"):
                first = first[:-2]
            cut = max(first.rfind("_"), first.rfind(":"))
            umi = first[cut + 1 :] if cut >= 0 else ""
            if not umi or _UMI.fullmatch(umi) is None:
                raise InputFormatError(
                    self.path,
                    f"no UMI in the read header {_shorten(name)!r}: expected a 'UMI:' or 'RX:Z:' token, or "
                    "the read name's last '_' or ':' field made of A, C, G, T, N (and '+')",
                    record_number,
                )
        if self._length:
            bases = len(umi) - umi.count("+")
            if bases != self._length:
                raise InputFormatError(
                    self.path, f"UMI {_shorten(umi)!r} has {bases} bases, expected {self._length}", record_number
                )
        return umi, sequence, qualities


@dataclass
class MoleculeResult:
    """Consensus reads of all molecules, and what happened to the reads and UMIs."""

    sequences: dict[str, int] = field(default_factory=dict)
    """Consensus sequence -> number of molecules (the shape of ``CollapsedReads.sequences``)."""
    reads_per_sequence: dict[str, int] = field(default_factory=dict)
    """Consensus sequence -> number of reads behind those molecules."""
    molecules: int = 0
    """Molecules kept (with at least ``min_reads`` reads)."""
    molecules_dropped: int = 0
    """Molecules with fewer than ``min_reads`` reads."""
    reads_in_molecules: int = 0
    """Reads of the kept molecules."""
    family_size_histogram: dict[int, int] = field(default_factory=dict)
    """Reads per molecule -> number of molecules, over all molecules (kept and dropped), by size."""
    reads_dropped: int = 0
    """Reads of the dropped molecules."""
    umis: int = 0
    """Distinct UMIs seen, before merging."""
    umis_merged: int = 0
    """UMIs absorbed into a larger family one substitution away (``umis - umis_merged`` molecules)."""


# A (UMI, sequence) pair added with qualities is stored as [reads, sums].  The sums of the quality characters'
# codes (<= 126 each) per position are: the quality string itself while the pair has one read; then a Python
# int holding one 16-bit lane per base while it has at most _LANE_READS reads; past that an int64 numpy array.
_LANE_READS = 65535 // 126
Sums = str | int | np.ndarray
# A pair's entry in a family: its read count, or [count, Sums] once it has qualities.  The per-read code
# (MoleculeCollector.add) branches on ``value.__class__``, the fastest test, which mypy narrows only where it
# holds: two ``type: ignore`` comments there.  Code run once per family or molecule uses isinstance.
Entry = int | list[Any]
Family = dict[str, Entry]


def _lanes(qualities: str) -> int:
    return int.from_bytes(qualities.encode("utf-16-le"), "little")


def _as_lanes(sums: str | int) -> int:
    return _lanes(sums) if isinstance(sums, str) else sums


def _as_array(sums: Sums, length: int) -> np.ndarray:
    if isinstance(sums, np.ndarray):
        return sums
    if isinstance(sums, str):
        return np.frombuffer(sums.encode("ascii"), dtype=np.uint8).astype(np.int64)
    return np.frombuffer(sums.to_bytes(2 * length, "little"), dtype="<u2").astype(np.int64)


def _add_qualities(value: list[Any], count: int, qualities: str | None, length: int) -> None:
    """Add one read (``qualities`` may be None) to a ``[count, sums]`` pair entry now holding ``count`` reads."""
    sums = value[1]
    value[0] = count + 1
    if count >= _LANE_READS and not isinstance(sums, np.ndarray):
        sums = value[1] = _as_array(sums, length)
    if qualities is None:
        return
    if isinstance(sums, np.ndarray):
        sums += np.frombuffer(qualities.encode("ascii"), dtype=np.uint8)
    else:
        value[1] = _as_lanes(sums) + _lanes(qualities)


def _count(value: Entry) -> int:
    return value if isinstance(value, int) else value[0]


def _size(family: Family) -> int:
    """Reads of a family (sequence -> count or [count, sums])."""
    return sum([value if isinstance(value, int) else value[0] for value in family.values()])


def _combine(into: Family, family: Family) -> None:
    """Add the (sequence -> count or [count, sums]) entries of ``family`` to ``into``."""
    for sequence, value in family.items():
        mine = into.get(sequence)
        if mine is None:
            into[sequence] = value if isinstance(value, int) else [value[0], value[1]]
            continue
        count = _count(mine) + _count(value)
        if mine.__class__ is int and value.__class__ is int:
            into[sequence] = count
            continue
        sums_a = 0 if isinstance(mine, int) else mine[1]
        sums_b = 0 if isinstance(value, int) else value[1]
        if count <= _LANE_READS and not isinstance(sums_a, np.ndarray) and not isinstance(sums_b, np.ndarray):
            into[sequence] = [count, _as_lanes(sums_a) + _as_lanes(sums_b)]
        else:
            into[sequence] = [count, _as_array(sums_a, len(sequence)) + _as_array(sums_b, len(sequence))]


def _quality_at(sums: Sums, position: int) -> int:
    """The summed quality codes of a pair's reads at ``position``."""
    if isinstance(sums, int):
        return (sums >> (16 * position)) & 0xFFFF
    if isinstance(sums, str):
        return ord(sums[position])
    return int(sums[position])


_PREFERENCE = {"A": 3, "C": 2, "G": 1, "T": 0}


def _vote(family: Family, sequences: list[str], length: int) -> str:
    """Per-position plurality of the ``sequences`` (distinct, all of ``length``) of a family; see the module docstring.

    Only the positions where the sequences differ are voted on; elsewhere every read has the same base.
    """
    bases = np.frombuffer("".join(sequences).encode("ascii"), dtype=np.uint8).reshape(len(sequences), length)
    columns = np.flatnonzero((bases != bases[0]).any(axis=0)).tolist()
    values = [family[sequence] for sequence in sequences]
    consensus = list(sequences[0])
    for column in columns:
        # base -> (reads, summed quality codes, preference A > C > G > T)
        tally: dict[str, list[int]] = {}
        for sequence, value in zip(sequences, values):
            base = sequence[column]
            if base == "N":
                continue
            entry = tally.get(base)
            if entry is None:
                entry = tally[base] = [0, 0, _PREFERENCE[base]]
            if isinstance(value, int):
                entry[0] += value
            else:
                entry[0] += value[0]
                entry[1] += _quality_at(value[1], column)
        consensus[column] = max(tally.items(), key=lambda item: item[1])[0] if tally else "N"
    return "".join(consensus)


def _consensus(family: Family) -> str:
    """The consensus of one molecule's reads (a dict sequence -> count or [count, sums])."""
    if len(family) == 1:
        return next(iter(family))
    items = [(sequence, value if isinstance(value, int) else value[0]) for sequence, value in family.items()]
    length = len(items[0][0])
    if any(len(sequence) != length for sequence, _ in items):
        by_length: dict[int, list[tuple[str, int]]] = {}
        for item in items:
            by_length.setdefault(len(item[0]), []).append(item)
        # Most reads, then the most common sequence, then the longer length.
        length = max(
            by_length, key=lambda size: (sum(c for _, c in by_length[size]), max(c for _, c in by_length[size]), size)
        )
        items = by_length[length]
        if len(items) == 1:
            return items[0][0]
    total = 0
    top_count = -1
    top = ""
    for sequence, count in items:
        total += count
        if count > top_count:
            top_count, top = count, sequence
    if 2 * top_count > total and "N" not in top:
        return top
    return _vote(family, [sequence for sequence, _ in items], length)


_DIGITS = np.zeros(256, dtype=np.int64)
_DIGITS[np.frombuffer(b"ACGTN", dtype=np.uint8)] = np.arange(5)
_LAYOUT = str.maketrans("ACGTN", ".....")


def _neighbour_pairs(umis: list[str]) -> list[tuple[str, str]]:
    """All pairs of ``umis`` one substitution apart (same length and '+' layout; N is a base like any other).

    UMIs are grouped by layout; within a group each UMI is a base-5 number, and for every position the UMIs
    whose numbers agree once that digit is zeroed (found by sorting) differ at exactly that position.
    """
    layouts: dict[str, list[str]] = {}
    for umi in umis:
        layouts.setdefault(umi.translate(_LAYOUT), []).append(umi)
    pairs: list[tuple[str, str]] = []
    for layout, members in layouts.items():
        if len(members) < 2:
            continue
        bases = len(layout) - layout.count("+")
        if bases > 27:  # beyond int64: masked strings
            masked: dict[str, list[str]] = {}
            for umi in members:
                for position, character in enumerate(umi):
                    if character != "+":
                        masked.setdefault(f"{umi[:position]}.{umi[position + 1 :]}", []).append(umi)
            for group in masked.values():
                pairs.extend(itertools.combinations(group, 2))
            continue
        digits = _DIGITS[
            np.frombuffer("".join(members).replace("+", "").encode("ascii"), dtype=np.uint8).reshape(-1, bases)
        ]
        weights = 5 ** np.arange(bases, dtype=np.int64)
        numbers = digits @ weights
        for position in range(bases):
            keys = numbers - digits[:, position] * weights[position]
            order = np.argsort(keys, kind="stable")
            ordered = keys[order]
            equal = ordered[1:] == ordered[:-1]
            if not equal.any():
                continue
            # Runs of equal keys: starts where a run begins, ends one past where it stops.
            edges = np.diff(np.concatenate(([False], equal, [False])).astype(np.int8))
            for run_start, run_end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) + 1):
                group = [members[index] for index in order[run_start:run_end]]
                pairs.extend(itertools.combinations(group, 2))
    return pairs


class MoleculeCollector:
    """Groups reads by UMI and builds one consensus read per molecule.

    Memory grows with molecules x distinct sequences per molecule, not reads (see the module docstring).
    """

    def __init__(self, settings: UmiSettings = UmiSettings()) -> None:
        self.settings = settings
        self._families: dict[str, Family] = {}
        self._sequences: dict[str, str] = {}
        self.reads = 0
        """Reads added."""

    def __len__(self) -> int:
        """Distinct UMIs seen so far."""
        return len(self._families)

    def add(self, umi: str, sequence: str, qualities: str | None = None) -> None:
        """Count one read of molecule ``umi``; ``qualities`` (Phred+33), when given, break consensus ties."""
        self.reads += 1
        family = self._families.get(umi)
        if qualities is None:
            if family is None:
                self._families[umi] = {self._sequences.setdefault(sequence, sequence): 1}
                return
            value = family.get(sequence)
            if value is None:
                family[self._sequences.setdefault(sequence, sequence)] = 1
            elif value.__class__ is int:
                family[sequence] = value + 1
            else:
                _add_qualities(value, value[0], None, len(sequence))  # type: ignore[index,arg-type]
            return
        if len(qualities) != len(sequence):
            self.reads -= 1
            raise ValueError(f"{len(qualities)} qualities for a read of {len(sequence)} bases")
        if family is None:
            self._families[umi] = {self._sequences.setdefault(sequence, sequence): [1, qualities]}
            return
        value = family.get(sequence)
        if value is None:
            # A pair's first read keeps its quality string; sums start with the second.
            family[self._sequences.setdefault(sequence, sequence)] = [1, qualities]
        elif value.__class__ is list and value[1].__class__ is int and value[0] < _LANE_READS:
            value[0] += 1
            value[1] += int.from_bytes(qualities.encode("utf-16-le"), "little")
        elif value.__class__ is int:
            entry = [value, 0]
            _add_qualities(entry, value, qualities, len(sequence))
            family[sequence] = entry
        else:
            _add_qualities(value, value[0], qualities, len(sequence))  # type: ignore[index,arg-type]

    def _groups(self) -> tuple[list[tuple[Family, int]], int]:
        """(family, reads) per molecule in order of first appearance of its UMI, and the UMIs merged away."""
        families = self._families
        sizes = {umi: _size(family) for umi, family in families.items()}
        pairs = _neighbour_pairs(list(families)) if self.settings.merge_distance and len(families) > 1 else []
        neighbours: dict[str, list[str]] = {}
        for a, b in pairs:
            size_a, size_b = sizes[a], sizes[b]
            if size_a >= 2 * size_b - 1:
                neighbours.setdefault(a, []).append(b)
            if size_b >= 2 * size_a - 1:
                neighbours.setdefault(b, []).append(a)
        if not neighbours:
            return [(family, sizes[umi]) for umi, family in families.items()], 0
        # Roots from the largest family down (ties by UMI); each claims, breadth first, unclaimed UMIs it reaches.
        # Only UMIs with outgoing edges can claim others (a UMI with only incoming edges always has a parent
        # ranked above it).  Which UMIs one search claims does not depend on the order it visits them in.
        root_of: dict[str, str] = {}
        for root in sorted(neighbours, key=lambda umi: (-sizes[umi], umi)):
            if root in root_of:
                continue
            root_of[root] = root
            queue = deque([root])
            while queue:
                for child in neighbours.get(queue.popleft(), ()):
                    if child not in root_of:
                        root_of[child] = root
                        queue.append(child)
        merged: dict[str, Family] = {}
        for umi, root in root_of.items():
            if root != umi:
                if root not in merged:
                    merged[root] = {}
                    _combine(merged[root], families[root])
                _combine(merged[root], families[umi])
        groups = []
        for umi, family in families.items():
            root = root_of.get(umi, umi)
            if root == umi:
                combined = merged.get(umi)
                if combined is None:
                    groups.append((family, sizes[umi]))
                else:
                    groups.append((combined, _size(combined)))
        return groups, len(families) - len(groups)

    def consensus(self) -> MoleculeResult:
        """One consensus read per molecule (families of at least ``min_reads`` reads), with the tallies."""
        groups, merged_away = self._groups()
        result = MoleculeResult(umis=len(self._families), umis_merged=merged_away)
        min_reads = self.settings.min_reads
        histogram: dict[int, int] = {}
        sequences = result.sequences
        reads_per_sequence = result.reads_per_sequence
        for family, size in groups:
            histogram[size] = histogram.get(size, 0) + 1
            if size < min_reads:
                result.molecules_dropped += 1
                result.reads_dropped += size
                continue
            read = _consensus(family)
            sequences[read] = sequences.get(read, 0) + 1
            reads_per_sequence[read] = reads_per_sequence.get(read, 0) + size
            result.molecules += 1
            result.reads_in_molecules += size
        result.family_size_histogram = dict(sorted(histogram.items()))
        return result
