"""Building topologies and results for the diff tests."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from segcheck.diff import Diff, FindingChange, State, compare, load_side

TODAY = date(2026, 5, 1)

BASE = """\
segcheck: 1
name: Diff town
profile: alpha
zones:
  mn:        {tier: mynumber,       subnets: [10.1.0.0/16]}
  lg:        {tier: lgwan,          subnets: [10.2.0.0/16]}
  inet:      {tier: internet,       subnets: [10.3.0.0/16]}
  lgwan:     {tier: lgwan-network,  subnets: [198.18.0.0/16]}
nodes:
  mn-term-01:   {role: terminal, ip: 10.1.10.11, usb_block: true, mfa: true}
  mn-atena:     {role: server, ip: 10.1.20.20}
  lg-term-01:   {role: terminal, ip: 10.2.10.11}
  lg-mail:      {role: server, ip: 10.2.20.25}
  inet-mail:    {role: server, ip: 10.3.20.25}
  inet-sbc-01:  {role: screen-transfer, ip: 10.3.10.11, accepts: [rdp, ica],
                 clipboard: false, drive_redirect: false, printer_redirect: false}
  fw-core:
    role: firewall
    ip: [10.1.0.1, 10.2.0.1, 10.3.0.1]
    permit:
      - {id: FW-10, from: lg, to: inet-sbc-01, service: [rdp, ica]}
      - {id: FW-30, from: mn-atena, to: 198.18.200.10, service: https}
#PERMITS
  lgwan-rtr:    {role: router, ip: [10.2.0.254, 198.18.0.2]}
#NODES
links:
#LINKS
  []
channels:
#CHANNELS
  - id: CH-1
    from: mn-atena
    to: 198.18.200.10
    service: https
    reason: 中間サーバーへの副本登録
    approved_by: CISO
    ticket: SEC-2025-014
    expires: 2027-03-31
"""

FW40 = "      - {id: FW-40, from: lg, to: inet-mail, service: smtp}"


def topology(
    *,
    permits: str = "",
    nodes: str = "",
    links: str = "",
    channels: str = "",
    replace: tuple[tuple[str, str], ...] = (),
) -> str:
    """BASE with lines added at the markers and any (old, new) replacements."""
    text = BASE.replace("#PERMITS\n", permits + "\n" if permits else "")
    text = text.replace("#NODES\n", nodes + "\n" if nodes else "")
    if links:
        text = text.replace("#LINKS\n  []\n", links + "\n")
    else:
        text = text.replace("#LINKS\n", "")
    text = text.replace("#CHANNELS\n", channels + "\n" if channels else "")
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    return text


def write(directory: Path, name: str, text: str) -> str:
    """Write a topology (or result) and return its path as text."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def diff_texts(tmp_path: Path, old: str, new: str) -> Diff:
    """The diff of two topology texts, both checked on TODAY."""
    old_path = write(tmp_path, "old.yaml", old)
    new_path = write(tmp_path, "new.yaml", new)
    return compare(
        load_side(old_path, today=TODAY), load_side(new_path, today=TODAY), generated_at="T"
    )


def only(diff: Diff, state: State, rule: str | None = None) -> FindingChange:
    """The one entry in a state (of a rule); fails when there is not exactly one."""
    items = [c for c in diff.of_state(state) if rule is None or c.finding.rule == rule]
    assert len(items) == 1, [(c.state, c.finding.rule, c.causes) for c in diff.findings]
    return items[0]


def states(diff: Diff) -> list[tuple[str, str]]:
    """(state, rule) of every entry, in view order."""
    return [(c.state.value, c.finding.rule) for c in diff.findings]


def kinds(change: FindingChange) -> set[tuple[str, str]]:
    """The causes of an entry as (kind, subject)."""
    return {(c.kind, c.subject) for c in change.causes}


def load_json(text: str) -> dict:  # type: ignore[type-arg]
    """Parse JSON output."""
    data: dict = json.loads(text)  # type: ignore[type-arg]
    return data
