"""What the engine returns: one :class:`SampleResult` per amplicon (built only by
:meth:`SampleResult.from_calls`), gathered in a :class:`PoolResult` with how reads were assigned."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from editcheck.alignment.aligner import AlignedRead
from editcheck.classification.called import CalledRead
from editcheck.classification.outcomes import ReadCall
from editcheck.design import AmpliconDesign
from editcheck.engine.settings import AnalysisSettings
from editcheck.quantification.tally import Tally, tally_reads
from editcheck.reads.collapse import CollapsedReads
from editcheck.reads.umi import MoleculeResult

__all__ = ["PoolResult", "SampleResult", "UniqueAlignment"]


class UniqueAlignment(NamedTuple):
    """A unique read (or unmerged pair) as it was aligned, kept on request (``keep_alignments``: the BAM output)."""

    key: str
    """The unique read's key (an unmerged pair's :func:`~editcheck.reads.records.pair_key`)."""
    sequence: str
    """The sequence aligned: the unique read, or the mate that speaks for an unmerged pair (R2 reverse-complemented)."""
    reads: int
    alignment: AlignedRead | None
    call: ReadCall
    mate: int | None = None
    """For an unmerged pair, the mate that speaks: 0 for R1, 1 for R2."""
    molecules: int | None = None
    """With UMIs: the molecules whose consensus this read is."""


@dataclass
class SampleResult:
    """Everything editcheck learned about one sample."""

    sample: str
    design: AmpliconDesign
    settings: AnalysisSettings
    inputs: tuple[str, ...]
    reads: CollapsedReads
    tally: Tally
    unmerged_used: int = 0
    molecules: MoleculeResult | None = None
    """With UMIs: the molecules behind the reads."""
    molecule_tally: Tally | None = None
    """With UMIs: the same counts, one per molecule instead of one per read."""
    site: str | None = None
    """With BAM/CRAM input: the genome site quantified."""
    input_copies: float | None = None
    """Template copies behind the reads, when the user gave the input amount: the edited % and target
    engagement intervals then use the effective depth 1/(1/reads + 1/copies)."""
    calls: dict[str, ReadCall] = field(default_factory=dict, repr=False)
    """Unique read (or :func:`~editcheck.reads.records.pair_key` for unmerged pairs) -> its call; kept on
    request (``keep_calls``)."""
    alignments: list[UniqueAlignment] = field(default_factory=list, repr=False)
    """Every unique read (and unmerged pair) with its alignment, in first-seen order; kept on request
    (``keep_alignments``)."""

    @classmethod
    def from_calls(
        cls, sample: str, design: AmpliconDesign, settings: AnalysisSettings, inputs: tuple[str, ...],
        reads: CollapsedReads, calls: Iterable[CalledRead] | Tally, *, unmerged_used: int,
        molecules: MoleculeResult | None = None, molecule_calls: Sequence[CalledRead] | None = None,
        site: str | None = None, keep_calls: bool = False, alignments: Sequence[UniqueAlignment] | None = None,
    ) -> SampleResult:  # fmt: skip
        """Tally the calls of one amplicon's unique reads (and, with UMIs, of its molecules) into its result;
        ``alignments`` (when given) are kept with it.  ``calls`` is read once (it may decode each read's call as
        it goes: nothing per read is kept unless ``keep_calls``), or is their tally already counted
        (:mod:`editcheck.engine.tally_parts`)."""
        if isinstance(calls, Tally):
            tally = calls
        else:
            if keep_calls:
                calls = list(calls)
            tally = tally_reads(design, calls)
        result = cls(
            sample, design, settings, inputs, reads, tally, unmerged_used, molecules,
            None if molecule_calls is None else tally_reads(design, molecule_calls), site,
        )  # fmt: skip
        if keep_calls and not isinstance(calls, Tally):
            result.calls = {called.key: called.call for called in calls}
        if alignments is not None:
            result.alignments = list(alignments)
        return result


@dataclass
class PoolResult:
    """Per-amplicon results of a run and how reads were assigned (a single-amplicon run is a pool of one)."""

    samples: list[SampleResult]
    reads: CollapsedReads
    assigned: dict[str, int] = field(default_factory=dict)
    ambiguous: int = 0
    unassigned: int = 0
    too_long: int = 0
    """Reads longer than the maximum read length of their best candidate amplicon (not aligned)."""
