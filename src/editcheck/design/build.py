"""Building an :class:`~editcheck.design.model.AmpliconDesign` from what the user gave (a :class:`DesignSpec`):
one step per concern (amplicon, guide sites, window, base editor, prime edit, HDR outcome, exons), each
checking its part and stating what it did to the input in the design's notes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from editcheck.design.model import (
    DEFAULT_CUT_OFFSET,
    DEFAULT_EXCLUDE_ENDS,
    DEFAULT_WINDOW_FLANK,
    FLAP_JUNCTION_FLANK,
    PRIME_EDIT_KIND,
    AmpliconDesign,
    BaseEditor,
    GuideSite,
    PrimeEdit,
    Reference,
)
from editcheck.design.parse import clean_sequence, parse_window, without_pam
from editcheck.design.references import build_prime_edit, hdr_reference, project_reference
from editcheck.design.sites import exon_ranges, locate_guide, resolve_base_editor
from editcheck.errors import DesignError

MIN_AMPLICON_LENGTH = 20
"""Shortest amplicon accepted (bp)."""


@dataclass(frozen=True)
class DesignSpec:
    """What the user gave to describe the experiment, as given (sequences not yet cleaned or placed).

    ``donor`` is a repair template placed into the amplicon by its homology arms;
    ``expected_hdr_amplicon`` is the full amplicon expected after perfect HDR. ``pegrnas`` are
    (spacer, 3' extension = RTT + PBS) pairs, written 5'->3' as on the pegRNA. ``window`` and
    ``exons`` are 1-based inclusive ranges (``"90-96,120-125"``); ``target`` is 1-based on the
    amplicon, ``target_in_protospacer`` and ``editing_window`` 1-based in the protospacer.
    """

    amplicon: str
    guides: tuple[str, ...] = ()
    name: str = "Reference"
    cut_offset: int = DEFAULT_CUT_OFFSET
    window: str | None = None
    window_flank: int = DEFAULT_WINDOW_FLANK
    exclude_ends: int = DEFAULT_EXCLUDE_ENDS
    donor: str | None = None
    expected_hdr_amplicon: str | None = None
    base_editor: str | None = None
    editing_window: tuple[int, int] | None = None
    conversion: tuple[str, str] | None = None
    target: int | None = None
    target_in_protospacer: int | None = None
    pegrnas: tuple[tuple[str, str], ...] = ()
    nicking_guides: tuple[str, ...] = ()
    scaffold: str | None = None
    coding_sequences: tuple[str, ...] = ()
    exons: str | None = None


@dataclass(frozen=True)
class _Sites:
    """The guides placed on the amplicon, by role."""

    guides: tuple[GuideSite, ...]
    pegrna_spacers: tuple[GuideSite, ...]
    nicking_guides: tuple[GuideSite, ...]

    @property
    def all(self) -> tuple[GuideSite, ...]:
        return self.guides + self.pegrna_spacers + self.nicking_guides


def design_from_spec(spec: DesignSpec) -> AmpliconDesign:
    """Check the design and derive cut points, the quantification window and outcome references.

    The window is, in order of precedence: the explicit 1-based ``window`` ranges; ``window_flank``
    bases either side of every cut (guides, pegRNA spacers and nicking guides); or, without guides,
    the whole amplicon less ``exclude_ends`` bases at each end. A base editor's editing window and a
    prime edit's flap are always added to it, so their edits count without widening it by hand.
    """
    sequence = _amplicon_sequence(spec)
    notes: list[str] = []
    sites = _guide_sites(sequence, spec, notes)
    cut_points = tuple(sorted({site.cut_point for site in sites.all}))
    inside, description = _window(sequence, spec, cut_points, bool(sites.all))
    editor = _base_editor(sequence, spec, sites, inside)
    if editor is not None:
        window = editor.protospacer_window
        description += f"; plus the {editor.name} editing window (protospacer {window[0]}-{window[1]})"
    prime = _prime_edit(sequence, spec, sites, inside)
    if prime is not None:
        description += f"; plus {FLAP_JUNCTION_FLANK} bp either side of each pegRNA flap's 3' junction"
    if not any(inside):
        raise DesignError("the quantification window is empty")
    reference = Reference(spec.name, sequence, cut_points, tuple(inside))
    hdr, changes = hdr_reference(reference, spec.donor, spec.expected_hdr_amplicon, notes)
    prime_edited = None
    prime_edit = None
    if prime is not None:
        prime_sequence, prime_edit = prime
        prime_edited = project_reference(reference, "Prime-edited", prime_sequence, PRIME_EDIT_KIND, notes)
    exons = exon_ranges(sequence, spec.coding_sequences, spec.exons)
    return AmpliconDesign(
        spec.name, reference, sites.guides, hdr, spec.cut_offset, description, editor, prime_edited, prime_edit,
        exons, changes, tuple(notes),
    )  # fmt: skip


def _amplicon_sequence(spec: DesignSpec) -> str:
    """The cleaned amplicon, once it and the numeric settings are checked."""
    sequence = clean_sequence(spec.amplicon, "amplicon")
    if len(sequence) < MIN_AMPLICON_LENGTH:
        raise DesignError(f"amplicon is {len(sequence)} bp; at least {MIN_AMPLICON_LENGTH} bp are needed")
    if spec.cut_offset < 0 or spec.window_flank < 0 or spec.exclude_ends < 0:
        raise DesignError("cut offset, window flank and excluded ends must not be negative")
    return sequence


def _guide_sites(sequence: str, spec: DesignSpec, notes: list[str]) -> _Sites:
    """Every guide, pegRNA spacer and nicking guide placed on the amplicon (PAMs stripped, with a note)."""

    def place(guides: Sequence[str], what: str) -> tuple[GuideSite, ...]:
        return tuple(locate_guide(sequence, without_pam(guide, what, notes), spec.cut_offset) for guide in guides)

    return _Sites(
        place(spec.guides, "guide"),
        place([spacer for spacer, _ in spec.pegrnas], "pegRNA spacer"),
        place(spec.nicking_guides, "nicking guide"),
    )


def _window(sequence: str, spec: DesignSpec, cut_points: tuple[int, ...], has_sites: bool) -> tuple[list[bool], str]:
    """The quantification window before editor and flap additions: explicit ranges, flanks of the
    cuts, or (without guides) the amplicon less its ends; with its description."""
    inside = [False] * len(sequence)
    if spec.window:
        for start, end in parse_window(spec.window, len(sequence)):
            inside[start:end] = [True] * (end - start)
        return inside, f"explicit {spec.window} (1-based)"
    if has_sites:
        flank = spec.window_flank
        for cut in cut_points:
            start, end = max(0, cut - flank + 1), min(len(sequence), cut + flank + 1)
            inside[start:end] = [True] * (end - start)
        return inside, f"{flank} bp either side of each cut"
    exclude = spec.exclude_ends
    if 2 * exclude >= len(sequence):
        raise DesignError(f"excluding {exclude} bp at each end leaves no window in a {len(sequence)} bp amplicon")
    inside[exclude : len(sequence) - exclude] = [True] * (len(sequence) - 2 * exclude)
    return inside, f"whole amplicon less {exclude} bp at each end (no guide)"


def _base_editor(sequence: str, spec: DesignSpec, sites: _Sites, inside: list[bool]) -> BaseEditor | None:
    """The base editor placed by the first guide (or pegRNA spacer), its editing window added to
    ``inside``; None without one, and then no editor-only option may be given."""
    if spec.base_editor is None and spec.conversion is None:
        unused = [label for label, value in (("a target position", spec.target), ("a target protospacer position",
                  spec.target_in_protospacer), ("an editing window", spec.editing_window)) if value is not None]  # fmt: skip
        if unused:
            verb = "was" if len(unused) == 1 else "were"
            raise DesignError(f"{' and '.join(unused)} {verb} given without a base editor (--base-editor)")
        return None
    editor = resolve_base_editor(
        sequence, sites.guides or sites.pegrna_spacers, spec.base_editor or "custom", spec.editing_window,
        spec.conversion, spec.target, spec.target_in_protospacer,
    )  # fmt: skip
    for position in editor.positions:
        inside[position] = True
    return editor


def _prime_edit(sequence: str, spec: DesignSpec, sites: _Sites, inside: list[bool]) -> tuple[str, PrimeEdit] | None:
    """The intended prime-edited amplicon and how it was built, each flap's 3' junction added to
    ``inside``; None without pegRNAs."""
    if not spec.pegrnas:
        if spec.scaffold is not None:
            raise DesignError("a pegRNA scaffold was given without a pegRNA spacer and extension")
        return None
    extensions = [extension for _, extension in spec.pegrnas]
    prime_sequence, prime_edit = build_prime_edit(sequence, sites.pegrna_spacers, extensions, spec.scaffold)
    for (start, end, _), site in zip(prime_edit.flaps, sites.pegrna_spacers):
        # The 3' end of the new DNA, where the edited flap joins the old strand, is where flap
        # resolution goes wrong: +-5 bp around it are always in the window (as in the field's
        # reference tool), besides the nick windows.
        junction = end if site.strand == "+" else start
        low, high = max(0, junction - FLAP_JUNCTION_FLANK), min(len(sequence), junction + FLAP_JUNCTION_FLANK)
        inside[low:high] = [True] * (high - low)
    return prime_sequence, prime_edit


def build_design(
    amplicon: str,
    guides: Sequence[str] = (),
    *,
    name: str = "Reference",
    cut_offset: int = DEFAULT_CUT_OFFSET,
    window: str | None = None,
    window_flank: int = DEFAULT_WINDOW_FLANK,
    exclude_ends: int = DEFAULT_EXCLUDE_ENDS,
    donor: str | None = None,
    expected_hdr_amplicon: str | None = None,
    base_editor: str | None = None,
    editing_window: tuple[int, int] | None = None,
    conversion: tuple[str, str] | None = None,
    target: int | None = None,
    target_in_protospacer: int | None = None,
    pegrnas: Sequence[tuple[str, str]] = (),
    nicking_guides: Sequence[str] = (),
    scaffold: str | None = None,
    coding_sequences: Sequence[str] = (),
    exons: str | None = None,
) -> AmpliconDesign:
    """:func:`design_from_spec` with the :class:`DesignSpec` fields as arguments (see there and the spec)."""
    return design_from_spec(
        DesignSpec(
            amplicon=amplicon,
            guides=tuple(guides),
            name=name,
            cut_offset=cut_offset,
            window=window,
            window_flank=window_flank,
            exclude_ends=exclude_ends,
            donor=donor,
            expected_hdr_amplicon=expected_hdr_amplicon,
            base_editor=base_editor,
            editing_window=editing_window,
            conversion=conversion,
            target=target,
            target_in_protospacer=target_in_protospacer,
            pegrnas=tuple(pegrnas),
            nicking_guides=tuple(nicking_guides),
            scaffold=scaffold,
            coding_sequences=tuple(coding_sequences),
            exons=exons,
        )
    )
