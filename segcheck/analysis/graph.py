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

    def forwarders_between(self, sources: Iterable[int], targets: Iterable[int]) -> list[str]:
        """Plain forwarders on a shortest path from any source segment to any target segment."""
        target_set = {("s", t) for t in targets}
        start = sorted(set(sources))
        parent: dict[Any, Any] = {}
        queue: deque[Any] = deque()
        for seg in start:
            vertex = ("s", seg)
            parent[vertex] = None
            queue.append(vertex)
        found = None
        while queue:
            vertex = queue.popleft()
            if vertex in target_set:
                found = vertex
                break
            for nxt in self.graph.adj[vertex]:
                if nxt not in parent:
                    parent[nxt] = vertex
                    queue.append(nxt)
        if found is None:
            return []
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
        self._items: dict[_Vertex, str] = {}
        for fwd in network.forwarders:
            self._add_forwarder(fwd)

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
            try:
                _, (reach, _) = nx.minimum_cut(graph, ("S",), ("T",))
            except nx.NetworkXUnbounded:
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
