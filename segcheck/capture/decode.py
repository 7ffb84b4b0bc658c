"""Pure-Python packet decoder for everything the vectorised fast path does not take.

It handles the long tail: other link types, stacked VLAN tags, MPLS, PPPoE, tunnels, IPv6
extension headers, fragments and ICMP. Each packet becomes one or more *rows* (see ``ROW``):
the packet itself, the outer flow of a tunnel, or a refusal mark derived from an ICMP
destination-unreachable about another flow. Rows are later grouped into flows with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# One row per (packet, layer); the flow key is (vo, vi, proto, s, d, sport, dport) made
# bidirectional later. Addresses are 128-bit (hi, lo); IPv4 is stored IPv4-mapped.
ROW_FIELDS = (
    ("frame", "i8"),
    ("ts", "i8"),
    ("length", "i8"),
    ("vo", "i8"),
    ("vi", "i8"),
    ("proto", "i8"),
    ("shi", "u8"),
    ("slo", "u8"),
    ("dhi", "u8"),
    ("dlo", "u8"),
    ("sport", "i8"),
    ("dport", "i8"),
    ("flags", "i8"),
    ("kind", "i8"),
)
ROW_DTYPE = np.dtype(list(ROW_FIELDS))

KIND_PACKET, KIND_REFUSAL, KIND_TUNNEL = 0, 1, 2
NO_TCP = 0x100  # in ``flags``: the row is not TCP, so no TCP flags
NO_VLAN = -1
V4MAPPED = 0xFFFF00000000

Row = tuple[int, int, int, int, int, int, int, int, int, int, int, int, int, int]

# Which ICMP types share a flow: a reply maps to its request's type.
ICMP4_FAMILY = {0: 8, 8: 8, 14: 13, 13: 13, 16: 15, 15: 15, 18: 17, 17: 17, 9: 10, 10: 10}
ICMP6_FAMILY = {129: 128, 128: 128, 134: 133, 133: 133, 136: 135, 135: 135, 131: 130, 132: 130}
ICMP4_ERRORS = frozenset({3, 4, 5, 11, 12})
ICMP6_ERRORS = frozenset({1, 2, 3, 4})

# Query types whose sender is the initiator (echo, timestamp, information, mask, router and
# neighbour solicitation).
ICMP_QUERIES = {1: frozenset({8, 13, 15, 17, 10}), 58: frozenset({128, 133, 135})}
SYN = 0x02

VLAN_TPIDS = frozenset({0x8100, 0x88A8, 0x9100, 0x9200})
PPP_TO_ETHERTYPE = {0x21: 0x0800, 0x57: 0x86DD, 0x281: 0x8847, 0x283: 0x8848}
IPV6_EXT = frozenset({0, 43, 60, 139, 140})
PORT_PROTOS = frozenset({6, 17, 33, 132, 136})
VXLAN_PORT, GENEVE_PORT, MPLS_UDP_PORT, TEREDO_PORT, L2TP_PORT = 4789, 6081, 6635, 3544, 1701
MAX_DEPTH = 8

# Link types this decoder understands; other records are counted as skipped.
SUPPORTED_LINKTYPES = frozenset(
    {0, 1, 9, 10, 12, 14, 50, 101, 108, 113, 228, 229, 239, 242, 258, 276}
)

FragKey = tuple[int, int, int, int, int, int, int, int]  # vo, vi, proto, s/d hi/lo, ip id


def be16(d: bytes, o: int) -> int:
    return (d[o] << 8) | d[o + 1]


@dataclass
class Ctx:
    frame: int
    ts: int
    length: int
    vo: int = NO_VLAN
    vi: int = NO_VLAN
    depth: int = 0


@dataclass
class Decoder:
    rows: list[Row] = field(default_factory=list)
    # First fragments by (key, IP id) -> (frame, sport, dport, flags); later fragments are
    # resolved against it when the flow table is finalised (they may arrive in another chunk).
    frag_first: dict[FragKey, tuple[int, int, int, int]] = field(default_factory=dict)
    orphans: list[tuple[FragKey, Row]] = field(default_factory=list)
    skipped: int = 0

    def packet(self, d: bytes, linktype: int, frame: int, ts: int, length: int) -> None:
        c = Ctx(frame, ts, length)
        try:
            self._link(d, linktype, c)
        except IndexError:
            pass  # a header cut short by the snapshot length: keep the rows already made

    def _link(self, d: bytes, lt: int, c: Ctx) -> None:
        if lt == 1:
            self._eth(d, 0, c)
        elif lt == 113:
            if len(d) >= 16:
                self._ethertype(be16(d, 14), d, 16, c)
        elif lt == 276:
            if len(d) >= 20:
                self._ethertype(be16(d, 0), d, 20, c)
        elif lt in (101, 12, 14, 228, 229):
            self._ip(d, 0, c)
        elif lt in (0, 108):
            self._ip(d, 4, c)  # the address family word has either byte order: trust the IP
        elif lt in (9, 50):
            self._ppp(d, 0, c)
        elif lt == 239:
            self._nflog(d, c)
        elif lt == 242:  # IP over InfiniBand: two 20-byte addresses, type, reserved
            if len(d) >= 44:
                self._ethertype(be16(d, 40), d, 44, c)
        elif lt == 10:  # FDDI: frame control and two addresses, then LLC/SNAP
            if d[13:16] == b"\xaa\xaa\x03":
                self._ethertype(be16(d, 19), d, 21, c)
        elif lt == 258 and c.depth == 0:  # Apple PKTAP: header length and inner DLT (LE)
            hlen, inner = int.from_bytes(d[0:4], "little"), int.from_bytes(d[4:8], "little")
            c.depth = 1
            if 8 <= hlen < len(d):
                self._link(d[hlen:], inner, c)
        else:
            self.skipped += 1

    def _ppp(self, d: bytes, o: int, c: Ctx) -> None:
        if d[o : o + 2] == b"\xff\x03":
            o += 2
        if d[o] & 1:  # protocol-field compression: one byte
            proto, o = d[o], o + 1
        else:
            proto, o = be16(d, o), o + 2
        et = PPP_TO_ETHERTYPE.get(proto)
        if et is not None:
            self._ethertype(et, d, o, c)

    def _nflog(self, d: bytes, c: Ctx) -> None:
        o = 4
        while o + 4 <= len(d):
            tlen = d[o] | (d[o + 1] << 8)
            ttype = d[o + 2] | (d[o + 3] << 8)
            if tlen < 4:
                return
            if ttype == 9:  # NFULA_PAYLOAD
                self._ip(d[o + 4 : o + tlen], 0, c)
                return
            o += (tlen + 3) & ~3

    def _eth(self, d: bytes, o: int, c: Ctx) -> None:
        if len(d) >= o + 14:
            self._ethertype(be16(d, o + 12), d, o + 14, c)

    def _ethertype(self, et: int, d: bytes, o: int, c: Ctx) -> None:
        for _ in range(MAX_DEPTH):
            if et in VLAN_TPIDS:
                vid = be16(d, o) & 0xFFF
                if vid:  # VLAN 0 is a priority tag, not a VLAN
                    if c.vo == NO_VLAN:
                        c.vo = vid
                    elif c.vi == NO_VLAN:
                        c.vi = vid
                et, o = be16(d, o + 2), o + 4
            elif et == 0x8926:  # VN-Tag
                et, o = be16(d, o + 4), o + 6
            elif et == 0x8864:  # PPPoE session
                self._ppp(d, o + 6, c)
                return
            elif et in (0x8847, 0x8848):
                self._mpls(d, o, c)
                return
            elif et in (0x0800, 0x86DD):
                self._ip(d, o, c)
                return
            elif et < 0x0600:  # 802.3 length field: only SNAP carries an ethertype
                if d[o : o + 3] != b"\xaa\xaa\x03":
                    return
                et, o = be16(d, o + 6), o + 8
            else:
                return

    def _mpls(self, d: bytes, o: int, c: Ctx) -> None:
        for _ in range(16):
            bos = d[o + 2] & 1
            o += 4
            if bos:
                break
        else:
            return
        nib = d[o] >> 4
        if nib in (4, 6):
            self._ip(d, o, c)
        elif nib == 0 and c.depth < MAX_DEPTH:  # pseudowire control word, then Ethernet
            # Count the hop: Ethernet -> MPLS -> Ethernet loops never pass through _ip.
            c.depth += 1
            self._eth(d, o + 4, c)

    def _ip(self, d: bytes, o: int, c: Ctx) -> None:
        if c.depth >= MAX_DEPTH or len(d) <= o:
            return
        c.depth += 1
        v = d[o] >> 4
        if v == 4:
            self._ip4(d, o, c)
        elif v == 6:
            self._ip6(d, o, c)

    def _ip4(self, d: bytes, o: int, c: Ctx) -> None:
        if len(d) < o + 20:
            return
        ihl = (d[o] & 15) * 4
        if ihl < 20:
            return
        ipid, ff, proto = be16(d, o + 4), be16(d, o + 6), d[o + 9]
        s = V4MAPPED | int.from_bytes(d[o + 12 : o + 16], "big")
        t = V4MAPPED | int.from_bytes(d[o + 16 : o + 20], "big")
        if ff & 0x1FFF:
            self._orphan(c, proto, 0, s, 0, t, ipid)
            return
        self._l4(d, o + ihl, proto, 0, s, 0, t, c, ipid if ff & 0x2000 else None)

    def _ip6(self, d: bytes, o: int, c: Ctx) -> None:
        if len(d) < o + 40:
            return
        nh = d[o + 6]
        shi, slo = int.from_bytes(d[o + 8 : o + 16], "big"), int.from_bytes(d[o + 16 : o + 24])
        dhi, dlo = int.from_bytes(d[o + 24 : o + 32], "big"), int.from_bytes(d[o + 32 : o + 40])
        p, frag_id = o + 40, None
        for _ in range(256):  # every header takes at least 8 bytes, so the packet bounds this
            if nh in IPV6_EXT:
                nh, p = d[p], p + (d[p + 1] + 1) * 8
            elif nh == 51:  # AH counts its length in 4-octet units
                nh, p = d[p], p + (d[p + 1] + 2) * 4
            elif nh == 44:
                nh, off, fid = d[p], be16(d, p + 2), int.from_bytes(d[p + 4 : p + 8], "big")
                p += 8
                if off & 0xFFF8:
                    self._orphan(c, nh, shi, slo, dhi, dlo, fid)
                    return
                if off & 1:
                    frag_id = fid
            else:
                break
        self._l4(d, p, nh, shi, slo, dhi, dlo, c, frag_id)

    def _orphan(self, c: Ctx, proto: int, shi: int, slo: int, dhi: int, dlo: int, fid: int) -> None:
        flags = NO_TCP
        row = (c.frame, c.ts, c.length, c.vo, c.vi, proto, shi, slo, dhi, dlo, 0, 0, flags, 0)
        self.orphans.append(((c.vo, c.vi, proto, shi, slo, dhi, dlo, fid), row))

    def _l4(
        self,
        d: bytes,
        p: int,
        proto: int,
        shi: int,
        slo: int,
        dhi: int,
        dlo: int,
        c: Ctx,
        frag_id: int | None,
    ) -> None:
        sport = dport = 0
        flags = NO_TCP
        kind = KIND_PACKET
        n = len(d)
        if proto in PORT_PROTOS and n >= p + 4:
            sport, dport = be16(d, p), be16(d, p + 2)
            if proto == 6 and n >= p + 14:
                flags = d[p + 13]
            elif proto == 17:
                before = len(self.rows)
                self._udp_tunnel(d, p, sport, dport, c)
                if len(self.rows) > before:
                    kind = KIND_TUNNEL
        elif proto in (1, 58) and n >= p + 2:
            typ = d[p]
            fam = (ICMP4_FAMILY if proto == 1 else ICMP6_FAMILY).get(typ, typ)
            sport = dport = fam
            if typ in ICMP_QUERIES[proto]:
                flags = SYN  # a query opens its flow the way a SYN does (initiator rule)
            if (proto == 1 and typ == 3) or (proto == 58 and typ == 1):
                self._refusal(d, p + 8, c)
        elif proto in (4, 41, 47):
            before = len(self.rows)
            inner = Ctx(c.frame, c.ts, c.length, c.vo, c.vi, c.depth)
            if proto == 47:
                self._gre(d, p, inner)
            else:
                self._ip(d, p, inner)
            if len(self.rows) > before:
                kind = KIND_TUNNEL
        self.rows.append(
            (
                c.frame,
                c.ts,
                c.length,
                c.vo,
                c.vi,
                proto,
                shi,
                slo,
                dhi,
                dlo,
                sport,
                dport,
                flags,
                kind,
            )
        )
        if frag_id is not None:
            key = (c.vo, c.vi, proto, shi, slo, dhi, dlo, frag_id)
            old = self.frag_first.get(key)
            if old is None or old[0] > c.frame:
                self.frag_first[key] = (c.frame, sport, dport, flags)

    def _udp_tunnel(self, d: bytes, p: int, sport: int, dport: int, c: Ctx) -> None:
        # Inner L2 frames start a fresh VLAN context; inner IP packets keep the outer one.
        q = p + 8
        if dport == VXLAN_PORT and len(d) >= q + 8 and d[q] & 0x08:
            self._eth(d, q + 8, Ctx(c.frame, c.ts, c.length, depth=c.depth + 1))
        elif dport == GENEVE_PORT and len(d) >= q + 8 and d[q] >> 6 == 0:
            ptype, inner = be16(d, q + 2), q + 8 + (d[q] & 0x3F) * 4
            if ptype == 0x6558:
                self._eth(d, inner, Ctx(c.frame, c.ts, c.length, depth=c.depth + 1))
            elif ptype in (0x0800, 0x86DD):
                self._ip(d, inner, Ctx(c.frame, c.ts, c.length, c.vo, c.vi, c.depth))
        elif dport == MPLS_UDP_PORT:
            self._mpls(d, q, Ctx(c.frame, c.ts, c.length, c.vo, c.vi, c.depth))
        elif sport == L2TP_PORT and dport == L2TP_PORT:
            flags = be16(d, q)
            if flags & 0x800F != 2:  # data messages of L2TPv2 only
                return
            q += 6 + (2 if flags & 0x4000 else 0) + (4 if flags & 0x0800 else 0)
            if flags & 0x0200:
                q += 2 + be16(d, q)
            self._ppp(d, q, Ctx(c.frame, c.ts, c.length, c.vo, c.vi, c.depth))
        elif TEREDO_PORT in (sport, dport) and len(d) > q:
            while be16(d, q) in (0, 1) and len(d) > q + 8:  # origin / authentication indicators
                q += 8 if be16(d, q) == 0 else 13 + d[q + 2] + d[q + 3]
            if d[q] >> 4 == 6 and len(d) >= q + 40:
                self._ip(d, q, Ctx(c.frame, c.ts, c.length, c.vo, c.vi, c.depth))

    def _gre(self, d: bytes, p: int, c: Ctx) -> None:
        flags, ptype = be16(d, p), be16(d, p + 2)
        q = p + 4 + 4 * (bool(flags & 0xC000) + bool(flags & 0x2000) + bool(flags & 0x1000))
        if flags & 7 == 1:  # enhanced GRE (PPTP) carries PPP
            if flags & 0x0080:
                q += 4
            if ptype == 0x880B and len(d) > q:
                self._ppp(d, q, c)
            return
        if ptype in (0x0800, 0x86DD):
            self._ip(d, q, c)
        elif ptype == 0x6558:
            self._eth(d, q, Ctx(c.frame, c.ts, c.length, depth=c.depth + 1))
        elif ptype in (0x8847, 0x8848):
            self._mpls(d, q, c)
        elif ptype == 0x880B:
            self._ppp(d, q, c)
        elif ptype == 0x88BE:  # ERSPAN type II has an 8-byte header (type I none, no S bit)
            self._eth(
                d, q + 8 if flags & 0x1000 else q, Ctx(c.frame, c.ts, c.length, depth=c.depth + 1)
            )
        elif ptype == 0x22EB:  # ERSPAN type III: 12 bytes, plus 8 with the O bit
            w = be16(d, q + 10)
            q += 12 + (8 if w & 1 else 0)
            inner = Ctx(c.frame, c.ts, c.length, depth=c.depth + 1)
            if (w >> 10) & 0x1F == 0:
                self._eth(d, q, inner)
            else:
                self._ip(d, q, inner)

    def _refusal(self, d: bytes, o: int, c: Ctx) -> None:
        """A destination-unreachable: mark the flow of the quoted packet as refused."""
        sub = Decoder()
        # One more layer at most, counted from the packet's depth: a quote inside a quote
        # ends there instead of recursing once per nested unreachable.
        inner = Ctx(c.frame, c.ts, 0, c.vo, c.vi, max(c.depth, MAX_DEPTH - 1))
        try:
            sub._ip(d, o, inner)
        except IndexError:
            return
        for r in sub.rows[-1:]:  # the quoted packet's own (outermost) layer
            self.rows.append(r[:13] + (KIND_REFUSAL,))
