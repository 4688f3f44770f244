"""alleles.tsv's lines made by the compiled ``allele_line_chunks`` (editcheck.quantification._tally_compiled) are
the bytes its pure-Python reference (editcheck.results.sample._allele_lines) writes (issue #13): non-ASCII names,
lines across chunk boundaries and longer than a chunk, no aligned reads; a field of the wrong type is refused."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from editcheck.outputs import write_tsv_lines
from editcheck.quantification.tally import Allele
from editcheck.results import sample

compiled = pytest.importorskip("editcheck.quantification._tally_compiled")


def _alleles(seed: int) -> list[Allele]:
    generator = random.Random(seed)
    alleles = []
    for reads in sorted((generator.choice([1, 1, 1, 2, 7, 1234]) for _ in range(400)), reverse=True):
        sequence = "".join(generator.choice("ACGTN-") for _ in range(generator.randint(0, 600)))
        events = ";".join(f"{generator.randint(1, 300)}A>G" for _ in range(generator.randint(0, 3)))
        reference = generator.choice(["amplicon", "HDR", "ampli\u00e7on-\u03b2"])
        alleles.append(Allele(reference, sequence, generator.choice(["unmodified", "modified"]), events, reads))
    return alleles


@pytest.mark.parametrize(("seed", "total", "chunk"), [(1, 5000, 1 << 20), (2, 5000, 700), (3, 0, 1), (4, 3, 4096)])
def test_compiled_lines_are_the_references_bytes(tmp_path: Path, seed: int, total: int, chunk: int) -> None:
    alleles = _alleles(seed)
    reference = tmp_path / "reference.tsv"
    write_tsv_lines(reference, sample.ALLELE_COLUMNS, sample._allele_lines(alleles, total))
    chunks = list(compiled.allele_line_chunks(alleles, lambda reads: sample._allele_line_end(reads, total), chunk))
    header = ("\t".join(sample.ALLELE_COLUMNS) + "\n").encode()
    assert header + b"".join(chunks) == reference.read_bytes()
    assert all(chunk.endswith(b"\n") for chunk in chunks)  # whole lines
    if chunk < 1 << 20:
        assert len(chunks) > 10
    if sample.compiled_allele_line_chunks is not None:  # the writer the engine's results take
        written = tmp_path / "alleles.tsv"
        sample._write_alleles(written, alleles, total)
        assert written.read_bytes() == reference.read_bytes()


def test_a_field_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match="a str, not int"):
        list(compiled.allele_line_chunks([("amplicon", 5, "modified", "", 1)], lambda reads: "\t1\t1\n"))
    with pytest.raises(TypeError, match="five fields"):
        list(compiled.allele_line_chunks([("amplicon", "A", "modified", 1)], lambda reads: "\t1\t1\n"))
    with pytest.raises(TypeError, match="line's end is a str"):
        list(compiled.allele_line_chunks([("amplicon", "A", "modified", "", 1)], lambda reads: b"\t1\t1\n"))
