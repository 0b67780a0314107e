"""The scheduler on its own, with probe functions swapped in (the ``lookup`` seam)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from agent.exposition.selfmetrics import SelfMetrics
from agent.kinds import jobs_for
from agent.registry.config import Account, Config, Site, loads
from agent.run.results import ResultStore
from agent.run.scheduler import Scheduler, _offset
from agent.run.state import StateStore
from probes.context import ProbeContext
from probes.net import Network
from probes.results import HttpResult, Result

CFG = """
intervals: {http: 1s, dns: 1h, tls: 1h, content: 1h, links: 1h, feed: 1h}
http: {timeout: 1s}
sites:
  - {code: "4405070010", name: a, url: "http://a.gov.cn/"}
  - {code: "4405150006", name: b, url: "https://b.gov.cn/"}
accounts:
  - {id: chaozhou-police, unit: 潮州市公安局, platform: wechat, name: 平安潮州, feed: "http://rss.example/x"}
"""


def make(lookup: Any) -> tuple[Scheduler, ResultStore, ProbeContext]:
    cfg = loads(CFG)
    results = ResultStore()
    scheduler = Scheduler(results, SelfMetrics(CollectorRegistry()), lookup=lookup)
    ctx = ProbeContext(config=cfg, net=Network(cfg.dns, cfg.tls, cfg.http), state=StateStore(None))
    return scheduler, results, ctx


@contextlib.asynccontextmanager
async def running(scheduler: Scheduler, ctx: ProbeContext, grace: float = 5.0) -> AsyncIterator[None]:
    scheduler.apply(ctx)
    task = asyncio.create_task(scheduler.run())
    try:
        yield
    finally:
        await scheduler.stop(grace=grace)
        await task
        await ctx.net.close()


async def always_up(target: Site | Account, ctx: ProbeContext) -> Result:
    return HttpResult(success=True, started=time.time())


def test_jobs_cover_every_kind_that_applies() -> None:
    cfg = loads(CFG)
    kinds = {(getattr(t, "code", None) or t.id, k) for t, k in jobs_for(cfg)}
    assert kinds == {
        ("4405070010", "http"),
        ("4405070010", "dns"),
        ("4405070010", "content"),
        ("4405070010", "links"),
        ("4405070010", "services"),
        ("4405070010", "interaction"),  # every open site: its consultation channels, discovered if none is configured
        ("4405150006", "http"),
        ("4405150006", "dns"),
        ("4405150006", "tls"),
        ("4405150006", "content"),
        ("4405150006", "interaction"),
        ("4405150006", "links"),
        ("4405150006", "services"),
        ("chaozhou-police", "feed"),
    }


def test_start_offsets_are_spread_and_stable() -> None:
    offsets = [_offset((f"site/44050700{i:02d}", "http"), 300) for i in range(100)]
    assert all(0 <= o < 300 for o in offsets)
    assert len({round(o) for o in offsets}) > 50  # spread, not a stampede
    assert offsets == [_offset((f"site/44050700{i:02d}", "http"), 300) for i in range(100)]


def test_jobs_grouped_by_target_are_the_same_jobs() -> None:
    from agent.kinds import kinds_by_target

    cfg = loads(CFG)
    grouped = [(t, k.name) for t, kinds in kinds_by_target(cfg) for k in kinds]
    assert grouped == jobs_for(cfg)


@pytest.mark.parametrize(("sites", "per_second"), [(100, 0.1), (100, 8.0)])
async def test_first_runs_come_within_a_minute_and_the_6_hourly_page_readers_spread_when_many(
    sites: int, per_second: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At start-up the availability, content and feed kinds run in the first minute; links,
    services and interaction (6-hourly, several pages each) too while they are few, else spread by
    their number up to 15 minutes (issue 21). ``per_second`` 0.1 makes 100 sites "many"."""
    monkeypatch.setattr("agent.run.scheduler.FIRST_RUNS_PER_SECOND", per_second)
    entries = "".join(
        f"  - {{code: '44050700{i:02d}', name: s{i}, url: 'https://s{i}.gov.cn/'}}\n" for i in range(sites)
    )
    cfg = loads("sites:\n" + entries)
    scheduler = Scheduler(ResultStore(), SelfMetrics(CollectorRegistry()), lookup=lambda kind: always_up)
    scheduler.apply(ProbeContext(config=cfg, net=Network(cfg.dns, cfg.tls, cfg.http), state=StateStore(None)))
    first: dict[str, list[float]] = {}
    for (_, kind), job in scheduler._jobs.items():
        first.setdefault(kind, []).append(job.due - scheduler._epoch)
    for kind in ("http", "dns", "tls", "content"):
        assert max(first[kind]) < 60, kind
    for kind in ("links", "services", "interaction"):
        if per_second == 8.0:  # 100 sites: a minute's worth at 8 a second
            assert max(first[kind]) < 60, kind
        else:  # 1,000 s wanted, 900 s at most; most after the first minute
            assert max(first[kind]) < 900 and sum(d > 60 for d in first[kind]) > 80, kind


async def test_a_probe_that_raises_is_a_failed_result_and_the_schedule_goes_on() -> None:
    calls: list[str] = []

    async def probe(target: Site | Account, ctx: ProbeContext) -> Result:
        calls.append(target.code if isinstance(target, Site) else target.id)
        if isinstance(target, Site) and target.code == "4405070010":
            raise RuntimeError("boom")
        return HttpResult(success=True, started=time.time())

    scheduler, results, ctx = make(lambda kind: probe)
    async with running(scheduler, ctx):
        await asyncio.sleep(2.5)
    broken = results.latest("site/4405070010")["http"]
    assert not broken.success and broken.reason == "bug: RuntimeError: boom"
    assert calls.count("4405070010") >= 2  # rescheduled after the bug
    assert results.latest("site/4405150006")["http"].success


async def test_a_hanging_probe_is_cut_off_at_its_deadline_without_delaying_others() -> None:
    async def probe(target: Site | Account, ctx: ProbeContext) -> Result:
        if isinstance(target, Site) and target.code == "4405070010":
            await asyncio.sleep(3600)  # ignores its own timeout: a bug the deadline catches
        return HttpResult(success=True, started=time.time())

    scheduler, results, ctx = make(lambda kind: probe)
    async with running(scheduler, ctx, grace=0.1):
        await asyncio.sleep(1.5)
        healthy = results.latest("site/4405150006").get("http")
        assert healthy is not None and healthy.success  # not held up by the hanging one
        await asyncio.sleep(6)  # deadline for http is timeout (1s) + 5s
        cut = results.latest("site/4405070010").get("http")
        assert cut is not None and not cut.success and cut.reason == "probe cut off after 6s"


async def test_removing_a_site_drops_its_jobs_and_results() -> None:
    scheduler, results, ctx = make(lambda kind: always_up)
    async with running(scheduler, ctx):
        await asyncio.sleep(1.5)
        assert results.latest("site/4405070010")
        smaller = loads(CFG.replace('  - {code: "4405070010", name: a, url: "http://a.gov.cn/"}\n', ""))
        scheduler.apply(ProbeContext(config=smaller, net=ctx.net, state=ctx.state))
        assert scheduler.jobs() == 8  # b: http, dns, tls, content, links, services, interaction; the account: feed
        await asyncio.sleep(1.2)
        assert results.latest("site/4405070010") == {}


async def test_first_runs_come_within_a_minute_and_later_runs_keep_their_slot() -> None:
    scheduler, _, ctx = make(lambda kind: always_up)
    scheduler.apply(ctx)
    await ctx.net.close()
    job = scheduler._jobs[("site/4405070010", "content")]  # interval 1h
    first = job.due - scheduler._epoch
    assert 0 <= first < 60
    later = [scheduler._next_slot(job, job.due)]
    later.append(scheduler._next_slot(job, later[0]))
    assert [(t - scheduler._epoch) % 3600 for t in later] == pytest.approx([job.slot, job.slot])
    assert later[1] - later[0] == pytest.approx(3600)


def test_the_links_deadline_leaves_room_for_the_probes_own_budget() -> None:
    from agent.run.scheduler import deadline
    from probes.links import budget

    cfg = loads(CFG.replace("links: 1h", "links: 6h"))
    site = cfg.sites[0]
    # The probe stops its checks at its budget and reports what it has; the scheduler's
    # cut-off (which loses everything) must come only after that.
    assert deadline("links", site, cfg) > cfg.content.timeout + budget(cfg)
    assert budget(cfg) == 900


FLEET = """
intervals: {http: 1s, dns: 1h, tls: 1h, content: 1s, links: 1s, feed: 1h}
http: {timeout: 1s}
concurrency: {total: 4, per_host: 4}
sites:
""" + "".join(f'  - {{code: "44050700{i:02d}", name: s{i}, url: "http://s{i}.gov.cn/"}}\n' for i in range(1, 11))


async def test_link_checks_stuck_on_a_tarpit_never_take_availability_or_contents_slots() -> None:
    # Every links run hangs (a homepage full of links to a tarpit); with 4 slots in all, the
    # homepage visits of all ten sites and the content runs must still keep their schedule.
    runs: dict[str, int] = {}
    stuck = 0

    async def probe(target: Site | Account, ctx: ProbeContext) -> Result:
        return HttpResult(success=True, started=time.time())

    def lookup(kind: str) -> Any:
        async def run(target: Site | Account, ctx: ProbeContext) -> Result:
            nonlocal stuck
            runs[kind] = runs.get(kind, 0) + 1
            if kind == "links":
                stuck += 1
                await asyncio.sleep(3600)
            return await probe(target, ctx)

        return run

    cfg = loads(FLEET)
    results = ResultStore()
    scheduler = Scheduler(results, SelfMetrics(CollectorRegistry()), lookup=lookup)
    ctx = ProbeContext(config=cfg, net=Network(cfg.dns, cfg.tls, cfg.http), state=StateStore(None))
    async with running(scheduler, ctx, grace=0.1):
        await asyncio.sleep(4)
    assert stuck == 1  # links: at most half of the background half of 4 slots
    assert runs["http"] >= 10 * 3  # every site visited about once a second
    assert runs["content"] >= 10  # the other background kind still runs


def _feeds(n: int, *, hosts: int = 1) -> str:
    rows = "".join(
        f"  - {{id: acc{i}, unit: 潮州市公安局, platform: wechat, name: 号{i}, feed: 'http://rss{i % hosts}.example/{i}'}}\n"
        for i in range(n)
    )
    return (
        "intervals: {http: 1h, dns: 1h, tls: 1h, content: 1h, links: 1h, feed: 1h}\n"
        "concurrency: {total: 16, per_host: 3}\n"
        f"accounts:\n{rows}"
    )


def _gated_feeds(n: int, hosts: int) -> tuple[Scheduler, ProbeContext, asyncio.Event, list[str]]:
    """A scheduler on ``n`` feeds whose probes wait for ``gate``; ``ran`` lists the feeds run."""
    gate = asyncio.Event()
    ran: list[str] = []

    async def feed(target: Site | Account, ctx: ProbeContext) -> Result:
        await gate.wait()
        ran.append(target.id)  # type: ignore[union-attr]
        return HttpResult(success=True, started=time.time())

    cfg = loads(_feeds(n, hosts=hosts))
    scheduler = Scheduler(ResultStore(), SelfMetrics(CollectorRegistry()), lookup=lambda kind: feed)
    ctx = ProbeContext(config=cfg, net=Network(cfg.dns, cfg.tls, cfg.http), state=StateStore(None))
    return scheduler, ctx, gate, ran


async def test_due_jobs_wait_as_queue_entries_not_tasks_and_all_run() -> None:
    """A start-up burst of 2,000 feeds on two hosts: no more tasks than slots, then every feed runs."""
    scheduler, ctx, gate, ran = _gated_feeds(2000, hosts=2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("agent.run.scheduler.FIRST_RUN_SPREAD", 0.5)
        async with running(scheduler, ctx, grace=0.1):
            await asyncio.sleep(1.0)  # every feed is due
            probes = [t for t in asyncio.all_tasks() if t.get_name().startswith("probe ")]
            # 16 slots: 8 for the background kinds, 4 for feeds; 3 a host
            assert len(probes) == 4 and scheduler.queued() == 2000 - 4
            gate.set()
            for _ in range(100):
                if len(set(ran)) == 2000:
                    break
                await asyncio.sleep(0.1)
    assert len(set(ran)) == 2000  # (a feed whose slot in the hour came soon after may have run twice)


async def test_a_queued_job_removed_by_a_reload_gives_its_slot_back() -> None:
    scheduler, ctx, gate, ran = _gated_feeds(40, hosts=4)
    cfg = ctx.config
    assert isinstance(cfg, Config)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("agent.run.scheduler.FIRST_RUN_SPREAD", 0.5)
        async with running(scheduler, ctx, grace=0.1):
            await asyncio.sleep(1.0)
            assert scheduler.queued() == 40 - 4
            kept = cfg.accounts[:10]  # a reload drops 30 feeds, most of them queued
            scheduler.apply(ProbeContext(config=dataclasses.replace(cfg, accounts=kept), net=ctx.net, state=ctx.state))
            gate.set()
            for _ in range(50):
                if not scheduler.queued() and not scheduler._busy and len(ran) >= 4:
                    break
                await asyncio.sleep(0.1)
            assert scheduler.queued() == 0 and scheduler._busy == {}  # no slot held by a dropped job
    assert {a.id for a in kept} <= set(ran) and len(set(ran)) <= 14  # the 4 running when it came, and the kept


async def test_background_slots_go_to_the_earliest_due_not_the_first_come() -> None:
    """Feeds due a minute ago before a links run due now, whatever order they asked in (issue 21:
    first come, every background kind got the same runs a minute, and 150,000 feeds waited)."""
    from agent.run.scheduler import DueSlots

    slots = DueSlots(1)
    await slots.acquire(0.0)  # the one slot, held
    order: list[str] = []

    async def want(name: str, due: float) -> None:
        async with slots.held(due):
            order.append(name)
            await asyncio.sleep(0.01)

    tasks = [
        asyncio.create_task(want(n, d))
        for n, d in [("links", 50.0), ("feed a", 10.0), ("content", 30.0), ("feed b", 20.0)]
    ]
    await asyncio.sleep(0.01)  # all four wait, in the order they came
    slots.release()
    await asyncio.gather(*tasks)
    assert order == ["feed a", "feed b", "content", "links"]
    assert slots.free == 1 and slots.waiting() == 0


async def test_a_cancelled_waiter_never_loses_a_slot() -> None:
    from agent.run.scheduler import DueSlots

    slots = DueSlots(1)
    await slots.acquire(0.0)
    gone = asyncio.create_task(slots.acquire(1.0))
    handed = asyncio.create_task(slots.acquire(2.0))
    last = asyncio.create_task(slots.acquire(3.0))
    await asyncio.sleep(0)
    gone.cancel()  # cancelled while waiting: its place is skipped
    await asyncio.sleep(0)
    slots.release()  # to "handed" (2.0) ...
    handed.cancel()  # ... cancelled before it ran: the slot goes on to "last"
    await asyncio.gather(gone, handed, return_exceptions=True)
    await asyncio.wait_for(last, 1)
    slots.release()
    assert slots.free == 1 and slots.waiting() == 0
