"""The demo's feeds give the findings their notes promise, probed over loopback."""

from __future__ import annotations

import time

from aiohttp import web

from agent.demo.feeds import FEEDS, demo_accounts, feeds_app
from agent.registry.config import loads
from agent.run.state import StateStore
from probes import feed
from probes.context import ProbeContext
from probes.net import Network


async def test_every_demo_feed_shows_its_finding() -> None:
    start = time.time()
    runner = web.AppRunner(feeds_app(lambda: start))  # one hour-bucket: ETags stay put
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    cfg = loads("accounts:\n" + demo_accounts(f"http://127.0.0.1:{runner.addresses[0][1]}"))
    net = Network(cfg.dns, cfg.tls, cfg.http)
    ctx = ProbeContext(config=cfg, net=net, state=StateStore(None))
    try:
        first = {a.id: await feed.probe(a, ctx) for a in cfg.accounts}
        second = {a.id: await feed.probe(a, ctx) for a in cfg.accounts}
    finally:
        await net.close()
        await runner.cleanup()
    assert [a.id for a in cfg.accounts] == [f.id for f in FEEDS]
    now = time.time()
    silent = {i for i, r in first.items() if r.success and r.last_entry is not None and now - r.last_entry > 14 * 86400}
    failed = {i for i, r in first.items() if not r.success}
    assert silent == {"chaozhou-forestry-wechat", "chaoan-health-wechat"}
    assert failed == {"chaozhou-eco-weibo", "chaozhou-justice-weibo"}
    assert {i for i, r in first.items() if r.not_deregistered} == {"chaoan-fda-wechat", "chaoan-health-wechat"}
    assert {r.format for r in first.values() if r.success} == {"rss2.0", "atom", "json1.1"}
    # The demo server honours ETags: the second round of readable feeds is all 304s.
    assert all(r.unchanged for i, r in second.items() if i not in failed)
