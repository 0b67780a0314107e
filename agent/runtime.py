"""The running agent: configuration, state, scheduler and HTTP server wired together.

Start-up loads the configuration and fails fast on an invalid one.  A reload
(SIGHUP, ``POST /-/reload``, or a configuration file changing on disk) that
fails validation keeps the running registry and sets
``xuncha_config_last_reload_successful 0``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import time
from pathlib import Path

from aiohttp import web
from prometheus_client import CollectorRegistry, disable_created_metrics

from agent import config as config_mod
from agent.collector import TargetExposition, XunchaCollector
from agent.config import Config, ConfigError
from agent.results import ResultStore
from agent.scheduler import Scheduler
from agent.selfmetrics import SelfMetrics
from agent.server import build_app
from agent.state import StateStore
from probes.addresses import policy_of
from probes.context import ProbeContext
from probes.links import LinkChecks
from probes.net import Network

log = logging.getLogger(__name__)

# `_created` series double the exposition and no rule or dashboard uses them.
disable_created_metrics()

WATCH_INTERVAL = 2.0  # seconds between checks of the configuration files' mtimes


def shard_view(cfg: Config, shard: tuple[int, int]) -> Config:
    """The part of the registry this agent probes: stable by site code and account id."""
    index, count = shard
    if count <= 1:
        return cfg
    from agent.shard import in_shard

    return dataclasses.replace(
        cfg,
        sites=tuple(s for s in cfg.sites if in_shard(s.code, index, count)),
        accounts=tuple(a for a in cfg.accounts if in_shard(a.id, index, count)),
    )


class Agent:
    """``await agent.start()`` … ``await agent.stop()``; or ``await agent.serve_forever()``."""

    def __init__(self, config_path: str | Path | None, *, config: Config | None = None,
                 shard: tuple[int, int] = (0, 1), listen: str | None = None,
                 state_dir: str | None = None, watch_interval: float = WATCH_INTERVAL) -> None:  # fmt: skip
        self.config_path = Path(config_path) if config_path else None
        self.shard = shard
        self._listen_override = listen
        self._state_dir_override = state_dir
        self._watch_interval = watch_interval
        self._initial = config
        self.results = ResultStore()
        self.registry = CollectorRegistry(auto_describe=False)
        self.metrics = SelfMetrics(self.registry)
        self.registry.register(XunchaCollector(self))
        self.exposition = TargetExposition()
        self.reload_successful = True
        self.reload_success_timestamp = 0.0
        self.config: Config = Config()
        self.state: StateStore | None = None
        self.net: Network | None = None
        self.scheduler: Scheduler | None = None
        self._scheduler_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._mtimes: dict[Path, float] = {}
        self.links: LinkChecks | None = None  # the link checks' cache and bounds, kept across reloads
        self._retiring: dict[asyncio.Task[None], Network] = {}  # earlier configurations' networks, closing
        self._reload_lock = asyncio.Lock()
        self._stopped = asyncio.Event()
        self.address = ""  # host:port actually bound

    # --- lifecycle -------------------------------------------------------------

    def _load(self) -> Config:
        if self._initial is not None and self.config_path is None:
            return self._initial
        assert self.config_path is not None
        return config_mod.load(self.config_path)

    async def start(self) -> None:
        full = self._load()  # ConfigError propagates: fail fast at start-up
        try:
            self.state = StateStore(Path(self._state_dir_override or full.state_dir) / "xuncha.db")
            self._activate(full)
            self.scheduler = Scheduler(self.results, self.metrics)
            assert self.net is not None
            self.scheduler.apply(self._context())
            self._scheduler_task = asyncio.create_task(self.scheduler.run(), name="scheduler")
            await self._serve()
            if self.config_path is not None:
                self._mtimes = self._file_mtimes()
                self._watch_task = asyncio.create_task(self._watch(), name="config watcher")
        except BaseException:
            await self.stop()  # clean up a partial start
            raise
        log.info("xuncha started: %d sites, %d accounts (shard %d/%d), listening on %s",
                 len(self.config.sites), len(self.config.accounts), *self.shard, self.address)  # fmt: skip

    def _activate(self, full: Config) -> None:
        self.config = shard_view(full, self.shard)
        self.net = Network(full.dns, full.tls, full.http,
                           policy=policy_of(full.links.allow_networks, self._listen_override or full.listen))
        self.links = LinkChecks.of(full.links) if self.links is None else self.links.with_bounds(full.links)
        self.reload_successful = True
        self.reload_success_timestamp = time.time()

    def _context(self) -> ProbeContext:
        assert self.net is not None and self.state is not None
        return ProbeContext(config=self.config, net=self.net, state=self.state, links=self.links)

    async def _serve(self) -> None:
        listen = self._listen_override or self.config.listen
        host, _, port = listen.rpartition(":")
        self._runner = web.AppRunner(build_app(self), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host.strip("[]") or "0.0.0.0", int(port))
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        bound = sockets[0].getsockname() if sockets else (host, port)
        self.address = f"{bound[0]}:{bound[1]}"

    def healthy(self) -> bool:
        return self._scheduler_task is not None and not self._scheduler_task.done()

    async def reload(self) -> tuple[bool, list[str]]:
        """Load the configuration again; on failure keep the running one."""
        async with self._reload_lock:
            try:
                full = await asyncio.to_thread(self._load)
            except ConfigError as e:
                self.reload_successful = False
                errors = [str(i) for i in e.issues]
                log.error("reload failed; keeping the running configuration:\n  %s", "\n  ".join(errors))
                return False, errors
            old_net = self.net
            self._activate(full)
            assert self.scheduler is not None
            self.scheduler.apply(self._context())
            self._mtimes = self._file_mtimes()
            if old_net is not None:
                # Probes in flight still use the old network; it closes when the last one ends.
                task = asyncio.create_task(old_net.retire(), name="retire network")
                self._retiring[task] = old_net
                task.add_done_callback(lambda t: self._retiring.pop(t, None))
            log.info("configuration reloaded: %d sites, %d accounts", len(self.config.sites), len(self.config.accounts))
            return True, []

    def _file_mtimes(self) -> dict[Path, float]:
        out = {}
        files = self.config.files() if self.config.path else (self.config_path,) if self.config_path else ()
        for f in files:
            with contextlib.suppress(OSError):
                out[f] = f.stat().st_mtime
        return out

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._watch_interval)
            current = await asyncio.to_thread(self._file_mtimes)
            if current != self._mtimes:
                self._mtimes = current  # a failed reload is not retried until the files change again
                log.info("configuration files changed; reloading")
                await self.reload()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopped.set)

    async def serve_forever(self) -> None:
        await self.start()
        self.install_signal_handlers()
        try:
            await self._stopped.wait()
        finally:
            log.info("shutting down")
            await self.stop()

    async def stop(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self._scheduler_task is not None:
            await asyncio.gather(self._scheduler_task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._retiring:  # the scheduler has stopped: nothing holds them any more
            _, stuck = await asyncio.wait(set(self._retiring), timeout=5)
            for task in stuck:
                task.cancel()
                await self._retiring[task].close()
        if self.net is not None:
            await self.net.close()
        if self.state is not None:
            self.state.close()
        self._stopped.set()
