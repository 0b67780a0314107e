"""The parsed registry kept in the state directory, so a restart does not parse 25 MB of YAML again.

A national registry written as one YAML file (14,000 sites with their columns, 150,000 accounts)
takes PyYAML 25-40 s to parse, even with libyaml: composing a node per scalar and constructing
the document happen in Python.  The agent was not ready, and the country unwatched, for that
long after every restart (issue 21).  The parsed document is plain data (dicts, lists, strings,
numbers), so it is kept here with :mod:`marshal` under the SHA-256 of the text it came from:
the same bytes give the same document, whatever version of the agent reads them, and a changed
file is a new key.  Validation still runs on every load; only the parse is skipped.

The cache is a convenience, never a source of truth: a missing, unreadable, truncated or
foreign file is parsed again, and a directory that cannot be written is not used.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from agent.registry import yamlsplit

log = logging.getLogger(__name__)

DIRECTORY = "registry-cache"
# Another PyYAML could construct the same text differently; another format of ours, likewise.
FORMAT = f"v1-pyyaml{yaml.__version__}"
# Below this a parse costs less than reading and writing a file.
MIN_BYTES = 1_000_000
_MAGIC = b"xuncha-registry\n"
_STATE_DIR = re.compile(r"^state_dir:[ \t]*(?P<q>['\"]?)(?P<dir>[^'\"#\n]+?)(?P=q)[ \t]*(?:#.*)?$", re.M)


def declared_state_dir(text: str) -> str | None:
    """The top-level ``state_dir:`` of a configuration's text, read before it is parsed (or None)."""
    m = _STATE_DIR.search(text)
    return m["dir"].strip() if m else None


def parsed(text: str, parse: Callable[[str], Any], state_dir: str | Path | None) -> Any:
    """``parse(text)``, or what it returned for the same text before (kept under ``state_dir``).

    A large text not kept before is parsed in pieces on every core (:mod:`agent.registry.yamlsplit`),
    and each piece is kept too: after an edit, only the pieces that changed are parsed again."""
    if len(text) < MIN_BYTES:
        return parse(text)
    if state_dir is None:
        return _in_pieces(text, parse, {}) or parse(text)
    key = _digest(text)
    folder = Path(state_dir) / DIRECTORY
    path = folder / f"{key}.{FORMAT}.marshal"
    whole = _read(path)
    if whole is not _MISSING:
        return whole
    known: dict[str, Any] = {}
    plan = yamlsplit.plan(text)
    pieces = [t for texts in plan.pieces.values() for t in texts] if plan else []
    names = {t: folder / f"piece-{_digest(t)}.{FORMAT}.marshal" for t in pieces}
    for t, name in names.items():
        value = _read(name)
        if value is not _MISSING:
            known[t] = value
    fresh = set(pieces) - set(known)
    raw = yamlsplit.parse(plan, parse, known) if plan else None
    if raw is None:
        raw, names = parse(text), {}
    else:
        log.info(
            "parsed %d of %d pieces of the registry (%d kept from before)",
            len(fresh),
            len(pieces),
            len(pieces) - len(fresh),
        )
    _keep(folder, {path: raw} | {names[t]: known[t] for t in fresh if t in names}, {p.name for p in names.values()})
    return raw


def _in_pieces(text: str, parse: Callable[[str], Any], known: dict[str, Any]) -> Any:
    plan = yamlsplit.plan(text)
    return yamlsplit.parse(plan, parse, known) if plan else None


_MISSING = object()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _read(path: Path) -> Any:
    try:
        data = path.read_bytes()
        if data.startswith(_MAGIC):
            return marshal.loads(data[len(_MAGIC) :])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, EOFError, TypeError) as e:
        log.warning("the parsed registry in %s is unreadable (%s): parsing the configuration again", path, e)
    return _MISSING


def _keep(folder: Path, files: dict[Path, Any], also: Iterable[str] = ()) -> None:
    """Write ``files`` (path: parsed value), and forget what a previous registry left, except the
    files named in ``also`` (the pieces this one still uses, named by their digest)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, raw in files.items():
            try:
                body = marshal.dumps(raw)
            except ValueError:  # a YAML timestamp or another type marshal does not know: not worth a cache
                return
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(_MAGIC + body)
            os.replace(tmp, path)  # whole or not at all
        current = {p.name for p in files} | set(also)
        for old in folder.iterdir():  # one registry at a time: the one just read
            if old.name not in current:
                old.unlink(missing_ok=True)
    except OSError as e:
        log.info("not keeping the parsed registry in %s: %s", folder, e)
