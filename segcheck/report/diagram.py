"""The topology diagram: DOT text built deterministically, laid out by Graphviz `dot`.

This is the only module that runs Graphviz. Each zone is a cluster coloured by its tier, with one
"segment" node standing for its subnets; endpoints sit inside their zone, forwarders and
multi-homed nodes outside, joined to every segment they are attached to. Every finding's witness
path is drawn in red: along existing edges where the hops are adjacent, else as a dashed red
edge. Everything is emitted in sorted order, and the SVG is stripped of Graphviz's version
comment, so the same topology gives the same bytes with the same Graphviz.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable

from ..addressing import AddressMap, Scope, parse_ip_text
from ..errors import SegcheckError
from ..findings import Finding
from ..model import PUBLIC_INTERNET_ZONE, Tier, Topology, Zone
from ..policy import TIER_ORDER
from ._common import tier_label

GRAPHVIZ_MISSING = "Graphviz is not installed: apt-get install graphviz"
DOT_TIMEOUT = 120

TIER_COLOURS: dict[Tier, str] = {
    Tier.MYNUMBER: "#fde2e4",
    Tier.LGWAN: "#dce9ff",
    Tier.INTERNET: "#fff2c7",
    Tier.LGWAN_NETWORK: "#d6f2ee",
    Tier.JUKINET: "#eee0ff",
    Tier.GOV_CLOUD: "#e3f3d3",
    Tier.SECURITY_CLOUD: "#ffe4c9",
    Tier.PUBLIC_INTERNET: "#ececec",
}
HIGHLIGHT = "#d00000"


class DiagramError(SegcheckError):
    """The diagram could not be drawn."""


class GraphvizMissing(DiagramError):
    """Graphviz's `dot` is not on PATH."""

    def __init__(self) -> None:
        super().__init__(GRAPHVIZ_MISSING)


def quote(text: str) -> str:
    """A DOT double-quoted string; backslashes escaped so no label escape (\\N, \\G) fires."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


# Longest address or subnet list drawn in one label, in characters: Graphviz refuses a quoted
# string over 16 KiB, and the loader caps names and labels but not how many addresses a node has.
MAX_LIST_CHARS = 600


def _listed(items: list[str]) -> str:
    """`a, b, c`, or as many as fit in MAX_LIST_CHARS and `… (+N more)`."""
    text = ", ".join(items)
    if len(text) <= MAX_LIST_CHARS:
        return text
    shown: list[str] = []
    size = 0
    for item in items:
        if size + len(item) + 2 > MAX_LIST_CHARS:
            break
        shown.append(item)
        size += len(item) + 2
    return f"{', '.join(shown)}, … (+{len(items) - len(shown)} more)"


def _label(*lines: str) -> str:
    return "\\n".join(quote(line)[1:-1] for line in lines if line)


def _zone_id(zone: str) -> str:
    return f"zone:{zone}"


def _node_id(node: str) -> str:
    return f"node:{node}"


class _Graph:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.addresses = AddressMap(topology.zones.values(), topology.nodes.values())
        self.node_zones: dict[str, list[str]] = {}
        for name in sorted(topology.nodes):
            found: set[str] = set()
            for ip in topology.nodes[name].addresses:
                info = self.addresses.lookup(ip)
                if info.zone is not None:
                    found.add(info.zone.name)
                elif info.scope is Scope.PUBLIC:
                    found.add(PUBLIC_INTERNET_ZONE.name)
            self.node_zones[name] = sorted(found)
        self.zones: dict[str, Zone] = dict(topology.zones)
        if any(PUBLIC_INTERNET_ZONE.name in z for z in self.node_zones.values()):
            self.zones[PUBLIC_INTERNET_ZONE.name] = PUBLIC_INTERNET_ZONE
        self.edges: set[tuple[str, str]] = set()
        for name, zones in self.node_zones.items():
            for zone in zones:
                self.edges.add(self._key(_node_id(name), _zone_id(zone)))
        for link in topology.links:
            a, b = self._vertex(link.a), self._vertex(link.b)
            if a is not None and b is not None:
                self.edges.add(self._key(a, b))

    @staticmethod
    def _key(a: str, b: str) -> tuple[str, str]:
        return (a, b) if a <= b else (b, a)

    def _vertex(self, hop: str) -> str | None:
        """The graph vertex of a path hop: a node, a zone, or an address."""
        if hop in self.topology.nodes:
            return _node_id(hop)
        if hop in self.zones:
            return _zone_id(hop)
        ip = parse_ip_text(hop)
        if ip is None:
            return None
        info = self.addresses.lookup(ip)
        if info.node is not None:
            return _node_id(info.node.name)
        if info.zone is not None:
            return _zone_id(info.zone.name)
        if info.scope is Scope.PUBLIC and PUBLIC_INTERNET_ZONE.name in self.zones:
            return _zone_id(PUBLIC_INTERNET_ZONE.name)
        return None

    def highlight(
        self, findings: Iterable[Finding]
    ) -> tuple[set[tuple[str, str]], set[str], set[tuple[str, str]]]:
        """Edges and vertices on witness paths, and hops that need an extra edge."""
        red_edges: set[tuple[str, str]] = set()
        red_vertices: set[str] = set()
        extra: set[tuple[str, str]] = set()
        neighbours: dict[str, set[str]] = {}
        for a, b in self.edges:
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
        for finding in findings:
            if not finding.path:  # a flow or a node: mark its ends, there is no route to draw
                ends = (finding.node, finding.src, finding.dst)
                red_vertices.update(v for v in map(self._vertex, filter(None, ends)) if v)
                continue
            vertices = [v for v in (self._vertex(h) for h in finding.path) if v is not None]
            red_vertices.update(vertices)
            for a, b in zip(vertices, vertices[1:], strict=False):
                if a == b:
                    continue
                if self._key(a, b) in self.edges:
                    red_edges.add(self._key(a, b))
                    continue
                shared = sorted(neighbours.get(a, set()) & neighbours.get(b, set()))
                if shared:
                    red_edges.add(self._key(a, shared[0]))
                    red_edges.add(self._key(shared[0], b))
                else:
                    extra.add((a, b))
        return red_edges, red_vertices, extra


def _zone_order(zone: Zone) -> tuple[int, str]:
    return (TIER_ORDER.index(zone.tier), zone.name)


def build_dot(topology: Topology, findings: Iterable[Finding] = (), lang: str = "en") -> str:
    """The DOT text of the diagram, with the witness paths of `findings` in red."""
    graph = _Graph(topology)
    red_edges, red_vertices, extra = graph.highlight(findings)
    out = [
        "graph segcheck {",
        '  graph [rankdir=LR, fontname="sans-serif", fontsize=12, nodesep=0.25, ranksep=0.7,'
        " newrank=true, labeljust=l];",
        '  node [fontname="sans-serif", fontsize=10, shape=box, style="rounded,filled",'
        ' fillcolor="#ffffff", color="#555555"];',
        '  edge [color="#777777"];',
    ]

    def node_line(vertex: str, label: str, extra_attrs: str = "") -> str:
        attrs = f'label="{label}"{extra_attrs}'
        if vertex in red_vertices:
            attrs += f', color="{HIGHLIGHT}", penwidth=2.5, fontcolor="{HIGHLIGHT}"'
        return f"    {quote(vertex)} [{attrs}];"

    inside: dict[str, list[str]] = {}
    outside: list[str] = []
    for name in sorted(topology.nodes):
        node = topology.nodes[name]
        zones = graph.node_zones[name]
        if len(zones) == 1 and not node.role.forwards:
            inside.setdefault(zones[0], []).append(name)
        else:
            outside.append(name)

    def describe(name: str) -> str:
        node = topology.nodes[name]
        addresses = _listed([str(ip) for ip in node.addresses])
        return _label(name, node.label or "", f"{node.role.value}  {addresses}")

    for index, zone in enumerate(sorted(graph.zones.values(), key=_zone_order)):
        subnets = _listed([str(s) for s in zone.subnets]) or "(global addresses)"
        title = f"{zone.name} [{tier_label(zone.tier, lang)}]"
        out.append(f"  subgraph cluster_{index} {{")
        out.append(
            f"    label={quote(title + (' ' + zone.label if zone.label else ''))}; "
            f'style="rounded,filled"; fillcolor="{TIER_COLOURS[zone.tier]}"; color="#999999";'
        )
        out.append(
            node_line(
                _zone_id(zone.name),
                _label(subnets),
                ', shape=ellipse, style=filled, fillcolor="#ffffff", fontsize=9',
            )
        )
        for name in inside.get(zone.name, []):
            out.append(node_line(_node_id(name), describe(name)))
        out.append("  }")
    for name in outside:
        role = topology.nodes[name].role
        shape = ", shape=hexagon" if role.forwards else ""
        out.append(node_line(_node_id(name), describe(name), shape)[2:])
    for a, b in sorted(graph.edges):
        style = f' [color="{HIGHLIGHT}", penwidth=3]' if (a, b) in red_edges else ""
        out.append(f"  {quote(a)} -- {quote(b)}{style};")
    for a, b in sorted(extra):
        out.append(
            f'  {quote(a)} -- {quote(b)} [color="{HIGHLIGHT}", penwidth=3, style=dashed,'
            " constraint=false];"
        )
    out.append("}")
    return "\n".join(out) + "\n"


_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)


def clean_svg(svg: str) -> str:
    """The `<svg>` element alone: no XML prolog, doctype or comments (they carry versions)."""
    return _COMMENT.sub("", _PROLOG.sub("", svg, count=1)).strip() + "\n"


def find_dot() -> str | None:
    """The path of Graphviz's `dot`, or None (tests replace this to simulate its absence)."""
    return shutil.which("dot")


def dot_available() -> bool:
    """True when Graphviz's `dot` is on PATH."""
    return find_dot() is not None


def run_dot(dot_text: str) -> str:
    """Lay out DOT text as SVG; GraphvizMissing when `dot` is not installed."""
    executable = find_dot()
    if executable is None:
        raise GraphvizMissing()
    try:
        done = subprocess.run(
            [executable, "-Tsvg"],
            input=dot_text.encode("utf-8"),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DiagramError(f"Graphviz took longer than {DOT_TIMEOUT} s to lay out") from None
    except OSError as exc:
        raise DiagramError(f"cannot run Graphviz ({executable}): {exc.strerror}") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiagramError(f"Graphviz failed: {detail[-1] if detail else done.returncode}")
    return clean_svg(done.stdout.decode("utf-8"))


def render_svg(topology: Topology, findings: Iterable[Finding] = (), lang: str = "en") -> str:
    """The diagram as a standalone SVG document (no prolog), findings' paths in red."""
    return run_dot(build_dot(topology, findings, lang))
