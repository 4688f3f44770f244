"""The substitution background of a sample, estimated from its own reads.

Nucleases and base editors change bases only in and near the quantification window, so
substitutions at amplicon positions outside it are sequencing and PCR errors (after quality
masking). Their per-base rate, applied to the window, is the share of reads expected to carry a
background substitution there: the level below which a substitution count is indistinguishable
from noise. In a mock (untreated) sample the in-window rates themselves are the background.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from editcheck.quantification.tally import POSITION_SYMBOLS, Tally

_BASES = "ACGT"


def substitution_rates(tally: Tally) -> np.ndarray:
    """Per amplicon position: reads showing a base other than the reference / reads showing a base (A, C, G, T)."""
    profile = tally.positions[0]
    counts = profile.counts[:, : len(_BASES)]
    called = counts.sum(axis=1)
    reference = np.array([_BASES.find(base) for base in profile.sequence])
    matching = np.where(reference >= 0, counts[np.arange(len(reference)), np.maximum(reference, 0)], called)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(called > 0, (called - matching) / np.maximum(called, 1), 0.0)


def substitution_background(tally: Tally) -> dict[str, Any] | None:
    """Background per-base substitution rate (median over covered positions outside the window), the
    expected percentage of reads with a background substitution in the window, and each window
    position's observed rate; None when no read covers a position outside the window."""
    if not tally.positions:
        return None
    profile = tally.positions[0]
    assert POSITION_SYMBOLS.startswith(_BASES)
    rates = substitution_rates(tally)
    covered = profile.counts[:, : len(_BASES)].sum(axis=1) > 0
    window = np.array(profile.window, dtype=bool)
    outside = covered & ~window
    if not outside.any():
        return None
    per_base = float(np.median(rates[outside]))
    window_size = int(window.sum())
    expected = 100.0 * (1.0 - (1.0 - per_base) ** window_size)
    return {
        "source": "this sample's reads at amplicon positions outside the quantification window",
        "per_base_percent_median": round(100.0 * per_base, 6),
        "per_base_percent_mean": round(100.0 * float(rates[outside].mean()), 6),
        "window_positions": window_size,
        "expected_reads_with_background_substitution_in_window_percent": round(expected, 6),
        "window_position_percent": {
            str(position + 1): round(100.0 * float(rates[position]), 6) for position in np.flatnonzero(window)
        },
    }
