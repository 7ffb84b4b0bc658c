"""The rule ids (rules version 2, spec §3), as typed constants.

Code names a rule through these constants, never as a bare string, so that mypy catches a
misspelt id; `tests/rules/test_registry.py` checks that each one is catalogued and reachable.
"""

from __future__ import annotations

from ..findings import RuleId

MN_NO_INTERNET = RuleId("MN-NO-INTERNET")
MN_ISOLATION = RuleId("MN-ISOLATION")
MN_SPECIFIED_COMM = RuleId("MN-SPECIFIED-COMM")
LG_INET_SPLIT = RuleId("LG-INET-SPLIT")
LG_NO_INTERNET = RuleId("LG-NO-INTERNET")
INET_EGRESS_VIA_CLOUD = RuleId("INET-EGRESS-VIA-CLOUD")
GEN_NO_BRIDGING = RuleId("GEN-NO-BRIDGING")
GEN_ZONE_ASSIGNED = RuleId("GEN-ZONE-ASSIGNED")
GEN_DEFAULT_DENY = RuleId("GEN-DEFAULT-DENY")
GEN_EXCEPTION_EXPIRED = RuleId("GEN-EXCEPTION-EXPIRED")
LG_INET_SANITIZED = RuleId("LG-INET-SANITIZED")
MN_TERMINAL_CONTROLS = RuleId("MN-TERMINAL-CONTROLS")
MODEL_BETA_CONDITIONS = RuleId("MODEL-BETA-CONDITIONS")
LG_OUTBOUND_DATA = RuleId("LG-OUTBOUND-DATA")

# Rules version 2 (issue 17)
MN_JUKI_CS = RuleId("MN-JUKI-CS")
LG_LGWAN_ONLY_UPLINK = RuleId("LG-LGWAN-ONLY-UPLINK")
INET_MONITORING = RuleId("INET-MONITORING")
INET_MAIL_VIA_CLOUD = RuleId("INET-MAIL-VIA-CLOUD")
LG_DNS = RuleId("LG-DNS")
MN_CHUKAN_VIA_LGWAN = RuleId("MN-CHUKAN-VIA-LGWAN")
MN_UPDATE_DIST = RuleId("MN-UPDATE-DIST")
LG_UPDATE_DIST = RuleId("LG-UPDATE-DIST")
LG_TELEWORK = RuleId("LG-TELEWORK")
MN_PHYSICAL_SEPARATION = RuleId("MN-PHYSICAL-SEPARATION")
INET_LOCAL_BREAKOUT = RuleId("INET-LOCAL-BREAKOUT")

# Firewall logs against the imported configuration (issue 16): reported by segcheck.logjoin
GEN_CONFIG_DRIFT = RuleId("GEN-CONFIG-DRIFT")
