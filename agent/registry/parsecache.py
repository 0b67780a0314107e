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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

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
    """``parse(text)``, or what it returned for the same text before (kept under ``state_dir``)."""
    if state_dir is None or len(text) < MIN_BYTES:
        return parse(text)
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    folder = Path(state_dir) / DIRECTORY
    path = folder / f"{key}.{FORMAT}.marshal"
    try:
        data = path.read_bytes()
        if data.startswith(_MAGIC):
            return marshal.loads(data[len(_MAGIC) :])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, EOFError, TypeError) as e:
        log.warning("the parsed registry in %s is unreadable (%s): parsing the configuration again", path, e)
    raw = parse(text)
    _keep(folder, path, raw)
    return raw


def _keep(folder: Path, path: Path, raw: Any) -> None:
    try:
        body = marshal.dumps(raw)
    except ValueError:  # a YAML timestamp or another type marshal does not know: not worth a cache
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(_MAGIC + body)
        os.replace(tmp, path)  # whole or not at all
        for old in folder.iterdir():  # one registry at a time: the one just read
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as e:
        log.info("not keeping the parsed registry in %s: %s", folder, e)
