"""Mergeable flow table: per-flow aggregates in numpy columns.

Rows (one per packet layer, see :mod:`.decode`) are turned into aggregate rows keyed by the
bidirectional flow key, then grouped. Every aggregate is a sum, OR, min or max, so tables built from
any split of the input (file chunks, processes, machines) merge into exactly the table of the
whole input, whatever the split and the order of the merges. Memory grows with the number of
flows, not packets.

Construction API (stable; readers of other packet formats build tables the same way):

- ``FlowTable()`` then ``add_rows(cols)`` once per batch, ``cols`` a mapping of the
  :data:`segcheck.capture.decode.ROW_FIELDS` names to equal-length numpy arrays, one row per
  packet (``frame`` numbered from 1 within the input, ``ts`` in epoch nanoseconds);
- ``tag_input(i)`` once the input is complete: its frames become (input ``i``, frame), so a
  flow seen in several inputs takes its first packet, first frame and input by (input index,
  frame), and its initiator and state from all of its packets together (a SYN in one rotated
  file and its answer in the next);
- ``merge(other)`` in any order and grouping; ``flows(inputs)`` gives the ``Flow`` records,
  ``inputs`` naming the input of each index.

Flow logs (Zeek conn.log, firewall traffic logs) name their initiator and state themselves:
they yield ``Flow`` records (``FlowSource.read``), which never pass through this table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from . import records
from .decode import (
    KIND_PACKET,
    KIND_REFUSAL,
    KIND_TUNNEL,
    NO_TCP,
    ROW_DTYPE,
    FragKey,
    Row,
)
from .mapped import mapped_empty
from .model import SERVICE_PORTS, Flow

BIG = np.int64(1 << 62)  # "never" for min-aggregated frame numbers
# A frame number of a tagged table is (input index << FRAME_BITS) | frame: one min() orders
# packets by (input, frame). 2**40 frames per input, 2**20 inputs, below BIG even doubled.
FRAME_BITS = 40
FRAME_MASK = (1 << FRAME_BITS) - 1
MAX_INPUTS = 1 << 20
# "never" for times: the int64 limits, since a time may be pinned at either (a huge if_tsoffset)
TS_NEVER_MIN, TS_NEVER_MAX = np.iinfo(np.int64).max, np.iinfo(np.int64).min

KEY = ("vo", "vi", "proto", "ahi", "alo", "bhi", "blo", "pa", "pb")
SUM = ("packets", "bytes")
# Side A is the smaller (address, port) endpoint. What judging needs of each side is yes/no
# (sent a packet, answered, was refused), so it is one OR-ed column of bits, not 7 counters.
OR = ("bits",)
MIN = ("ts_min", "fcode", "syn_a", "syn_b")  # fcode = first_frame * 2 + side of first sender
MAX = ("ts_max",)
COLUMNS = KEY + SUM + OR + MIN + MAX
SENT_A, SENT_B, ANS_A, ANS_B, REF_A, REF_B, TUNNEL = (1 << i for i in range(7))
# Each column as narrow as what it holds allows (98 bytes a flow; all int64 were 136): VLAN ids
# (-1 untagged), an IP protocol number, ports (an ICMP type family), seven bits. Sums, times
# and frame codes stay 64-bit. `_accel.FLOW_LAYOUT` must say the same.
DTYPES: dict[str, np.dtype[Any]] = {
    k: np.dtype(t)
    for k, t in zip(
        COLUMNS,
        "i2 i2 u1 u8 u8 u8 u8 u2 u2 i8 i8 u1 i8 i8 i8 i8 i8".split(),
        strict=True,
    )
}
LAYOUT = " ".join(f"{d.kind}{d.itemsize}" for d in DTYPES.values())
# What a decoded row's VLAN, protocol and ports must fit before they enter the table.
_NARROW = {"vo": "vo", "vi": "vi", "proto": "proto", "sport": "pa", "dport": "pb"}

Columns = dict[str, np.ndarray]

_SERVICE_PORTS = np.array(sorted(SERVICE_PORTS), dtype=np.int64)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)


def empty_columns() -> Columns:
    return {k: np.empty(0, dtype=d) for k, d in DTYPES.items()}


def rows_to_columns(rows: list[Row]) -> Columns:
    arr = np.array(rows, dtype=ROW_DTYPE) if rows else np.empty(0, dtype=ROW_DTYPE)
    return {name: arr[name] for name in ROW_DTYPE.names or ()}


def aggregate_rows(r: Mapping[str, np.ndarray]) -> Columns:
    """Per-row aggregate columns (not yet grouped) from decoded row columns."""
    shi, slo, dhi, dlo = r["shi"], r["slo"], r["dhi"], r["dlo"]
    sport, dport = r["sport"], r["dport"]
    swap = (shi > dhi) | (
        (shi == dhi) & ((slo > dlo) | ((slo == dlo) & (sport > dport)))
    )  # the row was sent by side B
    frame, flags, kind = r["frame"], r["flags"], r["kind"]
    pkt = kind != KIND_REFUSAL
    a_side, b_side = pkt & ~swap, pkt & swap
    syn = pkt & ((flags & (NO_TCP | 0x12)) == 0x02)  # SYN (or ICMP query) without ACK
    ans = pkt & ((flags & (NO_TCP | 0x04)) != 0x04)  # anything but a TCP RST
    ref = kind == KIND_REFUSAL
    i64 = np.int64
    bits = (
        a_side.astype(i64) * SENT_A
        | b_side.astype(i64) * SENT_B
        | (ans & ~swap).astype(i64) * ANS_A
        | (ans & swap).astype(i64) * ANS_B
        | (ref & ~swap).astype(i64) * REF_A
        | (ref & swap).astype(i64) * REF_B
        | (kind == KIND_TUNNEL).astype(i64) * TUNNEL
    )
    out = {
        "vo": r["vo"],
        "vi": r["vi"],
        "proto": r["proto"],
        "ahi": np.where(swap, dhi, shi),
        "alo": np.where(swap, dlo, slo),
        "bhi": np.where(swap, shi, dhi),
        "blo": np.where(swap, slo, dlo),
        "pa": np.where(swap, dport, sport),
        "pb": np.where(swap, sport, dport),
        "packets": pkt.astype(i64),
        "bytes": np.where(pkt, r["length"], 0),
        "bits": bits,
        "ts_min": np.where(pkt, r["ts"], TS_NEVER_MIN),
        "fcode": np.where(pkt, frame * 2 + swap, BIG),
        "syn_a": np.where(syn & a_side, frame, BIG),
        "syn_b": np.where(syn & b_side, frame, BIG),
        "ts_max": np.where(pkt, r["ts"], TS_NEVER_MAX),
    }
    return {k: v.astype(DTYPES[k], copy=False) for k, v in out.items()}


def _hash(c: Mapping[str, np.ndarray]) -> np.ndarray:
    h = np.zeros(len(c["proto"]), dtype=np.uint64)
    for k in KEY:
        h ^= c[k].astype(np.uint64, copy=False)
        h *= _M1
        h ^= h >> np.uint64(31)
        h *= _M2
    return h


def _reduce(c: Mapping[str, np.ndarray], order: np.ndarray, starts: np.ndarray) -> Columns:
    """SUM, MIN and MAX columns reduced over the groups."""
    out: Columns = {}
    for names, ufunc in (
        (SUM, np.add),
        (OR, np.bitwise_or),
        (MIN, np.minimum),
        (MAX, np.maximum),
    ):
        for k in names:
            out[k] = ufunc.reduceat(c[k][order], starts)
    return out


def group(c: Mapping[str, np.ndarray]) -> Columns:
    """Group aggregate rows by flow key (exact: a hash collision falls back to a full sort)."""
    n = len(c["proto"])
    if n == 0:
        return empty_columns()
    h = _hash(c)
    order = np.argsort(h, kind="stable")
    hs = h[order]
    same = hs[1:] == hs[:-1]  # row i+1 joins row i's group
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    out: Columns = {}
    for k in KEY:
        v = c[k][order]
        if np.any(same & (v[1:] != v[:-1])):  # two keys share a hash
            return _group_exact(c)
        out[k] = v[starts]
    out.update(_reduce(c, order, starts))
    return out


def _group_exact(c: Mapping[str, np.ndarray]) -> Columns:
    n = len(c["proto"])
    order = np.lexsort([c[k] for k in reversed(KEY)])
    edge = np.zeros(n, dtype=bool)
    edge[0] = True
    for k in KEY:
        v = c[k][order]
        edge[1:] |= v[1:] != v[:-1]
    starts = np.flatnonzero(edge)
    out: Columns = {k: c[k][order][starts] for k in KEY}
    out.update(_reduce(c, order, starts))
    return out


_ROW_INPUTS = (
    "vo", "vi", "proto", "shi", "slo", "dhi", "dlo", "sport", "dport", "frame", "flags", "kind",
    "ts", "length",
)  # fmt: skip
_ADDRESS_ROWS = ("shi", "slo", "dhi", "dlo")


def _flow_accel() -> Any:
    """The C accelerator when it was built for this table layout (a stale build is not)."""
    accel = records._accel
    if accel is None or getattr(accel, "FLOW_LAYOUT", None) != LAYOUT:
        return None
    return accel


def check_rows(rows: Mapping[str, np.ndarray]) -> None:
    """ValueError unless each row's VLANs, protocol and ports fit the table's columns (a
    reader's bug, never a capture's: decoded values are 12-bit VLAN ids, bytes and ports)."""
    for name, col in _NARROW.items():
        v = rows[name]
        info = np.iinfo(DTYPES[col])
        if len(v) and (v.min() < info.min or v.max() > info.max):
            raise ValueError(f"flow table: a row's {name} does not fit {DTYPES[col]}")


def group_rows(rows: Mapping[str, np.ndarray]) -> Columns:
    """``group(aggregate_rows(rows))``, folded into a fresh table when the accelerator was
    built (exact too: a hash index on the full key; groups in order of first appearance
    rather than hash order: a table's row order means nothing, flows are sorted when they
    leave it)."""
    if _flow_accel() is None:
        return group(aggregate_rows(rows))
    table = FlowTable()
    table.add_rows(rows)
    return _fitted(table)


def regroup(c: Mapping[str, np.ndarray], trim: bool = True) -> Columns:
    """:func:`group` of aggregate columns, folded into a fresh table when the accelerator was
    built (as :func:`group_rows`). ``trim=False``: the columns may be views of row-sized
    buffers (:func:`_trimmed` later)."""
    if _flow_accel() is None or len(c["proto"]) == 0:
        return group(c)
    table = FlowTable()
    table.add(c)
    return _fitted(table) if trim else table.columns()


def _fitted(table: FlowTable) -> Columns:
    """A table's columns, copied when they use much less than their buffers (spare capacity
    in the heap is memory: a fresh table's first buffers are as long as its input)."""
    cols = table.columns()
    if table._n * 4 < table._capacity() * 3:
        return {k: v.copy() for k, v in cols.items()}
    return cols


def _trimmed(c: Columns) -> Columns:
    """Columns that are views of much larger buffers, copied so that the buffers can go."""
    return {
        k: v.copy() if v.base is not None and v.base.nbytes * 3 > v.nbytes * 4 else v
        for k, v in c.items()
    }


def concat(tables: list[Columns]) -> Columns:
    return {k: np.concatenate([t[k] for t in tables]) for k in COLUMNS}


def _row_dtype(name: str) -> type:
    return np.uint64 if name in _ADDRESS_ROWS else np.int64


_MIN_CAPACITY = 1 << 10


class FlowTable:
    """Flows of one capture (or of part of it); ``merge`` combines parts exactly.

    With the C accelerator the table grows in place: column buffers of some capacity (the
    first ``_n`` rows in use; pages past them are never written, so they cost address space,
    not memory) and a persistent hash index on the flow key (uint32 row numbers, at most half
    full: 8-16 bytes a flow). Rows and other tables fold into it at the cost of what they
    add; growing copies one column at a time, so the table is never held twice. Without
    it, pending parts are regrouped with the table whenever they outgrow it.
    """

    def __init__(self) -> None:
        self._cols: Columns = empty_columns()
        self._n = 0
        self._index: np.ndarray | None = None  # None: rebuilt when next needed
        self._pending: list[Columns] = []  # numpy path only
        self._pending_rows = 0
        self.frag_first: dict[FragKey, tuple[int, int, int, int]] = {}
        self.orphans: list[tuple[FragKey, Row]] = []
        # Tap ledger (segcheck.capture.dedup): a signature per common-case packet, until the
        # scan has decided which packets are copies of others.
        self.ledger: list[np.ndarray] = []

    def __getstate__(self) -> dict[str, Any]:
        # Only the rows in use cross a process boundary; the index is rebuilt on the far side.
        state = dict(self.__dict__)
        state["_cols"], state["_n"] = self.columns(), self._rows()
        state["_index"], state["_pending"], state["_pending_rows"] = None, [], 0
        return state

    def _rows(self) -> int:
        """Rows in the table (flows, and refusal marks of packets not seen)."""
        return self._n + self._pending_rows

    def _capacity(self) -> int:
        return min(len(v) for v in self._cols.values())

    def add(self, grouped: Mapping[str, np.ndarray]) -> None:
        """Add already grouped (or per-row aggregate) columns."""
        accel = _flow_accel()
        if accel is None:
            grouped = {k: v.astype(DTYPES[k], copy=False) for k, v in grouped.items()}
            self._pending.append(grouped)
            self._pending_rows += len(grouped["proto"])
            # Regroup only when the pending part outgrows the main table: amortised linear.
            if self._pending_rows > max(self._n, 1 << 18):
                self._compact()
            return
        cols: tuple[np.ndarray, ...] = tuple(
            [np.ascontiguousarray(grouped[k], dtype=DTYPES[k]) for k in COLUMNS]
        )
        self._absorb(accel.absorb_columns, cols, ())

    def add_rows(self, rows: Mapping[str, np.ndarray]) -> None:
        check_rows(rows)
        accel = _flow_accel()
        if accel is None:
            self.add(group(aggregate_rows(rows)))
            return
        inputs: tuple[np.ndarray, ...] = tuple(
            [np.ascontiguousarray(rows[k], dtype=_row_dtype(k)) for k in _ROW_INPUTS]
        )
        extra = (int(BIG), NO_TCP, KIND_REFUSAL, KIND_TUNNEL)
        self._absorb(accel.absorb_rows, inputs, extra)

    def _absorb(
        self,
        fold: Callable[..., tuple[int, int]],
        src: tuple[np.ndarray, ...],
        extra: tuple[int, ...],
    ) -> None:
        """Fold ``src`` (rows or columns) in, growing the table and its index as needed."""
        total = len(src[0])
        start = 0
        while start < total:
            if self._index is None or (self._n + 1) * 2 > len(self._index):
                self._reindex(self._n + 1)
            cap = self._capacity()
            if self._n == cap:
                self._grow(max(self._n + (total - start), 2 * cap, _MIN_CAPACITY))
            table = tuple(self._cols[k] for k in COLUMNS)
            start, self._n = fold(src, start, table, self._n, self._index, *extra)
            del table  # or the next _grow would hold every old column until it is done

    def _grow(self, cap: int) -> None:
        """New buffers of ``cap`` rows (and writable): one column copied at a time."""
        for k in COLUMNS:
            old = self._cols[k]
            new = mapped_empty(cap, old.dtype)
            new[: self._n] = old[: self._n]
            self._cols[k] = new
            del old, new  # the old buffer goes before the next column is allocated

    def _reindex(self, rows: int) -> None:
        """A fresh index with room for ``rows`` rows at most half full."""
        slots = 1 << max(12, (2 * rows - 1).bit_length())
        self._index = None  # let the old one go first
        index = np.empty(slots, dtype=np.uint32)
        self._writable()
        _flow_accel().reindex(tuple(self._cols[k] for k in COLUMNS), self._n, index)
        self._index = index

    def _compact(self) -> None:
        if self._pending:
            # Each step lets go of what it no longer needs before the next allocates: peak
            # memory is the rows being merged twice (in, out), not four times.
            parts = [self._used(), *self._pending]
            self._cols, self._n, self._pending, self._pending_rows = empty_columns(), 0, [], 0
            whole = concat(parts)
            del parts
            grouped = regroup(whole, trim=False)
            del whole
            self._cols = _trimmed(grouped)
            self._n = len(self._cols["proto"])

    def _writable(self) -> None:
        """Buffers this table may write in place (adopted columns may be read-only)."""
        if any(not v.flags.writeable or not v.flags.c_contiguous for v in self._cols.values()):
            self._grow(max(self._n, self._capacity()))

    def _set(self, cols: Columns) -> None:
        """Replace the table by these grouped columns (adopted as they are)."""
        self._cols, self._n, self._index = dict(cols), len(cols["proto"]), None
        self._pending, self._pending_rows = [], 0

    def columns(self) -> Columns:
        """The table's columns (views of its buffers: valid until the table next grows)."""
        self._compact()
        return self._used()

    def _used(self) -> Columns:
        if self._capacity() == self._n:
            return dict(self._cols)
        return {k: v[: self._n] for k, v in self._cols.items()}

    def merge(self, other: FlowTable) -> None:
        """Fold ``other`` into this table; ``other`` is left empty (its buffers may be
        taken over rather than copied)."""
        if other._rows() > self._rows():  # fold the smaller into the larger
            mine = self.columns()
            other._compact()
            self._cols, self._n, self._index = other._cols, other._n, other._index
            if len(mine["proto"]):
                self.add(mine)
            del mine
        else:
            self.add(other.columns())
        other._set(empty_columns())
        self.ledger.extend(other.ledger)
        for key, val in other.frag_first.items():
            old = self.frag_first.get(key)
            if old is None or old[0] > val[0]:
                self.frag_first[key] = val
        self.orphans.extend(other.orphans)
        other.ledger, other.frag_first, other.orphans = [], {}, []

    def shift_frames(self, offset: int) -> None:
        """Renumber frames by ``offset`` (a table built from a later part of a file)."""
        if not offset:
            return
        self._compact()
        self._writable()
        c = self.columns()
        for k, mult in (("fcode", 2), ("syn_a", 1), ("syn_b", 1)):
            v = c[k]
            np.add(v, offset * mult, out=v, where=v != BIG)  # in place: no second column
        self.ledger = [_shifted(led, offset) for led in self.ledger]
        self.frag_first = {k: (v[0] + offset, *v[1:]) for k, v in self.frag_first.items()}
        self.orphans = [(k, (r[0] + offset, *r[1:])) for k, r in self.orphans]

    def tag_input(self, index: int) -> None:
        """Mark every frame of this (complete, one-input) table as input ``index``'s.

        Fragments are resolved first: they join their flow by IP id within their own input.
        """
        if not 0 <= index < MAX_INPUTS:
            raise ValueError(f"input index {index} out of range (at most {MAX_INPUTS} inputs)")
        self.resolve_fragments()
        self.frag_first = {}
        self.shift_frames(index << FRAME_BITS)
        self.seal()

    def seal(self) -> None:
        """Nothing more is expected: let go of the index (rebuilt if more is added after all)."""
        self._index = None

    def flow_count(self) -> int:
        """Flows with at least one packet (a refusal mark alone makes no flow)."""
        self.resolve_fragments()
        return int(np.count_nonzero(self.columns()["packets"] > 0))

    def resolve_fragments(self) -> None:
        """Give non-first fragments the ports of their first fragment (same key and IP id)."""
        if not self.orphans:
            return
        rows: list[Row] = []
        for key, row in self.orphans:
            first = self.frag_first.get(key)
            if first is not None:
                _, sport, dport, _ = first
                row = row[:10] + (sport, dport, NO_TCP, KIND_PACKET)
            rows.append(row)
        self.orphans = []
        self.add_rows(rows_to_columns(rows))

    def cap(self, limit: int, classes: AddressClasses | None = None) -> dict[int, int]:
        """:func:`cap_flows` on this table: how many flows were joined, by input index."""
        self.resolve_fragments()
        capped, joined = cap_flows(self.columns(), limit, classes)
        self._set(capped)
        return joined

    def flows(self, inputs: str | Sequence[str]) -> list[Flow]:
        """The flows, in order of (input, first frame); ``inputs``: the path of each input
        index (one path: an untagged table of one input)."""
        self.resolve_fragments()
        return columns_to_flows(self.columns(), inputs)


def _shifted(ledger: np.ndarray, offset: int) -> np.ndarray:
    out = ledger if ledger.flags.writeable else ledger.copy()  # in place: not held twice
    out["frame"] += offset
    return out


def _initiator_is_b(c: Mapping[str, np.ndarray]) -> np.ndarray:
    """Initiator rules of spec §7, in order: SYN sender, non-service port side, first sender."""
    proto = c["proto"]
    syn_a, syn_b = c["syn_a"], c["syn_b"]
    a_svc = np.isin(c["pa"], _SERVICE_PORTS) & (proto != 1) & (proto != 58)
    b_svc = np.isin(c["pb"], _SERVICE_PORTS) & (proto != 1) & (proto != 58)
    first_b = (c["fcode"] & 1).astype(bool)
    result: np.ndarray = np.where(
        (syn_a != BIG) | (syn_b != BIG),
        syn_b < syn_a,
        np.where(a_svc != b_svc, a_svc, first_b),
    )
    return result


def cap_flows(
    c: Columns, limit: int, classes: AddressClasses | None = None
) -> tuple[Columns, dict[int, int]]:
    """At most about ``limit`` rows: the first ``limit`` flows by (input, first frame) stay
    whole; every later one joins the others of its address classes and service, so judging
    goes on over every packet in bounded memory. Joined flows keep sums, minima and flag ORs
    as any merge does, their initiator's port is 0 (ICMP keeps its type family there).

    ``classes`` gives a class per address (``hi``, ``lo`` columns): the judge's, so that
    joined flows share their verdict; each joined flow is shown with the smallest address of
    each of its classes. Without it, flows join per host pair (a spoofed-source flood has one
    host pair per flow: that bounds nothing). Returns the columns and, per input index, how
    many of its flows were joined.
    """
    keep = c["packets"] > 0
    if not keep.all():  # a copy of the whole table only when some row must go
        c = {k: v[keep] for k, v in c.items()}
    del keep
    n = len(c["proto"])
    if n <= limit:
        return c, {}
    order = np.argsort(c["fcode"], kind="stable")
    later = np.zeros(n, dtype=bool)
    later[order[limit:]] = True
    inputs = c["fcode"][later] >> (FRAME_BITS + 1)
    idx, counts = np.unique(inputs, return_counts=True)
    joined_per_input = dict(zip(idx.tolist(), counts.tolist(), strict=True))
    if classes is not None:
        whole = {k: v[~later] for k, v in c.items()}
        # In slices, each grouped at once (a flood of one class is one row a slice), then the
        # slices' rows together: their smallest addresses give each class's smallest overall.
        at = np.flatnonzero(later)
        del order, later
        parts = [
            regroup(_by_class({k: v[at[i : i + CAP_SLICE]] for k, v in c.items()}, classes))
            for i in range(0, len(at), CAP_SLICE)
        ]
        return concat([whole, regroup(_by_class(concat(parts), classes))]), joined_per_input
    icmp = (c["proto"] == 1) | (c["proto"] == 58)
    init_b = _initiator_is_b(c)
    joined = {k: v.copy() for k, v in c.items()}
    # The initiator's (client) port goes; ICMP keys carry the type family there, which stays.
    joined["pa"][later & ~init_b & ~icmp] = 0
    joined["pb"][later & init_b & ~icmp] = 0
    return regroup(joined), joined_per_input


AddressClasses = Callable[[np.ndarray, np.ndarray], np.ndarray]
CAP_SLICE = 1 << 18  # later flows joined this many at a time (~125 MB of temporaries)
_A_BITS = SENT_A | ANS_A | REF_A  # side B's bit of each is the next one up


def _by_class(c: Columns, classes: AddressClasses) -> Columns:
    """Flows keyed by their addresses' classes and service, not yet grouped: each turned so
    that side A is its initiator (whose port goes to 0), each address replaced by the
    smallest address of its class."""
    flip = _initiator_is_b(c)
    out = dict(c)
    for a, b in (("ahi", "bhi"), ("alo", "blo"), ("pa", "pb"), ("syn_a", "syn_b")):
        out[a], out[b] = np.where(flip, c[b], c[a]), np.where(flip, c[a], c[b])
    out["fcode"] = np.where(flip, c["fcode"] ^ 1, c["fcode"])  # the first sender's side
    bits = c["bits"]
    turned = ((bits & _A_BITS) << 1) | ((bits >> 1) & _A_BITS) | (bits & TUNNEL)
    out["bits"] = np.where(flip, turned, bits)
    icmp = (c["proto"] == 1) | (c["proto"] == 58)
    out["pa"] = np.where(icmp, out["pa"], 0)
    # A side turned so stays turned: every joined flow of a group has its initiator on side
    # A, so the group's initiator is A by each rule of spec §7 (SYN, service port, first).
    m = len(c["proto"])
    pairs = np.empty(2 * m, dtype=[("hi", np.uint64), ("lo", np.uint64)])
    pairs["hi"] = np.concatenate((out["ahi"], out["bhi"]))
    pairs["lo"] = np.concatenate((out["alo"], out["blo"]))
    uniq, inverse = np.unique(pairs, return_inverse=True)  # sorted: smallest first
    cls = classes(uniq["hi"], uniq["lo"])
    _, first, of_class = np.unique(cls, return_index=True, return_inverse=True)
    shown = uniq[first[of_class.reshape(-1)]][inverse.reshape(-1)]
    out["ahi"], out["bhi"] = shown["hi"][:m], shown["hi"][m:]
    out["alo"], out["blo"] = shown["lo"][:m], shown["lo"][m:]
    return out


def columns_to_flows(c: Columns, inputs: str | Sequence[str]) -> list[Flow]:
    """The ``Flow`` records of a table's columns, oriented (spec §7) and in order of (input,
    first frame, key): :func:`.flowcols.oriented`'s, every one of them."""
    from .flowcols import oriented  # flowcols builds on this module

    return oriented(c, inputs).flows()
