"""Capture reading: pcap, pcapng (optionally gzipped) and Zeek conn.log into bidirectional flows.

The library never prints; :class:`segcheck.errors.CaptureError` is raised only when nothing at
all could be read from an input.
"""

from __future__ import annotations

from .api import read_capture, read_captures
from .extract import extract_packets
from .flowtable import FlowTable
from .model import CaptureInfo, CaptureResult, Flow, StoppedAt

__all__ = [
    "CaptureInfo",
    "CaptureResult",
    "Flow",
    "FlowTable",
    "StoppedAt",
    "extract_packets",
    "read_capture",
    "read_captures",
]
