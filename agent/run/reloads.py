"""Cheap reloads: concurrent requests coalesced, unchanged files not parsed again.

Issue 10: 200 reloads cost 47 CPU-seconds on the event loop and +437 MiB.  Here a
reload that arrives while one runs joins the *next* one (at most one running and one
queued, whatever the number of callers), and a reload whose files have the same
content as at the last good load returns at once.  The lifecycle endpoint is also
rate-limited (agent.http.web).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

T = TypeVar("T")


def digest(files: Iterable[Path]) -> str:
    """One hash over the names and contents of ``files`` (a missing file hashes as missing)."""
    h = hashlib.sha256()
    for f in files:
        h.update(str(f).encode() + b"\0")
        try:
            h.update(hashlib.sha256(f.read_bytes()).digest())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()


class Reloads:
    def __init__(self) -> None:
        self._last = ""
        self._lock = asyncio.Lock()
        self._queued: asyncio.Future[Any] | None = None

    def loaded(self, files: Iterable[Path]) -> None:
        """Record the files' content after a successful load."""
        self._last = digest(files)

    def changed(self, files: Iterable[Path]) -> bool:
        return digest(files) != self._last

    async def coalesce(self, run: Callable[[], Awaitable[T]]) -> T:
        """``await run()``, sharing one queued run with every caller that arrives meanwhile."""
        if self._queued is None:
            self._queued = asyncio.ensure_future(self._when_free(run))
            self._queued.add_done_callback(lambda f: f.cancelled() or f.exception())
        # Shielded: a caller that gives up (a client hanging up) does not cancel the others' reload.
        return cast(T, await asyncio.shield(self._queued))

    async def _when_free(self, run: Callable[[], Awaitable[T]]) -> T:
        async with self._lock:
            self._queued = None  # from now on, callers queue the next run
            return await run()
