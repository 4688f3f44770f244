"""Read pairs at a base-quality threshold, chunked route (issue #13): the merged reads' masked reads are called as
they are tallied, by the compiled kernel (:class:`~editcheck.engine.masking.MaskingKernel`, in
:meth:`QualityMasking.calls`), and the tables stay those of the per-read loop, with 1 worker as with 2, with the
compiled kernel as with its pure-Python reference.

Simulated 2x150 pairs of every outcome class of a nuclease with a donor (and a base editor's pairs in
tests/test_pair_quality_masks.py), 2% of their correct bases below Q20, as on a real sequencer.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from editcheck import simulate
from editcheck.design import build_design
from editcheck.engine import AnalysisSettings, run
from editcheck.engine import masking as masking_module
from editcheck.engine.sources import FastqPaired
from editcheck.reads import pair_chunks
from editcheck.reads.collapse import QualitySettings
from editcheck.results.sample import write_sample_outputs

PAIRS = 6000
Q20 = AnalysisSettings(quality=QualitySettings(min_base_quality=20))


@pytest.fixture(scope="module")
def nuclease_pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[FastqPaired, object]:
    folder = tmp_path_factory.mktemp("nuclease_pairs")
    design = simulate.random_design(seed=77, with_donor=True)
    mix = simulate.OutcomeMix(unmodified=0.4, deletion=0.2, insertion=0.1, substitution=0.1, hdr=0.1,
                              large_deletion=0.1)  # fmt: skip
    simulate.simulate(design, PAIRS, folder / "r1.fastq.gz", folder / "r2.fastq.gz", read_length=150, mix=mix,
                      error_rate=0.005, low_quality_rate=0.02, seed=31)  # fmt: skip
    built = build_design(design.amplicon, [design.guide], expected_hdr_amplicon=design.donor_amplicon)
    return FastqPaired(folder / "r1.fastq.gz", folder / "r2.fastq.gz"), built


def _tables(source: FastqPaired, built: object, threads: int, folder: Path) -> dict[str, str]:
    result = run(source, [built], ["s"], settings=Q20, threads=threads).samples[0]
    write_sample_outputs(result, folder)
    summary = json.loads((folder / "summary.json").read_text())
    return {
        **{name: (folder / name).read_text() for name in ("alleles.tsv", "positions.tsv", "indel_sizes.tsv")},
        "summary": json.dumps({key: summary[key] for key in ("reads", "outcomes", "edited", "edit_types")}),
    }


def test_masked_reads_of_merged_pairs_are_called_as_tallied_with_the_per_read_loops_tables(
    nuclease_pairs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, built = nuclease_pairs
    monkeypatch.setattr(pair_chunks, "CHUNK_BYTES", 131_072)  # several chunks
    main = os.getpid()
    called: list[int] = []  # the masked reads the kernel called in the main process, by unique read
    kernel = masking_module.MaskingKernel.__call__

    def counting(self, sequence, result, lows, *rest):  # the workers are forked with it: only the main's are kept
        got = kernel(self, sequence, result, lows, *rest)
        if os.getpid() == main:
            called.append(len(got[1]) // masking_module.RECORD)
        return got

    monkeypatch.setattr(masking_module.MaskingKernel, "__call__", counting)
    two = _tables(source, built, 2, tmp_path / "two")
    unique = json.loads(two["summary"])["reads"]["unique_sequences"]
    assert len(called) > 0.8 * unique and sum(called) >= len(called)  # the merged reads' masks, called as tallied
    one = _tables(source, built, 1, tmp_path / "one")
    # The workers' pure-Python reference (SitesWorker.masked, quality_sites) instead of the compiled kernels.
    implementation = masking_module.IMPLEMENTATION
    monkeypatch.setattr(masking_module, "IMPLEMENTATION", "python")
    reference = _tables(source, built, 2, tmp_path / "reference")
    monkeypatch.setattr(masking_module, "IMPLEMENTATION", implementation)
    monkeypatch.setattr(sys.modules["editcheck.engine.run"], "collapse_pair_files", lambda *a: None)
    per_read = _tables(source, built, 2, tmp_path / "per_read")
    assert per_read == two == one == reference
    reads = json.loads(two["summary"])["reads"]
    assert reads["merged"] > 0.9 * PAIRS and reads["unique_sequences"] < 0.5 * PAIRS
    # The simulated truth: substitutions lie outside the window (unmodified), deletions and insertions modify.
    outcomes = {name: figures["reads"] for name, figures in json.loads(two["summary"])["outcomes"].items()}
    assert outcomes == {"unmodified": 3000, "modified": 1800, "hdr": 600, "imperfect_hdr": 0, "large_deletion": 600}
