"""networkx graphs for witnesses and minimum cuts (the only module that imports networkx).

The graphs here hold segments and forwarders only, never endpoints: a 1M-node topology has a few
thousand segments and forwarders, so these graphs stay small. Endpoints join a graph through
the segments of their atom.

Cut items (what remediation may remove), each costed so that a network engineer's fix wins
(issue 12: a minimum-*cost* cut, not a minimum-size one):
- a permit: `FW-10` (a filtering forwarder passes a flow through one of its matching permits),
  one item per (forwarder, permit id): an imported rule split into several permits is one item;
- a `links:` entry, by its name `a--b` as declared: a node--node link, or a link joining an
  endpoint to a zone;
- a forwarder's attachment to one zone: `node--zone`, named after the zone its addresses lie
  in (`public-internet` only for global addresses in no declared zone); removing it means
  removing those addresses and any `links:` entry joining the node to that zone (a link alone
  keeps its declared name, which may read `zone--node`).

Permits cost PERMIT_COST, links and attachments ATTACHMENT_COST, unless the item carries traffic
the policy allows: then it costs EXPENSIVE_COST and is chosen only when nothing cheaper closes
the finding (and the remediation flags it). Such infrastructure is: an attachment of a
filtering forwarder (fix its permits instead; an lbo-gateway outside alpha-prime excepted, as
it is the finding itself), and an attachment or link whose removal disconnects segments of
tiers that may talk freely (the same tier, or an `allow` cell both ways) from each other, over
forwarders that filter nothing. That second test runs lazily, only for items a cut picks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import networkx as nx

from ..model import Profile, Role, Tier
from .network import Forwarder, Network
from .routes import compatible

PERMIT_COST = 1000
ATTACHMENT_COST = 1001  # one more than a permit: of two equally small cuts, remove permits
EXPENSIVE_COST = 1_000_000  # an item carrying allowed traffic: only when nothing cheaper exists

_Vertex = tuple[str, ...]
Terminal = tuple[str, int | str]  # ("seg", segment index) or ("link", link name): Atom.terminals


class SegmentGraph:
    """Segments and plain forwarders: its connected components are the islands.

    Witnesses need shortest paths between segments. A BFS over a whole island per path would
    cost the island's size for every finding, so the graph is split once into its 2-core and
    the trees hanging off it: between two vertices of one tree the only simple path is the tree
    path; otherwise every path runs up to the roots of both trees and between them through the
    core (BFS over the core only, cached per root).
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        adj: dict[Any, list[Any]] = {("s", s.index): [] for s in network.segments}
        for fwd in network.forwarders:
            if not fwd.filtering:
                hub = ("f", fwd.node.name)
                row = adj.setdefault(hub, [])
                for seg in dict.fromkeys(fwd.segments):
                    row.append(("s", seg))
                    adj[("s", seg)].append(hub)
        self.adj = adj
        core = _two_core(adj)
        self.core = core
        self.core_adj = {v: [w for w in adj[v] if w in core] for v in core}
        parent, depth, root = _forest(adj, core)
        self.parent, self.depth, self.root = parent, depth, root
        self._core_trees: dict[Any, tuple[dict[Any, Any], dict[Any, int]]] = {}

    def _core_tree(self, start: Any) -> tuple[dict[Any, Any], dict[Any, int]]:
        cached = self._core_trees.get(start)
        if cached is None:
            parent: dict[Any, Any] = {start: None}
            dist: dict[Any, int] = {start: 0}
            queue: deque[Any] = deque([start])
            core_adj = self.core_adj
            while queue:
                vertex = queue.popleft()
                d = dist[vertex] + 1
                for nxt in core_adj[vertex]:
                    if nxt not in parent:
                        parent[nxt] = vertex
                        dist[nxt] = d
                        queue.append(nxt)
            if len(self._core_trees) > 256:
                self._core_trees.clear()
            cached = self._core_trees[start] = (parent, dist)
        return cached

    def _distance(self, a: Any, b: Any) -> int | None:
        depth, root = self.depth, self.root
        ra, rb = root[a], root[b]
        if ra == rb:
            return depth[a] + depth[b] - 2 * depth[self._lca(a, b)]
        if ra not in self.core or rb not in self.core:
            return None
        dist = self._core_tree(ra)[1].get(rb)
        return None if dist is None else depth[a] + dist + depth[b]

    def _lca(self, a: Any, b: Any) -> Any:
        parent, depth = self.parent, self.depth
        while depth[a] > depth[b]:
            a = parent[a]
        while depth[b] > depth[a]:
            b = parent[b]
        while a != b:
            a, b = parent[a], parent[b]
        return a

    def _up(self, a: Any, stop: Any) -> list[Any]:
        """a, its parent, ... up to and including stop."""
        out = [a]
        parent = self.parent
        while a != stop:
            a = parent[a]
            out.append(a)
        return out

    def _path(self, a: Any, b: Any) -> list[Any]:
        ra, rb = self.root[a], self.root[b]
        if ra == rb:
            lca = self._lca(a, b)
            return self._up(a, lca) + self._up(b, lca)[-2::-1]
        parent = self._core_tree(ra)[0]
        middle = [rb]
        while middle[-1] != ra:
            middle.append(parent[middle[-1]])
        middle.reverse()  # ra ... rb
        return self._up(a, ra)[:-1] + middle + self._up(b, rb)[-2::-1]

    def route_between(self, sources: Iterable[int], targets: Iterable[int]) -> list[Any]:
        """A shortest path from any source segment to any target segment: its vertices,
        ("s", segment) and ("f", forwarder name); [] when none is connected."""
        best: tuple[int, int, int] | None = None
        for t in sorted(set(targets)):
            for s in sorted(set(sources)):
                d = self._distance(("s", s), ("s", t))
                if d is not None and (best is None or (d, t, s) < best):
                    best = (d, t, s)
        if best is None:
            return []
        return self._path(("s", best[2]), ("s", best[1]))

    def forwarders_between(self, sources: Iterable[int], targets: Iterable[int]) -> list[str]:
        """Plain forwarders on a shortest path from any source segment to any target segment."""
        return [v[1] for v in self.route_between(sources, targets) if v[0] == "f"]


def _two_core(adj: dict[Any, list[Any]]) -> set[Any]:
    """Vertices of the 2-core: peel vertices of degree < 2 until none is left."""
    degree = {v: len(row) for v, row in adj.items()}
    queue = [v for v, d in degree.items() if d < 2]
    removed = set(queue)
    while queue:
        vertex = queue.pop()
        for nxt in adj[vertex]:
            if nxt not in removed:
                degree[nxt] -= 1
                if degree[nxt] < 2:
                    removed.add(nxt)
                    queue.append(nxt)
    return {v for v in adj if v not in removed}


def _forest(
    adj: dict[Any, list[Any]], core: set[Any]
) -> tuple[dict[Any, Any], dict[Any, int], dict[Any, Any]]:
    """Parent, depth and root of every vertex: trees hang off the core (or off their own root)."""
    parent: dict[Any, Any] = {}
    depth: dict[Any, int] = {}
    root: dict[Any, Any] = {}
    for v in core:
        parent[v], depth[v], root[v] = None, 0, v
    queue: deque[Any] = deque(sorted(core))
    pending = sorted((v for v in adj if v not in parent), reverse=True)
    while True:
        while queue:
            vertex = queue.popleft()
            d, r = depth[vertex] + 1, root[vertex]
            for nxt in adj[vertex]:
                if nxt not in parent:
                    parent[nxt], depth[nxt], root[nxt] = vertex, d, r
                    queue.append(nxt)
        while pending and pending[-1] in parent:
            pending.pop()
        if not pending:
            break
        start = pending.pop()  # a component with no cycle: root its tree anywhere
        parent[start], depth[start], root[start] = None, 0, start
        queue.append(start)
    return parent, depth, root


class CutGraph:
    """A flow network whose finite capacities are the cut items (see module docstring)."""

    def __init__(self, network: Network, seg_tier: list[Any] | None = None) -> None:
        self.network = network
        # Per segment its tier (routes.RouteMap.seg_tier): None skips the lazy cost test.
        self.seg_tier = seg_tier
        self._ports: dict[str, list[tuple[_Vertex, tuple[int, ...]]]] = {}
        self._seg_ports: dict[int, list[tuple[str, _Vertex]]] = {}
        self._evaluated: set[_Vertex] = set()
        self.expensive: set[str] = set()  # names of items that carry allowed traffic
        self.base: nx.DiGraph[Any] = nx.DiGraph()
        self.skeleton: nx.Graph[Any] = nx.Graph()  # unsplit, undirected: for pruning
        self._items: dict[_Vertex, str] = {}
        self._cost: dict[_Vertex, int] = {}
        self._core_cuts: dict[Any, Any] = {}
        self._sides: dict[Any, _Side] = {}
        self._succ: dict[Any, dict[Any, float]] | None = None
        self._succ_items = -1
        self._pred: dict[Any, list[Any]] = {}
        self._core_nodes: set[Any] = set()
        self._core_rows: dict[Any, dict[Any, float]] = {}
        self._cuts: dict[Any, tuple[list[tuple[str, str]], list[str]] | None] = {}
        self._add_zone_links()
        for fwd in network.forwarders:
            self._add_forwarder(fwd)
        self._prune_index()

    def _prune_index(self) -> None:
        """The 2-core of the skeleton and, for the trees hanging off it, parent pointers.

        A cut only ever needs the 2-core plus the tree paths from each source and target segment
        up to it: nothing else lies on a simple path between them. With ~150-host segments each
        behind its own switch, the 2-core is the handful of core segments and firewalls, so a
        cut costs little even when the topology has a million nodes.
        """
        skeleton = self.skeleton
        self.core: set[Any] = set(nx.k_core(skeleton, 2).nodes) if skeleton else set()
        parent: dict[Any, Any] = {v: None for v in self.core}
        queue: deque[Any] = deque(sorted(self.core))
        # A component with no cycle is rooted at a vertex of highest degree (its natural hub),
        # so that cuts between its branches contract well (see `_cut`).
        pending = sorted(
            (v for v in skeleton if v not in parent), key=lambda v: (skeleton.degree(v), v)
        )
        while True:
            while queue:
                vertex = queue.popleft()
                for nxt in skeleton.adj[vertex]:
                    if nxt not in parent:
                        parent[nxt] = vertex
                        queue.append(nxt)
            while pending and pending[-1] in parent:
                pending.pop()
            if not pending:
                break
            root = pending.pop()
            parent[root] = None
            queue.append(root)
        self.parent = parent

    def _split(self, key: Any) -> list[Any]:
        if key in self._items:
            return [("in", *key), ("out", *key)]
        if key[0] == "fw":
            return [("entry", key[1]), ("exit", key[1])]
        return [key]

    def _item(self, key: _Vertex, name: str, cost: int) -> None:
        if key not in self._items:
            self._items[key] = name
            self._cost[key] = cost
            self.base.add_edge(("in", *key), ("out", *key), capacity=cost)

    def _inn(self, key: _Vertex) -> _Vertex:
        return ("in", *key) if key in self._items else key

    def _out(self, key: _Vertex) -> _Vertex:
        return ("out", *key) if key in self._items else key

    def _connect(self, a: _Vertex, b: _Vertex) -> None:
        self.base.add_edge(self._out(a), self._inn(b))
        self.base.add_edge(self._out(b), self._inn(a))
        self.skeleton.add_edge(a, b)

    def segment_vertex(self, seg: int) -> _Vertex:
        """The vertex of a segment (a link segment is itself a cut item)."""
        segment = self.network.segments[seg]
        key: _Vertex = ("seg", str(seg))
        if segment.link is not None:
            self._item(key, segment.link.name, ATTACHMENT_COST)
        return key

    def _attachments(self, fwd: Forwarder) -> list[_Vertex]:
        """The items through which a forwarder touches its segments.

        - per zone: `node--zone`, named after the zone its addresses lie in (`public-internet`
          only for global addresses in no declared zone), joined to every segment holding
          them; a `links:` entry joining the node to that zone is part of the same item (the
          item is the link's own name when the node has no address in the zone);
        - each node--node link: the link segment itself.
        """
        network = self.network
        name = fwd.node.name
        out: list[_Vertex] = []
        ports: dict[_Vertex, list[int]] = {}  # item -> the segments it joins the node to
        cost = ATTACHMENT_COST
        if fwd.filtering:
            # A firewall's (or permit router's) legs are infrastructure: fix its permits. An
            # lbo-gateway outside alpha-prime is the finding itself: cutting it is cheap.
            lbo_finding = (
                fwd.node.role is Role.LBO_GATEWAY
                and network.topology.profile is not Profile.ALPHA_PRIME
            )
            cost = ATTACHMENT_COST if lbo_finding else EXPENSIVE_COST

        def attach(zone: str, label: str, segs: Iterable[int]) -> None:
            key: _Vertex = ("att", name, zone)
            if key not in self._items:
                self._item(key, label, cost)
                if fwd.filtering:
                    self._evaluated.add(key)
                if cost == EXPENSIVE_COST:
                    self.expensive.add(label)
                out.append(key)
            for seg in segs:
                ports.setdefault(key, [])
                if seg not in ports[key]:
                    ports[key].append(seg)
                if not self.skeleton.has_edge(key, self.segment_vertex(seg)):
                    self._connect(key, self.segment_vertex(seg))

        for ip in fwd.node.addresses:
            iv = network.interval_of(ip)
            if iv.segments and iv.zone is not None:  # else local scope: on no segment
                attach(iv.zone.name, f"{name}--{iv.zone.name}", iv.segments)
        for link, zone, linked in network.zone_links.get(name, ()):
            attach(zone, link, linked)
        for seg in network.link_segments.get(name, ()):
            out.append(self.segment_vertex(seg))
            ports[self.segment_vertex(seg)] = [seg]  # a link segment is its own port
        if not fwd.filtering:
            self._ports[name] = [(key, tuple(joined)) for key, joined in ports.items()]
            for key, joined in ports.items():
                for seg in joined:
                    self._seg_ports.setdefault(seg, []).append((name, key))
        return out

    def link_vertex(self, link: str) -> _Vertex:
        """The item of a `links:` entry joining a node to a zone."""
        return ("zlink", link)

    def _add_zone_links(self) -> None:
        """Links joining an endpoint to a zone (a forwarder's are in its attachments)."""
        for node, links in self.network.zone_links.items():
            if node in self.network.forwarder_by_name:
                continue
            for link, _, segs in links:
                key = self.link_vertex(link)
                if key in self._items:
                    continue
                self._item(key, link, ATTACHMENT_COST)
                for seg in segs:
                    self._connect(key, self.segment_vertex(seg))

    def terminal_vertex(self, terminal: tuple[str, int | str]) -> _Vertex:
        """The vertex of an atom's terminal (see `Atom.terminals`)."""
        if terminal[0] == "link":
            return self.link_vertex(str(terminal[1]))
        return self.segment_vertex(int(terminal[1]))

    def _add_forwarder(self, fwd: Forwarder) -> None:
        name = fwd.node.name
        if not fwd.filtering:
            hub: _Vertex = ("hub", name)
            for att in self._attachments(fwd):
                self._connect(hub, att)
            return
        entry: _Vertex = ("entry", name)
        exit_: _Vertex = ("exit", name)
        for att in self._attachments(fwd):
            self.base.add_edge(self._out(att), entry)
            self.base.add_edge(exit_, self._inn(att))
            self.skeleton.add_edge(att, ("fw", name))

    def _capacities(self) -> tuple[dict[Any, dict[Any, float]], dict[Any, list[Any]]]:
        """Plain dicts of the base graph: capacities and predecessors (rebuilt on a new item)."""
        if self._succ is None or self._succ_items != len(self._items):
            self._succ = {
                u: {v: data.get("capacity", _INF) for v, data in nbrs.items()}
                for u, nbrs in self.base.adj.items()
            }
            self._pred = {u: list(p) for u, p in self.base.pred.items()}
            self._succ_items = len(self._items)
            core_nodes = {n for key in self.core for n in self._split(key)}
            self._core_nodes = core_nodes
            rows: dict[Any, dict[Any, float]] = {u: {} for u in core_nodes}
            for u in core_nodes:
                for v, cap in self._succ.get(u, {}).items():
                    if v in core_nodes:
                        rows[u][v] = rows[u].get(v, 0) + cap
                        rows[v].setdefault(u, 0)
            self._core_rows = rows
        return self._succ, self._pred

    def cut(
        self,
        sources: Iterable[Terminal],
        targets: Iterable[Terminal],
        permits: Iterable[tuple[str, str]],
        lbos: Iterable[str],
    ) -> tuple[list[tuple[str, str]], list[str]] | None:
        """Minimum-cost cut between source and target terminals; None when no finite cut.

        `permits` are (forwarder, permit id) pairs usable by the flows to close, `lbos` the
        lbo-gateways they may cross. Returns ((forwarder, permit id) pairs, link and
        attachment names). Cached: groups with the same ends and usable permits share one cut.
        An item the cut picks is tested once for the allowed traffic it carries; if it does,
        its cost rises and the cut is computed again.
        """
        key = (
            tuple(sorted(set(sources))),
            tuple(sorted(set(targets))),
            tuple(sorted(set(permits))),
            tuple(sorted(set(lbos))),
        )
        while True:
            if key in self._cuts:
                return self._cuts[key]
            result = self._cut(key[0], key[1], key[2], key[3])
            if result is not None and self._learn(result[1]):
                continue  # costs changed: every cached cut is stale
            self._cuts[key] = result
            return result

    def _learn(self, names: list[str]) -> bool:
        """Test the picked items not yet tested; True when one turned out expensive."""
        if self.seg_tier is None:
            return False
        changed = False
        by_name = {name: key for key, name in self._items.items()}
        for name in names:
            key = by_name[name]
            if key in self._evaluated:
                continue
            self._evaluated.add(key)
            if self._carries_allowed(key):
                self._cost[key] = EXPENSIVE_COST
                self.base.edges[("in", *key), ("out", *key)]["capacity"] = EXPENSIVE_COST
                self.expensive.add(name)
                changed = True
        if changed:
            self._cuts.clear()
            self._core_cuts.clear()
            self._sides.clear()
            self._succ = None
        return changed

    def attachment_name(self, forwarder: str, seg: int) -> str:
        """The item through which a forwarder that filters nothing touches a segment."""
        for key, segs in self._ports.get(forwarder, ()):
            if seg in segs:
                return self._items[key]
        raise KeyError((forwarder, seg))

    def _port_tier(self, key: _Vertex) -> Any:
        assert self.seg_tier is not None
        if key[0] == "att":
            return self.network.topology.zone_tier(str(key[2]))
        return self.seg_tier[int(key[1])]

    def _carries_allowed(self, key: _Vertex) -> bool:
        """True when removing the item disconnects segments of tiers that may talk freely."""
        network = self.network
        if key[0] == "att":
            ports = self._ports.get(str(key[1]))
            if ports is None:
                return False  # a filtering forwarder's: costed when built
            tier = self._port_tier(key)
            own = next(segs for k, segs in ports if k == key)
            goals = {
                s
                for k, segs in ports
                if k != key and compatible(tier, self._port_tier(k))
                for s in segs
            }
            return bool(goals) and not self._connected(set(own) - goals, goals, key)
        if key[0] == "seg":
            seg = network.segments[int(key[1])]
            if seg.link is None or self.seg_tier is None:
                return False
            tier = self.seg_tier[seg.index]
            if not isinstance(tier, Tier):
                return False  # a link joining two tiers (or between firewalls only)
            sides: list[set[int]] = []
            for end in (seg.link.a, seg.link.b):
                fwd = network.forwarder_by_name.get(end)
                if fwd is None:
                    return False  # an endpoint keeps its own segment
                if fwd.filtering:
                    return True
                sides.append(
                    {
                        s
                        for k, segs in self._ports.get(end, [])
                        if k != key and compatible(tier, self._port_tier(k))
                        for s in segs
                    }
                )
            if not sides[0] or not sides[1]:
                return False
            return not self._connected(sides[0], sides[1], key)
        return False

    def _connected(self, starts: set[int], goals: set[int], removed: _Vertex) -> bool:
        """True when every goal segment is reached from the starts over forwarders that filter
        nothing, between ports of compatible tiers, without the removed item."""
        seen = set(starts)
        queue: deque[int] = deque(sorted(starts))
        while queue and not goals <= seen:
            seg = queue.popleft()
            for name, key in self._seg_ports.get(seg, ()):
                if key == removed:
                    continue
                tier = self._port_tier(key)
                for other, segs in self._ports[name]:
                    if other == removed or not compatible(tier, self._port_tier(other)):
                        continue
                    for nxt in segs:
                        if nxt not in seen:
                            seen.add(nxt)
                            queue.append(nxt)
        return goals <= seen

    def _cut(
        self,
        sources: tuple[Terminal, ...],
        targets: tuple[Terminal, ...],
        permits: tuple[tuple[str, str], ...],
        lbos: tuple[str, ...],
    ) -> tuple[list[tuple[str, str]], list[str]] | None:
        """The cut with the trees off the core contracted (exact; see `_Side`).

        Each branch hanging off the core (or off the root of a component without a cycle) that
        holds only sources, or only targets, carries at most the value of a small tree DP, so
        it becomes one edge S -> its attach point (or attach point -> T). The core problem
        then depends only on those capacities and is cached: groups whose ends differ but
        whose branches carry the same capacities share it. A branch holding both ends falls
        back to the whole pruned graph.
        """
        src_vertices = [self.terminal_vertex(t) for t in sources]
        dst_vertices = [self.terminal_vertex(t) for t in targets]
        self._capacities()
        fw_cap: dict[str, float] = {}
        fw_permits: dict[str, list[tuple[str, str]]] = {}
        for fwd, pid in permits:
            fw_cap[fwd] = fw_cap.get(fwd, 0) + PERMIT_COST
            fw_permits.setdefault(fwd, []).append((fwd, pid))
        for lbo in lbos:
            fw_cap[lbo] = _INF
        side_s = self._side(sources, src_vertices, fw_cap, permits, lbos)
        side_t = self._side(targets, dst_vertices, fw_cap, permits, lbos)
        if side_s.seen & side_t.seen:
            return self._cut_full(sources, targets, permits, lbos)
        s_caps = side_s.capacities()
        t_caps = side_t.capacities()
        core_key = (tuple(sorted(s_caps.items())), tuple(sorted(t_caps.items())), permits, lbos)
        core = self._core_cuts.get(core_key)
        if core_key not in self._core_cuts:
            core = self._core_cuts[core_key] = self._core_cut(s_caps, t_caps, permits, lbos)
        if core is None:
            return None
        permit_ids, others, cut_s, cut_t = core
        permit_set: set[tuple[str, str]] = set(permit_ids)
        other_set = set(others)
        for side, roots in ((side_s, cut_s), (side_t, cut_t)):
            for key in side.cutset(roots):
                if key[0] == "fw":
                    permit_set.update(fw_permits.get(key[1], ()))
                else:
                    other_set.add(self._items[key])
        return sorted(permit_set), sorted(other_set)

    def _side(
        self,
        segs: tuple[Terminal, ...],
        vertices: list[Any],
        fw_cap: dict[str, float],
        permits: tuple[tuple[str, str], ...],
        lbos: tuple[str, ...],
    ) -> _Side:
        """One side's branches (cached: a zone is the source of many groups)."""
        key = (segs, permits, lbos)
        side = self._sides.get(key)
        if side is None:
            if len(self._sides) > 4096:
                self._sides.clear()
            side = self._sides[key] = _Side(self, vertices, fw_cap)
        return side

    def _ends(self, key: Any) -> tuple[Any, Any]:
        """Where flow enters and leaves a skeleton vertex in the split graph."""
        if key[0] == "fw":
            return ("entry", key[1]), ("exit", key[1])
        return self._inn(key), self._out(key)

    def _cut_items(self, reach: set[Any]) -> tuple[list[tuple[str, str]], list[str]]:
        """(Forwarder, permit id) pairs and other item names whose in/out split the source
        side cuts."""
        permit_ids: list[tuple[str, str]] = []
        others: list[str] = []
        for node in reach:
            if node[0] != "in":
                continue
            item = node[1:]
            if ("out", *item) in reach:
                continue
            if item[0] == "permit":
                permit_ids.append((item[1], item[2]))
            else:
                others.append(self._items[item])
        return permit_ids, others

    def _core_cut(
        self,
        s_caps: dict[Any, float],
        t_caps: dict[Any, float],
        permits: tuple[tuple[str, str], ...],
        lbos: tuple[str, ...],
    ) -> tuple[list[tuple[str, str]], list[str], list[Any], list[Any]] | None:
        res: dict[Any, dict[Any, float]] = {u: dict(row) for u, row in self._core_rows.items()}

        def edge(u: Any, v: Any, cap: float) -> None:
            _add_edge(res, u, v, cap)

        for key in {*s_caps, *t_caps}:
            if key not in self.core and key in self._items:
                edge(("in", *key), ("out", *key), self._cost[key])
        _add_gates(res, permits, lbos)
        for key, cap in s_caps.items():
            edge(("S",), self._ends(key)[0], cap)
        for key, cap in t_caps.items():
            edge(self._ends(key)[1], ("T",), cap)
        reach = _min_cut_side(res, ("S",), ("T",))
        if reach is None:
            return None
        permit_ids, others = self._cut_items(reach)
        cut_s = [k for k in s_caps if self._ends(k)[0] not in reach]
        cut_t = [k for k in t_caps if self._ends(k)[1] in reach]
        return permit_ids, others, cut_s, cut_t

    def _cut_full(
        self,
        sources: tuple[Terminal, ...],
        targets: tuple[Terminal, ...],
        permits: tuple[tuple[str, str], ...],
        lbos: tuple[str, ...],
    ) -> tuple[list[tuple[str, str]], list[str]] | None:
        res = self._residual(sources, targets, permits, lbos)
        reach = _min_cut_side(res, ("S",), ("T",))
        if reach is None:
            return None
        permit_ids, others = self._cut_items(reach)
        return sorted(set(permit_ids)), sorted(set(others))

    def closes(
        self,
        sources: Iterable[Terminal],
        targets: Iterable[Terminal],
        permits: Iterable[tuple[str, str]],
        lbos: Iterable[str],
        cut: tuple[Iterable[tuple[str, str]], Iterable[str]],
    ) -> bool:
        """True when a cut already made ((forwarder, permit id) pairs, item names) leaves no
        route from the sources to the targets (a finding's other direction often shares it)."""
        res = self._residual(
            tuple(sorted(set(sources))),
            tuple(sorted(set(targets))),
            tuple(sorted(set(permits))),
            tuple(sorted(set(lbos))),
        )
        by_name = {name: key for key, name in self._items.items()}
        gone: list[Any] = [("permit", fwd, pid) for fwd, pid in cut[0]]
        gone += [by_name[name] for name in cut[1] if name in by_name]
        for key in gone:
            row = res.get(("in", *key))
            if row is not None and ("out", *key) in row:
                row[("out", *key)] = 0
        seen = {("S",)}
        todo = [("S",)]
        while todo:
            u = todo.pop()
            for v, room in res.get(u, {}).items():
                if room > 0 and v not in seen:
                    if v == ("T",):
                        return False
                    seen.add(v)
                    todo.append(v)
        return True

    def _residual(
        self,
        sources: tuple[Terminal, ...],
        targets: tuple[Terminal, ...],
        permits: tuple[tuple[str, str], ...],
        lbos: tuple[str, ...],
    ) -> dict[Any, dict[Any, float]]:
        """The residual network of the pruned graph between two sets of terminals."""
        src_vertices = [self.terminal_vertex(t) for t in sources]
        dst_vertices = [self.terminal_vertex(t) for t in targets]
        succ, pred = self._capacities()
        core_nodes = self._core_nodes
        tree_keys: set[Any] = set()
        for start in (*src_vertices, *dst_vertices):
            vertex: Any = start
            while vertex is not None and vertex not in self.core and vertex not in tree_keys:
                tree_keys.add(vertex)
                vertex = self.parent.get(vertex)
        tree_nodes = {n for k in tree_keys for n in self._split(k)}
        nodes = core_nodes | tree_nodes
        # The residual network restricted to the kept vertices, as plain dicts: the core's
        # rows are precomputed, the trees add their own edges (both directions).
        res: dict[Any, dict[Any, float]] = {u: dict(row) for u, row in self._core_rows.items()}

        def edge(u: Any, v: Any, cap: float) -> None:
            _add_edge(res, u, v, cap)

        for u in tree_nodes:
            for v, cap in succ.get(u, {}).items():
                if v in nodes:
                    edge(u, v, cap)
            for v in pred.get(u, ()):
                if v in core_nodes:
                    edge(v, u, succ[v][u])
        _add_gates(res, permits, lbos)
        for vertex in src_vertices:
            edge(("S",), self._inn(vertex), _INF)
        for vertex in dst_vertices:
            edge(self._out(vertex), ("T",), _INF)
        return res


class _Side:
    """The branches off the core that hold one side's terminals, with their tree DP.

    In a branch holding only sources, flow can only climb towards the attach point, so the
    most it carries is f(v) = min(cap(v), inf if v is a source else the sum of f over v's
    children), and a minimum cut of it is v itself when cap(v) < that sum (else its
    children's cuts: of equal cuts, the one nearest the terminals, as augmenting paths give).
    Targets are symmetric.
    """

    def __init__(self, graph: CutGraph, terminals: list[Any], fw_cap: dict[str, float]) -> None:
        self.graph = graph
        self.fw_cap = fw_cap
        self.terminals = set(terminals)
        self.attached: set[Any] = set()  # terminals that are attach points themselves
        self.seen: set[Any] = set()
        self.children: dict[Any, list[Any]] = {}
        self.tops: dict[Any, list[Any]] = {}  # attach point -> branch tops holding terminals
        parent, core = graph.parent, graph.core
        for vertex in sorted(self.terminals):
            if vertex in core or parent.get(vertex) is None:
                self.attached.add(vertex)
                continue
            u = vertex
            while u not in self.seen:
                self.seen.add(u)
                p = parent[u]
                self.children.setdefault(p, []).append(u)
                if p in core or parent.get(p) is None:
                    self.tops.setdefault(p, []).append(u)
                    break
                u = p
        self.value: dict[Any, float] = {}
        for tops in self.tops.values():
            for top in tops:
                self._solve(top)

    def _cap(self, key: Any) -> float:
        cost = self.graph._cost.get(key)
        if cost is not None:
            return cost
        if key[0] == "fw":
            return self.fw_cap.get(key[1], 0)
        return _INF

    def _below(self, key: Any) -> float:
        if key in self.terminals:
            return _INF
        return sum(self.value[c] for c in self.children.get(key, ()))

    def _solve(self, top: Any) -> None:
        stack: list[tuple[Any, bool]] = [(top, False)]
        while stack:
            key, done = stack.pop()
            if done:
                self.value[key] = min(self._cap(key), self._below(key))
                continue
            stack.append((key, True))
            for child in self.children.get(key, ()):
                stack.append((child, False))

    def capacities(self) -> dict[Any, float]:
        """Per attach point, what this side's branches there can carry."""
        out: dict[Any, float] = {}
        for root, tops in self.tops.items():
            out[root] = sum(self.value[t] for t in tops)
        for root in self.attached:
            out[root] = _INF
        return out

    def cutset(self, roots: Iterable[Any]) -> list[Any]:
        """The skeleton vertices cutting every branch at these attach points."""
        out: list[Any] = []
        stack = [t for root in roots for t in self.tops.get(root, ())]
        while stack:
            key = stack.pop()
            if self._cap(key) < self._below(key):
                out.append(key)
            else:
                stack.extend(self.children.get(key, ()))
        return out


_INF = float("inf")


def _add_edge(res: dict[Any, dict[Any, float]], u: Any, v: Any, cap: float) -> None:
    """Add capacity u -> v to a residual network (with its zero reverse edge)."""
    row = res.setdefault(u, {})
    row[v] = row.get(v, 0) + cap
    res.setdefault(v, {}).setdefault(u, 0)


def _add_gates(
    res: dict[Any, dict[Any, float]],
    permits: tuple[tuple[str, str], ...],
    lbos: tuple[str, ...],
) -> None:
    """The permits a path needs (each cuttable at PERMIT_COST) and the lbo-gateways it crosses."""
    for fwd, pid in permits:
        inn, out = ("in", "permit", fwd, pid), ("out", "permit", fwd, pid)
        _add_edge(res, inn, out, PERMIT_COST)
        _add_edge(res, ("entry", fwd), inn, _INF)
        _add_edge(res, out, ("exit", fwd), _INF)
    for lbo in lbos:
        _add_edge(res, ("entry", lbo), ("exit", lbo), _INF)


def _min_cut_side(res: dict[Any, dict[Any, float]], s: Any, t: Any) -> set[Any] | None:
    """The source side of a minimum s-t cut of a residual network; None if unbounded.

    Shortest augmenting paths (Edmonds-Karp) on plain dicts, updated in place. Cuts here are a
    few items over a pruned graph of a few hundred vertices, so a few BFS passes suffice.
    """
    while True:
        parent: dict[Any, Any] = {s: None}
        queue: deque[Any] = deque([s])
        while queue and t not in parent:
            u = queue.popleft()
            for v, room in res[u].items():
                if room > 0 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if t not in parent:
            return set(parent)
        bottleneck = _INF
        v = t
        while (u := parent[v]) is not None:
            bottleneck = min(bottleneck, res[u][v])
            v = u
        if bottleneck == _INF:
            return None
        v = t
        while (u := parent[v]) is not None:
            res[u][v] -= bottleneck
            res[v][u] += bottleneck
            v = u
