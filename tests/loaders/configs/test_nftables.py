"""nftables import: what each construct of `nft -j list ruleset` must become.

`features.json` is real `nft` output (tests/data/configs/nftables/regen.py loads features.nft
into a namespace); the other rulesets are built here as libnftables-json(5) objects, one
semantic point each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from segcheck.addressing import parse_cidr, parse_ip
from segcheck.errors import ConfigError
from segcheck.loaders.configs.model import (
    ICMP,
    ICMPV6,
    TCP,
    UDP,
    WHOLE,
    Action,
    AddressSet,
    Assumption,
    ImportStatus,
    Match,
    ParsedConfig,
    Rule,
    ServiceSet,
)
from segcheck.loaders.configs.nftables import MAX_DEPTH, parse_nftables
from segcheck.model import IPRange

DATA = Path(__file__).resolve().parents[2] / "data" / "configs" / "nftables"

# --- helpers --------------------------------------------------------------------------------


def A(*texts: str) -> AddressSet:
    """An address set from CIDRs, addresses and a-b ranges."""
    ranges = []
    for text in texts:
        if "-" in text:
            lo, hi = (parse_ip(t) for t in text.split("-"))
            ranges.append(IPRange(lo.version, lo.value, hi.value))
        else:
            ranges.append(parse_cidr(text))
    return AddressSet.of(ranges)


V4 = A("0.0.0.0/0")
V6 = A("::/0")
ANY = Match(AddressSet.everything(), any=True)
ALL = ServiceSet.everything()


def tcp(*ports: int | tuple[int, int]) -> ServiceSet:
    return ServiceSet.of((TCP, *(p if isinstance(p, tuple) else (p, p))) for p in ports)


def udp(*ports: int | tuple[int, int]) -> ServiceSet:
    return ServiceSet.of((UDP, *(p if isinstance(p, tuple) else (p, p))) for p in ports)


def proto(*numbers: int) -> ServiceSet:
    return ServiceSet.of((n, *WHOLE) for n in numbers)


def M(*texts: str) -> Match:
    return Match(A(*texts))


def parse(items: list[Any], name: str = "rs.json") -> ParsedConfig:
    text = json.dumps({"nftables": items})
    return parse_nftables(Path(name), text.encode(), display_name=name)


def table(family: str = "inet", name: str = "t", **extra: Any) -> dict[str, Any]:
    return {"table": {"family": family, "name": name, "handle": 1, **extra}}


def chain(
    name: str,
    hook: str | None = None,
    policy: str | None = None,
    family: str = "inet",
    tbl: str = "t",
    prio: int | str = 0,
    type_: str = "filter",
) -> dict[str, Any]:
    body: dict[str, Any] = {"family": family, "table": tbl, "name": name, "handle": 1}
    if hook is not None:
        body.update(type=type_, hook=hook, prio=prio, policy=policy or "accept")
    return {"chain": body}


_handles = iter(range(100, 100000))


def rule(
    chain_name: str, *expr: Any, comment: str | None = None, family: str = "inet", tbl: str = "t"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "family": family,
        "table": tbl,
        "chain": chain_name,
        "handle": next(_handles),
        "expr": list(expr),
    }
    if comment is not None:
        body["comment"] = comment
    return {"rule": body}


def match(left: Any, right: Any, op: str = "==") -> dict[str, Any]:
    return {"match": {"op": op, "left": left, "right": right}}


def payload(protocol: str, field: str) -> dict[str, Any]:
    return {"payload": {"protocol": protocol, "field": field}}


def saddr(right: Any, op: str = "==", v: int = 4) -> dict[str, Any]:
    return match(payload("ip" if v == 4 else "ip6", "saddr"), right, op)


def daddr(right: Any, op: str = "==", v: int = 4) -> dict[str, Any]:
    return match(payload("ip" if v == 4 else "ip6", "daddr"), right, op)


def dport(protocol: str, right: Any, op: str = "==") -> dict[str, Any]:
    return match(payload(protocol, "dport"), right, op)


def meta(key: str, right: Any, op: str = "==") -> dict[str, Any]:
    return match({"meta": {"key": key}}, right, op)


def prefix(addr: str, length: int) -> dict[str, Any]:
    return {"prefix": {"addr": addr, "len": length}}


def rng(lo: Any, hi: Any) -> dict[str, Any]:
    return {"range": [lo, hi]}


def aset(*items: Any) -> dict[str, Any]:
    return {"set": list(items)}


ACCEPT: dict[str, Any] = {"accept": None}
DROP: dict[str, Any] = {"drop": None}
RETURN: dict[str, Any] = {"return": None}
COUNTER: dict[str, Any] = {"counter": {"packets": 0, "bytes": 0}}


def jump(target: str) -> dict[str, Any]:
    return {"jump": {"target": target}}


def goto(target: str) -> dict[str, Any]:
    return {"goto": {"target": target}}


def fwd(*rules: dict[str, Any], policy: str = "drop", extra: tuple[Any, ...] = ()) -> ParsedConfig:
    """A ruleset with one inet forward chain `f` holding `rules`, plus `extra` objects."""
    return parse([table(), chain("f", "forward", policy), *extra, *rules])


def rules_of(parsed: ParsedConfig) -> tuple[Rule, ...]:
    (context,) = parsed.contexts
    return context.rules


def summary(r: Rule) -> tuple[Any, ...]:
    return (r.id, r.action, r.source, r.destination, r.services, r.from_zones, r.to_zones)


def kinds(parsed: ParsedConfig) -> list[str]:
    return [i.kind for i in parsed.issues]


# --- the real `nft` export ------------------------------------------------------------------

FEATURES = [
    # (id, action, source, destination, services, from, to, assumptions, nftables[i])
    # forward/dmz-in (`iifname "dmz0" oifname "lan0" drop`) is ignored: see FEATURE_ISSUES
    ("forward/ssh-out", Action.ACCEPT, M("10.0.0.0/8"), Match(V4), tcp(22), ("lan0",),
     ("wan0", "wan1"), (), 14),
    ("forward/negated-src", Action.ACCEPT, Match(A("10.1.0.0/16", "::/0"), negate=True),
     M("10.2.0.1-10.2.0.20"), udp((1000, 2000)), (), (), (), 15),
    ("forward/named-sets", Action.ACCEPT, M("10.9.0.0/24", "10.9.1.5", "10.9.2.1-10.9.2.9"),
     Match(V4), tcp(80, 443), (), (), (), 16),
    ("forward/v6-icmp", Action.ACCEPT, M("2001:db8:10::/48"), M("2001:db8:1::1"),
     proto(ICMPV6), (), (), (), 17),
    ("forward/handle 19", Action.ACCEPT, Match(V4), Match(V4), proto(ICMP), (), (), (), 18),
    ("forward/dns", Action.ACCEPT, ANY, ANY, tcp(53).union(udp(53)), (), (), (), 19),
    ("forward/deny-web-alt", Action.DENY, Match(V4), M("10.40.0.0/16"), tcp((8000, 8100), 9000),
     (), (), (), 20),
    ("forward/after-deny", Action.ACCEPT, Match(V4), M("10.40.0.0/16"), tcp((8000, 9999)), (),
     (), (), 21),
    ("forward/mark-accept", Action.ACCEPT, ANY, ANY, ALL, (), (),
     (Assumption.UNRESOLVED_ALLOW_WIDENED,), 23),
    # ip daddr vmap @to_tier: 10.20.0.0/16 jumps to lgwan, whose `ip saddr 10.1.1.1 return`
    # takes that address out of the rule after it
    ("lgwan/lgwan-smb", Action.ACCEPT, M("0.0.0.0-10.1.1.0", "10.1.1.2-255.255.255.255"),
     M("10.20.0.0/16"), tcp(445), (), (), (), 31),
    ("forward/handle 28", Action.ACCEPT, Match(V4), M("10.30.0.1"), ALL, (), (), (), 25),
    ("mn/mn-https", Action.ACCEPT, M("10.1.0.0/16"), M("10.50.0.0/16"), tcp(443), (), (), (), 32),
    ("mn/mn-rest", Action.DENY, Match(V4), M("10.50.0.0/16"), ALL, (), (), (), 33),
    ("internet/inet-snmp", Action.ACCEPT, Match(V4), M("10.60.0.0/16"), udp(161), (), (), (), 34),
    # what falls out of a goto'd chain meets the base chain's policy, not the next rule
    ("forward/to-inet", Action.DENY, Match(V4), M("10.60.0.0/16"), ALL, (), (), (), 27),
    ("forward/stateful-new", Action.ACCEPT, Match(V4), M("10.70.0.0/16"), tcp(3389), (), (), (),
     28),
]  # fmt: skip

FEATURE_ISSUES = [
    ("warning", "chain inet filter input (hook input): filters traffic to or from the firewall", 11),
    ("warning", "inet filter forward/dmz-in: drop limited to interfaces (dmz0, lan0) whose", 13),
    ("unrecognised", "inet filter forward/dynamic-drop: not understood: ip saddr == set @blocked", 22),
    ("unrecognised", "inet filter forward/mark-accept: not understood: meta mark == 1; its accepts", 23),
    ("unrecognised", "inet filter forward/mark-drop: not understood: meta mark == 2; its drop is", 24),
    ("nat", "chain ip nat postrouting (hook postrouting): NAT is not modelled", 37),
]  # fmt: skip


@pytest.fixture(scope="module")
def features() -> ParsedConfig:
    path = DATA / "features.json"
    return parse_nftables(path, path.read_bytes(), display_name="features.json")


def test_features_rules_in_evaluation_order(features: ParsedConfig) -> None:
    assert features.format == "nftables" and features.file == "features.json"
    (context,) = features.contexts
    assert context.name == "ruleset"
    assert context.default_action is Action.DENY  # policy drop
    assert context.interfaces == () and context.routes == ()
    got = [
        (
            r.id.removeprefix("inet filter "),
            r.action,
            r.source,
            r.destination,
            r.services,
            r.from_zones,
            r.to_zones,
            r.assumptions,
            r.origin.xpath,
        )
        for r in context.rules
    ]
    want = [(*row[:-1], f"nftables[{row[-1]}].rule") for row in FEATURES]
    assert got == want


def test_features_issues(features: ParsedConfig) -> None:
    assert features.status is ImportStatus.PARTLY_RECOGNISED
    got = [(i.kind, i.origin.xpath) for i in features.issues]
    kind_of = {"chain": (11, 37)}
    assert got == [
        (kind, f"nftables[{index}].{'chain' if index in kind_of['chain'] else 'rule'}")
        for kind, _, index in FEATURE_ISSUES
    ]
    for issue, (_, text, _) in zip(features.issues, FEATURE_ISSUES, strict=True):
        assert issue.message.startswith(text), issue.message


def test_features_hash_and_names(features: ParsedConfig) -> None:
    import hashlib

    assert features.sha256 == hashlib.sha256((DATA / "features.json").read_bytes()).hexdigest()
    by_id = {r.id: r for r in rules_of(features)}
    assert by_id["inet filter forward/ssh-out"].name == "ssh-out"
    assert by_id["inet filter forward/handle 19"].name is None  # no comment: the handle


def test_pretty_printed_json_gives_lines(features: ParsedConfig) -> None:
    """Indented JSON: every rule located at the line of its "rule" key; same rules otherwise."""
    path = DATA / "features.pretty.json"
    pretty = parse_nftables(path, path.read_bytes(), display_name="features.pretty.json")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [summary(r) for r in rules_of(pretty)] == [summary(r) for r in rules_of(features)]
    for r in rules_of(pretty):
        assert r.origin.line is not None and r.origin.xpath is not None
        assert lines[r.origin.line - 1].strip() == '"rule": {'
        # the object on that line is the one the xpath names (its comment or handle is below)
        block = "\n".join(lines[r.origin.line - 1 : r.origin.line + 6])
        tail = r.id.split("/", 1)[1]
        assert (f'"comment": "{tail}"' in block) or (f'"handle": {tail[7:]}' in block)
        assert str(r.origin) == f"features.pretty.json:{r.origin.line}"
    # one-line JSON has no useful line: the xpath stands in
    one = rules_of(features)[0]
    assert one.origin.line is None and str(one.origin) == "features.json:nftables[14].rule"
    issue_lines = [i.origin.line for i in pretty.issues]
    assert all(n is not None for n in issue_lines)


# --- base chains and policies ---------------------------------------------------------------


def test_only_forward_chains_carry_transit_traffic() -> None:
    parsed = parse(
        [
            table(),
            chain("in", "input", "drop"),
            chain("out", "output", "drop"),
            chain("pre", "prerouting", "accept"),
            chain("f", "forward", "accept"),
            rule("in", dport("tcp", 22), ACCEPT, comment="ssh-to-fw"),
            rule("out", DROP),
            rule("pre", dport("tcp", 23), DROP),
            rule("f", dport("tcp", 443), ACCEPT, comment="web"),
        ]
    )
    (context,) = parsed.contexts
    assert [r.id for r in context.rules] == ["inet t f/web", "inet t f/policy accept"]
    # forward policy accept (input's drop is moot), also written out as a last accept-all rule
    assert context.default_action is Action.ACCEPT
    last = context.rules[-1]
    assert (last.action, last.source, last.destination, last.services) == (
        Action.ACCEPT,
        ANY,
        ANY,
        ALL,
    )
    assert last.origin.xpath == "nftables[4].chain"
    assert kinds(parsed) == ["warning", "warning", "warning"]
    assert "firewall itself" in parsed.issues[0].message
    assert parsed.status is ImportStatus.PASSED


def test_no_forward_chain_filters_nothing() -> None:
    parsed = parse([table(), chain("in", "input", "drop"), rule("in", DROP)])
    (context,) = parsed.contexts
    assert context.default_action is Action.ACCEPT
    assert [(r.id, r.action, r.source, r.services) for r in context.rules] == [
        ("ruleset/no forward chain", Action.ACCEPT, ANY, ALL)
    ]
    assert any("no forward base chain" in i.message for i in parsed.issues)
    empty = parse([])
    assert empty.contexts[0].default_action is Action.ACCEPT
    assert [r.id for r in empty.contexts[0].rules] == ["ruleset/no forward chain"]
    assert "no forward base chain" in empty.issues[0].message


def test_several_forward_chains_in_priority_order() -> None:
    parsed = parse(
        [
            table(),
            table("ip", "legacy"),
            chain("late", "forward", "accept", prio=10),
            chain("early", "forward", "drop", family="ip", tbl="legacy", prio="filter"),
            rule("late", dport("udp", 53), ACCEPT, comment="dns"),
            rule("early", dport("tcp", 22), ACCEPT, comment="ssh", family="ip", tbl="legacy"),
        ]
    )
    (context,) = parsed.contexts
    assert [r.id for r in context.rules] == ["ip legacy early/ssh", "inet t late/dns"]
    # ip-family chain: IPv4 only, even without an address match
    assert rules_of(parsed)[0].source == Match(V4) and rules_of(parsed)[1].source == ANY
    assert context.default_action is Action.DENY  # one of them drops what falls through
    messages = [i.message for i in parsed.issues]
    assert any("2 forward base chains" in m for m in messages)


def test_single_family_ruleset_warns_about_the_other() -> None:
    parsed = parse([table("ip", "t"), chain("f", "forward", "drop", family="ip")])
    assert any("no forward chain sees IPv6" in i.message for i in parsed.issues)


def test_dormant_table_and_nat_chains() -> None:
    parsed = parse(
        [
            table("inet", "off", flags=["dormant"]),
            chain("f", "forward", "drop", tbl="off"),
            rule("f", ACCEPT, tbl="off"),
            table("ip", "nat"),
            chain("pre", "prerouting", "accept", family="ip", tbl="nat", type_="nat"),
        ]
    )
    assert [r.id for r in rules_of(parsed)] == ["ruleset/no forward chain"]
    # in document order: no forward chain (the whole ruleset), dormant table, NAT chain
    assert kinds(parsed) == ["warning", "warning", "nat"]


# --- matches ------------------------------------------------------------------------------------


def test_address_forms() -> None:
    parsed = fwd(
        rule("f", saddr("10.0.0.1"), daddr(prefix("10.1.0.0", 16)), ACCEPT, comment="scalar"),
        rule("f", saddr(rng("10.0.0.5", "10.0.0.9")), ACCEPT, comment="range"),
        rule(
            "f",
            saddr(aset(prefix("10.2.0.0", 24), "10.3.0.1", rng("10.4.0.1", "10.4.0.2"))),
            ACCEPT,
            comment="anon-set",
        ),  # fmt: skip
        rule("f", saddr("@lan"), ACCEPT, comment="named"),
        rule("f", saddr("2001:db8::/32" and prefix("2001:db8::", 32), v=6), ACCEPT, comment="v6"),
        # host bits in a prefix are masked as the kernel does
        rule("f", daddr(prefix("10.9.9.9", 24)), ACCEPT, comment="hostbits"),
        extra=(
            {
                "set": {
                    "family": "inet",
                    "table": "t",
                    "name": "lan",
                    "type": "ipv4_addr",
                    "flags": ["interval"],
                    "elem": [prefix("192.168.0.0", 24), {"elem": {"val": "192.168.9.9"}}],
                }
            },
        ),
    )
    got = {r.id.split("/")[1]: (r.source, r.destination) for r in rules_of(parsed)}
    assert got == {
        "scalar": (M("10.0.0.1"), M("10.1.0.0/16")),
        "range": (M("10.0.0.5-10.0.0.9"), Match(V4)),
        "anon-set": (M("10.2.0.0/24", "10.3.0.1", "10.4.0.1-10.4.0.2"), Match(V4)),
        "named": (M("192.168.0.0/24", "192.168.9.9"), Match(V4)),
        "v6": (M("2001:db8::/32"), Match(V6)),
        "hostbits": (Match(V4), M("10.9.9.0/24")),
    }
    assert parsed.issues == ()


def test_negated_addresses() -> None:
    parsed = fwd(
        rule("f", daddr(aset(prefix("10.0.0.0", 8), "192.168.1.1"), "!="), ACCEPT, comment="neg"),
        rule("f", saddr(prefix("10.0.0.0", 8)), saddr("10.1.2.3", "!="), ACCEPT, comment="both"),
        rule("f", saddr(prefix("2001:db8::", 32), "!=", v=6), ACCEPT, comment="neg6"),
    )
    neg, both, neg6 = rules_of(parsed)
    # complemented within the interface/zone space; the other family is not matched either
    assert neg.destination == Match(A("10.0.0.0/8", "192.168.1.1", "::/0"), negate=True)
    assert neg.source == Match(V4)
    assert both.source == M("10.0.0.0-10.1.2.2", "10.1.2.4-10.255.255.255")
    assert neg6.source == Match(A("2001:db8::/32", "0.0.0.0/0"), negate=True)


def test_services() -> None:
    parsed = fwd(
        rule("f", dport("tcp", 443), ACCEPT, comment="one"),
        rule("f", dport("udp", rng(1000, 2000)), ACCEPT, comment="range"),
        rule("f", dport("tcp", aset(rng(8000, 8100), 9000, "22")), ACCEPT, comment="set"),
        rule("f", dport("tcp", "@web"), ACCEPT, comment="named"),
        rule("f", meta("l4proto", aset("tcp", "udp")), dport("th", 53), ACCEPT, comment="th"),
        rule("f", meta("l4proto", "udp"), ACCEPT, comment="l4proto"),
        rule("f", match(payload("ip", "protocol"), "icmp"), ACCEPT, comment="ip-protocol"),
        rule("f", match(payload("ip6", "nexthdr"), 58), ACCEPT, comment="nexthdr"),
        rule("f", dport("tcp", 22, "!="), ACCEPT, comment="not-ssh"),
        rule("f", dport("tcp", 1024, "<"), ACCEPT, comment="low"),
        rule("f", meta("l4proto", "tcp", "!="), ACCEPT, comment="not-tcp"),
        rule("f", meta("l4proto", "udp"), dport("tcp", 22), ACCEPT, comment="never"),
        extra=(
            {
                "set": {
                    "family": "inet",
                    "table": "t",
                    "name": "web",
                    "type": "inet_service",
                    "elem": [80, 443],
                }
            },
        ),  # fmt: skip
    )
    got = {r.id.split("/")[1]: r.services for r in rules_of(parsed)}
    every_but_tcp = ALL.difference(proto(TCP))
    assert got == {
        "one": tcp(443),
        "range": udp((1000, 2000)),
        "set": tcp(22, (8000, 8100), 9000),
        "named": tcp(80, 443),
        "th": tcp(53).union(udp(53)),
        "l4proto": proto(UDP),
        "ip-protocol": proto(ICMP),
        "nexthdr": proto(ICMPV6),
        "not-ssh": tcp((0, 21), (23, 65535)),
        "low": tcp((0, 1023)),
        "not-tcp": every_but_tcp,
        # "never" matches nothing (udp and tcp at once): not a rule
    }
    by = {r.id.split("/")[1]: r for r in rules_of(parsed)}
    assert by["ip-protocol"].source == Match(V4) and by["nexthdr"].source == Match(V6)


def test_interfaces_become_zones() -> None:
    parsed = fwd(
        rule(
            "f", meta("iifname", "lan0"), meta("oifname", aset("wan0", "wan1")), ACCEPT, comment="a"
        ),
        rule("f", meta("iif", "dmz0"), DROP, comment="dmz-drop"),
        rule("f", meta("iifname", "lan0", "!="), ACCEPT, comment="not-lan"),
        rule("f", meta("oifname", "wan0", "!="), DROP, comment="not-wan"),
    )
    a, c = rules_of(parsed)
    assert (a.id, a.from_zones, a.to_zones) == ("inet t f/a", ("lan0",), ("wan0", "wan1"))
    # a negated interface has no zone list: the accept is widened, the drop ignored
    assert c.id == "inet t f/not-lan" and (c.from_zones, c.to_zones) == ((), ())
    assert c.assumptions == (Assumption.UNRESOLVED_ALLOW_WIDENED,)
    # a drop limited to an interface cannot be placed (no addresses behind it): ignored
    assert [(i.kind, i.message.split(":")[0]) for i in parsed.issues] == [
        ("warning", "inet t f/dmz-drop"),
        ("unrecognised", "inet t f/not-lan"),
        ("unrecognised", "inet t f/not-wan"),
    ]
    assert "never hides a path" in parsed.issues[0].message


def test_stateful_rules() -> None:
    ct = {"ct": {"key": "state"}}
    parsed = fwd(
        rule("f", match(ct, ["established", "related"], "in"), COUNTER, ACCEPT, comment="return"),
        rule("f", match(ct, "invalid", "in"), DROP, comment="invalid"),
        rule("f", {"vmap": {"key": ct, "data": aset(["established", ACCEPT], ["invalid", DROP])}}),
        rule("f", match(ct, "new", "in"), dport("tcp", 22), ACCEPT, comment="new"),
        rule("f", match(ct, aset("new", "untracked")), dport("tcp", 23), DROP, comment="set"),
        rule("f", match(ct, "established", "!="), dport("tcp", 24), ACCEPT, comment="not-est"),
        rule("f", match(ct, "new", "!="), ACCEPT, comment="not-new"),
        rule("f", {"vmap": {"key": ct, "data": aset(["new", jump("c")])}}, comment="vm-new"),
        extra=(chain("c"), rule("c", dport("udp", 53), ACCEPT, comment="c-dns")),
    )
    # established/related/invalid never see a flow's first packet: not rules at all
    got = [(r.id.split("/")[1], r.action, r.services) for r in rules_of(parsed)]
    assert got == [
        ("new", Action.ACCEPT, tcp(22)),
        ("set", Action.DENY, tcp(23)),
        ("not-est", Action.ACCEPT, tcp(24)),
        ("c-dns", Action.ACCEPT, udp(53)),
    ]
    assert parsed.issues == ()


def test_verdicts_and_rules_without_one() -> None:
    parsed = fwd(
        rule("f", dport("tcp", 1), {"reject": {"type": "icmpx", "expr": "port-unreachable"}}),
        rule("f", dport("tcp", 2), {"reject": None}),
        rule("f", dport("tcp", 3), COUNTER, {"log": {"prefix": "x"}}, comment="no-verdict"),
        rule("f", dport("tcp", 4), {"continue": None}, comment="continue"),
        rule("f", dport("tcp", 5), {"queue": {"num": 1}}, comment="queue"),
        rule("f", COUNTER, comment="default-drop"),
        rule("f", {"mangle": {"key": {"meta": {"key": "mark"}}, "value": 1}}, DROP, comment="mk"),
    )
    got = [(r.id.split("/")[1], r.action, r.services) for r in rules_of(parsed)]
    assert got[0][1:] == (Action.DENY, tcp(1)) and got[1][1:] == (Action.DENY, tcp(2))
    # user space decides on queued packets: kept as an accept, widened
    assert got[2] == ("queue", Action.ACCEPT, tcp(5))
    assert rules_of(parsed)[2].assumptions == (Assumption.UNRESOLVED_ALLOW_WIDENED,)
    assert got[3] == ("mk", Action.DENY, ALL)  # setting a mark changes no verdict
    assert len(got) == 4
    assert [i.kind for i in parsed.issues] == ["unrecognised"]


def test_unrecognised_accept_widened_drop_ignored() -> None:
    mark = {"meta": {"key": "mark"}}
    parsed = fwd(
        rule("f", daddr("10.0.0.1"), match(mark, 1), DROP, comment="mark-drop"),
        rule("f", daddr("10.0.0.1"), match(mark, 1), dport("tcp", 80), ACCEPT, comment="mark-ok"),
        rule("f", dport("tcp", 80), match(payload("tcp", "sport"), 53), ACCEPT, comment="sport"),
        rule(
            "f",
            match(
                {"concat": [payload("ip", "saddr"), payload("tcp", "dport")]},
                aset({"concat": ["10.0.0.1", 22]}),
            ),
            ACCEPT,
            comment="concat",
        ),  # fmt: skip
        rule("f", saddr("@nowhere"), DROP, comment="undefined-drop"),
        rule("f", saddr("@nowhere"), ACCEPT, comment="undefined-accept"),
        rule("f", saddr("@dyn"), ACCEPT, comment="dynamic-accept"),
        rule("f", {"xt": {"type": "match", "name": "recent"}}, ACCEPT, comment="xt"),
        extra=(
            {
                "set": {
                    "family": "inet",
                    "table": "t",
                    "name": "dyn",
                    "type": "ipv4_addr",
                    "flags": ["dynamic"],
                }
            },
        ),  # fmt: skip
    )
    rules = {r.id.split("/")[1]: r for r in rules_of(parsed)}
    assert set(rules) == {
        "mark-ok", "sport", "concat", "undefined-accept", "dynamic-accept", "xt"
    }  # fmt: skip
    widened = (Assumption.UNRESOLVED_ALLOW_WIDENED,)
    # the understood conditions stay, the unknown one is dropped
    assert summary(rules["mark-ok"])[2:5] == (Match(V4), M("10.0.0.1"), tcp(80))
    assert rules["mark-ok"].assumptions == widened
    assert rules["sport"].services == tcp(80) and rules["sport"].assumptions == widened
    assert rules["concat"].source == ANY and rules["concat"].services == ALL
    und = rules["undefined-accept"]
    assert und.source == Match(
        V4, unresolved=("ip saddr == set @nowhere that the table does not define",)
    )
    assert und.assumptions == (Assumption.UNRESOLVED_ALLOW_WIDENED, Assumption.UNDEFINED_OBJECT)
    assert rules["dynamic-accept"].source.unresolved == (
        "ip saddr == set @dyn (its content changes at run time)",
    )
    issues = [(i.kind, i.message.split(":")[0].split("/")[1]) for i in parsed.issues]
    assert issues == [
        ("unrecognised", "mark-drop"),
        ("unrecognised", "mark-ok"),
        ("unrecognised", "sport"),
        ("unrecognised", "concat"),
        ("undefined", "undefined-drop"),
        ("undefined", "undefined-accept"),
        ("unrecognised", "dynamic-accept"),
        ("unrecognised", "xt"),
    ]
    assert "its drop is ignored" in parsed.issues[0].message
    assert "widened" in parsed.issues[1].message
    assert parsed.status is ImportStatus.PARTLY_RECOGNISED


def test_approximate_conditions() -> None:
    """ICMP type, TCP flags, rate limits: the model widens them (fine in an accept only)."""
    icmp_type = match(payload("icmp", "type"), "echo-request")
    parsed = fwd(
        rule("f", icmp_type, ACCEPT, comment="ping"),
        rule("f", icmp_type, DROP, comment="no-ping"),
        rule(
            "f", dport("tcp", 22), {"limit": {"rate": 10, "per": "second"}}, ACCEPT, comment="lim"
        ),
        rule("f", dport("tcp", 23), {"limit": {"rate": 10, "per": "second"}}, DROP, comment="ld"),
    )
    got = [(r.id.split("/")[1], r.action, r.services) for r in rules_of(parsed)]
    assert got == [("ping", Action.ACCEPT, proto(ICMP)), ("lim", Action.ACCEPT, tcp(22))]
    assert [i.kind for i in parsed.issues] == ["warning", "warning"]
    assert parsed.status is ImportStatus.PASSED


# --- jumps, gotos, returns --------------------------------------------------------------------


def test_jump_inlined_in_order() -> None:
    parsed = fwd(
        rule("f", dport("tcp", 1), ACCEPT, comment="before"),
        rule("f", saddr(prefix("10.1.0.0", 16)), jump("lan"), comment="to-lan"),
        rule("f", dport("tcp", 3), ACCEPT, comment="after"),
        extra=(
            chain("lan"),
            rule("lan", daddr(prefix("10.0.0.0", 8)), DROP, comment="no-internal"),
            rule("lan", dport("tcp", 2), ACCEPT, comment="lan-ok"),
        ),
    )
    got = [(r.id, r.action, r.source, r.destination, r.services) for r in rules_of(parsed)]
    lan = M("10.1.0.0/16")
    assert got == [
        ("inet t f/before", Action.ACCEPT, ANY, ANY, tcp(1)),
        ("inet t lan/no-internal", Action.DENY, lan, M("10.0.0.0/8"), ALL),
        ("inet t lan/lan-ok", Action.ACCEPT, lan, Match(V4), tcp(2)),
        ("inet t f/after", Action.ACCEPT, ANY, ANY, tcp(3)),
    ]


def test_return_and_goto() -> None:
    parsed = fwd(
        rule("f", jump("sub")),
        rule("f", goto("g"), comment="goto-all"),
        rule("f", dport("tcp", 9), ACCEPT, comment="unreached"),
        policy="accept",
        extra=(
            chain("sub"),
            chain("g"),
            rule("sub", saddr("10.0.0.1"), dport("tcp", 22), RETURN, comment="ret"),
            # the return differs from this rule on the source only: subtracted exactly
            rule("sub", dport("tcp", 22), DROP, comment="exact"),
            # on the source and the ports: a drop cannot be narrowed exactly → ignored
            rule("sub", dport("tcp", rng(21, 23)), DROP, comment="sub-drop"),
            rule("sub", dport("tcp", 24), ACCEPT, comment="disjoint"),
            rule("sub", RETURN),
            rule("sub", ACCEPT, comment="after-return"),
            rule("g", dport("udp", 53), ACCEPT, comment="g-dns"),
        ),
    )
    got = [
        (r.id.split("/")[1], r.action, r.source, r.services, r.assumptions)
        for r in rules_of(parsed)
    ]
    assert got == [
        ("exact", Action.DENY, M("0.0.0.0-10.0.0.0", "10.0.0.2-255.255.255.255", "::/0"),
         tcp(22), ()),
        ("disjoint", Action.ACCEPT, ANY, tcp(24), ()),
        ("g-dns", Action.ACCEPT, ANY, udp(53), ()),
        # what falls out of a goto'd chain meets the policy (accept here), not `unreached`
        ("goto-all", Action.ACCEPT, ANY, ALL, ()),
        ("policy accept", Action.ACCEPT, ANY, ALL, ()),
    ]  # fmt: skip
    assert [(i.kind, i.message.split(":")[0]) for i in parsed.issues] == [
        ("warning", "inet t sub/sub-drop")
    ]
    # an accept after a return that cannot be subtracted exactly is kept, widened
    parsed = fwd(
        rule("f", jump("sub")),
        extra=(
            chain("sub"),
            rule("sub", saddr("10.0.0.1"), dport("tcp", 22), RETURN),
            rule("sub", daddr("10.0.0.2"), ACCEPT, comment="kept"),
        ),
    )
    (kept,) = rules_of(parsed)
    assert kept.assumptions == (Assumption.UNRESOLVED_ALLOW_WIDENED,)
    assert kept.destination == M("10.0.0.2") and kept.services == ALL


def test_return_folded_exactly_on_one_dimension() -> None:
    parsed = fwd(
        rule("f", daddr(prefix("10.5.0.0", 16)), jump("sub")),
        extra=(
            chain("sub"),
            rule("sub", dport("tcp", aset(22, 23)), RETURN),
            rule("sub", dport("tcp", rng(1, 100)), DROP, comment="d"),
            rule("sub", saddr(prefix("10.1.0.0", 16)), RETURN),
            rule("sub", ACCEPT, comment="a"),
        ),
    )
    d, a = rules_of(parsed)
    assert (d.action, d.services, d.destination) == (
        Action.DENY,
        tcp((1, 21), (24, 100)),
        M("10.5.0.0/16"),
    )
    # both returns apply to `a`, each on one dimension: both subtracted exactly
    assert (a.action, a.source, a.destination, a.services, a.assumptions) == (
        Action.ACCEPT,
        M("0.0.0.0-10.0.255.255", "10.2.0.0-255.255.255.255"),
        M("10.5.0.0/16"),
        ALL.difference(tcp(22, 23)),
        (),
    )
    assert parsed.issues == ()


def test_return_in_base_chain_means_policy() -> None:
    parsed = fwd(
        rule("f", saddr("10.0.0.1"), RETURN, comment="ret"),
        rule("f", ACCEPT, comment="all"),
    )
    ret, all_ = rules_of(parsed)
    assert (ret.id, ret.action, ret.source) == ("inet t f/ret", Action.DENY, M("10.0.0.1"))
    assert all_.action is Action.ACCEPT


def test_vmap_on_interfaces_and_named_map() -> None:
    parsed = fwd(
        rule(
            "f",
            {
                "vmap": {
                    "key": {"meta": {"key": "iifname"}},
                    "data": aset(["lan0", jump("lan")], ["dmz0", DROP]),
                }
            },  # fmt: skip
            comment="by-if",
        ),
        rule("f", {"vmap": {"key": payload("ip", "daddr"), "data": "@m"}}, comment="by-dst"),
        rule("f", {"vmap": {"key": payload("ip", "daddr"), "data": "@missing"}}, comment="gone"),
        extra=(
            chain("lan"),
            rule("lan", dport("tcp", 443), ACCEPT, comment="lan-web"),
            {
                "map": {
                    "family": "inet",
                    "table": "t",
                    "name": "m",
                    "type": "ipv4_addr",
                    "map": "verdict",
                    "elem": [[prefix("10.8.0.0", 16), ACCEPT]],
                }
            },
        ),  # fmt: skip
    )
    got = [(r.id, r.action, r.destination, r.from_zones, r.services) for r in rules_of(parsed)]
    assert got[:2] == [
        ("inet t lan/lan-web", Action.ACCEPT, ANY, ("lan0",), tcp(443)),
        # "dmz0": drop is limited to an interface: ignored (a warning)
        ("inet t f/by-dst", Action.ACCEPT, M("10.8.0.0/16"), (), ALL),
    ]
    # an undefined map may send anything anywhere: kept as an accept of everything, widened
    assert got[2][:2] == ("inet t f/gone", Action.ACCEPT)
    assert rules_of(parsed)[2].assumptions == (
        Assumption.UNRESOLVED_ALLOW_WIDENED,
        Assumption.UNDEFINED_OBJECT,
    )
    assert kinds(parsed) == ["warning", "undefined"]


def test_jump_depth_cap_loops_and_undefined_chains() -> None:
    chains = [chain(f"c{i}") for i in range(MAX_DEPTH + 4)]
    links = [rule(f"c{i}", jump(f"c{i + 1}"), comment=f"j{i}") for i in range(MAX_DEPTH + 3)]
    parsed = fwd(
        rule("f", dport("tcp", 80), jump("c0"), comment="deep"),
        rule("f", jump("nowhere"), comment="undefined"),
        rule("f", jump("loop"), comment="loop"),
        extra=(
            *chains,
            *links,
            rule(f"c{MAX_DEPTH + 3}", DROP, comment="bottom"),
            chain("loop"),
            rule("loop", jump("loop"), comment="self"),
        ),
    )
    got = [(r.id, r.action, r.services) for r in rules_of(parsed)]
    # beyond the cap the chain is unread: what the jump selects is kept as an accept (widened)
    assert got[0][1:] == (Action.ACCEPT, tcp(80)) and got[0][0].startswith("inet t c")
    assert ("inet t f/undefined", Action.ACCEPT, ALL) in got
    assert ("inet t loop/self", Action.ACCEPT, ALL) in got
    assert all(r.assumptions[0] is Assumption.UNRESOLVED_ALLOW_WIDENED for r in rules_of(parsed))
    assert sorted(kinds(parsed)) == ["undefined", "unrecognised", "unrecognised"]


# --- ids, structure, bad input ------------------------------------------------------------------


def test_rule_ids() -> None:
    parsed = parse(
        [
            table("ip6", "fw6"),
            chain("fwd6", "forward", "drop", family="ip6", tbl="fw6"),
            rule("fwd6", ACCEPT, comment="  keep me ", family="ip6", tbl="fw6"),
            {"rule": {"family": "ip6", "table": "fw6", "chain": "fwd6", "handle": 7,
                      "expr": [ACCEPT]}},
        ]
    )  # fmt: skip
    assert [r.id for r in rules_of(parsed)] == ["ip6 fw6 fwd6/keep me", "ip6 fw6 fwd6/handle 7"]
    assert rules_of(parsed)[0].source == Match(V6)


def test_structural_problems_degrade_to_issues() -> None:
    parsed = fwd(
        rule("f", dport("tcp", 1), ACCEPT, comment="ok"),
        {"rule": {"family": "inet", "table": "t", "chain": "ghost", "expr": [ACCEPT]}},
        {"rule": {"family": "inet", "table": "t", "chain": "f", "expr": "accept"}},
        {"rule": "nonsense"},
        [1, 2],
        {"rule": {"family": "inet", "table": "t", "chain": "f", "expr": [ACCEPT, 5]}},
        rule("f", saddr(prefix("10.0.0.0", 99)), ACCEPT, comment="badprefix"),
        rule("f", saddr("not-an-ip"), DROP, comment="badaddr"),
        rule("f", saddr("10.0.0.1\x00"), DROP, comment="nul"),
    )
    assert [r.id.split("/")[1] for r in rules_of(parsed)] == ["ok", "handle None", "badprefix"]
    assert kinds(parsed) == [
        "undefined",  # chain ghost
        "unrecognised",  # expr not a list
        "unrecognised",  # `{"rule": "nonsense"}`
        "unrecognised",  # [1, 2]
        "unrecognised",  # prefix length 99
        "unrecognised",  # not an address
        "unrecognised",  # an embedded NUL
    ]
    assert [i.origin.xpath for i in parsed.issues[:4]] == [
        "nftables[3].rule",
        "nftables[4].rule",
        "nftables[5].rule",
        "nftables[6]",
    ]


@pytest.mark.parametrize(
    ("data", "line", "text"),
    [
        (b'{"nftables": [\n  {"table": }\n]}', 2, "not JSON"),
        (b"", 1, "not JSON"),
        (b'{"tables": []}', 1, "no top-level"),
        (b"[1, 2]", 1, "no top-level"),
        (b'{"nftables": [{"rule": "\xff"}]}', 1, "not UTF-8"),
        (b"\n\n" + b"[" * 100000, None, ""),
        (b"# exported\ntable inet filter {\n}\n", 1, "nft's text format, not JSON"),
    ],
)
def test_bad_input_is_one_config_error(data: bytes, line: int | None, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_nftables(Path("x.json"), data, display_name="conf/x.json")
    assert info.value.path == "conf/x.json"
    if line is not None:
        assert info.value.line == line
    assert text in info.value.detail


def test_str_input_and_bom() -> None:
    text = json.dumps({"nftables": [table(), chain("f", "forward", "drop")]})
    a = parse_nftables(Path("a"), text, display_name="a")
    b = parse_nftables(Path("a"), b"\xef\xbb\xbf" + text.encode(), display_name="a")
    assert a.contexts == b.contexts and a.contexts[0].default_action is Action.DENY
