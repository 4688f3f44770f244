"""Base qualities of single-end reads judged after collapsing, for the engine (:mod:`editcheck.engine.run`).

Reads are collapsed on their raw sequence (:class:`~editcheck.reads.collapse.QualityMasks` counts each read's
low-quality positions); the worker processes find each unique read's quality sites (:class:`SitesWorker`), and
:class:`QualityMasking` turns every (unique read, non-empty mask) into a read of its own, called again from its
masked events (:mod:`editcheck.classification.quality`), without aligning again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from editcheck.classification.outcomes import Classifier, ReadCall
from editcheck.classification.quality import (
    masked_call,
    masked_sequence,
    pack_sites,
    quality_sites,
    site_positions,
    unpack_sites,
)  # fmt: skip
from editcheck.design import AmpliconDesign
from editcheck.engine.settings import AnalysisSettings
from editcheck.engine.workers import PooledCall, PoolWorker, decode_result, encode_result
from editcheck.reads.collapse import QualityMasks
from editcheck.reads.records import UniqueRead

__all__ = ["QualityMasking", "SitesWorker"]

_new: Any = tuple.__new__


def decisive_positions(classifiers: Sequence[Classifier]) -> list[list[frozenset[int]]]:
    """Per amplicon and reference: the positions whose base decides a call whatever it reads."""
    return [
        [classifier.quality_positions(reference) for reference in range(len(classifier.design.references))]
        for classifier in classifiers
    ]


class SitesWorker:
    """A :class:`~editcheck.engine.workers.PoolWorker` whose results carry the unique read's quality sites
    (:func:`~editcheck.classification.quality.quality_sites`, found in the worker processes): ``(encoded result,
    packed sites)``, the result by :func:`~editcheck.engine.workers.encode_result`, the sites by
    :func:`~editcheck.classification.quality.pack_sites`."""

    def __init__(self, designs: Sequence[AmpliconDesign], settings: AnalysisSettings) -> None:
        self.worker = PoolWorker(designs, settings)
        self.decisive = decisive_positions([worker.classifier for worker in self.worker.workers])

    def __call__(self, sequence: str) -> tuple[bytes, bytes]:
        result = self.worker(sequence)
        sites = b""
        aligned = result.alignment
        if aligned is not None and result.amplicon is not None and result.call is not None:
            sites = pack_sites(quality_sites(sequence, aligned, self.decisive[result.amplicon][aligned.reference]))
        return encode_result(sequence, result), sites


class QualityMasking:
    """Base qualities of single-end reads judged after collapsing (:class:`~editcheck.reads.collapse.QualityMasks`,
    :mod:`editcheck.classification.quality`): each unique sequence's quality sites are settled as its result
    comes back, and each (sequence, non-empty mask) becomes a read of its own: the sequence with N at the
    masked positions, its alignment masked there and called again from its events (not aligned again)."""

    def __init__(
        self, designs: Sequence[AmpliconDesign], settings: AnalysisSettings, keep_entries: bool, keep_keys: bool
    ) -> None:
        self.masks = QualityMasks(settings.quality.min_base_quality)
        self.keep_entries = keep_entries
        """Keep each masked read's call for the per-read output (:meth:`entry_calls`)."""
        self.keep_keys = keep_keys
        """Key a masked read by its own sequence (N at its mask; kept calls, BAM), else by the unique read's."""
        self.classifiers = [Classifier(design, settings.classification) for design in designs]
        self.decisive = decisive_positions(self.classifiers)
        self.references = [design.references for design in designs]
        self._calls: dict[tuple[int, tuple[int, ...]], ReadCall] = {}
        self._sites: dict[int, bytes] = {}
        """The sites of the unique reads that have some (packed), kept from :meth:`settle` for :meth:`expand`."""

    def settle(self, index: int, sequence: str, result: tuple[Any, bytes]) -> None:
        """A :class:`SitesWorker` result is back: the unique read's sites are known."""
        sites = result[1]
        if sites:
            self._sites[index] = sites
            self.masks.settle(index, site_positions(sites))
        else:
            self.masks.settle(index, ())

    def expand(
        self, unique: list[tuple[UniqueRead, bytes, int | None]]
    ) -> list[tuple[UniqueRead, PooledCall | bytes, int | None]]:
        """Each unique read, with the reads of its non-empty masks taken out, followed by one masked read per
        mask (in mask order); masked reads of different sequences that are alike once masked (e.g. two
        sequencing errors at one position) are one masked read, where its first one would be.  A unique
        read's result stays as encoded (:func:`~editcheck.engine.workers.encode_result`), decoded only for
        its masked reads."""
        expanded: list[tuple[UniqueRead, PooledCall | bytes, int | None]] = []
        by_index: dict[int, list[tuple[tuple[int, ...], int]]] = {}
        for (index, mask), reads in self.masks.masks.items():
            listed = by_index.get(index)
            if listed is None:
                by_index[index] = [(mask, reads)]
            else:
                listed.append((mask, reads))
        self.masks.masks.clear()
        first: dict[tuple[Any, ...], int] = {}
        for index, (read, encoded, collapsed) in enumerate(unique):
            masks = by_index.pop(index, None)
            if not masks:
                expanded.append((read, encoded, collapsed))
                continue
            if len(masks) > 1:
                masks.sort()  # in mask order (one mask per sequence is the rule)
            left = read.reads - (masks[0][1] if len(masks) == 1 else sum(reads for _, reads in masks))
            expanded.append((_new(UniqueRead, (read.key, left)), encoded, collapsed))
            result = cast(PooledCall, decode_result(read.key, encoded))
            sites = unpack_sites(self._sites.pop(index))
            assert result.alignment is not None and result.amplicon is not None and result.call is not None
            classifier = self.classifiers[result.amplicon]
            decisive = self.decisive[result.amplicon][result.alignment.reference]
            reference = self.references[result.amplicon][result.alignment.reference]
            for mask, reads in masks:
                if len(mask) == 1:
                    (only,) = mask
                    masked_sites = [site for site in sites if site[0] == only]
                else:
                    chosen = set(mask)
                    masked_sites = [site for site in sites if site[0] in chosen]
                aligned, call = masked_call(
                    classifier, result.alignment, result.call, masked_sites, decisive, reference
                )
                if self.keep_entries:
                    self._calls[(index, mask)] = call
                key = masked_sequence(read.key, mask) if self.keep_keys else read.key
                same = (result.amplicon, key if self.keep_keys else None, aligned, call)
                earlier = first.get(same)
                if earlier is not None:  # another sequence that reads the same once masked: one read of both
                    found, masked, _ = expanded[earlier]
                    expanded[earlier] = (_new(UniqueRead, (found.key, found.reads + reads)), masked, None)
                    continue
                first[same] = len(expanded)
                pooled = _new(PooledCall, (result.status, result.amplicon, aligned, call))
                expanded.append((_new(UniqueRead, (key, reads)), pooled, None))
        self._sites.clear()
        return expanded

    def entry_calls(self, unique_calls: Sequence[ReadCall]) -> list[ReadCall]:
        """The call of every per-read mask entry (:meth:`QualityMasks.entry`), after :meth:`expand`."""
        calls = []
        for k in range(self.masks.entries):
            index, mask = self.masks.entry(k)
            calls.append(self._calls[(index, mask)] if mask else unique_calls[index])
        return calls
