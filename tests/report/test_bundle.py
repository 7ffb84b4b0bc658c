"""`segcheck report` and `segcheck render` through the real engine and CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.report import diagram
from segcheck.report.bundle import sums_line

DATA = Path(__file__).parents[1] / "data"
FIXTURE = DATA / "topologies" / "judge-fixture.yaml"
STAMP = "2026-04-01T09:00:00Z"
CONN_LOG = (
    "#separator \\x09\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\torig_pkts\tresp_pkts\n"
    "1711000000.0\tC1\t10.2.10.11\t51000\t10.3.30.10\t443\ttcp\t-\t1.0\t100\t200\tSF\t5\t5\n"
    "1711000001.0\tC2\t10.2.10.11\t51001\t10.3.10.11\t3389\ttcp\t-\t1.0\t100\t200\tSF\t5\t5\n"
    "1711000002.0\tC3\t10.1.20.20\t51002\t198.18.200.10\t443\ttcp\t-\t1.0\t100\t200\tSF\t5\t5\n"
)
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) not installed")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the inputs under in/, used as the working directory."""
    (tmp_path / "in").mkdir()
    shutil.copy(FIXTURE, tmp_path / "in" / "topology.yaml")
    (tmp_path / "in" / "conn.log").write_text(CONN_LOG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return tmp_path


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in (result.stderr or ""), result.stderr
    return result


def report(out: str, *extra: str):
    return run("report", "in/topology.yaml", "in/conn.log", "-o", out, "--timestamp", STAMP, *extra)


def sha256sum_check(folder: Path) -> str:
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum not installed")
    done = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@needs_dot
def test_report_writes_verifiable_folder(workdir: Path) -> None:
    result = report("out")
    assert result.exit_code == 1, result.output  # the fixture has critical findings
    out = workdir / "out"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        ["SHA256SUMS", "findings.json", "findings.sarif", "report.html", "topology.svg"]
    )
    checked = sha256sum_check(out)
    for name in ("../in/topology.yaml: OK", "../in/conn.log: OK", "report.html: OK"):
        assert name in checked
    findings = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert findings["generated_at"] == STAMP
    assert {i["kind"] for i in findings["inputs"]} == {"topology", "zeek-conn"}
    assert any(f["flow"] for f in findings["findings"])  # captures were judged
    assert any(f["path"] for f in findings["findings"])  # and the plan too
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="captures"' in page and "<svg" in page


@needs_dot
@pytest.mark.usefixtures("real_dot")  # the diagram laid out anew each time
def test_same_inputs_same_bytes(workdir: Path) -> None:
    assert report("out1").exit_code == 1
    assert report("out2", "--lang", "en").exit_code == 1
    assert report("out3", "--lang", "en").exit_code == 1
    for name in ("report.html", "findings.json", "findings.sarif", "topology.svg", "SHA256SUMS"):
        assert (workdir / "out2" / name).read_bytes() == (workdir / "out3" / name).read_bytes()


def test_refuses_to_overwrite_without_force(workdir: Path) -> None:
    (workdir / "out").mkdir()
    (workdir / "out" / "report.html").write_text("keep me", encoding="utf-8")
    result = report("out")
    assert result.exit_code == 2
    assert "would overwrite report.html" in result.stderr and "--force" in result.stderr
    assert (workdir / "out" / "report.html").read_text(encoding="utf-8") == "keep me"
    assert not (workdir / "out" / "findings.json").exists()
    forced = report("out", "--force")
    assert forced.exit_code == 1
    assert (workdir / "out" / "report.html").read_text(encoding="utf-8") != "keep me"


def test_other_files_in_the_folder_are_fine(workdir: Path) -> None:
    (workdir / "out").mkdir()
    (workdir / "out" / "notes.txt").write_text("auditor's notes", encoding="utf-8")
    assert report("out").exit_code == 1


def test_without_graphviz_report_still_written(workdir: Path, monkeypatch) -> None:
    monkeypatch.setattr(diagram, "find_dot", lambda: None)
    result = report("out")
    assert result.exit_code == 1
    assert "Graphviz is not installed: apt-get install graphviz" in result.stderr
    out = workdir / "out"
    assert not (out / "topology.svg").exists()
    assert "diagram-missing" in (out / "report.html").read_text(encoding="utf-8")
    assert "topology.svg" not in (out / "SHA256SUMS").read_text(encoding="utf-8")
    sha256sum_check(out)


def test_render_without_graphviz_exits_2(workdir: Path, monkeypatch) -> None:
    monkeypatch.setattr(diagram, "find_dot", lambda: None)
    result = run("render", "in/topology.yaml", "-o", "t.svg")
    assert result.exit_code == 2
    assert "Graphviz is not installed: apt-get install graphviz" in result.stderr
    assert not (workdir / "t.svg").exists()


@needs_dot
def test_render_writes_svg(workdir: Path) -> None:
    result = run("render", "in/topology.yaml", "-o", "t.svg", "--lang", "en")
    assert result.exit_code == 0, result.stderr
    svg = (workdir / "t.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "mn&#45;atena" in svg  # dot writes - as &#45;


def test_bad_input_exits_2(workdir: Path) -> None:
    (workdir / "in" / "bad.yaml").write_text("segcheck: 99\n", encoding="utf-8")
    result = run("report", "in/bad.yaml", "-o", "out")
    assert result.exit_code == 2 and "Error:" in result.stderr
    assert not (workdir / "out").exists()


def test_source_date_epoch_fixes_the_timestamp(workdir: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775034000")
    run("report", "in/topology.yaml", "-o", "out")
    data = json.loads((workdir / "out" / "findings.json").read_text(encoding="utf-8"))
    assert data["generated_at"] == "2026-04-01T09:00:00Z"


def test_check_sarif_from_the_real_engine_is_valid(workdir: Path) -> None:
    result = run("check", "in/topology.yaml", "--format", "sarif", "--timestamp", STAMP)
    assert result.exit_code == 1
    schema = json.loads((DATA / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(schema).validate(log)
    assert any("codeFlows" in r for r in log["runs"][0]["results"])


@pytest.mark.parametrize("fmt", ["junit", "md", "html"])
def test_check_formats_through_the_cli(workdir: Path, fmt: str) -> None:
    result = run("check", "in/topology.yaml", "--format", fmt, "--timestamp", STAMP)
    assert result.exit_code == 1 and result.stdout


def test_sums_line_escapes_like_coreutils() -> None:
    assert sums_line("ab", "a b") == "ab  a b\n"
    assert sums_line("ab", "a\\b\nc") == "\\ab  a\\\\b\\nc\n"
