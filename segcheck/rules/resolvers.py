"""Well-known public DNS resolvers (LG-DNS): addresses that answer DNS, and DNS over HTTPS on
443, for anyone on the Internet. A flow from the LGWAN tier to one of them on 443 is name
resolution through the Internet (DoH), not web use, and is reported as such.

Sources: each operator's published service addresses (Google Public DNS, Cloudflare 1.1.1.1,
Quad9, Cisco OpenDNS, AdGuard DNS, CleanBrowsing, NextDNS anycast). The list is short on
purpose: an address here changes a message and a rule id, never whether a flow is allowed.
"""

from __future__ import annotations

from ..model import IP, IPRange

_ADDRESSES = (
    # Google Public DNS
    "8.8.8.8",
    "8.8.4.4",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    # Cloudflare
    "1.1.1.1",
    "1.0.0.1",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
    # Quad9
    "9.9.9.9",
    "149.112.112.112",
    "2620:fe::fe",
    "2620:fe::9",
    # Cisco OpenDNS
    "208.67.222.222",
    "208.67.220.220",
    "2620:119:35::35",
    "2620:119:53::53",
    # AdGuard DNS
    "94.140.14.14",
    "94.140.15.15",
    # CleanBrowsing
    "185.228.168.9",
    "185.228.169.9",
    # NextDNS anycast
    "45.90.28.0",
    "45.90.30.0",
)


def _parse(text: str) -> IPRange:
    import ipaddress

    addr = ipaddress.ip_address(text)
    return IPRange.single(IP(addr.version, int(addr)))


PUBLIC_RESOLVERS: frozenset[IPRange] = frozenset(_parse(a) for a in _ADDRESSES)


def is_public_resolver(ip: IP) -> bool:
    """True for a well-known public DNS resolver's address."""
    return IPRange.single(ip) in PUBLIC_RESOLVERS
