"""A national registry's YAML parsed in pieces, on every core, each piece kept on its own.

PyYAML spends ~20 µs a node composing and constructing a document, even with libyaml: a 22 MB
registry (14,000 sites with their columns, 150,000 accounts: 2.2 million nodes) took 26 s of one
core, and the agent's first start (or its first start after the file was edited) waited for it
(issue 21).  Such a file is almost all of one shape — a top-level ``sites:`` or ``accounts:``
block sequence of small mappings — and the items of a block sequence can be parsed apart:

* :func:`plan` finds the two sequences in the text and cuts each into pieces of
  :data:`CHUNK_ITEMS` items at the lines where an item starts (``<indent>- `` at the sequence's
  own indentation).  It refuses (returns None) any text it is not sure of: a document marker or
  directive, a section written twice, a line in a sequence less indented than its items, or a
  line at the items' indentation that does not start one;
* each piece is parsed as a document of its own (the same safe loader, alias bombs refused per
  piece) in a pool of processes, and the rest of the file (the settings, with each sequence
  replaced by ``[]``) once;
* a piece that does not parse to exactly its items — an alias to an anchor in another piece, a
  quoted string running over an item's start — makes the whole text parse as one document, as
  before, so errors are reported as they always were, with the file's own line numbers.

:mod:`agent.registry.parsecache` keeps each piece under its own digest: after an edit, a restart
parses only the pieces that changed.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SECTIONS = ("sites", "accounts")
CHUNK_ITEMS = 4_000  # items a piece: 4 pieces of sites and 38 of accounts for the country
MIN_ITEMS = 2 * CHUNK_ITEMS  # fewer: one parse costs less than starting processes
MAX_PROCESSES = 4

_MARKERS = re.compile(r"^(?:---|\.\.\.|%)", re.M)
_NEXT_TOP = re.compile(r"^(?=[^\s#-])", re.M)  # a top-level key (or anything at column 0 but '-' and comments)


@dataclass(frozen=True, slots=True)
class Plan:
    skeleton: str  # the text with each planned sequence written as ``<key>: []``
    pieces: dict[str, list[str]]  # per section, the text of each piece, in order
    counts: dict[str, list[int]]  # per section, the items in each piece


def plan(text: str) -> Plan | None:
    """Where ``text`` can be cut, or None when it cannot be cut safely (or is not worth it)."""
    if _MARKERS.search(text):
        return None
    cuts: list[tuple[int, int, str]] = []  # (start of the key's line, end of its body, key)
    pieces: dict[str, list[str]] = {}
    counts: dict[str, list[int]] = {}
    for key in SECTIONS:
        found = list(re.finditer(rf"^{key}:[ \t]*(?:#[^\n]*)?\n", text, re.M))
        if len(found) != 1:
            continue  # absent, or written twice (the last would win): not ours to cut
        head = found[0]
        nxt = _NEXT_TOP.search(text, head.end())
        end = nxt.start() if nxt else len(text)
        split = _items(text, head.end(), end)
        if split is None:
            return None
        if len(split) - 1 < CHUNK_ITEMS:
            continue
        starts = split[:-1]
        bounds = [*starts[::CHUNK_ITEMS], end]
        pieces[key] = [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        counts[key] = [min(CHUNK_ITEMS, len(starts) - i) for i in range(0, len(starts), CHUNK_ITEMS)]
        cuts.append((head.start(), end, key))
    if sum(sum(c) for c in counts.values()) < MIN_ITEMS:
        return None
    skeleton = text
    for start, end, key in sorted(cuts, reverse=True):
        skeleton = skeleton[:start] + f"{key}: []\n" + skeleton[end:]
    return Plan(skeleton, pieces, counts)


def _items(text: str, start: int, end: int) -> list[int] | None:
    """The offsets where the sequence's items start, and ``end``; None when a line does not fit."""
    body = text[start:end]
    first = re.search(r"^( *)-(?: |$)", body, re.M)
    if first is None:
        return None
    indent = len(first[1])
    if re.search(r"^[^\S\n]*[^\s#]", body[: first.start()], re.M):
        return None  # something other than comments before the first item
    rest = body[first.start() :]
    # every line less indented than the items, or at their indentation but not an item: refuse
    if indent and re.search(rf"^ {{0,{indent - 1}}}[^\s#]", rest, re.M):
        return None
    if re.search(rf"^ {{{indent}}}(?:[^\s#-]|-[^ \n])", rest, re.M) or "\t" in rest:
        return None
    offsets = [start + first.start() + m.start() for m in re.finditer(rf"^ {{{indent}}}-(?: |$)", rest, re.M)]
    return [*offsets, end]


def parse(plan_: Plan, parse_one: Callable[[str], Any], known: dict[str, Any]) -> dict[str, Any] | None:
    """The document ``plan_`` was cut from, parsed in pieces (``known``: pieces parsed before, by
    their text; filled with the new ones); None when a piece did not parse to its own items."""
    settings = _safe(parse_one, plan_.skeleton)
    if not isinstance(settings, dict):
        return None
    todo = [p for key in plan_.pieces for p in plan_.pieces[key] if p not in known]
    for text, value in zip(todo, _parse_all(todo, parse_one), strict=True):
        known[text] = value
    for key, texts in plan_.pieces.items():
        if settings.get(key) != []:
            return None
        items: list[Any] = []
        for text, count in zip(texts, plan_.counts[key], strict=True):
            value = known[text]
            if not isinstance(value, list) or len(value) != count:
                return None
            items.extend(value)
        settings[key] = items
    return settings


_FAILED = object()


def _safe(parse_one: Callable[[str], Any], text: str) -> Any:
    try:
        return parse_one(text)
    except Exception:  # noqa: BLE001 — any failure: the whole text is parsed as one, and says why
        return _FAILED


_WORKER_PARSE: Callable[[str], Any] | None = None  # the pool's processes are forked with it set


def _in_worker(text: str) -> Any:
    assert _WORKER_PARSE is not None
    value = _safe(_WORKER_PARSE, text)
    return None if value is _FAILED else value


def _parse_all(texts: list[str], parse_one: Callable[[str], Any]) -> list[Any]:
    global _WORKER_PARSE
    processes = min(MAX_PROCESSES, _cores(), len(texts))
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [v if (v := _safe(parse_one, t)) is not _FAILED else None for t in texts]
    _WORKER_PARSE = parse_one
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return pool.map(_in_worker, texts, chunksize=1)
    finally:
        _WORKER_PARSE = None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
