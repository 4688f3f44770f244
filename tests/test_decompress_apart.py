"""Single-end gzip FASTQ decompressed apart, in a thread of its own (engine.run._decompress_apart, #13): when a core
is left beside the worker processes, or from four cores whatever the workers (the main process then bounds the
reading), with the results of decompressing it in the main thread."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from editcheck import simulate
from editcheck.design import build_design
from editcheck.engine.run import run
from editcheck.engine.sources import FastqSingle
from editcheck.reads import fastq


@pytest.mark.parametrize(("cores", "threads", "apart"), [(2, 1, True), (2, 2, False), (4, 4, True), (1, 1, False)])
def test_the_engine_decompresses_apart_with_a_spare_core_or_four_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int, threads: int, apart: bool
) -> None:
    engine = sys.modules["editcheck.engine.run"]
    design = simulate.random_design(seed=29)
    truth = simulate.simulate(design, 3000, tmp_path / "reads.fastq.gz", seed=7)
    amplicon = build_design(
        truth["design"]["amplicon"], [truth["design"]["guide"]], expected_hdr_amplicon=truth["design"]["donor_amplicon"]
    )
    opened: list[int] = []
    real_xopen = fastq.xopen

    def spied(*arguments: Any, **options: Any) -> Any:
        opened.append(options.get("threads", 0))
        return real_xopen(*arguments, **options)

    monkeypatch.setattr(fastq, "xopen", spied)
    monkeypatch.setattr(engine, "available_cores", lambda: cores)
    result = run(FastqSingle(tmp_path / "reads.fastq.gz"), [amplicon], ["s"], threads=threads)
    assert opened == [1 if apart else 0]  # the compiled reader's one opening: threaded or not
    monkeypatch.setattr(engine, "available_cores", lambda: 1)
    reference = run(FastqSingle(tmp_path / "reads.fastq.gz"), [amplicon], ["s"], threads=1)
    assert opened[1:] == [0]
    tally, expected = result.samples[0].tally, reference.samples[0].tally
    assert tally.outcomes == expected.outcomes and list(tally.alleles) == list(expected.alleles)
    assert sum(tally.outcomes.values()) == 3000
