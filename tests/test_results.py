"""The results layer: every import points down to it (nothing below ``report`` imports ``report``), and each
output folder written by its writer reads back, through its reader, to the values written."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

import editcheck
from editcheck import simulate
from editcheck.design import build_design
from editcheck.outputs import format_value
from editcheck.pipeline import quantify

PACKAGE = Path(editcheck.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names (function-local ones too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_nothing_below_report_imports_report(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"  # the walk sees function-local imports (as pooled.py's was)
    probe.write_text("def f():\n    from editcheck.report.tables import write_sample_tables\n")
    assert "editcheck.report.tables" in _imported_modules(probe)
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "report" or relative == Path("cli.py"):
            continue
        for name in sorted(_imported_modules(path)):
            if name == "editcheck.report" or name.startswith("editcheck.report."):
                offenders.append(f"{relative}: {name}")
    assert len(list(PACKAGE.rglob("*.py"))) > 30  # the walk saw the package
    assert offenders == []


def test_report_reads_results_only_through_the_results_layer() -> None:
    engine = ("editcheck.offtarget", "editcheck.pooled", "editcheck.pipeline", "editcheck.sheets")
    offenders = [
        f"{path.name}: {name}"
        for path in sorted((PACKAGE / "report").rglob("*.py"))
        for name in sorted(_imported_modules(path))
        if name.startswith(engine)
    ]
    assert offenders == []


def _text(rows: Any) -> list[list[str]]:
    return [[format_value(value) for value in row] for row in rows]


def test_sample_folder_round_trip(tmp_path: Path) -> None:
    from editcheck.quantification.base_editing import conversion_table
    from editcheck.results.read_calls import ReadCallSpool
    from editcheck.results.sample import summary_document, write_sample_outputs
    from editcheck.results.sample_reader import load_ontarget, read_summary, read_table

    design = simulate.random_design(seed=77, with_donor=False)
    simulate.simulate(design, 400, tmp_path / "be.fastq.gz", base_editor=simulate.BaseEditorSpec(), seed=5)
    built = build_design(design.amplicon, [design.guide], base_editor="ABE", target_in_protospacer=5)
    spool = ReadCallSpool(tmp_path / "spool.gz")
    result = quantify(tmp_path / "be.fastq.gz", design=built, sample="S1", read_sink=spool)
    read_calls = list(spool.rows())
    assert not (tmp_path / "spool.gz").exists()
    folder = tmp_path / "S1"
    write_sample_outputs(result, folder, iter(read_calls))
    tally = result.tally

    assert read_summary(folder) == json.loads(json.dumps(summary_document(result)))
    summary = {(row["group"], row["name"]): row for row in read_table(folder, "summary.tsv")}
    assert int(summary["total", "edited"]["reads"]) == tally.edited.reads > 0
    assert int(summary["reads", "input"]["reads"]) == result.reads.reads_in == 400
    alleles = read_table(folder, "alleles.tsv")
    assert [(r["reference"], r["aligned_sequence"], r["outcome"], r["events"], int(r["reads"])) for r in alleles] == [
        (a.reference, a.aligned_sequence, a.outcome, a.events, a.reads) for a in tally.alleles
    ]
    assert [r["percent_of_aligned"] for r in alleles] == [
        format_value(100.0 * a.reads / tally.aligned) for a in tally.alleles
    ]  # (each read count's percentage formatted once: alleles share counts)
    assert len({a.reads for a in tally.alleles}) < len(tally.alleles)
    positions = read_table(folder, "positions.tsv")
    profile = tally.positions[0]
    assert len(positions) == sum(len(p.sequence) for p in tally.positions)
    assert [int(row["reads_covering"]) for row in positions[: len(profile.sequence)]] == [
        int(c) for c in profile.coverage
    ]
    sizes = {(row["kind"], int(row["size"])): int(row["reads"]) for row in read_table(folder, "indel_sizes.tsv")}
    assert sizes == {
        **{("deletion", size): reads for size, reads in tally.deletion_sizes.items()},
        **{("insertion", size): reads for size, reads in tally.insertion_sizes.items()},
        **{("large_deletion", size): reads for size, reads in tally.large_deletion_sizes.items()},
    }
    conversions = read_table(folder, "base_editing.tsv")
    expected = conversion_table(built, tally)
    assert [(int(r["position"]), int(r["converted_reads"])) for r in conversions] == [
        (row.position, row.converted.reads) for row in expected
    ]
    assert any(int(r["converted_reads"]) > 0 for r in conversions)
    calls = read_table(folder, "reads.tsv.gz")
    assert [list(row.values()) for row in calls] == _text(read_calls)
    assert len(calls) == 400
    loaded = load_ontarget(folder)
    assert loaded.name == "S1" and loaded.alleles == alleles and loaded.base_editing == conversions


def test_a_sample_table_without_a_required_column_is_named(tmp_path: Path) -> None:
    from editcheck.errors import InputFormatError
    from editcheck.results.sample_reader import read_table

    (tmp_path / "alleles.tsv").write_text("reference\toutcome\nAmplicon\tunmodified\n")
    with pytest.raises(InputFormatError, match="aligned_sequence"):
        read_table(tmp_path, "alleles.tsv")


def test_pool_folder_round_trip(tmp_path: Path) -> None:
    from editcheck.pooled import quantify_pool
    from editcheck.results.pool import read_assignment, read_pool_summary, write_pool_outputs
    from editcheck.results.sample_reader import read_summary

    designs = simulate.random_pool(3, seed=12, near_identical_pairs=0)
    simulate.simulate_pool(designs, 600, tmp_path / "pool.fastq.gz", seed=4)
    built = [build_design(d.amplicon, [d.guide], name=f"amp{i}") for i, d in enumerate(designs)]
    result = quantify_pool(tmp_path / "pool.fastq.gz", None, built)
    write_pool_outputs(result, tmp_path / "out")

    assignment = read_assignment(tmp_path / "out")
    assert assignment["assigned"] == result.assigned and sum(result.assigned.values()) > 500
    assert (assignment["reads_in"], assignment["ambiguous"], assignment["unassigned"], assignment["too_long"]) == (
        600, result.ambiguous, result.unassigned, result.too_long)  # fmt: skip
    rows = read_pool_summary(tmp_path / "out")
    assert [row["amplicon"] for row in rows] == [sample.design.name for sample in result.samples]
    for row, sample in zip(rows, result.samples, strict=True):
        assert (int(row["reads_assigned"]), int(row["classified"]), int(row["edited_reads"])) == (
            result.assigned[sample.design.name], sample.tally.classified, sample.tally.edited.reads)  # fmt: skip
        assert float(row["edited_percent"]) == pytest.approx(sample.tally.edited.percent, rel=1e-5)
        assert read_summary(tmp_path / "out" / row["folder"])["edited"]["reads"] == sample.tally.edited.reads


def test_offtarget_folder_round_trip(tmp_path: Path) -> None:
    from editcheck.offtarget.panel import read_sample_sheet, read_site_sheet, run_panel
    from editcheck.offtarget.significance import methods_text
    from editcheck.results.offtarget import load_offtarget, read_calls_table, read_methods, write_panel_outputs
    from editcheck.results.pool import read_pool_summary

    designs = simulate.random_pool(2, seed=31, near_identical_pairs=0)
    (tmp_path / "sites.tsv").write_text(
        "site_id\tamplicon\tprotospacer\ton_target\n"
        + "".join(f"site{i}\t{d.amplicon}\t{d.guide}\t{'yes' if i == 0 else 'no'}\n" for i, d in enumerate(designs))
    )
    sheet = ["sample\tcondition\treplicate\tr1"]
    for name, condition, rate, seed in (("T1", "treated", 0.3, 1), ("C1", "control", 0.0, 2)):
        parts = []
        for index, design in enumerate(designs):
            mix = simulate.OutcomeMix(unmodified=1 - rate, deletion=rate, insertion=0.0, substitution=0.0, hdr=0.0)
            path = tmp_path / f"{name}_{index}.fastq.gz"
            simulate.simulate(design, 300, path, mix=mix, seed=10 * seed + index)
            parts.append(path.read_bytes())
        (tmp_path / f"{name}.fastq.gz").write_bytes(b"".join(parts))
        sheet.append(f"{name}\t{condition}\t1\t{name}.fastq.gz")
    (tmp_path / "samples.tsv").write_text("\n".join(sheet) + "\n")
    result = run_panel(read_site_sheet(tmp_path / "sites.tsv"), read_sample_sheet(tmp_path / "samples.tsv"))
    out = tmp_path / "out"
    write_panel_outputs(result, out)

    table = read_calls_table(out)
    assert [row["site_id"] for row in table] == [call.site for call in result.calls]
    for row, call in zip(table, result.calls, strict=True):
        assert (row["call"], int(row["treated_edited"]), int(row["treated_reads"])) == (
            call.call, call.treated_edited, call.treated_reads)  # fmt: skip
        assert float(row["excess_percent"]) == pytest.approx(call.excess_percent, rel=1e-5, abs=1e-9)
    assert int(table[0]["treated_edited"]) > 50
    editors = [site.editor for site in result.sites if site.editor != "NUCLEASE"]
    assert read_methods(out) == methods_text(result.settings, editors, result.dispersion, result.unit)
    document = load_offtarget(out)
    assert document["sites"] == [
        {
            **call.as_dict(),
            "editor": site.editor,
            "amplicon": site.design.amplicon.sequence,
            "protospacer": site.design.guides[0].sequence,
            "locus": None,
            **dict.fromkeys(("contig", "start", "end", "strand", "mismatches", "bulge_type", "bulge_size")),
        }
        for call, site in zip(result.calls, result.sites, strict=True)
    ]
    assert [(s["sample"], s["condition"]) for s in document["samples"]] == [("T1", "treated"), ("C1", "control")]
    assert [a["assigned"] for a in document["assignments"]] == [pool.assigned for pool in result.per_sample.values()]
    per_sample = read_pool_summary(out / document["samples"][0]["folder"])
    assert [row["amplicon"] for row in per_sample] == ["site0", "site1"]
