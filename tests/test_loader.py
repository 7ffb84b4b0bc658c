"""The topology loader: exact input errors with file and line, Japanese aliases, JSON, examples."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from segcheck import load_topology, parse_topology
from segcheck.cli import main
from segcheck.errors import TopologyError
from segcheck.loaders import yamldoc
from segcheck.model import TIER_ALIASES, Profile, Tier, Topology, parse_tier

INVALID = "tests/data/topologies/invalid"
ALLOWED_ROLES = (
    "terminal, server, router, l3-switch, firewall, lbo-gateway, screen-transfer, "
    "mail-sanitizer, file-sanitizer, juki-cs, cloud-proxy, mail-relay, dns-resolver, atena, chukan, "
    "update-server, telework-gateway"
)
ALLOWED_TIERS = (
    "mynumber, lgwan, internet, lgwan-network, jukinet, gov-cloud, security-cloud, public-internet"
)
JAPANESE_TIERS = (
    "マイナンバー利用事務系, LGWAN接続系, インターネット接続系, 総合行政ネットワーク, 住基ネット, "
    "ガバメントクラウド, 自治体情報セキュリティクラウド, インターネット"
)

# file in tests/data/topologies/invalid -> (line, message): one small file per defect. A message
# ending in ": " is segcheck's prefix to a syntax error worded by the parser (libyaml, Python's
# json), whose words change between versions: only the prefix, file and line are segcheck's.
INVALID_CASES: dict[str, tuple[int, str]] = {
    "not-utf8.yaml": (4, "file is not UTF-8 text"),
    "not-yaml.yaml": (4, "invalid YAML: "),
    "top-level-list.yaml": (2, "the top level must be a mapping, not a list"),
    "empty.yaml": (1, "the file is empty; a topology is a mapping starting with 'segcheck: 1'"),
    "missing-segcheck.yaml": (1, "missing required key 'segcheck' (the format version, 1)"),
    "unsupported-version.yaml": (
        1,
        "unsupported format version 2 (this segcheck reads version 1)",
    ),
    "unknown-top-key.yaml": (
        4,
        "top level: unknown key 'node' (allowed: segcheck, name, profile, zones, services, "
        "nodes, links, channels, settings, tiers, guideline); did you mean 'nodes'?",
    ),
    "unknown-zone-key.yaml": (
        5,
        "zone 'lg': unknown key 'subnet' (allowed: tier, subnets, label); did you mean 'subnets'?",
    ),
    "unknown-node-key.yaml": (
        8,
        "node 'lg-term-01' (terminal): unknown key 'permit' "
        "(allowed: role, ip, label, usb_block, mfa, edr)",
    ),
    "unknown-role.yaml": (
        7,
        f"node 'fw1': unknown role 'firwall' (allowed: {ALLOWED_ROLES}); did you mean 'firewall'?",
    ),
    "unknown-tier.yaml": (
        4,
        f"zone 'dmz': unknown tier '公開セグメント' (allowed: {ALLOWED_TIERS} "
        f"or their Japanese names: {JAPANESE_TIERS})",
    ),
    "unknown-zone-in-permit.yaml": (
        11,
        "node 'fw1' permit 'FW-10' from: unknown zone or node 'lgw' "
        "(expected a zone, a node, a CIDR or 'any'); did you mean 'lg'?",
    ),
    "unknown-node-in-link.yaml": (7, "link 1: unknown node or zone 'lg-switch'"),
    "unknown-node-in-channel.yaml": (
        10,
        "channel 'CH-1' to: unknown node 'lg-link' (expected a node or an address)",
    ),
    "unknown-service.yaml": (6, "node 'inet-sbc-01': unknown service 'citrix'"),
    "duplicate-yaml-key.yaml": (7, "duplicate key 'lg-term-01'"),
    "duplicate-permit-id.yaml": (13, "node 'fw1' permit 'FW-10': duplicate permit id"),
    "duplicate-channel-id.yaml": (8, "channel 'CH-1': duplicate channel id"),
    "node-named-like-zone.yaml": (6, "node 'lg-mail': name is already used by a zone"),
    "malformed-address.yaml": (5, "node 'lg-term-01': malformed address '10.2.10.300'"),
    "malformed-cidr.yaml": (4, "zone 'inet' subnet: malformed address or CIDR '10.3.0.0/33'"),
    "cidr-host-bits.yaml": (
        7,
        "zone 'lg' subnet: CIDR '10.20.0.1/24' has host bits set (did you mean 10.20.0.0/24?)",
    ),
    "private-address-in-no-zone.yaml": (
        6,
        "node 'lg-printer': address 172.16.5.20 is in no zone and is not a global address; "
        "add its subnet to a zone",
    ),
    "overlapping-tiers.yaml": (
        4,
        "zone 'inet': subnet 10.2.128.0/17 (internet) overlaps 10.2.0.0/16 of zone 'lg' (lgwan)",
    ),
    "same-subnet-two-zones.yaml": (
        4,
        "zone 'lg-servers': subnet 10.2.0.0/16 is declared in zones 'lg-office' and 'lg-servers'",
    ),
    "expiry-not-a-date.yaml": (
        12,
        "channel 'CH-1': expiry '令和9年3月末' is not a date (YYYY-MM-DD)",
    ),
    "channel-missing-reason.yaml": (7, "channel 'CH-1': missing required key 'reason'"),
    "alias-bomb.yaml": (
        7,
        "YAML aliases expand to more than 100000 values (an alias bomb?); write the values out",
    ),
    "nesting-too-deep.yaml": (2, "nesting deeper than 64 levels"),
    "python-object-tag.yaml": (
        2,
        "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    "json-error.json": (5, "invalid JSON: "),
    "json-duplicate-key.json": (8, "duplicate key 'lg-term-01'"),
    "json-unknown-role.json": (
        8,
        f"node 'fw1': unknown role 'firwall' (allowed: {ALLOWED_ROLES}); did you mean 'firewall'?",
    ),
}


def run_check(path: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", path, "--lang", "en"])
    return result.exit_code, result.stdout, result.stderr


def test_every_invalid_file_has_a_case(repo_root: Path) -> None:
    on_disk = {p.name for p in (repo_root / INVALID).iterdir()}
    assert on_disk == set(INVALID_CASES)


@pytest.mark.parametrize("name", sorted(INVALID_CASES))
def test_invalid_topology_exits_2_with_file_and_line(
    name: str, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo_root)
    path = f"{INVALID}/{name}"
    line, message = INVALID_CASES[name]
    expected = f"{path}:{line}: {message}"

    code, out, err = run_check(path)
    assert code == 2
    assert_one_error(err, expected)
    assert out == ""
    assert "Traceback" not in out + err

    # The library raises the same error (and never prints or exits).
    with pytest.raises(TopologyError) as info:
        load_topology(path)
    assert_one_error(f"Error: {info.value}", expected)
    assert info.value.line == line


def assert_one_error(err: str, expected: str) -> None:
    """One `Error:` line: exactly `expected`, or starting with it when it ends in ": "."""
    assert err.count("\n") <= 1 and err.startswith("Error: ")
    if expected.endswith(": "):
        assert err.startswith(f"Error: {expected}") and len(err.strip()) > len(expected) + 7
    else:
        assert err.strip() == f"Error: {expected}"


def test_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamldoc, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.yaml"
    big.write_text(
        "segcheck: 1\nzones:\n  lg: {tier: lgwan, subnets: [10.2.0.0/16]}\n" + "# padding\n" * 200,
        encoding="utf-8",
    )
    code, out, err = run_check(str(big))
    assert code == 2
    assert err.strip() == f"Error: {big}: file is larger than 1000 bytes, the limit for a topology"
    assert "Traceback" not in out + err
    with pytest.raises(TopologyError, match="limit for a topology"):
        parse_topology(big.read_bytes(), str(big))


@pytest.mark.parametrize(
    "text",
    [
        # libyaml's recursive composer segfaults the interpreter on this (200 KB) document;
        # PyYAML >= 6.0.4's libyaml refuses it itself, with its own words.
        "segcheck: 1\nname: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "segcheck: 1\nname: " + "{a: " * 2_000 + "1" + "}" * 2_000 + "\n",
        "segcheck: 1\nname: " + "[" * 1_000 + "]" * 1_000 + "\n",
    ],
    ids=["flow-100000", "flow-mapping-2000", "flow-1000"],
)
def test_deep_flow_nesting_is_an_error_not_a_crash(text: str) -> None:
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "deep.yaml")
    assert str(info.value) == "deep.yaml:2: nesting deeper than 64 levels"


@pytest.mark.parametrize("end", ["", "\n"])
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("cut.yaml", "segcheck: 1\nzones:\n  lg: {tier: lgwan, subnets: [10.2.0.0"),
        ("cut.json", '{"segcheck": 1,\n "zones":\n  {"lg": {"tier": "lgwan",'),
    ],
)
def test_a_file_cut_short_names_its_last_line(name: str, text: str, end: str) -> None:
    with pytest.raises(TopologyError) as info:
        parse_topology((text + end).encode(), name)
    kind = "YAML" if name.endswith(".yaml") else "JSON"
    assert info.value.line == 3 and str(info.value).startswith(f"{name}:3: invalid {kind}: ")


def test_deep_block_nesting_is_an_error_not_a_crash() -> None:
    text = "segcheck: 1\nname:\n" + "".join(f"{' ' * (i + 1)}a:\n" for i in range(2_000))
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "deep.yaml")
    assert str(info.value) == "deep.yaml:66: nesting deeper than 64 levels"


def test_parser_nesting_limit_reads_as_segchecks_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whichever YAML parser refuses deep nesting first, the user reads one message."""
    import yaml

    class LimitedLoader:  # what libyaml >= 0.2.5 raises, wherever its own cap lies
        def __init__(self, text: str) -> None:
            self.mark = yaml.Mark("<unicode string>", 0, 1, 3, None, None)

        def check_event(self) -> bool:
            raise yaml.scanner.ScannerError(
                "while increasing flow level",
                self.mark,
                "exceeded maximum nesting depth",
                self.mark,
            )

        def dispose(self) -> None:
            pass

    monkeypatch.setattr(yamldoc, "_Loader", LimitedLoader)
    with pytest.raises(TopologyError) as info:
        parse_topology(b"segcheck: 1\nname: [[[[]]]]\n", "deep.yaml")
    assert str(info.value) == "deep.yaml:2: nesting deeper than 64 levels"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &r [*r]\n", "x.yaml:1: YAML alias *r refers to a collection that holds it"),
        ("a: *nope\n", "x.yaml:1: YAML alias *nope names no anchor"),
        ("a: 1\n---\nb: 2\n", "x.yaml:2: expected a single YAML document, found several"),
        ("a: {<<: {b: 1}}\n", "x.yaml:1: YAML merge keys (<<) are not supported"),
        ("? [a]\n: b\n", "x.yaml:1: mapping keys must be plain names"),
        ("segcheck: 1.0\nzones: {}\n", "x.yaml:1: unsupported format version 1.0"),
        ("segcheck: true\nzones: {}\n", "x.yaml:1: unsupported format version True"),
        (
            'segcheck: "\\n \\u202e"\nzones: {}\n',
            "x.yaml:1: unsupported format version '\\n \\u202e' (this segcheck reads version 1)",
        ),
        ("hello\n", "x.yaml:1: the top level must be a mapping, not 'hello'"),
        ("segcheck: 1\n\x00\n", "x.yaml:2: file is binary, not YAML or JSON"),
        (
            "segcheck: 1\nzones:\n  lg: {tier: lgwan, subnets: [10.2.0.0/16], label: [a]}\n",
            "x.yaml:3: zone 'lg' label must be text, not a list",
        ),
        (
            "segcheck: 1\nzones:\n  lg:\n    tier: lgwan\n    subnets: []\n",
            "x.yaml:5: zone 'lg': 'subnets' lists no subnet",
        ),
        (
            "segcheck: 1\nzones:\n  mn: {tier: mynumber, subnets: [10.1.0.0/16]}\n"
            "nodes:\n  a: {role: server, ip: 10.1.0.5}\n"
            "channels:\n  - {id: C, from: a, to: 10.1.0.6,\n     service: [], reason: r}\n",
            "x.yaml:8: channel 'C': service lists no service",
        ),
        (
            "segcheck: 1\nzones:\n  lg: {tier: lgwan, subnets: [10.2.0.0/16, 10.2.0.0/16]}\n",
            "x.yaml:3: zone 'lg': subnet 10.2.0.0/16 is listed twice",
        ),
        (
            "segcheck: 1\nzones: {}\nchannels:\n"
            "  - {id: C, from: 8.8.8.8, to: 8.8.4.4, service: dns, reason: r,\n"
            "     expires: 2027-02-30}\n",
            "x.yaml:5: channel 'C': expiry '2027-02-30' is not a date (YYYY-MM-DD)",
        ),
    ],
)
def test_more_yaml_defects(text: str, message: str) -> None:
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "x.yaml")
    assert str(info.value).startswith(message)


def test_anchors_and_aliases_within_limits_load() -> None:
    text = (
        "segcheck: 1\nzones:\n  lg: {tier: lgwan, subnets: [10.2.0.0/16]}\n"
        "  inet: {tier: internet, subnets: [10.3.0.0/16]}\n"
        "nodes:\n"
        "  sbc-1: &sbc {role: screen-transfer, ip: 10.3.10.11, accepts: &proto [rdp, ica]}\n"
        "  fw: {role: firewall, ip: [10.2.0.1, 10.3.0.1],\n"
        "       permit: [{id: P1, from: lg, to: sbc-1, service: *proto}]}\n"
    )
    topology = parse_topology(text.encode(), "x.yaml")
    assert topology.nodes["sbc-1"].accepts == ("ica", "rdp")
    permits = topology.nodes["fw"].permits
    assert permits is not None and permits[0].services == ("ica", "rdp")


def test_yaml_flow_mapping_file_is_not_mistaken_for_json() -> None:
    text = "{segcheck: 1, zones: {lg: {tier: lgwan, subnets: [10.2.0.0/16]}}}\n"
    assert list(parse_topology(text.encode(), "flow.yaml").zones) == ["lg"]


# -- Japanese tier names -----------------------------------------------------------------------

ALIASES_OF = {
    "mynumber": ("マイナンバー利用事務系", "個人番号利用事務系", "基幹系"),
    "lgwan": ("LGWAN接続系", "総合行政ネットワーク接続系", "情報系"),
    "internet": ("インターネット接続系",),
}
ALIAS_TEMPLATE = """\
segcheck: 1
name: 別名の確認
profile: alpha
zones:
  mn-a: {{tier: {mn0}, subnets: [10.1.0.0/16]}}
  mn-b: {{tier: {mn1}, subnets: [10.4.0.0/16]}}
  mn-c: {{tier: {mn2}, subnets: [10.5.0.0/16]}}
  lg-a: {{tier: {lg0}, subnets: [10.2.0.0/16]}}
  lg-b: {{tier: {lg1}, subnets: [10.6.0.0/16]}}
  lg-c: {{tier: {lg2}, subnets: [10.7.0.0/16]}}
  inet: {{tier: {in0}, subnets: [10.3.0.0/16]}}
nodes:
  mn-term: {{role: terminal, ip: 10.1.10.11, usb_block: true, mfa: true}}
  lg-term: {{role: terminal, ip: 10.6.10.11}}
  sbc: {{role: screen-transfer, ip: 10.3.10.11}}
  fw:
    role: firewall
    ip: [10.1.0.1, 10.2.0.1, 10.3.0.1]
    permit:
      - {{id: FW-1, from: lg-b, to: sbc, service: rdp}}
"""


def _alias_text(japanese: bool) -> str:
    values: dict[str, str] = {}
    for short, tier in (("mn", "mynumber"), ("lg", "lgwan"), ("in", "internet")):
        names = ALIASES_OF[tier]
        for i in range(3):
            values[f"{short}{i}"] = names[min(i, len(names) - 1)] if japanese else tier
    return ALIAS_TEMPLATE.format(**values)


def _apart_from_source(topology: Topology) -> Topology:
    return dataclasses.replace(
        topology, source=dataclasses.replace(topology.source, path="", sha256="")
    )


def test_japanese_tier_names_load_to_the_same_model() -> None:
    english = parse_topology(_alias_text(False).encode(), "en.yaml")
    japanese = parse_topology(_alias_text(True).encode(), "ja.yaml")
    assert _alias_text(False) != _alias_text(True)
    assert {z.tier for z in japanese.zones.values()} == {Tier.MYNUMBER, Tier.LGWAN, Tier.INTERNET}
    assert _apart_from_source(english) == _apart_from_source(japanese)


@pytest.mark.parametrize(
    ("alias", "tier"),
    [(alias, tier) for tier, aliases in ALIASES_OF.items() for alias in aliases],
)
def test_each_spec_alias_names_its_tier(alias: str, tier: str) -> None:
    assert parse_tier(alias) is Tier(tier)
    assert TIER_ALIASES[alias] is Tier(tier)


def test_jouhoukei_is_never_the_internet_tier() -> None:
    # domain.md §3.1: before 2015 情報系 meant LGWAN + Internet; it maps to lgwan only.
    assert parse_tier("情報系") is Tier.LGWAN


def test_an_example_written_with_japanese_tier_names(topologies_dir: Path) -> None:
    text = (topologies_dir / "alpha.yaml").read_text(encoding="utf-8")
    japanese = (
        text.replace("tier: mynumber", "tier: 個人番号利用事務系")
        .replace("tier: lgwan\n", "tier: 総合行政ネットワーク接続系\n")
        .replace("tier: internet\n", "tier: インターネット接続系\n")
    )
    assert japanese.count("個人番号利用事務系") == 2
    english_model = parse_topology(text.encode(), "alpha.yaml")
    japanese_model = parse_topology(japanese.encode(), "alpha.yaml")
    assert _apart_from_source(english_model) == _apart_from_source(japanese_model)


# -- JSON ----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """YAML-loaded data as JSON-ready plain values (dates as ISO text)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _without_lines(value: Any) -> Any:
    """A model value with every `line` dropped (JSON topologies keep no model lines)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: None if f.name == "line" else _without_lines(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, Mapping):
        return {k: _without_lines(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_without_lines(v) for v in value)
    return value


EXAMPLES = ("alpha", "alpha-prime", "beta", "beta-prime", "four-tier", "spec-example")


@pytest.mark.parametrize("name", EXAMPLES)
def test_json_version_of_an_example_loads_to_the_same_model(
    name: str, topologies_dir: Path, tmp_path: Path
) -> None:
    source = topologies_dir / f"{name}.yaml"
    data = _plain(yamldoc.load_document(str(source), source.read_bytes()).data)
    as_json = tmp_path / f"{name}.json"
    as_json.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    from_yaml = load_topology(source)
    from_json = load_topology(as_json)
    assert from_json.source.kind == "topology"
    assert _without_lines(_apart_from_source(from_yaml)) == _without_lines(
        _apart_from_source(from_json)
    )


def test_json_errors_are_located_by_line(tmp_path: Path) -> None:
    doc = {
        "segcheck": 1,
        "zones": {"lg": {"tier": "lgwan", "subnets": ["10.2.0.0/16"]}},
        "nodes": {"lg-term": {"role": "terminal", "ip": "172.16.0.1"}},
    }
    path = tmp_path / "t.json"
    text = json.dumps(doc, indent=2)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TopologyError) as info:
        load_topology(path)
    assert info.value.line == text.splitlines().index('      "ip": "172.16.0.1"') + 1
    assert "address 172.16.0.1 is in no zone" in str(info.value)


# -- the bundled examples ----------------------------------------------------------------------

EXPECTED_PROFILES = {
    "alpha": Profile.ALPHA,
    "alpha-prime": Profile.ALPHA_PRIME,
    "beta": Profile.BETA,
    "beta-prime": Profile.BETA_PRIME,
    "four-tier": Profile.ALPHA,
    "spec-example": Profile.ALPHA,
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_load(name: str, topologies_dir: Path) -> None:
    topology = load_topology(topologies_dir / f"{name}.yaml")
    assert topology.profile is EXPECTED_PROFILES[name]
    tiers = {zone.tier for zone in topology.zones.values()}
    assert {Tier.MYNUMBER, Tier.LGWAN, Tier.INTERNET} <= tiers
    for channel in topology.channels:
        assert channel.reason and channel.approved_by and channel.ticket
        assert channel.expires is not None and channel.expires >= date(2027, 3, 31)


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_are_clean(name: str, topologies_dir: Path) -> None:
    """topologies/README.md: every example checks clean (exit 0, no finding at all)."""
    pytest.importorskip("segcheck.analysis.paths")
    from segcheck.engine import check

    report = check(topologies_dir / f"{name}.yaml", today=date(2026, 11, 22))
    assert [(f.rule, f.src, f.dst) for f in report.findings] == []
    assert {f.channel for f in report.excepted} == {c.id for c in report.topology.channels}


def test_alpha_prime_breakout_is_a_finding_under_alpha(topologies_dir: Path) -> None:
    pytest.importorskip("segcheck.analysis.paths")
    from segcheck.engine import check

    text = (topologies_dir / "alpha-prime.yaml").read_text(encoding="utf-8")
    text = text.replace("profile: alpha-prime\n", "profile: alpha\n")
    report = check(parse_topology(text.encode(), "alpha-on-alpha.yaml"), today=date(2026, 11, 22))
    assert {f.rule for f in report.findings} == {"LG-NO-INTERNET"}
    # the gateway itself, and the paths through it (issue 12)
    assert all("lg-lbo" in f.path or f.node == "lg-lbo" for f in report.findings)
    assert any(f.node == "lg-lbo" for f in report.findings)


def test_yaml_names_and_register_fields_keep_their_text(tmp_path: Path) -> None:
    """YAML 1.1 would read `no:` as False, 0100 as 64 and 0x1F as 31; names stay as written."""
    topo_file = tmp_path / "t.yaml"
    topo_file.write_text(
        "segcheck: 1\n"
        "zones:\n"
        "  mn: {tier: mynumber, subnets: [10.1.0.0/16]}\n"
        "  no: {tier: lgwan, subnets: [10.2.0.0/16]}\n"
        "nodes:\n"
        "  mn-atena: {role: server, ip: 10.1.20.20}\n"
        "  lg-srv: {role: server, ip: 10.2.0.9}\n"
        "channels:\n"
        "  - {id: 0100, from: mn-atena, to: lg-srv, service: https, reason: 1e3,\n"
        "     ticket: 012345, approved_by: 0x1F}\n",
        encoding="utf-8",
    )
    topo = load_topology(topo_file)
    assert "no" in topo.zones
    [channel] = topo.channels
    assert (channel.id, channel.reason, channel.ticket, channel.approved_by) == (
        "0100",
        "1e3",
        "012345",
        "0x1F",
    )


def test_json_integer_too_long_is_an_input_error(tmp_path: Path) -> None:
    topo_file = tmp_path / "t.json"
    topo_file.write_text('{\n  "segcheck": 1,\n  "name": ' + "1" * 5000 + "\n}", encoding="utf-8")
    with pytest.raises(TopologyError) as info:
        load_topology(topo_file)
    assert str(info.value) == f"{topo_file}:3: number with more than 4300 digits"


@pytest.mark.parametrize(
    "number",
    ["0x" + "f" * 5000, "0" + "7" * 5000, "0b" + "1" * 20_000, "1" + ":59" * 3000, "9" * 5000],
    ids=["hex", "octal", "binary", "sexagesimal", "decimal"],
)
def test_yaml_integer_of_thousands_of_digits_is_an_input_error(number: str, tmp_path: Path) -> None:
    """Python refuses to convert ints over 4,300 digits; segcheck reads them as written."""
    with pytest.raises(TopologyError) as info:
        parse_topology(f"segcheck: 1\nname: {number}\nzones: {{}}\n".encode(), "x.yaml")
    assert str(info.value) == f"x.yaml:2: name is {len(number)} characters long (the limit is 1024)"
    text = f"segcheck: 1\nzones: {{}}\nservices:\n  s: {{tcp: [{number}]}}\n"
    code, out, err = run_check_text(tmp_path, text)
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and err.count("\n") == 1 and len(err) < 300
    assert ":4: service 's': tcp port " in err and "is not a number from 1 to 65535" in err


def run_check_text(tmp_path: Path, text: str) -> tuple[int, str, str]:
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    return run_check(str(tmp_path / "t.yaml"))


def _json_with_node_error(**extra: Any) -> str:
    """JSON whose error (a node address in no zone) comes after `extra` in the text."""
    doc = {
        "segcheck": 1,
        "zones": {"lg": {"tier": "lgwan", "subnets": ["10.2.0.0/16"], **extra}},
        "nodes": {"lg-term": {"role": "terminal", "ip": "172.16.0.1"}},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


@pytest.mark.parametrize(
    "extra",
    [
        {"label": "😀 emoji"},  # written below as a surrogate-pair escape, which YAML refuses
        {"label": "a/b"},  # written as "a\\/b"
        {"label": 'quote " and \\ backslash'},
        {"label": "x" * 1000},
    ],
    ids=["surrogate-pair", "solidus", "quote-backslash", "long"],
)
def test_json_errors_keep_their_line_whatever_the_escapes(extra: dict[str, str]) -> None:
    text = _json_with_node_error(**extra)
    text = text.replace("😀", "\\ud83d\\ude00").replace("a/b", "a\\/b")
    want = text.splitlines().index('      "ip": "172.16.0.1"') + 1
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "t.json")
    assert info.value.line == want
    assert "address 172.16.0.1 is in no zone" in str(info.value)


@pytest.mark.parametrize("depth", [63, 100, 900])
def test_json_errors_keep_their_line_whatever_the_nesting(depth: int) -> None:
    """A nested value the validation reaches after the error does not lose the error's line."""
    doc = json.loads(_json_with_node_error())
    doc["channels"] = json.loads("[" * depth + "]" * depth)
    text = json.dumps(doc, indent=1)
    want = text.splitlines().index('   "ip": "172.16.0.1"') + 1
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "t.json")
    assert info.value.line == want


def test_json_too_deep_for_the_parser_is_located() -> None:
    text = '{\n"segcheck": 1,\n"name":\n' + "[" * 100_000 + "]" * 100_000 + "\n}"
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "t.json")
    assert str(info.value) == "t.json:4: nesting deeper than 64 levels"


def test_json_duplicate_key_after_escapes_is_located() -> None:
    text = '{"segcheck": 1,\n "name": "\\ud83d\\ude00 \\/",\n "zones": {},\n "zones": {}}'
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "t.json")
    assert str(info.value) == "t.json:4: duplicate key 'zones'"


# -- lengths and characters of names and texts -------------------------------------------------

_ZONE = "segcheck: 1\nzones:\n  {name}: {{tier: lgwan, subnets: [10.0.0.0/8], label: {label}}}\n"


@pytest.mark.parametrize(
    ("name", "label", "message"),
    [
        ("z" * 257, "ok", "zone name is 257 characters long (the limit is 256)"),
        ("lg", "あ" * 1025, "zone 'lg' label is 1025 characters long (the limit is 1024)"),
        ("lg", "x" * 16_000, "zone 'lg' label is 16000 characters long (the limit is 1024)"),
    ],
    ids=["name-257", "label-1025", "label-16000"],
)
def test_over_long_names_and_labels_are_refused(name: str, label: str, message: str) -> None:
    """Graphviz cannot draw a label of about 16,000 characters; names are kept short enough
    for every report to show them whole."""
    with pytest.raises(TopologyError) as info:
        parse_topology(_ZONE.format(name=name, label=label).encode(), "t.yaml")
    assert str(info.value) == f"t.yaml:3: {message}"


def test_names_and_labels_at_the_limits_load() -> None:
    topo = parse_topology(_ZONE.format(name="z" * 256, label="あ" * 1024).encode(), "t.yaml")
    assert topo.zones["z" * 256].label == "あ" * 1024


@pytest.mark.parametrize(
    ("where", "text", "message"),
    [
        ("nodes", "  n: {role: server, ip: 10.0.0.1, label: %s}\n", "node 'n' label"),
        ("nodes", "  %s: {role: server, ip: 10.0.0.1}\n", "node name"),
        ("services", "  %s: {tcp: 1}\n", "service name"),
        (
            "channels",
            "  - {id: C, from: a, to: b, service: ssh, reason: r, ticket: %s}\n",
            "channel 'C' ticket",
        ),
        (
            "channels",
            "  - {id: C, from: a, to: b, service: ssh, reason: %s}\n",
            "channel 'C' reason",
        ),
        ("channels", "  - {id: %s, from: a, to: b, service: ssh, reason: r}\n", "channel"),
    ],
)
def test_every_name_and_text_is_limited(where: str, text: str, message: str) -> None:
    head = "segcheck: 1\nzones:\n  z: {tier: lgwan, subnets: [10.0.0.0/8]}\n"
    nodes = "nodes:\n  a: {role: server, ip: 10.0.0.2}\n  b: {role: server, ip: 10.0.0.3}\n"
    size = 300 if message.endswith("name") else 2000  # a YAML key holds at most 1024
    body = f"{where}:\n" + text % ("y" * size)
    doc = head + (body + nodes if where == "channels" else body if where == "nodes" else body)
    with pytest.raises(TopologyError) as info:
        parse_topology(doc.encode(), "t.yaml")
    assert message in str(info.value) and f"{size} characters long (the limit is" in str(info.value)
    assert len(str(info.value)) < 200


BIDI = [
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]


@pytest.mark.parametrize("char", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidirectional_controls_are_refused(char: str) -> None:
    """An RTL override makes `fw-gnp` show as `fw-png`: a name must read as what it is."""
    code = f"U+{ord(char):04X}"
    text = _ZONE.format(name=f'"lg{char}"', label="x")
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "t.yaml")
    assert (
        str(info.value)
        == f"t.yaml:3: zone name contains the bidirectional control character {code}"
    )
    text = _ZONE.format(name="lg", label=f'"abc{char}def"')
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "t.yaml")
    assert (
        str(info.value)
        == f"t.yaml:3: zone 'lg' label contains the bidirectional control character {code}"
    )


@pytest.mark.parametrize(
    ("char", "code"), [("\x16", "U+0016"), ("\x7f", "U+007F"), ("\ufffe", "U+FFFE")]
)
def test_characters_yaml_cannot_hold_are_one_located_error(char: str, code: str) -> None:
    """libyaml's reader error spans two lines and has no line: segcheck names both."""
    text = f"segcheck: 1\nname: é{char}\nzones: {{}}\n"
    with pytest.raises(TopologyError) as info:
        parse_topology(text.encode(), "t.yaml")
    assert str(info.value) == f"t.yaml:2: the character {code} is not allowed in YAML"


def test_other_format_characters_still_load() -> None:
    """Zero-width joiners and variation selectors are part of ordinary Japanese and emoji text."""
    topo = parse_topology(
        _ZONE.format(name="lg", label='"葛\U000e0100城 👨\u200d💻"').encode(), "t.yaml"
    )
    assert topo.zones["lg"].label == "葛\U000e0100城 👨\u200d💻"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'segcheck: 1\nzones:\n  a: {tier: lgwan, subnets: [10.0.0.0/8], label: "x\\u0001"}\n',
            "t.yaml:3: zone 'a' label contains the control character U+0001",
        ),
        (
            'segcheck: 1\nzones:\n  "a\\u0007": {tier: lgwan, subnets: [10.0.0.0/8]}\n',
            "t.yaml:3: zone name contains the control character U+0007",
        ),
    ],
)
def test_control_characters_are_refused(text: str, message: str) -> None:
    """Names and texts end up in SVG, HTML, SARIF and JUnit: XML 1.0 cannot carry these."""
    with pytest.raises(TopologyError) as err:
        parse_topology(text.encode(), "t.yaml")
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("{lgwan_gov_cloud_link: sometimes}", "'sometimes' is not one of filtered, forbidden"),
        ("{lgwan_gov_cloud_link: true}", "true is not one of filtered, forbidden"),
        ("{lgwan_gov_link: forbidden}", "did you mean 'lgwan_gov_cloud_link'?"),
        ("[lgwan_gov_cloud_link]", "settings must be a mapping"),
    ],
)
def test_bad_settings_are_input_errors(settings: str, message: str) -> None:
    """Profile settings (issue 17): known keys, allowed values, file and line."""
    text = (
        f"segcheck: 1\nzones: {{a: {{tier: lgwan, subnets: [10.0.0.0/8]}}}}\nsettings: {settings}\n"
    )
    with pytest.raises(TopologyError) as err:
        parse_topology(text.encode(), "s.yaml")
    assert str(err.value).startswith("s.yaml:3: ")
    assert message in str(err.value)


def test_settings_are_kept_as_given() -> None:
    text = b"segcheck: 1\nzones: {}\nsettings: {lgwan_gov_cloud_link: forbidden}\n"
    assert parse_topology(text, "s.yaml").settings == {"lgwan_gov_cloud_link": "forbidden"}
    assert parse_topology(b"segcheck: 1\nzones: {}\n", "s.yaml").settings == {}


@pytest.mark.parametrize(
    ("upstream", "message"),
    [
        ("nowhere", "s.yaml:4: node 'wsus' upstream: unknown node 'nowhere'"),
        ("[]", "s.yaml:4: node 'wsus' upstream: lists nothing"),
        ("lg", "s.yaml:4: node 'wsus' upstream: 'lg' is a zone; name a node or an address"),
    ],
)
def test_bad_upstream_is_an_input_error(upstream: str, message: str) -> None:
    """An update server's upstream names nodes, addresses or offline (issue 17)."""
    text = (
        "segcheck: 1\nzones: {lg: {tier: lgwan, subnets: [10.2.0.0/16]}}\nnodes:\n"
        f"  wsus: {{role: update-server, ip: 10.2.0.40, upstream: {upstream}}}\n"
    )
    with pytest.raises(TopologyError) as err:
        parse_topology(text.encode(), "s.yaml")
    assert str(err.value).startswith(message)


def test_upstream_is_read() -> None:
    text = (
        b"segcheck: 1\nzones: {lg: {tier: lgwan, subnets: [10.2.0.0/16]}}\nnodes:\n"
        b"  a: {role: update-server, ip: 10.2.0.40, upstream: [b, 198.18.0.40, offline]}\n"
        b"  b: {role: server, ip: 10.2.0.41}\n"
    )
    node = parse_topology(text, "s.yaml").nodes["a"]
    assert [u.name for u in node.upstream] == ["b", "198.18.0.40"]
    assert node.settings["offline_updates"] is True
