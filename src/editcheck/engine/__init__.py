"""The engine: one path from any read source to per-amplicon results.

``sources`` (where reads come from: FASTQ single or paired, a BAM/CRAM site) -> ``run`` (collapse, or UMI
molecules via ``molecules``; align and classify on the worker pool of ``workers``; unmerged pairs by the one
rule of ``pairs``; tally; every read's call to a ``sinks.ReadSink`` on request) -> ``result`` (``SampleResult.from_calls``, gathered in a ``PoolResult``).
``quantify``, ``quantify_pool`` and the off-target panel are compositions over :func:`run`.
"""

from editcheck.engine.result import PoolResult, SampleResult
from editcheck.engine.run import run
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.sinks import ReadSink
from editcheck.engine.sources import BamSite, FastqPaired, FastqSingle, ReadSource, read_source

__all__ = [
    "AnalysisSettings", "BamSite", "FastqPaired", "FastqSingle", "PoolResult", "ReadSink", "ReadSource", "SampleResult",
    "read_source", "run",
]  # fmt: skip
