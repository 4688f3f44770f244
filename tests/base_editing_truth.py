"""Shared check of a base-editing tally against the simulator's truth (imported by tests; not a test module)."""

from __future__ import annotations

from typing import Any

import pytest


def percent(reads: int, total: int) -> float:
    return 100.0 * reads / total


def assert_base_editing_matches_truth(tally: Any, truth: dict[str, Any], reads: int, tolerance: float) -> None:
    """Each base-edit class, the target conversion and the unmodified/modified shares of the reads the tally
    determined are within ``tolerance`` percentage points of the truth's shares of all ``reads``."""
    determined = tally.classified
    editing = truth["base_editing"]
    for name, count in editing["classes"].items():
        assert percent(tally.base_edit_classes[name], determined) == pytest.approx(
            percent(count, reads), abs=tolerance
        ), name
    assert percent(tally.target_converted, determined) == pytest.approx(
        percent(editing["target_converted_reads"], reads), abs=tolerance
    )
    expected = truth["expected_classification"]
    for name in ("unmodified", "modified"):
        assert percent(tally.outcomes[name], determined) == pytest.approx(
            percent(expected[name], reads), abs=tolerance
        ), name
