"""Routes at the segment level: which element joins two tiers, and what a route's cause is.

The island search (search.py) answers *whether* an endpoint reaches another; this module answers
*through what* (issue 12), on the segments and forwarders of `Network`:

- every segment has a tier: its zone's, the public Internet's, or for a node--node link the one
  tier of its ends (ends that filter do not count). A link whose ends hold addresses of two
  tiers is itself **tier-joining** (`JOIN`);
- a forwarder that filters nothing is **tier-joining** where it carries a route from a segment
  of one tier to a segment of another; a `links:` entry joining an endpoint to a zone of
  another tier than the address is tier-joining for that address;
- the **cause** of a route from tier A: walking from the source, the first place where the
  route enters a segment whose tier A may not reach freely (`MATRIX` cell not `allow`). Where a
  filtering forwarder sits there, the route is *opened* by its permits: the cause is the chain
  of permits crossed (an lbo-gateway by its name). Otherwise the route is *bridged*: the cause
  is the tier-joining link, else the forwarder, there.

Channels (特定通信) cover only the route the plan intends (spec §3, amended): a route with no
tier-joining element, every tier crossing made by a filtering forwarder. For a fact between a
channel's endpoints, `approved_route` finds such a route (a BFS over the segments with every
tier-joining crossing removed) and `joined_route` one that uses a tier-joining element (for
each such element, two vertex-disjoint paths from it to the two ends: a simple route through
it exists exactly then).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..findings import Cause, CauseKind
from ..model import IP, Tier
from ..policy import MATRIX, TIER_ORDER, CellKind
from .network import Forwarder, Network

JOIN = "join"  # the tier of a node--node link whose ends hold addresses of two tiers
SegTier = Tier | str | None

# A route, as the items crossed from the source's address to the destination's:
#   ("s", segment)                      a segment
#   ("f", forwarder, permit or None)    a forwarder; the permit (lbo: its name) that opened it
#   ("l", link name)                    a `links:` entry joining an end to the next segment
Item = tuple[Any, ...]
Route = list[Item]
# Per forwarder on a route: None when it does not let the flow through, else the permit that
# opens it ("" for a forwarder that filters nothing).
Passes = Callable[[Forwarder], str | None]


def home(src: Tier, tier: Tier) -> bool:
    """True when the source tier reaches this tier freely (the same tier, or an allow cell)."""
    return tier is src or MATRIX[(src, tier)].kind is CellKind.ALLOW


def compatible(a: SegTier, b: SegTier) -> bool:
    """True for two segment tiers that may talk freely both ways (the same tier, or `allow`
    cells both ways: LGWAN-connected and the LGWAN, the Internet tier and the security cloud,
    the security cloud and the public Internet). A forwarder carrying a route between
    segments of tiers that are not compatible is tier-joining there."""
    if a is None or b is None:
        return True
    if not isinstance(a, Tier) or not isinstance(b, Tier):
        return False
    return a is b or (
        MATRIX[(a, b)].kind is CellKind.ALLOW and MATRIX[(b, a)].kind is CellKind.ALLOW
    )


class RouteMap:
    """Segment tiers, forwarder attachments and link terminals of one network."""

    def __init__(self, network: Network) -> None:
        self.network = network
        addresses = network.addresses
        nodes = network.topology.nodes

        def tiers_of(name: str) -> set[Tier]:
            node = nodes[name]
            if node.filtering:
                return set()
            out = set()
            for ip in node.addresses:
                tier = addresses.lookup(ip).tier
                if tier is not None:
                    out.add(tier)
            return out

        self.seg_tier: list[SegTier] = []
        for seg in network.segments:
            if seg.zone is not None:
                self.seg_tier.append(seg.zone.tier)
                continue
            assert seg.link is not None
            ends = sorted(tiers_of(seg.link.a) | tiers_of(seg.link.b), key=TIER_ORDER.index)
            if not ends:
                self.seg_tier.append(None)
            elif all(compatible(a, b) for a in ends for b in ends):
                self.seg_tier.append(ends[0])
            else:
                self.seg_tier.append(JOIN)
        self.seg_forwarders: list[list[Forwarder]] = [[] for _ in network.segments]
        for fwd in network.forwarders:
            for s in dict.fromkeys(fwd.segments):
                self.seg_forwarders[s].append(fwd)
        # Islands whose every segment has one tier: no route can change tier inside them.
        island_tiers: list[set[SegTier]] = [set() for _ in range(network.island_count)]
        for s, tier in enumerate(self.seg_tier):
            island_tiers[network.island_of[s]].add(tier)
        self.island_tiers = island_tiers
        self._inside: dict[tuple[tuple[int, ...], tuple[int, ...]], list[Item]] = {}

    # -- ends ------------------------------------------------------------------------------------

    def ends(self, node: str | None, ip: IP) -> list[tuple[int, str | None]]:
        """Segments an endpoint address sits on: its own (link None), then those of its links."""
        network = self.network
        out: list[tuple[int, str | None]] = [(s, None) for s in network.interval_of(ip).segments]
        if node is not None:
            for s in network.link_segments.get(node, ()):
                link = network.segments[s].link
                assert link is not None
                out.append((s, link.name))
            for name, _zone, segs in network.zone_links.get(node, ()):
                out.extend((s, name) for s in segs)
        return out

    def matches(self, seg: int, link: str | None, tier: Tier) -> bool:
        """True when an end's segment keeps the address's tier (no tier-joining link)."""
        return link is None or self.seg_tier[seg] is tier

    def link_name(self, seg: int) -> str | None:
        """The `links:` entry a node--node link segment stands for."""
        link = self.network.segments[seg].link
        return None if link is None else link.name

    # -- causes ----------------------------------------------------------------------------------

    def cause(self, route: Sequence[Item], src_tier: Tier) -> tuple[Cause, bool]:
        """The cause of a route from a source of `src_tier`, and True when it is bridged."""
        last: SegTier = src_tier
        last_seg: int | None = None
        between: list[Item] = []
        for item in route:
            if item[0] != "s":
                between.append(item)
                continue
            seg = item[1]
            tier = self.seg_tier[seg]
            if tier is JOIN or tier is None:
                link = self.link_name(seg)
                if tier is JOIN and link is not None:
                    between.append(("l", link))
                continue
            assert isinstance(tier, Tier)
            if tier is last or (isinstance(last, Tier) and home(src_tier, tier)):
                last, last_seg, between = tier, seg, []
                continue
            return self._classify(route, between, last_seg, seg)
        return self._classify(route, between, last_seg, None)

    def _classify(
        self, route: Sequence[Item], between: list[Item], before: int | None, after: int | None
    ) -> tuple[Cause, bool]:
        network = self.network
        zones = tuple(
            z.name
            for z in (None if s is None else network.segments[s].zone for s in (before, after))
            if z is not None
        )
        fwds = network.forwarder_by_name
        if any(i[0] == "f" and fwds[i[1]].filtering for i in between) or not between:
            chain = tuple(i[2] for i in route if i[0] == "f" and fwds[i[1]].filtering)
            return Cause(CauseKind.PERMITS, chain), False
        link = next((i[1] for i in between if i[0] == "l"), None)
        if link is not None:
            return Cause(CauseKind.LINK, (link,), zones), True
        name = next(i[1] for i in between if i[0] == "f")
        return Cause(CauseKind.FORWARDER, (name,), zones, fwds[name].node.role.value), True

    # -- routes inside one island ----------------------------------------------------------------

    def inside(self, graph: Any, sources: Iterable[int], targets: Iterable[int]) -> list[Item]:
        """A shortest route of segments and plain forwarders between two sets (cached)."""
        key = (tuple(sorted(set(sources))), tuple(sorted(set(targets))))
        hit = self._inside.get(key)
        if hit is None:
            hit = []
            for vertex in graph.route_between(key[0], key[1]):
                hit.append(("s", vertex[1]) if vertex[0] == "s" else ("f", vertex[1], ""))
            if len(self._inside) > 65536:
                self._inside.clear()
            self._inside[key] = hit
        return hit

    # -- routes a channel may cover, and those it may not ----------------------------------------

    def groups(self, fwd: Forwarder) -> dict[SegTier, list[int]]:
        """A plain forwarder's segments by tier (tier-joining links left out)."""
        groups: dict[SegTier, list[int]] = {}
        for s in dict.fromkeys(fwd.segments):
            tier = self.seg_tier[s]
            if tier is not JOIN:
                groups.setdefault(tier, []).append(s)
        return groups

    def joining_side(self, fwd: Forwarder) -> list[int]:
        """The segments to cut a tier-joining forwarder from, so that what remains joins only
        compatible tiers: its tiers with the most segments are kept while compatible."""
        groups = self.groups(fwd)
        ordered = sorted(groups, key=lambda t: (-len(groups[t]), str(t)))
        kept: list[SegTier] = []
        cut: list[int] = []
        for tier in ordered:
            if all(compatible(tier, k) for k in kept):
                kept.append(tier)
            else:
                cut.extend(groups[tier])
        return sorted(cut)

    def approved_route(
        self,
        src: tuple[str | None, IP, Tier],
        dst: tuple[str | None, IP, Tier],
        passes: Passes,
    ) -> Route | None:
        """A route with no tier-joining element, every tier crossing made by a permit."""
        starts = [s for s, link in self.ends(src[0], src[1]) if self.matches(s, link, src[2])]
        goals = {s: link for s, link in self.ends(dst[0], dst[1]) if self.matches(s, link, dst[2])}
        src_links = dict(self.ends(src[0], src[1]))
        parent: dict[int, tuple[int, Forwarder, str] | None] = {}
        queue: deque[int] = deque()
        for s in sorted(set(starts)):
            if self.seg_tier[s] is not JOIN:
                parent[s] = None
                queue.append(s)
        opened: dict[str, str | None] = {}
        while queue:
            seg = queue.popleft()
            if seg in goals:
                return self._rebuild(seg, parent, src_links, goals[seg])
            for fwd in self.seg_forwarders[seg]:
                name = fwd.node.name
                if name not in opened:
                    opened[name] = passes(fwd)
                permit = opened[name]
                if permit is None:
                    continue
                if fwd.filtering:
                    nexts = [s for s in fwd.segments if self.seg_tier[s] is not JOIN]
                else:
                    tier = self.seg_tier[seg]
                    nexts = [
                        s
                        for s in fwd.segments
                        if self.seg_tier[s] is not JOIN and compatible(self.seg_tier[s], tier)
                    ]
                for nxt in nexts:
                    if nxt not in parent:
                        parent[nxt] = (seg, fwd, permit)
                        queue.append(nxt)
        return None

    def _rebuild(
        self,
        seg: int,
        parent: dict[int, tuple[int, Forwarder, str] | None],
        src_links: dict[int, str | None],
        end_link: str | None,
    ) -> Route:
        out: Route = []
        if end_link is not None:
            out.append(("l", end_link))
        while True:
            out.append(("s", seg))
            step = parent[seg]
            if step is None:
                break
            prev, fwd, permit = step
            out.append(("f", fwd.node.name, permit))
            seg = prev
        link = src_links.get(seg)
        if link is not None and self.link_name(seg) != link:
            out.append(("l", link))
        out.reverse()
        return out

    def joined_route(
        self,
        src: tuple[str | None, IP, Tier],
        dst: tuple[str | None, IP, Tier],
        passes: Passes,
    ) -> tuple[Route, Cause] | None:
        """A simple route that uses a tier-joining element, and that element as its cause."""
        return next(_FlowGraph(self, src, dst, passes).joined(), None)

    def joining_elements(
        self,
        src: tuple[str | None, IP, Tier],
        dst: tuple[str | None, IP, Tier],
        passes: Passes,
    ) -> list[Cause]:
        """Every tier-joining element some simple route of this flow passes through."""
        return [cause for _, cause in _FlowGraph(self, src, dst, passes).joined()]


class _FlowGraph:
    """The segments and forwarders one flow may cross, as an undirected graph.

    Vertices: ("s", seg), ("f", name), and the two ends "S" and "D". A simple S-D route through
    an element exists exactly when there are two vertex-disjoint paths from the element to S and
    to D (the element left out): found by a unit-capacity max flow of value 2.
    """

    def __init__(
        self,
        routes: RouteMap,
        src: tuple[str | None, IP, Tier],
        dst: tuple[str | None, IP, Tier],
        passes: Passes,
    ) -> None:
        self.routes = routes
        self.src, self.dst = src, dst
        adj: dict[Any, list[Any]] = {"S": [], "D": []}
        self.permits: dict[str, str] = {}
        network = routes.network
        for s in range(len(network.segments)):
            adj[("s", s)] = []
        for fwd in network.forwarders:
            permit = passes(fwd)
            if permit is None:
                continue
            self.permits[fwd.node.name] = permit
            vertex = ("f", fwd.node.name)
            row = adj[vertex] = []
            for s in dict.fromkeys(fwd.segments):
                row.append(("s", s))
                adj[("s", s)].append(vertex)
        self.src_ends = routes.ends(src[0], src[1])
        self.dst_ends = routes.ends(dst[0], dst[1])
        for end, ends in (("S", self.src_ends), ("D", self.dst_ends)):
            for s, _link in dict.fromkeys(ends):
                adj[end].append(("s", s))
                adj[("s", s)].append(end)
        self.adj = adj

    def _bfs(self, start: Any, goal: Any, banned: set[Any]) -> list[Any] | None:
        parent: dict[Any, Any] = {start: None}
        queue: deque[Any] = deque([start])
        while queue:
            v = queue.popleft()
            if v == goal:
                out = [v]
                while parent[out[-1]] is not None:
                    out.append(parent[out[-1]])
                return out[::-1]
            for w in self.adj[v]:
                if w not in parent and w not in banned:
                    parent[w] = v
                    queue.append(w)
        return None

    def joined(self) -> Iterator[tuple[Route, Cause]]:
        """Each tier-joining element with a simple route through it, and that route."""
        routes = self.routes
        src_tier, dst_tier = self.src[2], self.dst[2]
        done: set[str] = set()
        # 1. an end joined by a link to a segment of another tier than its address
        for end, ends, tier, goal in (
            ("S", self.src_ends, src_tier, "D"),
            ("D", self.dst_ends, dst_tier, "S"),
        ):
            for s, link in sorted(ends, key=lambda e: (e[0], e[1] or "")):
                if link is None or link in done or routes.matches(s, link, tier):
                    continue
                path = self._bfs(("s", s), goal, {end})
                if path is not None:
                    full = [end, *path] if end == "S" else [*reversed(path), end]
                    done.add(link)
                    yield self._route(full), self._cause(CauseKind.LINK, link, ())
        # 2. a tier-joining node--node link in the middle
        network = routes.network
        for s, seg_tier in enumerate(routes.seg_tier):
            if seg_tier is not JOIN or routes.link_name(s) in done:
                continue
            vertex = ("s", s)
            paths = self._two_paths([vertex], [vertex], {vertex})
            if paths is not None:
                name = routes.link_name(s)
                assert name is not None
                yield self._join(paths, [vertex]), self._cause(CauseKind.LINK, name, ())
        # 3. a forwarder that filters nothing carrying a route from one tier to another
        for fwd in network.forwarders:
            if fwd.filtering or fwd.node.name not in self.permits:
                continue
            groups = routes.groups(fwd)
            keys = sorted(groups, key=str)
            for i, ga in enumerate(keys):
                for gb in keys[i + 1 :]:
                    if compatible(ga, gb):
                        continue
                    hub = ("f", fwd.node.name)
                    paths = self._two_paths(
                        [("s", s) for s in groups[ga]], [("s", s) for s in groups[gb]], {hub}
                    )
                    if paths is not None:
                        zones = tuple(
                            z
                            for z in (
                                _zone_name(network, groups[ga][0]),
                                _zone_name(network, groups[gb][0]),
                            )
                            if z is not None
                        )
                        yield (
                            self._join(paths, [hub]),
                            Cause(
                                CauseKind.FORWARDER, (fwd.node.name,), zones, fwd.node.role.value
                            ),
                        )
                        break
                else:
                    continue
                break

    def _cause(self, kind: CauseKind, name: str, zones: tuple[str, ...]) -> Cause:
        return Cause(kind, (name,), zones)

    def _two_paths(
        self, firsts_a: list[Any], firsts_b: list[Any], banned: set[Any]
    ) -> tuple[list[Any], list[Any]] | None:
        """Vertex-disjoint paths from `firsts_a` and from `firsts_b` to S and D (either way).

        A banned vertex in `firsts` stands for its neighbours (a link segment: the route passes
        through it). Every other vertex v is split into (v, 0) -> (v, 1) of capacity 1.
        """
        cap: dict[Any, dict[Any, int]] = {}

        def edge(u: Any, w: Any) -> None:
            cap.setdefault(u, {})
            cap[u][w] = cap[u].get(w, 0) + 1
            cap.setdefault(w, {}).setdefault(u, 0)

        for v, row in self.adj.items():
            if v in banned:
                continue
            edge((v, 0), (v, 1))
            for w in row:
                if w not in banned:
                    edge((v, 1), (w, 0))
        for tag, firsts in (("A",), firsts_a), (("B",), firsts_b):
            edge(("Z",), tag)
            for v in firsts:
                for w in sorted(self.adj[v], key=str) if v in banned else (v,):
                    if w not in banned:
                        edge(tag, (w, 0))
        edge(("S", 1), ("T",))
        edge(("D", 1), ("T",))
        orig = {u: dict(row) for u, row in cap.items()}
        for _ in range(2):
            parent: dict[Any, Any] = {("Z",): None}
            queue: deque[Any] = deque([("Z",)])
            while queue and ("T",) not in parent:
                u = queue.popleft()
                for w, room in cap[u].items():
                    if room > 0 and w not in parent:
                        parent[w] = u
                        queue.append(w)
            if ("T",) not in parent:
                return None
            w = ("T",)
            while parent[w] is not None:
                u = parent[w]
                cap[u][w] -= 1
                cap[w][u] += 1
                w = u
        # The flow on an edge is what its residual capacity lost; follow it from each tag.
        flow_out: dict[Any, list[Any]] = {}
        for tail, heads in orig.items():
            for head, c in heads.items():
                flow_out.setdefault(tail, []).extend([head] * max(0, c - cap[tail][head]))
        found: dict[Any, list[Any]] = {}
        for tag in (("A",), ("B",)):
            path: list[Any] = []
            at: Any = tag
            while at != ("T",):
                nxt = flow_out[at].pop()
                if len(nxt) == 2 and nxt[1] == 0:
                    path.append(nxt[0])
                at = nxt
            found[tag[0]] = path
        return found["A"], found["B"]

    def _join(self, paths: tuple[list[Any], list[Any]], middle: list[Any]) -> Route:
        a, b = paths
        if a[-1] == "S":
            full = [*reversed(a), *middle, *b]
        else:
            full = [*reversed(b), *middle, *a]
        out: list[Any] = []
        for v in full:  # the element's own vertex may be the first of both paths
            if not out or out[-1] != v:
                out.append(v)
        return self._route(out)

    def _route(self, vertices: list[Any]) -> Route:
        """Items of a vertex path S ... D, with the links the ends sit on."""
        inner = [v for v in vertices if v not in ("S", "D")]
        out: Route = []
        if inner:
            first = inner[0][1]
            link = dict(self.src_ends).get(first)
            if link is not None and self.routes.link_name(first) != link:
                out.append(("l", link))
        for v in inner:
            if v[0] == "s":
                out.append(("s", v[1]))
            else:
                fwd = self.routes.network.forwarder_by_name[v[1]]
                out.append(("f", v[1], self.permits[v[1]] if fwd.filtering else ""))
        if inner:
            last = inner[-1][1]
            link = dict(self.dst_ends).get(last)
            if link is not None and self.routes.link_name(last) != link:
                out.append(("l", link))
        return out


def _zone_name(network: Network, seg: int) -> str | None:
    zone = network.segments[seg].zone
    return None if zone is None else zone.name


__all__ = ["JOIN", "Item", "Route", "RouteMap", "home"]
