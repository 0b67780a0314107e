"""TLS session resumption for the fetches that read pages, never for the availability visit.

At national size a third of a worker's CPU in the start-up burst was TLS handshakes (py-spy,
issue 21).  The visit that measures availability must do what a visitor's first visit does — a
full handshake — and the TLS probe must see the whole certificate chain, so both keep their
plain contexts (``probes.net.Network.verified_ssl``, ``chain_ssl``).  The page readers (content,
columns, link checks, services, interaction, feeds) open several connections to one host within
a run — a second one while the first is busy, link checks in parallel — and those may resume the
session of the last handshake with that host, which costs the server and us a fraction of one.

asyncio gives no way to pass a session to a connection it opens, so :class:`ResumingContext`
does it where asyncio asks for the TLS object (``SSLContext.wrap_bio``): the newest resumable
session seen for the server name is offered, and the new connection's own session is collected
from it later (TLS 1.3 sends its tickets after the handshake).  Sessions are kept for
:data:`KEEP_SECONDS` (servers forget theirs: nginx's default is 5 minutes) and for at most
:data:`KEEP_HOSTS` names (each holds the peer's certificates, a few KB); connections are watched
through weak references, so nothing here keeps a closed connection's memory alive.
"""

from __future__ import annotations

import collections
import ssl
import time
import weakref
from typing import Any

KEEP_SECONDS = 300.0
KEEP_HOSTS = 1024  # sessions matter within minutes, for the hosts being read now
_WATCHED = 2048  # connections whose session is not collected yet
_PER_CALL = 8  # of them looked at each time a connection opens
_TRIES = 32  # times the oldest is looked at before it is given up


class ResumingContext(ssl.SSLContext):
    """An ``SSLContext`` whose client connections offer the last session with the same server name."""

    _sessions: collections.OrderedDict[str, tuple[float, ssl.SSLSession]]
    _watched: collections.deque[tuple[str, weakref.ref[ssl.SSLObject], int]]

    def __init__(self, protocol: int = ssl.PROTOCOL_TLS_CLIENT) -> None:
        # ssl.SSLContext builds itself in __new__; this only adds our two collections
        self._sessions = collections.OrderedDict()
        self._watched = collections.deque(maxlen=_WATCHED)

    def wrap_bio(  # type: ignore[override]
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        name = server_hostname.decode() if isinstance(server_hostname, bytes) else server_hostname
        if not server_side and name:
            self._collect()
            if session is None:
                session = self._offer(name)
        obj = super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)
        if not server_side and name:
            self._watched.append((name, weakref.ref(obj), 0))
        return obj

    def _offer(self, name: str) -> ssl.SSLSession | None:
        kept = self._sessions.get(name)
        if kept is None:
            return None
        at, session = kept
        if time.monotonic() - at > KEEP_SECONDS:
            del self._sessions[name]
            return None
        return session

    def _collect(self) -> None:
        """Take the sessions of the connections watched, once they have a resumable one."""
        now = time.monotonic()
        for _ in range(min(_PER_CALL, len(self._watched))):  # oldest first, a few a connection
            name, ref, tries = self._watched.popleft()
            obj = ref()
            if obj is None:
                continue  # closed before it had a ticket: nothing to keep
            session = _session_of(obj)
            if session is None:
                if tries < _TRIES:  # not yet, nor (most likely) the newer ones
                    self._watched.appendleft((name, ref, tries + 1))
                    break
                continue  # a server that gives no resumable session: not watched any longer
            self._sessions[name] = (now, session)
            self._sessions.move_to_end(name)
            while len(self._sessions) > KEEP_HOSTS:
                self._sessions.popitem(last=False)

    def sessions(self) -> int:
        return len(self._sessions)


def _session_of(obj: ssl.SSLObject) -> ssl.SSLSession | None:
    try:
        session: Any = obj.session
    except (ValueError, AttributeError, ssl.SSLError):
        return None
    if session is None:
        return None
    # TLS 1.3 resumes by ticket only, and its tickets come after the handshake; 1.2 by id or ticket
    if not session.has_ticket and (obj.version() == "TLSv1.3" or not session.id):
        return None
    return session  # type: ignore[no-any-return]
