"""Quality masking's worker side compiled (#13): a unique read's quality sites
(:func:`editcheck.alignment._compiled.quality_sites_of`) and its masked reads
(:func:`editcheck.alignment._compiled.masked_reads_of`, the sites found and the usual mask made in C, any other
by :class:`editcheck.alignment._compiled.OtherMasks`, whose reference is
:func:`editcheck.engine.masking._made_otherwise`) against their pure-Python references
(:func:`editcheck.classification.quality.quality_sites`, :meth:`editcheck.engine.masking.SitesWorker.masked`).

The reads: simulated unique reads of every outcome class of three designs (a nuclease with an HDR donor, whose
donor changes are decisive bases; an adenine base editor, whose editable bases are; a prime editor, whose masks
are never the usual one), varied by sequencing substitutions, overhang and the reverse strand, each given
random low-quality reads: masks of one site, of several, in and out of the window, on decisive and inserted
bases, with positions that are no site, and the same mask twice.  Both implementations must give identical
sites, masks, read counts, made results and :func:`~editcheck.engine.masking.masked_key` keys.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dnaio
import pytest

from editcheck import simulate
from editcheck.alignment import _compiled
from editcheck.classification import quality
from editcheck.classification.outcomes import ClassificationSettings, Classifier
from editcheck.classification.quality import masked_read, quality_sites
from editcheck.design import AmpliconDesign, Reference, build_design
from editcheck.engine import masking
from editcheck.engine.masking import RECORD, SitesWorker
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.workers import encode_result
from editcheck.reads.collapse import QualitySettings
from editcheck.sequences import reverse_complement
from editcheck.simulate.prime import PrimeEditSpec

READS_PER_DESIGN = 2500
Q20 = AnalysisSettings(ClassificationSettings(), QualitySettings(min_base_quality=20))


def _alleles(folder: Path, design: simulate.SimulationDesign, **options: object) -> tuple[list[str], dict]:
    folder.mkdir()
    truth = simulate.simulate(design, 2000, folder / "reads.fastq", error_rate=0.0, seed=3, **options)
    with dnaio.open(folder / "reads.fastq") as reads:
        return sorted({read.sequence for read in reads}), truth


def _variants(alleles: list[str], count: int, seed: int) -> list[str]:
    """``count`` distinct reads: alleles with 0-3 substitutions, some with overhang, a fifth reversed."""
    generator = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        read = list(generator.choice(alleles))
        for _ in range(generator.choice((0, 1, 1, 1, 2, 3))):
            position = generator.randrange(len(read))
            read[position] = generator.choice([base for base in "ACGT" if base != read[position]])
        sequence = "".join(read)
        if generator.random() < 0.05:  # overhang: its aligned bases are not the whole read
            sequence = "".join(generator.choice("ACGT") for _ in range(generator.randint(3, 12))) + sequence
        if generator.random() < 0.2:
            sequence = reverse_complement(sequence)
        found[sequence] = None
    return list(found)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[AmpliconDesign, list[str]]]:
    folder = tmp_path_factory.mktemp("masked_sites")
    nuclease = simulate.random_design(seed=2024)
    mix = simulate.OutcomeMix(
        unmodified=0.2, deletion=0.3, insertion=0.2, substitution=0.1, hdr=0.15, large_deletion=0.05
    )
    alleles, _ = _alleles(folder / "nuclease", nuclease, mix=mix, alleles_per_class=20)
    nuclease_design = build_design(nuclease.amplicon, [nuclease.guide], expected_hdr_amplicon=nuclease.donor_amplicon)
    editor = simulate.random_design(seed=2024, with_donor=False)
    editor_mix = simulate.OutcomeMix(
        unmodified=0.1, deletion=0.06, insertion=0.04, substitution=0.0, hdr=0.0, base_edit=0.8
    )
    editor_alleles, truth = _alleles(
        folder / "abe", editor, mix=editor_mix, base_editor=simulate.BaseEditorSpec(), alleles_per_class=20
    )
    editor_design = build_design(
        editor.amplicon, [editor.guide], base_editor="ABE", target_in_protospacer=truth["base_editing"]["target"]
    )
    prime = simulate.random_design(seed=7, with_donor=False)
    prime_alleles, truth = _alleles(folder / "prime", prime, prime_editor=PrimeEditSpec.named("insertion"))
    editing = truth["prime_editing"]
    prime_design = build_design(prime.amplicon, pegrnas=[(editing["pegrna_spacer"], editing["pegrna_extension"])])
    return [
        (nuclease_design, _variants(alleles, READS_PER_DESIGN, 1)),
        (editor_design, _variants(editor_alleles, READS_PER_DESIGN, 2)),
        (prime_design, _variants(prime_alleles, READS_PER_DESIGN // 2, 3)),
    ]


def _lows(generator: random.Random, sites: tuple[tuple[int, int, int], ...], length: int) -> tuple:
    """Random low-quality reads of a unique read: ``((positions, reads), ...)`` as the collapse sends them."""
    site_positions = [site[0] for site in sites]
    lows: list[tuple[tuple[int, ...], int]] = []
    for _ in range(generator.choice((0, 1, 1, 1, 2, 3))):
        size = min(len(site_positions), generator.choice((1, 1, 1, 2, len(site_positions))))
        chosen = set(generator.sample(site_positions, size))
        chosen.update(generator.randrange(length) for _ in range(generator.choice((0, 0, 1, 3))))
        lows.append((tuple(sorted(chosen)), generator.choice((1, 1, 2))))
    if lows and generator.random() < 0.2:  # the same mask again, from other low positions
        lows.append((lows[0][0], 1))
    if generator.random() < 0.1:  # low positions at no site
        others = [position for position in range(length) if position not in site_positions]
        lows.append((tuple(sorted(generator.sample(others, 2))), 1))
    return tuple(lows)


@pytest.mark.skipif(
    masking.IMPLEMENTATION != "compiled",
    reason="EDITCHECK_PURE_PYTHON=1: the workers run the reference, not the kernel",
)
def test_compiled_quality_sites_and_masked_reads_equal_the_reference(cases) -> None:
    generator = random.Random(13)
    seen: Counter[str] = Counter()
    for design, reads in cases:
        compiled = SitesWorker([design], Q20)
        reference = SitesWorker([design], Q20)
        reference.compiled = False
        assert compiled.compiled
        lows = []
        for sequence in reads:  # the reference's sites, for the lows and against the compiled ones
            result = compiled.worker(sequence)
            aligned = result.alignment
            if aligned is None or result.call is None:
                lows.append(())
                continue
            decisive = compiled.decisive[0][aligned.reference]
            sites = quality_sites(sequence, aligned, decisive)
            got = _compiled.quality_sites_of(
                len(sequence), aligned.reverse, aligned.start, aligned.end, aligned.projection, aligned.insertions,
                aligned.deletions, aligned.substitutions, compiled.kernel.flags[0][aligned.reference],
            )  # fmt: skip
            if got is None:
                seen["sites by the reference"] += 1
            else:
                assert got == (sites, tuple(site[0] for site in sites)), sequence
                seen["sites compiled"] += 1
                seen["with indels" if aligned.insertions or aligned.deletions else "no indels"] += 1
                seen["reverse" if aligned.reverse else "forward"] += 1
                seen["decisive sites"] += any(site[1] in decisive for site in sites)
                seen["inserted sites"] += any(site[2] >= 0 for site in sites)
            lows.append(_lows(generator, sites, len(sequence)) if sites else ())
        unkeyed_compiled = SitesWorker([design], Q20, keyed=False)
        unkeyed_reference = SitesWorker([design], Q20, keyed=False)
        unkeyed_reference.compiled = False
        for start in range(0, len(reads), 700):  # chunks, as the engine sends them
            chunk, chunk_lows = reads[start : start + 700], lows[start : start + 700]
            expected = reference(chunk, (b"", chunk_lows))
            assert compiled(chunk, (b"", chunk_lows)) == expected
            # Without keys (a run that merges nothing alike): the same records, each key None.
            unkeyed = [(encoded, positions, _without_keys(masked)) for encoded, positions, masked in expected]
            assert unkeyed_reference(chunk, (b"", chunk_lows)) == unkeyed
            assert unkeyed_compiled(chunk, (b"", chunk_lows)) == unkeyed
            seen["keys"] += sum(
                masked[k + 2] is not None for _, _, masked in expected for k in range(0, len(masked), RECORD)
            )
            for _, _, masked in expected:
                for k in range(0, len(masked), RECORD):
                    made = masked[k + 3]
                    seen["usual masks" if type(made) is tuple else "other masks"] += 1
                    seen["several reads"] += masked[k + 1] > 2
                    seen["masks of several sites"] += len(masked[k]) > 1
    assert seen["sites compiled"] > 0.9 * sum(len(reads) for _, reads in cases)
    assert seen["sites by the reference"] > 50
    assert min(seen[kind] for kind in ("with indels", "reverse", "decisive sites", "inserted sites")) > 300, seen
    assert seen["usual masks"] > 1200 and seen["other masks"] > 3000, seen
    assert seen["several reads"] > 100 and seen["masks of several sites"] > 1000, seen
    assert seen["keys"] == seen["usual masks"] + seen["other masks"], seen


def _without_keys(masked: tuple) -> tuple:
    """Masked records (:data:`~editcheck.engine.masking.MaskedCalls`) with every key None."""
    records = list(masked)
    records[2::RECORD] = [None] * (len(records) // RECORD)
    return tuple(records)


def _called_with_sites(worker: SitesWorker, reads: list[str]) -> Iterator[tuple[str, Any, tuple, Reference]]:
    """Each read of ``reads`` that aligns and has a call (``worker``'s one design): ``(sequence, result, its quality
    sites by the reference, its aligned reference)``."""
    for sequence in reads:
        result = worker.worker(sequence)
        aligned = result.alignment
        if aligned is None or result.call is None:
            continue
        sites = quality_sites(sequence, aligned, worker.decisive[0][aligned.reference])
        yield sequence, result, sites, worker.references[0][aligned.reference]


def test_compiled_masked_keys_are_the_hash_of_the_masked_result(cases) -> None:
    """The key the compiled kernel makes for a usual mask is :func:`masked_key` of the masked result that
    :func:`masked_read` makes (hashes of plain tuples equal those of the named tuples); other masks are
    left to the fallback it is given."""
    design, reads = cases[0]
    worker = SitesWorker([design], Q20)
    classifier, decisive = worker.classifiers[0], worker.decisive[0]
    usual = other = 0
    for sequence, result, sites, reference in _called_with_sites(worker, reads[:400]):
        aligned, call = result.alignment, result.call
        for site in sites:
            left: list[tuple[int, ...]] = []
            found, record = _compiled.masked_reads_of(
                len(sequence), aligned, call, (((site[0],), 2),), worker.kernel.flags[0][aligned.reference],
                masking._EVENTS, worker.kernel.blocked[0][aligned.reference], reference.sequence, result.status.value, 0,
                True, {}, lambda context, sequence=sequence, aligned=aligned: quality_sites(
                    sequence, aligned, decisive[aligned.reference]
                ),
                lambda context, sites, mask, left=left: (left.append(mask), (b"", 0))[1], None,
            )  # fmt: skip
            assert found == tuple(site[0] for site in sites)
            positions, masked_aligned, masked_call = masked_read(
                classifier, aligned, call, [site], decisive[aligned.reference], reference
            )
            if positions is None:
                assert left == [(site[0],)] and record == ((site[0],), 2, 0, b"", 0, aligned.reference)
                other += 1
                continue
            key = masking.masked_key(result, masked_aligned, masked_call)
            assert left == [] and record == ((site[0],), 2, key, positions, 0, aligned.reference)
            usual += 1
    assert usual > 200 and other > 50


@pytest.mark.skipif(
    masking.IMPLEMENTATION != "compiled", reason="EDITCHECK_PURE_PYTHON=1: the kernel's fallback is the reference"
)
def test_compiled_other_masks_equal_the_reference(cases) -> None:
    """:class:`~editcheck.alignment._compiled.OtherMasks` (the fallback the compiled kernel is given for a mask
    that is not the usual one) against :func:`~editcheck.engine.masking._made_otherwise`, with and without keys
    and encoding (the workers encode, the tally's pass does not): equal results of the same types, on every
    design's masks of one site and of several that are not the usual one (decisive, in the window, inserted)."""
    compiled = masking._other_masks
    assert type(compiled) is _compiled.OtherMasks
    generator = random.Random(17)
    compared: Counter[str] = Counter()
    for design, reads in cases:
        worker = SitesWorker([design], Q20)
        classifier, decisive, references = worker.classifiers[0], worker.decisive[0], worker.references[0]
        for sequence, result, sites, reference in _called_with_sites(worker, reads[:600]):
            aligned, call = result.alignment, result.call
            masks = [(site[0],) for site in sites]
            if len(sites) > 1:
                masks.append(tuple(sorted(generator.sample([site[0] for site in sites], 2))))
            for mask in masks:
                chosen = [site for site in sites if site[0] in mask]
                if masked_read(classifier, aligned, call, chosen, decisive[aligned.reference], reference)[0]:
                    continue  # the usual mask: made by the kernel itself
                for keyed in (True, False):
                    for encoded in (True, False):
                        context = (classifier, result, decisive, references, sequence, keyed, encoded)
                        expected = masking._made_otherwise(context, sites, mask)
                        got = compiled(context, sites, mask)
                        assert got == expected and type(got[0]) is type(expected[0]), (sequence, mask)
                compared["several sites" if len(mask) > 1 else "one site"] += 1
                compared["inserted" if any(site[2] >= 0 for site in chosen) else "aligned"] += 1
    assert min(compared.values()) > 100, compared


@pytest.mark.skipif(
    masking.IMPLEMENTATION != "compiled", reason="EDITCHECK_PURE_PYTHON=1: the compiled masker is not used"
)
def test_compiled_masked_alignment_equals_the_reference(cases) -> None:
    """:class:`~editcheck.alignment._compiled.AlignmentMasker` (what ``masked_alignment`` is when built) against
    :func:`~editcheck.classification.quality.python_masked_alignment`: every read's sites masked in random
    subsets (aligned and inserted bases, one site and several, a site twice, none), equal results of the same
    type; sites it leaves to the reference (outside the projection or an insertion) give what the reference
    gives, or raise as it does."""
    masker = quality.masked_alignment
    assert isinstance(masker, _compiled.AlignmentMasker)
    generator = random.Random(29)
    seen: Counter[str] = Counter()
    for design, reads in cases:
        for sequence, result, sites, _ in _called_with_sites(SitesWorker([design], Q20), reads):
            aligned = result.alignment
            for _ in range(3):
                chosen = generator.sample(sites, generator.randint(0, len(sites))) if sites else []
                if chosen and generator.random() < 0.1:
                    chosen.append(chosen[0])  # the same site twice
                given = tuple(chosen) if generator.random() < 0.5 else chosen
                expected = quality.python_masked_alignment(aligned, given)
                got = masker(aligned, given)
                assert type(got) is type(expected) and got == expected, (sequence, given)
                seen["inserted" if any(site[2] >= 0 for site in chosen) else "aligned"] += 1
                seen[f"{min(len(chosen), 3)} sites"] += 1
    assert min(seen[kind] for kind in ("inserted", "aligned", "0 sites", "1 sites", "2 sites", "3 sites")) > 200, seen
    # Sites the C path leaves to the reference: the same result, or the same error.
    design, reads = cases[0]
    worker = SitesWorker([design], Q20)
    aligned = next(
        result.alignment for result in map(worker.worker, reads) if result.alignment is not None
        and result.alignment.insertions
    )  # fmt: skip
    length = len(aligned.projection)
    position, bases = aligned.insertions[0]
    for sites in (
        [(0, length + 3, -1)],
        [(0, -2, -1)],
        [(0, position, len(bases) + 1)],
        [(0, 5, -1)] * 70,
        [(0, 5, -1), (1, position, 0)],
    ):
        assert masker(aligned, sites) == quality.python_masked_alignment(aligned, sites), sites
    for bad in ([(0, "5", -1)], [(0, 5)], [5]):
        with pytest.raises((TypeError, ValueError)):
            quality.python_masked_alignment(aligned, bad)
        with pytest.raises((TypeError, ValueError)):
            masker(aligned, bad)


@pytest.mark.skipif(
    masking.IMPLEMENTATION != "compiled", reason="EDITCHECK_PURE_PYTHON=1: the workers run the reference"
)
def test_compiled_chunk_runner_equals_the_read_by_read_pass(cases, monkeypatch: pytest.MonkeyPatch) -> None:
    """:class:`~editcheck.alignment._compiled.ChunkRunner` (a chunk in one call) gives what the workers' pass read
    by read gives: :meth:`SitesWorker._compiled_call`'s records with the lows, the encoded results of
    :class:`~editcheck.engine.workers.PoolWorker` without them; reads too long, too short or of no amplicon
    included, and reads best on the donor's reference (a call made there, or on the amplicon when
    ``needs_amplicon``)."""
    generator = random.Random(41)
    seen: Counter[str] = Counter()
    for design, reads in cases:
        worker = SitesWorker([design], Q20)
        assert worker.runner is not None
        amplicon = design.references[0].sequence
        junk = ["ACGTA", "".join(generator.choice("ACGT") for _ in range(150)), amplicon * 5]  # short, random, long
        chunk = junk + reads
        lows = []
        for sequence in chunk:
            result = worker.worker(sequence)
            aligned = result.alignment
            seen["no alignment" if aligned is None else "aligned"] += 1
            seen["donor reference"] += aligned is not None and aligned.reference != 0
            if aligned is None or result.call is None:
                lows.append(())
                continue
            sites = quality_sites(sequence, aligned, worker.decisive[0][aligned.reference])
            lows.append(_lows(generator, sites, len(sequence)) if sites else ())
        for start in range(0, len(chunk), 700):
            part, part_lows = chunk[start : start + 700], lows[start : start + 700]
            assert worker.runner(part, part_lows) == worker._compiled_call(part, part_lows)
            assert worker.runner.encoded(part) == [encode_result(read, worker.worker(read)) for read in part]
    assert seen["no alignment"] >= 6 and seen["donor reference"] > 100, seen
    # Every read best on the donor's reference called on the amplicon (as a read without the donor's changes is:
    # rare in these reads), through both passes.
    design, reads = cases[0]
    monkeypatch.setattr(Classifier, "needs_amplicon", lambda self, aligned: True)
    worker = SitesWorker([design], Q20)
    assert worker.runner is not None
    on_donor = [read for read in reads if (worker.worker.workers[0].aligner.align(read) or (0,))[0] != 0]
    assert len(on_donor) > 20 and all(worker.worker(read).alignment.reference == 0 for read in on_donor)
    lows: list[tuple] = [()] * len(on_donor)
    assert worker.runner(on_donor, lows) == worker._compiled_call(on_donor, lows)
    assert worker.runner.encoded(on_donor) == [encode_result(read, worker.worker(read)) for read in on_donor]
