"""Aligning and classifying unique reads: one amplicon's worker, a pool's worker, and the worker processes.

:class:`PoolWorker` is the engine's one worker: it assigns a unique read to one of the designs (k-mer
candidates, then alignment; :mod:`editcheck.alignment.assignment`) and classifies it there.  With one design
every read belongs to it and the assignment step is skipped, so a single-amplicon run and a pool of one give
the same calls.  :class:`UniqueReadAligner` runs a worker over unique reads as they are found, in forked
worker processes when threads > 1, and returns the results in submission order (thread-invariant output).

The engine keeps every unique read's result until the reads are all in and counted, so it asks for them
``compact`` (:func:`encode_result` / :func:`decode_result`, with 1 thread as with several), and so do the worker
processes send them back: one ``bytes`` per unique read (plain tuples instead of named tuples and enums, packed
by type tag: :mod:`editcheck.alignment.packing`, compiled), an alignment's projection left out when it is the read
itself (the parent holds that string already) or the read laid out by its indels and span
(:func:`~editcheck.alignment.hotpath.laid_out`, a compiled kernel; rebuilt when decoded).  A unique read's result
then costs ~60-100 bytes instead of ~800 in named tuples, enums, strings and tuples of tuples, and the parent
holds no per-read object until it tallies them, one at a time.
"""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing
import multiprocessing.pool
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

from editcheck.alignment.aligner import AlignedRead
from editcheck.alignment.assignment import AmpliconIndex, Assignment, best_amplicon
from editcheck.alignment.hotpath import ChunkRunner, ResultDecoder, laid_out, layout_offset, pack, unpack
from editcheck.alignment.packing import PACKED_TUPLE_TAGS, Unpackable
from editcheck.classification.called import Classified
from editcheck.classification.outcomes import TOO_LONG, Classifier, ReadCall
from editcheck.design import AmpliconDesign
from editcheck.engine.forked import grow_pipe
from editcheck.engine.settings import AnalysisSettings

__all__ = [
    "CHUNK", "STATUS_VALUES", "UNMASKED", "AmpliconWorker", "PoolWorker", "PooledCall", "RunnerParts", "TerminablePool",
    "UniqueReadAligner", "align_and_classify", "decode_result", "encode_result", "python_decode_result",
]  # fmt: skip

CHUNK = 4000
"""Unique reads sent to a worker at a time."""

MAX_IN_FLIGHT = 4
"""Chunks per worker process sent and not yet finished before reading waits for the oldest: reading never runs
far ahead of the workers, so what waits on them (the chunks, and the reads' pending quality masks) stays
bounded however fast the input decompresses."""


_new = tuple.__new__
_TOO_LONG_CALL = ReadCall(TOO_LONG)
_ASSIGNED = Assignment.ASSIGNED


class AmpliconWorker:
    """Aligns and classifies one unique read against one design."""

    def __init__(self, design: AmpliconDesign, settings: AnalysisSettings) -> None:
        self.aligner = settings.aligner(design)
        self.classifier = Classifier(design, settings.classification)

    def __call__(self, sequence: str) -> Classified:
        return _new(Classified, self.aligned_call(sequence))

    def aligned_call(self, sequence: str) -> tuple[AlignedRead | None, ReadCall]:
        """The read's alignment and call as a plain pair (what :meth:`__call__` returns, without the named tuple)."""
        aligner = self.aligner
        if len(sequence) > aligner.max_read_length:  # aligner.too_long, inlined (once per unique read)
            return None, _TOO_LONG_CALL
        aligned = aligner.align(sequence)
        if aligned is not None and aligned.reference != 0 and self.classifier.needs_amplicon(aligned):
            return self.classify_aligned(sequence, aligned)
        return aligned, self.classifier.classify(aligned)

    def classify_aligned(self, sequence: str, aligned: AlignedRead | None) -> Classified:
        """Classify a read's best alignment (realigned to the amplicon when it is HDR-free, see below)."""
        if aligned is not None and aligned.reference != 0 and self.classifier.needs_amplicon(aligned):
            # A read fitting the HDR outcome best without any donor-specific base (an NHEJ deletion that
            # removed the donor's sites) is not HDR: its edits are described against the amplicon.
            on_amplicon = self.aligner.align(sequence, only=0)
            if on_amplicon is not None:
                aligned = on_amplicon
        return Classified(aligned, self.classifier.classify(aligned))


class PooledCall(NamedTuple):
    """A unique read's assignment, and when assigned its amplicon (index into the designs), alignment and
    call there."""

    status: Assignment
    amplicon: int | None = None
    alignment: AlignedRead | None = None
    call: ReadCall | None = None


class PoolWorker:
    """Assigns one unique read to an amplicon and classifies it there.

    With one design every read belongs to it: a read that does not align, or is too long, gets the call
    ``quantify`` gives it (``not_aligned``, ``too_long``) in that amplicon's tables."""

    def __init__(self, designs: Sequence[AmpliconDesign], settings: AnalysisSettings) -> None:
        self.workers = [AmpliconWorker(design, settings) for design in designs]
        self.index = AmpliconIndex(designs) if len(designs) > 1 else None

    def __call__(self, sequence: str) -> PooledCall:
        if self.index is None:
            return _new(PooledCall, (_ASSIGNED, 0, *self.workers[0].aligned_call(sequence)))
        results = []
        candidates = self.index.candidates(sequence)
        if candidates and self.workers[candidates[0]].aligner.too_long(sequence):
            return PooledCall(Assignment.TOO_LONG)
        for candidate in candidates:
            aligned = self.workers[candidate].aligner.align(sequence)
            if aligned is not None:
                results.append((candidate, aligned))
        status, amplicon, aligned = best_amplicon(results)
        if amplicon is None:
            return PooledCall(status)
        aligned, call = self.workers[amplicon].classify_aligned(sequence, aligned)
        return PooledCall(status, amplicon, aligned, call)


_PROJECTION = AlignedRead._fields.index("projection")
_ASSIGNMENTS = {assignment.value: assignment for assignment in Assignment}


def _pack_alignment(sequence: str, aligned: AlignedRead | None) -> tuple[Any, ...] | None:
    if aligned is None:
        return None
    if aligned.projection == sequence:
        return (*aligned[:_PROJECTION], None, *aligned[_PROJECTION + 1 :])
    return tuple(aligned)


_START = AlignedRead._fields.index("start")


def _compact_alignment(sequence: str, aligned: AlignedRead | None) -> tuple[Any, ...] | None:
    """:func:`_pack_alignment`, the projection also left out when :func:`~editcheck.alignment.hotpath.laid_out`
    rebuilds it: ``(offset, length)`` in its place (the read's first aligned base, the reference's length)."""
    if aligned is None:
        return None
    reference, ambiguous, reverse, identity, start, end, projection, insertions, deletions, substitutions = aligned
    if projection == sequence:
        return (reference, ambiguous, reverse, identity, start, end, None, insertions, deletions, substitutions)
    offset = layout_offset(sequence, projection, start, end, insertions, deletions)
    if offset < 0:
        return tuple(aligned)
    return (
        reference, ambiguous, reverse, identity, start, end, (offset, len(projection)), insertions, deletions,
        substitutions,
    )  # fmt: skip


STATUS_VALUES = {assignment: assignment.value for assignment in Assignment}
"""Each assignment's value (a dict look-up: faster than the enum's ``.value``)."""


def encode_result(sequence: str, result: PooledCall | Classified) -> bytes:
    """A :class:`PoolWorker` or :class:`AmpliconWorker` result for ``sequence`` as one ``bytes`` (the module
    docstring); :func:`decode_result` gives it back equal."""
    if type(result) is PooledCall:
        status, amplicon, aligned, call = result
        packed: tuple[Any, ...] = (
            STATUS_VALUES[status], amplicon, _compact_alignment(sequence, aligned),
            None if call is None else tuple(call),
        )  # fmt: skip
    elif isinstance(result, PooledCall):
        status, amplicon, aligned, call = result
        packed = (status.value, amplicon, _compact_alignment(sequence, aligned), None if call is None else tuple(call))
    else:
        packed = (_compact_alignment(sequence, result.alignment), tuple(result.call))
    try:
        return pack(packed)
    except Unpackable:  # (a value pack does not hold, e.g. a read that is not ASCII)
        return marshal.dumps(packed)


def _decoded_alignment(sequence: str, aligned: tuple[Any, ...] | None) -> AlignedRead | None:
    if aligned is None:
        return None
    projection = aligned[_PROJECTION]
    if projection is None:
        projection = sequence
    elif type(projection) is tuple:
        offset, length = projection
        start, end = aligned[_START], aligned[_START + 1]
        projection = laid_out(sequence, length, start, end, aligned[_PROJECTION + 1], aligned[_PROJECTION + 2], offset)
    else:
        return _new(AlignedRead, aligned)
    return _new(AlignedRead, (*aligned[:_PROJECTION], projection, *aligned[_PROJECTION + 1 :]))


def python_decode_result(sequence: str, encoded: bytes) -> PooledCall | Classified:
    """The result :func:`encode_result` encoded for ``sequence`` (or ``marshal`` wrote), equal to the original: the
    reference of the compiled :data:`decode_result`."""
    packed = unpack(encoded) if encoded[0] in PACKED_TUPLE_TAGS else marshal.loads(encoded)
    if len(packed) == 4:
        status, amplicon, aligned, call = packed
        return _new(PooledCall, (
            _ASSIGNMENTS[status], amplicon, _decoded_alignment(sequence, aligned),
            None if call is None else _new(ReadCall, call),
        ))  # fmt: skip
    aligned, call = packed
    return _new(Classified, (_decoded_alignment(sequence, aligned), _new(ReadCall, call)))


decode_result: Callable[[str, bytes], PooledCall | Classified] = python_decode_result
"""The result :func:`encode_result` encoded for ``sequence`` (or ``marshal`` wrote), equal to the original, of the
same types: :func:`python_decode_result`, compiled where it is built (:class:`~editcheck.alignment.hotpath.ResultDecoder`:
the packed bytes unpacked and rebuilt in one call, 1.7-1.9 -> 1.2-1.5 us per unique read; other bytes go to
the reference)."""
if ResultDecoder is not None:
    decode_result = ResultDecoder(_ASSIGNMENTS, PooledCall, Classified, AlignedRead, ReadCall, PACKED_TUPLE_TAGS,
                                  python_decode_result)  # fmt: skip


class RunnerParts(NamedTuple):
    """What the compiled chunk runner (:class:`~editcheck.alignment._compiled.ChunkRunner`) takes of the quality
    masking of one design, in the order it takes them (:meth:`~editcheck.engine.masking.MaskingKernel.runner_parts`
    makes them; :data:`UNMASKED` for a run without masking, where no lows are given and none is used)."""

    by_reference: list[tuple[bytes, bytes, str]]
    """Each reference's decisive bytes, blocked bytes and sequence."""
    substitutable: bool
    """Whether the usual masks are made in C (not for prime editing)."""
    shared: dict[tuple[int, ...], tuple[int, ...]]
    """One tuple per position for one-position masks and masked positions."""
    find_sites: Callable[..., Any] | None
    """Finds the sites where the compiled kernel does not apply."""
    fallback: Callable[..., Any] | None
    """Makes a mask that is not the usual one."""
    classifier: Classifier | None
    decisive: Sequence[frozenset[int]] | None
    references: Sequence[Any] | None
    keyed: bool
    """Whether the masked reads' keys are made."""


UNMASKED = RunnerParts([], True, {}, None, None, None, None, None, False)
""":class:`RunnerParts` of a run without quality masking."""


def chunk_runner(worker: PoolWorker, kernel: Any = None) -> Any:
    """The compiled pass over a chunk of unique reads (:class:`~editcheck.alignment._compiled.ChunkRunner`) that
    gives what ``worker`` gives (one design) encoded, and with ``kernel`` (a
    :class:`~editcheck.engine.masking.MaskingKernel`) what :class:`~editcheck.engine.masking.SitesWorker` gives;
    None where it does not apply (several designs, the pure-Python reference), the per-read path then runs."""
    if ChunkRunner is None or worker.index is not None or len(worker.workers) != 1:
        return None
    amplicon = worker.workers[0]
    aligner, classifier = amplicon.aligner, amplicon.classifier
    parts: RunnerParts = kernel.runner_parts(0) if kernel is not None else UNMASKED
    return ChunkRunner(
        aligner.direct_align, classifier.classify, classifier.needs_amplicon, amplicon.classify_aligned,
        aligner.max_read_length, _TOO_LONG_CALL, _ASSIGNED, _ASSIGNED.value, PooledCall,
        ReadCall._fields.index("events"), *parts,
    )  # fmt: skip


_worker: Callable[..., Any] | None = None
_compact = False
_runner: Any = None
"""The compiled pass over a chunk for :data:`_worker` when it is a :class:`PoolWorker` whose results are asked
``compact`` (:func:`chunk_runner`), else None."""


def _init_worker(
    factory: Callable[..., Callable[[str], Any]], arguments: tuple[Any, ...], compact: bool = False
) -> None:
    global _worker, _compact, _runner
    _worker = factory(*arguments)
    _compact = compact
    _runner = chunk_runner(_worker) if compact and type(_worker) is PoolWorker else None


def _init_pool_worker(
    factory: Callable[..., Callable[[str], Any]], arguments: tuple[Any, ...], compact: bool = False
) -> None:
    """Worker processes leave Ctrl-C to the parent, which terminates the pool cleanly; SIGTERM (sent by
    the parent's terminate, or to the whole process group) ends a worker at once and quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _WORKER_SIGNALS)
    _init_worker(factory, arguments, compact)


def _process_chunk(sequences: Sequence[str], extras: Any = None) -> list[Any]:
    assert _worker is not None
    worker = _worker
    if extras is not None:
        return list(worker(sequences, extras))
    if _runner is not None:
        return cast(list[Any], _runner.encoded(list(sequences)))
    if _compact:
        return [encode_result(sequence, worker(sequence)) for sequence in sequences]
    return [worker(sequence) for sequence in sequences]


def _packed_sequences(sequences: Sequence[str]) -> bytes:
    """A chunk's sequences as one ``bytes``, one line each (:func:`_unpacked_sequences` gives them back): written in
    an eighth of the time :mod:`marshal` takes for the list (whose format 4 notes every string shared with another
    object: all of them, the counter keeping each), 0.07 against 0.58 ms for 4,000 250-base sequences, by the main
    process (the bottleneck of a masked run's reading); read back by a worker in 0.41 against 0.14 ms.
    ValueError for a sequence that is not ASCII or holds a line break (the chunk then travels pickled)."""
    joined = "\n".join(sequences).encode("ascii")
    if joined.count(b"\n") != len(sequences) - 1:
        raise ValueError("a sequence with a line break")
    return joined


def _unpacked_sequences(joined: bytes) -> list[str]:
    """The sequences :func:`_packed_sequences` packed (at least one)."""
    return joined.decode("ascii").split("\n")


def _process_packed_chunk(joined: bytes, packed: bytes) -> bytes | list[Any]:
    """:func:`_process_chunk` of a chunk sent as its sequences by :func:`_packed_sequences` and its extras by
    :func:`marshal.dumps`, its results returned marshalled (see :meth:`UniqueReadAligner._flush`), or as they
    are (pickled) should they hold a value marshal does not write."""
    sequences = _unpacked_sequences(joined)
    extras = marshal.loads(packed)
    results = _process_chunk(sequences, extras)
    try:
        return marshal.dumps(results)
    except ValueError:
        return results


_WORKER_SIGNALS = {signal.SIGINT, signal.SIGTERM}


DRAIN_POLL = 0.002
"""Seconds :meth:`TerminablePool.terminate` waits at a time for a task in the pipe while the task thread ends
(usually within milliseconds of the call): 50 ms each before, waited in full at the end of 1 of 10 runs measured
(1M reads, ``-t 2``: 0.056 s; the others 0.000-0.006 s; after: 0.000-0.007 s in 6 runs)."""


class TerminablePool(multiprocessing.pool.Pool):
    """A :class:`multiprocessing.pool.Pool` whose ``terminate()`` cannot hang on a task being sent.

    ``terminate()`` stops the thread that sends tasks to the workers, then empties their task pipe only while
    something is in it, and goes on to end the workers and join that thread.  A task the thread was pickling
    meanwhile (a chunk of unique reads: ~1 MB, more than a pipe holds) is then written to a pipe nobody reads:
    the thread never ends and neither does ``terminate()`` (CPython issue #78178, open).  Interrupted runs
    (SIGTERM, Ctrl-C) hung so, about once in 40 under load.  Here the pipe is emptied until the thread has
    ended, as the standard library means it to be.  Its pipes are grown (:meth:`_setup_queues`); a task larger
    than they hold still meets that case."""

    def _setup_queues(self) -> None:
        """The standard library's task and result pipes, grown to :data:`~editcheck.engine.forked.PIPE_BYTES` where
        the system allows it (a chunk of unique reads and its results are about a megabyte each)."""
        super()._setup_queues()  # type: ignore[misc]
        for queue in (self._inqueue, self._outqueue):  # type: ignore[attr-defined]
            grow_pipe(queue._writer)

    @staticmethod
    def _help_stuff_finish(inqueue: Any, task_handler: threading.Thread, size: int) -> None:
        inqueue._rlock.acquire()  # (held from here on, as in the standard library: the workers are ended next)
        while task_handler.is_alive():
            if inqueue._reader.poll(DRAIN_POLL):
                inqueue._reader.recv_bytes()


def _new_pool(
    threads: int, worker: Callable[..., Callable[[str], Any]], arguments: tuple[Any, ...], compact: bool
) -> Any:
    """A pool of forked workers; call with SIGINT and SIGTERM blocked (:meth:`UniqueReadAligner.__init__`)."""
    context = multiprocessing.get_context("fork")
    return TerminablePool(
        threads, initializer=_init_pool_worker, initargs=(worker, arguments, compact), context=context
    )


class UniqueReadAligner:
    """Runs a worker (``worker(*arguments)``, by default a :class:`PoolWorker`) over unique reads as they are
    found, in worker processes when threads > 1.

    Reading goes on in the calling process while workers align earlier chunks; results come back
    in submission order, so the output does not depend on the number of workers.
    """

    def __init__(
        self, threads: int, arguments: tuple[Any, ...], worker: Callable[..., Callable[..., Any]] = PoolWorker,
        on_result: Callable[[int, str, Any], None] | None = None,
        extras: Callable[[int, int], Any] | None = None,
        compact: bool = False, on_results: Callable[[int, Sequence[str], Sequence[Any]], None] | None = None,
        kept: Callable[[Any], Any] | None = None,
    ) -> None:  # fmt: skip
        """``on_result(index, sequence, result)``, when given, is called for every result in submission order
        as soon as its chunk is back (checked whenever a chunk is sent, and at the end).  With ``compact`` (a
        :class:`PoolWorker` or :class:`AmpliconWorker`, with any number of threads), the results are
        :func:`encode_result` bytes, for :func:`decode_result`.

        ``extras(start, stop)``, when given, is what the worker gets besides the sequences of indices ``start``
        to ``stop`` (first-seen order), asked when their chunk is sent; the worker is then called with the whole
        chunk, ``worker(sequences, extras)``, and gives its results in order.  A full chunk is then
        sent when the next sequence is added (or at the end), not with its last sequence: whatever the caller
        learns of a sequence between adding it and adding the next one (the collapse counts its first read) is
        known.
        ``on_results(start, sequences, results)``, when given, is told each chunk's results at once instead of
        ``on_result`` (``start``: the index of its first sequence).
        ``kept(result)``, when given, is what :meth:`results` keeps of each result once it has been told (all of it
        without): the rest is freed as its chunk comes back, not held until the end."""
        self._pending: list[str] = []
        self._extras = extras
        self._sent = 0
        self._parts: list[tuple[Any, list[str]]] = []
        self._pool = None
        self._on_result = on_result
        self._on_results = on_results
        self._done: list[Any] = []
        self._kept = kept
        self._delivered = 0
        if compact and worker not in (PoolWorker, AmpliconWorker):  # other workers' results travel as they are
            raise ValueError("compact results are those of a PoolWorker or an AmpliconWorker")
        self._processes = threads if threads > 1 else 0
        if threads > 1:
            # SIGINT and SIGTERM stay blocked from the fork until each worker has set its own handlers (a forked
            # worker would otherwise run this process's handlers, SIGTERM raising KeyboardInterrupt, during
            # start-up, swallow the pool's terminate and leave this process waiting for it for ever) and until the
            # pool is kept here: a Ctrl-C that came meanwhile, raised when they are unblocked, terminates it.
            previous = signal.pthread_sigmask(signal.SIG_BLOCK, _WORKER_SIGNALS)
            try:
                self._pool = _new_pool(threads, worker, arguments, compact)
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)
            except BaseException:
                self.close()
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)
                raise
        else:
            _init_worker(worker, arguments, compact=compact)

    @property
    def processes(self) -> int:
        """Worker processes (0: the work runs in the calling process)."""
        return self._processes

    def submit(self, function: Callable[..., Any], *arguments: Any) -> Callable[[], Any]:
        """Run another task, ``function(*arguments)``, in a worker process (in this one with 1 thread); the
        returned callable gives its result.  The function must be importable by name (it is sent by name)."""
        if self._pool is None:
            result = function(*arguments)
            return lambda: result
        return self._pool.apply_async(function, arguments).get  # type: ignore[no-any-return]

    def add(self, sequence: str) -> None:
        if self._extras is not None:  # the chunk waits for the next sequence (see __init__)
            if len(self._pending) >= CHUNK:
                self._flush()
            self._pending.append(sequence)
            return
        self._pending.append(sequence)
        if len(self._pending) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        extras: Any = None
        if self._extras is not None:
            extras = self._extras(self._sent, self._sent + len(pending))
        self._sent += len(pending)
        if self._pool is None:
            self._parts.append((_process_chunk(pending, extras), pending))
        else:
            task: Callable[..., Any] = _process_chunk
            arguments: tuple[Any, ...] = (pending, extras)
            if extras is not None:
                # Marshalled both ways: a chunk's extras and its results are bytes, small tuples and ints (the
                # quality masks' positions and counts: SitesWorker), which marshal writes and reads in 0.45 and 0.75
                # of the time pickle takes (no memo of every object; 10M reads at Q20: 0.63 CPU s less, 0.27 of it
                # this process's), and a pickled bytes object costs nothing; the sequences go as lines of one
                # bytes.  Both ends are this interpreter (forked).
                with contextlib.suppress(ValueError):  # a value marshal does not write: pickled, as other chunks
                    task, arguments = _process_packed_chunk, (_packed_sequences(pending), marshal.dumps(extras))
            self._parts.append((self._pool.apply_async(task, arguments), pending))
            self._throttle()
        self._pending = []
        if self._on_result is not None or self._on_results is not None:
            self._collect(wait=False)

    def _throttle(self) -> None:
        """Wait for the chunk sent :data:`MAX_IN_FLIGHT` per process ago (the pool works first in, first out)."""
        limit = MAX_IN_FLIGHT * self._processes
        if len(self._parts) > limit:
            self._parts[-limit - 1][0].wait()

    def _collect(self, wait: bool) -> None:
        """Move the chunks that are back (all of them when ``wait``), in order, to the finished results."""
        finished = 0
        for part, sequences in self._parts:
            if self._pool is not None and not wait and not part.ready():
                break
            results = part if self._pool is None else part.get()
            if type(results) is bytes:  # a chunk sent with extras, marshalled (_flush)
                results = marshal.loads(results)
            self._done.extend(results if self._kept is None else map(self._kept, results))
            if self._on_results is not None:
                self._on_results(self._delivered, sequences, results)
                self._delivered += len(results)
            elif self._on_result is not None:
                on_result = self._on_result
                for index, (sequence, result) in enumerate(zip(sequences, results), self._delivered):
                    on_result(index, sequence, result)
                self._delivered += len(results)
            finished += 1
        del self._parts[:finished]

    def results(self) -> list[Any]:
        """All results, in the order the sequences were added; the worker processes are closed."""
        self._flush()
        self._collect(wait=True)
        results, self._done = self._done, []
        self.close()
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None

    def __enter__(self) -> UniqueReadAligner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def align_and_classify(
    sequences: Sequence[str], design: AmpliconDesign, settings: AnalysisSettings, threads: int = 1
) -> list[Classified]:
    """Align and classify unique reads against one design, in order; with ``threads`` > 1 in worker processes."""
    with UniqueReadAligner(threads, (design, settings), AmpliconWorker, compact=True) as aligner:
        for sequence in sequences:
            aligner.add(sequence)
        encoded = aligner.results()
    return [cast(Classified, decode_result(sequence, result)) for sequence, result in zip(sequences, encoded)]
