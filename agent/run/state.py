"""Embedded state (SQLite in ``state_dir``): what must outlive a restart.

A small namespaced key → JSON store: content fingerprints and when they last
changed, last-seen entry dates, recent findings.  Losing the database must not
crash the agent, and corrupting it must not lose more than the damaged entries:
an unreadable row reads as missing, and a database that cannot be opened is
moved aside and started afresh (``xuncha.db.corrupt-<time>``), with a log line.

Calls are synchronous: each is one indexed statement on a local file, far
cheaper than the network I/O around it.

Worker processes (agent.workers.supervisor) share the one file: WAL lets them read while one
writes, and a writer waits up to ``BUSY_TIMEOUT`` for another's transaction.  A
database that is merely locked by a sibling is never mistaken for a damaged one.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BUSY_TIMEOUT = 30.0  # seconds a statement waits for another process's write

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID
"""


class StateStore:
    """Namespaced JSON values.  ``path=None`` keeps them in memory (tests, ``probe``)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            return self._init(sqlite3.connect(":memory:"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = self._init(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT))
            db.execute("SELECT count(*) FROM state").fetchone()
            return db
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
                raise  # held by another worker beyond the timeout: not damage, never moved aside
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            log.error("state database %s is unreadable (%s); moved to %s, starting afresh", self.path, e, aside)
            self.path.rename(aside)
            return self._init(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT))

    @staticmethod
    def _init(db: sqlite3.Connection) -> sqlite3.Connection:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        db.commit()
        return db

    def get(self, namespace: str, key: str) -> Any | None:
        try:
            row = self._db.execute(
                "SELECT value FROM state WHERE namespace = ? AND key = ?", (namespace, key)
            ).fetchone()
        except sqlite3.DatabaseError as e:
            log.warning("state %s/%s unreadable: %s", namespace, key, e)
            return None
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except ValueError:
            log.warning("state %s/%s is damaged; ignoring it", namespace, key)
            return None

    def put(self, namespace: str, key: str, value: Any) -> None:
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO state (namespace, key, value, updated) VALUES (?, ?, ?, ?)",
                (namespace, key, json.dumps(value, ensure_ascii=False), time.time()),
            )
            self._db.commit()
        except sqlite3.DatabaseError as e:
            # A full disk or a damaged page must not stop probing; the value is lost, not the agent.
            log.warning("state %s/%s not saved: %s", namespace, key, e)

    def delete(self, namespace: str, key: str) -> None:
        try:
            self._db.execute("DELETE FROM state WHERE namespace = ? AND key = ?", (namespace, key))
            self._db.commit()
        except sqlite3.DatabaseError as e:
            log.warning("state %s/%s not deleted: %s", namespace, key, e)

    def items(self, namespace: str) -> Iterator[tuple[str, Any]]:
        try:
            rows = self._db.execute("SELECT key, value FROM state WHERE namespace = ?", (namespace,)).fetchall()
        except sqlite3.DatabaseError as e:
            log.warning("state namespace %s unreadable: %s", namespace, e)
            return
        for key, value in rows:
            try:
                yield key, json.loads(value)
            except ValueError:
                log.warning("state %s/%s is damaged; ignoring it", namespace, key)

    def close(self) -> None:
        self._db.close()
