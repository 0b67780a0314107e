"""Serious wrong expressions (严重表述错误), matched fast.

The shipped dictionary is ``probes/data/wrong_expressions.tsv`` (wrong, right,
note); more files with the same format can be added with :func:`load`.  All
wrong forms are compiled into one regular-expression alternation (longest
first), so matching a page is one pass over its text whatever the size of the
dictionary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

MAX_HITS = 50
CONTEXT = 12


@dataclass(frozen=True, slots=True)
class Entry:
    wrong: str
    right: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Dictionary:
    entries: dict[str, Entry]
    pattern: re.Pattern[str] | None

    def find(self, text: str, where: str = "homepage") -> list[dict[str, Any]]:
        """Every match in ``text`` (up to ``MAX_HITS``) with a little context."""
        if self.pattern is None:
            return []
        hits = []
        for m in self.pattern.finditer(text):
            e = self.entries[m.group(0)]
            context = text[max(0, m.start() - CONTEXT) : m.end() + CONTEXT].replace("\n", " ")
            hits.append({"wrong": e.wrong, "right": e.right, "note": e.note, "where": where, "context": context})
            if len(hits) >= MAX_HITS:
                break
        return hits


def parse_tsv(text: str, source: str = "") -> tuple[list[Entry], list[str]]:
    """Entries and problems (each naming the line) of one dictionary file."""
    entries, problems = [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
            problems.append(f"{source}:{n}: want wrong<TAB>right[<TAB>note]")
            continue
        wrong, right = parts[0].strip(), parts[1].strip()
        if wrong in right:
            # Would fire on correct text: the whole point of the dictionary is no false alarms.
            problems.append(f"{source}:{n}: {wrong!r} is part of the correct {right!r}")
            continue
        entries.append(Entry(wrong, right, parts[2].strip() if len(parts) > 2 else ""))
    return entries, problems


def build(entries: Iterable[Entry]) -> Dictionary:
    table = {e.wrong: e for e in entries}
    if not table:
        return Dictionary({}, None)
    alternation = "|".join(re.escape(w) for w in sorted(table, key=len, reverse=True))
    return Dictionary(table, re.compile(alternation))


def load(*paths: str | Path) -> tuple[Dictionary, list[str]]:
    """The shipped dictionary plus ``paths``; problems are returned, bad lines skipped."""
    entries, problems = parse_tsv(_shipped(), "wrong_expressions.tsv")
    for path in paths:
        try:
            more, p = parse_tsv(Path(path).read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as e:
            problems.append(f"{path}: cannot read: {e}")
            continue
        entries += more
        problems += p
    return build(entries), problems


def _shipped() -> str:
    return resources.files("probes").joinpath("data/wrong_expressions.tsv").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def default() -> Dictionary:
    return load()[0]


@lru_cache(maxsize=8)
def for_paths(paths: tuple[str, ...]) -> Dictionary:
    """The shipped dictionary plus ``content.dictionaries``, loaded once per set of paths."""
    return load(*paths)[0] if paths else default()
