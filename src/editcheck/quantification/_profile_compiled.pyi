"""Types of the compiled position-profile counter (_profile_compiled.pyx)."""

from collections.abc import Sequence

import numpy as np

def count_symbols(
    counts: np.ndarray,
    codes: np.ndarray,
    projections: list[str],
    weights: Sequence[int] | None,
    length: int,
    width: int,
) -> None: ...
