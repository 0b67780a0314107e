"""The SQLite state: survives restarts; damage costs only the damaged part."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.run.state import StateStore


def test_values_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "xuncha.db"
    store = StateStore(db)
    store.put("homepage_fingerprint", "4405070010", {"hash": "ab12", "changed": 1795000000.0})
    store.close()
    again = StateStore(db)
    assert again.get("homepage_fingerprint", "4405070010") == {"hash": "ab12", "changed": 1795000000.0}
    assert again.get("homepage_fingerprint", "4405150006") is None
    assert dict(again.items("homepage_fingerprint")) == {"4405070010": {"hash": "ab12", "changed": 1795000000.0}}
    again.delete("homepage_fingerprint", "4405070010")
    assert again.get("homepage_fingerprint", "4405070010") is None


def test_a_damaged_entry_reads_as_missing_and_the_others_survive(tmp_path: Path) -> None:
    db = tmp_path / "xuncha.db"
    store = StateStore(db)
    store.put("feed", "a", {"last_entry": 1.0})
    store.put("feed", "b", {"last_entry": 2.0})
    store.close()
    raw = sqlite3.connect(db)
    raw.execute("UPDATE state SET value = '{not json' WHERE key = 'a'")
    raw.commit()
    raw.close()
    again = StateStore(db)
    assert again.get("feed", "a") is None
    assert again.get("feed", "b") == {"last_entry": 2.0}
    assert dict(again.items("feed")) == {"b": {"last_entry": 2.0}}


def test_an_unreadable_database_is_moved_aside_and_started_afresh(tmp_path: Path) -> None:
    db = tmp_path / "xuncha.db"
    db.write_bytes(b"this is not a database" * 100)
    store = StateStore(db)
    store.put("feed", "a", {"x": 1})
    assert store.get("feed", "a") == {"x": 1}
    aside = list(tmp_path.glob("xuncha.db.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")
