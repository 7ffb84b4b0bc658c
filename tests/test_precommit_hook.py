"""The pre-commit hook (.pre-commit-hooks.yaml) checks each file and fails with the worst status.

pre-commit runs `entry`, split as a shell would, then the hook's `args`, then the file names;
this test does the same, with a `segcheck` on PATH that runs this checkout.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the hook needs bash")


def hook() -> dict[str, str]:
    [entry] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return entry


def run_hook(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    shim = tmp_path / "bin" / "segcheck"
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m segcheck "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [*shlex.split(hook()["entry"]), *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_hook_is_declared_for_topology_files() -> None:
    entry = hook()
    assert entry["id"] == "segcheck-check"
    files = re.compile(entry["files"])
    assert files.search("topologies/alpha.yaml") and files.search("site/topologies/a.json")
    assert not files.search(".github/workflows/ci.yml")


def test_every_file_is_checked_and_the_worst_status_wins(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("segcheck: 1\nzones: [\n", encoding="utf-8")
    result = run_hook(tmp_path, str(bad), "topologies/alpha-fortigate.yaml")
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr
    assert "root/90" in result.stdout  # the file after the bad one was still checked


def test_options_reach_segcheck_and_clean_files_pass(tmp_path: Path) -> None:
    result = run_hook(tmp_path, "--format", "json", "--lang=en", "topologies/alpha.yaml")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["findings"] == []
