"""`segcheck watch`: files appearing, growing, rotating; flows across files; a kill mid-way.

Most tests drive `Watcher.poll_once` with a fake clock (no sleeping); the signal tests run the
command itself. Expectations come from the inputs (captures/alpha's documented verdicts in
captures/alpha/expected.tsv, FortiGate records written here), not from earlier runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from segcheck import load_topology
from segcheck.errors import UsageError
from segcheck.watch import Watcher, WatchOptions

ROOT = Path(__file__).resolve().parents[1]
ALPHA = ROOT / "topologies" / "alpha.yaml"
PCAP = ROOT / "captures" / "alpha" / "alpha.pcap"
SMB_LEAK = "10.2.10.12"  # lg-term-002 -> inet-mail tcp/445: LG-INET-SPLIT, frames 36-42

RECORD = (
    'date=2026-04-01 time=09:00:00 devname="fw" logid="0000000013" type="traffic" '
    'subtype="forward" vd="root" eventtime={t} srcip={src} srcport={sport} dstip={dst} '
    'dstport={port} sessionid={sid} proto=6 action="{action}" policyid=12 duration=1 '
    "sentbyte=100 rcvdbyte={rb} sentpkt=2 rcvdpkt={rp}"
)


def record(sid: int, src: str = "10.2.10.11", dst: str = "10.3.20.25", port: int = 445,
           action: str = "close", t: int = 1775001600) -> str:  # fmt: skip
    rb, rp = (0, 0) if action == "deny" else (100, 2)
    return RECORD.format(
        t=t + sid, src=src, sport=40000 + sid, dst=dst, port=port, sid=sid, action=action,
        rb=rb, rp=rp,
    )  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = time.time() + 3600  # every file written by the test is "old" already

    def __call__(self) -> float:
        return self.now


def watcher(tmp_path: Path, **kw: Any) -> tuple[Watcher, Path, Path, Clock]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    out = tmp_path / "findings.jsonl"
    clock = Clock()
    options = WatchOptions(metrics=tmp_path / "segcheck.prom", **kw)
    return Watcher(load_topology(ALPHA), folder, out, options, clock), folder, out, clock


def lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines() if x.strip()]


def of(out: Path, kind: str) -> list[dict[str, Any]]:
    return [x for x in lines(out) if x["type"] == kind]


def test_files_are_read_once_when_complete(tmp_path: Path) -> None:
    w, folder, out, clock = watcher(tmp_path, delay=0.0)
    assert w.poll_once() == 0 and not out.exists()
    shutil.copy(PCAP, folder / "a.pcap")
    assert w.poll_once() == 0  # seen once: with no delay it must stay unchanged over a poll
    assert w.poll_once() == 1
    assert w.poll_once() == 0  # read already
    (file_line,) = of(out, "file")
    assert (file_line["kind"], file_line["records"], file_line["name"]) == ("pcap", 83, "a.pcap")
    rules = sorted((f["rule"], f["severity"]) for f in of(out, "finding"))
    # captures/alpha/expected.tsv: six violations/suspects, one unknown zone, one attempt
    assert ("LG-INET-SPLIT", "critical") in rules and ("MN-NO-INTERNET", "warning") in rules
    assert len(rules) == 8 and all(f["state"] == "new" for f in of(out, "finding"))
    metrics = (tmp_path / "segcheck.prom").read_text()
    assert 'segcheck_files_total{kind="pcap"} 1' in metrics
    assert 'segcheck_flows_total{verdict="violation"} 6' in metrics
    assert (
        'segcheck_violations_total{rule="LG-INET-SPLIT",src_tier="lgwan",dst_tier="internet"} 2'
        in metrics
    )
    assert "segcheck_last_success_timestamp_seconds" in metrics


def test_a_growing_file_waits_until_it_settles(tmp_path: Path) -> None:
    w, folder, out, clock = watcher(tmp_path, delay=30.0)
    log = folder / "fw.log"
    log.write_text(record(1) + "\n")
    now = time.time()
    clock.now = now + 5
    assert w.poll_once() == 0  # modified 5 s ago: still being written
    with log.open("a") as f:
        f.write(record(2) + "\n")
    clock.now = time.time() + 29
    assert w.poll_once() == 0
    clock.now = time.time() + 31
    assert w.poll_once() == 1
    (file_line,) = of(out, "file")
    assert file_line["records"] == 2 and file_line["flows"] == {"violation": 2}


def test_done_markers(tmp_path: Path) -> None:
    w, folder, out, clock = watcher(tmp_path, done_suffix=".done")
    shutil.copy(PCAP, folder / "a.pcap")
    assert w.poll_once() == 0 and w.poll_once() == 0
    (folder / "a.pcap.done").touch()
    assert w.poll_once() == 1
    assert [x["name"] for x in of(out, "file")] == ["a.pcap"]  # the marker is no input


def test_rotation_is_recognised_by_content(tmp_path: Path) -> None:
    w, folder, out, clock = watcher(tmp_path, delay=1.0)
    (folder / "fw.log").write_text(record(1) + "\n")
    assert w.poll_once() == 1
    os.rename(folder / "fw.log", folder / "fw.log.1")  # rotated: same content, new name
    (folder / "fw.log").write_text(record(3, src="10.2.10.13") + "\n")
    assert w.poll_once() == 1  # only the new fw.log
    assert w.poll_once() == 0
    assert [x["name"] for x in of(out, "file")] == ["fw.log", "fw.log"]
    fps = [f["fingerprint"] for f in of(out, "finding")]
    assert len(fps) == len(set(fps)) == 2


def test_an_appended_log_reports_only_what_is_new(tmp_path: Path) -> None:
    w, folder, out, clock = watcher(tmp_path, delay=1.0)
    log = folder / "fw.log"
    log.write_text(record(1) + "\n" + record(2, port=80, dst="10.3.30.11") + "\n")
    assert w.poll_once() == 1
    with log.open("a") as f:  # the same pair again, then a new one
        f.write(record(3) + "\n" + record(4, src="10.2.10.13") + "\n")
    assert w.poll_once() == 1
    first, second = of(out, "file")
    assert second["grown_from"] == first["size"] and second["records"] == 4
    assert second["flows"] == {"violation": 2}  # lines 3 and 4: new flows (new client ports)
    srcs = [f["flow"]["src_ip"] for f in of(out, "finding")]
    assert sorted(srcs) == ["10.2.10.11", "10.2.10.11", "10.2.10.13"]  # 445 and 80, then .13


def split_pcap(path: Path, after: int, one: Path, two: Path) -> None:
    data = path.read_bytes()
    header, off, frame = data[:24], 24, 0
    while frame < after:
        cap = struct.unpack_from("<I", data, off + 8)[0]
        off += 16 + cap
        frame += 1
    one.write_bytes(data[:off])
    two.write_bytes(header + data[off:])


def test_a_flow_across_two_files_is_one_flow(tmp_path: Path) -> None:
    # The SMB leak's SYN ends the first file; its answer opens the second (tcpdump -G rotation).
    w, folder, out, clock = watcher(tmp_path, delay=1.0)
    split_pcap(PCAP, 36, folder / "cap-1.pcap", folder / "cap-2.pcap")
    assert w.poll_once() == 2
    leak = [f for f in of(out, "finding") if f["flow"] and f["flow"]["src_ip"] == SMB_LEAK]
    # alone, the first file shows an attempt (warning); the second answers it: escalated
    assert [(f["state"], f["severity"], f["flow"]["state"]) for f in leak] == [
        ("new", "warning", "attempted"),
        ("escalated", "critical", "established"),
    ]
    one, two = of(out, "file")
    total = sum(one["flows"].values()) + sum(two["flows"].values())
    assert total == 15  # the capture's flows, the split one counted once


def test_bad_files_do_not_stop_the_watch(tmp_path: Path) -> None:
    w, folder, out, clock = watcher(tmp_path, delay=1.0)
    (folder / "a.txt").write_text("hello, not a capture\n")
    (folder / "b.log").write_text(record(1).replace("srcip=10.2.10.11", "srcip=10.2.10.999") + "\n")
    (folder / "c.log").write_text(record(2) + "\n")
    assert w.poll_once() == 3
    (error,) = of(out, "error")
    assert error["input"].endswith("a.txt") and "not a pcap" in error["message"]
    (gap,) = of(out, "gap")
    assert gap["kind"] == "no-packets" and gap["input"].endswith("b.log")
    assert "line 1: srcip '10.2.10.999' is not an address" in gap["message"]
    assert len(of(out, "file")) == 3 and len(of(out, "finding")) == 1
    metrics = (tmp_path / "segcheck.prom").read_text()
    assert "segcheck_input_errors_total 1" in metrics
    assert 'segcheck_evidence_gaps_total{kind="no-packets"} 1' in metrics
    assert 'segcheck_parse_errors_total{source="fortigate-traffic"} 1' in metrics


def test_the_output_is_never_written_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "elsewhere").write_text("")
    (tmp_path / "findings.jsonl").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UsageError, match="symbolic link"):
        watcher(tmp_path)


# -- the command, signals and kills ----------------------------------------------------------


def make_inputs(folder: Path, n: int) -> None:
    for i in range(n):
        body = "\n".join(record(i * 10 + k, src=f"10.2.10.{20 + i}") for k in range(200))
        (folder / f"fw-{i:02d}.log").write_text(body + "\n")


def start(folder: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "segcheck", "watch", str(ALPHA), str(folder), "-o", str(out),
         "--delay", "0.1", "--poll", "0.2", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for(
    out: Path, kind: str, count: int, proc: subprocess.Popen[str], limit: float = 60
) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if out.exists() and sum(1 for x in lines(out) if x["type"] == kind) >= count:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"no {count} {kind} lines in {limit} s")


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    make_inputs(folder, 2)
    out = tmp_path / "findings.jsonl"
    proc = start(folder, out, "--metrics-file", str(tmp_path / "m.prom"))
    wait_for(out, "file", 2, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert len(of(out, "file")) == 2 and len(of(out, "finding")) == 2
    assert 'segcheck_files_total{kind="fortigate-traffic"} 2' in (tmp_path / "m.prom").read_text()


# slow: five real watcher processes killed and restarted; the fast run keeps the in-process
# worst-moment kill (test_a_kill_between_findings_and_file_line_repeats_nothing) and a real
# process's SIGTERM (test_sigterm_stops_cleanly).
@pytest.mark.slow
def test_a_kill_mid_way_loses_and_repeats_nothing(tmp_path: Path) -> None:
    n = 12
    clean_in, killed_in = tmp_path / "clean", tmp_path / "killed"
    clean_in.mkdir()
    killed_in.mkdir()
    make_inputs(clean_in, n)
    make_inputs(killed_in, n)
    clean_out = tmp_path / "clean.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "segcheck", "watch", str(ALPHA), str(clean_in), "-o",
         str(clean_out), "--delay", "0.1", "--once"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "killed.jsonl"
    for kills in range(3):  # kill it three times at different points, then let it finish
        proc = start(killed_in, out)
        wait_for(out, "file", 2 + 3 * kills, proc)
        proc.kill()
        proc.wait()
    proc = start(killed_in, out)
    wait_for(out, "file", n, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    names = sorted(x["name"] for x in of(out, "file"))
    assert names == sorted(f"fw-{i:02d}.log" for i in range(n))  # each file exactly once
    found = sorted((x["fingerprint"], x["severity"]) for x in of(out, "finding"))
    clean = sorted((x["fingerprint"], x["severity"]) for x in of(clean_out, "finding"))
    assert found == clean and len(found) == n  # nothing lost, nothing twice


def test_a_kill_between_findings_and_file_line_repeats_nothing(tmp_path: Path) -> None:
    # What a kill leaves at the worst moment: the file's findings written, its `file` line not,
    # and the last line cut in the middle.
    w, folder, out, clock = watcher(tmp_path, delay=1.0)
    shutil.copy(PCAP, folder / "a.pcap")
    assert w.poll_once() == 1
    text = out.read_text(encoding="utf-8").splitlines()
    assert json.loads(text[-1])["type"] == "file"
    out.write_text("\n".join(text[:-1]) + "\n" + text[-1][:40], encoding="utf-8")
    w2, _, _, clock2 = watcher(tmp_path, delay=1.0)
    assert w2.poll_once() == 1  # read again: its `file` line was lost
    assert w2.poll_once() == 0
    assert len(of(out, "file")) == 1
    fps = [f["fingerprint"] for f in of(out, "finding")]
    assert len(fps) == len(set(fps)) == 8


def test_the_systemd_unit_matches_the_command_and_its_exit_statuses(tmp_path: Path) -> None:
    """docs/segcheck-watch.service: every option it passes exists, restarts are limited, and
    the status it does not restart on is the one a usage error gives (a restart cannot fix a
    bad topology); a crash or watchdog kill is retried."""
    unit = (ROOT / "docs" / "segcheck-watch.service").read_text(encoding="utf-8")
    keys: dict[str, str] = {}
    text = unit.replace("\\\n", " ")
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            keys[key.strip()] = value.strip()
    assert keys["Type"] == "notify" and keys["Restart"] == "on-failure"
    assert int(keys["StartLimitBurst"]) > 0 and int(keys["StartLimitIntervalSec"]) > 0
    exec_args = keys["ExecStart"].split()
    assert exec_args[1] == "watch"
    help_text = subprocess.run(
        [sys.executable, "-m", "segcheck", "watch", "--help"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    ).stdout  # fmt: skip
    for option in (a for a in exec_args if a.startswith("-")):
        assert option in help_text, option
    bad = tmp_path / "bad.yaml"
    bad.write_text("segcheck: 1\nzones: [\n", encoding="utf-8")
    (tmp_path / "in").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "segcheck", "watch", str(bad), str(tmp_path / "in"),
         "-o", str(tmp_path / "f.jsonl"), "--once"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == int(keys["RestartPreventExitStatus"]) == 2
    assert "Traceback" not in done.stderr and "bad.yaml" in done.stderr
