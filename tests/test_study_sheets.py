"""The study model (#12 item 1): designs and samples sheets, each problem one line naming sheet, row and problem."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from editcheck import simulate
from editcheck.errors import InputFormatError
from editcheck.folders import safe_name
from editcheck.study import (
    DESIGN_COLUMNS,
    SAMPLE_COLUMNS,
    parse_time_point,
    read_design_sheet,
    read_study,
)

REPO = Path(__file__).resolve().parent.parent
DESIGN = simulate.random_design(seed=11, with_donor=False)
OTHER = simulate.random_design(seed=12, with_donor=False)
HEADER = ["sample", "design_id", "condition", "replicate", "r1", "subject", "tissue", "time_point", "dose", "batch"]


def write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A designs sheet (A: nuclease, B: ABE at protospacer position 5) and empty reads files."""
    for name in ("t1", "t2", "t3", "m1"):
        (tmp_path / f"{name}.fastq.gz").write_bytes(b"")
    (tmp_path / "b.fa").write_text(f">b_amplicon\n{OTHER.amplicon}\n", encoding="utf-8")
    write_tsv(tmp_path / "designs.tsv", ["design_id", "amplicon", "guide", "base_editor", "target_protospacer_position"],
              [["A", DESIGN.amplicon, DESIGN.guide, "", ""], ["B", "b.fa", OTHER.guide, "ABE", "5"]])  # fmt: skip
    return tmp_path


def rows(**changes: list[str]) -> list[list[str]]:
    """A valid samples sheet's rows: subject P1 at three time points, a mock; ``changes`` replaces rows by sample."""
    base = {
        "T1": ["T1", "A", "treated", "1", "t1.fastq.gz", "P1", "liver", "28 d", "1e13 vg/kg", "lot 7"],
        "T2": ["T2", "A", "treated", "1", "t2.fastq.gz", "P1", "liver", "12 wk", "1e13 vg/kg", "lot 7"],
        "T3": ["T3", "A", "treated", "1", "t3.fastq.gz", "P1", "liver", "182 d", "1e13 vg/kg", "lot 8"],
        "M1": ["M1", "A", "control", "1", "m1.fastq.gz", "", "liver", "", "", ""],
    }
    base.update(changes)
    return list(base.values())


def error_of(study: Path, sample_rows: list[list[str]], header: list[str] = HEADER) -> str:
    write_tsv(study / "samples.tsv", header, sample_rows)
    with pytest.raises(InputFormatError) as caught:
        read_study(study / "designs.tsv", study / "samples.tsv")
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_valid_study_is_read_with_its_metadata_in_order(study: Path) -> None:
    write_tsv(study / "samples.tsv", HEADER, rows())
    result = read_study(study / "designs.tsv", study / "samples.tsv")
    assert list(result.designs) == ["A", "B"]
    assert result.designs["B"].design.name == "B" and result.designs["B"].design.base_editor is not None
    t2 = result.samples[1]
    assert (t2.sample, t2.design_id, t2.assay, t2.replicate) == ("T2", "A", "on_target", "1")
    assert t2.time_point is not None and t2.time_point.days == 84.0 and t2.time_point.unit == "wk"
    assert t2.metadata == (("design_id", "A"), ("condition", "treated"), ("replicate", "1"), ("subject", "P1"),
                           ("tissue", "liver"), ("time_point", "12 wk"), ("dose", "1e13 vg/kg"), ("batch", "lot 7"))  # fmt: skip
    assert [sample.sample for sample in result.samples_of("A")] == ["T1", "T2", "T3", "M1"]


def test_unknown_design_id(study: Path) -> None:
    message = error_of(study, rows(T2=["T2", "C", "treated", "1", "t2.fastq.gz", "P1", "liver", "12 wk", "", ""]))
    assert message == f"{study / 'samples.tsv'}: record 2: sample T2: unknown design_id 'C' (designs: A, B)"


def test_treated_samples_without_a_control(study: Path) -> None:
    message = error_of(study, rows(M1=["M1", "B", "control", "1", "m1.fastq.gz", "", "liver", "", "", ""]))
    assert message.startswith(f"{study / 'samples.tsv'}: record 1: design A: treated on_target samples (first: T1) "
                              "but no control or untreated on_target sample of that design")  # fmt: skip


def test_an_untreated_sample_is_a_control(study: Path) -> None:
    write_tsv(
        study / "samples.tsv", HEADER, rows(M1=["M1", "A", "untreated", "1", "m1.fastq.gz", "", "liver", "", "", ""])
    )
    assert read_study(study / "designs.tsv", study / "samples.tsv").samples[3].is_control


@pytest.mark.parametrize(
    ("time_point", "problem"),
    [("28", "time_point '28' has no unit: write it as e.g. '28 d'"),
     ("28 fortnights", "time_point '28 fortnights': unknown unit 'fortnights'"),
     ("week 4", "time_point 'week 4' is not a number with a unit")],
)  # fmt: skip
def test_unparseable_time_points(study: Path, time_point: str, problem: str) -> None:
    message = error_of(study, rows(T2=["T2", "A", "treated", "1", "t2.fastq.gz", "P1", "liver", time_point, "", ""]))
    assert message.startswith(f"{study / 'samples.tsv'}: record 2: sample T2: {problem}")


def test_mixed_day_and_calendar_units_in_one_series(study: Path) -> None:
    message = error_of(study, rows(T3=["T3", "A", "treated", "1", "t3.fastq.gz", "P1", "liver", "6 mo", "", ""]))
    assert message.startswith(f"{study / 'samples.tsv'}: record 3: subject P1, design A: time points '28 d' and '6 mo' "
                              "mix day-based (h, d, wk) and calendar (mo, y) units")  # fmt: skip


def test_calendar_units_mix_with_each_other_and_series_are_per_subject(study: Path) -> None:
    changed = rows(
        T1=["T1", "A", "treated", "1", "t1.fastq.gz", "P2", "liver", "6 mo", "", ""],
        T2=["T2", "A", "treated", "1", "t2.fastq.gz", "P2", "liver", "1 y", "", ""],
    )
    write_tsv(study / "samples.tsv", HEADER, changed)
    samples = read_study(study / "designs.tsv", study / "samples.tsv").samples
    assert [sample.time_point.days for sample in samples[:3] if sample.time_point] == [182.625, 365.25, 182.0]


def test_duplicate_measurement_rows_compare_time_in_days(study: Path) -> None:
    message = error_of(study, rows(T2=["T2", "A", "treated", "1", "t2.fastq.gz", "P1", "liver", "4 wk", "", ""]))
    assert message.startswith(f"{study / 'samples.tsv'}: record 2: sample T2 duplicates T1 (row 1): same subject, "
                              "design, tissue, time point, replicate")  # fmt: skip


def test_duplicate_sample_names(study: Path) -> None:
    message = error_of(study, rows(T2=["t1", "A", "treated", "2", "t2.fastq.gz", "P1", "liver", "12 wk", "", ""]))
    assert message.startswith(f"{study / 'samples.tsv'}: record 2: sample name 't1' repeats row 1")


def test_missing_read_files(study: Path) -> None:
    message = error_of(study, rows(T2=["T2", "A", "treated", "1", "gone.fastq.gz", "P1", "liver", "12 wk", "", ""]))
    assert message == f"{study / 'samples.tsv'}: record 2: sample T2: r1 file {study / 'gone.fastq.gz'} not found"


@pytest.mark.parametrize("name", ["..", ".hidden", "a/b", "T 2", "x" * 101])
def test_unsafe_sample_names(study: Path, name: str) -> None:
    message = error_of(study, rows(T2=[name, "A", "treated", "1", "t2.fastq.gz", "P1", "liver", "12 wk", "", ""]))
    assert message.startswith(f"{study / 'samples.tsv'}: record 2: sample {name!r} is not a plain name")


def test_unsafe_design_id_and_bad_guide_name_sheet_and_row(study: Path) -> None:
    write_tsv(
        study / "designs.tsv",
        ["design_id", "amplicon", "guide"],
        [["A", DESIGN.amplicon, DESIGN.guide], ["../B", OTHER.amplicon, OTHER.guide]],
    )
    with pytest.raises(InputFormatError, match=r"designs.tsv: record 2: design_id '../B' is not a plain name"):
        read_design_sheet(study / "designs.tsv")
    write_tsv(
        study / "designs.tsv",
        ["design_id", "amplicon", "guide"],
        [["A", DESIGN.amplicon, DESIGN.guide], ["B", OTHER.amplicon, DESIGN.guide]],
    )
    with pytest.raises(InputFormatError) as caught:
        read_design_sheet(study / "designs.tsv")
    assert str(caught.value).startswith(f"{study / 'designs.tsv'}: record 2: design B: guide")
    assert str(caught.value).endswith(f"guide {DESIGN.guide} is not in the amplicon (searched both strands)")


def test_design_rows_take_every_quantify_design_option(study: Path) -> None:
    header = ["design_id", "amplicon", "guide", "cut_offset", "window_flank", "base_editor", "editing_window",
              "target_protospacer_position", "exons"]  # fmt: skip
    position = next(index for index in range(3, 10) if DESIGN.guide[index - 1] == "C")
    write_tsv(
        study / "designs.tsv",
        header,
        [["E", DESIGN.amplicon, DESIGN.guide, "3", "5", "CBE", "3-9", str(position), "20-200"]],
    )
    design = read_design_sheet(study / "designs.tsv")["E"].design
    assert design.base_editor is not None and design.base_editor.protospacer_window == (3, 9)
    assert design.exons == ((19, 200),)
    assert "5 bp either side of each cut" in design.window_description


def test_time_point_conversion_is_stated() -> None:
    assert [parse_time_point(text).days for text in ("28 d", "12 wk", "6 mo", "1 y", "36 h", "-7 days")] == [
        28.0, 84.0, 182.625, 365.25, 1.5, -7.0]  # fmt: skip


@pytest.mark.parametrize(
    ("schema", "columns", "required"),
    [("designs.schema.yaml", DESIGN_COLUMNS, ["design_id", "amplicon"]),
     ("study_samples.schema.yaml", SAMPLE_COLUMNS, ["sample", "design_id", "condition"])],
)  # fmt: skip
def test_schemas_and_library_name_the_same_columns(schema: str, columns: tuple[str, ...], required: list[str]) -> None:
    document = yaml.safe_load((REPO / "workflows" / "schemas" / schema).read_text(encoding="utf-8"))
    assert tuple(document["properties"]) == columns
    assert document["required"] == required


def test_design_ids_differing_only_in_case_are_one_folder(study: Path) -> None:
    """Design ids name folders (results/offtarget/<design_id>/): 'a' after 'A' would share one on a
    case-insensitive file system, as sample names would."""
    write_tsv(
        study / "designs.tsv",
        ["design_id", "amplicon", "guide"],
        [["A", DESIGN.amplicon, DESIGN.guide], ["a", OTHER.amplicon, OTHER.guide]],
    )
    with pytest.raises(InputFormatError) as caught:
        read_design_sheet(study / "designs.tsv")
    assert str(caught.value) == (
        f"{study / 'designs.tsv'}: record 2: design_id 'a' repeats row 1 (names are folder names: case is ignored)"
    )


def test_coordinate_groups_split_a_design_by_the_coordinates_of_its_vcfs(study: Path) -> None:
    """The study VCFs of a design: FASTQ samples on the amplicon; BAM samples on the genome, one group per locus
    (a locus written with thousands separators is the same locus); design B has none of either."""
    for name in ("b1", "b2", "b3"):
        (study / f"{name}.bam").write_bytes(b"")
    header = ["sample", "design_id", "condition", "replicate", "r1", "bam", "locus"]
    sheet = [["T1", "A", "treated", "1", "t1.fastq.gz", "", ""], ["M1", "A", "control", "1", "m1.fastq.gz", "", ""],
             ["B1", "A", "treated", "2", "", "b1.bam", "chr1:1000-1250"],
             ["B2", "A", "treated", "3", "", "b2.bam", "chr1:1,000-1,250"]]  # fmt: skip
    write_tsv(study / "samples.tsv", header, sheet)
    groups = read_study(study / "designs.tsv", study / "samples.tsv").coordinate_groups("A")
    assert {key: [sample.sample for sample in members] for key, members in groups.items()} == {
        "amplicon": ["T1", "M1"],
        "genome": ["B1", "B2"],
    }
    write_tsv(study / "samples.tsv", header, [*sheet, ["B3", "A", "treated", "4", "", "b3.bam", "chr2:5-255"]])
    study_read = read_study(study / "designs.tsv", study / "samples.tsv")
    groups = study_read.coordinate_groups("A")
    assert {key: [sample.sample for sample in members] for key, members in groups.items()} == {
        "amplicon": ["T1", "M1"], f"genome_{safe_name('chr1:1000-1250')}": ["B1", "B2"],
        f"genome_{safe_name('chr2:5-255')}": ["B3"],
    }  # fmt: skip
    assert study_read.coordinate_groups("B") == {}
