"""Base qualities cost no collapsing (issue #13): reads are collapsed on their raw sequence and a low-quality base
matters only where the read differs from its reference (or at a base that decides the call), read by read.

On simulated reads whose sequencing errors carry low qualities and whose correct bases are sometimes low too
(``low_quality_rate``, as on a real sequencer), Q20 keeps as many unique sequences as Q0 and every class
stays within 0.1 percentage points of the truth; hand-made reads check the rule itself, the per-read calls
and that 1 and 2 workers agree.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path
from typing import Any

import pytest

from base_editing_truth import assert_base_editing_matches_truth, percent
from editcheck import simulate
from editcheck.classification.outcomes import ClassificationSettings
from editcheck.classification.quality import (
    masked_alignment,
    masked_call,
    masked_sequence,
    quality_sites,
)  # fmt: skip
from editcheck.design import build_design, reverse_complement
from editcheck.engine import masking
from editcheck.engine.masking import SitesWorker
from editcheck.engine.workers import AmpliconWorker, PooledCall, decode_result
from editcheck.pipeline import AnalysisSettings, quantify
from editcheck.reads.collapse import QualityMasks, QualitySettings, chunk_lows
from editcheck.reads.fastq import iter_single
from editcheck.results.read_calls import ReadCallSpool

READS = 20_000
TOLERANCE = 0.1  # percentage points
Q0 = AnalysisSettings(quality=QualitySettings(min_base_quality=0))
Q20 = AnalysisSettings(quality=QualitySettings(min_base_quality=20))


@pytest.fixture(scope="module")
def abe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, object]:
    folder = tmp_path_factory.mktemp("abe")
    design = simulate.random_design(seed=2024, with_donor=False)
    mix = simulate.OutcomeMix(unmodified=0.5, deletion=0.06, insertion=0.04, substitution=0.0, hdr=0.0, base_edit=0.4)
    truth = simulate.simulate(design, READS, folder / "abe.fastq.gz", mix=mix, base_editor=simulate.BaseEditorSpec(),
                              error_rate=0.005, low_quality_rate=0.01, seed=29)  # fmt: skip
    built = build_design(design.amplicon, [design.guide], base_editor="ABE",
                         target_in_protospacer=truth["base_editing"]["target"])  # fmt: skip
    return folder / "abe.fastq.gz", truth, built


def test_simulated_low_qualities_fall_on_correct_bases_too(abe) -> None:
    path, truth, _ = abe
    low = correct_low = bases = 0
    for _name, _sequence, qualities in iter_single(path):
        bases += len(qualities)
        low += sum(1 for q in qualities if ord(q) - 33 < 20)
    correct_low = low - truth["realised_error_rate"] * bases
    assert truth["low_quality_rate"] == 0.01
    assert correct_low / bases == pytest.approx(0.01, rel=0.1)


def test_quality_masking_keeps_the_unique_sequences_and_the_truth(abe) -> None:
    path, truth, built = abe
    raw = quantify(path, design=built, settings=Q0)
    masked = quantify(path, design=built, settings=Q20)
    # Collapsing is on the raw sequence: masking adds no unique sequence (it more than doubled them before).
    assert len(masked.reads.sequences) == len(raw.reads.sequences)
    tally = masked.tally
    hidden = tally.outcomes["editable_base_masked"]
    assert 0 < hidden < 3 * (0.005 + 0.01) * READS
    determined = tally.classified
    assert determined + hidden == READS == tally.aligned
    assert_base_editing_matches_truth(tally, truth, READS, TOLERANCE)
    # A low-quality error is no substitution: the masked run reports (almost) none, the raw one many.
    assert tally.with_other_substitution <= TOLERANCE / 100 * READS < raw.tally.with_other_substitution


def test_nuclease_with_donor_every_class_within_0_1_points(tmp_path: Path) -> None:
    design = simulate.random_design(seed=31, with_donor=True)
    truth = simulate.simulate(design, READS, tmp_path / "r.fastq.gz", error_rate=0.005, low_quality_rate=0.01, seed=17)
    built = build_design(design.amplicon, [design.guide], expected_hdr_amplicon=design.donor_amplicon)
    raw = quantify(tmp_path / "r.fastq.gz", design=built, settings=Q0)
    result = quantify(tmp_path / "r.fastq.gz", design=built, settings=Q20)
    assert len(result.reads.sequences) == len(raw.reads.sequences)
    tally, counts = result.tally, truth["class_counts"]
    assert tally.classified == READS
    observed = {
        "unmodified": tally.outcomes["unmodified"],
        "modified": tally.outcomes["modified"] + tally.outcomes["large_deletion"],
        "hdr": tally.outcomes["hdr"] + tally.outcomes["imperfect_hdr"],
        "deletion": tally.with_deletion,
        "insertion": tally.with_insertion,
    }
    expected = {
        "unmodified": counts["unmodified"] + counts["substitution"],
        "modified": counts["deletion"] + counts["insertion"],
        "hdr": counts["hdr"],
        "deletion": counts["deletion"],
        "insertion": counts["insertion"],
    }
    for name, reads in expected.items():
        assert percent(observed[name], READS) == pytest.approx(percent(reads, READS), abs=TOLERANCE), name


def test_quality_sites_name_the_read_bases_that_differ(tmp_path: Path) -> None:
    """Every site's read position holds the base the alignment puts there, on reads with indels, with
    overhang and reverse-complemented."""
    design = simulate.random_design(seed=31, with_donor=True)
    simulate.simulate(design, 3000, tmp_path / "r.fastq.gz", error_rate=0.01, seed=5)
    built = build_design(design.amplicon, [design.guide], expected_hdr_amplicon=design.donor_amplicon)
    worker = AmpliconWorker(built, Q20)
    rng = random.Random(3)
    sequences = sorted({sequence for _, sequence, _ in iter_single(tmp_path / "r.fastq.gz")})
    checked = indels = reverse = 0
    for sequence in sequences[:1500]:
        if rng.random() < 0.3:  # primer/adapter overhang: clipped read bases before the aligned ones
            sequence = "".join(rng.choice("ACGT") for _ in range(7)) + sequence
        if rng.random() < 0.5:
            sequence = reverse_complement(sequence)
        aligned, _call = worker(sequence)
        if aligned is None:
            continue
        decisive = worker.classifier.quality_positions(aligned.reference)
        sites = quality_sites(sequence, aligned, decisive)
        oriented = reverse_complement(sequence) if aligned.reverse else sequence
        inserted = dict(aligned.insertions)
        for read_position, position, k in sites:
            at = len(sequence) - 1 - read_position if aligned.reverse else read_position
            expected = aligned.projection[position] if k < 0 else inserted[position][k]
            assert oriented[at] == expected, (sequence, read_position, position, k)
            checked += 1
        substituted = {position for position, _ in aligned.substitutions}
        assert substituted <= {position for _, position, k in sites if k < 0}
        assert sum(len(bases) for _, bases in aligned.insertions) == sum(1 for *_, k in sites if k >= 0)
        indels += bool(aligned.insertions or aligned.deletions)
        reverse += aligned.reverse
    assert checked > 1000 and indels > 100 and reverse > 300


AMPLICON = (
    "CGTCAGGATTGACCGTAGGCTTACGGATCCATGCAAGTCGTACGGATCGATTCAGGCTAACGTTCGGAGCTAGGCATTCGACTGATCGTAGGCAATCG"
    "GATCCTAGCATTGCAGTCGATCGGATTACCGTAGCTAGGTCCAATGCCTAGGCTTGACTGCATAGGC"
)
GUIDE = AMPLICON[70:90]


def _fastq(path: Path, reads: list[tuple[str, str]]) -> None:
    with gzip.open(path, "wt") as handle:
        for number, (sequence, qualities) in enumerate(reads):
            handle.write(f"@r{number}\n{sequence}\n+\n{qualities}\n")


def test_a_low_quality_difference_is_no_substitution_and_an_agreeing_base_counts(tmp_path: Path) -> None:
    cut = AMPLICON.index(GUIDE) + 17
    position = cut - 2  # in the window
    substituted = AMPLICON[:position] + ("A" if AMPLICON[position] != "A" else "C") + AMPLICON[position + 1 :]
    high = "I" * len(AMPLICON)
    low_there = high[:position] + "#" + high[position + 1 :]
    low_elsewhere = high[:10] + "#" + high[11:]  # agrees with the reference: counted as its base
    reads = [(substituted, high)] * 3 + [(substituted, low_there)] * 2 + [(AMPLICON, low_elsewhere)] * 4
    _fastq(tmp_path / "r.fastq.gz", reads)
    design = build_design(AMPLICON, [GUIDE])
    settings = AnalysisSettings(ClassificationSettings(count_substitutions=True), QualitySettings(min_base_quality=20))
    for threads in (1, 2):
        spool = ReadCallSpool(tmp_path / f"spool{threads}.gz")
        result = quantify(tmp_path / "r.fastq.gz", design=design, settings=settings, threads=threads, read_sink=spool)
        assert len(result.reads.sequences) == 2
        assert result.tally.outcomes["modified"] == 3 and result.tally.outcomes["unmodified"] == 6
        alleles = {allele.aligned_sequence: (allele.outcome, allele.reads) for allele in result.tally.alleles}
        masked = substituted[:position] + "N" + substituted[position + 1 :]
        assert alleles == {substituted: ("modified", 3), masked: ("unmodified", 2), AMPLICON: ("unmodified", 4)}
        profile = result.tally.positions[0]
        assert profile.counts[position].sum() == 9 and profile.counts[10].sum() == 9
        n_column = "ACGTN".index("N")
        assert profile.counts[10][n_column] == 0 and profile.counts[position][n_column] == 2
        rows = list(spool.rows())
        assert [row[1] for row in rows] == ["modified"] * 3 + ["unmodified"] * 6


def test_one_and_two_workers_agree_read_by_read(abe, tmp_path: Path) -> None:
    """Reads of a sequence still being aligned (most of them with 2 workers) and of one already aligned get the
    same calls; the per-read calls add up to the tallies."""
    path, _, built = abe
    assert len(quantify(path, design=built, settings=Q20, threads=2).reads.sequences) < 0.55 * READS
    results = []
    for threads in (1, 2):
        spool = ReadCallSpool(tmp_path / f"spool{threads}.gz")
        result = quantify(path, design=built, settings=Q20, threads=threads, read_sink=spool)
        rows = list(spool.rows())
        per_read: dict[str, int] = {}
        for row in rows:
            per_read[row[1]] = per_read.get(row[1], 0) + 1
        assert per_read == {name: reads for name, reads in result.tally.outcomes.items() if reads}
        results.append((rows, result.tally.alleles, dict(result.tally.outcomes)))
    assert results[0] == results[1]


@pytest.mark.parametrize("editor", [False, True])
def test_the_masked_call_is_the_classifiers_call_of_the_masked_alignment(tmp_path: Path, editor: bool) -> None:
    """The shortcut (only the events change when every masked base is a substitution outside the window and
    not decisive) gives what the classifier gives, for every single site and for all sites at once."""
    design = simulate.random_design(seed=31, with_donor=not editor)
    truth = simulate.simulate(design, 3000, tmp_path / "r.fastq.gz", error_rate=0.01, seed=7,
                              base_editor=simulate.BaseEditorSpec() if editor else None)  # fmt: skip
    if editor:
        built = build_design(design.amplicon, [design.guide], base_editor="ABE",
                             target_in_protospacer=truth["base_editing"]["target"])  # fmt: skip
    else:
        built = build_design(design.amplicon, [design.guide], expected_hdr_amplicon=design.donor_amplicon)
    worker = AmpliconWorker(built, Q20)
    checked = shortcut = 0
    for sequence in sorted({sequence for _, sequence, _ in iter_single(tmp_path / "r.fastq.gz")})[:800]:
        aligned, call = worker(sequence)
        if aligned is None:
            continue
        decisive = worker.classifier.quality_positions(aligned.reference)
        sites = quality_sites(sequence, aligned, decisive)
        for chosen in [[site] for site in sites] + ([list(sites)] if len(sites) > 1 else []):
            masked = masked_alignment(aligned, chosen)
            expected = worker.classifier.classify(masked)
            assert masked_call(worker.classifier, aligned, call, chosen, decisive) == (masked, expected)
            checked += 1
            shortcut += expected.outcome == call.outcome and expected.events != call.events
    assert checked > 500 and shortcut > 100


def _with_n(aligned: Any, sites: list[tuple[int, int, int]]) -> Any:
    """The alignment of the read with N at ``sites``, base by base: N in the projection and in inserted bases,
    no substitution there."""
    at = {position for _, position, k in sites if k < 0}
    inserted = {(position, k) for _, position, k in sites if k >= 0}
    projection = "".join("N" if i in at else base for i, base in enumerate(aligned.projection))
    insertions = tuple(
        (position, "".join("N" if (position, k) in inserted else base for k, base in enumerate(bases)))
        for position, bases in aligned.insertions
    )
    substitutions = tuple(site for site in aligned.substitutions if site[0] not in at)
    return aligned._replace(projection=projection, insertions=insertions, substitutions=substitutions)


@pytest.mark.parametrize("editor", [False, True])
def test_the_worker_masks_and_calls_each_sequences_first_reads_as_the_main_process_would(
    tmp_path: Path, editor: bool
) -> None:
    """Each unique sequence reaches its worker with the reads counted before it was sent, by low-quality
    positions; the worker's masks (those positions among the sequence's quality sites), their read counts and
    their calls are the classifier's call of the masked alignment, at substitutions, inserted bases, a base
    editor's editable bases and a donor's changes."""
    design = simulate.random_design(seed=37, with_donor=not editor)
    truth = simulate.simulate(design, 3000, tmp_path / "r.fastq.gz", error_rate=0.01, low_quality_rate=0.03,
                              seed=11, base_editor=simulate.BaseEditorSpec() if editor else None)  # fmt: skip
    if editor:
        built = build_design(design.amplicon, [design.guide], base_editor="ABE",
                             target_in_protospacer=truth["base_editing"]["target"])  # fmt: skip
    else:
        built = build_design(design.amplicon, [design.guide], expected_hdr_amplicon=design.donor_amplicon)
    masks = QualityMasks(20)
    lows: dict[str, dict[tuple[int, ...], int]] = {}
    for _name, sequence, qualities in iter_single(tmp_path / "r.fastq.gz"):
        low = masks.low(qualities)
        counted = lows.setdefault(sequence, {})
        if low:
            counted[low] = counted.get(low, 0) + 1
    sequences = list(lows)
    worker = SitesWorker([built], Q20)
    results = worker(sequences, (b"", [tuple(lows[sequence].items()) for sequence in sequences]))
    reference_worker = AmpliconWorker(built, Q20)
    kinds = {"substitution": 0, "inserted": 0, "decisive": 0}
    reads = 0
    for sequence, (packed, positions, masked) in zip(sequences, results):
        aligned, _call = reference_worker(sequence)
        expected: dict[tuple[int, ...], int] = {}
        if aligned is not None:
            decisive = reference_worker.classifier.quality_positions(aligned.reference)
            sites = quality_sites(sequence, aligned, decisive)
            assert positions == tuple(site[0] for site in sites)
            for low, count in lows[sequence].items():
                mask = tuple(p for p in low if p in set(positions))
                if mask:
                    expected[mask] = expected.get(mask, 0) + count
        records = [masked[k : k + masking.RECORD] for k in range(0, len(masked), masking.RECORD)]
        assert {record[0]: record[1] for record in records} == expected
        for mask, count, key, made, amplicon, reference in records:
            assert aligned is not None
            if type(made) is bytes:  # encoded for the masked sequence
                decoded = decode_result(masked_sequence(sequence, mask), made)
            else:  # the usual mask: the sequence's own result and the masked reference positions
                assert amplicon == 0 and reference == aligned.reference
                kept = masking.MaskedResult(mask, packed, sequence, made, built.references[reference].sequence)
                decoded = masking.decoded_result(masked_sequence(sequence, mask), kept)
            assert isinstance(decoded, PooledCall) and decoded.alignment is not None and decoded.call is not None
            assert key == masking.masked_key(decoded, decoded.alignment, decoded.call)
            masked_aligned, masked_read_call = tuple(decoded.alignment), tuple(decoded.call)
            chosen = [site for site in sites if site[0] in mask]
            alignment = _with_n(aligned, chosen)
            assert masked_aligned == tuple(alignment) == tuple(masked_alignment(aligned, chosen))
            assert masked_read_call == tuple(reference_worker.classifier.classify(alignment))
            substituted = {position for position, _ in aligned.substitutions}
            kinds["substitution"] += any(k < 0 and position in substituted for _, position, k in chosen)
            kinds["inserted"] += any(k >= 0 for *_, k in chosen)
            kinds["decisive"] += any(k < 0 and position in decisive for _, position, k in chosen)
            reads += count
    assert reads > 300 and kinds["substitution"] > 100 and kinds["decisive"] > 20, kinds
    assert editor or kinds["inserted"] > 3, kinds  # the base editor's reads here carry no insertion


def test_with_two_workers_the_main_process_calls_few_masked_reads(abe, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers call the masked reads counted before their sequence was sent (most of them): the main
    process calls only those of reads counted later, and the results are those of one worker."""
    path, _, built = abe
    called = [0]
    original = masking._masked_made

    def counting(*arguments: Any) -> Any:
        called[0] += 1  # in the process that calls it: the forked workers count in their own copy
        return original(*arguments)

    monkeypatch.setattr(masking, "_masked_made", counting)
    monkeypatch.setattr(masking, "chunk_runner", lambda *arguments: None)  # read by read: the calls counted here
    records = getattr(masking, "masked_reads_of", None)
    if records is not None:  # compiled: the usual masks are made without _masked_made

        def counting_records(*arguments: Any) -> Any:
            positions, made = records(*arguments)
            called[0] += sum(type(made[k]) is tuple for k in range(3, len(made), masking.RECORD))
            return positions, made

        monkeypatch.setattr(masking, "masked_reads_of", counting_records)
    one = quantify(path, design=built, settings=Q20, threads=1)
    every = called[0]
    called[0] = 0
    two = quantify(path, design=built, settings=Q20, threads=2)
    assert every > 0.2 * READS and called[0] < 0.1 * every
    assert dict(two.tally.outcomes) == dict(one.tally.outcomes) and two.tally.alleles == one.tally.alleles


@pytest.mark.parametrize("by_chunk", [False, True])
def test_settling_projects_the_pending_reads_on_the_sites(by_chunk: bool) -> None:
    """Reads counted while their sequence is in flight are projected on its sites when it settles: each read's
    low positions among the sites, counted per projection (no sites, one site, several; low there or not);
    settled one by one or a chunk at a time (``settle_from``, as the engine does), some sequences without
    pending reads."""
    generator = random.Random(7)
    masks = QualityMasks(20)
    expected: dict[tuple[int, tuple[int, ...]], int] = {}
    chunk: list[tuple[int, ...]] = []
    all_sites: list[tuple[int, ...]] = []
    for index in range(300):
        masks.sites.append(None)
        if index % 4 == 3:  # no read of it counted while in flight
            sites = tuple(sorted(generator.sample(range(50), generator.choice((0, 1, 2)))))
            chunk.append(sites)
            all_sites.append(sites)
            continue
        qualities = ["I" * 50 for _ in range(generator.randint(1, 4))]
        lows = []
        for k in range(len(qualities)):
            low = sorted(generator.sample(range(50), generator.randint(1, 6)))
            qualities[k] = "".join("#" if p in low else "I" for p in range(50))
            lows.append(tuple(low))
        for read in qualities:
            masks.add(index, read)
        sites = tuple(sorted(generator.sample(range(50), generator.choice((0, 1, 1, 1, 2, 5)))))
        if generator.random() < 0.5 and sites:
            sites = (lows[0][0],) if len(sites) == 1 else (lows[0][0], *[p for p in sites if p > lows[0][0]])
        all_sites.append(sites)
        if by_chunk:
            chunk.append(sites)
            if len(chunk) >= 7:
                masks.settle_from(index + 1 - len(chunk), chunk)
                chunk = []
        else:
            masks.settle(index, sites)
        for low in lows:
            projected = tuple(p for p in low if p in sites)
            if projected:
                expected[(index, projected)] = expected.get((index, projected), 0) + 1
    if by_chunk:
        masks.settle_from(300 - len(chunk), chunk)
    else:
        for index in range(3, 300, 4):
            masks.settle(index, all_sites[index])
    assert [masks.take_pending(index) for index in range(300)] == [()] * 300
    assert masks.sites == all_sites
    assert masks.masks == expected and len(expected) > 120
    assert sum(1 for _, mask in expected if len(mask) == 1) > 100 and any(len(mask) > 1 for _, mask in expected)


@pytest.mark.parametrize("seed", range(6))
def test_pending_reads_taken_by_span_are_those_taken_one_by_one(seed: int) -> None:
    """The engine takes a chunk's pending reads at once (``take_chunk``, merged by ``chunk_lows``): for every
    sequence of the span what ``take_pending`` gives it, in order, and the same left pending (sequences outside the
    span, settled or not), whatever the spans (empty, beyond the sequences seen, overlapping what was taken
    already)."""
    rng = random.Random(seed)
    qualities = "".join(rng.choice("#+5?I") for _ in range(30))

    def replayed() -> QualityMasks:
        masks = QualityMasks(20)
        replay = random.Random(seed)
        for _ in range(600):
            index = replay.randrange(60)
            if replay.random() < 0.05:
                masks.settle(index, tuple(sorted(replay.sample(range(30), replay.randrange(3)))))
            else:
                masks.add(index, "".join(replay.choice([q, "#"]) for q in qualities))
        return masks

    by_span, one_by_one = replayed(), replayed()
    assert sum(1 for index in range(60) if one_by_one._pending.get(index)) > 10
    for start, stop in [(0, 0), (10, 25), (20, 40), (55, 80), (0, 60), (70, 90)]:
        expected = [one_by_one.take_pending(index) for index in range(start, stop)]
        assert chunk_lows(*by_span.take_chunk(start, stop)) == expected
        assert by_span._pending == one_by_one._pending


def test_a_sequences_pending_reads_are_one_ready_pair_until_its_second_read() -> None:
    # Most sequences have one read while in flight: it is kept as the ((positions, 1),) take_pending gives, no
    # dict made and freed for it; a second read turns it into a dict, counted by positions in first-seen order.
    masks = QualityMasks(20)
    first, second = "#" + "I" * 9, "I#" + "I" * 8
    assert masks.add(0, first) == (0,)
    assert masks._pending[0] == (((0,), 1),)
    masks.add(0, second)
    masks.add(0, first)
    assert masks._pending[0] == {(0,): 2, (1,): 1}
    masks.add(1, second)
    assert chunk_lows(*masks.take_chunk(0, 2)) == [(((0,), 2), ((1,), 1)), (((1,), 1),)]
    masks.add(2, first)
    masks.add(2, second)
    masks.settle(2, (1, 5))  # projected onto its sites: the read low at 1
    assert masks.masks == {(2, (1,)): 1}
