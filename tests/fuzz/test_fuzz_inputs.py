"""Seeded fuzzing of topologies (YAML and JSON) and Zeek conn.logs.

Each case mutates a bundled example or test file (byte flips, truncation, insertion of syntax
tokens, odd Unicode, huge numbers, deep nesting, splices) and feeds it to the library and, for
some cases, to the command line. The contract: the library returns or raises segcheck's own
input error (one line, naming the file); the CLI exits 0, 1 or 2, never with "internal error" or
a traceback, and an exit 2 without a report is exactly one `Error:` line.

A few hundred cases run by default, in BLOCKS blocks per kind: the first is in the local fast
run, the others are marked `slow` (CI runs them all, each case once). More on demand, e.g.
`SEGCHECK_FUZZ_CASES=5000 python3 -m pytest -q tests/fuzz`; `SEGCHECK_FUZZ_SEED` picks another
seed. A failure names the seed and case number, which regenerate the input exactly.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from segcheck import parse_topology
from segcheck.capture import read_capture
from segcheck.cli import main
from segcheck.engine import check
from segcheck.errors import CaptureError, SegcheckError, TopologyError
from segcheck.loaders import yamldoc
from segcheck.report import render

ROOT = Path(__file__).resolve().parents[2]
CASES = int(os.environ.get("SEGCHECK_FUZZ_CASES", "200"))
SEED = int(os.environ.get("SEGCHECK_FUZZ_SEED", "20261130"))
BLOCKS = 4
CLI_EVERY = 8  # one case in CLI_EVERY also goes through the command line
TODAY = date(2026, 11, 30)

# -- what gets inserted ------------------------------------------------------------------------

SYNTAX = [
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    ",",
    "- ",
    "-",
    "? ",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "!!binary ",
    "!!set ",
    "<<: ",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "|\n",
    ">-\n",
    "'",
    '"',
    "#",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "  ",
    "\\",
    "\\u",
    "\\x",
    "\\U0010FFFF",
    "~",
    "null",
    "true",
    "no",
    "=",
    "@",
    "`",
    "%",
    "|+",
    "{a: b}",
    "[a, b]",
    '{"a": 1}',
    "key: value\n",
    "any",
    "0.0.0.0/0",
    "::/0",
    "10.0.0.0/8",
    "10.2.10.11-10.2.10.9",
    "fe80::1%eth0",
    "255.255.255.255",
    "10.2.0.0/33",
    "zones:",
    "nodes:",
    "channels:",
    "permit:",
    "role: firewall",
    "tier: internet",
    "service: any",
    "expires: 2027-02-30",
]
UNICODE = [
    "\u202e",
    "\u202a",
    "\u2066",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u2028",
    "\u2029",
    "\u0085",
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\ud7ff",
    "\ue000",
    "\ufffe",
    "\uffff",
    "\U0001f600",
    "\U000e0100",
    "\u0301",
    "\u0661\u0662",
    "\uff11",
    "\u00a0",
    "\u3000",
    "雪",
    "Å",
    "ß",
    "İ",
    "\U0010ffff",
]
RAW_BYTES = [b"\xff", b"\xfe", b"\xc3", b"\xe3\x81", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x00"]
NUMBERS = [
    "0x" + "f" * 5000,
    "0o" + "7" * 5000,
    "0" + "7" * 5000,
    "0b" + "1" * 20000,
    "1" + ":59" * 3000,
    "9" * 5000,
    "-" + "9" * 5000,
    "1e999",
    "-1e999",
    ".inf",
    ".nan",
    "nan",
    "inf",
    "-0",
    "+1",
    "1_000",
    "0x1F",
    "65536",
    "-1",
    "4096",
    "18446744073709551616",
    "9223372036854775808",
    "1.5",
    "2**64",
    "1e308",
    "0.0000001",
    "99999999999999999999",
]


def deep(rng: random.Random) -> str:
    n = rng.choice([63, 64, 65, 200, 999, 1000, 1001, 5000, 100_000])
    return rng.choice(
        [
            "[" * n + "]" * n,
            "[" * n,
            "{a: " * n + "1" + "}" * n,
            '{"a": ' * n + "1" + "}" * n,
            "".join(f"\n{' ' * (i + 1)}- " for i in range(min(n, 3000))),
            "".join(f"\n{' ' * (i + 1)}k{i}:" for i in range(min(n, 3000))),
        ]
    )


def token(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(SYNTAX).encode()
    if kind < 0.6:
        return "".join(rng.choice(UNICODE) for _ in range(rng.randint(1, 3))).encode(
            "utf-8", "surrogatepass"
        )
    if kind < 0.68:
        return rng.choice(RAW_BYTES)
    if kind < 0.9:
        return rng.choice(NUMBERS).encode()
    if kind < 0.95:
        return deep(rng).encode()
    return ("x" * rng.choice([255, 256, 257, 1024, 1025, 16_500])).encode()


# -- mutations: (rng, data, other seeds) -> data ----------------------------------------------

Mutation = Callable[[random.Random, bytes, list[bytes]], bytes]


def _spot(rng: random.Random, data: bytes) -> int:
    """A position, often just after a delimiter, where a change reaches a value or a key."""
    if data and rng.random() < 0.7:
        marks = [i + 1 for i, b in enumerate(data) if b in b":,\t\n[{-="]
        if marks:
            return rng.choice(marks)
    return rng.randint(0, len(data))


def flip(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    return data[: rng.randint(0, len(data))]


def insert(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    at = _spot(rng, data)
    return data[:at] + token(rng) + data[at:]


def replace(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    """Replace the next word (a value, a key, a field) with a token."""
    at = _spot(rng, data)
    end = at
    while end < len(data) and data[end] not in b" \t\n,:]}'\"":
        end += 1
    return data[:at] + token(rng) + data[end:]


def delete(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    a = rng.randint(0, len(data))
    return data[:a] + data[a + rng.randint(1, 64) :]


def duplicate(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    lines = data.split(b"\n")
    if len(lines) < 2:
        return data
    i = rng.randrange(len(lines))
    lines.insert(rng.randrange(len(lines)), lines[i])
    return b"\n".join(lines)


def swap_lines(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    lines = data.split(b"\n")
    if len(lines) < 2:
        return data
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def splice(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    other = rng.choice(others)
    a, b = sorted((rng.randint(0, len(other)), rng.randint(0, len(other))))
    at = rng.randint(0, len(data))
    return data[:at] + other[a:b] + data[at:]


def bom(rng: random.Random, data: bytes, _: list[bytes]) -> bytes:
    return b"\xef\xbb\xbf" + data if rng.random() < 0.7 else data + b"\xef\xbb\xbf"


MUTATIONS: list[Mutation] = [
    flip,
    truncate,
    insert,
    insert,
    replace,
    replace,
    replace,
    delete,
    duplicate,
    swap_lines,
    splice,
    bom,
]


def mutate(
    rng: random.Random, name: str, data: bytes, others: list[bytes]
) -> tuple[bytes, list[str]]:
    applied = []
    if rng.random() < 0.6:  # structure-aware first: reach past the parser into validation
        changed = (tree if name.endswith((".yaml", ".json")) and "conn" not in name else fields)(
            rng, name, data
        )
        if changed is not None:
            data = changed
            applied.append("tree" if "conn" not in name else "fields")
    for _ in range(rng.choice([0, 0, 0, 0, 1] if applied else [1, 1, 1, 2, 2, 3, 4])):
        m = rng.choice(MUTATIONS)
        data = m(rng, data, others)
        applied.append(m.__name__)
    return data, applied


def _scalars(value: object, out: list[str]) -> list[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(str(k))
            _scalars(v, out)
    elif isinstance(value, list):
        for v in value:
            _scalars(v, out)
    elif isinstance(value, str):
        out.append(value)
    return out


def _value(rng: random.Random, words: list[str], depth: int = 0) -> object:
    """A value for a topology field: often a name from the document, sometimes anything."""
    kind = rng.random()
    if kind < 0.45 and words:
        return rng.choice(words)
    if kind < 0.6:
        return rng.choice(
            [None, True, False, 0, -1, 1, 443, 65535, 65536, 2**63, 1.5, float("inf"), "", "any"]
        )
    if kind < 0.75:
        return token(rng).decode("utf-8", "replace")
    if kind < 0.9 and depth < 3:
        return [_value(rng, words, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 3:
        return {rng.choice(words or ["k"]): _value(rng, words, depth + 1)}
    return rng.choice(words or ["x"])


def _leaves(value: object, out: list[tuple[object, object]]) -> list[tuple[object, object]]:
    items = value.items() if isinstance(value, dict) else enumerate(value)  # type: ignore[attr-defined]
    for k, v in items:
        if isinstance(v, (dict, list)):
            _leaves(v, out)
        else:
            out.append((value, k))
    return out


def _swap(rng: random.Random, doc: object) -> None:
    """Swap two leaf values of the same type: a permit's zone for a node, one address for
    another, true for false."""
    leaves = _leaves(doc, []) if isinstance(doc, (dict, list)) else []
    for _ in range(rng.randint(1, 3) if leaves else 0):
        a = rng.choice(leaves)
        same = [b for b in leaves if type(b[0][b[1]]) is type(a[0][a[1]])]  # type: ignore[index]
        b = rng.choice(same)
        a[0][a[1]], b[0][b[1]] = b[0][b[1]], a[0][a[1]]  # type: ignore[index]
        if isinstance(a[0][a[1]], bool) and rng.random() < 0.5:  # type: ignore[index]
            a[0][a[1]] = not a[0][a[1]]  # type: ignore[index]


def tree(rng: random.Random, name: str, data: bytes) -> bytes | None:
    """Change one value, key or item of a topology that parses, and write it out again."""
    try:
        doc = yamldoc.load_document(name, data).data
    except TopologyError:
        return None
    doc = json.loads(json.dumps(doc, default=str))  # plain dicts and lists
    words = _scalars(doc, [])
    if rng.random() < 0.4:
        _swap(rng, doc)  # gentle: the result often still loads, and reaches the analysis
    for _ in range(rng.randint(0, 3)):
        node, trail = doc, 0
        while isinstance(node, (dict, list)) and node and trail < 6:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            child = node[key]
            if not isinstance(child, (dict, list)) or not child or rng.random() < 0.15:
                action = rng.random()
                if action < 0.6:
                    node[key] = _value(rng, words)  # type: ignore[index]
                elif action < 0.75 and isinstance(node, dict):
                    node[str(_value(rng, words))] = node.pop(key)
                elif action < 0.9:
                    del node[key]  # type: ignore[arg-type]
                elif isinstance(node, list):
                    node.insert(key, _value(rng, words))  # type: ignore[arg-type]
                else:
                    node[str(_value(rng, words))] = _value(rng, words)
                break
            node, trail = child, trail + 1
    if name.endswith(".json"):
        return json.dumps(
            doc, ensure_ascii=rng.random() < 0.3, indent=rng.choice([None, 1])
        ).encode()
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode()


ZEEK_VALUES = [
    "-",
    "(empty)",
    "",
    "0",
    "65535",
    "65536",
    "-1",
    "4095",
    "4096",
    "18446744073709551615",
    "9223372036854775807",
    "9223372036854775808",
    "1e3",
    "nan",
    "inf",
    "-inf",
    "1.5",
    "0x10",
    "\u0661",
    "\uff16",
    "tcp",
    "udp",
    "icmp",
    "unknown_transport",
    "TCP",
    "6",
    "255",
    "256",
    "S0",
    "SF",
    "OTH",
    "REJ",
    "XX",
    "10.2.10.11",
    "fe80::1%eth0",
    "::",
    "300.1.1.1",
    "2026-01-01T00:00:00Z",
    "1767225600.5",
    "32000000000",
    "T",
    "F",
    "9" * 5000,
]


def fields(rng: random.Random, name: str, data: bytes) -> bytes | None:
    """Change one field of one conn.log entry (TSV or JSON) to a value Zeek may or may not write."""
    lines = data.decode("utf-8", "replace").split("\n")
    rows = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
    if not rows:
        return None
    i = rng.choice(rows)
    value = json.loads(f'"{rng.choice(ZEEK_VALUES)}"')
    if lines[i].lstrip().startswith("{"):
        try:
            rec = json.loads(lines[i])
        except ValueError:
            return None
        if not isinstance(rec, dict):
            return None
        key = rng.choice([*rec, "vlan", "inner_vlan", "duration"])
        if rng.random() < 0.5 and value.lstrip("-").isdigit() and len(value) < 30:
            rec[key] = int(value)
        else:
            rec[key] = rng.choice([value, None, True, [value], {"a": value}, 1e300, -0.0])
        lines[i] = json.dumps(rec, ensure_ascii=rng.random() < 0.5)
    else:
        cells = lines[i].split("\t")
        cells[rng.randrange(len(cells))] = value
        lines[i] = "\t".join(cells)
    return "\n".join(lines).encode()


# -- seeds -------------------------------------------------------------------------------------


def topology_seeds() -> list[tuple[str, bytes]]:
    """The bundled examples (YAML and JSON versions), then the test topologies; the examples
    come first and are named `example-…`."""
    seeds = []
    data_dir = ROOT / "tests" / "data" / "topologies"
    examples = sorted((ROOT / "topologies").glob("*.yaml")) + [data_dir / "judge-fixture.yaml"]
    for path in examples:
        raw = path.read_bytes()
        seeds.append((f"example-{path.name}", raw))
        if "fortigate" not in path.name:
            data = yamldoc.load_document(str(path), raw).data
            text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
            seeds.append((f"example-{path.stem}.json", text.encode()))
    for path in sorted(data_dir.rglob("*.yaml")) + sorted(data_dir.rglob("*.json")):
        if path not in examples:
            seeds.append((path.name, path.read_bytes()))
    return seeds


ZEEK_FIELDS = (
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes "
    "conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts "
    "resp_ip_bytes tunnel_parents vlan inner_vlan"
).split()
ZEEK_TYPES = (
    "time string addr port addr port enum string interval count count string bool bool count "
    "string count count count count set[string] int int"
).split()
ZEEK_ROWS = [
    # alpha.yaml's addresses: a violation, an attempt, sanitized and permitted traffic, ICMP,
    # IPv6, VLANs, unset fields
    "1767225600.000000 C1 10.2.10.11 50000 10.3.20.25 445 tcp - 1.5 100 200 SF T F 0 ShADadFf "
    "5 300 4 400 - - -",
    "1767225601.250000 C2 10.2.10.11 50001 10.3.20.25 25 tcp - - - - S0 T F 0 S 1 60 0 0 - 30 -",
    "1767225602.000000 C3 10.2.10.11 50002 10.3.10.11 3389 tcp rdp 30.0 5000 90000 SF T T 0 "
    "ShADadFf 40 7000 60 95000 - - -",
    "1767225603.000000 C4 10.1.10.11 8 10.1.20.20 0 icmp - 0.1 8 8 OTH T T 0 - 1 48 1 48 - 0 -",
    "1767225604.000000 C5 fd00::1 128 fd00::2 129 icmp - 0.1 8 8 OTH - - 0 - 1 48 1 48 - - -",
    "1767225605.000000 C6 10.3.10.11 53000 192.0.2.53 53 udp dns 0.01 40 80 SF T F 0 Dd 1 68 1 "
    "108 - 10 20",
    "1767225606.000000 C7 10.2.10.11 0 198.18.100.10 0 unknown_transport - - - - OTH T F 0 - "
    "1 40 0 0 - - -",
]


def zeek_seeds() -> list[tuple[str, bytes]]:
    header = (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        "#path\tconn\n#open\t2026-01-01-00-00-00\n"
        f"#fields\t{chr(9).join(ZEEK_FIELDS)}\n#types\t{chr(9).join(ZEEK_TYPES)}\n"
    )
    rows = [r.split(" ") for r in ZEEK_ROWS]
    tsv = header + "".join("\t".join(r) + "\n" for r in rows) + "#close\t2026-01-01-01-00-00\n"
    records = []
    for row in rows:
        rec: dict[str, object] = {}
        for name, kind, value in zip(ZEEK_FIELDS, ZEEK_TYPES, row, strict=True):
            if value == "-":
                continue
            if kind in ("time", "interval"):
                rec[name] = float(value)
            elif kind in ("port", "count", "int"):
                rec[name] = int(value)
            elif kind == "bool":
                rec[name] = value == "T"
            else:
                rec[name] = value
        records.append(json.dumps(rec))
    return [("conn.log", tsv.encode()), ("conn.json", ("\n".join(records) + "\n").encode())]


# -- oracles -----------------------------------------------------------------------------------


def run_cli(args: list[str]) -> str | None:
    """None when the CLI kept its contract, else what went wrong."""
    result = CliRunner().invoke(main, args)
    err = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        return "CLI raised " + "".join(traceback.format_exception(exc)[-3:])
    if result.exit_code not in (0, 1, 2):
        return f"exit {result.exit_code}: {err[-300:]}"
    if "internal error" in err or "Traceback" in err:
        return f"exit {result.exit_code}: {err.strip()[-300:]}"
    if result.exit_code == 2 and not result.stdout:
        lines = err.strip().splitlines()
        if len(lines) != 1 or not lines[0].startswith("Error: "):
            return f"exit 2 without one Error line: {err[-300:]!r}"
    return None


def topology_case(path: Path, data: bytes, cli: bool) -> str | None:
    try:
        topo = parse_topology(data, str(path))
    except TopologyError as exc:
        if "\n" in str(exc) or not str(exc).startswith(str(path)):
            return f"error message not one line naming the file: {str(exc)[:300]!r}"
        breaks = sum(data.count(c.encode()) for c in "\n\r\x85\u2028\u2029")
        if exc.line is not None and not 1 <= exc.line <= breaks + 1:
            return f"line {exc.line} is not in the file: {str(exc)[:300]!r}"
        topo = None
    except SegcheckError:
        topo = None
    except Exception:  # the bug this harness is here to find
        return "library raised " + traceback.format_exc(limit=-4)
    if topo is not None:
        try:
            report = check(topo, today=TODAY, generated_at="2026-11-30T00:00:00Z")
            for fmt in ("text", "json", "sarif", "md"):
                render(report, fmt)
        except SegcheckError:
            pass
        except Exception:
            return "check/render raised " + traceback.format_exc(limit=-4)
    if cli:
        path.write_bytes(data)
        return run_cli(["check", str(path), "--today", "2026-11-30"])
    return None


def zeek_case(path: Path, data: bytes, cli: bool) -> str | None:
    path.write_bytes(data)
    try:
        result = read_capture(path)
    except CaptureError as exc:
        if "\n" in str(exc) or not str(exc).startswith(str(path)):
            return f"error message not one line naming the file: {str(exc)[:300]!r}"
        result = None
    except Exception:
        return "library raised " + traceback.format_exc(limit=-4)
    if result is not None:
        info = result.info
        if not 0 <= info.packets_skipped <= info.packets_read:
            return f"skipped {info.packets_skipped} of {info.packets_read} read"
        for f in result.flows:
            if not (0 <= f.src_port <= 65535 and 0 <= f.dst_port <= 65535):
                return f"impossible port in {f}"
            if f.vlan is not None and not 1 <= f.vlan <= 4095:
                return f"impossible VLAN in {f}"
            if f.packets < 0 or f.bytes < 0 or not f.first_seen <= f.last_seen:
                return f"impossible counts or times in {f}"
    if cli:
        alpha = str(ROOT / "topologies" / "alpha.yaml")
        return run_cli(["scan", alpha, str(path), "--today", "2026-11-30", "--format", "json"])
    return None


def _case_blocks() -> list[object]:
    """The case numbers in BLOCKS ranges; only the first is in the fast run."""
    bounds = [CASES * b // BLOCKS for b in range(BLOCKS + 1)]
    return [
        pytest.param(range(lo, hi), marks=[pytest.mark.slow] if b else [], id=f"cases{lo}-{hi - 1}")
        for b, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]


@pytest.mark.parametrize("cases", _case_blocks())
@pytest.mark.parametrize("kind", ["topology", "zeek"])
def test_damaged_inputs_never_end_in_an_internal_error(
    kind: str, cases: range, tmp_path: Path
) -> None:
    seeds = topology_seeds() if kind == "topology" else zeek_seeds()
    others = [raw for _, raw in seeds]
    valid = [s for s in seeds if s[0].startswith("example-") or kind == "zeek"]
    # alpha-fortigate.yaml names its configuration relative to itself
    shutil.copytree(ROOT / "topologies" / "configs", tmp_path / "configs")
    failures: list[str] = []
    for case in cases:
        rng = random.Random(f"{SEED}:{kind}:{case}")
        # mostly the examples that load, whose damage reaches validation and analysis
        name, raw = rng.choice(valid if rng.random() < 0.7 else seeds)
        data, applied = mutate(rng, name, raw, others)
        if kind == "zeek" and rng.random() < 0.1:
            data, name = gzip.compress(data, mtime=0), name + ".gz"
        path = tmp_path / f"case{case}-{name}"
        oracle = topology_case if kind == "topology" else zeek_case
        problem = oracle(path, data, cli=case % CLI_EVERY == 0)
        if problem is not None:
            saved = tmp_path / f"failed-{case}-{name}"
            saved.write_bytes(data)
            failures.append(
                f"SEGCHECK_FUZZ_SEED={SEED} case {case} ({name}, {'+'.join(applied)}; "
                f"input kept as {saved}): {problem}"
            )
        path.unlink(missing_ok=True)
    summary = f"{len(failures)} of {len(cases)} cases failed:\n"
    assert not failures, summary + "\n".join(failures[:20])
