"""/metrics latency under concurrent scrapers, with and without TLS + basic auth (issue 10).

    .venv/bin/python bench/web_scrape.py [--sites 1000] [--scrapers 50] [--rounds 10]

The agent runs in a process of its own (``xuncha run``) with ``--sites`` synthetic sites whose
probes never run (intervals 1h, addresses that refuse at once); this process is the scrapers.
Each of ``--scrapers`` clients scrapes ``--rounds`` times on its own keep-alive connection.
Prints p50/p99/max latency and the agent's RSS, once open and once with a web configuration
(TLS from a trustme CA, bcrypt cost 10 basic auth), so the cost of the defences is visible.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import ssl
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import bcrypt
import trustme

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _proc import cpu_and_hwm, tree  # noqa: E402

from agent.demo.hostile import free_port  # noqa: E402


def rss_mib(pid: int) -> float:
    return cpu_and_hwm(tree(pid))[2] / 2**20


async def run(tmp: Path, sites: int, scrapers: int, rounds: int, secure: bool) -> None:
    port = free_port()
    rows = "".join(
        f'  - {{code: "440507{i:04d}", name: 站点{i}, url: "http://127.0.0.1:9/{i}/"}}\n' for i in range(sites)
    )
    (tmp / "xuncha.yml").write_text(
        f'listen: "127.0.0.1:{port}"\nstate_dir: {tmp / "state"}\n'
        "intervals: {http: 1h, dns: 1h, tls: 1h, content: 1h, links: 1h, feed: 1h}\nsites:\n" + rows,
        encoding="utf-8",
    )
    argv = [sys.executable, "-m", "agent", "run", "-c", str(tmp / "xuncha.yml")]
    ctx: ssl.SSLContext | None = None
    headers: dict[str, str] = {}
    scheme = "http"
    if secure:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        cert.cert_chain_pems[0].write_to_path(str(tmp / "c.crt"))
        cert.private_key_pem.write_to_path(str(tmp / "c.key"))
        hashed = bcrypt.hashpw(b"bench", bcrypt.gensalt(10)).decode()
        (tmp / "web.yml").write_text(
            f"tls_server_config: {{cert_file: c.crt, key_file: c.key}}\nbasic_auth_users: {{prometheus: '{hashed}'}}\n",
            encoding="utf-8",
        )
        argv.append(f"--web.config.file={tmp / 'web.yml'}")
        ctx = ssl.create_default_context()
        ca.configure_trust(ctx)
        headers["Authorization"] = "Basic " + base64.b64encode(b"prometheus:bench").decode()
        scheme = "https"
    proc = await asyncio.create_subprocess_exec(*argv, stderr=asyncio.subprocess.DEVNULL)
    url = f"{scheme}://127.0.0.1:{port}/metrics"
    try:
        async with aiohttp.ClientSession(headers=headers) as s:
            for _ in range(100):
                try:
                    async with s.get(url, ssl=ctx or True) as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
        latencies: list[float] = []

        async def scraper() -> None:
            async with aiohttp.ClientSession(headers={**headers, "Accept-Encoding": "gzip"}) as s:
                for _ in range(rounds):
                    t0 = time.perf_counter()
                    async with s.get(url, ssl=ctx or True) as r:
                        await r.read()
                        assert r.status == 200, r.status
                    latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(scraper() for _ in range(scrapers)))
        wall = time.perf_counter() - t0
        latencies.sort()
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
        print(
            f"{'TLS + basic auth' if secure else 'open           '}: {len(latencies)} scrapes of {sites} sites by "
            f"{scrapers} scrapers in {wall:.1f} s; p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms; agent RSS {rss_mib(proc.pid):.0f} MiB"
        )
    finally:
        proc.terminate()
        await proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--scrapers", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    for secure in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(Path(tmp), args.sites, args.scrapers, args.rounds, secure))


if __name__ == "__main__":
    main()
