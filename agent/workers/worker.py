"""One worker process of a supervisor (agent.workers.supervisor): ``python -m agent.workers.worker``.

It reads its part of the registry from stdin (frames of ``(generation, Config)``), runs the
ordinary agent on it — scheduler, network, link checks, the shared state database — and
serves, on a Unix socket and nowhere else, the same ``/api/`` as a single agent plus:

- ``GET /-/worker/status``: which worker, which process, which targets, which configuration;

and ``GET /-/worker/exposition`` — its per-target samples, one compressed block per family, and
its probe series (agent.workers.supervisor.pack_exposition) — on a second socket (``<socket>.metrics``),
answered by a thread of its own: at national size the event loop is saturated by probes, and a
scrape waiting its turn there took seconds.

It answers on stdout (one JSON line: ``{"ready": …}`` once, ``{"applied": generation}`` per
configuration) and stops at EOF on stdin: when the supervisor closes it, or dies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import http.server
import json
import logging
import os
import signal
import socketserver
import sys
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from agent.http.server import build_app
from agent.http.web import WebGuard, WebState
from agent.limits import clip
from agent.registry.config import Config
from agent.run.runtime import Agent
from agent.workers.supervisor import (
    EXPOSITION_PATH,
    REQUEST_TIMEOUT,
    STATUS_PATH,
    metrics_socket,
    pack_exposition,
    probe_families,
    read_frame,
    unpack_view,
)

log = logging.getLogger("agent.worker")
WORKER: web.AppKey[WorkerAgent] = web.AppKey("worker")


class _Unserved(WebState):
    """A worker has no port of its own: the supervisor's carries the web configuration."""

    def load(self, settings: Any) -> WebGuard:
        self.guard = WebGuard()
        return self.guard


class WorkerAgent(Agent):
    """An agent on one worker's part of the registry, answering its supervisor over a Unix socket."""

    def __init__(self, config: Config, socket: Path, index: tuple[int, int]) -> None:
        super().__init__(None, config=config)
        self.exposition_thread: ExpositionThread | None = None
        self.web = _Unserved()
        self.socket = socket
        self.index = index
        self.generation = 0

    async def _serve(self) -> None:
        app = build_app(self)  # the same /api/ handlers, over this worker's registry and results
        app[WORKER] = self
        app.router.add_get(STATUS_PATH, status)
        self.exposition_thread = ExpositionThread(self, metrics_socket(self.socket), asyncio.get_running_loop())
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.UnixSite(self._runner, str(self.socket)).start()
        os.chmod(self.socket, 0o600)
        self.address = str(self.socket)

    async def stop(self) -> None:
        if self.exposition_thread is not None:
            await asyncio.to_thread(self.exposition_thread.close)
        await super().stop()

    async def take(self, generation: int, cfg: Config) -> None:
        """A configuration the supervisor validated: no files are read again here."""
        self._initial = cfg
        await self._apply(cfg)
        self.generation = generation
        log.info(
            "worker %d/%d: configuration %d: %d sites, %d accounts",
            *self.index,
            generation,
            len(self.config.sites),
            len(self.config.accounts),
        )


class ExpositionThread:
    """``GET /-/worker/exposition`` on its own Unix socket, answered in a thread of its own.

    The text is ready (rendered as results come, compressed here when it changed); only when
    some change is not rendered yet — a reload under way — does the thread ask the loop.
    """

    def __init__(self, worker: WorkerAgent, path: Path, loop: asyncio.AbstractEventLoop) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.worker, self.loop = worker, loop
        self.server = socketserver.UnixStreamServer(str(path), _handler(self))
        os.chmod(path, 0o600)
        self.thread = threading.Thread(target=self.server.serve_forever, name="exposition", daemon=True)
        self.thread.start()

    def body(self) -> bytes:
        w = self.worker
        if not w.exposition.ready():
            asyncio.run_coroutine_threadsafe(_refresh(w), self.loop).result(timeout=REQUEST_TIMEOUT)
        return pack_exposition(w.exposition.compressed(), probe_families(w.metrics))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def _refresh(w: WorkerAgent) -> None:
    w.exposition.refresh(w.config.sites, w.config.accounts, w.results)


def _handler(owner: ExpositionThread) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the supervisor asks once a scrape

        def do_GET(self) -> None:  # noqa: N802 — http.server's name
            if self.path != EXPOSITION_PATH:
                self.send_error(404)
                return
            try:
                body, status = owner.body(), 200
            except Exception as e:  # noqa: BLE001 — the supervisor logs it and leaves this worker out
                log.exception("exposition failed")
                body, status = clip(f"exposition failed: {e}").encode(), 500
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def address_string(self) -> str:
            return "supervisor"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — http.server's name
            pass  # the supervisor logs what matters

    return Handler


async def status(request: web.Request) -> web.Response:
    w = request.app[WORKER]
    body = {
        "worker": w.index[0],
        "workers": w.index[1],
        "pid": os.getpid(),
        "generation": w.generation,
        "healthy": w.healthy(),
        "sites": [s.code for s in w.config.sites],
        "accounts": [a.id for a in w.config.accounts],
        "jobs": w.scheduler.jobs() if w.scheduler is not None else 0,
    }
    return web.json_response(body)


class _Tag(logging.Filter):
    """``worker=<i>`` on every log line of this process (logfmt and json carry extra fields)."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.index
        return True


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _die_with_parent(parent: int) -> None:
    """SIGTERM from the kernel when the supervisor dies (Linux); EOF on stdin covers the rest."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    if parent and os.getppid() != parent:  # it died before prctl took effect
        sys.exit(0)


async def _run(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    first = await read_frame(reader)
    if first is None:
        return 0
    generation, packed = first
    w = WorkerAgent(unpack_view(packed), Path(args.socket), args.worker)
    w.generation = generation
    await w.start()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    _say({"ready": os.getpid(), "targets": [len(w.config.sites), len(w.config.accounts)]})

    async def commands() -> None:
        while True:
            message = await read_frame(reader)
            if message is None:
                log.info("worker %d/%d: supervisor gone (stdin closed); stopping", *args.worker)
                stop.set()
                return
            gen, new = message
            try:
                await w.take(gen, unpack_view(new))
                _say({"applied": gen})
            except Exception as e:  # noqa: BLE001 — reported to the supervisor, which logs it
                log.exception("worker %d/%d: configuration %d not applied", *args.worker, gen)
                _say({"applied": gen, "errors": [clip(str(e))]})

    task = asyncio.create_task(commands(), name="supervisor")
    try:
        await stop.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await w.stop()
    return 0


def _load(path: str, split: argparse.Namespace | None) -> int:
    """For agent.workers.supervisor.load_split: ("config", what was read) or ("error", issues), pickled."""
    import pickle

    from agent.registry import config as config_mod
    from agent.workers.supervisor import split_packed

    try:
        cfg = config_mod.load(path, parse_cache=True, state_dir=split.state_dir if split else None)
        value = cfg if split is None else split_packed(cfg, split.workers, split.shard, split.state_dir)
        message: tuple[str, Any] = ("config", value)
    except config_mod.ConfigError as e:
        message = ("error", e.issues)
    sys.stdout.buffer.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    from agent import logs
    from agent.http.web import raise_nofile_limit
    from agent.workers.shard import parse_shard

    p = argparse.ArgumentParser(prog="xuncha-worker")
    p.add_argument("--load", help="only read and validate this configuration; write it pickled to stdout")
    p.add_argument(
        "--workers", help="with --load: split it for auto or N worker processes (agent.workers.supervisor.load_split)"
    )
    p.add_argument("--shard", type=parse_shard, default=(0, 1), help="with --workers: this agent's shard, i/n")
    p.add_argument(
        "--state-dir", dest="state_dir", help="with --workers: the state directory given on the command line"
    )
    p.add_argument("--worker", type=parse_shard, help="i/n")
    p.add_argument("--socket")
    p.add_argument("--parent", type=int, default=0)
    p.add_argument("--log.level", dest="log_level", default="info")
    p.add_argument("--log.format", dest="log_format", default="logfmt")
    args = p.parse_args(argv)
    if args.load:
        if args.workers is not None:
            args.workers = None if args.workers == "auto" else int(args.workers)
            return _load(args.load, args)
        return _load(args.load, None)
    if args.worker is None or args.socket is None:
        p.error("--worker and --socket are required")
    # Ctrl-C reaches the whole process group: the supervisor decides, and closes our stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _die_with_parent(args.parent)
    handler = logs.setup(args.log_level, args.log_format)
    handler.addFilter(_Tag(args.worker[0]))
    raise_nofile_limit()
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
