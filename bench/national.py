"""The national-scale benchmark (issue 12): does the agent keep its schedule for the country?

    python bench/national.py [--size small|national|both] [--minutes 10] [--window 5]
    python bench/national.py --scale 1/8,1/4,1/2,1 --minutes 10    # cost per 1,000 targets by size

For each size — ``small`` is 1,500 sites + 15,000 accounts, ``national`` 14,000 sites + 150,000
accounts — the script builds, in a temporary directory:

* a fleet served by nginx from Debian's package (``/usr/sbin/nginx``, a non-daemon child process
  with its own configuration, listening on 127.0.0.1 only): one ~50 KB GBK homepage per site
  (its own 网站标识码 in the footer, ~45 links: 4 columns, 40 articles on the site's own host,
  the national services of the footer), 4 column pages and the articles (shared files), and one
  RSSHub-like host serving every account's feed (RSS, 50 items; 1,000 distinct files mapped by
  the uid's last three digits).  HTTPS with a wildcard certificate (``*.bench.gov.cn``) from a
  private CA (``trustme``, as ``agent.demo.pki``); the feeds over plain HTTP, as a self-hosted
  RSSHub usually is;
* a DNS server (``agent.demo.dnsserver``, in a child process) answering every name of the fleet;
* ``xuncha.yml`` at production intervals (http/dns 5m, tls 6h, content 1h, links 6h, feed 1h),
  ``concurrency.hosts`` raised to 64 for the RSSHub host, ``links.allow_networks: [127.0.0.0/8]``
  (the fleet is on loopback); sites inline (with their columns), accounts in the national
  system's CSV file.

Then it runs the agent as its own process (``python -m agent run -c xuncha.yml``) for
``--minutes`` and prints, side by side for the sizes run: time to ready (``/healthz`` answering
200), homepage visits vs the 5-minute schedule, homepages judged and feeds fetched vs due, the
scheduler lag p50/p99 by kind (``xuncha_scheduler_lag_seconds``, interpolated as
``histogram_quantile`` does), CPU cores used (utime+stime of the agent and its child processes
from ``/proc``, over the run after ready), peak RSS (``VmHWM``, summed over the agent's
processes), and the size and time of ``/metrics`` (scraped once a minute, gzip accepted; the
largest and slowest scrape are shown).

The fleet (nginx, one worker) and the DNS server share the machine with the agent: on a 2-core
machine their CPU is taken from the agent's.  This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _proc import cpu_and_hwm, hwm_by_process, tree  # noqa: E402

from agent.demo.hostile import free_port  # noqa: E402

NGINX = "/usr/sbin/nginx"
ZONE = "bench.gov.cn"
FEEDS_HOST = f"rsshub.{ZONE}"
SERVICE_HOSTS = ("beian.miit.gov.cn", "bszs.conac.cn", "www.beian.gov.cn")
SIZES = {"small": (1_500, 15_000), "national": (14_000, 150_000)}
INTERVALS = {"http": 300, "dns": 300, "tls": 6 * 3600, "content": 3600, "links": 6 * 3600, "feed": 3600}
CATEGORIES = ("news", "notice", "longterm", "interaction")
FEED_FILES = 1000
WORDS = "区政府召开常务会议研究部署安全生产工作关于开展消防检查的通知我区举行秋季运动会领导调研重点项目建设乡村振兴"


# --- the fleet's files ---------------------------------------------------------------------------


def _title(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(12, 24)))


def _day(today: dt.date, rng: random.Random) -> str:
    return (today - dt.timedelta(days=rng.randint(0, 4))).isoformat()


def homepage_body(rng: random.Random, today: dt.date, https_port: int) -> str:
    """The part of a homepage every site shares (nav, four news blocks, filler): ~50 KB in GBK."""
    nav = "".join(
        f"<li><a href='/col/col{j}/index.html'>栏目{j}</a></li>" for j in range(len(CATEGORIES))
    )  # 4 column links
    blocks = []
    for b in range(4):  # 4 blocks x 10 article links on the site's own host
        rows = "".join(
            f"<li><a href='/art/{today.year}/{b}_{i}.html' title='{_title(rng)}'>{_title(rng)}</a>"
            f"<span class=date>{_day(today, rng)}</span></li>"
            for i in range(10)
        )
        blocks.append(f"<div class='block b{b}'><h3>新闻{b}</h3><ul>{rows}</ul></div>")
    # Visible text (summaries) until the page is ~50 KB in GBK, as real portals are.
    filler = []
    size = 0
    while size < 42_000:
        p = "<p class=summary>" + "".join(_title(rng) for _ in range(8)) + "。</p>"
        filler.append(p)
        size += len(p.encode("gbk"))
    return f"<div id=nav><ul>{nav}</ul></div>{''.join(blocks)}<div class=summaries>{''.join(filler)}</div>"


def homepage(code: str, index: int, body: str, today: dt.date, https_port: int) -> bytes:
    services = (
        f"<a href='https://beian.miit.gov.cn:{https_port}/'>京ICP备05070{index % 1000:03d}号</a> "
        f"<a href='https://www.beian.gov.cn:{https_port}/portal/registerSystemInfo'>京公网安备 11010{index:06d}号</a> "
        f"<a href='https://bszs.conac.cn:{https_port}/sitename?id={index}'><img src=/red.png alt=党政机关></a>"
    )
    page = (
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Type' content='text/html; charset=gbk'>"
        f"<title>测试{index}区人民政府门户网站</title></head><body>"
        f"<div class=top>今天是{today.year}年{today.month}月{today.day}日</div>{body}"
        f"<div class=foot>主办：测试{index}区人民政府 网站标识码：{code} {services}"
        f"Copyright &copy; 2003-{today.year} 版权所有</div></body></html>"
    )
    return page.encode("gbk")


def column_page(rng: random.Random, today: dt.date) -> bytes:
    rows = "".join(
        f"<li><a href='/art/{today.year}/c_{i}.html'>{_title(rng)}</a><span>{_day(today, rng)}</span></li>"
        for i in range(20)
    )
    return (
        "<!DOCTYPE html><html><head><meta charset=gbk><title>栏目</title></head><body>"
        f"<ul class=list>{rows}</ul><div class=foot>版权所有</div></body></html>"
    ).encode("gbk")


def feed_xml(n: int, rng: random.Random, now: float) -> bytes:
    items = []
    for i in range(50):
        t = now - i * 3600 * 7 - rng.randint(0, 3000)
        when = dt.datetime.fromtimestamp(t, dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        items.append(
            f"<item><title>{_title(rng)}</title><link>https://weibo.com/{n}/{i}</link>"
            f"<guid>https://weibo.com/{n}/{i}</guid><pubDate>{when}</pubDate>"
            f"<description>{_title(rng)}{_title(rng)}</description></item>"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel>"
        f"<title>测试{n}发布的微博</title><link>https://weibo.com/{n}</link><description>RSSHub</description>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


def codes(n: int) -> list[str]:
    from domain.divisions import _table

    divisions = [d for d in _table() if d[4:] != "00"]
    return [f"{divisions[i % len(divisions)]}{i // len(divisions) + 1:04d}" for i in range(n)]


@dataclass
class Fleet:
    base: Path
    sites: int
    accounts: int
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    agent_port: int = field(default_factory=free_port)

    def host(self, i: int) -> str:
        return f"s{i}.{ZONE}"

    def build(self) -> None:
        from agent.demo.pki import Pki

        t0 = time.perf_counter()
        base = self.base
        base.chmod(0o755)  # nginx's worker (nobody when run as root) reads the files
        www = base / "www"
        for d in ("sites", "shared", "feeds"):
            (www / d).mkdir(parents=True)
        pki = Pki(base / "pki")
        leaf = pki.issue([f"*.{ZONE}", *SERVICE_HOSTS])
        leaf.cert_chain_pems[0].write_to_path(str(base / "pki" / "cert.pem"))
        for extra in leaf.cert_chain_pems[1:]:
            extra.write_to_path(str(base / "pki" / "cert.pem"), append=True)
        leaf.private_key_pem.write_to_path(str(base / "pki" / "key.pem"))
        self.ca_file = pki.ca_file

        rng = random.Random(12)
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        bodies = [homepage_body(rng, today, self.https_port) for _ in range(20)]
        self.codes = codes(self.sites)
        for i, code in enumerate(self.codes):
            (www / "sites" / f"{self.host(i)}.html").write_bytes(
                homepage(code, i, bodies[i % len(bodies)], today, self.https_port)
            )
        (www / "shared" / "column.html").write_bytes(column_page(rng, today))
        (www / "shared" / "article.html").write_bytes(
            ("<html><head><meta charset=gbk><title>文章</title></head><body><p>正文</p></body></html>").encode("gbk")
        )
        now = time.time()
        for n in range(FEED_FILES):
            (www / "feeds" / f"{n:03d}.xml").write_bytes(feed_xml(n, rng, now))
        self.write_nginx_conf()
        self.write_agent_conf()
        self.build_seconds = time.perf_counter() - t0

    def write_nginx_conf(self) -> None:
        b = self.base
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (b / "nginx-tmp" / d).mkdir(parents=True, exist_ok=True)
        temp = "\n".join(
            f"  {d}_temp_path {b / 'nginx-tmp' / d};" for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (b / "nginx.conf").write_text(f"""
worker_processes 1;
pid {b / "nginx.pid"};
error_log {b / "nginx-error.log"} warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
{temp}
  types {{ text/html html; application/rss+xml xml; }}
  default_type text/html;
  keepalive_timeout 65s;
  keepalive_requests 10000;
  ssl_session_cache shared:SSL:20m;
  ssl_session_timeout 10m;
  server {{
    listen 127.0.0.1:{self.https_port} ssl;
    server_name _;
    ssl_certificate {b / "pki" / "cert.pem"};
    ssl_certificate_key {b / "pki" / "key.pem"};
    root {b / "www"};
    location = / {{ try_files /sites/$host.html =404; }}
    location ^~ /col/ {{ try_files /shared/column.html =404; }}
    location / {{ try_files /shared/article.html =404; }}
  }}
  server {{
    listen 127.0.0.1:{self.http_port};
    server_name _;
    root {b / "www"};
    location ~ "^/weibo/user/\\d*(\\d\\d\\d)$" {{
      default_type application/rss+xml;
      try_files /feeds/$1.xml =404;
    }}
  }}
}}
""")

    def zone(self) -> dict[str, list[str]]:
        names = [self.host(i) for i in range(self.sites)] + [FEEDS_HOST, *SERVICE_HOSTS]
        return {n: ["127.0.0.1"] for n in names}

    def write_agent_conf(self) -> None:
        b = self.base
        with (b / "accounts.csv").open("w", encoding="gb18030", newline="") as f:
            w = csv.writer(f)
            w.writerow(["单位名称", "账号类型", "账号名称", "平台账号", "账号状态"])
            for i in range(self.accounts):
                w.writerow([f"测试{i}单位", "新浪微博", f"测试{i}发布", str(1000000 + i), "正常"])
        intervals = ", ".join(f"{k}: {v}s" for k, v in INTERVALS.items())
        with (b / "xuncha.yml").open("w", encoding="utf-8") as f:
            f.write(
                f"listen: 127.0.0.1:{self.agent_port}\n"
                f"state_dir: {b / 'state'}\n"
                f"dns: {{nameservers: ['127.0.0.1:{{DNS_PORT}}']}}\n"
                f"tls: {{ca_file: '{self.ca_file}'}}\n"
                f"intervals: {{{intervals}}}\n"
                f"concurrency: {{hosts: {{'{FEEDS_HOST}': 64}}}}\n"
                "links: {allow_networks: ['127.0.0.0/8']}\n"
                f"feeds: {{rsshub: 'http://{FEEDS_HOST}:{self.http_port}'}}\n"
                "account_files: [accounts.csv]\n"
                "sites:\n"
            )
            for i, code in enumerate(self.codes):
                url = f"https://{self.host(i)}:{self.https_port}/"
                f.write(f'  - code: "{code}"\n    name: 测试{i}区人民政府\n    url: {url}\n    columns:\n')
                for j, cat in enumerate(CATEGORIES):
                    f.write(f"      - {{name: 栏目{j}, url: '{url}col/col{j}/index.html', category: {cat}}}\n")


# --- measuring the agent ---------------------------------------------------------------------------


def parse_metrics(text: str) -> tuple[dict[str, float], dict[str, list[tuple[float, float]]]]:
    """Probe runs by kind (and "<kind> failed"; "content targets" and "feed targets": sites and
    accounts with a result) and the lag histogram's cumulative buckets by kind."""
    runs: dict[str, float] = {}
    buckets: dict[str, list[tuple[float, float]]] = {}
    for line in text.splitlines():
        if line.startswith("xuncha_feed_success{"):
            runs["feed targets"] = runs.get("feed targets", 0.0) + 1
        elif line.startswith(("xuncha_links_checked{", "xuncha_column_links_checked{")):
            # each site's latest links run: summed, the links checked by the runs so far (one run a site
            # within the links interval); column pages' and articles' links from issue 19 on
            runs["link checks"] = runs.get("link checks", 0.0) + float(line.rsplit(" ", 1)[1])
        elif line.startswith("xuncha_probe_success{") and 'probe="homepage"' in line:
            runs["content targets"] = runs.get("content targets", 0.0) + 1
        elif line.startswith("xuncha_probe_runs_total{"):
            labels, value = line[len("xuncha_probe_runs_total{") :].rsplit("} ", 1)
            kind = _label(labels, "kind")
            runs[kind] = runs.get(kind, 0.0) + float(value)
            if _label(labels, "result") == "failure":
                runs[kind + " failed"] = runs.get(kind + " failed", 0.0) + float(value)
        elif line.startswith("xuncha_scheduler_lag_seconds_bucket{"):
            labels, value = line[len("xuncha_scheduler_lag_seconds_bucket{") :].rsplit("} ", 1)
            le = _label(labels, "le")
            buckets.setdefault(_label(labels, "kind"), []).append(
                (float("inf") if le == "+Inf" else float(le), float(value))
            )
    return runs, buckets


def _label(labels: str, name: str) -> str:
    for part in labels.split(","):
        k, _, v = part.partition("=")
        if k.strip() == name:
            return v.strip().strip('"')
    return ""


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """``histogram_quantile`` over cumulative buckets (linear within a bucket)."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    prev_le, prev_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1e-9)
        prev_le, prev_count = le, count
    return prev_le


@dataclass
class Figures:
    size: str
    sites: int
    accounts: int
    minutes: float = 0.0
    ready: float | None = None
    runs: dict[str, float] = field(default_factory=dict)
    lag: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    cores: float = 0.0
    peak_rss: int = 0
    metrics_bytes: int = 0
    metrics_gzip_bytes: int = 0
    metrics_seconds: float = 0.0
    scrapes: int = 0
    elapsed: float = 0.0
    build_seconds: float = 0.0
    # (minutes after ready, runs) at each scrape: the rate over the last minutes, past the start-up burst
    history: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    # every --window minutes: (end minute, cores by process over the window, RSS by process at its end)
    windows: list[tuple[float, dict[str, float], dict[str, int]]] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds from start, read from the agent's log


def process_name(pid: int, agent_pid: int) -> str:
    """supervisor, worker i, loader (the short-lived reading process) or the command's tail."""
    if pid == agent_pid:
        return "supervisor"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    args = [a.decode(errors="replace") for a in argv]
    if "--worker" in args:
        return "worker " + args[args.index("--worker") + 1].split("/")[0]
    if "--load" in args:
        return "loader"
    return " ".join(args)[-30:]


def sample(agent_pid: int) -> dict[str, tuple[float, int]]:
    """CPU seconds (utime+stime, reaped children included) and RSS bytes by process name."""
    out: dict[str, tuple[float, int]] = {}
    for pid in tree(agent_pid):
        cpu, _, rss = cpu_and_hwm([pid])
        name = process_name(pid, agent_pid)
        c, r = out.get(name, (0.0, 0))
        out[name] = (c + cpu, r + rss)
    return out


_LOG_TS = re.compile(r"^ts=(\S+) .*?msg=\"(.*?)\"")


def phases(log: Path, started_wall: float) -> dict[str, float]:
    """Seconds from the agent's start to what its log says: the configuration read (and split),
    each worker started, the supervisor listening."""
    out: dict[str, float] = {}
    for line in log.read_text(errors="replace").splitlines():
        m = _LOG_TS.match(line)
        if not m:
            continue
        at = dt.datetime.fromisoformat(m[1].replace("Z", "+00:00")).timestamp() - started_wall
        msg = m[2]
        if msg.startswith("configuration read"):
            out.setdefault("configuration read and split", at)
        elif msg.startswith("worker ") and " started (pid" in msg:
            out["workers started (the last)"] = at
            out.setdefault("workers started (the first)", at)
        elif msg.startswith("xuncha started") and "listening on 127.0.0.1" in msg:
            out.setdefault("listening", at)
    return out


def spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


async def scrape(url: str) -> tuple[str, int, int, float]:
    import aiohttp

    t = time.perf_counter()
    async with (
        aiohttp.ClientSession(auto_decompress=False) as s,
        s.get(url, headers={"Accept-Encoding": "gzip"}, timeout=aiohttp.ClientTimeout(total=120)) as r,
    ):
        raw = await r.read()
        seconds = time.perf_counter() - t
        enc = r.headers.get("Content-Encoding", "")
    text = gzip.decompress(raw).decode() if enc == "gzip" else raw.decode()
    return text, len(text.encode()), len(raw), seconds


async def healthy(url: str) -> bool:
    import aiohttp

    try:
        async with aiohttp.ClientSession() as s, s.get(url, timeout=aiohttp.ClientTimeout(total=2)) as r:
            return r.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


async def run_size(
    size: str, sites: int, accounts: int, minutes: float, keep: bool, window: float = 5.0, memdump: bool = False
) -> Figures:
    fig = Figures(size, sites, accounts, minutes=minutes)
    base = Path(tempfile.mkdtemp(prefix=f"xuncha-national-{size.replace('/', '_')}-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        fleet = Fleet(base, sites, accounts)
        print(f"[{size}] building the fleet in {base} …", flush=True)
        fleet.build()
        fig.build_seconds = fleet.build_seconds
        (base / "zone.json").write_text(json.dumps(fleet.zone()))
        dns = spawn([sys.executable, __file__, "--dns-server", str(base)], base / "dns.log")
        procs.append(dns)
        nginx = spawn([NGINX, "-c", str(base / "nginx.conf"), "-p", str(base), "-g", "daemon off;"], base / "nginx.log")
        procs.append(nginx)
        for _ in range(200):
            if (base / "dns.port").exists() and (base / "dns.port").read_text():
                break
            await asyncio.sleep(0.05)
        conf = (base / "xuncha.yml").read_text().replace("{DNS_PORT}", (base / "dns.port").read_text())
        (base / "xuncha.yml").write_text(conf)
        print(f"[{size}] fleet built in {fig.build_seconds:.0f} s; starting the agent", flush=True)
        start, started_wall = time.perf_counter(), time.time()
        if memdump:  # every agent process traces its allocations (agent.run.diagnostics): slower
            os.environ.update(PYTHONTRACEMALLOC="1", XUNCHA_MEMDUMP=str(base / "mem"))
        agent = spawn([sys.executable, "-m", "agent", "run", "-c", str(base / "xuncha.yml")], base / "agent.log")
        procs.append(agent)
        root = f"http://127.0.0.1:{fleet.agent_port}"
        while not await healthy(root + "/healthz"):
            if agent.poll() is not None:
                raise RuntimeError(f"the agent exited ({agent.returncode}); see {base / 'agent.log'}")
            if time.perf_counter() - start > 600:
                raise RuntimeError("the agent was not ready within 10 minutes")
            await asyncio.sleep(0.2)
        fig.ready = time.perf_counter() - start
        fig.phases = phases(base / "agent.log", started_wall)
        print(
            f"[{size}] ready after {fig.ready:.1f} s ("
            + ", ".join(f"{k} {v:.1f} s" for k, v in fig.phases.items())
            + f"); measuring for {minutes:g} min",
            flush=True,
        )
        cpu0, _, _ = cpu_and_hwm(tree(agent.pid))
        t0 = time.perf_counter()
        end = t0 + minutes * 60
        next_scrape = t0 + 60
        last_sample, next_window = sample(agent.pid), t0 + window * 60
        text = ""
        while time.perf_counter() < end:
            await asyncio.sleep(min(5.0, max(0.0, end - time.perf_counter())))
            _, hwm, _ = cpu_and_hwm(tree(agent.pid))
            fig.peak_rss = max(fig.peak_rss, hwm)
            opened = next_window - window * 60  # when the window being measured began
            if time.perf_counter() >= next_window - 2.5 or (time.perf_counter() >= end and end - opened > 30):
                now_sample = sample(agent.pid)
                span = window * 60 if time.perf_counter() < end else time.perf_counter() - opened
                cores = {k: (c - last_sample.get(k, (0.0, 0))[0]) / span for k, (c, _) in now_sample.items()}
                rss = {k: r for k, (_, r) in now_sample.items()}
                fig.windows.append(((time.perf_counter() - t0) / 60, cores, rss))
                last_sample, next_window = now_sample, next_window + window * 60
                print(
                    f"[{size}] window to {fig.windows[-1][0]:.3g} min: cores "
                    + ", ".join(f"{k} {v:.2f}" for k, v in sorted(cores.items()))
                    + f" (total {sum(cores.values()):.2f}); RSS "
                    + ", ".join(f"{k} {v / 2**20:.0f}" for k, v in sorted(rss.items()))
                    + f" MiB (total {sum(rss.values()) / 2**20:.0f})",
                    flush=True,
                )
            if time.perf_counter() >= next_scrape or time.perf_counter() >= end:
                next_scrape += 60
                text, plain, wire, seconds = await scrape(root + "/metrics")
                fig.scrapes += 1
                fig.metrics_bytes = max(fig.metrics_bytes, plain)
                fig.metrics_gzip_bytes = max(fig.metrics_gzip_bytes, wire)
                fig.metrics_seconds = max(fig.metrics_seconds, seconds)
                runs, _ = parse_metrics(text)
                elapsed = time.perf_counter() - t0
                fig.history.append((elapsed / 60, runs))
                print(
                    f"[{size}] {elapsed / 60:4.1f} min: "
                    + " ".join(f"{k}={int(v)}" for k, v in sorted(runs.items()))
                    + f"; /metrics {plain / 1e6:.1f} MB in {seconds:.2f} s; peak RSS {fig.peak_rss / 2**20:.0f} MiB",
                    flush=True,
                )
        fig.elapsed = time.perf_counter() - t0
        if memdump:
            for pid in tree(agent.pid):
                os.kill(pid, signal.SIGUSR2)
            await asyncio.sleep(20)
            for dump in sorted(base.glob("mem.*.txt")):  # noqa: ASYNC240 — a benchmark, after the measurement
                print(f"[{size}] {dump.name} ({process_name(int(dump.name.split('.')[1]), agent.pid)}):")
                print("\n".join(dump.read_text().splitlines()[:30]), flush=True)
        cpu1, hwm, _ = cpu_and_hwm(tree(agent.pid))
        fig.cores = (cpu1 - cpu0) / fig.elapsed
        fig.peak_rss = max(fig.peak_rss, hwm)
        for pid, cmd, peak in hwm_by_process(tree(agent.pid)):
            print(f"[{size}] peak RSS {peak / 2**20:7,.0f} MiB  pid {pid}: {cmd[-70:]}", flush=True)
        fig.runs, buckets = parse_metrics(text)
        fig.lag = {k: (quantile(0.5, b), quantile(0.99, b)) for k, b in buckets.items()}
        return fig
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if keep:
            print(f"[{size}] kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


# --- the report ----------------------------------------------------------------------------------------


def _secs(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.1f} s" if v < 120 else f"{v / 60:.1f} min"


def table(figs: list[Figures]) -> str:
    rows: list[tuple[str, list[str]]] = []

    def row(name: str, fn: object) -> None:
        rows.append((name, [fn(f) for f in figs]))  # type: ignore[operator]

    row("registry", lambda f: f"{f.sites:,} sites + {f.accounts:,} accounts")
    row("measured", lambda f: f"{f.elapsed / 60:.1f} min after ready")
    row("time to ready", lambda f: _secs(f.ready))

    def per_schedule(f: Figures, kind: str) -> str:
        due = f.sites * f.elapsed / INTERVALS[kind]
        done = f.runs.get(kind, 0.0)
        return f"{done:,.0f} of {due:,.0f} ({100 * done / max(due, 1):.0f} %)"

    row("homepage visits (http) vs the 5-minute schedule", lambda f: per_schedule(f, "http"))
    row("DNS lookups vs the 5-minute schedule", lambda f: per_schedule(f, "dns"))
    # Every target's first run is due within a minute of start-up, so all of them are due; the
    # sites and accounts with a result are counted from /metrics (runs can exceed them: a second
    # run falls on the target's slot in its interval).
    row(
        "homepages judged vs due (content runs)",
        lambda f: f"{f.runs.get('content targets', 0):,.0f} of {f.sites:,} ({f.runs.get('content', 0):,.0f})",
    )
    row(
        "feeds fetched vs due (feed runs)",
        lambda f: f"{f.runs.get('feed targets', 0):,.0f} of {f.accounts:,} ({f.runs.get('feed', 0):,.0f})",
    )

    def recent(f: Figures, kind: str, targets: int) -> str:
        """Runs a minute over the last ~2 minutes measured, vs what the interval asks a minute."""
        if len(f.history) < 2:
            return "—"
        end_m, end = f.history[-1]
        start_m, start = next(((m, r) for m, r in reversed(f.history) if end_m - m >= 1.9), f.history[0])
        rate = (end.get(kind, 0) - start.get(kind, 0)) / max(end_m - start_m, 1e-9)
        need = targets * 60 / INTERVALS[kind]
        return f"{rate:,.0f} /min vs {need:,.0f} /min ({100 * rate / need:.0f} %), {start_m:.0f}–{end_m:.0f} min"

    row("http runs, last ~2 min, vs the schedule", lambda f: recent(f, "http", f.sites))
    row("content runs, last ~2 min, vs the schedule", lambda f: recent(f, "content", f.sites))
    row("feed runs, last ~2 min, vs the schedule", lambda f: recent(f, "feed", f.accounts))
    row("link runs vs due", lambda f: f"{f.runs.get('links', 0):,.0f} of {f.sites:,}")
    row(
        "links checked (latest run of each site), per second measured",
        lambda f: f"{f.runs.get('link checks', 0):,.0f}, {f.runs.get('link checks', 0) / max(f.elapsed, 1e-9):,.1f} /s",
    )
    row("TLS runs vs due", lambda f: f"{f.runs.get('tls', 0):,.0f} of {f.sites:,}")
    for kind in INTERVALS:
        row(
            f"lag p50 / p99: {kind}",
            lambda f, k=kind: " / ".join(_secs(x) for x in f.lag.get(k, (None, None))),
        )
    row(
        "failed runs (http, content, links, feed)",
        lambda f: " / ".join(f"{f.runs.get(k + ' failed', 0):,.0f}" for k in ("http", "content", "links", "feed")),
    )
    row("CPU (cores, agent processes)", lambda f: f"{f.cores:.2f}")
    row("peak RSS (agent processes)", lambda f: f"{f.peak_rss / 2**20:,.0f} MiB")
    row(
        "/metrics: size (gzip on the wire), slowest scrape",
        lambda f: f"{f.metrics_bytes / 1e6:.1f} MB ({f.metrics_gzip_bytes / 1e6:.1f} MB), {_secs(f.metrics_seconds)}",
    )
    head = "| | " + " | ".join(f.size for f in figs) + " |"
    sep = "|---|" + "---|" * len(figs)
    return "\n".join([head, sep] + [f"| {name} | " + " | ".join(vals) + " |" for name, vals in rows])


def windows_table(fig: Figures) -> str:
    """Cores and RSS by process, one row per window (issue 21: the second hour; flat memory)."""
    if not fig.windows:
        return ""
    names = sorted({k for _, cores, _ in fig.windows for k in cores})
    head = "| minutes | " + " | ".join(f"{n} cores" for n in names) + " | cores | "
    head += " | ".join(f"{n} RSS" for n in names) + " | RSS |"
    rows = [head, "|---" * (2 * len(names) + 3) + "|"]
    prev = 0.0
    for end, cores, rss in fig.windows:
        rows.append(
            f"| {prev:.3g}–{end:.3g} | "
            + " | ".join(f"{cores.get(n, 0):.2f}" for n in names)
            + f" | {sum(cores.values()):.2f} | "
            + " | ".join(f"{rss.get(n, 0) / 2**20:,.0f} MiB" for n in names)
            + f" | {sum(rss.values()) / 2**20:,.0f} MiB |"
        )
        prev = end
    after20 = [(end, sum(r.values())) for end, _, r in fig.windows if end >= 20 - 0.5]
    if len(after20) >= 2:
        base, peak = after20[0][1], max(r for _, r in after20)
        rows.append(f"\nRSS growth after minute {after20[0][0]:.0f}: {100 * (peak - base) / base:+.1f} %")
    hour2 = [c for end, c, _ in fig.windows if end > 60 + 0.5]
    if hour2:
        rows.append(f"cores in the windows from minute 60 on: {sum(sum(c.values()) for c in hour2) / len(hour2):.2f}")
    return "\n".join(rows)


def per_thousand(figs: list[Figures]) -> str:
    """Cores and MiB per 1,000 targets by size, over the same window (issue 21: cost flat as it grows)."""
    rows = [
        "| size | targets | window | cores | cores / 1,000 targets | RSS | MiB / 1,000 targets |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figs:
        if not f.windows:
            continue
        end, cores, rss = f.windows[0]
        targets = f.sites + f.accounts
        c, r = sum(cores.values()), sum(rss.values()) / 2**20
        rows.append(
            f"| {f.size} | {targets:,} | 0–{end:.0f} min | {c:.2f} | {1000 * c / targets:.4f} | {r:,.0f} MiB | "
            f"{1000 * r / targets:.2f} |"
        )
    return "\n".join(rows)


# --- the DNS server's process -------------------------------------------------------------------------------


def dns_server(base: Path) -> None:
    from agent.demo.dnsserver import DnsServer

    zone = json.loads((base / "zone.json").read_text())

    async def serve() -> None:
        server = DnsServer(zone, ttl=300)
        await server.start()
        (base / "dns.port.tmp").write_text(str(server.port))
        (base / "dns.port.tmp").rename(base / "dns.port")
        await asyncio.Event().wait()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(serve())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=("small", "national", "both"), default="both")
    ap.add_argument("--minutes", type=float, default=10.0, help="measurement after ready (default 10)")
    ap.add_argument("--sites", type=int, help="override the number of sites (a quick trial)")
    ap.add_argument("--accounts", type=int, help="override the number of accounts")
    ap.add_argument(
        "--links-interval",
        type=float,
        help="seconds between link runs (default the production 6h; shorter to measure link checks)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, configuration)")
    ap.add_argument(
        "--scale",
        help="fractions of the national registry, one run each, e.g. 1/8,1/4,1/2,1 (issue 21's series; "
        "replaces --size)",
    )
    ap.add_argument("--window", type=float, default=5.0, help="minutes per CPU/RSS window (default 5)")
    ap.add_argument(
        "--memdump", action="store_true", help="trace allocations; at the end print each process's top source lines"
    )
    ap.add_argument("--dns-server", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.dns_server:
        dns_server(Path(args.dns_server))
        return 0
    if not Path(NGINX).exists():
        print(f"{NGINX} is missing: apt-get install nginx-light (or nginx)", file=sys.stderr)
        return 2
    if args.links_interval:
        INTERVALS["links"] = int(args.links_interval)
    runs: list[tuple[str, int, int]] = []
    if args.scale:
        national = SIZES["national"]
        for part in args.scale.split(","):
            num, _, den = part.partition("/")
            f = float(num) / float(den or 1)
            runs.append((part, round(national[0] * f), round(national[1] * f)))
    else:
        for size in ("small", "national") if args.size == "both" else (args.size,):
            sites, accounts = SIZES[size]
            runs.append((size, args.sites or sites, args.accounts or accounts))
    figs = []
    for size, sites, accounts in runs:
        figs.append(asyncio.run(run_size(size, sites, accounts, args.minutes, args.keep, args.window, args.memdump)))
        print(table(figs), flush=True)
        print(windows_table(figs[-1]), flush=True)
    if len(figs) > 1:
        print(per_thousand(figs))
    print(
        f"\ncores on this machine: {os.cpu_count()}; fleet built in "
        + ", ".join(f"{f.build_seconds:.0f} s" for f in figs)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
