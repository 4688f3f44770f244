"""What is simulated: the outcome classes and their mix, the base editor and where it acts.

``resolve_mix`` applies the defaults of the entry points (HDR only with a donor, all reads exposed
to a base editor when one is given) and ``exact_counts`` turns a mix into exact per-class counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from editcheck.errors import ParameterError
from editcheck.simulate.designs import SimulationDesign, to_amplicon
from editcheck.simulate.primitives import BASES, complement

CLASSES = ("unmodified", "deletion", "insertion", "substitution", "hdr")  # always reported
EXTRA_CLASSES = ("large_deletion", "base_edit", "prime_edit")  # reported only when their fraction is > 0
ALL_CLASSES = CLASSES + EXTRA_CLASSES
INDEL_CLASSES = ("deletion", "insertion", "large_deletion")
BASE_EDIT_CLASSES = ("intended_only", "intended_and_bystander", "bystander_only", "unedited", "indel")


@dataclass(frozen=True)
class OutcomeMix:
    """Fractions of reads per outcome class; they must be non-negative and sum to 1.

    ``large_deletion`` (50-150 bp across the cut), ``base_edit`` (reads exposed to the base
    editor, see ``BaseEditorSpec``) and ``prime_edit`` (reads carrying the intended prime edit, see
    ``editcheck.simulate.prime``) default to 0, which leaves the classic five-class mix unchanged.
    """

    unmodified: float = 0.55
    deletion: float = 0.22
    insertion: float = 0.10
    substitution: float = 0.05
    hdr: float = 0.08
    large_deletion: float = 0.0
    base_edit: float = 0.0
    prime_edit: float = 0.0

    def __post_init__(self) -> None:
        values = [getattr(self, item.name) for item in fields(self)]
        if any(not math.isfinite(value) or value < 0 for value in values):
            raise ParameterError(f"outcome fractions must be finite and non-negative, got {values}")
        if abs(sum(values) - 1.0) > 1e-6:
            raise ParameterError(f"outcome fractions must sum to 1, got {sum(values):.6g}")

    def fractions(self) -> dict[str, float]:
        """The fractions keyed by class name, in the fixed class order.

        The five classic classes are always present; ``large_deletion``, ``base_edit`` and
        ``prime_edit`` only when non-zero (so truth files of classic mixes keep their former keys).
        """
        values = {name: float(getattr(self, name)) for name in CLASSES}
        values.update({name: float(getattr(self, name)) for name in EXTRA_CLASSES if getattr(self, name) > 0})
        return values


@dataclass(frozen=True)
class BaseEditorSpec:
    """A base editor: ``conversion`` (from, to) read on the guide strand, active in ``window``.

    ``window`` (inclusive) and ``target`` are 1-based protospacer positions (1 = PAM-distal 5' end
    of the guide).  Each exposed read independently has the target base converted with
    probability ``target_rate`` and every other from-base in the window (bystander) with
    probability ``bystander_rate``.  For a reverse-strand guide the conversion is complemented on
    the amplicon's forward strand (A>G on the guide strand is T>C on the amplicon).
    """

    conversion: tuple[str, str] = ("A", "G")
    window: tuple[int, int] = (4, 8)
    target: int = 5
    target_rate: float = 0.42
    bystander_rate: float = 0.3

    def __post_init__(self) -> None:
        object.__setattr__(self, "conversion", tuple(self.conversion))
        object.__setattr__(self, "window", tuple(self.window))
        bases_ok = all(isinstance(base, str) and len(base) == 1 and base in BASES for base in self.conversion)
        if len(self.conversion) != 2 or not bases_ok or self.conversion[0] == self.conversion[1]:
            raise ParameterError(f"conversion must be two different bases such as ('A', 'G'), got {self.conversion!r}")
        if (
            len(self.window) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in self.window)
            or not 1 <= self.window[0] <= self.window[1] <= 20
        ):
            raise ParameterError(f"window must be protospacer positions 1 <= start <= end <= 20, got {self.window!r}")
        if isinstance(self.target, bool) or not isinstance(self.target, int):
            raise ParameterError(f"target must be an integer protospacer position, got {self.target!r}")
        if not self.window[0] <= self.target <= self.window[1]:
            raise ParameterError(f"target {self.target} lies outside the window {self.window}")
        for name in ("target_rate", "bystander_rate"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ParameterError(f"{name} must be between 0 and 1, got {value!r}")

    @property
    def label(self) -> str:
        """The conversion as text, e.g. 'A>G'."""
        return f"{self.conversion[0]}>{self.conversion[1]}"


@dataclass(frozen=True)
class EditSites:
    """Where a base editor acts on a design (0-based amplicon indices, ascending)."""

    spec: BaseEditorSpec
    positions: tuple[int, ...]  # from-bases (forward strand) inside the window
    protospacer: tuple[int, ...]  # their 1-based protospacer positions
    target: int  # index into ``positions`` of the target base
    source: str  # from-base on the amplicon's forward strand
    product: str  # to-base on the amplicon's forward strand


def edit_sites(design: SimulationDesign, spec: BaseEditorSpec) -> EditSites:
    """Map the editing window to the amplicon; the target base must be the editor's from-base."""
    source, product = spec.conversion
    if design.guide_strand == "-":
        source, product = complement(source), complement(product)
    low, high = spec.window
    if design.guide[spec.target - 1] != spec.conversion[0]:
        raise ParameterError(
            f"protospacer position {spec.target} is {design.guide[spec.target - 1]!r}, "
            f"not the base editor's from-base {spec.conversion[0]!r}"
        )
    pairs = sorted(
        (to_amplicon(design, p), p) for p in range(low, high + 1) if design.guide[p - 1] == spec.conversion[0]
    )
    positions = tuple(index for index, _ in pairs)
    return EditSites(
        spec=spec,
        positions=positions,
        protospacer=tuple(p for _, p in pairs),
        target=positions.index(to_amplicon(design, spec.target)),
        source=source,
        product=product,
    )


def resolve_mix(
    design: SimulationDesign, mix: OutcomeMix | None, base_editor: BaseEditorSpec | None
) -> tuple[OutcomeMix, EditSites | None]:
    """The mix to use (defaults as documented in ``simulate``) and, for base editing, the edit sites."""
    if mix is None:
        if base_editor is not None:
            mix = OutcomeMix(unmodified=0.0, deletion=0.0, insertion=0.0, substitution=0.0, hdr=0.0, base_edit=1.0)
        elif design.donor_amplicon is not None:
            mix = OutcomeMix()
        else:
            mix = OutcomeMix(unmodified=0.63, hdr=0.0)
    if mix.hdr > 0 and design.donor_amplicon is None:
        raise ParameterError("the outcome mix has an HDR fraction but the design has no donor_amplicon")
    if base_editor is not None and mix.base_edit == 0:
        raise ParameterError("a base_editor was given but the outcome mix has no base_edit fraction")
    if mix.base_edit > 0:
        return mix, edit_sites(design, base_editor or BaseEditorSpec())
    return mix, None


def exact_counts(n_reads: int, fractions: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding of ``n_reads * fraction`` so the counts sum to ``n_reads`` exactly."""
    raw = {name: n_reads * value for name, value in fractions.items()}
    counts = {name: math.floor(value) for name, value in raw.items()}
    remainder = n_reads - sum(counts.values())
    by_remainder = sorted(fractions, key=lambda name: (-(raw[name] - counts[name]), ALL_CLASSES.index(name)))
    for name in by_remainder[:remainder]:
        counts[name] += 1
    return counts
