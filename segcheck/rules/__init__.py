"""Rules version 1 (docs/spec.md §3): ids, the catalogue, and where each rule fires.

- `ids.py`: one typed constant per rule id (`MN_ISOLATION = RuleId("MN-ISOLATION")`).
- `catalogue.py`: each rule's severity, names, summary, remedy and cited clauses.
- `nodes.py`, `channels.py`: the rules about one node's settings or one channel, one function
  each, registered in `NODE_RULES` and `CHANNEL_RULES` (imported from there, not re-exported
  here, so that reading the catalogue loads no address tables).
- Path and flow rules are cells of the one policy matrix (`segcheck/policy.py`) and its named
  exceptions; `GEN-ZONE-ASSIGNED` is the flow judge's own (`segcheck/flowjudge.py`).

`docs/architecture.md` and CONTRIBUTING.md ("Add a rule") say how the pieces fit.
"""

from __future__ import annotations

from ..findings import RuleId, Severity
from .base import Violation, make_finding
from .catalogue import (
    DOCUMENTS,
    RULES,
    RULES_BY_ID,
    RULES_VERSION,
    Document,
    DocumentKind,
    Excerpt,
    Rule,
    Source,
    citations,
    clause_excerpt,
    get_rule,
    short_citations,
)
from .ids import (
    GEN_DEFAULT_DENY,
    GEN_EXCEPTION_EXPIRED,
    GEN_NO_BRIDGING,
    GEN_ZONE_ASSIGNED,
    INET_EGRESS_VIA_CLOUD,
    LG_INET_SANITIZED,
    LG_INET_SPLIT,
    LG_NO_INTERNET,
    LG_OUTBOUND_DATA,
    MN_ISOLATION,
    MN_NO_INTERNET,
    MN_SPECIFIED_COMM,
    MN_TERMINAL_CONTROLS,
    MODEL_BETA_CONDITIONS,
)

__all__ = [
    "DOCUMENTS",
    "GEN_DEFAULT_DENY",
    "GEN_EXCEPTION_EXPIRED",
    "GEN_NO_BRIDGING",
    "GEN_ZONE_ASSIGNED",
    "INET_EGRESS_VIA_CLOUD",
    "LG_INET_SANITIZED",
    "LG_INET_SPLIT",
    "LG_NO_INTERNET",
    "LG_OUTBOUND_DATA",
    "MN_ISOLATION",
    "MN_NO_INTERNET",
    "MN_SPECIFIED_COMM",
    "MN_TERMINAL_CONTROLS",
    "MODEL_BETA_CONDITIONS",
    "RULES",
    "RULES_BY_ID",
    "RULES_VERSION",
    "Document",
    "DocumentKind",
    "Excerpt",
    "Rule",
    "RuleId",
    "Severity",
    "Source",
    "Violation",
    "citations",
    "clause_excerpt",
    "get_rule",
    "make_finding",
    "short_citations",
]
