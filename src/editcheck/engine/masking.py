"""Base qualities of reads and merged pairs judged after collapsing, for the engine (:mod:`editcheck.engine.run`).

Reads and merged pairs are collapsed on their raw sequence (:class:`~editcheck.reads.collapse.QualityMasks`
counts each read's low-quality positions: a merged read's from the qualities its mates give it, see
:mod:`editcheck.reads.merged_lows`); the worker processes find each unique read's quality sites (:class:`SitesWorker`), and
:class:`QualityMasking` turns every (unique read, non-empty mask) into a read of its own, called again from its
masked events (:mod:`editcheck.classification.quality`), without aligning again.

Most masked reads are the only read of their sequence (a sequencing error at a low-quality base): each unique
sequence goes to its worker with the reads counted while it waited to be sent, by their low-quality positions
(:meth:`~editcheck.reads.collapse.QualityMasks.take_pending`: its first read, and any other), and the worker
masks, counts and calls those reads right there, in parallel (:meth:`SitesWorker.masked`); the main process
only projects the reads counted later, and calls them as it tallies them (:meth:`QualityMasking.calls`, in parts
at once: :mod:`editcheck.engine.tally_parts`), as on the chunked route of read pairs, where every merged read's
qualities are counted before its unique read is back.  The sites and the usual mask (a sequencing error at a
low-quality base outside the window) are made by a compiled kernel (:class:`MaskingKernel`,
:func:`~editcheck.alignment._compiled.masked_reads_of`), in the workers as in the main process, whose pure-Python
references are :func:`~editcheck.classification.quality.quality_sites` and :meth:`SitesWorker.masked`
(``EDITCHECK_PURE_PYTHON=1`` runs them; tests/test_masked_sites_compiled.py).
"""

from __future__ import annotations

import marshal
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, cast

from editcheck.alignment.aligner import AlignedRead
from editcheck.alignment.hotpath import IMPLEMENTATION
from editcheck.classification.called import CalledRead
from editcheck.classification.outcomes import Classifier, ReadCall
from editcheck.classification.quality import (
    QualitySite,
    masked_alignment,
    masked_read,
    masked_sequence,
    masked_substitutions,
    quality_sites,
)  # fmt: skip
from editcheck.design import AmpliconDesign, Reference
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.workers import (
    STATUS_VALUES,
    PooledCall,
    PoolWorker,
    RunnerParts,
    chunk_runner,
    decode_result,
    encode_result,
)  # fmt: skip
from editcheck.reads.collapse import PendingReads, QualityMasks, chunk_lows
from editcheck.reads.records import UniqueRead

__all__ = [
    "MaskedResult",
    "QualityMasking",
    "ResultDecoder",
    "SitesWorker",
    "decoded_result",
    "exact_result",
    "masked_key",
]

_new: Any = tuple.__new__
_EVENTS = ReadCall._fields.index("events")

if IMPLEMENTATION == "compiled":
    from editcheck.alignment._compiled import OtherMasks, masked_reads_of, masked_tally_calls


def decisive_positions(classifiers: Sequence[Classifier]) -> list[list[frozenset[int]]]:
    """Per amplicon and reference: the positions whose base decides a call whatever it reads."""
    return [
        [classifier.quality_positions(reference) for reference in range(len(classifier.design.references))]
        for classifier in classifiers
    ]


Lows = Sequence[tuple[tuple[int, ...], int]]
"""Reads of one unique sequence by their low-quality read positions: ``(positions, reads)`` each."""
SentLows = tuple[bytes, list[PendingReads]]
"""A chunk's reads counted in flight as the engine sends them to its worker
(:meth:`~editcheck.reads.collapse.QualityMasks.take_chunk`): the first reads the compiled counter noted, as bytes,
and the other reads, :data:`Lows` per unique read; :func:`~editcheck.reads.collapse.chunk_lows` merges them."""
Made = bytes | tuple[int, ...] | PooledCall
"""A masked read's result as a worker (or the main process) makes it: the masked result encoded for the masked
sequence, or for the usual mask the masked reference positions (:class:`MaskedResult`'s first kind); in the main
process's one pass to the tally (:meth:`QualityMasking.calls`), the masked result itself, for a mask it calls
that is not the usual one (nothing is kept: it is not encoded to be decoded at once)."""
COMPARED = 4096
"""Decoded results of masked reads that others merge into, kept while :meth:`QualityMasking.expand` runs (at most
this many: a bounded memory, most merges go into few)."""
RECORD = 6
"""Fields of one masked read in :data:`MaskedCalls`."""
MaskedCalls = tuple[Any, ...]
"""A worker's masked reads of one unique read, :data:`RECORD` fields each, one after the other in one flat tuple
(kept from the worker's result until :meth:`QualityMasking.expand`: one tuple per unique read, not three):
``mask, reads, key, made, amplicon, reference``: the masked read positions, the reads, the :func:`masked_key`
(None when the run merges no masked reads alike: :attr:`QualityMasking.merge_alike` off, the key unused), the
result as :data:`Made`, and the amplicon and reference of the unique read's alignment."""


class MaskedResult(NamedTuple):
    """A masked read's result as kept until it is tallied (:func:`decoded_result` decodes it): the result of the
    unique read's sequence with N at read positions ``mask``, kept one of two ways.

    - The usual mask, sequencing errors outside the window at bases that decide nothing
      (:func:`~editcheck.classification.quality.substitution_positions`): as the unique read's own result
      (``encoded``: :func:`~editcheck.engine.workers.encode_result` for ``unmasked``, the same ``bytes`` and
      ``str`` objects the unique read keeps, nothing copied) and the masked reference positions
      (``substituted``) on ``reference`` (the aligned reference's sequence, shared by all), decoded by
      :func:`~editcheck.classification.quality.masked_substitutions`: the function that made the masked
      result in the first place (:func:`~editcheck.classification.quality.masked_call`), given the same
      arguments, so it gives the same result.
    - Any other mask: ``encoded`` is the masked result encoded for the masked sequence (``substituted`` empty)."""

    mask: tuple[int, ...]
    encoded: bytes
    unmasked: str = ""
    substituted: tuple[int, ...] = ()
    reference: str = ""


def decoded_result(key: str, kept: PooledCall | bytes | MaskedResult) -> PooledCall:
    """A kept result of the unique read ``key`` (or of ``key`` masked, for a :class:`MaskedResult`), decoded."""
    if type(kept) is bytes:
        return cast(PooledCall, decode_result(key, kept))
    if type(kept) is MaskedResult:
        if kept.substituted:
            return _substituted_result(kept)
        return cast(PooledCall, decode_result(masked_sequence(key, kept.mask), kept.encoded))
    return cast(PooledCall, kept)


def _substituted_result(kept: MaskedResult, unmasked: PooledCall | None = None) -> PooledCall:
    """A :class:`MaskedResult` of the usual mask decoded: its unique read's result, decoded (or ``unmasked``, that
    result decoded already), with :func:`~editcheck.classification.quality.masked_substitutions` applied."""
    _, encoded, sequence, positions, reference = kept
    status, amplicon, aligned, call = (
        cast(PooledCall, decode_result(sequence, encoded)) if unmasked is None else unmasked
    )  # fmt: skip
    assert aligned is not None and call is not None
    result: PooledCall = _new(
        PooledCall, (status, amplicon, *masked_substitutions(aligned, call, positions, reference))
    )
    return result


class ResultDecoder:
    """Decodes kept results in :meth:`ExpandedReads.entries` order (a unique read, then its masked reads): a masked
    read of the usual mask takes its unique read's result as decoded for it (the same ``bytes`` object: the tally
    decodes each unique read's result once, not again for each of its masked reads; a unique read only
    :meth:`noted`, one whose reads are all masked, is decoded when its first masked read needs it).  The decoded
    objects are shared, never changed (named tuples)."""

    def __init__(self) -> None:
        self._key = ""
        self._encoded: bytes | None = None
        self._decoded: PooledCall | None = None

    def __call__(self, key: str, kept: bytes | MaskedResult) -> PooledCall:
        if type(kept) is bytes:
            decoded = cast(PooledCall, decode_result(key, kept))
            self._key, self._encoded, self._decoded = key, kept, decoded
            return decoded
        masked = cast(MaskedResult, kept)
        if masked.substituted:
            if masked.encoded is self._encoded:
                unmasked = self._decoded
                if unmasked is None:
                    unmasked = self._decoded = cast(PooledCall, decode_result(self._key, masked.encoded))
                return _substituted_result(masked, unmasked)
            return _substituted_result(masked)
        return decoded_result(key, masked)

    def noted(self, key: str, encoded: bytes) -> None:
        """The unique read ``key`` with its result ``encoded`` comes next, not decoded unless a masked read needs it."""
        self._key, self._encoded, self._decoded = key, encoded, None


def exact_result(result: PooledCall, aligned: AlignedRead, call: ReadCall) -> bytes:
    """``result``'s unique read masked: its status and amplicon with the masked ``aligned`` and ``call``, as one
    canonical ``bytes`` that :func:`~editcheck.engine.workers.decode_result` decodes (for any sequence: the
    projection is kept whole).  Marshal format 0 writes neither references nor interned strings, whose flags
    depend on how objects are shared rather than on their values, and floats as text: equal masked results
    give equal bytes and equal bytes decode to equal results, so the bytes themselves are the key on which
    :meth:`QualityMasking.expand` merges masked reads alike once masked."""
    return marshal.dumps((result.status.value, result.amplicon, tuple(aligned), tuple(call)), 0)


def masked_key(result: PooledCall, aligned: AlignedRead, call: ReadCall) -> int:
    """The key on which :meth:`QualityMasking.expand` merges masked reads alike once masked: the hash of the
    masked result's value (``result``'s status and amplicon, the masked ``aligned`` and ``call``), however it
    was made.  Equal masked results give equal keys, in the main process as in the worker processes (forked
    from it: :func:`~editcheck.engine.workers.UniqueReadAligner` starts them with ``fork``, so they share its
    hash secret); unequal ones seldom do, and ``expand`` compares the results themselves when keys meet, so
    masked reads are merged exactly when their results are equal.  The compiled kernels hash the same values
    without this function (``_compiled._masked_key``): :func:`~editcheck.alignment._compiled.masked_reads_of` for
    the usual mask, as plain tuples (a named tuple's hash is its plain tuple's), and
    :class:`~editcheck.alignment._compiled.OtherMasks` for any other."""
    return hash((result.status.value, result.amplicon, aligned, call))


def _masked_made(
    classifier: Classifier, result: PooledCall, sites: Sequence[QualitySite], mask: tuple[int, ...],
    decisive: list[frozenset[int]], references: Sequence[Reference], sequence: str, keyed: bool = True,
    encoded: bool = True,
) -> tuple[Made, int | None]:  # fmt: skip
    """The masked read that is ``result``'s unique read (``sequence``) with N at ``mask`` (read positions among
    its ``sites``), as :data:`Made`, and its :func:`masked_key` (None without ``keyed``: not worked out): the one
    way the workers and the main process make it.  Without ``encoded``, a mask that is not the usual one gives
    its masked result itself, not encoded."""
    aligned, call = result.alignment, result.call
    assert aligned is not None and call is not None and result.amplicon is not None
    if len(mask) == 1:
        (only,) = mask
        masked_sites = [site for site in sites if site[0] == only]
    else:
        chosen = set(mask)
        masked_sites = [site for site in sites if site[0] in chosen]
    index = aligned.reference
    positions, masked_aligned, masked = masked_read(
        classifier, aligned, call, masked_sites, decisive[index], references[index]
    )
    key = masked_key(result, masked_aligned, masked) if keyed else None
    if positions is not None:  # the usual mask: kept as the unique read's result and the positions
        return positions, key
    made = _new(PooledCall, (result.status, result.amplicon, masked_aligned, masked))
    return (encode_result(masked_sequence(sequence, mask), made) if encoded else made), key


def _made_otherwise(
    context: tuple[Any, ...], sites: Sequence[QualitySite], mask: tuple[int, ...]
) -> tuple[Made, int | None]:
    """:func:`_masked_made` of a mask that is not the usual one, for the compiled
    :func:`~editcheck.alignment._compiled.masked_reads_of` (``context``: its other arguments)."""
    classifier, result, decisive, references, sequence, keyed, encoded = context
    return _masked_made(classifier, result, sites, mask, decisive, references, sequence, keyed, encoded)


_other_masks: Any = _made_otherwise
""":func:`_made_otherwise`, compiled where it is built (``alignment._compiled.OtherMasks``: equal results, no Python
frame per mask), as :class:`MaskingKernel` gives it to the compiled kernel."""
if IMPLEMENTATION == "compiled":
    _other_masks = OtherMasks(masked_alignment, PooledCall, masked_sequence)


def _sites_otherwise(context: tuple[Any, ...]) -> tuple[QualitySite, ...]:
    """The quality sites of a read the compiled :func:`~editcheck.alignment._compiled.masked_reads_of` does not
    find itself (an overhang clipped), by the reference (``context`` as for :func:`_made_otherwise`)."""
    _, result, decisive, _, sequence, _, _ = context
    aligned = result.alignment
    return quality_sites(sequence, aligned, decisive[aligned.reference])


class MaskingKernel:
    """What the compiled :func:`~editcheck.alignment._compiled.masked_reads_of` takes of the designs, made once, and
    the call itself (:meth:`__call__`): a called unique read's quality sites and masked reads, the sites found in
    C where that applies (else by :func:`_sites_otherwise`), the usual mask made there, any other by
    :func:`_made_otherwise` (compiled: :data:`_other_masks`), as :meth:`SitesWorker.masked` does.  The workers'
    :class:`SitesWorker` calls it for the reads sent with a unique read, :class:`QualityMasking` for those the main
    process counted later."""

    def __init__(
        self, designs: Sequence[AmpliconDesign], classifiers: Sequence[Classifier],
        decisive: Sequence[list[frozenset[int]]], keyed: bool,
    ) -> None:  # fmt: skip
        self.classifiers = classifiers
        self.decisive = decisive
        self.references = [design.references for design in designs]
        self.keyed = keyed
        """Work out the usual masks' keys (:func:`masked_key`), else None."""
        self.shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        """One tuple per position for one-position masks and masked positions."""
        self.flags = [
            [bytes(position in decisive for position in range(len(reference.sequence))) for decisive, reference in
             zip(by_reference, design.references)]
            for by_reference, design in zip(decisive, designs)
        ]  # fmt: skip
        """Per amplicon and reference, one byte per reference position: 1 where the base is decisive."""
        self.blocked = [
            [bytes(bool(inside) or position in decisive for position, inside in enumerate(reference.window))
             for decisive, reference in zip(by_reference, design.references)]
            for by_reference, design in zip(decisive, designs)
        ]  # fmt: skip
        """Per amplicon and reference, one byte per reference position: 1 inside the window or decisive (a masked
        substitution there is not the usual mask)."""
        self._substitutable = [design.prime_edit is None for design in designs]
        self._by_reference = [
            [
                (flags, blocked, reference.sequence)
                for flags, blocked, reference in zip(*by_reference, design.references)
            ]
            for *by_reference, design in zip(self.flags, self.blocked, designs)
        ]
        """Per amplicon and reference, what the kernel takes of it: its decisive and blocked bytes, its sequence."""

    def runner_parts(self, amplicon: int) -> RunnerParts:
        """What :meth:`__call__` gives the kernel for a read of ``amplicon``, for the compiled chunk runner
        (:func:`~editcheck.engine.workers.chunk_runner`)."""
        return RunnerParts(
            by_reference=self._by_reference[amplicon], substitutable=self._substitutable[amplicon],
            shared=self.shared, find_sites=_sites_otherwise, fallback=_other_masks,
            classifier=self.classifiers[amplicon], decisive=self.decisive[amplicon],
            references=self.references[amplicon], keyed=self.keyed,
        )  # fmt: skip

    def __call__(
        self, sequence: str, result: PooledCall, lows: Lows, encoded: bool = True
    ) -> tuple[tuple[int, ...], MaskedCalls]:
        """The site read positions of the called unique read ``sequence`` (its ``result``) and the masked reads of
        ``lows`` (``(low positions, reads)`` each), as :meth:`SitesWorker.masked` gives them (without
        ``encoded``, a mask that is not the usual one made as its masked result itself: :func:`_masked_made`)."""
        status, amplicon, aligned, call = result
        assert aligned is not None and amplicon is not None and call is not None
        flags, blocked, reference = self._by_reference[amplicon][aligned[0]]
        keyed = self.keyed
        return masked_reads_of(
            len(sequence), aligned, call, lows, flags, _EVENTS, blocked, reference, STATUS_VALUES[status], amplicon,
            self._substitutable[amplicon], self.shared, _sites_otherwise, _other_masks,
            (self.classifiers[amplicon], result, self.decisive[amplicon], self.references[amplicon], sequence, keyed,
             encoded),
            keyed,
        )  # fmt: skip


class SitesWorker:
    """A :class:`~editcheck.engine.workers.PoolWorker` whose results carry the unique read's quality sites
    (:func:`~editcheck.classification.quality.quality_sites`, found in the worker processes) and the calls of
    the masked reads it is given: ``(encoded result, site positions, masked calls)``, the result by
    :func:`~editcheck.engine.workers.encode_result`, the sites' read positions as a tuple, the masked calls as :meth:`masked` gives them.  The
    sites themselves stay in the worker: the main process finds them again for the few sequences whose reads
    it masks itself (those counted after the sequence was sent).  Without ``keyed`` the masked reads' keys are
    None (:data:`MaskedCalls`: a run that merges no masked reads alike does not need them)."""

    def __init__(self, designs: Sequence[AmpliconDesign], settings: AnalysisSettings, keyed: bool = True) -> None:
        self.keyed = keyed
        self.worker = PoolWorker(designs, settings)
        self.classifiers = [worker.classifier for worker in self.worker.workers]
        self.decisive = decisive_positions(self.classifiers)
        self.references = [design.references for design in designs]
        self.kernel = MaskingKernel(designs, self.classifiers, self.decisive, keyed)
        """The compiled kernel's arguments and call (:func:`~editcheck.alignment._compiled.masked_reads_of`)."""
        self._shared = self.kernel.shared
        """One tuple per position for one-position masks and masked positions: shared within a chunk's results,
        they also travel once per chunk (pickle's memo) and arrive shared."""
        self.compiled = IMPLEMENTATION == "compiled"
        """Run the compiled kernel (:attr:`kernel`), else the pure-Python reference
        (:func:`~editcheck.classification.quality.quality_sites`, :meth:`masked`): identical results."""
        self.runner = chunk_runner(self.worker, self.kernel) if self.compiled else None
        """The compiled pass over a chunk (:func:`~editcheck.engine.workers.chunk_runner`; one design), else None:
        :meth:`_compiled_call`, read by read."""

    def __call__(self, sequences: Sequence[str], sent: SentLows) -> list[tuple[bytes, tuple[int, ...], MaskedCalls]]:
        """The results of a chunk of unique reads, ``sent`` giving some reads of each by their low-quality read
        positions (:meth:`~editcheck.reads.collapse.QualityMasks.take_chunk`; once merged, as
        :meth:`~editcheck.reads.collapse.QualityMasks.take_pending` gives them).  With the compiled kernels, in
        one pass: the chunk in one compiled call (:attr:`runner`, one design), else read by read
        (:meth:`_compiled_call`); the pure-Python reference in two, every read aligned and classified
        first, then masked: its masking code runs warm (9 instead of 17 us per masked read, interleaved with the
        aligner), while the compiled kernels gain nothing from it and the results held between the passes cost
        the garbage collector (~4 us per unique read)."""
        lows: Sequence[Lows] = chunk_lows(*sent)
        if len(lows) != len(sequences):
            raise ValueError(f"reads in flight for {len(lows)} of a chunk's {len(sequences)} unique reads")
        if self.runner is not None:
            return cast(list[tuple[bytes, tuple[int, ...], MaskedCalls]], self.runner(list(sequences), lows))
        if self.compiled:
            return self._compiled_call(sequences, lows)
        found = []
        for sequence in sequences:
            result = self.worker(sequence)
            aligned = result.alignment
            sites: tuple[QualitySite, ...] = ()
            if aligned is not None and result.amplicon is not None and result.call is not None:
                sites = quality_sites(sequence, aligned, self.decisive[result.amplicon][aligned.reference])
            found.append((result, sites))
        results: list[tuple[bytes, tuple[int, ...], MaskedCalls]] = []
        for sequence, (result, sites), low in zip(sequences, found, lows):
            if not sites:
                results.append((encode_result(sequence, result), (), ()))
                continue
            positions = tuple([site[0] for site in sites])
            masked = self.masked(result, sites, positions, low, sequence) if low else ()
            results.append((encode_result(sequence, result), positions, masked))
        return results

    def _compiled_call(
        self, sequences: Sequence[str], lows: Sequence[Lows]
    ) -> list[tuple[bytes, tuple[int, ...], MaskedCalls]]:
        """:meth:`__call__` with the compiled kernel (:attr:`kernel`), read by read."""
        worker, kernel = self.worker, self.kernel
        results: list[tuple[bytes, tuple[int, ...], MaskedCalls]] = []
        for sequence, low in zip(sequences, lows):
            result = worker(sequence)
            if result.alignment is None or result.amplicon is None or result.call is None:
                results.append((encode_result(sequence, result), (), ()))
                continue
            positions, masked = kernel(sequence, result, low)
            results.append((encode_result(sequence, result), positions, masked))
        return results

    def masked(
        self,
        result: PooledCall,
        sites: Sequence[QualitySite],
        positions: tuple[int, ...],
        lows: Lows,
        sequence: str,
    ) -> MaskedCalls:
        """The reads of ``lows`` that mask some of the unique read's ``sites`` (at read ``positions``): each
        distinct mask (the low positions among the sites, as :meth:`QualityMasks.settle` projects them) with its
        reads, its masked alignment and call, as :class:`QualityMasking` would call it."""
        assert result.alignment is not None and result.amplicon is not None and result.call is not None
        amplicon, reference = result.amplicon, result.alignment.reference
        done: list[Any] = []
        relevant = set(positions)
        shared = self._shared
        for low, reads in lows:
            mask = tuple([p for p in low if p in relevant])
            if not mask:
                continue
            for k in range(0, len(done), RECORD):
                if done[k] == mask:
                    done[k + 1] += reads
                    break
            else:
                made, key = _masked_made(
                    self.classifiers[amplicon], result, sites, mask, self.decisive[amplicon],
                    self.references[amplicon], sequence, self.keyed,
                )  # fmt: skip
                if len(mask) == 1:
                    mask = shared.setdefault(mask, mask)
                if type(made) is tuple and len(made) == 1:
                    made = shared.setdefault(made, made)
                done += (mask, reads, key, made, amplicon, reference)
        return tuple(done)


class ExpandedReads:
    """The unique and masked reads :meth:`QualityMasking.expand` gives, column by column (no object per read):
    each read's key, its reads, its kept result (encoded bytes or :class:`MaskedResult`) and its reads as
    collapsed (None for a masked read)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.reads: list[int] = []
        self.results: list[bytes | MaskedResult] = []
        self.collapsed: list[int | None] = []

    def append(self, key: str, reads: int, result: bytes | MaskedResult, collapsed: int | None) -> None:
        self.keys.append(key)
        self.reads.append(reads)
        self.results.append(result)
        self.collapsed.append(collapsed)

    def __len__(self) -> int:
        return len(self.keys)

    def decoded(self, position: int) -> PooledCall:
        return decoded_result(self.keys[position], self.results[position])

    def calls(self, consume: bool = False) -> Iterator[CalledRead]:
        """Every read with reads and a call, as the tally takes it, decoded as it comes (a :class:`ResultDecoder`);
        ``consume``: each freed once read.  A unique read whose reads are all masked is decoded only when a masked
        read of its needs it (the usual mask)."""
        keys, counts, results = self.keys, self.reads, self.results
        decoded = ResultDecoder()
        note = decoded.noted
        for position, count in enumerate(counts):
            key, kept = keys[position], results[position]
            if consume:
                keys[position] = ""
                results[position] = b""
            if not count:
                if type(kept) is bytes:
                    note(key, kept)
                continue
            _, _, aligned, call = decoded(key, kept)
            if call is not None:
                yield _new(CalledRead, (key, count, aligned, call))

    def entries(self, consume: bool = False) -> Iterator[tuple[UniqueRead, bytes | MaskedResult, int | None]]:
        """Every read as ``(unique read, kept result, reads as collapsed)``; ``consume``: each freed once read."""
        keys, results = self.keys, self.results
        for position, (key, reads, result, collapsed) in enumerate(zip(keys, self.reads, results, self.collapsed)):
            if consume:
                keys[position] = ""
                results[position] = b""
            yield _new(UniqueRead, (key, reads)), result, collapsed


class QualityMasking:
    """Base qualities of reads and merged pairs judged after collapsing (:class:`~editcheck.reads.collapse.QualityMasks`,
    :mod:`editcheck.classification.quality`): each unique sequence's quality sites are settled as its result
    comes back, and each (sequence, non-empty mask) becomes a read of its own: the sequence with N at the
    masked positions, its alignment masked there and called again from its events (not aligned again)."""

    def __init__(
        self, designs: Sequence[AmpliconDesign], settings: AnalysisSettings, keep_entries: bool, keep_keys: bool,
        merge_alike: bool = True,
    ) -> None:  # fmt: skip
        self.masks = QualityMasks(settings.quality.min_base_quality)
        self.merge_alike = merge_alike
        """:meth:`expand` merges masked reads alike once masked into one.  Only what keeps a read by read (kept
        calls, BAM records) needs it: the tally of every count (outcomes, alleles, position profiles, indel
        sizes) adds reads up, so two alike reads tallied apart count as one read of both, and the engine's
        plain run leaves it off (no masked result decoded and compared while expanding)."""
        self.keep_entries = keep_entries
        """Keep each masked read's call for the per-read output (:meth:`entry_calls`)."""
        self.keep_keys = keep_keys
        """Key a masked read by its own sequence (N at its mask; kept calls, BAM), else by the unique read's."""
        self.classifiers = [Classifier(design, settings.classification) for design in designs]
        self.decisive = decisive_positions(self.classifiers)
        self.references = [design.references for design in designs]
        self.sequences = [[reference.sequence for reference in design.references] for design in designs]
        self._calls: dict[tuple[int, tuple[int, ...]], ReadCall] = {}
        self._masked: list[MaskedCalls | None] = []
        """The masked reads the workers counted and called, by unique read, kept from :meth:`settle` for
        :meth:`expand` (the main process counts the others in ``masks.masks``)."""
        self._shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        """One tuple per position for one-position masks and masked positions (most masked reads), kept."""
        self._kernel = (
            MaskingKernel(designs, self.classifiers, self.decisive, merge_alike)
            if IMPLEMENTATION == "compiled"
            else None
        )
        """The compiled kernel, for the masked reads counted here (:meth:`_expansion`); None: the reference."""

    def settle(self, index: int, sequence: str, result: tuple[Any, tuple[int, ...], MaskedCalls]) -> None:
        """A :class:`SitesWorker` result is back: the unique read's sites are known."""
        _, positions, masked = result
        if masked:
            stored = self._masked
            if len(stored) <= index:
                stored.extend([None] * (index + 1 - len(stored)))
            stored[index] = masked
        self.masks.settle(index, positions)

    def settle_chunk(
        self, start: int, sequences: Sequence[str], results: Sequence[tuple[Any, tuple[int, ...], MaskedCalls]]
    ) -> None:
        """:meth:`settle` for a chunk of results, ``start`` the first one's index (one call per chunk)."""
        stored = self._masked
        stop = start + len(results)
        if len(stored) < stop:
            stored.extend([None] * (stop - len(stored)))
        stored[start:stop] = [masked or None for _, _, masked in results]  # None: no masked read
        self.masks.settle_from(start, [positions for _, positions, _ in results])

    def _expansions(
        self, unique: Iterable[tuple[UniqueRead, bytes, int | None]], start: int = 0, encode_masks: bool = True
    ) -> Iterator[tuple[int, UniqueRead, bytes, int | None, int, Sequence[tuple[Any, ...]], PooledCall | None]]:
        """Each unique read ``(index, read, encoded, collapsed, left, masks, result)`` (``unique`` starts at index
        ``start``): ``left`` its reads not masked, ``masks`` its masked reads in mask order, ``(mask, reads, key,
        made, amplicon, reference)`` each (:data:`MaskedCalls`' fields; those the main process counted are called
        here; without ``encode_masks``, those that are not the usual mask made as their masked results themselves:
        :func:`_masked_made`), ``result`` its result if decoded for them (else None)."""
        by_index = self._counted_by_index()
        workers = self._masked
        called = len(workers)
        for index, (read, encoded, collapsed) in enumerate(unique, start):
            done = workers[index] if index < called else None
            counted = by_index.pop(index, None) if by_index else None
            if done is not None:
                workers[index] = None
            yield index, read, encoded, collapsed, *self._expansion(read, encoded, done, counted, encode_masks)

    def _counted_by_index(self) -> dict[int, list[tuple[tuple[int, ...], int]]]:
        """The masked reads the main process counted (``masks.masks``, then emptied), by unique read: ``(mask,
        reads)`` each."""
        by_index: dict[int, list[tuple[tuple[int, ...], int]]] = {}
        for (index, mask), reads in self.masks.masks.items():
            listed = by_index.get(index)
            if listed is None:
                by_index[index] = [(mask, reads)]
            else:
                listed.append((mask, reads))
        self.masks.masks.clear()
        return by_index

    def _expansion(
        self, read: UniqueRead, encoded: bytes, done: MaskedCalls | None,
        counted: list[tuple[tuple[int, ...], int]] | None, encode_masks: bool = True,
    ) -> tuple[int, Sequence[tuple[Any, ...]], PooledCall | None]:  # fmt: skip
        """:meth:`_expansions`' ``(left, masks, result)`` of one unique read, given the masked reads its worker
        called (``done``) and those the main process counted (``counted``), either None (``encode_masks`` as
        there)."""
        if counted is None:
            if done is None:  # no masked read: most sequences of a run without low-quality bases
                return read.reads, (), None
            if len(done) == RECORD:  # the rule: the worker's one mask
                return read.reads - done[1], (done,), None
            # in mask order (the masks differ: nothing else is compared)
            todo = sorted([done[k : k + RECORD] for k in range(0, len(done), RECORD)])
            return read.reads - sum([entry[1] for entry in todo]), todo, None
        # masks the main process counted (reads counted after the sequence was sent), with the worker's
        if done is not None and len(done) == RECORD and len(counted) == 1 and counted[0][0] == done[0]:
            # the usual case: later reads with the mask of the worker's one masked read (the same error)
            together = (done[0], done[1] + counted[0][1], *done[2:])
            return read.reads - together[1], (together,), None
        sequence = read.key
        kernel = self._kernel
        result: PooledCall | None = None
        made_by = {done[k]: done[k : k + RECORD] for k in range(0, len(done), RECORD)} if done else {}
        merged = {mask: made[1] for mask, made in made_by.items()}
        for mask, reads in counted:
            merged[mask] = merged.get(mask, 0) + reads
        if kernel is not None:  # the masks counted here (not the worker's), called at once by the compiled kernel
            result = cast(PooledCall, decode_result(sequence, encoded))
            to_call = [(mask, reads) for mask, reads in counted if mask not in made_by] if made_by else counted
            _, called = kernel(sequence, result, to_call, encode_masks)
            if not made_by and len(called) == RECORD and len(counted) == 1 and called[0] == counted[0][0]:
                return read.reads - counted[0][1], (called,), result  # one mask (nearly every masked merged read)
            for k in range(0, len(called), RECORD):
                made_by[called[k]] = called[k : k + RECORD]
        sites: tuple[QualitySite, ...] | None = None
        listed: list[tuple[Any, ...]] = []
        for mask, reads in sorted(merged.items()):
            if mask in made_by:
                listed.append((mask, reads, *made_by[mask][2:]))
                continue
            # counted by the main process: called here (by the reference)
            if result is None:
                result = cast(PooledCall, decode_result(sequence, encoded))
            assert result.amplicon is not None and result.alignment is not None
            amplicon, reference = result.amplicon, result.alignment.reference
            if sites is None:  # found again: the worker kept them
                sites = quality_sites(sequence, result.alignment, self.decisive[amplicon][reference])
            made, key = _masked_made(
                self.classifiers[amplicon], result, sites, mask, self.decisive[amplicon],
                self.references[amplicon], sequence, self.merge_alike, encode_masks,
            )  # fmt: skip
            listed.append((mask, reads, key, made, amplicon, reference))
        return read.reads - sum(merged.values()), listed, result

    def calls(self, unique: Iterable[tuple[UniqueRead, bytes, int | None]], start: int = 0) -> Iterator[CalledRead]:
        """:meth:`python_calls`, compiled where it is built
        (:func:`~editcheck.alignment._compiled.masked_tally_calls`: the same calls; it asks :meth:`_expansion` only
        for a unique read with masks the main process counted, or with more than one the worker called)."""
        if IMPLEMENTATION != "compiled":
            return self.python_calls(unique, start)
        return cast(
            Iterator[CalledRead],
            masked_tally_calls(
                unique, start, self._counted_by_index, self._masked, self._expansion, decode_result,
                masked_substitutions, masked_sequence, self.sequences, CalledRead, PooledCall,
            ),
        )  # fmt: skip

    def python_calls(
        self, unique: Iterable[tuple[UniqueRead, bytes, int | None]], start: int = 0
    ) -> Iterator[CalledRead]:
        """What :meth:`expand` without :attr:`merge_alike` and :meth:`ExpandedReads.calls` give, in one pass with
        nothing kept: each unique read (with its unmasked reads) and masked read that has reads and a call, as
        the tally takes it, decoded as it comes (a masked read of the usual mask from its unique read's result,
        decoded once for all of them).  Keyed by the unique read's sequence (as without :attr:`keep_keys`).
        ``unique`` may be a span of the unique reads, the first at index ``start``.  The masks called here that
        are not the usual one are made as their masked results (:func:`_masked_made` without ``encoded``), not
        encoded to be decoded at once."""
        sequences = self.sequences
        for _, (sequence, _), encoded, _, left, todo, result in self._expansions(unique, start, encode_masks=False):
            if left or (todo and result is None):
                if result is None:
                    result = cast(PooledCall, decode_result(sequence, encoded))
                if left and result.call is not None:
                    yield _new(CalledRead, (sequence, left, result.alignment, result.call))
            for mask, reads, _, made, amplicon, reference in todo:
                if type(made) is bytes:  # called by a worker
                    _, _, aligned, call = cast(PooledCall, decode_result(masked_sequence(sequence, mask), made))
                elif type(made) is PooledCall:  # called here
                    _, _, aligned, call = made
                else:  # the usual mask: the unique read's result with the masked substitutions
                    assert result is not None and result.alignment is not None and result.call is not None
                    aligned, call = masked_substitutions(
                        result.alignment, result.call, made, sequences[amplicon][reference]
                    )  # fmt: skip
                if call is not None:
                    yield _new(CalledRead, (sequence, reads, aligned, call))

    def expand(self, unique: Iterable[tuple[UniqueRead, bytes, int | None]]) -> ExpandedReads:
        """Each unique read, with the reads of its non-empty masks taken out, followed by one masked read per
        mask (in mask order); masked reads of different sequences that are alike once masked (e.g. two
        sequencing errors at one position) are one masked read, where its first one would be (with
        :attr:`merge_alike`).  A unique
        read's result stays as encoded (:func:`~editcheck.engine.workers.encode_result`), decoded only for
        the masks the main process calls; a masked read's is a :class:`MaskedResult` (decoded by
        :func:`decoded_result`), no alignment or call object per masked read, and for the usual mask no bytes
        of its own.  Masked reads are merged on their :func:`masked_key`, their results decoded and compared
        when keys meet (two unequal results with one key are never merged)."""
        expanded = ExpandedReads()
        keys, counts, results, collapsed_counts = expanded.keys, expanded.reads, expanded.results, expanded.collapsed
        single = self._shared
        first: dict[int | tuple[str, int], int] = {}
        collided: dict[tuple[str | None, bytes], int] = {}
        compared: dict[int, PooledCall] = {}  # the first masked reads met again, decoded (most are met often)
        keep_keys, keep_entries, sequences = self.keep_keys, self.keep_entries, self.sequences
        merge_alike = self.merge_alike
        for index, read, encoded, collapsed, left, todo, result in self._expansions(unique):
            sequence = read.key
            keys.append(sequence)
            counts.append(left)
            results.append(encoded)
            collapsed_counts.append(collapsed)
            for mask, reads, key, made, amplicon, reference in todo:
                if len(mask) == 1:  # one tuple per masked position, not per masked read
                    mask = single.setdefault(mask, mask)
                kept: MaskedResult
                if type(made) is bytes:
                    kept = _new(MaskedResult, (mask, made, "", (), ""))
                else:  # the usual mask: the unique read's own result, and the positions
                    if len(made) == 1:
                        made = single.setdefault(made, made)
                    kept = _new(MaskedResult, (mask, encoded, sequence, made, sequences[amplicon][reference]))
                if keep_entries:
                    masked_call_of = decoded_result(sequence, kept).call
                    assert masked_call_of is not None
                    self._calls[(index, mask)] = masked_call_of
                name = masked_sequence(sequence, mask) if keep_keys else sequence
                if not merge_alike:
                    keys.append(name)
                    counts.append(reads)
                    results.append(kept)
                    collapsed_counts.append(None)
                    continue
                same = (name, cast(int, key)) if keep_keys else cast(int, key)
                earlier = first.get(same)
                if earlier is None:
                    first[same] = len(keys)
                    keys.append(name)
                    counts.append(reads)
                    results.append(kept)
                    collapsed_counts.append(None)
                    continue
                if kept.substituted:  # the unique read's result decoded once for all its masked reads
                    if result is None:
                        result = cast(PooledCall, decode_result(sequence, encoded))
                    this = _substituted_result(kept, result)
                else:
                    this = decoded_result(name, kept)
                that = compared.get(earlier)
                if that is None:
                    if len(compared) >= COMPARED:
                        compared.clear()
                    that = compared[earlier] = decoded_result(keys[earlier], results[earlier])
                if that != this:  # keys alike, results not
                    exact = exact_result(this, cast(AlignedRead, this.alignment), cast(ReadCall, this.call))
                    alike = (name if keep_keys else None, exact)
                    earlier = collided.get(alike)
                    if earlier is None:
                        collided[alike] = len(keys)
                        expanded.append(name, reads, kept, None)  # rare: the hot branch above inlines it
                        continue
                counts[earlier] += reads  # another sequence that reads the same once masked: one read of both
        self._masked = []
        return expanded

    def entry_calls(self, unique_calls: Sequence[ReadCall]) -> list[ReadCall]:
        """The call of every per-read mask entry (:meth:`QualityMasks.entry`), after :meth:`expand`."""
        calls = []
        for k in range(self.masks.entries):
            index, mask = self.masks.entry(k)
            calls.append(self._calls[(index, mask)] if mask else unique_calls[index])
        return calls
