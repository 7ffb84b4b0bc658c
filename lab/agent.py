"""The lab's stand-in services and clients; runs inside a host namespace (stdlib only).

    python agent.py serve --listen tcp:10.3.20.25:25 --listen udp:192.0.2.53:53  # then "ready"
    python agent.py client tcp 10.3.20.25 445 --timeout 2
    python agent.py client udp 192.0.2.53 53
    python agent.py client icmp 10.2.20.25

A client prints one JSON line, {"ok": true|false, "detail": "..."}, and exits 0 either way;
it exits 2 only on a usage error. The servers speak just enough of each protocol to make a
realistic exchange: a banner, a request line, a reply; a DNS query gets a DNS answer.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from types import FrameType


def _smb2(command_body: bytes, response: bool) -> bytes:
    """An SMB2 NEGOTIATE message in its NetBIOS session framing."""
    flags = 1 if response else 0
    header = struct.pack("<4sHHIHHIIQIIQ16s", b"\xfeSMB", 64, 0, 0, 0, 1, flags, 0, 0, 0, 0, 0, b"")
    message = header + command_body
    return struct.pack("!I", len(message)) + message


SMB2_NEGOTIATE = _smb2(
    struct.pack("<HHHHI16sIHH", 36, 2, 1, 0, 0, b"segcheck-lab-cli", 0, 0, 0)[:36]
    + struct.pack("<HH", 0x0202, 0x0210),
    response=False,
)
SMB2_NEGOTIATE_RESPONSE = _smb2(
    struct.pack(
        "<HHHH16sIIIIQQHHI",
        65,
        1,
        0x0210,
        0,
        b"segcheck-lab-srv",
        0,
        65536,
        65536,
        65536,
        0,
        0,
        128,
        0,
        0,
    )
    + b"\x00",
    response=True,
)

# Server-first protocols: the server greets, the client answers.
BANNERS = {
    25: b"220 lab-mail ESMTP segcheck-lab\r\n",
    1494: b"\x7f\x7fICA\x00",
}
# Client-first protocols: (request, reply).
EXCHANGES = {
    25: (b"EHLO lab-client\r\n", b"250 lab-mail\r\n"),
    # X.224 Connection Request / Connection Confirm with RDP negotiation (TLS)
    3389: (
        b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x01\x00\x00\x00",
        b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x01\x00\x00\x00",
    ),
    1494: (b"\x7f\x7fICA\x00", b"\x7f\x7fICA\x00"),
    445: (SMB2_NEGOTIATE, SMB2_NEGOTIATE_RESPONSE),
    8080: (
        b"CONNECT www.example.com:443 HTTP/1.1\r\nHost: www.example.com:443\r\n\r\n",
        b"HTTP/1.1 200 Connection established\r\n\r\n",
    ),
}
DEFAULT_EXCHANGE = (b"HELLO lab\r\n", b"OK lab\r\n")


def _tcp_conversation(conn: socket.socket, port: int) -> None:
    with conn:
        conn.settimeout(3)
        try:
            if port in BANNERS:
                conn.sendall(BANNERS[port])
            if conn.recv(4096):
                conn.sendall(EXCHANGES.get(port, DEFAULT_EXCHANGE)[1])
            conn.recv(4096)  # wait for the client's close
        except OSError:
            pass


def _serve_tcp(sock: socket.socket, port: int) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=_tcp_conversation, args=(conn, port), daemon=True).start()


def dns_query(name: str, ident: int) -> bytes:
    """A standard DNS query for an A record."""
    header = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return header + labels + b"\x00" + struct.pack("!HH", 1, 1)


def dns_answer(query: bytes) -> bytes:
    """A DNS response to a query (any question) answering 192.0.2.80."""
    if len(query) < 12:
        return b""
    ident = query[:2]
    question = query[12:]
    header = ident + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.80")
    return header + question + answer


def _serve_udp(sock: socket.socket) -> None:
    while True:
        try:
            data, peer = sock.recvfrom(2048)
        except OSError:
            return
        reply = dns_answer(data)
        if reply:
            sock.sendto(reply, peer)


def serve(listen: list[tuple[str, str, int]]) -> int:
    """Listen on every (proto, address, port), say "ready", serve until SIGTERM or SIGINT.

    Sockets bind to the host's own address, not 0.0.0.0, so a UDP answer leaves from the
    address the query went to even in a namespace that holds several addresses.
    """
    threads: list[threading.Thread] = []
    for proto, addr, port in listen:
        if proto == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
            s.listen(16)
            threads.append(threading.Thread(target=_serve_tcp, args=(s, port), daemon=True))
        else:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((addr, port))
            threads.append(threading.Thread(target=_serve_udp, args=(u,), daemon=True))
    for t in threads:
        t.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print("ready", flush=True)
    stop.wait()
    return 0


def client_tcp(host: str, port: int, timeout: float) -> tuple[bool, str]:
    """Connect, read the banner (server-first protocols), send one request, read the reply."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            banner = s.recv(4096) if port in BANNERS else b""
            s.sendall(EXCHANGES.get(port, DEFAULT_EXCHANGE)[0])
            reply = s.recv(4096)
            s.shutdown(socket.SHUT_WR)
            return True, f"banner {len(banner)} B, reply {len(reply)} B"
    except TimeoutError:
        return False, "timed out"
    except OSError as exc:
        return False, exc.strerror or str(exc)


def client_udp(host: str, port: int, timeout: float) -> tuple[bool, str]:
    """Send a DNS query (twice, as a resolver retries) and wait for the answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, port))
        query = dns_query("www.lab.example", os.getpid() & 0xFFFF)
        deadline = time.monotonic() + timeout
        for _ in range(2):
            s.send(query)
            wait = min(timeout / 2, deadline - time.monotonic())
            ready, _, _ = select.select([s], [], [], max(wait, 0))
            if ready:
                try:
                    data = s.recv(2048)
                except OSError as exc:
                    return False, exc.strerror or str(exc)
                return True, f"answer {len(data)} B"
    return False, "timed out"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def client_icmp(host: str, timeout: float, count: int = 2) -> tuple[bool, str]:
    """Send `count` echo requests on a raw socket; ok when any reply arrives."""
    ident = os.getpid() & 0xFFFF
    replies = 0
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        for seq in range(1, count + 1):
            payload = b"segcheck-lab".ljust(32, b".")
            header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
            s.sendto(packet, (host, 0))
            deadline = time.monotonic() + timeout / count
            while (left := deadline - time.monotonic()) > 0:
                ready, _, _ = select.select([s], [], [], left)
                if not ready:
                    break
                data, addr = s.recvfrom(2048)
                ihl = (data[0] & 0x0F) * 4
                kind, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl : ihl + 8])
                if addr[0] == host and kind == 0 and rid == ident and rseq == seq:
                    replies += 1
                    time.sleep(max(0.0, deadline - time.monotonic()) / 4)
                    break
    return replies > 0, f"{replies}/{count} replies"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agent.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    srv = sub.add_parser("serve")
    srv.add_argument(
        "--listen", action="append", default=[], metavar="PROTO:ADDR:PORT", help="tcp or udp"
    )
    cli = sub.add_parser("client")
    cli.add_argument("proto", choices=["tcp", "udp", "icmp"])
    cli.add_argument("host")
    cli.add_argument("port", nargs="?", type=int, default=0)
    cli.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.cmd == "serve":
        listen: list[tuple[str, str, int]] = []
        for item in args.listen:
            proto, addr, port = item.split(":")
            if proto not in ("tcp", "udp"):
                parser.error(f"--listen {item}: protocol must be tcp or udp")
            listen.append((proto, addr, int(port)))
        return serve(listen)
    if args.proto == "tcp":
        ok, detail = client_tcp(args.host, args.port, args.timeout)
    elif args.proto == "udp":
        ok, detail = client_udp(args.host, args.port, args.timeout)
    else:
        ok, detail = client_icmp(args.host, args.timeout)
    print(json.dumps({"ok": ok, "detail": detail}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
