# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Position profiles counted (Cython): each projection's characters added into the per-position symbol counts in
one pass, without the block of int64 codes the reference builds.  The reference is the numpy path of
:class:`editcheck.quantification.tally._ProfileCounter` (a bincount per block of projections), which gives the
same counts; built by ``pip install`` (setup.py), chosen by :func:`editcheck.compiled.compiled_module`.
"""

from libc.stdint cimport int64_t


cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object text)
    const unsigned char* PyUnicode_1BYTE_DATA(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)


def count_symbols(
    int64_t[::1] counts, const int64_t[::1] codes, list projections, object weights, Py_ssize_t length,
    Py_ssize_t width,
):
    """Add each of ``projections`` (``length`` characters each) into ``counts`` (``length * width``, position by
    position): at ``position * width + codes[character]``, its weight (``weights[k]``, or 1 when ``weights`` is
    None).  ``codes`` maps every byte to a symbol's column (``width`` - 1 for any other character)."""
    cdef Py_ssize_t k, position, count = len(projections)
    cdef const unsigned char* characters
    cdef int64_t weight = 1
    cdef object projection
    if counts.shape[0] != length * width or codes.shape[0] != 256:
        raise ValueError("counts or codes of the wrong size")
    for position in range(256):
        if not 0 <= codes[position] < width:
            raise ValueError("a character's code outside the counts' width")
    if weights is not None and len(weights) != count:
        raise ValueError("as many weights as projections are needed")
    for k in range(count):  # every projection checked first: a block refused counts nothing, as in the reference
        projection = projections[k]
        if type(projection) is not str:
            raise TypeError(f"a projection is a str, not {type(projection).__name__}")
        if not PyUnicode_IS_ASCII(projection):
            projection.encode("ascii")  # raises, as the reference does
        if PyUnicode_GET_LENGTH(projection) != length:
            raise ValueError(f"a projection of {PyUnicode_GET_LENGTH(projection)} characters, not {length}")
    for k in range(count):
        projection = projections[k]
        if weights is not None:
            weight = weights[k]
        characters = PyUnicode_1BYTE_DATA(projection)
        for position in range(length):
            counts[position * width + codes[characters[position]]] += weight
