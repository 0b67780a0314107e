"""Worker processes: one asyncio loop is one core, so a large registry runs on several.

With ``workers:`` above 1 (``auto``: one per core), ``xuncha run`` is a *supervisor*: it reads
and validates the configuration, serves the port (``/metrics``, ``/api/``, ``/-/reload``,
``/healthz``, with the web configuration), watches the files, and probes nothing.  Each worker
process (:mod:`agent.workers.worker`) owns a shard of the registry and runs the ordinary scheduler
on it; all of them share the one state database (SQLite in WAL mode, agent.run.state).

- **Which worker owns a target**: :func:`worker_of`, the jump hash of :mod:`agent.workers.shard` on
  the key salted with ``worker:``.  Salted, because a ``--shard i/n`` agent holds only keys
  whose unsalted bucket is ``i``, and the jump hash of those keys over fewer buckets is not
  uniform (shard 0 of 3 would put everything on worker 0).
- **Configuration** goes to a worker over its stdin, a pipe only the supervisor holds: frames
  of ``(generation, Config)`` pickled, the worker's part of the registry only.  The worker
  answers on stdout with a JSON line.  A reload is validated by the supervisor first; on
  success every worker gets its new part (the reply says it took it); on failure nobody changes.
- **Scrapes and /api/** go over a Unix socket per worker, HTTP (aiohttp both ends).  A worker
  returns its per-target samples one block per family (:data:`agent.exposition.collector.FAMILIES`);
  the supervisor writes each family's header once and then every worker's block for it, so each
  family stays one group, as the text format requires.  Within a family the samples come worker
  by worker (each in registry order) rather than in registry order: the same bytes as one
  process whose registry lists the targets worker by worker (tests/test_workers.py checks it).
  The probe and scheduler series (durations, lag, runs, in flight) are summed over the workers:
  the same families, labels and meaning as one process, so rules and dashboards do not change.
  Per-worker memory, CPU and restarts have their own ``xuncha_worker_*`` series.
- **A worker that dies** is started again with backoff (0.5 s doubling to 30 s; reset after
  a minute up), with the same shard and the current configuration.  What its targets keep
  across restarts lives in the shared SQLite file; their latest results are probed again
  within the first-run spread (agent.run.scheduler).
- **No orphans**: a worker stops when its stdin reaches EOF (the supervisor exited, however it
  died) and, on Linux, is sent SIGTERM by the kernel when the supervisor dies
  (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

import agent
from agent.exposition.collector import FAMILIES, gzip_body, plain_body
from agent.exposition.selfmetrics import SelfMetrics
from agent.registry.config import Config, ConfigError, ConfigIssue, WebSettings
from agent.run.runtime import Agent, shard_view
from agent.run.state import StateStore
from agent.workers import gzipjoin
from agent.workers.shard import bucket
from domain import metric_names as m

log = logging.getLogger(__name__)

FRAME = struct.Struct("!Q")  # length of one pickled frame on a worker's stdin
START_TIMEOUT = 300.0  # seconds a worker has to take its shard and answer on its socket
APPLY_TIMEOUT = 120.0  # seconds a worker has to take a reloaded configuration
REQUEST_TIMEOUT = 30.0  # a scrape or /api/ request to one worker
STOP_GRACE = 10.0  # seconds between EOF on stdin and SIGKILL
BACKOFF_FIRST, BACKOFF_MAX, BACKOFF_RESET = 0.5, 30.0, 60.0
EXPOSITION_PATH = "/-/worker/exposition"
STATUS_PATH = "/-/worker/status"
_PROBE_FAMILIES = ("probe_duration", "scheduler_lag", "runs", "in_flight")  # SelfMetrics, summed
_ROOT = str(Path(agent.__file__).resolve().parent.parent)  # workers run the supervisor's code


@dataclass(frozen=True)
class Registry:
    """What a supervisor keeps of the registry: its order, and each worker's part packed.

    The supervisor probes nothing, so it never unpickles the sites and accounts: the process
    that read the file splits them (:func:`load_split`) and hands over each worker's part as
    compressed pickle bytes, ~30 MB for the country instead of ~200 MB of objects (issue 12).
    """

    sites: tuple[str, ...]  # site codes in registry order (this agent's --shard)
    accounts: tuple[str, ...]  # account ids in registry order
    wanted: int  # worker processes the configuration's ``workers:`` asks for
    parts: tuple[bytes, ...]  # per worker: its Config (split), pickled and compressed


def load_split(
    path: str | Path, workers: int | None, *, shard: tuple[int, int] = (0, 1), state_dir: str | None = None
) -> Config | tuple[Config, Registry]:
    """Read and validate the configuration in a short-lived process, and take the result pickled.

    Parsing a national registry (25 MB of YAML, 164,000 targets) leaves ~900 MB of fragmented
    heap behind in the process that parsed it; the supervisor lives for months and should not
    carry that.  When the configuration asks for (or ``workers`` forces) more than one worker
    process, it is split there too: the settings (no sites or accounts) and the
    :class:`Registry` come back; else the whole :class:`Config`.  ``ConfigError`` as
    :func:`agent.registry.config.load` raises it.
    """
    args = ["--workers", str(workers) if workers else "auto", "--shard", f"{shard[0]}/{shard[1]}"]
    if state_dir:
        args += ["--state-dir", state_dir]
    loaded = _load_in_child(path, args)
    assert isinstance(loaded, (Config, tuple))
    return loaded


def _load_in_child(path: str | Path, args: list[str]) -> Any:
    proc = subprocess.run(  # noqa: S603 — our own interpreter and module
        [sys.executable, "-m", "agent.workers.worker", "--load", str(path), *args],
        stdout=subprocess.PIPE,
        env=_env(),
        check=False,
    )
    try:
        kind, value = pickle.loads(proc.stdout)  # noqa: S301 — written by our own child process
    except Exception:  # noqa: BLE001 — it died (a bug, or out of memory): say so as a config error
        issue = ConfigIssue(
            str(path), "", "", f"could not be loaded (the loading process exited with {proc.returncode})"
        )
        raise ConfigError([issue]) from None
    if kind == "error":
        raise ConfigError(value)
    return value


def split_packed(
    full: Config, workers: int | None, shard: tuple[int, int], state_dir: str | None
) -> Config | tuple[Config, Registry]:
    """:func:`load_split`'s work, in the process that read the configuration."""
    total = len(full.sites) + len(full.accounts)
    count = count_of(workers or full.workers, total)
    if count <= 1:
        return full
    view = shard_view(full, shard)
    where = str(Path(state_dir or full.state_dir).resolve())
    parts = tuple(pack_view(part) for part in split(view, count, where))
    registry = Registry(
        tuple(s.code for s in view.sites), tuple(a.id for a in view.accounts), count_of(full.workers, total), parts
    )
    return dataclasses.replace(full, sites=(), accounts=()), registry


def pack_view(cfg: Config) -> bytes:
    return zlib.compress(pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack_view(data: bytes) -> Config:
    cfg = pickle.loads(zlib.decompress(data))  # noqa: S301 — packed by our own supervisor's loader
    assert isinstance(cfg, Config)
    return cfg


# glibc's malloc for the worker processes, unless the environment says otherwise: two arenas, and
# blocks from 128 KiB up always mmap'd, so that freed ones go back to the system (its dynamic
# threshold otherwise grows to the size of the largest block freed, and the joined text of a
# family, megabytes, then stays in the heap).  Measured at national size: peak RSS 1,376 → 1,233 MiB
# with every scrape under 0.35 s (bench/README.md).  Other C libraries ignore these variables.
MALLOC_ENV = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "131072"}


def _env() -> dict[str, str]:
    env = MALLOC_ENV | dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH", "")) if p)
    return env


def count_of(workers: int | None, targets: int | None = None) -> int:
    """``workers:`` as a number.  ``None`` (auto) is one per core this process may use (CPU
    affinity and the cgroup's CPU quota: a container limited to 2 CPUs on a 64-core node gets 2),
    but no more than one per :data:`TARGETS_PER_WORKER` targets, so that a small registry stays
    in one process (a worker costs ~60 MB and a hop for every scrape)."""
    if workers is not None:
        return workers
    cores = cpu_cores()
    if targets is None:
        return cores
    return max(1, min(cores, targets // TARGETS_PER_WORKER))


TARGETS_PER_WORKER = 5000  # a province (1,500 sites, 15,000 accounts) fits one core (issue 12)


def cpu_cores() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cores, math.ceil(quota)) if quota else cores)


def _cgroup_quota() -> float | None:
    """CPUs the cgroup may use (v2 ``cpu.max``, v1 ``cfs_quota_us``), ``None`` when unlimited."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        q = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if q <= 0 else q / period_us
    except (OSError, ValueError):
        return None


def worker_of(key: str, workers: int) -> int:
    """The worker (0 … workers-1) that owns the site code or account id ``key``."""
    return bucket("worker:" + key, workers)


def split(cfg: Config, workers: int, state_dir: str) -> list[Config]:
    """Each worker's part of ``cfg``: every site and account in exactly one part, in registry order."""
    sites: list[list[Any]] = [[] for _ in range(workers)]
    accounts: list[list[Any]] = [[] for _ in range(workers)]
    for s in cfg.sites:
        sites[worker_of(s.code, workers)].append(s)
    for a in cfg.accounts:
        accounts[worker_of(a.id, workers)].append(a)
    # The worker needs no web configuration (the supervisor serves the port) and no further split.
    return [
        dataclasses.replace(
            cfg, sites=tuple(sites[i]), accounts=tuple(accounts[i]), state_dir=state_dir, web=WebSettings(), workers=1
        )
        for i in range(workers)
    ]


# --- the wire: frames on stdin, exposition blocks over the socket ------------------------------


def frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data


async def read_frame(reader: asyncio.StreamReader) -> Any | None:
    """The next frame, or ``None`` at EOF."""
    try:
        (size,) = FRAME.unpack(await reader.readexactly(FRAME.size))
        data = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        return None
    return pickle.loads(data)  # noqa: S301 — written by our own supervisor on a private pipe


def probe_families(metrics: SelfMetrics) -> list[list[Any]]:
    """A worker's probe and scheduler series, as JSON-able ``[name, type, help, samples]``."""
    out = []
    for attr in _PROBE_FAMILIES:
        for metric in getattr(metrics, attr).collect():
            samples = [[s.name, s.labels, s.value] for s in metric.samples]
            out.append([metric.name, metric.type, metric.documentation, samples])
    return out


def pack_exposition(blocks: list[gzipjoin.Piece], families: list[list[Any]]) -> bytes:
    """One JSON line (each block's length, CRC-32 and size; the probe series), then the blocks'
    compressed data back to back (:meth:`agent.exposition.collector.TargetExposition.deflated`)."""
    head = {"blocks": [[len(b.data), b.crc, b.size] for b in blocks], "self": families}
    return json.dumps(head, separators=(",", ":")).encode() + b"\n" + b"".join(b.data for b in blocks)


def unpack_exposition(body: bytes) -> tuple[list[gzipjoin.Piece], list[list[Any]]]:
    nl = body.index(b"\n")
    head = json.loads(body[:nl])
    blocks, pos = [], nl + 1
    for length, crc, size in head["blocks"]:
        blocks.append(gzipjoin.Piece(body[pos : pos + length], crc, size))
        pos += length
    if pos != len(body) or len(blocks) != len(FAMILIES):
        raise ValueError(f"exposition of {len(blocks)} blocks, {len(body) - pos} bytes left over")
    return blocks, head["self"]


def _inflate(per_worker: list[list[gzipjoin.Piece]]) -> list[list[bytes]]:
    """The workers' blocks decompressed (for a scraper that does not accept gzip)."""
    return [[gzipjoin.inflate(b) for b in blocks] for blocks in per_worker]


def sum_families(per_worker: list[list[list[Any]]]) -> list[Metric]:
    """The workers' probe series summed sample by sample (counters, gauges and histogram buckets add)."""
    merged: dict[str, tuple[Metric, dict[tuple[str, tuple[tuple[str, str], ...]], float]]] = {}
    for families in per_worker:
        for name, typ, doc, samples in families:
            if name not in merged:
                merged[name] = (Metric(name, doc, typ), {})
            sums = merged[name][1]
            for sample, labels, value in samples:
                key = (sample, tuple(labels.items()))
                sums[key] = sums.get(key, 0.0) + value
    out = []
    for metric, sums in merged.values():
        for (sample, labels), value in sums.items():
            metric.add_sample(sample, dict(labels), value)
        out.append(metric)
    return out


# --- the supervisor's side ----------------------------------------------------------------------


class WorkerFailed(Exception):
    pass


@dataclass(eq=False)
class Worker:
    index: int
    socket: Path
    proc: asyncio.subprocess.Process | None = None
    session: aiohttp.ClientSession | None = None
    metrics_session: aiohttp.ClientSession | None = None  # to its exposition thread (metrics_socket)
    up: bool = False
    restarts: int = 0
    generation: int = 0  # the configuration it acknowledged
    ready: asyncio.Future[dict[str, Any]] | None = None
    pending: dict[int, asyncio.Future[list[str]]] = field(default_factory=dict)
    last_self: list[list[Any]] = field(default_factory=list)  # its probe series at the last scrape
    process: ProcessCollector | None = None
    reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


class WorkerPool:
    """N worker processes: start, configure, supervise, ask, stop."""

    def __init__(self, count: int, *, log_args: tuple[str, ...] = ()) -> None:
        self.count = count
        self.log_args = log_args
        self.workers: list[Worker] = []
        self._parts: tuple[bytes, ...] = ()
        self._generation = 0
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._socket_dir: Path | None = None

    # --- starting and supervising --------------------------------------------------

    async def start(self, parts: tuple[bytes, ...], state_dir: Path) -> None:
        """Start every worker on its part (:func:`pack_view`); raise :class:`WorkerFailed` if one cannot start."""
        assert len(parts) == self.count
        self._socket_dir = _socket_dir(state_dir)
        self._generation = 1
        self._parts = parts
        self.workers = [Worker(i, self._socket_dir / f"{i}.sock") for i in range(self.count)]
        for w in self.workers:
            w.process = ProcessCollector(namespace="", pid=_pid_of(w), registry=None)
        try:
            await asyncio.gather(*(self._spawn(w) for w in self.workers))
        except BaseException:
            await self.stop()
            raise
        self._tasks = [asyncio.create_task(self._supervise(w), name=f"worker {w.index}") for w in self.workers]

    async def _spawn(self, w: Worker) -> None:
        loop = asyncio.get_running_loop()
        env = _env()
        w.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agent.workers.worker",
            "--worker",
            f"{w.index}/{self.count}",
            "--socket",
            str(w.socket),
            "--parent",
            str(os.getpid()),
            *self.log_args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        w.ready = loop.create_future()
        w.pending = {}
        w.reader = asyncio.create_task(self._read(w, w.proc), name=f"worker {w.index} replies")
        generation = self._generation
        try:
            assert w.proc.stdin is not None
            w.proc.stdin.write(frame((generation, self._parts[w.index])))
            await w.proc.stdin.drain()
            ready = await asyncio.wait_for(asyncio.shield(w.ready), START_TIMEOUT)
        except (OSError, TimeoutError, WorkerFailed) as e:
            w.ready.cancel()  # nobody waits for it any more
            with contextlib.suppress(ProcessLookupError):
                w.proc.kill()
            await w.proc.wait()
            raise WorkerFailed(f"worker {w.index} did not start: {e or type(e).__name__}") from None
        await _close_sessions(w)
        w.session, w.metrics_session = (
            aiohttp.ClientSession(
                connector=aiohttp.UnixConnector(path=str(path)), timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            )
            for path in (w.socket, metrics_socket(w.socket))
        )
        w.generation, w.up, w.last_self = generation, True, []
        log.info("worker %d started (pid %d): %s sites, %s accounts", w.index, w.proc.pid, *ready["targets"])
        if generation != self._generation:  # a reload came while it started
            await self._send(w, self._generation, self._parts[w.index])

    async def _read(self, w: Worker, proc: asyncio.subprocess.Process) -> None:
        """The worker's replies on stdout, one JSON line each."""
        assert proc.stdout is not None
        async for line in proc.stdout:
            try:
                reply = json.loads(line)
            except ValueError:
                continue
            if "ready" in reply and w.ready is not None and not w.ready.done():
                w.ready.set_result(reply)
            elif "applied" in reply:
                fut = w.pending.pop(int(reply["applied"]), None)
                if fut is not None and not fut.done():
                    fut.set_result(list(reply.get("errors", [])))
        gone = WorkerFailed(f"exited with {await proc.wait()}")
        if w.ready is not None and not w.ready.done():
            w.ready.set_exception(gone)
        for fut in w.pending.values():
            if not fut.done():
                fut.set_exception(gone)
        w.pending = {}

    async def _supervise(self, w: Worker) -> None:
        loop = asyncio.get_running_loop()
        backoff = BACKOFF_FIRST
        while not self._stopping:
            up_since = loop.time()
            assert w.proc is not None
            code = await w.proc.wait()
            w.up = False
            if self._stopping:
                return
            w.restarts += 1
            if loop.time() - up_since > BACKOFF_RESET:
                backoff = BACKOFF_FIRST
            log.error("worker %d (pid %s) exited with %s; starting it again in %.1fs", w.index, w.pid, code, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
            if self._stopping:
                return
            try:
                await self._spawn(w)
            except WorkerFailed as e:
                log.error("%s", e)
            except Exception:  # noqa: BLE001 — e.g. no descriptors left to start it: try again later
                log.exception("worker %d could not be started", w.index)
                if w.proc is not None and w.proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        w.proc.kill()
                    await w.proc.wait()

    # --- configuration ---------------------------------------------------------------

    async def apply(self, parts: tuple[bytes, ...]) -> list[str]:
        """Give every worker its part (validated, packed); the problems, if any worker did not take it."""
        assert len(parts) == self.count
        self._generation += 1
        self._parts = parts
        replies = await asyncio.gather(*(self._send(w, self._generation, parts[w.index]) for w in self.workers))
        return [e for errors in replies for e in errors]

    async def _send(self, w: Worker, generation: int, view: bytes) -> list[str]:
        if not w.up or w.proc is None or w.proc.stdin is None:
            return [f"worker {w.index} is not running; it takes the new configuration when it starts again"]
        fut = asyncio.get_running_loop().create_future()
        w.pending[generation] = fut
        try:
            w.proc.stdin.write(frame((generation, view)))
            await w.proc.stdin.drain()
            errors = await asyncio.wait_for(fut, APPLY_TIMEOUT)
        except (OSError, TimeoutError, WorkerFailed) as e:
            return [f"worker {w.index}: configuration not applied: {e or type(e).__name__}"]
        if not errors:
            w.generation = max(w.generation, generation)
        return [f"worker {w.index}: {e}" for e in errors]

    # --- asking the workers --------------------------------------------------------------

    async def get(self, w: Worker, path: str) -> tuple[int, bytes, str] | None:
        """``GET path`` on worker ``w``: (status, body, content type), or ``None`` if it did not answer."""
        session = w.metrics_session if path == EXPOSITION_PATH else w.session
        if not w.up or session is None:
            return None
        try:
            async with session.get(f"http://worker{path}") as r:
                return r.status, await r.read(), r.content_type
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            log.warning("worker %d did not answer %s: %s", w.index, path, e or type(e).__name__)
            return None

    async def render(self, own: Callable[[], bytes], gzip: bool) -> bytes:
        """The merged exposition: ``own()`` (the supervisor's series, with the workers' summed), then
        every per-target family once, each with every worker's block.  The workers send their
        blocks gzip-compressed; with ``gzip`` they are joined as they came (a gzip body may be a
        sequence of members), else decompressed in a thread."""
        replies = await asyncio.gather(*(self.get(w, EXPOSITION_PATH) for w in self.workers))
        per_worker: list[list[gzipjoin.Piece]] = []
        for w, reply in zip(self.workers, replies, strict=True):
            if reply is None or reply[0] != 200:
                continue
            try:
                blocks, families = unpack_exposition(reply[1])
            except (ValueError, KeyError) as e:
                log.error("worker %d sent an unreadable exposition: %s", w.index, e)
                continue
            w.last_self = families
            per_worker.append(blocks)
        if gzip:
            return gzip_body(own(), per_worker)
        try:
            return plain_body(own(), await asyncio.to_thread(_inflate, per_worker))
        except zlib.error as e:  # a worker's bug, not the scraper's
            raise web.HTTPInternalServerError(text=f"a worker sent a broken block: {e}\n") from e

    def up(self) -> int:
        return sum(w.up for w in self.workers)

    def running(self) -> bool:
        return not self._stopping and self.up() > 0

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(self._stop(w) for w in self.workers))
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    async def _stop(self, w: Worker) -> None:
        w.up = False
        proc = w.proc
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()  # EOF: the worker stops its probes and exits
            try:
                await asyncio.wait_for(proc.wait(), STOP_GRACE)
            except TimeoutError:
                log.warning("worker %d did not stop within %gs; killing it", w.index, STOP_GRACE)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if w.reader is not None:
            await asyncio.gather(w.reader, return_exceptions=True)
        await _close_sessions(w)


async def _close_sessions(w: Worker) -> None:
    for session in (w.session, w.metrics_session):
        if session is not None:
            await session.close()
    w.session = w.metrics_session = None


def metrics_socket(socket: Path) -> Path:
    """Where a worker's exposition thread answers (agent.workers.worker.ExpositionThread)."""
    return socket.with_name(socket.name + ".metrics")


def _pid_of(w: Worker) -> Callable[[], int | str]:
    return lambda: w.pid or "none"  # "none": no /proc entry, no samples


def _socket_dir(state_dir: Path) -> Path:
    """A private directory for the workers' sockets, ``workers-<supervisor pid>`` in the state
    directory (unless its path is too long for a Unix socket: 108 bytes on Linux).  Those of
    supervisors that no longer run (killed with SIGKILL) are removed."""
    state_dir.mkdir(parents=True, exist_ok=True)
    for old in state_dir.glob("workers-*"):
        pid = old.name.removeprefix("workers-")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    here = state_dir.resolve() / f"workers-{os.getpid()}"
    if len(str(here)) > 90:
        return Path(tempfile.mkdtemp(prefix="xuncha-workers-"))
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir(mode=0o700)
    return here


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PoolCollector(Collector):
    """The supervisor's view of its workers: their probe series summed, how many run, their resources."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        workers = self.pool.workers
        yield from sum_families([w.last_self for w in workers])
        configured = GaugeMetricFamily(m.WORKERS, "Worker processes configured (workers:).")
        configured.add_metric([], self.pool.count)
        yield configured
        up = GaugeMetricFamily(m.WORKERS_UP, "Worker processes running.")
        up.add_metric([], self.pool.up())
        yield up
        restarts = CounterMetricFamily(
            m.WORKER_RESTARTS_TOTAL.removesuffix("_total"),
            "Times a worker process was started again.",
            labels=["worker"],
        )
        rss = GaugeMetricFamily(m.WORKER_RESIDENT_MEMORY_BYTES, "Resident memory of each worker.", labels=["worker"])
        cpu = CounterMetricFamily(
            m.WORKER_CPU_SECONDS_TOTAL.removesuffix("_total"), "CPU time of each worker.", labels=["worker"]
        )
        for w in workers:
            label = [str(w.index)]
            restarts.add_metric(label, w.restarts)
            for metric in w.process.collect() if w.process is not None and w.up else ():
                for s in metric.samples:
                    if s.name == "process_resident_memory_bytes":
                        rss.add_metric(label, s.value)
                    elif s.name == "process_cpu_seconds_total":
                        cpu.add_metric(label, s.value)
        yield from (restarts, rss, cpu)


class Supervisor(Agent):
    """The agent the user sees when ``workers`` > 1: the port, the configuration, the workers."""

    def __init__(
        self,
        *args: Any,
        packed: Registry,
        workers_flag: bool = False,
        log_args: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        self.packed = packed  # the registry as the loading process split it (load_split)
        self.pool = WorkerPool(len(packed.parts), log_args=log_args)
        self._workers_flag = workers_flag  # --workers given: the configuration's workers: does not count
        super().__init__(*args, **kwargs)

    def _read(self, path: Path) -> Config:
        # Each reload too: read in a short-lived process, split there into as many parts as there
        # are workers (a change of workers: needs a restart), and kept packed (see Registry).
        loaded = load_split(path, self.pool.count, shard=self.shard, state_dir=self._state_dir_override)
        assert isinstance(loaded, tuple), "split into the workers' count, which is at least 2"
        full, self.packed = loaded
        return full

    def target_counts(self) -> tuple[int, int]:
        return len(self.packed.sites), len(self.packed.accounts)

    def _probe_metrics(self) -> SelfMetrics:
        self.registry.register(PoolCollector(self.pool))
        return SelfMetrics(CollectorRegistry())  # the workers' are summed by PoolCollector; this one stays unused

    async def _start_probing(self, full: Config) -> None:
        self._activate(full)
        state_dir = self.state_dir(full).resolve()
        StateStore(state_dir / "xuncha.db").close()  # created (WAL) once, before N processes open it
        await self.pool.start(self.packed.parts, state_dir)

    def _activate(self, full: Config) -> None:
        self.config = full  # settings only: the supervisor probes nothing (no network, no scheduler)
        self.reload_successful = True
        self.reload_success_timestamp = time.time()

    async def _apply(self, full: Config) -> None:
        wanted = self.packed.wanted
        if not self._workers_flag and wanted != self.pool.count:
            log.warning(
                "workers: %s now means %d worker processes; that needs a restart (keeping %d)",
                full.workers or "auto",
                wanted,
                self.pool.count,
            )
        self._activate(full)
        for problem in await self.pool.apply(self.packed.parts):
            log.warning("reload: %s", problem)

    def healthy(self) -> bool:
        return self.pool.running()

    async def render_metrics(self, gzip: bool = False) -> bytes:
        return await self.pool.render(lambda: generate_latest(self.registry), gzip)

    def api_handlers(self) -> dict[str, Any]:
        return _api(self)

    async def stop(self) -> None:
        await self.pool.stop()
        await super().stop()


# --- /api/ over the workers -------------------------------------------------------------------


def _api(sup: Supervisor) -> dict[str, Any]:
    from agent.http.server import _json

    pool = sup.pool

    async def gather(path: str) -> list[Any] | web.Response:
        replies = await asyncio.gather(*(pool.get(w, path) for w in pool.workers))
        out: list[Any] = []
        for w, reply in zip(pool.workers, replies, strict=True):
            if reply is None or reply[0] != 200:
                return _json({"error": f"worker {w.index} is not answering; try again shortly"}, status=503)
            out += json.loads(reply[1])
        return out

    def order(what: str) -> dict[str, int]:
        keys = sup.packed.sites if what == "site" else sup.packed.accounts
        return {k: i for i, k in enumerate(keys)}

    async def sites(request: web.Request) -> web.Response:
        out = await gather("/api/sites")
        if isinstance(out, web.Response):
            return out
        at = order("site")
        return _json(sorted(out, key=lambda d: at.get(d["code"], math.inf)))

    async def accounts(request: web.Request) -> web.Response:
        out = await gather("/api/accounts")
        if isinstance(out, web.Response):
            return out
        at = order("account")
        return _json(sorted(out, key=lambda d: at.get(d["account"]["id"], math.inf)))

    async def findings(request: web.Request) -> web.Response:
        out = await gather("/api/findings")
        if isinstance(out, web.Response):
            return out
        sites_at, accounts_at = order("site"), order("account")

        def key(d: dict[str, Any]) -> tuple[int, float]:
            if "code" in d:
                return 0, sites_at.get(d["code"], math.inf)
            return 1, accounts_at.get(d.get("account", ""), math.inf)

        return _json(sorted(out, key=key))  # stable: a target's findings keep their order

    async def owner(request: web.Request, key: str, path: str) -> web.Response:
        w = pool.workers[worker_of(key, pool.count)]
        reply = await pool.get(w, path)
        if reply is None:
            return _json({"error": f"worker {w.index}, which watches {key}, is not answering"}, status=503)
        status, body, content_type = reply
        return web.Response(body=body, status=status, content_type=content_type)

    async def site(request: web.Request) -> web.Response:
        code = request.match_info["code"]
        return await owner(request, code, f"/api/sites/{_quote(code)}")

    async def account(request: web.Request) -> web.Response:
        ident = request.match_info["id"]
        return await owner(request, ident, f"/api/accounts/{_quote(ident)}")

    return {"sites": sites, "accounts": accounts, "findings": findings, "site": site, "account": account}


def _quote(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="")
