"""Real Prometheus and Alertmanager on loopback for tests, and a webhook receiver that records what arrives."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

from agent.demo.hostile import free_port

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
PROMETHEUS = "/usr/bin/prometheus"


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


# Time intervals that make the shipped office hours always open, or never: the tests do not
# depend on the wall clock (the shipped definition is checked on its own).
ALWAYS = [{"times": [{"start_time": "00:00", "end_time": "24:00"}]}]
NEVER = [{"years": ["2000"]}]


def _localised(shipped: Path, *, wait: str, office_hours: bool) -> dict[str, Any]:
    cfg = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    cfg["templates"] = [str(shipped.parent / t) for t in cfg.get("templates", [])]
    for interval in cfg.get("time_intervals", []):
        interval["time_intervals"] = ALWAYS if office_hours else NEVER
    cfg["route"].update(group_wait=wait, group_interval=wait)
    return dict(cfg)


def local_alertmanager_config(
    shipped: Path, webhook_url: str, *, wait: str = "1s", office_hours: bool = True
) -> dict[str, Any]:
    """The shipped config, its receivers pointed at ``webhook_url/<receiver>`` (webhooks only),
    its waits shortened and its office hours always open (or never, ``office_hours=False``)."""
    cfg = _localised(shipped, wait=wait, office_hours=office_hours)
    for receiver in cfg["receivers"]:
        for channel in [k for k in receiver if k.endswith("_configs")]:
            del receiver[channel]
        receiver["webhook_configs"] = [{"url": f"{webhook_url}/{receiver['name']}", "send_resolved": True}]
    return cfg


def channel_alertmanager_config(
    shipped: Path, *, wecom_url: str, relay_url: str, smtp: str, wait: str = "1s", office_hours: bool = True
) -> dict[str, Any]:
    """The shipped config with its real channels kept, pointed at loopback stand-ins: the WeCom
    API (``wechat_api_url``), the DingTalk relay (``http://dingtalk:8060`` → ``relay_url``) and
    an SMTP server without TLS or authentication."""
    cfg = _localised(shipped, wait=wait, office_hours=office_hours)
    g = cfg["global"]
    g["wechat_api_url"] = wecom_url
    g.update(smtp_smarthost=smtp, smtp_require_tls=False)
    g.pop("smtp_auth_username", None)
    g.pop("smtp_auth_password", None)
    for receiver in cfg["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = hook["url"].replace("http://dingtalk:8060", relay_url)
    return cfg


@dataclass
class Recorder:
    """A loopback HTTP server recording every request (method, path, query, JSON body).

    ``wecom=True`` answers as the WeCom API does (``gettoken``, then ``message/send``), so
    Alertmanager's own ``wechat_configs`` can talk to it; otherwise it answers 200 "ok" like
    prometheus-webhook-dingtalk."""

    wecom: bool = False
    received: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> Recorder:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def _any(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        if self.wecom and request.path.endswith("/gettoken"):
            return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": "test-token", "expires_in": 7200})
        async with self._arrived:
            self.received.append((request.method, request.path, dict(request.query), body))
            self._arrived.notify_all()
        return web.json_response({"errcode": 0, "errmsg": "ok"}) if self.wecom else web.Response(text="ok")

    async def wait_for(self, count: int, timeout: float) -> bool:
        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.received) >= count), timeout)
            except TimeoutError:
                return False
        return True

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()


@dataclass
class SmtpSink:
    """A minimal SMTP server on loopback (no TLS, no AUTH) keeping every message it accepts."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    address: str = ""
    _server: asyncio.Server | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> SmtpSink:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender, rcpts = "", []

        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        try:
            await say("220 sink ESMTP")
            while line := await reader.readline():
                verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    await say("250-sink\r\n250 8BITMIME")
                elif verb == "MAIL":
                    sender, rcpts = line.decode().split(":", 1)[1].strip(), []
                    await say("250 ok")
                elif verb == "RCPT":
                    rcpts.append(line.decode().split(":", 1)[1].strip())
                    await say("250 ok")
                elif verb == "DATA":
                    await say("354 go on")
                    data = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        data += chunk
                    async with self._arrived:
                        self.messages.append((sender, rcpts, bytes(data)))
                        self._arrived.notify_all()
                    await say("250 queued")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                else:
                    await say("250 ok")
        finally:
            writer.close()

    async def wait_for(self, count: int, timeout: float) -> bool:
        async with self._arrived:
            try:
                await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.messages) >= count), timeout)
            except TimeoutError:
                return False
        return True

    async def close(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()


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
    return await _start(
        [
            ALERTMANAGER,
            f"--config.file={path}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        f"http://127.0.0.1:{port}",
        workdir / "alertmanager.log",
    )


async def start_prometheus(config: dict[str, Any], workdir: Path, rule_files: dict[str, str]) -> Process:
    """Prometheus with ``config`` (its ``rule_files`` set to the given files, written into ``workdir``)."""
    config = {**config, "rule_files": [str(_write(workdir / n, t)) for n, t in rule_files.items()]}
    path = _write(workdir / "prometheus.yml", _yaml(config))
    port = free_port()
    return await _start(
        [
            PROMETHEUS,
            f"--config.file={path}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ],
        f"http://127.0.0.1:{port}",
        workdir / "prometheus.log",
    )


async def get_json(url: str, **params: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as r:
        r.raise_for_status()
        return await r.json()


async def post_json(url: str, body: Any) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=json.dumps(body), headers={"Content-Type": "application/json"}) as r,
    ):
        r.raise_for_status()


@contextlib.asynccontextmanager
async def running(*procs: Process) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for p in procs:
            await p.stop()
