"""Compiled rules → segcheck permits, with exact service atoms and the import status report.

Path analysis treats service *names* as atoms (spec §4): two permits meet on a flow only when
they share a name. Device services are port ranges, so names are made to fit, jointly over
every imported firewall (a flow crossing two firewalls must meet the same atom in both):

- a catalogue service (built-in or declared in the topology) that a device service overlaps
  is named as a whole: the policy matrix judges by these names (rdp to a screen-transfer
  gateway, smtp to a relay), and taking the whole service never hides a path;
- the ports no catalogue service holds are cut into the coarsest cells that every device
  service is a union of, each cell a service of its own named by its ports (`tcp/8000-8079`).

A rule cut into several cubes by earlier denies gives several permits with the rule's id, so a
remediation says "remove permit root/12", as the engineer would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ...model import (
    ANY_SERVICE,
    ImportSummary,
    InputFile,
    IPRange,
    Permit,
    Selector,
    SelectorKind,
    Service,
)
from .compile import CompiledContext
from .model import ICMP, ICMPV6, PORTED, TCP, UDP, WHOLE, AddressSet, ParsedConfig, ServiceSet

_PROTO_NAMES = {TCP: "tcp", UDP: "udp", 132: "sctp", ICMP: "icmp", ICMPV6: "icmpv6"}
_SELECTOR_RANGES_SHOWN = 3


def catalogue_set(service: Service) -> ServiceSet:
    """A catalogue service as a service set (ICMP as both ICMP and ICMPv6)."""
    if service.name == ANY_SERVICE:
        return ServiceSet.everything()
    items = [(TCP, p, p) for p in service.tcp] + [(UDP, p, p) for p in service.udp]
    if service.icmp:
        items += [(ICMP, *WHOLE), (ICMPV6, *WHOLE)]
    return ServiceSet.of(items)


def describe_ports(items: Iterable[tuple[int, int, int]]) -> str:
    """`tcp/80,8000-8079 udp/53 ip/47`: a service cell named by what it holds."""
    by_proto: dict[int, list[str]] = {}
    for proto, lo, hi in items:
        if proto in PORTED:
            by_proto.setdefault(proto, []).append(str(lo) if lo == hi else f"{lo}-{hi}")
        else:
            by_proto.setdefault(proto, [])
    parts = []
    for proto, ports in by_proto.items():
        name = _PROTO_NAMES.get(proto, f"ip/{proto}")
        if proto in PORTED:
            whole = ports == [f"{WHOLE[0]}-{WHOLE[1]}"]
            parts.append(name if whole else f"{name}/{','.join(ports)}")
        else:
            parts.append(name)
    return " ".join(parts)


class ServiceNamer:
    """Names for device service sets: catalogue names plus cells of the remaining ports."""

    def __init__(self, catalogue: Mapping[str, Service]) -> None:
        self.catalogue = {
            name: catalogue_set(svc) for name, svc in catalogue.items() if name != ANY_SERVICE
        }
        self.named = ServiceSet()
        for ss in self.catalogue.values():
            self.named = self.named.union(ss)
        self._rests: dict[ServiceSet, int] = {}
        self._cells: dict[ServiceSet, tuple[str, ...]] = {}
        self._seen: set[ServiceSet] = set()
        self._names: dict[ServiceSet, tuple[str, ...]] = {}
        self.new_services: dict[str, Service] = {}

    def register(self, services: ServiceSet) -> None:
        """Phase 1: every device service set that permits will name."""
        if services in self._seen:
            return
        self._seen.add(services)
        if not services.is_everything:
            rest = services.difference(self.named)
            if rest:
                self._rests.setdefault(rest, len(self._rests))

    def finalize(self) -> None:
        """Phase 2: cut the uncatalogued ports into cells every registered set is a union of.

        One sweep per protocol over the range edges: the sets covering each elementary
        interval form its signature, and intervals of one signature make one cell.
        """
        rests = list(self._rests)
        events: dict[int, dict[int, list[tuple[int, int]]]] = {}
        for index, rest in enumerate(rests):
            for proto, lo, hi in rest.items:
                at = events.setdefault(proto, {})
                at.setdefault(lo, []).append((1, index))
                at.setdefault(hi + 1, []).append((-1, index))
        cells: dict[frozenset[int], list[tuple[int, int, int]]] = {}
        for proto in sorted(events):
            edges = sorted(events[proto])
            active: set[int] = set()
            for lo, nxt in zip(edges, edges[1:], strict=False):
                for delta, index in events[proto][lo]:
                    if delta > 0:
                        active.add(index)
                    else:
                        active.discard(index)
                if active:
                    cells.setdefault(frozenset(active), []).append((proto, lo, nxt - 1))
        members: dict[int, list[str]] = {}
        for owners, items in cells.items():
            cell = ServiceSet.of(items)
            name = describe_ports(cell.items)
            self.new_services[name] = Service(
                name,
                frozenset(
                    p for proto, lo, hi in cell.items if proto == TCP for p in range(lo, hi + 1)
                ),
                frozenset(
                    p for proto, lo, hi in cell.items if proto == UDP for p in range(lo, hi + 1)
                ),
                any(proto in (ICMP, ICMPV6) for proto, _, _ in cell.items),
            )
            for index in owners:
                members.setdefault(index, []).append(name)
        for index, rest in enumerate(rests):
            self._cells[rest] = tuple(sorted(members.get(index, ())))

    def names(self, services: ServiceSet) -> tuple[str, ...]:
        """The service names a permit of this device service set carries (memoised: a
        rulebase uses a few hundred distinct service sets across thousands of rules)."""
        known = self._names.get(services)
        if known is not None:
            return known
        if services.is_everything:
            names: tuple[str, ...] = (ANY_SERVICE,)
        else:
            out = [name for name, ss in self.catalogue.items() if ss.intersection(services)]
            rest = services.difference(self.named)
            if rest:
                out.extend(self._cells[rest])
            names = tuple(sorted(set(out)))
        self._names[services] = names
        return names


def selector(addresses: AddressSet, texts: dict[IPRange, str] | None = None) -> Selector:
    """A permit endpoint for an address set: `any` when it is everything, else its ranges
    (`texts`: a cache of range texts, for the many endpoints of one import)."""
    if addresses == AddressSet.everything():
        return Selector(SelectorKind.ANY, "any")
    ranges = addresses.ranges
    if texts is None:
        shown = ", ".join(str(r) for r in ranges[:_SELECTOR_RANGES_SHOWN])
    else:
        parts = []
        for r in ranges[:_SELECTOR_RANGES_SHOWN]:
            text = texts.get(r)
            if text is None:
                text = texts[r] = str(r)
            parts.append(text)
        shown = ", ".join(parts)
    if len(ranges) > _SELECTOR_RANGES_SHOWN:
        shown += f", … (+{len(ranges) - _SELECTOR_RANGES_SHOWN})"
    return Selector(SelectorKind.CIDR, shown, ranges)


@dataclass(frozen=True, slots=True)
class NodeImport:
    """One node's configuration, parsed and compiled, waiting for the joint service naming."""

    node: str
    config: ParsedConfig
    compiled: CompiledContext
    shown_path: str  # the configuration's path as reported (relative to the working directory)


def register_services(namer: ServiceNamer, item: NodeImport) -> None:
    for permit in item.compiled.permits:
        for cube in permit.cubes:
            namer.register(cube.services)


def permits_of(namer: ServiceNamer, item: NodeImport) -> tuple[Permit, ...]:
    """The node's permits: one per cube of every accept rule still allowing something."""
    out: list[Permit] = []
    # the pieces of a cut rule share their address sets: one selector per set (by identity:
    # the compiled cubes keep every set alive while this runs)
    selectors: dict[int, Selector] = {}
    texts: dict[IPRange, str] = {}

    def endpoint(addresses: AddressSet) -> Selector:
        known = selectors.get(id(addresses))
        if known is None:
            known = selectors[id(addresses)] = selector(addresses, texts)
        return known

    for compiled in item.compiled.permits:
        rule = compiled.rule
        assumptions = tuple(a.value for a in compiled.assumptions)
        for cube in compiled.cubes:
            out.append(
                Permit(
                    rule.id,
                    item.node,
                    endpoint(cube.sources),
                    endpoint(cube.destinations),
                    namer.names(cube.services),
                    rule.origin.line,
                    file=item.shown_path,
                    xpath=rule.origin.xpath,
                    name=rule.name,
                    assumptions=assumptions,
                )
            )
    return tuple(out)


def summary(item: NodeImport, input_file: InputFile) -> ImportSummary:
    """The import status report of one node's configuration."""
    config, compiled = item.config, item.compiled

    def where(origin_line: int | None, origin_xpath: str | None) -> str:
        if origin_line is not None:
            return f"{item.shown_path}:{origin_line}"
        return f"{item.shown_path}:{origin_xpath}" if origin_xpath else item.shown_path

    def issues(kind: str) -> tuple[str, ...]:
        return tuple(
            f"{where(i.origin.line, i.origin.xpath)}: {i.message}"
            for i in config.issues
            if i.kind == kind
        )

    counts: dict[str, int] = {}
    for permit in compiled.permits:
        for assumption in permit.assumptions:
            counts[assumption.value] = counts.get(assumption.value, 0) + 1
    warnings = issues("warning") + issues("nat")
    warnings += tuple(
        f"{item.shown_path}: interface or zone {name!r} is not defined; taken to reach every address"
        for name in compiled.unknown_interfaces
    )
    return ImportSummary(
        node=item.node,
        input=input_file,
        format=config.format,
        context=compiled.context.name,
        status=config.status.value,
        permits=sum(1 for p in compiled.permits if p.cubes),
        disabled=tuple(r.id for r in compiled.disabled),
        shadowed=tuple(p.rule.id for p in compiled.permits if p.shadowed),
        matches_nothing=tuple(p.rule.id for p in compiled.permits if p.matches_nothing),
        unrecognised=issues("unrecognised"),
        undefined=issues("undefined"),
        unused=issues("unused"),
        warnings=warnings,
        assumptions=dict(sorted(counts.items())),
    )
