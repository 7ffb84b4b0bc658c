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

`verdict` and `rule` are spec §3's matrix and §7's verdicts for the flow, written down from the
spec, not from segcheck's output: `sanitized` for a crossing that ends at a sanitizing gateway
accepting its service (or starts at one delivering it), `permitted` for an allowed tier pair,
`violation`, or `suspect` (a gateway's port to a node without the gateway role).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Proto = Literal["tcp", "udp", "icmp"]
Expect = Literal["allowed", "blocked", "leak"]
Verdict = Literal["permitted", "sanitized", "violation", "suspect"]

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
    verdict: Verdict
    rule: str | None = None
    note: str = ""

    @property
    def forbidden(self) -> bool:
        """True when segcheck must report this exchange."""
        return self.expect != "allowed"


# fmt: off
_TABLE: tuple[tuple[str, str, str, Proto, int, Expect, Verdict, str | None, str], ...] = (
    # name, src, dst, proto, port, expect, verdict, rule, note
    # -- allowed: sanitized crossings, the Internet tier through the cloud, same-tier traffic --
    ("screen-rdp", "lg-term-01", "inet-sbc-01", "tcp", 3389, "allowed", "sanitized", None,
     "画面転送 over RDP (FW-10)"),
    ("screen-ica", "lg-term-02", "inet-sbc-01", "tcp", 1494, "allowed", "sanitized", None,
     "画面転送 over ICA (FW-10)"),
    ("mail-sanitized", "inet-mailsan", "lg-mail", "tcp", 25, "allowed", "sanitized", None,
     "メール無害化 delivers to LGWAN mail (FW-20)"),
    ("proxy-term", "inet-term-01", "sc-proxy", "tcp", 8080, "allowed", "permitted", None,
     "Internet tier browses via the cloud proxy (FW-30)"),
    ("proxy-sbc", "inet-sbc-01", "sc-proxy", "tcp", 8080, "allowed", "permitted", None,
     "the virtual browser goes out via the cloud proxy (FW-30)"),
    ("dns-cloud", "inet-term-01", "sc-dns", "udp", 53, "allowed", "permitted", None,
     "Internet tier resolves via the cloud resolver (FW-31)"),
    ("inet-mail-local", "inet-term-01", "inet-mail", "tcp", 25, "allowed", "permitted", None,
     "same tier, across segments (FW-03)"),
    ("lg-dns", "lg-term-01", "lg-dns", "udp", 53, "allowed", "permitted", None,
     "same tier, across segments (FW-02)"),
    ("lg-ping", "lg-term-01", "lg-mail", "icmp", 0, "allowed", "permitted", None,
     "same tier ping (FW-02)"),
    ("mn-app", "mn-term-01", "mn-atena", "tcp", 443, "allowed", "permitted", None,
     "same tier, across segments (FW-01)"),
    ("mn-ping", "mn-term-01", "mn-atena", "icmp", 0, "allowed", "permitted", None,
     "same tier ping (FW-01)"),
    # -- blocked by nftables: only the client's packets are ever seen --
    ("mn-to-inet-https", "mn-term-01", "inet-term-01", "tcp", 443, "blocked", "violation",
     "MN-NO-INTERNET", "My Number tier tries the Internet tier"),
    ("mn-to-cloud-dns", "mn-term-01", "sc-dns", "udp", 53, "blocked", "violation",
     "MN-NO-INTERNET", "My Number tier tries the cloud resolver"),
    ("mn-ping-inet", "mn-term-01", "inet-term-01", "icmp", 0, "blocked", "violation",
     "MN-NO-INTERNET", "My Number tier pings the Internet tier"),
    ("lg-to-inet-https", "lg-term-01", "inet-term-01", "tcp", 443, "blocked", "violation",
     "LG-INET-SPLIT", "LGWAN tier tries the Internet tier directly"),
    ("lg-to-cloud-proxy", "lg-term-02", "sc-proxy", "tcp", 8080, "blocked", "violation",
     "LG-NO-INTERNET", "LGWAN terminal tries the Internet proxy"),
    ("inet-to-lg-mail", "inet-term-01", "lg-mail", "tcp", 25, "blocked", "suspect",
     "LG-INET-SPLIT", "Internet host mails LGWAN mail, bypassing the sanitizer (smtp port, "
     "but the responder is no gateway: suspect)"),
    # -- the deliberate leak: FW-90-TEMP-SMB lets smb from LGWAN into the Internet tier --
    ("leak-smb-mail", "lg-term-01", "inet-mail", "tcp", 445, "leak", "violation",
     "LG-INET-SPLIT", "file share across the split through FW-90-TEMP-SMB"),
    ("leak-smb-term", "lg-term-02", "inet-term-01", "tcp", 445, "leak", "violation",
     "LG-INET-SPLIT", "file share across the split through FW-90-TEMP-SMB"),
)
# fmt: on

PLAN: tuple[Exchange, ...] = tuple(Exchange(*row) for row in _TABLE)


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
