"""The compiled hot path (editcheck.alignment._compiled, Cython) against its pure-Python reference
(editcheck.alignment.events): identical events, event text and calls on 100k simulated unique reads of every
outcome class (issue #13).

The reads: error-free alleles of three simulated designs (nuclease with an HDR donor and large deletions; an
adenine base editor with bystanders; a prime editor, plus scaffold-derived insertions), each varied by
sequencing substitutions and Ns, partial reads that stop before the window, primer/adapter overhang and the
reverse strand, and random junk.  Every read is aligned once by the real aligner running the compiled kernels;
each kernel call's arguments are recorded and the reference run on them must return the same.  A sample also
goes end to end through both implementations (aligner and classifier) and must get the same calls.
"""

from __future__ import annotations

import dataclasses
import gc
import marshal
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dnaio
import pytest

from editcheck import simulate
from editcheck.alignment import _align_compiled, _compiled, aligner, events, hotpath, packing
from editcheck.classification import _classify_compiled, outcomes
from editcheck.classification.outcomes import ClassificationSettings, Classifier
from editcheck.design import AmpliconDesign, build_design
from editcheck.engine import workers
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.workers import AmpliconWorker, PoolWorker, decode_result, encode_result
from editcheck.sequences import reverse_complement
from editcheck.simulate.prime import PrimeEditSpec

SCAFFOLD = "GTTTTAGAGCTAGAAATAGCAAGTTAAAATAAGGCTAGTCCGTTATCAACTTGAAAAAGTGGCACCGAGTCGGTGC"
UNIQUE_READS = 100_000
END_TO_END_READS = 3_000
KERNELS = (
    "build_events", "core_span", "core_penalty", "ungapped_substitutions", "mismatches", "signature_index",
    "anchor_clips",
)  # fmt: skip


def _alleles(folder: Path, design: simulate.SimulationDesign, **options: Any) -> list[str]:
    """The distinct error-free reads of a small simulated sample: the alleles of every class."""
    folder.mkdir()
    truth = simulate.simulate(design, 3000, folder / "reads.fastq", error_rate=0.0, seed=3, **options)
    with dnaio.open(folder / "reads.fastq") as reads:
        alleles = sorted({read.sequence for read in reads})
    return alleles, truth


def _scaffold_reads(design: AmpliconDesign) -> list[str]:
    """Prime-edited alleles whose reverse transcription ran on into the scaffold (6, 12 or 18 scaffold bases)."""
    prime, edited = design.prime_edit, design.prime_edited
    assert prime is not None and edited is not None and prime.scaffold_position is not None
    assert prime.scaffold_sequence is not None
    position, scaffold, sequence = prime.scaffold_position, prime.scaffold_sequence, edited.sequence
    reads = []
    for length in (6, 12, 18):
        bases = scaffold[:length] if prime.scaffold_strand == "+" else scaffold[-length:]
        reads.append(sequence[:position] + bases + sequence[position:])
    return reads


def _variants(alleles: list[str], amplicon: str, window_first: int, count: int, seed: int) -> list[str]:
    """``count`` distinct reads varied from the alleles (see the module docstring), in a seeded order."""
    generator = random.Random(seed)
    found: set[str] = set()
    reads: list[str] = []
    while len(reads) < count:
        read = list(generator.choice(alleles))
        for _ in range(generator.choice((0, 0, 0, 1, 1, 1, 2, 3))):
            read[generator.randrange(len(read))] = "N" if generator.random() < 0.05 else generator.choice("ACGT")
        sequence = "".join(read)
        shape = generator.random()
        if shape < 0.06:  # a partial read, stopping before the window
            sequence = sequence[: generator.randint(20, max(21, window_first - 2))]
        elif shape < 0.09:  # a read starting inside the amplicon
            sequence = sequence[generator.randint(10, 60) :]
        elif shape < 0.14:  # primer or adapter overhang
            sequence = "".join(generator.choice("ACGT") for _ in range(generator.randint(3, 15))) + sequence
            sequence += "".join(generator.choice("ACGT") for _ in range(generator.randint(0, 15)))
        elif shape < 0.148:  # junk: random bases, or a primer dimer of the amplicon ends
            if generator.random() < 0.3:
                sequence = "".join(generator.choice("ACGT") for _ in range(generator.randint(30, 100)))
            else:
                sequence = amplicon[: generator.randint(20, 40)] + amplicon[-generator.randint(20, 40) :]
        if generator.random() < 0.2:
            sequence = reverse_complement(sequence)
        if sequence not in found:
            found.add(sequence)
            reads.append(sequence)
    return reads


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[AmpliconDesign, list[str]]]:
    """(design, unique reads) for the three designs, 100k unique reads in all."""
    folder = tmp_path_factory.mktemp("hotpath")
    nuclease = simulate.random_design(seed=2024)
    mix = simulate.OutcomeMix(
        unmodified=0.2, deletion=0.3, insertion=0.2, substitution=0.1, hdr=0.15, large_deletion=0.05
    )
    nuclease_alleles, _ = _alleles(folder / "nuclease", nuclease, mix=mix, alleles_per_class=30)
    # Large deletions cost the aligner most (its cost grows with the penalty): five of them are enough.
    large = [allele for allele in nuclease_alleles if len(allele) < len(nuclease.amplicon) - 40]
    nuclease_alleles = [allele for allele in nuclease_alleles if allele not in large[5:]]
    nuclease_design = build_design(nuclease.amplicon, [nuclease.guide], expected_hdr_amplicon=nuclease.donor_amplicon)

    editor = simulate.random_design(seed=2024, with_donor=False)
    editor_mix = simulate.OutcomeMix(
        unmodified=0.1, deletion=0.06, insertion=0.04, substitution=0.0, hdr=0.0, base_edit=0.8
    )
    editor_alleles, truth = _alleles(
        folder / "abe", editor, mix=editor_mix, base_editor=simulate.BaseEditorSpec(), alleles_per_class=30
    )
    editor_design = build_design(
        editor.amplicon, [editor.guide], base_editor="ABE", target_in_protospacer=truth["base_editing"]["target"]
    )

    prime = simulate.random_design(seed=7, with_donor=False)
    prime_alleles, truth = _alleles(folder / "prime", prime, prime_editor=PrimeEditSpec.named("insertion"))
    editing = truth["prime_editing"]
    prime_design = build_design(
        prime.amplicon, pegrnas=[(editing["pegrna_spacer"], editing["pegrna_extension"])], scaffold=SCAFFOLD
    )
    prime_alleles += _scaffold_reads(prime_design)

    shares = ((nuclease_design, nuclease_alleles, 0.4), (editor_design, editor_alleles, 0.3),
              (prime_design, prime_alleles, 0.3))  # fmt: skip
    return [
        (design, _variants(alleles, design.amplicon.sequence, design.amplicon.window_positions[0],
                           int(UNIQUE_READS * share), seed))
        for seed, (design, alleles, share) in enumerate(shares)
    ]  # fmt: skip


def test_the_compiled_hot_path_is_built_and_selected() -> None:
    # `pip install` builds it (setup.py); EDITCHECK_PURE_PYTHON=1 would select the reference instead.
    assert hotpath.IMPLEMENTATION == "compiled"
    assert aligner.build_events is _compiled.build_events
    assert outcomes._describe is _compiled.describe_events
    assert hotpath.AlignerCore is _align_compiled.AlignerCore
    design = build_design("ACGTTGCATGCCTAGGCTAACGGTACCGATTGCAAGGCTTACGATCGGATCCAAGTTGCA")
    assert isinstance(aligner.ReadAligner(design.references)._core, _align_compiled.AlignerCore)


def _recorder(name: str, function: Callable[..., Any], calls: list[tuple[str, tuple[Any, ...], Any]]) -> Any:
    if name == "mismatches":  # appends to its last argument: record what it appended

        def record_appended(reference: str, read: str, offset: int, found: list[tuple[int, str]]) -> None:
            before = len(found)
            function(reference, read, offset, found)
            calls.append((name, (reference, read, offset), found[before:]))

        return record_appended

    def record(*arguments: Any) -> Any:
        result = function(*arguments)
        calls.append((name, arguments, result))
        return result

    return record


@pytest.mark.slow
def test_compiled_kernels_equal_the_reference_on_100k_unique_reads(cases, monkeypatch) -> None:
    calls: list[tuple[str, tuple[Any, ...], Any]] = []
    monkeypatch.setattr(aligner, "AlignerCore", None)  # the Python methods call the kernels by these names
    for name in KERNELS:
        monkeypatch.setattr(aligner, name, _recorder(name, getattr(_compiled, name), calls))
    monkeypatch.setattr(outcomes, "_describe", _recorder("describe_events", _compiled.describe_events, calls))
    called: dict[str, int] = {}
    for design, reads in cases:
        worker = AmpliconWorker(design, AnalysisSettings())
        for read in reads:
            outcome = worker(read).call.outcome
            called[outcome] = called.get(outcome, 0) + 1
    assert sum(called.values()) == UNIQUE_READS
    # Every outcome class the three designs can give is among the calls compared.
    assert {
        "unmodified", "modified", "large_deletion", "hdr", "imperfect_hdr", "prime_edit", "prime_edit_with_changes",
        "scaffold_insertion", "window_not_covered", "primer_dimer", "not_aligned",
    } <= set(called), called  # fmt: skip
    differing = []
    used = set()
    for name, arguments, result in calls:
        used.add(name)
        if name == "mismatches":
            expected: Any = []
            events.mismatches(*arguments, expected)
        else:
            expected = getattr(events, name)(*arguments)
        if expected != result:
            differing.append((name, arguments, result, expected))
    assert used == {*KERNELS, "describe_events"}
    assert {result for name, _, result in calls if name == "signature_index"} == {-1, 0, 1}
    clips = {(left > 0, right < len(read), begin, end) for name, (read, *_), (left, right, begin, end) in
             [call for call in calls if call[0] == "anchor_clips"]}  # fmt: skip
    # Reads clipped at either end, and reads left free there, are among the calls compared.
    assert {(True, True, 0, 0), (False, False, 0, 0), (False, False, 1, 1), (True, False, 0, 1)} <= clips
    assert (False, True, 1, 0) in clips
    assert len(calls) > 4 * UNIQUE_READS
    assert differing[:3] == []


def _calls(design: AmpliconDesign, reads: list[str]) -> list[Any]:
    worker = AmpliconWorker(design, AnalysisSettings())
    return [worker(read) for read in reads]


def test_both_implementations_give_identical_calls_end_to_end(cases, monkeypatch) -> None:
    compiled = [_calls(design, reads[:END_TO_END_READS]) for design, reads in cases]
    for name in KERNELS:
        monkeypatch.setattr(aligner, name, getattr(events, name))
    monkeypatch.setattr(outcomes, "_describe", events.describe_events)
    monkeypatch.setattr(aligner, "AlignerCore", None)
    monkeypatch.setattr(outcomes, "ClassifierCore", None)
    pure = [_calls(design, reads[:END_TO_END_READS]) for design, reads in cases]
    classifier = Classifier(cases[0][0])
    assert classifier.classify == classifier.python_classify  # the reference classifies these
    assert pure == compiled
    base_edits = {classified.call.base_edit for classified in compiled[1]}
    assert {"intended_only", "intended_and_bystander", "bystander_only", "unedited", "indel"} <= base_edits


def _shown(design: AmpliconDesign) -> list[AmpliconDesign]:
    """``design``, and it with an exon over its window's second half and on to the amplicon's end (frameshift,
    in-frame and noncoding calls, splice sites), and a base editor's without its target (converted or not)."""
    first, last = design.amplicon.window_positions[0], design.amplicon.window_positions[-1]
    shown = [design, dataclasses.replace(design, exons=(((first + last) // 2, len(design.amplicon.sequence) - 10),))]
    if design.base_editor is not None:
        shown.append(dataclasses.replace(design, base_editor=dataclasses.replace(design.base_editor, target=None)))
    return shown


@pytest.mark.slow
def test_the_compiled_classifier_equals_its_python_method_on_100k_unique_reads(cases) -> None:
    """:class:`~editcheck.classification._classify_compiled.ClassifierCore` against
    :meth:`~editcheck.classification.outcomes.Classifier.python_classify`: the same call, field by field and
    of the same types (the results' bytes depend on them), for every read's alignment and its alignment to the
    amplicon alone; with the default settings, with every substitution counted and a short large deletion,
    with no event type counted and a high identity threshold, and with exons."""
    variants = (
        ClassificationSettings(),
        ClassificationSettings(count_substitutions=True, large_deletion_min=4, min_anchor=10),
        ClassificationSettings(ignore_substitutions=True, ignore_insertions=True, ignore_deletions=True,
                               min_identity=95.0),
    )  # fmt: skip
    differing: list[tuple[Any, ...]] = []
    seen: Counter[str] = Counter()
    for design, reads in cases:
        read_aligner = aligner.ReadAligner(design.references)
        alignments = [read_aligner.align(read) for read in reads]
        alignments += [read_aligner.align(read, only=0) for read in reads[:5000]]
        for variant, settings in enumerate(variants):
            for classifier in [Classifier(shown, settings) for shown in _shown(design)]:
                assert type(classifier.classify.__self__) is _classify_compiled.ClassifierCore
                for aligned in alignments:
                    got, expected = classifier.classify(aligned), classifier.python_classify(aligned)
                    if (
                        got != expected
                        or _types(got) != _types(expected)
                        or gc.is_tracked(got) != gc.is_tracked(expected)
                    ):  # (made from C: the named tuple's type, and tracked by the collector as tuple.__new__'s)
                        differing.append((aligned, got, expected))
                    seen[expected.outcome] += 1
                    seen[f"base edit {expected.base_edit}"] += 1
                    seen[f"coding {expected.coding}"] += 1
                    seen["splice site"] += expected.splice_site
                    seen["donor missing"] += expected.donor_missing > 0
                    seen["hdr other edit"] += expected.hdr_other_edit
                    seen[f"variant {variant}: other substitutions"] += expected.other_substitutions > 0
    assert differing[:3] == []
    # Every outcome class, base-editing class and coding effect is among the calls compared.
    assert {*outcomes.CLASSIFIED, "window_not_covered", "primer_dimer", "not_aligned", "editable_base_masked"} - {
        "ambiguous"
    } <= set(seen), seen  # fmt: skip
    assert all(seen[f"base edit {kind}"] > 100 for kind in outcomes.BASE_EDIT_CLASSES), seen
    assert all(seen[f"coding {kind}"] > 100 for kind in ("frameshift", "in_frame", "noncoding")), seen
    assert min(seen["splice site"], seen["donor missing"], seen["hdr other edit"]) > 100, seen


@pytest.mark.slow
def test_the_compiled_aligner_equals_its_python_methods_on_100k_unique_reads(cases) -> None:
    """:class:`~editcheck.alignment._align_compiled.AlignerCore` against ``ReadAligner``'s own methods (both
    with the compiled kernels): the same alignment of every read, and of every read to the amplicon alone (as
    an HDR-free read is realigned)."""
    differing = []
    shapes: set[tuple[bool, bool, bool]] = set()
    for design, reads in cases:
        compiled = aligner.ReadAligner(design.references)
        python = aligner.ReadAligner(design.references)
        python._core = None
        assert compiled._core is not None
        for read in reads:
            got, expected = compiled.align(read), python.align(read)
            if got != expected or _types(got) != _types(expected) or compiled.align(read, only=0) != python.align(
                read, only=0
            ):  # fmt: skip
                differing.append((read, got, expected))
            if got is not None:
                shapes.add(
                    (
                        got.reverse,
                        got.ambiguous,
                        got.start > 0 or got.end < len(design.references[got.reference].sequence),
                    )
                )
    assert differing[:3] == []
    # Reverse reads, ties between references and reads covering part of the amplicon are among those compared.
    assert {(True, False, False), (False, True, False), (False, False, True)} <= shapes


def _selected(environment: dict[str, str], prelude: str = "") -> subprocess.CompletedProcess[str]:
    script = prelude + (
        "from editcheck.alignment import aligner, hotpath\n"
        "print(hotpath.IMPLEMENTATION, aligner.build_events.__module__, hotpath.AlignerCore is not None)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, **environment}, capture_output=True, text=True, check=True
    )


def test_the_environment_selects_the_pure_python_reference() -> None:
    selected = _selected({hotpath.PURE_PYTHON_VARIABLE: "1"})
    assert (selected.stdout, selected.stderr) == ("python editcheck.alignment.events False\n", "")
    selected = _selected({hotpath.PURE_PYTHON_VARIABLE: "0"})
    assert (selected.stdout, selected.stderr) == ("compiled editcheck.alignment._compiled True\n", "")


def test_a_missing_extension_falls_back_to_the_reference_with_one_warning_line() -> None:
    block = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'editcheck.alignment._compiled':\n"
        "            raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    selected = _selected({hotpath.PURE_PYTHON_VARIABLE: ""}, block)
    assert selected.stdout == "python editcheck.alignment.events False\n"
    assert selected.stderr.count("\n") == 1
    assert selected.stderr.startswith("editcheck: warning: the compiled hot path is not built (blocked for the test)")


@pytest.mark.slow
def test_compiled_layout_and_packing_kernels_equal_the_reference_on_100k_unique_reads(cases) -> None:
    # Every result packed alike by both, and unpacked equal.  encode_result leaves a projection out when laid_out
    # rebuilds it from the read (layout_offset finds where from); decode_result rebuilds it.  Both kernels against
    # the reference on every unique read's alignment.
    differing = []
    offsets: dict[int, int] = {}
    for design, reads in cases:
        worker = AmpliconWorker(design, AnalysisSettings())
        for read in reads:
            result = worker(read)
            aligned = result.alignment
            packed = (workers._compact_alignment(read, aligned), tuple(result.call))
            encoded = _compiled.pack(packed)
            if encoded != packing.pack(packed) or not (_compiled.unpack(encoded) == packing.unpack(encoded) == packed):
                differing.append(packed)
            if aligned is None or aligned.projection == read:
                continue
            arguments = (read, aligned.projection, aligned.start, aligned.end, aligned.insertions, aligned.deletions)
            offset = _compiled.layout_offset(*arguments)
            if offset != events.layout_offset(*arguments):
                differing.append(arguments)
            key = min(offset, 1)
            offsets[key] = offsets.get(key, 0) + 1
            for trial in {0, max(0, offset), len(read) // 3}:
                laid = (
                    read, len(aligned.projection), aligned.start, aligned.end, aligned.insertions, aligned.deletions,
                    trial,
                )  # fmt: skip
                if _compiled.laid_out(*laid) != events.laid_out(*laid):
                    differing.append(laid)
    assert differing[:3] == []
    # Projections laid out from the read's first base, from further on (overhang), and not laid out at all.
    assert set(offsets) == {-1, 0, 1} and min(offsets.values()) > 300, offsets


@pytest.mark.parametrize(
    "arguments",
    [
        ("ACGTACGTAC", 12, 1, 11, (), ((4, 2),), 0),  # a deletion
        ("ACGTACGTAC", 12, 1, 11, ((4, "GG"),), ((4, 2),), 0),  # an insertion and a deletion at one position
        ("ACGTACGTAC", 12, 1, 11, ((6, "T"), (3, "A")), (), 0),  # unsorted: the reference decides
        ("ACGTACGTAC", 12, 1, 11, (), ((3, 4), (5, 2)), 0),  # overlapping deletions
        ("ACGTACGTAC", 12, 1, 11, ((4, ""),), (), 0),  # an empty insertion
        ("ACGTAC", 12, 1, 11, ((4, "GG"),), (), 0),  # the read ends before the span does
        ("ACGTAC", 12, 1, 11, (), (), 3),  # the same without indels
        ("ACGTACGTAC", 12, 1, 11, ((4, "GGGGGGGGGGGG"),), (), 0),  # the read runs out inside an insertion
        ("ACGTACGTAC", 12, 1, 11, (), ((4, 2),), 12),  # an offset past the read
        ("ACGTACGTAC", 4, 1, 11, (), ((4, 2),), 0),  # a span past the reference
        ("ACGTÄCGTAC", 12, 1, 11, ((4, "GG"),), ((7, 1),), 1),  # Latin-1
        ("ACGT\u0100CGTAC", 12, 1, 11, ((4, "GG"),), ((7, 1),), 1),  # two bytes a character
    ],
)
def test_laid_out_edge_cases_equal_the_reference(arguments: tuple[Any, ...]) -> None:
    assert _compiled.laid_out(*arguments) == events.laid_out(*arguments)
    sequence, _, start, end, insertions, deletions, _ = arguments
    projection = events.laid_out(*arguments)
    for candidate in (projection, projection.replace("-", "A"), "." * len(projection)):
        found = _compiled.layout_offset(sequence, candidate, start, end, insertions, deletions)
        assert found == events.layout_offset(sequence, candidate, start, end, insertions, deletions)


@pytest.mark.parametrize(
    ("read", "signatures", "expected"),
    [
        ("AACCGGTT", ("CCGG", "GGGG"), 0),
        ("AAGGGGTT", ("CCGG", "GGGG"), 1),
        ("AACCGGGG", ("CCGG", "GGGG"), -1),  # both: no single reference
        ("AAAAAAAA", ("CCGG", "GGGG"), -1),
        ("CCG", ("CCGG",), -1),  # a read shorter than the signature
        ("AAÄCCGG", ("CCGG", "ÄCC"), -1),
        ("AA\u0100CCGG", ("CCGG", "GGGG"), 0),
        ("AACCGG", ("", "GGGG"), 0),
    ],
)
def test_signature_index_equals_the_reference(read: str, signatures: tuple[str, ...], expected: int) -> None:
    assert events.signature_index(read, signatures) == expected
    assert _compiled.signature_index(read, signatures) == expected


def test_compact_results_round_trip_with_either_layout_kernel(cases, monkeypatch) -> None:
    design, reads = cases[0]
    worker = PoolWorker([design], AnalysisSettings())
    sample = reads[:END_TO_END_READS]
    results = [worker(read) for read in sample]
    compiled = [encode_result(read, result) for read, result in zip(sample, results)]
    assert [decode_result(read, encoded) for read, encoded in zip(sample, compiled)] == results
    monkeypatch.setattr(workers, "laid_out", events.laid_out)
    monkeypatch.setattr(workers, "layout_offset", events.layout_offset)
    assert [encode_result(read, result) for read, result in zip(sample, results)] == compiled
    # (the compiled decode_result lays projections out in C itself: its reference takes the patched kernel)
    assert [workers.python_decode_result(read, encoded) for read, encoded in zip(sample, compiled)] == results


PACKED_VALUES = [
    (),
    (None, True, False, 0, 1, 111, 112, -1, 2**61, -(2**62) + 1, 2**62 - 1, 99.6, -0.0, float("inf"), 1e-300, ""),
    ("a" * 63, "b" * 64, "c" * 300, tuple(range(63)), tuple(range(64)), ((1, "A"), (2, "CC")), ((),)),
]


@pytest.mark.parametrize("value", PACKED_VALUES)
def test_packing_round_trips_each_type_identically(value: tuple[Any, ...]) -> None:
    encoded = packing.pack(value)
    assert _compiled.pack(value) == encoded
    for unpack in (packing.unpack, _compiled.unpack):
        unpacked = unpack(encoded)
        assert unpacked == value
        assert [type(item) for item in unpacked] == [type(item) for item in value]  # True stays True, not 1
    assert encoded[0] in packing.PACKED_TUPLE_TAGS


def test_packing_bytes_by_hand() -> None:
    value = (None, False, True, 5, 200, -3, "AC", (7,), 0.5)
    expected = bytes([0xC9, 0, 1, 2, 0x15, 4, 0x90, 0x03, 4, 5, 0x82]) + b"AC" + bytes([0xC1, 0x17, 3])
    expected += bytes.fromhex("000000000000e03f")  # 0.5, little-endian
    assert packing.pack(value) == _compiled.pack(value) == expected


@pytest.mark.parametrize("value", [(2**62,), (-(2**62),), ("é",), ([1],), (1j,), (True, {1: 2})])
def test_values_the_format_does_not_hold_are_refused_by_both(value: tuple[Any, ...]) -> None:
    for pack in (packing.pack, _compiled.pack):
        with pytest.raises(packing.Unpackable):
            pack(value)


@pytest.mark.parametrize(
    "encoded",
    [
        b"\xc2\x10", b"\xc1\x10\x10", b"\xc1\x85AB", b"\xc1\x03\x00", b"\xc1\x07", b"\xc1\x04\x80", b"",
        b"\xc1\x05" + b"\xff" * 8 + b"\x7f", b"\xc1\x06" + b"\xff" * 8 + b"\x7f",  # lengths past the bytes
        b"\xc1\x05" + b"\xff" * 9 + b"\x7f",  # a varint past 63 bits
    ],
)  # fmt: skip
def test_bytes_cut_short_or_foreign_are_refused_by_both(encoded: bytes) -> None:
    for unpack in (packing.unpack, _compiled.unpack):
        with pytest.raises(ValueError, match=r"cut short|trailing|not packed"):
            unpack(encoded)


def _types(value: Any) -> Any:
    """A value's type, and its items' types down through tuples (named tuples, enums and all)."""
    if isinstance(value, tuple):
        return (type(value), tuple(_types(item) for item in value))
    return type(value)


def test_the_compiled_decoder_equals_the_reference_with_the_same_types(cases) -> None:
    # decode_result is the compiled ResultDecoder; python_decode_result its reference: equal results of the same
    # types (PooledCall / Classified, AlignedRead, ReadCall, Assignment) on every design's reads, for the pool's
    # worker and one amplicon's, with the projection kept whole, left out (the read itself) and laid out again.
    assert type(decode_result).__name__ == "ResultDecoder" and hotpath.ResultDecoder is not None
    layouts: dict[str, int] = {}
    for design, reads in cases:
        for worker in (PoolWorker([design], AnalysisSettings()), AmpliconWorker(design, AnalysisSettings())):
            for read in reads[:END_TO_END_READS]:
                encoded = encode_result(read, worker(read))
                got, expected = decode_result(read, encoded), workers.python_decode_result(read, encoded)
                assert got == expected and _types(got) == _types(expected), read
                assert gc.is_tracked(got) and gc.is_tracked(got[2] if len(got) == 4 else got[0]) == gc.is_tracked(
                    expected[2] if len(expected) == 4 else expected[0]
                )  # fmt: skip
                kept = packing.unpack(encoded)[-2]  # the packed alignment
                kind = "unaligned" if kept is None else type(kept[6]).__name__  # its projection: whole, None, laid out
                layouts[kind] = layouts.get(kind, 0) + 1
    assert min(layouts.get(kind, 0) for kind in ("NoneType", "tuple", "str")) > 20, layouts
    # Bytes in marshal's format go to the reference; damaged packed bytes are refused as the reference refuses them.
    read = cases[0][1][0]
    result = PoolWorker([cases[0][0]], AnalysisSettings())(read)
    status, amplicon, aligned, call = result
    canonical = marshal.dumps((status.value, amplicon, tuple(aligned), tuple(call)), 0)
    assert decode_result(read, canonical) == result and _types(decode_result(read, canonical)) == _types(result)
    encoded = encode_result(read, result)
    for damaged in (encoded + b"\x00", encoded[:-1], b""):
        with pytest.raises((ValueError, IndexError)):
            workers.python_decode_result(read, damaged)
        with pytest.raises((ValueError, IndexError)):
            decode_result(read, damaged)


def test_encoded_results_are_packed_smaller_and_foreign_ones_still_decode(cases) -> None:
    design, reads = cases[0]
    worker = PoolWorker([design], AnalysisSettings())
    sample = reads[:END_TO_END_READS]
    results = [worker(read) for read in sample]
    encoded = [encode_result(read, result) for read, result in zip(sample, results)]
    assert all(item[0] in packing.PACKED_TUPLE_TAGS for item in encoded)
    packed = sum(map(len, encoded))
    marshalled = sum(len(marshal.dumps(packing.unpack(item))) for item in encoded)  # marshal's default format
    assert packed < 0.8 * marshalled, (packed, marshalled)
    # A result with a value the format does not hold is marshalled instead, and marshal's bytes (also masking's
    # canonical ones) decode.
    odd_result = results[0]._replace(call=results[0].call._replace(events="ä"))
    assert encode_result(sample[0], odd_result)[0] not in packing.PACKED_TUPLE_TAGS
    assert decode_result(sample[0], encode_result(sample[0], odd_result)) == odd_result
    status, amplicon, aligned, call = results[0]
    canonical = marshal.dumps((status.value, amplicon, tuple(aligned), tuple(call)), 0)
    assert decode_result(sample[0], canonical) == results[0]


@pytest.mark.parametrize(
    "read",
    ["AAACCCGGGTTT", "xxAAAyyCCCzzTTTww", "AAAxTTT", "TTTAAA", "xAAAAAAxTTTTTTx", "AA", "", "TTTxTTTyTTT",
     "AAATTT", "xTTTAAATTTx", "ÄAAAxTTTÄ", "\u0100AAAxTTT"],
)  # fmt: skip
def test_anchor_clips_equal_the_reference(read: str) -> None:
    for anchors in (("AAA", "TTT"), ("AAA", ""), ("", "TTT"), ("AAAA", "TTTT")):
        assert _compiled.anchor_clips(read, *anchors, 3) == events.anchor_clips(read, *anchors, 3)


def test_unpacked_names_are_shared_between_results() -> None:
    # As marshal interns the names it wrote: the outcome and status names of many unique reads' results (and
    # inserted bases) are one string each, not one per result.
    encoded = packing.pack(("modified", "ACG", "121C>G", "_x1"))
    for unpack in (packing.unpack, _compiled.unpack):
        first, second = unpack(encoded), unpack(encoded)
        assert first == second == ("modified", "ACG", "121C>G", "_x1")
        assert [a is b for a, b in zip(first, second)] == [True, True, False, True]


def test_the_compiled_chunk_runner_encodes_what_the_pool_worker_gives_on_100k_unique_reads(cases) -> None:
    # The workers' compiled pass over a chunk (ChunkRunner, unmasked runs) against the pool worker read by read,
    # encoded: the same bytes for every one of the 100k unique reads of the three designs (with their exon and
    # target variants), in chunks as the engine sends them.
    for design, reads in cases:
        for shown in _shown(design):
            worker = PoolWorker([shown], AnalysisSettings())
            runner = workers.chunk_runner(worker)
            assert runner is not None
            sample = reads if shown is design else reads[:END_TO_END_READS]
            for start in range(0, len(sample), workers.CHUNK):
                chunk = sample[start : start + workers.CHUNK]
                assert runner.encoded(chunk) == [encode_result(read, worker(read)) for read in chunk], start


def test_runner_parts_name_the_chunk_runners_last_parameters_in_order() -> None:
    # ChunkRunner takes the masking parts by position (a cdef class: no signature to introspect), so its source
    # is read: RunnerParts must name its last parameters, in order, or a part would reach the wrong one.
    source = Path(_compiled.__file__).with_name("_compiled.pyx").read_text(encoding="utf-8")
    header = source.split("cdef class ChunkRunner", 1)[1].split("def __init__(", 1)[1].split("):", 1)[0]
    parameters = [part.split()[-1] for part in header.replace("\n", " ").split(",") if part.strip()]
    assert parameters[-len(workers.RunnerParts._fields) :] == list(workers.RunnerParts._fields)
    assert parameters[-len(workers.RunnerParts._fields) - 1] == "events_index"
    assert workers.UNMASKED.find_sites is None and workers.UNMASKED.keyed is False
