# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""A read's call from its alignment, compiled (Cython): :meth:`editcheck.classification.outcomes.Classifier.python_classify`,
the pure-Python reference, step by step, with identical results.

The windows, donor positions and editable bases of each reference are C arrays made once per classifier; a read's
insertions, deletions and substitutions are walked as tuples, its projection as characters.  What few reads need
stays in the reference's own methods, called from here: a read below the identity threshold
(``_low_identity_fate``), a prime edit's scaffold check (``_has_scaffold_insertion``), the coding effect with
exons (``_coding_effect``) and donor changes that are not single-base substitutions (``_donor_state``).  A read
whose positions fall outside its reference (never from the aligner) is classified by the reference method, so
that it raises as the reference does.  Built by ``pip install`` (setup.py); without it, or with
``EDITCHECK_PURE_PYTHON=1``, the reference runs.
"""

from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cpython.unicode cimport PyUnicode_GET_LENGTH, PyUnicode_READ_CHAR
from libc.stdlib cimport free, malloc

from editcheck.alignment._named cimport named_tuple


cdef enum:
    MAX_CHECKS = 62  # donor changes checked in C (their bits in a long long); more: the reference's method


cdef class _ReferenceData:
    """What classifying reads on one reference reads, as C arrays."""

    cdef str sequence
    cdef Py_ssize_t length
    cdef bint amplicon, outcome_reference  # its kind: the amplicon; the amplicon or the HDR outcome
    cdef unsigned char* inside  # 1 for each position in the window
    cdef Py_ssize_t* prefix  # window positions before each position (length + 1)
    cdef Py_ssize_t first, last  # the window's first and last positions
    cdef unsigned char* donor_at  # 1 for each position of a donor change
    cdef object donor_insertions, donor_deletions  # donor changes that are indels on this reference (sets)
    cdef bint donor_in_c  # every donor change a single-base substitution: checked here
    cdef Py_ssize_t checks
    cdef Py_ssize_t* check_at
    cdef Py_UCS4* check_base
    cdef long long* check_bit

    def __dealloc__(self):
        free(self.inside)
        free(self.prefix)
        free(self.donor_at)
        free(self.check_at)
        free(self.check_base)
        free(self.check_bit)


cdef void* _allocated(Py_ssize_t size) except NULL:
    cdef void* memory = malloc(size if size > 0 else 1)
    if memory == NULL:
        raise MemoryError()
    return memory


cdef class ClassifierCore:
    """:meth:`~editcheck.classification.outcomes.Classifier.python_classify` of ``classifier`` compiled: its
    :meth:`classify` gives the same call for every alignment."""

    cdef object python, read_call, describe, editable_positions, target
    cdef list references
    cdef double min_identity
    cdef bint ignore_insertions, ignore_deletions, ignore_substitutions, count_substitutions, has_donor, editor
    cdef bint has_exons
    cdef Py_ssize_t large_deletion_min, editing_length
    cdef unsigned char* editing
    cdef Py_UCS4 from_base, to_base
    cdef str not_aligned, window_not_covered, editable_base_masked, large_deletion, ambiguous, hdr, imperfect_hdr
    cdef str modified, unmodified, scaffold_insertion, prime_edit, prime_edit_with_changes, indel, converted
    cdef str unedited, intended_only, intended_and_bystander, bystander_only

    def __cinit__(self):
        self.editing = NULL

    def __dealloc__(self):
        free(self.editing)

    def __init__(self, object classifier):
        from editcheck.classification import outcomes
        from editcheck.design import AMPLICON, HDR_KIND

        cdef _ReferenceData data
        cdef Py_ssize_t position, k
        settings = classifier.settings
        self.python = classifier
        self.read_call = outcomes.ReadCall
        self.describe = outcomes._describe
        self.min_identity = settings.min_identity
        self.ignore_insertions = settings.ignore_insertions
        self.ignore_deletions = settings.ignore_deletions
        self.ignore_substitutions = settings.ignore_substitutions
        self.count_substitutions = settings.count_substitutions
        self.large_deletion_min = settings.large_deletion_min
        self.has_donor = bool(classifier._donor_changes)
        self.editor = classifier._editor
        self.has_exons = bool(classifier._exons)
        self.editable_positions = tuple(classifier._editable)
        editor = classifier.design.base_editor
        self.target = None
        self.from_base = self.to_base = 0
        self.editing_length = 0
        if editor is not None:
            from_base, to_base = editor.forward_conversion
            self.from_base, self.to_base = ord(from_base), ord(to_base)
            self.target = editor.target
            self.editing_length = max(classifier._editing, default=-1) + 1
        self.editing = <unsigned char*>_allocated(self.editing_length)
        for position in range(self.editing_length):
            self.editing[position] = position in classifier._editing
        self.references = []
        for index, reference in enumerate(classifier._references):
            data = _ReferenceData()
            data.sequence = reference.sequence
            data.length = len(reference.sequence)
            data.amplicon = reference.kind == AMPLICON
            data.outcome_reference = reference.kind in (AMPLICON, HDR_KIND)
            window = classifier._windows[index]
            data.first, data.last = window.first, window.last
            data.inside = <unsigned char*>_allocated(len(window.inside))
            for position in range(len(window.inside)):
                data.inside[position] = bool(window.inside[position])
            data.prefix = <Py_ssize_t*>_allocated(len(window.prefix) * sizeof(Py_ssize_t))
            for position in range(len(window.prefix)):
                data.prefix[position] = window.prefix[position]
            if len(window.inside) != data.length or len(window.prefix) != data.length + 1:
                raise ValueError("a window that is not its reference's length")
            data.donor_at = <unsigned char*>_allocated(data.length)
            donor_positions = classifier._donor_positions[index]
            for position in range(data.length):
                data.donor_at[position] = position in donor_positions
            data.donor_insertions, data.donor_deletions = (
                classifier._donor_indels[index] if classifier._donor_changes else ((), ())
            )
            checks = classifier._donor_checks[index] if classifier._donor_changes else ()
            data.checks = len(checks)
            data.donor_in_c = data.checks <= MAX_CHECKS and all(
                kind == 0 and len(bases) == 1 and 0 <= start < data.length and bit == 1 << k
                for k, (bit, kind, start, _, bases) in enumerate(checks)
            )  # fmt: skip
            data.check_at = <Py_ssize_t*>_allocated(data.checks * sizeof(Py_ssize_t))
            data.check_base = <Py_UCS4*>_allocated(data.checks * sizeof(Py_UCS4))
            data.check_bit = <long long*>_allocated(data.checks * sizeof(long long))
            if data.donor_in_c:
                for k in range(data.checks):
                    data.check_at[k] = checks[k][2]
                    data.check_base[k] = ord(checks[k][4])
                    data.check_bit[k] = (<long long>1) << k
            self.references.append(data)
        self.not_aligned, self.window_not_covered = outcomes.NOT_ALIGNED, outcomes.WINDOW_NOT_COVERED
        self.editable_base_masked, self.large_deletion = outcomes.EDITABLE_BASE_MASKED, outcomes.LARGE_DELETION
        self.ambiguous, self.hdr, self.imperfect_hdr = outcomes.AMBIGUOUS, outcomes.HDR, outcomes.IMPERFECT_HDR
        self.modified, self.unmodified = outcomes.MODIFIED, outcomes.UNMODIFIED
        self.scaffold_insertion, self.prime_edit = outcomes.SCAFFOLD_INSERTION, outcomes.PRIME_EDIT
        self.prime_edit_with_changes = outcomes.PRIME_EDIT_WITH_CHANGES
        self.indel, self.converted, self.unedited = outcomes.INDEL, outcomes.CONVERTED, outcomes.UNEDITED
        self.intended_only, self.bystander_only = outcomes.INTENDED_ONLY, outcomes.BYSTANDER_ONLY
        self.intended_and_bystander = outcomes.INTENDED_AND_BYSTANDER

    def classify(self, object aligned):
        """The call of ``aligned`` (an :class:`~editcheck.alignment.aligner.AlignedRead`, or None: not aligned)."""
        cdef tuple read, deletions, insertions, substitutions, event, largest
        cdef _ReferenceData data
        cdef str projection, sequence, bases
        cdef object outcome, fate, donor_missing_object, events, base_edit, coding
        cdef Py_ssize_t start, end, k, count, position, begin, size, largest_length = 0, largest_start = 0
        cdef Py_ssize_t insertion_bases = 0, deletion_bases = 0, in_window = 0, conversions = 0, counted
        cdef Py_ssize_t converted = 0
        cdef long long present = 0, missing = 0
        cdef bint indel_in_window, edited, hdr_other_edit = False, target_converted = False, splice = False
        cdef bint target_shown = False
        cdef Py_UCS4 base
        if aligned is None:
            return self.read_call(self.not_aligned)
        read = <tuple>aligned
        if PyTuple_GET_SIZE(read) != 10:
            return self.python.python_classify(aligned)
        data = <_ReferenceData>self.references[read[0]]
        start, end = read[4], read[5]
        projection = read[6]
        insertions, deletions, substitutions = read[7], read[8], read[9]
        sequence = data.sequence
        if not self._within(data, start, end, projection, insertions, deletions, substitutions):
            return self.python.python_classify(aligned)
        largest = None
        for k in range(PyTuple_GET_SIZE(deletions)):  # the first longest deletion, as max() picks it
            event = <tuple>PyTuple_GET_ITEM(deletions, k)
            size = event[1]
            if largest is None or size > largest_length:
                largest, largest_start, largest_length = event, event[0], size
        if read[3] < self.min_identity:
            fate = self.python._low_identity_fate(aligned, largest if largest is not None else (0, 0), data.length)
            if fate != self.large_deletion:
                return self.read_call(fate)
        if start > data.first or end <= data.last:
            return self.read_call(
                self.window_not_covered, 0, 0, 0, self.describe(sequence, insertions, deletions, substitutions)
            )
        if self.editable_positions and data.amplicon:
            for position in self.editable_positions:
                if PyUnicode_READ_CHAR(projection, position) == u"N":
                    return self.read_call(
                        self.editable_base_masked, 0, 0, 0, self.describe(sequence, insertions, deletions, substitutions)
                    )
        if not self.ignore_insertions:
            for k in range(PyTuple_GET_SIZE(insertions)):
                event = <tuple>PyTuple_GET_ITEM(insertions, k)
                position = event[0]
                if 0 < position < data.length and data.inside[position - 1] and data.inside[position]:
                    if not self.has_donor or event not in data.donor_insertions:
                        insertion_bases += PyUnicode_GET_LENGTH(<str>event[1])
        if not self.ignore_deletions:
            for k in range(PyTuple_GET_SIZE(deletions)):
                event = <tuple>PyTuple_GET_ITEM(deletions, k)
                begin, size = event[0], event[1]
                if data.prefix[begin + size] - data.prefix[begin] > 0:
                    if not self.has_donor or event not in data.donor_deletions:
                        deletion_bases += size
        indel_in_window = insertion_bases or deletion_bases
        donor_missing_object = 0
        if self.has_donor:
            if data.donor_in_c:
                for k in range(data.checks):
                    base = PyUnicode_READ_CHAR(projection, data.check_at[k])
                    if base == u"N":
                        continue  # a masked base is no evidence either way
                    if base == data.check_base[k]:
                        present |= data.check_bit[k]
                    else:
                        missing |= data.check_bit[k]
                donor_missing_object = missing
            else:
                present_object, donor_missing_object = self.python._donor_state(aligned)
                present = 1 if present_object else 0
        # Substitutions in the window (not at a donor change's positions with a donor), and the editor's conversions.
        for k in range(PyTuple_GET_SIZE(substitutions)):
            event = <tuple>PyTuple_GET_ITEM(substitutions, k)
            position = event[0]
            if not data.inside[position] or (self.has_donor and data.donor_at[position]):
                continue
            in_window += 1
            if data.amplicon and self.editor:
                bases = event[1]
                if (
                    PyUnicode_GET_LENGTH(bases) == 1 and PyUnicode_READ_CHAR(bases, 0) == self.to_base
                    and PyUnicode_READ_CHAR(sequence, position) == self.from_base
                ):  # fmt: skip
                    conversions += 1
        if self.count_substitutions:
            counted = in_window
        elif self.ignore_substitutions:
            counted = 0
        else:
            counted = conversions
        edited = indel_in_window or counted
        large = 0
        if (
            largest_length >= self.large_deletion_min
            and data.prefix[largest_start + largest_length] - data.prefix[largest_start] > 0
        ):  # fmt: skip
            large = largest[1] if largest is not None else 0
        # A read that fits the amplicon and an outcome reference equally well shows no outcome-specific base, so it
        # is not evidence of that outcome: the aligner resolves such ties to the amplicon.
        if read[1] and read[0] != 0:
            outcome = self.ambiguous
        elif self.has_donor and present:
            hdr_other_edit = edited
            outcome = self.imperfect_hdr if donor_missing_object or hdr_other_edit else self.hdr
        elif data.outcome_reference:
            outcome = self.large_deletion if large else self.modified if edited else self.unmodified
            donor_missing_object = 0
        elif self.python._has_scaffold_insertion(aligned):
            outcome = self.scaffold_insertion
        else:
            outcome = self.prime_edit_with_changes if edited else self.prime_edit
        base_edit = ""
        if data.amplicon and self.editor:
            if indel_in_window:
                base_edit = self.indel
            else:
                for k in range(PyTuple_GET_SIZE(substitutions)):
                    event = <tuple>PyTuple_GET_ITEM(substitutions, k)
                    position = event[0]
                    bases = event[1]
                    if (
                        PyUnicode_GET_LENGTH(bases) == 1 and PyUnicode_READ_CHAR(bases, 0) == self.to_base
                        and position < self.editing_length and self.editing[position]
                        and PyUnicode_READ_CHAR(sequence, position) == self.from_base
                    ):  # fmt: skip
                        converted += 1
                        if self.target is not None and event[0] == self.target:
                            target_shown = True
                if self.target is None:
                    base_edit = self.converted if converted else self.unedited
                elif target_shown:
                    base_edit = self.intended_and_bystander if converted - 1 else self.intended_only
                    target_converted = True
                else:
                    base_edit = self.bystander_only if converted else self.unedited
        coding = ""
        if self.has_exons and data.amplicon and (outcome == self.modified or outcome == self.large_deletion):
            coding, splice_object = self.python._coding_effect(aligned, self.python._windows[read[0]])
            splice = splice_object
        events = self.describe(sequence, insertions, deletions, substitutions)
        return named_tuple(self.read_call, (
            outcome, insertion_bases, deletion_bases, in_window, events, base_edit, target_converted, coding, splice,
            large, in_window - conversions, donor_missing_object, hdr_other_edit,
        ))  # fmt: skip

    cdef bint _within(
        self, _ReferenceData data, Py_ssize_t start, Py_ssize_t end, str projection, tuple insertions,
        tuple deletions, tuple substitutions,
    ):  # fmt: skip
        """Every position the classification reads lies inside the reference (else the reference method runs)."""
        cdef Py_ssize_t k, position, size
        cdef tuple event
        if PyUnicode_GET_LENGTH(projection) != data.length or start < 0 or end > data.length:
            return False
        for k in range(PyTuple_GET_SIZE(deletions)):
            event = <tuple>PyTuple_GET_ITEM(deletions, k)
            if PyTuple_GET_SIZE(event) != 2:
                return False
            position, size = event[0], event[1]
            if position < 0 or size < 0 or position + size > data.length:
                return False
        for k in range(PyTuple_GET_SIZE(insertions)):
            event = <tuple>PyTuple_GET_ITEM(insertions, k)
            if PyTuple_GET_SIZE(event) != 2 or type(event[1]) is not str:
                return False
        for k in range(PyTuple_GET_SIZE(substitutions)):
            event = <tuple>PyTuple_GET_ITEM(substitutions, k)
            if PyTuple_GET_SIZE(event) != 2 or type(event[1]) is not str:
                return False
            position = event[0]
            if position < 0 or position >= data.length:
                return False
        if data.amplicon:
            for position in self.editable_positions:
                if position < 0 or position >= data.length:
                    return False
        return True
