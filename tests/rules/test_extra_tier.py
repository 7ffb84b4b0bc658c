"""A site's extra internal tier (issue 17): declared under `tiers:` with its row and column of
the policy matrix; the built-in matrix stays the default, and every judgement, path search and
report uses the matrix of its own topology."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from segcheck import parse_topology
from segcheck.addressing import AddressMap, parse_ip
from segcheck.engine import check
from segcheck.errors import TopologyError
from segcheck.model import Tier, parse_tier
from segcheck.policy import MATRIX, TIER_ORDER, CellKind, Policy, cell

TODAY = date(2026, 6, 1)


def four_tier(**tier: Any) -> dict[str, Any]:
    """内部情報系 (naibu) beside the LGWAN tier: 財務会計 moved out of it, reached only over
    a channel from the LGWAN tier; the naibu tier reaches the LGWAN tier freely."""
    return {
        "segcheck": 1,
        "tiers": {
            "naibu": {
                "label": "内部情報系",
                "from": {"lgwan": "allow", "lgwan-network": "forbidden LG-NO-INTERNET"},
                "to": {"lgwan": "channel"},
                **tier,
            }
        },
        "zones": {
            "mn": {"tier": "mynumber", "subnets": ["10.1.0.0/24"]},
            "lg": {"tier": "lgwan", "subnets": ["10.2.0.0/24"]},
            "nb": {"tier": "naibu", "subnets": ["10.4.0.0/24"]},
            "lw": {"tier": "lgwan-network", "subnets": ["198.18.0.0/24"]},
        },
        "nodes": {
            "mn-t": {"role": "terminal", "ip": "10.1.0.10", "usb_block": True, "mfa": True},
            "lg-t": {"role": "terminal", "ip": "10.2.0.10"},
            "nb-fin": {"role": "server", "ip": "10.4.0.11"},
            "fw": {
                "role": "firewall",
                "ip": ["10.1.0.1", "10.2.0.1", "10.4.0.1"],
                "permit": [
                    {"id": "P1", "from": "lg-t", "to": "nb-fin", "service": "https"},
                    {"id": "P2", "from": "nb", "to": "lg", "service": "any"},
                ],
            },
        },
    }


def load(data: dict[str, Any]) -> Any:
    return parse_topology(yaml.safe_dump(data, allow_unicode=True).encode(), "four.yaml")


def run(data: dict[str, Any], tmp_path: Path) -> Any:
    path = tmp_path / "four.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return check(path, today=TODAY)


def facts(report: Any) -> set[tuple[str, str, str]]:
    return {(f.rule, r.src_tier, r.dst_tier) for f in report.findings for r in f.routes}


def test_the_row_and_column_are_the_topologys() -> None:
    topo = load(four_tier())
    [nb] = topo.extra_tiers
    assert nb.extra is not None and nb.extra.label == "内部情報系" and nb.internal
    assert cell(nb, Tier.LGWAN).kind is CellKind.ALLOW
    assert (cell(nb, Tier.LGWAN_NETWORK).kind, cell(nb, Tier.LGWAN_NETWORK).rule) == (
        CellKind.FORBIDDEN,
        "LG-NO-INTERNET",
    )
    assert (cell(Tier.LGWAN, nb).kind, cell(Tier.LGWAN, nb).rule) == (
        CellKind.CHANNEL,
        "GEN-DEFAULT-DENY",
    )
    # unwritten: the My Number tier's isolation, default deny elsewhere; itself: allow
    assert (cell(nb, Tier.MYNUMBER).kind, cell(nb, Tier.MYNUMBER).rule) == (
        CellKind.CHANNEL,
        "MN-ISOLATION",
    )
    assert cell(Tier.PUBLIC_INTERNET, nb).rule == "GEN-DEFAULT-DENY"
    assert cell(nb, nb).kind is CellKind.ALLOW
    # the built-in matrix is untouched: 64 cells, 8 tiers
    assert len(MATRIX) == 64 and len(TIER_ORDER) == 8 and nb not in list(Tier)


def test_paths_are_judged_by_the_declared_cells(tmp_path: Path) -> None:
    found = facts(run(four_tier(), tmp_path))
    assert ("GEN-DEFAULT-DENY", "lgwan", "naibu") in found  # a channel cell, no channel
    assert not {f for f in found if f[1:] == ("naibu", "lgwan")}  # allowed by its row


def test_a_channel_covers_a_channel_cell(tmp_path: Path) -> None:
    data = four_tier()
    data["channels"] = [
        {"id": "C1", "from": "lg-t", "to": "nb-fin", "service": "https", "reason": "財務会計"}
    ]
    report = run(data, tmp_path)
    assert not {f for f in facts(report) if f[1:] == ("lgwan", "naibu")}
    assert [f.channel for f in report.excepted] == ["C1"]


def test_flows_are_judged_by_the_declared_cells() -> None:
    topo = load(four_tier())
    policy = Policy(topo, TODAY)
    amap = AddressMap(topo.zones.values(), topo.nodes.values())

    def judge(src: str, dst: str, service: str) -> tuple[str, str | None]:
        j = policy.judge(amap.lookup(parse_ip(src)), amap.lookup(parse_ip(dst)), service)
        return j.outcome.value, j.rule

    assert judge("10.4.0.11", "10.2.0.10", "smb") == ("permitted", None)
    assert judge("10.2.0.10", "10.4.0.11", "https") == ("violation", "GEN-DEFAULT-DENY")
    assert judge("10.4.0.11", "198.18.0.5", "https") == ("violation", "LG-NO-INTERNET")
    assert judge("10.4.0.11", "10.1.0.10", "https") == ("violation", "MN-ISOLATION")


def test_two_topologies_keep_their_own_cells() -> None:
    """A diff loads the old and the new plan: one name, two rows, each its own."""
    old = load(four_tier())
    new = load(four_tier(**{"from": {"lgwan": "forbidden"}}))
    assert cell(old.extra_tiers[0], Tier.LGWAN).kind is CellKind.ALLOW
    assert cell(new.extra_tiers[0], Tier.LGWAN).kind is CellKind.FORBIDDEN


def test_an_undeclared_tier_is_unknown_even_after_another_plan_declared_it() -> None:
    load(four_tier())
    assert parse_tier("naibu") is None
    data = four_tier()
    del data["tiers"]
    with pytest.raises(TopologyError, match="unknown tier 'naibu'"):
        load(data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"from": {"mynumber": "allow"}}, "cannot be allow"),
        ({"to": {"public-internet": "allow"}}, "cannot be allow"),
        ({"from": {"lgwan": "sometimes"}}, "is not a cell"),
        ({"from": {"lgwan": "forbidden not-a-rule"}}, "is not a cell"),
        ({"from": {"nowhere": "allow"}}, "unknown tier 'nowhere'"),
        ({"colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_bad_tier_declarations_are_input_errors(change: dict[str, Any], message: str) -> None:
    with pytest.raises(TopologyError) as err:
        load(four_tier(**change))
    assert message in str(err.value) and str(err.value).startswith("four.yaml:")


def test_a_builtin_name_cannot_be_redeclared() -> None:
    data = four_tier()
    data["tiers"] = {"LGWAN接続系": {}}
    with pytest.raises(TopologyError, match="not a built-in tier"):
        load(data)


def test_an_unknown_rule_is_an_input_error_with_the_tiers_line() -> None:
    topo = load(four_tier(**{"from": {"lgwan": "forbidden NO-SUCH-RULE"}}))
    with pytest.raises(TopologyError, match="unknown rule 'NO-SUCH-RULE'") as err:
        Policy(topo, TODAY)
    assert err.value.line == topo.extra_tiers[0].extra.line
