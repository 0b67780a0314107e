"""Pieces compressed apart, joined into one gzip member (agent.workers.gzipjoin)."""

from __future__ import annotations

import gzip
import random
import zlib

import pytest

from agent.workers.gzipjoin import EMPTY, Piece, crc32_combine, deflate, inflate, join


def _texts(rng: random.Random) -> list[bytes]:
    words = [
        b"xuncha_site_info",
        b'{code="4405070010"}',
        "汕头".encode(),
        b" 1\n",
        bytes(rng.randrange(256) for _ in range(9)),
    ]
    return [b"".join(rng.choice(words) for _ in range(rng.choice([0, 1, 5, 300, 20_000]))) for _ in range(40)]


def test_joined_pieces_are_one_gzip_member_holding_the_texts_in_order() -> None:
    rng = random.Random(7)
    for _ in range(5):
        texts = _texts(rng)
        body = join(deflate(t) for t in texts)
        one = zlib.decompressobj(31)  # exactly one member: what curl --compressed and browsers read
        assert one.decompress(body) == b"".join(texts)
        assert one.eof and one.unused_data == b""
        assert gzip.decompress(body) == b"".join(texts)  # the trailer's CRC-32 and size check out


def test_nothing_joins_to_an_empty_but_valid_body() -> None:
    assert gzip.decompress(join([])) == b""
    assert gzip.decompress(join([EMPTY, deflate(b""), EMPTY])) == b""


def test_the_combined_crc_is_zlibs() -> None:
    rng = random.Random(3)
    for _ in range(200):
        a = rng.randbytes(rng.randrange(0, 5000))
        b = rng.randbytes(rng.choice([0, 1, 7, 4096, 100_000]))
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_a_damaged_piece_is_refused_not_passed_on() -> None:
    piece = deflate(b"xuncha_up 1\n" * 100)
    assert inflate(piece) == b"xuncha_up 1\n" * 100
    with pytest.raises(zlib.error):
        inflate(Piece(piece.data, piece.crc ^ 1, piece.size))  # another text's CRC
    with pytest.raises(zlib.error):
        inflate(Piece(piece.data, piece.crc, piece.size + 1))
    body = bytearray(join([piece]))
    body[-5] ^= 0xFF  # the trailer's CRC
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(bytes(body))
