"""Build a segcheck topology as a real network of Linux network namespaces, and tear it down.

Layout, derived from the topology file alone:

- one namespace per host node (`<prefix>-<node>`); the nodes of `security-cloud` zones share
  one namespace (`<prefix>-cloud`), the prefecture's security cloud;
- one namespace for the firewall (`<prefix>-fw`): one interface per declared subnet, holding
  the firewall's address in that subnet, IPv4 forwarding on, nftables generated from its permits;
- one namespace (`<prefix>-sw`) with a Linux bridge per subnet: the segment's switch.

Every veth pair is created directly inside the lab's own namespaces, so no interface of the lab
ever exists in the host's namespace, and the hosts' default routes point at the firewall. Nothing
is routed, bridged or NATed to the host: the lab's traffic cannot leave its namespaces.

Every name starts with `sclab-<tag>`, the tag being random per run, so runs in parallel and
leftovers never collide; `teardown_prefix("sclab-")` removes whatever a crashed run left behind.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from segcheck.model import IP, Role, Tier, Topology

from . import nftgen

PREFIX = "sclab-"
STATE_DIR = Path("/run/segcheck-lab")


class LabError(RuntimeError):
    """The lab cannot be built or run (a command failed, a topology the lab cannot build)."""


def run(cmd: Sequence[str], *, input_text: str | None = None, timeout: float = 30) -> str:
    """Run a command, return its stdout; LabError with its stderr when it fails."""
    try:
        done = subprocess.run(
            list(cmd), input=input_text, capture_output=True, text=True, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"{' '.join(cmd)}: {exc}") from None
    if done.returncode != 0:
        raise LabError(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def new_tag() -> str:
    """A short tag unique enough for concurrent runs on one machine."""
    return secrets.token_hex(2)


@dataclass(frozen=True, slots=True)
class Segment:
    """One declared subnet: a bridge in the switch namespace, a firewall leg."""

    index: int
    zone: str
    tier: str
    subnet: str
    gateway: str
    fw_ifname: str


@dataclass(frozen=True, slots=True)
class HostIf:
    """One address of a host namespace, on a veth into its segment's bridge."""

    node: str
    address: str
    segment: int
    ifname: str


@dataclass(slots=True)
class Layout:
    """Everything the lab builds, with its names; serialisable for `labctl up` / `down`."""

    tag: str
    topology_path: str
    firewall: str
    segments: list[Segment] = field(default_factory=list)
    hosts: dict[str, list[HostIf]] = field(default_factory=dict)  # namespace short name -> ifs
    node_ns: dict[str, str] = field(default_factory=dict)  # node name -> namespace short name
    node_ip: dict[str, str] = field(default_factory=dict)  # node name -> its (first) address

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.tag}"

    def ns(self, short: str) -> str:
        """The full namespace name of a short name (a host, `fw`, `sw`, `cloud`)."""
        return f"{self.prefix}-{short}"

    @property
    def fw_ns(self) -> str:
        return self.ns("fw")

    @property
    def sw_ns(self) -> str:
        return self.ns("sw")

    def all_ns(self) -> list[str]:
        return [self.sw_ns, self.fw_ns, *(self.ns(h) for h in self.hosts)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Layout:
        data = json.loads(text)
        return cls(
            data["tag"],
            data["topology_path"],
            data["firewall"],
            [Segment(**s) for s in data["segments"]],
            {h: [HostIf(**i) for i in ifs] for h, ifs in data["hosts"].items()},
            data["node_ns"],
            data["node_ip"],
        )


def plan_layout(topology: Topology, tag: str) -> Layout:
    """Derive the namespaces, segments and addresses of a topology (IPv4, one firewall)."""
    fws = [n for n in topology.nodes.values() if n.role is Role.FIREWALL]
    others = [n for n in topology.nodes.values() if n.role.forwards and n.role is not Role.FIREWALL]
    if len(fws) != 1 or others:
        raise LabError("the lab builds topologies with exactly one firewall and no other forwarder")
    fw = fws[0]
    layout = Layout(tag, topology.source.path, fw.name)
    counts: dict[str, int] = {}
    for zone in topology.zones.values():
        for subnet in zone.subnets:
            if subnet.version != 4:
                raise LabError(f"zone {zone.name}: the lab builds IPv4 subnets only")
            net = ipaddress.IPv4Network(str(subnet))
            legs = [ip for ip in fw.addresses if subnet.contains(ip)]
            if len(legs) != 1:
                raise LabError(f"subnet {net} of zone {zone.name}: fw {fw.name} needs one address")
            j = counts.get(zone.name, 0)
            counts[zone.name] = j + 1
            ifname = f"{zone.name[:11]}{j}"
            layout.segments.append(
                Segment(
                    len(layout.segments), zone.name, zone.tier.value, str(net), str(legs[0]), ifname
                )
            )

    def segment_of(ip: IP) -> Segment:
        for seg in layout.segments:
            if ipaddress.IPv4Address(ip.value) in ipaddress.IPv4Network(seg.subnet):
                return seg
        raise LabError(f"address {ip} is in no subnet the lab builds")

    for node in topology.nodes.values():
        if node.role.forwards:
            continue
        first = segment_of(node.addresses[0])
        short = "cloud" if first.tier == Tier.SECURITY_CLOUD.value else node.name
        layout.node_ns[node.name] = short
        layout.node_ip[node.name] = str(node.addresses[0])
        ifs = layout.hosts.setdefault(short, [])
        for ip in node.addresses:
            seg = segment_of(ip)
            same = [i for i in ifs if i.segment == seg.index]
            ifname = same[0].ifname if same else f"eth{len({i.ifname for i in ifs})}"
            ifs.append(HostIf(node.name, str(ip), seg.index, ifname))
    return layout


class Lab:
    """A built lab: namespaces, links, firewall, servers. Use as a context manager."""

    def __init__(
        self, topology: Topology, tag: str | None = None, source_name: str | None = None
    ) -> None:
        self.topology = topology
        self.layout = plan_layout(topology, tag or new_tag())
        self.servers: list[subprocess.Popen[str]] = []
        self.ruleset = nftgen.ruleset(topology, self.layout.firewall, source_name)

    # -- build ---------------------------------------------------------------------------------

    def up(self) -> None:
        """Build every namespace, link and address, and load the firewall's ruleset."""
        lay = self.layout
        try:
            for ns in lay.all_ns():
                run(["ip", "netns", "add", ns])
                # No IPv6 at all: no router solicitations or MLD chatter in the captures.
                self.ns_exec(
                    ns,
                    [
                        "sysctl",
                        "-qw",
                        "net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1",
                    ],
                )
                run(["ip", "-n", ns, "link", "set", "lo", "up"])
            sw = []
            for seg in lay.segments:
                sw.append(f"link add br{seg.index} type bridge")
                sw.append(f"link set br{seg.index} up")
            run(["ip", "-n", lay.sw_ns, "-batch", "-"], input_text="\n".join(sw) + "\n")
            for seg in lay.segments:
                prefixlen = ipaddress.IPv4Network(seg.subnet).prefixlen
                self._veth(lay.fw_ns, seg.fw_ifname, seg, f"f{seg.index}")
                run(
                    [
                        "ip",
                        "-n",
                        lay.fw_ns,
                        "addr",
                        "add",
                        f"{seg.gateway}/{prefixlen}",
                        "dev",
                        seg.fw_ifname,
                    ]
                )
            port = 0
            for short, ifs in lay.hosts.items():
                ns = lay.ns(short)
                made: set[str] = set()
                default_gw: str | None = None
                for hif in ifs:
                    seg = lay.segments[hif.segment]
                    if hif.ifname not in made:
                        self._veth(ns, hif.ifname, seg, f"h{port}")
                        port += 1
                        made.add(hif.ifname)
                    prefixlen = ipaddress.IPv4Network(seg.subnet).prefixlen
                    run(
                        [
                            "ip",
                            "-n",
                            ns,
                            "addr",
                            "add",
                            f"{hif.address}/{prefixlen}",
                            "dev",
                            hif.ifname,
                        ]
                    )
                    default_gw = default_gw or seg.gateway
                assert default_gw is not None
                run(["ip", "-n", ns, "route", "add", "default", "via", default_gw])
            self.ns_exec(lay.fw_ns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
            run(["ip", "netns", "exec", lay.fw_ns, "nft", "-f", "-"], input_text=self.ruleset)
        except BaseException:
            self.down()
            raise

    def _veth(self, ns: str, ifname: str, seg: Segment, sw_port: str) -> None:
        lay = self.layout
        run(
            [
                "ip",
                "link",
                "add",
                ifname,
                "netns",
                ns,
                "type",
                "veth",
                "peer",
                "name",
                sw_port,
                "netns",
                lay.sw_ns,
            ]
        )
        run(["ip", "-n", lay.sw_ns, "link", "set", sw_port, "master", f"br{seg.index}", "up"])
        run(["ip", "-n", ns, "link", "set", ifname, "up"])

    def ns_exec(self, ns: str, cmd: Sequence[str], timeout: float = 30) -> str:
        return run(["ip", "netns", "exec", ns, *cmd], timeout=timeout)

    def node_exec(self, node: str, cmd: Sequence[str], timeout: float = 30) -> str:
        return self.ns_exec(self.layout.ns(self.layout.node_ns[node]), cmd, timeout)

    # -- servers -------------------------------------------------------------------------------

    def start_servers(self, listen: dict[str, dict[str, list[int]]], agent: Path) -> None:
        """Start one agent per namespace, serving every (proto, address, port) of its nodes."""
        per_ns: dict[str, list[str]] = {}
        for node, by_proto in listen.items():
            addr = self.layout.node_ip[node]
            for proto, ports in by_proto.items():
                per_ns.setdefault(self.layout.node_ns[node], []).extend(
                    f"--listen={proto}:{addr}:{p}" for p in ports
                )
        for short, args in per_ns.items():
            proc = subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.layout.ns(short),
                    "python3",
                    "-u",
                    str(agent),
                    "serve",
                    *args,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            self.servers.append(proc)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip() != "ready":
                err = proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
                raise LabError(f"server in {short} did not start: {line!r} {err.strip()}")

    def stop_servers(self) -> None:
        for proc in self.servers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.servers:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.servers.clear()

    # -- teardown ------------------------------------------------------------------------------

    def down(self) -> None:
        """Stop the servers, then remove every namespace of this run (and so every veth)."""
        self.stop_servers()
        teardown_prefix(self.layout.prefix + "-")

    def __enter__(self) -> Lab:
        self.up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()


def lab_namespaces(prefix: str = PREFIX) -> list[str]:
    """Namespaces whose name starts with `prefix`."""
    try:
        out = run(["ip", "netns", "list"])
    except LabError:
        return []
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix)]


def teardown_prefix(prefix: str = PREFIX) -> list[str]:
    """Kill the processes inside, and delete, every namespace starting with `prefix`.

    The processes are the lab's own (servers, clients, tcpdump), found by namespace and ended
    by process id. Returns the namespaces removed.
    """
    removed = []
    for ns in lab_namespaces(prefix):
        try:
            pids = [int(p) for p in run(["ip", "netns", "pids", ns]).split()]
        except LabError:
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 3
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if _alive(p)]
            time.sleep(0.05)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            run(["ip", "netns", "del", ns])
            removed.append(ns)
        except LabError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False
