"""segcheck: prove, or disprove, the three-tier separation (三層の対策) of a municipal network.

The library API never prints or exits; `segcheck.cli` is a thin layer over it.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .engine import check, scan  # noqa: E402
from .errors import CaptureError, SegcheckError, TopologyError, UsageError  # noqa: E402
from .findings import Finding, Report  # noqa: E402
from .loader import load_topology, parse_topology  # noqa: E402

__all__ = [
    "CaptureError",
    "Finding",
    "Report",
    "SegcheckError",
    "TopologyError",
    "UsageError",
    "__version__",
    "check",
    "load_topology",
    "parse_topology",
    "scan",
]
