"""The read-only shape of a flow record, shared by the judge, reports and packet extraction.

Capture flows (`segcheck.capture.Flow`) and report evidence (`FlowEvidence`) both fit, so a
caller can hand either to whatever needs a flow, without this module importing numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

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


class FlowColumnsLike(Protocol):
    """Flows held as columns (`segcheck.capture.flowcols.FlowColumns`), as the judge reads
    them in bulk without numpy. Addresses are indices into `texts`; `idx` arguments are flow
    positions (a list or a range), answers come in that order; `keys` is opaque to callers."""

    @property
    def texts(self) -> Sequence[str]: ...
    def __len__(self) -> int: ...
    def classes(self, breaks: Sequence[int] | None, classify: Callable[[str], int]) -> object:
        """A class per address of `texts`: `classify(text)`, asked once for all the IPv4
        addresses between two consecutive `breaks` (sorted; None: every address alone)."""
        ...

    def class_of(self, classes: object, addresses: Sequence[int]) -> list[int]: ...
    def keys(self, classes: object) -> tuple[list[int], object]:
        """Group flows by (source class, destination class, protocol, destination port): a
        representative flow of each group, and the group of every flow (for `where` and
        `key_of`)."""
        ...

    def where(self, keys: object, wanted: Sequence[bool]) -> list[int]:
        """The flows whose group is wanted, in flow order."""
        ...

    def key_of(self, keys: object, idx: Sequence[int]) -> list[int]: ...
    def ends(self, idx: Sequence[int]) -> tuple[list[int], list[int]]:
        """Source and destination address (index into `texts`) of each flow."""
        ...

    def dotted(self, addresses: Sequence[int]) -> list[bool]:
        """Whether each address's text (of `texts`) is an IPv4 dotted quad, as `str` of the
        address writes it."""
        ...

    def proto_names(self, idx: Sequence[int]) -> list[str]: ...
    def dst_ports(self, idx: Sequence[int]) -> list[int]: ...
    def evidence_columns(
        self, idx: Sequence[int], times: Callable[[list[float]], list[str]]
    ) -> list[list[Any]]:
        """The fields of `FlowEvidence` for each flow, column by column in its field order;
        `times` formats epoch seconds as ISO 8601 in bulk."""
        ...
