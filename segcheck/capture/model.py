"""Public result types of the capture reader."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..services import KNOWN_SERVICE_PORTS

# Service ports of spec §4: a side using one of these while the other does not is the
# responder (spec §7, initiator rule 2). One catalogue serves the policy and the reader.
SERVICE_PORTS = KNOWN_SERVICE_PORTS

PROTO_NAMES: dict[int, str] = {
    1: "icmp",
    6: "tcp",
    17: "udp",
    47: "gre",
    50: "esp",
    58: "icmpv6",
    132: "sctp",
}
PROTO_NUMBERS: dict[str, int] = {v: k for k, v in PROTO_NAMES.items()}


def proto_name(number: int) -> str:
    return PROTO_NAMES.get(number, str(number))


def proto_number(name: str) -> int:
    return PROTO_NUMBERS[name] if name in PROTO_NUMBERS else int(name)


@dataclass(frozen=True, slots=True)
class StoppedAt:
    """Where reading stopped early: byte offset (in the decompressed stream for .gz input)."""

    byte_offset: int
    frame: int  # 1-based number the first unread frame would have had
    reason: str

    def where(self, compressed: bool = False) -> str:
        """`frame N, byte offset X` (of the decompressed stream for gzip input)."""
        stream = " of the decompressed stream" if compressed else ""
        return f"frame {self.frame}, byte offset {self.byte_offset}{stream}"


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    path: str
    kind: str  # "pcap" | "pcapng" | "zeek-conn"
    sha256: str  # of the file as stored (compressed bytes for .gz)
    compressed: bool
    packets_read: int  # records read (Zeek: log entries)
    packets_skipped: int  # read but not analysable (unsupported link type, unusable record)
    stopped_at: StoppedAt | None
    link_types: tuple[int, ...]
    first_skipped: tuple[int, str] | None = None  # Zeek: (line, why) of the first line skipped


@dataclass(frozen=True, slots=True)
class Flow:
    """One bidirectional flow, oriented initiator -> responder.

    ICMP/ICMPv6 flows are keyed by addresses and message family: ``src_port`` is 0 and
    ``dst_port`` holds the family's request type (echo = 8 for ICMP, 128 for ICMPv6; error
    messages use their own type). ``vlan`` is the outermost VLAN id, ``inner_vlan`` the second
    tag (QinQ); both are part of the flow key. VLAN id 0 (priority tag) counts as untagged.
    ``bytes`` counts whole frames as captured on the wire (original length), like Wireshark's
    conversation table; inner flows of a tunnel count the whole outer frame too.
    """

    src_ip: str
    dst_ip: str
    proto: str
    src_port: int
    dst_port: int
    vlan: int | None
    packets: int
    bytes: int
    first_seen: float
    last_seen: float
    first_frame: int
    state: str  # "established" | "attempted" | "unknown"
    input: str
    tunnel: bool = False
    inner_vlan: int | None = None


@dataclass(frozen=True, slots=True)
class CaptureResult:
    info: CaptureInfo
    flows: tuple[Flow, ...]


@dataclass(frozen=True, slots=True)
class FlowLog:
    """What a flow log (a FlowSource: Zeek conn.log, …) yielded."""

    flows: list[Flow]
    read: int  # entries read, the skipped ones included (as for packets)
    skipped: int  # entries that are no flow (damaged), and header lines that cannot be used
    first_skipped: tuple[int, str] | None = None  # (line number, why) of the first of those
    # Zeek: one record per connection (uid) before flows of one key are summed, so that
    # rotated logs of one scan count a connection logged in two of them once.
    connections: Sequence[Flow] | None = None
