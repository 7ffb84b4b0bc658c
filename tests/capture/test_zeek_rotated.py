"""Rotated Zeek conn.log archives: a directory or a pattern of `.log.gz` files is read in name
order, and a connection (uid and key) logged in two of them counts once, in the first."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from segcheck import engine
from segcheck.capture.api import expand_inputs, read_scan
from segcheck.cli import main
from segcheck.errors import CaptureError
from segcheck.report import render

ROOT = Path(__file__).resolve().parents[2]
ALPHA = ROOT / "topologies" / "alpha.yaml"
STAMP = "2026-01-01T00:00:00Z"
FIELDS = (
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto conn_state duration "
    "orig_pkts resp_pkts orig_ip_bytes resp_ip_bytes"
).split()
HEADER = "#separator \\x09\n#unset_field\t-\n#fields\t" + "\t".join(FIELDS) + "\n"


def conn(
    uid: str, sport: int, pkts: int = 3, dst: str = "10.3.20.25", ts: float = 1767225600.0
) -> dict[str, str]:
    """An alpha.yaml LGWAN terminal reaching an Internet-tier host (LG-INET-SPLIT)."""
    return {
        "ts": f"{ts:.6f}",
        "uid": uid,
        "id.orig_h": "10.2.10.11",
        "id.orig_p": str(sport),
        "id.resp_h": dst,
        "id.resp_p": "445",
        "proto": "tcp",
        "conn_state": "SF",
        "duration": "1.0",
        "orig_pkts": str(pkts),
        "resp_pkts": "2",
        "orig_ip_bytes": str(100 * pkts),
        "resp_ip_bytes": "200",
    }


def write_log(path: Path, entries: list[dict[str, str]], as_json: bool = False) -> Path:
    if as_json:
        text = "".join(json.dumps(e) + "\n" for e in entries)
    else:
        text = HEADER + "".join("\t".join(e[f] for f in FIELDS) + "\n" for e in entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        gzip.compress(text.encode(), mtime=0) if path.suffix == ".gz" else text.encode()
    )
    return path


def flows_of(paths: list[Path]) -> list[tuple[Any, ...]]:
    scanned = read_scan([str(p) for p in paths])
    return [
        (f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.packets, f.bytes, f.state, f.input)
        for f in scanned.flows()
    ]


def test_a_connection_in_two_rotated_logs_counts_once_in_the_first(tmp_path: Path) -> None:
    # C2 is a long connection Zeek logged again in the next hour, with grown counters; C3 is a
    # line repeated by an overlapping shard; C4 reuses C1's key as a new connection: summed.
    one = write_log(
        tmp_path / "conn.00:00:00-01:00:00.log.gz", [conn("C1", 50001), conn("C2", 50002)]
    )
    two = write_log(
        tmp_path / "conn.01:00:00-02:00:00.log.gz",
        [conn("C2", 50002, pkts=9), conn("C3", 50003), conn("C4", 50001)],
    )
    three = write_log(tmp_path / "conn.02:00:00-03:00:00.log.gz", [conn("C3", 50003)], as_json=True)
    got = flows_of([one, two, three])
    assert got == [
        ("10.2.10.11", 50001, "10.3.20.25", 445, 5, 500, "established", str(one)),
        ("10.2.10.11", 50002, "10.3.20.25", 445, 11, 1100, "established", str(one)),
        ("10.2.10.11", 50003, "10.3.20.25", 445, 5, 500, "established", str(two)),
        ("10.2.10.11", 50001, "10.3.20.25", 445, 5, 500, "established", str(two)),
    ]
    scanned = read_scan([str(one), str(two), str(three)])
    assert scanned.repeated == [0, 1, 1]
    assert scanned.flow_counts == [2, 3, 1]  # what each holds: seen, so no evidence gap


def test_the_same_uid_for_another_key_is_another_connection(tmp_path: Path) -> None:
    one = write_log(tmp_path / "a.log", [conn("C1", 50001)])
    two = write_log(tmp_path / "b.log", [conn("C1", 50001, dst="10.3.20.26")])
    assert [f[2] for f in flows_of([one, two])] == ["10.3.20.25", "10.3.20.26"]


def test_within_one_log_a_repeated_uid_takes_the_larger_counters(tmp_path: Path) -> None:
    log = write_log(tmp_path / "conn.log", [conn("C1", 50001), conn("C1", 50001, pkts=7)])
    assert [f[4:6] for f in flows_of([log])] == [(9, 900)]


def test_any_split_of_a_log_into_overlapping_rotated_files_gives_the_same_flows(
    tmp_path: Path,
) -> None:
    rng = random.Random(14)
    entries = [conn(f"C{i}", 40000 + i, pkts=1 + i % 4, ts=1767225600.0 + i) for i in range(200)]
    whole = write_log(tmp_path / "whole" / "conn.log", entries)
    want = [f[:7] for f in flows_of([whole])]
    for trial in range(5):
        cuts = sorted(rng.sample(range(1, len(entries)), 4))
        pieces = [entries[a:b] for a, b in zip([0, *cuts], [*cuts, len(entries)], strict=True)]
        files = []
        for i, piece in enumerate(pieces):
            overlap = entries[max(0, cuts[i - 1] - 3) : cuts[i - 1]] if i else []  # shard lag
            files.append(
                write_log(tmp_path / f"t{trial}" / f"conn.{i:02d}.log.gz", overlap + piece)
            )
        assert [f[:7] for f in flows_of(files)] == want, cuts


def _scan_json(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(
        main, ["scan", str(ALPHA), *args, "--format", "json", "--timestamp", STAMP]
    )
    return r.exit_code, r.stdout if r.exit_code != 2 else r.output


def test_a_directory_and_a_pattern_read_the_rotated_files_in_name_order(tmp_path: Path) -> None:
    day = tmp_path / "logs" / "2026-01-01"
    write_log(day / "conn.01:00:00-02:00:00.log.gz", [conn("C2", 50002, pkts=9)])
    write_log(day / "conn.00:00:00-01:00:00.log.gz", [conn("C1", 50001), conn("C2", 50002)])
    write_log(day / ".conn.tmp", [conn("C9", 50009)])  # hidden: a file being written
    named = sorted(map(str, day.glob("conn.*.log.gz")))
    assert expand_inputs([str(day)]) == named
    assert expand_inputs([str(tmp_path / "logs" / "*" / "conn.*.log.gz")]) == named
    assert expand_inputs([str(tmp_path / "**" / "conn.*.log.gz")]) == named
    by_dir, by_pattern, by_name = (
        _scan_json(str(day)),
        _scan_json(str(tmp_path / "logs/*/conn.*.log.gz")),
        _scan_json(*named),
    )
    assert by_dir == by_pattern == by_name
    assert by_dir[0] == 1, by_dir[1][-800:]
    inputs = [i for i in json.loads(by_dir[1])["inputs"] if i.get("kind") == "zeek-conn"]
    assert [i["path"] for i in inputs] == named


def test_jobs_give_the_same_bytes_on_rotated_logs(tmp_path: Path) -> None:
    one = write_log(tmp_path / "conn.0.log.gz", [conn("C1", 50001), conn("C2", 50002)])
    two = write_log(tmp_path / "conn.1.log.gz", [conn("C2", 50002, pkts=9), conn("C3", 50003)])

    def run(**kw: Any) -> str:
        report = engine.scan(ALPHA, [str(one), str(two)], generated_at=STAMP, **kw)
        return render(report, "json", "en")

    assert run(jobs=2) == run()


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda d: d, "the directory holds no file to read"),
        (lambda d: d / "conn.*.log.gz", "no file matches this pattern"),
    ],
)
def test_a_directory_or_pattern_naming_no_file_is_exit_2(
    tmp_path: Path, make: Any, why: str
) -> None:
    (tmp_path / ".hidden").write_text("x")
    target = str(make(tmp_path))
    with pytest.raises(CaptureError, match=why):
        expand_inputs([target])
    code, out = _scan_json(target)
    assert code == 2
    assert target in out and why in out and "Traceback" not in out
