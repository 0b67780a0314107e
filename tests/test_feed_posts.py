"""Accounts' posts read with the content probe's dictionaries (issue 18, item 3), on loopback feeds.

严重表述错误 is a veto for accounts as for sites: each entry's title and summary (the visible text,
HTML stripped) goes through the wrong-expression dictionary and the resident-ID check.  Each
finding is provoked by a served feed, with a twin where it must not fire.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from email.utils import format_datetime
from html import escape

import pytest
from aiohttp import web

from agent.exposition.families import ACCOUNT_FAMILIES, Lines, account_findings, emit_feed
from agent.findings.findings import account_findings as findings_of
from agent.findings.table import account_result
from agent.registry.config import Account, loads
from agent.run.results import ResultStore
from agent.run.state import StateStore
from domain import metric_names as m
from probes import feed, posts
from probes.content import privacy, serious
from probes.context import ProbeContext
from probes.feedparse import Entry, parse
from probes.net import Network
from probes.results import FeedResult

NOW = float(int(time.time()))
DAY = 86400.0


def an_id(first17: str = "44050719900101123") -> str:
    return first17 + privacy.check_char(first17)


ID = an_id()


def rss(*items: tuple[str, str]) -> str:
    """An RSS 2.0 feed of (title, description) posts, newest first; descriptions escaped as RSSHub does."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>https://mp.example.cn/{i}</link>"
        f"<description>{escape(d)}</description>"
        f"<pubDate>{format_datetime(datetime.fromtimestamp(NOW - i * DAY, UTC))}</pubDate></item>"
        for i, (t, d) in enumerate(items)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>{body}</channel></rss>'


class Feeds:
    def __init__(self) -> None:
        self.bodies: dict[str, str] = {}
        self.base = ""

    def serve(self, path: str, body: str) -> str:
        self.bodies[path] = body
        return self.base + path


@pytest.fixture
async def feeds() -> AsyncIterator[Feeds]:
    srv = Feeds()

    async def handle(request: web.Request) -> web.StreamResponse:
        body = srv.bodies.get(request.path)
        if body is None:
            return web.Response(status=404)
        return web.Response(body=body.encode(), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield srv
    await runner.cleanup()


@pytest.fixture
async def ctx(feeds: Feeds) -> AsyncIterator[ProbeContext]:
    cfg = loads(f"feeds: {{rsshub: '{feeds.base}', timeout: 5s}}\n")
    net = Network(cfg.dns, cfg.tls, cfg.http)
    yield ProbeContext(config=cfg, net=net, state=StateStore(None), clock=lambda: NOW)
    await net.close()


def account(url: str) -> Account:
    return Account(id="chaozhou-police-wechat", unit="潮州市公安局", platform="wechat", name="平安潮州", feed=url)


def lines(acc: Account, r: FeedResult, counts: tuple[int, ...] | None = None) -> str:
    out = Lines(ACCOUNT_FAMILIES)
    emit_feed(out, acc, r)
    if counts is not None:
        account_findings(out, acc, counts)
    return "".join(line for family in out.by_family for line in family)


async def test_a_wrong_expression_in_a_post_title_is_found_with_the_posts_link(feeds: Feeds, ctx: ProbeContext) -> None:
    url = feeds.serve("/wechat/mp/wrong", rss(("平安潮州", "今日天气"), ("我局开诚不公地回应市民关切", "")))
    acc = account(url)
    r = await feed.probe(acc, ctx)
    assert r.success and r.serious_errors == 1 and r.privacy_leaks == 0
    (hit,) = r.details["posts"]["errors"]
    assert (hit["wrong"], hit["right"], hit["link"]) == ("开诚不公", "开诚布公", "https://mp.example.cn/1")
    text = lines(acc, r)
    assert f'{m.ACCOUNT_SERIOUS_ERRORS}{{account="chaozhou-police-wechat"}} 1\n' in text
    assert m.ACCOUNT_PRIVACY_LEAKS not in text  # none: absent (150,000 accounts, mostly clean)
    (finding,) = [f for f in findings_of(acc, r) if f["finding"] == "serious_error"]
    assert finding["link"] == "https://mp.example.cn/1"
    assert account_result(findings_of(acc, r)) == "存在严重表述错误"


async def test_posts_written_correctly_show_no_wrong_expression(feeds: Feeds, ctx: ProbeContext) -> None:
    url = feeds.serve("/wechat/mp/right", rss(("我局开诚布公地回应市民关切", "<p>开诚布公</p>")))
    r = await feed.probe(account(url), ctx)
    assert r.success and (r.serious_errors, r.privacy_leaks) == (0, 0)
    assert "posts" not in r.details
    assert findings_of(account(url), r) == []
    assert m.ACCOUNT_SERIOUS_ERRORS not in lines(account(url), r, (0, 0, 0))
    assert m.ACCOUNT_FINDINGS_TOTAL not in lines(account(url), r, (0, 0, 0))


async def test_a_wrong_expression_in_a_summarys_visible_text_is_found(feeds: Feeds, ctx: ProbeContext) -> None:
    summary = '<div><p>我们要<b>开诚不公</b>。</p><img src="a.jpg" alt=""></div>'
    url = feeds.serve("/wechat/mp/summary", rss(("通知", summary)))
    r = await feed.probe(account(url), ctx)
    assert r.serious_errors == 1
    assert "开诚不公" in r.details["posts"]["errors"][0]["context"]


async def test_words_only_in_markup_scripts_or_comments_are_not_shown_and_do_not_count(
    feeds: Feeds, ctx: ProbeContext
) -> None:
    summary = (
        '<a href="https://x.cn/?q=开诚不公">链接</a><!-- 开诚不公 --><script>var s="开诚不公";</script>'
        f'<img alt="" data-id="{ID}"><style>.开诚不公{{}}</style>'
    )
    url = feeds.serve("/wechat/mp/markup", rss(("通知", summary)))
    r = await feed.probe(account(url), ctx)
    assert r.success and (r.serious_errors, r.privacy_leaks) == (0, 0)


async def test_a_resident_id_number_in_a_post_is_a_leak_masked_with_its_link(feeds: Feeds, ctx: ProbeContext) -> None:
    url = feeds.serve("/wechat/mp/leak", rss(("公示", f"<p>获奖人：张三，身份证号 {ID}</p>")))
    acc = account(url)
    r = await feed.probe(acc, ctx)
    assert r.privacy_leaks == 1 and r.serious_errors == 0
    (leak,) = r.details["posts"]["leaks"]
    assert leak["id"] == privacy.mask(ID) and ID not in str(r.details)
    assert leak["link"] == "https://mp.example.cn/0"
    assert f'{m.ACCOUNT_PRIVACY_LEAKS}{{account="chaozhou-police-wechat"}} 1\n' in lines(acc, r)


async def test_an_id_shaped_number_with_a_wrong_check_digit_is_not_a_leak(feeds: Feeds, ctx: ProbeContext) -> None:
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    url = feeds.serve("/wechat/mp/order", rss(("订单", f"订单号 {wrong}")))
    r = await feed.probe(account(url), ctx)
    assert r.success and r.privacy_leaks == 0


async def test_a_304_keeps_the_last_readings_findings_and_a_failed_feed_exports_none(
    feeds: Feeds, ctx: ProbeContext
) -> None:
    url = feeds.serve("/wechat/mp/keep", rss(("开诚不公", "")))
    acc = account(url)
    first = await feed.probe(acc, ctx)
    memo = feed.Memo.load(ctx.state.get(feed.NAMESPACE, acc.id), url)
    assert memo.posts.serious_errors == 1
    later = feed._from_memo(acc, memo, NOW, 0.0, success=True, reason="", recent_seconds=14 * DAY, status=304)
    assert later.serious_errors == first.serious_errors == 1
    failed = feed._from_memo(acc, memo, NOW, 0.0, success=False, reason="HTTP 503", recent_seconds=14 * DAY)
    assert failed.serious_errors == 0
    assert m.ACCOUNT_SERIOUS_ERRORS not in lines(acc, failed)


def test_the_findings_counters_count_the_checks_that_saw_each_finding() -> None:
    acc = Account(id="a", unit="潮州市公安局", platform="wechat", name="n", feed="http://x/")
    store = ResultStore()
    key = "account/a"
    clean = FeedResult(success=True, entries=1)
    wrong = FeedResult(success=True, entries=1, serious_errors=2, privacy_leaks=1)
    for r in (clean, wrong, wrong, FeedResult(success=False, serious_errors=1)):
        store.record(key, r)
    counts = store.finding_counts(key)
    assert counts == (0, 2, 2)
    text = lines(acc, clean, counts)
    assert m.ACCOUNT_SERIOUS_ERRORS not in text  # the latest reading is clean: no gauge, the counts stay
    assert f'{m.ACCOUNT_FINDINGS_TOTAL}{{account="a",finding="serious_errors"}} 2\n' in text
    assert f'{m.ACCOUNT_FINDINGS_TOTAL}{{account="a",finding="privacy_leaks"}} 2\n' in text
    assert "not_deregistered" not in text  # an active account is never flagged


def test_a_count_stored_before_the_post_findings_existed_continues() -> None:
    state = StateStore(None)
    state.put("findings", "account/a", [3])  # an agent from before issue 18: not_deregistered only
    store = ResultStore()
    store.keep_findings_in(state)
    store.record("account/a", FeedResult(success=True, entries=1, not_deregistered=True, serious_errors=1))
    assert store.finding_counts("account/a") == (4, 1, 0)


def test_scan_bounds_the_posts_and_tells_each_hit_its_post() -> None:
    words = serious.default()
    entries = [Entry(None, str(i), f"第{i}条", f"https://mp.example.cn/{i}") for i in range(posts.MAX_POSTS)]
    entries.append(Entry(None, "old", "开诚不公", "https://mp.example.cn/old"))  # beyond the bound
    assert posts.scan(entries, words, date.today()) == posts.NONE
    entries[7] = Entry(None, "7", "开诚不公", "https://mp.example.cn/7")
    found = posts.scan(entries, words, date.today())
    assert found.errors[0]["link"] == "https://mp.example.cn/7"


def test_atom_and_json_feed_summaries_are_read() -> None:
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>1</id><title>a</title>'
        '<link href="https://x.cn/1"/><summary type="html">&lt;p&gt;开诚不公&lt;/p&gt;</summary></entry></feed>'
    )
    json_feed = '{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "summary": "开诚不公"}]}'
    for body, ctype in ((atom, "application/atom+xml"), (json_feed, "application/feed+json")):
        parsed = parse(body.encode(), ctype)
        assert posts.scan(parsed.entries, serious.default(), date.today()).serious_errors == 1


def test_a_wrong_expression_split_by_inline_markup_is_still_found() -> None:
    entries = [Entry(None, "1", "通知", "https://mp.example.cn/1", "<p>坚持开诚<b>不公</b></p>")]
    assert posts.scan(entries, serious.default(), date.today()).serious_errors == 1
    assert posts.visible_text("<p>a&amp;b</p><!-- x --><script>y</script>") == "a&b"
