"""`segcheck init --from-ledger`: zones and nodes from an IP address ledger (IPアドレス管理表).

A ledger is a table a municipality already keeps: host name, IP address, 系統, 種別, 設置場所,
状態 (docs/research/next-phase.md §2). A map file (`segcheck-import: 1`) says which column is
which, what each 系統 and 種別 value means, and the zones with their tiers and subnets. The
ledger is read the way policy tables are (segcheck.loaders.configs.table): the encoding ladder
BOM → strict UTF-8 → strict CP932 (never `shift_jis`, which lacks ① ㈱ 髙 ～), UTF-16 as Excel's
"Unicode text" (tab-separated), .xlsx through the `xlsx` extra; cells are NFKC-normalised, so
full-width digits and half-width katakana read as written.

Nothing is guessed: a 系統 value maps to a zone only through the map, and 情報系, which some
municipalities use for LGWAN接続系 and others for the Internet tier (domain.md §3.1), must be
listed under `ambiguous_ok` before any mapping of it is accepted. A row that cannot be mapped
(unknown 系統 or 種別, a malformed address, an address in no zone or in another zone than its
系統 says, one address under two names) is never dropped silently: the import fails listing
every such row as `file:line: column=value: reason`, or, with `allow_unmapped`, writes the
rest and lists them in the output's header. The output is deterministic YAML that loads in
`segcheck check`; permits are not in a ledger and are left to the user.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, TopologyError
from ..messages import did_you_mean, localize
from ..model import Role, parse_tier
from .configs.table import Row, column_letter, csv_rows, is_xlsx, normalise, xlsx_sheets
from .yamldoc import Document, load_document, read_limited

MAP_VERSION = 1
MAP_KEYS = (
    "segcheck-import",
    "name",
    "profile",
    "columns",
    "skip",
    "values",
    "zones",
    "defaults",
    "ambiguous_ok",
)
FIELDS = ("name", "ip", "zone", "role", "label", "status")
HEADER_SCAN = 30  # rows searched for the header (the network address often sits above it)
# Header aliases, compared NFKC-normalised, without spaces and case (the map's come first).
DEFAULT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "name": ("ホスト名", "端末名", "機器名", "コンピュータ名", "コンピューター名", "hostname",
             "host name", "host"),
    "ip": ("IPアドレス", "IPv4アドレス", "IP", "IP address", "address"),
    "zone": ("系統", "ネットワーク区分", "セグメント", "network", "segment"),
    "role": ("種別", "機器種別", "種類", "role", "type"),
    "label": ("設置場所", "利用部門", "部署", "location", "department"),
    "status": ("状態", "ステータス", "status"),
}  # fmt: skip
# 種別 words a ledger uses for roles; the map's `values.role` goes first.
DEFAULT_ROLES: Mapping[str, str] = {
    **{role.value: role.value for role in Role},
    "端末": "terminal", "pc": "terminal", "パソコン": "terminal", "クライアント": "terminal",
    "サーバ": "server", "サーバー": "server",
    "ルータ": "router", "ルーター": "router",
    "l3sw": "l3-switch", "l3スイッチ": "l3-switch",
    "fw": "firewall", "ファイアウォール": "firewall",
}  # fmt: skip
AMBIGUOUS = frozenset({normalise("情報系")})
ENCODINGS = ("auto", "utf-8", "cp932", "utf-16")


@dataclass(frozen=True, slots=True)
class Unmapped:
    """One ledger row that could not become part of the topology, and why."""

    where: str  # file:line, or file!Sheet:row
    column: str
    value: str
    reason: str

    def text(self, lang: str) -> str:
        """`where: column=value: reason`, the reason in `lang`."""
        return f"{self.where}: {self.column}={self.value}: {localize(self.reason, lang)}"


class LedgerError(InputError):
    """Rows of a ledger that cannot be mapped: all of them, each with its file and line."""

    def __init__(self, path: str, rows: Sequence[Unmapped], line: int | None) -> None:
        self.rows = tuple(rows)
        lines = "\n".join(f"  {row.text('en')}" for row in self.rows)
        super().__init__(path, f"{len(self.rows)} row(s) cannot be mapped:\n{lines}", line)

    def localized(self, lang: str) -> str:
        head = localize(f"{len(self.rows)} row(s) cannot be mapped:", lang)
        return "\n".join([f"{self.where}: {head}", *(f"  {r.text(lang)}" for r in self.rows)])


@dataclass(frozen=True)
class ZoneSpec:
    """A zone of the map, as the output writes it."""

    name: str
    tier: str
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    label: str | None = None


@dataclass(frozen=True)
class LedgerMap:
    """A validated map file."""

    path: str
    sha256: str
    name: str | None
    profile: str
    columns: Mapping[str, tuple[str, ...]]
    skip: frozenset[str]
    zone_values: Mapping[str, str]  # normalised 系統 value -> zone
    role_values: Mapping[str, str]  # normalised 種別 value -> role
    zones: tuple[ZoneSpec, ...]
    default_role: str | None


@dataclass
class _Node:
    name: str
    role: str
    addresses: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    zone: str | None = None


@dataclass(frozen=True)
class LedgerImport:
    """What an import made: the YAML text and what it read."""

    text: str
    nodes: int
    rows: int
    skipped: int
    unmapped: tuple[Unmapped, ...]
    encoding: str


# --- the map ------------------------------------------------------------------------------------


class _MapReader:
    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def fail(self, where: tuple[str | int, ...], message: str) -> TopologyError:
        return self.doc.error(where, f"map: {message}")

    def mapping(self, value: Any, where: tuple[str | int, ...]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, f"{'.'.join(map(str, where))} must be a key: value mapping")
        return value

    def words(self, value: Any, where: tuple[str | int, ...]) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                spot = (*where, i) if isinstance(value, list) else where
                raise self.fail(spot, f"{'.'.join(map(str, where))} must be text or a list of text")
            out.append(str(item))
        return tuple(out)


def read_map(path: str) -> LedgerMap:
    """Read and validate a map file (TopologyError with its line on any defect)."""
    try:
        with open(path, "rb") as stream:
            raw = read_limited(path, stream)
    except FileNotFoundError:
        raise TopologyError(path, "no such file") from None
    except OSError as exc:
        raise TopologyError(path, f"cannot read: {exc.strerror}") from None
    doc = load_document(path, raw)
    r = _MapReader(doc)
    data = r.mapping(doc.data, ())
    for key in data:
        if key not in MAP_KEYS:
            raise r.fail((key,), f"unknown key {key!r}" + did_you_mean(str(key), MAP_KEYS))
    if data.get("segcheck-import") != MAP_VERSION:
        raise r.fail(("segcheck-import",), "the first key must be 'segcheck-import: 1'")
    columns: dict[str, tuple[str, ...]] = {}
    for key, value in r.mapping(data.get("columns"), ("columns",)).items():
        if key not in FIELDS:
            raise r.fail(
                ("columns", key), f"unknown field {key!r}" + did_you_mean(str(key), FIELDS)
            )
        columns[key] = r.words(value, ("columns", key))
    for key, value in DEFAULT_COLUMNS.items():
        columns[key] = (*columns.get(key, ()), *value)
    skip: set[str] = set()
    for key, value in r.mapping(data.get("skip"), ("skip",)).items():
        if key != "status":
            raise r.fail(("skip", key), "only 'status' values can be skipped")
        skip.update(normalise(v) for v in r.words(value, ("skip", key)))
    zones: list[ZoneSpec] = []
    raw_zones = r.mapping(data.get("zones"), ("zones",))
    if not raw_zones:
        raise r.fail(
            ("zones",), "missing required key 'zones' (each zone with its tier and subnets)"
        )
    for name, spec in raw_zones.items():
        where: tuple[str | int, ...] = ("zones", name)
        spec = r.mapping(spec, where)
        tier = str(spec.get("tier", ""))
        if parse_tier(tier) is None:
            raise r.fail((*where, "tier"), f"zone {name!r}: unknown tier {tier!r}")
        networks = []
        for i, text in enumerate(r.words(spec.get("subnets", []), (*where, "subnets"))):
            try:
                networks.append(ipaddress.ip_network(text))
            except ValueError:
                raise r.fail(
                    (*where, "subnets", i), f"zone {name!r}: malformed subnet {text!r}"
                ) from None
        if not networks:
            raise r.fail(where, f"zone {name!r}: missing required key 'subnets'")
        label = spec.get("label")
        zones.append(ZoneSpec(name, tier, tuple(networks), None if label is None else str(label)))
    zone_names = {z.name for z in zones}
    values = r.mapping(data.get("values"), ("values",))
    ambiguous_ok = {
        normalise(v) for v in r.words(data.get("ambiguous_ok") or [], ("ambiguous_ok",))
    }
    zone_values: dict[str, str] = {}
    for key, zone in r.mapping(values.get("zone"), ("values", "zone")).items():
        where = ("values", "zone", key)
        if str(zone) not in zone_names:
            raise r.fail(
                where,
                f"{key}: {zone!r} is not a zone of 'zones:'" + did_you_mean(str(zone), zone_names),
            )
        if normalise(key) in AMBIGUOUS and normalise(key) not in ambiguous_ok:
            raise r.fail(
                where,
                f"{key} is ambiguous (LGWAN接続系 in some municipalities, the Internet tier in "
                "others): list it under 'ambiguous_ok' to map it",
            )
        zone_values[normalise(key)] = str(zone)
    role_values = {normalise(k): v for k, v in DEFAULT_ROLES.items()}
    for key, role in r.mapping(values.get("role"), ("values", "role")).items():
        if str(role) not in DEFAULT_ROLES or str(role) != DEFAULT_ROLES[str(role)]:
            allowed = [x.value for x in Role]
            raise r.fail(
                ("values", "role", key),
                f"{key}: unknown role {role!r}" + did_you_mean(str(role), allowed),
            )
        role_values[normalise(key)] = str(role)
    default_role = r.mapping(data.get("defaults"), ("defaults",)).get("role")
    if default_role is not None and str(default_role) not in {x.value for x in Role}:
        raise r.fail(("defaults", "role"), f"unknown role {default_role!r}")
    return LedgerMap(
        path,
        hashlib.sha256(raw).hexdigest(),
        None if data.get("name") is None else str(data["name"]),
        str(data.get("profile", "alpha")),
        columns,
        frozenset(skip),
        zone_values,
        role_values,
        tuple(zones),
        None if default_role is None else str(default_role),
    )


# --- the ledger ---------------------------------------------------------------------------------


def decode_ledger(data: bytes, file: str, encoding: str = "auto") -> tuple[str, str]:
    """The text of a CSV/TSV ledger and the encoding read (InputError with line and byte)."""
    if encoding == "auto":
        from .configs.table import decode_table

        try:
            return decode_table(data, file)
        except InputError as exc:
            raise InputError(file, exc.detail, exc.line) from None
    codec = {"utf-8": "utf-8-sig", "cp932": "cp932", "utf-16": "utf-16"}[encoding]
    try:
        return data.decode(codec), codec
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(file, f"not {encoding} text: byte {exc.start}", line) from None


def _cell(text: str) -> str:
    """A cell as meant: NFKC (full-width digits, half-width kana), no outer blanks."""
    return unicodedata.normalize("NFKC", text).strip()


def _raw(row: Row, cols: Mapping[str, int], name: str) -> str:
    """A cell as written, without outer blanks (ideographic spaces too)."""
    i = cols.get(name)
    return row.cells[i].strip() if i is not None and i < len(row.cells) else ""


def _header(
    rows: Sequence[Row], columns: Mapping[str, tuple[str, ...]]
) -> tuple[int, dict[str, int]] | None:
    aliases = {field: {normalise(a) for a in names} for field, names in columns.items()}
    for index, row in enumerate(rows[:HEADER_SCAN]):
        found: dict[str, int] = {}
        for i, cell in enumerate(row.cells):
            key = normalise(cell)
            for name in FIELDS:
                if name not in found and key in aliases[name]:
                    found[name] = i
                    break
        if "ip" in found and len(found) >= 2:
            return index, found
    return None


def _sheets(
    path: Path, data: bytes, shown: str, encoding: str, sheet: str | None
) -> tuple[list[tuple[str | None, list[Row]]], str]:
    if is_xlsx(path, data):
        sheets = [(title, rows) for title, rows in xlsx_sheets(data, shown)]
        if sheet is not None:
            chosen = [(t, r) for t, r in sheets if t == sheet]
            if not chosen:
                names = ", ".join(t for t, _ in sheets) or "none"
                raise InputError(shown, f"no sheet {sheet!r} (sheets: {names})")
            return [(t, r) for t, r in chosen], "xlsx"
        return [(t, r) for t, r in sheets], "xlsx"
    text, used = decode_ledger(data, shown, encoding)
    nul = text.find("\x00")
    if nul >= 0:
        raise InputError(shown, "contains a NUL character: not a text table (a binary file?)",
                         text.count("\n", 0, nul) + 1)  # fmt: skip
    tried = ("\t", ",") if used.startswith("utf-16") else (",", "\t")
    for delimiter in tried:
        rows = csv_rows(text, delimiter, shown)
        if any(len(r.cells) > 1 for r in rows[:HEADER_SCAN]):
            return [(None, rows)], used
    return [(None, csv_rows(text, tried[0], shown))], used


def import_ledger(
    path: str,
    ledger_map: LedgerMap,
    *,
    encoding: str = "auto",
    sheet: str | None = None,
    allow_unmapped: bool = False,
) -> LedgerImport:
    """Read a ledger and build the topology YAML (LedgerError listing unmappable rows)."""
    shown = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(shown, "no such file") from None
    except IsADirectoryError:
        raise InputError(shown, "is a directory, not a ledger") from None
    except OSError as exc:
        raise InputError(shown, f"cannot read: {exc.strerror}") from None
    sheets, used = _sheets(Path(path), data, shown, encoding, sheet)
    found = None
    for title, rows in sheets:
        head = _header(rows, ledger_map.columns)
        if head is not None:
            found = (title, rows, head)
            break
    if found is None:
        hint = (
            ""
            if used == "xlsx"
            else f" (read as {used}; if the headers are garbled, try --encoding cp932 or utf-8)"
        )
        raise InputError(
            shown,
            f"no header row naming an IP address column and one more (ホスト名, 系統, 種別…) in the first {HEADER_SCAN} rows{hint}",
            1,
        )
    title, rows, (index, cols) = found
    if "name" not in cols:
        raise InputError(
            shown,
            "the header row names no host name column (ホスト名, 端末名, 機器名)",
            _row_line(rows[index]),
        )
    builder = _Builder(shown, title, ledger_map)
    header_keys = tuple(normalise(c) for c in rows[index].cells)
    for row in rows[index + 1 :]:
        if (
            not any(c.strip() for c in row.cells)
            or tuple(normalise(c) for c in row.cells) == header_keys
        ):
            continue
        builder.add(row, cols)
    if builder.unmapped and not allow_unmapped:
        first = builder.unmapped[0]
        raise LedgerError(shown, builder.unmapped, _line_of(first.where))
    text = builder.render(data, used)
    return LedgerImport(
        text, len(builder.nodes), builder.rows, builder.skipped, tuple(builder.unmapped), used
    )


def _row_line(row: Row) -> int | None:
    return row.line if row.line is not None else row.row


def _line_of(where: str) -> int | None:
    tail = where.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


class _Builder:
    def __init__(self, shown: str, sheet: str | None, ledger_map: LedgerMap) -> None:
        self.shown = shown
        self.sheet = sheet
        self.map = ledger_map
        self.nodes: dict[str, _Node] = {}
        self.owners: dict[str, str] = {}
        self.unmapped: list[Unmapped] = []
        self.rows = 0
        self.skipped = 0

    def where(self, row: Row, column: int | None = None, shown: str | None = None) -> str:
        file = self.shown if shown is None else shown
        if self.sheet is None:
            return f"{file}:{row.line}"
        if column is None:
            return f"{file}!{self.sheet}:{row.row}"
        return f"{file}!{self.sheet}!{column_letter(column)}{row.row}"

    def problem(
        self, row: Row, cols: Mapping[str, int], column: str, value: str, reason: str
    ) -> None:
        header = column
        self.unmapped.append(Unmapped(self.where(row, cols.get(column)), header, value, reason))

    def add(self, row: Row, cols: Mapping[str, int]) -> None:
        def cell(name: str) -> str:
            i = cols.get(name)
            return _cell(row.cells[i]) if i is not None and i < len(row.cells) else ""

        self.rows += 1
        if cols.get("status") is not None and normalise(cell("status")) in self.map.skip:
            self.skipped += 1
            return
        name, ip_text, zone_text, role_text = cell("name"), cell("ip"), cell("zone"), cell("role")
        # names and labels as written (① stays ①); NFKC is for comparing and for addresses
        name = _raw(row, cols, "name")
        if not name:
            self.problem(row, cols, "name", "", "no host name")
            return
        if name in {z.name for z in self.map.zones}:
            self.problem(row, cols, "name", name, "the host name is also a zone's name")
            return
        addresses = [
            a
            for a in ip_text.replace("、", ",").replace("\n", ",").replace(" ", "").split(",")
            if a
        ]
        if not addresses:
            self.problem(row, cols, "ip", ip_text, "no IP address")
            return
        zone_of_value = None
        if zone_text:
            zone_of_value = self.map.zone_values.get(normalise(zone_text))
            if zone_of_value is None:
                reason = (
                    "情報系 is ambiguous (LGWAN接続系 or the Internet tier): map it in "
                    "values.zone and list it under ambiguous_ok"
                    if normalise(zone_text) in AMBIGUOUS
                    else "this 系統 value is not in the map's values.zone"
                )
                self.problem(row, cols, "zone", zone_text, reason)
                return
        role = self.map.default_role
        if role_text:
            role = self.map.role_values.get(normalise(role_text))
            if role is None:
                self.problem(
                    row, cols, "role", role_text, "this 種別 value is not in the map's values.role"
                )
                return
        if role is None:
            self.problem(row, cols, "role", "", "no 種別 and no defaults.role in the map")
            return
        checked: list[str] = []
        zone_names: set[str] = set()
        for text in addresses:
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                self.problem(row, cols, "ip", text, "not an IP address")
                return
            zone = next((z for z in self.map.zones if any(ip in n for n in z.networks)), None)
            if zone_of_value is not None and (zone is None or zone.name != zone_of_value):
                actual = f"zone {zone.name!r}" if zone is not None else "no zone of the map"
                self.problem(
                    row,
                    cols,
                    "ip",
                    text,
                    f"the 系統 says zone {zone_of_value!r} but the address is in {actual}",
                )
                return
            if zone is None and not ip.is_global:
                self.problem(
                    row, cols, "ip", text, "the address is in no zone of the map and is not global"
                )
                return
            owner = self.owners.get(str(ip))
            if owner is not None and owner != name:
                self.problem(row, cols, "ip", text, f"the address is already {owner!r}'s")
                return
            if zone is not None:
                zone_names.add(zone.name)
            checked.append(str(ip))
        node = self.nodes.get(name)
        if node is None:
            node = self.nodes[name] = _Node(name, role)
        elif node.role != role:
            self.problem(
                row, cols, "role", role_text, f"{name!r} has role {node.role!r} on another row"
            )
            return
        for ip_str in checked:
            self.owners[ip_str] = name
            if ip_str not in node.addresses:
                node.addresses.append(ip_str)
        label = _raw(row, cols, "label")
        if label and label not in node.labels:
            node.labels.append(label)
        node.sources.append(self.where(row, shown=Path(self.shown).name))
        if node.zone is None and zone_names:
            node.zone = sorted(zone_names)[0]

    def render(self, data: bytes, encoding: str) -> str:
        m = self.map
        name = m.name or f"{Path(self.shown).stem} (IPアドレス管理表から作成)"
        out = [
            "# segcheck 構成ファイル: IPアドレス管理表から作成 (segcheck init --from-ledger)",
            f"# 台帳: {Path(self.shown).name} (文字コード {encoding}, SHA-256 {hashlib.sha256(data).hexdigest()})",
            f"# 対応表: {Path(m.path).name} (SHA-256 {m.sha256})",
            f"# 取込: {self.rows} 行 → 機器 {len(self.nodes)} 台、対象外 (状態) {self.skipped} 行",
            "# 台帳には許可ルールがありません: 転送機器に permit: を書くか、config: で機器の設定を",
            "# 取り込んでください (permit: のない router・l3-switch はすべてを通し、firewall は何も通しません)。",
        ]
        if self.unmapped:
            out.append(f"# 部分的: 取り込めなかった行 {len(self.unmapped)} 件 (--allow-unmapped)")
            out += [f"#   {u.text('ja')}" for u in self.unmapped]
        out += [
            "segcheck: 1",
            f"name: {_q(name)}",
            f"profile: {_q(m.profile)}",
            "zones:",
        ]
        for z in m.zones:
            subnets = ", ".join(_q(str(n)) for n in z.networks)
            label = f", label: {_q(z.label)}" if z.label else ""
            out.append(f"  {_q(z.name)}: {{tier: {_q(z.tier)}, subnets: [{subnets}]{label}}}")
        out.append("nodes:" if self.nodes else "nodes: {}")
        order = {z.name: i for i, z in enumerate(m.zones)}
        # zone by zone in the map's order, the ledger's order within a zone (a stable sort)
        for node in sorted(self.nodes.values(), key=lambda n: order.get(n.zone or "", len(order))):
            ips = ", ".join(_q(a) for a in node.addresses)
            ips = ips if len(node.addresses) == 1 else f"[{ips}]"
            label = f", label: {_q(' / '.join(node.labels))}" if node.labels else ""
            first, *more = node.sources
            out.append(f"  # {', '.join([first, *(m.rsplit(':', 1)[-1] for m in more)])}")
            out.append(f"  {_q(node.name)}: {{role: {node.role}, ip: {ips}{label}}}")
        return "\n".join(out) + "\n"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one): names and labels never re-typed."""
    return json.dumps(text, ensure_ascii=False)


__all__ = [
    "DEFAULT_COLUMNS",
    "ENCODINGS",
    "LedgerError",
    "LedgerImport",
    "LedgerMap",
    "Unmapped",
    "import_ledger",
    "read_map",
]
