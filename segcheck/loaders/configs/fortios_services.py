"""FortiOS factory-default firewall objects, for configurations that do not define them.

A FortiGate ships with predefined services (`ALL`, `HTTPS`, `PING`, …), service groups and the
addresses `all` and `none`. `show full-configuration` and backups list them like any custom
object, but excerpts, hand-written test configurations and `show` of a single table often do
not. The FortiOS parser falls back to this table only for a name the configuration itself does
not define (a definition in the configuration always wins), and says so in a warning.

Each service is written as the `set` lines the device itself would show under
`config firewall service custom` (key, value pairs), so the parser reads it with the same code
as a configured service. The port definitions are those of FortiOS 6.2-7.x factory
configurations; `tests/loaders/configs/test_fortios.py` checks every entry against the factory
objects of a real `show` output (ssato/fortios-xutils sample, FortiOS 6.2.3).
"""

from __future__ import annotations

from collections.abc import Mapping

FactoryService = tuple[tuple[str, str], ...]


def _tcp(ports: str) -> FactoryService:
    return (("tcp-portrange", ports),)


def _udp(ports: str) -> FactoryService:
    return (("udp-portrange", ports),)


def _both(tcp: str, udp: str | None = None) -> FactoryService:
    return (("tcp-portrange", tcp), ("udp-portrange", tcp if udp is None else udp))


def _ip(number: int | None = None) -> FactoryService:
    if number is None:
        return (("protocol", "IP"),)
    return (("protocol", "IP"), ("protocol-number", str(number)))


def _icmp(icmptype: int | None = None, *, v6: bool = False) -> FactoryService:
    proto = ("protocol", "ICMP6" if v6 else "ICMP")
    if icmptype is None:
        return (proto,)
    return (proto, ("icmptype", str(icmptype)))


FACTORY_SERVICES: Mapping[str, FactoryService] = {
    # general
    "ALL": _ip(),
    "ALL_TCP": _tcp("1-65535"),
    "ALL_UDP": _udp("1-65535"),
    "ALL_ICMP": _icmp(),
    "ALL_ICMP6": _icmp(v6=True),
    "NONE": _tcp("0"),
    # web, mail, files
    "HTTP": _tcp("80"),
    "HTTPS": _tcp("443"),
    "FTP": _tcp("21"),
    "FTP_GET": _tcp("21"),
    "FTP_PUT": _tcp("21"),
    "TFTP": _udp("69"),
    "SMTP": _tcp("25"),
    "SMTPS": _tcp("465"),
    "POP3": _tcp("110"),
    "POP3S": _tcp("995"),
    "IMAP": _tcp("143"),
    "IMAPS": _tcp("993"),
    "NNTP": _tcp("119"),
    "SAMBA": _tcp("139"),
    "SMB": _tcp("445"),
    "NFS": _both("111 2049"),
    "AFS3": _both("7000-7009"),
    "GOPHER": _tcp("70"),
    "WAIS": _tcp("210"),
    # network services and authentication
    "DNS": _both("53"),
    "NTP": _both("123"),
    "DHCP": _udp("67-68"),
    "DHCP6": _udp("546 547"),
    "SNMP": _both("161-162"),
    "SYSLOG": _udp("514"),
    "BGP": _tcp("179"),
    "RIP": _udp("520"),
    "OSPF": _ip(89),
    "LDAP": _tcp("389"),
    "LDAP_UDP": _udp("389"),
    "KERBEROS": _both("88 464"),
    "RADIUS": _udp("1812 1813"),
    "RADIUS-OLD": _udp("1645 1646"),
    "Internet-Locator-Service": _tcp("389"),
    "PING": _icmp(8),
    "PING6": _icmp(128, v6=True),
    "TIMESTAMP": _icmp(13),
    "INFO_REQUEST": _icmp(15),
    "INFO_ADDRESS": _icmp(17),
    "TRACEROUTE": _udp("33434-33535"),
    # remote access
    "SSH": _tcp("22"),
    "TELNET": _tcp("23"),
    "RDP": _tcp("3389"),
    "VNC": _tcp("5900"),
    "X-WINDOWS": _tcp("6000-6063"),
    "DCE-RPC": _both("135"),
    "ONC-RPC": _both("111"),
    "PC-Anywhere": _both("5631", "5632"),
    "WINS": _both("1512"),
    "REXEC": _tcp("512"),
    "RLOGIN": _tcp("513:512-1023"),
    "RSH": _tcp("514:512-1023"),
    "WINFRAME": _tcp("1494 2598"),
    "FINGER": _tcp("79"),
    "UUCP": _tcp("540"),
    "CVSPSERVER": _both("2401"),
    # tunnels and proxies
    "IKE": _udp("500 4500"),
    "L2TP": _both("1701"),
    "PPTP": _tcp("1723"),
    "GRE": _ip(47),
    "ESP": _ip(50),
    "AH": _ip(51),
    "SQUID": _tcp("3128"),
    "SOCKS": _both("1080"),
    # databases, messaging, media
    "MS-SQL": _tcp("1433 1434"),
    "MYSQL": _tcp("3306"),
    "SIP": _both("5060"),
    "SIP-MSNmessenger": _tcp("1863"),
    "SCCP": _tcp("2000"),
    "H323": _both("1720 1503", "1719"),
    "MGCP": _udp("2427 2727"),
    "IRC": _tcp("6660-6669"),
    "AOL": _tcp("5190-5194"),
    "NetMeeting": _tcp("1720"),
    "RTSP": _both("554 7070 8554", "554"),
    "MMS": _both("1755", "1024-5000"),
    "RAUDIO": _udp("7070"),
    "VDOLIVE": _tcp("7000-7010"),
    "QUAKE": _udp("26000 27000 27910 27960"),
    "TALK": _udp("517-518"),
}

FACTORY_SERVICE_GROUPS: Mapping[str, tuple[str, ...]] = {
    "Email Access": ("DNS", "IMAP", "IMAPS", "POP3", "POP3S", "SMTP", "SMTPS"),
    "Web Access": ("DNS", "HTTP", "HTTPS"),
    "Windows AD": ("DCE-RPC", "DNS", "KERBEROS", "LDAP", "LDAP_UDP", "SAMBA", "SMB"),
    "Exchange Server": ("DCE-RPC", "DNS", "HTTPS"),
}

# `all` is 0.0.0.0/0 (address) and ::/0 (address6); `none` is a single unspecified address
FACTORY_ADDRESSES: Mapping[str, str] = {"all": "0.0.0.0/0", "none": "0.0.0.0/32"}
FACTORY_ADDRESSES6: Mapping[str, str] = {"all": "::/0", "none": "::/128"}

# Objects every factory configuration carries: never reported as unused (they are the
# device's, not the administrator's). Services and groups above count too.
FACTORY_OBJECT_NAMES: frozenset[str] = frozenset(
    {
        *FACTORY_SERVICES,
        *FACTORY_SERVICE_GROUPS,
        *FACTORY_ADDRESSES,
        "webproxy",
        "FABRIC_DEVICE",
        "FIREWALL_AUTH_PORTAL_ADDRESS",
        "SSLVPN_TUNNEL_ADDR1",
        "SSLVPN_TUNNEL_IPv6_ADDR1",
        "FCTEMS_ALL_FORTICLOUD_SERVERS",
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "gmail.com",
        "wildcard.google.com",
        "wildcard.dropbox.com",
        "Microsoft Office 365",
        "G Suite",
    }
)
