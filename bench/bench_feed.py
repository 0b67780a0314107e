"""Feed probe benchmark: is 150,000 accounts checked hourly one core's work?

    /tmp/venv0/bin/python bench/bench_feed.py [--probes 2000] [--accounts 150000]

Measures, for a typical 50-entry RSS 2.0 feed of a WeChat account as RSSHub serves it
(titles, links, GMT dates, ~1 KB of HTML per description):

* parse + judge alone, on the fast ElementTree path and on feedparser for comparison;
* the full probe over loopback HTTP (state in SQLite on disk, backoff and memo
  reads/writes included), with the feed server in a *separate process* so that
  the CPU counted is the agent's alone — both a 200 with a body and a 304;
* memory of a registry of 150,000 accounts with one FeedResult each.

The budget: 3600 s / 150,000 accounts = 24 ms of CPU per feed per hourly round.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import socket
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.registry.config import Account, Config, loads  # noqa: E402
from agent.run.state import StateStore  # noqa: E402
from probes import feed  # noqa: E402
from probes.context import ProbeContext  # noqa: E402
from probes.feed import Memo, judge  # noqa: E402
from probes.feedparse import _parse_feedparser, parse  # noqa: E402
from probes.net import Network  # noqa: E402
from probes.results import FeedResult  # noqa: E402

BUDGET_MS = 3600 / 150_000 * 1000


def typical_feed(now: float, entries: int = 50) -> bytes:
    items = "".join(
        f"<item><title>平安潮州：第{i}期 潮州市公安局工作动态</title>"
        f"<link>https://mp.weixin.qq.com/s/abcdefghijklmnop{i}</link><guid>https://mp.weixin.qq.com/s/abcdefghijklmnop{i}</guid>"
        f"<pubDate>{format_datetime(datetime.fromtimestamp(now - i * 7 * 3600, UTC), usegmt=True)}</pubDate>"
        f"<description><![CDATA[<p>{'为进一步加强辖区治安管理，' * 30}</p><img src='https://x/{i}.jpg'>]]></description>"
        f"<author>平安潮州</author></item>"
        for i in range(entries)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>平安潮州</title>'
        f"<link>https://mp.weixin.qq.com/</link><description>潮州市公安局</description>{items}</channel></rss>"
    ).encode()


def cpu_per_call(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n


def bench_parse(body: bytes, now: float) -> list[tuple[str, float]]:
    fast = cpu_per_call(lambda: judge(parse(body, "application/rss+xml"), Memo(), now, 14 * 86400), 500)
    slow = cpu_per_call(lambda: _parse_feedparser(body, "application/rss+xml"), 20)
    return [("parse+judge, fast path (ElementTree)", fast), ("parse, feedparser (fallback path)", slow)]


def _serve(sock: socket.socket, body: bytes) -> None:
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        if request.path.startswith("/etag/") and request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(body=body, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    web.run_app(app, sock=sock, print=None, handle_signals=True)


async def bench_probe(base: str, n: int, concurrency: int) -> list[tuple[str, float, float]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = loads(f"feeds: {{rsshub: '{base}'}}\n")
        net = Network(cfg.dns, cfg.tls, cfg.http)
        ctx = ProbeContext(config=cfg, net=net, state=StateStore(Path(tmp) / "xuncha.db"))
        sem = asyncio.Semaphore(concurrency)
        for label, prefix in (("full probe, 200 + 50 entries", "/plain/"), ("full probe, 304 Not Modified", "/etag/")):
            accounts = [
                Account(f"a{i}", "潮州市公安局", "wechat", "平安潮州", feed=f"{base}{prefix}{i}") for i in range(n)
            ]
            if prefix == "/etag/":  # first round stores the ETag
                await asyncio.gather(*(feed.probe(a, ctx) for a in accounts[:50]))
                accounts = accounts[:50] * (n // 50)

            async def one(a: Account) -> FeedResult:
                async with sem:
                    return await feed.probe(a, ctx)

            wall, cpu = time.perf_counter(), time.process_time()
            results = await asyncio.gather(*(one(a) for a in accounts))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert all(r.success for r in results), results[0].reason
            rows.append((f"{label} (concurrency {concurrency})", cpu / len(accounts), len(accounts) / wall))
        await net.close()
    return rows


def bench_memory(count: int) -> tuple[float, float]:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    accounts = tuple(
        Account(
            id=f"wechat-account-{i}",
            unit=f"潮州市某局{i % 500}",
            platform="wechat",
            name=f"平安潮州{i}",
            status="active",
            feed=f"http://rsshub.local:1200/wechat/mp/uid{i}",
            uid=f"uid{i}",
        )
        for i in range(count)
    )
    cfg = Config(accounts=accounts)
    now = time.time()
    results = {
        a.id: FeedResult(
            success=True,
            started=now,
            duration_seconds=0.01,
            url=a.feed,
            status_code=200,
            last_entry=now - 3600,
            entries=20,
            entries_recent=8,
            format="rss2.0",
            details={
                "last_success": now,
                "newest_title": f"平安潮州：第{i}期 潮州市公安局工作动态",
                "newest_link": f"https://mp.weixin.qq.com/s/abcdefghijklmnop{i}",
            },
        )
        for i, a in enumerate(cfg.accounts)
    }
    traced = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del results
    return traced / 2**20, _rss_mib()


def _rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probes", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--accounts", type=int, default=150_000)
    args = ap.parse_args()
    now = time.time()
    body = typical_feed(now)

    print(f"typical feed: 50 entries, {len(body) / 1024:.0f} KiB; budget {BUDGET_MS:.1f} ms CPU per feed\n")
    print(f"{'measure':<58} {'CPU ms/feed':>12} {'feeds/s':>10} {'x budget':>9}")
    for label, cpu in bench_parse(body, now):
        print(f"{label:<58} {cpu * 1000:>12.2f} {1 / cpu:>10.0f} {cpu * 1000 / BUDGET_MS:>9.2f}")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    ctx = multiprocessing.get_context("fork")
    server = ctx.Process(target=_serve, args=(sock, body), daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        time.sleep(0.5)
        for label, cpu, rate in asyncio.run(bench_probe(base, args.probes, args.concurrency)):
            print(f"{label:<58} {cpu * 1000:>12.2f} {rate:>10.0f} {cpu * 1000 / BUDGET_MS:>9.2f}")
    finally:
        server.terminate()
        server.join()

    rss_before = _rss_mib()
    traced, rss_after = bench_memory(args.accounts)
    print(
        f"\nmemory, {args.accounts} accounts + one FeedResult each: {traced:.0f} MiB traced "
        f"({traced * 2**20 / args.accounts:.0f} B/account); process RSS {rss_before:.0f} → {rss_after:.0f} MiB"
    )
    print(f"pid {os.getpid()}")


if __name__ == "__main__":
    main()
