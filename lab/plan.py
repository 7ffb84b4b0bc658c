"""The lab's traffic plan: every exchange the lab makes, and what the lab was built to do with it.

This is the single source of truth for the lab. `labctl.py` runs exactly these exchanges; the
end-to-end test derives every expectation from the same list. Hosts are named by their node
names in `lab/town.yaml`; addresses come from that file.

`expect` says what the kernel's firewall (built from the same file) must do:

- `allowed`: the firewall lets it through and the exchange completes; segcheck must report
  nothing (same-tier traffic, the sanitized screen transfer and mail, Internet tier to the cloud).
- `blocked`: the firewall drops it and the client gives up; segcheck must report an attempt
  (`state: attempted`, severity `warning`) under `rule`.
- `leak`: the deliberate hole (FW-90-TEMP-SMB) lets it through; segcheck must report a violation
  (`state: established`) under `rule`.

`rule` is the rule of spec §3's matrix for the tier pair, written down from the spec, not from
segcheck's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Proto = Literal["tcp", "udp", "icmp"]
Expect = Literal["allowed", "blocked", "leak"]

LEAK_PERMIT = "FW-90-TEMP-SMB"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One planned client/server exchange between two lab hosts."""

    name: str
    src: str
    dst: str
    proto: Proto
    port: int
    expect: Expect
    rule: str | None = None
    note: str = ""

    @property
    def forbidden(self) -> bool:
        """True when segcheck must report this exchange."""
        return self.expect != "allowed"


PLAN: tuple[Exchange, ...] = (
    # -- allowed: sanitized crossings, the Internet tier through the cloud, same-tier traffic --
    Exchange(
        "screen-rdp",
        "lg-term-01",
        "inet-sbc-01",
        "tcp",
        3389,
        "allowed",
        note="画面転送 over RDP (FW-10)",
    ),
    Exchange(
        "screen-ica",
        "lg-term-02",
        "inet-sbc-01",
        "tcp",
        1494,
        "allowed",
        note="画面転送 over ICA (FW-10)",
    ),
    Exchange(
        "mail-sanitized",
        "inet-mailsan",
        "lg-mail",
        "tcp",
        25,
        "allowed",
        note="メール無害化 delivers to LGWAN mail (FW-20)",
    ),
    Exchange(
        "proxy-term",
        "inet-term-01",
        "sc-proxy",
        "tcp",
        8080,
        "allowed",
        note="Internet tier browses via the cloud proxy (FW-30)",
    ),
    Exchange(
        "proxy-sbc",
        "inet-sbc-01",
        "sc-proxy",
        "tcp",
        8080,
        "allowed",
        note="the virtual browser goes out via the cloud proxy (FW-30)",
    ),
    Exchange(
        "dns-cloud",
        "inet-term-01",
        "sc-dns",
        "udp",
        53,
        "allowed",
        note="Internet tier resolves via the cloud resolver (FW-31)",
    ),
    Exchange(
        "inet-mail-local",
        "inet-term-01",
        "inet-mail",
        "tcp",
        25,
        "allowed",
        note="same tier, across segments (FW-03)",
    ),
    Exchange(
        "lg-dns",
        "lg-term-01",
        "lg-dns",
        "udp",
        53,
        "allowed",
        note="same tier, across segments (FW-02)",
    ),
    Exchange(
        "lg-ping", "lg-term-01", "lg-mail", "icmp", 0, "allowed", note="same tier ping (FW-02)"
    ),
    Exchange(
        "mn-app",
        "mn-term-01",
        "mn-atena",
        "tcp",
        443,
        "allowed",
        note="same tier, across segments (FW-01)",
    ),
    Exchange(
        "mn-ping", "mn-term-01", "mn-atena", "icmp", 0, "allowed", note="same tier ping (FW-01)"
    ),
    # -- blocked by nftables: only the client's packets are ever seen --
    Exchange(
        "mn-to-inet-https",
        "mn-term-01",
        "inet-term-01",
        "tcp",
        443,
        "blocked",
        "MN-NO-INTERNET",
        "My Number tier tries the Internet tier",
    ),
    Exchange(
        "mn-to-cloud-dns",
        "mn-term-01",
        "sc-dns",
        "udp",
        53,
        "blocked",
        "MN-NO-INTERNET",
        "My Number tier tries the cloud resolver",
    ),
    Exchange(
        "mn-ping-inet",
        "mn-term-01",
        "inet-term-01",
        "icmp",
        0,
        "blocked",
        "MN-NO-INTERNET",
        "My Number tier pings the Internet tier",
    ),
    Exchange(
        "lg-to-inet-https",
        "lg-term-01",
        "inet-term-01",
        "tcp",
        443,
        "blocked",
        "LG-INET-SPLIT",
        "LGWAN tier tries the Internet tier directly",
    ),
    Exchange(
        "lg-to-cloud-proxy",
        "lg-term-02",
        "sc-proxy",
        "tcp",
        8080,
        "blocked",
        "LG-NO-INTERNET",
        "LGWAN terminal tries the Internet proxy",
    ),
    Exchange(
        "inet-to-lg-mail",
        "inet-term-01",
        "lg-mail",
        "tcp",
        25,
        "blocked",
        "LG-INET-SPLIT",
        "Internet host mails LGWAN mail, bypassing the sanitizer",
    ),
    # -- the deliberate leak: FW-90-TEMP-SMB lets smb from LGWAN into the Internet tier --
    Exchange(
        "leak-smb-mail",
        "lg-term-01",
        "inet-mail",
        "tcp",
        445,
        "leak",
        "LG-INET-SPLIT",
        "file share across the split through FW-90-TEMP-SMB",
    ),
    Exchange(
        "leak-smb-term",
        "lg-term-02",
        "inet-term-01",
        "tcp",
        445,
        "leak",
        "LG-INET-SPLIT",
        "file share across the split through FW-90-TEMP-SMB",
    ),
)


def listening_ports(plan: tuple[Exchange, ...] = PLAN) -> dict[str, dict[str, list[int]]]:
    """Per destination host, the TCP and UDP ports its server must listen on.

    Blocked exchanges get a listening server too, so that the firewall, not a closed port, is
    what stops them.
    """
    ports: dict[str, dict[str, set[int]]] = {}
    for ex in plan:
        if ex.proto == "icmp":
            continue
        ports.setdefault(ex.dst, {"tcp": set(), "udp": set()})[ex.proto].add(ex.port)
    return {host: {p: sorted(v) for p, v in by.items()} for host, by in sorted(ports.items())}
