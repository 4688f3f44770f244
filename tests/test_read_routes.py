"""One rule for read pairs on every input route: FASTQ pairs through ``quantify``, a one-amplicon
``quantify-pool``, the same mates in a genome-aligned BAM (built from SAM text with pysam), and the UMI
route must give identical tables; reads that overlap a BAM site without covering the window are counted."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pysam
import pytest

from editcheck.classification.outcomes import ClassificationSettings
from editcheck.design import build_design, reverse_complement
from editcheck.pipeline import AnalysisSettings, choose_mate, quantify
from editcheck.pooled import quantify_pool
from editcheck.reads.alignments import GenomeSite, iter_site_fragments
from editcheck.reads.collapse import QualitySettings
from editcheck.reads.umi import UmiSettings
from editcheck.results.sample import summary_document, write_sample_outputs

_rng = random.Random(1010)
AMPLICON = "".join(_rng.choice("ACGT") for _ in range(260))
GUIDE = AMPLICON[110:130]  # + strand: cut after 127 (1-based), window 125-130
FLANK = "".join(_rng.choice("ACGT") for _ in range(100))
GENOME = FLANK + AMPLICON + FLANK
SITE = GenomeSite("chrA", 100, 360)

DELETED = AMPLICON[:124] + AMPLICON[129:]  # 5-bp deletion at the cut
INSERTED = AMPLICON[:127] + "TT" + AMPLICON[127:]
SUBSTITUTED = AMPLICON[:126] + ("A" if AMPLICON[126] != "A" else "C") + AMPLICON[127:]

CRISPRESSO2 = AnalysisSettings(
    classification=ClassificationSettings(count_substitutions=True), quality=QualitySettings(min_base_quality=0)
)


def _umi(index: int) -> str:
    """UMIs at least two substitutions apart, so that no two are merged as one molecule."""
    digits = [(index >> (2 * k)) & 3 for k in range(5)]
    return "".join("ACGT"[d] * 2 for d in digits)


def _fragments() -> list[tuple[str, str, int, int]]:
    """(R1, R2 as sequenced, R1 start and R2 start on the amplicon's forward strand)."""
    pairs = []
    for allele, copies in ((AMPLICON, 30), (DELETED, 12), (INSERTED, 6), (SUBSTITUTED, 4)):
        for _ in range(copies):  # overlapping mates: merged
            pairs.append((allele[:150], reverse_complement(allele[-150:]), 0, len(allele) - 150))
    for allele, copies in ((AMPLICON, 5), (DELETED, 5)):
        for _ in range(copies):  # R1 stops before the window, R2 covers it; no overlap: unmerged, R2 speaks
            pairs.append((allele[:100], reverse_complement(allele[112:]), 0, 112))
    for _ in range(3):  # R1 covers the window, R2 does not reach it; no overlap: unmerged, R1 speaks
        pairs.append((DELETED[:150], reverse_complement(DELETED[200:]), 0, 200))
    for _ in range(2):  # neither mate reaches the window: counted as window_not_covered
        pairs.append((AMPLICON[:90], reverse_complement(AMPLICON[180:]), 0, 180))
    return pairs


def _write_inputs(folder: Path) -> dict[str, Path]:
    fastq1, fastq2, umi1, umi2 = [], [], [], []
    sam = ["@HD\tVN:1.6\tSO:unsorted", f"@SQ\tSN:chrA\tLN:{len(GENOME)}"]
    for index, (first, second, start1, start2) in enumerate(_fragments()):
        name = f"p{index}"
        for records, sequence in ((fastq1, first), (fastq2, second)):
            records.append(f"@{name}\n{sequence}\n+\n{'I' * len(sequence)}\n")
        for records, sequence in ((umi1, first), (umi2, second)):
            records.append(f"@{name}_{_umi(index)}\n{sequence}\n+\n{'I' * len(sequence)}\n")
        stored2 = reverse_complement(second)  # a reverse-strand mate is stored on the forward strand
        for flag, sequence, start, mate_start in ((99, first, start1, start2), (147, stored2, start2, start1)):
            sam.append("\t".join(map(str, [
                name, flag, "chrA", 100 + start + 1, 60, f"{len(sequence)}M", "=", 100 + mate_start + 1, 0,
                sequence, "I" * len(sequence),
            ])))  # fmt: skip
    paths = {name: folder / name for name in ("r1.fastq", "r2.fastq", "u1.fastq", "u2.fastq", "reads.sam")}
    for name, lines in zip(paths, (fastq1, fastq2, umi1, umi2, sam)):
        paths[name].write_text("".join(lines) if name != "reads.sam" else "\n".join(lines) + "\n")
    bam = folder / "reads.bam"
    pysam.sort("-o", str(bam), str(paths["reads.sam"]), catch_stdout=False)
    pysam.index(str(bam))
    paths["reads.bam"] = bam
    return paths


def _tables(result, folder: Path) -> dict[str, object]:
    write_sample_outputs(result, folder)
    summary = json.loads((folder / "summary.json").read_text())
    tables = {name: (folder / name).read_text() for name in ("alleles.tsv", "positions.tsv", "indel_sizes.tsv")}
    return {**tables, **{key: summary[key] for key in ("reads", "outcomes", "edited", "edit_types")}}


def test_fastq_pool_and_bam_give_identical_tables(tmp_path: Path) -> None:
    paths = _write_inputs(tmp_path)
    design = build_design(AMPLICON, [GUIDE], name="amp")
    from_fastq = quantify(paths["r1.fastq"], paths["r2.fastq"], design=design)
    from_pool = quantify_pool(paths["r1.fastq"], paths["r2.fastq"], [design]).samples[0]
    from_bam = quantify(paths["reads.bam"], design=design, site=SITE)
    expected = _tables(from_fastq, tmp_path / "fastq")
    assert _tables(from_pool, tmp_path / "pool") == expected
    assert _tables(from_bam, tmp_path / "bam") == expected
    # The numbers themselves: 52 merged pairs; 15 unmerged: 10 classified from R2, 3 from R1, 2 not covering.
    reads = expected["reads"]
    assert (reads["input"], reads["merged"], reads["unmerged"], reads["unmerged_used"]) == (67, 52, 15, 13)
    assert (reads["classified"], reads["window_not_covered"]) == (65, 2)
    outcomes = expected["outcomes"]
    # The 4 substitution reads are reported but not edited (a nuclease's substitutions are not edits).
    assert (outcomes["unmodified"]["reads"], outcomes["modified"]["reads"]) == (39, 26)
    assert (expected["edit_types"]["deletion"]["reads"], expected["edit_types"]["insertion"]["reads"]) == (20, 6)
    assert expected["edit_types"]["substitution"]["reads"] == 4


def test_umi_route_uses_the_same_mate(tmp_path: Path) -> None:
    paths = _write_inputs(tmp_path)
    design = build_design(AMPLICON, [GUIDE], name="amp")
    plain = quantify(paths["r1.fastq"], paths["r2.fastq"], design=design)
    with_umis = quantify(paths["u1.fastq"], paths["u2.fastq"], design=design, umi=UmiSettings("header"))
    assert with_umis.molecules is not None and with_umis.molecules.molecules == 67
    assert with_umis.tally.outcomes == plain.tally.outcomes
    assert with_umis.tally.deletion_sizes == plain.tally.deletion_sizes == {5: 20}
    # The pairs are counted as without UMIs: merged, unmerged, and unmerged classified from a covering mate.
    pooled = quantify_pool(paths["u1.fastq"], paths["u2.fastq"], [design], umi=UmiSettings("header")).samples[0]
    named = []
    for line in paths["reads.sam"].read_text().splitlines():  # the same mates in a BAM, named with their UMIs
        if not line.startswith("@"):
            name, rest = line.split("\t", 1)
            line = f"{name}_{_umi(int(name[1:]))}\t{rest}"
        named.append(line)
    (tmp_path / "umi.sam").write_text("\n".join(named) + "\n")
    pysam.sort("-o", str(tmp_path / "umi.bam"), str(tmp_path / "umi.sam"), catch_stdout=False)
    pysam.index(str(tmp_path / "umi.bam"))
    from_bam = quantify(tmp_path / "umi.bam", design=design, site=SITE, umi=UmiSettings("header"))
    assert from_bam.molecules is not None and from_bam.molecules.molecules == 67
    keys = ("input", "merged", "unmerged", "unmerged_used", "lone_mates")
    for result in (from_bam, plain, with_umis, pooled):
        reads = summary_document(result)["reads"]
        assert [reads[key] for key in keys] == [67, 52, 15, 13, 0]


def test_choose_mate_prefers_coverage_then_identity_then_r1() -> None:
    from editcheck.pipeline import AmpliconWorker, AnalysisSettings

    worker = AmpliconWorker(build_design(AMPLICON, [GUIDE]), AnalysisSettings())
    covering, short = worker(AMPLICON[:150]), worker(AMPLICON[:90])
    with_error = worker(AMPLICON[:60] + ("A" if AMPLICON[60] != "A" else "C") + AMPLICON[61:150])
    junk = worker("ACGT" * 30)
    assert choose_mate([short, covering]) == 1
    assert choose_mate([junk, short]) == 1
    assert choose_mate([with_error, covering]) == 1
    assert choose_mate([covering, covering]) == 0


def test_bam_reads_overlapping_the_site_without_covering_the_window_are_counted(tmp_path: Path) -> None:
    """Reads overlapping --site but not spanning it were dropped unseen; now every one is counted."""
    sam = ["@HD\tVN:1.6\tSO:unsorted", f"@SQ\tSN:chrA\tLN:{len(GENOME)}"]
    reads = [("whole", 100, AMPLICON), ("left_covers_window", 100, AMPLICON[:160]),
             ("right_covers_window", 200, AMPLICON[100:]), ("left_short", 100, AMPLICON[:110]),
             ("right_short", 260, AMPLICON[160:]), ("outside", 0, FLANK)]  # fmt: skip
    for name, start, sequence in reads:
        sam.append("\t".join(map(str, [name, 0, "chrA", start + 1, 60, f"{len(sequence)}M", "*", 0, 0, sequence,
                                       "I" * len(sequence)])))  # fmt: skip
    (tmp_path / "reads.sam").write_text("\n".join(sam) + "\n")
    bam = tmp_path / "reads.bam"
    pysam.sort("-o", str(bam), str(tmp_path / "reads.sam"), catch_stdout=False)
    pysam.index(str(bam))
    assert sorted(fragment[0] for fragment in iter_site_fragments(bam, SITE)) == sorted(
        name for name, _, _ in reads[:5]
    )
    result = quantify(bam, design=build_design(AMPLICON, [GUIDE]), site=SITE)
    assert result.reads.reads_in == 5
    assert result.tally.classified == 3
    assert result.tally.outcomes["window_not_covered"] == 2
    summary = summary_document(result)["reads"]
    assert (summary["input"], summary["classified"], summary["window_not_covered"]) == (5, 3, 2)
    from editcheck.report.appendix import write_report

    write_sample_outputs(result, tmp_path / "q")
    assert "\treads\twindow_not_covered\t2\t" in (tmp_path / "q" / "summary.tsv").read_text()
    write_report([tmp_path / "q"], None, tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text()
    assert '<td class="text sample">reads</td><td>5</td><td>0</td><td>3</td><td>2</td><td>0</td><td>0</td>' in html


@pytest.mark.parametrize("r1_reverse", [False, True])
def test_bam_mates_come_back_as_sequenced_and_paired(tmp_path: Path, r1_reverse: bool) -> None:
    # One fragment: the forward-strand mate stored at 0, the reverse-strand mate stored (forward) at 110.
    flags = (163, 83) if r1_reverse else (99, 147)  # (forward mate, reverse mate)
    sam = ["@HD\tVN:1.6\tSO:unsorted", f"@SQ\tSN:chrA\tLN:{len(GENOME)}"]
    for flag, start, sequence in ((flags[0], 0, AMPLICON[:150]), (flags[1], 110, AMPLICON[110:])):
        sam.append("\t".join(map(str, ["q", flag, "chrA", 100 + start + 1, 60, f"{len(sequence)}M", "=", 1, 0,
                                       sequence, "I" * len(sequence)])))  # fmt: skip
    (tmp_path / "reads.sam").write_text("\n".join(sam) + "\n")
    bam = tmp_path / "reads.bam"
    pysam.sort("-o", str(bam), str(tmp_path / "reads.sam"), catch_stdout=False)
    pysam.index(str(bam))
    [(name, r1, _, r2, _)] = list(iter_site_fragments(bam, SITE))
    forward, reverse = AMPLICON[:150], reverse_complement(AMPLICON[110:])
    assert (name, r1, r2) == (("q", reverse, forward) if r1_reverse else ("q", forward, reverse))


def test_reads_starting_or_stopping_inside_the_amplicon_leave_the_rest_uncovered() -> None:
    """A chance match of a partial read's first (or last) base to the amplicon's end used to turn the bases
    the read does not reach into a deletion (and such reads into primer dimers or bogus deletions)."""
    from editcheck.pipeline import AmpliconWorker, AnalysisSettings

    worker = AmpliconWorker(build_design(AMPLICON, [GUIDE]), AnalysisSettings())
    for start in range(60, 110):
        aligned, call = worker(AMPLICON[start:])
        assert (aligned.start, aligned.end, aligned.deletions, aligned.identity) == (start, 260, (), 100.0), start
        assert call.outcome == "unmodified"
    for end in range(150, 200):
        aligned, call = worker(AMPLICON[:end])
        assert (aligned.start, aligned.end, aligned.deletions) == (0, end, ()), end
    aligned, call = worker(AMPLICON[150:])
    assert (aligned.start, call.outcome) == (150, "window_not_covered")
    # A real deletion away from the read's ends is kept.
    aligned, call = worker(AMPLICON[60:124] + AMPLICON[129:])
    assert (aligned.start, aligned.deletions, call.outcome) == (60, ((124, 5),), "modified")


NHEJ = (
    "AATGTCCCCCAATGGGAAGTTCATCTGGCACTGCCCACAGGTGAGGAGGTCATGATCCCCTTCTGGAGCTCCCAACGGGCCGTGGTCTGGTTCATCATCTGTAAGAATGG"
    "CTTCAAGAGGCTCGGCTGTGGTT"
)


def test_real_pairs_give_identical_tables_on_every_route(crispresso2_inputs: Path, tmp_path: Path) -> None:
    """The nhej pairs (CRISPResso2's test reads, pre-trimmed to the amplicon) through quantify, a one-amplicon
    quantify-pool, and a BAM holding the same mates on a contig that is the amplicon."""
    from editcheck.reads.fastq import iter_paired

    r1, r2 = crispresso2_inputs / "nhej.r1.fastq.gz", crispresso2_inputs / "nhej.r2.fastq.gz"
    lines = ["@HD\tVN:1.6\tSO:unsorted", f"@SQ\tSN:nhej\tLN:{len(NHEJ)}"]
    for name, first, first_qualities, second, second_qualities in iter_paired(r1, r2):
        name = name.split()[0].removesuffix("/1")
        stored = reverse_complement(second)
        start2 = max(1, len(NHEJ) - len(stored) + 1)
        lines.append(f"{name}\t99\tnhej\t1\t60\t{len(first)}M\t=\t{start2}\t0\t{first}\t{first_qualities}")
        lines.append(f"{name}\t147\tnhej\t{start2}\t60\t{len(stored)}M\t=\t1\t0\t{stored}\t{second_qualities[::-1]}")
    (tmp_path / "nhej.sam").write_text("\n".join(lines) + "\n")
    bam = tmp_path / "nhej.bam"
    pysam.sort("-o", str(bam), str(tmp_path / "nhej.sam"), catch_stdout=False)
    pysam.index(str(bam))
    design = build_design(NHEJ, name="NHEJ")
    for settings in (CRISPRESSO2, AnalysisSettings()):  # CRISPResso2's counting, then editcheck's defaults
        folder = tmp_path / ("crispresso2" if settings is CRISPRESSO2 else "defaults")
        expected = _tables(quantify(r1, r2, design=design, settings=settings), folder / "fastq")
        pooled = _tables(quantify_pool(r1, r2, [design], settings=settings).samples[0], folder / "pool")
        for key in expected:
            assert pooled[key] == expected[key], key
        from_bam = quantify(bam, design=design, site=GenomeSite("nhej", 0, len(NHEJ)), settings=settings)
        assert _tables(from_bam, folder / "bam") == expected
        outcomes, reads = expected["outcomes"], expected["reads"]
        counts = tuple(outcomes[name]["reads"] for name in ("unmodified", "modified", "large_deletion"))
        fates = tuple(reads[name] for name in ("input", "not_aligned", "primer_dimer", "window_not_covered"))
        if settings is CRISPRESSO2:  # the numbers CRISPResso2 published
            assert counts == (5727, 18970, 83) and outcomes["modified"]["total"] == 24780
        else:  # low-quality bases judged at the quality sites (Q20), substitutions not counted as edits
            # Mates merged as sequenced (#13): 24,500 merged (24,775 when masked first), far fewer merged reads
            # too full of N to align (not_aligned 709 -> 73), more unmerged pairs whose chosen mate misses the
            # window (124 -> 367).
            assert counts == (6341, 18021, 82) and fates == (25000, 73, 116, 367)


def test_quantify_and_quantify_pool_commands_write_identical_tables(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from editcheck.cli import main

    paths = _write_inputs(tmp_path)
    (tmp_path / "sheet.tsv").write_text(f"name\tamplicon\tguide\namp\t{AMPLICON}\t{GUIDE}\n")
    runner = CliRunner()
    single = runner.invoke(
        main,
        [
            "quantify",
            "--r1",
            str(paths["r1.fastq"]),
            "--r2",
            str(paths["r2.fastq"]),
            "-a",
            AMPLICON,
            "-g",
            GUIDE,
            "--amplicon-name",
            "amp",
            "-o",
            str(tmp_path / "q"),
        ],
    )
    pooled = runner.invoke(
        main,
        [
            "quantify-pool",
            "--r1",
            str(paths["r1.fastq"]),
            "--r2",
            str(paths["r2.fastq"]),
            "--amplicons",
            str(tmp_path / "sheet.tsv"),
            "-o",
            str(tmp_path / "p"),
        ],
    )
    assert single.exit_code == 0 and pooled.exit_code == 0, single.output + pooled.output
    for name in ("alleles.tsv", "positions.tsv", "indel_sizes.tsv"):
        assert (tmp_path / "q" / name).read_bytes() == (tmp_path / "p" / "amp" / name).read_bytes(), name

    def rows(path: Path) -> list[list[str]]:  # summary.tsv without the sample column (r1 vs r1:amp)
        return [line.split("\t")[1:] for line in path.read_text().splitlines()]

    assert rows(tmp_path / "q" / "summary.tsv") == rows(tmp_path / "p" / "amp" / "summary.tsv")
