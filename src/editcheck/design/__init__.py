"""The experiment design: amplicon, guides and their cut sites, quantification window, outcome references.

One job per module, each importing only the ones before it (and :mod:`editcheck.sequences`,
:mod:`editcheck.scoring`, :mod:`editcheck.errors`; never the aligner or anything above):

- :mod:`~editcheck.design.model`: the dataclasses (:class:`AmpliconDesign`, :class:`Reference`, ...) and constants;
- :mod:`~editcheck.design.parse`: user text to values (sequences, windows, protospacer ranges, conversions);
- :mod:`~editcheck.design.sites`: guides and base editors placed on the amplicon;
- :mod:`~editcheck.design.references`: the derived references (HDR from a donor or the expected amplicon,
  prime-edit alleles from pegRNAs) and the window carried over to them;
- :mod:`~editcheck.design.build`: :class:`DesignSpec` (what the user gave) to a design, one step per concern.

Coordinates are 0-based inside the library. A *cut point* is the index of the last amplicon base
5' of the cut (on the amplicon's forward strand), so the cut lies between ``cut_point`` and
``cut_point + 1``. Windows given by users are 1-based inclusive ranges, as people count.
"""

from __future__ import annotations

from editcheck.design.build import MIN_AMPLICON_LENGTH, DesignSpec, build_design, design_from_spec
from editcheck.design.model import (
    AMPLICON,
    BASE_EDITOR_PRESETS,
    BASES,
    DEFAULT_CUT_OFFSET,
    DEFAULT_EXCLUDE_ENDS,
    DEFAULT_WINDOW_FLANK,
    FLAP_JUNCTION_FLANK,
    HDR_KIND,
    PRIME_EDIT_KIND,
    PROTOSPACER_LENGTH,
    SPCAS9_PAM,
    VALID_AMPLICON,
    VALID_GUIDE,
    AmpliconDesign,
    BaseEditor,
    DonorChange,
    GuideSite,
    PrimeEdit,
    Reference,
)
from editcheck.design.parse import (
    clean_sequence,
    parse_base_editor,
    parse_conversion,
    parse_protospacer_range,
    parse_window,
    without_pam,
)
from editcheck.design.references import (
    amplicon_ends_missing,
    build_prime_edit,
    donor_changes,
    hdr_reference,
    map_positions,
    place_donor,
    project_reference,
    templated_allele,
)
from editcheck.design.sites import exon_ranges, locate_guide, resolve_base_editor
from editcheck.errors import DesignError
from editcheck.sequences import complement, reverse_complement

__all__ = [
    "AMPLICON", "BASES", "BASE_EDITOR_PRESETS", "DEFAULT_CUT_OFFSET", "DEFAULT_EXCLUDE_ENDS", "DEFAULT_WINDOW_FLANK",
    "FLAP_JUNCTION_FLANK", "HDR_KIND", "MIN_AMPLICON_LENGTH", "PRIME_EDIT_KIND", "PROTOSPACER_LENGTH", "SPCAS9_PAM",
    "VALID_AMPLICON", "VALID_GUIDE", "AmpliconDesign", "BaseEditor", "DesignError", "DesignSpec", "DonorChange",
    "GuideSite", "PrimeEdit", "Reference", "amplicon_ends_missing", "build_design", "build_prime_edit",
    "clean_sequence", "complement", "design_from_spec", "donor_changes", "exon_ranges", "hdr_reference",
    "locate_guide", "map_positions", "parse_base_editor", "parse_conversion", "parse_protospacer_range",
    "parse_window", "place_donor", "project_reference", "resolve_base_editor", "reverse_complement",
    "templated_allele", "without_pam",
]  # fmt: skip
