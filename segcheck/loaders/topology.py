"""Load and validate a topology file (spec §2) into the immutable model.

Validation is exact: every error names the file and line (`x.yaml:14: node 'fw1': unknown role
'firwall'`) and raises TopologyError; nothing is guessed or silently dropped.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ..addressing import (
    AddressError,
    AddressMap,
    Scope,
    classify_unzoned,
    parse_cidr,
    parse_ip,
    public_ranges,
)
from ..errors import TopologyError
from ..messages import did_you_mean
from ..model import (
    ANY_SERVICE,
    IP,
    NOT_XML_TEXT,
    PUBLIC_INTERNET_ZONE,
    TIER_ALIASES,
    TIER_NAMES_JA,
    Channel,
    ExtraTier,
    ImportSummary,
    InputFile,
    IPRange,
    Link,
    Node,
    Permit,
    Profile,
    Role,
    Selector,
    SelectorKind,
    Service,
    Tier,
    Topology,
    Zone,
    parse_tier,
)
from ..services import BUILTIN_SERVICES, services_for
from ..settings import SETTINGS_BY_KEY, SettingValue
from . import yamldoc
from .configs import FORMATS as CONFIG_FORMATS
from .configs import read_config
from .configs.compile import compile_context
from .configs.model import ImportStatus
from .configs.permits import (
    NodeImport,
    ServiceNamer,
    permits_of,
    register_services,
    summary,
)
from .yamldoc import Document, load_document
from .yamldoc import shown as clip

FORMAT_VERSION = 1

TOP_KEYS = (
    "segcheck",
    "name",
    "profile",
    "zones",
    "services",
    "nodes",
    "links",
    "channels",
    "settings",
    "tiers",
    "guideline",
)
EDITION = re.compile(r"(平成|令和)(元|[0-9]{1,2})年([0-9]{1,2})月版")
TIER_KEYS = ("label", "from", "to")
CELL_KINDS = ("allow", "sanitized", "channel", "forbidden")
RULE_ID = re.compile(r"[A-Z]+(-[A-Z]+)+")
TIER_KEY = re.compile(r"[a-z][a-z0-9-]*")
ZONE_KEYS = ("tier", "subnets", "label")
SERVICE_KEYS = ("tcp", "udp", "icmp")
PERMIT_KEYS = ("id", "from", "to", "service")
CONFIG_KEYS = ("file", "format", "vdom", "vsys", "context")
CHANNEL_KEYS = (
    "id",
    "from",
    "to",
    "service",
    "reason",
    "approved_by",
    "ticket",
    "expires",
    "from_mac",
    "to_mac",
)
MAC = re.compile(r"[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}")
CHANNEL_REQUIRED = ("id", "from", "to", "service", "reason")
_NODE_COMMON = ("role", "ip", "label")
_GATEWAY = ("accepts", "delivers")
# `monitoring: true` (issue 17, INET-MONITORING): an IDS/IPS, sandbox or SIEM feed on the device
_MON = ("monitoring",)
ROLE_KEYS: Mapping[Role, tuple[str, ...]] = {
    Role.TERMINAL: ("usb_block", "mfa", "edr"),
    Role.SERVER: (),
    Role.ROUTER: ("permit", "config", *_MON),
    Role.L3_SWITCH: ("permit", "config", *_MON),
    Role.FIREWALL: ("permit", "config", *_MON),
    Role.LBO_GATEWAY: ("allow_destinations", *_MON),
    Role.SCREEN_TRANSFER: ("accepts", "clipboard", "drive_redirect", "printer_redirect"),
    Role.MAIL_SANITIZER: ("accepts", "delivers", "html_to_text", "attachments"),
    Role.FILE_SANITIZER: _GATEWAY,
    Role.JUKI_CS: _GATEWAY,
    Role.CLOUD_PROXY: (*_GATEWAY, *_MON),
    Role.MAIL_RELAY: (*_GATEWAY, *_MON),
    Role.DNS_RESOLVER: (*_GATEWAY, *_MON),
    Role.ATENA: (),
    Role.CHUKAN: (),
    Role.UPDATE_SERVER: ("accepts", "upstream"),
    Role.TELEWORK_GATEWAY: (
        *_GATEWAY,
        "clipboard",
        "drive_redirect",
        "printer_redirect",
        "mfa",
    ),
}
BOOL_SETTINGS = (
    "usb_block",
    "mfa",
    "edr",
    "clipboard",
    "drive_redirect",
    "printer_redirect",
    "html_to_text",
    "monitoring",
)
ATTACHMENT_POLICIES = ("delete", "image", "cdr", "quarantine")
RESERVED_ZONE = PUBLIC_INTERNET_ZONE.name
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PORT_RANGE = re.compile(r"[0-9]{1,5}-[0-9]{1,5}")
# Bidirectional controls (embeddings, overrides, isolates, marks): a name shown with them can
# read differently from what it is ("Trojan Source"); refused like other control characters.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Longest name (zone, node, service, permit or channel id, any reference) and longest text
# (topology name, label, reason, approver, ticket), in characters. Graphviz fails on labels of
# about 16,000 characters, and no report can show such a name usefully.
MAX_NAME_CHARS = 256
MAX_TEXT_CHARS = 1024


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def load_topology(path: str | Path) -> Topology:
    """Read, validate and return the topology at `path`; TopologyError on any defect."""
    shown = str(path)
    try:
        with open(path, "rb") as stream:
            raw = yamldoc.read_limited(shown, stream)
    except FileNotFoundError:
        raise TopologyError(shown, "no such file") from None
    except IsADirectoryError:
        raise TopologyError(shown, "is a directory, not a topology file") from None
    except OSError as exc:
        raise TopologyError(shown, f"cannot read: {exc.strerror}") from None
    return parse_topology(raw, shown)


def parse_topology(raw: bytes, path: str = "<topology>") -> Topology:
    """Validate topology bytes (YAML or JSON) and build the model."""
    doc = load_document(path, raw)
    return _Builder(doc, InputFile(path, "topology", _sha256(raw))).build()


# A port written where a service name belongs: 3389, tcp/3389, TCP3389, 3389/tcp.
_PORT_AS_SERVICE = re.compile(r"(?i)(?:(tcp|udp)\s*[/:_ -]?\s*)?([0-9]{1,5})(?:\s*/\s*(tcp|udp))?")
# A key typed with a full-width colon (`zones：`, `tier：lgwan`): YAML reads it as one word.
_FULL_WIDTH_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*：")


def _full_width_key(key: Any) -> str | None:
    """The message for a key that holds a full-width colon or space, or None."""
    if not isinstance(key, str):
        return None
    if key[:1] == "\u3000":
        return (
            "a full-width space (全角スペース, U+3000) in the indentation: YAML indents with "
            "ASCII spaces only; replace it with half-width spaces"
        )
    typed = _FULL_WIDTH_KEY.match(key)
    if typed is not None:
        word = typed.group(1)
        return (
            f"a full-width colon (：) after {word}: YAML needs the ASCII colon; write '{word}: …'"
        )
    return None


def _looks_like_one(value: Any) -> bool:
    """1.0, '1.0', 'v1', '１': the version meant is 1, written in a way segcheck does not read."""
    text = unicodedata.normalize("NFKC", str(value)).strip().lower().lstrip("v")
    try:
        return float(text) == FORMAT_VERSION
    except ValueError:
        return False


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    return clip(value)


class _Builder:
    """One validation pass; `fail` raises with the line of a key path."""

    def __init__(self, doc: Document, source: InputFile) -> None:
        self.doc = doc
        self.source = source
        self.services: dict[str, Service] = dict(BUILTIN_SERVICES)
        self.zones: dict[str, Zone] = {}
        self._public: tuple[IPRange, ...] | None = None  # built on first use
        self.nodes: dict[str, Node] = {}
        self.permit_ids: set[str] = set()
        self.imports: tuple[ImportSummary, ...] = ()
        self.extra_tiers: dict[str, Tier] = {}

    def fail(self, where: tuple[str | int, ...], message: str) -> TopologyError:
        return self.doc.error(where, message)

    # -- helpers -------------------------------------------------------------------------------

    def mapping(self, value: Any, where: tuple[str | int, ...], what: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"{what} must be a mapping, not {_describe(value)}")
        return value

    def check_keys(
        self,
        value: dict[str, Any],
        allowed: tuple[str, ...],
        where: tuple[str | int, ...],
        what: str,
    ) -> None:
        for key in value:
            if key not in allowed:
                typed = _full_width_key(key)
                if typed is not None:
                    raise self.fail((*where, key), typed)
                hint = ", ".join(allowed)
                raise self.fail(
                    (*where, key),
                    f"{what}: unknown key {clip(key)} (allowed: {hint})"
                    + did_you_mean(str(key), allowed),
                )

    def string(
        self, value: Any, where: tuple[str | int, ...], what: str, limit: int = MAX_NAME_CHARS
    ) -> str:
        """A name (or, with limit=MAX_TEXT_CHARS, a text); numbers are read as written."""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(where, f"{what} must be text, not {_describe(value)}")
        return self.text(str(value), where, what, limit)

    def text(
        self, value: str, where: tuple[str | int, ...], what: str, limit: int = MAX_NAME_CHARS
    ) -> str:
        """Text that every report format can carry and show as it is: no control character
        XML 1.0 forbids, no bidirectional control, no more than `limit` characters."""
        bad = NOT_XML_TEXT.search(value) or BIDI_CONTROLS.search(value)
        if bad is not None:
            kind = "control" if bad.re is NOT_XML_TEXT else "bidirectional control"
            raise self.fail(where, f"{what} contains the {kind} character U+{ord(bad.group()):04X}")
        if len(value) > limit:
            raise self.fail(where, f"{what} is {len(value)} characters long (the limit is {limit})")
        return value

    def optional_text(
        self, spec: dict[str, Any], key: str, where: tuple[str | int, ...], what: str
    ) -> str | None:
        value = spec.get(key)
        return None if value is None else self.string(value, (*where, key), what, MAX_TEXT_CHARS)

    def str_list(self, value: Any, where: tuple[str | int, ...], what: str) -> list[str]:
        items = value if isinstance(value, list) else [value]
        return [
            self.string(v, (*where, i) if isinstance(value, list) else where, what)
            for i, v in enumerate(items)
        ]

    def service_names(self, value: Any, where: tuple[str | int, ...], what: str) -> tuple[str, ...]:
        names = self.str_list(value, where, f"{what} service")
        if not names:
            raise self.fail(where, f"{what}: {where[-1]} lists no service")
        for i, name in enumerate(names):
            if name not in self.services:
                spot = (*where, i) if isinstance(value, list) else where
                raise self.fail(spot, self.unknown_service(what, name))
        return tuple(sorted(set(names)))

    def unknown_service(self, what: str, name: str) -> str:
        """Why `name` is no service: a port written where a name belongs (`3389`, `tcp/3389`)
        says how to name one; otherwise the names it is close to."""
        port = _PORT_AS_SERVICE.fullmatch(unicodedata.normalize("NFKC", name).strip())
        if port is None:
            return f"{what}: unknown service {name!r}" + did_you_mean(name, self.services)
        proto = (port.group(1) or port.group(3) or "tcp").lower()
        number = int(port.group(2))
        named = services_for(self.services, proto, number) if 0 < number < 65536 else ()
        head = f"{what}: unknown service {name!r}: a service is named, not written as a port"
        if named:
            return f"{head}; the service {' or '.join(map(repr, named))} covers {proto}/{number}"
        return (
            f"{head}; declare it under 'services:' (for example services: "
            f"{{{proto}-{number}: {{{proto}: [{number}]}}}}) and name it"
        )

    def cidr(self, value: Any, where: tuple[str | int, ...], what: str) -> IPRange:
        text = self.string(value, where, what)
        try:
            return parse_cidr(text)
        except AddressError as exc:
            raise self.fail(where, f"{what}: {exc}") from None

    # -- sections ------------------------------------------------------------------------------

    def build(self) -> Topology:
        data = self.doc.data
        if data is None:
            raise TopologyError(
                self.doc.path,
                "the file is empty; a topology is a mapping starting with 'segcheck: 1'",
                1,
            )
        if not isinstance(data, dict):
            line = self.doc.line(()) or 1
            typed = _full_width_key(data) if isinstance(data, str) else None
            raise TopologyError(
                self.doc.path,
                typed or f"the top level must be a mapping, not {_describe(data)}",
                line,
            )
        self.check_keys(data, TOP_KEYS, (), "top level")
        if "segcheck" not in data:
            raise self.fail((), "missing required key 'segcheck' (the format version, 1)")
        version = data["segcheck"]
        # `segcheck: '1'` (quoted, as some editors and generators write it) means version 1.
        if isinstance(version, str) and version.strip() == str(FORMAT_VERSION):
            version = FORMAT_VERSION
        if type(version) is not int or version != FORMAT_VERSION:
            shown = clip(version, as_text=True)
            advice = f": write 'segcheck: {FORMAT_VERSION}'" if _looks_like_one(version) else ""
            raise self.fail(
                ("segcheck",),
                f"unsupported format version {shown} "
                f"(this segcheck reads version {FORMAT_VERSION}{advice})",
            )
        name = self.string(
            data.get("name", Path(self.source.path).stem), ("name",), "name", MAX_TEXT_CHARS
        )
        profile = self.profile(data.get("profile", "alpha"))
        settings = self.read_settings(data.get("settings") or {})
        extra = self.read_tiers(data.get("tiers") or {})
        guideline = None
        if data.get("guideline") is not None:
            guideline = self.string(data["guideline"], ("guideline",), "guideline")
            if EDITION.fullmatch(guideline) is None:
                raise self.fail(
                    ("guideline",),
                    f"guideline {clip(guideline)} is not an edition of the 総務省 guideline "
                    "written like 令和6年10月版",
                )
        self.read_services(data.get("services") or {})
        self.read_zones(data.get("zones"))
        raw_nodes = data.get("nodes") or {}
        self.read_nodes(raw_nodes)
        links = self.read_links(data.get("links") or [])
        channels = self.read_channels(data.get("channels") or [])
        return Topology(
            self.source,
            name,
            profile,
            self.zones,
            self.services,
            self.nodes,
            links,
            channels,
            self.imports,
            settings,
            extra,
            guideline,
        )

    def read_tiers(self, value: Any) -> tuple[Tier, ...]:
        """Extra internal tiers (issue 17): each with its row (`from`: this tier initiating) and
        column (`to`: this tier responding) of the policy matrix; unwritten cells take
        `policy.extra_cell`'s defaults. The My Number tier's isolation and the security
        cloud's aggregation cannot be written away: no `allow` with `mynumber` or
        `public-internet`."""
        spec = self.mapping(value, ("tiers",), "tiers")
        keys: dict[str, tuple[str | int, ...]] = {}
        for key in spec:
            where: tuple[str | int, ...] = ("tiers", key)
            name = self.text(str(key), where, "tier name")
            if TIER_KEY.fullmatch(name) is None or parse_tier(name) is not None:
                raise self.fail(
                    where,
                    f"tier {name!r}: an extra tier is named by a new lower-case key "
                    "(letters, digits, '-'), not a built-in tier or its alias",
                )
            keys[name] = where
        tiers: list[Tier] = []
        for name, where in keys.items():
            body = self.mapping(spec[name], where, f"tier {name!r}")
            self.check_keys(body, TIER_KEYS, where, f"tier {name!r}")
            label = self.optional_text(body, "label", where, f"tier {name!r} label") or name
            row = self.tier_cells(name, body.get("from") or {}, (*where, "from"), keys)
            column = self.tier_cells(name, body.get("to") or {}, (*where, "to"), keys)
            info = ExtraTier(name, label, row, column, self.doc.record_line(where))
            tiers.append(Tier.declare_extra(info))
        self.extra_tiers = {t.value: t for t in tiers}
        return tuple(tiers)

    def tier_cells(
        self, name: str, value: Any, where: tuple[str | int, ...], extra: Mapping[str, Any]
    ) -> dict[str, str]:
        """One row or column of an extra tier: other tier -> "kind [RULE-ID]"."""
        what = f"tier {name!r} {where[-1]}"
        cells = self.mapping(value, where, what)
        out: dict[str, str] = {}
        for other, raw in cells.items():
            spot = (*where, other)
            other_text = self.text(str(other), spot, f"{what} tier")
            tier = parse_tier(other_text)
            key = tier.value if tier is not None else other_text if other_text in extra else None
            if key is None or key == name:
                raise self.fail(spot, f"{what}: unknown tier {other_text!r}")
            text = self.string(raw, spot, f"{what} {key}")
            kind, _, rule = text.strip().partition(" ")
            rule = rule.strip()
            if kind not in CELL_KINDS or (rule and RULE_ID.fullmatch(rule) is None):
                raise self.fail(
                    spot,
                    f"{what} {key}: {clip(text)} is not a cell "
                    f"({', '.join(CELL_KINDS)}, optionally followed by a rule id)",
                )
            if kind == "allow" and key in (Tier.MYNUMBER.value, Tier.PUBLIC_INTERNET.value):
                raise self.fail(
                    spot,
                    f"{what} {key}: cannot be allow (the My Number tier stays isolated and "
                    "the Internet is reached through the security cloud)",
                )
            out[key] = f"{kind} {rule}".strip()
        return out

    def read_settings(self, value: Any) -> dict[str, SettingValue]:
        """Profile settings (rules/settings.py): known keys, each one of its allowed values (a
        list of them for a setting that takes several)."""
        spec = self.mapping(value, ("settings",), "settings")
        self.check_keys(spec, tuple(SETTINGS_BY_KEY), ("settings",), "settings")
        out: dict[str, SettingValue] = {}
        for key, raw in spec.items():
            allowed = SETTINGS_BY_KEY[key].allowed
            if SETTINGS_BY_KEY[key].multiple:
                out[key] = self.setting_items(key, raw, allowed)
                continue
            if isinstance(raw, (bool, str)) and raw in allowed and type(raw) is type(allowed[0]):
                out[key] = raw
                continue
            shown = ", ".join(str(a).lower() if isinstance(a, bool) else str(a) for a in allowed)
            given = str(raw).lower() if isinstance(raw, bool) else clip(raw)  # as YAML writes it
            raise self.fail(("settings", key), f"setting {key!r}: {given} is not one of {shown}")
        return out

    def setting_items(
        self, key: str, raw: Any, allowed: tuple[SettingValue, ...]
    ) -> tuple[str, ...]:
        """A list setting's items, each one of `allowed`, in `allowed`'s order."""
        shown = ", ".join(map(str, allowed))
        if not isinstance(raw, list):
            given = str(raw).lower() if isinstance(raw, bool) else clip(raw)
            raise self.fail(("settings", key), f"setting {key!r}: {given} is not a list of {shown}")
        for i, item in enumerate(raw):
            if not isinstance(item, str) or item not in allowed:
                given = str(item).lower() if isinstance(item, bool) else clip(item)
                raise self.fail(
                    ("settings", key, i), f"setting {key!r}: {given} is not one of {shown}"
                )
        return tuple(str(a) for a in allowed if a in raw)

    def profile(self, value: Any) -> Profile:
        text = self.string(value, ("profile",), "profile").replace("_", "-").lower()
        text = {
            "α": "alpha",
            "α′": "alpha-prime",
            "α'": "alpha-prime",
            "β": "beta",
            "β′": "beta-prime",
            "β'": "beta-prime",
        }.get(text, text)
        try:
            return Profile(text)
        except ValueError:
            allowed = ", ".join(p.value for p in Profile)
            raise self.fail(
                ("profile",),
                f"unknown profile {clip(value)} (allowed: {allowed})"
                + did_you_mean(text, [p.value for p in Profile]),
            ) from None

    def read_services(self, value: Any) -> None:
        services = self.mapping(value, ("services",), "services")
        for name, spec in services.items():
            where: tuple[str | int, ...] = ("services", name)
            self.text(name, where, "service name")
            if name in self.services:
                raise self.fail(where, f"service {name!r}: duplicate name (a built-in service)")
            spec = self.mapping(spec, where, f"service {name!r}")
            self.check_keys(spec, SERVICE_KEYS, where, f"service {name!r}")
            ports: dict[str, frozenset[int]] = {}
            for proto in ("tcp", "udp"):
                raw = spec.get(proto, [])
                items = raw if isinstance(raw, list) else [raw]
                found: set[int] = set()
                for i, port in enumerate(items):
                    spot = (*where, proto, i) if isinstance(raw, list) else (*where, proto)
                    found.update(self.port_range(port, spot, f"service {name!r}: {proto} port"))
                ports[proto] = frozenset(found)
            icmp = spec.get("icmp", False)
            if not isinstance(icmp, bool):
                raise self.fail((*where, "icmp"), f"service {name!r}: icmp must be true or false")
            if not (ports["tcp"] or ports["udp"] or icmp):
                raise self.fail(where, f"service {name!r}: names no tcp or udp port and no icmp")
            line = self.doc.record_line(where)
            self.services[name] = Service(name, ports["tcp"], ports["udp"], icmp, line)

    def port_range(self, value: Any, where: tuple[str | int, ...], what: str) -> range:
        """A port (443) or an inclusive range written as text ("8000-8079")."""
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
            return range(value, value + 1)
        if isinstance(value, str) and PORT_RANGE.fullmatch(value):
            lo, hi = (int(x) for x in value.split("-"))
            if 0 < lo <= hi < 65536:
                return range(lo, hi + 1)
        raise self.fail(
            where,
            f"{what} {clip(value)} is not a number from 1 to 65535 or a range like 8000-8079",
        )

    def read_zones(self, value: Any) -> None:
        if value is None:
            raise self.fail((), "missing required key 'zones'")
        zones = self.mapping(value, ("zones",), "zones")
        for name, spec in zones.items():
            where: tuple[str | int, ...] = ("zones", name)
            self.text(name, where, "zone name")
            if name == RESERVED_ZONE:
                raise self.fail(
                    where,
                    f"zone name {name!r} is reserved for the built-in zone "
                    "of global addresses; declare public ranges under another name",
                )
            spec = self.mapping(spec, where, f"zone {name!r}")
            self.check_keys(spec, ZONE_KEYS, where, f"zone {name!r}")
            if "tier" not in spec:
                raise self.fail(where, f"zone {name!r}: missing required key 'tier'")
            tier_text = self.string(spec["tier"], (*where, "tier"), f"zone {name!r} tier")
            tier = parse_tier(tier_text) or self.extra_tiers.get(tier_text)
            if tier is None:
                allowed = ", ".join(t.value for t in Tier)
                names = ", ".join(TIER_NAMES_JA[t] for t in Tier)
                raise self.fail(
                    (*where, "tier"),
                    f"zone {name!r}: unknown tier {tier_text!r} (allowed: {allowed} "
                    f"or their Japanese names: {names})"
                    + did_you_mean(tier_text, [*(t.value for t in Tier), *TIER_ALIASES]),
                )
            if "subnets" not in spec:
                raise self.fail(where, f"zone {name!r}: missing required key 'subnets'")
            raw = spec["subnets"]
            items = raw if isinstance(raw, list) else [raw]
            if not items:
                raise self.fail((*where, "subnets"), f"zone {name!r}: 'subnets' lists no subnet")
            subnets = tuple(
                self.cidr(
                    s,
                    (*where, "subnets", i) if isinstance(raw, list) else (*where, "subnets"),
                    f"zone {name!r} subnet",
                )
                for i, s in enumerate(items)
            )
            label = self.optional_text(spec, "label", where, f"zone {name!r} label")
            self.zones[name] = Zone(name, tier, subnets, label, self.doc.record_line(where))
        self.check_overlaps()

    def check_overlaps(self) -> None:
        """Subnets of different tiers that overlap, or one subnet in two zones, are errors."""
        entries = sorted(
            (
                (subnet, zone, idx)
                for zone in self.zones.values()
                for idx, subnet in enumerate(zone.subnets)
            ),
            key=lambda entry: entry[0],
        )
        # Sweep keeping the open ranges; ranges sorted by start, so any open one that reaches
        # past the new start overlaps it.
        open_ranges: list[tuple[IPRange, Zone]] = []
        for subnet, zone, idx in entries:
            open_ranges = [
                (r, z)
                for r, z in open_ranges
                if r.version == subnet.version and r.last >= subnet.first
            ]
            for other, other_zone in open_ranges:
                same = other.first == subnet.first and other.last == subnet.last
                if other_zone.tier is not zone.tier:
                    why = (
                        f"({zone.tier.value}) overlaps {other} of zone {other_zone.name!r} "
                        f"({other_zone.tier.value})"
                    )
                elif same and other_zone is zone:
                    why = "is listed twice"
                elif same:
                    why = f"is declared in zones {other_zone.name!r} and {zone.name!r}"
                else:
                    continue
                raise self.fail(
                    ("zones", zone.name, "subnets", idx),
                    f"zone {zone.name!r}: subnet {subnet} {why}",
                )
            open_ranges.append((subnet, zone))

    def read_nodes(self, value: Any) -> None:
        """Every node, in file order; what names other nodes is read once all are known."""
        nodes = self.mapping(value, ("nodes",), "nodes")
        address_map = AddressMap(self.zones.values())
        owners: dict[IP, str] = {}
        pending_permits: list[tuple[str, list[Any], tuple[str | int, ...]]] = []
        pending_imports: list[NodeImport] = []
        for name, spec in nodes.items():
            where: tuple[str | int, ...] = ("nodes", name)
            what = f"node {name!r}"
            spec, role = self._node_role(name, spec, where, what)
            if "config" in spec:
                imported = self.read_config(name, spec["config"], (*where, "config"))
                pending_imports.append(imported)
                if "ip" not in spec:
                    spec = {**spec, "ip": self.config_addresses(imported, address_map, owners)}
            addresses = self._addresses(name, spec, where, what, address_map, owners)
            settings = self._settings(spec, where, what)
            accepts, delivers = self._gateway_services(spec, where, what)
            allow = self._allow_destinations(spec, where, what)
            raw_permits = self._pending_permits(spec, where, what)
            if raw_permits is not None:
                pending_permits.append((name, raw_permits, (*where, "permit")))
            label = self.optional_text(spec, "label", where, f"{what} label")
            self.nodes[name] = Node(
                name,
                role,
                addresses,
                label,
                self.doc.record_line(where),
                None,
                allow,
                accepts,
                delivers,
                settings,
            )
        # Permits and upstreams name nodes, so they are read once every node is known.
        for name, node in list(self.nodes.items()):
            if node.role is Role.UPDATE_SERVER and "upstream" in nodes[name]:
                self.nodes[name] = self.upstream(node, nodes[name]["upstream"], ("nodes", name))
        for name, raw_permits, where in pending_permits:
            permits = tuple(self.permit(name, p, (*where, i)) for i, p in enumerate(raw_permits))
            self.nodes[name] = replace(self.nodes[name], permits=permits)
        if pending_imports:
            self.add_imported_permits(pending_imports)

    def _node_role(
        self, name: Any, value: Any, where: tuple[str | int, ...], what: str
    ) -> tuple[dict[str, Any], Role]:
        """The node's mapping and role; its keys are checked against what the role may have."""
        self.text(name, where, "node name")
        if name in self.zones:
            raise self.fail(where, f"{what}: name is already used by a zone")
        spec = self.mapping(value, where, what)
        if "role" not in spec:
            raise self.fail(where, f"{what}: missing required key 'role'")
        role_text = self.string(spec["role"], (*where, "role"), f"{what} role")
        try:
            role = Role(role_text)
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise self.fail(
                (*where, "role"),
                f"{what}: unknown role {role_text!r} (allowed: {allowed})"
                + did_you_mean(role_text, [r.value for r in Role]),
            ) from None
        self.check_keys(spec, _NODE_COMMON + ROLE_KEYS[role], where, f"{what} ({role.value})")
        return spec, role

    def _addresses(
        self,
        name: str,
        spec: dict[str, Any],
        where: tuple[str | int, ...],
        what: str,
        address_map: AddressMap,
        owners: dict[IP, str],
    ) -> tuple[IP, ...]:
        """`ip`: one address or a list, each unique across nodes and in a zone unless global."""
        if "ip" not in spec:
            raise self.fail(where, f"{what}: missing required key 'ip'")
        raw_ip = spec["ip"]
        ip_items = raw_ip if isinstance(raw_ip, list) else [raw_ip]
        if not ip_items:
            raise self.fail((*where, "ip"), f"{what}: 'ip' lists no address")
        addresses: list[IP] = []
        for i, item in enumerate(ip_items):
            spot = (*where, "ip", i) if isinstance(raw_ip, list) else (*where, "ip")
            text = self.string(item, spot, f"{what} address")
            try:
                ip = parse_ip(text)
            except AddressError as exc:
                raise self.fail(spot, f"{what}: {exc}") from None
            if ip in owners:
                raise self.fail(
                    spot, f"{what}: address {ip} is already used by node {owners[ip]!r}"
                )
            if address_map.zone_of(ip) is None and classify_unzoned(ip) is not Scope.PUBLIC:
                raise self.fail(
                    spot,
                    f"{what}: address {ip} is in no zone and is not a "
                    "global address; add its subnet to a zone",
                )
            owners[ip] = name
            addresses.append(ip)
        return tuple(addresses)

    def _settings(
        self, spec: dict[str, Any], where: tuple[str | int, ...], what: str
    ) -> dict[str, bool | str]:
        """The node's true/false settings and its `attachments` policy (mail relays)."""
        settings: dict[str, bool | str] = {}
        for key in BOOL_SETTINGS:
            if key in spec:
                if not isinstance(spec[key], bool):
                    raise self.fail((*where, key), f"{what}: {key} must be true or false")
                settings[key] = spec[key]
        if "attachments" in spec:
            policy = self.string(
                spec["attachments"], (*where, "attachments"), f"{what} attachments"
            )
            if policy not in ATTACHMENT_POLICIES:
                raise self.fail(
                    (*where, "attachments"),
                    f"{what}: unknown attachments policy {policy!r} "
                    f"(allowed: {', '.join(ATTACHMENT_POLICIES)})"
                    + did_you_mean(policy, ATTACHMENT_POLICIES),
                )
            settings["attachments"] = policy
        return settings

    def _gateway_services(
        self, spec: dict[str, Any], where: tuple[str | int, ...], what: str
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A gateway's `accepts` and `delivers`: the services it takes in and passes on."""
        accepts = (
            self.service_names(spec["accepts"], (*where, "accepts"), what)
            if "accepts" in spec
            else ()
        )
        delivers = (
            self.service_names(spec["delivers"], (*where, "delivers"), what)
            if "delivers" in spec
            else ()
        )
        return accepts, delivers

    def _allow_destinations(
        self, spec: dict[str, Any], where: tuple[str | int, ...], what: str
    ) -> tuple[IPRange, ...]:
        """`allow_destinations`: one CIDR or a list."""
        if "allow_destinations" not in spec:
            return ()
        raw = spec["allow_destinations"]
        items = raw if isinstance(raw, list) else [raw]
        return tuple(
            self.cidr(
                c,
                (*where, "allow_destinations", i)
                if isinstance(raw, list)
                else (*where, "allow_destinations"),
                f"{what} allow_destinations",
            )
            for i, c in enumerate(items)
        )

    def _pending_permits(
        self, spec: dict[str, Any], where: tuple[str | int, ...], what: str
    ) -> list[Any] | None:
        """The raw `permit` list, read later: permits name nodes that may come further down."""
        if "permit" not in spec:
            return None
        raw_permits = spec["permit"]
        if raw_permits is None:
            return []
        if not isinstance(raw_permits, list):
            raise self.fail((*where, "permit"), f"{what}: permit must be a list")
        return raw_permits

    def upstream(self, node: Node, value: Any, where: tuple[str | int, ...]) -> Node:
        """An update server's `upstream` (issue 17): nodes or addresses it takes updates
        from, or `offline` (updates brought on media)."""
        where = (*where, "upstream")
        what = f"node {node.name!r} upstream"
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.fail(where, f"{what}: lists nothing (name a node, an address or offline)")
        chosen: list[Selector] = []
        offline = False
        for i, item in enumerate(items):
            spot = (*where, i) if isinstance(value, list) else where
            if item == "offline":
                offline = True
                continue
            chosen.append(self.selector(item, spot, what, allow_zone=False, allow_any=False))
        settings = {**node.settings, **({"offline_updates": True} if offline else {})}
        return replace(node, upstream=tuple(chosen), settings=settings)

    def read_config(self, node: str, value: Any, where: tuple[str | int, ...]) -> NodeImport:
        """Parse and compile the configuration a node names (spec §2 `config:`)."""
        what = f"node {node!r} config"
        spec = self.mapping(value, where, what)
        self.check_keys(spec, CONFIG_KEYS, where, what)
        for key in ("file", "format"):
            if key not in spec:
                raise self.fail(where, f"{what}: missing required key {key!r}")
        file = self.string(spec["file"], (*where, "file"), f"{what} file", MAX_TEXT_CHARS)
        fmt = self.string(spec["format"], (*where, "format"), f"{what} format")
        if fmt not in CONFIG_FORMATS:
            raise self.fail(
                (*where, "format"),
                f"{what}: unknown format {fmt!r} (allowed: {', '.join(CONFIG_FORMATS)})"
                + did_you_mean(fmt, CONFIG_FORMATS),
            )
        chosen = [k for k in ("vdom", "vsys", "context") if k in spec]
        if len(chosen) > 1:
            raise self.fail(where, f"{what}: give one of vdom, vsys, context")
        context = (
            self.string(spec[chosen[0]], (*where, chosen[0]), f"{what} {chosen[0]}")
            if chosen
            else ("vsys1" if fmt == "panos" else None)
        )
        base = Path(self.source.path).parent
        shown = str(base / file) if not Path(file).is_absolute() else file
        config = read_config(Path(shown), fmt, display_name=shown)
        if config.status is ImportStatus.FAILED:
            raise self.fail((*where, "file"), f"{what}: {shown}: nothing could be imported")
        ctx = config.context(context)
        if ctx is None:
            names = ", ".join(c.name for c in config.contexts)
            wanted = (
                f"{chosen[0] if chosen else 'context'} {context!r}" if context else "which context"
            )
            raise self.fail(
                where, f"{what}: {shown} holds contexts {names}; say {wanted} (vdom/vsys/context)"
            )
        return NodeImport(node, config, compile_context(ctx), shown)

    def config_addresses(
        self, item: NodeImport, address_map: AddressMap, owners: Mapping[IP, str]
    ) -> list[str]:
        """A node's addresses from its configuration's interfaces (those in the plan's zones)."""
        found: list[str] = []
        for iface in item.compiled.context.interfaces:
            for rng in iface.addresses:
                ip = IP(rng.version, rng.first)
                if ip in owners or str(ip) in found:
                    continue
                if address_map.zone_of(ip) is None and classify_unzoned(ip) is not Scope.PUBLIC:
                    continue  # a management or transfer address outside the plan
                found.append(str(ip))
        return found

    def add_imported_permits(self, imports: list[NodeImport]) -> None:
        """Name device services jointly (exact atoms), then add each node's permits."""
        namer = ServiceNamer(self.services)
        for item in imports:
            register_services(namer, item)
        namer.finalize()
        for name, service in namer.new_services.items():
            self.services.setdefault(name, service)
        summaries = []
        for item in imports:
            imported = permits_of(namer, item)
            for permit in imported:
                # device ids repeat across devices (two FortiGates both have root/1): only a
                # clash with a hand-written permit is ambiguous
                if permit.id in self.permit_ids:
                    raise TopologyError(
                        permit.file or self.source.path,
                        f"permit id {permit.id!r} of node {item.node!r} is already used "
                        "by a hand-written permit",
                        permit.line,
                    )
            node = self.nodes[item.node]
            self.nodes[item.node] = replace(node, permits=(*(node.permits or ()), *imported))
            summaries.append(
                summary(item, InputFile(item.shown_path, "config", item.config.sha256))
            )
        self.imports = tuple(summaries)

    def selector(
        self,
        value: Any,
        where: tuple[str | int, ...],
        what: str,
        *,
        allow_zone: bool = True,
        allow_any: bool = True,
    ) -> Selector:
        text = self.string(value, where, what)
        if text == "any" and allow_any:
            return Selector(SelectorKind.ANY, "any")
        if text in self.nodes:
            node = self.nodes[text]
            return Selector(
                SelectorKind.NODE, text, tuple(IPRange.single(ip) for ip in node.addresses)
            )
        if text in self.zones:
            if not allow_zone:
                raise self.fail(where, f"{what}: {text!r} is a zone; name a node or an address")
            return Selector(SelectorKind.ZONE, text, self.zones[text].subnets)
        if text == RESERVED_ZONE and allow_zone:
            # the built-in zone (spec §1): every global address in no declared zone
            if self._public is None:
                declared = [r for z in self.zones.values() for r in z.subnets]
                self._public = public_ranges(declared)
            return Selector(SelectorKind.ZONE, text, self._public)
        if any(ch.isdigit() for ch in text) and ("." in text or ":" in text):
            try:
                if "-" in text:  # an address range, as imported configurations write them
                    first, last = (parse_ip(t.strip()) for t in text.split("-", 1))
                    if first.version != last.version or first.value > last.value:
                        raise AddressError(f"malformed address range {text!r}")
                    rng = IPRange(first.version, first.value, last.value)
                else:
                    rng = parse_cidr(text)
            except AddressError as exc:
                raise self.fail(where, f"{what}: {exc}") from None
            return Selector(SelectorKind.CIDR, str(rng), (rng,))
        if allow_zone:
            raise self.fail(
                where,
                f"{what}: unknown zone or node {text!r} (expected a zone, a node, a CIDR or 'any')"
                + did_you_mean(text, [*self.zones, *self.nodes]),
            )
        raise self.fail(
            where,
            f"{what}: unknown node {text!r} (expected a node or an address)"
            + did_you_mean(text, self.nodes),
        )

    def selectors(self, value: Any, where: tuple[str | int, ...], what: str) -> Selector:
        """A permit endpoint: one selector, or a list of them (their union)."""
        if not isinstance(value, list):
            return self.selector(value, where, what)
        if not value:
            raise self.fail(where, f"{what}: an empty list selects nothing")
        parts = [self.selector(v, (*where, i), what) for i, v in enumerate(value)]
        if len(parts) == 1:
            return parts[0]
        if any(p.kind is SelectorKind.ANY for p in parts):
            return Selector(SelectorKind.ANY, "any")
        ranges = tuple(sorted({r for p in parts for r in p.ranges}))
        return Selector(SelectorKind.CIDR, ", ".join(p.name for p in parts), ranges)

    def permit(self, owner: str, value: Any, where: tuple[str | int, ...]) -> Permit:
        what = f"node {owner!r} permit"
        spec = self.mapping(value, where, what)
        self.check_keys(spec, PERMIT_KEYS, where, what)
        if "id" not in spec:
            raise self.fail(where, f"{what}: missing required key 'id'")
        pid = self.string(spec["id"], (*where, "id"), f"{what} id")
        what = f"node {owner!r} permit {pid!r}"
        if pid in self.permit_ids:
            raise self.fail((*where, "id"), f"{what}: duplicate permit id")
        self.permit_ids.add(pid)
        source = self.selectors(spec.get("from", "any"), (*where, "from"), f"{what} from")
        destination = self.selectors(spec.get("to", "any"), (*where, "to"), f"{what} to")
        services = self.service_names(spec.get("service", ANY_SERVICE), (*where, "service"), what)
        return Permit(pid, owner, source, destination, services, self.doc.record_line(where))

    def read_links(self, value: Any) -> tuple[Link, ...]:
        if not isinstance(value, list):
            raise self.fail(("links",), "links must be a list of [a, b] pairs")
        links: list[Link] = []
        seen: set[frozenset[str]] = set()
        for i, pair in enumerate(value):
            where: tuple[str | int, ...] = ("links", i)
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.fail(where, f"link {i + 1}: must be a pair [a, b] of node or zone names")
            a, b = (self.string(p, (*where, j), f"link {i + 1}") for j, p in enumerate(pair))
            for j, end in enumerate((a, b)):
                if end not in self.nodes and end not in self.zones:
                    raise self.fail(
                        (*where, j),
                        f"link {i + 1}: unknown node or zone {end!r}"
                        + did_you_mean(end, [*self.nodes, *self.zones]),
                    )
            if a in self.zones and b in self.zones:
                raise self.fail(
                    where, f"link {i + 1}: joins two zones; a link joins a node to a node or a zone"
                )
            if a == b:
                raise self.fail(where, f"link {i + 1}: joins {a!r} to itself")
            key = frozenset((a, b))
            if key in seen:
                raise self.fail(where, f"link {i + 1}: duplicate link {a!r}--{b!r}")
            seen.add(key)
            links.append(Link(a, b, self.doc.record_line(where)))
        return tuple(links)

    def read_channels(self, value: Any) -> tuple[Channel, ...]:
        if not isinstance(value, list):
            raise self.fail(("channels",), "channels must be a list")
        channels: list[Channel] = []
        ids: set[str] = set()
        for i, raw in enumerate(value):
            where: tuple[str | int, ...] = ("channels", i)
            spec = self.mapping(raw, where, f"channel {i + 1}")
            what = f"channel {clip(spec['id'])}" if "id" in spec else f"channel {i + 1}"
            self.check_keys(spec, CHANNEL_KEYS, where, what)
            for key in CHANNEL_REQUIRED:
                if key not in spec or spec[key] in (None, ""):
                    raise self.fail(where, f"{what}: missing required key {key!r}")
            cid = self.string(spec["id"], (*where, "id"), f"{what} id")
            if cid in ids:
                raise self.fail((*where, "id"), f"{what}: duplicate channel id")
            ids.add(cid)
            source = self.selector(
                spec["from"], (*where, "from"), f"{what} from", allow_zone=False, allow_any=False
            )
            destination = self.selector(
                spec["to"], (*where, "to"), f"{what} to", allow_zone=False, allow_any=False
            )
            services = self.service_names(spec["service"], (*where, "service"), what)
            expires = self.expiry(spec.get("expires"), (*where, "expires"), what)
            channels.append(
                Channel(
                    cid,
                    source,
                    destination,
                    services,
                    self.string(
                        spec["reason"], (*where, "reason"), f"{what} reason", MAX_TEXT_CHARS
                    ),
                    self.optional_text(spec, "approved_by", where, f"{what} approved_by"),
                    self.optional_text(spec, "ticket", where, f"{what} ticket"),
                    expires,
                    self.doc.record_line(where),
                    self.macs(spec, "from_mac", where, what),
                    self.macs(spec, "to_mac", where, what),
                )
            )
        return tuple(channels)

    def macs(
        self, spec: dict[str, Any], key: str, where: tuple[str | int, ...], what: str
    ) -> tuple[str, ...]:
        """A channel end's MAC pin: one address or a list (xx:xx:xx:xx:xx:xx or with '-')."""
        if key not in spec:
            return ()
        raw = spec[key]
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise self.fail((*where, key), f"{what}: {key} lists no MAC address")
        out: list[str] = []
        for i, item in enumerate(items):
            spot = (*where, key, i) if isinstance(raw, list) else (*where, key)
            text = item if isinstance(item, str) else None
            if text is None or MAC.fullmatch(text) is None:
                raise self.fail(
                    spot, f"{what}: {key} {clip(item)} is not a MAC address like 02:00:5e:10:00:01"
                )
            mac = text.lower().replace("-", ":")
            if mac not in out:
                out.append(mac)
        return tuple(out)

    def expiry(self, value: Any, where: tuple[str | int, ...], what: str) -> date | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            try:  # fromisoformat alone would also take 2027-W01 or 20270101
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(where, f"{what}: expiry {clip(value)} is not a date (YYYY-MM-DD)")
