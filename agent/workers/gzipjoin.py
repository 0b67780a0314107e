"""One gzip body from pieces compressed separately, at different times or in different processes.

``/metrics`` at national size is ~80 MB of text; compressing all of it on every scrape
costs about a second of CPU.  Most of it has not changed since the last scrape, and
with worker processes it is written by several processes.  So each piece (one metric
family of one process) is compressed once, when it changes, as raw deflate ended by a
sync flush — byte-aligned and not final, so such pieces may follow each other in one
deflate stream — and :func:`join` wraps them in a single gzip member: a gzip header,
the pieces, an empty final block, and the trailer, whose CRC-32 is combined from the
pieces' own (:func:`crc32_combine`, zlib's algorithm: Python's zlib does not expose it).

Why not simply a sequence of gzip members (RFC 1952 allows it)?  Prometheus reads
them, but curl ``--compressed`` and Chromium stop after the first member, and would
show a person one family of the exposition without any error.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from typing import NamedTuple

_POLY = 0xEDB88320  # CRC-32, reflected
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no flags, no mtime, unknown OS
_FINAL = b"\x03\x00"  # an empty final block (fixed Huffman): what zlib writes for Z_FINISH after a flush
LEVEL = 1  # a scrape's text compresses ~10× at level 1, at ~100 MB/s


class Piece(NamedTuple):
    """Raw deflate data ending on a byte boundary, with the CRC-32 and size of what it holds."""

    data: bytes
    crc: int
    size: int


EMPTY = Piece(b"", 0, 0)


def deflate(text: bytes) -> Piece:
    """``text`` as a piece (the GIL is released while zlib works, so this may run in a thread)."""
    if not text:
        return EMPTY
    c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return Piece(c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH), zlib.crc32(text), len(text))


def inflate(piece: Piece) -> bytes:
    """The text of one piece."""
    if not piece.size:
        return b""
    d = zlib.decompressobj(-15)
    text = d.decompress(piece.data, piece.size + 1)
    if len(text) != piece.size or zlib.crc32(text) != piece.crc:
        raise zlib.error(f"a piece of {piece.size} bytes inflated to {len(text)} bytes or another CRC-32")
    return text


def join(pieces: Iterable[Piece]) -> bytes:
    """One gzip member holding the pieces' texts back to back."""
    parts, crc, size = [_HEADER], 0, 0
    for p in pieces:
        if p.size:
            parts.append(p.data)
            crc = crc32_combine(crc, p.crc, p.size)
            size += p.size
    parts.append(_FINAL)
    parts.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(parts)


def _multmodp(a: int, b: int) -> int:
    """a × b modulo the CRC polynomial (zlib's ``multmodp``)."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if a & (m - 1) == 0:
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _powers() -> list[int]:
    out, p = [], 1 << 30  # x^1
    for _ in range(32):
        out.append(p)
        p = _multmodp(p, p)
    return out


_X2N = _powers()  # x^(2^n) modulo the polynomial


def _x2nmodp(n: int, k: int) -> int:
    """x^(n × 2^k) modulo the polynomial (zlib's ``x2nmodp``)."""
    p = 1 << 31  # x^0
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, size2: int) -> int:
    """The CRC-32 of A + B from CRC-32(A), CRC-32(B) and len(B) (zlib's ``crc32_combine``)."""
    return _multmodp(_x2nmodp(size2, 3), crc1) ^ crc2
