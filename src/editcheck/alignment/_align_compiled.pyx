# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
""":meth:`editcheck.alignment.aligner.ReadAligner.align` compiled (Cython): the same steps on the same state, with
identical results; the Python methods (``align``, ``_align_to``, ``_run``, ``_build``, ``orientations``,
``candidates``) are the reference.  ``aligner._strip_stray_ends`` (a stray match before a deletion on a free read
end: reads that start or stop inside the amplicon, not the amplicon reads of a run) is called, not written again.

Around WFA itself, a unique read's alignment is many small steps (anchors, orientation, the ungapped shortcut,
free ends, the core span and penalty, choosing the best reference), which this runs with C integers and without
the interpreter's frames: on the 123,551 unique reads of ``benchmarks/scale.py``'s 1M input, 1.39 s with the
methods, 1.21 s here (WFA itself ~0.6 s of either).  The kernels it calls are :mod:`editcheck.alignment._compiled`'s.
The state is read from the aligner once, when it is made.
Built by ``pip install`` (setup.py) with the other extensions; :mod:`editcheck.alignment.hotpath` offers it only
with the compiled kernels.
"""

from editcheck.alignment._named cimport named_tuple

from editcheck.alignment._compiled import (
    anchor_clips,
    build_events,
    core_penalty,
    core_span,
    signature_index,
    ungapped_substitutions,
)


cdef class AlignerCore:
    """The alignment state of one :class:`~editcheck.alignment.aligner.ReadAligner` (shared, not copied) and its
    :meth:`align`."""

    cdef list sequences, targets, end_to_end, ends_free, seeds, cut_boundaries, single
    cdef object sliced, low_memory_end_to_end, low_memory_ends_free, all_references, signatures, strip_stray_ends
    cdef object forward_only, reverse_only, aligned_read, locate, reverse_complement
    cdef str forward_first, forward_last, reverse_first, reverse_last
    cdef double min_identity
    cdef Py_ssize_t large_deletion_min, max_read_length, min_read_length, anchor, kmer, seed_margin
    cdef Py_ssize_t high_memory_max_length, mismatch, gap_open, gap_extend, max_ungapped, max_free_end

    def __init__(self, object owner):
        from editcheck.alignment import aligner as module

        self.sequences = [reference.sequence for reference in owner.references]
        self.targets = list(owner._targets)
        self.end_to_end = list(owner._end_to_end)
        self.ends_free = list(owner._ends_free)
        self.sliced = owner._sliced
        self.low_memory_end_to_end = owner._low_memory_end_to_end
        self.low_memory_ends_free = owner._low_memory_ends_free
        self.strip_stray_ends = module._strip_stray_ends
        self.seeds = list(owner._seeds)
        self.cut_boundaries = list(owner._cut_boundaries)
        self.forward_only = owner._forward_only
        self.reverse_only = owner._reverse_only
        self.forward_first, self.forward_last = owner._forward_anchors
        self.reverse_first, self.reverse_last = owner._reverse_anchors
        self.signatures = owner._signatures
        self.all_references = owner._all
        self.single = list(owner._single)
        self.min_identity = owner.min_identity
        self.large_deletion_min = owner.large_deletion_min
        self.max_read_length = owner.max_read_length
        self.min_read_length = module.MIN_READ_LENGTH
        self.anchor = module.ANCHOR
        self.kmer = module.KMER
        self.seed_margin = module.SEED_MARGIN
        self.high_memory_max_length = module.HIGH_MEMORY_MAX_LENGTH
        self.mismatch = module.MISMATCH_PENALTY
        self.gap_open = module.GAP_OPEN_PENALTY
        self.gap_extend = module.GAP_EXTEND_PENALTY
        self.max_ungapped = module.MAX_UNGAPPED_MISMATCHES
        self.max_free_end = module.MAX_FREE_END_MISMATCHES
        self.aligned_read = module.AlignedRead
        self.locate = module.locate
        self.reverse_complement = module.reverse_complement

    cpdef object align(self, str read, object only=None):
        """:meth:`~editcheck.alignment.aligner.ReadAligner.align`."""
        cdef Py_ssize_t length = len(read), penalty, best_penalty = 0
        cdef bint tie = False, reverse
        cdef tuple best = None, result
        cdef object orientations, indices, index, aligned
        if length < self.min_read_length or length > self.max_read_length:
            return None
        orientations = self._orientations(read)
        for reverse in orientations:
            sequence = self.reverse_complement(read) if reverse else read
            if only is not None:
                indices = (only,)
            elif not self.signatures:
                indices = self.all_references
            else:
                found = signature_index(sequence, self.signatures)
                indices = self.all_references if found < 0 else self.single[found]
            for index in indices:
                result = self._align_to(index, sequence, reverse)
                if result is None:
                    continue
                penalty = result[0]
                if best is None or penalty < best_penalty:
                    best, best_penalty, tie = result, penalty, False
                elif penalty == best_penalty and result[1] != best[1]:
                    tie = True
        if best is None:
            return None
        # Only the winning alignment is turned into events (placement is the costly part).
        if len(best) == 3:
            aligned = best[2]
        else:
            aligned = self._build(best)
        if aligned.identity < self.min_identity and not self._has_large_deletion(aligned.deletions):
            return None
        if tie:
            return named_tuple(self.aligned_read, (aligned[0], True, *aligned[2:]))
        return aligned

    cdef bint _has_large_deletion(self, tuple deletions):
        cdef Py_ssize_t length
        for _, length in deletions:
            if length >= self.large_deletion_min:
                return True
        return False

    cdef tuple _orientations(self, str read):
        cdef Py_ssize_t index, forward = 0, reverse = 0, stop = len(read) - self.kmer + 1
        if self.forward_first in read or self.forward_last in read:
            return (False,)
        if self.reverse_first in read or self.reverse_last in read:
            return (True,)
        for index in range(0, stop, self.kmer):
            kmer = read[index : index + self.kmer]
            if kmer in self.forward_only:
                forward += 1
            elif kmer in self.reverse_only:
                reverse += 1
        if forward > reverse:
            return (False,)
        if reverse > forward:
            return (True,)
        return (False, True)

    cdef tuple _align_to(self, object index, str read, bint reverse):
        """``ReadAligner._align_to``: ``(penalty, index, AlignedRead)`` for the ungapped shortcut, else ``(penalty,
        index, reverse, text, core, read_start, read_end, reference_start, reference_end, has_gap)``."""
        cdef Py_ssize_t at = index
        cdef tuple target = self.targets[at]
        cdef str reference = target[0], text
        cdef Py_ssize_t read_length = len(read), reference_length = len(reference), text_length
        cdef Py_ssize_t clip_left, clip_right, begin_free, end_free, low, high, pattern_begin, pattern_end
        cdef Py_ssize_t read_start, read_end, reference_start, reference_end, penalty, limit
        cdef object start, stop, found, trimmed, core, aligner
        clip_left, clip_right, begin_free, end_free = anchor_clips(read, target[1], target[2], self.anchor)
        text = read[clip_left:clip_right] if clip_left or clip_right < read_length else read
        text_length = len(text)
        if text_length == reference_length:
            limit = self.max_free_end if begin_free or end_free else self.max_ungapped
            found = ungapped_substitutions(reference, text, limit)
            if found is not None:
                differing, substitutions = found
                identity = 100.0 * (reference_length - <Py_ssize_t>differing) / reference_length
                return self.mismatch * differing, index, named_tuple(
                    self.aligned_read,
                    (index, False, reverse, identity, 0, reference_length, text, (), (), substitutions),
                )
        low, high = 0, reference_length
        pattern_begin = pattern_end = 0
        if (begin_free or end_free) and text_length < reference_length - self.seed_margin:
            seeds = self.seeds[at]
            start = self.locate(seeds, reference, text) if begin_free else None
            if start is not None and start > self.seed_margin:
                low = start - self.seed_margin
                pattern_begin, begin_free = 2 * self.seed_margin, 0
            stop = self.locate(seeds, reference, text, True) if end_free else None
            if stop is not None and stop < reference_length - self.seed_margin:
                high = stop + self.seed_margin
                pattern_end, end_free = 2 * self.seed_margin, 0
            pattern_begin, pattern_end = min(pattern_begin, high - low), min(pattern_end, high - low)
        aligner = self._run(at, reference, text, low, high, pattern_begin, pattern_end, begin_free, end_free)
        if aligner.status != 0:
            return None
        trimmed = core_span(aligner.cigartuples, text_length, low, high)
        if trimmed is None:
            return None
        core, read_start, read_end, reference_start, reference_end = trimmed
        if (begin_free and core[0][1] < self.anchor) or (end_free and core[len(core) - 1][1] < self.anchor):
            core, read_start, read_end, reference_start, reference_end = self.strip_stray_ends(
                text, reference, core, read_start, read_end, reference_start, reference_end, begin_free > 0,
                end_free > 0,
            )
        penalty, has_gap = core_penalty(core, self.mismatch, self.gap_open, self.gap_extend)
        return penalty, index, reverse, text, core, read_start, read_end, reference_start, reference_end, has_gap

    cdef object _run(
        self, Py_ssize_t index, str reference, str text, Py_ssize_t low, Py_ssize_t high, Py_ssize_t pattern_begin,
        Py_ssize_t pattern_end, Py_ssize_t begin_free, Py_ssize_t end_free,
    ):
        """``ReadAligner._run``: ``text`` aligned to reference[low:high] with these free ends; the aligner."""
        cdef object pattern = None, aligner
        cdef bint free = pattern_begin or pattern_end or begin_free or end_free
        if (high - low) + len(text) > self.high_memory_max_length:
            aligner = self.low_memory_ends_free if free else self.low_memory_end_to_end
            pattern = reference[low:high]
        elif low == 0 and high == len(reference):
            aligner = self.ends_free[index] if free else self.end_to_end[index]
        else:
            aligner, pattern = self.sliced, reference[low:high]
        if free:
            aligner.pattern_begin_free = pattern_begin
            aligner.pattern_end_free = pattern_end
            aligner.text_begin_free = len(text) if begin_free else 0
            aligner.text_end_free = len(text) if end_free else 0
        if pattern is None:
            aligner.wavefront_align(text)
        else:
            aligner.wavefront_align(text, pattern)
        return aligner

    cdef object _build(self, tuple best):
        """``ReadAligner._build`` of a gapped-path result of :meth:`_align_to`."""
        cdef Py_ssize_t index = best[1]
        identity, projection, insertions, deletions, substitutions = build_events(
            self.sequences[index], best[3], best[4], best[5], best[6], best[7], best[8], best[9],
            self.cut_boundaries[index],
        )
        return named_tuple(self.aligned_read, (
            best[1], False, best[2], identity, best[7], best[8], projection, insertions, deletions, substitutions,
        ))
