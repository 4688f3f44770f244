"""Tests for the seeded read simulator (editcheck.simulate)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import dnaio
import pytest

from editcheck.errors import DesignError, ParameterError
from editcheck.simulate import (
    BaseEditorSpec,
    OutcomeMix,
    SimulationDesign,
    random_design,
    random_pool,
    simulate,
    simulate_pool,
)

COMPLEMENT = str.maketrans("ACGT", "TGCA")


def revcomp(sequence: str) -> str:
    return sequence.translate(COMPLEMENT)[::-1]


@pytest.fixture(scope="module")
def design() -> SimulationDesign:
    return random_design(seed=7)


@pytest.fixture(scope="module")
def single_end(design: SimulationDesign, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    directory = tmp_path_factory.mktemp("se")
    truth = simulate(design, 20_000, directory / "r1.fastq.gz", truth_path=directory / "truth.json", seed=3)
    return directory, truth


def test_random_design_layout(design: SimulationDesign) -> None:
    amplicon, guide = design.amplicon, design.guide
    start = amplicon.index(guide)
    assert start == 105 and len(amplicon) == 250
    assert amplicon.count(guide) + amplicon.count(revcomp(guide)) == 1
    assert guide[4] == "A" and guide[6] == "A"
    assert amplicon[start + 21 : start + 23] == "GG"
    assert design.guide_strand == "+" and design.cut_boundary == start + 17
    donor = design.donor_amplicon
    assert donor is not None and donor[start + 22] == "C"
    differences = [i for i, (a, b) in enumerate(zip(amplicon, donor)) if a != b]
    assert len(differences) == 3
    assert all(abs(i - design.cut_boundary) <= 10 for i in differences)
    assert random_design(seed=7) == design
    assert random_design(seed=7, with_donor=False).donor_amplicon is None


def test_reverse_strand_guide_cut_is_mirrored(design: SimulationDesign) -> None:
    mirrored = SimulationDesign(revcomp(design.amplicon), design.guide)
    assert mirrored.guide_strand == "-"
    assert mirrored.cut_boundary == len(design.amplicon) - design.cut_boundary


def test_invalid_designs_and_parameters_raise(design: SimulationDesign, tmp_path: Path) -> None:
    with pytest.raises(ParameterError):
        OutcomeMix(unmodified=0.5, deletion=0.2, insertion=0.1, substitution=0.1, hdr=0.05)
    with pytest.raises(ParameterError):
        OutcomeMix(unmodified=1.2, deletion=-0.2, insertion=0.0, substitution=0.0, hdr=0.0)
    with pytest.raises(DesignError):
        SimulationDesign(design.amplicon, "A" * 20)
    with pytest.raises(DesignError):
        SimulationDesign(design.amplicon + design.amplicon, design.guide)
    no_donor = random_design(seed=7, with_donor=False)
    with pytest.raises(ParameterError):
        simulate(no_donor, 10, tmp_path / "x.fq", mix=OutcomeMix())
    with pytest.raises(ParameterError):
        simulate(design, 10, tmp_path / "x.fq", error_rate=-0.1)
    with pytest.raises(ParameterError):
        simulate(design, 10, tmp_path / "x.fq", tmp_path / "x.fq")
    assert not list(tmp_path.iterdir())
    # Without a donor the default mix has no HDR share.
    truth = simulate(no_donor, 100, tmp_path / "y.fq")
    assert truth["class_counts"]["hdr"] == 0 and sum(truth["class_counts"].values()) == 100


def test_class_counts_are_exact_and_match_read_names(single_end: tuple[Path, dict]) -> None:
    directory, truth = single_end
    counts = truth["class_counts"]
    assert counts == {"unmodified": 11_000, "deletion": 4_400, "insertion": 2_000, "substitution": 1_000, "hdr": 1_600}
    assert sum(counts.values()) == truth["n_reads"] == 20_000
    assert truth["expected_classification"] == {"unmodified": 11_000, "modified": 7_400, "hdr": 1_600}
    by_id = {allele["id"]: allele for allele in truth["alleles"]}
    observed: dict[str, int] = {}
    with dnaio.open(directory / "r1.fastq.gz") as reader:
        for index, record in enumerate(reader):
            prefix, allele_id = record.name.split(":")
            assert prefix == f"sim{index:07d}"
            observed[allele_id] = observed.get(allele_id, 0) + 1
    assert observed == {key: a["reads"] for key, a in by_id.items() if a["reads"]}
    per_class: dict[str, int] = {}
    for allele in truth["alleles"]:
        per_class[allele["class"]] = per_class.get(allele["class"], 0) + allele["reads"]
    assert per_class == counts
    deletion_reads = sum(a["reads"] for a in truth["alleles"] if a["class"] == "deletion")
    assert sum(truth["deletion_sizes"].values()) == deletion_reads
    assert sum(truth["insertion_sizes"].values()) == counts["insertion"]


def test_allele_events_describe_the_sequences(design: SimulationDesign, single_end: tuple[Path, dict]) -> None:
    _, truth = single_end
    amplicon, cut = design.amplicon, design.cut_boundary
    classes = set()
    for allele in truth["alleles"]:
        classes.add(allele["class"])
        sequence, events = allele["sequence"], allele["events"]
        if allele["class"] == "deletion":
            (event,) = events
            start, length = event["start"] - 1, event["length"]
            assert event["end"] == start + length and 1 <= length <= 30
            assert start <= cut <= start + length, "deletion must span or abut the cut"
            assert amplicon[:start] + amplicon[start + length :] == sequence
            equivalent = [
                p for p in range(len(amplicon) - length + 1) if amplicon[:p] + amplicon[p + length :] == sequence
            ]
            assert (equivalent[0], equivalent[-1]) == (event["leftmost_start0"], event["rightmost_start0"])
        elif allele["class"] == "insertion":
            (event,) = events
            inserted = event["inserted"]
            assert event["after"] == cut and 1 <= event["length"] == len(inserted) <= 5
            assert amplicon[:cut] + inserted + amplicon[cut:] == sequence
            k = len(inserted)
            equivalent = [
                p
                for p in range(len(amplicon) + 1)
                if sequence[:p] == amplicon[:p] and sequence[p + k :] == amplicon[p:]
            ]
            assert (equivalent[0], equivalent[-1]) == (event["leftmost_start0"], event["rightmost_start0"])
        elif allele["class"] == "substitution":
            (event,) = events
            assert cut - 2 <= event["position"] - 1 <= cut + 1
            assert amplicon[event["position"] - 1] == event["ref"] != event["alt"]
        elif allele["class"] == "hdr":
            assert sequence == design.donor_amplicon and len(events) == 3
        else:
            assert sequence == amplicon and events == []
    assert classes == {"unmodified", "deletion", "insertion", "substitution", "hdr"}
    first_insertion = next(a for a in truth["alleles"] if a["class"] == "insertion")
    assert first_insertion["events"][0]["inserted"] == amplicon[cut - 1], "templated +1 insertion comes first"
    assert len({a["sequence"] for a in truth["alleles"]}) == len(truth["alleles"])


def test_errors_rate_and_low_qualities(single_end: tuple[Path, dict]) -> None:
    directory, truth = single_end
    sequences = {a["id"]: a["sequence"][:250] for a in truth["alleles"]}
    errors = bases = low_quality_correct = high_quality_errors = n_bases = 0
    with dnaio.open(directory / "r1.fastq.gz") as reader:
        for record in reader:
            template = sequences[record.name.split(":")[1]]
            assert len(record.sequence) == len(template)
            for base, expected, quality in zip(record.sequence, template, record.qualities):
                bases += 1
                if base != expected:
                    errors += 1
                    n_bases += base == "N"
                    high_quality_errors += ord(quality) - 33 >= 20
                else:
                    low_quality_correct += ord(quality) - 33 < 20
    assert truth["realised_error_rate"] == pytest.approx(errors / bases)
    assert abs(truth["realised_error_rate"] - 0.002) < 0.3 * 0.002
    assert high_quality_errors == 0 and low_quality_correct == 0
    assert 0 < n_bases < 0.1 * errors


def test_truth_json_matches_return_value(single_end: tuple[Path, dict]) -> None:
    directory, truth = single_end
    document = json.loads((directory / "truth.json").read_text())
    assert document == json.loads(json.dumps(truth))
    for key in (
        "schema_version",
        "generator",
        "seed",
        "n_reads",
        "paired",
        "read_length",
        "error_rate",
        "realised_error_rate",
        "design",
        "class_counts",
        "expected_classification",
        "deletion_sizes",
        "insertion_sizes",
        "alleles",
    ):
        assert key in document
    assert document["schema_version"] == 1 and document["paired"] is False
    assert set(document["design"]) >= {"amplicon", "guide", "cut_offset", "donor_amplicon"}
    assert set(document["alleles"][0]) == {"id", "class", "sequence", "events", "reads"}


def test_single_end_gzip_is_deterministic(design: SimulationDesign, tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        reads, truth_file = tmp_path / run / "reads.fq.gz", tmp_path / run / "truth.json"
        truth = simulate(design, 2_000, reads, truth_path=truth_file, seed=11)
        outputs.append((reads.read_bytes(), truth_file.read_bytes(), truth))
    assert outputs[0] == outputs[1]
    other = simulate(design, 2_000, tmp_path / "c.fq.gz", seed=12)
    assert (tmp_path / "c.fq.gz").read_bytes() != outputs[0][0] and other != outputs[0][2]


def test_paired_end_is_deterministic_and_mates_reconstruct_allele(design: SimulationDesign, tmp_path: Path) -> None:
    files = []
    for run in ("a", "b"):
        r1, r2 = tmp_path / run / "r1.fq.gz", tmp_path / run / "r2.fq.gz"
        truth = simulate(design, 1_000, r1, r2, read_length=150, error_rate=0.0, seed=5)
        files.append((r1.read_bytes(), r2.read_bytes()))
    assert files[0] == files[1]
    assert truth["paired"] is True and truth["realised_error_rate"] == 0.0
    sequences = {a["id"]: a["sequence"] for a in truth["alleles"]}
    count = 0
    with dnaio.open(tmp_path / "a" / "r1.fq.gz", file2=tmp_path / "a" / "r2.fq.gz") as reader:
        for mate1, mate2 in reader:
            assert mate1.name.split()[0] == mate2.name.split()[0]
            assert mate1.name.endswith(" 1:N:0") and mate2.name.endswith(" 2:N:0")
            allele = sequences[mate1.name.split()[0].split(":")[1]]
            assert len(mate1.sequence) == len(mate2.sequence) == min(150, len(allele))
            forward2 = revcomp(mate2.sequence)
            overlap = len(mate1.sequence) + len(forward2) - len(allele)
            assert overlap >= 20
            assert mate1.sequence[len(allele) - len(forward2) :] == forward2[:overlap]
            assert mate1.sequence + forward2[overlap:] == allele
            count += 1
    assert count == 1_000


def test_plain_text_output_when_not_gz(design: SimulationDesign, tmp_path: Path) -> None:
    simulate(design, 50, tmp_path / "reads.fastq", read_length=100)
    text = (tmp_path / "reads.fastq").read_text()
    lines = text.splitlines()
    assert len(lines) == 200 and lines[0].startswith("@sim0000000:") and lines[2] == "+"
    assert all(len(lines[i]) == len(lines[i + 2]) <= 100 for i in range(1, 200, 4))


# --- Backward compatibility -------------------------------------------------------------------


def test_classic_mix_output_is_unchanged(design: SimulationDesign, tmp_path: Path) -> None:
    """Golden hash of reads and truth written by the simulator before the extensions were added."""
    r1, r2, truth_file = tmp_path / "r1.fq", tmp_path / "r2.fq", tmp_path / "t.json"
    simulate(design, 300, r1, r2, read_length=150, seed=9, truth_path=truth_file)
    digest = hashlib.sha256()
    for name in ("r1.fq", "r2.fq", "t.json"):
        digest.update((tmp_path / name).read_bytes())
    assert digest.hexdigest() == "76dcef169ad674ba7d13749ff62647ff70433edbc67b04d71d46ecbd8259600b"
    assert list(OutcomeMix().fractions()) == ["unmodified", "deletion", "insertion", "substitution", "hdr"]
    truth = json.loads((tmp_path / "t.json").read_text())
    assert not {"base_editing", "large_deletion_sizes", "molecules"} & set(truth)


# --- Base editing -----------------------------------------------------------------------------

BASE_MIX = OutcomeMix(
    unmodified=0.10, deletion=0.05, insertion=0.03, substitution=0.02, hdr=0.05, large_deletion=0.05, base_edit=0.70
)


def _recount_base_editing(reads: Path, truth: dict) -> dict:
    """Base-editing counts recomputed from error-free reads and the allele classes in their names."""
    editing = truth["base_editing"]
    product = editing["amplicon_conversion"][-1]
    positions = [int(p) for p in editing["per_position"]]
    target = editing["target_amplicon_position"]
    classes = {a["id"]: a["class"] for a in truth["alleles"]}
    per_position = dict.fromkeys(editing["per_position"], 0)
    counts: Counter[str] = Counter()
    with dnaio.open(reads) as reader:
        for record in reader:
            if classes[record.name.split(":")[1]] in ("deletion", "insertion", "large_deletion"):
                counts["indel"] += 1
                continue
            converted = [p for p in positions if record.sequence[p - 1] == product]
            for p in converted:
                per_position[str(p)] += 1
            on_target, bystander = target in converted, len(set(converted) - {target}) > 0
            counts[
                ("intended_and_bystander" if bystander else "intended_only")
                if on_target
                else ("bystander_only" if bystander else "unedited")
            ] += 1
    return {
        "target_converted_reads": counts["intended_only"] + counts["intended_and_bystander"],
        "per_position": per_position,
        "classes": {key: counts[key] for key in editing["classes"]},
    }


def test_base_editing_truth_matches_error_free_reads(design: SimulationDesign, tmp_path: Path) -> None:
    spec = BaseEditorSpec()
    truth = simulate(design, 4_000, tmp_path / "be.fq", mix=BASE_MIX, base_editor=spec, error_rate=0.0, seed=4)
    editing = truth["base_editing"]
    start = design.amplicon.index(design.guide)
    assert editing["conversion"] == "A>G" == editing["amplicon_conversion"] and editing["strand"] == "+"
    assert editing["window"] == [4, 8] and editing["window_amplicon"] == [start + 4, start + 8]
    assert editing["target_amplicon_position"] == start + 5
    window_as = [p for p in range(4, 9) if design.guide[p - 1] == "A"]
    assert len(window_as) >= 2 and 5 in window_as, "random_design puts >= 2 A's in the default window"
    assert [int(p) for p in editing["per_position"]] == [start + p for p in window_as]
    recount = _recount_base_editing(tmp_path / "be.fq", truth)
    assert {key: editing[key] for key in recount} == recount
    classes = editing["classes"]
    assert sum(classes.values()) == 4_000 and classes["indel"] == sum(
        truth["class_counts"][name] for name in ("deletion", "insertion", "large_deletion")
    )
    assert editing["exposed_reads"] == truth["class_counts"]["base_edit"] == 2_800
    assert all(classes[key] > 0 for key in classes)
    # Unexposed classes carry no conversions: HDR and substitution reads fall under 'unedited'.
    assert classes["unedited"] >= truth["class_counts"]["unmodified"] + truth["class_counts"]["hdr"]
    unconverted = sum(a["reads"] for a in truth["alleles"] if a["id"] == "be-none")
    assert truth["expected_classification"] == {
        "unmodified": truth["class_counts"]["unmodified"] + unconverted,
        "modified": 4_000 - truth["class_counts"]["unmodified"] - unconverted - truth["class_counts"]["hdr"],
        "hdr": truth["class_counts"]["hdr"],
    }


def test_base_editing_rates_and_determinism(design: SimulationDesign, tmp_path: Path) -> None:
    files = []
    for run in ("a", "b"):
        truth = simulate(design, 20_000, tmp_path / run / "r.fq.gz", base_editor=BaseEditorSpec(), seed=8,
                         truth_path=tmp_path / run / "t.json")  # fmt: skip
        files.append(((tmp_path / run / "r.fq.gz").read_bytes(), (tmp_path / run / "t.json").read_bytes()))
    assert files[0] == files[1]
    assert truth["class_counts"]["base_edit"] == 20_000 and truth["mix"]["base_edit"] == 1.0
    editing = truth["base_editing"]
    assert abs(editing["target_converted_reads"] / 20_000 - 0.42) < 0.015  # ~4 standard errors
    target = str(editing["target_amplicon_position"])
    for position, reads in editing["per_position"].items():
        assert abs(reads / 20_000 - (0.42 if position == target else 0.3)) < 0.015
    # Independence: P(no bystander) = 0.7^k for k bystanders.
    k = len(editing["per_position"]) - 1
    intended_only = editing["classes"]["intended_only"] / editing["target_converted_reads"]
    assert abs(intended_only - 0.7**k) < 0.03


def test_base_editing_on_reverse_strand_guide(design: SimulationDesign, tmp_path: Path) -> None:
    mirrored = SimulationDesign(revcomp(design.amplicon), design.guide)
    spec = BaseEditorSpec(target_rate=0.5, bystander_rate=0.5)
    truth = simulate(mirrored, 1_000, tmp_path / "rev.fq", base_editor=spec, error_rate=0.0, seed=2)
    editing = truth["base_editing"]
    n, start = len(design.amplicon), design.amplicon.index(design.guide)
    assert editing["strand"] == "-" and editing["conversion"] == "A>G" and editing["amplicon_conversion"] == "T>C"
    assert editing["target_amplicon_position"] == n - (start + 5) + 1
    assert editing["window_amplicon"] == [n - (start + 8) + 1, n - (start + 4) + 1]
    for position in editing["per_position"]:
        assert mirrored.amplicon[int(position) - 1] == "T"
    assert _recount_base_editing(tmp_path / "rev.fq", truth)["per_position"] == editing["per_position"]


def test_base_editor_validation(design: SimulationDesign, tmp_path: Path) -> None:
    with pytest.raises(ParameterError):
        BaseEditorSpec(conversion=("A", "A"))
    with pytest.raises(ParameterError):
        BaseEditorSpec(window=(4, 8), target=9)
    with pytest.raises(ParameterError):
        BaseEditorSpec(target_rate=1.5)
    with pytest.raises(ParameterError):  # protospacer position 5 is an A, not a C
        simulate(design, 10, tmp_path / "x.fq", base_editor=BaseEditorSpec(conversion=("C", "T")))
    with pytest.raises(ParameterError):  # an explicit mix without a base_edit share
        simulate(design, 10, tmp_path / "x.fq", mix=OutcomeMix(), base_editor=BaseEditorSpec())
    assert not list(tmp_path.iterdir())
    # A base_edit share without an explicit editor uses the default spec.
    mix = OutcomeMix(unmodified=0.5, deletion=0.0, insertion=0.0, substitution=0.0, hdr=0.0, base_edit=0.5)
    truth = simulate(design, 100, tmp_path / "y.fq", mix=mix)
    assert truth["base_editing"]["conversion"] == "A>G" and truth["base_editing"]["window"] == [4, 8]


# --- Large deletions --------------------------------------------------------------------------


def test_large_deletions_span_the_cut_and_keep_anchors(design: SimulationDesign, tmp_path: Path) -> None:
    mix = OutcomeMix(unmodified=0.5, deletion=0.1, insertion=0.05, substitution=0.05, hdr=0.0, large_deletion=0.3)
    runs = []
    for run in ("a", "b"):
        truth = simulate(design, 2_000, tmp_path / run / "r.fq", mix=mix, error_rate=0.0, seed=6)
        runs.append(((tmp_path / run / "r.fq").read_bytes(), truth))
    assert runs[0] == runs[1]
    amplicon, cut, n = design.amplicon, design.cut_boundary, len(design.amplicon)
    large = [a for a in truth["alleles"] if a["class"] == "large_deletion"]
    assert len(large) == 20 and len({a["sequence"] for a in large}) == 20
    for allele in large:
        (event,) = allele["events"]
        start, length = event["start"] - 1, event["length"]
        assert 50 <= length <= 150 and event["end"] == start + length
        assert start >= 25 and n - (start + length) >= 25
        assert start < cut < start + length, "large deletions remove bases on both sides of the cut"
        assert amplicon[:start] + amplicon[start + length :] == allele["sequence"]
    assert truth["class_counts"]["large_deletion"] == 600 == sum(truth["large_deletion_sizes"].values())
    assert all(50 <= int(size) <= 150 for size in truth["large_deletion_sizes"])
    assert truth["expected_classification"]["modified"] == 2_000 - truth["class_counts"]["unmodified"]
    sequences = {a["id"]: a["sequence"] for a in truth["alleles"]}
    with dnaio.open(tmp_path / "a" / "r.fq") as reader:
        assert all(record.sequence == sequences[record.name.split(":")[1]][:250] for record in reader)


# --- Pooled amplicons -------------------------------------------------------------------------


def test_random_pool_guides_and_near_identical_pairs() -> None:
    pool = random_pool(n_amplicons=20, seed=2024, near_identical_pairs=2)
    assert len(pool) == 20 and pool == random_pool(n_amplicons=20, seed=2024, near_identical_pairs=2)
    assert all(d.donor_amplicon is None and len(d.amplicon) == 250 for d in pool)
    assert len({d.amplicon for d in pool}) == 20 and len({d.guide for d in pool}) == 18
    distances = {
        (i, j): sum(a != b for a, b in zip(pool[i].amplicon, pool[j].amplicon))
        for i in range(20) for j in range(i + 1, 20)
    }  # fmt: skip
    assert {pair for pair, d in distances.items() if d <= 10} == {(0, 1), (2, 3)}
    assert distances[0, 1] == distances[2, 3] == 3
    assert min(d for pair, d in distances.items() if pair not in {(0, 1), (2, 3)}) > 100
    for i, d in enumerate(pool):
        holders = {j for j, other in enumerate(pool) if d.guide in other.amplicon or revcomp(d.guide) in other.amplicon}
        assert holders == ({i, i ^ 1} if i < 4 else {i})
        if i < 4:  # the SNVs of a near-identical pair lie outside the reach of ordinary indels
            snvs = [p for p in range(250) if pool[i ^ 1].amplicon[p] != d.amplicon[p]]
            assert all(abs(p - d.cut_boundary) >= 35 for p in snvs)
    with pytest.raises(ParameterError):
        random_pool(n_amplicons=3, near_identical_pairs=2)


def test_simulate_pool_truth_matches_reads(tmp_path: Path) -> None:
    pool = random_pool(n_amplicons=8, seed=5, near_identical_pairs=1)
    runs = []
    for run in ("a", "b"):
        truth = simulate_pool(pool, 6_000, tmp_path / run / "pool.fq.gz", seed=3, truth_path=tmp_path / run / "t.json")
        runs.append(((tmp_path / run / "pool.fq.gz").read_bytes(), (tmp_path / run / "t.json").read_bytes()))
    assert runs[0] == runs[1]
    assert json.loads(runs[0][1]) == json.loads(json.dumps(truth))
    assert truth["n_amplicons"] == 8 and sum(truth["reads_per_amplicon"]) == 6_000
    assert max(truth["reads_per_amplicon"]) > 2 * min(truth["reads_per_amplicon"]) > 0
    assert truth["similar_pairs"] == [[0, 1, 3]]
    totals: Counter[str] = Counter()
    for index, amplicon in enumerate(truth["amplicons"]):
        assert amplicon["index"] == index and amplicon["design"]["amplicon"] == pool[index].amplicon
        assert sum(amplicon["class_counts"].values()) == amplicon["n_reads"] == truth["reads_per_amplicon"][index]
        assert amplicon["class_counts"]["hdr"] == 0 and amplicon["mix"]["unmodified"] == 0.63
        assert sum(a["reads"] for a in amplicon["alleles"]) == amplicon["n_reads"]
        totals.update(amplicon["class_counts"])
    assert truth["class_counts"] == dict(totals)
    observed: Counter[tuple[int, str]] = Counter()
    with dnaio.open(tmp_path / "a" / "pool.fq.gz") as reader:
        for i, record in enumerate(reader):
            prefix, amplicon_index, allele_id = record.name.split(":")
            assert prefix == f"sim{i:07d}"
            observed[int(amplicon_index), allele_id] += 1
    expected = {
        (amplicon["index"], a["id"]): a["reads"]
        for amplicon in truth["amplicons"]
        for a in amplicon["alleles"]
        if a["reads"]
    }
    assert observed == expected
    reads_per_amplicon = Counter(index for index, _ in observed.elements())
    assert [reads_per_amplicon[i] for i in range(8)] == truth["reads_per_amplicon"]


# --- UMIs -------------------------------------------------------------------------------------


def test_umi_reads_per_molecule_and_names(design: SimulationDesign, tmp_path: Path) -> None:
    runs = []
    for run in ("a", "b"):
        truth = simulate(design, 6_000, tmp_path / run / "u.fq", umi_length=10, reads_per_molecule=3.0, seed=5,
                         error_rate=0.01, truth_path=tmp_path / run / "t.json")  # fmt: skip
        runs.append(((tmp_path / run / "u.fq").read_bytes(), (tmp_path / run / "t.json").read_bytes()))
    assert runs[0] == runs[1]
    molecules = truth["molecules"]
    assert truth["n_reads"] == 6_000 == sum(truth["class_counts"].values())
    assert sum(molecules["class_counts"].values()) == molecules["n"]
    assert molecules["expected_classification"]["unmodified"] == molecules["class_counts"]["unmodified"]
    assert abs(molecules["mean_reads_per_molecule"] - 3.05) < 0.15  # E[max(1, Poisson(3))] = 3 + e^-3
    by_umi: dict[str, Counter[str]] = {}
    with dnaio.open(tmp_path / "a" / "u.fq") as reader:
        for i, record in enumerate(reader):
            prefix, rest = record.name.split(":")
            allele_id, umi = rest.rsplit("_", 1)
            assert prefix == f"sim{i:07d}" and len(umi) == 10 and set(umi) <= set("ACGT")
            by_umi.setdefault(umi, Counter())[allele_id] += 1
    assert len(by_umi) == molecules["n"]
    assert all(len(alleles) == 1 for alleles in by_umi.values()), "all duplicates of a molecule share its allele"
    sizes = Counter(str(sum(alleles.values())) for alleles in by_umi.values())
    assert dict(sizes) == molecules["reads_per_molecule_histogram"]
    per_allele_molecules = Counter(next(iter(alleles)) for alleles in by_umi.values())
    per_allele_reads = sum(by_umi.values(), Counter())
    for allele in truth["alleles"]:
        assert allele["molecules"] == per_allele_molecules[allele["id"]]
        assert allele["reads"] == per_allele_reads[allele["id"]]
    # Duplicates get independent sequencing errors.
    assert truth["realised_error_rate"] > 0


def test_umi_parameters(design: SimulationDesign, tmp_path: Path) -> None:
    truth = simulate(design, 500, tmp_path / "one.fq", umi_length=6, seed=1)
    assert truth["molecules"]["n"] == 500 and truth["molecules"]["reads_per_molecule_histogram"] == {"1": 500}
    with pytest.raises(ParameterError):
        simulate(design, 10, tmp_path / "x.fq", reads_per_molecule=2.0)
    with pytest.raises(ParameterError):
        simulate(design, 10, tmp_path / "x.fq", umi_length=-1)
    with pytest.raises(ParameterError):  # 4^2 = 16 UMIs cannot label 500 molecules
        simulate(design, 500, tmp_path / "x.fq", umi_length=2)
    assert not (tmp_path / "x.fq").exists()
    paired = simulate(design, 300, tmp_path / "p1.fq", tmp_path / "p2.fq", umi_length=8, reads_per_molecule=2.0,
                      read_length=150, base_editor=BaseEditorSpec(), seed=2)  # fmt: skip
    assert sum(paired["molecules"]["base_editing"]["classes"].values()) == paired["molecules"]["n"]
    assert sum(paired["base_editing"]["classes"].values()) == 300
    with dnaio.open(tmp_path / "p1.fq", file2=tmp_path / "p2.fq") as reader:
        for mate1, mate2 in reader:
            assert mate1.name.split()[0] == mate2.name.split()[0] and len(mate1.name.split()[0].rsplit("_", 1)[1]) == 8
