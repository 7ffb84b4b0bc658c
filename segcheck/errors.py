"""Errors that reach the user: each names the input and, where known, the line or frame.

The library raises these and never prints or exits; the CLI turns them into one message on
stderr and exit status 2.
"""

from __future__ import annotations

from .messages import localize


class SegcheckError(Exception):
    """Base of every error caused by bad input or usage (exit status 2)."""

    def localized(self, lang: str) -> str:
        """The message in `lang` (segcheck.messages); English when the catalogue lacks it."""
        return localize(str(self), lang)


class InputError(SegcheckError):
    """A problem in one input file, located by path and optionally line (or frame)."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.detail = message
        self.where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{self.where}: {message}")

    def localized(self, lang: str) -> str:
        """`file:line: message` with the message in `lang`; the place is never translated."""
        return f"{self.where}: {localize(self.detail, lang)}"


class TopologyError(InputError):
    """A topology file is malformed or inconsistent."""


class CaptureError(InputError):
    """A capture could not be read at all."""


class UsageError(SegcheckError):
    """Options that do not fit together, or an unknown rule id."""


class ConfigError(InputError):
    """A firewall configuration could not be imported at all (located by file and line)."""
