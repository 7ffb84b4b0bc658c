"""JUnit XML (`check --format junit`): a broken separation shows up in CI as a failed test.

One test suite per rule. A rule judged per zone pair (the policy matrix names it for the pair's
tiers) gets one test case per ordered pair of zones, passing when no path was found; findings
about a node or a channel get a test case each. A rule with nothing to test still gets one
passing case, so every rule of the catalogue is visible in the CI summary.

With `--baseline` each finding's witness carries its state (`[new]`, `[unchanged]`,
`[updated, escalated]`…). Only a case holding a new or escalated finding fails, as only those
count for the exit status; a case whose findings were all known is `skipped` with the reason
(what pytest writes for an expected failure), and a finding the baseline had and this run no
longer has is named in its case's output as fixed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping

from ..addressing import AddressMap, Scope
from ..findings import Drift, Finding, Report
from ..model import PUBLIC_INTERNET_ZONE, Topology, xml_text
from ..policy import CellKind, cell
from ..rules import RULES
from ..rules.ids import GEN_CONFIG_DRIFT
from ._common import FIX_KEYS, ONE_FIX, endpoint_text, endpoints, finding_facts, flow_source, where
from .labels import labels, value_word

_JOIN = {"path": " > ", "permits": ", "}


def _zone_names(report: Report) -> list[str]:
    """Declared zones, plus the public Internet when anything lives there."""
    topo = report.topology
    names = sorted(topo.zones)
    mentioned = {
        zone
        for f in (*report.findings, *report.excepted)
        for zone in (f.src_zone, f.dst_zone)
        if zone is not None
    }
    public = PUBLIC_INTERNET_ZONE.name
    if public in mentioned or _has_public_nodes(topo):
        names.append(public)
    return names


def _has_public_nodes(topo: Topology) -> bool:
    addresses = AddressMap(topo.zones.values(), topo.nodes.values())
    return any(
        addresses.lookup(ip).scope is Scope.PUBLIC
        for node in topo.nodes.values()
        for ip in node.addresses
    )


def pair_name(src_zone: str | None, dst_zone: str | None) -> str:
    """The test case name of a zone pair."""
    return f"{src_zone or '?'} -> {dst_zone or '?'}"


def _case_name(finding: Finding) -> str:
    if finding.node is not None:
        return f"node {finding.node}"
    if finding.channel is not None and finding.src_zone is None:
        return f"channel {finding.channel}"
    if finding.src_zone is not None or finding.dst_zone is not None:
        return pair_name(finding.src_zone, finding.dst_zone)
    return finding.location.path


def _case_names(finding: Finding) -> list[str]:
    """The test cases a finding fails: every zone pair a finding by cause spans, else one."""
    if finding.routes:
        return list(dict.fromkeys(pair_name(r.src_zone, r.dst_zone) for r in finding.routes))
    return [_case_name(finding)]


def _state(report: Report, finding: Finding, lang: str, excepted: bool = False) -> str:
    """` [new]` and the like under --baseline, else nothing (as in the text format)."""
    baseline = report.baseline
    if baseline is None:
        return ""
    state = value_word(lang, "baseline", baseline.state(finding, excepted))
    escalated = not excepted and finding.fingerprint in baseline.escalated
    more = f", {value_word(lang, 'baseline', 'escalated')}" if escalated else ""
    return f" [{state}{more}]"


def _witness(finding: Finding, lang: str, t: Mapping[str, str], state: str = "") -> str:
    severity = value_word(lang, "severity", finding.severity.value)
    lines = [f"{where(finding.location)}: [{severity}]{state} {finding.text(lang)}"]
    if finding.cause is not None:
        lines.append(f"  {t['cause']}: {finding.cause.text(lang)}")
    ends = endpoints(finding, lang=lang)
    if ends is not None:
        service = f" ({finding.service})" if finding.service else ""
        lines.append(f"  {ends}{service}, {t['pairs']}: {finding.count}")
    for r in finding.routes[1:]:
        src = endpoint_text(r.src, r.src_unassigned, lang)
        dst = endpoint_text(r.dst, r.dst_unassigned, lang)
        lines.append(
            f"  {r.src_zone} -> {r.dst_zone}: {src} -> {dst} ({r.service}), {t['pairs']}: {r.count}"
        )
    fixes: list[str] = []
    for key, items in finding_facts(finding):
        if key in FIX_KEYS:
            fixes += (f"{t[ONE_FIX[key]]} {item}" for item in items)
        else:
            lines.append(f"  {t[key]}: {_JOIN[key].join(items)}")
    if fixes:
        lines.append(f"  {t['fix']}: {'; '.join(fixes)}")
    if finding.flow is not None:
        fl = finding.flow
        where_ = "line_of" if fl.line is not None else "frame_of"
        frame = t[where_].format(frame=fl.first_frame, input=fl.input) + flow_source(fl, t)
        lines.append(
            f"  {t['flow']}: {fl.proto} {fl.src_ip}:{fl.src_port} -> {fl.dst_ip}:{fl.dst_port} "
            f"{value_word(lang, 'state', fl.state)}, {frame}"
        )
    return "\n".join(lines)


def _cases(report: Report) -> dict[str, dict[str, list[Finding]]]:
    """rule -> test case name -> findings (empty list: a passing case)."""
    topo = report.topology
    cases: dict[str, dict[str, list[Finding]]] = defaultdict(dict)
    zones = _zone_names(report)
    for src in zones:
        for dst in zones:
            src_tier, dst_tier = topo.zone_tier(src), topo.zone_tier(dst)
            if src_tier is dst_tier:
                continue
            the_cell = cell(src_tier, dst_tier)
            if the_cell.kind is not CellKind.ALLOW and the_cell.rule is not None:
                cases[the_cell.rule][pair_name(src, dst)] = []
    for finding in report.findings:
        for name in _case_names(finding):
            cases[finding.rule].setdefault(name, []).append(finding)
    if report.baseline is not None:  # a fixed finding's cases pass now: list them
        for finding in report.baseline.absent:
            for name in _case_names(finding):
                cases[finding.rule].setdefault(name, [])
    return cases


def _evidence_suite(root: ET.Element, report: Report, lang: str) -> int:
    """A suite of errored cases, one per evidence gap (none when the evidence is complete)."""
    if not report.gaps:
        return 0
    suite = ET.SubElement(root, "testsuite", name="evidence")
    for gap in report.gaps:
        case = ET.SubElement(
            suite, "testcase", classname="segcheck.evidence", name=f"{gap.kind} {gap.path}"
        )
        case.set("time", "0")
        error = ET.SubElement(case, "error", message=gap.text(lang), type=gap.kind.value)
        error.text = gap.text(lang) + "\n"
    count = str(len(report.gaps))
    for key, value in (("tests", count), ("failures", "0"), ("errors", count), ("skipped", "0")):
        suite.set(key, value)
    suite.set("time", "0")
    suite.set("timestamp", report.generated_at.removesuffix("Z"))
    return len(report.gaps)


def _drift_suite(root: ET.Element, report: Report, lang: str) -> tuple[int, int, int]:
    """With firewall logs joined to imported configurations (segcheck.logjoin): one failed
    case per drift, or one passing case when the logs agree with the configurations. Under
    --baseline, as for findings: a drift the baseline had is `skipped`, and one it had that the
    logs no longer show is a passing case naming it. Returns (tests, failures, skipped)."""
    join = report.log_join
    baseline = report.baseline
    gone = baseline.absent_drift if baseline is not None else ()
    if join is None and not gone:
        return 0, 0, 0
    drift = report.drift
    t = labels(lang, "junit")
    suite = ET.SubElement(root, "testsuite", name="config-drift")
    failures = skipped = 0
    for d in drift:
        case = _drift_case(suite, d)
        state = baseline.drift_state(d) if baseline is not None else "new"
        text = d.text(lang)
        if baseline is not None:
            text = f"[{value_word(lang, 'baseline', state)}] {text}"
        if state == "new":
            failures += 1
            failure = ET.SubElement(case, "failure", message=d.text(lang), type="high")
            failure.text = text + "\n"
        else:  # known since the baseline: an expected failure
            assert baseline is not None
            skipped += 1
            ET.SubElement(case, "skipped", message=t["known"].format(path=baseline.path))
            ET.SubElement(case, "system-out").text = text
    for d in gone:
        ET.SubElement(_drift_case(suite, d), "system-out").text = f"{t['fixed']}: {d.text(lang)}"
    if not drift and not gone:
        ET.SubElement(suite, "testcase", classname="segcheck.config-drift", name="logs", time="0")
    count = max(1, len(drift) + len(gone))
    for key, value in (
        ("tests", count),
        ("failures", failures),
        ("errors", 0),
        ("skipped", skipped),
    ):
        suite.set(key, str(value))
    suite.set("time", "0")
    suite.set("timestamp", report.generated_at.removesuffix("Z"))
    return count, failures, skipped


def _drift_case(suite: ET.Element, d: Drift) -> ET.Element:
    return ET.SubElement(
        suite,
        "testcase",
        classname="segcheck.config-drift",
        name=f"{d.node} {d.rule} {d.reason}",
        time="0",
    )


def render(report: Report, lang: str = "en") -> str:
    """JUnit XML: <testsuites> with one <testsuite> per rule, in catalogue order."""
    t = labels(lang, "junit")
    cases = _cases(report)
    excepted: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in report.excepted:
        excepted[(finding.rule, _case_name(finding))].append(finding)
    fixed: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    baseline = report.baseline
    for finding in baseline.absent if baseline is not None else ():
        for name in _case_names(finding):
            fixed[(finding.rule, name)].append(finding)
    root = ET.Element("testsuites", name=f"segcheck {report.command}: {report.topology.name}")
    total = failed = skipped = 0
    for rule in RULES:
        if rule.id == GEN_CONFIG_DRIFT:
            continue  # no finding of its own: the config-drift suite below has each drift
        rule_cases = cases.get(rule.id) or {"topology": []}
        suite = ET.SubElement(root, "testsuite", name=f"{rule.id} {rule.name(lang)}")
        suite_failures = suite_skipped = 0
        for name in sorted(rule_cases):
            findings = rule_cases[name]
            case = ET.SubElement(
                suite, "testcase", classname=f"segcheck.{rule.id}", name=name, time="0"
            )
            output: list[str] = []
            if findings:
                witness = "\n\n".join(
                    _witness(f, lang, t, _state(report, f, lang)) for f in findings
                )
                gating = [f for f in findings if baseline is None or baseline.gates(f)]
                if gating:
                    suite_failures += 1
                    first = gating[0]
                    failure = ET.SubElement(
                        case, "failure", message=first.text(lang), type=first.severity.value
                    )
                    failure.text = witness + "\n"
                else:  # every finding was known: an expected failure
                    assert baseline is not None
                    suite_skipped += 1
                    known = t["known"].format(path=baseline.path)
                    ET.SubElement(case, "skipped", message=known)
                    output.append(witness)
            output += (
                f"{t['covered'].format(channel=f.channel)}:{_state(report, f, lang, excepted=True)} "
                f"{f.text(lang)}"
                for f in excepted.get((rule.id, name), ())
            )
            output += (
                f"{t['fixed']}: [{value_word(lang, 'severity', f.severity.value)}] {f.text(lang)}"
                for f in fixed.get((rule.id, name), ())
            )
            if output:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(output)
        suite.set("tests", str(len(rule_cases)))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("skipped", str(suite_skipped))
        suite.set("time", "0")
        suite.set("timestamp", report.generated_at.removesuffix("Z"))
        total += len(rule_cases)
        failed += suite_failures
        skipped += suite_skipped
    drift_tests, drift_failed, drift_known = _drift_suite(root, report, lang)
    total += drift_tests
    failed += drift_failed
    skipped += drift_known
    errors = _evidence_suite(root, report, lang)
    total += errors
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", str(errors))
    if baseline is not None:
        root.set("skipped", str(skipped))
    root.set("time", "0")
    for element in root.iter():
        element.attrib = {k: xml_text(v) for k, v in element.attrib.items()}
        if element.text:
            element.text = xml_text(element.text)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
