"""`segcheck diff` and `--baseline`: what a change opens and what it closes.

A pure library: it reads topologies and result files, compares them and returns records
(`Diff`, a `Report` with a `BaselineInfo`); renderers turn them into text. It never prints
or exits.
"""

from __future__ import annotations

from .compare import compare, diff_files, with_baseline
from .model import (
    STATE_ORDER,
    Cause,
    ChannelInfo,
    Diff,
    FindingChange,
    PlanChange,
    Rename,
    Side,
    State,
)
from .reader import finding_from_dict
from .sides import load_side, read_result, side_from_report

DIFF_FORMATS = ("text", "json", "sarif", "md", "html")


def render(diff: Diff, fmt: str, lang: str = "en", *, show_unchanged: bool = False) -> str:
    """Render a diff in one of DIFF_FORMATS, in `ja` or `en`."""
    import importlib

    from ..errors import UsageError

    if fmt not in DIFF_FORMATS:
        raise UsageError(f"unknown diff format {fmt!r} (known: {', '.join(DIFF_FORMATS)})")
    module = importlib.import_module(f"{__name__}.{_MODULES[fmt]}")
    text: str = module.render(diff, lang, show_unchanged=show_unchanged)
    return text


_MODULES = {
    "text": "text",
    "json": "json_format",
    "sarif": "sarif",
    "md": "markdown",
    "html": "html",
}


__all__ = [
    "DIFF_FORMATS",
    "STATE_ORDER",
    "Cause",
    "ChannelInfo",
    "Diff",
    "FindingChange",
    "PlanChange",
    "Rename",
    "Side",
    "State",
    "compare",
    "diff_files",
    "finding_from_dict",
    "load_side",
    "read_result",
    "render",
    "side_from_report",
    "with_baseline",
]
