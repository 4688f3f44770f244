"""Quality masking's masked reads tallied without merging (#13): the engine's plain run (no kept calls, no BAM)
expands each (unique read, mask) into a masked read of its own, without decoding and comparing masked results
to merge those alike once masked, because the tally adds reads up: its counts, alleles and position profiles
are the same either way.  A masked read of the usual mask reuses its unique read's result as just decoded
(:class:`editcheck.engine.masking.ResultDecoder`): one decoding per unique read."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from editcheck.classification.called import CalledRead
from editcheck.design import build_design
from editcheck.engine import masking
from editcheck.engine.masking import QualityMasking, ResultDecoder, SitesWorker, decoded_result
from editcheck.quantification.tally import Tally, tally_reads
from editcheck.reads.records import UniqueRead
from masking_helpers import AMPLICON, GUIDE, Q20, add_random_reads, other_base


def _reads(generator: random.Random) -> list[str]:
    """Distinct reads of the amplicon: every error base at 20 positions outside the window (masked at that
    position, the three are alike), and 300 reads with 1-3 substitutions (some in the window), an indel now and
    then, a fifth reverse complemented."""
    reads: dict[str, None] = {}
    for position in range(5, 65, 3):
        for k in range(3):
            reads[AMPLICON[:position] + other_base(AMPLICON[position], k) + AMPLICON[position + 1 :]] = None
    return add_random_reads(reads, 360, generator)


def _expansion(
    merge_alike: bool, seed: int, streamed: bool = False, python: bool = False, again: bool = False
) -> tuple[Any, Any]:  # fmt: skip
    """The design and the expansion of 360 unique reads (1-3 reads each, :func:`_reads`), most with their first
    read low at the first of their differences from the amplicon and at random positions (sent with it to the
    worker), some with a later read low everywhere (counted by the main process); with ``again``, a later read
    of each other unique read of several reads low where its first read was (the worker's mask, counted again by
    the main process)."""
    design = build_design(AMPLICON, [GUIDE])
    generator = random.Random(seed)
    sequences = _reads(generator)
    reads = [generator.choice((1, 1, 2, 3)) for _ in sequences]
    lows: list[Any] = []
    for sequence in sequences:
        first = next((p for p, (a, b) in enumerate(zip(sequence, AMPLICON)) if a != b), 0)
        low = tuple(sorted({first, *generator.sample(range(len(sequence)), 20)}))
        lows.append(((low, 1),) if generator.random() < 0.8 else ())
    worker = SitesWorker([design], Q20)
    quality_masking = QualityMasking([design], Q20, keep_entries=False, keep_keys=False, merge_alike=merge_alike)
    results = worker(sequences, (b"", list(lows)))
    for index, (sequence, result) in enumerate(zip(sequences, results)):
        quality_masking.settle(index, sequence, result)
    for index, (sequence, count, low) in enumerate(zip(sequences, reads, lows)):
        if count > 1 and not low:  # a read of the sequence counted after it settled, low at its sites
            quality_masking.masks.add(index, "#" * len(sequence))
        elif again and count > 1 and low:  # another read with the first read's low positions
            ((positions, _),) = low
            quality_masking.masks.add(index, "".join("#" if k in positions else "I" for k in range(len(sequence))))
    unique = iter([(UniqueRead(s, n), result[0], n) for s, n, result in zip(sequences, reads, results)])
    if again:  # the worker's one mask counted again by the main process (the compiled pass's own case): found
        again_masked = sum(
            1 for index, (_, positions, masked) in enumerate(results)
            if masked and len(masked) == masking.RECORD
            and [mask for (k, mask), _ in quality_masking.masks.masks.items() if k == index] == [masked[0]]
        )  # fmt: skip
        assert again_masked > 20, again_masked
    if streamed:  # the tally's calls in one pass, nothing expanded kept (``python``: by the reference)
        return design, list((quality_masking.python_calls if python else quality_masking.calls)(unique))
    return design, quality_masking.expand(unique)


def _tally(design: Any, entries: list[tuple[UniqueRead, Any, int | None]]) -> Tally:
    decoded = ResultDecoder()
    calls = []
    for read, kept, _ in entries:
        result = decoded(read.key, kept)
        assert result == decoded_result(read.key, kept)  # the reused decoding is the decoding
        if result.call is not None and read.reads:
            calls.append(CalledRead(read.key, read.reads, result.alignment, result.call))
    return tally_reads(design, calls)


@pytest.mark.parametrize("seed", [3, 8])
def test_masked_reads_tallied_apart_count_as_when_merged(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    design, merged = _expansion(True, seed)
    compared: list[Any] = []
    monkeypatch.setattr(masking, "decoded_result", lambda *arguments: compared.append(arguments))
    _, apart = _expansion(False, seed)
    monkeypatch.undo()
    assert compared == []  # nothing decoded to merge
    merged_entries, apart_entries = list(merged.entries()), list(apart.entries())
    masked = [read.reads for read, _, collapsed in apart_entries if collapsed is None]
    assert len(masked) > len([1 for _, _, collapsed in merged_entries if collapsed is None]) + 20
    assert sum(masked) == sum(read.reads for read, _, collapsed in merged_entries if collapsed is None) > 200
    expected, got = _tally(design, merged_entries), _tally(design, apart_entries)
    assert got.outcomes == expected.outcomes and got.alleles == expected.alleles
    assert got.deletion_sizes == expected.deletion_sizes and got.insertion_sizes == expected.insertion_sizes
    assert (got.with_substitution, got.with_indel) == (expected.with_substitution, expected.with_indel)
    for profile, expected_profile in zip(got.positions, expected.positions, strict=True):
        assert np.array_equal(profile.counts, expected_profile.counts)
        assert np.array_equal(profile.insertions_after, expected_profile.insertions_after)
    assert any("N" in allele.aligned_sequence for allele in got.alleles)


def _counted_decodings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sequences :func:`~editcheck.engine.masking.decode_result` decodes from now on, one per call."""
    decodings: list[str] = []
    original = masking.decode_result

    def counted(sequence: str, encoded: bytes) -> Any:
        decodings.append(sequence)
        return original(sequence, encoded)

    monkeypatch.setattr(masking, "decode_result", counted)
    return decodings


def test_a_masked_read_reuses_its_unique_reads_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    _, expanded = _expansion(False, 5)
    entries = list(expanded.entries())
    unique = sum(1 for _, _, collapsed in entries if collapsed is not None)
    usual = sum(1 for _, kept, collapsed in entries if collapsed is None and kept.substituted)
    decodings = _counted_decodings(monkeypatch)
    decoded = ResultDecoder()
    for read, kept, _ in entries:
        decoded(read.key, kept)
    assert usual > 200 and len(decodings) == len(entries) - usual == unique + (len(entries) - unique - usual)


@pytest.mark.parametrize("merge_alike", [False, True])
def test_the_tallys_calls_are_every_read_with_reads_decoded(merge_alike: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """``ExpandedReads.calls``: every entry with reads and a call, decoded, in order; a unique read whose reads
    are all masked is decoded only for its usual masked reads, once."""
    _, expanded = _expansion(merge_alike, 4)
    entries = list(expanded.entries())
    expected = [
        CalledRead(read.key, read.reads, result.alignment, result.call)
        for read, kept, _ in entries
        for result in (decoded_result(read.key, kept),)
        if result.call is not None and read.reads
    ]
    emptied = sum(1 for read, _, collapsed in entries if collapsed is not None and not read.reads)
    decodings = _counted_decodings(monkeypatch)
    assert list(expanded.calls(consume=True)) == expected and len(expected) > 300 and emptied > 100
    assert len(decodings) < len(entries) - emptied // 2
    assert set(expanded.keys) == {""}  # freed as read


@pytest.mark.parametrize("seed", [4, 9])
def test_the_one_pass_calls_are_the_expanded_reads_calls(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``QualityMasking.calls`` (the engine's plain run: one pass, nothing expanded kept) gives the calls of
    ``expand`` without merging and ``ExpandedReads.calls``, in order, with the masks the main process counted
    called there too; and nothing is decoded to merge."""
    _, expanded = _expansion(False, seed)
    expected = list(expanded.calls())
    compared: list[Any] = []
    monkeypatch.setattr(masking, "decoded_result", lambda *arguments: compared.append(arguments))
    _, streamed = _expansion(False, seed, streamed=True)
    assert streamed == expected and len(expected) > 300 and compared == []
    assert sum(1 for called in streamed if "N" in called.alignment.projection) > 100


@pytest.mark.parametrize("seed", [2, 6, 9])
def test_the_compiled_tally_pass_gives_the_references_calls(seed: int) -> None:
    # masked_tally_calls (compiled) against QualityMasking.python_calls on the same unique reads: the same calls,
    # equal and in the same order, from unique reads with no mask, with the worker's one mask, and with masks the
    # main process counted (the pass asks QualityMasking._expansion for those).
    if getattr(masking, "masked_tally_calls", None) is None:
        pytest.skip("the compiled hot path is not built")
    _, compiled = _expansion(False, seed, streamed=True)
    _, reference = _expansion(False, seed, streamed=True, python=True)
    assert compiled == reference and len(reference) > 300
    _, compiled_again = _expansion(False, seed, streamed=True, again=True)
    _, reference_again = _expansion(False, seed, streamed=True, python=True, again=True)
    assert compiled_again == reference_again and compiled_again != compiled
    assert [type(called) for called in compiled] == [CalledRead] * len(compiled)
    masked = sum(1 for called in compiled if "N" in called.alignment.projection)
    assert masked > 100
