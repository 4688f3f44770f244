"""In-silico nomination: planted sites are found exactly, and the vectorised search agrees site for
site with a brute-force pure-Python reference (mismatches, bulges, PAM variants, both strands)."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

from editcheck.errors import InputFormatError, ParameterError
from editcheck.offtarget.nominate import SearchSpec, Site, iter_fasta, nominate, write_sites

IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT",
    "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip
COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def revcomp(sequence: str) -> str:
    return sequence.translate(COMPLEMENT)[::-1]


def random_dna(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("ACGT") for _ in range(length))


def mutate(rng: random.Random, sequence: str, count: int) -> tuple[str, list[int]]:
    """``sequence`` with ``count`` substitutions at distinct positions (0-based, returned sorted)."""
    positions = sorted(rng.sample(range(len(sequence)), count))
    letters = list(sequence)
    for position in positions:
        letters[position] = rng.choice([base for base in "ACGT" if base != letters[position]])
    return "".join(letters), positions


def write_fasta(path: Path, contigs: list[tuple[str, str]], width: int = 60) -> Path:
    text = "".join(
        f">{name} planted\n" + "".join(sequence[i : i + width] + "\n" for i in range(0, len(sequence), width))
        for name, sequence in contigs
    )
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


# ----------------------------------------------------------------------------------------------
# Brute-force reference: every window of every gapped guide variant, compared letter by letter.


def reference(contigs: list[tuple[str, str]], spec: SearchSpec) -> list[tuple]:
    guide, pam, m, g = spec.guide, spec.pam, len(spec.pam), len(spec.guide)
    variants = [("none", 0, 0, guide)]  # (type, size, bases 5' of the bulge, pattern; '*' = extra DNA base)
    for size in range(1, spec.max_dna_bulge + 1):
        variants += [("DNA", size, i, guide[:i] + "*" * size + guide[i:]) for i in range(2, g - 1)]
    for size in range(1, spec.max_rna_bulge + 1):
        variants += [("RNA", size, i, guide[:i] + guide[i + size :]) for i in range(2, g - 1 - size)]
    best: dict[tuple, tuple] = {}
    for contig_index, (name, sequence) in enumerate(contigs):
        n = len(sequence)
        for strand in "+-":
            text = sequence.upper() if strand == "+" else revcomp(sequence.upper())
            for q in range(n - m + 1):  # PAM at text[q:q+m]
                if not all(base in IUPAC[code] for base, code in zip(text[q : q + m], pam)):
                    continue
                for kind, size, split, pattern in variants:
                    length = len(pattern)
                    lo = q - length if not spec.pam_5prime else q
                    hi = q + m if not spec.pam_5prime else q + m + length
                    if lo < 0 or hi > n or any(base not in "ACGT" for base in text[lo:hi]):
                        continue
                    proto = text[lo:q] if not spec.pam_5prime else text[q + m : hi]
                    shown, positions = [], []
                    for j, (base, code) in enumerate(zip(proto, pattern)):
                        guide_index = j if (kind == "none" or j < split) else (j - size if kind == "DNA" else j + size)
                        if code != "*" and base not in IUPAC[code]:
                            shown.append(base.lower())
                            positions.append(guide_index + 1)
                        else:
                            shown.append(base)
                    if len(positions) > spec.max_mismatches:
                        continue
                    if kind == "RNA":
                        shown[split:split] = ["-"] * size
                    start, end = (lo, hi) if strand == "+" else (n - hi, n - lo)
                    pam_start = q if strand == "+" else n - q - m
                    row = (name, start, end, strand, "".join(shown), text[q : q + m], len(positions), tuple(positions),
                           kind, size, split)  # fmt: skip
                    rank = (kind != "none", len(positions), size, kind, split)
                    key = (contig_index, strand, pam_start)
                    if key not in best or rank < best[key][0]:
                        best[key] = (rank, row, contig_index)
    rows = [(contig_index, row) for _, row, contig_index in best.values()]
    rows.sort(key=lambda item: (item[0], item[1][1], item[1][3], ("none", "DNA", "RNA").index(item[1][8]),
                                item[1][9], item[1][2], item[1][10]))  # fmt: skip
    return [row for _, row in rows]


def as_rows(sites: list[Site]) -> list[tuple]:
    return [
        (s.contig, s.start, s.end, s.strand, s.site_sequence, s.pam_sequence, s.mismatches, s.mismatch_positions,
         s.bulge_type, s.bulge_size, s.bulge_position)
        for s in sites
    ]  # fmt: skip


def assert_same(found: list[Site], expected: list[tuple]) -> None:
    rows = as_rows(found)
    missing = [row for row in expected if row not in rows]
    extra = [row for row in rows if row not in expected]
    assert not missing and not extra, f"missing {missing[:5]}, extra {extra[:5]}"
    assert rows == expected  # same order too
    for site in found:
        assert sum(character.islower() for character in site.site_sequence) == site.mismatches


# ----------------------------------------------------------------------------------------------
# A genome with planted sites


class Genome:
    """Random contigs into which sites are planted at chosen places (on the + strand text)."""

    def __init__(self, seed: int, lengths: dict[str, int]) -> None:
        self.rng = random.Random(seed)
        self.contigs = {name: list(random_dna(self.rng, length)) for name, length in lengths.items()}
        self.planted: list[dict] = []

    def put(self, contig: str, start: int, text: str) -> None:
        self.contigs[contig][start : start + len(text)] = list(text)

    def plant(self, contig: str, start: int, strand: str, site: str, **expected) -> None:
        """Place ``site`` (guide orientation, protospacer + PAM) so that it starts at ``start`` on +."""
        self.put(contig, start, site if strand == "+" else revcomp(site))
        self.planted.append(dict(contig=contig, start=start, end=start + len(site), strand=strand, **expected))

    def items(self) -> list[tuple[str, str]]:
        return [(name, "".join(letters)) for name, letters in self.contigs.items()]


GUIDE = "GTCACCTCCAATGACTAGGG"  # EMX1-like 20-mer with a GGG run next to the PAM


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Genome, Path]:
    genome = Genome(7, {"chr1": 9000, "chr2": 3000, "tiny": 27, "chr3": 2500})
    rng = genome.rng
    guide = GUIDE

    def site(mismatches: int = 0, pam: str = "TGG") -> tuple[str, list[int]]:
        proto, positions = mutate(rng, guide, mismatches)
        return proto + pam, positions

    for index, (mm, strand) in enumerate([(0, "+"), (1, "-"), (2, "+"), (3, "-"), (4, "+"), (4, "-"), (1, "+")]):
        text, positions = site(mm, pam=rng.choice(["AGG", "CGG", "GGG", "TGG"]))
        genome.plant("chr1", 200 + 400 * index, strand, text, mismatches=mm, positions=[p + 1 for p in positions])
    for start, strand in ((3300, "+"), (3700, "-")):  # five mismatches: beyond the limit
        text, positions = site(5)
        genome.plant("chr1", start, strand, text, mismatches=5, absent=True)
    # contig ends: a site starting at 0 and a site ending at the last base, on both strands
    text, positions = site(2)
    genome.plant("chr2", 0, "-", text, mismatches=2, positions=[p + 1 for p in positions])
    text, positions = site(1)
    genome.plant("chr2", 3000 - 23, "+", text, mismatches=1, positions=[p + 1 for p in positions])
    text, _ = site(0)
    genome.plant("tiny", 2, "+", text, mismatches=0, positions=[])
    # N runs: sites touching a run are found, a site overlapping it by one base (or over an N in the
    # PAM's N position, or an IUPAC code) is not
    genome.put("chr1", 4500, "N" * 200)
    text, _ = site(0)
    genome.plant("chr1", 4500 - 23, "+", text, mismatches=0, positions=[])
    text, _ = site(1)
    genome.plant("chr1", 4700, "-", text, mismatches=1, positions=None)
    text, _ = site(0)
    genome.plant("chr1", 5000, "+", text, mismatches=0, absent=True)
    genome.put("chr1", 5000, "N")  # first protospacer base
    text, _ = site(0, pam="NGG")
    genome.plant("chr1", 5100, "+", text, mismatches=0, absent=True)
    text, _ = site(0)
    genome.plant("chr1", 5200, "-", text, mismatches=0, absent=True)
    genome.put("chr1", 5200 + 10, "R")
    text, _ = site(0)
    genome.plant("chr3", 49, "+", text, mismatches=0, absent=True)
    genome.put("chr3", 0, "N" * 50)  # an N run at the contig's start, overlapping that site by one base
    # bulges: extra DNA bases (1, 2) and missing guide bases (1, 2), both strands, no mismatches
    for index, (kind, size, strand) in enumerate(
        [("DNA", 1, "+"), ("DNA", 2, "-"), ("RNA", 1, "-"), ("RNA", 2, "+"), ("DNA", 1, "-"), ("RNA", 1, "+")]
    ):
        split = 8 + index
        if kind == "DNA":
            extra = "".join(
                rng.choice([b for b in "ACGT" if b not in guide[split - 1 : split + 1]]) for _ in range(size)
            )
            proto = guide[:split] + extra + guide[split:]
        else:
            proto = guide[:split] + guide[split + size :]
        genome.plant("chr3", 400 + 300 * index, strand, proto + "AGG", mismatches=0, bulge=(kind, size))
    # soft-masked (lower-case) sequence is searched like the rest
    text, _ = site(1)
    genome.plant("chr3", 2300, "+", text.lower(), mismatches=1, positions=None)
    path = write_fasta(tmp_path_factory.mktemp("genome") / "genome.fa", genome.items())
    return genome, path


def check_planted(genome: Genome, sites: list[Site], spec: SearchSpec) -> None:
    index = {(s.contig, s.start, s.end, s.strand): s for s in sites}
    for plant in genome.planted:
        key = (plant["contig"], plant["start"], plant["end"], plant["strand"])
        kind, size = plant.get("bulge", ("none", 0))
        wanted = not plant.get("absent") and plant["mismatches"] <= spec.max_mismatches
        wanted = wanted and size <= (
            spec.max_dna_bulge if kind == "DNA" else spec.max_rna_bulge if kind == "RNA" else 0
        )
        if not wanted:
            assert key not in index, f"unexpected site {plant}"
            continue
        assert key in index, f"planted site not found: {plant}"
        site = index[key]
        assert (site.mismatches, site.bulge_type, site.bulge_size) == (plant["mismatches"], kind, size)
        if plant.get("positions") is not None:
            assert list(site.mismatch_positions) == plant["positions"]


def test_planted_mismatches_against_reference(planted: tuple[Genome, Path]) -> None:
    genome, path = planted
    spec = SearchSpec(GUIDE, max_mismatches=4)
    sites = nominate(path, spec, block=701)  # small blocks: many block boundaries
    check_planted(genome, sites, spec)
    assert_same(sites, reference(genome.items(), spec))
    assert as_rows(nominate(path, spec)) == as_rows(sites)  # the block size does not matter
    tiny = [s for s in sites if s.contig == "tiny"]
    assert [(s.start, s.end, s.site_sequence, s.pam_sequence) for s in tiny] == [(2, 25, GUIDE, "TGG")]


def test_planted_bulges_against_reference(planted: tuple[Genome, Path]) -> None:
    genome, path = planted
    spec = SearchSpec(GUIDE, max_mismatches=3, max_dna_bulge=2, max_rna_bulge=2)
    sites = nominate(path, spec, block=1500)
    check_planted(genome, sites, spec)
    assert_same(sites, reference(genome.items(), spec))
    bulged = {(s.bulge_type, s.bulge_size) for s in sites}
    assert {("DNA", 1), ("DNA", 2), ("RNA", 1), ("RNA", 2)} <= bulged
    # a locus found without a bulge is never reported again with one: one row per strand and PAM
    loci = [(s.contig, s.strand, s.end if s.strand == "+" else s.start) for s in sites]
    assert len(loci) == len(set(loci))
    # bulges only add loci: the unbulged hits are those of a search without bulges
    unbulged = [s for s in sites if s.bulge_type == "none"]
    assert as_rows(unbulged) == as_rows(nominate(path, SearchSpec(GUIDE, max_mismatches=3)))
    one = SearchSpec(GUIDE, max_mismatches=3, max_dna_bulge=1, max_rna_bulge=0)
    sites_one = nominate(path, one)
    check_planted(genome, sites_one, one)
    assert {s.bulge_type for s in sites_one} == {"none", "DNA"}


def decoy_genome(seed: int, guide: str, pam_choices: list[str], pam_5prime: bool, length: int) -> list[tuple[str, str]]:
    """Random contigs with many mutated copies of the guide (0-7 mismatches, some with bulges), so
    that the reference comparison covers plenty of hits, overlapping loci and ties."""
    rng = random.Random(seed)
    contigs = []
    for number, size in enumerate((length, length // 3, 31)):
        letters = list(random_dna(rng, size))
        for _ in range(size // 60):
            concrete = "".join(rng.choice(IUPAC[code]) for code in guide)
            proto, _ = mutate(rng, concrete, rng.randint(0, 7))
            roll = rng.random()
            split = rng.randint(2, len(guide) - 4)
            if roll < 0.2:
                proto = proto[:split] + random_dna(rng, rng.randint(1, 2)) + proto[split:]
            elif roll < 0.4:
                proto = proto[:split] + proto[split + rng.randint(1, 2) :]
            pam = "".join(rng.choice(IUPAC[code]) for code in rng.choice(pam_choices))
            text = pam + proto if pam_5prime else proto + pam
            if rng.random() < 0.5:
                text = revcomp(text)
            start = rng.randrange(0, max(1, size - len(text)))
            letters[start : start + len(text)] = list(text)[: size - start]
        if number == 0:
            letters[size // 2 : size // 2 + 40] = ["N"] * 40
        contigs.append((f"c{number}", "".join(letters)))
    return contigs


PAM_CASES = [
    # (guide, pam, 5' PAM, max mismatches, DNA bulge, RNA bulge, genome length)
    ("GAGTCCGAGCAGAAGAAGAA", "NGG", False, 5, 0, 0, 6000),
    ("GAGTCCGAGCAGAAGAAGAA", "NAG", False, 4, 0, 0, 6000),
    ("GAGTCCGAGCAGAAGAAGAA", "NG", False, 4, 0, 0, 4000),
    ("GAGTCCGAGCAGAAGAAGAA", "NRN", False, 5, 0, 0, 5000),
    ("GAGTCCGAGCAGAAGAAGAAT", "NNGRRT", False, 5, 1, 1, 4000),  # SaCas9, 21-nt guide
    ("TAGCTAAAGCCTGGAGGGTACCA", "TTTV", True, 5, 0, 0, 6000),  # Cas12a, 5' PAM, 23-nt guide
    ("TAGCTAAAGCCTGGAGGGTACCA", "TTTV", True, 3, 2, 2, 3000),
    ("GAGTCCGAGCAGAAGAAGAA", "NGG", False, 4, 2, 2, 3000),
    ("GAGTCCRAGCAGAAGNAGAA", "NGG", False, 3, 1, 1, 3000),  # IUPAC codes in the guide
]


@pytest.mark.parametrize(
    "case", PAM_CASES, ids=lambda case: f"{case[1]}-{len(case[0])}nt-mm{case[3]}-b{case[4]}{case[5]}"
)
def test_pams_against_reference(tmp_path: Path, case: tuple) -> None:
    guide, pam, five, mismatches, dna, rna, length = case
    spec = SearchSpec(guide, pam, pam_5prime=five, max_mismatches=mismatches, max_dna_bulge=dna, max_rna_bulge=rna)
    choices = {"NGG": ["NGG", "NAG"], "NAG": ["NAG", "NGG"], "NG": ["NG"], "NRN": ["NRN", "NYN"]}.get(pam, [pam])
    contigs = decoy_genome(len(guide) * 7 + mismatches, guide, choices, five, length)
    path = write_fasta(tmp_path / "decoy.fa.gz", contigs)  # gzip input
    sites = nominate(path, spec, block=509)
    expected = reference(contigs, spec)
    assert len(expected) >= 10
    assert_same(sites, expected)


def test_iter_fasta_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "g.fa.gz"
    path.write_bytes(gzip.compress(b">a first\nACGT\nacgn\n\n>b\r\nTT\r\n>empty\n>c\nG"))
    assert list(iter_fasta(path)) == [("a", "ACGTacgn"), ("b", "TT"), ("empty", ""), ("c", "G")]
    members = tmp_path / "bgzf.fa.gz"  # several gzip members, as bgzip writes them
    members.write_bytes(gzip.compress(b">a\nAC") + gzip.compress(b"GT\n>b\nTT\n"))
    assert list(iter_fasta(members)) == [("a", "ACGT"), ("b", "TT")]
    spec = SearchSpec(GUIDE)
    with pytest.raises(InputFormatError, match="file not found"):
        nominate(tmp_path / "missing.fa", spec)
    (tmp_path / "reads.fq").write_text("@r1\nACGT\n+\nIIII\n")
    with pytest.raises(InputFormatError, match="not a FASTA file"):
        nominate(tmp_path / "reads.fq", spec)
    (tmp_path / "empty.fa").write_text("\n\n")
    with pytest.raises(InputFormatError, match="empty file"):
        nominate(tmp_path / "empty.fa", spec)
    (tmp_path / "bad.fa").write_text(">a\nACGT\n>b\nAC1T\n")
    with pytest.raises(InputFormatError, match=r"record 2: contig b: sequence contains '1'"):
        nominate(tmp_path / "bad.fa", spec)
    (tmp_path / "twice.fa").write_text(">a\nACGT\n>a\nAC\n")
    with pytest.raises(InputFormatError, match=r"record 2: contig name 'a' appears twice"):
        list(iter_fasta(tmp_path / "twice.fa"))
    (tmp_path / "cut.fa.gz").write_bytes(gzip.compress(b">a\n" + b"ACGT" * 5000)[:-30])
    with pytest.raises(InputFormatError, match="truncated or corrupt"):
        list(iter_fasta(tmp_path / "cut.fa.gz"))
    with pytest.raises(InputFormatError, match="directory"):
        list(iter_fasta(tmp_path))


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"guide": "GTCACCTCCAATGACTAGXG"}, "not IUPAC"),
        ({"guide": "GTCACCTCC"}, "12 to 40 nt"),
        ({"guide": GUIDE, "pam": "NG1"}, "not IUPAC"),
        ({"guide": GUIDE, "max_mismatches": 9}, "0 to 8"),
        ({"guide": GUIDE, "max_dna_bulge": 3}, "0 to 2"),
        ({"guide": GUIDE, "max_rna_bulge": -1}, "0 to 2"),
        ({"guide": "NNNNNNNNNNNNNNNACGTA", "max_mismatches": 5}, "too few"),
    ],
)
def test_spec_validation(arguments: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        SearchSpec(**arguments)


def test_spec_normalises() -> None:
    spec = SearchSpec("gucaccuccaaugacuaggg", pam="ngg")
    assert (spec.guide, spec.pam) == (GUIDE, "NGG")


def test_write_sites(tmp_path: Path, planted: tuple[Genome, Path]) -> None:
    genome, path = planted
    spec = SearchSpec(GUIDE, max_mismatches=2, max_dna_bulge=1, max_rna_bulge=1)
    sites = nominate(path, spec, flank=50)
    write_sites(sites, tmp_path / "s.tsv", tmp_path / "s.bed", tmp_path / "sheet.tsv", flank=50)
    write_sites(sites, tmp_path / "s2.tsv", amplicons_path=tmp_path / "amp.fa", genome_fasta=path, flank=50)
    lines = (tmp_path / "s.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    assert header[:10] == ["contig", "start", "end", "strand", "site_sequence", "pam", "mismatches",
                           "mismatch_positions", "bulge_type", "bulge_size"]  # fmt: skip
    assert header[10:] == ["amplicon", "site_id"]
    assert len(lines) == len(sites) + 1
    assert (tmp_path / "s.tsv").read_text() == (tmp_path / "s2.tsv").read_text()  # from the genome or the sites
    contigs = dict(genome.items())
    bed = [line.split("\t") for line in (tmp_path / "s.bed").read_text().splitlines()]
    for number, (row, line, site) in enumerate(zip(bed, lines[1:], sites), 1):
        fields = line.split("\t")
        assert row == [site.contig, str(site.start), str(site.end), f"site_{number}_{site.mismatches}mm",
                       str(site.mismatches), site.strand]  # fmt: skip
        assert int(fields[1]) == site.start + 1 and int(fields[2]) == site.end
        assert fields[7] == ",".join(map(str, site.mismatch_positions))
        sequence = contigs[site.contig]
        amplicon = sequence[max(0, site.start - 50) : site.end + 50].upper().replace("R", "N")
        assert fields[10] == amplicon
        # the protospacer as found sits in the amplicon on the site's strand
        found = amplicon if site.strand == "+" else revcomp(amplicon)
        assert site.protospacer in found and "-" not in site.protospacer
    sheet = [line.split("\t") for line in (tmp_path / "sheet.tsv").read_text().splitlines()]
    assert sheet[0] == ["site_id", "amplicon", "protospacer", "cut_offset", "contig", "start", "end", "strand",
                        "mismatches", "bulge_type", "bulge_size"]  # fmt: skip
    assert [row[0] for row in sheet[1:]] == [row[3] for row in bed]
    for row, site in zip(sheet[1:], sites):  # where each site is: the sites TSV's locus, mismatches and bulge
        assert row[4:] == [site.contig, str(site.start + 1), str(site.end), site.strand, str(site.mismatches),
                           site.bulge_type, str(site.bulge_size)]  # fmt: skip
    fasta = list(iter_fasta(tmp_path / "amp.fa"))
    assert [name for name, _ in fasta] == [row[3] for row in bed]
    assert [sequence for _, sequence in fasta] == [row[1] for row in sheet[1:]]
    with pytest.raises(ParameterError, match="flank"):
        write_sites(sites, tmp_path / "x.tsv", flank=20)  # the sites carry 50-bp flanks


def test_site_sheet_feeds_the_panel(tmp_path: Path, planted: tuple[Genome, Path]) -> None:
    """The amplicon sheet is a valid site sheet for `editcheck offtarget`."""
    panel = pytest.importorskip("editcheck.offtarget.panel")
    _, path = planted
    sites = [s for s in nominate(path, SearchSpec(GUIDE, max_mismatches=1), flank=80) if s.contig != "tiny"]
    write_sites(sites, tmp_path / "s.tsv", amplicons_path=tmp_path / "sheet.tsv", flank=80)
    designs = panel.read_site_sheet(tmp_path / "sheet.tsv")
    assert len(designs) == len(sites)
    for design, site in zip(designs, sites):
        guide_site = design.design.guides[0]
        assert guide_site.strand == site.strand
        assert guide_site.start == site.amplicon_offset + (0 if site.strand == "+" else len(site.pam_sequence))
        genome = dict(design.genome)  # carried into the panel's calls and report
        assert (genome["contig"], int(genome["start"]), genome["strand"], int(genome["mismatches"])) == (
            site.contig,
            site.start + 1,
            site.strand,
            site.mismatches,
        )
