"""Prime editing in the simulator: the intended edit, the edited allele and the pegRNA that writes it.

A ``PrimeEditSpec`` states the edit relative to the nick of the pegRNA spacer (the design's guide):
``offset`` bases 3' of the nick on the spacer's strand (0 = the first base after the nick), ``deleted``
bases removed there and ``inserted`` bases written in their place (a substitution is one deleted and one
inserted base). The pegRNA's 3' extension is derived from it the way a pegRNA is designed: the RT template
copies the edited spacer strand from the nick to ``homology`` bases past the edit, the PBS pairs with the
``pbs_length`` protospacer bases ending at the nick, and the extension (5'->3' on the pegRNA, written as
DNA) is the reverse complement of PBS-target + RT copy. Computed here with the simulator's own primitives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from editcheck.errors import ParameterError
from editcheck.simulate.designs import SimulationDesign, protospacer_site
from editcheck.simulate.primitives import BASES, reverse_complement

#: Named edits of ``editcheck simulate --prime-edit``: (offset, deleted, inserted or None = the transversion).
NAMED_EDITS: dict[str, tuple[int, int, str | None]] = {
    "substitution": (4, 1, None),
    "insertion": (3, 0, "TAG"),
    "deletion": (3, 3, ""),
}
_TRANSVERSION = {"A": "C", "C": "A", "G": "T", "T": "G"}


@dataclass(frozen=True)
class PrimeEditSpec:
    """An edit written by a pegRNA whose spacer is the design's guide (see the module docstring)."""

    offset: int = 4
    deleted: int = 1
    inserted: str | None = None
    """The new bases on the spacer's strand; None: the transversion of each deleted base."""
    homology: int = 10
    pbs_length: int = 13

    def __post_init__(self) -> None:
        for name, value, low, high in (("offset", self.offset, 0, 30), ("deleted", self.deleted, 0, 30),
                                       ("homology", self.homology, 5, 40), ("pbs_length", self.pbs_length, 8, 17)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ParameterError(f"prime edit {name} must be an integer in {low}-{high}, got {value!r}")
        if self.inserted is not None and (set(self.inserted) - set(BASES) or len(self.inserted) > 30):
            raise ParameterError(f"prime edit inserted bases must be up to 30 A/C/G/T, got {self.inserted!r}")
        if self.deleted == 0 and not self.inserted:
            raise ParameterError("a prime edit must delete or insert at least one base")

    @classmethod
    def named(cls, name: str) -> PrimeEditSpec:
        """One of :data:`NAMED_EDITS`."""
        if name not in NAMED_EDITS:
            raise ParameterError(f"unknown prime edit {name!r}; choose one of {', '.join(NAMED_EDITS)}")
        offset, deleted, inserted = NAMED_EDITS[name]
        return cls(offset=offset, deleted=deleted, inserted=inserted)


@dataclass(frozen=True)
class PrimeEdit:
    """A spec applied to a design: the edited amplicon (forward strand) and the pegRNA."""

    spec: PrimeEditSpec
    edited_amplicon: str
    spacer: str
    extension: str
    nick: int
    """0-based index on the forward strand: the nick lies between ``amplicon[nick-1]`` and ``amplicon[nick]``."""
    events: list[dict[str, Any]]


def _strand_nick(design: SimulationDesign) -> tuple[str, int]:
    """The spacer's strand (5'->3') and the nick's index on it (3 nt 5' of the PAM for SpCas9)."""
    if design.guide_strand == "+":
        return design.amplicon, protospacer_site(design) + 20 - design.cut_offset
    strand = reverse_complement(design.amplicon)
    return strand, strand.index(design.guide) + 20 - design.cut_offset


def _events(amplicon: str, start: int, deleted: int, inserted: str) -> list[dict[str, Any]]:
    """The edit on the forward strand, in the truth's event form (1-based positions)."""
    if deleted == len(inserted):
        return [{"type": "substitution", "position": start + i + 1, "ref": amplicon[start + i], "alt": inserted[i]}
                for i in range(deleted) if amplicon[start + i] != inserted[i]]  # fmt: skip
    events: list[dict[str, Any]] = []
    if deleted:
        events.append({"type": "deletion", "start": start + 1, "end": start + deleted, "length": deleted})
    if inserted:
        events.append({"type": "insertion", "after": start, "length": len(inserted), "inserted": inserted})
    return events


def prime_edit(design: SimulationDesign, spec: PrimeEditSpec) -> PrimeEdit:
    """The edited allele and the pegRNA (spacer = the design's guide) of ``spec`` on ``design``."""
    strand, nick = _strand_nick(design)
    start = nick + spec.offset
    end = start + spec.deleted
    if nick < spec.pbs_length or end + spec.homology > len(strand):
        raise ParameterError("the prime edit, its PBS or its RT homology runs off the amplicon")
    removed = strand[start:end]
    inserted = "".join(_TRANSVERSION[base] for base in removed) if spec.inserted is None else spec.inserted
    if inserted == removed:
        raise ParameterError("the prime edit leaves the amplicon unchanged")
    edited = strand[:start] + inserted + strand[end:]
    rt_copy = edited[nick : start + len(inserted) + spec.homology]
    extension = reverse_complement(strand[nick - spec.pbs_length : nick] + rt_copy)
    if design.guide_strand == "+":
        forward, forward_nick = edited, nick
        first, forward_inserted = start, inserted
    else:
        forward, forward_nick = reverse_complement(edited), len(strand) - nick
        first, forward_inserted = len(strand) - end, reverse_complement(inserted)
    return PrimeEdit(spec, forward, design.guide, extension, forward_nick,
                     _events(design.amplicon, first, spec.deleted, forward_inserted))  # fmt: skip


def prime_edit_truth(edit: PrimeEdit, reads: int) -> dict[str, Any]:
    """The truth's ``prime_editing`` section."""
    spec = edit.spec
    return {
        "pegrna_spacer": edit.spacer,
        "pegrna_extension": edit.extension,
        "nick_boundary": edit.nick,
        "offset_from_nick": spec.offset,
        "deleted": spec.deleted,
        "homology": spec.homology,
        "pbs_length": spec.pbs_length,
        "edited_amplicon": edit.edited_amplicon,
        "events": edit.events,
        "prime_edited_reads": reads,
    }
