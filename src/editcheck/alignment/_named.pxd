# cython: language_level=3
"""A named tuple made from C, shared by the compiled extensions that build the engine's named tuples (alignments,
calls, pooled calls) once per read: ``tuple.__new__(type, items)`` goes through a Python call, argument parsing and
a temporary tuple copied into the new one (~65 ns); :func:`named_tuple` allocates the instance of the tuple
subtype and sets its items (~28 ns).  The instance is what ``tuple.__new__`` gives: its type's ``tp_alloc``
(a tuple subtype's, tracked by the garbage collector) with the items in place."""

from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_SET_ITEM


cdef extern from *:
    """
    static PyObject* editcheck_tuple_alloc(PyObject* type, Py_ssize_t size) {
        PyTypeObject* made = (PyTypeObject*)type;
        return made->tp_alloc(made, size);
    }
    static int editcheck_tuple_subtype(PyObject* type) {
        return PyType_Check(type) && type != (PyObject*)&PyTuple_Type
            && PyType_IsSubtype((PyTypeObject*)type, &PyTuple_Type);
    }
    """
    object editcheck_tuple_alloc(object type_, Py_ssize_t size)
    bint editcheck_tuple_subtype(object type_)


cdef inline object named_tuple(object type_, object items):
    """``tuple.__new__(type_, items)`` for a tuple subtype ``type_`` (a named tuple) and a tuple ``items``; any
    other type or items go to ``tuple.__new__`` itself."""
    if type(items) is not tuple or not editcheck_tuple_subtype(type_):
        return tuple.__new__(type_, items)
    cdef Py_ssize_t size = PyTuple_GET_SIZE(items), k
    cdef object made = editcheck_tuple_alloc(type_, size)
    cdef object item
    for k in range(size):
        item = <object>PyTuple_GET_ITEM(items, k)
        Py_INCREF(item)
        PyTuple_SET_ITEM(made, k, item)
    return made
