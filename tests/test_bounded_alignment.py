"""Alignment cost bounded per read: short reads on long amplicons, over-long reads (issue #8, items 7-8)."""

from __future__ import annotations

import random
import time

import pytest

from editcheck.alignment.aligner import SEED_MARGIN, ReadAligner
from editcheck.classification.outcomes import Classifier
from editcheck.design import build_design, reverse_complement


def random_design(length: int, seed: int, name: str = "Reference"):
    generator = random.Random(seed)
    amplicon = "".join(generator.choice("ACGT") for _ in range(length))
    middle = length // 2
    amplicon = amplicon[: middle + 21] + "GG" + amplicon[middle + 23 :]  # NGG PAM after the guide
    return build_design(amplicon, [amplicon[middle : middle + 20]], name=name), generator


def substrings(amplicon: str, generator: random.Random, count: int, length: int, error_rate: float):
    """(start, read as sequenced, substituted reference positions) of random substrings, half reverse-complemented.

    Each ends more than SEED_MARGIN bases from the amplicon ends: reads reaching closer keep the
    end-to-end alignment of that end (unchanged results on full-length amplicon reads)."""
    reads = []
    for index in range(count):
        start = generator.randrange(SEED_MARGIN + 1, len(amplicon) - length - SEED_MARGIN)
        bases = list(amplicon[start : start + length])
        changed = []
        for offset in range(length):
            if generator.random() < error_rate:
                bases[offset] = generator.choice([base for base in "ACGT" if base != bases[offset]])
                changed.append(start + offset)
        read = "".join(bases)
        reads.append((start, reverse_complement(read) if index % 2 else read, changed))
    return reads


@pytest.mark.parametrize("error_rate", [0.0, 0.01])
def test_short_reads_on_a_long_amplicon_align_where_they_come_from(error_rate):
    # 250-bp substrings of a 5-kb amplicon: before seeding, a quarter were "not aligned" (a chance match
    # at an amplicon end turned the uncovered amplicon into a deletion) and each cost ~50 ms.
    design, generator = random_design(5000, seed=8)
    aligner = ReadAligner(design.references)
    classifier = Classifier(design)
    reads = substrings(design.amplicon.sequence, generator, 200, 250, error_rate)
    began = time.process_time()
    results = [aligner.align(read) for _, read, _ in reads]
    per_read = (time.process_time() - began) / len(reads)
    for (start, read, changed), aligned in zip(reads, results):
        assert aligned is not None, read
        assert (aligned.start, aligned.end) == (start, start + 250)
        assert aligned.insertions == () and aligned.deletions == ()
        assert sorted(position for position, _ in aligned.substitutions) == changed
        assert classifier.classify(aligned).outcome in ("unmodified", "modified", "window_not_covered")
    assert per_read < 0.005  # seconds of CPU; ~0.05 ms when seeded, ~50 ms when the whole amplicon is aligned


def test_partial_reads_on_a_short_amplicon_get_no_spurious_deletion():
    # Unmerged mates, trimmed reads: 150-bp pieces of a 300-bp amplicon, exact copies.
    design, generator = random_design(300, seed=3)
    aligner = ReadAligner(design.references)
    for start, read, _ in substrings(design.amplicon.sequence, generator, 200, 150, 0.0):
        aligned = aligner.align(read)
        assert aligned is not None
        assert (aligned.start, aligned.end, aligned.deletions, aligned.substitutions) == (start, start + 150, (), ())


def test_a_read_with_a_large_deletion_ending_inside_the_amplicon_keeps_its_deletion():
    design, _ = random_design(3000, seed=4)
    amplicon = design.amplicon.sequence
    read = amplicon[1300:1500] + amplicon[1900:2050]  # 400-bp deletion, read ends 950 bp before the amplicon end
    aligned = ReadAligner(design.references).align(read)
    assert (aligned.start, aligned.end) == (1300, 2050)
    assert [length for _, length in aligned.deletions] == [400]
    assert Classifier(design).classify(aligned).outcome == "large_deletion"


def fastq(path, reads):
    path.write_text("".join(f"@r{index}\n{read}\n+\n{'I' * len(read)}\n" for index, read in enumerate(reads)))
    return path


def test_reads_longer_than_the_limit_are_counted_too_long_and_reported(tmp_path):
    from editcheck.pipeline import quantify
    from editcheck.results.sample import summary_document, write_sample_outputs

    design, _ = random_design(250, seed=6)
    amplicon = design.amplicon.sequence
    assert ReadAligner(design.references).max_read_length == 2 * 250 + 500
    concatemer = amplicon * 5  # 1,250 bases: over the limit
    at_limit = (amplicon * 4)[:1000]
    reads = [amplicon] * 50 + [concatemer] * 3 + [at_limit] + [concatemer[:1001]]
    result = quantify(fastq(tmp_path / "reads.fastq", reads), design=design)
    assert result.tally.outcomes["too_long"] == 4  # the read at the limit is aligned (its extra copies are overhang)
    assert result.tally.outcomes["unmodified"] == 51
    assert result.tally.outcomes["too_long"] + result.tally.outcomes["not_aligned"] + result.tally.aligned == 55
    document = summary_document(result)
    assert document["reads"]["too_long"] == 4
    assert document["settings"]["max_read_length"] == 1000
    assert any("4 reads" in warning and "longer than 1000 bases" in warning for warning in document["warnings"])
    write_sample_outputs(result, tmp_path / "out")
    rows = (tmp_path / "out" / "summary.tsv").read_text().splitlines()
    assert "\t".join([result.sample, "reads", "too_long", "4", "", "", "", ""]) in rows
    from editcheck.report.appendix import write_report

    write_report([tmp_path / "out"], None, tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text()
    assert "longer than 1000 bases and were not aligned" in html  # the warning
    assert "too long" in html  # the read-fate plot's legend


def test_too_long_reads_in_a_pool_are_counted(tmp_path):
    import json

    from editcheck.pooled import quantify_pool
    from editcheck.results.pool import write_pool_outputs

    first, _ = random_design(250, seed=9, name="first")
    second, _ = random_design(300, seed=10, name="second")
    reads = [first.amplicon.sequence] * 5 + [second.amplicon.sequence * 4] * 2  # 1,200 > 2 x 300 + 500
    result = quantify_pool(fastq(tmp_path / "pool.fastq", reads), None, [first, second])
    assert (result.too_long, result.unassigned, result.ambiguous) == (2, 0, 0)
    assert result.assigned == {"first": 5, "second": 0}
    write_pool_outputs(result, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "assignment.json").read_text())["too_long"] == 2


def test_a_50_kb_read_under_a_2_gb_address_space_limit(tmp_path):
    # A 13-kb tandem-repeat read took 1 GB and a 26-kb one 4 GB (quadratic); under a memory limit the
    # process died with SIGSEGV and no message.
    import json
    import resource
    import subprocess
    import sys

    design, _ = random_design(250, seed=12)
    amplicon = design.amplicon.sequence
    reads = [amplicon] * 20 + [(amplicon * 200)[:length] for length in (13_000, 26_000, 50_000)]
    reads_file = fastq(tmp_path / "long.fastq", reads)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2_000_000 * 1024, 2_000_000 * 1024))  # ulimit -v 2000000

    command = [sys.executable, "-m", "editcheck", "quantify", "--r1", str(reads_file), "-a", amplicon,
               "-g", design.guides[0].sequence, "-o", str(tmp_path / "out")]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300, preexec_fn=limit_memory)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["reads"]["too_long"] == 3
    assert summary["outcomes"]["unmodified"]["reads"] == 20


LONG_READS_SCRIPT = """
import random, resource, sys
sys.path.insert(0, sys.argv[1])
from test_bounded_alignment import random_design
from editcheck.alignment.aligner import ReadAligner
from editcheck.classification.outcomes import Classifier

design, generator = random_design(2000, seed=13)
amplicon = design.amplicon.sequence
aligner = ReadAligner(design.references)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
concatemer = aligner.align((amplicon * 3)[:4500])
insertion = amplicon[:1000] + (amplicon[::-1] * 2)[:2500] + amplicon[1000:]
inserted = ReadAligner(design.references, min_identity=0).align(insertion)
junk = aligner.align("".join(generator.choice("ACGT") for _ in range(4500)))
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
print(concatemer.start, concatemer.end, concatemer.identity, [len(bases) for _, bases in inserted.insertions],
      Classifier(design).classify(junk).outcome, grown)
"""


def test_long_reads_within_the_limit_align_in_bounded_memory():
    # A 2-kb amplicon allows 4.5-kb reads: they align in WFA2's low-memory modes (a read with a 2.5-kb
    # insertion took ~220 MB in the default mode, a 13-kb one 1 GB). A fresh process measures the peak.
    import subprocess
    import sys
    from pathlib import Path

    finished = subprocess.run([sys.executable, "-c", LONG_READS_SCRIPT, str(Path(__file__).parent)],
                              capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    start, end, identity, insertions, junk, grown_mb = finished.stdout.split(maxsplit=5)
    assert (start, end, identity) == ("0", "2000", "100.0")  # the extra copies are overhang
    assert insertions == "[2500]"
    assert junk == "not_aligned"
    assert int(grown_mb) < 60
