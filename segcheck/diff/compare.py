"""Comparing two sides: the findings view, the plan view and the causes that join them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from .. import __version__
from ..errors import UsageError
from ..findings import BaselineInfo, Drift, Finding, Remediation, Report
from ..rules import Severity
from .causes import (
    Attributed,
    PlanIndex,
    Subject,
    effects,
    plan_causes,
    result_causes,
)
from .identity import (
    NO_RENAMES,
    Entry,
    cause_key,
    entries,
    kind_of,
    known_causes,
    match,
    renames_in,
)
from .model import (
    STATE_ORDER,
    ChannelInfo,
    Diff,
    DriftChange,
    FindingChange,
    PlanChange,
    Side,
    State,
)
from .plan import Renames, plan_changes
from .sides import load_side, logged_devices, side_from_report


def _material(old: Entry, new: Entry, names: Renames) -> tuple[tuple[str, str, str], ...]:
    """What changed that matters to a reviewer (never the example pair, path or line)."""
    o, n = old.finding, new.finding
    out: list[tuple[str, str, str]] = []

    def note(field: str, before: object, after: object) -> None:
        if before != after:
            out.append((field, _text(before), _text(after)))

    note("severity", o.severity.value, n.severity.value)
    if kind_of(n) == "flow":
        # How often a flow recurs depends on how long the capture ran: shown (occurrences),
        # never material, so next month's capture of the same violation is unchanged.
        note("state", o.flow.state if o.flow else None, n.flow.state if n.flow else None)
    else:
        note("count", o.count, n.count)
    note("service", o.service, n.service)
    if kind_of(n) == "path":
        o_cause, n_cause = o.cause, n.cause
        # Matched by more than the fingerprint (another cause opens the same pairs now).
        if o_cause is not None and n_cause is not None:
            if cause_key(o, names) != cause_key(n, NO_RENAMES):
                note("cause", ", ".join(o_cause.elements), ", ".join(n_cause.elements))
        note("opening", ", ".join(names.permit(p) for p in o.permits), ", ".join(n.permits))
        o_rem, n_rem = o.remediation, n.remediation
        # A minimum cut is seldom unique: another cut of the same size is the analysis
        # choosing between equals, not a change. A bigger or smaller cut is (a new permit that
        # also carries the path must now be removed too).
        if o_rem is not None and n_rem is not None and _cut_size(o_rem) != _cut_size(n_rem):
            note(
                "remediation",
                ", ".join([*(names.permit(p) for p in o_rem.remove_permits),
                           *(names.permit(p) for p in o_rem.narrow_permits),
                           *o_rem.remove_nodes,
                           *(names.link(x) for x in o_rem.remove_links)]),
                ", ".join([*n_rem.remove_permits, *n_rem.narrow_permits, *n_rem.remove_nodes,
                           *n_rem.remove_links]),
            )  # fmt: skip
    note("channel", names.channel(o.channel), n.channel)
    return tuple(out)


def _matched(
    o: Entry, n: Entry, names: Renames
) -> tuple[Subject, Entry | None, Entry | None, FindingChange]:
    renamed = renames_in(o.finding, names)
    fields = _material(o, n, names)
    state = State.UPDATED if fields else State.RENAMED if renamed else State.UNCHANGED
    escalated = n.finding.severity.rank > o.finding.severity.rank
    change = FindingChange(state, o.finding, n.finding, o.count, n.count, fields,
                           renamed=renamed, escalated=escalated)  # fmt: skip
    return _subject(change), o, n, change


def _cut_size(remediation: Remediation) -> int:
    return (
        len(remediation.remove_permits)
        + len(remediation.narrow_permits)
        + len(remediation.remove_nodes)
        + len(remediation.remove_links)
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _check_sides(old: Side, new: Side) -> None:
    if old.command != new.command:
        raise UsageError(
            f"{old.path} holds findings of {old.command} and {new.path} of {new.command}: "
            "a diff compares two topologies or two results of the same command"
        )


def compare(
    old: Side,
    new: Side,
    *,
    generated_at: str | None = None,
    fail_on: Severity = Severity.HIGH,
    renames: bool = True,
) -> Diff:
    """The diff of two sides (UsageError when they hold findings of different commands)."""
    from ..engine import now_iso

    _check_sides(old, new)
    plan: list[PlanChange] | None = None
    names = Renames()
    index: PlanIndex | None = None
    if old.topology is not None and new.topology is not None:
        plan, names = plan_changes(old.topology, new.topology, renames=renames)
        index = PlanIndex(plan, old.topology, new.topology, new.today)

    old_f, new_f = entries(old.findings), entries(new.findings)
    old_x, new_x = entries(old.excepted), entries(new.excepted)
    pending: list[tuple[Subject, Entry | None, Entry | None, FindingChange]] = []

    matched = match(old_f, new_f, names)
    for o, n in matched:
        pending.append(_matched(o, n, names))

    # What OLD had and NEW does not: covered by a channel now, or fixed.
    for o, x in match(old_f, dict(new_x), names):
        channel = _channel_info(new.channels, x.finding.channel)
        change = FindingChange(State.EXCEPTED_NOW, o.finding, x.finding, o.count, x.count,
                               renamed=renames_in(o.finding, names), channel=channel)  # fmt: skip
        pending.append((_subject(change, now_channel=x.finding.channel), o, x, change))
    # Pairs another cause already opened in OLD (its remediation named it): not new.
    for o, n in known_causes(old_f, new_f, matched, names):
        pending.append(_matched(o, n, names))

    for o in old_f.values():
        change = FindingChange(State.FIXED, o.finding, None, o.count, 0)
        pending.append((_subject(change), o, None, change))

    # What NEW has and OLD did not: was a channel covering it?
    was: dict[str, str | None] = {}
    for x, n in match(dict(old_x), dict(new_f), names):  # copies: only to look up
        was[n.fingerprint] = x.finding.channel
    for n in new_f.values():
        change = FindingChange(State.NEW, None, n.finding, 0, n.count,
                               was_excepted=was.get(n.fingerprint))  # fmt: skip
        pending.append((_subject(change), None, n, change))

    attributed: list[tuple[FindingChange, Attributed]] = []
    for subject, _, _, change in pending:
        if subject.state is State.UNCHANGED:
            causes: Attributed = []
        elif index is not None:
            causes = plan_causes(subject, index)
        else:
            causes = result_causes(subject, old, new)
        attributed.append((replace(change, causes=tuple(c for c, _ in causes)), causes))

    attributed.sort(key=lambda item: _order(item[0]))
    changes = tuple(c for c, _ in attributed)
    plan_view: tuple[PlanChange, ...] | None = None
    if plan is not None:
        table = effects(
            len(plan), ((j, c.state, c.gates, a) for j, (c, a) in enumerate(attributed))
        )
        plan_view = tuple(
            replace(p, opens=tuple(o), closes=tuple(cl), touches=tuple(t))
            for p, (o, cl, t) in zip(plan, table, strict=True)
        )
    notes: list[str] = []
    if old.today != new.today:
        notes.append(f"the sides were judged on different days: {old.today} and {new.today}")
    return Diff(
        old,
        new,
        generated_at or now_iso(),
        __version__,
        changes,
        plan_view,
        fail_on,
        tuple(notes),
        drift_changes(old.drift, new.drift, new.logged),
    )


def drift_changes(
    old: tuple[Drift, ...], new: tuple[Drift, ...], logged: frozenset[str]
) -> tuple[DriftChange, ...]:
    """Drift matched by device, rule, reason and action (Drift.key, as SARIF fingerprints it):
    new, unchanged, then fixed. OLD's drift is fixed only on a device whose logs NEW read: of a
    device not logged there (a `check`, other logs) nothing was seen, so it is not listed."""
    before = {d.key for d in old}
    now = {d.key for d in new}
    out = [DriftChange(State.UNCHANGED if d.key in before else State.NEW, d) for d in new]
    out += [DriftChange(State.FIXED, d) for d in old if d.key not in now and d.node in logged]
    order = (State.NEW, State.UNCHANGED, State.FIXED)
    return tuple(sorted(out, key=lambda c: order.index(c.state)))  # stable: each side's order


def _subject(change: FindingChange, now_channel: str | None = None) -> Subject:
    return Subject(
        change.state,
        change.old,
        change.new,
        frozenset(f for f, _, _ in change.changes),
        change.renamed,
        change.was_excepted,
        now_channel,
    )


def _channel_info(register: Mapping[str, ChannelInfo] | None, cid: str | None) -> ChannelInfo:
    if cid is None:
        return ChannelInfo("")
    if register is not None and cid in register:
        return register[cid]
    return ChannelInfo(cid)


def _order(change: FindingChange) -> tuple[object, ...]:
    return (STATE_ORDER.index(change.state), change.finding.sort_key)


def diff_files(
    old_path: str,
    new_path: str,
    *,
    today: date | None = None,
    generated_at: str | None = None,
    fail_on: Severity = Severity.HIGH,
    renames: bool = True,
) -> Diff:
    """`segcheck diff OLD NEW`: topologies are checked with the same `today`.

    `renames=False` (`--no-renames`) takes an object under a new name for one removed and one
    added, and its findings for fixed and new where their identity holds the name.
    """
    from .causes import today_of

    day = date.fromisoformat(today_of(today))
    old = load_side(old_path, today=day)
    new = load_side(new_path, today=day)
    return compare(old, new, generated_at=generated_at, fail_on=fail_on, renames=renames)


def with_baseline(report: Report, baseline: Side) -> Report:
    """`check`/`scan --baseline`: the report with every finding's state against a result."""
    diff = compare(baseline, side_from_report(report), generated_at=report.generated_at)
    states: dict[str, str] = {}
    excepted_states: dict[str, str] = {}
    for _, x in match(entries(baseline.excepted), entries(report.excepted), Renames()):
        excepted_states[x.fingerprint] = State.UNCHANGED.value
    escalated: set[str] = set()
    absent: list[Finding] = []
    for change in diff.findings:
        if change.state is State.FIXED:
            assert change.old is not None
            absent.append(change.old)
        elif change.state is State.EXCEPTED_NOW:
            assert change.new is not None
            excepted_states[change.new.fingerprint] = change.state.value
        else:
            assert change.new is not None
            states[change.new.fingerprint] = change.state.value
            if change.escalated:
                escalated.add(change.new.fingerprint)
    # Drift as `diff` sees it (drift_changes): fixed only on a device whose logs this run read.
    drift = drift_changes(baseline.drift, report.drift, logged_devices(report))
    info = BaselineInfo(
        baseline.path,
        baseline.sha256,
        baseline.guid,
        states,
        excepted_states,
        frozenset(escalated),
        tuple(absent),
        frozenset(d.key for d in baseline.drift),
        tuple(c.drift for c in drift if c.state is State.FIXED),
    )
    return replace(report, baseline=info)
