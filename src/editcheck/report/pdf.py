"""The report as PDF, printed by a headless Chromium from the self-contained HTML (no network: the page holds
no URL, and the browser runs with its background services off and a throwaway profile).

Same HTML, same PDF bytes, however loaded the machine:

* the page is printed only once it is idle on a virtual clock (``--virtual-time-budget``): image decoding,
  font fallback and layout tasks still pending when the load event fires run first, at no wall-clock cost
  when there are none, instead of racing the print on a busy machine;
* Chromium stamps each PDF with the time it was printed (``/CreationDate`` and ``/ModDate`` in the document
  information): those stamps are rewritten to the run's date at midnight UTC;
* a file identifier (``/ID`` in the trailer, which Skia derives from the clock when it writes one) is replaced
  by a digest of the document itself.

Every rewrite keeps the length of what it replaces, so the byte offsets of the cross-reference table stay
valid; a rerun on the same day (or with the same ``SOURCE_DATE_EPOCH``) is byte-identical.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from editcheck.errors import ParameterError
from editcheck.outputs import atomic_output

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 600
VIRTUAL_TIME_BUDGET_MS = 10000
"""Virtual milliseconds the page may run before it is printed; virtual time jumps ahead when the page is idle."""
_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:(\d{14})([^)]*)\)")
_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]*)>\s*<([0-9A-Fa-f]*)>\s*\]")


def find_chromium() -> str | None:
    """The first headless-capable browser on PATH (``EDITCHECK_CHROMIUM`` names one explicitly), else None."""
    chosen = os.environ.get("EDITCHECK_CHROMIUM")
    if chosen:
        return shutil.which(chosen)
    return next((found for found in map(shutil.which, BROWSERS) if found), None)


def chromium_command(browser: str, html: Path, pdf: Path, profile: Path) -> list[str]:
    """The command line that prints ``html`` to ``pdf`` without headers, footers or network."""
    return [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--no-pdf-header-footer",
        "--run-all-compositor-stages-before-draw", f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        "--generate-pdf-document-outline",
        f"--print-to-pdf={pdf}", html.resolve().as_uri(),
    ]  # fmt: skip


def fixed_dates(document: bytes, date: str) -> bytes:
    """``document`` with its creation and modification stamps set to ``date`` (``YYYY-MM-DD``) 00:00:00."""
    stamp = (date.replace("-", "") + "000000").encode()
    return _DATE.sub(lambda match: b"/" + match.group(1) + b" (D:" + stamp + match.group(3) + b")", document)


def fixed_ids(document: bytes) -> bytes:
    """``document`` with the two strings of each ``/ID [<a> <b>]`` set to a digest of the document with them
    blanked (same lengths, spacing kept), so that the file identifier follows the content, not the clock."""
    if not _ID.search(document):
        return document
    digest = hashlib.sha256(_with_ids(document, b"0")).hexdigest().upper().encode()
    return _with_ids(document, digest)


def _with_ids(document: bytes, filler: bytes) -> bytes:
    """``document`` with the hex digits of every ``/ID`` string replaced by ``filler`` repeated to their length."""

    def replace(match: re.Match[bytes]) -> bytes:
        text, offset = match.group(0), match.start()
        for group in (2, 1):
            begin, end = match.start(group) - offset, match.end(group) - offset
            text = text[:begin] + (filler * (end - begin))[: end - begin] + text[end:]
        return text

    return _ID.sub(replace, document)


def print_pdf(browser: str, html: Path, pdf: Path, date: str) -> None:
    """Print ``html`` to ``pdf`` (atomically) with ``browser``, its time stamps set to ``date`` and its file
    identifier to a digest of its content; a failure is a :class:`ParameterError` naming the browser."""
    with tempfile.TemporaryDirectory(prefix="editcheck-chromium-") as scratch:
        printed = Path(scratch) / "report.pdf"
        command = chromium_command(browser, html, printed, Path(scratch) / "profile")
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ParameterError(f"{browser}: printing the report to PDF failed ({error})") from None
        if completed.returncode != 0 or not printed.is_file():
            last = (completed.stderr.strip().splitlines() or ["no message"])[-1]
            raise ParameterError(f"{browser}: printing the report to PDF failed (exit {completed.returncode}: {last})")
        document = fixed_ids(fixed_dates(printed.read_bytes(), date))
    with atomic_output(pdf, "wb") as handle:
        handle.write(document)
