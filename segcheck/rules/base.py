"""What a rule yields, and how a finding is stamped with its rule's id and severity.

A node or channel rule only says what is wrong (`Violation`, in English and Japanese); the
runner in `rules/nodes.py` or `rules/channels.py` stamps the rule id, the catalogue's severity,
the location and the subject, so that no rule can misstate its own id or severity.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import Finding, FindingEvidence, Location, RuleId, Severity
from .catalogue import RULES_BY_ID


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem a node or channel rule found: its message in English and Japanese, and a
    lesser severity where the catalogue names one for this form of the rule (else None)."""

    message: str
    message_ja: str
    severity: Severity | None = None


def make_finding(
    rule: RuleId,
    message: str,
    message_ja: str,
    location: Location,
    *,
    severity: Severity | None = None,
    src_zone: str | None = None,
    dst_zone: str | None = None,
    src_tier: str | None = None,
    dst_tier: str | None = None,
    src: str | None = None,
    dst: str | None = None,
    service: str | None = None,
    evidence: FindingEvidence,
    channel: str | None = None,
    fingerprint: str = "",
    verdict: str | None = None,
) -> Finding:
    """A finding with the rule's catalogued severity unless `severity` is given.

    The keywords are `Finding`'s fields (a test keeps the two in step).
    """
    return Finding(
        rule,
        severity or RULES_BY_ID[rule].severity,
        message,
        message_ja,
        location,
        src_zone=src_zone,
        dst_zone=dst_zone,
        src_tier=src_tier,
        dst_tier=dst_tier,
        src=src,
        dst=dst,
        service=service,
        evidence=evidence,
        channel=channel,
        fingerprint=fingerprint,
        verdict=verdict,
    )
