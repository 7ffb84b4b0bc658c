"""PAN-OS factory objects: what a configuration may name without defining it.

PAN-OS ships two predefined services, the keywords `any` and `application-default`, and a few
predefined external dynamic lists; none of them appears in an exported configuration unless the
administrator overrides it, so the importer needs its own table.
"""

from __future__ import annotations

from .model import SCTP, TCP, UDP

# Predefined services (Objects > Services, "Predefined"); a configuration may override them by
# defining a service of the same name, which then wins.
PREDEFINED_SERVICES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "service-http": ((TCP, 80, 80), (TCP, 8080, 8080)),
    "service-https": ((TCP, 443, 443),),
}

# The service-field keywords: every port, and "each application on its default ports" (App-ID).
ANY = "any"
APPLICATION_DEFAULT = "application-default"

# Predefined external dynamic lists (Palo Alto Networks-maintained IP lists): names a rule may use
# without an `external-list` entry. Their contents are fetched by the device, never in a config.
PREDEFINED_EDLS = frozenset(
    {
        "panw-bulletproof-ip-list",
        "panw-highrisk-ip-list",
        "panw-known-ip-list",
        "panw-torexit-ip-list",
    }
)

# Service protocols and their IP protocol numbers.
SERVICE_PROTOCOLS = {"tcp": TCP, "udp": UDP, "sctp": SCTP}

# Security rule actions; every one but allow stops the flow.
ALLOW_ACTIONS = frozenset({"allow"})
DENY_ACTIONS = frozenset({"deny", "drop", "reset-client", "reset-server", "reset-both"})

# Rule fields that restrict a match by something other than addresses and ports (App-ID, users,
# URL categories, host information profiles); `any` (or absence) means unrestricted.
CONDITION_FIELDS = (
    "application",
    "source-user",
    "category",
    "source-hip",
    "destination-hip",
    "hip-profiles",
    "source-imei",  # 5G subscriber and equipment identities
    "source-imsi",
    "source-nw-slice",
)

# Rule fields read for matching (above and the addresses, zones and services), and those that
# only say what happens to a matched flow (logging, profiles, QoS, Panorama targets). A field in
# neither set may narrow the match in a way segcheck cannot see: it is reported and treated like
# a condition.
MATCH_FIELDS = frozenset(
    {
        "from",
        "to",
        "source",
        "destination",
        "negate-source",
        "negate-destination",
        "service",
        "schedule",
        "rule-type",
        "action",
        "disabled",
        *CONDITION_FIELDS,
    }
)
EFFECT_FIELDS = frozenset(
    {
        "description",
        "tag",
        "group-tag",
        "log-setting",
        "log-start",
        "log-end",
        "profile-setting",
        "qos",
        "option",
        "target",
        "icmp-unreachable",
        "audit-comment",
    }
)

# The default rules at the end of every rulebase (Policies > Security, "default rules").
INTRAZONE_DEFAULT = "intrazone-default"
INTERZONE_DEFAULT = "interzone-default"

# The device entry every firewall and Panorama configuration uses.
LOCAL_DEVICE = "localhost.localdomain"
DEFAULT_VSYS = "vsys1"
