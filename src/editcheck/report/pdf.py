"""The report as PDF, printed by a headless Chromium from the self-contained HTML (no network: the page holds
no URL, and the browser runs with its background services off and a throwaway profile).

Chromium stamps each PDF with the time it was printed (``/CreationDate`` and ``/ModDate`` in the document
information). Those stamps are rewritten to the run's date at midnight UTC (same length, so the byte offsets
of the cross-reference table stay valid), which makes a rerun on the same day (or with the same
``SOURCE_DATE_EPOCH``) byte-identical.
"""

from __future__ import annotations

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
_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:(\d{14})([^)]*)\)")


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
        "--run-all-compositor-stages-before-draw", "--generate-pdf-document-outline",
        f"--print-to-pdf={pdf}", html.resolve().as_uri(),
    ]  # fmt: skip


def fixed_dates(document: bytes, date: str) -> bytes:
    """``document`` with its creation and modification stamps set to ``date`` (``YYYY-MM-DD``) 00:00:00."""
    stamp = (date.replace("-", "") + "000000").encode()
    return _DATE.sub(lambda match: b"/" + match.group(1) + b" (D:" + stamp + match.group(3) + b")", document)


def print_pdf(browser: str, html: Path, pdf: Path, date: str) -> None:
    """Print ``html`` to ``pdf`` (atomically) with ``browser``, its time stamps set to ``date``; a failure is a
    :class:`ParameterError` naming the browser."""
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
        document = fixed_dates(printed.read_bytes(), date)
    with atomic_output(pdf, "wb") as handle:
        handle.write(document)
