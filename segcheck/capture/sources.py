"""The readers `scan` knows, in one ordered registry; the format is sniffed, never named.

A source is a class: `kind` names the input in reports (`pcap`, `zeek-conn`), `title` names the
format in messages, `sniff(head)` says from the first SNIFF_BYTES bytes whether a file is its
format, and `open(src, path)` makes a reader over the byte source (gunzipped already).

Two kinds of reader exist. A `PacketSource` yields batches of packets, which the decoder and
the flow table turn into flows (pcap, pcapng). A `FlowSource` yields flows as they are logged
(Zeek conn.log; FortiGate and PAN-OS traffic logs, Suricata EVE or NetFlow/IPFIX would be
others). Adding a format is a class with these members and a place in `SOURCES`.

`SOURCES` is explicit and ordered, like a rule list: the first source whose `sniff` accepts
the head reads the file. Binary magics cannot be mistaken for one another; text logs can
(Zeek's and Suricata's JSON lines both start with `{`), so each sniff must look for what only
its own format writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Protocol, runtime_checkable

from .model import FlowLog
from .records import Batch, PcapngReader, PcapReader, ReaderState
from .source import ByteSource
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
    def open(cls, src: ByteSource, path: str) -> FlowSource:
        """A reader at the start of the file."""
        ...

    def read(self) -> FlowLog:
        """Every flow of the log; CaptureError when no entry is readable."""
        ...


SOURCES: tuple[type[PacketSource] | type[FlowSource], ...] = (
    PcapReader,
    PcapngReader,
    ZeekConnLog,
)


def titles() -> str:
    """The formats as a message lists them: `a pcap, pcapng or Zeek conn.log`."""
    names = [source.title for source in SOURCES]
    return f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
