"""The worker pool's terminate() ends even when a large task is being sent (CPython issue #78178).

An interrupted run (SIGTERM to the main process, under load) hung about once in 40: the pool's task thread was
pickling a chunk of unique reads (~1 MB, more than a pipe holds) when terminate() stopped emptying the task pipe,
and then wrote it to a pipe nobody read.  Reproduced here deterministically: the one worker is busy, so nobody
reads the task pipe, and the next task takes half a second to pickle, so terminate() is called meanwhile.  The
standard library's pool hangs; editcheck's ends at once.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from editcheck.engine.forked import PIPE_BYTES
from editcheck.engine.workers import DRAIN_POLL, TerminablePool

SCRIPT = textwrap.dedent(
    """
    import multiprocessing, multiprocessing.pool, sys, time
    from editcheck.engine.workers import TerminablePool

    class SlowToPickle:
        def __reduce__(self):
            time.sleep(0.5)
            return (bytes, (b"x" * 4_000_000,))  # 4 MB: far more than a pipe holds

    def busy(seconds):
        time.sleep(seconds)

    pool_type = TerminablePool if sys.argv[1] == "editcheck" else multiprocessing.pool.Pool
    pool = pool_type(1, context=multiprocessing.get_context("fork"))
    pool.apply_async(busy, (60,))
    time.sleep(0.3)  # the worker has taken it: the task pipe is read by nobody now
    pool.apply_async(len, (SlowToPickle(),))
    time.sleep(0.1)  # the task thread is pickling it
    started = time.monotonic()
    pool.terminate()
    print(f"terminated in {time.monotonic() - started:.1f} s")
    """
)


def _terminate(pool: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, pool], capture_output=True, text=True, timeout=timeout, check=True
    )


def test_terminate_ends_while_a_large_task_is_being_sent() -> None:
    finished = _terminate("editcheck", timeout=30)
    assert finished.stdout.startswith("terminated in "), finished.stderr
    assert float(finished.stdout.split()[2]) < 5


def test_the_standard_library_pool_hangs_there() -> None:
    """The case above is the race: the standard library's pool does not get out of it."""
    try:
        _terminate("standard", timeout=6)
    except subprocess.TimeoutExpired:
        return
    raise AssertionError("the standard library's Pool.terminate() ended: the test no longer shows the race")


def test_the_pools_task_and_result_pipes_hold_a_mebibyte() -> None:
    """The pool's pipes are grown to PIPE_BYTES where the system allows it: a chunk of unique reads and its results
    (about a megabyte each) pass in fewer turns (10M reads at Q20 ``-t 2``: the collapse 8.22 / 8.20 / 8.23 ->
    8.10 / 8.01 / 8.10 s, interleaved pairs)."""
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are Linux's")
    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    pool = TerminablePool(1, context=multiprocessing.get_context("fork"))
    try:
        assert pool.apply_async(len, (b"x" * 3_000_000,)).get(timeout=30) == 3_000_000
        for queue in (pool._inqueue, pool._outqueue):  # type: ignore[attr-defined]
            for end in (queue._reader, queue._writer):
                size = fcntl.fcntl(end.fileno(), fcntl.F_GETPIPE_SZ)
                assert size >= min(PIPE_BYTES, limit)
                assert size > 65536 or limit <= 65536
    finally:
        pool.terminate()


def test_terminate_drains_the_task_pipe_in_short_waits() -> None:
    """While the task thread ends, the pipe is drained in waits of :data:`DRAIN_POLL` (2 ms), not 50 ms: a run's end
    no longer waits out a long poll after the thread has ended; what comes through the pipe is still read."""
    waits: list[float] = []
    received: list[int] = []
    pending = [True, False, False]  # a task in the pipe at the first look, then none

    class Reader:
        def poll(self, timeout: float) -> bool:
            waits.append(timeout)
            return pending.pop(0) if pending else False

        def recv_bytes(self) -> bytes:
            received.append(1)
            return b""

    class Thread:
        def __init__(self) -> None:
            self.looks = 0

        def is_alive(self) -> bool:
            self.looks += 1
            return self.looks <= 4

    inqueue = type("Queue", (), {"_rlock": threading.Lock(), "_reader": Reader()})()
    TerminablePool._help_stuff_finish(inqueue, Thread(), 1)  # type: ignore[arg-type]
    assert waits == [DRAIN_POLL] * 4 and DRAIN_POLL <= 0.005 and received == [1]
    assert inqueue._rlock.locked()  # held, as the standard library holds it: the workers are ended next
