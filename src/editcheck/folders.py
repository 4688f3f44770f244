"""The output folder: safe names for everything written inside it, and one all-or-nothing write of it.

Every command that writes results writes one folder (``-o``), through :func:`output_folder`:

* the folder is **locked** while the run writes it (``fcntl.flock`` on a hidden lock file beside
  it); a second run into the same folder stops at once with a one-line error;
* the **whole** result is written into a hidden staging folder beside it and moved in with one
  rename at the end, so a failed or interrupted run leaves the previous result untouched (or
  nothing at all);
* an existing folder is **replaced** when it is empty or holds an earlier editcheck result (a
  message says so); any other non-empty folder is refused, so ``-o`` can never wipe user files;
* staging folders of runs that died (``kill -9``, power loss) are removed at the next start (the
  staging folder's name records the host and process id of its run);
* write errors (disk full, file too large, permission) name the real output path, not the staging
  folder.

Names from sheets (amplicons, sites, samples) become folder names only through :func:`safe_name`:
a name that is already a plain portable file name is kept; any other name (``..``, ``/abs``, ``\\``,
spaces, unicode, shell metacharacters) has those characters replaced and a short hash of the
original appended, so the mapping is stable and distinct names stay distinct. The original name is
kept in the tables.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from editcheck.errors import EditcheckError, ParameterError
from editcheck.interruption import raise_if_interrupted
from editcheck.outputs import _UMASK

logger = logging.getLogger("editcheck")

MARKER = ".editcheck-result"
"""File inside every result folder: marks it as editcheck's, so a later run may replace it."""
MARKER_TEXT = "This folder is an editcheck result; the next editcheck run writing here replaces it as a whole.\n"
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_TEMPORARY = ".editcheck-tmp"
_WRITE_ERRORS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS}


class OutputFolderError(EditcheckError):
    """The output folder cannot be used or written (locked, not editcheck's, disk full, permission)."""


def safe_name(name: str) -> str:
    """A file/folder name for a user-given ``name``: the name itself when it is a plain portable
    name (letters, digits, ``_.-``, not starting with ``.``, at most 100 characters), else the name
    with other characters replaced by ``_`` plus ``_`` and 8 hex digits of its SHA-256. Empty names
    are refused."""
    if not name:
        raise ParameterError("an empty name cannot name an output folder")
    if _PLAIN.fullmatch(name):
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    readable = _UNSAFE.sub("_", name)[:80].lstrip(".") or "_"
    return f"{readable}_{digest}"


def safe_names(names: Iterable[str], what: str, source: str | Path | None = None) -> dict[str, str]:
    """Original name -> folder name for every name; two names that would share a folder (also on a
    case-insensitive file system) or an empty name are a one-line error naming both."""
    mapping: dict[str, str] = {}
    owners: dict[str, str] = {}
    where = f"{source}: " if source is not None else ""
    for name in names:
        if not name:
            raise ParameterError(f"{where}{what} name is empty")
        if name in mapping:
            continue
        folder = safe_name(name)
        other = owners.get(folder.casefold())
        if other is not None:
            raise ParameterError(
                f"{where}{what} names {other!r} and {name!r} would share the output folder {folder!r}; rename one"
            )
        owners[folder.casefold()] = name
        mapping[name] = folder
    return mapping


def check_file_name(value: str, option: str) -> str:
    """A user-given file name (e.g. a prefix) that must be a plain name: no folders, no hidden names."""
    if not _PLAIN.fullmatch(value):
        raise ParameterError(f"{option} {value!r}: use letters, digits, '_', '.', '-' (not starting with '.')")
    return value


def _host() -> str:
    return _UNSAFE.sub("_", socket.gethostname())[:40] or "host"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(parent: Path, name: str) -> None:
    """Staging/old folders of ``name`` left by dead runs on this host (we hold the lock)."""
    prefix = f".{name}{_TEMPORARY}."
    host = _host()
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            if not entry.name.startswith(prefix):
                continue
            fields = entry.name[len(prefix) :].split(".")
            if len(fields) < 3 or fields[0] != host or not fields[1].isdigit():
                continue
            if int(fields[1]) == os.getpid() or _pid_alive(int(fields[1])):
                continue
            logger.info("removing %s, left by an interrupted run", entry)
            shutil.rmtree(entry, ignore_errors=True)


def _temporary_folder(parent: Path, name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{name}{_TEMPORARY}.{_host()}.{os.getpid()}.", dir=parent))


@contextlib.contextmanager
def _lock(parent: Path, name: str, shown: Path) -> Iterator[None]:
    """An exclusive lock on ``parent/name`` held by a hidden lock file beside it, removed afterwards."""
    path = parent / f".{name}.editcheck-lock"
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise OutputFolderError(f"{shown}: cannot write here: {error.strerror or error}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise OutputFolderError(f"{shown}: another editcheck run is writing this output folder") from None
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is not None and current.st_ino == os.fstat(descriptor).st_ino:
            break  # still the lock file others see (not one a finishing run just removed)
        os.close(descriptor)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(descriptor)


def _is_replaceable(folder: Path) -> bool:
    entries = list(folder.iterdir())
    return not entries or (folder / MARKER).is_file()


def _translate(error: OSError, staging: Path, out: Path) -> OSError | OutputFolderError:
    """An error inside the staging folder restated for the real output path."""
    filename = error.filename
    if isinstance(filename, (str, os.PathLike)):
        text = os.fspath(filename)
        root = os.fspath(staging)
        if text == root or text.startswith(root + os.sep):
            shown = out / os.path.relpath(text, root) if text != root else out
            return OutputFolderError(f"{shown}: cannot write the result: {error.strerror or error}")
        return error
    if error.errno in _WRITE_ERRORS or filename is None:
        return OutputFolderError(f"{out}: cannot write the result: {error.strerror or error}")
    return error


@contextlib.contextmanager
def spill_folder(staging: Path) -> Iterator[Path]:
    """A hidden folder inside ``staging`` for a run's temporary files (segments of a large input, merged tables
    read while the result is written), removed when the block ends, before the result is moved in."""
    spill = staging / ".spill"
    spill.mkdir()
    try:
        yield spill
    finally:
        shutil.rmtree(spill, ignore_errors=True)


@contextlib.contextmanager
def output_folder(out: str | Path, inputs: Iterable[str | Path | None] = ()) -> Iterator[Path]:
    """Lock ``out``, yield an empty staging folder to write the whole result into, and move it to
    ``out`` in one step when the block succeeds (see the module docstring for the rules). ``inputs``
    (files or folders the run reads) must not lie inside ``out``: replacing it would delete them."""
    out = Path(out)
    resolved = Path(os.path.abspath(out))
    if resolved.parent == resolved or not resolved.name:
        raise OutputFolderError(f"{out}: cannot use the file system root as output folder")
    for source in inputs:
        if source is not None and str(source) != "-":
            place = Path(os.path.abspath(source))
            if place == resolved or resolved in place.parents:
                raise OutputFolderError(
                    f"{out}: holds the input {source}, which replacing the folder would delete; choose another output folder"
                )
    parent, name = resolved.parent, resolved.name
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputFolderError(f"{parent}: exists and is not a folder") from None
    except OSError as error:
        raise OutputFolderError(f"{out}: cannot create the output folder: {error.strerror or error}") from None
    if resolved.exists() and not resolved.is_dir():
        raise OutputFolderError(f"{out}: exists and is not a folder")
    with _lock(parent, name, out):
        _remove_stale(parent, name)
        if resolved.is_dir() and not _is_replaceable(resolved):
            raise OutputFolderError(
                f"{out}: folder exists and is not an editcheck result folder; give a new or empty folder"
            )
        staging = _temporary_folder(parent, name)
        try:
            try:
                yield staging
                raise_if_interrupted()  # a Ctrl-C or SIGTERM whose exception Python dropped: no result
                (staging / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
                os.chmod(staging, 0o777 & ~_UMASK)
                _move_in(staging, resolved, out)
            except OSError as error:
                translated = _translate(error, staging, out)
                if translated is error:
                    raise
                raise translated from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _move_in(staging: Path, resolved: Path, shown: Path) -> None:
    """Replace ``resolved`` by ``staging``: the old folder is renamed aside first, then removed."""
    old = None
    if resolved.is_dir():
        if any(resolved.iterdir()):
            logger.info("replacing the earlier result in %s", shown)
        old = _temporary_folder(resolved.parent, resolved.name)
        os.rename(resolved, old / "old")
    try:
        os.rename(staging, resolved)
    except BaseException:
        if old is not None:
            os.rename(old / "old", resolved)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


__all__ = ["MARKER", "OutputFolderError", "check_file_name", "output_folder", "safe_name", "safe_names"]
