"""The outcome references derived from the amplicon: the HDR outcome (from a donor template placed by
its homology arms, or the full expected HDR amplicon) with its donor-specific changes, the intended
prime-edited amplicon built from pegRNA flaps, and the cut points and window carried over from the
amplicon to such a reference by alignment (with the read aligner's scoring, :mod:`editcheck.scoring`)."""

from __future__ import annotations

from collections.abc import Sequence

from pywfa import WavefrontAligner

from editcheck.design.model import HDR_KIND, DonorChange, GuideSite, PrimeEdit, Reference
from editcheck.design.parse import clean_sequence
from editcheck.errors import DesignError
from editcheck.scoring import wfa_aligner
from editcheck.sequences import CIGAR_DELETION, CIGAR_INSERTION, CIGAR_MATCH, CIGAR_MISMATCH, reverse_complement

MIN_DONOR_IDENTITY = 0.7


def _penalties(**free: int) -> WavefrontAligner:
    """A WFA aligner with the read aligner's penalties; free end lengths make it ends-free."""
    return wfa_aligner(None, "ends-free" if free else "end-to-end", "high", **free)


def place_donor(amplicon: str, donor: str) -> str:
    """The amplicon after perfect HDR: the donor replaces the stretch its homology arms align to.

    The donor may be given in either orientation; the one that aligns better is used.
    """
    best: tuple[int, str] | None = None
    for candidate in (donor, reverse_complement(donor)):
        aligner = _penalties(
            pattern_begin_free=len(amplicon), pattern_end_free=len(amplicon), text_begin_free=0, text_end_free=0
        )
        aligner.wavefront_align(candidate, amplicon)
        pattern_start, pattern_end, _, _ = aligner.locations
        matches = sum(length for code, length in aligner.cigartuples if code == CIGAR_MATCH)
        if matches < MIN_DONOR_IDENTITY * len(candidate):
            continue
        expected = amplicon[:pattern_start] + candidate + amplicon[pattern_end:]
        penalty = -aligner.score
        if best is None or penalty < best[0]:
            best = (penalty, expected)
    if best is None:
        raise DesignError(
            f"donor template ({len(donor)} bp) does not align to the amplicon on either strand "
            f"(needs at least {MIN_DONOR_IDENTITY:.0%} of its bases matching)"
        )
    return best[1]


def map_positions(source: str, target: str) -> list[int | None]:
    """For every position of ``source``, the aligned position in ``target`` (None if deleted).

    Bases of ``target`` beyond the ends of ``source`` are free end gaps, so they never map.
    """
    aligner = _penalties(
        pattern_begin_free=0, pattern_end_free=0, text_begin_free=len(target), text_end_free=len(target)
    )
    aligner.wavefront_align(target, source)
    mapping: list[int | None] = []
    target_position = 0
    for code, length in aligner.cigartuples:
        if code in (CIGAR_MATCH, CIGAR_MISMATCH):
            mapping.extend(range(target_position, target_position + length))
            target_position += length
        elif code == CIGAR_DELETION:
            mapping.extend([None] * length)
        else:
            target_position += length
    return mapping


def project_reference(
    reference: Reference, name: str, sequence: str, kind: str = HDR_KIND, notes: list[str] | None = None
) -> Reference:
    """A new reference whose cut points and window are carried over from ``reference`` by alignment.

    A window position deleted in the new sequence contributes the two bases that flank the
    deletion junction, so a window that falls inside a donor deletion still exists on the HDR
    reference. Bases of ``sequence`` beyond the amplicon's ends are trimmed, and the trimming is
    stated in ``notes``.
    """
    mapping = map_positions(reference.sequence, sequence)
    mapped = [target for target in mapping if target is not None]
    if not mapped:
        raise DesignError(f"the {name} sequence does not align to the amplicon")
    # Bases beyond the amplicon's ends lie outside the primers: trim them so that both references
    # span the same stretch of genome.
    trim_left, trim_right = mapped[0], mapped[-1] + 1
    if trim_left or trim_right < len(sequence):
        if notes is not None:
            ends = [
                f"{count} bp at the {end} end"
                for count, end in ((trim_left, "5'"), (len(sequence) - trim_right, "3'"))
                if count
            ]
            notes.append(
                f"the {name} sequence ({len(sequence)} bp) extends beyond the amplicon's ends: it was aligned to the "
                f"amplicon and {' and '.join(ends)} were trimmed, so both references span the same bases"
            )
        sequence = sequence[trim_left:trim_right]
        mapping = [None if target is None else target - trim_left for target in mapping]

    def nearest_left(position: int) -> int:
        while position >= 0:
            target = mapping[position]
            if target is not None:
                return target
            position -= 1
        return -1

    def nearest_right(position: int) -> int:
        while position < len(mapping):
            target = mapping[position]
            if target is not None:
                return target
            position += 1
        return len(sequence)

    inside = [False] * len(sequence)
    for position in reference.window_positions:
        target = mapping[position]
        if target is not None:
            inside[target] = True
        else:
            for flank in (nearest_left(position), nearest_right(position)):
                if 0 <= flank < len(sequence):
                    inside[flank] = True
    cut_points = tuple(sorted({max(0, nearest_left(cut)) for cut in reference.cut_points}))
    return Reference(name, sequence, cut_points, tuple(inside), kind)


MAX_END_OVERHANG = 50
"""Longest end overhang between the amplicon and an outcome sequence that is looked for."""


def amplicon_ends_missing(amplicon: str, other: str) -> tuple[int, int]:
    """Bases at the amplicon's 5' and 3' ends that ``other`` (an outcome sequence) does not reach,
    from an alignment where either sequence may overhang the other for free."""
    free_amplicon, free_other = min(len(amplicon) // 4, MAX_END_OVERHANG), min(len(other) // 4, MAX_END_OVERHANG)
    aligner = _penalties(
        pattern_begin_free=free_amplicon,
        pattern_end_free=free_amplicon,
        text_begin_free=free_other,
        text_end_free=free_other,
    )
    aligner.wavefront_align(other, amplicon)  # text, pattern
    amplicon_start, amplicon_end, other_start, other_end = aligner.locations
    missing_left = amplicon_start if other_start == 0 else 0
    missing_right = len(amplicon) - amplicon_end if other_end == len(other) else 0
    return missing_left, missing_right


def donor_changes(amplicon: str, hdr: str) -> tuple[DonorChange, ...]:
    """The donor-specific changes that turn the amplicon into the HDR outcome (same span, after trimming).

    Every mismatched base is one change; every run of inserted or deleted bases is one change, placed
    where the end-to-end alignment of the two sequences puts it.
    """
    aligner = _penalties()
    aligner.wavefront_align(hdr, amplicon)
    changes: list[DonorChange] = []
    a = h = 0
    for code, length in aligner.cigartuples:
        if code == CIGAR_MATCH:
            a, h = a + length, h + length
        elif code == CIGAR_MISMATCH:
            for offset in range(length):
                changes.append(DonorChange(a + offset, a + offset + 1, h + offset, h + offset + 1,
                                           amplicon[a + offset], hdr[h + offset]))  # fmt: skip
            a, h = a + length, h + length
        elif code == CIGAR_INSERTION:  # bases of the HDR outcome absent from the amplicon
            changes.append(DonorChange(a, a, h, h + length, "", hdr[h : h + length]))
            h += length
        else:
            changes.append(DonorChange(a, a + length, h, h, amplicon[a : a + length], ""))
            a += length
    return tuple(changes)


def hdr_reference(
    amplicon: Reference, donor: str | None, expected_hdr_amplicon: str | None, notes: list[str]
) -> tuple[Reference | None, tuple[DonorChange, ...]]:
    """The HDR outcome reference and its donor-specific changes; ``(None, ())`` without a donor.

    ``donor`` is a repair template placed into the amplicon by its homology arms;
    ``expected_hdr_amplicon`` is the full amplicon expected after perfect HDR. An outcome that stops
    short of the amplicon's ends gets the amplicon's own end bases; one that reaches beyond them is
    trimmed to them (both stated in ``notes``).
    """
    if donor is not None and expected_hdr_amplicon is not None:
        raise DesignError("give either a donor template or the expected HDR amplicon, not both")
    sequence = amplicon.sequence
    if donor is not None:
        expected_hdr_amplicon = place_donor(sequence, clean_sequence(donor, "donor"))
    if expected_hdr_amplicon is None:
        return None, ()
    hdr_sequence = clean_sequence(expected_hdr_amplicon, "expected HDR amplicon")
    missing_left, missing_right = amplicon_ends_missing(sequence, hdr_sequence)
    if missing_left or missing_right:
        ends = [f"{count} bp at the {end} end" for count, end in ((missing_left, "5'"), (missing_right, "3'")) if count]
        notes.append(
            f"the HDR sequence ({len(hdr_sequence)} bp) does not reach the amplicon's ends: the amplicon's own "
            f"{' and '.join(ends)} were added to it (a donor does not change the primers)"
        )
        hdr_sequence = sequence[:missing_left] + hdr_sequence + sequence[len(sequence) - missing_right :]
    if hdr_sequence == sequence:
        raise DesignError("the HDR outcome is identical to the amplicon; the donor makes no change")
    hdr = project_reference(amplicon, "HDR", hdr_sequence, HDR_KIND, notes)
    if hdr.sequence == sequence:
        raise DesignError(
            "the HDR outcome differs from the amplicon only beyond the amplicon's ends; the donor makes no change inside it"
        )
    return hdr, donor_changes(sequence, hdr.sequence)


def _place(amplicon: str, insert: str) -> tuple[int, int, int, int]:
    """Align ``insert`` fully inside ``amplicon`` (free amplicon ends): (penalty, start, end, matches).

    Scored as the field's reference tool places pegRNA flaps: match +5, mismatch -4, gap open -50,
    no extension cost, so the flap replaces an equal-length stretch unless its homology shows an
    insertion or deletion. A one-off alignment of a short flap: Biopython's exact DP is fast enough.
    """
    from Bio.Align import PairwiseAligner

    aligner = PairwiseAligner(mode="global", match_score=5, mismatch_score=-4)
    aligner.open_gap_score = -50
    aligner.extend_gap_score = 0
    try:  # the amplicon may extend beyond the flap at both ends for free (Biopython >= 1.85 name)
        aligner.end_deletion_score = 0
    except AttributeError:  # pragma: no cover - older Biopython
        aligner.query_end_gap_score = 0
    alignment = aligner.align(amplicon, insert)[0]
    target_blocks, query_blocks = alignment.aligned
    start, end = int(target_blocks[0][0]), int(target_blocks[-1][1])
    matches = sum(
        sum(1 for a, b in zip(amplicon[t0:t1], insert[q0:q1]) if a == b)
        for (t0, t1), (q0, q1) in zip(target_blocks, query_blocks)
    )
    return -int(alignment.score), start, end, matches


MIN_PBS = 6
"""Shortest primer-binding site accepted: the extension's 3' bases that must pair with the protospacer
ending at the nick."""
MIN_HOMOLOGY = 5
"""Bases at the 3' end of the RT template's copy that must match the amplicon after an insertion or deletion."""
MAX_RT_REPLACED = 200
"""Furthest a templated flap may reach past the nick on the amplicon (bases replaced by the edit)."""


def templated_allele(amplicon: str, nick: int, flap: str) -> tuple[int, int, str, str]:
    """The amplicon after one flap, on the spacer's strand: ``(pbs, replaced, new, note)``: the flap's
    first ``pbs`` bases pair with the protospacer ending at ``nick``, its remaining bases ``new`` (the RT
    template's copy) replace ``amplicon[nick : nick + replaced]``.

    The PBS is the longest flap prefix (at least ``MIN_PBS``) that matches the amplicon up to the nick.
    The copy's 3' end is homologous to the amplicon after the edit: the span replaced is the one whose
    end shares the longest suffix with the copy (at least ``MIN_HOMOLOGY`` bases; ties go to the
    smallest change in length), so substitutions, deletions and insertions of any size are placed.
    Without such homology the copy replaces as many bases as it has (substitutions), which ``note``
    states. Raises DesignError when the PBS does not pair at the nick.
    """
    longest = min(len(flap) - 1, nick)
    pbs = next(
        (length for length in range(longest, MIN_PBS - 1, -1) if flap[:length] == amplicon[nick - length : nick]), 0
    )
    if not pbs:
        raise DesignError(
            f"the extension's PBS (its 3' end, read as DNA of the nicked strand: {flap[:13]}) does not pair with "
            f"{MIN_PBS} or more protospacer bases ending at the nick ({amplicon[max(0, nick - 13) : nick]})"
        )
    new = flap[pbs:]
    after = amplicon[nick:]
    same_length = len(new)

    def shared_suffix(replaced: int) -> int:
        length = 0
        while length < min(len(new), replaced) and new[-1 - length] == after[replaced - 1 - length]:
            length += 1
        return length

    candidates = range(0, min(len(after), len(new) + MAX_RT_REPLACED) + 1)
    best = max(candidates, key=lambda replaced: (shared_suffix(replaced), -abs(replaced - same_length)))
    if shared_suffix(best) >= MIN_HOMOLOGY and shared_suffix(best) > shared_suffix(min(same_length, len(after))):
        return pbs, best, new, ""
    replaced = min(same_length, len(after))
    note = "" if shared_suffix(replaced) >= MIN_HOMOLOGY else (
        f"the RT template's copy ({new}) has no 3' homology to the amplicon after the nick: it replaces as many "
        "bases as it has"
    )  # fmt: skip
    return pbs, replaced, new, note


def build_prime_edit(
    amplicon: str, spacers: Sequence[GuideSite], extensions: Sequence[str], scaffold: str | None
) -> tuple[str, PrimeEdit]:
    """The intended prime-edited amplicon, built from each pegRNA's PBS match at its nick and its RT template.

    The 3' extension (RTT + PBS, 5'->3' on the pegRNA) is copied into DNA that continues the nicked
    strand, so on the spacer's strand the new sequence is the reverse complement of the extension:
    the PBS-bound protospacer stretch that ends at the nick, then the RT template's copy, whose 3'
    homology places the edit (a substitution, deletion or insertion of any size). The extension may
    also be given as DNA of the edited strand; the orientation whose PBS pairs at the nick is used,
    and a design where neither does is refused with the reason. Twin pegRNAs that each template the
    same allele give that allele; otherwise their flaps are applied one after the other.
    """
    alleles: list[tuple[str, tuple[int, int, str], str]] = []
    for index, (site, raw_extension) in enumerate(zip(spacers, extensions), 1):
        extension = clean_sequence(raw_extension, f"pegRNA {index} extension")
        reasons: list[str] = []
        built = None
        for label, flap in (
            ("as given (RNA 5'->3')", reverse_complement(extension)),
            ("reverse-complemented", extension),
        ):
            strand_amplicon = amplicon if site.strand == "+" else reverse_complement(amplicon)
            nick = site.cut_point + 1 if site.strand == "+" else len(amplicon) - site.cut_point - 1
            try:
                pbs, replaced, new, homology_note = templated_allele(strand_amplicon, nick, flap)
            except DesignError as error:
                reasons.append(f"{label}: {error}")
                continue
            allele = strand_amplicon[:nick] + new + strand_amplicon[nick + replaced :]
            start, end, forward = nick - pbs, nick + replaced, flap
            if site.strand == "-":
                allele = reverse_complement(allele)
                start, end, forward = len(amplicon) - end, len(amplicon) - start, reverse_complement(flap)
            note = f"pegRNA {index}: extension used {label}" + (
                " (its PBS pairs at the nick only that way)" if label.startswith("reverse") else "")  # fmt: skip
            if homology_note:
                note += f"; {homology_note}"
            built = (allele, (start, end, forward), note)
            break
        if built is None:
            raise DesignError(f"pegRNA {index} (spacer {site.sequence}): " + "; ".join(reasons))
        alleles.append(built)
    if len({allele for allele, _, _ in alleles}) == 1:
        edited = alleles[0][0]
        flaps = [flap for _, flap, _ in alleles]
    else:
        edited, flaps = _apply_flaps(amplicon, spacers, [flap for _, flap, _ in alleles])
    notes = [note for _, _, note in alleles]
    if edited == amplicon:
        raise DesignError("the pegRNA flaps make no change to the amplicon")
    scaffold_position = scaffold_sequence = None
    scaffold_strand = "+"
    if scaffold is not None:
        start, _, forward = flaps[0]
        scaffold_dna = reverse_complement(clean_sequence(scaffold, "pegRNA scaffold"))
        if spacers[0].strand == "+":
            scaffold_position, scaffold_sequence, scaffold_strand = start + len(forward), scaffold_dna, "+"
        else:
            scaffold_position, scaffold_sequence, scaffold_strand = start, reverse_complement(scaffold_dna), "-"
    return edited, PrimeEdit(tuple(flaps), tuple(notes), scaffold_position, scaffold_sequence, scaffold_strand)


def _apply_flaps(
    amplicon: str, spacers: Sequence[GuideSite], flaps: Sequence[tuple[int, int, str]]
) -> tuple[str, list[tuple[int, int, str]]]:
    """Flaps that template different alleles, applied one after the other, each placed by alignment to
    the sequence edited so far next to its nick."""
    edited = amplicon
    placed: list[tuple[int, int, str]] = []
    for index, (site, (_, _, forward)) in enumerate(zip(spacers, flaps), 1):
        _, start, end, _ = _place(edited, forward)
        nick_boundary = site.cut_point + 1
        if not (
            start <= nick_boundary <= end and _pbs_at_nick(edited, forward, start, end, nick_boundary, site.strand)
        ):
            raise DesignError(
                f"pegRNA {index}: its flap does not fit next to its nick once the other pegRNAs' edits are made"
            )
        edited = edited[:start] + forward + edited[end:]
        placed.append((start, end, forward))
    return edited, placed


def _pbs_at_nick(amplicon: str, flap: str, start: int, end: int, nick: int, strand: str, pbs: int = 8) -> bool:
    """The flap's PBS end matches the amplicon exactly next to the nick."""
    if strand == "+":
        return start < nick and flap[: min(pbs, nick - start)] == amplicon[start : min(start + pbs, nick)]
    return end > nick and flap[-min(pbs, end - nick) :] == amplicon[max(end - pbs, nick) : end]
