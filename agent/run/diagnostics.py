"""Where the memory is, for a developer or an operator chasing growth (bench/README.md, issue 12).

Run the agent with ``PYTHONTRACEMALLOC=1 XUNCHA_MEMDUMP=/tmp/xuncha-mem`` and send
``SIGUSR2`` to any of its processes: each writes ``/tmp/xuncha-mem.<pid>.txt``, the 40
source lines that hold the most memory now.  Without both variables nothing is installed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tracemalloc

ENV = "XUNCHA_MEMDUMP"


def install(loop: asyncio.AbstractEventLoop) -> None:
    prefix = os.environ.get(ENV)
    if not prefix or not tracemalloc.is_tracing():
        return
    loop.add_signal_handler(signal.SIGUSR2, dump, prefix)


def dump(prefix: str, top: int = 40) -> str:
    snapshot = tracemalloc.take_snapshot()
    stats = snapshot.statistics("lineno")
    total = sum(s.size for s in stats)
    lines = [f"traced {total / 2**20:.1f} MiB in {len(stats)} source lines; top {top}:"]
    lines += [f"{s.size / 2**20:8.1f} MiB {s.count:9d} blocks  {s.traceback}" for s in stats[:top]]
    path = f"{prefix}.{os.getpid()}.txt"
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path
