"""`segcheck import` output: topology YAML with provenance comments and the import status.

The YAML is a fragment a topology can take as it is (services and one firewall node per
context); comments carry where each permit came from and what was assumed. Strings are written
as JSON strings, which YAML reads as double-quoted scalars.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..loaders.configs.importer import ImportResult
from ..messages import localize_located
from ..model import IP, ImportSummary, IPRange, Permit, Selector, SelectorKind, Service
from .labels import labels


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _ports(values: frozenset[int]) -> str:
    runs: list[str] = []
    ordered = sorted(values)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        runs.append(str(ordered[i]) if i == j else _q(f"{ordered[i]}-{ordered[j]}"))
        i = j + 1
    return "[" + ", ".join(runs) + "]"


def _service(service: Service) -> str:
    parts = []
    if service.tcp:
        parts.append(f"tcp: {_ports(service.tcp)}")
    if service.udp:
        parts.append(f"udp: {_ports(service.udp)}")
    if service.icmp:
        parts.append("icmp: true")
    return "{" + ", ".join(parts) + "}"


def _endpoint(selector: Selector, texts: dict[IPRange, str] | None = None) -> str:
    if selector.kind is SelectorKind.ANY:
        return _q("any")
    # an address range's text (digits, dots, colons, '/', '-') needs no JSON escaping
    if texts is None:
        items = [f'"{r}"' for r in selector.ranges]
    else:  # the pieces of cut rules repeat ranges: a 20,000-row table writes each ~8 times
        items = []
        for r in selector.ranges:
            text = texts.get(r)
            if text is None:
                text = texts[r] = f'"{r}"'
            items.append(text)
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


def status_lines(summary: ImportSummary, lang: str) -> list[str]:
    """The import status of one configuration context, one fact a line."""
    t = labels(lang, "import")
    out = [
        f"{t['status']}: {summary.input.path} ({summary.format}, {t['context']} "
        f"{summary.context}): {summary.status}",
        f"  {t['sha']}: {summary.input.sha256}",
        f"  {t['permits']}: {summary.permits}",
    ]
    for key in ("disabled", "shadowed", "matches_nothing"):
        values: Sequence[str] = getattr(summary, key)
        if values:
            out.append(f"  {t[key]} ({len(values)}): {', '.join(values)}")
    for key in ("unrecognised", "undefined", "unused", "warnings"):
        values = getattr(summary, key)
        if values:
            out.append(f"  {t[key]} ({len(values)}):")
            out.extend(f"    {localize_located(v, lang)}" for v in values)
    if summary.assumptions:
        shown = ", ".join(f"{k} {v}" for k, v in summary.assumptions.items())
        out.append(f"  {t['assumptions']}: {shown}")
    return out


def render_import(results: Sequence[ImportResult], lang: str = "en") -> str:
    """Topology YAML for every imported context, the status as comments at the top."""
    out: list[str] = []
    for result in results:
        out.extend(f"# {line}" for line in status_lines(result.summary, lang))
    services: dict[str, Service] = {}
    for result in results:
        services.update(result.services)
    if services:
        out.append("services:")
        out.extend(f"  {_q(name)}: {_service(svc)}" for name, svc in services.items())
    out.append("nodes:")
    t = labels(lang, "import")
    for result in results:
        out.append(f"  {_q(result.node)}:")
        out.append("    role: firewall")
        shown = result.summary.input.path
        context_key = {"fortios": "vdom", "panos": "vsys"}.get(result.config.format, "context")
        out.append(
            f"    config: {{file: {_q(shown)}, format: {_q(result.config.format)}, "
            f"{context_key}: {_q(result.compiled.context.name)}}}"
        )
        addresses = [
            str(IP(r.version, r.first)) for iface in result.interfaces for r in iface.addresses
        ]
        if addresses:
            out.append("    ip: [" + ", ".join(_q(a) for a in dict.fromkeys(addresses)) + "]")
        else:
            out.append(f"    # {t['no_address']}")
        for iface in result.interfaces:
            nets = ", ".join(str(r) for r in iface.subnets) or "-"
            zone = f" zone {iface.zone}" if iface.zone else ""
            out.append(f"    # interface {iface.name}{zone}: {nets} ({iface.origin})")
        out.append("    # the permits below are what `config:` gives; to convert once, drop")
        out.append("    # `config:` and keep them")
        out.append("    permit:")
        out.extend(_permit_lines(result.permits))
    return "\n".join(out) + "\n"


def _permit_lines(permits: Sequence[Permit]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    # a rule cut into pieces repeats its id, name and services, and pieces share endpoints
    # (one Selector per address set): each is written once (endpoints by identity, alive in
    # `permits` while this runs)
    quoted: dict[str, str] = {}
    endpoints: dict[int, str] = {}
    texts: dict[IPRange, str] = {}

    def q(text: str) -> str:
        known = quoted.get(text)
        if known is None:
            known = quoted[text] = _q(text)
        return known

    def endpoint(selector: Selector) -> str:
        known = endpoints.get(id(selector))
        if known is None:
            known = endpoints[id(selector)] = _endpoint(selector, texts)
        return known

    for permit in permits:
        seen[permit.id] = seen.get(permit.id, 0) + 1
        pid = permit.id if seen[permit.id] == 1 else f"{permit.id}#{seen[permit.id]}"
        where = f"{permit.file}:{permit.line}" if permit.line is not None else permit.xpath
        note = f"      # {permit.id}"
        if permit.name:
            note += f" {q(permit.name)}"
        note += f" {where}"
        if permit.assumptions:
            note += f" assumptions: {', '.join(permit.assumptions)}"
        out.append(note)
        services = permit.services
        service = q(services[0]) if len(services) == 1 else "[" + ", ".join(map(q, services)) + "]"
        out.append(
            f"      - {{id: {q(pid)}, from: {endpoint(permit.source)}, "
            f"to: {endpoint(permit.destination)}, service: {service}}}"
        )
    return out
