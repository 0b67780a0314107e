"""The scheduler: one schedule per (target, probe kind), bounded concurrency.

One heap of due times and one dispatcher task, not a sleeping task per job: a
country-sized registry (≈14,000 sites × 5 kinds + 150,000 accounts) costs a heap
entry per job.  Each job has a stable slot in its interval, from a hash of the
job (gatus: jittered, so checks do not stampede and timings stay honest).  The
first run comes within a minute of start-up (the 6-hourly page readers: longer
as there are more of them, up to 15 minutes; :func:`first_spread`) — after a
restart an office should not wait an hour for its content findings — and later
runs keep to the job's slot.

A probe waits first for its host's slot (many department sites share one
集约化平台 host, which we must never hammer), then for a global slot, so a
crowded host holds no global slots while it queues.  Every probe runs under a
deadline of its own; a slow or hanging site delays nobody but itself.

Availability comes first (the inspection counts every visit that did not open):
the background kinds (content, links, feeds) together hold at most
``BACKGROUND_SHARE`` of the global slots, served earliest due first
(:class:`DueSlots`), and each of them at most ``KIND_SHARE`` of those, so a
links run stuck on a tarpit for its whole budget (up to 15 minutes) neither delays a homepage visit nor stops content and feeds.

A due job waiting for its kind's or its host's slot is a queue entry, not a task:
a task is created only once both are held.  At national size the start-up burst
makes ~100,000 jobs due in a minute per process (150,000 feeds on one RSSHub
host); as waiting tasks they held ~2.7 KB each, ~270 MiB per worker (issue 12).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import itertools
import logging
import math
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from agent.exposition.selfmetrics import SelfMetrics
from agent.kinds import KINDS, ProbeFn, Target, kinds_by_target
from agent.registry.config import Concurrency, Config
from agent.run.results import ResultStore, target_key
from probes.context import ProbeContext
from probes.results import Result

log = logging.getLogger(__name__)

ProbeLookup = Callable[[str], ProbeFn]

FIRST_RUN_SPREAD = 60.0  # seconds over which the first runs after start-up are spread (kinds.Kind.first_within)
FIRST_RUNS_PER_SECOND = 8.0  # first runs a second for kinds with a first_within: beyond a minute's worth, spread
BACKGROUND_SHARE = 0.5  # of concurrency.total, for content, links and feeds together
KIND_SHARE = 0.5  # of the background slots, for any one background kind


@dataclass(slots=True)
class Job:
    target: Target
    kind: str
    interval: float
    due: float
    host: str
    target_id: str  # target_key(target), kept: the heap asks for the key at every push
    slot: float = 0.0  # offset of this job's runs within its interval
    generation: int = 0
    running: bool = False
    removed: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.target_id, self.kind


def deadline(kind: str, target: Target, cfg: Config) -> float:
    """A safety net over each probe's own timeouts: past this, the run is cut off."""
    return KINDS[kind].deadline(cfg, target)


def _offset(key: tuple[str, str], interval: float) -> float:
    # Stable across restarts: a site keeps its slot in the interval.
    return _share(key) * interval


def first_spread(kind: str, jobs: int, interval: float) -> float:
    """Seconds after start-up over which ``kind``'s first runs fall: a minute; for a kind with a
    ``first_within`` (the 6-hourly page readers), longer as there are more of them, at
    :data:`FIRST_RUNS_PER_SECOND`, up to that — a demo's 18 sites still start in a minute, a
    worker's 7,000 over 15 (issue 21)."""
    cap = KINDS[kind].first_within
    wanted = FIRST_RUN_SPREAD if cap is None else min(cap, max(FIRST_RUN_SPREAD, jobs / FIRST_RUNS_PER_SECOND))
    return min(interval, wanted)


def _share(key: tuple[str, str]) -> float:
    """Where in any span of time this job falls, in [0, 1): from a hash, the same every start."""
    return (zlib.crc32(f"{key[0]}/{key[1]}".encode()) % 10_000) / 10_000


class DueSlots:
    """A semaphore whose waiters are served earliest due first, not first come.

    The background kinds share these slots.  Served first come, each kind got about the same
    number of runs a minute whatever its need: at national size 150,000 feeds and 14,000
    homepages an hour drained at the pace of the 6-hourly page readers, ~1,200 runs a minute each,
    and the feeds' start-up backlog would have taken two hours (issue 21).  Earliest due first
    runs every kind's jobs in the order they fell due, so each kind's lag is the same and what is
    due most (feeds, every minute) is not held behind what is due least."""

    def __init__(self, slots: int) -> None:
        self.free = slots
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    async def acquire(self, due: float) -> None:
        if self.free > 0 and not self._waiters:
            self.free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (due, next(self._seq), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot, then cancelled before taking it: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():  # a cancelled waiter's entry is skipped
                waiter.set_result(None)
                return
        self.free += 1

    def waiting(self) -> int:
        return sum(1 for _, _, w in self._waiters if not w.done())

    @contextlib.asynccontextmanager
    async def held(self, due: float) -> AsyncIterator[None]:
        await self.acquire(due)
        try:
            yield
        finally:
            self.release()


@dataclass
class Scheduler:
    results: ResultStore
    metrics: SelfMetrics
    lookup: ProbeLookup = field(default=lambda kind: KINDS[kind].probe())
    _jobs: dict[tuple[str, str], Job] = field(default_factory=dict)
    _heap: list[tuple[float, int, tuple[str, str], int]] = field(default_factory=list)
    _seq: Any = field(default_factory=itertools.count)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Slots in use by kind (background kinds) and by host, and the due jobs waiting for one.
    _busy: dict[str, int] = field(default_factory=dict)
    _queued: dict[str, collections.deque[tuple[Job, float]]] = field(default_factory=dict)
    _kind_limit: int = 1
    _background: DueSlots | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _ctx: ProbeContext | None = None
    _global: asyncio.Semaphore | None = None
    _bounds: Concurrency = field(default_factory=Concurrency)
    _stopping: bool = False
    _epoch: float = 0.0  # loop time the slots count from

    # --- configuration -------------------------------------------------------

    def apply(self, ctx: ProbeContext) -> None:
        """Make the job set match ``ctx.config``: add, retime and drop jobs."""
        cfg = ctx.config
        if not isinstance(cfg, Config):
            raise TypeError("the scheduler runs the app's configuration (agent.registry.config.Config)")
        loop_now = asyncio.get_running_loop().time()
        if self._ctx is None:
            self._epoch = loop_now
        if self._global is None or cfg.concurrency.total != getattr(self._ctx, "config", cfg).concurrency.total:
            total = cfg.concurrency.total
            background = max(1, int(total * BACKGROUND_SHARE))
            self._global = asyncio.Semaphore(total)
            self._background = DueSlots(background)
            self._kind_limit = max(1, int(background * KIND_SHARE))
        self._bounds = cfg.concurrency  # host and kind limits apply from the next admission
        self._ctx = ctx
        wanted: dict[tuple[str, str], tuple[Target, str, str]] = {}
        counts: collections.Counter[str] = collections.Counter()
        for target, kinds in kinds_by_target(cfg):
            tkey, host = target_key(target), target.host
            for k in kinds:
                wanted[(tkey, k.name)] = (target, k.name, host)
                counts[k.name] += 1
        spread = {kind: first_spread(kind, n, cfg.intervals.of(kind)) for kind, n in counts.items()}
        for key in [k for k in self._jobs if k not in wanted]:
            self._jobs.pop(key).removed = True
            self.results.forget(key[0], [key[1]])  # e.g. tls after a site moved to http://
        for key, (target, kind, host) in wanted.items():
            interval = cfg.intervals.of(kind)
            job = self._jobs.get(key)
            if job is None:
                share = _share(key)
                first = loop_now + share * spread[kind]
                job = Job(target, kind, interval, first, host, key[0], slot=share * interval)
                self._jobs[key] = job
                self._push(job)
            else:
                job.target, job.host = target, host
                if job.interval != interval:
                    job.interval, job.slot = interval, _offset(key, interval)
                    job.due = min(job.due, self._next_slot(job, loop_now))
                    job.generation += 1
                    if not job.running:
                        self._push(job)
        self.results.retain({key[0] for key in wanted})
        self._wake.set()

    def jobs(self) -> int:
        return len(self._jobs)

    def _next_slot(self, job: Job, after: float) -> float:
        """The first time after ``after`` that falls on the job's slot."""
        base = self._epoch + job.slot
        return base + (math.floor((after - base) / job.interval) + 1) * job.interval

    def _push(self, job: Job) -> None:
        heapq.heappush(self._heap, (job.due, next(self._seq), job.key, job.generation))

    # --- running -------------------------------------------------------------

    async def run(self) -> None:
        """Dispatch due jobs until :meth:`stop`."""
        loop = asyncio.get_running_loop()
        while not self._stopping:
            now = loop.time()
            while self._heap and self._heap[0][0] <= now:
                due, _, key, generation = heapq.heappop(self._heap)
                job = self._jobs.get(key)
                if job is None or job.generation != generation or job.running:
                    continue  # dropped or retimed since it was queued
                job.running = True
                self._admit(job, due)
            wait = self._heap[0][0] - now if self._heap else 60.0
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(wait, 0.0))
            except TimeoutError:
                pass

    # --- admission: kind slot, then host slot, then a task --------------------

    def _admit(self, job: Job, due: float) -> None:
        if KINDS[job.kind].background and not self._take(f"kind {job.kind}", self._kind_limit, job, due):
            return
        self._admit_host(job, due)

    def _admit_host(self, job: Job, due: float) -> None:
        if self._take(f"host {job.host}", self._bounds.for_host(job.host), job, due):
            task = asyncio.create_task(self._run(job, due), name=f"probe {job.kind} {target_key(job.target)}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self, slot: str, limit: int, job: Job, due: float) -> bool:
        """Take one of ``slot``'s ``limit`` places for ``job``, or queue the job for it."""
        if self._busy.get(slot, 0) < limit:
            self._busy[slot] = self._busy.get(slot, 0) + 1
            return True
        self._queued.setdefault(slot, collections.deque()).append((job, due))
        return False

    def _release(self, slot: str, then: Callable[[Job, float], None]) -> None:
        """Give ``slot``'s place to the next job queued for it (``then`` admits it further)."""
        self._busy[slot] -= 1
        queue = self._queued.get(slot)
        while queue:
            job, due = queue.popleft()
            if job.removed or self._stopping:
                self._drop(job, slot)
                continue
            then(job, due)  # takes the place (or queues again, if the limit shrank meanwhile)
            break
        if queue is not None and not queue:
            self._queued.pop(slot, None)
        if not self._busy[slot] and slot not in self._queued:
            del self._busy[slot]

    def _drop(self, job: Job, slot: str) -> None:
        """A queued job that will not run (removed by a reload, or stopping)."""
        job.running = False
        if slot.startswith("host ") and KINDS[job.kind].background:
            self._release(f"kind {job.kind}", self._admit)  # the kind slot it held while queued

    def queued(self) -> int:
        """Due jobs waiting for a slot (not yet tasks)."""
        return sum(len(q) for q in self._queued.values())

    async def _run(self, job: Job, due: float) -> None:
        loop = asyncio.get_running_loop()
        ctx = self._ctx
        assert ctx is not None and self._global is not None and self._background is not None
        kind = KINDS[job.kind]
        try:
            async with contextlib.AsyncExitStack() as slots:
                if kind.background:
                    await slots.enter_async_context(self._background.held(due))
                await slots.enter_async_context(self._global)
                started = loop.time()
                self.metrics.scheduler_lag.labels(job.kind).observe(max(0.0, started - due))
                self.metrics.in_flight.inc()
                try:
                    result = await self._probe(job, ctx)
                finally:
                    self.metrics.in_flight.dec()
                self.metrics.probe_duration.labels(job.kind).observe(loop.time() - started)
            self.metrics.runs.labels(job.kind, "success" if result.success else "failure").inc()
            if not job.removed:
                self.results.record(target_key(job.target), result)
        finally:
            job.running = False
            if not job.removed and not self._stopping:
                # Keep to the slot; a run that overran its interval starts again now.
                job.due = max(self._next_slot(job, due), loop.time())
                self._push(job)
                self._wake.set()
            self._release(f"host {job.host}", self._admit_host)
            if kind.background:
                self._release(f"kind {job.kind}", self._admit)

    async def _probe(self, job: Job, ctx: ProbeContext) -> Result:
        assert isinstance(ctx.config, Config)
        limit = deadline(job.kind, job.target, ctx.config)
        kind = KINDS[job.kind]
        started = ctx.clock()
        try:
            async with ctx.net.in_use(), asyncio.timeout(limit):
                return await self.lookup(job.kind)(job.target, ctx)
        except TimeoutError:
            return kind.fails(f"probe cut off after {limit:g}s", started=started, duration=limit)
        except Exception as e:  # noqa: BLE001 — a probe that raises has a bug; the agent goes on
            log.exception("probe %s for %s raised", job.kind, target_key(job.target))
            return kind.fails(f"bug: {type(e).__name__}: {e}", started=started)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop dispatching; give running probes ``grace`` seconds, then cancel them."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
