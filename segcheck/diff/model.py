"""The records of a diff: two sides, finding changes with their causes, plan changes.

Everything is frozen and ordered deterministically, so every renderer gives the same bytes for
the same inputs (apart from the one timestamp, `generated_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ..findings import Drift, EvidenceGap, Finding
from ..model import InputFile, Topology
from ..rules import Severity


class State(StrEnum):
    """What happened to a finding between OLD and NEW."""

    NEW = "new"
    UPDATED = "updated"  # matched, and something material changed (severity, count, opening…)
    RENAMED = "renamed"  # matched through renamed zones, nodes, permits or channels only
    UNCHANGED = "unchanged"
    FIXED = "fixed"
    EXCEPTED_NOW = "excepted-now"  # not fixed: a channel covers it now

    @property
    def sarif(self) -> str:
        """SARIF 2.1.0 `baselineState` (new, unchanged, updated, absent)."""
        return _SARIF_STATE[self]


_SARIF_STATE = {
    State.NEW: "new",
    State.UPDATED: "updated",
    State.RENAMED: "updated",
    State.UNCHANGED: "unchanged",
    State.FIXED: "absent",
    State.EXCEPTED_NOW: "updated",
}

# Order of the findings view: what the reviewer must act on first.
STATE_ORDER: tuple[State, ...] = (
    State.NEW,
    State.UPDATED,
    State.RENAMED,
    State.EXCEPTED_NOW,
    State.FIXED,
    State.UNCHANGED,
)


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """What a reviewer needs of a channel: who approved it, until when, under which ticket."""

    id: str
    approved_by: str | None = None
    expires: str | None = None  # ISO date
    ticket: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a diff: a topology checked here, or a result file of `check` or `scan`."""

    path: str  # as given on the command line
    sha256: str  # of that file
    kind: str  # "topology" | "result"
    command: str  # "check" | "scan": what produced the findings
    today: str
    name: str  # the topology's name
    profile: str
    tool_version: str
    inputs: tuple[InputFile, ...]
    findings: tuple[Finding, ...]
    excepted: tuple[Finding, ...]
    channels: Mapping[str, ChannelInfo] | None  # None: a result without the channel register
    evidence: str  # complete | incomplete | unusable
    gaps: tuple[EvidenceGap, ...] = ()
    topology: Topology | None = None  # only for a topology side
    # Drift between firewall logs and imported configurations (a result's `log_join.drift`;
    # empty for a topology, or a result written before drift was kept).
    drift: tuple[Drift, ...] = ()
    # Devices whose firewall logs the side read (every imported permit of a logging device is
    # in `log_join.permits`, and a drift names its device): only there can a drift be fixed.
    logged: frozenset[str] = frozenset()

    @property
    def guid(self) -> str:
        """The run's SARIF `automationDetails.guid`: a uuid5 of its inputs (never random)."""
        from ..report.sarif import run_guid

        return run_guid(self.today, self.inputs)


@dataclass(frozen=True, slots=True, order=True)
class Cause:
    """Why a finding changed: a plan change (`permit-added` root/40) or an observation."""

    kind: str  # e.g. permit-added, link-removed, node-added, channel-expired, settings-changed
    subject: str  # the id or name concerned ("root/40", "lg-sw--sc-rtr", "mn-term-02")


# Causes that are not plan changes.
CAUSE_CHANNEL_EXPIRED = "channel-expired"
CAUSE_SETTINGS_CHANGED = "settings-changed"
CAUSE_TRAFFIC_SEEN = "traffic-seen"  # a capture finding only NEW's captures show
CAUSE_TRAFFIC_GONE = "traffic-gone"  # a capture finding NEW's captures no longer show
CAUSE_TRAFFIC_CHANGED = "traffic-changed"
CAUSE_PLAN_CHANGED = "plan-changed"  # results only: an input differs, no plan to diff
CAUSE_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Rename:
    """One name a matched finding carries under a new name (zone lg → lg-office)."""

    category: str  # zone | node | permit | channel
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class FindingChange:
    """One entry of the findings view.

    `old` / `new` are the finding on each side (NEW's data is shown; a fixed finding keeps
    OLD's). Capture findings sharing a fingerprint are one entry: `old_count` / `new_count`
    are their occurrences. For `excepted-now`, `new` is NEW's excepted entry and `channel` the
    channel that covers it.
    """

    state: State
    old: Finding | None
    new: Finding | None
    old_count: int = 0
    new_count: int = 0
    changes: tuple[tuple[str, str, str], ...] = ()  # (field, before, after), material only
    causes: tuple[Cause, ...] = ()
    renamed: tuple[Rename, ...] = ()
    escalated: bool = False
    channel: ChannelInfo | None = None
    was_excepted: str | None = None  # a new finding OLD had excepted: that channel's id

    @property
    def finding(self) -> Finding:
        """The finding to show: NEW's, else OLD's."""
        shown = self.new if self.new is not None else self.old
        assert shown is not None
        return shown

    @property
    def severity(self) -> Severity:
        """The severity shown (NEW's, else OLD's)."""
        return self.finding.severity

    @property
    def gates(self) -> bool:
        """True when this change may fail a run: a new finding or an escalated one."""
        return self.state is State.NEW or self.escalated


@dataclass(frozen=True, slots=True)
class DriftChange:
    """One drift between a firewall log and its imported configuration, across the sides:
    new (NEW only), unchanged (both, by `Drift.key`) or fixed (OLD only, on a device whose logs
    NEW read). `drift` is NEW's, or OLD's when fixed."""

    state: State  # NEW | UNCHANGED | FIXED
    drift: Drift


@dataclass(frozen=True, slots=True)
class PlanChange:
    """One plan object added, removed, modified or renamed, and what that did to findings.

    `fields` are (field, before, after) for modified and renamed objects; `before` / `after`
    describe removed and added ones. `opens` / `closes` / `touches` index `Diff.findings`:
    findings it opened (new or escalated), closed (fixed or excepted now), or changed.
    """

    category: str  # permit | link | channel | node | zone | service | profile | import
    action: str  # added | removed | modified | renamed
    id: str  # the id in NEW (in OLD for a removed object)
    old_id: str | None = None  # renamed: the id in OLD
    owner: str | None = None  # permits: the forwarder that holds it
    fields: tuple[tuple[str, str, str], ...] = ()
    before: tuple[tuple[str, str], ...] = ()
    after: tuple[tuple[str, str], ...] = ()
    opens: tuple[int, ...] = ()
    closes: tuple[int, ...] = ()
    touches: tuple[int, ...] = ()

    @property
    def kind(self) -> str:
        """The cause this change gives a finding (`permit-added`, `zone-renamed`, …)."""
        return f"{self.category}-{self.action}"

    @property
    def cause(self) -> Cause:
        """This change as a finding's cause."""
        return Cause(self.kind, self.id)


@dataclass(frozen=True, slots=True)
class Diff:
    """Two sides and what changed between them: the findings view and the plan view.

    `plan` is None unless both sides are topologies (results carry no plan to compare).
    """

    old: Side
    new: Side
    generated_at: str
    tool_version: str
    findings: tuple[FindingChange, ...]
    plan: tuple[PlanChange, ...] | None
    fail_on: Severity = Severity.HIGH
    notes: tuple[str, ...] = field(default=())
    drift: tuple[DriftChange, ...] = ()  # results of scans of firewall logs only

    def of_state(self, state: State) -> tuple[FindingChange, ...]:
        """The entries in one state, in view order."""
        return tuple(c for c in self.findings if c.state is state)

    def summary(self) -> dict[str, dict[str, int]]:
        """Per state, the count of entries per severity (every state and severity present)."""
        table = {s.value: {sev.value: 0 for sev in Severity} for s in STATE_ORDER}
        for change in self.findings:
            table[change.state.value][change.severity.value] += 1
        return table

    def drift_summary(self) -> dict[str, int]:
        """Per state, the count of drift entries (every state present, as in `summary`)."""
        counts = {s.value: 0 for s in STATE_ORDER}
        for change in self.drift:
            counts[change.state.value] += 1
        return counts

    def exit_status(self) -> int:
        """0 clean, 1 a new or escalated finding at or above `fail_on`, 2 when NEW's evidence
        cannot prove anything (a capture with no traffic; other gaps without a failing finding).
        A new drift counts as `high`, as it does for `scan`. Fixes never fail a diff."""
        if self.new.evidence == "unusable":
            return 2
        if self.failing() or self.failing_drift():
            return 1
        return 2 if self.new.gaps else 0

    def failing(self) -> tuple[FindingChange, ...]:
        """New or escalated findings at or above `fail_on`: what makes the diff exit 1."""
        threshold = self.fail_on.rank
        return tuple(c for c in self.findings if c.gates and c.severity.rank >= threshold)

    def failing_drift(self) -> tuple[DriftChange, ...]:
        """New drift, when `high` is at or above `fail_on` (drift counts as high, as in scan)."""
        if Severity.HIGH.rank < self.fail_on.rank:
            return ()
        return tuple(c for c in self.drift if c.state is State.NEW)

    def drift_of_state(self, state: State) -> tuple[DriftChange, ...]:
        """The drift entries in one state."""
        return tuple(c for c in self.drift if c.state is state)
