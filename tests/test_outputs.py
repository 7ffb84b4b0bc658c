"""segcheck.outputs, and `-o FILE` of check/scan/render that goes through it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from segcheck.cli import main
from segcheck.outputs import OutputExists, OutputRefused, open_output, write_output

TOPOLOGY = Path(__file__).parent / "data" / "topologies" / "judge-fixture.yaml"


@pytest.fixture
def topo(tmp_path: Path) -> Path:
    path = tmp_path / "topology.yaml"
    shutil.copy(TOPOLOGY, path)
    return path


def check(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *map(str, args)])
    assert "Traceback" not in result.output + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result.exit_code, result.stderr


def test_o_through_a_symlink_is_refused(tmp_path: Path, topo: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    (tmp_path / "out.json").symlink_to(victim)
    code, err = check(topo, "--format", "json", "-o", tmp_path / "out.json")
    assert code == 2 and "out.json: is a symbolic link" in err
    assert victim.read_text(encoding="utf-8") == "precious"
    (tmp_path / "dangling.json").symlink_to(tmp_path / "created.json")
    code, err = check(topo, "-o", tmp_path / "dangling.json")
    assert code == 2 and not (tmp_path / "created.json").exists()


@pytest.mark.parametrize("how", ["same", "hard link", "symbolic link to it"])
def test_o_onto_the_topology_is_refused(tmp_path: Path, topo: Path, how: str) -> None:
    target = topo if how == "same" else tmp_path / "alias.yaml"
    if how == "hard link":
        os.link(topo, target)
    elif how == "symbolic link to it":
        target.symlink_to(topo)
    before = topo.read_bytes()
    code, err = check(topo, "-o", target)
    assert code == 2 and "is an input of this run" in err
    assert topo.read_bytes() == before


def test_scan_o_onto_a_capture_is_refused_before_scanning(tmp_path: Path, topo: Path) -> None:
    log = tmp_path / "conn.log"
    log.write_text("#separator \\x09\n#fields\tts\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", str(topo), str(log), "-o", str(log)])
    assert result.exit_code == 2 and "is an input of this run" in result.stderr
    assert log.read_text(encoding="utf-8") == "#separator \\x09\n#fields\tts\n"


def test_o_replaces_a_file_atomically_and_writes_devices_in_place(
    tmp_path: Path, topo: Path
) -> None:
    out = tmp_path / "out.txt"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o640)
    os.link(out, tmp_path / "kept.txt")
    code, _ = check(topo, "-o", out)
    assert code == 1 and "summary: critical 2" in out.read_text(encoding="utf-8")
    assert (tmp_path / "kept.txt").read_text(encoding="utf-8") == "old"  # a new inode
    assert out.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt", "out.txt", "topology.yaml"]
    if os.path.exists(os.devnull):
        assert check(topo, "-o", os.devnull)[0] == 1
        assert Path(os.devnull).is_char_device()


def test_o_into_a_missing_folder_exits_2(tmp_path: Path, topo: Path) -> None:
    code, err = check(topo, "-o", tmp_path / "no" / "out.txt")
    assert code == 2 and "does not exist" in err
    code, err = check(topo, "-o", tmp_path)
    assert code == 2 and "is a folder" in err


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError), open_output(out) as f:
        f.write(b"half")
        raise RuntimeError("renderer failed midway")
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_no_replace_never_clobbers(tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    write_output(out, b"first", replace=False)
    with pytest.raises(OutputExists):
        write_output(out, b"second", replace=False)
    # A file that appears while the output is being written is not clobbered either.
    with pytest.raises(OutputExists), open_output(tmp_path / "race.bin", replace=False) as f:
        (tmp_path / "race.bin").write_bytes(b"theirs")
        f.write(b"ours")
    assert out.read_bytes() == b"first"
    assert (tmp_path / "race.bin").read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin", "race.bin"]


def test_a_link_planted_while_writing_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out = tmp_path / "out.txt"
    with open_output(out) as f:
        out.symlink_to(victim)
        f.write(b"report")
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not out.is_symlink() and out.read_bytes() == b"report"


def test_refusals_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "l").symlink_to(tmp_path / "x")
    with pytest.raises(OutputRefused, match="symbolic link"):
        write_output(tmp_path / "l", b"")
    assert not (tmp_path / "x").exists()
