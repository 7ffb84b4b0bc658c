"""Cubes of flows and the ordered-deny subtraction, at the size of real rule bases.

A compiled accept rule is its cube (sources × destinations × services) minus every cube an
earlier deny rule matches (compile.py). Done directly, each accept rule is tested against
every earlier deny and each piece of a cut rule against every later deny: quadratic, and a
20,000-rule base with 2,000 denies took minutes. Two structures keep the same results in
near-linear time:

- `DenyIndex` finds the denies an accept cube meets without scanning them all;
- `subtract` cuts a cube by many denies on bit masks over the cube's own elementary
  intervals, and visits a piece only at the next deny that really meets it.

Both are exact: the pieces, their order and the cap on their number are those of the direct
algorithm (`subtract_direct`, kept as the reference and used for short deny lists).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from heapq import heappop, heappush

from ...model import IPRange
from .model import AddressSet, ServiceSet

MAX_CUBES_PER_RULE = 4096  # past this the deny subtraction is dropped (over-approximation, tagged)


@dataclass(frozen=True, slots=True)
class Cube:
    """Sources × destinations × services: one product set of flows."""

    sources: AddressSet
    destinations: AddressSet
    services: ServiceSet

    def __bool__(self) -> bool:
        return bool(self.sources) and bool(self.destinations) and bool(self.services)

    def intersection(self, other: Cube) -> Cube:
        return Cube(
            self.sources.intersection(other.sources),
            self.destinations.intersection(other.destinations),
            self.services.intersection(other.services),
        )

    def intersects(self, other: Cube) -> bool:
        """`bool(self.intersection(other))` without building it."""
        return (
            self.services.intersects(other.services)
            and self.sources.intersects(other.sources)
            and self.destinations.intersects(other.destinations)
        )

    def minus(self, other: Cube) -> list[Cube]:
        """Disjoint cubes covering exactly self − other:

        (S, D, P) − (S', D', P') = (S−S', D, P) ∪ (S∩S', D−D', P) ∪ (S∩S', D∩D', P−P')
        """
        s_in = self.sources.intersection(other.sources)
        if not s_in:
            return [self]
        d_in = self.destinations.intersection(other.destinations)
        if not d_in or not self.services.intersects(other.services):
            return [self]
        parts = (
            Cube(self.sources.difference(other.sources), self.destinations, self.services),
            Cube(s_in, self.destinations.difference(other.destinations), self.services),
            Cube(s_in, d_in, self.services.difference(other.services)),
        )
        return [p for p in parts if p]


# --- integer keys: each dimension on one line ------------------------------------------------
# IPv4 addresses, then IPv6 right after; a service (protocol, port) as protocol·65536 + port.
# Every address (every service) is then one run of keys; a run of keys read back is split at
# the version (protocol) boundaries it crosses.

_V6_KEY = 1 << 32
_V4_LAST = _V6_KEY - 1
_PORTS = 1 << 16
_PORT_LAST = _PORTS - 1
_PROTO_LAST = 255

Keys = list[tuple[int, int]]  # inclusive key ranges, sorted


def _joined(keys: Keys) -> Keys:
    """Sorted ranges with the adjacent ones joined (all of IPv4 and IPv6, or every protocol,
    is one range)."""
    out: Keys = []
    for a, b in keys:
        if out and a == out[-1][1] + 1:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _address_keys(addresses: AddressSet) -> Keys:
    return _joined(
        [
            (r.first, r.last) if r.version == 4 else (_V6_KEY + r.first, _V6_KEY + r.last)
            for r in addresses.ranges
        ]
    )


def _service_keys(services: ServiceSet) -> Keys:
    return _joined([(p * _PORTS + lo, p * _PORTS + hi) for p, lo, hi in services.items])


def _address_ranges(lo: int, hi: int) -> tuple[IPRange, ...]:
    """The address ranges of one run of keys (split where IPv4 ends)."""
    if hi <= _V4_LAST:
        return (IPRange(4, lo, hi),)
    if lo >= _V6_KEY:
        return (IPRange(6, lo - _V6_KEY, hi - _V6_KEY),)
    return IPRange(4, lo, _V4_LAST), IPRange(6, 0, hi - _V6_KEY)


def _service_items(lo: int, hi: int) -> tuple[tuple[int, int, int], ...]:
    """The service items of one run of keys (split at every protocol it crosses)."""
    out = []
    for proto in range(lo >> 16, (hi >> 16) + 1):
        base = proto * _PORTS
        out.append((proto, max(lo, base) - base, min(hi, base + _PORT_LAST) - base))
    return tuple(out)


def _on_lines(cube: Cube) -> bool:
    """True when every range of the cube fits the key lines (ports 0-65535, protocols 0-255,
    IPv4 within 32 bits): always, for what the parsers make; otherwise the direct algorithm."""
    return all(
        0 <= p <= _PROTO_LAST and 0 <= lo <= hi <= _PORT_LAST for p, lo, hi in cube.services.items
    ) and all(
        r.version == 6 or 0 <= r.first <= r.last <= _V4_LAST
        for side in (cube.sources, cube.destinations)
        for r in side.ranges
    )


_ALL_ADDRESS_KEYS: Keys = [(0, _V6_KEY + (1 << 128) - 1)]
_ALL_SERVICE_KEYS: Keys = [(0, (_PROTO_LAST + 1) * _PORTS - 1)]


def _cube_keys(cube: Cube) -> tuple[Keys, Keys, Keys]:
    everything = AddressSet.everything()  # common ("any"): its keys without the work
    return (
        _ALL_ADDRESS_KEYS if cube.sources is everything else _address_keys(cube.sources),
        _ALL_ADDRESS_KEYS if cube.destinations is everything else _address_keys(cube.destinations),
        _ALL_SERVICE_KEYS if cube.services.is_everything else _service_keys(cube.services),
    )


# --- finding the denies an accept cube meets -------------------------------------------------

_HULL_AFTER = 8  # a query of more ranges is looked up by its hull (a superset; verified after)
_DIRECT_UP_TO = 8  # deny lists this short are cut directly (setting up would cost more)


class _Axis:
    """One dimension of the deny cubes, for "which denies have a range meeting [a, b]":
    the ranges sorted by start, with a tree of the largest end and the smallest deny number
    under each node, so that a lookup visits only subtrees holding an answer, and a count
    takes two bisections."""

    __slots__ = ("ends", "maxhi", "minown", "owners", "size", "starts")

    def __init__(self, entries: list[tuple[int, int, int]]) -> None:
        entries.sort()
        self.starts = [lo for lo, _, _ in entries]
        his = [hi for _, hi, _ in entries]
        self.owners = [owner for _, _, owner in entries]
        self.ends = sorted(his)
        size = 1
        while size < len(entries):
            size <<= 1
        self.size = size
        maxhi = [-1] * (2 * size)
        minown = [len(entries) + 1] * (2 * size)
        maxhi[size : size + len(entries)] = his
        minown[size : size + len(entries)] = self.owners
        for node in range(size - 1, 0, -1):
            maxhi[node] = max(maxhi[2 * node], maxhi[2 * node + 1])
            minown[node] = min(minown[2 * node], minown[2 * node + 1])
        self.maxhi, self.minown = maxhi, minown

    def count(self, queries: Keys) -> int:
        """How many ranges meet the queries (a range meeting two queries counts twice): a
        range meets [a, b] when it starts at or before b and does not end before a."""
        return sum(bisect_right(self.starts, b) - bisect_left(self.ends, a) for a, b in queries)

    def collect(self, queries: Keys, before: int, out: set[int]) -> None:
        """Add to `out` every deny numbered below `before` with a range meeting a query."""
        maxhi, minown, owners = self.maxhi, self.minown, self.owners
        for a, b in queries:
            limit = bisect_right(self.starts, b)  # leaves [0, limit) start at or before b
            stack = [(1, 0, self.size)]
            while stack:
                node, lo, width = stack.pop()
                if lo >= limit or maxhi[node] < a or minown[node] >= before:
                    continue
                if width == 1:
                    out.add(owners[lo])
                    continue
                half = width >> 1
                stack.append((2 * node + 1, lo + half, half))
                stack.append((2 * node, lo, half))


def _hull(keys: Keys) -> Keys:
    if len(keys) <= _HULL_AFTER:
        return keys
    return [(keys[0][0], max(b for _, b in keys))]


class DenyIndex:
    """The deny cubes of a context in rule order, to find those an accept cube meets.

    A lookup counts the denies meeting the cube along each dimension (sources, destinations,
    services), enumerates the dimension with the fewest, and keeps those that meet the cube
    in all three, in rule order: exactly what a scan of the list keeps.
    """

    def __init__(self, denies: list[Cube]) -> None:
        self.denies = denies
        self.keys = [_cube_keys(deny) for deny in denies]
        entries: tuple[list[tuple[int, int, int]], ...] = ([], [], [])
        for number, keys in enumerate(self.keys):
            for dimension, out in zip(keys, entries, strict=True):
                out.extend((a, b, number) for a, b in dimension)
        self.axes = tuple(_Axis(e) for e in entries)

    def meeting(self, cube: Cube, before: int | None = None) -> list[int]:
        """The numbers of the denies below `before` (all by default) that share a flow with
        `cube`, in rule order."""
        before = len(self.denies) if before is None else before
        if before == 0:
            return []
        queries = [_hull(keys) for keys in _cube_keys(cube)]
        counts = [axis.count(q) for axis, q in zip(self.axes, queries, strict=True)]
        best = min(range(3), key=counts.__getitem__)
        if counts[best] == 0:
            return []
        found: set[int] = set()
        self.axes[best].collect(queries[best], before, found)
        return [n for n in sorted(found) if cube.intersects(self.denies[n])]

    def cut(self, cube: Cube, before: int | None = None) -> list[Cube] | None:
        """`cube` minus the denies below `before` (all by default), as `subtract`."""
        numbers = self.meeting(cube, before)
        if len(numbers) <= _DIRECT_UP_TO or not _on_lines(cube):
            return subtract_direct(cube, [self.denies[n] for n in numbers])
        return _Cutter(cube, [self.keys[n] for n in numbers]).run()


# --- cutting a cube by the denies it meets ---------------------------------------------------


def subtract(cube: Cube, denies: Sequence[Cube]) -> list[Cube] | None:
    """cube − ⋃ denies as disjoint cubes, in the order of `subtract_direct`; None when the
    pieces would at some step exceed MAX_CUBES_PER_RULE. Every deny must meet the cube."""
    if len(denies) <= _DIRECT_UP_TO or not _on_lines(cube):
        return subtract_direct(cube, denies)
    return _Cutter(cube, [_cube_keys(deny) for deny in denies]).run()


def subtract_direct(cube: Cube, denies: Sequence[Cube]) -> list[Cube] | None:
    """The reference: each deny in turn cuts every piece left."""
    pieces = [cube]
    for deny in denies:
        nxt: list[Cube] = []
        for piece in pieces:
            nxt.extend(piece.minus(deny))
        pieces = nxt
        if not pieces:
            break
        if len(pieces) > MAX_CUBES_PER_RULE:
            return None
    return pieces


class _Line:
    """One dimension of one subtraction: the elementary intervals between every boundary of
    the cube and of the (clipped) denies; each set the subtraction meets is a union of them,
    so a bit mask over them (bit k: interval k) is exact and set algebra is integer algebra."""

    __slots__ = ("bounds",)

    def __init__(self, sets: list[Keys]) -> None:
        points = {p for keys in sets for a, b in keys for p in (a, b + 1)}
        self.bounds = sorted(points)

    def mask(self, keys: Keys) -> int:
        bounds, m = self.bounds, 0
        for a, b in keys:
            m |= (1 << bisect_left(bounds, b + 1)) - (1 << bisect_left(bounds, a))
        return m

    def keys(self, mask: int) -> Keys:
        out: Keys = []
        bounds = self.bounds
        while mask:
            low = mask & -mask
            run = mask & ~(mask + low)  # the lowest run of set bits
            out.append((bounds[low.bit_length() - 1], bounds[run.bit_length()] - 1))
            mask ^= run
        return out


def _runs(mask: int, limit: int | None = None) -> list[tuple[int, int]] | None:
    """(first, last) bit of every run of set bits; None when there are more than `limit`."""
    out: list[tuple[int, int]] = []
    while mask:
        if limit is not None and len(out) == limit:
            return None
        low = mask & -mask
        run = mask & ~(mask + low)
        out.append((low.bit_length() - 1, run.bit_length() - 1))
        mask ^= run
    return out


_QUERY_RUNS = 8  # a mask of more runs is not looked up: its parent's candidates stand
_VERIFY_UP_TO = 8  # this few candidates are checked one by one rather than narrowed first


_LAYERS = 4  # a deny's first runs each in a layer of their own, the rest share the last


class _Stab:
    """For one dimension: the denies whose mask meets a given mask, as a bit set over deny
    positions. A run [s, e] meets a run [a, b] when s ≤ b and e ≥ a: the runs starting at or
    before b, and those ending at or after a, are a prefix and a suffix of sorted lists, whose
    unions are precomputed. Each deny's i-th run is in layer i, so that in a layer a deny has
    one run and prefix ∩ suffix is exact; past the last layer a deny's runs share it, and a
    run left of [a, b] with another right of it can let that deny in: the caller verifies."""

    __slots__ = ("cache", "layers")

    def __init__(self, masks: list[int]) -> None:
        per_layer: list[list[tuple[int, int, int]]] = [[] for _ in range(_LAYERS)]
        for pos, m in enumerate(masks):
            for i, (s, e) in enumerate(_runs(m) or ()):
                per_layer[min(i, _LAYERS - 1)].append((s, e, pos))
        self.layers = []
        for runs in per_layer:
            if not runs:
                break
            by_start = sorted(runs)
            prefix = [0]
            for _, _, pos in by_start:
                prefix.append(prefix[-1] | (1 << pos))
            by_end = sorted(runs, key=lambda r: r[1])
            suffix = [0]
            for _, _, pos in reversed(by_end):
                suffix.append(suffix[-1] | (1 << pos))
            suffix.reverse()
            starts = [s for s, _, _ in by_start]
            ends = [e for _, e, _ in by_end]
            self.layers.append((starts, prefix, ends, suffix))
        self.cache: dict[int, int | None] = {}  # pieces share masks (a cut keeps two of three)

    def query(self, mask: int) -> int | None:
        """The denies meeting `mask` (a superset), or None when it has too many runs to be
        worth looking up."""
        if mask in self.cache:
            return self.cache[mask]
        runs = _runs(mask, _QUERY_RUNS)
        out: int | None = None
        if runs is not None:
            out = 0
            for starts, prefix, ends, suffix in self.layers:
                for a, b in runs:
                    out |= prefix[bisect_right(starts, b)] & suffix[bisect_left(ends, a)]
        self.cache[mask] = out
        return out


Masks = tuple[int, int, int]


class _Cutter:
    """The subtraction on masks, piece by piece in deny order (event-driven).

    The direct algorithm keeps a list of pieces and cuts each by every deny in turn; a piece
    is replaced in place by its parts only when the deny meets it. Here each piece is visited
    only at the next deny that meets it, with its path of part indices from the cube; the
    pieces alive after each deny are counted as the direct algorithm counts its list (the same
    cap, checked at the same steps), and the leaves in path order are its final list.

    The next deny that meets a piece is the first of its candidates that really meets it. A
    part's candidates are its parent's (a part lies inside its parent), narrowed along each
    dimension where the part's mask changed and is simple enough to look up (`_Stab`).
    """

    def __init__(self, cube: Cube, denies: Sequence[tuple[Keys, Keys, Keys]]) -> None:
        self.cube = cube
        keys = [
            [own, *dimension]
            for own, dimension in zip(_cube_keys(cube), zip(*denies, strict=True), strict=True)
        ]
        self.lines = tuple(_Line(k) for k in keys)
        self.root: Masks = (
            self.lines[0].mask(keys[0][0]),
            self.lines[1].mask(keys[1][0]),
            self.lines[2].mask(keys[2][0]),
        )
        # each deny as far as it lies inside the cube (every piece does)
        per_dimension = [
            [line.mask(ks) & full for ks in k[1:]]
            for line, k, full in zip(self.lines, keys, self.root, strict=True)
        ]
        self.denies: list[Masks] = list(zip(*per_dimension, strict=True))
        self.stabs = tuple(_Stab(masks) for masks in per_dimension)

    def candidates(self, piece: Masks, parent: Masks, inherited: int, after: int) -> int:
        """The denies after position `after` that may meet the piece (a superset)."""
        cand = inherited & (-1 << (after + 1))
        for stab, mask, before in zip(self.stabs, piece, parent, strict=True):
            if cand.bit_count() <= _VERIFY_UP_TO:  # checking these costs less than a lookup
                break
            if mask != before:
                narrowed = stab.query(mask)
                if narrowed is not None:
                    cand &= narrowed
        return cand

    def next_cut(self, piece: Masks, cand: int, after: int) -> int | None:
        """The first deny after position `after` among `cand` that meets the piece."""
        s, d, v = piece
        cand &= -1 << (after + 1)
        denies = self.denies
        while cand:
            low = cand & -cand
            at = low.bit_length() - 1
            ds, dd, dv = denies[at]
            if s & ds and d & dd and v & dv:
                return at
            cand ^= low
        return None

    def run(self) -> list[Cube] | None:
        leaves: list[tuple[tuple[int, ...], Masks]] = []
        every = (1 << len(self.denies)) - 1  # every deny meets the cube
        first = self.next_cut(self.root, every, -1)
        if first is None:
            return [self.cube]
        heap: list[tuple[int, int, tuple[int, ...], Masks, int]] = [
            (first, 0, (), self.root, every)
        ]
        alive, seq = 1, 0
        while heap:
            step = heap[0][0]
            ds, dd, dv = self.denies[step]
            while heap and heap[0][0] == step:
                _, _, path, piece, cand = heappop(heap)
                alive -= 1
                s, d, v = piece
                s_in = s & ds
                parts = ((s & ~ds, d, v), (s_in, d & ~dd, v), (s_in, d & dd, v & ~dv))
                k = 0
                for part in parts:
                    if not (part[0] and part[1] and part[2]):
                        continue
                    alive += 1
                    child = (*path, k)
                    k += 1
                    narrowed = self.candidates(part, piece, cand, step)
                    at = self.next_cut(part, narrowed, step)
                    if at is None:
                        leaves.append((child, part))
                    else:
                        seq += 1
                        heappush(heap, (at, seq, child, part, narrowed))
            if alive == 0:
                return []
            if alive > MAX_CUBES_PER_RULE:
                return None
        leaves.sort(key=lambda leaf: leaf[0])
        return self._cubes([masks for _, masks in leaves])

    def _cubes(self, pieces: list[Masks]) -> list[Cube]:
        """The pieces as cubes (a mask met again, or a run of keys, is converted once)."""
        src_line, dst_line, svc_line = self.lines
        cube, root = self.cube, self.root
        sources: dict[int, AddressSet] = {root[0]: cube.sources}
        destinations: dict[int, AddressSet] = {root[1]: cube.destinations}
        services: dict[int, ServiceSet] = {root[2]: cube.services}
        address_runs: dict[tuple[int, int], tuple[IPRange, ...]] = {}
        service_runs: dict[tuple[int, int], tuple[tuple[int, int, int], ...]] = {}

        def addresses(line: _Line, mask: int) -> AddressSet:
            out: list[IPRange] = []
            for run in line.keys(mask):
                got = address_runs.get(run)
                if got is None:
                    got = address_runs[run] = _address_ranges(*run)
                out.extend(got)
            return AddressSet(tuple(out))

        out = []
        for s, d, v in pieces:
            src = sources.get(s)
            if src is None:
                src = sources[s] = addresses(src_line, s)
            dst = destinations.get(d)
            if dst is None:
                dst = destinations[d] = addresses(dst_line, d)
            svc = services.get(v)
            if svc is None:
                items: list[tuple[int, int, int]] = []
                for run in svc_line.keys(v):
                    got = service_runs.get(run)
                    if got is None:
                        got = service_runs[run] = _service_items(*run)
                    items.extend(got)
                svc = services[v] = ServiceSet(tuple(items))
            out.append(Cube(src, dst, svc))
        return out
