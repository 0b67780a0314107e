"""A small, synchronous Prometheus HTTP API client (``/api/v1/query`` and ``query_range``)."""

from __future__ import annotations

import base64
import json
import math
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol


class PrometheusError(RuntimeError):
    """Prometheus could not be reached, or refused a query; the message says which and why."""


class Querier(Protocol):
    """What the report needs from Prometheus (tests and the bench swap in their own)."""

    def instant(self, query: str, at: float) -> list[tuple[dict[str, str], float]]: ...

    def range(
        self, query: str, start: float, end: float, step: float
    ) -> list[tuple[dict[str, str], list[tuple[float, float]]]]: ...


@dataclass
class Prometheus:
    """The Prometheus API at ``url``; ``username``/``password`` for basic auth, ``ca_file`` for https."""

    url: str
    timeout: float = 120.0
    workers: int = 4
    username: str | None = None
    password: str = ""
    ca_file: str | None = None

    def _get(self, path: str, params: dict[str, str]) -> Any:
        # POST: the report's queries name hundreds of offenders and outgrow a URL.
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.username:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        request = urllib.request.Request(
            self.url.rstrip("/") + path, data=urllib.parse.urlencode(params).encode(), headers=headers
        )
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as resp:  # noqa: S310 — the configured Prometheus
                body = json.load(resp)
        except urllib.error.HTTPError as e:
            try:
                detail = json.load(e).get("error", "")
            except ValueError:
                detail = ""
            raise PrometheusError(
                f"Prometheus at {self.url} refused a query (HTTP {e.code}): {detail or e.reason}\n"
                f"  query: {params.get('query', '')}"
            ) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {reason}") from None
        except ValueError as e:
            raise PrometheusError(f"Prometheus at {self.url} did not answer JSON: {e}") from None
        if body.get("status") != "success":
            raise PrometheusError(f"Prometheus at {self.url}: {body.get('error', body)}")
        return body["data"]

    def instant(self, query: str, at: float) -> list[tuple[dict[str, str], float]]:
        data = self._get("/api/v1/query", {"query": query, "time": _ts(at)})
        return [(r["metric"], float(r["value"][1])) for r in data["result"] if _finite(r["value"][1])]

    def range(
        self, query: str, start: float, end: float, step: float
    ) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        data = self._get(
            "/api/v1/query_range", {"query": query, "start": _ts(start), "end": _ts(end), "step": _ts(step)}
        )
        return [(r["metric"], [(float(t), float(v)) for t, v in r["values"] if _finite(v)]) for r in data["result"]]

    def many(self, calls: Iterable[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """Run (method, args) calls concurrently; results in order (the first error is raised)."""
        calls = list(calls)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = [pool.submit(getattr(self, name), *args) for name, args in calls]
            return [f.result() for f in futures]


def _ts(x: float) -> str:
    return f"{x:.3f}"


def _finite(v: str) -> bool:
    return math.isfinite(float(v))
