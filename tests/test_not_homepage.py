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


# Modelled on the structure of Alibaba Cloud's challenge (a public note quotes it: var arg1=…, a setCookie and
# document.location.reload(), then an obfuscated script) with the vendor's names taken out: simulated, so that
# only the page's shape can tell it.
UNNAMED_CHALLENGE = (
    "<html><script>\nvar arg1='FC0C2D8AD5673C5FB8B9EF3180ECC395B9A5F944';\n"
    "function setCookie(name,value){var e=new Date();e.setTime(e.getTime()+3600000);"
    "document.cookie=name+'='+value+';expires='+e.toGMTString()+';path=/';}\n"
    "function reload(x){setCookie('sec_verify',x);document.location.reload();}\n</script>"
    "<script>var _0x4818=['" + "','".join(f"0x{i:04x}{i * 7919 % 65521:05d}" for i in range(120)) + "'];"
    "(function(_0x1,_0x2){var _0x3=function(_0x4){while(--_0x4){_0x1['push'](_0x1['shift']());}};_0x3(++_0x2);}"
    "(_0x4818,0x1a3));reload(arg1);</script></html>"
)
NGINX_302 = (
    "<html>\r\n<head><title>302 Found</title></head>\r\n<body>\r\n<center><h1>302 Found</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
IIS_MOVED = (
    "<head><title>Document Moved</title></head>\n<body><h1>Object Moved</h1>This document may be found "
    '<a HREF="https://www.longhu.gov.cn/index.html">here</a></body>'
)
WEBMAIL = (
    "<html><head><title>汕头市龙湖区电子邮件系统</title></head><body><form method=post action=/coremail/index.jsp>"
    "<p>用户名 <input name=uid></p><p>密码 <input type=password name=password></p>"
    "<p><input type=submit value=登录></p></form><p>Powered by Coremail</p></body></html>"
)
SSO = (
    "<html><head><title>统一身份认证平台</title></head><body><div class=login><h2>用户登录</h2>"
    "<input id=u placeholder='请输入账号'><input id=p type='password'><button>登录</button></div></body></html>"
)
# A small real-looking homepage with a login box and a script that remembers the font size in a cookie.
SHORT_HOMEPAGE_WITH_LOGIN = SHORT_HOMEPAGE.replace(
    "</ul>",
    "</ul><form>用户登录 <input name=u><input type=password name=p></form>"
    "<script>document.cookie='font=16';if(!document.cookie)location.reload();</script>",
)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (UNNAMED_CHALLENGE, "a JavaScript challenge page: a script of"),
        (NGINX_302, "a web server's redirect page: 302 Found"),
        (IIS_MOVED, "a web server's redirect page: Document Moved"),
        (WEBMAIL, "a login page: 电子邮件系统"),
        (SSO, "a login page: 统一身份认证"),
    ],
)
def test_short_pages_told_by_their_shape_are_not_the_homepage(body: str, why: str) -> None:
    assert not_homepage.reason(body.encode()).startswith(why)


def test_a_small_homepage_with_a_login_box_and_a_cookie_script_is_a_homepage() -> None:
    assert not_homepage.reason(SHORT_HOMEPAGE_WITH_LOGIN.encode()) == ""


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


@pytest.mark.parametrize("body", [MAINTENANCE, WAF_BLOCK, NGINX, PARKED, UNNAMED_CHALLENGE, NGINX_302, WEBMAIL])
async def test_a_200_that_is_not_the_homepage_is_a_failed_visit(ctx: ProbeContext, body: str) -> None:
    async with await hostile.serve_app(app_serving(body)) as served:
        r = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert r.status_code == 200 and not r.success
    assert r.reason == f"not the homepage: {not_homepage.reason(body.encode())}"


@pytest.mark.parametrize("body", [SHORT_HOMEPAGE, SHORT_HOMEPAGE_WITH_LOGIN])
async def test_a_short_homepage_served_is_a_successful_visit(ctx: ProbeContext, body: str) -> None:
    async with await hostile.serve_app(app_serving(body)) as served:
        r = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert r.success, r.reason


def test_a_real_script_only_redirect_is_no_challenge_but_the_same_page_setting_a_cookie_is() -> None:
    """The Ministry of Finance's root of 2018 (tests/fixtures/real/mof_root_2018.html): only a script that
    sends the browser to /index.htm. It sets no cookie: the site's own redirect, not a challenge."""
    real = (REAL / "mof_root_2018.html").read_bytes()
    assert not_homepage.reason(real, "text/html") == ""
    challenged = real.replace(b"browserRedirect();", b"document.cookie='verify=1';browserRedirect();")
    assert not_homepage.reason(challenged, "text/html").startswith("a JavaScript challenge page")
