"""Benchmark of the content path (issue 3): is judging a page cheap next to fetching it?

Measures, on a realistic ~100 KB GBK homepage (header with today's date,
navigation, eight news blocks of dated items, links, footer with every required
element) and two column pages:

* the pure judge (decode, parse, dates, columns, compliance, serious errors,
  privacy) over already-fetched bytes: pages/second and CPU per page;
* one full ``content`` probe run over loopback HTTPS (homepage + 2 columns);
* the CPU of fetching the homepage over HTTPS with a fresh connection each time
  through ``probes.net.Network`` — the server runs in a child process so that
  only the client's CPU is counted;
* the floor under any judge built on this parser: decoding and lexbor parsing
  alone (and the nesting-depth scan that guards the parser);
* memory (tracemalloc) of a 10,000-site registry plus a ContentResult each.

CPU figures are process CPU time, measured in ``--trials`` trials of
``--rounds`` rounds, judge trials alternating with fetch trials; the median and the
minimum over the trials are shown (the host is shared: the minimum is the
undisturbed cost, the median what a busy host sees).

Target: judging a page costs less than a quarter of the CPU of fetching it.

    python bench/bench_content.py [--rounds N] [--trials T]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import random
import ssl
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from agent.registry.config import Column, loads
from agent.run.state import StateStore
from probes import content_probe
from probes.content import dates, extract
from probes.content.decode import decode
from probes.context import ProbeContext
from probes.net import Fetched, Network

NOW = dates.to_timestamp(2026, 11, 20, 10, 0) or 0.0
WORDS = "区政府召开常务会议研究部署安全生产工作关于开展消防检查的通知我区举行秋季运动会领导调研重点项目建设乡村振兴"


def _title(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(10, 24)))


def homepage(rng: random.Random, target: int = 100_000) -> str:
    nav = "".join(f"<li><a href='/col{i}/' target=_blank>栏目{i}名称</a></li>" for i in range(15))
    head = (
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'>"
        "<title>汕头市龙湖区人民政府门户网站</title><link rel=stylesheet href=/css/main.css>"
        "<script src=/js/jquery.min.js></script><style>" + ".a{color:red}" * 200 + "</style></head><body>"
        "<div class=top><span>今天是2026年11月20日 星期五</span><a href=#>设为首页</a><a href=#>加入收藏</a></div>"
        f"<div id=nav><ul>{nav}</ul></div>"
    )
    foot = (
        "<div class=foot>主办：汕头市龙湖区人民政府 网站标识码：4405070010 <a href=https://beian.miit.gov.cn/>"
        "粤ICP备05080455号</a> 粤公网安备 44050702000123号 <a href='https://bszs.conac.cn/sitename?id=1'>"
        "<img src=/red.png alt=党政机关></a><script src='https://zfwzgl.www.gov.cn/exposure/jiucuo.js'></script>"
        "Copyright &copy; 2003-2026 版权所有</div></body></html>"
    )
    blocks: list[str] = []
    n = 0
    while len((head + "".join(blocks) + foot).encode("gbk")) < target:
        rows = "".join(
            f"<li class=item><span class=dot></span><a href='/art/2026/{n}_{i}.html' title='{_title(rng)}' "
            f"target=_blank>{_title(rng)}</a><span class=date>2026-{rng.randint(1, 11):02d}-{rng.randint(1, 19):02d}"
            "</span></li>"
            for i in range(10)
        )
        blocks.append(
            f"<div class='block b{n}'><div class=hd><h3>新闻{n}</h3><a href=/more{n}/>更多</a></div>"
            f"<div class=bd><ul>{rows}</ul></div></div>"
        )
        n += 1
    return head + "".join(blocks) + foot


def fetched(url: str, body: bytes) -> Fetched:
    return Fetched(
        url=url, final_url=url, status=200, headers={"content-type": "text/html"}, body=body, body_bytes=len(body)
    )


Timing = tuple[float, float]  # (median, min) CPU seconds per call over the trials


def judge_cases(home: bytes, column: bytes) -> dict[str, Callable[[], object]]:
    """What is timed besides the fetch: the judge, and the floor under it."""
    cfg = loads('sites: [{code: "4405070010", name: 龙湖区, url: "https://www.lh.gov.cn/"}]')
    site = cfg.sites[0]
    cols = [
        Column("工作动态", "https://www.lh.gov.cn/gzdt/", "news"),
        Column("通知公告", "https://www.lh.gov.cn/tzgg/"),
    ]
    site = replace(site, columns=tuple(cols))
    words = content_probe.serious.default()
    home_f = fetched(site.url, home)
    col_pages = [(c, fetched(c.url, column)) for c in cols]
    text = decode(home, "text/html").text or ""
    content_probe.judge(site, home_f, col_pages, NOW, words)  # warm up
    return {
        "home": lambda: content_probe.judge(site, home_f, [], NOW, words),
        "full": lambda: content_probe.judge(site, home_f, col_pages, NOW, words),
        "decode": lambda: decode(home, "text/html"),
        "lexbor": lambda: extract.LexborHTMLParser(text),
        "depth": lambda: extract.depth_cut(text),
    }


def cpu_trial(fn: Callable[[], object], rounds: int) -> float:
    c = time.process_time()
    for _ in range(rounds):
        fn()
    return (time.process_time() - c) / rounds


def timing(per_call: list[float]) -> Timing:
    return statistics.median(per_call), min(per_call)


async def _serve(port_file: str, cert: str, key: str, home: bytes, column: bytes) -> None:
    async def handle(request: web.Request) -> web.Response:
        body = home if request.path == "/" else column
        return web.Response(body=body, headers={"Content-Type": "text/html; charset=gbk"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    Path(port_file).write_text(str(runner.addresses[0][1]))  # noqa: ASYNC240 — once, at start-up
    await asyncio.Event().wait()


async def bench_fetch(
    home: bytes, column: bytes, rounds: int, trials: int, cases: dict[str, Callable[[], object]]
) -> tuple[dict[str, Timing], float, float, float]:
    """CPU of fetching the homepage, in trials alternating with trials of each of ``cases``; then full probes."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ca.cert_pem.write_to_path(str(d / "ca.pem"))
        cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
        cert.private_key_pem.write_to_path(str(d / "key.pem"))
        (d / "home.html").write_bytes(home)
        (d / "col.html").write_bytes(column)
        child = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve", str(d))
        try:
            for _ in range(100):
                if (d / "port").exists() and (d / "port").read_text():
                    break
                await asyncio.sleep(0.05)
            port = int((d / "port").read_text())
            url = f"https://127.0.0.1:{port}/"
            cfg = loads(f"""
tls: {{ca_file: "{d / "ca.pem"}"}}
sites:
  - code: "4405070010"
    name: 龙湖区
    url: "{url}"
    columns: [{{name: 工作动态, url: "{url}gzdt/"}}, {{name: 通知公告, url: "{url}tzgg/", category: notice}}]
""")
            net = Network(cfg.dns, cfg.tls, cfg.http)
            got = await net.fetch(url)
            assert got.ok and got.body == home, got.error
            per_call: dict[str, list[float]] = {name: [] for name in [*cases, "fetch"]}
            for _ in range(trials):
                for name, fn in cases.items():
                    per_call[name].append(cpu_trial(fn, rounds))
                c = time.process_time()
                for _ in range(rounds):
                    got = await net.fetch(url)
                per_call["fetch"].append((time.process_time() - c) / rounds)
            ctx = ProbeContext(config=cfg, net=net, state=StateStore(None), clock=lambda: NOW)
            r = await content_probe.probe(cfg.sites[0], ctx)
            assert r.success, r.reason
            c, t = time.process_time(), time.perf_counter()
            for _ in range(rounds):
                await content_probe.probe(cfg.sites[0], ctx)
            probe_cpu = (time.process_time() - c) / rounds
            probe_wall = (time.perf_counter() - t) / rounds
            # In the agent a site's next content probe comes an interval later, when its keep-alive
            # connections are long gone: the same probe with the pools emptied before each run.
            cold = 0.0
            for _ in range(rounds):
                for pooled in net._pools.values():
                    await pooled.close()
                c = time.process_time()
                await content_probe.probe(cfg.sites[0], ctx)
                cold += time.process_time() - c
            probe_cold = cold / rounds
            await net.close()
        finally:
            child.kill()
            await child.wait()
    return {name: timing(v) for name, v in per_call.items()}, probe_cpu, probe_wall, probe_cold


def bench_memory(home: bytes, sites: int = 10_000) -> tuple[float, float]:
    lines = ["sites:"]
    for i in range(sites):
        lines.append(
            f'  - code: "44050{i:05d}"\n    name: 龙湖区第{i}号网站\n    url: "https://s{i}.lh.gov.cn/"\n'
            f'    columns: [{{name: 工作动态, url: "https://s{i}.lh.gov.cn/gzdt/"}}, '
            f'{{name: 通知公告, url: "https://s{i}.lh.gov.cn/tzgg/", category: notice}}]'
        )
    text = "\n".join(lines)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    cfg = loads(text)
    after_config = tracemalloc.get_traced_memory()[0]
    site = cfg.sites[0]
    one, _ = content_probe.judge(site, fetched(site.url, home), [], NOW, content_probe.serious.default())
    results = {s.code: replace(one, url=s.url, details=copy.deepcopy(one.details)) for s in cfg.sites}
    after_results = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(results) == sites
    return (after_config - base) / 2**20, (after_results - after_config) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20, help="rounds per trial")
    parser.add_argument("--trials", type=int, default=7)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        d = Path(args.serve)
        asyncio.run(
            _serve(
                str(d / "port"),
                str(d / "cert.pem"),
                str(d / "key.pem"),
                (d / "home.html").read_bytes(),
                (d / "col.html").read_bytes(),
            )
        )
        return
    rng = random.Random(20261120)
    home = homepage(rng).encode("gbk")
    column = homepage(rng, 40_000).encode("gbk")
    cases = judge_cases(home, column)
    t = time.perf_counter()
    for _ in range(args.rounds):
        cases["home"]()
    pages_per_second = args.rounds / (time.perf_counter() - t)
    judged, probe_cpu, probe_wall, probe_cold = asyncio.run(bench_fetch(home, column, args.rounds, args.trials, cases))
    fetch_cpu = judged["fetch"]
    config_mb, results_mb = bench_memory(home)
    floor: Timing = (judged["decode"][0] + judged["lexbor"][0], judged["decode"][1] + judged["lexbor"][1])
    print(
        f"homepage: {len(home) / 1024:.0f} KB GBK, column pages: {len(column) / 1024:.0f} KB, "
        f"{args.trials} trials of {args.rounds} rounds; CPU per call: median (min)"
    )

    def ms(t: Timing) -> str:
        return f"{t[0] * 1000:.2f} ({t[1] * 1000:.2f}) ms"

    def ratio(a: Timing, b: Timing) -> str:
        return f"{a[0] / b[0]:.2f} ({a[1] / b[1]:.2f})"

    rows = [
        ("judge homepage (decode+parse+dates+compliance+serious): CPU", ms(judged["home"])),
        ("judge homepage: pages/second (one core, wall)", f"{pages_per_second:.0f}"),
        ("judge homepage + 2 columns: CPU/site", ms(judged["full"])),
        ("HTTPS fetch of the homepage, fresh connection: client CPU", ms(fetch_cpu)),
        ("full content probe over loopback HTTPS (3 fetches): CPU", f"{probe_cpu * 1000:.2f} ms"),
        ("  the same, no idle keep-alive connection at the start: CPU", f"{probe_cold * 1000:.2f} ms"),
        ("full content probe over loopback HTTPS: wall", f"{probe_wall * 1000:.2f} ms"),
        ("ratio judge homepage / HTTPS fetch (target < 0.25)", ratio(judged["home"], fetch_cpu)),
        ("floor: decode alone", ms(judged["decode"])),
        ("floor: lexbor parse alone", ms(judged["lexbor"])),
        ("floor: ratio decode+parse / HTTPS fetch", ratio(floor, fetch_cpu)),
        ("nesting-depth scan (guards the parser)", ms(judged["depth"])),
        ("memory: 10,000-site registry (2 columns each)", f"{config_mb:.1f} MB"),
        ("memory: 10,000 ContentResults", f"{results_mb:.1f} MB"),
    ]
    print(f"{'measure':<60}{'value':>22}")
    for name, value in rows:
        print(f"{name:<60}{value:>22}")


if __name__ == "__main__":
    main()
