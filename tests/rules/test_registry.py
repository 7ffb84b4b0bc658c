"""Meta-tests on where rules live: every rule id is a catalogued constant, every catalogued rule
is reached by the matrix, a matrix exception, a registered node or channel rule, or the flow
judge, and the declarations of what each part can fire agree with what it does fire."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
from datetime import date
from itertools import product
from pathlib import Path

import pytest

import segcheck
from segcheck import parse_topology
from segcheck.addressing import AddressMap, parse_ip
from segcheck.analysis.chukan import PLAN_RULES as CHUKAN_PLAN_RULES
from segcheck.analysis.monitoring import PLAN_RULES
from segcheck.findings import Finding
from segcheck.flowjudge import FLOW_RULES, FlowJudge
from segcheck.logjoin import LOG_RULES
from segcheck.policy import EXCEPTION_RULES, MATRIX, Policy
from segcheck.rules import RULES, RULES_BY_ID, ids, make_finding
from segcheck.rules.channels import CHANNEL_RULES, ChannelRule
from segcheck.rules.nodes import NODE_RULES, NodeRule
from segcheck.services import BUILTIN_SERVICES

FIXTURE = Path(__file__).parents[1] / "data" / "topologies" / "judge-fixture.yaml"
# Every node address of the fixture, and zone addresses that are no node's: the channel ends
# (live and expired), an lbo allow-listed destination and one that is not, a public address.
ADDRESSES = [
    "10.1.20.20",
    "10.1.30.10",
    "198.19.10.10",
    "10.2.10.11",
    "10.2.20.25",
    "10.3.10.11",
    "10.3.20.26",
    "10.3.20.30",
    "10.3.30.10",
    "10.2.0.5",
    "203.0.113.1",
    "198.18.200.10",
    "198.18.200.11",
    "198.18.200.20",
    "10.1.20.40",
    "10.2.20.40",
    "198.19.10.1",
    "203.0.113.60",
    "203.0.113.61",
    "192.0.2.10",
    "8.8.8.8",
]


@dataclasses.dataclass(frozen=True)
class Flow:
    src_ip: str
    dst_ip: str
    proto: str
    dst_port: int
    src_port: int = 50000
    vlan: int | None = None
    inner_vlan: int | None = None
    packets: int = 4
    bytes: int = 400
    first_seen: float = 1_700_000_000.0
    first_frame: int = 1
    state: str = "established"
    input: str = "cap.pcap"


CELL_RULES = {cell.rule for cell in MATRIX.values() if cell.rule is not None}


def constants() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(ids).items()
        if name.isupper() and isinstance(value, str) and not name.startswith("_")
    }


def test_every_rule_id_constant_is_catalogued_under_its_own_name() -> None:
    found = constants()
    assert set(found.values()) == set(RULES_BY_ID)
    assert len(found) == len(RULES)
    for name, value in found.items():
        assert name == value.replace("-", "_")


def test_every_catalogued_rule_is_reached() -> None:
    reached = (
        CELL_RULES
        | EXCEPTION_RULES
        | {r.rule for r in NODE_RULES}
        | {r.rule for r in CHANNEL_RULES}
        | FLOW_RULES
        | PLAN_RULES
        | CHUKAN_PLAN_RULES
        | LOG_RULES
    )
    assert set(RULES_BY_ID) - reached == set(), "catalogued but nothing fires it"
    assert reached <= set(RULES_BY_ID), "fired but not catalogued"


def test_the_architecture_names_each_registered_rule_on_its_row() -> None:
    """docs/architecture.md's "Where does rule X fire?" answers a newcomer: every rule has a
    row, and every node and channel rule function is named, in backticks, on its rule's row."""
    doc = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = doc.split("## Where does rule X fire?", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in table.splitlines():
        cells = line.split("|")
        if len(cells) >= 4 and not cells[1].strip().startswith(("rule", "---")):
            for rule in cells[1].split(","):
                rows[rule.strip()] = rows.get(rule.strip(), "") + cells[2]
    assert set(rows) == set(RULES_BY_ID)
    missing = [
        f"{r.rule} {r.check.__name__}"
        for r in (*NODE_RULES, *CHANNEL_RULES)
        if f"`{r.check.__name__}`" not in rows[r.rule]
    ]
    assert not missing, missing


@pytest.mark.parametrize(
    ("module", "registry", "kind"),
    [
        ("segcheck.rules.nodes", NODE_RULES, NodeRule),
        ("segcheck.rules.channels", CHANNEL_RULES, ChannelRule),
    ],
)
def test_every_rule_function_is_registered_once_and_documented(
    module: str, registry: tuple[object, ...], kind: type
) -> None:
    defined = [v for v in vars(importlib.import_module(module)).values() if isinstance(v, kind)]
    assert set(map(id, defined)) == set(map(id, registry)), "a decorated rule is not listed"
    assert len(registry) == len(set(map(id, registry)))
    for rule in registry:
        assert inspect.getdoc(rule.check), rule  # type: ignore[attr-defined]


# An Internet-tier lbo-gateway under declared compensating controls (INET-LOCAL-BREAKOUT)
BREAKOUT = (
    "  inet-lbo: {role: lbo-gateway, ip: [10.3.0.5, 203.0.113.2], "
    "allow_destinations: [203.0.113.70/32]}\n"
    "  lbo: {",
    "settings:\n  inet_breakout_controls: [tls_inspection, tenant_restriction, logging, "
    "malware_scanning]\nchannels:",
)


def _judgements(profile: str, breakout: bool = False) -> set[str]:
    text = FIXTURE.read_text(encoding="utf-8").replace("profile: alpha", f"profile: {profile}")
    if breakout:
        text = text.replace("  lbo: {", BREAKOUT[0]).replace("channels:", BREAKOUT[1])
    topo = parse_topology(text.encode(), "t.yaml")
    policy = Policy(topo, date(2026, 11, 22))
    amap = AddressMap(topo.zones.values(), topo.nodes.values())
    infos = [amap.lookup(parse_ip(a)) for a in (*ADDRESSES, "203.0.113.70")]
    rules: set[str] = set()
    for src, dst in product(infos, infos):
        for service in BUILTIN_SERVICES:
            for path in (False, True):
                rule = policy.judge(src, dst, service, path=path).rule
                if rule is not None:
                    rules.add(rule)
    return rules


def test_the_judge_fires_only_cell_rules_and_its_declared_exceptions() -> None:
    fired = _judgements("alpha") | _judgements("alpha-prime") | _judgements("beta", True)
    assert fired <= CELL_RULES | EXCEPTION_RULES
    assert EXCEPTION_RULES <= fired, "an exception rule is declared but never fired"


def test_the_flow_judge_fires_only_the_judges_rules_and_its_own() -> None:
    topo = parse_topology(FIXTURE.read_bytes(), "t.yaml")
    judge = FlowJudge(
        Policy(topo, date(2026, 11, 22)), AddressMap(topo.zones.values(), topo.nodes.values())
    )
    unmapped = "172.16.9.9"  # private, in no zone
    flows = [
        Flow(src, dst, proto, port)
        for src, dst in product([*ADDRESSES, unmapped], repeat=2)
        for proto, port in (("tcp", 25), ("tcp", 443), ("tcp", 3389), ("udp", 53), ("tcp", 22))
    ]
    fired = {f.rule for _, f, _ in judge.judge_flows(flows) if f is not None}
    assert fired <= CELL_RULES | EXCEPTION_RULES | FLOW_RULES
    assert FLOW_RULES <= fired


def test_make_finding_takes_every_finding_field() -> None:
    params = list(inspect.signature(make_finding).parameters)
    fields = [f.name for f in dataclasses.fields(Finding)]
    # rule, message, message_ja, location positionally; severity and the rest by keyword
    assert params[:4] == ["rule", "message", "message_ja", "location"]
    assert set(params) == set(fields)


def test_no_module_spells_a_rule_id_as_a_bare_string() -> None:
    """Code names rules through the constants of segcheck/rules/ids.py (mypy then catches a
    misspelt one); only that module and the catalogue's prose may write an id out."""
    package = Path(segcheck.__file__).parent
    # settings.py names the rules each setting changes, as data the loader may read
    allowed = {package / "rules" / "ids.py", package / "settings.py"}
    spelt = []
    for path in sorted(package.rglob("*.py")):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            if isinstance(node, ast.Constant) and node.value in RULES_BY_ID:
                spelt.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.value!r}")
    assert not spelt, spelt


def test_settings_name_catalogued_rules() -> None:
    from segcheck.settings import SETTINGS

    for s in SETTINGS:
        assert s.rules and set(s.rules) <= set(RULES_BY_ID), s.key
        if s.multiple:  # a list of allowed items
            assert isinstance(s.default, tuple) and set(s.default) <= set(s.allowed), s.key
        else:
            assert s.default in s.allowed, s.key
