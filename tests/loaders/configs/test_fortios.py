"""FortiOS import: the tokenizer, the CLI replay, and what each configuration must import to.

Public fixtures (Batfish's FortiOS test configurations, ssato's `show` samples; licences in
tests/data/configs/fortios/LICENSES.md) each get a test stating their contexts, rule ids in
order, resolved addresses and services and the issues; small inline configurations pin every
semantic point (objects, negation, order, VDOMs, NAT, what cannot be resolved).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from segcheck.errors import ConfigError
from segcheck.loaders.configs.compile import Cube, compile_context
from segcheck.loaders.configs.fortios import Statement, parse_fortios, tokenize
from segcheck.loaders.configs.fortios_services import FACTORY_SERVICES
from segcheck.loaders.configs.model import (
    ICMP,
    ICMPV6,
    SCTP,
    TCP,
    UDP,
    Action,
    AddressSet,
    Assumption,
    Context,
    ImportStatus,
    ParsedConfig,
    Rule,
    ServiceSet,
)
from segcheck.model import IPRange

DATA = Path(__file__).resolve().parents[2] / "data" / "configs" / "fortios"
BATFISH = DATA / "batfish"
SSATO = DATA / "fortios-xutils"


# --- helpers ---------------------------------------------------------------------------------


def parse_text(text: str | bytes, name: str = "fw.conf") -> ParsedConfig:
    return parse_fortios(Path(name), text, display_name=name)


def parse_file(path: Path, extra: str = "") -> ParsedConfig:
    data = path.read_bytes() + extra.encode()
    return parse_fortios(path, data, display_name=path.name)


def addrs(*texts: str) -> AddressSet:
    """Address set of CIDRs, single addresses and `first-last` ranges."""
    ranges = []
    for text in texts:
        if "-" in text:
            lo, hi = (ipaddress.ip_address(t) for t in text.split("-"))
            ranges.append(IPRange(lo.version, int(lo), int(hi)))
        else:
            net = ipaddress.ip_network(text)
            ranges.append(IPRange(net.version, int(net[0]), int(net[-1])))
    return AddressSet.of(ranges)


def nets(*texts: str) -> tuple[IPRange, ...]:
    """Ranges in the order given (interfaces keep their addresses' order)."""
    return tuple(addrs(t).ranges[0] for t in texts)


def ports(*items: tuple[int, int] | tuple[int, int, int]) -> ServiceSet:
    """(proto, port) or (proto, first, last); a non-ported protocol as (proto, 0, 65535)."""
    return ServiceSet.of(i if len(i) == 3 else (i[0], i[1], i[1]) for i in items)


def ctx(parsed: ParsedConfig, name: str = "root") -> Context:
    found = parsed.context(name)
    assert found is not None, [c.name for c in parsed.contexts]
    return found


def rule(parsed: ParsedConfig, rid: str) -> Rule:
    vdom = rid.split("/")[0]
    return next(r for r in ctx(parsed, vdom).rules if r.id == rid)


def ids(parsed: ParsedConfig, vdom: str = "root") -> list[str]:
    return [r.id for r in ctx(parsed, vdom).rules]


def issues(parsed: ParsedConfig, kind: str) -> list[tuple[int | None, str]]:
    return [(i.origin.line, i.message) for i in parsed.issues if i.kind == kind]


def issue_lines(parsed: ParsedConfig, kind: str) -> list[int | None]:
    return [line for line, _ in issues(parsed, kind)]


def has_issue(parsed: ParsedConfig, kind: str, pattern: str, line: int | None = None) -> bool:
    return any(
        re.search(pattern, msg) and (line is None or at == line) for at, msg in issues(parsed, kind)
    )


IPV4_ALL = addrs("0.0.0.0/0")

POLICY = """\
config firewall policy
    edit {pid}
        set srcintf "{src}"
        set dstintf "{dst}"
        set srcaddr {srcaddr}
        set dstaddr {dstaddr}
        set action {action}
        set service {service}
{extra}    next
end
"""


def policy(
    pid: int,
    *,
    src: str = "any",
    dst: str = "any",
    srcaddr: str = '"all"',
    dstaddr: str = '"all"',
    action: str = "accept",
    service: str = '"ALL"',
    extra: str = "",
) -> str:
    extra = "".join(f"        {line}\n" for line in extra.splitlines())
    return POLICY.format(
        pid=pid,
        src=src,
        dst=dst,
        srcaddr=srcaddr,
        dstaddr=dstaddr,
        action=action,
        service=service,
        extra=extra,
    )


INTERFACES = """\
config system interface
    edit "port1"
        set vdom "root"
        set ip 10.1.0.1 255.255.255.0
        set role lan
    next
    edit "port2"
        set vdom "root"
        set ip 10.2.0.1/24
        set role wan
    next
end
"""


# --- tokenizer -------------------------------------------------------------------------------


def test_tokenizer_words_quotes_and_line_numbers() -> None:
    text = (
        "#config-version=FGT60F-7.0.12:opmode=0:vdom=0:user=admin\n"
        "config firewall address\n"
        "\n"
        '    edit "web server"\n'
        "        set subnet 10.0.0.1 255.255.255.255\n"
        '        set comment ""\n'
        "    next\n"
        "end\n"
    )
    assert tokenize(text) == [
        Statement(2, ("config", "firewall", "address")),
        Statement(4, ("edit", "web server")),
        Statement(5, ("set", "subnet", "10.0.0.1", "255.255.255.255")),
        Statement(6, ("set", "comment", "")),
        Statement(7, ("next",)),
        Statement(8, ("end",)),
    ]


def test_tokenizer_backslash_escapes_and_glued_parts() -> None:
    sts = tokenize(
        'set comments "say \\"hi\\" to C:\\\\temp"\n'
        'rename "new"_service1 to a\\ b\n'
        'set member "a""b" "c"\n'
    )
    assert sts[0].words == ("set", "comments", 'say "hi" to C:\\temp')
    assert sts[1].words == ("rename", "new_service1", "to", "a b")
    assert sts[2].words == ("set", "member", "ab", "c")
    assert all(st.problem is None for st in sts)


def test_tokenizer_multiline_value_keeps_following_line_numbers() -> None:
    text = (
        "config vpn certificate local\n"
        '    edit "cert"\n'
        '        set certificate "-----BEGIN CERTIFICATE-----\n'
        "MIIBszCCAVmgAwIBAgIUQ\n"
        '-----END CERTIFICATE-----"\n'
        '        set comments "two\n'
        'lines" "and more"\n'
        "    next\n"
        "end\n"
    )
    sts = tokenize(text)
    assert [st.line for st in sts] == [1, 2, 3, 6, 8, 9]
    assert sts[2].words[2] == (
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----"
    )
    assert sts[3].words == ("set", "comments", "two\nlines", "and more")


def test_tokenizer_script_value_may_hold_cli_lines() -> None:
    text = (
        'config system auto-script\n    edit "daily"\n'
        '        set script "config system global\nset admintimeout 30\nend\n"\n'
        "    next\nend\n"
    )
    sts = tokenize(text)
    assert sts[2] == Statement(
        3, ("set", "script", "config system global\nset admintimeout 30\nend\n")
    )
    assert [st.line for st in sts] == [1, 2, 3, 7, 8]


def test_tokenizer_malformed_quote_is_read_leniently_and_flagged() -> None:
    # ssato/fortios-xutils sample: a stray quote opens inside a word
    text = '        set service ""HTTPS" "HTTP"\n    next\nend\n'
    sts = tokenize(text)
    assert sts[0].words == ("set", "service", "HTTPS", "HTTP")
    assert sts[0].problem and "quote" in sts[0].problem
    assert [st.words for st in sts[1:]] == [("next",), ("end",)]  # not swallowed


def test_tokenizer_unclosed_quote_does_not_swallow_the_file() -> None:
    sts = tokenize('    set comments "unclosed\n    next\nend\n')
    assert sts[0].problem is not None and sts[0].words == ("set", "comments", "unclosed")
    assert [(st.line, st.words) for st in sts[1:]] == [(2, ("next",)), (3, ("end",))]
    at_eof = tokenize('set comments "never closed\nmore text\n')
    assert at_eof[0].problem is not None
    assert at_eof[1] == Statement(2, ("more", "text"))


def test_crlf_and_bom_are_read() -> None:
    text = ("\ufeff" + INTERFACES + policy(1)).replace("\n", "\r\n").encode("utf-8")
    parsed = parse_text(text)
    assert ids(parsed) == ["root/1"]
    assert ctx(parsed).rules[0].origin.line == 14  # `edit 1`
    assert parsed.status is ImportStatus.PASSED


# --- fatal input -----------------------------------------------------------------------------


def test_not_a_fortios_configuration_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        parse_text("hostname fw1\ninterface eth0\n", "fw.txt")
    assert "fw.txt" in str(err.value) and "FortiOS" in str(err.value)
    with pytest.raises(ConfigError):
        parse_text(b"")


def test_binary_data_is_a_config_error_with_its_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse_text(b"config system global\nend\n\x00\x01\x02garbage", "backup.conf")
    assert err.value.line == 3 and "backup.conf:3" in str(err.value)


def test_invalid_utf8_is_a_warning_not_a_crash() -> None:
    data = INTERFACES.encode() + policy(1, extra='set comments "\xff\xfe"').encode("latin-1")
    parsed = parse_text(data)
    assert ids(parsed) == ["root/1"]
    assert has_issue(parsed, "warning", "UTF-8")


# --- CLI replay ------------------------------------------------------------------------------


def test_repeated_blocks_and_edits_merge_and_setters_apply() -> None:
    text = (
        INTERFACES
        + "config firewall address\n edit a\n  set subnet 10.1.0.5/32\n next\nend\n"
        + "config firewall address\n edit b\n  set subnet 10.1.0.6/32\n next\nend\n"
        + "config firewall addrgrp\n edit g\n  set member a\n  append member b x\n"
        + "  unselect member x\n next\nend\n"
        + policy(1, srcaddr="g", dstaddr="a", extra="set comments one")
        + "config firewall policy\n edit 1\n  unset comments\n  set name again\n next\nend\n"
    )
    parsed = parse_text(text)
    r = rule(parsed, "root/1")
    assert r.source.addresses == addrs("10.1.0.5-10.1.0.6")
    assert r.destination.addresses == addrs("10.1.0.5/32")
    assert r.name == "again"
    assert not issues(parsed, "undefined")


def test_structure_problems_are_issues_not_crashes() -> None:
    text = (
        "FGT01 # show full-configuration\n"
        "next\n"
        "end\n"
        "set hostname x\n"
        "bogus statement here\n"
        + INTERFACES
        + "config firewall policy\n    edit 1\n        set srcintf port1\n    end\n"
        + "config firewall address\n    edit a\n"
    )
    parsed = parse_text(text)
    assert parsed.status is ImportStatus.PARTLY_RECOGNISED
    assert has_issue(parsed, "warning", "prompt", 1)
    assert issue_lines(parsed, "unrecognised") == [2, 3, 4, 5]
    assert has_issue(parsed, "warning", "edit 1. is not closed by .next", 19)
    assert has_issue(parsed, "warning", "ends inside .config firewall address", 22)
    assert ids(parsed) == ["root/1"]


# --- Batfish fixtures: order, CLI table commands, recovery ---------------------------------


def test_batfish_firewall_policy() -> None:
    parsed = parse_file(BATFISH / "firewall_policy")
    assert [c.name for c in parsed.contexts] == ["root"]
    # position, not policy id: 0 and 4294967294 come before 1
    assert ids(parsed) == ["root/0", "root/4294967294", "root/1", "root/2", "root/3"]
    disabled = rule(parsed, "root/0")
    assert not disabled.enabled and disabled.action is Action.DENY
    assert issue_lines(parsed, "disabled") == [65]
    assert disabled.origin.line == 65 and str(disabled.origin) == "firewall_policy:65"
    # no `set action`: FortiOS's default is deny; the service matches only from source port 11,
    # narrower than the model, so the deny is taken to cover nothing of it
    r = rule(parsed, "root/4294967294")
    assert r.action is Action.DENY and r.name == "longest allowed firewall policy nam"
    assert (r.from_zones, r.to_zones) == (("port1",), ("port1", "port2"))
    assert r.services == ServiceSet() and r.service_unresolved == ("custom_tcp_12_from_11",)
    r = rule(parsed, "root/1")  # `append` extends each list
    assert r.action is Action.ACCEPT and r.name == "Permit Custom TCP Traffic"
    assert (r.from_zones, r.to_zones) == (("port1", "port2"), ("port2", "port1"))
    assert r.source.addresses == addrs("10.0.1.0/24", "10.0.2.0/24") == r.destination.addresses
    assert r.services == ports((TCP, 11, 12))  # destination ports count, not source ports
    r = rule(parsed, "root/2")
    assert r.from_zones == ("any",) and r.source.addresses == IPV4_ALL
    assert r.services.is_everything  # ALL is `protocol IP` in this file
    r = rule(parsed, "root/3")
    assert r.from_zones == ("zone1", "port2", "zone3", "zone2")
    assert r.to_zones == ("zone1", "zone3")  # `set` replaces, then `append`
    zones = {i.name: i.zone for i in ctx(parsed).interfaces}
    assert zones == {
        "port1": None,
        "port2": None,
        "port3": "zone1",
        "port4": "zone2",
        "port5": "zone3",
    }
    assert ctx(parsed).default_action is Action.DENY and ctx(parsed).intrazone_allow == ()
    assert parsed.status is ImportStatus.PASSED
    assert has_issue(parsed, "warning", "dstintf. is set again", 114)


@pytest.mark.parametrize(
    ("name", "order"),
    [
        ("policy_move", ["5", "1", "2", "4", "3"]),  # move 5 before 1, move 4 after 2
        ("policy_delete", ["2", "1"]),  # 1 re-created after its delete goes last
        ("policy_clone", ["1", "2", "3", "4"]),  # clone 1 to 3 is appended when made
    ],
)
def test_batfish_table_commands_set_the_order(name: str, order: list[str]) -> None:
    parsed = parse_file(BATFISH / name)
    assert ids(parsed) == [f"root/{n}" for n in order]
    assert all(r.services == ports((TCP, 1, 65535)) for r in ctx(parsed).rules)
    assert not parsed.issues


def test_batfish_policy_clone_copies_the_action() -> None:
    parsed = parse_file(BATFISH / "policy_clone")
    actions = [r.action for r in ctx(parsed).rules]
    assert actions == [Action.ACCEPT, Action.DENY, Action.ACCEPT, Action.DENY]


def test_batfish_firewall_policy_warn() -> None:
    parsed = parse_file(BATFISH / "firewall_policy_warn")
    assert ids(parsed) == [
        "root/4294967295",
        "root/not_a_number",
        "root/1",
        "root/2",
        "root/3",
    ]  # `clone 3 to foobar` and `clone 3 to 1` refused
    r = rule(parsed, "root/4294967295")
    assert r.action is Action.ACCEPT
    assert set(r.source.unresolved) == {"addr1 (undefined)", "addr3 (undefined)"}
    assert set(r.service_unresolved) == {"service1 (undefined)", "service2 (undefined)"}
    assert Assumption.UNDEFINED_OBJECT in r.assumptions
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in r.assumptions
    assert r.from_zones == ("port1", "port3")  # kept: the compiler widens unknown interfaces
    undefined = issues(parsed, "undefined")
    assert {line for line, _ in undefined} == {36, 37, 38, 39, 40}
    assert len(undefined) == 10
    assert has_issue(parsed, "warning", "4294967295 is not a FortiOS policy id", 33)
    # policy 1: the second `edit 1` visit sets srcintf; deny (no action); `any` dropped from a
    # deny's interfaces; `all` and the factory ALL resolve
    r = rule(parsed, "root/1")
    assert r.action is Action.DENY
    assert (r.from_zones, r.to_zones) == (("port10",), ("port20",))
    assert r.source.addresses == IPV4_ALL and r.services.is_everything
    assert has_issue(parsed, "warning", "mixes .any.", 54)
    assert has_issue(parsed, "warning", "service ALL is not defined in VDOM root")
    assert rule(parsed, "root/2").service_unresolved == ("no service",)
    assert rule(parsed, "root/3").action is Action.ACCEPT  # ipsec counts as accept
    assert rule(parsed, "root/3").services == ports((TCP, 10))
    assert issue_lines(parsed, "warning")[-5:] == [85, 86, 87, 89, 91]
    assert parsed.status is ImportStatus.PASSED


def test_batfish_edit_recovery() -> None:
    parsed = parse_file(BATFISH / "edit_recovery")
    assert parsed.status is ImportStatus.PARTLY_RECOGNISED
    assert issue_lines(parsed, "unrecognised") == [6, 13, 19, 26]
    r = rule(parsed, "root/1")
    assert r.name == "policy comments, plural" and r.action is Action.DENY
    assert (r.from_zones, r.to_zones) == (("port1",), ("port1",))
    assert r.source.addresses == IPV4_ALL  # an ipmask address without subnet is 0.0.0.0/0
    assert r.services.is_everything  # protocol IP, protocol-number 0


def test_batfish_nested_config_recovery() -> None:
    extra = policy(1, dstaddr="tagging")
    parsed = parse_file(BATFISH / "nested_config_recovery", extra)
    assert rule(parsed, "root/1").destination.addresses == addrs("1.1.1.0/24")
    assert parsed.status is ImportStatus.PASSED


def test_batfish_rename() -> None:
    parsed = parse_file(BATFISH / "rename")
    r = rule(parsed, "root/0")  # renames before and after the references both hold
    assert (r.from_zones, r.to_zones) == (("new_zone1",), ("new_zone2",))
    assert r.source.addresses == addrs("10.0.1.0/24")
    assert r.destination.addresses == addrs("10.0.2.0/24")
    assert r.services == ports((TCP, 1, 2))
    r = rule(parsed, "root/1")  # old names used after the rename are undefined
    assert r.from_zones == () and r.source.addresses == AddressSet()
    assert has_issue(parsed, "undefined", "srcintf old_zone1", 62)
    assert has_issue(parsed, "undefined", "srcaddr old_addr1", 64)
    assert issue_lines(parsed, "warning")[-5:] == [84, 87, 90, 95, 98]  # refused renames
    assert {i.name: i.zone for i in ctx(parsed).interfaces} == {
        "port1": "new_zone1",
        "port2": "new_zone2",
    }


# --- Batfish fixtures: objects ----------------------------------------------------------------

ADDRESS_NAMES = [
    "ipmask",
    "abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxy",
    "undefined-refs",
    "iprange",
    "dynamic",
    "fqdn",
    "geography",
    "interface-subnet",
    "mac",
    "wildcard",
    "ipmask-default",
    "iprange-default",
    "wildcard-default",
]


def _policies_for(names: list[str], key: str = "dstaddr", **kw: str) -> str:
    return "".join(policy(n + 1, **{key: f'"{name}"'}, **kw) for n, name in enumerate(names))


def test_batfish_address() -> None:
    parsed = parse_file(BATFISH / "address", _policies_for(ADDRESS_NAMES))
    got = {name: rule(parsed, f"root/{n + 1}").destination for n, name in enumerate(ADDRESS_NAMES)}
    assert got["ipmask"].addresses == addrs("1.1.1.0/24")
    assert got[ADDRESS_NAMES[1]].addresses == addrs("1.1.1.0/24")
    assert got["iprange"].addresses == addrs("1.1.1.0/24")
    assert got["interface-subnet"].addresses == addrs("1.1.1.0/24")  # port1's subnet
    assert got["ipmask-default"].addresses == IPV4_ALL
    assert got["iprange-default"].addresses == addrs("0.0.0.0-1.1.1.1")
    assert got["wildcard-default"].addresses == IPV4_ALL  # wildcard 0.0.0.0 0.0.0.0
    unresolved = {
        "undefined-refs": "undefined-refs (subnet of interface undefined_iface)",
        "dynamic": "dynamic (dynamic foo)",
        "fqdn": "fqdn (fqdn google.com)",
        "geography": "geography (geography AQ)",
        "mac": "mac (mac)",
        # the second `edit "wildcard"` (2.2.2.2 255.0.0.255) leaves 65,536 pieces: not expanded
        "wildcard": "wildcard (wildcard 2.2.2.2 255.0.0.255)",
    }
    for name, label in unresolved.items():
        assert got[name].unresolved == (label,) and got[name].addresses == AddressSet(), name
        r = rule(parsed, f"root/{ADDRESS_NAMES.index(name) + 1}")
        assert Assumption.UNRESOLVED_ALLOW_WIDENED in r.assumptions
    assert issue_lines(parsed, "undefined") == [38, 40]  # associated-interface, interface


def test_batfish_address_warnings() -> None:
    parsed = parse_file(BATFISH / "address_warnings", _policies_for(["type_change", "ipmask"]))
    r = rule(parsed, "root/1")  # type changed to wildcard 1.1.0.1 255.255.0.255
    assert r.destination.addresses == AddressSet.of(
        IPRange(4, (1 << 24) + (1 << 16) + (k << 8) + 1, (1 << 24) + (1 << 16) + (k << 8) + 1)
        for k in range(256)
    )
    assert rule(parsed, "root/2").destination.addresses == addrs("1.1.1.0/24")
    assert has_issue(parsed, "undefined", "interface undefined_iface", 28)


def test_batfish_addrgrp() -> None:
    names = [
        "grp1",
        "grp2",
        "this is longest possible firewall addrgrp group name that is accepted by device",
    ]
    parsed = parse_file(BATFISH / "addrgrp", _policies_for(names))
    # grp1: (addr1 ∪ addr5) − (addr4 ∪ addr5), exclusion kept across `exclude` disable/enable
    assert rule(parsed, "root/1").destination.addresses == addrs("1.1.1.0/24")
    # grp2: addr4 + nested grp1, exclusion disabled
    assert rule(parsed, "root/2").destination.addresses == addrs("1.1.1.0/24", "4.4.4.0/24")
    assert rule(parsed, "root/3").destination.addresses == addrs("3.3.3.0/24")
    assert [msg for _, msg in issues(parsed, "unused")] == ["address addr2 (VDOM root) is not used"]


def test_batfish_addrgrp_warnings_cycle_and_empty_group() -> None:
    parsed = parse_file(BATFISH / "addrgrp_warnings", _policies_for(["valid", "grp2"]))
    # `valid` ↔ `cycles`, and `valid` in itself: each cycle reported once; the group is the
    # union of the members on the cycle
    assert rule(parsed, "root/1").destination.addresses == addrs("1.1.1.0/24")
    cycles = [m for _, m in issues(parsed, "warning") if "cycle" in m]
    assert cycles == [
        "address group cycle: valid → cycles → valid",
        "address group cycle: valid → valid",
    ]
    assert has_issue(parsed, "warning", "grp1 has no members", 39)
    # grp2 excludes a group (the device refuses it; the set algebra still holds)
    assert rule(parsed, "root/2").destination.addresses == AddressSet()


def test_batfish_firewall_policy_addrgrp() -> None:
    parsed = parse_file(BATFISH / "firewall_policy_addrgrp")
    r = rule(parsed, "root/1")
    assert r.source.addresses == addrs("10.0.1.0/26", "10.0.1.72-10.0.1.255")  # minus /29
    assert r.destination.addresses == addrs("10.0.2.0/24")
    assert r.services == ports((TCP, 11))


SERVICE_NAMES = [
    "longest possible firewall service custom service name that is accepted by devic",
    "custom_tcp",
    "explicit_tcp",
    "src_port_defaults",
    "custom_icmp",
    "custom_icmp6",
    "custom_ip",
    "change_protocol",
    "unset_icmp_1",
    "unset_icmp_2",
    "unset_icmp_3",
]


def test_batfish_service_custom() -> None:
    allows = _policies_for(SERVICE_NAMES, key="service")
    denies = "".join(
        policy(100 + n, service=f'"{name}"', action="deny") for n, name in enumerate(SERVICE_NAMES)
    )
    parsed = parse_file(BATFISH / "service_custom", allows + denies)
    allow = {name: rule(parsed, f"root/{n + 1}") for n, name in enumerate(SERVICE_NAMES)}
    deny = {name: rule(parsed, f"root/{100 + n}") for n, name in enumerate(SERVICE_NAMES)}
    assert allow[SERVICE_NAMES[0]].services.is_everything
    assert allow["custom_tcp"].services == ports((TCP, 1))
    assert allow["explicit_tcp"].services == ports(
        (TCP, 1, 2), (TCP, 10, 11), (TCP, 13), (UDP, 100), (SCTP, 200, 201)
    )
    # a deny covers only what is sure: ranges with a source-port condition are left out
    assert deny["explicit_tcp"].services == ports((TCP, 10, 11), (UDP, 100), (SCTP, 200))
    assert deny["explicit_tcp"].service_unresolved == ("explicit_tcp",)
    assert allow["src_port_defaults"].services == ports((TCP, 1), (UDP, 1), (SCTP, 1))
    assert allow["custom_icmp"].services == ports((ICMP, 0, 65535))
    assert deny["custom_icmp"].services == ServiceSet()  # one ICMP type: not all of ICMP
    assert (
        allow["custom_icmp6"].services == deny["custom_icmp6"].services == ports((ICMPV6, 0, 65535))
    )
    assert allow["custom_ip"].services == ports((254, 0, 65535))
    assert allow["change_protocol"].services.is_everything  # protocol-number reset by the change
    assert deny["unset_icmp_1"].services == ServiceSet()  # type 5 remains
    assert deny["unset_icmp_2"].services == ServiceSet()  # type 3
    assert deny["unset_icmp_3"].services == ports((ICMP, 0, 65535))  # any ICMP
    assert not issues(parsed, "unused")


def test_batfish_service_warnings() -> None:
    parsed = parse_file(BATFISH / "service_warnings")
    assert has_issue(parsed, "warning", "has no port range", 5)
    assert len(issues(parsed, "unused")) == 3


def test_batfish_service_group() -> None:
    names = [
        "grp1",
        "grp2",
        "this is longest possible firewall service group name that is accepted by device",
    ]
    parsed = parse_file(BATFISH / "service_group", _policies_for(names, key="service"))
    assert [rule(parsed, f"root/{n}").services for n in (1, 2, 3)] == [ports((TCP, 3))] * 3
    assert {m for _, m in issues(parsed, "unused")} == {
        "service custom custom_tcp1 (VDOM root) is not used",
        "service custom custom_tcp2 (VDOM root) is not used",
    }


def test_batfish_service_group_warnings() -> None:
    parsed = parse_file(BATFISH / "service_group_warnings", _policies_for(["valid"], key="service"))
    assert rule(parsed, "root/1").services == ports((TCP, 1))
    cycles = [m for _, m in issues(parsed, "warning") if "cycle" in m]
    assert cycles == [
        "service group cycle: valid → self_ref_not_allowed → valid",
        "service group cycle: valid → valid",
    ]
    assert has_issue(parsed, "warning", "empty is not allowed has no members", 12)


def test_batfish_policy_deny_then_accept() -> None:
    parsed = parse_file(BATFISH / "policy")
    deny, accept = ctx(parsed).rules
    assert (deny.id, deny.action, accept.id, accept.action) == (
        "root/1",
        Action.DENY,
        "root/2",
        Action.ACCEPT,
    )
    assert deny.services == ports((TCP, 1234, 1235))  # custom + group member
    assert deny.from_zones == ("port1", "port2") and deny.to_zones == ("port3", "port4")
    assert accept.services == ports((TCP, 1, 65535))


def test_batfish_firewall_vi_policy() -> None:
    parsed = parse_file(BATFISH / "firewall_vi_policy")
    deny, accept = ctx(parsed).rules
    assert deny.to_zones == ("zone1",) and deny.destination.addresses == addrs("10.0.1.0/24")
    assert accept.from_zones == ("any",) and accept.destination.addresses == addrs("10.0.0.0/16")


# --- Batfish fixtures: interfaces, zones, routes ---------------------------------------------


def test_batfish_zone() -> None:
    parsed = parse_file(BATFISH / "zone")
    longest = "longest possible valid name for zon"
    assert {i.name: i.zone for i in ctx(parsed).interfaces} == {
        "port1": "zone1",
        "port2": "zone1",
        "port3": "zone2",
        "port4": longest,
        "port5": longest,
    }
    assert ctx(parsed).intrazone_allow == (longest,)
    assert ctx(parsed).interfaces[0].subnets == (addrs("192.168.10.0/24").ranges[0],)


def test_batfish_zone_warn() -> None:
    parsed = parse_file(BATFISH / "zone_warn")
    assert {i.name: i.zone for i in ctx(parsed).interfaces} == {
        "port1": "zone3",
        "port2": "zone4",
        "port3": None,
    }
    assert ctx(parsed).intrazone_allow == ("zone3",)
    assert has_issue(parsed, "warning", "zone zone1 has no interfaces", 23)
    assert has_issue(parsed, "warning", "port1 is already in zone zone3", 37)
    assert has_issue(parsed, "warning", "zone port3 has an interface's name", 41)


def test_batfish_iface() -> None:
    parsed = parse_file(BATFISH / "iface")
    by_name = {i.name: i for i in ctx(parsed).interfaces}
    assert list(by_name) == [
        "port1",
        "port2",
        "longest if name",
        "tunnel",
        "loopback123",
        "emac",
        "vlan",
        "wl",
    ]
    port1 = by_name["port1"]
    # primary, then the secondary entries in their order (4294967295 before 1; 2 has no ip)
    assert port1.subnets == nets("192.168.122.0/24", "10.0.1.0/24", "10.1.1.0/24")
    assert port1.addresses == nets("192.168.122.2/32", "10.0.1.1/32", "10.1.1.1/32")
    # `set secondary-IP disable` after the secondary addresses: only the primary is in use
    assert by_name["longest if name"].subnets == addrs("169.254.1.0/24").ranges
    assert by_name["port2"].subnets == ()
    assert port1.origin.line == 5


def test_batfish_static_routes() -> None:
    parsed = parse_file(BATFISH / "static_routes")
    routes = [(r.destination, r.interface, r.origin.line) for r in ctx(parsed).routes]
    assert routes == [
        (addrs("1.1.1.0/24").ranges[0], "port1", 11),  # host bits of dst are masked
        (IPV4_ALL.ranges[0], "port1", 19),  # no dst: the default route
    ]  # edit 2 goes to an SD-WAN zone this file does not define; 4294967295 is disabled
    assert has_issue(parsed, "undefined", "SD-WAN zone virtual-wan-link", 22)


# --- ssato samples ---------------------------------------------------------------------------


def test_ssato_sample_0() -> None:
    parsed = parse_file(SSATO / "fortigate_cli_show_sample_0.txt")
    assert [c.name for c in parsed.contexts] == ["root"]
    assert parsed.status is ImportStatus.PARTLY_RECOGNISED
    assert sorted(issue_lines(parsed, "unrecognised")) == [3906, 3910]  # service line, proxy-policy
    assert has_issue(parsed, "warning", "prompt", 1)
    root = ctx(parsed)
    assert [(i.name, i.role) for i in root.interfaces] == [("dmz", "dmz"), ("port1", "lan")]
    assert root.interfaces[1].subnets == addrs("192.168.122.0/24").ranges
    assert has_issue(parsed, "undefined", "port2 is assigned to VDOM ro", 31)
    assert [(str(r.destination), r.interface) for r in root.routes] == [("0.0.0.0/0", "port1")]
    assert ids(parsed) == ["root/1", "root/10", "root/20"]
    r = rule(parsed, "root/1")
    assert r.name == "Test1" and r.from_zones == ("port2",) and r.to_zones == ("port1",)
    assert r.services.is_everything and r.source.addresses == IPV4_ALL
    assert has_issue(parsed, "undefined", "srcintf port2 .* belongs to VDOM ro", 3875)
    assert has_issue(parsed, "nat", "root/1 translates source addresses", 3883)
    r = rule(parsed, "root/10")
    assert r.from_zones == ("port1",) and r.to_zones == ()  # `set srcintf` repeated; no dstintf
    assert r.source.addresses == addrs("192.168.122.1/32", "192.168.2.1-192.168.2.3")
    assert r.destination.addresses == addrs("192.168.3.1/32", "192.168.3.3/32", "192.168.3.5/32")
    assert r.services == ports(
        (TCP, 80), (TCP, 443), (TCP, 161, 162), (UDP, 161, 162), (ICMP, 0, 65535)
    )
    assert r.name == "Monitor_Servers_01"
    assert has_issue(parsed, "undefined", "port0", 3888)  # overridden by the next line
    assert has_issue(parsed, "warning", "srcintf. is set again", 3889)
    assert has_issue(
        parsed, "warning", "host_192.168.122.1 is associated with interface port2", 3890
    )
    r = rule(parsed, "root/20")  # `set service ""HTTPS" "HTTP"`: read leniently, widened
    assert r.services == ports((TCP, 80), (TCP, 443))
    assert r.service_unresolved == ("line 3906 unreadable",)
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in r.assumptions
    assert {m for _, m in issues(parsed, "unused")} == {
        "address network_192.168.1.0/24 (VDOM root) is not used",
        "addrgrp Monitor_Servers (VDOM root) is not used",
    }


def test_ssato_sample_1_vdoms() -> None:
    parsed = parse_file(SSATO / "fortigate_cli_show_sample_1.txt")
    assert [c.name for c in parsed.contexts] == ["root", "ro"]
    assert ids(parsed, "root") == ["root/1", "root/20"]
    assert ids(parsed, "ro") == ["ro/2", "ro/10"]
    ro = ctx(parsed, "ro")
    assert [(i.name, i.subnets) for i in ro.interfaces] == [
        ("port2", addrs("192.168.1.0/24").ranges)
    ]
    assert [i.name for i in ctx(parsed, "root").interfaces] == ["dmz", "port1"]
    r = rule(parsed, "ro/10")
    assert r.source.unresolved == ("host_192.168.122.1 (undefined)",)  # defined in root only
    assert r.source.addresses == addrs("192.168.2.1-192.168.2.3")
    assert has_issue(
        parsed, "undefined", "srcaddr host_192.168.122.1 is not defined in VDOM ro", 7993
    )
    assert has_issue(parsed, "undefined", "dstintf port1 .* VDOM ro .* belongs to VDOM root", 7979)
    assert has_issue(parsed, "undefined", "static route 1: device port1", 8310)
    assert sorted(issue_lines(parsed, "unrecognised")) == [3884, 3888, 8002]
    # VDOM entries closed by `end` without `next` are how backups are written: no warning
    assert not has_issue(parsed, "warning", "not closed by")


# --- semantics, on small configurations ------------------------------------------------------


def test_single_context_without_vdoms_is_root_and_rule_ids_use_policy_ids() -> None:
    parsed = parse_text(INTERFACES + policy(7) + policy(3))
    assert [c.name for c in parsed.contexts] == ["root"]
    assert ids(parsed) == ["root/7", "root/3"]
    assert [r.origin.line for r in ctx(parsed).rules] == [14, 24]  # the `edit` lines


MULTI_VDOM = """\
#config-version=FGT600F-7.2.8-FW-build1639:opmode=0:vdom=1:user=admin
config vdom
edit root
next
edit lgwan
next
end
config global
config system interface
    edit "port1"
        set vdom "root"
        set ip 10.1.0.1 255.255.255.0
    next
    edit "port2"
        set vdom "lgwan"
        set ip 10.2.0.1 255.255.255.0
        set role lan
    next
    edit "port3"
        set vdom "lgwan"
        set ip 10.3.0.1 255.255.255.0
    next
end
end
config vdom
edit root
config firewall address
    edit "h1"
        set subnet 10.1.0.10 255.255.255.255
    next
end
config firewall policy
    edit 12
        set srcintf "port1"
        set dstintf "port1"
        set srcaddr "h1"
        set dstaddr "all"
        set action accept
        set service "HTTPS"
    next
end
end
config vdom
edit lgwan
config system zone
    edit "inside"
        set interface "port2" "port3"
        set intrazone allow
    next
end
config firewall policy
    edit 12
        set srcintf "inside"
        set dstintf "port1"
        set srcaddr "all"
        set dstaddr "h1"
        set action accept
        set service "SSH"
    next
end
end
"""


def test_multi_vdom_backup_has_one_context_per_vdom() -> None:
    parsed = parse_text(MULTI_VDOM)
    assert [c.name for c in parsed.contexts] == ["root", "lgwan"]
    root, lgwan = parsed.contexts
    assert [i.name for i in root.interfaces] == ["port1"]
    assert [(i.name, i.zone, i.role) for i in lgwan.interfaces] == [
        ("port2", "inside", "lan"),
        ("port3", "inside", None),
    ]
    assert lgwan.intrazone_allow == ("inside",) and root.intrazone_allow == ()
    assert ids(parsed, "root") == ["root/12"] and ids(parsed, "lgwan") == ["lgwan/12"]
    assert rule(parsed, "root/12").source.addresses == addrs("10.1.0.10/32")
    assert rule(parsed, "root/12").services == ports((TCP, 443))  # factory HTTPS
    # objects and interfaces are per VDOM
    r = rule(parsed, "lgwan/12")
    assert r.destination.unresolved == ("h1 (undefined)",)
    assert has_issue(parsed, "undefined", "dstintf port1 .*belongs to VDOM root", 54)
    assert has_issue(parsed, "undefined", "dstaddr h1 is not defined in VDOM lgwan", 56)
    assert not has_issue(parsed, "warning", "not closed")


def test_addresses_exact_and_unresolved() -> None:
    text = (
        INTERFACES
        + """config firewall address
    edit "net-mask"
        set subnet 192.168.10.77 255.255.255.0
    next
    edit "net-prefix"
        set subnet 192.168.20.0/23
    next
    edit "range"
        set type iprange
        set start-ip 192.168.30.5
        set end-ip 192.168.30.20
    next
    edit "bad-range"
        set type iprange
        set start-ip 192.168.30.20
        set end-ip 192.168.30.5
    next
    edit "wild"
        set type wildcard
        set wildcard 10.0.0.5 255.255.254.255
    next
    edit "lan-subnet"
        set type interface-subnet
        set interface "port1"
    next
    edit "cdn"
        set type fqdn
        set fqdn "cdn.example.jp"
    next
    edit "jp"
        set type geography
        set country "JP"
    next
    edit "sdn"
        set type dynamic
        set sdn "aws"
    next
end
"""
        + _policies_for(
            [
                "net-mask",
                "net-prefix",
                "range",
                "bad-range",
                "wild",
                "lan-subnet",
                "cdn",
                "jp",
                "sdn",
            ]
        )
    )
    parsed = parse_text(text)
    dst = [r.destination for r in ctx(parsed).rules]
    assert dst[0].addresses == addrs("192.168.10.0/24")  # host bits masked
    assert dst[1].addresses == addrs("192.168.20.0/23")
    assert dst[2].addresses == addrs("192.168.30.5-192.168.30.20")  # exact, not rounded to CIDRs
    assert dst[3].unresolved == ("bad-range (unreadable)",)
    assert has_issue(parsed, "unrecognised", "bad-range: not an address range", 27)
    assert dst[4].addresses == addrs("10.0.0.5/32", "10.0.1.5/32")
    assert dst[5].addresses == addrs("10.1.0.0/24")
    assert [d.unresolved for d in dst[6:]] == [
        ("cdn (fqdn cdn.example.jp)",),
        ("jp (geography JP)",),
        ("sdn (dynamic aws)",),
    ]
    assert all(d.addresses == AddressSet() for d in dst[6:])


def test_unresolved_address_in_allow_and_deny() -> None:
    text = (
        INTERFACES
        + """config firewall address
    edit "h1"
        set subnet 10.2.0.5 255.255.255.255
    next
    edit "cdn"
        set type fqdn
        set fqdn "cdn.example.jp"
    next
end
"""
        + policy(1, dstaddr='"h1" "cdn"', action="deny")
        + policy(2, dstaddr='"h1" "cdn"')
    )
    parsed = parse_text(text)
    deny, allow = ctx(parsed).rules
    # both keep the certain part and name the unknown one; the compiler widens the allow to
    # everything behind its interface and narrows the deny to what is certain
    assert deny.destination.addresses == allow.destination.addresses == addrs("10.2.0.5/32")
    assert (
        deny.destination.unresolved
        == allow.destination.unresolved
        == ("cdn (fqdn cdn.example.jp)",)
    )
    assert Assumption.UNRESOLVED_DENY_IGNORED in deny.assumptions
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in allow.assumptions


def test_ipv6_addresses_groups_and_policy6_side() -> None:
    text = """config firewall address6
    edit "v6net"
        set ip6 2001:db8:1::/48
    next
    edit "v6range"
        set type iprange
        set start-ip 2001:db8::10
        set end-ip 2001:db8::20
    next
end
config firewall addrgrp6
    edit "g6"
        set member "v6net" "v6range"
    next
end
config firewall address
    edit "v4"
        set subnet 10.0.0.0/8
    next
end
""" + policy(1, srcaddr='"v4"', dstaddr='"v4"', extra='set srcaddr6 "g6"\nset dstaddr6 "all"')
    parsed = parse_text(text)
    r = rule(parsed, "root/1")
    assert r.source.addresses == addrs("10.0.0.0/8", "2001:db8:1::/48", "2001:db8::10-2001:db8::20")
    assert r.destination.addresses == addrs("10.0.0.0/8", "::/0")  # factory all6


def test_address_group_nesting_exclusion_cycle_and_undefined_member() -> None:
    text = (
        INTERFACES
        + """config firewall address
    edit "a"
        set subnet 10.0.0.0/16
    next
    edit "b"
        set subnet 10.0.5.0/24
    next
end
config firewall addrgrp
    edit "inner"
        set member "a"
        set exclude enable
        set exclude-member "b"
    next
    edit "outer"
        set member "inner" "ghost"
    next
    edit "loop1"
        set member "loop2" "b"
    next
    edit "loop2"
        set member "loop1" "a"
    next
end
"""
        + _policies_for(["outer", "loop1", "loop2"])
    )
    parsed = parse_text(text)
    outer, loop1, loop2 = (r.destination for r in ctx(parsed).rules)
    assert outer.addresses == addrs("10.0.0.0/16").difference(addrs("10.0.5.0/24"))
    assert outer.unresolved == ("ghost (undefined)",)
    assert has_issue(parsed, "undefined", "outer: member ghost is not defined", 28)
    assert Assumption.UNDEFINED_OBJECT in ctx(parsed).rules[0].assumptions
    # a cycle neither loops nor loses members: each group is the union of the cycle's members
    assert loop1.addresses == loop2.addresses == addrs("10.0.0.0/16")
    cycles = [(line, m) for line, m in issues(parsed, "warning") if "cycle" in m]
    assert cycles == [(30, "address group cycle: loop1 → loop2 → loop1")]


def test_services_ports_protocols_and_factory_fallback() -> None:
    text = """config firewall service custom
    edit "web-alt"
        set tcp-portrange 8080-8081 8443:1024-65535
    next
    edit "syslog-tls"
        set protocol TCP/UDP/SCTP
        set tcp-portrange 6514
        set udp-portrange 514
        set sctp-portrange 9899
    next
    edit "gre"
        set protocol IP
        set protocol-number 47
    next
    edit "icmp-any"
        set protocol ICMP
    next
    edit "HTTPS"
        set tcp-portrange 8443
    next
end
config firewall service group
    edit "grp"
        set member "web-alt" "gre" "DNS"
    next
end
""" + _policies_for(
        ["web-alt", "syslog-tls", "gre", "icmp-any", "HTTPS", "grp", "SSH"], key="service"
    )
    parsed = parse_text(text)
    got = [r.services for r in ctx(parsed).rules]
    assert got[0] == ports((TCP, 8080, 8081), (TCP, 8443))
    assert got[1] == ports((TCP, 6514), (UDP, 514), (SCTP, 9899))
    assert got[2] == ports((47, 0, 65535))
    assert got[3] == ports((ICMP, 0, 65535))
    assert got[4] == ports((TCP, 8443))  # the configuration's definition wins over the factory's
    assert got[5] == ports((TCP, 8080, 8081), (TCP, 8443), (47, 0, 65535), (TCP, 53), (UDP, 53))
    assert got[6] == ports((TCP, 22))
    factory = [m for _, m in issues(parsed, "warning") if "factory default" in m]
    assert factory == [
        "service DNS is not defined in VDOM root: the FortiOS factory default is assumed "
        "(tcp/53 udp/53)",
        "service SSH is not defined in VDOM root: the FortiOS factory default is assumed (tcp/22)",
    ]


def test_undefined_service_and_bad_port_range() -> None:
    text = (
        "config firewall service custom\n edit bad\n  set tcp-portrange 70000\n next\nend\n"
        + _policies_for(["nosuch", "bad"], key="service")
        + policy(3, service='"nosuch" "HTTP"', action="deny")
    )
    parsed = parse_text(text)
    allow, bad, deny = ctx(parsed).rules
    assert allow.services == ServiceSet() and allow.service_unresolved == ("nosuch (undefined)",)
    assert has_issue(parsed, "undefined", "service nosuch is not defined", 13)
    assert bad.service_unresolved == ("bad (unreadable port range)",)
    assert has_issue(parsed, "unrecognised", "port range 70000", 3)
    assert deny.services == ports((TCP, 80)) and deny.service_unresolved == ("nosuch (undefined)",)


def test_service_negate_is_the_complement_within_everything() -> None:
    text = policy(1, service='"HTTP" "DNS"', extra="set service-negate enable") + policy(
        2, service='"PING"', action="deny", extra="set service-negate enable"
    )
    parsed = parse_text(text)
    allow, deny = ctx(parsed).rules
    assert allow.services == ServiceSet.everything().difference(
        ports((TCP, 80), (TCP, 53), (UDP, 53))
    )
    assert allow.service_unresolved == ()
    # a deny of "everything but PING" surely covers everything but ICMP (PING is part of it)
    assert deny.services == ServiceSet.everything().difference(ports((ICMP, 0, 65535)))


def test_address_negation_is_kept_for_the_compiler() -> None:
    text = policy(1, srcaddr='"h"', extra="set srcaddr-negate enable\nset dstaddr-negate disable")
    text = "config firewall address\n edit h\n  set subnet 10.9.0.0/16\n next\nend\n" + text
    r = rule(parse_text(text), "root/1")
    assert r.source.negate and r.source.addresses == addrs("10.9.0.0/16")
    assert not r.destination.negate


def test_interfaces_secondary_addresses_roles_and_zones() -> None:
    text = """config system interface
    edit "port1"
        set vdom "root"
        set ip 10.1.0.1 255.255.255.0
        set role lan
        set secondary-IP enable
        config secondaryip
            edit 1
                set ip 10.11.0.1 255.255.0.0
            next
        end
        config ipv6
            set ip6-address 2001:db8:1::1/64
        end
    next
    edit "port2"
        set vdom "root"
        set mode dhcp
        set role wan
    next
end
config system zone
    edit "z-lan"
        set interface "port1"
    next
end
"""
    parsed = parse_text(text)
    port1, port2 = ctx(parsed).interfaces
    assert (port1.zone, port1.role, port1.origin.line) == ("z-lan", "lan", 2)
    assert set(port1.subnets) == set(addrs("10.1.0.0/24", "10.11.0.0/16", "2001:db8:1::/64").ranges)
    assert set(port1.addresses) == set(
        addrs("10.1.0.1/32", "10.11.0.1/32", "2001:db8:1::1/128").ranges
    )
    assert (port2.zone, port2.role, port2.subnets) == (None, "wan", ())
    assert ctx(parsed).intrazone_allow == ()  # `intrazone deny` is the default


def test_static_routes_dst_device_blackhole_and_disabled() -> None:
    text = (
        INTERFACES
        + """config router static
    edit 1
        set dst 172.16.0.0 255.240.0.0
        set gateway 10.1.0.254
        set device "port1"
    next
    edit 2
        set gateway 10.2.0.254
        set device "port2"
    next
    edit 3
        set dst 192.0.2.0/24
        set blackhole enable
    next
    edit 4
        set dst 198.51.100.0/24
        set device "port1"
        set status disable
    next
    edit 5
        set dst 203.0.113.0/24
        set device "port9"
    next
end
config router static6
    edit 1
        set dst 2001:db8:9::/48
        set device "port1"
    next
end
"""
    )
    parsed = parse_text(text)
    routes = [(str(r.destination), r.interface) for r in ctx(parsed).routes]
    assert routes == [
        ("172.16.0.0/12", "port1"),
        ("0.0.0.0/0", "port2"),
        ("203.0.113.0/24", "port9"),
        ("2001:db8:9::/48", "port1"),
    ]
    assert has_issue(parsed, "undefined", "static route 5: device port9", 34)


def test_sdwan_zone_members_and_routes() -> None:
    text = (
        INTERFACES
        + """config system sdwan
    set status enable
    config zone
        edit "virtual-wan-link"
        next
        edit "underlay"
        next
    end
    config members
        edit 1
            set interface "port2"
            set zone "underlay"
        next
    end
end
config router static
    edit 1
        set sdwan-zone "underlay"
    next
end
"""
        + policy(1, src="port1", dst="underlay")
    )
    parsed = parse_text(text)
    assert {i.name: i.zone for i in ctx(parsed).interfaces} == {"port1": None, "port2": "underlay"}
    assert [(str(r.destination), r.interface) for r in ctx(parsed).routes] == [
        ("0.0.0.0/0", "port2")
    ]
    assert not issues(parsed, "undefined")


def test_vip_in_dstaddr_matches_external_address_and_warns_nat() -> None:
    text = (
        INTERFACES
        + """config firewall vip
    edit "web-vip"
        set extip 203.0.113.10
        set mappedip "10.1.0.10"
        set extintf "port2"
        set portforward enable
    next
    edit "range-vip"
        set extip 203.0.113.20-203.0.113.21
        set mappedip "10.1.0.20-10.1.0.21"
    next
end
config firewall vipgrp
    edit "vips"
        set interface "port2"
        set member "range-vip"
    next
end
"""
        + policy(1, src="port2", dst="port1", dstaddr='"web-vip"', service='"HTTPS"')
        + policy(2, src="port2", dst="port1", dstaddr='"vips"', service='"HTTPS"')
    )
    parsed = parse_text(text)
    one, two = ctx(parsed).rules
    assert one.destination.addresses == addrs("203.0.113.10/32")
    assert two.destination.addresses == addrs("203.0.113.20-203.0.113.21")
    assert (
        Assumption.NAT_NOT_MODELLED in one.assumptions
        and Assumption.NAT_NOT_MODELLED in two.assumptions
    )
    nat = issues(parsed, "nat")
    assert [line for line, _ in nat] == [36, 46]  # the dstaddr lines
    assert "web-vip is a virtual IP (203.0.113.10 → 10.1.0.10)" in nat[0][1]


def test_actions_default_status_and_names() -> None:
    text = (
        INTERFACES
        + policy(1, action="accept", extra='set name "to-lg"\nset comments "ignored"')
        + policy(2, action="deny", extra='set comments "申請 123"')
        + policy(3, action="ipsec")
        + policy(4, action="accept", extra="set status disable")
        + "config firewall policy\n edit 5\n  set srcintf any\n  set dstintf any\n"
        + "  set srcaddr all\n  set dstaddr all\n  set service ALL\n next\nend\n"
        + policy(6, action="redirect")
    )
    parsed = parse_text(text)
    rules = ctx(parsed).rules
    assert [r.action for r in rules] == [
        Action.ACCEPT,
        Action.DENY,
        Action.ACCEPT,
        Action.ACCEPT,
        Action.DENY,
        Action.ACCEPT,
    ]
    assert [r.name for r in rules[:3]] == ["to-lg", "申請 123", None]
    assert [r.enabled for r in rules] == [True, True, True, False, True, True]
    assert issues(parsed, "disabled") == [(47, "policy root/4 is disabled (status disable)")]
    assert has_issue(parsed, "unrecognised", "action redirect is not modelled; taken as accept")


def test_users_and_applications_keep_an_allow_and_void_a_deny() -> None:
    text = (
        INTERFACES
        + "config firewall address\n edit h\n  set subnet 10.1.0.5/32\n next\nend\n"
        + policy(1, srcaddr='"h"', extra='set groups "staff"\nset application 15832')
        + policy(2, srcaddr='"h"', action="deny", extra='set users "alice"')
        + policy(3, srcaddr='"h"', action="deny", extra='set schedule "weekdays"')
        + policy(4, srcaddr='"h"', extra='set schedule "weekdays"')
        + policy(5, srcaddr='"h"', action="deny", extra='set schedule "always"')
    )
    parsed = parse_text(text)
    allow, deny_user, deny_sched, allow_sched, deny_always = ctx(parsed).rules
    # allowed for someone: still allowed, addresses unchanged, tagged
    assert allow.source.addresses == addrs("10.1.0.5/32") and allow.source.unresolved == ()
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in allow.assumptions
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in allow_sched.assumptions
    # a deny for some users / some hours is taken to deny nothing: it can never hide a path
    assert deny_user.source.addresses == AddressSet() and deny_user.source.unresolved == (
        "users alice",
    )
    assert deny_sched.source.addresses == AddressSet()
    assert deny_sched.source.unresolved == ("schedule weekdays",)
    assert Assumption.UNRESOLVED_DENY_IGNORED in deny_user.assumptions
    assert deny_always.source.addresses == addrs("10.1.0.5/32") and deny_always.assumptions == ()


def test_internet_service_destination_is_unresolved() -> None:
    text = policy(
        1,
        extra='set internet-service enable\nset internet-service-name "Microsoft-Office365"',
    )
    r = rule(parse_text(text), "root/1")
    assert r.destination.unresolved == ("internet-service-name Microsoft-Office365",)
    assert r.destination.addresses == AddressSet()


def test_undefined_interfaces_in_allow_and_deny() -> None:
    text = (
        INTERFACES
        + policy(1, src="port9", dst="port1")
        + policy(2, src="port9", dst="port1", action="deny")
    )
    parsed = parse_text(text)
    allow, deny = ctx(parsed).rules
    assert allow.from_zones == ("port9",)  # the compiler widens an unknown interface
    assert Assumption.UNDEFINED_OBJECT in allow.assumptions
    assert deny.from_zones == () and deny.source.addresses == AddressSet()  # denies nothing
    assert issue_lines(parsed, "undefined") == [15, 25]


def test_unused_objects_are_reported_but_not_factory_ones() -> None:
    text = (
        "config firewall address\n edit used\n  set subnet 10.0.0.1/32\n next\n"
        " edit spare\n  set subnet 10.0.0.2/32\n next\n edit all\n next\nend\n"
        "config firewall service custom\n edit SPARE-SVC\n  set tcp-portrange 1\n next\n"
        " edit HTTP\n  set tcp-portrange 80\n next\nend\n"
        "config firewall addrgrp\n edit spare-grp\n  set member used\n next\nend\n"
        + policy(1, srcaddr='"used"')
    )
    parsed = parse_text(text)
    assert issues(parsed, "unused") == [
        (5, "address spare (VDOM root) is not used"),
        (12, "service custom SPARE-SVC (VDOM root) is not used"),
        (20, "addrgrp spare-grp (VDOM root) is not used"),
    ]


def test_unmodelled_policy_tables_make_the_import_partial() -> None:
    text = policy(1) + (
        "config firewall proxy-policy\n edit 1\n  set proxy explicit-web\n next\nend\n"
        "config firewall security-policy\n edit 1\n  set srcintf any\n next\nend\n"
    )
    parsed = parse_text(text)
    assert parsed.status is ImportStatus.PARTLY_RECOGNISED
    assert issue_lines(parsed, "unrecognised") == [12, 17]


def test_malformed_line_in_a_deny_rule_voids_that_side() -> None:
    text = INTERFACES + policy(1, action="deny", src='port1" "port2', dst="port1")
    text = text.replace('set srcintf "port1" "port2"', 'set srcintf ""port1" "port2"')
    parsed = parse_text(text)
    r = rule(parsed, "root/1")
    assert r.source.addresses == AddressSet()  # an unreadable deny condition denies nothing
    assert parsed.status is ImportStatus.PARTLY_RECOGNISED


# --- the factory table -----------------------------------------------------------------------

BRIEF_FACTORY_NAMES = (
    "ALL ALL_TCP ALL_UDP ALL_ICMP ALL_ICMP6 HTTP HTTPS SSH TELNET FTP DNS NTP SMTP SMTPS POP3 "
    "POP3S IMAP IMAPS RDP SAMBA SMB SNMP SYSLOG LDAP LDAP_UDP KERBEROS PING PING6 TRACEROUTE "
    "MS-SQL MYSQL NFS DHCP BGP IKE"
).split()


def test_factory_table_has_the_common_services() -> None:
    assert set(BRIEF_FACTORY_NAMES) <= set(FACTORY_SERVICES)


def test_factory_table_matches_a_real_factory_configuration() -> None:
    """Each factory entry resolves as the device's own `show` (FortiOS 6.2.3) defines it, for
    allow rules (all it matches) and deny rules (what it surely covers)."""
    sample = (SSATO / "fortigate_cli_show_sample_0.txt").read_text(encoding="utf-8")
    start = sample.index("config firewall service custom")
    block = sample[start : sample.index("\nend\n", start) + 5]
    names = [n for n in FACTORY_SERVICES if f'edit "{n}"' in block]
    assert len(names) >= 80
    policies = "".join(
        policy(2 * k + 1, service=f'"{n}"') + policy(2 * k + 2, service=f'"{n}"', action="deny")
        for k, n in enumerate(names)
    )
    from_device = ctx(parse_text(block + policies)).rules
    from_table = ctx(parse_text(policies)).rules
    for device, table in zip(from_device, from_table, strict=True):
        assert (device.services, device.service_unresolved) == (
            table.services,
            table.service_unresolved,
        ), device.id


# --- through the compiler: the parser's choices, end to end ----------------------------------


def _allowed(parsed: ParsedConfig, vdom: str = "root") -> dict[str, list[Cube]]:
    compiled = compile_context(ctx(parsed, vdom))
    return {p.rule.id: list(p.cubes) for p in compiled.permits}


def test_compiled_accept_loses_what_an_earlier_deny_covers() -> None:
    allowed = _allowed(parse_file(BATFISH / "policy"))
    (cube,) = allowed["root/2"]  # tcp 1-65535 minus the denied 1234 and 1235 (via the group)
    assert cube.services == ports((TCP, 1, 1233), (TCP, 1236, 65535))
    assert cube.sources == addrs("10.0.1.0/24", "10.0.2.0/24")
    assert cube.destinations == addrs("10.0.3.0/24", "10.0.4.0/24")


def test_compiled_deny_for_users_or_hours_hides_no_path() -> None:
    text = (
        INTERFACES
        + policy(1, src="port1", dst="port2", action="deny", extra='set users "alice"')
        + policy(2, src="port1", dst="port2", action="deny", extra='set schedule "night"')
        + policy(3, src="port1", dst="port2", service='"HTTPS"')
    )
    (cube,) = _allowed(parse_text(text))["root/3"]
    assert cube.services == ports((TCP, 443))
    assert cube.sources == addrs("10.1.0.0/24") and cube.destinations == addrs("10.2.0.0/24")


def test_compiled_unresolved_allow_is_widened_to_the_interface_space() -> None:
    text = (
        INTERFACES
        + "config firewall address\n edit cdn\n  set type fqdn\n  set fqdn x.example.jp\n"
        + " next\nend\n"
        + policy(1, src="port1", dst="port2", dstaddr='"cdn"', service='"HTTPS"')
    )
    compiled = compile_context(ctx(parse_text(text)))
    (permit,) = compiled.permits
    assert permit.cubes[0].destinations == addrs("10.2.0.0/24")  # everything behind port2
    assert Assumption.UNRESOLVED_ALLOW_WIDENED in permit.assumptions


def test_compiled_disabled_rules_and_intrazone_allow() -> None:
    parsed = parse_text(MULTI_VDOM)
    compiled = compile_context(ctx(parsed, "lgwan"))
    ids_allowed = [p.rule.id for p in compiled.permits]
    assert ids_allowed == ["lgwan/12", "lgwan/intrazone:inside"]
    (cube,) = compiled.permits[1].cubes
    assert cube.sources == addrs("10.2.0.0/24", "10.3.0.0/24") == cube.destinations
    parsed = parse_file(BATFISH / "firewall_policy")
    assert [r.id for r in compile_context(ctx(parsed)).disabled] == ["root/0"]


# --- provenance of what the model cannot see; robustness ----------------------------------


def test_layer7_fields_and_schedules_are_recorded_as_conditions() -> None:
    text = policy(
        1,
        extra='set groups "staff" "admins"\nset url-category 12\nset schedule "weekdays"\n'
        'set comments "申請 42"\nset name "web"',
    )
    r = rule(parse_text(text), "root/1")
    assert r.conditions == (
        "groups:staff",
        "groups:admins",
        "url-category:12",
        "schedule:weekdays",
    )
    assert (r.name, r.description) == ("web", "申請 42")
    plain = rule(parse_text(policy(1, extra='set schedule "always"')), "root/1")
    assert plain.conditions == () and plain.assumptions == ()


def test_deeply_nested_groups_and_blocks_do_not_overflow() -> None:
    depth = 3000
    groups = "".join(f" edit g{k}\n  set member g{k + 1}\n next\n" for k in range(depth))
    text = (
        "config firewall address\n edit leaf\n  set subnet 10.0.0.1/32\n next\nend\n"
        f"config firewall addrgrp\n{groups} edit g{depth}\n  set member leaf\n next\nend\n"
        + policy(1, dstaddr='"g0"')
        + "config firewall policy\n edit 5\n"
        + "config x\n" * depth
        + "end\n" * depth
        + " next\n clone 5 to 6\nend\n"
    )
    parsed = parse_text(text)
    assert rule(parsed, "root/1").destination.unresolved  # cut off, never a RecursionError
    assert len([m for _, m in issues(parsed, "warning") if "nested deeper than" in m]) == 1
    assert has_issue(parsed, "warning", "cannot clone 5 to 6: nested too deep")


@pytest.mark.parametrize("seed", range(40))
def test_damaged_configurations_never_crash(seed: int) -> None:
    """Lines deleted, duplicated, swapped, cut, and stray quotes and backslashes: the parser
    either imports with issues or refuses the file with a ConfigError, never a traceback."""
    import random

    rng = random.Random(seed)
    sources = sorted(p for p in BATFISH.iterdir() if not p.name.startswith("LICENSE"))
    lines = rng.choice(sources).read_text(encoding="utf-8").split("\n")
    for _ in range(rng.randrange(1, 12)):
        k = rng.randrange(len(lines))
        op = rng.randrange(6)
        if op == 0:
            del lines[k]
        elif op == 1:
            lines.insert(k, lines[k])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[k], lines[j] = lines[j], lines[k]
        elif op == 3:
            at = rng.randrange(len(lines[k]) + 1)
            lines[k] = lines[k][:at] + rng.choice(['"', "\\", '""', " end", "\t"]) + lines[k][at:]
        elif op == 4:
            lines[k] = lines[k][: rng.randrange(len(lines[k]) + 1)]
        else:
            lines.insert(k, rng.choice(["next", "end", "config", "edit", "move 1 after", "}"]))
        if not lines:
            lines = [""]
    try:
        parsed = parse_text("\n".join(lines))
    except ConfigError as err:
        assert err.path == "fw.conf"
        return
    for context in parsed.contexts:
        compile_context(context)  # and what it produced compiles


def test_garbage_collector_state_is_restored() -> None:
    import gc

    assert gc.isenabled()
    parse_text(policy(1))
    with pytest.raises(ConfigError):
        parse_text("not a configuration\n")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_text(policy(1))
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_policy6_table_has_its_own_ids_and_ipv6_objects() -> None:
    text = (
        "config firewall address6\n edit v6\n  set ip6 2001:db8:5::/64\n next\nend\n"
        + policy(1, srcaddr='"v6"').replace("firewall policy", "firewall policy6")
        + policy(1)
    )
    parsed = parse_text(text)
    assert ids(parsed) == ["root/1", "root/policy6/1"]  # the IPv4 table first, then policy6
    r = rule(parsed, "root/policy6/1")
    assert r.source.addresses == addrs("2001:db8:5::/64")
    assert r.destination.addresses == addrs("::/0")  # `all` in policy6 is the IPv6 all
