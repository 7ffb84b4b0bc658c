"""CSV export of the whole flow table (`scan --format csv`): one row per judged flow.

Cells come from packets and the topology, so a spreadsheet must never read one as a formula:
a cell beginning with = + - @, a tab or a carriage return gets a leading single quote (the
OWASP "CSV injection" guard). Headers are stable English keys whatever the language.
"""

from __future__ import annotations

import csv
import io

from ..findings import JudgedFlow, Report

COLUMNS = (
    "input",
    "first_frame",
    "first_seen",
    "proto",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "vlan",
    "packets",
    "bytes",
    "state",
    "src",
    "dst",
    "src_zone",
    "dst_zone",
    "src_tier",
    "dst_tier",
    "service",
    "verdict",
    "rule",
    "channel",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, defused when a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _row(row: JudgedFlow) -> list[object]:
    fl = row.flow
    return [
        fl.input,
        fl.first_frame,
        fl.first_seen,
        fl.proto,
        fl.src_ip,
        fl.src_port,
        fl.dst_ip,
        fl.dst_port,
        fl.vlan,
        fl.packets,
        fl.bytes,
        fl.state,
        row.src,
        row.dst,
        row.src_zone,
        row.dst_zone,
        row.src_tier,
        row.dst_tier,
        row.service,
        row.verdict,
        row.rule,
        row.channel,
    ]


def render(report: Report, lang: str = "en") -> str:
    """The flow table as RFC 4180 CSV (CRLF line ends), in the report's flow order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in report.flows:
        writer.writerow([safe_cell(value) for value in _row(row)])
    return out.getvalue()
