"""Which shard of ``n`` agents watches a target: stable by key (网站标识码 or account id).

``in_shard(key, i, n)`` is a pure function of the key and ``n``: every agent of a sharded
deployment computes the same answer without talking to the others, a target never depends on
which other targets exist (adding a site moves no other site), and restarts change nothing.
Python's ``hash()`` is salted per process, so the key is hashed with BLAKE2b instead.

The bucket is chosen with the jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory,
Consistent Hash Algorithm", 2014): going from ``n`` to ``n + 1`` shards moves only about
``1/(n+1)`` of the targets, all of them to the new shard — a StatefulSet scaled up by one pod
re-probes only what the new pod takes over.
"""

from __future__ import annotations

import hashlib
import re

_ORDINAL = re.compile(r"-(\d+)$")


def _key64(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def bucket(key: str, shards: int) -> int:
    """The shard (0 … shards-1) that owns ``key``."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    k = _key64(key)
    b, j = -1, 0
    while j < shards:
        b = j
        k = (k * 2862933555777941757 + 1) & 0xFFFFFFFFFFFFFFFF
        j = int((b + 1) * (float(1 << 31) / float((k >> 33) + 1)))
    return b


def in_shard(key: str, shard: int, shards: int) -> bool:
    """True if the agent that is shard ``shard`` of ``shards`` (0-based) watches ``key``."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not in 0..{shards - 1}")
    return bucket(key, shards) == shard


def parse_shard(spec: str, hostname: str = "") -> tuple[int, int]:
    """``"i/n"`` → (i, n); ``"auto/n"`` takes i from the trailing ``-<ordinal>`` of ``hostname``
    (a StatefulSet pod ``xuncha-2`` is shard 2).  ``ValueError`` naming the accepted forms otherwise."""
    index, sep, count = spec.strip().partition("/")
    if not sep or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{spec!r} is not i/n or auto/n (e.g. 0/3)")
    if index == "auto":
        found = _ORDINAL.search(hostname)
        if not found:
            raise ValueError(f"{spec!r}: host name {hostname!r} does not end in -<ordinal>")
        index = found.group(1)
    if not index.isdigit() or int(index) >= int(count):
        raise ValueError(f"{spec!r}: the shard index must be 0..{int(count) - 1}")
    return int(index), int(count)
