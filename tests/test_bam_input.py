"""Reads at a genome site from BAM/CRAM: files built at test time from SAM text, converted with pysam."""

from __future__ import annotations

import gzip
import random
import shutil
from pathlib import Path

import pysam
import pytest

from editcheck.errors import DesignError, InputFormatError, ParameterError
from editcheck.reads import alignments
from editcheck.reads.alignments import GenomeSite, count_site_reads, iter_site_reads, site_amplicon

SITE_TEXT = "chrT:141-260"  # 0-based 140..260, 120 bp
SITE = GenomeSite("chrT", 140, 260)

_rng = random.Random(20240611)
CHR_T = "".join(_rng.choice("ACGT") for _ in range(400))
CHR_U = "".join(_rng.choice("ACGT") for _ in range(200))
CLIP = "".join(_rng.choice("ACGT") for _ in range(10))


def _qualities(length: int, shift: int) -> str:
    return "".join(chr(33 + (7 * i + shift) % 41) for i in range(length))


def _read(
    name: str,
    flag: int,
    pos0: int,
    cigar: str,
    sequence: str,
    *,
    contig: str = "chrT",
    mapq: int = 60,
    qualities: str | None = None,
    mate: tuple[int, int] | None = None,
) -> dict:
    return {
        "name": name,
        "flag": flag,
        "contig": contig,
        "pos0": pos0,
        "mapq": mapq,
        "cigar": cigar,
        "sequence": sequence,
        "qualities": _qualities(len(sequence), len(name)) if qualities is None else qualities,
        "mate": mate,
    }


AMBIGUOUS = CHR_T[130:200] + "R" + CHR_T[201:280]

READS = [
    _read("perfect1", 0, 130, "150M", CHR_T[130:280]),
    _read("perfect2", 0, 120, "160M", CHR_T[120:280]),
    _read("lowmapq", 0, 135, "150M", CHR_T[135:285], mapq=10),
    _read("deletion", 0, 125, "70M3D80M", CHR_T[125:195] + CHR_T[198:278]),
    # aligned part starts at 145, after the site's start: spans it only thanks to the 10-bp soft clip
    _read("softclip", 0, 145, "10S140M", CLIP + CHR_T[145:285]),
    _read("hardclip", 0, 145, "10H140M", CHR_T[145:285]),  # hard clips do not count: does not span
    _read("reverse", 16, 130, "150M", CHR_T[130:280]),
    _read("noqual", 0, 130, "150M", CHR_T[130:280], qualities="*"),
    _read("ambiguous", 0, 130, "150M", AMBIGUOUS),
    _read("secondary", 256, 130, "150M", CHR_T[130:280]),
    _read("duplicate", 1024, 130, "150M", CHR_T[130:280]),
    _read("qcfail", 512, 130, "150M", CHR_T[130:280]),
    _read("supplementary", 2048, 130, "150M", CHR_T[130:280]),
    _read("unmapped", 4, 130, "*", CHR_T[130:280], mapq=0),
    _read("partial", 0, 200, "100M", CHR_T[200:300]),
    _read("pair", 99, 130, "150M", CHR_T[130:280], mate=(140, 160)),
    _read("pair", 147, 140, "150M", CHR_T[140:290], mate=(130, -160)),
    _read("elsewhere", 0, 300, "50M", CHR_T[300:350]),
    _read("other_contig", 0, 10, "100M", CHR_U[10:110], contig="chrU"),
]

SPANNING = {
    "perfect1",
    "perfect2",
    "lowmapq",
    "deletion",
    "softclip",
    "reverse",
    "noqual",
    "ambiguous",
    "pair/1",
    "pair/2",
}


def _expected(name: str) -> tuple[str, str]:
    base, _, mate = name.partition("/")
    read = [r for r in READS if r["name"] == base][int(mate or 1) - 1]
    sequence = read["sequence"].replace("R", "N")
    qualities = "I" * len(sequence) if read["qualities"] == "*" else read["qualities"]
    return sequence, qualities


def _sam_text() -> str:
    lines = ["@HD\tVN:1.6\tSO:unsorted", f"@SQ\tSN:chrT\tLN:{len(CHR_T)}", f"@SQ\tSN:chrU\tLN:{len(CHR_U)}"]
    for read in READS:
        mate_pos, template = (read["mate"][0] + 1, read["mate"][1]) if read["mate"] else (0, 0)
        lines.append(
            "\t".join(
                map(
                    str,
                    [
                        read["name"],
                        read["flag"],
                        read["contig"],
                        read["pos0"] + 1,
                        read["mapq"],
                        read["cigar"],
                        "=" if read["mate"] else "*",
                        mate_pos,
                        template,
                        read["sequence"],
                        read["qualities"],
                    ],
                )
            )
        )
    return "\n".join(lines) + "\n"


def _write_fasta(path: Path, records: dict[str, str]) -> None:
    with open(path, "w") as handle:
        for name, sequence in records.items():
            handle.write(f">{name} test contig\n")
            for i in range(0, len(sequence), 60):
                handle.write(sequence[i : i + 60] + "\n")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bam_input")
    fasta = folder / "genome.fa"
    # lowercase (soft-masked) bases in part of chrT: site_amplicon returns uppercase
    _write_fasta(fasta, {"chrT": CHR_T[:150] + CHR_T[150:200].lower() + CHR_T[200:], "chrU": CHR_U})
    sam = folder / "reads.sam"
    sam.write_text(_sam_text())
    bam = folder / "reads.bam"
    pysam.sort("-o", str(bam), str(sam), catch_stdout=False)
    pysam.index(str(bam))
    cram = folder / "reads.cram"
    pysam.view("-C", "-T", str(fasta), "-o", str(cram), str(bam), catch_stdout=False)
    pysam.index(str(cram))
    unindexed = folder / "unindexed.bam"
    shutil.copy(bam, unindexed)
    return {"fasta": fasta, "sam": sam, "bam": bam, "cram": cram, "unindexed": unindexed, "folder": folder}


# --- GenomeSite ---------------------------------------------------------------------------------


def test_parse_is_one_based_inclusive() -> None:
    assert GenomeSite.parse(SITE_TEXT) == SITE
    assert SITE.length == 120
    assert str(SITE) == SITE_TEXT
    assert GenomeSite.parse("chr1:1,000-1,250") == GenomeSite("chr1", 999, 1250)
    assert GenomeSite.parse(" chr2 : 5 - 5 ") == GenomeSite("chr2", 4, 5)
    assert GenomeSite.parse("HLA-A*01:01:1-300") == GenomeSite("HLA-A*01:01", 0, 300)


@pytest.mark.parametrize("text", ["chrT", "chrT:100", ":1-5", "chrT:a-b", "chrT:0-5", "chrT:10-5", "chrT:-5-10", ""])
def test_parse_rejects_bad_text(text: str) -> None:
    with pytest.raises(DesignError, match="genome site"):
        GenomeSite.parse(text)


def test_site_rejects_empty_interval() -> None:
    with pytest.raises(DesignError):
        GenomeSite("chrT", 10, 10)


# --- site_amplicon ------------------------------------------------------------------------------


def test_site_amplicon_is_the_fasta_slice_uppercase(files: dict[str, Path], tmp_path: Path) -> None:
    fasta = tmp_path / "fresh.fa"
    shutil.copy(files["fasta"], fasta)
    assert site_amplicon(fasta, SITE) == CHR_T[140:260]
    assert (tmp_path / "fresh.fa.fai").exists()  # built on first use
    assert site_amplicon(fasta, GenomeSite("chrU", 150, 200)) == CHR_U[150:200]
    assert site_amplicon(fasta, GenomeSite.parse("chrT:1-400")) == CHR_T


def test_site_amplicon_errors(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="file not found"):
        site_amplicon(tmp_path / "absent.fa", SITE)
    with pytest.raises(InputFormatError, match=r"contig 'chr9' is not in the FASTA; its contigs are: chrT, chrU"):
        site_amplicon(files["fasta"], GenomeSite("chr9", 0, 10))
    with pytest.raises(InputFormatError, match=r"the file names it 'chrT'"):
        site_amplicon(files["fasta"], GenomeSite("T", 0, 10))
    with pytest.raises(InputFormatError, match=r"past the end of chrU \(200 bp\)"):
        site_amplicon(files["fasta"], GenomeSite("chrU", 150, 201))
    not_fasta = tmp_path / "notes.txt"
    not_fasta.write_text("hello\n")
    with pytest.raises(InputFormatError, match="not a FASTA file"):
        site_amplicon(not_fasta, SITE)


def test_site_amplicon_unwritable_folder_without_fai(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fasta = tmp_path / "copy.fa"
    shutil.copy(files["fasta"], fasta)
    real_access = alignments.os.access

    def no_writing(path: str, mode: int) -> bool:
        return False if mode == alignments.os.W_OK else real_access(path, mode)

    monkeypatch.setattr(alignments.os, "access", no_writing)
    with pytest.raises(InputFormatError, match=r"not writable; create the index with: samtools faidx .*copy\.fa"):
        site_amplicon(fasta, SITE)


# --- iter_site_reads ----------------------------------------------------------------------------


def _names(path: Path, **options) -> set[str]:
    return {name for name, _, _ in iter_site_reads(path, SITE, **options)}


def test_reads_spanning_the_site(files: dict[str, Path]) -> None:
    reads = list(iter_site_reads(files["bam"], SITE))
    assert {name for name, _, _ in reads} == SPANNING
    assert len(reads) == len(SPANNING)
    for name, sequence, qualities in reads:
        assert (sequence, qualities) == _expected(name), name
    assert count_site_reads(files["bam"], SITE) == len(SPANNING)


def test_full_sequence_with_soft_clips_and_reference_orientation(files: dict[str, Path]) -> None:
    reads = {name: (sequence, qualities) for name, sequence, qualities in iter_site_reads(files["bam"], SITE)}
    assert reads["softclip"][0].startswith(CLIP)
    assert reads["reverse"][0] == CHR_T[130:280]  # stored reference-forward, not reverse-complemented back
    assert reads["deletion"][0] == CHR_T[125:195] + CHR_T[198:278]
    assert reads["noqual"][1] == "I" * 150
    assert reads["ambiguous"][0][70] == "N"


def test_overlapping_reads_without_require_span(files: dict[str, Path]) -> None:
    assert _names(files["bam"], require_span=False) == SPANNING | {"partial", "hardclip"}
    assert count_site_reads(files["bam"], SITE, require_span=False) == len(SPANNING) + 2


def test_mapping_quality_and_duplicate_options(files: dict[str, Path]) -> None:
    assert _names(files["bam"], min_mapping_quality=20) == SPANNING - {"lowmapq"}
    assert _names(files["bam"], skip_duplicates=False) == SPANNING | {"duplicate"}
    with pytest.raises(ParameterError):
        list(iter_site_reads(files["bam"], SITE, min_mapping_quality=-1))


def test_site_without_reads_yields_nothing(files: dict[str, Path]) -> None:
    assert list(iter_site_reads(files["bam"], GenomeSite("chrU", 150, 190))) == []
    assert count_site_reads(files["bam"], GenomeSite("chrT", 360, 400)) == 0


def test_cram_with_reference_gives_the_same_reads(files: dict[str, Path]) -> None:
    from_bam = sorted(iter_site_reads(files["bam"], SITE, require_span=False))
    from_cram = sorted(iter_site_reads(files["cram"], SITE, reference_fasta=files["fasta"], require_span=False))
    assert from_cram == from_bam


def test_cram_without_reference(files: dict[str, Path]) -> None:
    with pytest.raises(InputFormatError, match=r"reads\.cram: is a CRAM file.*--reference"):
        list(iter_site_reads(files["cram"], SITE))


def test_cram_with_the_wrong_reference(files: dict[str, Path], tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.fa"
    _write_fasta(wrong, {"chrT": CHR_T[::-1], "chrU": CHR_U})
    with pytest.raises(InputFormatError, match=r"cannot decode the CRAM data.*--reference"):
        list(iter_site_reads(files["cram"], SITE, reference_fasta=wrong))


def test_file_errors(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match=r"absent\.bam: file not found"):
        list(iter_site_reads(tmp_path / "absent.bam", SITE))
    fix = r"create the index with: samtools index .*unindexed\.bam"
    with pytest.raises(InputFormatError, match=r"unindexed\.bam: no index .*" + fix):
        list(iter_site_reads(files["unindexed"], SITE))
    with pytest.raises(InputFormatError, match=r"is SAM text.*samtools sort"):
        list(iter_site_reads(files["sam"], SITE))
    with pytest.raises(InputFormatError, match="looks like FASTA"):
        list(iter_site_reads(files["fasta"], SITE))
    fastq = tmp_path / "reads.fastq"
    fastq.write_text("@r1\nACGT\n+\nIIII\n")
    with pytest.raises(InputFormatError, match="looks like FASTQ"):
        list(iter_site_reads(fastq, SITE))
    gzipped = tmp_path / "reads.fastq.gz"
    with gzip.open(gzipped, "wt") as handle:
        handle.write("@r1\nACGT\n+\nIIII\n")
    with pytest.raises(InputFormatError, match="looks like FASTQ"):
        list(iter_site_reads(gzipped, SITE))
    with pytest.raises(InputFormatError, match="is a directory"):
        list(iter_site_reads(tmp_path, SITE))
    unaligned_sam = tmp_path / "unaligned.sam"
    unaligned_sam.write_text("@HD\tVN:1.6\nr1\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n")
    unaligned = tmp_path / "unaligned.bam"
    pysam.view("-b", "-o", str(unaligned), str(unaligned_sam), catch_stdout=False)
    with pytest.raises(InputFormatError, match=r"unaligned\.bam: the BAM header lists no reference sequences"):
        list(iter_site_reads(unaligned, SITE))


def test_contig_errors(files: dict[str, Path]) -> None:
    listed = r"contig 'chr9' is not in the BAM/CRAM header; its contigs are: chrT, chrU"
    with pytest.raises(InputFormatError, match=listed):
        list(iter_site_reads(files["bam"], GenomeSite("chr9", 0, 10)))
    with pytest.raises(InputFormatError, match=r"the file names it 'chrT'"):
        count_site_reads(files["bam"], GenomeSite("T", 0, 10))
    with pytest.raises(InputFormatError, match=r"past the end of chrU"):
        list(iter_site_reads(files["bam"], GenomeSite("chrU", 100, 250)))
