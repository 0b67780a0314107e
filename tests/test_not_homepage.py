"""A 200 whose body is not the homepage is a failed visit, with the reason (issue 9).

Served on loopback and visited by the real HTTP probe; and a real government homepage, a
short but real homepage and a news title mentioning 系统升级 must stay successes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.registry.config import loads
from agent.run.state import StateStore
from domain.divisions import region_of
from domain.registry import Site
from probes import http as http_probe
from probes.content import not_homepage
from probes.context import ProbeContext
from probes.net import Network

HOST = "www.longhu.gov.cn"
REAL = Path(__file__).parent / "fixtures" / "real"

MAINTENANCE = (
    "<html><head><title>网站维护</title></head><body><div style='text-align:center'>"
    "<h2>网站维护中</h2><p>为提升服务质量，本站正在进行系统升级，预计今日18:00恢复访问，给您带来不便敬请谅解。</p>"
    "</div></body></html>"
)
WAF_BLOCK = (
    "<html><head><title>访问拦截</title></head><body><h1>您的访问被拦截</h1>"
    "<p>当前访问疑似黑客攻击，已被网站防火墙拦截。</p><p>事件ID：a1b2c3</p></body></html>"
)
WAF_CHALLENGE = (
    "<html><body><script>document.cookie=('__jsl_clearance_s=1700000000.123|0|'+"
    "'abc');location.href=location.pathname+location.search</script></body></html>"
)
NGINX = (
    "<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1>"
    "<p>If you see this page, the nginx web server is successfully installed and working.</p></body></html>"
)
BAOTA = "<html><head><title>恭喜，站点创建成功！</title></head><body><h1>恭喜, 站点创建成功！</h1><p>这是默认index.html</p></body></html>"
PARKED = (
    "<html><head><title>longhu.gov.cn</title></head><body><p>This domain may be for sale!</p>"
    "<a href='https://sedo.example/'>Buy this domain</a></body></html>"
)
SHORT_HOMEPAGE = (
    "<html><head><title>龙湖区人民政府</title></head><body><ul>"
    + "".join(f"<li><a href=/n{i}.html>龙湖区第{i}条工作动态</a></li>" for i in range(12))
    + "<li><a href=/x.html>关于政务服务系统升级期间暂停部分业务的通知</a></li></ul>"
    "<p>网站标识码：4405070010 粤ICP备05080455号</p></body></html>"
)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (MAINTENANCE, "a maintenance notice: 网站维护"),  # its title
        (WAF_BLOCK, "a web application firewall's challenge or block page: 访问被拦截"),
        (WAF_CHALLENGE, "a web application firewall's challenge or block page: __jsl_clearance"),
        (NGINX, "a hosting provider's default page: Welcome to nginx"),
        (BAOTA, "a hosting provider's default page: 恭喜，站点创建成功"),
        (PARKED, "an expired domain's parking page: This domain may be for sale"),
    ],
)
def test_bodies_that_are_not_the_homepage(body: str, why: str) -> None:
    assert not_homepage.reason(body.encode()) == why


@pytest.mark.parametrize("body", [SHORT_HOMEPAGE, "<html><body>龙湖区政府</body></html>"])
def test_a_short_real_homepage_is_a_homepage(body: str) -> None:
    assert not_homepage.reason(body.encode()) == ""


@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.html")))
def test_no_real_government_page_is_taken_for_a_notice(name: str) -> None:
    assert not_homepage.reason((REAL / name).read_bytes(), "text/html") == ""


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    zone = DnsServer(records={HOST: ["127.0.0.1"]})
    await zone.start()
    cfg = loads(f'dns: {{nameservers: ["{zone.address}"], timeout: 1s}}\nhttp: {{timeout: 3s}}\n')
    net = Network(cfg.dns, cfg.tls, cfg.http)
    try:
        yield ProbeContext(config=cfg, net=net, state=StateStore(None))
    finally:
        await net.close()
        await zone.close()


def app_serving(body: str) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", handler)
    return app


def site(url: str) -> Site:
    return Site(code="4405070010", name="汕头市龙湖区人民政府", url=url, region=region_of("4405070010"))


@pytest.mark.parametrize("body", [MAINTENANCE, WAF_BLOCK, NGINX, PARKED])
async def test_a_200_that_is_not_the_homepage_is_a_failed_visit(ctx: ProbeContext, body: str) -> None:
    async with await hostile.serve_app(app_serving(body)) as served:
        r = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert r.status_code == 200 and not r.success
    assert r.reason == f"not the homepage: {not_homepage.reason(body.encode())}"


async def test_a_short_homepage_served_is_a_successful_visit(ctx: ProbeContext) -> None:
    async with await hostile.serve_app(app_serving(SHORT_HOMEPAGE)) as served:
        r = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert r.success, r.reason
