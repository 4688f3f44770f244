"""The read aligner's two exact shortcuts give the alignments plain WFA gives (issue #13).

- WFA runs with the penalties divided by their common factor (:data:`editcheck.scoring.PENALTY_UNIT`): every
  alignment's score shrinks in proportion, so the optimal alignments are the same; compared here with an aligner
  given the full penalties, on reads of every kind against an amplicon and its HDR outcome.
- An equal-length read whose ends are free (a sequencing error in its first or last ``ANCHOR`` bases) with at
  most :data:`~editcheck.alignment.aligner.MAX_FREE_END_MISMATCHES` mismatches is taken ungapped without WFA;
  compared with WFA forced on the same reads, and the bound shown to be needed by a read for which WFA finds a
  gapped alignment cheaper than three mismatches.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from editcheck import scoring, simulate
from editcheck.alignment import aligner as aligner_module
from editcheck.alignment.aligner import ANCHOR, MAX_FREE_END_MISMATCHES, ReadAligner
from editcheck.design import AmpliconDesign, build_design
from editcheck.sequences import reverse_complement


@pytest.fixture(scope="module")
def design() -> AmpliconDesign:
    spec = simulate.random_design(seed=2024)
    return build_design(spec.amplicon, [spec.guide], expected_hdr_amplicon=spec.donor_amplicon)


def _varied_reads(design: AmpliconDesign, count: int, seed: int) -> list[str]:
    """Reads of either reference with substitutions, Ns, deletions, insertions, missing or extra end bases and
    the reverse strand, and some random junk."""
    generator = random.Random(seed)
    references = [reference.sequence for reference in design.references]
    reads = []
    for _ in range(count):
        if generator.random() < 0.02:
            reads.append("".join(generator.choice("ACGT") for _ in range(generator.randint(20, 300))))
            continue
        read = list(generator.choice(references))
        for _ in range(generator.randint(0, 6)):
            position, kind = generator.randrange(len(read)), generator.random()
            if kind < 0.45:
                read[position] = generator.choice("ACGTN")
            elif kind < 0.75:
                del read[position : position + generator.choice((1, 1, 2, 3, 10, 40))]
            else:
                read[position:position] = generator.choices("ACGT", k=generator.choice((1, 1, 2, 5, 20)))
        sequence = "".join(read)
        if generator.random() < 0.3:
            sequence = sequence[generator.randrange(40) : len(sequence) - generator.randrange(40)]
        if generator.random() < 0.2:
            sequence = "".join(generator.choices("ACGT", k=generator.randrange(30))) + sequence
            sequence += "".join(generator.choices("ACGT", k=generator.randrange(30)))
        reads.append(reverse_complement(sequence) if generator.random() < 0.3 else sequence)
    return reads


def test_reduced_penalties_give_the_alignments_of_the_full_ones(
    design: AmpliconDesign, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert scoring.PENALTY_UNIT == 9
    reads = _varied_reads(design, 4000, seed=5)
    reduced = [ReadAligner(design.references).align(read) for read in reads]
    monkeypatch.setattr(aligner_module, "reduced_wfa_aligner", scoring.wfa_aligner)
    full = [ReadAligner(design.references).align(read) for read in reads]
    assert reduced == full
    aligned = [alignment for alignment in full if alignment is not None]
    assert len(aligned) > 3000  # not a comparison of Nones
    assert sum(bool(alignment.deletions or alignment.insertions) for alignment in aligned) > 1000
    assert sum(alignment.reference == 1 for alignment in aligned) > 500


def _free_end_reads(design: AmpliconDesign, seed: int) -> list[str]:
    """Reads as long as the amplicon with one or two substitutions (or Ns), at least one in its first or last
    ``ANCHOR`` bases, so that no amplicon end is found in the read."""
    generator = random.Random(seed)
    amplicon = design.references[0].sequence
    reads = []
    for _ in range(600):
        read = list(amplicon)
        ends = [*range(ANCHOR), *range(len(read) - ANCHOR, len(read))]
        positions = {generator.choice(ends)}
        if generator.random() < 0.5:
            positions.add(generator.randrange(len(read)))
        for position in positions:
            read[position] = generator.choice([base for base in "ACGTN" if base != amplicon[position]])
        reads.append("".join(read))
    return reads


def _aligner_path(compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the compiled aligner (:mod:`editcheck.alignment._align_compiled`) or its reference, the Python methods."""
    if not compiled:
        monkeypatch.setattr(aligner_module, "AlignerCore", None)
    elif aligner_module.AlignerCore is None:
        pytest.skip("the compiled aligner is not built (or EDITCHECK_PURE_PYTHON is set)")


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_free_end_reads_with_few_mismatches_skip_wfa_and_align_alike(
    design: AmpliconDesign, monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    assert MAX_FREE_END_MISMATCHES == 2  # (36 + 9 - 1) // 18: the reads below have one or two
    _aligner_path(compiled, monkeypatch)
    reads = _free_end_reads(design, seed=9)
    runs = 0
    run = ReadAligner._run

    def counted(self: ReadAligner, *arguments: Any) -> Any:
        nonlocal runs
        runs += 1
        return run(self, *arguments)

    monkeypatch.setattr(ReadAligner, "_run", counted)  # (the Python methods' WFA runs)
    fast = [ReadAligner(design.references[:1]).align(read) for read in reads]
    monkeypatch.setattr(aligner_module, "MAX_FREE_END_MISMATCHES", -1)
    forced = [ReadAligner(design.references[:1]).align(read) for read in reads]
    if not compiled:
        assert runs == len(reads)  # WFA aligned every read when forced, none before
    assert fast == forced
    assert all(alignment is not None and alignment.identity < 100 for alignment in fast)
    assert sum(len(alignment.substitutions) == 2 for alignment in fast if alignment is not None) > 100


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_three_mismatches_at_a_free_end_can_cost_more_than_a_gap(
    design: AmpliconDesign, monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    """The bound is tight: a read that lost one base a few bases from its end and has one extra base there
    differs from the amplicon ungapped at three bases (3 x 18 = 54), but WFA takes one deletion (36 + 9 = 45)
    and leaves the extra base as overhang: the read then covers the amplicon up to about the deletion, without
    substitutions."""
    _aligner_path(compiled, monkeypatch)
    amplicon = design.references[0].sequence
    aligner = ReadAligner(design.references[:1])
    found = 0
    for back in range(3, 9):
        end = len(amplicon) - back
        for extra in "ACGT":
            read = amplicon[:end] + amplicon[end + 1 :] + extra
            mismatches = sum(first != second for first, second in zip(read, amplicon, strict=True))
            if mismatches != 3 or read.endswith(amplicon[-ANCHOR:]):
                continue
            found += 1
            alignment = aligner.align(read)
            assert alignment is not None
            assert alignment.end <= end + 1 and not alignment.substitutions
    assert found >= 2


def test_the_compiled_aligner_equals_its_methods_on_long_reads_in_low_memory_wfa() -> None:
    """Reads of a 2.2-kb amplicon (read + amplicon past ``HIGH_MEMORY_MAX_LENGTH``: WFA's low-memory modes, the
    full penalties; seeded stretches of partial reads in the default one) with substitutions, long indels,
    missing ends, overhang and the reverse strand: the compiled aligner and the Python methods align them alike."""
    if aligner_module.AlignerCore is None:
        pytest.skip("the compiled aligner is not built (or EDITCHECK_PURE_PYTHON is set)")
    generator = random.Random(3)
    amplicon = "".join(generator.choices("ACGT", k=2200))
    design = build_design(amplicon, [amplicon[1000:1020]])
    reads = []
    for _ in range(60):
        read = list(amplicon)
        for _ in range(generator.randint(0, 8)):
            position, kind = generator.randrange(len(read)), generator.random()
            if kind < 0.5:
                read[position] = generator.choice("ACGT")
            elif kind < 0.8:
                del read[position : position + generator.randint(1, 50)]
            else:
                read[position:position] = generator.choices("ACGT", k=generator.randint(1, 30))
        sequence = "".join(read)
        if generator.random() < 0.5:
            sequence = sequence[generator.randrange(400) : len(sequence) - generator.randrange(400)]
        if generator.random() < 0.3:
            sequence = "".join(generator.choices("ACGT", k=20)) + sequence
        reads.append(reverse_complement(sequence) if generator.random() < 0.3 else sequence)
    assert all(len(read) + len(amplicon) > aligner_module.HIGH_MEMORY_MAX_LENGTH for read in reads)
    compiled, python = ReadAligner(design.references), ReadAligner(design.references)
    python._core = None
    got = [compiled.align(read) for read in reads]
    assert got == [python.align(read) for read in reads]
    assert sum(alignment is not None and bool(alignment.deletions) for alignment in got) > 20
