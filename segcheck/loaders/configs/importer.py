"""`segcheck import`: one configuration's permits and interfaces, for review or conversion.

The library half of the command: parse, compile and name services exactly as `check` does
for a `config:` node (same code path), and return everything a renderer needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...errors import ConfigError
from ...gcpause import paused
from ...model import ImportSummary, InputFile, Permit, Service
from ...services import BUILTIN_SERVICES
from . import read_config
from .compile import CompiledContext, compile_context
from .model import Interface, ParsedConfig
from .permits import NodeImport, ServiceNamer, permits_of, register_services, summary


@dataclass(frozen=True, slots=True)
class ImportResult:
    """One context of one configuration, as segcheck would check it."""

    node: str
    config: ParsedConfig
    compiled: CompiledContext
    permits: tuple[Permit, ...]
    services: Mapping[str, Service]  # the services the permits name that are not built in
    summary: ImportSummary

    @property
    def interfaces(self) -> tuple[Interface, ...]:
        return self.compiled.context.interfaces


def import_config(path: str, fmt: str, *, context: str | None = None) -> list[ImportResult]:
    """Every context of the file (or the one named), parsed and compiled."""
    # the parsed rule base, its compiled cubes and the permits stay alive to the end: the
    # cyclic collector would only re-walk them
    with paused():
        return _import(path, fmt, context)


def _import(path: str, fmt: str, context: str | None) -> list[ImportResult]:
    config = read_config(Path(path), fmt, display_name=path)
    if context is not None:
        chosen = config.context(context)
        if chosen is None:
            names = ", ".join(c.name for c in config.contexts) or "none"
            raise ConfigError(path, f"no context {context!r} (the file holds: {names})")
        contexts = [chosen]
    else:
        contexts = list(config.contexts)
    items = [
        NodeImport(_node_name(path, ctx.name, len(contexts)), config, compile_context(ctx), path)
        for ctx in contexts
    ]
    namer = ServiceNamer(BUILTIN_SERVICES)
    for item in items:
        register_services(namer, item)
    namer.finalize()
    results = []
    for item in items:
        permits = permits_of(namer, item)
        used = {name for p in permits for name in p.services}
        results.append(
            ImportResult(
                item.node,
                config,
                item.compiled,
                permits,
                {n: s for n, s in sorted(namer.new_services.items()) if n in used},
                summary(item, InputFile(path, "config", config.sha256)),
            )
        )
    return results


def _node_name(path: str, context: str, count: int) -> str:
    stem = Path(path).stem or "firewall"
    return stem if count == 1 else f"{stem}-{context}"
