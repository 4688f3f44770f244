"""Time points of a study, written with a unit (``28 d``, ``12 wk``, ``6 mo``, ``1 y``) and converted to days.

Conversion: 1 h = 1/24 d, 1 wk = 7 d (exact); 1 mo = 30.4375 d and 1 y = 365.25 d (the mean Gregorian
month and year: calendar units have no fixed length in days). A unit may be written in full or in the
plural (``week``, ``weeks``, ``wks``); a number without a unit is an error, as is any other word.

One series (the time points of one subject under one design) may mix units that convert exactly into each
other (h, d and wk; or mo and y: 12 mo = 1 y), but not day-based with calendar units: ``28 d`` next to
``6 mo`` would put an approximation on the same axis as exact days. Such a series is an error asking for
one kind of unit (e.g. ``28 d, 84 d, 183 d``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DAYS_PER_UNIT", "TimePoint", "mixed_units", "parse_time_point"]

DAYS_PER_UNIT: dict[str, float] = {"h": 1 / 24, "d": 1.0, "wk": 7.0, "mo": 365.25 / 12, "y": 365.25}
"""Days in one of each unit (canonical short names)."""
EXACT_UNITS = frozenset({"h", "d", "wk"})
"""Units that are exact multiples of a day; ``mo`` and ``y`` are calendar units."""
_SPELLINGS: dict[str, str] = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "wk"),
    **dict.fromkeys(("mo", "mos", "month", "months"), "mo"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "y"),
}
_PATTERN = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))\s*([A-Za-z]*)")


@dataclass(frozen=True)
class TimePoint:
    """A time point as written (``text``), its number, canonical unit and length in days."""

    text: str
    value: float
    unit: str
    days: float

    @property
    def calendar(self) -> bool:
        """Whether the unit is a calendar unit (mo, y) rather than a multiple of a day."""
        return self.unit not in EXACT_UNITS


def parse_time_point(text: str) -> TimePoint:
    """``"28 d"``, ``"12wk"``, ``"6 months"``, ``"-7 d"`` (before dosing) as a :class:`TimePoint`; anything
    else raises ValueError with the reason (the caller names the file and row)."""
    match = _PATTERN.fullmatch(text.strip())
    units = "h, d, wk, mo or y"
    if match is None:
        raise ValueError(f"time_point {text!r} is not a number with a unit ({units}), e.g. '28 d' or '12 wk'")
    number, word = match.groups()
    if not word:
        raise ValueError(f"time_point {text!r} has no unit: write it as e.g. '{number} d' ({units})")
    unit = _SPELLINGS.get(word.lower())
    if unit is None:
        raise ValueError(f"time_point {text!r}: unknown unit {word!r} (use {units})")
    value = float(number)
    return TimePoint(text.strip(), value, unit, value * DAYS_PER_UNIT[unit])


def mixed_units(points: list[TimePoint]) -> tuple[TimePoint, TimePoint] | None:
    """The first day-based and the first calendar time point of a series that mixes the two, else None."""
    exact = next((point for point in points if not point.calendar), None)
    calendar = next((point for point in points if point.calendar), None)
    return (exact, calendar) if exact is not None and calendar is not None else None
