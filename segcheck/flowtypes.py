"""The read-only shape of a flow record, shared by the judge, reports and packet extraction.

Capture flows (`segcheck.capture.Flow`) and report evidence (`FlowEvidence`) both fit, so a
caller can hand either to whatever needs a flow, without this module importing numpy.
"""

from __future__ import annotations

from typing import Protocol

PACKET_KINDS = frozenset({"pcap", "pcapng"})
# Inputs whose units are log records (a line or an object each), not packets: a finding points
# at `file:line`, and reports count records read. One kind per flow source of
# segcheck.capture.sources (tests/capture/test_sources.py holds the two lists together).
LOG_KINDS = frozenset(
    {"zeek-conn", "suricata-eve", "fortigate-traffic", "panos-traffic", "nfdump", "nfcapd"}
)
INPUT_KINDS = PACKET_KINDS | LOG_KINDS


def is_log(kind: str) -> bool:
    """True for an input whose units are log records rather than packets."""
    return kind in LOG_KINDS


class FlowIdentity(Protocol):
    """What identifies a flow: its key (addresses, protocol, ports, VLAN tags) and its input."""

    @property
    def src_ip(self) -> str: ...
    @property
    def dst_ip(self) -> str: ...
    @property
    def proto(self) -> str: ...
    @property
    def src_port(self) -> int: ...
    @property
    def dst_port(self) -> int: ...
    @property
    def vlan(self) -> int | None: ...
    @property
    def inner_vlan(self) -> int | None: ...
    @property
    def input(self) -> str: ...


class FlowLike(FlowIdentity, Protocol):
    """A flow with its counters and state, as the judge reads it."""

    @property
    def packets(self) -> int: ...
    @property
    def bytes(self) -> int: ...
    @property
    def first_seen(self) -> float: ...
    @property
    def first_frame(self) -> int: ...
    @property
    def state(self) -> str: ...
