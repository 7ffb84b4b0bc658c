"""The bulk writers of SARIF and CSV give exactly the bytes of the general ones.

`render` writes a scan's flow and conversation results through one template per shape of
result (`segcheck.report.sarif._results_text`); the reference is `sarif_dict` through
``json.dumps``. The reports here are random scans over every optional field, text that JSON
escapes or a %-format would read (quotes, backslashes, control characters, U+2028, Japanese,
non-BMP, ``%s``), log and packet flows, channels known or not, a baseline (states, fixed
findings, drift new, unchanged and fixed), in both languages and both groupings. CSV's
column-wise cells are held to ``csv.writer`` over `safe_cell` of the same values, a cell that
a spreadsheet would read as a formula included.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import random

import pytest

from segcheck.findings import (
    BaselineInfo,
    Drift,
    Finding,
    FlowEvidence,
    JudgedFlow,
    Location,
    LogJoin,
    Report,
    sorted_findings,
)
from segcheck.model import InputFile
from segcheck.report import csv as csv_format
from segcheck.report import render
from segcheck.report import sarif as sarif_format
from segcheck.rules import Severity

from .conftest import CAPTURE_PATH, check_report, empty_report, scan_report

TEXTS = [
    "",
    "x",
    'a"b\\c',
    "tab\there\nnl\x00\x1f\x7f",
    "日本語\u2028é",
    "音楽 𝄞 😀",
    "100% %s %(x)s %%",
    "=1+2",
    "-x, y",
    "@SUM(A1)",
    "/p/ca p.pcap",
]
LOG_PATH = "logs/fw 01.log"
OTHER_PATH = "elsewhere/old.pcap"  # an input of the baseline only: no artifact index
ODD_PATH = 'caps/日本 𝄞 "q" 100%s.pcap'  # no NUL: a path is resolved


def _flow(rng: random.Random) -> FlowEvidence:
    pick = rng.choice
    log = rng.random() < 0.3
    return FlowEvidence(
        pick(["10.2.10.11", "10.2.10.12", pick(TEXTS)]),
        pick(["10.3.20.25", "10.3.20.26", pick(TEXTS)]),
        pick(["tcp", "udp", "icmp"]),
        pick([0, 51000, 65535]),
        pick([0, 25, 443, 2**40]),
        rng.randint(1, 10**6),
        rng.randint(0, 2**40),
        rng.randint(1, 10**5),
        pick(["2026-03-30T10:00:01Z", "2026-03-30T10:00:00Z", pick(TEXTS)]),
        LOG_PATH if log else pick([CAPTURE_PATH, OTHER_PATH, ODD_PATH]),
        pick(["established", "attempted", "rejected"]),
        vlan=pick([None, 10, 4094]),
        inner_vlan=pick([None, 20]),
        line=rng.randint(1, 99) if log else None,
        pivot=pick([None, "C1xk", pick(TEXTS)]) if log else None,
        device_action=pick([None, "deny", "accept"]) if log else None,
        device_rule=pick([None, "root/1", pick(TEXTS)]) if log else None,
        device=pick([None, "fw-01"]) if log else None,
        last_seen=pick(["", "2026-03-30T10:01:00Z", pick(TEXTS)]),
    )


def _finding(rng: random.Random, excepted: bool) -> Finding:
    pick = rng.choice
    flow = _flow(rng)
    line, frame = (flow.line, None) if flow.line is not None else (None, flow.first_frame)
    if rng.random() < 0.1:
        line, frame = 7, 9  # a location with both: no region
    return Finding(
        pick(["LG-INET-SPLIT", "MN-NO-INTERNET", "MN-ISOLATION", "GEN-ZONE-ASSIGNED"]),
        pick(list(Severity)),
        pick(TEXTS),
        pick(TEXTS),
        Location(flow.input, line, frame),
        pick([None, "lg", "mn"]),
        pick([None, "inet", pick(TEXTS)]),
        pick([None, "lgwan", "mynumber"]),
        pick([None, "internet", "lgwan"]),
        pick([None, "lg-term-01", pick(TEXTS)]),
        pick([None, "inet-mail", pick(TEXTS)]),
        pick([None, "smtp", pick(TEXTS)]),
        evidence=flow,
        # CH-1 is in the topology with a line (relatedLocations), CH-2 without; CH-9 is not
        channel=pick(["CH-1", "CH-2", "CH-9", pick(TEXTS)])
        if excepted
        else pick([None, None, "CH-1", "CH-2"]),
        fingerprint=f"{rng.getrandbits(64):016x}",
        verdict=pick([None, "violation", "suspect", "excepted"]),
    )


def _drift(rng: random.Random, n: int) -> Drift:
    flow = dataclasses.replace(_flow(rng), input=LOG_PATH, line=n)
    return Drift(
        "fw-lg-inet",
        f"root/{n}",
        rng.choice(["absent", "disabled", "not-covered"]),
        rng.choice(["accept", "deny"]),
        rng.randint(1, 9),
        flow,
        rng.choice(TEXTS),
        rng.choice(TEXTS),
    )


def random_scan(seed: int, findings: int = 120, baseline: bool = False) -> Report:
    """A scan of random flow findings (a few `check` findings among them, grouped flows
    sharing their conversation), with a baseline and drift when asked."""
    rng = random.Random(seed)
    base = scan_report()
    plan = check_report().findings
    found: list[Finding] = []
    for _ in range(findings):
        if rng.random() < 0.05:
            found.append(rng.choice(plan))
        elif found and rng.random() < 0.3:  # another flow of an earlier one's conversation
            like = rng.choice(found)
            if like.flow is not None:
                other = dataclasses.replace(_flow(rng), state=like.flow.state)
                found.append(dataclasses.replace(like, evidence=other, fingerprint=f"{_}"))
        else:
            found.append(_finding(rng, excepted=False))
    covered = [_finding(rng, excepted=True) for _ in range(findings // 5)]
    inputs = (*base.inputs, InputFile(LOG_PATH, "fortigate", "cd" * 32))
    rows = tuple(
        JudgedFlow(f.flow, f.src_zone, f.dst_zone, f.src_tier, f.dst_tier, f.src or "",
                   f.dst or "", f.service, f.verdict or "violation", f.rule, f.channel)
        for f in (*found, *covered) if f.flow is not None
    )  # fmt: skip
    drift = tuple(_drift(rng, n) for n in range(rng.randint(0, 4)))
    first = base.topology.channels[0]
    unlined = dataclasses.replace(first, id="CH-2", line=None, reason=rng.choice(TEXTS))
    topology = dataclasses.replace(base.topology, channels=(*base.topology.channels, unlined))
    info = None
    if baseline:
        everything = [*found, *covered, *plan]
        states = ["new", "updated", "renamed", "unchanged", "excepted-now"]
        info = BaselineInfo(
            "baseline/last month.json",
            "ef" * 32,
            "00000000-0000-0000-0000-000000000000",
            {f.fingerprint: rng.choice(states) for f in everything if rng.random() < 0.7},
            {f.fingerprint: rng.choice(states) for f in covered if rng.random() < 0.5},
            frozenset(f.fingerprint for f in found if rng.random() < 0.2),
            absent=tuple(
                sorted_findings(
                    [_finding(rng, excepted=False) for _ in range(findings // 10)] + list(plan[:2])
                )
            ),
            drift_known=frozenset(d.key for d in drift if rng.random() < 0.5),
            absent_drift=(_drift(rng, 90),),
        )
    return dataclasses.replace(
        base,
        topology=topology,
        inputs=inputs,
        findings=sorted_findings(found),
        excepted=sorted_findings(covered),
        flows=rows,
        baseline=info,
        log_join=LogJoin(drift=drift) if drift or rng.random() < 0.5 else None,
    )


def _sarif_reference(report: Report, lang: str) -> str:
    log = sarif_format.sarif_dict(report, lang)
    return json.dumps(log, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("group_by", ["conversation", "flow"])
@pytest.mark.parametrize("baseline", [False, True], ids=["plain", "baseline"])
def test_sarif_results_in_bulk_are_the_general_bytes(lang, group_by, baseline, monkeypatch):
    for seed in range(4):
        report = dataclasses.replace(random_scan(seed, baseline=baseline), group_by=group_by)
        expected = _sarif_reference(report, lang)
        for bulk in (1, 7, 4096):  # runs cut anywhere
            monkeypatch.setattr(sarif_format, "_BULK", bulk)
            assert render(report, "sarif", lang) == expected
            chunks = list(sarif_format.render_chunks(report, lang))  # `-o FILE` writes these
            assert "".join(chunks) == expected


@pytest.mark.parametrize("group_by", ["conversation", "flow"])
def test_sarif_bulk_writes_every_flow_result_by_its_template(group_by, monkeypatch) -> None:
    """The general dict of a flow or conversation result is built once per shape (for its
    template), never again: a shape that missed a difference between results would fall back
    to it (same bytes, no speed)."""
    report = dataclasses.replace(random_scan(5, baseline=True), group_by=group_by)
    monkeypatch.setattr(sarif_format, "_TEMPLATES", {})
    general = sarif_format._result_dict
    built: list[str] = []

    def counted(entry, *args):  # type: ignore[no-untyped-def]
        if entry[0].flow is not None or entry[0].conversation is not None:
            built.append(entry[0].fingerprint)
        return general(entry, *args)

    monkeypatch.setattr(sarif_format, "_result_dict", counted)
    render(report, "sarif", "en")
    kinds = {shape[0].__name__ for shape in sarif_format._TEMPLATES}
    assert kinds == {"FlowEvidence" if group_by == "flow" else "ConversationEvidence"}
    assert len(sarif_format._TEMPLATES) > 10  # shapes: optional keys, baseline, suppressions
    assert len(built) == len(sarif_format._TEMPLATES)


def test_sarif_bulk_leaves_other_values_to_the_general_writer() -> None:
    """A value that is no plain scalar (a container, a bool) sends its run to the general
    writer, bytes unchanged."""
    report = dataclasses.replace(random_scan(5, baseline=True), group_by="flow")
    odd_flow = dataclasses.replace(report.findings[3].evidence, pivot=("not", "scalar"))
    for value in (odd_flow, dataclasses.replace(report.findings[3].evidence, vlan=True)):
        odd = dataclasses.replace(report.findings[3], evidence=value)
        findings = (*report.findings[:3], odd, *report.findings[4:])
        changed = dataclasses.replace(report, findings=findings)
        assert render(changed, "sarif", "ja") == _sarif_reference(changed, "ja")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_sarif_small_reports_are_the_general_bytes(lang) -> None:
    """No result, one result, results of `check` only, a scan's conversations."""
    one = random_scan(6, findings=1)
    one = dataclasses.replace(one, findings=one.findings[:1], excepted=(), log_join=None)
    for report in (empty_report(), check_report(), scan_report(), one):
        for grouped in ("conversation", "flow"):
            report = dataclasses.replace(report, group_by=grouped)
            assert render(report, "sarif", lang) == _sarif_reference(report, lang)


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("baseline", [False, True], ids=["plain", "baseline"])
def test_csv_cells_are_the_csv_writers(lang, baseline, monkeypatch) -> None:
    """The flow table's cells, encoded column by column (each distinct value once), are what
    ``csv.writer`` writes of `safe_cell` of each value, row by row: gaps, drift, flows, the
    baseline's columns and fixed rows; no flow, and one."""
    tables: list[tuple[tuple[str, ...] | None, list[list[object]]]] = []
    table = csv_format._table

    def kept(head: tuple[str, ...] | None, columns: list[list[object]]) -> str:
        tables.append((head, columns))
        return table(head, columns)

    monkeypatch.setattr(csv_format, "_table", kept)
    report = random_scan(7, baseline=baseline)
    one = dataclasses.replace(report, flows=report.flows[:1])
    for case in (report, one, dataclasses.replace(report, flows=()), scan_report()):
        text = render(case, "csv", lang)
        head, columns = tables.pop()
        assert head is not None and not tables  # one run, after the header
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([csv_format.safe_cell(v) for v in head])
        for row in zip(*columns, strict=True):
            writer.writerow([csv_format.safe_cell(v) for v in row])
        assert text == out.getvalue()
        assert len(columns[0]) >= len(case.flows)


def test_csv_rows_find_their_findings_as_by_flow() -> None:
    """Rows find their findings by the flow object, as a dict by flow value would, also when
    a row's flow equals a finding's without being it, or two findings' flows are equal."""
    report = random_scan(8)
    findings = list(report.findings)
    flows = [row.flow for row in report.flows]
    cases = [
        flows,
        [dataclasses.replace(fl) if i % 3 == 0 else fl for i, fl in enumerate(flows)],
        [*flows, dataclasses.replace(flows[0], packets=flows[0].packets + 1)],
    ]
    first = next(f for f in findings if f.flow is not None)
    twin = dataclasses.replace(first, evidence=dataclasses.replace(first.evidence), message="twin")
    for found in (findings, [*findings, twin]):
        by_flow = {f.flow: f for f in found if f.flow is not None}
        for table in cases:
            expected = [by_flow.get(fl) for fl in table]
            assert csv_format._finder(found)(table) == expected
