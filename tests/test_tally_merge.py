"""The tally of a segmented run: the segments' tallies merged equal the tally of all the reads at once (#13).

Simulated reads (nuclease with HDR on two references and exons, an adenine base editor) are called once; the
truth is ``tally_reads`` of every call, and the calls are split at random into 2-7 segments (a unique read's
reads spread over several segments, an empty segment, a segment repeated), each tallied alone and added to a
``TallyAccumulator`` with a tiny chunk, so the alleles' external sort runs on many runs and merge passes.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from editcheck import simulate
from editcheck.classification.called import CalledRead
from editcheck.design import AmpliconDesign, build_design
from editcheck.engine import AnalysisSettings
from editcheck.engine.workers import AmpliconWorker
from editcheck.quantification.allele_store import AlleleFile
from editcheck.quantification.tally import Allele, PositionProfile, Tally, tally_reads
from editcheck.quantification.tally_merge import TallyAccumulator
from editcheck.reads.collapse import collapse_single


def _called(design: AmpliconDesign, sequences: dict[str, int]) -> list[CalledRead]:
    worker = AmpliconWorker(design, AnalysisSettings())
    return [CalledRead(sequence, reads, *worker(sequence)) for sequence, reads in sequences.items()]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[AmpliconDesign, list[CalledRead]]]:
    folder = tmp_path_factory.mktemp("segments")
    nuclease = simulate.random_design(seed=2024)
    mix = simulate.OutcomeMix(
        unmodified=0.3, deletion=0.25, insertion=0.15, substitution=0.05, hdr=0.2, large_deletion=0.05
    )
    simulate.simulate(nuclease, 1500, folder / "hdr.fq", mix=mix, seed=3, alleles_per_class=15)
    hdr = build_design(
        nuclease.amplicon, [nuclease.guide], expected_hdr_amplicon=nuclease.donor_amplicon, exons="30-200"
    )
    sequences = dict(collapse_single(folder / "hdr.fq").sequences)
    # Imperfect HDR: the donor's amplicon lacking one of its changes, or with a deletion or insertion besides.
    donor = nuclease.donor_amplicon
    for position in (i for i, (a, b) in enumerate(zip(nuclease.amplicon, donor)) if a != b):
        sequences[donor[:position] + nuclease.amplicon[position] + donor[position + 1 :]] = 7 + position % 5
    sequences[donor[:122] + donor[125:]] = 4
    sequences[donor[:121] + "AC" + donor[121:]] = 2

    editor = simulate.random_design(seed=2024, with_donor=False)
    editor_mix = simulate.OutcomeMix(
        unmodified=0.2, deletion=0.1, insertion=0.1, substitution=0.0, hdr=0.0, base_edit=0.6
    )
    truth = simulate.simulate(
        editor, 1500, folder / "abe.fq", mix=editor_mix, base_editor=simulate.BaseEditorSpec(), seed=4,
        alleles_per_class=15,
    )  # fmt: skip
    abe = build_design(
        editor.amplicon, [editor.guide], base_editor="ABE", target_in_protospacer=truth["base_editing"]["target"]
    )
    sequences_abe = dict(collapse_single(folder / "abe.fq").sequences)
    sequences_abe["ACGT" * 30] = 3  # junk: not aligned
    return {"hdr": (hdr, _called(hdr, sequences)), "abe": (abe, _called(abe, sequences_abe))}


def _segments(calls: list[CalledRead], rng: random.Random) -> list[list[CalledRead]]:
    """The calls cut into 2-7 segments (one of them empty, and one repeating another), the reads of a unique
    read spread over several segments as a run's segments spread them."""
    segments: list[list[CalledRead]] = [[] for _ in range(rng.randint(2, 6))]
    for call in calls:
        remaining = call.reads
        while remaining:
            part = rng.randint(1, remaining)
            segments[rng.randrange(len(segments))].append(call._replace(reads=part))
            remaining -= part
    segments.insert(rng.randrange(len(segments) + 1), [])
    return [*segments, list(segments[0])]


def _assert_tallies_equal(merged: Tally, truth: Tally) -> None:
    """Field by field, every field of Tally (a new field falls through to ``==``)."""
    for item in fields(Tally):
        name = item.name
        got, expected = getattr(merged, name), getattr(truth, name)
        if name == "alleles":
            assert isinstance(got, AlleleFile)
            assert len(got) == len(expected)
            assert list(got) == list(expected), name
        elif name == "positions":
            assert len(got) == len(expected)
            for profile, wanted in zip(got, expected, strict=True):
                assert isinstance(profile, PositionProfile)
                assert (profile.reference, profile.sequence, profile.window) == (
                    wanted.reference, wanted.sequence, wanted.window
                )  # fmt: skip
                assert np.array_equal(profile.counts, wanted.counts)
                assert np.array_equal(profile.insertions_after, wanted.insertions_after)
        else:
            assert got == expected, name


def _merged(design: AmpliconDesign, segments: list[list[CalledRead]], folder: Path, chunk: int = 3) -> Tally:
    accumulator = TallyAccumulator(design, folder, chunk=chunk)
    for segment in segments:
        accumulator.add(tally_reads(design, segment))
    return accumulator.result()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("name", ["hdr", "abe"])
def test_merged_segments_equal_the_tally_of_all_reads(cases, tmp_path: Path, name: str, seed: int) -> None:
    design, calls = cases[name]
    segments = _segments(calls, random.Random(seed))
    truth = tally_reads(design, [call for segment in segments for call in segment])
    assert 3 <= len(segments) <= 8 and [] in segments
    _assert_tallies_equal(_merged(design, segments, tmp_path), truth)
    # The truth is not a sum of one segment's calls: the segments share unique reads.
    alleles = Counter((a.reference, a.aligned_sequence, a.outcome, a.events) for s in segments
                      for a in tally_reads(design, s).alleles)  # fmt: skip
    assert max(alleles.values()) > 1
    unmerged = [allele for segment in segments for allele in tally_reads(design, segment).alleles]
    unmerged.sort(key=lambda a: (-a.reads, a.reference, a.aligned_sequence, a.outcome, a.events))
    assert unmerged != truth.alleles, "alleles concatenated without summing equal keys would pass"


def test_the_cases_count_every_field_of_the_tally(cases) -> None:
    """Every field of Tally is non-zero in some case: none is checked only as zero == zero (a new field fails
    here until a case exercises it)."""
    truths = [tally_reads(design, calls) for design, calls in cases.values()]
    for item in fields(Tally):
        assert any(getattr(truth, item.name) for truth in truths), item.name
    hdr, _ = cases["hdr"]
    assert len(hdr.references) == 2
    assert all(profile.insertions_after.any() for profile in truths[0].positions)


def test_default_chunk_and_one_segment(cases, tmp_path: Path) -> None:
    design, calls = cases["hdr"]
    truth = tally_reads(design, calls)
    _assert_tallies_equal(_merged(design, [calls], tmp_path / "one", chunk=500_000), truth)
    _assert_tallies_equal(_merged(design, [calls[:10], calls[10:]], tmp_path / "two", chunk=500_000), truth)


def test_no_segment_gives_the_tally_of_no_reads(cases, tmp_path: Path) -> None:
    design, _ = cases["hdr"]
    merged = _merged(design, [], tmp_path)
    _assert_tallies_equal(merged, tally_reads(design, []))
    assert not merged.alleles and list(merged.alleles) == []
    assert [profile.reference for profile in merged.positions] == [reference.name for reference in design.references]


def test_a_wrong_segment_or_a_late_one_is_refused(cases, tmp_path: Path) -> None:
    hdr, calls = cases["hdr"]
    abe, _ = cases["abe"]
    accumulator = TallyAccumulator(hdr, tmp_path)
    with pytest.raises(ValueError, match="position profiles"):
        accumulator.add(tally_reads(abe, []))
    accumulator = TallyAccumulator(hdr, tmp_path)
    accumulator.add(tally_reads(hdr, calls))
    accumulator.result()
    with pytest.raises(RuntimeError):
        accumulator.add(tally_reads(hdr, calls))


def test_a_field_without_a_merge_rule_stops_the_merge(cases, tmp_path: Path) -> None:
    design, calls = cases["hdr"]
    tally = tally_reads(design, calls)
    tally.reference_ties = 2.5  # type: ignore[assignment]  # a float field would have no merge rule
    with pytest.raises(TypeError, match="reference_ties"):
        TallyAccumulator(design, tmp_path).add(tally)


def test_merged_alleles_are_the_ones_written(cases, tmp_path: Path) -> None:
    """The merged table iterates again to the same alleles, as Allele tuples (what the writers read)."""
    design, calls = cases["abe"]
    merged = _merged(design, _segments(calls, random.Random(9)), tmp_path)
    first = list(merged.alleles)
    assert first == list(merged.alleles)
    assert all(type(allele) is Allele for allele in first)


def test_result_folder_of_merged_segments_is_that_of_the_whole_file(tmp_path: Path) -> None:
    """Two FASTQ segments quantified alone, their tallies merged: the result folder's tables (alleles.tsv read
    from the disk-backed table, the VCF's records from it too) are byte-identical to those of the whole file."""
    from dataclasses import replace

    from editcheck.pipeline import quantify
    from editcheck.results.sample import write_sample_outputs
    from editcheck.results.vcf import write_vcf

    nuclease = simulate.random_design(seed=11)
    simulate.simulate(nuclease, 1200, tmp_path / "all.fq", seed=6, alleles_per_class=10)
    lines = (tmp_path / "all.fq").read_text().splitlines(keepends=True)
    (tmp_path / "first.fq").write_text("".join(lines[: 4 * 500]))
    (tmp_path / "second.fq").write_text("".join(lines[4 * 500 :]))
    design = build_design(nuclease.amplicon, [nuclease.guide], expected_hdr_amplicon=nuclease.donor_amplicon)
    whole = quantify(tmp_path / "all.fq", design=design, sample="S")
    accumulator = TallyAccumulator(design, tmp_path / "spill", chunk=5)
    for segment in ("first.fq", "second.fq"):
        accumulator.add(quantify(tmp_path / segment, design=design, sample="S").tally)
    merged = replace(whole, tally=accumulator.result())
    assert isinstance(merged.tally.alleles, AlleleFile) and len(merged.tally.alleles) > 50
    for name, result in (("whole", whole), ("merged", merged)):
        write_sample_outputs(result, tmp_path / name)
        write_vcf(result, tmp_path / name)
    tables = sorted(path.name for path in (tmp_path / "whole").iterdir() if path.is_file())
    assert {"alleles.tsv", "positions.tsv", "summary.json", "edits.vcf.gz"} <= set(tables)
    for table in tables:
        if table.endswith(".gz") or table.endswith(".tbi"):
            continue
        assert (tmp_path / "merged" / table).read_bytes() == (tmp_path / "whole" / table).read_bytes(), table
    import gzip

    assert gzip.decompress((tmp_path / "merged" / "edits.vcf.gz").read_bytes()) == gzip.decompress(
        (tmp_path / "whole" / "edits.vcf.gz").read_bytes()
    )
