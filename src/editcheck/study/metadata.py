"""A sample's metadata given on the command line (``--metadata KEY=VALUE``), checked once for every output."""

from __future__ import annotations

from collections.abc import Iterable

from editcheck.errors import ParameterError

__all__ = ["parse_metadata"]


def parse_metadata(items: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` texts as (key, value) pairs in the order given: the key up to the first ``=``, the value
    as written (it may be empty). An item without ``=``, an empty or repeated key, or a tab or line break
    (which would break a table) is a :class:`~editcheck.errors.ParameterError`."""
    pairs: list[tuple[str, str]] = []
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise ParameterError(f"--metadata {item!r}: give KEY=VALUE")
        if any(character in item for character in "\t\r\n"):
            raise ParameterError(f"--metadata {item!r}: tabs and line breaks cannot be written into a table")
        if key in (known for known, _ in pairs):
            raise ParameterError(f"--metadata {key!r} is given twice")
        pairs.append((key, value))
    return tuple(pairs)
