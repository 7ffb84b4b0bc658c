"""`report -o DIR` never writes through a link, never replaces an input, replaces atomically."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main

FIXTURE = Path(__file__).parents[1] / "data" / "topologies" / "judge-fixture.yaml"
STAMP = "2026-04-01T09:00:00Z"
CONN_LOG = (
    "#separator \\x09\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
    "orig_bytes\tresp_bytes\tconn_state\torig_pkts\tresp_pkts\n"
    "1711000000.0\tC1\t10.2.10.11\t51000\t10.3.30.10\t443\ttcp\t-\t1.0\t100\t200\tSF\t5\t5\n"
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "in").mkdir()
    shutil.copy(FIXTURE, tmp_path / "in" / "topology.yaml")
    (tmp_path / "in" / "conn.log").write_text(CONN_LOG, encoding="utf-8")
    (tmp_path / "outside.txt").write_text("not segcheck's to touch", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return tmp_path


def report(out: str | Path, *extra: str) -> tuple[int, str]:
    args = ["report", "in/topology.yaml", "in/conn.log", "-o", str(out), "--timestamp", STAMP]
    result = CliRunner().invoke(main, [*args, *extra])
    assert "Traceback" not in result.output + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result.exit_code, result.stderr


@pytest.mark.parametrize("name", ["report.html", "findings.json", "SHA256SUMS", "topology.svg"])
def test_a_link_in_dir_is_refused_even_with_force(workdir: Path, name: str) -> None:
    assert report("out")[0] == 1
    link = workdir / "out" / name
    link.unlink(missing_ok=True)
    link.symlink_to(workdir / "outside.txt")
    code, err = report("out", "--force")
    assert code == 2 and f"out/{name}: is a symbolic link" in err
    assert (workdir / "outside.txt").read_text(encoding="utf-8") == "not segcheck's to touch"
    assert link.is_symlink()


def test_a_dangling_link_creates_nothing(workdir: Path) -> None:
    (workdir / "out").mkdir()
    (workdir / "out" / "findings.json").symlink_to(workdir / "planted.json")
    for extra in ((), ("--force",)):
        code, err = report("out", *extra)
        assert code == 2 and "findings.json: is a symbolic link" in err
    assert not (workdir / "planted.json").exists()
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["findings.json"]


def test_an_input_inside_dir_is_never_replaced(workdir: Path) -> None:
    (workdir / "out").mkdir()
    log = workdir / "out" / "findings.json"
    shutil.copy(workdir / "in" / "conn.log", log)
    result = CliRunner().invoke(
        main, ["report", "in/topology.yaml", "out/findings.json", "-o", "out", "--force"]
    )
    assert result.exit_code == 2 and "is an input of this run" in result.stderr
    assert log.read_text(encoding="utf-8") == CONN_LOG


def test_force_replaces_files_atomically(workdir: Path) -> None:
    assert report("out")[0] == 1
    page = workdir / "out" / "report.html"
    # A hard link keeps the earlier report: an in-place rewrite would change it too.
    os.link(page, workdir / "kept.html")
    page.write_text("stale", encoding="utf-8")
    assert report("out", "--force")[0] == 1
    assert (workdir / "kept.html").read_text(encoding="utf-8") == "stale"
    assert page.read_text(encoding="utf-8") != "stale"
    assert not [p for p in (workdir / "out").iterdir() if p.name.startswith(".")]


def verify_sums(folder: Path) -> None:
    """What `cd DIR && sha256sum -c SHA256SUMS` does; `..` resolves physically here too."""
    for line in (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        data = Path(os.path.join(folder, name)).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name


def test_sums_stay_valid_through_a_symlinked_parent(workdir: Path) -> None:
    (workdir / "real").mkdir()
    (workdir / "a").mkdir()
    (workdir / "a" / "link").symlink_to(workdir / "real")
    code, _ = report("a/link/out")
    assert code == 1
    verify_sums(workdir / "a" / "link" / "out")
    verify_sums(workdir / "real" / "out")
    if shutil.which("sha256sum"):
        import subprocess

        done = subprocess.run(
            ["sha256sum", "-c", "SHA256SUMS"], cwd=workdir / "a" / "link" / "out", check=False
        )
        assert done.returncode == 0


def test_dir_that_is_a_dangling_link_exits_2(workdir: Path) -> None:
    (workdir / "out").symlink_to(workdir / "nowhere")
    code, err = report("out")
    assert code == 2 and "symbolic link to nothing" in err
    assert not (workdir / "nowhere").exists()
