"""Log formats (``--log.format logfmt|json``, as Prometheus has) and flood control.

- ``logfmt`` (default) and ``json`` lines carry ``ts``, ``level``, ``logger``, ``msg`` and
  any ``extra`` fields (the access log's remote, user, method, path, status).
- Every message is clipped (:data:`MAX_MESSAGE`): an error text quoting a hostile page or
  a 7 MB YAML value must not become a 7 MB log line.
- A repeated message (same logger, level and format string) is let through a few times per
  window, then counted and summarised: "Too many open files" once wrote 55 MB in 40 s.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from agent.limits import clip

MAX_MESSAGE = 4096
MAX_TRACEBACK = 8192
FORMATS = ("logfmt", "json")

# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    ms = int(record.msecs)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{ms:03d}Z"


class _Base(logging.Formatter):
    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": clip(record.getMessage(), MAX_MESSAGE),
        }
        for key, value in _extras(record).items():
            out[key] = clip(value, 512) if isinstance(value, str) else value
        if record.exc_info:
            out["error"] = clip(self.formatException(record.exc_info), MAX_TRACEBACK)
        return out


class JsonFormatter(_Base):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.fields(record), ensure_ascii=False, default=str)


class LogfmtFormatter(_Base):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_logfmt_value(v)}" for k, v in self.fields(record).items())


def _logfmt_value(v: Any) -> str:
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    if text and not any(c in text for c in ' "=\\\n\t') and text.isprintable():
        return text
    return json.dumps(text, ensure_ascii=False)


class FloodFilter(logging.Filter):
    """At most ``burst`` records per (logger, level, format string) per ``window`` seconds."""

    def __init__(self, burst: int = 10, window: float = 10.0, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.burst, self.window, self._clock = burst, window, clock
        self._seen: dict[tuple[str, int, str], list[float]] = {}  # key → [window start, count, suppressed]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg)[:200])
        now = self._clock()
        state = self._seen.get(key)
        if state is None or now - state[0] >= self.window:
            suppressed = int(state[2]) if state else 0
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = [now, 1, 0]
            if suppressed:
                record.msg = f"{record.msg} (and {suppressed} more like it in the last {self.window:g}s, not logged)"
            return True
        state[1] += 1
        if state[1] <= self.burst:
            return True
        state[2] += 1
        return False


def setup(level: str = "info", fmt: str = "logfmt", stream: Any = None) -> logging.Handler:
    """Configure the root logger: one handler on stderr with the chosen format and flood filter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    handler.addFilter(FloodFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    return handler
