"""CPU per HTTP and per HTTPS probe: the agent's probe path next to blackbox_exporter.

    /tmp/venv0/bin/python bench/probe_cpu.py [--n 300] [--concurrency 16] [--key rsa|ecdsa]

One target process (bench/_targets.py) serves a ~100 KB homepage on 127.0.0.1
over HTTP and HTTPS and a DNS zone.  Each probe is a fresh connection and reads
the whole body, for both probers.

* Agent: ``probes.http.probe(site, ctx)`` in this process, exactly as the
  scheduler calls it; CPU is ``time.process_time()`` of this process around N
  probes (sequential, then ``--concurrency`` at a time).  Nothing else runs in
  this process meanwhile (the target and the DNS server are another process).
* blackbox_exporter: its own process, CPU from ``/proc/<pid>/stat``
  (utime+stime, all threads) around N ``GET /probe?target=…&module=…``
  requests.  That figure also includes blackbox's own HTTP server handling the
  /probe request, its probe log history and the rendering of the metrics
  response — the price of using blackbox, but not strictly "the probe".  The
  ``refused`` row (a target port nothing listens on) shows that fixed overhead on
  both sides.

Rows ``https-dns`` use the host name ``www.bench.gov.cn`` resolved by a DNS
server on 127.0.0.77:53 in the target process; blackbox is then run in a
private mount namespace whose /etc/resolv.conf points there (needs root and
``unshare``; otherwise those rows are skipped).  Every other row uses an
IP-literal URL, so DNS is in neither figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _targets  # noqa: E402

import agent.run.state  # noqa: E402
import probes.net  # noqa: E402
from agent.registry.config import Site, loads  # noqa: E402
from probes import http as http_probe  # noqa: E402
from probes.context import ProbeContext  # noqa: E402

BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
DNS_HOST = "127.0.0.77"  # the name server of the https-dns rows (port 53: resolv.conf has no port)
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Row:
    kind: str
    concurrency: int
    probes: int
    agent_ms: float | None = None
    agent_wall: float | None = None
    bb_ms: float | None = None
    bb_wall: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.agent_ms is None or not self.bb_ms:
            return None
        return self.agent_ms / self.bb_ms


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu(pid: int) -> float:
    """utime + stime of every thread of ``pid``, in seconds (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def proc_cpu_ns(pid: int) -> float:
    """On-CPU time of the live threads of ``pid`` in seconds, nanosecond resolution
    (``/proc/<pid>/task/*/schedstat``); 0.0 where schedstat is not available."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


async def run_n(one: Callable[[], Awaitable[None]], n: int, concurrency: int) -> None:
    if concurrency <= 1:
        for _ in range(n):
            await one()
        return
    sem = asyncio.Semaphore(concurrency)

    async def guarded() -> None:
        async with sem:
            await one()

    await asyncio.gather(*(guarded() for _ in range(n)))


# --- the agent -------------------------------------------------------------------


def agent_context(ca_file: str, nameserver: str | None) -> ProbeContext:
    text = f"tls: {{ca_file: {ca_file!r}}}\n"
    if nameserver:
        text += f"dns: {{nameservers: [{nameserver!r}]}}\n"
    cfg = loads(text, path=str(Path(tempfile.gettempdir()) / "bench-xuncha.yml"))
    return ProbeContext(
        config=cfg, net=probes.net.Network(cfg.dns, cfg.tls, cfg.http), state=agent.run.state.StateStore(None)
    )


async def agent_cpu(
    ctx: ProbeContext, url: str, n: int, concurrency: int, expect_ok: bool, *, warm: bool = False
) -> tuple[float, float]:
    site = Site(code="4405070001", name="某某市人民政府", url=url)
    bad: list[str] = []

    async def one() -> None:
        r = await http_probe.probe(site, ctx)
        if r.success != expect_ok:
            bad.append(r.reason or f"unexpected success, {r.body_bytes} bytes")

    if warm:
        await run_n(one, 20, concurrency)
    c0, w0 = time.process_time(), time.perf_counter()
    await run_n(one, n, concurrency)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    if bad:
        raise SystemExit(f"agent probe of {url}: {len(bad)} unexpected results, e.g. {bad[0]}")
    return cpu, wall


# --- blackbox_exporter ------------------------------------------------------------


BLACKBOX_YML = """\
modules:
  http_bench:
    prober: http
    timeout: 15s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: true
      tls_config:
        ca_file: {ca_file}
"""


class Blackbox:
    def __init__(self, ca_file: str, tmp: str, nameserver: str | None = None) -> None:
        cfg = Path(tmp, f"blackbox-{nameserver or 'system'}.yml")
        cfg.write_text(BLACKBOX_YML.format(ca_file=ca_file))
        self.port = free_port()
        cmd = [BLACKBOX, f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=error"]
        if nameserver:
            # Private mount namespace: only this process sees a resolv.conf naming the bench
            # DNS server.  unshare and sh both exec, so the pid is blackbox's own.
            resolv = Path(tmp, "resolv.conf")
            resolv.write_text(f"nameserver {nameserver}\noptions timeout:2 attempts:1\n")
            cmd = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(resolv), *cmd]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{self.port}"
        self.ticks_total = self.fine_total = 0.0

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        for _ in range(100):
            if self.proc.poll() is not None:
                raise RuntimeError(f"blackbox_exporter exited: {self.proc.stderr.read() if self.proc.stderr else ''}")
            try:
                async with session.get(self.base + "/-/healthy") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        raise RuntimeError("blackbox_exporter did not come up")

    async def cpu(
        self, session: aiohttp.ClientSession, url: str, n: int, concurrency: int, expect_ok: bool, *, warm: bool = False
    ) -> tuple[float, float]:
        bad: list[str] = []
        want = "probe_success 1" if expect_ok else "probe_success 0"

        async def one() -> None:
            async with session.get(self.base + "/probe", params={"target": url, "module": "http_bench"}) as r:
                text = await r.text()
            if want not in text:
                bad.append(next((ln for ln in text.splitlines() if ln.startswith("probe_success")), text[:200]))

        if warm:
            await run_n(one, 20, concurrency)
        pid = self.proc.pid
        c0, s0, w0 = proc_cpu(pid), proc_cpu_ns(pid), time.perf_counter()
        await run_n(one, n, concurrency)
        cpu, fine, wall = proc_cpu(pid) - c0, proc_cpu_ns(pid) - s0, time.perf_counter() - w0
        self.ticks_total += cpu
        self.fine_total += fine
        # schedstat has ns resolution but misses threads that exited meanwhile; use it
        # unless it is unavailable or disagrees with the clock-tick figure.
        if fine > 0 and abs(fine - cpu) < max(0.3 * cpu, 2.5 / _TICK):
            cpu = fine
        if bad:
            raise SystemExit(f"blackbox probe of {url}: {len(bad)} unexpected results, e.g. {bad[0]}")
        return cpu, wall

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def can_unshare() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return r.returncode == 0


def dns_port_free() -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((DNS_HOST, 53))
        return True
    except OSError:
        return False


# --- the run ------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> list[Row]:
    with_dns = not args.no_dns and can_unshare() and dns_port_free()
    targets = _targets.start(
        key_type=args.key,
        size=args.size,
        dns_host=DNS_HOST if with_dns else "127.0.0.1",
        dns_port=53 if with_dns else 0,
    )
    tmp = tempfile.TemporaryDirectory(prefix="xuncha-bench-bb-")
    boxes: list[Blackbox] = []
    try:
        print(
            f"target: pid {targets.proc.pid}, homepage {targets.body_bytes} bytes, {args.key.upper()} certificate; "
            f"dns rows: {'yes, ' + targets.dns if with_dns else 'no (needs root, unshare and 127.0.0.77:53)'}",
            file=sys.stderr,
        )
        refused = f"http://127.0.0.1:{free_port()}/"
        plain = [("http", targets.http_url, True), ("https", targets.https_url, True), ("refused", refused, False)]
        ctx = agent_context(targets.ca_file, None)
        bb = Blackbox(targets.ca_file, tmp.name)
        boxes.append(bb)
        cases: list[tuple[str, str, bool, ProbeContext, Blackbox]] = [(k, u, ok, ctx, bb) for k, u, ok in plain]
        if with_dns:
            dns_bb = Blackbox(targets.ca_file, tmp.name, nameserver=DNS_HOST)
            boxes.append(dns_bb)
            dns_ctx = agent_context(targets.ca_file, f"{DNS_HOST}:53")
            cases.append(("https-dns", f"https://{_targets.BENCH_HOST}:{targets.https_port}/", True, dns_ctx, dns_bb))
        rows: list[Row] = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency)) as session:
            for b in boxes:
                await b.wait_ready(session)
            for kind, url, ok, actx, abb in cases:
                n = args.n if kind != "refused" else max(50, args.n // 3)
                for conc in (1, args.concurrency):
                    # Rounds alternate agent and blackbox, so that load from elsewhere on the
                    # machine hits both alike; each side reports the median round.
                    per = max(1, n // args.rounds)
                    a_ms, a_wall, b_ms, b_wall = [], [], [], []
                    for i in range(args.rounds):
                        sides = ["agent", "bb"] if i % 2 == 0 else ["bb", "agent"]
                        for side in sides:
                            if side == "agent":
                                cpu, wall = await agent_cpu(actx, url, per, conc, ok, warm=i == 0)
                                a_ms.append(cpu * 1000 / per)
                                a_wall.append(wall)
                            else:
                                cpu, wall = await abb.cpu(session, url, per, conc, ok, warm=i == 0)
                                b_ms.append(cpu * 1000 / per)
                                b_wall.append(wall)
                    row = Row(
                        kind,
                        conc,
                        per * args.rounds,
                        statistics.median(a_ms),
                        sum(a_wall),
                        statistics.median(b_ms),
                        sum(b_wall),
                    )
                    rows.append(row)
                    print(
                        f"  {kind:9} c={conc:<3} agent {row.agent_ms:6.2f} ms  blackbox {row.bb_ms:6.2f} ms",
                        file=sys.stderr,
                    )
        for b in boxes:
            print(
                f"blackbox pid {b.proc.pid}: {b.ticks_total:.2f} s CPU by /proc/stat, "
                f"{b.fine_total:.2f} s by schedstat",
                file=sys.stderr,
            )
        await ctx.net.close()
        if with_dns:
            await dns_ctx.net.close()
        return rows
    finally:
        for b in boxes:
            b.close()
        targets.close()
        tmp.cleanup()


def table(rows: list[Row]) -> str:
    head = (
        "kind",
        "conc",
        "probes",
        "agent CPU ms/probe",
        "blackbox CPU ms/probe",
        "ratio",
        "agent wall s",
        "bb wall s",
    )
    lines = [head]
    for r in rows:
        lines.append(
            (
                r.kind,
                str(r.concurrency),
                str(r.probes),
                f"{r.agent_ms:.2f}" if r.agent_ms is not None else "n/a",
                f"{r.bb_ms:.2f}" if r.bb_ms is not None else "n/a",
                f"{r.ratio:.2f}" if r.ratio is not None else "n/a",
                f"{r.agent_wall:.2f}" if r.agent_wall is not None else "",
                f"{r.bb_wall:.2f}" if r.bb_wall is not None else "",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="probes per row (the refused row uses n/3)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating agent/blackbox rounds per row (median)")
    ap.add_argument("--concurrency", type=int, default=16, help="probes in flight in the concurrent rows")
    ap.add_argument("--key", choices=("rsa", "ecdsa"), default="rsa", help="server key type (most .gov.cn sites: RSA)")
    ap.add_argument("--size", type=int, default=100_000, help="homepage size in bytes")
    ap.add_argument("--no-dns", action="store_true", help="skip the https-dns rows")
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = asyncio.run(bench(args))
    print(table(rows))
    worst = max((r.ratio for r in rows if r.ratio is not None and r.kind in ("http", "https")), default=None)
    print(
        f"\nworst http/https ratio {worst:.2f} (target <= 1.0); "
        f"CPU clock tick for blackbox {1000 / _TICK:.0f} ms; run took {time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
