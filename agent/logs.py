"""Log formats (``--log.format logfmt|json``, as Prometheus has) and flood control.

- ``logfmt`` (default) and ``json`` lines carry ``ts``, ``level``, ``logger``, ``msg`` and
  any ``extra`` fields (the access log's remote, user, method, path, status).
- Every message is clipped (:data:`MAX_MESSAGE`): an error text quoting a hostile page or
  a 7 MB YAML value must not become a 7 MB log line.
- A repeated message is let through a few times per window, then counted and summarised on
  its own line when the window ends (:class:`FloodFilter`): "Too many open files" once wrote
  55 MB in 40 s.  Access-log lines repeat per (client, method, path, status, user).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
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
    """At most ``burst`` records per key per ``window`` seconds; then one summary line per key.

    The key of an access-log record (one carrying ``method`` and ``status``) is (client, method,
    path, status, user): 200 refused ``POST /-/reload`` from one client are one burst, and a
    second client's refusals are not hidden behind them (issue 20: 等保 audits read this log,
    and one key for every access line wrote none of a flood's refusals).  Other records are
    keyed by (logger, level, format string): "Too many open files" once wrote 55 MB in 40 s.

    What was held back is written as its own line, with the key's fields and the count
    (``suppressed``), when the key's window ends: by a timer (``schedule``), or at the latest
    when the key's next record arrives.  Nothing is counted only in memory for long.
    """

    def __init__(
        self,
        burst: int = 10,
        window: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        emit: Callable[[logging.LogRecord], object] | None = None,
        schedule: Callable[[float, Callable[[], None]], None] | None = None,
    ) -> None:
        super().__init__()
        self.burst, self.window, self._clock = burst, window, clock
        self._emit = emit or _through_logger
        self._schedule = schedule
        self._timer_due = False
        self._lock = threading.Lock()
        self._seen: dict[tuple[Any, ...], _Burst] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_flood_summary", False):
            return True
        key = _flood_key(record)
        now = self._clock()
        with self._lock:
            burst = self._seen.get(key)
            due: list[_Burst] = []
            if burst is not None and now - burst.start >= self.window:
                del self._seen[key]
                due += [burst] if burst.suppressed else []
                burst = None
            if burst is None:
                if len(self._seen) >= _MAX_KEYS:
                    due += self._take(now, everything=True)
                self._seen[key] = _Burst(now, record)
                passed = True
            else:
                burst.count += 1
                passed = burst.count <= self.burst
                if not passed:
                    burst.hold(record)
                    self._arm(burst.start + self.window - now)
        for held in due:
            self._emit(held.summary(self.window))
        return passed

    def flush(self) -> None:
        """Write the summary of every burst whose window has ended (the timer calls this)."""
        with self._lock:
            self._timer_due = False
            due = self._take(self._clock(), everything=False)
            pending = [b.start + self.window for b in self._seen.values() if b.suppressed]
            if pending:
                self._arm(min(pending) - self._clock())
        for held in due:
            self._emit(held.summary(self.window))

    def _take(self, now: float, everything: bool) -> list[_Burst]:
        ended = [k for k, b in self._seen.items() if everything or now - b.start >= self.window]
        taken = [self._seen.pop(k) for k in ended]
        return [b for b in taken if b.suppressed]

    def _arm(self, delay: float) -> None:
        if self._schedule is not None and not self._timer_due:
            self._timer_due = True
            self._schedule(max(delay, 0.0) + 0.05, self.flush)


_MAX_KEYS = 10_000
_ACCESS_FIELDS = ("remote", "method", "path", "status", "user")


def _flood_key(record: logging.LogRecord) -> tuple[Any, ...]:
    if hasattr(record, "method") and hasattr(record, "status"):
        return (record.name, *(getattr(record, f, "") for f in _ACCESS_FIELDS))
    return (record.name, record.levelno, str(record.msg)[:200])


class _Burst:
    """One key's window: when it began, how many came, and what was held back."""

    __slots__ = ("start", "count", "suppressed", "first", "last", "sample")

    def __init__(self, start: float, record: logging.LogRecord) -> None:
        self.start, self.count, self.suppressed = start, 1, 0
        self.first = self.last = record.created
        self.sample = record

    def hold(self, record: logging.LogRecord) -> None:
        if not self.suppressed:
            self.first, self.sample = record.created, record
        self.suppressed += 1
        self.last = record.created

    def summary(self, window: float) -> logging.LogRecord:
        s = self.sample
        extra = {f: getattr(s, f) for f in _ACCESS_FIELDS if hasattr(s, f)}
        what = str(s.msg)[:200] if not extra else " ".join(str(extra.get(f, "-")) for f in _ACCESS_FIELDS)
        record = logging.LogRecord(
            s.name,
            s.levelno,
            s.pathname,
            s.lineno,
            "%d more like this not logged (over %gs, from %s to %s): %s",
            (self.suppressed, window, _iso(self.first), _iso(self.last), what),
            None,
        )
        record.__dict__.update(extra, suppressed=self.suppressed, _flood_summary=True)
        return record


def _iso(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created % 1 * 1000):03d}Z"


def _through_logger(record: logging.LogRecord) -> None:
    logging.getLogger(record.name).handle(record)


def start_timer(delay: float, callback: Callable[[], None]) -> None:
    t = threading.Timer(delay, callback)
    t.daemon = True  # a summary still pending at exit is lost, never a hang
    t.start()


def setup(level: str = "info", fmt: str = "logfmt", stream: Any = None) -> logging.Handler:
    """Configure the root logger: one handler on stderr with the chosen format and flood filter."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    handler.addFilter(FloodFilter(emit=handler.handle, schedule=start_timer))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    return handler
