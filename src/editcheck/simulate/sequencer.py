"""The simulated sequencer: substitution errors and base qualities for reads drawn from allele templates.

Errors are substitutions (3% of them written as 'N') at a per-base rate of ``error_rate`` times a
cycle profile (flat, rising to 3x over the last 10% of cycles; mean 1) times a per-read lognormal
multiplier (mean 1).  Correct bases get qualities around Q36 (Q30-Q40), erroneous ones Q5-Q15, so a
Q<20 mask removes nearly all errors.  With ``low_quality_rate``, that share of all bases (correct ones
included, as on a real sequencer) gets a low quality (Q5-Q19) instead: the base stays what it is.
"""

from __future__ import annotations

import numpy as np

from editcheck.simulate.primitives import BASES

_N_FRACTION = 0.03  # share of error bases written as 'N'
_READ_SIGMA = 0.5  # sigma of the per-read lognormal error-rate multiplier


def _cycle_profile(read_length: int) -> np.ndarray:
    """Relative error rate per cycle: flat, then rising linearly to 3x over the last 10% of cycles; mean 1."""
    cycles = np.arange(read_length, dtype=float)
    ramp_start = 0.9 * read_length
    span = max(read_length - 1 - ramp_start, 1e-9)
    profile = np.where(cycles < ramp_start, 1.0, 1.0 + 2.0 * (cycles - ramp_start) / span)
    normalised: np.ndarray = profile / profile.mean()
    return normalised


def _quality_table() -> np.ndarray:
    """256-entry lookup table (indexed by a random byte) of qualities for correct bases, centred on Q36."""
    q = np.arange(30, 41)
    p = np.exp(-0.5 * ((q - 36) / 2.0) ** 2)
    counts = np.floor(p / p.sum() * 256).astype(int)
    counts[np.argmax(p)] += 256 - counts.sum()
    return (np.repeat(q, counts) + 33).astype(np.uint8)


_BASE_INDEX = np.full(256, 0, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _BASE_INDEX[ord(_b)] = _i
_BASE_ASCII = np.frombuffer(BASES.encode(), dtype=np.uint8)


class Sequencer:
    """Reads of one file (R1 or R2) from allele templates, with errors and qualities, one chunk at a time.

    Counts the errors and bases it has produced (``errors``, ``bases``).
    """

    def __init__(
        self, templates: list[str], read_length: int, error_rate: float, rng: np.random.Generator,
        low_quality_rate: float = 0.0,
    ) -> None:  # fmt: skip
        self.lengths = np.array([len(t) for t in templates], dtype=np.int64)
        width = max(int(self.lengths.max()), 1)
        self.matrix = np.zeros((len(templates), width), dtype=np.uint8)
        for row, template in enumerate(templates):
            self.matrix[row, : len(template)] = np.frombuffer(template.encode(), dtype=np.uint8)
        profile = np.ones(width)
        profile[: min(width, read_length)] = _cycle_profile(read_length)[:width]
        self.cycle_rate = (profile * error_rate).astype(np.float32)
        self.rng = rng
        self.low_quality_rate = low_quality_rate
        self.quality_table = _quality_table()
        self.errors = 0
        self.bases = 0

    def chunk(self, template_index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Concatenated bases and qualities (ASCII, Phred+33) of the reads, and each read's length."""
        rng = self.rng
        lengths = self.lengths[template_index]
        width = self.matrix.shape[1]
        mask = np.arange(width) < lengths[:, None]
        sequence = self.matrix[template_index][mask]
        cycle = np.broadcast_to(np.arange(width), mask.shape)[mask]
        total = sequence.size

        multiplier = np.exp(rng.normal(-0.5 * _READ_SIGMA**2, _READ_SIGMA, size=lengths.size)).astype(np.float32)
        probability = self.cycle_rate[cycle] * np.repeat(multiplier, lengths)
        error = np.flatnonzero(rng.random(total, dtype=np.float32) < probability)
        quality = self.quality_table[rng.integers(0, 256, size=total, dtype=np.uint8)]
        if error.size:
            shift = rng.integers(1, 4, size=error.size, dtype=np.uint8)
            new = _BASE_ASCII[(_BASE_INDEX[sequence[error]] + shift) % 4]
            new[rng.random(error.size) < _N_FRACTION] = ord("N")
            sequence[error] = new
            quality[error] = rng.integers(5 + 33, 16 + 33, size=error.size, dtype=np.uint8)
        if self.low_quality_rate:
            low = np.flatnonzero(rng.random(total, dtype=np.float32) < self.low_quality_rate)
            quality[low] = rng.integers(5 + 33, 20 + 33, size=low.size, dtype=np.uint8)
        self.errors += int(error.size)
        self.bases += int(total)
        return sequence, quality, lengths
