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
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector, disable_created_metrics, generate_latest

from agent.exposition.collector import TargetExposition, XunchaCollector, gzip_body, plain_body
from agent.exposition.selfmetrics import SelfMetrics
from agent.http.server import build_app
from agent.http.web import GuardedAppRunner, GuardedTCPSite, WebState
from agent.limits import clip
from agent.registry import config as config_mod
from agent.registry.config import Config, ConfigError, thresholds_of
from agent.run import diagnostics, reloads
from agent.run.results import ResultStore
from agent.run.scheduler import Scheduler
from agent.run.state import StateStore
from domain.thresholds import DAY
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
    from agent.workers.shard import in_shard

    return dataclasses.replace(
        cfg,
        sites=tuple(s for s in cfg.sites if in_shard(s.code, index, count)),
        accounts=tuple(a for a in cfg.accounts if in_shard(a.id, index, count)),
    )


class Agent:
    """``await agent.start()`` … ``await agent.stop()``; or ``await agent.serve_forever()``."""

    def __init__(
        self,
        config_path: str | Path | None,
        *,
        config: Config | None = None,
        shard: tuple[int, int] = (0, 1),
        listen: str | None = None,
        state_dir: str | None = None,
        watch_interval: float = WATCH_INTERVAL,
        web_config_file: str | None = None,
        enable_lifecycle: bool = False,
    ) -> None:
        self.config_path = Path(config_path) if config_path else None
        self.shard = shard
        self._listen_override = listen
        self._state_dir_override = state_dir
        self._watch_interval = watch_interval
        self._initial = config
        self._loaded_once = False
        self.results = ResultStore()
        self.registry = CollectorRegistry(auto_describe=False)
        self.metrics = self._probe_metrics()
        self.registry.register(XunchaCollector(self))
        ProcessCollector(registry=self.registry)  # process_* (CPU, RSS, open fds) of the agent itself
        self.web = WebState(web_config_file, enable_lifecycle)
        self._reloads = reloads.Reloads()
        self.exposition = TargetExposition()
        self.results.listener = self.exposition.changed  # lines rendered as results come, not at a scrape
        self.reload_successful = True
        self.reload_success_timestamp = 0.0
        self.config: Config = Config()
        self.state: StateStore | None = None
        self.net: Network | None = None
        self.net_settings: tuple[object, ...] = ()
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

    def _probe_metrics(self) -> SelfMetrics:
        """The probe and scheduler series (agent.workers.supervisor sums its workers' instead)."""
        return SelfMetrics(self.registry)

    def _load(self) -> Config:
        if self._initial is not None and (self.config_path is None or not self._loaded_once):
            self._loaded_once = True
            return self._initial  # given, or read already by the caller (`xuncha run`) for the first start
        assert self.config_path is not None
        return self._read(self.config_path)

    def _read(self, path: Path) -> Config:
        """Read and validate the configuration file (a reload, or a start without a given one)."""
        return config_mod.load(path)

    def state_dir(self, full: Config) -> Path:
        return Path(self._state_dir_override or full.state_dir)

    async def start(self) -> None:
        diagnostics.install(asyncio.get_running_loop())  # SIGUSR2: where the memory is (opt-in)
        full = self._load()  # ConfigError propagates: fail fast at start-up
        self.web.load(full)  # so does a bad web configuration file
        try:
            await self._start_probing(full)
            await self._serve()
            self._reloads.loaded(self._reload_files())
            if self.config_path is not None:
                self._mtimes = self._file_mtimes()
                self._watch_task = asyncio.create_task(self._watch(), name="config watcher")
        except BaseException:
            await self.stop()  # clean up a partial start
            raise
        log.info(
            "xuncha started: %d sites, %d accounts (shard %d/%d), listening on %s",
            *self.target_counts(),
            *self.shard,
            self.address,
        )

    async def _start_probing(self, full: Config) -> None:
        """State, network and scheduler (agent.workers.supervisor starts worker processes instead)."""
        self.state = StateStore(self.state_dir(full) / "xuncha.db")
        self._activate(full)
        self.scheduler = Scheduler(self.results, self.metrics)
        assert self.net is not None
        self.scheduler.apply(self._context())
        self._scheduler_task = asyncio.create_task(self.scheduler.run(), name="scheduler")

    async def render_metrics(self, gzip: bool = False) -> bytes:
        """The whole exposition: the agent's own series, then the per-target families; with
        ``gzip``, compressed (only what changed since the last scrape is compressed again)."""
        # The text is brought up to date on the loop (it reads the live result store).
        own = generate_latest(self.registry)
        cfg, ex = self.config, self.exposition
        if gzip:
            return gzip_body(own, [await ex.deflated(cfg.sites, cfg.accounts, self.results)])
        return plain_body(own, [ex.blocks(cfg.sites, cfg.accounts, self.results)])

    def target_counts(self) -> tuple[int, int]:
        """(sites, accounts) this agent watches."""
        return len(self.config.sites), len(self.config.accounts)

    def api_handlers(self) -> dict[str, Any]:
        """Replacements for the /api/ handlers of agent.http.server (agent.workers.supervisor routes them to workers)."""
        return {}

    def _activate(self, full: Config) -> None:
        self.config = shard_view(full, self.shard)
        listen = self._listen_override or full.listen
        settings = (full.dns, full.tls, full.http, full.links.allow_networks, listen)
        if self.net is None or self.net_settings != settings:
            # Same settings: keep the network (its sessions and DNS cache); a new one per reload
            # was kept until its probes ended (issue 10: 200 reloads, +437 MiB).
            self.net = Network(full.dns, full.tls, full.http, policy=policy_of(full.links.allow_networks, listen))
            self.net_settings = settings
        self.links = LinkChecks.of(full.links) if self.links is None else self.links.with_bounds(full.links)
        if self.state is not None:  # at start and at each reload (a target may come from another worker)
            self.results.keep_findings_in(self.state)
        lines = thresholds_of(full)
        self.results.window_days = max(1, round(lines.unreachable_window / DAY))
        self.exposition.use_scoring(full.scoring, lines)
        # The text of /metrics for this registry now (a reload: only what it changed), so that the
        # results that follow are rendered as they come and the first scrape finds it ready.
        self.exposition.refresh(self.config.sites, self.config.accounts, self.results)
        self.reload_successful = True
        self.reload_success_timestamp = time.time()

    def _context(self) -> ProbeContext:
        assert self.net is not None and self.state is not None
        return ProbeContext(config=self.config, net=self.net, state=self.state, links=self.links)

    async def _serve(self) -> None:
        listen = self._listen_override or self.config.listen
        host, _, port = listen.rpartition(":")
        guard = self.web.guard
        assert guard is not None
        self._runner = GuardedAppRunner(
            build_app(self, guard.middlewares()), guard.limits, access_log=None, handle_signals=False
        )
        await self._runner.setup()
        site = GuardedTCPSite(
            self._runner,
            host.strip("[]") or "0.0.0.0",
            int(port),
            ssl_context=guard.ssl,
            handshake_timeout=guard.limits.header_timeout,
        )
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        bound = sockets[0].getsockname() if sockets else (host, port)
        self.address = f"{bound[0]}:{bound[1]}"

    def healthy(self) -> bool:
        return self._scheduler_task is not None and not self._scheduler_task.done()

    async def reload(self) -> tuple[bool, list[str]]:
        """Load the configuration again; on failure keep the running one.

        Callers that arrive while a reload runs share the next one (agent.run.reloads): 200
        reloads at once cost two, not 200 (issue 10).
        """
        return await self._reloads.coalesce(self._reload_now)

    async def _reload_now(self) -> tuple[bool, list[str]]:
        async with self._reload_lock:
            try:
                if self.reload_successful and not await asyncio.to_thread(self._reloads.changed, self._reload_files()):
                    log.info("reload: no configuration file changed since the last load; nothing to do")
                    return True, []
                full = await asyncio.to_thread(self._load)
                web_read = await asyncio.to_thread(self.web.read, full)
                warnings = self.web.apply(web_read, full)
            except ConfigError as e:
                self.reload_successful = False
                errors = [str(i) for i in e.issues]
                log.error("reload failed; keeping the running configuration:\n  %s", "\n  ".join(errors))
                return False, errors
            except Exception as e:  # a bug must not kill the watcher while the metric says 1 (issue 10)
                self.reload_successful = False
                log.exception("reload failed; keeping the running configuration")
                return False, [f"internal error while loading the configuration: {clip(e)}"]
            for w in warnings:
                log.warning("%s", w)
            await self._apply(full)
            self._mtimes = self._file_mtimes()
            self._reloads.loaded(self._reload_files())
            log.info("configuration reloaded: %d sites, %d accounts", *self.target_counts())
            return True, []

    async def _apply(self, full: Config) -> None:
        """Run a validated configuration (a reload, or a worker told by its supervisor)."""
        old_net = self.net
        self._activate(full)
        assert self.scheduler is not None
        self.scheduler.apply(self._context())
        if old_net is not None and old_net is not self.net:
            # Probes in flight still use the old network; it closes when the last one ends.
            task = asyncio.create_task(old_net.retire(), name="retire network")
            self._retiring[task] = old_net
            task.add_done_callback(lambda t: self._retiring.pop(t, None))

    def _reload_files(self) -> tuple[Path, ...]:
        """Every file a reload reads: watched for changes, and hashed to skip reloads that change nothing."""
        files = self.config.files() if self.config.path else (self.config_path,) if self.config_path else ()
        referenced = (self.config.tls.ca_file, *self.config.content.dictionaries)
        return files + tuple(Path(f) for f in referenced if f) + self.web.files()

    def _file_mtimes(self) -> dict[Path, float]:
        out = {}
        for f in self._reload_files():
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
            self.results.save_visits()  # the week's visits since their last write (issue 19)
            self.state.close()
        self._stopped.set()
