# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The tally's pass over the calls, compiled (Cython): :func:`editcheck.quantification.tally.python_count_calls`,
the pure-Python reference, step by step, with identical counts (the counters' keys in the same first-seen order,
the alleles' reads by key in the same order).  Counts are summed in C integers and added to the tally's fields
at the end; the counters and the alleles are the tally's own dicts, updated as the reference updates them; each
projection goes to its reference's profile counter (``add``), each insertion's count into its ``insertions`` array
through a C pointer.  Built by ``pip install`` (setup.py); without it, or with ``EDITCHECK_PURE_PYTHON=1``, the
reference runs.  :func:`untrack_atomic_tuples` takes the alleles out of the cyclic garbage collector's sight, and
:func:`allele_line_chunks` makes alleles.tsv's lines as :func:`editcheck.results.sample._allele_lines` does.
"""

from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy


cdef extern from "Python.h":
    int PyObject_GC_IsTracked(object item)
    void PyObject_GC_UnTrack(void* item)
    const char* PyUnicode_AsUTF8AndSize(object text, Py_ssize_t* size) except NULL
    char* PyByteArray_AS_STRING(object array)
    object PyBytes_FromStringAndSize(const char* data, Py_ssize_t size)


cdef inline void _add(object counts, object key, object count) except *:
    """``counts[key] += count`` as a ``Counter`` does it (a missing key counts 0, and is then set at the end):
    ``counts`` a dict or a ``Counter`` (a dict subclass that only adds ``__missing__``), read and set as a dict."""
    cdef PyObject* found = PyDict_GetItem(counts, key)
    if found == NULL:
        PyDict_SetItem(counts, key, 0 + count)
    else:
        PyDict_SetItem(counts, key, <object>found + count)


def count_calls(
    object tally, list names, list profiles, dict allele_counts, object calls, object aligned_sequence,
    object not_aligned, object ambiguous, object primer_dimer, object hdr, object imperfect_hdr, object classified,
):
    """Count ``calls`` (``(key, reads, alignment, call)`` each) into ``tally`` (a
    :class:`~editcheck.quantification.tally.Tally`), ``allele_counts`` and the references' ``profiles``
    (:class:`~editcheck.quantification.tally._ProfileCounter`, by reference index; ``names`` the references'
    names), as :func:`~editcheck.quantification.tally.python_count_calls` counts them; ``aligned_sequence`` makes
    an allele's sequence of an alignment with insertions, the outcome names are those of
    :mod:`editcheck.classification.outcomes` (``classified``: the classes that cover the window)."""
    cdef object outcomes = tally.outcomes, insertion_sizes = tally.insertion_sizes
    cdef object deletion_sizes = tally.deletion_sizes, donor_change_missing = tally.donor_change_missing
    cdef object large_deletion_sizes = tally.large_deletion_sizes, base_edit_classes = tally.base_edit_classes
    cdef object coding = tally.coding
    cdef int64_t reference_ties = 0, with_indel = 0, with_insertion = 0, with_deletion = 0, with_substitution = 0
    cdef int64_t with_other_substitution = 0, imperfect_hdr_missing = 0, imperfect_hdr_other_edit = 0
    cdef int64_t target_converted = 0, splice_sites = 0, weight, position
    cdef Py_ssize_t references = len(profiles), index, k, bit
    cdef tuple aligned, call, insertions, event
    cdef object count, outcome, value, missing, sequence, key
    cdef int64_t[::1] view
    cdef list views = []  # (the buffers the pointers below point into, kept)
    cdef list adders = [profile.add for profile in profiles]
    cdef int64_t** inserted
    cdef Py_ssize_t* inserted_length
    if len(names) != references:
        raise ValueError("a profile counter for every reference")
    for counts in (outcomes, insertion_sizes, deletion_sizes, donor_change_missing, large_deletion_sizes,
                   base_edit_classes, coding):
        if not isinstance(counts, dict) or type(counts).__setitem__ is not dict.__setitem__:
            raise TypeError("the tally's counters are dicts")
    classified = frozenset(classified)
    inserted = <int64_t**>malloc((references or 1) * sizeof(int64_t*))
    inserted_length = <Py_ssize_t*>malloc((references or 1) * sizeof(Py_ssize_t))
    if inserted == NULL or inserted_length == NULL:
        free(inserted)
        free(inserted_length)
        raise MemoryError()
    try:
        for index in range(references):
            view = profiles[index].insertions
            views.append(view)
            inserted_length[index] = view.shape[0]
            inserted[index] = &view[0] if view.shape[0] else NULL
        for item in calls:
            count = (<tuple>item)[1]
            value = (<tuple>item)[2]
            call = <tuple>(<tuple>item)[3]
            outcome = call[0]
            _add(outcomes, outcome, count)
            if value is None or outcome == not_aligned:
                continue
            aligned = <tuple>value
            weight = count
            index = aligned[0]
            if index < 0 or index >= references:
                raise IndexError(f"an alignment to reference {index} of {references}")
            if aligned[1] and outcome != ambiguous:
                reference_ties += weight
            if outcome in classified:
                if call[1] or call[2]:
                    with_indel += weight
                if call[1]:
                    with_insertion += weight
                    _add(insertion_sizes, call[1], count)
                if call[2]:
                    with_deletion += weight
                    _add(deletion_sizes, call[2], count)
                if call[3]:
                    with_substitution += weight
                if call[10]:
                    with_other_substitution += weight
                missing = call[11]
                if outcome == imperfect_hdr:
                    if missing:
                        imperfect_hdr_missing += weight
                    if call[12]:
                        imperfect_hdr_other_edit += weight
                if missing and (outcome == hdr or outcome == imperfect_hdr):
                    for bit in range(missing.bit_length()):
                        if missing >> bit & 1:
                            _add(donor_change_missing, bit, count)
                if call[9]:
                    _add(large_deletion_sizes, call[9], count)
                if call[5]:
                    _add(base_edit_classes, call[5], count)
                    if call[6]:
                        target_converted += weight
                if call[7]:
                    _add(coding, call[7], count)
                if call[8]:
                    splice_sites += weight
            insertions = <tuple>aligned[7]
            sequence = aligned_sequence(value) if PyTuple_GET_SIZE(insertions) else aligned[6]
            key = (names[index], sequence, outcome, call[4])
            _add(allele_counts, key, count)
            if outcome != ambiguous and outcome != primer_dimer:
                adders[index](aligned[6], count)
                if PyTuple_GET_SIZE(insertions):
                    for k in range(PyTuple_GET_SIZE(insertions)):
                        event = <tuple>PyTuple_GET_ITEM(insertions, k)
                        position = event[0]
                        if position > 0:
                            if position - 1 >= inserted_length[index]:
                                raise IndexError(f"an insertion at {position} beyond the reference's bases")
                            inserted[index][position - 1] += weight
    finally:
        free(inserted)
        free(inserted_length)
    tally.reference_ties += reference_ties
    tally.with_indel += with_indel
    tally.with_insertion += with_insertion
    tally.with_deletion += with_deletion
    tally.with_substitution += with_substitution
    tally.with_other_substitution += with_other_substitution
    tally.imperfect_hdr_missing += imperfect_hdr_missing
    tally.imperfect_hdr_other_edit += imperfect_hdr_other_edit
    tally.target_converted += target_converted
    tally.splice_sites += splice_sites


def untrack_atomic_tuples(list items):
    """Untrack from the cyclic garbage collector each tuple of ``items`` (a tuple or a subclass: a ``NamedTuple``'s)
    none of whose elements is tracked (strings, numbers): such a tuple can be in no reference cycle.  The
    collector does so itself for plain tuples when it first visits them, never for a subclass's: a run's alleles
    (an ``Allele`` per unique aligned sequence, made while the engine keeps the collector off) would otherwise be
    visited by the first collection after the run (10M reads' 542k alleles: ~0.2 s) and by every full one."""
    cdef object item, element
    cdef bint atomic
    for item in items:
        if not isinstance(item, tuple):
            raise TypeError(f"a tuple, not {type(item).__name__}")
        atomic = True
        for element in <tuple>item:
            if PyObject_GC_IsTracked(element):
                atomic = False
                break
        if atomic:
            PyObject_GC_UnTrack(<PyObject*>item)


def allele_line_chunks(object alleles, object suffix_of, Py_ssize_t chunk=1 << 20):
    """alleles.tsv's lines of ``alleles`` (each ``(reference, aligned sequence, outcome, events, reads)``, the four
    first strings) in UTF-8, as :func:`editcheck.results.sample._allele_lines` makes them and the table's file
    encodes them, yielded in ``bytes`` of about ``chunk`` bytes (whole lines): each line its four strings joined by
    tabs, then ``suffix_of(reads)`` (the read count's and percentage's columns, from a tab to the line break; asked
    once per read count).  One copy of each string's bytes into a buffer, not a Python string per line."""
    cdef dict suffixes = {}
    cdef bytearray buffer = bytearray(chunk if chunk > 0 else 1)
    cdef Py_ssize_t used = 0, need, k
    cdef Py_ssize_t sizes[5]
    cdef const char* texts[5]
    cdef char* out
    cdef object item, field, suffix
    cdef tuple allele
    for item in alleles:
        if not isinstance(item, tuple) or len(<tuple>item) != 5:
            raise TypeError("an allele is a tuple of five fields")
        allele = <tuple>item
        suffix = suffixes.get(allele[4])
        if suffix is None:
            suffix = suffix_of(allele[4])
            if not isinstance(suffix, str):
                raise TypeError(f"a line's end is a str, not {type(suffix).__name__}")
            suffixes[allele[4]] = suffix
        need = 3
        for k in range(5):
            field = allele[k] if k < 4 else suffix
            if type(field) is not str:
                raise TypeError(f"an allele's text field is a str, not {type(field).__name__}")
            texts[k] = PyUnicode_AsUTF8AndSize(field, &sizes[k])
            need += sizes[k]
        if used + need > len(buffer):
            if used:
                yield PyBytes_FromStringAndSize(PyByteArray_AS_STRING(buffer), used)
                used = 0
            if need > len(buffer):
                buffer = bytearray(need)
        out = PyByteArray_AS_STRING(buffer) + used
        for k in range(5):
            memcpy(out, texts[k], sizes[k])
            out += sizes[k]
            if k < 3:
                out[0] = 9  # a tab
                out += 1
        used += need
    if used:
        yield PyBytes_FromStringAndSize(PyByteArray_AS_STRING(buffer), used)
