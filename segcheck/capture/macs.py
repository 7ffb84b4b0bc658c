"""Link-layer source addresses of the packets between chosen address pairs (MAC pinning).

Flow records keep addresses, ports and VLAN tags, not MAC addresses: a channel that pins its
ends' MACs (issue 17, MN-SPECIFIED-COMM) is checked by a second, targeted pass over the
packets, run only when the plan pins a MAC. For each packet between two addresses of
interest, either way, it notes the packet's source MAC (Ethernet, VLAN tags skipped; Linux
cooked captures SLL and SLL2, whose address field is the sender's) with the first frame that
carried it. Packets of those pairs whose link type has no source MAC (raw IP, loopback, …)
are counted, so that a pin is never reported as holding on evidence that was not seen.
Tunnels are not entered: the MAC of a tunnelled packet is the tunnel's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from .api import iter_batches

_VLAN = frozenset({0x8100, 0x88A8, 0x9100, 0x9200})
_RAW_IP = frozenset({101, 12, 14, 228, 229})

Pair = tuple[str, str]  # (source address, destination address), canonical text


@dataclass
class MacObservation:
    """What one capture showed of the pairs asked for."""

    packets: bool = False  # False for a flow log: it holds no packets at all
    # (source address, destination address) -> {source MAC: first frame}
    macs: dict[Pair, dict[str, int]] = field(default_factory=dict)
    # (source address, destination address) -> packets without a source MAC
    unseen: dict[Pair, int] = field(default_factory=dict)


def _mac(b: bytes | memoryview) -> str:
    return ":".join(f"{x:02x}" for x in bytes(b))


def _ip_pair(d: bytes | memoryview, o: int, end: int) -> tuple[bytes, bytes] | None:
    """Source and destination address bytes of the IP header at `o`, if whole."""
    if o >= end:
        return None
    version = d[o] >> 4
    if version == 4 and o + 20 <= end:
        return bytes(d[o + 12 : o + 16]), bytes(d[o + 16 : o + 20])
    if version == 6 and o + 40 <= end:
        return bytes(d[o + 8 : o + 24]), bytes(d[o + 24 : o + 40])
    return None


def _ethernet_l3(d: bytes | memoryview, o: int, end: int) -> int | None:
    """Offset of the IP header after an Ethernet header and its VLAN tags, else None."""
    p = o + 12
    while p + 2 <= end:
        et = (d[p] << 8) | d[p + 1]
        if et in _VLAN:
            p += 4
            continue
        return p + 2 if et in (0x0800, 0x86DD) else None
    return None


def observe_macs(path: str, addresses: Iterable[Pair]) -> MacObservation:
    """Source MACs of the packets between the given address pairs, either way."""
    wanted: dict[tuple[bytes, bytes], Pair] = {}
    for a, b in addresses:
        pa, pb = ipaddress.ip_address(a).packed, ipaddress.ip_address(b).packed
        wanted[(pa, pb)] = (str(ipaddress.ip_address(a)), str(ipaddress.ip_address(b)))
        wanted[(pb, pa)] = (str(ipaddress.ip_address(b)), str(ipaddress.ip_address(a)))
    out = MacObservation()
    for batch, _reader in iter_batches(path):
        out.packets = True
        buf = batch.buf
        offs, caps, lts = batch.data_off.tolist(), batch.caplen.tolist(), batch.linktype.tolist()
        for i, (o, cap, lt) in enumerate(zip(offs, caps, lts, strict=True)):
            end = o + cap
            mac: str | None = None
            if lt == 1 and cap >= 14:
                l3 = _ethernet_l3(buf, o, end)
                mac = _mac(buf[o + 6 : o + 12])
            elif lt == 113 and cap >= 16:  # SLL: the sender's address in bytes 6..6+len
                alen = min((buf[o + 4] << 8) | buf[o + 5], 8)
                et = (buf[o + 14] << 8) | buf[o + 15]
                l3 = o + 16 if et in (0x0800, 0x86DD) else None
                mac = _mac(buf[o + 6 : o + 6 + alen]) if alen == 6 else None
            elif lt == 276 and cap >= 20:  # SLL2: protocol at 0, address length at 11
                alen = buf[o + 11]
                et = (buf[o] << 8) | buf[o + 1]
                l3 = o + 20 if et in (0x0800, 0x86DD) else None
                mac = _mac(buf[o + 12 : o + 12 + alen]) if alen == 6 else None
            elif lt in _RAW_IP:
                l3 = o
            else:
                continue
            if l3 is None:
                continue
            ips = _ip_pair(buf, l3, end)
            pair = wanted.get(ips) if ips is not None else None
            if pair is None:
                continue
            if mac is None:
                out.unseen[pair] = out.unseen.get(pair, 0) + 1
            else:
                out.macs.setdefault(pair, {}).setdefault(mac, batch.frame0 + i)
    return out
