"""Byte sources: a capture file as a stream of (possibly decompressed) bytes, read in chunks."""

from __future__ import annotations

import hashlib
import io
import queue
import threading
import zlib
from pathlib import Path
from types import TracebackType
from typing import Any

_zlib_impl: Any
try:  # python-isal decompresses gzip about 1.5x faster than zlib
    from isal import isal_zlib as _zlib_impl
except ImportError:  # pragma: no cover - isal is optional
    _zlib_impl = zlib
_ZLIB_ERRORS: tuple[type[Exception], ...] = (zlib.error, _zlib_impl.error, OSError)

GZIP_MAGIC = b"\x1f\x8b"
# FLG bits 5-7 are reserved (RFC 1952 2.3.1: a decompressor must refuse them). zlib does,
# python-isal inflates on: refuse them first so that a file reads alike with either installed.
_GZIP_RESERVED_FLAGS = 0xE0
_RAW_PIECE = 4 << 20
_OUT_PIECE = 8 << 20  # bound on one decompress() output, so a gzip bomb cannot exhaust memory
_SALVAGE_PIECE = 64 << 10


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while piece := f.read(8 << 20):
            h.update(piece)
    return h.hexdigest()


class ByteSource:
    """Reads a file, transparently gunzipping it.

    Decompression runs in a background thread (zlib and isal release the GIL), so on a
    multi-core machine it overlaps with packet parsing. A cut or corrupt gzip stream is not an
    error: the bytes decoded before the damage are delivered, then ``damage`` says what happened.
    """

    def __init__(self, path: str | Path) -> None:
        self._f: io.BufferedReader = open(path, "rb")  # noqa: SIM115 - closed in close()
        head = self._f.read(2)
        self.compressed = head == GZIP_MAGIC
        self.damage: str | None = None
        self._f.seek(0)
        self.size = self._f.seek(0, 2)
        self._f.seek(0)
        self._buf = b""
        self._q: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._thread: threading.Thread | None = None
        self._stop = False
        self._done = False
        if self.compressed:
            self._thread = threading.Thread(target=self._inflate, daemon=True)
            self._thread.start()

    def _inflate(self) -> None:
        d: Any = _zlib_impl.decompressobj(31)
        pending = b""
        member_start = member_out = 0  # where the current member starts; bytes it delivered
        fresh = True  # the current member's header is still to be checked
        try:
            while not self._stop:
                if d.eof:
                    # Concatenated gzip members form one stream; anything else after a member
                    # is trailing garbage that gzip(1) also ignores.
                    rest = d.unused_data + pending
                    pending = b""
                    if not rest:
                        rest = self._f.read(_RAW_PIECE)
                    if not rest:
                        break
                    if not rest.startswith(GZIP_MAGIC[:1]) or (
                        len(rest) > 1 and not rest.startswith(GZIP_MAGIC)
                    ):
                        break
                    d = _zlib_impl.decompressobj(31)
                    pending = rest
                    member_start, member_out, fresh = self._f.tell() - len(rest), 0, True
                if not pending:
                    pending = d.unconsumed_tail or self._f.read(_RAW_PIECE)
                    if not pending:
                        # python-isal accepts some corrupt deflate data that zlib refuses,
                        # waiting for more: let zlib say where the member goes wrong, so that
                        # a file reads alike with either (only when the stream is cut).
                        self.damage = (
                            "compressed stream ends early"
                            if _zlib_impl is zlib
                            else self._salvage(member_start, member_out)
                        )
                        break
                if fresh:
                    fresh = False
                    while len(pending) < 4 and (more := self._f.read(_RAW_PIECE)):
                        pending += more
                    if len(pending) >= 4 and pending[3] & _GZIP_RESERVED_FLAGS:
                        raise zlib.error("unknown header flags set")  # zlib's own words
                out = d.decompress(pending, _OUT_PIECE)
                pending = d.unconsumed_tail
                if out:
                    self._q.put(out)
                    member_out += len(out)
        except _ZLIB_ERRORS:
            # A failing decompress() call drops everything it inflated: inflate the member
            # again in small steps to deliver every byte before the damage, as zcat does.
            self.damage = self._salvage(member_start, member_out)
        finally:
            self._q.put(None)

    def _salvage(self, start: int, sent: int) -> str:
        """Re-inflate the damaged member from raw offset ``start``; deliver the bytes after
        the ``sent`` already delivered, up to the damage. Returns the damage description."""
        d: Any = zlib.decompressobj(31)
        produced = 0  # bytes d has inflated so far

        def give(out: bytes) -> None:
            nonlocal produced, sent
            end = produced + len(out)
            if end > sent:
                self._q.put(out[max(0, sent - produced) :])
                sent = end
            produced = end

        try:
            self._f.seek(start)
            consumed = start
            while not self._stop and not d.eof:
                piece = self._f.read(_SALVAGE_PIECE)
                if not piece:
                    return "compressed stream ends early"
                saved, saved_produced = d.copy(), produced
                try:
                    data = piece
                    while data and not d.eof:
                        give(d.decompress(data, _OUT_PIECE))
                        data = d.unconsumed_tail
                    consumed += len(piece)
                    continue
                except zlib.error:
                    d, produced = saved, saved_produced
                for i in range(len(piece)):  # one byte at a time: lose nothing before the damage
                    try:
                        give(d.decompress(piece[i : i + 1]))
                    except zlib.error as exc:
                        return (
                            f"corrupt compressed data at compressed byte {consumed + i}: "
                            + (str(exc).rsplit(": ", 1)[-1])
                        )
            return "corrupt compressed data"
        except (zlib.error, OSError) as exc:
            return f"corrupt compressed data: {exc}"

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the stream; b"" at the end."""
        if not self.compressed:
            return self._f.read(n)
        parts = [self._buf] if self._buf else []
        have = len(self._buf)
        while have < n and not self._done:
            piece = self._q.get()
            if piece is None:
                self._done = True
                break
            parts.append(piece)
            have += len(piece)
        data = b"".join(parts)
        self._buf = data[n:]
        return data[:n]

    def readinto(self, mv: memoryview) -> int:
        """Fill ``mv``; fewer bytes only at the end of the stream."""
        if self.compressed:
            data = self.read(len(mv))
            mv[: len(data)] = data
            return len(data)
        total = 0
        while total < len(mv):
            got = self._f.readinto(mv[total:])
            if not got:
                break
            total += got
        return total

    def peek(self, n: int) -> bytes:
        """The next ``n`` bytes, without consuming them."""
        if not self.compressed:
            pos = self._f.tell()
            data = self._f.read(n)
            self._f.seek(pos)
            return data
        data = self.read(n)
        self._buf = data + self._buf
        return data

    def skip(self, n: int) -> None:
        if self.compressed:
            while n > 0 and (piece := self.read(min(n, 8 << 20))):
                n -= len(piece)
        else:
            self._f.seek(n, 1)

    def raw_position(self) -> int:
        """Bytes of the stored file consumed so far (approximate for gzip), for progress."""
        try:
            return self._f.tell()
        except (OSError, ValueError):
            return self.size

    def close(self) -> None:
        self._stop = True
        if self._thread is not None:
            while self._thread.is_alive():
                try:  # unblock a producer waiting on a full queue
                    self._q.get(timeout=0.05)
                except queue.Empty:
                    pass
            self._thread.join()
        self._f.close()

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(
        self,
        et: type[BaseException] | None,
        ev: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
