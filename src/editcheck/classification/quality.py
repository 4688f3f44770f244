"""Low-quality bases of one read, judged only where its call depends on them (pure functions, no alignment).

Reads are collapsed on their raw sequence and each unique sequence is aligned and classified once.  A base
below the quality threshold then matters only at the sequence's *quality sites*: the read positions where it
differs from its reference (a substitution, or an inserted base) and the reference positions whose base
decides the call whatever it reads (:meth:`~editcheck.classification.outcomes.Classifier.quality_positions`:
a base editor's editable bases, the donor's changes).  A read whose bases at some of those sites are below
the threshold is that sequence with N there: :func:`masked_alignment` turns the sequence's alignment into
that read's alignment (the base is N in its projection, and no substitution; an inserted base is N in the
insertion) and the classifier calls it again from those events, without aligning again.  Indels stay as
aligned; a low-quality base elsewhere, agreeing with the reference, counts as that base.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from editcheck.alignment.aligner import AlignedRead
from editcheck.alignment.hotpath import IMPLEMENTATION
from editcheck.classification.outcomes import Classifier, ReadCall
from editcheck.design import Reference
from editcheck.sequences import reverse_complement

__all__ = [
    "QualitySite", "masked_alignment", "masked_call", "masked_read", "masked_sequence", "masked_substitution_parts",
    "masked_substitutions", "python_masked_alignment", "quality_sites", "substitution_positions",
]  # fmt: skip

_EVENTS = ReadCall._fields.index("events")
_new: Any = tuple.__new__

QualitySite = tuple[int, int, int]
"""(read position, reference position, inserted-base index): the index is -1 for the base aligned at the
reference position, k for the k-th base inserted before it.  Read positions count on the read as given
(before any reverse complement), so they index its quality string."""


def quality_sites(sequence: str, aligned: AlignedRead, decisive: Collection[int] = ()) -> tuple[QualitySite, ...]:
    """The read positions of ``sequence`` whose quality can change its call, sorted by read position: every
    substitution, every inserted base and every ``decisive`` reference position the read covers with a base.

    The aligned bases are a run of the read's bases (overhang beyond the amplicon is clipped): a read with
    no overhang starts it at 0, another one where the run is first found; empty when it is not found
    (never for an alignment of this read)."""
    start, end = aligned.start, aligned.end
    insertions, deletions = aligned.insertions, aligned.deletions
    covered = end - start
    for _, bases in insertions:
        covered += len(bases)
    for _, length in deletions:
        covered -= length
    oriented_length = len(sequence)
    if covered == oriented_length:
        offset = 0
    else:
        offset = _aligned_offset(sequence, aligned)
        if offset < 0:
            return ()
    projection = aligned.projection
    positions = {position for position, _ in aligned.substitutions}
    for position in decisive:
        if start <= position < end and projection[position] not in "-.N":
            positions.add(position)
    sites: list[QualitySite]
    if not insertions and not deletions:  # most reads: read and reference run in step
        shift = offset - start
        if aligned.reverse:
            shift = oriented_length - 1 - shift
            sites = [(shift - position, position, -1) for position in positions]
        else:
            sites = [(position + shift, position, -1) for position in positions]
        sites.sort()
        return tuple(sites)
    # Each site's read position (on the aligned orientation): its reference position shifted by the inserted
    # bases before it (at or before it for an aligned base) and the deleted bases before it.
    sites = []
    for position in positions:
        shift = offset + position - start
        for at, bases in insertions:
            if start <= at <= position:
                shift += len(bases)
        for begin, length in deletions:
            if begin < position:
                shift -= min(length, position - begin)
        sites.append((shift, position, -1))
    for position, inserted in insertions:
        before = offset + position - start
        for at, bases in insertions:
            if start <= at < position:
                before += len(bases)
        for begin, length in deletions:
            if begin < position:
                before -= min(length, position - begin)
        sites.extend((before + k, position, k) for k in range(len(inserted)) if inserted[k] != "N")
    if aligned.reverse:
        sites = [(oriented_length - 1 - read, position, k) for read, position, k in sites]
    sites.sort()
    return tuple(sites)


def _aligned_offset(sequence: str, aligned: AlignedRead) -> int:
    """Where the aligned bases start in the read as aligned (-1 when they are not in it)."""
    inserted = dict(aligned.insertions)
    parts: list[str] = []
    projection = aligned.projection
    previous = aligned.start
    for position in sorted(inserted):
        if aligned.start <= position <= aligned.end:
            parts.append(projection[previous:position])
            parts.append(inserted[position])
            previous = position
    parts.append(projection[previous : aligned.end])
    bases = "".join(parts).replace("-", "")
    if aligned.reverse:
        sequence = reverse_complement(sequence)
    return sequence.find(bases)


def python_masked_alignment(aligned: AlignedRead, sites: Collection[QualitySite]) -> AlignedRead:
    """``aligned`` with N at ``sites`` (some of :func:`quality_sites`): no substitution there, N in the
    projection and in inserted bases; the covered span, indels and identity are the sequence's.  The reference
    implementation of :func:`masked_alignment` (compiled when built: 1.5 -> 0.5 us a mask of 2-4 sites)."""
    if len(sites) == 1:  # the usual mask: one aligned base
        ((_, position, k),) = sites
        if k < 0:
            reference, ambiguous, reverse, identity, start, end, projection, insertions, deletions, substitutions = (
                aligned
            )
            if substitutions:
                substitutions = tuple([substituted for substituted in substitutions if substituted[0] != position])
            one: AlignedRead = _new(AlignedRead, (
                reference, ambiguous, reverse, identity, start, end,
                f"{projection[:position]}N{projection[position + 1 :]}", insertions, deletions, substitutions,
            ))  # fmt: skip
            return one
    at_reference = set()
    in_insertions: dict[int, set[int]] = {}
    for _, position, k in sites:
        if k < 0:
            at_reference.add(position)
        else:
            in_insertions.setdefault(position, set()).add(k)
    reference, ambiguous, reverse, identity, start, end, projection, insertions, deletions, substitutions = aligned
    if at_reference:
        projection = masked_sequence(projection, at_reference)
    if in_insertions:
        insertions = tuple(
            (position, masked_sequence(bases, in_insertions[position])) if position in in_insertions
            else (position, bases)
            for position, bases in insertions
        )  # fmt: skip
    if substitutions and at_reference:
        substitutions = tuple((position, base) for position, base in substitutions if position not in at_reference)
    masked: AlignedRead = _new(AlignedRead, (
        reference, ambiguous, reverse, identity, start, end, projection, insertions, deletions, substitutions,
    ))  # fmt: skip
    return masked


def masked_sequence(sequence: str, read_positions: Collection[int]) -> str:
    """``sequence`` with N at ``read_positions`` (rebuilt from slices: the positions are few)."""
    if len(read_positions) == 1:  # the usual mask: one base
        (position,) = read_positions
        return f"{sequence[:position]}N{sequence[position + 1 :]}"
    parts = []
    previous = 0
    for position in sorted(read_positions):
        parts.append(sequence[previous:position])
        previous = position + 1
    parts.append(sequence[previous:])
    return "N".join(parts)


def masked_call(
    classifier: Classifier, aligned: AlignedRead, call: ReadCall, sites: Collection[QualitySite],
    decisive: Collection[int] = (), reference: Reference | None = None,
) -> tuple[AlignedRead, ReadCall]:  # fmt: skip
    """The alignment and call of a read that is the sequence of ``aligned`` and ``call`` with N at ``sites``
    (some of its :func:`quality_sites`): when every masked site is a substitution outside the window and not
    ``decisive`` (:func:`substitution_positions`), :func:`masked_substitutions` (only the substitutions and
    the call's events change: the classifier decides nothing else from such a base), else the classifier
    calls the masked alignment (:func:`masked_alignment`) again.  Equal to ``classifier.classify`` of it either way (tests/test_quality_masks.py).
    ``reference``: the alignment's reference, when the caller has it at hand."""
    if reference is None:
        reference = classifier.design.references[aligned.reference]
    _, masked, masked_read_call = masked_read(classifier, aligned, call, sites, decisive, reference)
    return masked, masked_read_call


def masked_read(
    classifier: Classifier, aligned: AlignedRead, call: ReadCall, sites: Collection[QualitySite],
    decisive: Collection[int], reference: Reference,
) -> tuple[tuple[int, ...] | None, AlignedRead, ReadCall]:  # fmt: skip
    """:func:`masked_call` with the way it went: the :func:`substitution_positions` of the usual mask (the
    engine keeps such a masked read as its sequence's result and these positions), else None."""
    positions = substitution_positions(classifier, call, sites, decisive, reference)
    if positions is not None:
        return (positions, *masked_substitutions(aligned, call, positions, reference.sequence))
    masked = masked_alignment(aligned, sites)
    return None, masked, classifier.classify(masked)


def substitution_positions(
    classifier: Classifier, call: ReadCall, sites: Collection[QualitySite], decisive: Collection[int],
    reference: Reference,
) -> tuple[int, ...] | None:  # fmt: skip
    """The reference positions of ``sites`` when masking them changes only the read's substitutions there (the
    usual mask: a sequencing error outside the window, at a base that decides nothing), else None: every site
    an aligned base (a substitution: a quality site that is neither inserted nor ``decisive``) outside the
    window, the call with events, and no prime edit (whose scaffold junction is read from the sequence
    itself).  :func:`masked_substitutions` then gives the masked read's alignment and call from the
    sequence's, without the classifier."""
    if not call.events or classifier.design.prime_edit is not None:
        return None
    window = reference.window
    if len(sites) == 1:  # the usual mask
        ((_, position, k),) = sites
        if k >= 0 or window[position] or position in decisive:
            return None
        return (position,)
    positions = []
    for _, position, k in sites:
        if k >= 0 or window[position] or position in decisive:
            return None
        positions.append(position)
    return tuple(positions)


def python_masked_substitutions(
    aligned: AlignedRead, call: ReadCall, positions: tuple[int, ...], reference: str
) -> tuple[AlignedRead, ReadCall]:
    """The alignment and call of the read that is ``aligned`` and ``call``'s with N at reference ``positions``
    (:func:`substitution_positions`, on ``reference``, the aligned reference's sequence): N in the
    projection, no substitution there and the call's events without theirs; nothing else changes (the
    classifier decides nothing else from a substitution outside the window).  A pure function of its
    arguments: the engine keeps a masked read as its sequence's result and ``positions`` and calls this
    again when the masked read is tallied (:class:`~editcheck.engine.masking.MaskedResult`).  The reference
    implementation of :func:`masked_substitutions` (compiled when built: 1.5 -> 1.0 us a masked read)."""
    reference_index, ambiguous, reverse, identity, start, end, projection, insertions, deletions, substitutions = (
        aligned
    )
    projection, substitutions, events = masked_substitution_parts(
        projection, substitutions, call.events, positions, reference
    )
    masked: AlignedRead = _new(AlignedRead, (
        reference_index, ambiguous, reverse, identity, start, end, projection, insertions, deletions, substitutions,
    ))  # fmt: skip
    return masked, _new(ReadCall, (*call[:_EVENTS], events, *call[_EVENTS + 1 :]))


def masked_substitution_parts(
    projection: str, substitutions: tuple[tuple[int, str], ...], events: str, positions: tuple[int, ...],
    reference: str,
) -> tuple[str, tuple[tuple[int, str], ...], str]:  # fmt: skip
    """What :func:`masked_substitutions` changes: ``(projection, substitutions, events)`` with N at reference
    ``positions`` of the projection, their substitutions left out and their labels
    (``{position + 1}{reference base}>{read base}``, as :func:`~editcheck.alignment.events.describe_events`
    writes them) left out of the ``;``-separated events.  The reference implementation of the compiled one
    (:mod:`editcheck.alignment._compiled`), which runs when it is built."""
    if len(positions) == 1:
        (position,) = positions
        label = f"{position + 1}{reference[position]}>{projection[position]}"
        events = ";".join([kept for kept in events.split(";") if kept != label])
        substitutions = tuple([substituted for substituted in substitutions if substituted[0] != position])
        return f"{projection[:position]}N{projection[position + 1 :]}", substitutions, events
    dropped = {f"{position + 1}{reference[position]}>{projection[position]}" for position in positions}
    events = ";".join([kept for kept in events.split(";") if kept not in dropped])
    substitutions = tuple([substituted for substituted in substitutions if substituted[0] not in positions])
    return masked_sequence(projection, positions), substitutions, events


masked_alignment: Callable[[AlignedRead, Collection[QualitySite]], AlignedRead] = python_masked_alignment
""":func:`python_masked_alignment`, compiled when built (``alignment._compiled.AlignmentMasker``)."""
python_masked_substitution_parts = masked_substitution_parts
"""The pure-Python reference of :func:`masked_substitution_parts` (the compiled one runs when it is built)."""
masked_substitutions: Callable[[AlignedRead, ReadCall, tuple[int, ...], str], tuple[AlignedRead, ReadCall]] = (
    python_masked_substitutions
)
""":func:`python_masked_substitutions`, compiled when built (``alignment._compiled.SubstitutionMasker``)."""
if IMPLEMENTATION == "compiled":
    from editcheck.alignment._compiled import AlignmentMasker, SubstitutionMasker, masked_substitution_parts

    masked_alignment = AlignmentMasker(
        AlignedRead, AlignedRead._fields.index("projection"), AlignedRead._fields.index("insertions"),
        AlignedRead._fields.index("substitutions"), python_masked_alignment,
    )  # fmt: skip

    masked_substitutions = SubstitutionMasker(
        AlignedRead, ReadCall, AlignedRead._fields.index("projection"), AlignedRead._fields.index("substitutions"),
        _EVENTS,
    )  # fmt: skip
