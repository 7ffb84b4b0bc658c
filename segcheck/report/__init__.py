"""Formatters: each renders a `Report` to text in one wire format and owns that format.

`FORMATS` is the registry: one `Format` per `--format` value, naming the commands that offer
it and the module that renders it. Modules load lazily, so that jinja2, say, is imported only
when HTML is asked for. What formats share (locations, a finding's facts, flow and fix dicts)
is in `_common`, their words in `labels`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

from ..errors import UsageError
from ..findings import Report
from ..gcpause import paused
from ._common import endpoints

Formatter = Callable[[Report, str], str]
ChunkFormatter = Callable[[Report, str], Iterator[str]]


@dataclass(frozen=True, slots=True)
class Format:
    """One output format: its `--format` name, the commands offering it, its module."""

    name: str
    commands: tuple[str, ...]
    # Under segcheck.report; it defines `render(report, lang) -> str`, and may define
    # `render_chunks(report, lang)`: the same text in chunks, each made when drawn.
    module: str

    def load(self) -> Formatter:
        """The render function (imports the module on first use)."""
        module = importlib.import_module(f"{__name__}.{self.module}")
        render: Formatter = module.render
        return render

    def load_chunks(self) -> ChunkFormatter:
        """The module's `render_chunks`, or one chunk: its whole `render` text."""
        module = importlib.import_module(f"{__name__}.{self.module}")
        chunks: ChunkFormatter | None = getattr(module, "render_chunks", None)
        if chunks is not None:
            return chunks
        whole: Formatter = module.render

        def one(report: Report, lang: str) -> Iterator[str]:
            yield whole(report, lang)

        return one


# In the order `--help` lists them.
FORMATS: tuple[Format, ...] = (
    Format("text", ("check", "scan"), "text"),
    Format("json", ("check", "scan"), "json"),
    Format("sarif", ("check", "scan"), "sarif"),
    Format("junit", ("check",), "junit"),
    Format("csv", ("check", "scan"), "csv"),
    Format("html", ("check", "scan"), "html"),
    Format("md", ("check",), "markdown"),
)
FORMATS_BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}


def formats_for(command: str) -> tuple[str, ...]:
    """The `--format` choices of a command (`check` or `scan`)."""
    return tuple(f.name for f in FORMATS if command in f.commands)


def _format(name: str) -> Format:
    fmt = FORMATS_BY_NAME.get(name)
    if fmt is None:
        raise UsageError(f"unknown format {name!r} (known: {', '.join(sorted(FORMATS_BY_NAME))})")
    return fmt


def get_formatter(name: str) -> Formatter:
    """The render function of a format; UsageError when the format is unknown."""
    return _format(name).load()


def render(report: Report, fmt: str, lang: str = "en") -> str:
    """Render a report in a format and language.

    The cyclic garbage collector is paused meanwhile: a formatter builds a few objects per
    finding or flow (dicts, strings, conversation records) and no reference cycle, and with the
    collector on each collection walks every flow of a scan again (a third to half of the
    SARIF and text time of a 50k-flow scan)."""
    formatter = get_formatter(fmt)
    with paused():
        return formatter(report, lang)


def render_chunks(report: Report, fmt: str, lang: str = "en") -> Generator[str, None, None]:
    """:func:`render`'s text in chunks, each made when drawn, so that a writer holds one at a
    time (JSON and CSV write a scan's findings or flows in runs); their concatenation is
    exactly :func:`render`'s text. UsageError at once when the format is unknown.

    The collector stays paused until the last chunk is drawn or the generator is closed: a
    writer that stops early closes it (``contextlib.closing``)."""
    formatter = _format(fmt).load_chunks()

    def chunks() -> Generator[str, None, None]:
        with paused():  # while the chunks are made and written (see render)
            yield from formatter(report, lang)

    return chunks()


__all__ = [
    "FORMATS",
    "Format",
    "Formatter",
    "endpoints",
    "formats_for",
    "get_formatter",
    "render",
    "render_chunks",
]
