"""Reports written in chunks (issue 14): `render_chunks` gives exactly `render`'s text, JSON
and CSV make a scan's findings and flows run by run as they are written, and `-o FILE` shows
the old file or the whole new one, never a part, whatever fails mid-stream."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from click.testing import CliRunner

from segcheck import outputs
from segcheck.cli import main
from segcheck.diff import read_result, with_baseline
from segcheck.engine import report as run_report
from segcheck.engine import scan as run_scan
from segcheck.findings import Report
from segcheck.outputs import OutputRefused, write_chunks
from segcheck.report import FORMATS, formats_for, render, render_chunks
from segcheck.report import csv as csv_report
from segcheck.report import json as json_report

ROOT = Path(__file__).resolve().parents[2]
TOPO = str(ROOT / "topologies/alpha.yaml")
STAMP = "2026-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def flood(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SYNs from 40 Internet sources to an LGWAN host (findings), and 10 flows inside the
    LGWAN tier (rows without one)."""
    from cap_builders import pcap
    from scapy.layers.inet import IP, TCP  # type: ignore[import-untyped]
    from scapy.layers.l2 import Ether  # type: ignore[import-untyped]
    from scapy.packet import raw  # type: ignore[import-untyped]

    ends = [(f"11.0.0.{1 + i}", "10.2.10.20", 445) for i in range(40)]
    ends += [("10.2.10.21", "10.2.10.20", 1000 + i) for i in range(10)]
    pkts = [
        (
            1_700_000_000.0 + i,
            raw(Ether() / IP(src=src, dst=dst, id=i + 1) / TCP(sport=40000 + i, dport=port)),
        )
        for i, (src, dst, port) in enumerate(ends)
    ]
    path = tmp_path_factory.mktemp("flood") / "flood.pcap"
    path.write_bytes(pcap(pkts))
    return str(path)


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs and chunks of a few findings and rows, so that a small report takes many."""
    monkeypatch.setattr(json_report, "_BULK", 7)
    monkeypatch.setattr(json_report, "_CHUNK", 500)
    monkeypatch.setattr(csv_report, "_RUN", 7)


def _reports(flood: str, tmp_path: Path) -> list[Report]:
    scanned = run_scan(TOPO, [flood], generated_at=STAMP)
    combined = run_report(TOPO, [flood], generated_at=STAMP)  # plan and flow findings mixed
    base = tmp_path / "base.json"
    base.write_text(json_report.render(run_scan(TOPO, [flood], generated_at=STAMP, max_flows=20)))
    return [scanned, combined, with_baseline(scanned, read_result(str(base)))]


@pytest.mark.usefixtures("small_runs")
def test_chunks_join_to_the_whole_text_in_every_format(flood: str, tmp_path: Path) -> None:
    for report in _reports(flood, tmp_path):
        assert len(report.findings) >= 40
        for fmt in formats_for("scan"):
            for lang in ("en", "ja"):
                chunks = list(render_chunks(report, fmt, lang))
                assert "".join(chunks) == render(report, fmt, lang), (fmt, lang)
                if fmt == "json" or (fmt == "csv" and report.baseline is None):
                    assert len(chunks) > 5, (fmt, report.command)  # written run by run


@pytest.mark.usefixtures("small_runs")
def test_json_chunks_are_made_as_they_are_drawn(
    flood: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = run_scan(TOPO, [flood], generated_at=STAMP)
    made: list[int] = []
    bulk = json_report._flow_findings_text

    def counted(run, lang):  # type: ignore[no-untyped-def]
        made.append(len(run))
        return bulk(run, lang)

    monkeypatch.setattr(json_report, "_flow_findings_text", counted)
    chunks = render_chunks(report, "json", "en")
    first = next(chunks)
    assert first.startswith("{\n") and len(made) <= 2  # not the 6 runs of 7 findings
    rest = "".join(chunks)
    assert sum(made) == len(report.findings)
    assert json.loads(first + rest)["summary"]["warning"] == len(report.findings)


@pytest.mark.usefixtures("small_runs")
def test_csv_rows_are_made_run_by_run(flood: str, monkeypatch: pytest.MonkeyPatch) -> None:
    report = run_scan(TOPO, [flood], generated_at=STAMP)
    sizes: list[int] = []
    columns = csv_report._flow_columns

    def counted(rows, findings, lang):  # type: ignore[no-untyped-def]
        sizes.append(len(rows))
        return columns(rows, findings, lang)

    monkeypatch.setattr(csv_report, "_flow_columns", counted)
    chunks = render_chunks(report, "csv", "en")
    next(chunks)
    assert sizes == [7]
    list(chunks)
    assert sum(sizes) == len(report.flows) == 50 and max(sizes) == 7
    assert report.flows._rows is None  # type: ignore[attr-defined]  # never held whole


def _scan_cli(flood: str, out: Path, fmt: str, *extra: str) -> tuple[int, str]:
    r = CliRunner().invoke(
        main,
        ["scan", TOPO, flood, "--format", fmt, "--lang", "en", "--timestamp", STAMP, "-o",
         str(out), *extra],
    )  # fmt: skip
    assert "Traceback" not in r.output + r.stderr
    return r.exit_code, r.stderr


@pytest.mark.usefixtures("small_runs")
@pytest.mark.parametrize("fmt", ["json", "csv", "sarif"])
def test_o_writes_the_bytes_of_the_whole_text(flood: str, tmp_path: Path, fmt: str) -> None:
    report = run_scan(TOPO, [flood], generated_at=STAMP)
    out = tmp_path / f"out.{fmt}"
    code, _ = _scan_cli(flood, out, fmt)
    assert code == 0  # attempts are warnings
    bom = "\ufeff" if fmt == "csv" else ""
    assert out.read_bytes() == (bom + render(report, fmt, "en")).encode("utf-8")
    code, _ = _scan_cli(flood, out, fmt, "--no-bom")
    assert out.read_bytes() == render(report, fmt, "en").encode("utf-8")


@pytest.mark.usefixtures("small_runs")
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_write_failing_mid_stream_keeps_the_old_file(
    flood: str, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / f"out.{fmt}"
    out.write_bytes(b"last month's evidence")
    written: list[int] = []

    class FullDisk:  # the file under the output: the disk fills after three chunks
        def __init__(self, f: BinaryIO) -> None:
            self.f = f

        def write(self, data: bytes) -> int:
            if len(written) == 3:
                raise OSError(28, "No space left on device")
            written.append(len(data))
            return self.f.write(data)

    init = outputs.OutputFile.__init__

    def on_full_disk(self: outputs.OutputFile, f: BinaryIO, target: Path) -> None:
        init(self, FullDisk(f), target)  # type: ignore[arg-type]

    monkeypatch.setattr(outputs.OutputFile, "__init__", on_full_disk)
    code, err = _scan_cli(flood, out, fmt)
    assert code == 2 and "No space left on device" in err and str(out) in err
    assert len(written) == 3
    assert gc.isenabled()  # the chunks' pause of the collector ended with the write
    assert out.read_bytes() == b"last month's evidence"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


@pytest.mark.usefixtures("small_runs")
def test_a_render_failing_mid_stream_leaves_no_file(
    flood: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk = json_report._flow_findings_text
    calls: list[int] = []

    def breaks(run, lang):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("formatter bug mid-way")
        return bulk(run, lang)

    monkeypatch.setattr(json_report, "_flow_findings_text", breaks)
    out = tmp_path / "new.json"
    code, err = _scan_cli(flood, out, "json")
    assert code == 2 and "internal error (RuntimeError: formatter bug mid-way)" in err
    assert len(calls) == 3 and list(tmp_path.iterdir()) == []
    assert gc.isenabled()


def test_write_chunks_publishes_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    write_chunks(out, [b"a", b"b", b"c"])
    assert out.read_bytes() == b"abc"

    def failing() -> Iterator[bytes]:
        yield b"new "
        raise OutputRefused("made up")

    with pytest.raises(OutputRefused, match="made up"):
        write_chunks(out, failing())
    assert out.read_bytes() == b"abc"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_every_format_gives_chunks() -> None:
    assert {f.name for f in FORMATS} >= {"json", "csv", "sarif", "text", "html"}
    for f in FORMATS:
        assert callable(f.load_chunks())
