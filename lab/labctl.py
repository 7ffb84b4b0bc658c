"""segcheck's three-tier lab: build a topology as network namespaces, make traffic, capture it.

    python lab/labctl.py run [--save captures/lab] [--scan]   # up, traffic + capture, down
    python lab/labctl.py up                  # build and leave running; prints the tag
    python lab/labctl.py traffic --tag T -o DIR   # run the plan on a running lab, capture
    python lab/labctl.py down [--tag T]      # remove one run's namespaces, or every sclab-*
    python lab/labctl.py nft                 # print the firewall ruleset (no root needed)

Needs root, iproute2, nftables and tcpdump (editcap/mergecap from wireshark-common to write
pcapng). The topology defaults to lab/town.yaml; the traffic is lab/plan.py's PLAN.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType

if __package__ in (None, ""):  # run as a script: make `lab` and `segcheck` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab import fwlog, netlab, nftgen  # noqa: E402
from lab.plan import PLAN, Exchange, listening_ports  # noqa: E402
from segcheck import load_topology  # noqa: E402

LAB_DIR = Path(__file__).resolve().parent
REPO = LAB_DIR.parent
TOWN = LAB_DIR / "town.yaml"
AGENT = LAB_DIR / "agent.py"
CLIENT_TIMEOUT = 2.0  # seconds a client waits; a blocked TCP connect sends two SYNs

CAPTURE_ANY = "fw-any.pcapng"  # tcpdump -i any in the firewall namespace: Linux cooked v2
CAPTURE_INGRESS = "fw-ingress.pcapng"  # per-interface -Q in captures (Ethernet), merged


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one planned exchange."""

    name: str
    src: str
    dst: str
    src_ip: str
    dst_ip: str
    proto: str
    port: int
    expect: str
    verdict: str
    rule: str | None
    ok: bool
    detail: str

    @property
    def as_planned(self) -> bool:
        """True when the firewall did what the plan says: blocked ones failed, others worked."""
        return self.ok == (self.expect != "blocked")


@dataclass(slots=True)
class LabRun:
    """The result of one lab run."""

    tag: str
    topology: str
    captures: dict[str, Path]
    outcomes: list[Outcome]
    counters: dict[str, int]
    ruleset: str
    timings: dict[str, float] = field(default_factory=dict)
    packets: dict[str, str] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)  # the firewall's own traffic log

    @property
    def as_planned(self) -> bool:
        return all(o.as_planned for o in self.outcomes)

    def summary(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "topology": self.topology,
            "captures": {k: str(v) for k, v in self.captures.items()},
            "logs": {k: str(v) for k, v in self.logs.items()},
            "as_planned": self.as_planned,
            "exchanges": [asdict(o) | {"as_planned": o.as_planned} for o in self.outcomes],
            "nft_counters": self.counters,
            "tcpdump": self.packets,
            "timings_s": {k: round(v, 2) for k, v in self.timings.items()},
        }


def shown_path(path: Path) -> str:
    """A topology path as recorded in generated files: relative to the repository if inside."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


# -- preconditions -----------------------------------------------------------------------------


def missing_requirements() -> str | None:
    """Why the lab cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces, veth, nftables, tcpdump)"
    for tool in ("ip", "nft", "tcpdump", "editcap", "mergecap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install iproute2 nftables tcpdump tshark)"
    probe = f"{netlab.PREFIX}probe-{os.getpid()}"
    try:
        netlab.run(["ip", "netns", "add", probe])
    except netlab.LabError as exc:
        return f"cannot create a network namespace: {exc}"
    try:
        netlab.run(["ip", "netns", "exec", probe, "nft", "list", "ruleset"])
    except netlab.LabError as exc:
        return f"nftables does not work in a network namespace: {exc}"
    finally:
        netlab.teardown_prefix(probe)
    return None


# -- capture -----------------------------------------------------------------------------------


class Capture:
    """tcpdump in the firewall namespace: `-i any` (both directions) and each leg's ingress."""

    def __init__(self, lab: netlab.Lab, workdir: Path) -> None:
        self.lab = lab
        self.workdir = workdir
        self.procs: list[tuple[str, Path, subprocess.Popen[bytes]]] = []
        self.reports: dict[str, str] = {}
        self.banners: dict[str, bytes] = {}

    def _tcpdump(self, label: str, args: list[str]) -> None:
        out = self.workdir / f"{label}.pcap"
        cmd = [
            "ip", "netns", "exec", self.lab.layout.fw_ns, "tcpdump", "-Z", "root", "-nn",
            "-U", "--immediate-mode", "-w", str(out), *args,
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            bufsize=0,
            start_new_session=True,
        )
        self.procs.append((label, out, proc))
        assert proc.stderr is not None
        fd = proc.stderr.fileno()
        deadline = time.monotonic() + 10
        seen = b""
        # Raw reads, not readline(): a buffered reader could hold "listening on" in its buffer
        # while select() waits on an empty pipe.
        while b"listening on" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                seen += chunk
        self.banners[label] = seen
        if b"listening on" not in seen:
            text = seen.decode(errors="replace").strip()
            raise netlab.LabError(f"tcpdump ({label}) did not start: {text}")

    def start(self) -> None:
        self._tcpdump("any", ["-i", "any"])
        for seg in self.lab.layout.segments:
            self._tcpdump(f"in-{seg.fw_ifname}", ["-i", seg.fw_ifname, "-Q", "in"])

    def stop(self) -> None:
        """SIGINT every tcpdump (it flushes and reports its counts) and wait for it."""
        for _, _, proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for label, _, proc in self.procs:
            try:
                _, err = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate(timeout=5)
            text = (self.banners.get(label, b"") + (err or b"")).decode(errors="replace")
            self.reports[label] = "; ".join(
                line.strip() for line in text.splitlines() if "packets" in line
            )

    def write(self) -> dict[str, Path]:
        """Convert to pcapng: the `any` capture alone, the ingress captures merged."""
        any_pcap = next(out for label, out, _ in self.procs if label == "any")
        ingress = [str(out) for label, out, _ in self.procs if label.startswith("in-")]
        result = {
            "any": self.workdir / CAPTURE_ANY,
            "ingress": self.workdir / CAPTURE_INGRESS,
        }
        netlab.run(["editcap", "-F", "pcapng", str(any_pcap), str(result["any"])])
        netlab.run(["mergecap", "-F", "pcapng", "-w", str(result["ingress"]), *ingress])
        return result


# -- traffic -----------------------------------------------------------------------------------


def run_plan(lab: netlab.Lab, plan: tuple[Exchange, ...] = PLAN) -> list[Outcome]:
    """Run every exchange from its source namespace; blocked ones run in the background."""
    lay = lab.layout
    pending: list[tuple[Exchange, subprocess.Popen[str]]] = []
    results: dict[str, tuple[bool, str]] = {}
    for ex in plan:
        cmd = [
            "ip",
            "netns",
            "exec",
            lay.ns(lay.node_ns[ex.src]),
            "python3",
            str(AGENT),
            "client",
            ex.proto,
            lay.node_ip[ex.dst],
            str(ex.port),
            f"--timeout={CLIENT_TIMEOUT}",
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pending.append((ex, proc))
        if ex.expect != "blocked":
            results[ex.name] = _client_result(proc)
        time.sleep(0.05)
    for ex, proc in pending:
        if ex.name not in results:
            results[ex.name] = _client_result(proc)
    return [
        Outcome(
            ex.name,
            ex.src,
            ex.dst,
            lay.node_ip[ex.src],
            lay.node_ip[ex.dst],
            ex.proto,
            ex.port,
            ex.expect,
            ex.verdict,
            ex.rule,
            *results[ex.name],
        )
        for ex in plan
    ]


def _client_result(proc: subprocess.Popen[str]) -> tuple[bool, str]:
    try:
        out, err = proc.communicate(timeout=CLIENT_TIMEOUT + 10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return False, "client hung"
    try:
        data = json.loads(out.strip().splitlines()[-1])
        return bool(data["ok"]), str(data["detail"])
    except (ValueError, IndexError, KeyError):
        return False, f"client failed: {err.strip()[-200:]}"


def nft_counters(lab: netlab.Lab) -> dict[str, int]:
    """Packets accepted per permit id (and the default drop), from the kernel's counters."""
    out = lab.ns_exec(lab.layout.fw_ns, ["nft", "-j", "list", "table", "inet", nftgen.TABLE])
    counters: dict[str, int] = {}
    for item in json.loads(out).get("nftables", []):
        rule = item.get("rule")
        if not rule or "comment" not in rule:
            continue
        for expr in rule.get("expr", []):
            if "counter" in expr:
                key = rule["comment"]
                counters[key] = counters.get(key, 0) + int(expr["counter"]["packets"])
    return counters


# -- the whole run -----------------------------------------------------------------------------


@contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit, so `finally` tears the lab down."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_lab(workdir: Path, topology_path: Path = TOWN, tag: str | None = None) -> LabRun:
    """Build the lab, run the plan under capture, tear down (always); captures into workdir."""
    topology = load_topology(topology_path)
    workdir.mkdir(parents=True, exist_ok=True)
    lab = netlab.Lab(topology, tag, shown_path(topology_path))
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    with _terminate_cleanly():
        try:
            lab.up()
            lab.start_servers(listening_ports(), AGENT)
            timings["build"] = time.monotonic() - t0
            capture = Capture(lab, workdir)
            trace = fwlog.TraceLog(lab)
            try:
                capture.start()
                trace.start()
                t1 = time.monotonic()
                outcomes = run_plan(lab)
                timings["traffic"] = time.monotonic() - t1
                time.sleep(0.3)  # let the last FINs and retransmissions reach tcpdump
            finally:
                trace.stop()
                capture.stop()
            counters = nft_counters(lab)
            log = fwlog.write(trace, _permit_ids(lab), workdir)
        finally:
            t2 = time.monotonic()
            lab.down()
            timings["teardown"] = time.monotonic() - t2
    captures = capture.write()
    timings["total"] = time.monotonic() - t0
    return LabRun(
        lab.layout.tag,
        str(topology_path),
        captures,
        outcomes,
        counters,
        lab.ruleset,
        timings,
        capture.reports,
        {"fortigate": log},
    )


def _permit_ids(lab: netlab.Lab) -> list[str]:
    """The firewall's permit ids in order (a FortiGate log numbers its policies by them)."""
    node = lab.topology.nodes[lab.layout.firewall]
    return [p.id for p in node.permits or ()]


def save(result: LabRun, dest: Path) -> None:
    """Copy the captures, the generated ruleset and the exchanges into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in (*result.captures.values(), *result.logs.values()):
        shutil.copy2(path, dest / path.name)
    (dest / "fw-core.nft").write_text(result.ruleset, encoding="utf-8")
    exchanges = [asdict(o) for o in result.outcomes]
    (dest / "exchanges.json").write_text(
        json.dumps(exchanges, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


# -- command line ------------------------------------------------------------------------------


def _state_file(tag: str) -> Path:
    return netlab.STATE_DIR / f"{tag}.json"


def cmd_run(args: argparse.Namespace) -> int:
    why = missing_requirements()
    if why:
        print(f"labctl: {why}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="segcheck-lab-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        result = run_lab(workdir, Path(args.topology))
        if args.save:
            save(result, Path(args.save))
        summary = result.summary()
        if args.scan:
            summary["scan"] = _scan(Path(args.topology), list(result.captures.values()))
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0 if result.as_planned else 1


def _scan(topology: Path, captures: list[Path]) -> object:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "segcheck",
            "scan",
            str(topology),
            *map(str, captures),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    try:
        return json.loads(done.stdout)
    except ValueError:
        return {"exit": done.returncode, "stderr": done.stderr.strip()}


def cmd_up(args: argparse.Namespace) -> int:
    why = missing_requirements()
    if why:
        print(f"labctl: {why}", file=sys.stderr)
        return 2
    lab = netlab.Lab(load_topology(args.topology), args.tag)
    try:
        lab.up()
        lab.start_servers(listening_ports(), AGENT)
        netlab.STATE_DIR.mkdir(parents=True, exist_ok=True)
        _state_file(lab.layout.tag).write_text(lab.layout.to_json(), encoding="utf-8")
    except BaseException:
        lab.down()
        raise
    print(lab.layout.tag)
    return 0


def cmd_traffic(args: argparse.Namespace) -> int:
    layout = netlab.Layout.from_json(_state_file(args.tag).read_text(encoding="utf-8"))
    lab = netlab.Lab(load_topology(layout.topology_path), layout.tag)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    capture = Capture(lab, out)
    trace = fwlog.TraceLog(lab)
    try:
        capture.start()
        trace.start()
        outcomes = run_plan(lab)
        time.sleep(0.3)
    finally:
        trace.stop()
        capture.stop()
    paths = capture.write()
    paths["fortigate"] = fwlog.write(trace, _permit_ids(lab), out)
    print(
        json.dumps(
            {
                "captures": {k: str(v) for k, v in paths.items()},
                "exchanges": [asdict(o) | {"as_planned": o.as_planned} for o in outcomes],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    return 0 if all(o.as_planned for o in outcomes) else 1


def cmd_down(args: argparse.Namespace) -> int:
    prefix = f"{netlab.PREFIX}{args.tag}-" if args.tag else netlab.PREFIX
    removed = netlab.teardown_prefix(prefix)
    if netlab.STATE_DIR.is_dir():
        for state in netlab.STATE_DIR.glob(f"{args.tag or ''}*.json"):
            state.unlink()
    for ns in removed:
        print(f"removed {ns}")
    return 0


def cmd_nft(args: argparse.Namespace) -> int:
    topology = load_topology(args.topology)
    for fw in nftgen.firewalls(topology):
        print(nftgen.ruleset(topology, fw, shown_path(Path(args.topology))))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labctl.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run", help="build, run the traffic plan under capture, tear down")
    p_run.add_argument("topology", nargs="?", default=str(TOWN))
    p_run.add_argument("--save", metavar="DIR", help="copy captures, ruleset, exchanges here")
    p_run.add_argument("--workdir", metavar="DIR", help="keep the raw captures here")
    p_run.add_argument("--scan", action="store_true", help="also run segcheck scan on them")
    p_up = sub.add_parser("up", help="build the lab and leave it running")
    p_up.add_argument("topology", nargs="?", default=str(TOWN))
    p_up.add_argument("--tag", help="the run's tag (default: random)")
    p_tr = sub.add_parser("traffic", help="run the traffic plan on a running lab, capturing")
    p_tr.add_argument("--tag", required=True)
    p_tr.add_argument("-o", "--output", required=True, metavar="DIR")
    p_down = sub.add_parser("down", help="remove a run's namespaces (default: every sclab-*)")
    p_down.add_argument("--tag")
    p_nft = sub.add_parser("nft", help="print the nftables ruleset generated from the topology")
    p_nft.add_argument("topology", nargs="?", default=str(TOWN))
    args = parser.parse_args(argv)
    try:
        return {
            "run": cmd_run,
            "up": cmd_up,
            "traffic": cmd_traffic,
            "down": cmd_down,
            "nft": cmd_nft,
        }[args.cmd](args)
    except netlab.LabError as exc:
        print(f"labctl: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
