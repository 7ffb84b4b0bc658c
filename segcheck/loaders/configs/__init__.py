"""Firewall configuration import: vendor parsers → `model.ParsedConfig` → compiled permits.

`FORMATS` is the explicit registry of parsers (module, function), imported lazily so that a
topology without `config:` never loads them. Each parser is pure: bytes in, `ParsedConfig`
out, `ConfigError` for what cannot be read at all, `Issue`s for what it skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from importlib import import_module
from pathlib import Path

from ...errors import ConfigError
from .model import ParsedConfig

# format -> (module in this package, parser function); `segcheck import` lists these
FORMATS: dict[str, tuple[str, str]] = {
    "fortios": ("fortios", "parse_fortios"),
    "panos": ("panos", "parse_panos"),
    "nftables": ("nftables", "parse_nftables"),
    "csv": ("table", "parse_table"),
}
MAX_CONFIG_BYTES = 256 * 1024 * 1024  # a 20,000-policy FortiOS backup is about 20 MB


def read_config(path: Path, fmt: str, *, display_name: str) -> ParsedConfig:
    """Read and parse one configuration file; ConfigError when it cannot be read at all."""
    if fmt not in FORMATS:
        raise ConfigError(
            display_name, f"unknown configuration format {fmt!r} (allowed: {', '.join(FORMATS)})"
        )
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(display_name, "no such file") from None
    except IsADirectoryError:
        raise ConfigError(display_name, "is a directory, not a configuration file") from None
    except OSError as exc:
        raise ConfigError(display_name, f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(display_name, f"larger than {MAX_CONFIG_BYTES >> 20} MiB")
    return parse_config(raw, fmt, path=path, display_name=display_name)


def parse_config(raw: bytes, fmt: str, *, path: Path, display_name: str) -> ParsedConfig:
    """Parse configuration bytes of a known format."""
    module_name, function = FORMATS[fmt]
    try:
        parser: Callable[..., ParsedConfig] = getattr(
            import_module(f"{__name__}.{module_name}"), function
        )
    except (ImportError, AttributeError):
        raise ConfigError(display_name, f"format {fmt!r} is not available in this build") from None
    config = parser(path, raw, display_name=display_name)
    sha = hashlib.sha256(raw).hexdigest()
    if config.sha256 != sha:  # the parsers may leave it to us
        config = replace(config, sha256=sha)
    return config
