"""Tests for the seeded read simulator (editcheck.simulate)."""

from __future__ import annotations

import json
from pathlib import Path

import dnaio
import pytest

from editcheck.errors import DesignError, ParameterError
from editcheck.simulate import OutcomeMix, SimulationDesign, random_design, simulate

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
        "schema_version", "generator", "seed", "n_reads", "paired", "read_length", "error_rate",
        "realised_error_rate", "design", "class_counts", "expected_classification",
        "deletion_sizes", "insertion_sizes", "alleles",
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
