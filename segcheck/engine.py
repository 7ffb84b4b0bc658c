"""The library entry points: `check` a planned topology, `scan` observed traffic, and
`report` both at once (the evidence of `segcheck report`).

Each returns a `Report` and never prints or exits; the CLI and any other caller (`segcheck
diff`, a Dask fan-out) render or combine reports as they need. `report` is not re-exported as
`segcheck.report`, which names the formatters' package.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .addressing import AddressMap
from .findings import CaptureSummary, Finding, JudgedFlow, Report, sorted_findings
from .flowjudge import FlowJudge, JudgedColumns, JudgedFlows
from .gcpause import paused
from .loaders.topology import load_topology
from .logjoin import join_logs
from .model import InputFile, Topology
from .policy import Policy
from .rules.channels import channel_findings, mac_pin_findings, pinned_pairs
from .rules.nodes import node_findings

if TYPE_CHECKING:
    from .capture.api import ScanResult
    from .cluster import ClusterSpec


def now_iso() -> str:
    """The current time as ISO 8601 UTC (the one timestamp a report may differ by)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _topology(topology: Topology | str | Path) -> Topology:
    return topology if isinstance(topology, Topology) else load_topology(topology)


def _prepare(topology: Topology, today: date | None) -> tuple[Policy, AddressMap]:
    policy = Policy(topology, today or date.today())
    return policy, AddressMap(topology.zones.values(), topology.nodes.values())


def topology_findings(
    topology: Topology, policy: Policy, addresses: AddressMap
) -> tuple[list[Finding], list[Finding]]:
    """Findings of a plan: node settings, the channel register and every forbidden path."""
    from .analysis.chukan import chukan_route_findings
    from .analysis.monitoring import monitoring_findings
    from .analysis.paths import analyse_paths  # networkx is loaded only when paths are analysed

    findings = [*node_findings(topology, addresses), *channel_findings(policy, addresses)]
    path_result = analyse_paths(topology, policy, addresses)
    findings.extend(path_result.findings)
    findings.extend(monitoring_findings(topology))
    findings.extend(chukan_route_findings(topology))
    return findings, list(path_result.excepted)


def check(
    topology: Topology | str | Path,
    *,
    today: date | None = None,
    generated_at: str | None = None,
) -> Report:
    """Check a planned topology: every forbidden path, node setting and channel problem.

    Inside `segcheck.allow_gc_pauses()` (the CLI opens it) the cyclic collector is paused while
    loading and analysing; otherwise the process's collector is left as it is.
    """
    from .analysis.plan import fix_plan

    # Loading and analysing a plan allocates hundreds of thousands of objects and frees almost
    # none: the cyclic collector would only re-walk them (a third of loading a 20k-permit town).
    with paused():
        topo = _topology(topology)
        policy, addresses = _prepare(topo, today)
        findings, excepted = topology_findings(topo, policy, addresses)
        ordered = sorted_findings(findings)
        plan = fix_plan(topo, policy.today, ordered)
    return Report(
        __version__,
        generated_at or now_iso(),
        "check",
        topo,
        topo.inputs,
        ordered,
        sorted_findings(excepted),
        today=policy.today.isoformat(),
        plan=plan,
    )


def scan(
    topology: Topology | str | Path,
    captures: Sequence[str | Path],
    *,
    today: date | None = None,
    generated_at: str | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    attempts_keep_severity: bool = False,
    tz: tzinfo | None = None,
    cluster: ClusterSpec | None = None,
    max_flows: int | None = None,
) -> Report:
    """Judge every flow of the captures against the plan: packet captures (pcap, pcapng, gzip)
    and traffic logs (Zeek conn.log, Suricata EVE, FortiGate and PAN-OS traffic logs, nfdump).

    A forbidden flow that was only attempted is a `warning`, unless `attempts_keep_severity`.
    `tz` is the zone of device-local times in logs that carry no offset (`--tz`).
    `cluster`: read the inputs on a Dask cluster instead of `jobs` local processes (the
    report is the same, byte for byte). `max_flows`: flows beyond it (by input and frame)
    are joined and judged per address class (zone, node, channel ends) and service, which
    the report states (default: sized to the machine's memory). The cyclic collector is paused while reading and judging only inside
    `segcheck.allow_gc_pauses()`, as for `check`.
    """
    # A scan allocates a few objects per flow and frees almost none until the report is
    # rendered: the cyclic collector would only re-walk them (a third of the judging time).
    with paused():
        return _scan(
            topology,
            captures,
            today,
            generated_at,
            jobs,
            progress,
            attempts_keep_severity,
            tz,
            cluster,
            max_flows,
        )


def _scan(
    topology: Topology | str | Path,
    captures: Sequence[str | Path],
    today: date | None,
    generated_at: str | None,
    jobs: int,
    progress: Callable[[int, int], None] | None,
    attempts_keep_severity: bool = False,
    tz: tzinfo | None = None,
    cluster: ClusterSpec | None = None,
    max_flows: int | None = None,
) -> Report:
    from .capture.api import (
        default_max_flows,
        read_scan,
    )  # numpy and the readers load only for scans
    from .capture.flowcols import address_classes
    from .capture.logflow import ReadOptions

    topo = _topology(topology)
    policy, addresses = _prepare(topo, today)
    options = ReadOptions(tz) if tz is not None else None
    limit = default_max_flows() if max_flows is None else max_flows
    judge = FlowJudge(policy, addresses, attempts_keep_severity=attempts_keep_severity)
    breaks = judge.class_breaks()

    def classes(hi: Any, lo: Any) -> Any:  # past the cap, flows join by the judge's classes
        return address_classes(hi, lo, breaks, judge.address_class)

    cluster_stopped: Callable[[], None] | None = None
    if cluster is not None:
        from .cluster import read_then_stop  # distributed loads only here

        # Read on the workers, merged and judged here while the cluster stops.
        scanned, cluster_stopped = read_then_stop(cluster, list(captures), options)
    else:
        scanned = read_scan(list(captures), jobs=jobs, progress=progress, options=options)
    try:  # the cluster stops meanwhile
        joined = scanned.table.cap(limit, classes)
        findings: list[Finding] = []
        excepted: list[Finding] = []
        rows = _judge_scanned(judge, scanned, findings, excepted)
    finally:
        if cluster_stopped is not None:
            cluster_stopped()
    inputs: list[InputFile] = list(topo.inputs)
    summaries: list[CaptureSummary] = []
    kinds: dict[str, str] = {}
    for index, (info, count) in enumerate(zip(scanned.inputs, scanned.flow_counts, strict=True)):
        kinds[info.path] = info.kind
        inputs.append(InputFile(info.path, info.kind, info.sha256))
        stopped = info.stopped_at
        summaries.append(
            CaptureSummary(
                info.path,
                info.kind,
                info.sha256,
                info.packets_read,
                info.packets_skipped,
                None if stopped is None else (stopped.byte_offset, stopped.frame, stopped.reason),
                info.compressed,
                count,
                info.first_skipped,
                joined.get(index, 0),
            )
        )
    findings.extend(_mac_pins(policy, kinds, rows))
    # Firewall logs against the configurations the topology imports (segcheck.logjoin).
    log_join, findings = join_logs(topo, rows, kinds, findings)
    return Report(
        __version__,
        generated_at or now_iso(),
        "scan",
        topo,
        tuple(inputs),
        sorted_findings(findings),
        sorted_findings(excepted),
        tuple(summaries),
        rows,
        today=policy.today.isoformat(),
        log_join=log_join,
    )


def _judge_scanned(
    judge: FlowJudge, scanned: ScanResult, findings: list[Finding], excepted: list[Finding]
) -> JudgedFlows:
    """Every flow of a scan judged here: packet flows in bulk from the table's columns (one
    decision per address class pair and service), flow logs' records one by one. Findings
    are appended in input order, each input's by first frame, as the rows."""
    from .capture.flowcols import oriented

    table = oriented(scanned.table.columns(), [i.path for i in scanned.inputs])
    judged = judge.judge_columns(table)
    bounds = table.input_bounds()
    parts: list[Sequence[JudgedFlow] | tuple[JudgedColumns, int, int]] = []
    found = iter(judged.findings)
    pending = next(found, None)
    for index, logged in enumerate(scanned.logged):
        if logged is not None:
            logged_rows: list[JudgedFlow] = []
            for row, finding, is_excepted in judge.judge_flows(logged):
                logged_rows.append(row)
                if finding is not None:
                    (excepted if is_excepted else findings).append(finding)
            parts.append(logged_rows)
            continue
        end = bounds[index + 1]
        parts.append((judged, bounds[index], end))
        while pending is not None and pending[0] < end:
            (excepted if pending[2] else findings).append(pending[1])
            pending = next(found, None)
    return JudgedFlows(parts)


def _mac_pins(policy: Policy, kinds: dict[str, str], rows: Sequence[JudgedFlow]) -> list[Finding]:
    """MN-SPECIFIED-COMM on the channels that pin MACs: a second, targeted pass over the
    packets of their ends (flow records keep no MAC addresses); nothing when none is pinned."""
    pairs = pinned_pairs(policy)
    if not pairs:
        return []
    from .capture.macs import MacObservation, observe_macs

    flows: dict[str, list[tuple[str, str]]] = {path: [] for path in kinds}
    for row in rows:
        flows.setdefault(row.flow.input, []).append((row.flow.src_ip, row.flow.dst_ip))
    out: list[Finding] = []
    for path, kind in kinds.items():
        packets = kind in ("pcap", "pcapng")
        seen = observe_macs(path, pairs) if packets else MacObservation()
        out.extend(
            mac_pin_findings(policy, path, packets, seen.macs, seen.unseen, flows.get(path, ()))
        )
    return out


def report(
    topology: Topology | str | Path,
    captures: Sequence[str | Path] = (),
    *,
    today: date | None = None,
    generated_at: str | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    attempts_keep_severity: bool = False,
    tz: tzinfo | None = None,
) -> Report:
    """Check the plan and, when captures are given, scan them too: one combined report.

    Topology findings (paths) and capture findings (flows) have distinct fingerprints, so the
    union is simply sorted again in the spec's order. The topology is read once.
    """
    topo = _topology(topology)
    stamp = generated_at or now_iso()
    planned = check(topo, today=today, generated_at=stamp)
    if not captures:
        return Report(
            planned.tool_version,
            stamp,
            "report",
            topo,
            planned.inputs,
            planned.findings,
            planned.excepted,
            today=planned.today,
            plan=planned.plan,
        )
    observed = scan(
        topo,
        list(captures),
        today=today,
        generated_at=stamp,
        jobs=jobs,
        progress=progress,
        attempts_keep_severity=attempts_keep_severity,
        tz=tz,
    )
    return Report(
        planned.tool_version,
        stamp,
        "report",
        topo,
        observed.inputs,
        sorted_findings((*planned.findings, *observed.findings)),
        sorted_findings((*planned.excepted, *observed.excepted)),
        observed.captures,
        observed.flows,
        today=planned.today,
        plan=planned.plan,
        log_join=observed.log_join,
    )
