"""The compiled read-pair merge (editcheck.reads._pairs_compiled, Cython) against its pure-Python reference
(editcheck.reads.merge.merge_placed_reference): the same placement, merged read, qualities and difference mask
on seeded simulated pairs of every kind the merge meets (issue #13).

The pairs: fragments shorter than, as long as and longer than the reads (read-through into the adapter, a
dovetail, no overlap at all), reads of different lengths and very short reads (every offset tried),
repetitive fragments (several placements scoring alike), sequencing substitutions and Ns at several rates
(mismatching overlaps, broken seeds), unrelated mates, every merge setting's corner.  Qualities vary from 2
to 41, so the consensus takes either mate and low qualities decide.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from editcheck.reads import _pairs_compiled, merge, merged_lows, pair_chunks
from editcheck.reads.collapse import QualityMasks
from editcheck.reads.merge import MergeSettings, merge_placed, merge_placed_reference
from editcheck.sequences import reverse_complement

PAIRS = 12_000
QUALITIES = [2, 8, 11, 15, 19, 20, 25, 30, 35, 37, 40, 41]


def _random_bases(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("ACGT") for _ in range(length))


def _sequenced(rng: random.Random, read: str, error_rate: float, n_rate: float) -> str:
    """``read`` with substitutions (possibly to the same base) and Ns."""
    bases = list(read)
    for i in range(len(bases)):
        draw = rng.random()
        if draw < error_rate:
            bases[i] = rng.choice("ACGT")
        elif draw < error_rate + n_rate:
            bases[i] = "N"
    return "".join(bases)


def _pair(rng: random.Random) -> tuple[str, str, str, str, MergeSettings]:
    """One simulated pair (R1, its qualities, R2 as sequenced, its qualities) and the merge settings."""
    read_length = rng.choice([8, 25, 40, 41, 75, 100, 150, 151, 250])
    if rng.random() < 0.1:
        fragment = (_random_bases(rng, rng.randint(1, 6)) * 200)[: rng.randint(20, 400)]  # repetitive
    else:
        fragment = _random_bases(rng, rng.randint(5, 450))
    length1 = read_length if rng.random() < 0.7 else rng.randint(1, 220)
    length2 = read_length if rng.random() < 0.7 else rng.randint(1, 220)
    first = fragment[:length1]
    second = reverse_complement(fragment)[:length2]
    # A fragment shorter than a read: the read runs on into the adapter.
    first += _random_bases(rng, length1 - len(first))
    second += _random_bases(rng, length2 - len(second))
    error_rate = rng.choice([0.0, 0.005, 0.02, 0.08, 0.2])
    n_rate = rng.choice([0.0, 0.0, 0.01, 0.1, 0.6])
    first = _sequenced(rng, first, error_rate, n_rate)
    second = _sequenced(rng, second, error_rate, n_rate)
    if rng.random() < 0.05:
        second = _random_bases(rng, len(second))  # unrelated mates
    qualities1 = "".join(chr(33 + rng.choice(QUALITIES)) for _ in first)
    qualities2 = "".join(chr(33 + rng.choice(QUALITIES)) for _ in second)
    settings = MergeSettings(
        min_overlap=rng.choice([5, 10, 10, 10, 20, 30]), max_mismatch_rate=rng.choice([0, 0.05, 0.1, 0.1, 0.2, 0.49])
    )
    return first, qualities1, second, qualities2, settings


def test_the_compiled_merge_is_built_and_selected() -> None:
    assert merge.IMPLEMENTATION == "compiled"
    placed = merge_placed("ACGTACGTTTGACCA", "IIIIIIIIIIIIIII", "TGGTCAAACGT", "IIIII#IIIII")
    assert placed == ("ACGTACGTTTGACCA", "IIIIIIIIIIIIIII", 4, 0)


def test_the_compiled_merge_equals_the_reference_on_simulated_pairs() -> None:
    rng = random.Random(13)
    kinds = {"merged": 0, "not merged": 0, "with differences": 0, "tiny": 0, "second pass": 0}
    for _ in range(PAIRS):
        first, qualities1, second, qualities2, settings = _pair(rng)
        expected = merge_placed_reference(first, qualities1, second, qualities2, settings)
        rate = settings.max_mismatch_rate
        found = _pairs_compiled.merge_placed(
            first, qualities1, second, qualities2, settings.min_overlap, rate, merge.dense_seed_length(rate)
        )
        assert found == expected, (first, qualities1, second, qualities2, settings)
        if expected is None:
            kinds["not merged"] += 1
            continue
        kinds["merged"] += 1
        kinds["with differences"] += expected[3] != 0
        kinds["tiny"] += min(len(first), len(second)) <= 40
        start, end = merge.overlap_span(len(first), len(second), expected[2])
        kinds["second pass"] += end - start - 4 * bin(expected[3]).count("1") < 20
    # Every kind of case was met, many times.
    assert min(kinds.values()) > 300, kinds


def test_both_merges_agree_on_the_merge_docstring_cases() -> None:
    settings = MergeSettings()
    # Overlap of 8 bases with one mismatch where R2's quality wins, and an N in R1 (R2's base and quality).
    first, second = "GATTACAGATTACAGGCCTTAANCGT", reverse_complement("GGCCTTAATCGTCCGGAAT")
    qualities1, qualities2 = "I" * 26, "5" * 19
    expected = merge_placed_reference(first, qualities1, second, qualities2, settings)
    assert expected is not None and expected[0] == "GATTACAGATTACAGGCCTTAATCGTCCGGAAT"
    assert merge_placed(first, qualities1, second, qualities2, settings) == expected


def test_non_ascii_reads_take_the_reference() -> None:
    first, second = "ACGTACGTTTGACCAé", "TGGTCAAACGT"
    with pytest.raises(UnicodeEncodeError):
        _pairs_compiled.merge_placed(first, "I" * 16, second, "I" * 11, 10, 0.1, 7)
    assert merge_placed(first, "I" * 16, second, "I" * 11) == merge_placed_reference(first, "I" * 16, second, "I" * 11)


def test_unequal_qualities_are_refused_by_both() -> None:
    for function in (merge_placed, merge_placed_reference):
        with pytest.raises(ValueError, match="as many quality characters"):
            function("ACGT", "III", "ACGT", "IIII")


def test_the_pure_python_variable_selects_the_reference() -> None:
    source = Path(merge.__file__).parents[2]
    code = "from editcheck.reads import merge; print(merge.IMPLEMENTATION)"
    environment = {**os.environ, "EDITCHECK_PURE_PYTHON": "1", "PYTHONPATH": str(source)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    assert result.stdout.strip() == "python"


def test_a_missing_extension_falls_back_to_the_reference_with_one_warning_line() -> None:
    source = Path(merge.__file__).parents[2]
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'editcheck.reads._pairs_compiled':\n"
        "            raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from editcheck.reads import merge, merged_lows, pair_chunks\n"
        "print(merge.IMPLEMENTATION, merged_lows._compiled_disagreeing, pair_chunks.split_records)\n"
    )
    environment = {**os.environ, "EDITCHECK_PURE_PYTHON": "", "PYTHONPATH": str(source)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    assert result.stdout == "python None None\n"
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        "editcheck: warning: the compiled read-pair merge is not built (blocked for the test)"
    )


def test_number_pairs_equals_the_reference() -> None:
    rng = random.Random(7)
    pool = [_random_bases(rng, rng.choice([0, 1, 7, 8, 9, 150])).encode() for _ in range(40)]
    pool += [b"AC", b"GT", b"A", b"CGT", b"ACGT"]  # equal when joined, different as pairs
    first = [rng.choice(pool) for _ in range(5_000)] + [b"AC", b"A", b"GT", b"CGT"]
    second = [rng.choice(pool) for _ in range(5_000)] + [b"GT", b"CGT", b"AC", b"A"]
    first = [bytes(sequence) for sequence in first]  # equal pairs as different objects
    read_pairs, firsts = pair_chunks.number_pairs(first, second)
    expected_pairs, expected_firsts = pair_chunks.number_pairs_reference(first, second)
    assert read_pairs.tolist() == expected_pairs.tolist()
    assert firsts == expected_firsts
    assert len(firsts) == len(set(zip(first, second))) > 500
    assert len(set(read_pairs[-4:].tolist())) == 4


def test_number_pairs_is_the_compiled_one() -> None:
    assert pair_chunks.number_pairs is _pairs_compiled.number_pairs
    assert pair_chunks.number_pairs([], [])[1] == []


PLAIN = b"@r1 1:N:0:1\nACGTN\n+\nIIII#\n@r2\tx\n\n+\n\n@r3/1\nGATTACA\n+\n!~AB$%&\n"
UNUSUAL = [
    PLAIN.replace(b"ACGTN", b"ACgTN"),  # lowercase: normalised by the per-read reader
    PLAIN.replace(b"ACGTN", b"AC.TN"),
    PLAIN.replace(b"ACGTN", b"ACRTN"),
    PLAIN.replace(b"\n", b"\r\n"),
    PLAIN.replace(b"@r2\tx\n\n+\n", b"@r2\tx\n\n+r2\n"),
    PLAIN.replace(b"IIII#", b"III #"),
    PLAIN.replace(b"IIII#", b"III\x7f#"),
    PLAIN.replace(b"IIII#", b"IIII"),
    PLAIN.replace(b"@r3/1", "@r3/é".encode()),
    PLAIN.replace(b"@r3/1", b"r3/1"),
    PLAIN.replace(b"@r2\tx", b""),
    PLAIN[:-1].rsplit(b"\n", 1)[0] + b"\n",  # a line short
    PLAIN + b"\n",
]


@pytest.mark.parametrize("chunk", [b"", PLAIN, PLAIN[:-1], *UNUSUAL])
def test_split_records_gives_the_reference_records_or_no_verdict(chunk: bytes) -> None:
    expected = pair_chunks._records_reference(chunk)
    assert pair_chunks._records(chunk) == expected
    found = _pairs_compiled.split_records(chunk)
    if chunk in (PLAIN, PLAIN[:-1]):
        assert found is not None and pair_chunks._Records(*found) == expected
        assert [len(sequence) for sequence in found[0]] == [5, 0, 7]
    else:
        assert found is None


def test_split_records_on_simulated_chunks() -> None:
    rng = random.Random(5)
    lines = []
    for number in range(3_000):
        sequence = _random_bases(rng, rng.choice([0, 1, 75, 150, 151]))
        qualities = "".join(chr(rng.randint(33, 126)) for _ in sequence)
        lines.append(f"@read{number} {rng.choice('12')}:N:0:ACGT\n{sequence}\n+\n{qualities}\n")
    chunk = "".join(lines).encode()
    found = _pairs_compiled.split_records(chunk)
    assert found is not None and pair_chunks._Records(*found) == pair_chunks._records_reference(chunk)
    assert pair_chunks._Records(*found).headers == [line.split("\n")[0].encode() for line in lines]


def test_merge_disagreeing_equals_the_merge_and_the_reference_disagreements() -> None:
    rng = random.Random(17)
    disagreeing = 0
    for _ in range(4_000):
        first, qualities1, second, qualities2, settings = _pair(rng)
        placed = merge_placed_reference(first, qualities1, second, qualities2, settings)
        found = merged_lows.merge_disagreeing(first, qualities1, second, qualities2, settings)
        if placed is None:
            assert found is None
            continue
        expected = merged_lows.disagreements(first, second, placed[2], placed[3])
        assert found == (*placed, expected)
        disagreeing += bool(expected)
    assert disagreeing > 300


merged_reads: list[str | None] = []
"""The merged read of each distinct pair of the last :func:`_chunk` (None: not merged)."""


def _chunk(rng: random.Random, pairs: int) -> tuple[list[Any], list[int | None], list[tuple[int, ...]]]:
    """A chunk of simulated pairs (each pair drawn once or read again with other qualities) as ``chunk_lows``
    takes it: its records' arguments, each distinct pair's placement and disagreements (the merge of its first
    read, as the chunked route merges it)."""
    settings = MergeSettings()
    drawn: list[tuple[str, str, str, str]] = []
    for _ in range(pairs):
        if drawn and rng.random() < 0.3:  # the same pair again, with its own qualities
            first, _, second, _ = rng.choice(drawn)
            qualities1 = "".join(chr(33 + rng.choice(QUALITIES)) for _ in first)
            qualities2 = "".join(chr(33 + rng.choice(QUALITIES)) for _ in second)
        else:
            first, qualities1, second, qualities2, _ = _pair(rng)
        drawn.append((first, qualities1, second, qualities2))
    chunk1 = "".join(f"@r{k}\n{first}\n+\n{qualities}\n" for k, (first, qualities, _, _) in enumerate(drawn))
    chunk2 = "".join(f"@r{k}\n{second}\n+\n{qualities}\n" for k, (_, _, second, qualities) in enumerate(drawn))
    records1 = pair_chunks._records(chunk1.encode())
    records2 = pair_chunks._records(chunk2.encode())
    assert records1 is not None and records2 is not None
    read_pairs, firsts = pair_chunks.number_pairs(records1.sequences, records2.sequences)
    placements: list[int | None] = []
    spots: list[tuple[int, ...]] = []
    merged_reads.clear()
    for index in firsts:
        first, qualities1, second, qualities2 = drawn[index]
        placed = merged_lows.merge_disagreeing(first, qualities1, second, qualities2, settings)
        placements.append(None if placed is None else placed[2])
        spots.append(() if placed is None else placed[4])
        merged_reads.append(None if placed is None else placed[0])
    arguments = [
        records1.sequences, records1.joined_qualities, records2.sequences, records2.joined_qualities,
        records1.joined_sequences, records2.joined_sequences, read_pairs,
    ]  # fmt: skip
    return arguments, placements, spots


@pytest.mark.parametrize("threshold", [0, 2, 3, 12, 20, 30, 41, 45])
def test_chunk_lows_equals_the_reference_on_simulated_pairs(threshold: int) -> None:
    """Every kind of pair (overlaps, dovetails, read-through, Ns, disagreeing mates, unmerged pairs), pairs read
    again with other qualities: the same low positions, in the same order and types."""
    rng = random.Random(threshold + 100)
    arguments, placements, spots = _chunk(rng, 3_000)
    expected = merged_lows.chunk_lows_reference(threshold, *arguments, placements, spots)
    found = merged_lows.chunk_lows(threshold, *arguments, placements, spots)
    assert merged_lows._compiled_lows is _pairs_compiled.chunk_lows
    for got, want in zip(found, expected):
        assert got.dtype == want.dtype and got.tolist() == want.tolist()
    merged = sum(d is not None for d in placements)
    assert merged > 600 and len(placements) - merged > 200 and sum(map(len, spots)) > 500
    if 3 <= threshold <= 30:
        assert len(expected.reads) > 10_000


@pytest.mark.parametrize("threshold", [2, 3, 20, 30])
def test_projecting_the_lows_on_the_sites_equals_the_reference(threshold: int) -> None:
    """Chunks of simulated pairs (merged reads met again in later chunks, mates that disagree) projected on sites
    of every shape (none, one position, several, every position, a sequence's sites unknown): the compiled
    projection counts the reference's masks, in the same order."""
    rng = random.Random(threshold)
    gathered = merged_lows.MergedLows()
    index: dict[str, int] = {}
    for _ in range(4):
        arguments, placements, spots = _chunk(rng, 1_500)
        lows = merged_lows.chunk_lows(threshold, *arguments, placements, spots)
        sequence_of_pair = [-1 if read is None else index.setdefault(read, len(index)) for read in merged_reads]
        gathered.add(lows, sequence_of_pair)
    masks = {}
    for name in ("compiled", "reference"):
        sites = QualityMasks(threshold)
        draws = random.Random(1)
        for sequence, number in index.items():
            shape = draws.random()
            if shape < 0.05:
                continue  # unknown (None): no mask
            if shape < 0.1:
                positions = tuple(range(len(sequence)))
            else:
                size = min(len(sequence), draws.choice([0, 1, 1, 2, 5]))
                positions = tuple(sorted(draws.sample(range(len(sequence)), size)))
            sites.settle(number, positions)
        copy = merged_lows.MergedLows()
        copy._chunks = [(keys.copy(), reads.copy()) for keys, reads in gathered._chunks]
        if name == "compiled":
            copy.project(sites)
        else:
            copy.project_reference(sites)
        assert not copy._chunks
        masks[name] = list(sites.masks.items())
    assert merged_lows._compiled_project is _pairs_compiled.project_lows
    assert masks["compiled"] == masks["reference"]
    if threshold > 2:
        assert len(masks["reference"]) > 300 and any(len(mask) > 3 for (_, mask), _ in masks["reference"])
    else:
        assert masks["reference"] == []  # no quality below 2 (Phred 2 is the lowest drawn)


@pytest.mark.parametrize("length", [1, 7, 8, 9, 17, 33])
def test_split_records_takes_exactly_plain_headers_bases_and_qualities(length: int) -> None:
    # Every byte but a line break at every position of the header, the sequence (an 8-byte word and its tail)
    # and the qualities: records only when the line is plain, and then the reference's.
    lines = [b"@" + b"r" * length, b"A" * length, b"+", b"I" * length]
    rules = {
        0: lambda code: code < 128 and code != 13,
        1: lambda code: code in b"ACGTN",
        3: lambda code: 33 <= code <= 126,
    }
    for line, plain in rules.items():
        for position in range(1, length + 1) if line == 0 else range(length):  # the header after its @
            for code in range(256):
                if code == 10:
                    continue
                changed = list(lines)
                edited = bytearray(changed[line])
                edited[position] = code
                changed[line] = bytes(edited)
                chunk = b"\n".join(changed) + b"\n"
                found = _pairs_compiled.split_records(chunk + chunk)
                assert (found is not None) == plain(code), (line, position, code)
                if found is not None:
                    assert pair_chunks._Records(*found) == pair_chunks._records_reference(chunk + chunk)
