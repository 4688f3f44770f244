"""The analysis settings: every parameter that can change a result (recorded in summary.json)."""

from __future__ import annotations

from dataclasses import dataclass

from editcheck.alignment.aligner import ReadAligner
from editcheck.classification.outcomes import ClassificationSettings
from editcheck.design import AmpliconDesign
from editcheck.errors import ParameterError
from editcheck.reads.collapse import QualitySettings
from editcheck.reads.merge import MergeSettings

__all__ = ["AnalysisSettings"]


@dataclass(frozen=True)
class AnalysisSettings:
    """Every parameter that can change a result (recorded in summary.json)."""

    classification: ClassificationSettings = ClassificationSettings()
    quality: QualitySettings = QualitySettings()
    merge: MergeSettings = MergeSettings()

    def __post_init__(self) -> None:
        if not 0 <= self.classification.min_identity <= 100:
            raise ParameterError(f"minimum identity {self.classification.min_identity} must be between 0 and 100")
        if not 1 <= self.classification.max_length_factor <= 100:
            raise ParameterError(
                f"maximum read length factor {self.classification.max_length_factor} must be between 1 and 100"
            )

    def aligner(self, design: AmpliconDesign) -> ReadAligner:
        """The read aligner these settings call for."""
        classification = self.classification
        return ReadAligner(
            design.references, classification.min_identity, classification.large_deletion_min,
            classification.max_length_factor,
        )  # fmt: skip
