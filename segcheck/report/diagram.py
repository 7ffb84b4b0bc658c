"""The topology diagram: DOT text built deterministically, laid out by Graphviz `dot`.

This is the only module that runs Graphviz. Each zone is a cluster coloured by its tier, with one
"segment" node standing for its subnets; endpoints sit inside their zone, forwarders and
multi-homed nodes outside, joined to every segment they are attached to. The tiers stand side by
side as engineers draw them (issue 12): 基幹系 | 情報系 | インターネット系, with the external
networks at the edges (住基ネット and ガバメントクラウド left of the My Number tier, the LGWAN
under the LGWAN-connected tier, the security cloud and the Internet right of the Internet tier).

Only the causes of findings are red: the forwarder that bridges two tiers and its attachments to
the zones it joins, a link joining two tiers, the forwarders whose permits open a finding (their
ids beside them). A finding about a node marks the node; a flow marks its two ends (it has no
route). Everything is emitted in sorted order, and the SVG is stripped of Graphviz's version
comment, so the same topology gives the same bytes with the same Graphviz.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable

from ..addressing import AddressMap, Scope, parse_ip_text
from ..errors import SegcheckError
from ..findings import CauseKind, Finding
from ..model import PUBLIC_INTERNET_ZONE, Tier, Topology, Zone
from ._common import tier_label
from .labels import value_word

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

# Columns from left to right: external networks at the edges, the three tiers in the middle.
COLUMNS: tuple[tuple[Tier, ...], ...] = (
    (Tier.JUKINET, Tier.GOV_CLOUD),
    (Tier.MYNUMBER,),
    (Tier.LGWAN, Tier.LGWAN_NETWORK),
    (Tier.INTERNET,),
    (Tier.SECURITY_CLOUD, Tier.PUBLIC_INTERNET),
)


class _ExtraBesideLgwan(dict[Tier, int]):
    """A site's extra internal tier (issue 17) is drawn in the LGWAN tier's column, last."""

    def __init__(self, items: dict[Tier, int], extra: int) -> None:
        super().__init__(items)
        self._extra = extra

    def __missing__(self, tier: Tier) -> int:
        if isinstance(tier, Tier) and tier.extra is not None:
            return self._extra
        raise KeyError(tier)


_COLUMN_OF = _ExtraBesideLgwan({tier: i for i, tiers in enumerate(COLUMNS) for tier in tiers}, 2)
_TIER_RANK = _ExtraBesideLgwan(
    {tier: i for tiers in COLUMNS for i, tier in enumerate(tiers)}, len(COLUMNS[2])
)
EXTRA_TIER_COLOUR = "#ece4f6"


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
    ) -> tuple[set[tuple[str, str]], set[str], dict[str, list[str]]]:
        """Edges and vertices that are causes, and the permit ids to show beside forwarders."""
        red_edges: set[tuple[str, str]] = set()
        red_vertices: set[str] = set()
        permits: dict[str, list[str]] = {}
        owners: dict[str, str] = {}
        for node in sorted(self.topology.nodes.values(), key=lambda n: n.name):
            for permit in node.permits or ():
                owners.setdefault(permit.id, node.name)
        links = {link.name: link for link in self.topology.links}
        for finding in findings:
            cause = finding.cause
            if cause is None:  # a node, a channel or a flow: mark its ends, it has no cause
                ends = (finding.node,) if finding.node else (finding.src, finding.dst)
                red_vertices.update(v for v in map(self._vertex, filter(None, ends)) if v)
                continue
            if cause.kind is CauseKind.FORWARDER:
                vertex = _node_id(cause.elements[0])
                red_vertices.add(vertex)
                for zone in cause.zones:
                    edge = self._key(vertex, _zone_id(zone))
                    if edge in self.edges:
                        red_edges.add(edge)
            elif cause.kind is CauseKind.LINK:
                link = links.get(cause.elements[0])
                if link is not None:
                    a, b = self._vertex(link.a), self._vertex(link.b)
                    if a is not None and b is not None:
                        red_edges.add(self._key(a, b))
                        red_vertices.update((a, b))
            else:
                for item in cause.elements:
                    owner = owners.get(item)
                    if owner is None and item in self.topology.nodes:
                        owner = item  # an lbo-gateway stands for itself
                    if owner is None:
                        continue
                    red_vertices.add(_node_id(owner))
                    if item != owner and item not in permits.setdefault(owner, []):
                        permits[owner].append(item)
        return red_edges, red_vertices, permits


def _zone_order(zone: Zone) -> tuple[int, int, str]:
    return (_COLUMN_OF[zone.tier], _TIER_RANK[zone.tier], zone.name)


MAX_MEMBERS = 16  # endpoints listed in a zone's box; the rest are counted


WRAP = 44  # display columns per line of a zone's box (a CJK character counts two)


def _columns(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _clip(text: str, width: int) -> str:
    """At most `width` display columns, an ellipsis marking a cut."""
    used = 0
    for i, ch in enumerate(text):
        used += _columns(ch)
        if used > width:
            return text[: max(0, i - 1)] + "…"
    return text


def _wrap(text: str, width: int = WRAP) -> list[str]:
    """Lines of at most `width` display columns (at spaces or commas where possible)."""
    lines: list[str] = []
    line, used, cut = "", 0, -1
    for ch in text:
        line += ch
        used += _columns(ch)
        if ch in " ,、":
            cut = len(line)
        if used > width:
            if cut > 0:
                lines.append(line[:cut].rstrip())
                line = line[cut:].lstrip()
            else:
                lines.append(line[:-1])
                line = ch
            used = sum(_columns(c) for c in line)
            cut = -1
    if line.strip():
        lines.append(line.strip())
    return lines


def _html(text: str) -> str:
    """Text for a Graphviz HTML-like label: markup escaped, so names always read as text."""
    return html.escape(text.replace("\r", "").replace("\n", " "), quote=True)


def build_dot(
    topology: Topology,
    findings: Iterable[Finding] = (),
    lang: str = "en",
    focus: Iterable[Tier] | None = None,
) -> str:
    """The DOT text of the diagram, the causes of `findings` in red.

    A zone is one box listing its endpoints (as many as stay legible on A4), so the columns of
    tiers stay straight; forwarders and nodes with legs in several zones stand between them.
    With `focus`, only the zones of those tiers are drawn whole, with the nodes attached to
    them; the other zones those nodes reach are drawn as a name only.
    """
    graph = _Graph(topology)
    red_edges, red_vertices, permits = graph.highlight(findings)
    focused = None if focus is None else set(focus)
    out = [
        "graph segcheck {",
        '  graph [rankdir=LR, fontname="sans-serif", fontsize=12, nodesep=0.12, ranksep=0.3,'
        " newrank=true];",
        '  node [fontname="sans-serif", fontsize=10, shape=box, style="rounded,filled",'
        ' fillcolor="#ffffff", color="#555555"];',
        '  edge [color="#777777"];',
    ]

    def node_line(vertex: str, label: str, extra_attrs: str = "") -> str:
        attrs = f'label="{label}"{extra_attrs}'
        if vertex in red_vertices:
            attrs += f', color="{HIGHLIGHT}", penwidth=2.5, fontcolor="{HIGHLIGHT}"'
        return f"  {quote(vertex)} [{attrs}];"

    inside: dict[str, list[str]] = {}
    outside: list[str] = []
    full = {z for z, zone in graph.zones.items() if focused is None or zone.tier in focused}
    for name in sorted(topology.nodes):
        node = topology.nodes[name]
        zones = graph.node_zones[name]
        if len(zones) == 1 and not node.role.forwards:
            inside.setdefault(zones[0], []).append(name)
        elif not zones or any(z in full for z in zones):
            outside.append(name)
    shown = set(full)
    for name in outside:
        shown.update(graph.node_zones[name])

    def describe(name: str) -> str:
        node = topology.nodes[name]
        addresses = _listed([str(ip) for ip in node.addresses])
        role = value_word(lang, "role", node.role.value)
        label = _label(name, *_wrap(node.label or "", 26), role, addresses)
        opened = permits.get(name)
        if opened:
            label += "\\n" + quote("⚠ " + _listed(opened))[1:-1]
        return label

    def zone_label(zone: Zone) -> str:
        subnets = _listed([str(s) for s in zone.subnets]) or "(global addresses)"
        title = f"{zone.name} [{tier_label(zone.tier, lang)}]"
        rows = [f'<TR><TD ALIGN="LEFT"><B>{_html(title)}</B></TD></TR>']
        if zone.name not in full:  # a neighbour of the focus: its name only
            return (
                '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="2">'
                f"{rows[0]}</TABLE>>"
            )
        for line in _wrap(zone.label or ""):
            rows.append(f'<TR><TD ALIGN="LEFT">{_html(line)}</TD></TR>')
        for line in _wrap(subnets):
            rows.append(f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9">{_html(line)}</FONT></TD></TR>')
        members = inside.get(zone.name, [])
        for name in members[:MAX_MEMBERS]:
            node = topology.nodes[name]
            role = value_word(lang, "role", node.role.value)
            text = f"{name}  {role}  {_listed([str(ip) for ip in node.addresses])}"
            if node.label:
                text += f"  {_clip(node.label, 18)}"
            text = _clip(text, WRAP + 16)
            colour = HIGHLIGHT if _node_id(name) in red_vertices else "#222222"
            rows.append(
                f'<TR><TD ALIGN="LEFT" BGCOLOR="#ffffff"><FONT COLOR="{colour}">'
                f"{_html(text)}</FONT></TD></TR>"
            )
        if len(members) > MAX_MEMBERS:
            rows.append(f'<TR><TD ALIGN="LEFT">… (+{len(members) - MAX_MEMBERS} more)</TD></TR>')
        return (
            f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="2">'
            f"{''.join(rows)}</TABLE>>"
        )

    # One column per group of tiers (COLUMNS): the zones of a column share a rank, and
    # invisible edges between the columns keep them in order from left to right.
    columns: dict[int, list[Zone]] = {}
    for zone in sorted(graph.zones.values(), key=_zone_order):
        if zone.name in shown:
            columns.setdefault(_COLUMN_OF[zone.tier], []).append(zone)
    for col in sorted(columns):
        out.append(f"  subgraph column_{col} {{")
        out.append("    rank=same;")
        for zone in columns[col]:
            vertex = _zone_id(zone.name)
            red = vertex in red_vertices
            border = f', color="{HIGHLIGHT}", penwidth=2.5' if red else ""
            out.append(
                f"    {quote(vertex)} [label={zone_label(zone)}, shape=box, "
                f'style="rounded,filled", fillcolor="{TIER_COLOURS.get(zone.tier, EXTRA_TIER_COLOUR)}"{border}];'
            )
        out.append("  }")
    ordered = [columns[c][0] for c in sorted(columns)]
    for left, right in zip(ordered, ordered[1:], strict=False):
        out.append(
            f"  {quote(_zone_id(left.name))} -- {quote(_zone_id(right.name))}"
            " [style=invis, weight=10];"
        )
    for name in outside:
        role = topology.nodes[name].role
        shape = ', style="filled", fillcolor="#f2f2f2", fontsize=9' if role.forwards else ""
        out.append(node_line(_node_id(name), describe(name), shape))
    zone_column = {_zone_id(z.name): _COLUMN_OF[z.tier] for zs in columns.values() for z in zs}
    drawn = {_zone_id(z) for z in shown} | {_node_id(n) for n in outside}
    for a, b in sorted(graph.edges):
        if a not in drawn or b not in drawn:
            continue  # a member drawn inside its zone's box, or outside the focus
        if a.startswith("node:") and a[5:] in inside.get(b[5:], ()):
            continue
        if b.startswith("node:") and b[5:] in inside.get(a[5:], ()):
            continue
        style = f' [color="{HIGHLIGHT}", penwidth=3]' if (a, b) in red_edges else ""
        # dot ranks an edge's tail left of its head: a node joining columns stands between
        # them (the zones of its leftmost column to its left), else left of its column.
        tail, head = a, b
        if a.startswith("node:") and b in zone_column:
            spans = [zone_column[_zone_id(z)] for z in graph.node_zones.get(a[5:], ())]
            if spans and zone_column[b] < max(spans):
                tail, head = b, a
        out.append(f"  {quote(tail)} -- {quote(head)}{style};")
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
    return clean_svg(_run_dot(dot_text, "svg").decode("utf-8"))


def render_png(topology: Topology, findings: Iterable[Finding] = (), lang: str = "en") -> bytes:
    """The diagram as a PNG image (`segcheck render -o x.png`), laid out by Graphviz."""
    png = _run_dot(build_dot(topology, findings, lang), "png")
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise DiagramError("Graphviz wrote no PNG image (is it built without PNG output?)")
    return png


def _run_dot(dot_text: str, fmt: str) -> bytes:
    executable = find_dot()
    if executable is None:
        raise GraphvizMissing()
    try:
        done = subprocess.run(
            [executable, f"-T{fmt}"],
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
    return done.stdout


def render_svg(topology: Topology, findings: Iterable[Finding] = (), lang: str = "en") -> str:
    """The diagram as a standalone SVG document (no prolog), findings' causes in red."""
    return run_dot(build_dot(topology, findings, lang))


# The widest diagram whose labels stay legible on an A4 landscape page (about 270 mm, 765 pt,
# printable): 9-10 pt labels shrink to about 6.5 pt. A wider one is split per tier.
A4_LEGIBLE_PT = 1100.0
PARTS: tuple[tuple[Tier, ...], ...] = (
    (Tier.MYNUMBER, Tier.JUKINET, Tier.GOV_CLOUD),
    (Tier.LGWAN, Tier.LGWAN_NETWORK),
    (Tier.INTERNET, Tier.SECURITY_CLOUD, Tier.PUBLIC_INTERNET),
)
_WIDTH = re.compile(r'<svg[^>]*\swidth="([0-9.]+)pt"')


def svg_width(svg: str) -> float | None:
    """The laid-out width of an SVG in points, if Graphviz wrote one."""
    match = _WIDTH.search(svg)
    return float(match.group(1)) if match else None


def render_parts(
    topology: Topology, findings: Iterable[Finding] = (), lang: str = "en"
) -> list[tuple[str, str]]:
    """One diagram per internal tier (its external networks with it), for printing on A4."""
    items = list(findings)
    tiers = {z.tier for z in topology.zones.values()}
    out = []
    for part in PARTS:
        if part[0] not in tiers:
            continue
        title = " / ".join(tier_label(t, lang) for t in part if t in tiers)
        dot = build_dot(topology, items, lang, focus=part)
        svg = run_dot(dot)
        if (svg_width(svg) or 0) > A4_LEGIBLE_PT:
            # still too wide side by side: top to bottom, if that prints larger on the page
            tall = run_dot(dot.replace("rankdir=LR", "rankdir=TB", 1))
            if _print_scale(tall) > _print_scale(svg):
                svg = tall
        out.append((title, svg))
    return out


# The drawing area of an A4 landscape page, in pt: 297 x 210 mm less the margins, the heading
# and the frame (report.html.j2 caps a printed diagram at 170 mm high).
A4_LANDSCAPE_BOX = (765.0, 480.0)
_HEIGHT = re.compile(r'<svg[^>]*\sheight="([0-9.]+)pt"')


def _print_scale(svg: str) -> float:
    """How much a diagram shrinks to fit A4 landscape (1: not at all)."""
    width, height = svg_width(svg), _HEIGHT.search(svg)
    if width is None or height is None:
        return 0.0
    box_w, box_h = A4_LANDSCAPE_BOX
    return min(1.0, box_w / width, box_h / float(height.group(1)))
