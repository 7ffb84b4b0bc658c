"""Formatters: each renders a `Report` to text in one wire format and owns that format.

The registry maps a format name to "module:function"; modules load lazily so that, say, jinja2
is imported only when HTML is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ..errors import UsageError
from ..findings import Finding, Report

Formatter = Callable[[Report, str], str]

FORMATTERS: dict[str, str] = {
    "text": "text:render",
    "json": "json_format:render",
    "sarif": "sarif:render",
    "junit": "junit:render",
    "md": "markdown:render",
    "csv": "csv_format:render",
    "html": "html:render",
}

CHECK_FORMATS = ("text", "json", "sarif", "junit", "html", "md")
SCAN_FORMATS = ("text", "json", "sarif", "csv", "html")


def endpoints(finding: Finding, arrow: str = " -> ") -> str | None:
    """A finding's ends as `src -> dst`, or None when there is nothing more to say.

    A finding about one node's own settings has no destination: its one end is the node, which
    formatters show on its own line, so nothing is returned (never `node -> None`). A finding
    that names a single other end shows that end alone (a lone destination after the arrow).
    """
    src, dst = finding.src, finding.dst
    if src is not None and dst is not None:
        return f"{src}{arrow}{dst}"
    if src is not None:
        return None if src == finding.node else src
    return None if dst is None else f"{arrow.strip()} {dst}"


def get_formatter(name: str) -> Formatter:
    """The render function of a format; UsageError when the format is unknown."""
    target = FORMATTERS.get(name)
    if target is None:
        raise UsageError(f"unknown format {name!r} (known: {', '.join(sorted(FORMATTERS))})")
    module_name, func = target.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    render: Formatter = getattr(module, func)
    return render


def render(report: Report, fmt: str, lang: str = "en") -> str:
    """Render a report in a format and language."""
    return get_formatter(fmt)(report, lang)
