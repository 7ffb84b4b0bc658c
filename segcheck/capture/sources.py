"""The readers `scan` knows, in one ordered registry; the format is sniffed, never named.

A source is a class: `kind` names the input in reports (`pcap`, `zeek-conn`), `title` names the
format in messages, `sniff(head)` says from the first SNIFF_BYTES bytes whether a file is its
format, and `open(src, path)` makes a reader over the byte source (gunzipped already).

Two kinds of reader exist. A `PacketSource` yields batches of packets, which the decoder and
the flow table turn into flows (pcap, pcapng). A `FlowSource` yields flows as they are logged
(Zeek conn.log; FortiGate and PAN-OS traffic logs, Suricata EVE, nfdump's output of
NetFlow/IPFIX, or an nfcapd file read through nfdump). A flow source's `open` also takes the
`ReadOptions` of the run (`--tz` for device-local times). Adding a format is a class with these
members and a place in `SOURCES`.

`SOURCES` is explicit and ordered, like a rule list: the first source whose `sniff` accepts
the head reads the file. Binary magics cannot be mistaken for one another; text logs can
(Zeek's and Suricata's JSON lines both start with `{`), so each sniff must look for what only
its own format writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Protocol, cast, runtime_checkable

from .fortigate_log import FortiGateTrafficLog
from .logflow import ReadOptions
from .model import FlowLog
from .nfdump import NfcapdFile, NfdumpOutput
from .panos_log import PanosTrafficLog
from .records import Batch, PcapngReader, PcapReader, ReaderState
from .source import ByteSource
from .suricata_eve import SuricataEve
from .zeek import ZeekConnLog

SNIFF_BYTES = 4096


@runtime_checkable
class PacketSource(Protocol):
    """A packet capture: batches of records for the decoder."""

    kind: ClassVar[str]
    title: ClassVar[str]
    state: ReaderState  # records read, where reading stopped, link types seen

    @staticmethod
    def sniff(head: bytes) -> bool:
        """True when a file starting with `head` is this format."""
        ...

    @classmethod
    def open(cls, src: ByteSource, path: str) -> PacketSource:
        """A reader at the start of the file; CaptureError when its header is unusable."""
        ...

    def batches(self, chunk: int | None = None) -> Iterator[Batch]:
        """The records, a chunk of the file at a time."""
        ...


@runtime_checkable
class FlowSource(Protocol):
    """A flow log: connections as a sensor or firewall logged them."""

    kind: ClassVar[str]
    title: ClassVar[str]

    @staticmethod
    def sniff(head: bytes) -> bool:
        """True when a file starting with `head` is this format."""
        ...

    @classmethod
    def open(cls, src: ByteSource, path: str, options: ReadOptions | None = None) -> FlowSource:
        """A reader at the start of the file."""
        ...

    def read(self) -> FlowLog:
        """Every flow of the log; CaptureError when no entry is readable."""
        ...


FLOW_SOURCES: tuple[type[FlowSource], ...] = (
    ZeekConnLog,
    SuricataEve,
    FortiGateTrafficLog,
    PanosTrafficLog,
    NfdumpOutput,
    NfcapdFile,
)

SOURCES: tuple[type[PacketSource] | type[FlowSource], ...] = (
    PcapReader,
    PcapngReader,
    *FLOW_SOURCES,
)


def open_source(
    source: type[PacketSource] | type[FlowSource],
    src: ByteSource,
    path: str,
    options: ReadOptions | None = None,
) -> PacketSource | FlowSource:
    """A reader of `source` at the start of the file; flow sources get the run's options."""
    if options is not None and hasattr(source, "read"):  # a flow source (packet ones batch)
        return cast(type[FlowSource], source).open(src, path, options)
    return source.open(src, path)


def titles() -> str:
    """The formats as a message lists them: `a pcap, pcapng or Zeek conn.log`."""
    names = [source.title for source in SOURCES]
    return f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
