"""A unique read's result as compact bytes: nested tuples of None, bools, ints, floats and ASCII strings, packed
by type tag, the pure-Python reference implementation (:mod:`editcheck.alignment._compiled` has the same in
Cython; :mod:`editcheck.alignment.hotpath` picks one).

The format, one value after another (a tuple's items follow its tag):

- ``0x00`` None, ``0x01`` False, ``0x02`` True;
- ``0x03`` a float: 8 bytes, IEEE 754 little-endian (round-trips exactly);
- ``0x04`` an int: a zigzag varint (|n| < 2**62); ``0x10`` + n for 0 <= n < 112, one byte;
- ``0x05`` an ASCII string: varint length, bytes; ``0x80`` + length for one shorter than 64;
- ``0x06`` a tuple: varint length, items; ``0xC0`` + length for one shorter than 64.

Varints are little-endian base 128.  Unpacked strings that are identifiers (outcome and status names, inserted
bases) are interned, as ``marshal`` interns the names it wrote: many unique reads' results then share one copy.  A packed tuple starts with a byte of ``0x06`` or ``0xC0``-``0xFF``, never a
byte a ``marshal`` tuple starts with (``(``, ``)``, or either with the reference flag ``0x80``), so the two can
be told apart.  ~30% fewer bytes than ``marshal`` format 4 for a unique read's result (its many zeros, empty
strings and flags take one byte each) and, compiled, several times faster.  A value of another type (an
instance of a subclass, a non-ASCII string, a huge int) is not packed: :class:`Unpackable` is raised.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

__all__ = ["PACKED_TUPLE_TAGS", "Unpackable", "pack", "unpack"]

NONE, FALSE, TRUE, FLOAT, INT, STRING, TUPLE = range(7)
SMALL_INT, SMALL_INTS = 0x10, 0x70
SHORT_STRING, SHORT = 0x80, 0x40
SHORT_TUPLE = 0xC0
LARGEST_INT = 1 << 62
PACKED_TUPLE_TAGS = frozenset({TUPLE, *range(SHORT_TUPLE, 0x100)})
"""First bytes of a packed tuple."""

_DOUBLE = struct.Struct("<d")


class Unpackable(ValueError):
    """A value this format does not hold (the caller packs it otherwise)."""


def _varint(number: int, out: bytearray) -> None:
    while number >= 0x80:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)


def _pack(value: Any, out: bytearray) -> None:
    kind = type(value)
    if value is None:
        out.append(NONE)
    elif kind is bool:
        out.append(TRUE if value else FALSE)
    elif kind is int:
        if 0 <= value < SMALL_INTS:
            out.append(SMALL_INT + value)
        elif -LARGEST_INT < value < LARGEST_INT:
            out.append(INT)
            _varint(2 * value if value >= 0 else -2 * value - 1, out)
        else:
            raise Unpackable(f"int out of range: {value}")
    elif kind is float:
        out.append(FLOAT)
        out += _DOUBLE.pack(value)
    elif kind is str:
        if not value.isascii():
            raise Unpackable("a string that is not ASCII")
        if len(value) < SHORT:
            out.append(SHORT_STRING + len(value))
        else:
            out.append(STRING)
            _varint(len(value), out)
        out += value.encode("ascii")
    elif kind is tuple:
        if len(value) < SHORT:
            out.append(SHORT_TUPLE + len(value))
        else:
            out.append(TUPLE)
            _varint(len(value), out)
        for item in value:
            _pack(item, out)
    else:
        raise Unpackable(f"a value of type {kind.__name__}")


def pack(value: tuple[Any, ...]) -> bytes:
    """``value`` (a tuple) packed; :class:`Unpackable` when it holds a value of another type."""
    if type(value) is not tuple:
        raise Unpackable("only a tuple is packed")
    out = bytearray()
    _pack(value, out)
    return bytes(out)


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    number = shift = 0
    while True:
        byte = data[position]
        position += 1
        number |= (byte & 0x7F) << shift
        if byte < 0x80:
            return number, position
        shift += 7


def _unpack(data: bytes, position: int) -> tuple[Any, int]:
    tag = data[position]
    position += 1
    if tag >= SHORT_TUPLE or tag == TUPLE:
        if tag == TUPLE:
            length, position = _read_varint(data, position)
        else:
            length = tag - SHORT_TUPLE
        if length > len(data) - position:  # (each item takes a byte at least)
            raise ValueError("packed bytes cut short")
        items = []
        for _ in range(length):
            item, position = _unpack(data, position)
            items.append(item)
        return tuple(items), position
    if tag >= SHORT_STRING or tag == STRING:
        if tag == STRING:
            length, position = _read_varint(data, position)
        else:
            length = tag - SHORT_STRING
        if position + length > len(data):
            raise ValueError("packed bytes cut short")
        text = data[position : position + length].decode("ascii")
        return (sys.intern(text) if text.isidentifier() else text), position + length
    if tag >= SMALL_INT:
        return tag - SMALL_INT, position
    if tag == INT:
        number, position = _read_varint(data, position)
        return (number >> 1 if not number & 1 else -((number + 1) >> 1)), position
    if tag == FLOAT:
        return _DOUBLE.unpack_from(data, position)[0], position + 8
    if tag in (NONE, FALSE, TRUE):
        return (None, False, True)[tag], position
    raise ValueError(f"not packed bytes: tag {tag:#x} at byte {position - 1}")


def unpack(data: bytes) -> Any:
    """The value :func:`pack` packed into ``data``; ValueError for bytes that are not one packed value."""
    try:
        value, position = _unpack(data, 0)
    except (IndexError, struct.error):
        raise ValueError("packed bytes cut short") from None
    if position != len(data):
        raise ValueError("packed bytes with trailing data")
    return value
