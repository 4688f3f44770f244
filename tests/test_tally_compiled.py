"""The tally's pass over the calls compiled (editcheck.quantification._tally_compiled) against its pure-Python
reference (editcheck.quantification.tally.python_count_calls): the same tally, field by field, the counters' keys
and the alleles in the same order (issue #13).

The calls: simulated reads (sequencing errors, every outcome class) of a nuclease with an HDR donor and large
deletions, an adenine base editor with exons, and a prime editor with scaffold-derived insertions, each unique
read aligned and classified by the engine's worker and given a read count of 1 to 300, plus reads that do not
align.
"""

from __future__ import annotations

import dataclasses
import gc
import random
import sys
from pathlib import Path

import dnaio
import numpy as np
import pytest

from editcheck import simulate
from editcheck.classification.called import CalledRead
from editcheck.classification.outcomes import NOT_ALIGNED, ReadCall
from editcheck.design import AmpliconDesign, build_design
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.workers import AmpliconWorker
from editcheck.quantification import tally
from editcheck.simulate.prime import PrimeEditSpec

compiled = pytest.importorskip("editcheck.quantification._tally_compiled")

SCAFFOLD = "GTTTTAGAGCTAGAAATAGCAAGTTAAAATAAGGCTAGTCCGTTATCAACTTGAAAAAGTGGCACCGAGTCGGTGC"


def _calls(
    folder: Path, design: AmpliconDesign, spec: simulate.SimulationDesign, seed: int, **options
) -> list[CalledRead]:
    """Every unique read of a simulated sample with its call, a random read count each, and some that do not align."""
    folder.mkdir()
    simulate.simulate(spec, 4000, folder / "reads.fastq", error_rate=0.01, seed=seed, **options)
    with dnaio.open(folder / "reads.fastq") as reads:
        unique = sorted({read.sequence for read in reads})
    generator = random.Random(seed)
    worker = AmpliconWorker(design, AnalysisSettings())
    calls = []
    for sequence in unique:
        aligned, call = worker(sequence)
        calls.append(CalledRead(sequence, generator.choice((1, 1, 1, 2, 3, 17, 300)), aligned, call))
    calls += [CalledRead("N" * 30, 4, None, ReadCall(NOT_ALIGNED)) for _ in range(3)]
    generator.shuffle(calls)
    return calls


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[AmpliconDesign, list[CalledRead]]]:
    folder = tmp_path_factory.mktemp("tally")
    nuclease = simulate.random_design(seed=11)
    mix = simulate.OutcomeMix(
        unmodified=0.3, deletion=0.2, insertion=0.2, substitution=0.1, hdr=0.15, large_deletion=0.05
    )
    nuclease_design = build_design(nuclease.amplicon, [nuclease.guide], expected_hdr_amplicon=nuclease.donor_amplicon)

    editor = simulate.random_design(seed=12, with_donor=False)
    editor_mix = simulate.OutcomeMix(
        unmodified=0.2, deletion=0.1, insertion=0.1, substitution=0.0, hdr=0.0, base_edit=0.6
    )
    editor_folder = folder / "abe-truth"
    editor_folder.mkdir()
    truth = simulate.simulate(editor, 10, editor_folder / "reads.fastq", seed=1, base_editor=simulate.BaseEditorSpec())
    target = truth["base_editing"]["target"]
    editor_calls_design = build_design(editor.amplicon, [editor.guide], base_editor="ABE", target_in_protospacer=target)
    first, last = editor_calls_design.amplicon.window_positions[0], editor_calls_design.amplicon.window_positions[-1]
    editor_design = dataclasses.replace(editor_calls_design, exons=(((first + last) // 2, len(editor.amplicon) - 10),))

    prime = simulate.random_design(seed=13, with_donor=False)
    prime_folder = folder / "prime-truth"
    prime_folder.mkdir()
    truth = simulate.simulate(
        prime, 10, prime_folder / "reads.fastq", seed=1, prime_editor=PrimeEditSpec.named("insertion")
    )
    editing = truth["prime_editing"]
    prime_design = build_design(
        prime.amplicon, pegrnas=[(editing["pegrna_spacer"], editing["pegrna_extension"])], scaffold=SCAFFOLD
    )
    return [
        (nuclease_design, _calls(folder / "nuclease", nuclease_design, nuclease, 1, mix=mix)),
        (editor_design, _calls(folder / "abe", editor_design, editor, 2, mix=editor_mix,
                               base_editor=simulate.BaseEditorSpec())),
        (prime_design, _calls(folder / "prime", prime_design, prime, 3, prime_editor=PrimeEditSpec.named("insertion"))),
    ]  # fmt: skip


def _fields(counted: tally.Tally) -> dict[str, object]:
    """Every field of a tally without its alleles, the counters as their items in order, the profiles as lists."""
    found: dict[str, object] = {}
    for item in dataclasses.fields(tally.Tally):
        value = getattr(counted, item.name)
        if item.name == "positions":
            found[item.name] = [
                (p.reference, p.sequence, p.window, p.counts.tolist(), p.insertions_after.tolist()) for p in value
            ]
        elif item.name != "alleles":
            found[item.name] = list(value.items()) if isinstance(value, dict) else value
    return found


def test_the_compiled_pass_counts_as_the_reference(cases, monkeypatch: pytest.MonkeyPatch) -> None:
    if tally._count_calls is None:
        pytest.skip("the compiled tally is not selected (EDITCHECK_PURE_PYTHON is set)")
    assert tally._count_calls is compiled.count_calls
    results = []
    for design, calls in cases:
        counted, alleles = tally.counted_reads(design, calls)
        results.append((_fields(counted), list(alleles.items())))
    monkeypatch.setattr(tally, "_count_calls", None)
    for (design, calls), (fields, alleles) in zip(cases, results):
        reference, reference_alleles = tally.counted_reads(design, calls)
        assert fields == _fields(reference)
        assert alleles == list(reference_alleles.items())
    # What the calls exercise: every counter and count, insertions, ties to the amplicon, every editing modality.
    nuclease, editor, prime = (fields for fields, _ in results)
    for name in ("insertion_sizes", "deletion_sizes", "large_deletion_sizes", "donor_change_missing"):
        assert len(nuclease[name]) > 1, name
    for name in ("reference_ties", "with_indel", "with_substitution", "with_other_substitution",
                 "imperfect_hdr_missing", "imperfect_hdr_other_edit"):  # fmt: skip
        assert nuclease[name] > 0, name
    assert len(editor["base_edit_classes"]) >= 4 and len(editor["coding"]) >= 2
    assert editor["target_converted"] > 0 and editor["splice_sites"] > 0
    assert {"prime_edit", "scaffold_insertion"} <= {outcome for outcome, _ in prime["outcomes"]}
    assert all(np.asarray(profile[4]).sum() > 0 for fields in (nuclease, editor) for profile in fields["positions"][:1])


def test_alleles_are_made_as_the_reference_makes_them(cases, monkeypatch: pytest.MonkeyPatch) -> None:
    """sorted_alleles with the compiled steps (append_alleles, equal_sequence_indices) gives the reference's
    alleles (same values, type and order), untracked by the cyclic garbage collector (strings and a count: in no
    reference cycle), holding no extra reference to their strings; keys of one sequence across outcomes and
    references are sorted by the whole key."""
    if tally._append_alleles is None:
        pytest.skip("the compiled tally is not selected (EDITCHECK_PURE_PYTHON is set)")
    _, allele_counts = tally.counted_reads(*cases[0])
    sequence = next(iter(allele_counts))[1]
    allele_counts |= {("HDR", sequence, "modified", "x"): 1, ("amplicon", sequence, "hdr", ""): 1,
                      ("amplicon", sequence, "modified", "1A>G"): 1, ("HDR", "ACGT", "modified", ""): 1}  # fmt: skip
    alleles = tally.sorted_alleles(dict(allele_counts))
    monkeypatch.setattr(tally, "_append_alleles", None)
    monkeypatch.setattr(tally, "_equal_sequence_indices", tally.python_equal_sequence_indices)
    reference = tally.sorted_alleles(dict(allele_counts))
    assert len(alleles) > 100 and alleles == reference and {type(allele) for allele in alleles} == {tally.Allele}
    assert alleles == sorted(reference, key=lambda allele: (-allele.reads, allele[:4]))
    assert not any(gc.is_tracked(allele) for allele in alleles) and all(gc.is_tracked(a) for a in reference[:3])
    assert alleles[0].reads == reference[0].reads and alleles[0]._replace(reads=0).reads == 0
    text = "".join(["ACGT"] * 30)
    before = sys.getrefcount(text)
    made: list[tally.Allele] = []
    keys = [("amplicon", text, "modified", "") for _ in range(50)]
    compiled.append_alleles(made, keys, 7, tally.Allele)
    assert keys == [] and len(made) == 50 and sys.getrefcount(text) == before + 50
    del made
    assert sys.getrefcount(text) == before


def test_equal_sequences_are_found_as_the_reference_finds_them() -> None:
    generator = random.Random(5)
    keys = sorted(
        ("amplicon", generator.choice(["AC", "ACG", "A", "", "ACG"]), generator.choice("xy"), "") for _ in range(300)
    )
    assert compiled.equal_sequence_indices(keys) == tally.python_equal_sequence_indices(keys)
    assert compiled.equal_sequence_indices([]) == [] == compiled.equal_sequence_indices(keys[:1])
    with pytest.raises(TypeError, match="four fields"):
        compiled.equal_sequence_indices([("a", "b")])


def test_append_alleles_refuses_what_it_cannot_make() -> None:
    with pytest.raises(TypeError, match="a str, not int"):
        compiled.append_alleles([], [("amplicon", 5, "modified", "")], 1, tally.Allele)
    with pytest.raises(TypeError, match="reads is an int"):
        compiled.append_alleles([], [("amplicon", "A", "modified", "")], 1.0, tally.Allele)
    with pytest.raises(TypeError, match="plain tuple subclass"):
        compiled.append_alleles([], [("amplicon", "A", "modified", "")], 1, list)
