"""report.pdf: report.html printed by a headless Chromium (`segcheck report --pdf`).

The page carries its own print layout (A4, the diagram on an A4 landscape page, page numbers
"ページ n / N" in the footer through CSS page-margin boxes), so the PDF is what a browser's
"print" gives, without a dialog. Chromium is used only when present (it is not a dependency
of segcheck); the page runs no script and loads nothing, and Chromium gets a throw-away profile
in a temporary folder. Like Graphviz for the diagram, this is the only module that runs it.

Chromium stamps the PDF with the time it printed (/CreationDate, /ModDate in the document
information dictionary; it writes no /ID): `pin_dates` sets both to the report's own
timestamp, rewriting each date in place with a string of the same length so that every byte
offset in the cross-reference table stays right. The same report then prints to the same bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

PDF_TIMEOUT = 120  # seconds; a report of tens of thousands of flows prints in a few
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


# `/CreationDate (D:20261201032743+00'00')`: a PDF date string (ISO 32000-1 §7.9.4)
_DATE = re.compile(rb"/(?:CreationDate|ModDate)\s*\((D:\d{4,14}(?:Z|[+-]\d\d'\d\d'?)?)\)")


class PdfError(Exception):
    """The PDF could not be made."""


def find_chromium() -> str | None:
    """The Chromium (or Chrome) to print with: $SEGCHECK_CHROMIUM, else the first on PATH."""
    chosen = os.environ.get("SEGCHECK_CHROMIUM")
    if chosen:
        return chosen if os.path.exists(chosen) else shutil.which(chosen)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def pin_dates(pdf: bytes, when: datetime) -> bytes:
    """`pdf` with its creation and modification dates set to `when`, bytes at the same
    offsets. A date is written in the form of the same length as the one it replaces (with
    or without the zone); one in no such form is left as Chromium wrote it."""
    utc = when.astimezone(UTC)
    forms = {
        len(text): text.encode("ascii")
        for text in (
            utc.strftime("D:%Y%m%d%H%M%S+00'00'"),
            utc.strftime("D:%Y%m%d%H%M%S+00'00"),
            utc.strftime("D:%Y%m%d%H%M%SZ"),
            utc.strftime("D:%Y%m%d%H%M%S"),
        )
    }

    def pinned(match: re.Match[bytes]) -> bytes:
        old = match.group(1)
        new = forms.get(len(old))
        if new is None:
            return match.group(0)
        start = match.start(1) - match.start(0)
        whole = match.group(0)
        return whole[:start] + new + whole[start + len(old) :]

    return _DATE.sub(pinned, pdf)


def html_to_pdf(
    html: bytes, executable: str | None = None, created: datetime | None = None
) -> bytes:
    """Print a self-contained HTML page to PDF with headless Chromium (PdfError on failure);
    with `created`, the PDF is dated so (`pin_dates`) instead of with the time it printed."""
    chromium = executable or find_chromium()
    if chromium is None:
        raise PdfError("Chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="segcheck-pdf-") as work:
        page = Path(work) / "report.html"
        out = Path(work) / "report.pdf"
        page.write_bytes(html)
        command = [
            chromium,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={Path(work) / 'profile'}",
            "--no-pdf-header-footer",  # the page prints its own footer with page numbers
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=PDF_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium took longer than {PDF_TIMEOUT} s to print") from None
        except OSError as exc:
            raise PdfError(f"cannot run Chromium ({chromium}): {exc.strerror}") from None
        if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise PdfError(f"Chromium failed: {detail[-1] if detail else done.returncode}")
        printed = out.read_bytes()
    return printed if created is None else pin_dates(printed, created)
