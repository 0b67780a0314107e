"""Demo feeds of new-media accounts (政务新媒体), modelled on the annex of ``seeds/003``.

:func:`feeds_app` is an aiohttp application that answers like a self-hosted RSSHub
(``/wechat/mp/<id>``, ``/weibo/user/<uid>``, ``/douyin/user/<uid>``): fresh feeds
in RSS 2.0, Atom and JSON Feed, one account silent for three weeks, a broken route
(RSSHub's 503 error page), an anti-crawler HTML page served instead of XML, and
the two 微信公众号 of 潮安区 that were stopped but never deregistered — one of them
still posting — and an account whose post writes 开诚不公 (严重表述错误 in posts).  :func:`demo_accounts` gives the matching ``accounts:`` items.

Entry dates are relative to the current hour, so the demo stays fresh whenever it
runs and each feed keeps one ETag for an hour (conditional GETs answer 304).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from aiohttp import web

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class DemoFeed:
    id: str
    unit: str
    platform: str
    name: str
    path: str
    kind: str  # rss | atom | json | broken | html
    newest_days_ago: float = 1.0
    status: str = "active"
    note: str = ""
    wrong_expression: str = ""  # written in one post's summary (严重表述错误 in posts, issue 18)


FEEDS: tuple[DemoFeed, ...] = (
    DemoFeed(
        "chaozhou-police-wechat",
        "潮州市公安局",
        "wechat",
        "平安潮州",
        "/wechat/mp/pingan-chaozhou",
        "rss",
        note="fresh: RSS 2.0, newest entry yesterday",
    ),
    DemoFeed(
        "chaozhou-police-weibo",
        "潮州市公安局",
        "weibo",
        "平安潮州",
        "/weibo/user/2803301701",
        "atom",
        0.5,
        note="fresh: Atom",
    ),
    DemoFeed(
        "chaozhou-police-douyin",
        "潮州市公安局",
        "douyin",
        "平安潮州",
        "/douyin/user/MS4wLjABAAAApingan",
        "json",
        2,
        note="fresh: JSON Feed",
    ),
    DemoFeed(
        "chaozhou-forestry-wechat",
        "潮州市林业局",
        "wechat",
        "潮州创森",
        "/wechat/mp/chaozhou-chuangsen",
        "rss",
        21,
        note="silent for 3 weeks: fails 内容不更新",
    ),
    DemoFeed(
        "chaozhou-eco-weibo",
        "潮州市生态环境局",
        "weibo",
        "潮州市生态环境局",
        "/weibo/user/5648837216",
        "broken",
        note="RSSHub route broken (503): unreachable, not silent",
    ),
    DemoFeed(
        "chaozhou-justice-weibo",
        "潮州市司法局",
        "weibo",
        "潮州司法行政",
        "/weibo/user/3171584430",
        "html",
        note="anti-crawler page instead of a feed: unreachable",
    ),
    DemoFeed(
        "chaozhou-culture-wechat",
        "潮州市文化广电旅游体育局",
        "wechat",
        "潮州文旅",
        "/wechat/mp/chaozhou-wenlv",
        "rss",
        note="posts 开诚不公 (for 开诚布公) in a summary: 严重表述错误 in posts",
        wrong_expression="开诚不公",
    ),
    DemoFeed(
        "chaoan-fda-wechat",
        "潮安区食品药品监督管理局",
        "wechat",
        "潮安食药监",
        "/wechat/mp/chaoan-fda",
        "rss",
        3,
        status="stopped",
        note="stopped but still posting: not deregistered",
    ),
    DemoFeed(
        "chaoan-health-wechat",
        "潮安区卫生健康局",
        "wechat",
        "潮安卫生健康",
        "/wechat/mp/chaoan-health",
        "rss",
        200,
        status="stopped",
        note="stopped, not deregistered: the account still answers with old entries",
    ),
)

_RSSHUB_ERROR = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Error | RSSHub</title></head>
<body><div class="error"><h1>Looks like something went wrong in RSSHub</h1>
<p>Error message: FetchError: [GET] "https://weibo.com/ajax/statuses/mymblog": 432 </p>
<p>Route: /weibo/user/:uid</p></div></body></html>"""
_ANTI_CRAWLER = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>访问验证</title></head>
<body><p>系统检测到您的访问存在异常，请完成验证后继续访问。</p></body></html>"""


def _entries(feed: DemoFeed, now: float, count: int = 10) -> list[tuple[str, str, float]]:
    hour = now - now % 3600
    newest = hour - feed.newest_days_ago * DAY
    return [
        (
            f"{feed.name}：第{count - i}期工作动态",
            f"https://mp.example.cn/{feed.id}/{count - i}",
            newest - i * 1.5 * DAY,
        )
        for i in range(count)
    ]


def _summary(feed: DemoFeed, i: int) -> str:
    """Each post's summary, HTML as RSSHub passes it on; the second post of a feed with a wrong expression holds it."""
    if feed.wrong_expression and i == 1:
        return f"<p>{feed.unit}坚持<b>{feed.wrong_expression}</b>，主动回应群众关切。</p>"
    return f"<p>{feed.unit}本期工作动态。</p>"


def render(feed: DemoFeed, now: float) -> tuple[str, str]:
    """The body and content type of ``feed`` at time ``now``."""
    entries = _entries(feed, now)
    if feed.kind == "atom":
        items = "".join(
            f'<entry><title>{escape(t)}</title><id>{escape(link)}</id><link href="{escape(link)}"/>'
            f"<published>{_iso(d)}</published><updated>{_iso(d)}</updated></entry>"
            for t, link, d in entries
        )
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(feed.name)}</title><id>urn:{feed.id}</id><updated>{_iso(entries[0][2])}</updated>"
            f"{items}</feed>"
        )
        return body, "application/atom+xml; charset=utf-8"
    if feed.kind == "json":
        doc = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": feed.name,
            "items": [{"id": link, "url": link, "title": t, "date_published": _iso(d)} for t, link, d in entries],
        }
        return json.dumps(doc, ensure_ascii=False), "application/feed+json"
    items = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
        f"<description>{escape(_summary(feed, i))}</description>"
        f"<pubDate>{format_datetime(datetime.fromtimestamp(d, UTC))}</pubDate></item>"
        for i, (t, link, d) in enumerate(entries)
    )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{escape(feed.name)}</title>'
        f"<link>https://mp.example.cn/{feed.id}</link><description>{escape(feed.unit)}</description>"
        f"{items}</channel></rss>"
    )
    return body, "application/rss+xml; charset=utf-8"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def feeds_app(clock: Callable[[], float] = time.time) -> web.Application:
    """The demo's RSSHub look-alike serving :data:`FEEDS`."""
    by_path = {f.path: f for f in FEEDS}

    async def handle(request: web.Request) -> web.StreamResponse:
        feed = by_path.get(request.path)
        if feed is None:
            return web.Response(
                status=404, text="<html><title>Not Found | RSSHub</title></html>", content_type="text/html"
            )
        if feed.kind == "broken":
            return web.Response(status=503, text=_RSSHUB_ERROR, content_type="text/html")
        if feed.kind == "html":
            return web.Response(text=_ANTI_CRAWLER, content_type="text/html")
        body, ctype = render(feed, clock())
        etag = '"' + hashlib.sha1(body.encode()).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body.encode("utf-8"), headers={"ETag": etag, "Content-Type": ctype})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


def rsshub_app(clock: Callable[[], float] = time.time) -> web.Application:
    """Alias: the demo feeds app answers RSSHub's routes, so it can stand in for ``feeds.rsshub``."""
    return feeds_app(clock)


def demo_accounts(base_url: str) -> str:
    """YAML items for the demo configuration's ``accounts:`` list (indented two spaces)."""
    base = base_url.rstrip("/")
    lines = []
    for f in FEEDS:
        lines.append(f"  # {f.note}")
        lines.append(
            f"  - {{id: {f.id}, unit: {f.unit}, platform: {f.platform}, name: {f.name}, "
            f'status: {f.status}, feed: "{base}{f.path}"}}'
        )
    return "\n".join(lines) + "\n"
