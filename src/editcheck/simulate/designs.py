"""Simulated designs: an amplicon with its guide (and donor), and random single or pooled designs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from editcheck.errors import DesignError, ParameterError
from editcheck.simulate.primitives import BASES, occurrences, reverse_complement


@dataclass(frozen=True)
class SimulationDesign:
    """An amplicon, its guide and (optionally) the amplicon expected after HDR.

    ``cut_offset`` is the distance of the cut from the PAM-proximal end of the protospacer
    (3 for SpCas9: the cut lies between protospacer nucleotides 17 and 18).
    """

    amplicon: str
    guide: str
    cut_offset: int = 3
    donor_amplicon: str | None = None

    def __post_init__(self) -> None:
        if not self.amplicon or set(self.amplicon) - set(BASES):
            raise DesignError("amplicon must be a non-empty uppercase A/C/G/T sequence")
        if len(self.guide) != 20 or set(self.guide) - set(BASES):
            raise DesignError("guide must be a 20-nt uppercase A/C/G/T protospacer")
        if not 0 < self.cut_offset < 20:
            raise DesignError(f"cut_offset must be between 1 and 19, got {self.cut_offset}")
        hits = len(occurrences(self.amplicon, self.guide)) + len(
            occurrences(self.amplicon, reverse_complement(self.guide))
        )
        if hits != 1:
            raise DesignError(f"guide must occur exactly once on the amplicon (both strands), found {hits}")
        if self.donor_amplicon is not None:
            donor = self.donor_amplicon
            if len(donor) != len(self.amplicon) or set(donor) - set(BASES):
                raise DesignError("donor_amplicon must be an uppercase A/C/G/T sequence as long as the amplicon")
            if donor == self.amplicon:
                raise DesignError("donor_amplicon is identical to the amplicon")

    @property
    def guide_strand(self) -> str:
        """'+' if the protospacer reads 5'->3' on the amplicon as given, '-' otherwise."""
        return "+" if self.guide in self.amplicon else "-"

    @property
    def cut_boundary(self) -> int:
        """Index c such that the cut lies between ``amplicon[c-1]`` and ``amplicon[c]`` (0-based)."""
        if self.guide_strand == "+":
            return self.amplicon.index(self.guide) + 20 - self.cut_offset
        return self.amplicon.index(reverse_complement(self.guide)) + self.cut_offset


def protospacer_site(design: SimulationDesign) -> int:
    """0-based start of the protospacer (or of its reverse complement) on the amplicon."""
    if design.guide_strand == "+":
        return design.amplicon.index(design.guide)
    return design.amplicon.index(reverse_complement(design.guide))


def to_amplicon(design: SimulationDesign, position: int) -> int:
    """0-based amplicon index of 1-based protospacer ``position`` (1 = PAM-distal end of the guide)."""
    site = protospacer_site(design)
    return site + position - 1 if design.guide_strand == "+" else site + 20 - position


def random_design(
    seed: int = 2024,
    length: int = 250,
    guide_start: int = 105,
    with_donor: bool = True,
    editable: dict[int, str] | None = None,
) -> SimulationDesign:
    """A random amplicon with a forward 20-nt protospacer at ``guide_start`` (0-based) and an NGG PAM.

    Protospacer positions 5 and 7 (1-based) are 'A' (base-editor targets); ``editable`` (1-based
    protospacer position -> base, e.g. ``{6: "C", 4: "C"}`` for a cytosine base editor) sets other
    bases instead, from the same random draws.  The donor amplicon
    carries the PAM's second G -> C plus SNVs at protospacer positions 13 and 15 (5 and 3 nt
    5' of the cut): three substitutions, all within 10 bp of the cut.
    """
    if guide_start < 0 or guide_start + 23 > length:
        raise ParameterError(f"guide_start {guide_start} leaves no room for a 20-nt guide and PAM in {length} bp")
    fixed = {5: "A", 7: "A"} if editable is None else dict(editable)
    if any(not 1 <= position <= 20 or base not in BASES for position, base in fixed.items()):
        raise ParameterError(f"editable bases must map protospacer positions 1-20 to A/C/G/T, got {fixed!r}")
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        bases = list("".join(rng.choice(list(BASES), size=length)))
        for position, base in fixed.items():
            bases[guide_start + position - 1] = base
        bases[guide_start + 21] = "G"
        bases[guide_start + 22] = "G"
        amplicon = "".join(bases)
        guide = amplicon[guide_start : guide_start + 20]
        hits = len(occurrences(amplicon, guide)) + len(occurrences(amplicon, reverse_complement(guide)))
        if hits == 1:
            break
    else:  # pragma: no cover - vanishingly unlikely for random sequence
        raise DesignError("could not draw an amplicon on which the guide occurs once")
    donor = None
    if with_donor:
        donor_bases = list(amplicon)
        donor_bases[guide_start + 22] = "C"
        for position in (guide_start + 12, guide_start + 14):
            alternatives = [base for base in BASES if base != donor_bases[position]]
            donor_bases[position] = alternatives[int(rng.integers(len(alternatives)))]
        donor = "".join(donor_bases)
    return SimulationDesign(amplicon=amplicon, guide=guide, cut_offset=3, donor_amplicon=donor)


def _near_identical(design: SimulationDesign, rng: np.random.Generator, differences: int = 3) -> SimulationDesign:
    """A copy of ``design`` with ``differences`` SNVs away from the guide, PAM and likely indels."""
    amplicon, c = design.amplicon, design.cut_boundary
    n = len(amplicon)
    site = protospacer_site(design)
    protected = set(range(site - 3, site + 23))  # guide and PAM on either strand
    candidates = [i for i in range(10, n - 10) if abs(i - c) >= 35 and i not in protected]
    if len(candidates) < differences:
        candidates = [i for i in range(n) if i not in protected]
    for _ in range(100):
        bases = list(amplicon)
        for position in rng.choice(candidates, size=differences, replace=False).tolist():
            alternatives = [base for base in BASES if base != bases[position]]
            bases[position] = alternatives[int(rng.integers(len(alternatives)))]
        try:
            return SimulationDesign("".join(bases), design.guide, design.cut_offset)
        except DesignError:  # pragma: no cover - an SNV recreated the guide elsewhere
            continue
    raise DesignError("could not draw a near-identical amplicon")  # pragma: no cover


def _shares_guide(a: SimulationDesign, b: SimulationDesign) -> bool:
    """True if either design's guide (either strand) occurs in the other's amplicon."""
    return any(
        guide in other.amplicon or reverse_complement(guide) in other.amplicon
        for guide, other in ((a.guide, b), (b.guide, a))
    )


def _check_pool_size(n_amplicons: int, length: int, near_identical_pairs: int) -> None:
    for name, value, minimum in (
        ("n_amplicons", n_amplicons, 1),
        ("length", length, 100),
        ("near_identical_pairs", near_identical_pairs, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if 2 * near_identical_pairs > n_amplicons:
        raise ParameterError(f"{near_identical_pairs} near-identical pairs need {2 * near_identical_pairs} amplicons")


def random_pool(
    n_amplicons: int = 20, seed: int = 2024, length: int = 250, near_identical_pairs: int = 2
) -> list[SimulationDesign]:
    """Random designs (no donors) for a pooled run; each guide occurs only in its own amplicon.

    Designs ``2k`` and ``2k + 1`` (k < ``near_identical_pairs``) form near-identical pairs: the
    second is the first with 3 SNVs placed at least 35 bp from the cut and outside the guide and
    PAM, and shares the first's guide.  All other designs are unrelated random amplicons with a
    forward guide near the middle.
    """
    _check_pool_size(n_amplicons, length, near_identical_pairs)
    rng = np.random.default_rng(seed)
    low, high = max(0, length // 2 - 40), min(length - 23, length // 2 - 10)
    designs: list[SimulationDesign] = []
    for _ in range(100 * n_amplicons):
        if len(designs) >= n_amplicons:
            break
        index = len(designs)
        twin = index < 2 * near_identical_pairs and index % 2 == 1
        if twin:
            candidate = _near_identical(designs[-1], rng)
            others = designs[:-1]
        else:
            guide_start = int(rng.integers(low, high + 1))
            candidate = random_design(int(rng.integers(2**32)), length, guide_start, with_donor=False)
            others = designs
        if any(_shares_guide(candidate, other) or candidate.amplicon == other.amplicon for other in others):
            continue
        designs.append(candidate)
    else:  # pragma: no cover - vanishingly unlikely for random sequence
        if len(designs) < n_amplicons:
            raise DesignError("could not draw a pool of amplicons with unique guides")
    return designs


def similar_pairs(designs: list[SimulationDesign], threshold: int = 10) -> list[list[int]]:
    """[i, j, differences] for equal-length amplicons differing at <= ``threshold`` positions."""
    pairs = []
    by_length: dict[int, list[int]] = {}
    for index, design in enumerate(designs):
        by_length.setdefault(len(design.amplicon), []).append(index)
    for members in by_length.values():
        matrix = np.array([np.frombuffer(designs[i].amplicon.encode(), dtype=np.uint8) for i in members])
        for row, i in enumerate(members[:-1]):
            distances = (matrix[row + 1 :] != matrix[row]).sum(axis=1)
            for column in np.flatnonzero(distances <= threshold).tolist():
                pairs.append([i, members[row + 1 + column], int(distances[column])])
    return sorted(pairs)


def design_truth(design: SimulationDesign) -> dict[str, object]:
    """The design as written into the truth JSON."""
    return {
        "amplicon": design.amplicon,
        "guide": design.guide,
        "cut_offset": design.cut_offset,
        "donor_amplicon": design.donor_amplicon,
        "guide_strand": design.guide_strand,
        "cut_boundary": design.cut_boundary,
    }
