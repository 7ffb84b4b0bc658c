"""The diagram draws every topology the loader accepts: Graphviz refuses a quoted string over
16 KiB, so long address and subnet lists are shortened (names and labels are capped at load)."""

from __future__ import annotations

import pytest

from segcheck import parse_topology
from segcheck.report import diagram


def _many(addresses: int, subnets: int) -> str:
    ips = ", ".join(f"'fd00::1234:5678:{i:x}'" for i in range(1, addresses + 1))
    nets = ", ".join(f"'fd01:{i:x}::/64'" for i in range(1, subnets + 1))
    return (
        "segcheck: 1\nzones:\n"
        f"  lg: {{tier: lgwan, subnets: ['fd00::/64', {nets}], label: {'あ' * 1024}}}\n"
        "  inet: {tier: internet, subnets: [10.3.0.0/16]}\n"
        f"nodes:\n  {'r' * 256}: {{role: router, ip: [{ips}, 10.3.0.1], label: {'ü' * 1024}}}\n"
    )


def test_long_lists_are_shortened_in_every_label() -> None:
    topo = parse_topology(_many(2000, 1500).encode(), "many.yaml")
    dot = diagram.build_dot(topo)
    longest = max(len(line.encode()) for line in dot.splitlines())
    assert longest < 16_384
    assert "fd00::1234:5678:1, " in dot and "… (+" in dot and " more)" in dot


def test_short_lists_are_drawn_whole() -> None:
    topo = parse_topology(_many(3, 3).encode(), "few.yaml")
    dot = diagram.build_dot(topo)
    assert "fd00::1234:5678:1, fd00::1234:5678:2, fd00::1234:5678:3, 10.3.0.1" in dot
    assert "more)" not in dot


@pytest.mark.skipif(not diagram.dot_available(), reason="needs Graphviz (apt-get install graphviz)")
def test_graphviz_draws_the_largest_accepted_names_and_lists() -> None:
    topo = parse_topology(_many(2000, 1500).encode(), "many.yaml")
    assert diagram.render_svg(topo).startswith("<")
