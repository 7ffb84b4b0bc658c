"""Just enough PDF reading to check what Chromium printed: pages, their size and their text.

Chromium (Skia) writes uncompressed object headers, Flate-compressed content streams and
Type0/TrueType fonts with a ToUnicode CMap: glyph codes in `<…> Tj` map to text through it.
This reads that layout only; it is a test helper, not a PDF library.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_OBJ = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_REF = rb"(\d+) 0 R"


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    text: str

    @property
    def landscape(self) -> bool:
        return self.width > self.height


def _objects(data: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in _OBJ.finditer(data)}


def _stream(body: bytes) -> bytes:
    start = re.search(rb"stream\r?\n", body)
    if start is None:
        return b""
    length = re.search(rb"/Length (\d+)(?! 0 R)", body[: start.start()])
    if length is not None:
        raw = body[start.end() : start.end() + int(length.group(1))]
    else:
        match = _STREAM.search(body)
        raw = match.group(1) if match is not None else b""
    if b"/FlateDecode" in body[: start.start()]:
        return zlib.decompressobj().decompress(raw)
    return raw


def _cmap(text: bytes) -> tuple[dict[bytes, str], int]:
    """code (bytes) -> text, and the code width in bytes."""
    width = 2 if re.search(rb"<0000>\s*<FFFF>", text) else 1
    table: dict[bytes, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[bytes.fromhex(src.decode())] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            start, end, first = int(lo, 16), int(hi, 16), int(dst, 16)
            for code in range(start, end + 1):
                table[code.to_bytes(len(lo) // 2, "big")] = chr(first + code - start)
    return table, width


def pages(data: bytes) -> list[Page]:
    """Every page in document order with its MediaBox size (pt) and its text."""
    objects = _objects(data)
    root = re.search(rb"/Root " + _REF, data)
    assert root is not None, "no document catalogue"
    catalogue = objects[int(root.group(1))]
    tree = re.search(rb"/Pages " + _REF, catalogue)
    assert tree is not None
    order: list[int] = []

    def walk(number: int) -> None:
        body = objects[number]
        kids = re.search(rb"/Kids\s*\[(.*?)\]", body, re.S)
        if kids is None:
            order.append(number)
            return
        for kid in re.findall(_REF, kids.group(1)):
            walk(int(kid))

    walk(int(tree.group(1)))
    out = []
    for number in order:
        body = objects[number]
        box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", body)
        assert box is not None
        width, height = float(box.group(3)), float(box.group(4))
        resources = body
        res_ref = re.search(rb"/Resources " + _REF, body)
        if res_ref is not None:
            resources = objects[int(res_ref.group(1))]
        fonts: dict[bytes, tuple[dict[bytes, str], int]] = {}
        font_dict = re.search(rb"/Font\s*<<(.*?)>>", resources, re.S)
        if font_dict is not None:
            for name, ref in re.findall(rb"/(\w+) " + _REF, font_dict.group(1)):
                font = objects[int(ref)]
                to_unicode = re.search(rb"/ToUnicode " + _REF, font)
                if to_unicode is not None:
                    fonts[name] = _cmap(_stream(objects[int(to_unicode.group(1))]))
        contents = re.findall(
            _REF, re.search(rb"/Contents\s*(\[.*?\]|\d+ 0 R)", body, re.S).group(1)
        )  # type: ignore[union-attr]
        text: list[str] = []
        for ref in contents:
            stream = _stream(objects[int(ref)])
            current: tuple[dict[bytes, str], int] = ({}, 1)
            for token in re.finditer(rb"/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj|(ET)", stream):
                if token.group(1) is not None:
                    current = fonts.get(token.group(1), ({}, 1))
                elif token.group(2) is not None:
                    table, size = current
                    raw = bytes.fromhex(token.group(2).decode())
                    text.append(
                        "".join(table.get(raw[i : i + size], "") for i in range(0, len(raw), size))
                    )
                else:
                    text.append(" ")
        out.append(Page(width, height, "".join(text)))
    return out
