"""Loopback targets for the benchmarks, run in a process of their own.

``python bench/_targets.py --cert server.pem [--dns-host 127.0.0.1 --dns-port 0]``
serves one realistic ~100 KB government homepage on 127.0.0.1 over HTTP and
over HTTPS (the certificate chain and key in ``server.pem``), plus an
authoritative DNS zone (agent.demo.dnsserver) in which ``www.bench.gov.cn``
is 127.0.0.1.  It prints one JSON line with the ports, then serves until its
standard input closes — so the target dies with the bench and its CPU is never
counted in the process under measurement.

:func:`start` does the above from the bench side and returns a :class:`Targets`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import ssl
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

BENCH_HOST = "www.bench.gov.cn"
HERE = Path(__file__).resolve().parent
_NEWS = [
    "关于印发《2024年全市优化营商环境工作要点》的通知",
    "市政府常务会议研究部署安全生产和防汛工作",
    "我市召开推进高质量发展暨重点项目建设现场会",
    "关于公开征求《城市生活垃圾分类管理办法（征求意见稿）》意见的公告",
    "2024年第二季度政府信息公开工作情况通报",
    "区政务服务中心推行“一窗通办”改革",
    "全市义务教育阶段学校招生工作方案发布",
    "关于做好2024年度城乡居民基本医疗保险参保缴费工作的通知",
    "市领导调研乡村振兴重点工作",
    "政府网站年度工作报表",
]
_COLUMNS = ["要闻动态", "通知公告", "政策文件", "政策解读", "政务公开", "办事服务", "互动交流", "数据发布"]


def homepage(size: int = 100_000, seed: int = 7) -> bytes:
    """A portal homepage of about ``size`` bytes: navigation, dated news lists, footer with 网站标识码."""
    rng = random.Random(seed)
    head = (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">\n'
        "<title>某某市人民政府门户网站</title>\n"
        '<meta name="SiteName" content="某某市人民政府"><meta name="SiteDomain" content="www.bench.gov.cn">\n'
        '<meta name="SiteIDCode" content="4405070001">\n'
        '<link rel="stylesheet" href="/css/main.css"><script src="/js/jquery.min.js"></script>\n'
        '</head><body>\n<div class="header"><a href="/">首页</a>'
        + "".join(f'<a href="/col/col{i}/index.html">{c}</a>' for i, c in enumerate(_COLUMNS))
        + '<a href="/ssgn/">搜索</a><a href="/wza/">无障碍</a></div>\n'
    )
    foot = (
        '<div class="footer">主办单位：某某市人民政府办公室 网站标识码：4405070001 '
        '<a href="https://beian.miit.gov.cn/">粤ICP备12345678号</a> 粤公网安备 44050702000001号 '
        '<a href="/jcbs/">我为政府网站找错</a></div>\n</body></html>\n'
    )
    parts = [head]
    size_now = len(head.encode()) + len(foot.encode())
    n = 0
    while size_now < size:
        col = _COLUMNS[n % len(_COLUMNS)]
        block = [f'<div class="list" id="c{n}"><h2><a href="/col/col{n % 8}/index.html">{col}</a></h2><ul>\n']
        for _ in range(12):
            n += 1
            title = rng.choice(_NEWS)
            date = f"2024-{rng.randint(1, 6):02d}-{rng.randint(1, 28):02d}"
            block.append(
                f'<li><a href="/art/2024/{n}/art_{rng.randint(1000, 9999)}_{n}.html" '
                f'title="{title}" target="_blank">{title}</a><span class="date">{date}</span></li>\n'
            )
        block.append("</ul></div>\n")
        text = "".join(block)
        parts.append(text)
        size_now += len(text.encode())
    parts.append(foot)
    return "".join(parts).encode()


# --- the target process --------------------------------------------------------


async def _serve(cert: str, dns_host: str, dns_port: int, size: int) -> None:
    from aiohttp import web

    from agent.demo.dnsserver import DnsServer

    body = homepage(size)

    async def index(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    app = web.Application()
    app.router.add_get("/", index)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    http = web.TCPSite(runner, "127.0.0.1", 0, backlog=512)
    await http.start()
    sslctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    sslctx.load_cert_chain(cert)
    https = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=sslctx, backlog=512)
    await https.start()
    dns = await DnsServer({BENCH_HOST: ["127.0.0.1"]}, host=dns_host, port=dns_port).start()

    def port(site: web.TCPSite) -> int:
        server = site._server  # noqa: SLF001 — aiohttp keeps the bound socket here
        assert isinstance(server, asyncio.base_events.Server)
        return int(server.sockets[0].getsockname()[1])

    print(
        json.dumps({"http": port(http), "https": port(https), "dns": dns.address, "body_bytes": len(body)}), flush=True
    )
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), lambda: done.set() if not os.read(sys.stdin.fileno(), 4096) else None)
    loop.add_signal_handler(signal.SIGTERM, done.set)
    await done.wait()
    await dns.close()
    await runner.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cert", required=True, help="PEM with the server's key and certificate chain")
    ap.add_argument("--dns-host", default="127.0.0.1")
    ap.add_argument("--dns-port", type=int, default=0)
    ap.add_argument("--size", type=int, default=100_000, help="homepage size in bytes")
    a = ap.parse_args()
    asyncio.run(_serve(a.cert, a.dns_host, a.dns_port, a.size))


# --- the bench side ------------------------------------------------------------


@dataclass
class Targets:
    """A running target process and the TLS material it serves."""

    proc: subprocess.Popen[str]
    http_port: int
    https_port: int
    dns: str  # "host:port" of the zone with BENCH_HOST
    body_bytes: int
    ca_file: str
    tmp: tempfile.TemporaryDirectory[str]

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}/"

    def close(self) -> None:
        stdin: IO[str] | None = self.proc.stdin
        if stdin is not None:
            stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()


def start(*, key_type: str = "rsa", size: int = 100_000, dns_host: str = "127.0.0.1", dns_port: int = 0) -> Targets:
    """Issue a CA and a server certificate (trustme), start the target process, wait for its ports."""
    import trustme

    tmp = tempfile.TemporaryDirectory(prefix="xuncha-bench-")
    kt = trustme.KeyType.RSA if key_type == "rsa" else trustme.KeyType.ECDSA
    ca = trustme.CA(key_type=kt, organization_name="Xuncha bench CA")
    cert = ca.issue_cert("127.0.0.1", BENCH_HOST, "localhost", key_type=kt)
    ca_file, server_pem = Path(tmp.name, "ca.pem"), Path(tmp.name, "server.pem")
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "_targets.py"),
            "--cert",
            str(server_pem),
            "--size",
            str(size),
            "--dns-host",
            dns_host,
            "--dns-port",
            str(dns_port),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=HERE.parent,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        tmp.cleanup()
        raise RuntimeError(f"target process exited with {proc.returncode} before listening")
    info = json.loads(line)
    return Targets(proc, info["http"], info["https"], info["dns"], info["body_bytes"], str(ca_file), tmp)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()
