"""Zeek conn.log: damaged headers and impossible values are skipped entries, never flows or
internal errors; the first skipped line is named; a BOM does not hide a log."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from segcheck.capture import read_capture
from segcheck.cli import main
from segcheck.errors import CaptureError

ROOT = Path(__file__).resolve().parents[2]
ALPHA = str(ROOT / "topologies" / "alpha.yaml")
FIELDS = (
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "conn_state",
    "orig_pkts",
    "resp_pkts",
    "orig_ip_bytes",
    "resp_ip_bytes",
    "vlan",
)
HEADER = "#separator \\x09\n#unset_field\t-\n#fields\t" + "\t".join(FIELDS) + "\n"
# An entry of alpha.yaml's LGWAN terminal reaching an Internet-tier server: LG-INET-SPLIT.
GOOD = {
    "ts": "1767225600.000000",
    "uid": "C1",
    "id.orig_h": "10.2.10.11",
    "id.orig_p": "50000",
    "id.resp_h": "10.3.20.25",
    "id.resp_p": "445",
    "proto": "tcp",
    "conn_state": "SF",
    "orig_pkts": "3",
    "resp_pkts": "2",
    "orig_ip_bytes": "300",
    "resp_ip_bytes": "200",
    "vlan": "-",
}


def tsv(*entries: dict[str, str], header: str = HEADER) -> str:
    return header + "".join("\t".join(e[f] for f in FIELDS) + "\n" for e in entries)


def entry(**changes: str) -> dict[str, str]:
    return {**GOOD, **{k.replace("id_", "id.", 1): v for k, v in changes.items()}}


def as_json(e: dict[str, Any]) -> dict[str, Any]:
    """The entry as Zeek's JSON writer has it: numbers as numbers, unset fields left out."""
    out: dict[str, Any] = {}
    for key, value in e.items():
        if value == "-":
            continue
        if key in ("ts",):
            out[key] = float(value)
        elif key in ("uid", "id.orig_h", "id.resp_h", "proto", "conn_state"):
            out[key] = value
        else:
            out[key] = int(value) if value.isdigit() else value
    return out


def write(tmp_path: Path, text: str | bytes, name: str = "conn.log") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def scan(path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["scan", ALPHA, str(path), "--lang", "en"])
    return result.exit_code, result.stdout, result.stderr


# -- header damage -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["\\x", "\\x0", "\\u12", "\\", "", "\\xZZ"])
def test_bad_separator_is_a_skipped_line_not_a_crash(tmp_path: Path, value: str) -> None:
    header = HEADER.replace("#separator \\x09", f"#separator {value}")
    r = read_capture(write(tmp_path, tsv(GOOD, header=header)))
    # The tab Zeek always writes is kept; the unusable header line is counted and named.
    assert [f.dst_port for f in r.flows] == [445]
    assert (r.info.packets_read, r.info.packets_skipped) == (2, 1)
    assert r.info.first_skipped is not None and r.info.first_skipped[0] == 1
    assert "#separator" in r.info.first_skipped[1]


def test_bad_separator_alone_is_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "#separator \\x\n#fields\tts\n")
    code, out, err = scan(path)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith(f"Error: {path}: no readable Zeek conn.log entry")
    assert "line 1" in err and err.count("\n") == 1


def test_other_separators_are_read(tmp_path: Path) -> None:
    header = HEADER.replace("#separator \\x09", "#separator \\x2c").replace("\t", ",")
    text = header + ",".join(GOOD[f] for f in FIELDS) + "\n"
    r = read_capture(write(tmp_path, text))
    assert [f.dst_port for f in r.flows] == [445] and r.info.packets_skipped == 0


# -- impossible values -------------------------------------------------------------------------

IMPOSSIBLE = {
    "port-70000": entry(id_resp_p="70000"),
    "port-negative": entry(id_orig_p="-1"),
    "port-float": entry(id_resp_p="4.45e2"),
    "port-unset": entry(id_resp_p="-"),
    "vlan-negative": entry(vlan="-5"),
    "vlan-4096": entry(vlan="4096"),
    "vlan-astronomic": entry(vlan="9" * 40),
    "count-negative": entry(orig_pkts="-3"),
    "count-astronomic": entry(resp_ip_bytes="9" * 30),
    "count-inf": entry(orig_pkts="inf"),
    "count-nan": entry(orig_pkts="nan"),
    "proto-arabic-digits": entry(proto="\u0661\u0667"),
    "proto-fullwidth-digits": entry(proto="\uff16"),
    "proto-256": entry(proto="256"),
    "proto-junk": entry(proto="tcp6"),
    "address-junk": entry(id_orig_h="10.2.10.300"),
    "ts-inf": entry(ts="inf"),
    "ts-negative": entry(ts="-5"),
}


@pytest.mark.parametrize("bad", list(IMPOSSIBLE.values()), ids=list(IMPOSSIBLE))
def test_impossible_values_are_skipped_entries_not_flows(
    tmp_path: Path, bad: dict[str, str]
) -> None:
    good = entry(id_orig_p="50001")
    again = {**good, "uid": "C2"}  # another connection of the same key: summed
    r = read_capture(write(tmp_path, tsv(good, bad, again)))
    assert [(f.src_port, f.dst_port, f.packets) for f in r.flows] == [(50001, 445, 10)]
    assert (r.info.packets_read, r.info.packets_skipped) == (3, 1)
    assert r.info.first_skipped is not None and r.info.first_skipped[0] == 5  # after 3 headers


@pytest.mark.parametrize("bad", list(IMPOSSIBLE.values()), ids=list(IMPOSSIBLE))
def test_impossible_values_in_json_are_skipped_too(tmp_path: Path, bad: dict[str, str]) -> None:
    lines = [json.dumps(as_json(GOOD)), json.dumps(as_json(bad), ensure_ascii=False)]
    r = read_capture(write(tmp_path, "\n".join(lines) + "\n"))
    assert [f.dst_port for f in r.flows] == [445]
    assert (r.info.packets_read, r.info.packets_skipped) == (2, 1)
    assert r.info.first_skipped is not None and r.info.first_skipped[0] == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id.resp_p", 70000),
        ("id.resp_p", -1),
        ("id.resp_p", 445.0),
        ("id.resp_p", True),
        ("id.orig_h", 167906827),  # an int that ipaddress would take as 10.2.10.11
        ("vlan", -1),
        ("vlan", 10**40),
        ("orig_pkts", 2**64),
        ("orig_pkts", -1),
        ("proto", 6),
        ("ts", "yesterday"),
        ("duration", -1.5),
    ],
)
def test_json_values_of_the_wrong_kind_are_skipped(tmp_path: Path, field: str, value: Any) -> None:
    bad = {**as_json(GOOD), field: value}
    text = json.dumps(as_json(GOOD)) + "\n" + json.dumps(bad) + "\n"
    r = read_capture(write(tmp_path, text))
    assert len(r.flows) == 1 and r.info.packets_skipped == 1


def test_json_line_nested_deep_is_a_skipped_entry(tmp_path: Path) -> None:
    deep = '{"id.orig_h": ' + "[" * 1000 + "]" * 1000 + "}"
    deeper = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    text = "\n".join([json.dumps(as_json(GOOD)), deep, deeper]) + "\n"
    r = read_capture(write(tmp_path, text))
    assert [f.dst_port for f in r.flows] == [445]
    assert (r.info.packets_read, r.info.packets_skipped) == (3, 2)


def test_nothing_readable_names_the_first_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path, tsv(entry(id_resp_p="70000"), entry(vlan="-1")))
    with pytest.raises(CaptureError) as info:
        read_capture(path)
    message = str(info.value)
    assert message.startswith(f"{path}: no readable Zeek conn.log entry (2 skipped; ")
    assert "line 4: id.resp_p '70000' is out of range (0-65535)" in message


def test_skipped_entries_are_reported_with_their_first_line(tmp_path: Path) -> None:
    path = write(tmp_path, tsv(GOOD, entry(id_resp_p="70000"), entry(vlan="-1")))
    code, out, err = scan(path)
    assert code == 1 and "Traceback" not in err
    assert (
        "records read 3, skipped 2 (first at line 5: id.resp_p '70000' is out of range (0-65535))"
        in out
    )
    result = CliRunner().invoke(main, ["scan", ALPHA, str(path), "--format", "json"])
    [capture] = [i for i in json.loads(result.stdout)["inputs"] if i["kind"] == "zeek-conn"]
    assert (capture["packets_read"], capture["packets_skipped"]) == (3, 2)
    assert capture["first_skipped"] == {
        "line": 5,
        "reason": "id.resp_p '70000' is out of range (0-65535)",
    }


def test_a_few_good_entries_among_many_bad_ones_are_still_evidence(tmp_path: Path) -> None:
    """Skipped entries are part of what was read: one good entry and five bad ones is no
    'capture without packets'."""
    bad = [entry(id_resp_p="70000")] * 5
    code, out, err = scan(write(tmp_path, tsv(GOOD, *bad)))
    assert code == 1 and "LG-INET-SPLIT" in out and "no packets" not in out + err


# -- what stays as it was ----------------------------------------------------------------------


def test_unset_counts_and_vlan_zero_read_as_nothing(tmp_path: Path) -> None:
    e = entry(orig_pkts="-", resp_pkts="-", orig_ip_bytes="-", resp_ip_bytes="-", vlan="0")
    r = read_capture(write(tmp_path, tsv(e)))
    [f] = r.flows
    assert (f.packets, f.bytes, f.vlan, f.state) == (0, 0, None, "established")


def test_iso8601_timestamps_of_json_logs_are_read(tmp_path: Path) -> None:
    rec = {**as_json(GOOD), "ts": "2026-01-01T00:00:00.250000Z"}
    r = read_capture(write(tmp_path, json.dumps(rec) + "\n"))
    [f] = r.flows
    assert f.first_seen == 1767225600.25


def test_unknown_conn_state_claims_nothing(tmp_path: Path) -> None:
    r = read_capture(write(tmp_path, tsv(entry(conn_state="XX", resp_pkts="0"))))
    assert [f.state for f in r.flows] == ["unknown"]


# -- byte order mark ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["tsv", "json", "tsv.gz"])
def test_a_log_starting_with_a_utf8_bom_is_recognised(tmp_path: Path, form: str) -> None:
    text = tsv(GOOD) if form != "json" else json.dumps(as_json(GOOD)) + "\n"
    data = b"\xef\xbb\xbf" + text.encode()
    if form.endswith(".gz"):
        data = gzip.compress(data)
    r = read_capture(write(tmp_path, data, f"conn.{form}"))
    assert r.info.kind == "zeek-conn"
    assert [f.dst_port for f in r.flows] == [445] and r.info.packets_skipped == 0


def test_overlong_line_is_skipped_not_buffered(tmp_path: Path) -> None:
    text = tsv(GOOD) + "x" * (3 << 20) + "\n" + "\t".join(GOOD[f] for f in FIELDS) + "\n"
    r = read_capture(write(tmp_path, text))
    assert len(r.flows) == 1 and r.info.packets_skipped == 1
    assert r.info.first_skipped is not None and r.info.first_skipped[0] == 5


def test_first_skipped_line_in_the_html_report(tmp_path: Path) -> None:
    path = write(tmp_path, tsv(GOOD, entry(id_resp_p="70000")))
    result = CliRunner().invoke(main, ["scan", ALPHA, str(path), "--format", "html"])
    assert result.exit_code == 1
    assert "1 (first at line 5: id.resp_p &#39;70000&#39; is out of range (0-65535))" in (
        result.stdout
    )
