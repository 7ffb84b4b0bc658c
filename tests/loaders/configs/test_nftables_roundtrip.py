"""Round trip: a topology's permits → lab/nftgen.py → the kernel → `nft -j list ruleset` → import.

The accept rules imported back must be exactly the permits they came from: for each permit id
(the rule comment), the same source and destination addresses per address family and the same
services (TCP/UDP ports, ICMP), nothing more and nothing less; nothing else is imported (the
stateful return path and the trailing `counter comment "default-drop"` are not rules) and the
chain policy is the default deny.

`test_roundtrip_through_the_kernel` does it live (root, `ip netns`, `nft`; skipped with the reason
otherwise); `test_checked_in_export` does it without root on the JSON that regen.py wrote the
same way (tests/data/configs/nftables/), so the import is held to real `nft` output everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "configs" / "nftables"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lab import nftgen  # noqa: E402
from segcheck import load_topology  # noqa: E402
from segcheck.cli import main  # noqa: E402
from segcheck.loaders.configs.model import (  # noqa: E402
    ICMP,
    ICMPV6,
    TCP,
    UDP,
    WHOLE,
    Action,
    AddressSet,
    ImportStatus,
    ParsedConfig,
    ServiceSet,
)
from segcheck.loaders.configs.nftables import parse_nftables  # noqa: E402
from segcheck.model import Permit, SelectorKind, Topology  # noqa: E402
from segcheck.services import BUILTIN_SERVICES  # noqa: E402

_spec = importlib.util.spec_from_file_location("nft_regen", DATA / "regen.py")
assert _spec is not None and _spec.loader is not None
regen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regen)

Cubes = dict[str, dict[tuple[AddressSet, AddressSet], ServiceSet]]

TOPOLOGIES = {
    "town": REPO / "lab" / "town.yaml",
    "alpha": REPO / "topologies" / "alpha.yaml",
    "dualstack": DATA / "dualstack.yaml",
}
# every checked-in export, and the topology and firewall it was generated from
EXPORTS = {
    "town-fw-core.json": ("town", "fw-core"),
    "alpha-fw-juki-in.json": ("alpha", "fw-juki-in"),
    "alpha-fw-juki-out.json": ("alpha", "fw-juki-out"),
    "alpha-fw-lg-inet.json": ("alpha", "fw-lg-inet"),
    "alpha-fw-mn-lg.json": ("alpha", "fw-mn-lg"),
    "alpha-sc-inet-fw.json": ("alpha", "sc-inet-fw"),
    "dualstack-fw-ds.json": ("dualstack", "fw-ds"),
}


def _family(version: int) -> AddressSet:
    return AddressSet.of(r for r in AddressSet.everything().ranges if r.version == version)


def _services(topology: Topology, permit: Permit, versions: tuple[int, ...]) -> ServiceSet:
    """A permit's services as the model's (protocol, port range) set; ICMP per family."""
    if permit.any_service:
        return ServiceSet.everything()
    catalogue = {**BUILTIN_SERVICES, **topology.services}
    items: list[tuple[int, int, int]] = []
    for name in permit.services:
        svc = catalogue[name]
        items += [(TCP, p, p) for p in svc.tcp] + [(UDP, p, p) for p in svc.udp]
        if svc.icmp:
            items += [(ICMP if v == 4 else ICMPV6, *WHOLE) for v in versions]
    return ServiceSet.of(items)


def expected(topology: Topology, firewall: str) -> Cubes:
    """What each permit allows, per address family, from the topology itself (not nftgen)."""
    node = topology.nodes[firewall]
    out: Cubes = {}
    for permit in node.permits or ():
        cubes: dict[tuple[AddressSet, AddressSet], ServiceSet] = {}
        src, dst = permit.source, permit.destination
        if src.kind is SelectorKind.ANY and dst.kind is SelectorKind.ANY:
            cubes[(AddressSet.everything(), AddressSet.everything())] = _services(
                topology, permit, (4, 6)
            )
        else:
            for v in (4, 6):
                sides = [
                    _family(v)
                    if sel.kind is SelectorKind.ANY
                    else AddressSet.of(r for r in sel.ranges if r.version == v)
                    for sel in (src, dst)
                ]
                if sides[0] and sides[1]:
                    cubes[(sides[0], sides[1])] = _services(topology, permit, (v,))
        out[permit.id] = cubes
    return out


def imported(parsed: ParsedConfig) -> Cubes:
    """The accept rules of the import, grouped by permit id (the rule comment)."""
    assert parsed.status is ImportStatus.PASSED, parsed.issues
    assert parsed.issues == ()
    (context,) = parsed.contexts
    assert context.default_action is Action.DENY
    out: Cubes = defaultdict(dict)
    prefix = f"inet {nftgen.TABLE} forward/"
    for rule in context.rules:
        assert rule.action is Action.ACCEPT, rule
        assert rule.id.startswith(prefix) and rule.name == rule.id[len(prefix) :], rule
        assert rule.enabled and not rule.assumptions and not rule.from_zones and not rule.to_zones
        assert rule.origin.xpath is not None and rule.origin.xpath.endswith("].rule")
        key = (rule.source.addresses, rule.destination.addresses)
        cubes = out[rule.name]
        cubes[key] = cubes[key].union(rule.services) if key in cubes else rule.services
    return dict(out)


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_checked_in_export(export: str) -> None:
    """The JSON regen.py wrote (real `nft -j list ruleset`) imports to exactly its permits."""
    topo_name, firewall = EXPORTS[export]
    topology = load_topology(TOPOLOGIES[topo_name])
    path = DATA / export
    parsed = parse_nftables(path, path.read_bytes(), display_name=export)
    want = expected(topology, firewall)
    assert want, "the firewall has permits to compare"
    got = imported(parsed)
    assert got == want, f"{export} differs from {topo_name}'s permits: run regen.py as root"
    # the rule locations point at rule objects whose comment is the permit id
    items = json.loads(path.read_text(encoding="utf-8"))["nftables"]
    for rule in parsed.contexts[0].rules:
        assert rule.origin.xpath is not None
        index = int(rule.origin.xpath.split("[")[1].split("]")[0])
        assert items[index]["rule"]["comment"] == rule.name


def test_every_firewall_has_an_export() -> None:
    """A firewall added to a topology fails here until regen.py writes its export."""
    firewalls = {
        (name, fw)
        for name, path in TOPOLOGIES.items()
        for fw in nftgen.firewalls(load_topology(path))
    }
    assert set(EXPORTS.values()) == firewalls


@pytest.mark.lab
@pytest.mark.parametrize("topo_name", sorted(TOPOLOGIES))
def test_roundtrip_through_the_kernel(topo_name: str, tmp_path: Path) -> None:
    """Each firewall's generated ruleset, loaded into a fresh namespace, imports to its permits."""
    reason = regen.nft_available()
    if reason is not None:
        pytest.skip(reason)
    topology = load_topology(TOPOLOGIES[topo_name])
    for firewall in nftgen.firewalls(topology):
        text = nftgen.ruleset(topology, firewall)
        try:
            exported = regen.nft_json(text)
        except regen.NftUnavailable as exc:
            pytest.skip(str(exc))
        path = tmp_path / f"{firewall}.json"
        path.write_text(exported, encoding="utf-8")
        parsed = parse_nftables(path, exported.encode(), display_name=path.name)
        assert imported(parsed) == expected(topology, firewall), firewall


def _check(topology: Path) -> dict[str, Any]:
    done = CliRunner().invoke(main, ["check", str(topology), "--format", "json"])
    assert done.exit_code in (0, 1) and not isinstance(done.exception, Exception), done.output
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_check_reads_the_export_as_the_firewall(tmp_path: Path) -> None:
    """lab/town.yaml with fw-core's permits replaced by its exported ruleset (`config:`) gives
    the same findings, opened by the ruleset's rule ids and located in the export."""
    text = (REPO / "lab" / "town.yaml").read_text(encoding="utf-8")
    head, sep, _ = text.partition("    permit:\n")
    assert sep, "fw-core's permit list is the end of lab/town.yaml"
    (tmp_path / "town.yaml").write_text(
        head + "    config: {file: fw-core.json, format: nftables}\n", encoding="utf-8"
    )
    (tmp_path / "fw-core.json").write_bytes((DATA / "town-fw-core.json").read_bytes())
    by_hand = _check(REPO / "lab" / "town.yaml")
    imported_ = _check(tmp_path / "town.yaml")
    prefix = f"inet {nftgen.TABLE} forward/"

    def key(f: dict[str, Any], ids: list[str]) -> tuple[Any, ...]:
        return (
            f["rule"],
            f["severity"],
            f["src_zone"],
            f["dst_zone"],
            f["service"],
            f["count"],
            ids,
        )

    want = [key(f, [prefix + p for p in f["permits"]]) for f in by_hand["findings"]]
    got = [key(f, f["permits"]) for f in imported_["findings"]]
    assert got == want and want, "the leak FW-90-TEMP-SMB is found through the import"
    for f in imported_["findings"]:
        assert f["location"]["path"].endswith("fw-core.json")
    (item,) = imported_["imports"]
    assert (item["format"], item["context"], item["status"]) == ("nftables", "ruleset", "passed")
