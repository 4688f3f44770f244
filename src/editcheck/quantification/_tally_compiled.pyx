# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The tally's pass over the calls, compiled (Cython): :func:`editcheck.quantification.tally.python_count_calls`,
the pure-Python reference, step by step, with identical counts (the counters' keys in the same first-seen order,
the alleles' reads by key in the same order).  Counts are summed in C integers and added to the tally's fields
at the end; the counters and the alleles are the tally's own dicts, updated as the reference updates them; each
projection goes to its reference's profile counter (``add``), each insertion's count into its ``insertions`` array
through a C pointer.  Built by ``pip install`` (setup.py); without it, or with ``EDITCHECK_PURE_PYTHON=1``, the
reference runs.  :func:`equal_sequence_indices` and :func:`append_alleles` do the sorted alleles' last steps
(:func:`~editcheck.quantification.tally.sort_keys`, :func:`~editcheck.quantification.tally.sorted_alleles`), and
:func:`allele_line_chunks` makes alleles.tsv's lines as :func:`editcheck.results.sample._allele_lines` does.
"""

from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF, Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_SET_ITEM
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy


cdef extern from "Python.h":
    ctypedef struct PyTypeObject
    PyObject* PyType_GenericAlloc(PyTypeObject* kind, Py_ssize_t items)
    void* PyType_GetSlot(PyTypeObject* kind, int slot) except? NULL
    int Py_tp_alloc
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


def equal_sequence_indices(list keys):
    """The indices ``i`` (from 1, ascending) where allele key ``keys[i]`` (a ``(reference, sequence, outcome, events)``
    tuple) has the sequence of ``keys[i - 1]``, as :func:`editcheck.quantification.tally.sort_keys` finds its runs
    of keys with one sequence: an equality test of adjacent strings each, not a list of the sequences first."""
    cdef Py_ssize_t index, count = len(keys)
    cdef list found = []
    cdef object before, current
    for index in range(count):
        if not isinstance(keys[index], tuple) or len(<tuple>keys[index]) != 4:
            raise TypeError("an allele key is a tuple of four fields")
    if count < 2:
        return found
    before = (<tuple>keys[0])[1]
    for index in range(1, count):
        current = (<tuple>keys[index])[1]
        if current is before or current == before:
            found.append(index)
        before = current
    return found


def append_alleles(list alleles, list keys, object reads, type allele_type):
    """Append to ``alleles`` an ``allele_type`` (a ``NamedTuple`` of five fields: ``Allele``) for each allele key of
    ``keys`` (``(reference, sequence, outcome, events)``, all strings), in order, with ``reads``; ``keys`` is emptied,
    each key freed once its allele is made (as :func:`editcheck.quantification.tally.sorted_alleles` does, so the
    keys and the alleles are not all alive together).  Each allele is made as ``tuple.__new__`` makes a tuple
    subclass's (the type's allocation, then its items), without a Python call, and untracked by the cyclic garbage
    collector: strings and a count are in no reference cycle, and the collector never untracks a tuple subclass's
    instance itself (a run's alleles, made while the engine keeps the collector off, would otherwise be visited by
    the first collection after the run: 10M reads' 542k alleles ~0.2 s, and by every full one)."""
    cdef Py_ssize_t index, field, count = len(keys)
    cdef object key, item, allele
    cdef PyObject* made
    if not issubclass(allele_type, tuple) or PyType_GetSlot(<PyTypeObject*>allele_type, Py_tp_alloc) != <void*>PyType_GenericAlloc:
        raise TypeError("an allele type is a plain tuple subclass (a NamedTuple)")
    if type(reads) is not int:
        raise TypeError(f"reads is an int, not {type(reads).__name__}")
    for index in range(count):
        key = keys[index]
        if not isinstance(key, tuple) or len(<tuple>key) != 4:
            raise TypeError("an allele key is a tuple of four fields")
        for field in range(4):
            if type((<tuple>key)[field]) is not str:
                raise TypeError(f"an allele key's field is a str, not {type((<tuple>key)[field]).__name__}")
    for index in range(count):
        key = keys[index]
        made = PyType_GenericAlloc(<PyTypeObject*>allele_type, 5)
        if made == NULL:
            raise MemoryError()
        allele = <object>made
        Py_DECREF(allele)  # <object> took a reference of its own: the allocation's is now the variable's
        for field in range(4):
            item = (<tuple>key)[field]
            Py_INCREF(item)
            PyTuple_SET_ITEM(allele, field, item)
        Py_INCREF(reads)
        PyTuple_SET_ITEM(allele, 4, reads)
        PyObject_GC_UnTrack(made)
        alleles.append(allele)
        keys[index] = None
    del keys[:]


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
