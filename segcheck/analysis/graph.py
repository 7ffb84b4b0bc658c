"""networkx graphs for witnesses and minimum cuts (the only module that imports networkx).

The graphs here hold segments and forwarders only, never endpoints: a 1M-node topology has a few
thousand segments and forwarders, so these graphs stay small. Endpoints join a graph through
the segments of their atom.

Cut items (what remediation may remove), each costed so that permits win ties:
- a permit: `FW-10` (a filtering forwarder passes a flow through one of its matching permits);
- an explicit link: its name as declared, `a--b`;
- a forwarder's attachment to a zone's segments: `node--zone` (removing the node's addresses in
  that zone, or the `links:` entry that attached it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import networkx as nx

from .network import Forwarder, Network

PERMIT_COST = 1000
ATTACHMENT_COST = 1001  # one more than a permit: of two equally small cuts, remove permits

_Vertex = tuple[str, ...]


class SegmentGraph:
    """Segments and plain forwarders: its connected components are the islands."""

    def __init__(self, network: Network) -> None:
        self.network = network
        graph: nx.Graph[Any] = nx.Graph()
        for segment in network.segments:
            graph.add_node(("s", segment.index))
        for fwd in network.forwarders:
            if not fwd.filtering:
                for seg in fwd.segments:
                    graph.add_edge(("f", fwd.node.name), ("s", seg))
        self.graph = graph
        self._trees: dict[tuple[int, ...], tuple[dict[Any, Any], dict[Any, int]]] = {}

    def _tree(self, start: tuple[int, ...]) -> tuple[dict[Any, Any], dict[Any, int]]:
        """BFS parents and depths from a set of segments (cached: many pairs share a source)."""
        cached = self._trees.get(start)
        if cached is not None:
            return cached
        parent: dict[Any, Any] = {}
        depth: dict[Any, int] = {}
        queue: deque[Any] = deque()
        for seg in start:
            vertex = ("s", seg)
            parent[vertex] = None
            depth[vertex] = 0
            queue.append(vertex)
        adj = self.graph.adj
        while queue:
            vertex = queue.popleft()
            d = depth[vertex] + 1
            for nxt in adj[vertex]:
                if nxt not in parent:
                    parent[nxt] = vertex
                    depth[nxt] = d
                    queue.append(nxt)
        if len(self._trees) > 256:
            self._trees.clear()
        self._trees[start] = (parent, depth)
        return parent, depth

    def forwarders_between(self, sources: Iterable[int], targets: Iterable[int]) -> list[str]:
        """Plain forwarders on a shortest path from any source segment to any target segment."""
        parent, depth = self._tree(tuple(sorted(set(sources))))
        reached = [(depth[("s", t)], t) for t in targets if ("s", t) in depth]
        if not reached:
            return []
        found: Any = ("s", min(reached)[1])
        hops: list[str] = []
        while found is not None:
            if found[0] == "f":
                hops.append(found[1])
            found = parent[found]
        hops.reverse()
        return hops


class CutGraph:
    """A flow network whose finite capacities are the cut items (see module docstring)."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.base: nx.DiGraph[Any] = nx.DiGraph()
        self.skeleton: nx.Graph[Any] = nx.Graph()  # unsplit, undirected: for pruning
        self._items: dict[_Vertex, str] = {}
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
        pending = sorted(v for v in skeleton if v not in parent)
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
            root = pending.pop()  # a component with no cycle: root its tree anywhere
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

    def _attachment(self, fwd: Forwarder, seg: int) -> _Vertex:
        """The item through which a forwarder touches a segment."""
        network = self.network
        name = fwd.node.name
        segment = network.segments[seg]
        if segment.link is not None:
            return self.segment_vertex(seg)
        zone = segment.zone.name if segment.zone is not None else segment.name
        label = f"{name}--{zone}"
        for link in network.topology.links:
            if {link.a, link.b} == {name, zone}:
                label = link.name
        key: _Vertex = ("att", name, zone)
        self._item(key, label, ATTACHMENT_COST)
        self._connect(key, self.segment_vertex(seg))
        return key

    def _add_forwarder(self, fwd: Forwarder) -> None:
        name = fwd.node.name
        if not fwd.filtering:
            hub: _Vertex = ("hub", name)
            for seg in fwd.segments:
                self._connect(hub, self._attachment(fwd, seg))
            return
        entry: _Vertex = ("entry", name)
        exit_: _Vertex = ("exit", name)
        for seg in fwd.segments:
            att = self._attachment(fwd, seg)
            self.base.add_edge(self._out(att), entry)
            self.base.add_edge(exit_, self._inn(att))
            self.skeleton.add_edge(att, ("fw", name))

    def cut(
        self,
        sources: Iterable[int],
        targets: Iterable[int],
        permits: Iterable[tuple[str, str]],
        lbos: Iterable[str],
    ) -> tuple[list[str], list[str]] | None:
        """Minimum cut between source and target segments; None when no finite cut exists.

        `permits` are (forwarder, permit id) pairs usable by the flows to close, `lbos` the
        lbo-gateways they may cross. Returns (permit ids, link and attachment names).
        """
        graph = self.base
        added: list[_Vertex] = []
        extra_edges: list[tuple[_Vertex, _Vertex]] = []
        try:
            for fwd, pid in permits:
                key: _Vertex = ("permit", pid)
                graph.add_edge(("in", *key), ("out", *key), capacity=PERMIT_COST)
                added.extend((("in", *key), ("out", *key)))
                extra_edges.append((("entry", fwd), ("in", *key)))
                extra_edges.append((("out", *key), ("exit", fwd)))
            for lbo in lbos:
                extra_edges.append((("entry", lbo), ("exit", lbo)))
            for seg in sources:
                extra_edges.append((("S",), self._inn(self.segment_vertex(seg))))
            for seg in targets:
                extra_edges.append((self._out(self.segment_vertex(seg)), ("T",)))
            graph.add_edges_from(extra_edges)
            added.extend((("S",), ("T",)))
            keep: set[Any] = set(self.core)
            for seg in (*sources, *targets):
                vertex: Any = self.segment_vertex(seg)
                while vertex is not None and vertex not in keep:
                    keep.add(vertex)
                    vertex = self.parent.get(vertex)
            nodes = {n for key in keep for n in self._split(key)}
            nodes.update(added)
            reach = _min_cut_side(graph, nodes, ("S",), ("T",))
            if reach is None:
                return None
            permit_ids: list[str] = []
            others: list[str] = []
            for node in reach:
                if node[0] != "in":
                    continue
                key = node[1:]
                if ("out", *key) in reach:
                    continue
                if key[0] == "permit":
                    permit_ids.append(key[1])
                else:
                    others.append(self._items[key])
            return sorted(set(permit_ids)), sorted(set(others))
        finally:
            graph.remove_edges_from(extra_edges)
            graph.remove_nodes_from(added)


_INF = float("inf")


def _min_cut_side(graph: nx.DiGraph[Any], nodes: set[Any], s: Any, t: Any) -> set[Any] | None:
    """The source side of a minimum s-t cut of `graph` restricted to `nodes`; None if unbounded.

    Shortest augmenting paths (Edmonds-Karp). Cuts here are a few items, so a few BFS passes
    over the pruned graph beat building networkx's residual network for every finding.
    """
    succ, pred = graph.succ, graph.pred
    flow: dict[tuple[Any, Any], float] = {}

    def residual(u: Any) -> list[tuple[Any, float, bool]]:
        out: list[tuple[Any, float, bool]] = []
        for v, data in succ[u].items():
            if v in nodes:
                room = data.get("capacity", _INF) - flow.get((u, v), 0)
                if room > 0:
                    out.append((v, room, True))
        for v in pred[u]:
            if v in nodes:
                back = flow.get((v, u), 0)
                if back > 0:
                    out.append((v, back, False))
        return out

    while True:
        parent: dict[Any, tuple[Any, float, bool] | None] = {s: None}
        queue: deque[Any] = deque([s])
        while queue and t not in parent:
            u = queue.popleft()
            for v, room, forward in residual(u):
                if v not in parent:
                    parent[v] = (u, room, forward)
                    queue.append(v)
        if t not in parent:
            return set(parent)
        bottleneck = _INF
        v = t
        while (step := parent[v]) is not None:
            bottleneck = min(bottleneck, step[1])
            v = step[0]
        if bottleneck == _INF:
            return None
        v = t
        while (step := parent[v]) is not None:
            u, _, forward = step
            if forward:
                flow[(u, v)] = flow.get((u, v), 0) + bottleneck
            else:
                flow[(v, u)] = flow.get((v, u), 0) - bottleneck
            v = u
