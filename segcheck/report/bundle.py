"""The evidence folder of `segcheck report`, which an auditor can attach and verify.

The report itself comes from `segcheck.engine.report`; this module only renders and writes it.

The folder holds report.html, findings.json, findings.sarif, topology.svg and SHA256SUMS, and
report.pdf when asked for (printed by headless Chromium, segcheck.report.pdf).
SHA256SUMS lists every file written (by name) and every input, in `sha256sum -c` format, so
`cd DIR && sha256sum -c SHA256SUMS` proves that neither the evidence nor the analysed inputs
changed since. Inputs are not copied (captures can be gigabytes and hold personal data): each is
listed by its path relative to DIR, with the digest of the bytes that were analysed. Moving the
folder away from the inputs therefore makes their lines fail, which is the point: the check
then says the inputs at hand are not the ones analysed.

Nothing is written until everything has rendered, and no existing file is replaced without
`force`. A symbolic link at one of the report's names in DIR is refused even with `force`
(it would redirect the write onto a file elsewhere); DIR itself, and its parents, may be
links. Each file is replaced atomically (segcheck.outputs). Without Graphviz, the folder has
no topology.svg and the page says why.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UsageError
from ..findings import Report
from ..outputs import OutputExists, check_output, write_output
from . import html, sarif
from . import json as json_report

HTML_NAME = "report.html"
JSON_NAME = "findings.json"
SARIF_NAME = "findings.sarif"
SVG_NAME = "topology.svg"
PDF_NAME = "report.pdf"
SUMS_NAME = "SHA256SUMS"
ALL_NAMES = (HTML_NAME, JSON_NAME, SARIF_NAME, SVG_NAME, PDF_NAME, SUMS_NAME)


@dataclass(frozen=True, slots=True)
class BundleResult:
    """What was written, and why the diagram is missing if it is."""

    directory: Path
    files: tuple[str, ...]
    diagram_note: str | None = None


def sums_line(digest: str, name: str) -> str:
    """One `sha256sum` line; names with a backslash or newline use coreutils' escaped form."""
    if "\\" in name or "\n" in name or "\r" in name:
        escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{digest}  {escaped}\n"
    return f"{digest}  {name}\n"


def input_path_from(directory: Path, path: str) -> str:
    """An input's path as `sha256sum -c` run inside `directory` finds it (posix separators).

    Both sides are resolved: `..` in DIR goes to the physical parent, so a DIR reached
    through a symlinked folder would otherwise get a path that leads elsewhere.
    """
    relative = os.path.relpath(os.path.realpath(path), os.path.realpath(directory))
    return Path(relative).as_posix()


def render_bundle(
    report: Report,
    lang: str,
    document: html.DocumentControl | None = None,
    pdf: bool = False,
) -> tuple[dict[str, bytes], str | None]:
    """Every output file's bytes (SHA256SUMS aside), and the reason the diagram is missing."""
    svg, note = html.diagram_for(report, lang)
    page = html.render_page(report, lang, svg, note, document).encode("utf-8")
    files = {
        HTML_NAME: page,
        JSON_NAME: json_report.render(report, lang).encode("utf-8"),
        SARIF_NAME: sarif.render(report, lang).encode("utf-8"),
    }
    if svg is not None:
        files[SVG_NAME] = svg.encode("utf-8")
    if pdf:
        from .pdf import PdfError, html_to_pdf

        try:
            # dated with the report's timestamp, not the printing's: the same bytes each time
            created = datetime.fromisoformat(report.generated_at.replace("Z", "+00:00"))
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            files[PDF_NAME] = html_to_pdf(page, created=created)
        except PdfError as exc:
            raise UsageError(f"--pdf: {exc}") from None
    return files, note


def write_bundle(
    report: Report,
    directory: str | Path,
    lang: str = "en",
    *,
    force: bool = False,
    document: html.DocumentControl | None = None,
    pdf: bool = False,
) -> BundleResult:
    """Write the evidence folder; OutputExists when it would replace files without `force`."""
    out = Path(directory)
    if out.is_symlink() and not out.exists():
        raise UsageError(f"{out}: is a symbolic link to nothing; name an existing folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a directory")
    inputs = [item.path for item in report.inputs]
    if out.is_dir():
        for name in ALL_NAMES:  # links and inputs are refused even with `force`
            check_output(out / name, inputs=inputs)
    existing = [name for name in ALL_NAMES if (out / name).exists()]
    if existing and not force:
        raise OutputExists(
            f"{out}: would overwrite {', '.join(existing)}; use --force to replace them"
        )
    files, note = render_bundle(report, lang, document, pdf)
    lines = [sums_line(hashlib.sha256(data).hexdigest(), name) for name, data in files.items()]
    lines += [
        sums_line(item.sha256, input_path_from(out, item.path))
        for item in report.inputs
        if item.sha256
    ]
    files[SUMS_NAME] = "".join(sorted(set(lines), key=lambda line: line.split("  ", 1)[1])).encode(
        "utf-8"
    )
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in (SVG_NAME, PDF_NAME):
            if name not in files and (out / name).exists():
                (out / name).unlink()  # a stale file from an earlier run would be unlisted
    except OSError as exc:
        raise UsageError(f"{out}: cannot write the report: {exc.strerror}") from None
    # SHA256SUMS last: a run cut short leaves no list that vouches for half-written evidence.
    for name in sorted(files, key=lambda n: n == SUMS_NAME):
        write_output(out / name, files[name], inputs=inputs, replace=force)
    return BundleResult(out, tuple(sorted(files)), note)
