"""SARIF 2.1.0 output for code-scanning dashboards (GitHub code scanning and others).

Built from plain dicts. Every rule of the catalogue appears once in `tool.driver.rules`, in
catalogue order, so `ruleIndex` is stable between runs. Locations are relative URIs under
`%SRCROOT%` (GitHub rejects absolute file paths); findings covered by a channel are results with
an accepted external suppression whose justification is the channel's reason.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from pathlib import Path, PurePath, PurePosixPath
from typing import Any
from urllib.parse import quote

from ..findings import (
    ConversationEvidence,
    Drift,
    Evidence,
    Finding,
    FlowEvidence,
    GapKind,
    Report,
    subject_fingerprint,
)
from ..model import Channel, InputFile, Topology
from ..rules import RULES, RULES_BY_ID, RULES_VERSION, Rule, Severity, citations
from ..rules.ids import GEN_CONFIG_DRIFT
from ._common import (
    cause_dict,
    conversation_dict,
    flow_dict,
    plan_dict,
    remediation_dict,
    route_dict,
)
from .conversations import channel_use, channel_use_dict, presented
from .json import (
    FLOW_KEYS,
    HOLE,
    _Streamed,
    chunked,
    log_join_dict,
    pretty,
    pretty_at,
    pretty_pieces,
    scalar_texts,
    template,
)

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "segcheck/v1"

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
}
# GitHub code scanning ranks security alerts by this property (0.0-10.0).
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "7.5",
    Severity.WARNING: "4.0",
    Severity.INFO: "1.0",
}
RULE_INDEX: dict[str, int] = {rule.id: index for index, rule in enumerate(RULES)}
# `--baseline` states in SARIF's vocabulary (renamed and excepted-now are "updated").
BASELINE_STATES = {"new": "new", "unchanged": "unchanged", "fixed": "absent"}
# uuid5 namespace of run guids: a run is named by what it read, never by a random number.
RUN_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://segcheck.invalid/sarif/run")


def run_guid(today: str, inputs: Iterable[InputFile]) -> str:
    """`automationDetails.guid` of a run: a uuid5 of the day it judged on and its inputs' hashes.

    Paths are left out (a checkout elsewhere is the same run); the same inputs on the same day
    give the same guid, so a diff's `baselineGuid` names the earlier run's SARIF exactly.
    """
    parts = sorted(f"{item.kind}:{item.sha256}" for item in inputs)
    return str(uuid.uuid5(RUN_NAMESPACE, "\n".join(["segcheck-run", today, *parts])))


SRCROOT_DESCRIPTION = (
    "The root of the checkout that holds the folder segcheck ran in (the nearest folder with "
    ".git), else that folder. An input outside it is named by its file name alone."
)


def source_root(start: str | Path | None = None) -> Path:
    """The folder that `%SRCROOT%` stands for (see SRCROOT_DESCRIPTION).

    Code-scanning consumers resolve `%SRCROOT%` to the repository checkout, so inputs named
    from a subfolder (`../topologies/x.yaml`) must be made relative to the checkout's root,
    not to the working directory.
    """
    here = Path(os.path.abspath(start if start is not None else os.getcwd()))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():  # a directory, or a file in a linked worktree
            return folder
    return here


def artifact_uri(path: str, root: str | Path | None = None) -> str:
    """A percent-encoded URI for an input path, relative to `%SRCROOT%` (`root`).

    The path is taken as given, made absolute against the working directory and normalised
    (`sub/../x` is `x`), then made relative to the root. A path outside the root keeps only its
    file name: SARIF consumers resolve URIs against the checkout, never against this machine,
    and an absolute path or a `../` would name nothing there.
    """
    base = Path(root) if root is not None else source_root()
    absolute = Path(os.path.abspath(path))
    relative: PurePath | None = None
    for candidate, anchor in ((absolute, base), (Path(os.path.realpath(absolute)), base.resolve())):
        try:
            relative = candidate.relative_to(anchor)
            break
        except ValueError:
            continue
    pure = relative if relative is not None else PurePath(absolute.name)
    posix = PurePosixPath(*pure.parts).as_posix() if pure.parts else absolute.name
    return quote(posix, safe="/-._~")


@functools.lru_cache(maxsize=4096)
def _uri(path: str, cwd: str) -> str:
    # Every location of a finding repeats its input's path: resolve each path once per folder.
    return artifact_uri(path, _root_of(cwd))


@functools.lru_cache(maxsize=16)
def _root_of(cwd: str) -> Path:
    return source_root(cwd)


def _artifact_location(path: str, index: int | None) -> dict[str, Any]:
    location: dict[str, Any] = {"uri": _uri(path, os.getcwd()), "uriBaseId": SRCROOT}
    if index is not None:
        location["index"] = index
    return location


def _rule_descriptor(rule: Rule) -> dict[str, Any]:
    sources = "\n".join(f"- {s}" for s in citations(rule, "en"))
    help_text = (
        f"{rule.summary_en}\n\nFix: {rule.remedy_en}\n\n"
        f"{rule.name_ja}\n{rule.summary_ja}\n是正: {rule.remedy_ja}\n\nSources / 根拠:\n{sources}"
    )
    return {
        "id": rule.id,
        "name": rule.name_en,
        "shortDescription": {"text": rule.name_en},
        "fullDescription": {"text": rule.summary_en},
        "help": {"text": help_text, "markdown": help_text.replace("\n", "  \n")},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "name_ja": rule.name_ja,
            "description_ja": rule.summary_ja,
            "severity": rule.severity.value,
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "sources": [source.cite("ja") for source in rule.sources],
            "tags": ["security", "network-separation"],
        },
    }


def _hop_line(topology: Topology, hop: str) -> int | None:
    node = topology.nodes.get(hop)
    if node is not None:
        return node.line
    zone = topology.zones.get(hop)
    return zone.line if zone is not None else None


def _code_flows(finding: Finding, topology: Topology, topo_index: int) -> list[dict[str, Any]]:
    locations = []
    for step, hop in enumerate(finding.path):
        physical: dict[str, Any] = {
            "artifactLocation": _artifact_location(topology.source.path, topo_index)
        }
        line = _hop_line(topology, hop)
        if line is not None:
            physical["region"] = {"startLine": line}
        locations.append(
            {
                "location": {"physicalLocation": physical, "message": {"text": hop}},
                "executionOrder": step,
            }
        )
    return [{"threadFlows": [{"locations": locations}]}]


def _properties(finding: Finding) -> dict[str, Any]:
    props: dict[str, Any] = {
        "severity": finding.severity.value,
        "message_en": finding.message,
        "message_ja": finding.message_ja,
    }
    for key in ("src_zone", "dst_zone", "src_tier", "dst_tier", "src", "dst", "service"):
        value = getattr(finding, key)
        if value is not None:
            props[key] = value
    if finding.count != 1:
        props["count"] = finding.count
    if finding.path:
        props["path"] = list(finding.path)
    if finding.permits:
        props["permits"] = list(finding.permits)
    if finding.remediation is not None:
        props["remediation"] = remediation_dict(finding.remediation)
    if finding.cause is not None:
        props["cause"] = cause_dict(finding.cause)
        props["routes"] = [route_dict(r, with_path=False) for r in finding.routes]
    if finding.node is not None:
        props["node"] = finding.node
    if finding.channel is not None:
        props["channel"] = finding.channel
    if finding.verdict is not None:
        props["verdict"] = finding.verdict
    if finding.location.frame is not None:
        props["frame"] = finding.location.frame
    if finding.flow is not None:
        props["flow"] = flow_dict(finding.flow)  # the same keys as JSON's (the fingerprint's)
    if finding.conversation is not None:
        props["conversation"] = conversation_dict(finding.conversation)
    return props


def _result(
    finding: Finding,
    lang: str,
    report: Report,
    artifact_index: dict[str, int],
    channels: dict[str, Channel],
    excepted: bool,
) -> dict[str, Any]:
    loc = finding.location
    index = artifact_index.get(loc.path)
    physical: dict[str, Any] = {"artifactLocation": _artifact_location(loc.path, index)}
    if loc.line is not None and loc.frame is None:
        physical["region"] = {"startLine": loc.line}
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": RULE_INDEX[finding.rule],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.text(lang)},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    if finding.path:
        topo_index = artifact_index[report.topology.source.path]
        result["codeFlows"] = _code_flows(finding, report.topology, topo_index)
    channel = channels.get(finding.channel) if finding.channel is not None else None
    if channel is not None and channel.line is not None and finding.node is None:
        topo_path = report.topology.source.path
        result["relatedLocations"] = [
            {
                "id": 0,
                "physicalLocation": {
                    "artifactLocation": _artifact_location(
                        topo_path, artifact_index.get(topo_path)
                    ),
                    "region": {"startLine": channel.line},
                },
                "message": {"text": f"channel {channel.id}"},
            }
        ]
    if excepted:
        justification = channel.reason if channel is not None else f"channel {finding.channel}"
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": justification,
                "properties": {"channel": finding.channel},
            }
        ]
    result["properties"] = _properties(finding)
    return result


def _notifications(
    report: Report, artifact_index: dict[str, int], lang: str
) -> list[dict[str, Any]]:
    """One notification per evidence gap: what the run did not see."""
    captures = {c.path: c for c in report.captures}
    notes = []
    for gap in report.gaps:
        properties: dict[str, Any] = {"kind": gap.kind.value}
        stopped = captures[gap.path].stopped_at if gap.path in captures else None
        if stopped is not None:
            properties.update(byte_offset=stopped[0], frame=stopped[1], reason=stopped[2])
        notes.append(
            {
                "level": "error" if gap.kind is GapKind.NO_PACKETS else "warning",
                "descriptor": {"id": _GAP_DESCRIPTORS[gap.kind]},
                "message": {"text": gap.text(lang)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": _artifact_location(
                                gap.path, artifact_index.get(gap.path)
                            )
                        }
                    }
                ],
                "properties": properties,
            }
        )
    return notes


def _drift_results(
    report: Report, artifact_index: dict[str, int], lang: str
) -> list[dict[str, Any]]:
    """One GEN-CONFIG-DRIFT result per drift between a firewall log and its imported
    configuration (segcheck.logjoin), at the log line of its first flow: a result, not a
    notification, so that code-scanning dashboards list it with the findings. With a baseline,
    each says whether the baseline had it, and the baseline's drift now gone is `absent`."""
    baseline = report.baseline
    results = []
    for d in report.drift:
        result = _drift_result(d, artifact_index, lang)
        if baseline is not None:
            state = baseline.drift_state(d)
            result["baselineState"] = state
            result["properties"]["state"] = state
        results.append(result)
    for d in baseline.absent_drift if baseline is not None else ():
        result = _drift_result(d, artifact_index, lang)
        result["baselineState"] = "absent"
        result["properties"]["state"] = "fixed"
        results.append(result)
    return results


def _drift_result(d: Drift, artifact_index: dict[str, int], lang: str) -> dict[str, Any]:
    rule = RULES_BY_ID[GEN_CONFIG_DRIFT]
    physical: dict[str, Any] = {
        "artifactLocation": _artifact_location(d.example.input, artifact_index.get(d.example.input))
    }
    if d.example.line is not None:
        physical["region"] = {"startLine": d.example.line}
    properties: dict[str, Any] = {
        "severity": rule.severity.value,
        "message_en": d.message,
        "message_ja": d.message_ja,
        "node": d.node,
        "rule": d.rule,
        "reason": d.reason,
        "action": d.action,
        "flows": d.flows,
    }
    if d.example.pivot is not None:
        properties["pivot"] = d.example.pivot
    properties["flow"] = flow_dict(d.example)
    return {
        "ruleId": rule.id,
        "ruleIndex": RULE_INDEX[rule.id],
        "level": LEVELS[rule.severity],
        "message": {"text": d.text(lang)},
        "locations": [{"physicalLocation": physical}],
        # The device, its policy and how they disagree: the same drift in the next run's logs
        # is the same alert, whichever line shows it first.
        "partialFingerprints": {FINGERPRINT_KEY: subject_fingerprint(rule.id, d.key)},
        "properties": properties,
    }


_GAP_DESCRIPTORS = {
    GapKind.NO_PACKETS: "capture-empty",
    GapKind.STOPPED_EARLY: "capture-damaged",
    GapKind.NOTHING_TO_SEPARATE: "nothing-to-separate",
    GapKind.FLOWS_JOINED: "flows-joined",
}


def sarif_dict(report: Report, lang: str = "en") -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict; a scan's results are conversations unless the
    report is grouped by flow."""
    return _sarif_dict(report, lang, _result_dicts)


# How `_sarif_dict` gets the run's `results`: from the presented report, its language, the
# artifacts' indices and the channels by id; a list of result dicts or the list written.
ResultsWriter = Callable[[Report, str, dict[str, int], dict[str, Channel]], Any]


Entry = tuple[Finding, bool, str | None]  # a finding, whether excepted, its baseline state


def _entries(report: Report) -> list[Entry]:
    """Every finding result in order, whether a channel covers it, and its baseline state:
    the findings, the excepted, then the baseline's findings this run no longer has."""
    baseline = report.baseline
    none: str | None = None
    if baseline is None:
        return [(f, False, none) for f in report.findings] + [
            (f, True, none) for f in report.excepted
        ]
    return [
        *((f, False, baseline.state(f)) for f in report.findings),
        *((f, True, baseline.state(f, excepted=True)) for f in report.excepted),
        *((f, False, "fixed") for f in baseline.absent),
    ]


def _result_dict(
    entry: Entry,
    lang: str,
    report: Report,
    artifact_index: dict[str, int],
    channels: dict[str, Channel],
) -> dict[str, Any]:
    """One finding's result; with a baseline, its state (`absent` for a fixed one)."""
    finding, excepted, state = entry
    result = _result(finding, lang, report, artifact_index, channels, excepted)
    if state is not None:
        result["properties"]["state"] = state
        result["baselineState"] = BASELINE_STATES.get(state, "updated")
    return result


def _result_dicts(
    report: Report, lang: str, artifact_index: dict[str, int], channels: dict[str, Channel]
) -> list[dict[str, Any]]:
    results = [
        _result_dict(entry, lang, report, artifact_index, channels) for entry in _entries(report)
    ]
    return results + _drift_results(report, artifact_index, lang)


def _sarif_dict(report: Report, lang: str, write_results: ResultsWriter) -> dict[str, Any]:
    flat = report
    report = presented(report)
    artifacts: list[dict[str, Any]] = []
    artifact_index: dict[str, int] = {}
    for item in report.inputs:
        if item.path in artifact_index:
            continue
        artifact_index[item.path] = len(artifacts)
        artifacts.append(
            {
                "location": _artifact_location(item.path, None),
                "roles": ["analysisTarget"],
                "hashes": {"sha-256": item.sha256},
                "properties": {"kind": item.kind},
            }
        )
    channels = {c.id: c for c in report.topology.channels}
    results = write_results(report, lang, artifact_index, channels)
    baseline = report.baseline
    invocation: dict[str, Any] = {
        # False when a capture held nothing: the run could not do what was asked of it.
        "executionSuccessful": report.evidence is not Evidence.UNUSABLE,
        "endTimeUtc": report.generated_at,
        "toolExecutionNotifications": _notifications(report, artifact_index, lang),
    }
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "segcheck",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "rules": [_rule_descriptor(rule) for rule in RULES],
                "properties": {"rules_version": RULES_VERSION},
            }
        },
        "invocations": [invocation],
        "automationDetails": {"guid": run_guid(report.today, report.inputs)},
        "originalUriBaseIds": {SRCROOT: {"description": {"text": SRCROOT_DESCRIPTION}}},
        "artifacts": artifacts,
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "command": report.command,
            "topology": report.topology.name,
            "profile": report.topology.profile.value,
            "today": report.today,
            "evidence": report.evidence.value,
            "summary": flat.summary(),
        },
    }
    if flat.captures:  # results are conversations or flows: say which, and how many flows
        run["properties"]["group_by"] = flat.group_by
        run["properties"]["flow_findings"] = sum(1 for f in flat.findings if f.flow is not None)
    uses = channel_use(flat)
    if uses:
        run["properties"]["channel_use"] = [channel_use_dict(u) for u in uses]
    if report.plan is not None:
        run["properties"]["fix_plan"] = plan_dict(report.plan)
    if report.log_join is not None:  # the same object as JSON's `log_join`
        run["properties"]["log_join"] = log_join_dict(report.log_join, lang, baseline)
    if baseline is not None:
        run["baselineGuid"] = baseline.guid
        run["properties"]["baseline"] = {"path": baseline.path, "sha256": baseline.sha256}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report, lang: str = "en") -> str:
    """SARIF 2.1.0 JSON (stable key order, UTF-8 kept readable): ``json.dumps(sarif_dict(...),
    ensure_ascii=False, indent=2) + "\\n"`` byte for byte; flow and conversation results are
    written straight from the findings (`_results_text`), the rest by the JSON format's
    faster writer."""
    return pretty(_sarif_dict(report, lang, _results_text), "\n")


def render_chunks(report: Report, lang: str = "en") -> Iterator[str]:
    """:func:`render` in chunks, each run of `_BULK` results made when drawn."""
    return chunked(pretty_pieces(_sarif_dict(report, lang, _results_text), "\n"))


_RESULT_LEVEL = 4  # {"runs": [{"results": [ result ...
_ITEM = ",\n" + " " * (2 * _RESULT_LEVEL)  # between two results
_BULK = 4096  # results filled per template (bounds the pieces held)
_FLOW_VALUES = attrgetter(*FLOW_KEYS)  # flow_dict's values, in its order
_HEAD = attrgetter(
    "rule", "severity", "message", "message_ja", "fingerprint", "location", "evidence"
)
_WHERE = attrgetter("path", "line", "frame")
_OPTIONAL = attrgetter(  # the result's properties that are left out when None, in their order
    "src_zone", "dst_zone", "src_tier", "dst_tier", "src", "dst", "service", "channel", "verdict"
)
_CONVERSATION = attrgetter(  # conversation_dict's scalars, in its order
    "flows", "packets", "bytes", "first_seen", "last_seen", "first_frame", "input", "state"
)
_CONVERSATION_LISTS = attrgetter("ports", "src_ips", "dst_ips", "first_flow")


def _results_text(
    report: Report, lang: str, artifact_index: dict[str, int], channels: dict[str, Channel]
) -> _Streamed:
    """`results` as ``pretty`` writes the list of `_result_dicts` at level 3, each run of
    `_BULK` results made when the output reaches it.

    A scan has one result per conversation or flow, tens of thousands, which differ in a few
    shapes only (which optional keys they have, how long their lists are). Each such result
    gives its shape and its scalars in the order its dict holds them (`_values`); a shape's
    template is its first result's dict written with a hole for every scalar, and the
    scalars of a run are filled into their templates by one %-format. Other results (paths,
    settings, drift), and a run whose values are not all plain scalars, go through their
    dicts and the general writer.
    """
    entries = _entries(report)
    drift = _drift_results(report, artifact_index, lang)  # a few: not worth deferring
    if not entries and not drift:
        return _Streamed(("[]",))
    context = _Context(lang, artifact_index, channels, os.getcwd(), report.topology.source.path)

    def texts() -> Iterator[str]:
        for start in range(0, len(entries), _BULK):
            run = entries[start : start + _BULK]
            text = _bulk_text(run, report, context)
            if text is None:
                text = _ITEM.join(
                    pretty_at(
                        _result_dict(e, lang, report, artifact_index, channels), _RESULT_LEVEL
                    )
                    for e in run
                )
            yield text
        for d in drift:
            yield pretty_at(d, _RESULT_LEVEL)

    def parts() -> Iterator[str]:
        sep = "[\n" + " " * (2 * _RESULT_LEVEL)
        for text in texts():
            yield sep
            yield text
            sep = _ITEM
        yield "\n" + " " * (2 * (_RESULT_LEVEL - 1)) + "]"

    return _Streamed(parts())


class _Context:
    """What every result of one rendering looks up: URIs and indices by path, channels."""

    __slots__ = ("lang", "ja", "artifact_index", "channels", "cwd", "topo", "where")

    def __init__(
        self,
        lang: str,
        artifact_index: dict[str, int],
        channels: dict[str, Channel],
        cwd: str,
        topo_path: str,
    ) -> None:
        self.lang = lang
        self.ja = lang == "ja"
        self.artifact_index = artifact_index
        self.channels = channels
        self.cwd = cwd
        self.topo = topo_path
        self.where: dict[str, tuple[str, int | None]] = {}

    def location(self, path: str) -> tuple[str, int | None]:
        """`_artifact_location`'s uri and index of a path."""
        found = self.where.get(path)
        if found is None:
            found = self.where[path] = (_uri(path, self.cwd), self.artifact_index.get(path))
        return found


_TEMPLATES: dict[tuple[object, ...], str | None] = {}  # by shape; None: not for this path


def _bulk_text(run: list[Entry], report: Report, context: _Context) -> str | None:
    """The results of `run` joined by `_ITEM`, or None when a value is no plain scalar."""
    lang = context.lang
    templates: list[str] = []
    values: list[object] = []
    for entry in run:
        shape, own = _values(entry, context)
        found = _TEMPLATES.get(shape, "") if shape is not None else None
        if found == "":  # a new shape: its first result's dict, a hole for each scalar
            assert shape is not None
            general = _result_dict(entry, lang, report, context.artifact_index, context.channels)
            found = template(_holed(general), _RESULT_LEVEL)
            if found.replace("%%", "").count("%s") != len(own) or len(_TEMPLATES) >= 1024:
                found = None  # never expected: the general writer is the reference
            else:
                _TEMPLATES[shape] = found
        if found is None:
            general = _result_dict(entry, lang, report, context.artifact_index, context.channels)
            templates.append(template(general, _RESULT_LEVEL))
        else:
            templates.append(found)
            values += own
    pieces = scalar_texts(values)
    if pieces is None:
        return None
    return _ITEM.join(templates) % tuple(pieces)


def _holed(value: Any) -> Any:
    """`value` with a `HOLE` for each str, int, bool and None in it."""
    if isinstance(value, dict):
        return {k: _holed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_holed(v) for v in value]
    if value is None or isinstance(value, str | int):
        return HOLE
    return value


def _values(entry: Entry, context: _Context) -> tuple[tuple[object, ...] | None, list[object]]:
    """A flow or conversation result's shape and its scalars, in the order `_result_dict`
    gives them; (None, []) for any other finding."""
    f, excepted, state = entry
    rule, severity, en, ja, fingerprint, loc, ev = _HEAD(f)
    kind = type(ev)
    if kind is not FlowEvidence and kind is not ConversationEvidence:
        return None, []
    path, line, frame = _WHERE(loc)
    uri, index = context.location(path)
    out: list[object] = [rule, RULE_INDEX[rule], LEVELS[severity], ja if context.ja else en]
    out += (uri, SRCROOT)
    if index is not None:
        out.append(index)
    region = line is not None and frame is None
    if region:
        out.append(line)
    out.append(fingerprint)
    # src_zone ... service, channel, verdict: each a property when it is not None
    optional = _OPTIONAL(f)
    name = optional[7]
    channel = context.channels.get(name) if name is not None else None
    related = channel is not None and channel.line is not None
    topo_index = None
    if related:
        assert channel is not None
        topo_uri, topo_index = context.location(context.topo)
        out += (0, topo_uri, SRCROOT)
        if topo_index is not None:
            out.append(topo_index)
        out += (channel.line, f"channel {channel.id}")
    if excepted:
        reason = channel.reason if channel is not None else f"channel {name}"
        out += ("external", "accepted", reason, name)
    out += (severity.value, en, ja)
    if None in optional:
        out += [v for v in optional if v is not None]
    else:
        out += optional
    if frame is not None:
        out.append(frame)
    lists: tuple[int, ...] = ()
    first_flow = False
    if kind is FlowEvidence:
        out += _FLOW_VALUES(ev)
    else:
        assert isinstance(ev, ConversationEvidence)
        out += _CONVERSATION(ev)
        ports, src_ips, dst_ips, first = _CONVERSATION_LISTS(ev)
        out += ports
        out += src_ips
        out += dst_ips
        lists = (len(ports), len(src_ips), len(dst_ips))
        first_flow = first is not None and first.line is not None
        if first_flow:
            out += _FLOW_VALUES(first)
        else:
            out.append(None)
    if state is not None:
        out += (state, BASELINE_STATES.get(state, "updated"))
    # what decides the keys and list lengths of the result's dict (`_result_dict`)
    shape = (kind, index is None, region, related, topo_index is None, excepted,
             tuple(map(type, optional)), frame is None, lists, first_flow, state is None)  # fmt: skip
    return shape, out
