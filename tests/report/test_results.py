"""Results read back (segcheck.report.results): JSON -> records -> JSON gives the same bytes,
for every example topology and capture; a result that does not follow from its inputs, or
from the topology given, is refused with its line."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest

from segcheck import load_topology
from segcheck.engine import check, scan
from segcheck.errors import InputError
from segcheck.findings import CaptureSummary, FlowEvidence, PathEvidence, Report, SubjectEvidence
from segcheck.report import render
from segcheck.report.results import finding_from_dict, report_from_dict

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = sorted((ROOT / "topologies").glob("*.yaml")) + [ROOT / "lab" / "town.yaml"]
SCANS = [
    (example, capture)
    for example in ("alpha", "alpha-prime", "beta", "beta-prime")
    for capture in sorted((ROOT / "captures" / example).glob(f"{example}.pcap*"))
] + [("lab", ROOT / "captures" / "lab" / "fw-any.pcapng")]
STAMP = "2026-06-01T00:00:00Z"


def _topology(example: str) -> Path:
    return (
        ROOT / "lab" / "town.yaml" if example == "lab" else ROOT / "topologies" / f"{example}.yaml"
    )


def assert_round_trip(report: Report) -> Report:
    for lang in ("en", "ja"):
        text = render(report, "json", lang)
        back = report_from_dict(json.loads(text), report.topology)
        assert render(back, "json", lang) == text
    return back


@pytest.mark.parametrize("path", TOPOLOGIES, ids=lambda p: p.name)
def test_a_check_result_reads_back_to_the_same_bytes(path: Path) -> None:
    report = check(path, generated_at=STAMP)
    back = assert_round_trip(report)
    assert back.findings == tuple(
        _one_language(f, "ja") for f in report.findings
    )  # the records, not only their JSON


@pytest.mark.parametrize(("example", "capture"), SCANS, ids=lambda v: getattr(v, "name", v))
def test_a_scan_result_reads_back_to_the_same_bytes(example: str, capture: Path) -> None:
    report = scan(_topology(example), [capture], generated_at=STAMP)
    assert report.findings
    back = assert_round_trip(report)
    # what was read comes back (whether it was gzipped, and how many flows it made, are not
    # in a result unless a gap says so)
    assert [_read(c) for c in back.captures] == [_read(c) for c in report.captures]
    assert [type(f.evidence) for f in back.findings] == [FlowEvidence] * len(report.findings)


def _read(c: CaptureSummary) -> tuple[object, ...]:
    return (c.path, c.kind, c.sha256, c.packets_read, c.packets_skipped, c.stopped_at,
            c.first_skipped)  # fmt: skip


def _one_language(finding, lang):  # type: ignore[no-untyped-def]
    text = finding.text(lang)
    return replace(finding, message=text, message_ja=text)


def _damaged(tmp_path: Path) -> Path:
    data = (ROOT / "captures" / "alpha" / "alpha.pcapng").read_bytes()
    path = tmp_path / "cut.pcapng.gz"
    path.write_bytes(gzip.compress(data[: len(data) - 10]))
    return path


def test_gaps_of_a_damaged_gzipped_capture_come_back(tmp_path: Path) -> None:
    """What a result leaves out of a capture (gzip) is recovered from its stated gaps."""
    report = scan(ROOT / "topologies" / "alpha.yaml", [_damaged(tmp_path)], generated_at=STAMP)
    assert report.gaps and report.captures[0].compressed
    back = assert_round_trip(report)
    assert back.captures[0].compressed and back.gaps == report.gaps


def test_a_capture_without_traffic_comes_back(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    report = scan(ROOT / "topologies" / "alpha.yaml", [empty], generated_at=STAMP)
    assert [g.kind.value for g in report.gaps] == ["no-packets"]
    assert_round_trip(report)


def test_each_evidence_kind_comes_back() -> None:
    report = check(ROOT / "topologies" / "alpha-fortigate.yaml", generated_at=STAMP)
    data = json.loads(render(report, "json"))
    kinds = {type(finding_from_dict(item).evidence) for item in data["findings"]}
    assert PathEvidence in kinds
    first = data["findings"][0]
    node = dict(first, flow=None, path=[], permits=[], remediation=None, node="pc", count=1)
    for key in ("cause", "routes", "src_unassigned", "dst_unassigned"):  # a path's own
        node.pop(key, None)
    assert finding_from_dict(node).evidence == SubjectEvidence("pc")
    channel = dict(node, node=None, channel="CH-1")
    assert finding_from_dict(channel).evidence == SubjectEvidence()


@pytest.fixture(scope="module")
def alpha_scan() -> tuple[Report, dict]:  # type: ignore[type-arg]
    capture = ROOT / "captures" / "alpha" / "alpha.pcap"
    report = scan(ROOT / "topologies" / "alpha.yaml", [capture], generated_at=STAMP)
    return report, json.loads(render(report, "json"))


def test_another_revision_of_the_topology_is_refused(alpha_scan, tmp_path: Path) -> None:
    report, data = alpha_scan
    changed = tmp_path / "alpha.yaml"
    changed.write_bytes((ROOT / "topologies" / "alpha.yaml").read_bytes() + b"\n# edited\n")
    with pytest.raises(InputError, match="was not made from .*alpha.yaml as it is now"):
        report_from_dict(data, load_topology(changed))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["summary"].update(critical=99), "the summary does not count the findings"),
        (
            lambda d: d["evidence"]["gaps"].append(
                dict(kind="no-packets", input="x", message="m", frame=None, byte_offset=None)
            ),
            "the evidence gaps do not follow",
        ),  # fmt: skip
        (lambda d: d["findings"][0].update(count=3), "a flow finding stands for one pair"),
        (lambda d: d["findings"][0].update(path=["a", "b"]), "a flow finding has no 'path'"),
        (lambda d: d["findings"][0].update(rule="NO-SUCH-RULE"), "unknown rule 'NO-SUCH-RULE'"),
        (lambda d: d["findings"][0]["flow"].update(packets="many"), "'packets' must be an integer"),
        (lambda d: d.update(schema_version=2), "unsupported schema_version 2"),
    ],
)
def test_a_result_that_does_not_add_up_is_refused(alpha_scan, change, message) -> None:
    report, data = alpha_scan
    tampered = json.loads(json.dumps(data))
    change(tampered)
    with pytest.raises(InputError, match=message):
        report_from_dict(tampered, report.topology, "findings.json")
