"""The built-in service catalogue of spec §4 and the port-to-service lookup used for flows."""

from __future__ import annotations

from collections.abc import Mapping

from .model import ANY_SERVICE, Service


def _svc(
    name: str, tcp: tuple[int, ...] = (), udp: tuple[int, ...] = (), icmp: bool = False
) -> Service:
    return Service(name, frozenset(tcp), frozenset(udp), icmp)


BUILTIN_SERVICES: Mapping[str, Service] = {
    s.name: s
    for s in (
        _svc("rdp", tcp=(3389,), udp=(3389,)),
        _svc("ica", tcp=(1494, 2598)),
        _svc("blast", tcp=(8443,), udp=(8443,)),
        _svc("pcoip", tcp=(4172,), udp=(4172,)),
        _svc("https", tcp=(443,)),
        _svc("http", tcp=(80,)),
        _svc("http-proxy", tcp=(8080, 3128)),
        _svc("smtp", tcp=(25, 465, 587)),
        _svc("dns", tcp=(53,), udp=(53,)),
        _svc("ssh", tcp=(22,)),
        _svc("smb", tcp=(445, 139)),
        _svc("ntp", udp=(123,)),
        _svc("wsus", tcp=(8530, 8531)),
        _svc("ldap", tcp=(389, 636)),
        _svc("kerberos", tcp=(88,), udp=(88,)),
        _svc("icmp", icmp=True),
        Service(ANY_SERVICE),
    )
}

# Screen-transfer protocols: a flow on one of these to a node that is not a screen-transfer
# gateway is `suspect` (spec §7), since a port alone never proves sanitization.
SCREEN_TRANSFER_SERVICES = frozenset({"rdp", "ica", "blast", "pcoip"})
MAIL_SERVICES = frozenset({"smtp"})

# What a gateway accepts or delivers when the topology does not say (documented in README).
DEFAULT_ACCEPTS = {
    "screen-transfer": ("rdp", "ica", "blast", "pcoip"),
    "mail-sanitizer": ("smtp",),
    "mail-relay": ("smtp",),
    "cloud-proxy": ("http-proxy", "http", "https"),
    "dns-resolver": ("dns",),
    "update-server": ("wsus",),
    "telework-gateway": ("https",),
}
DEFAULT_DELIVERS = {
    "mail-sanitizer": ("smtp",),
    "telework-gateway": ("rdp", "ica", "blast", "pcoip"),
}

# Ports of spec §4: deciding the initiator of a flow without a SYN (spec §7).
KNOWN_SERVICE_PORTS = frozenset(
    port for s in BUILTIN_SERVICES.values() for port in (*s.tcp, *s.udp)
)


def services_for(catalogue: Mapping[str, Service], proto: str, port: int) -> tuple[str, ...]:
    """Names of the services (never `any`) that a flow of this protocol and port belongs to."""
    return tuple(
        sorted(
            name
            for name, svc in catalogue.items()
            if name != ANY_SERVICE and svc.matches(proto, port)
        )
    )
