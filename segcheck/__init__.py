"""segcheck: prove, or disprove, the three-tier separation (三層の対策) of a municipal network.

The library API never prints or exits; `segcheck.cli` is a thin layer over it. The public names
load lazily, so that capture worker processes do not pay for the engine's imports. The engine
pauses Python's cyclic garbage collector in its bulk phases only inside `allow_gc_pauses()`,
which the command line opens: the library leaves a host process's collector alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "check": "engine",
    "scan": "engine",
    "CaptureError": "errors",
    "SegcheckError": "errors",
    "TopologyError": "errors",
    "UsageError": "errors",
    "Finding": "findings",
    "Report": "findings",
    "allow_gc_pauses": "gcpause",
    "load_topology": "loaders.topology",
    "parse_topology": "loaders.topology",
}

if TYPE_CHECKING:
    from .engine import check, scan
    from .errors import CaptureError, SegcheckError, TopologyError, UsageError
    from .findings import Finding, Report
    from .gcpause import allow_gc_pauses
    from .loaders.topology import load_topology, parse_topology


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'segcheck' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "CaptureError",
    "Finding",
    "Report",
    "SegcheckError",
    "TopologyError",
    "UsageError",
    "__version__",
    "allow_gc_pauses",
    "check",
    "load_topology",
    "parse_topology",
    "scan",
]
