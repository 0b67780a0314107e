"""Real Prometheus and Alertmanager on loopback for tests, and a webhook receiver that records what arrives."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
PROMETHEUS = "/usr/bin/prometheus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Webhook:
    """An Alertmanager webhook receiver: every POST body, by path (one path per receiver)."""

    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` notifications have arrived; False on timeout."""
        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.received) >= count), timeout)
            except TimeoutError:
                return False
        return True

    async def start(self) -> Webhook:
        app = web.Application()
        app.router.add_post("/{receiver}", self._post)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        async with self._arrived:
            self.received.append((request.match_info["receiver"], body))
            self._arrived.notify_all()
        return web.Response(text="ok")

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def alerts(self, status: str = "firing") -> list[tuple[str, dict[str, Any]]]:
        """(receiver, alert) for every alert with ``status`` in every notification so far."""
        return [(r, a) for r, p in self.received for a in p["alerts"] if a["status"] == status]


def local_alertmanager_config(shipped: Path, webhook_url: str, *, wait: str = "1s") -> dict[str, Any]:
    """The shipped config, its receivers pointed at ``webhook_url/<receiver>`` and its waits shortened."""
    cfg = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    for receiver in cfg["receivers"]:
        receiver["webhook_configs"] = [{"url": f"{webhook_url}/{receiver['name']}", "send_resolved": True}]
    cfg["route"].update(group_wait=wait, group_interval=wait)
    return dict(cfg)


@dataclass
class Process:
    proc: asyncio.subprocess.Process
    url: str
    log: Path

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def _start(args: list[str], url: str, log: Path, ready_path: str = "/-/ready", timeout: float = 30) -> Process:
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*args, stdout=out, stderr=subprocess.STDOUT)
    p = Process(proc, url, log)
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"{args[0]} exited {proc.returncode}:\n{_read(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + ready_path) as r:
                    if r.status == 200:
                        return p
            await asyncio.sleep(0.2)
    await p.stop()
    raise RuntimeError(f"{args[0]} not ready in {timeout}s:\n{_read(log)}")


def _read(path: Path) -> str:
    return path.read_text(errors="replace")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


async def start_alertmanager(config: dict[str, Any], workdir: Path) -> Process:
    path = _write(workdir / "alertmanager.yml", _yaml(config))
    port = free_port()
    return await _start([
        ALERTMANAGER, f"--config.file={path}", f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
    ], f"http://127.0.0.1:{port}", workdir / "alertmanager.log")


async def start_prometheus(config: dict[str, Any], workdir: Path, rule_files: dict[str, str]) -> Process:
    """Prometheus with ``config`` (its ``rule_files`` set to the given files, written into ``workdir``)."""
    config = {**config, "rule_files": [str(_write(workdir / n, t)) for n, t in rule_files.items()]}
    path = _write(workdir / "prometheus.yml", _yaml(config))
    port = free_port()
    return await _start([
        PROMETHEUS, f"--config.file={path}", f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle",
    ], f"http://127.0.0.1:{port}", workdir / "prometheus.log")


async def get_json(url: str, **params: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as r:
        r.raise_for_status()
        return await r.json()


async def post_json(url: str, body: Any) -> None:
    async with aiohttp.ClientSession() as session, session.post(url, data=json.dumps(body),
                                                                headers={"Content-Type": "application/json"}) as r:
        r.raise_for_status()


@contextlib.asynccontextmanager
async def running(*procs: Process) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for p in procs:
            await p.stop()
