"""The feed probe against real feed servers on loopback.

Each finding is provoked by a served feed and checked not to fire on a healthy one:
silent (success, old newest entry) vs unreachable (failure, last entry kept),
stopped but not deregistered, conditional GET, politeness backoff, bad input.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from aiohttp import web

from agent.registry.config import Account, loads
from agent.run.state import StateStore
from probes import feed
from probes.context import ProbeContext
from probes.net import Network
from probes.results import FeedResult

DAY = 86400.0
NOW = float(int(time.time()))


@dataclass
class Clock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


@dataclass
class Server:
    base: str = ""
    routes: dict[str, Callable[[web.Request], web.StreamResponse]] = field(default_factory=dict)
    requests: list[web.Request] = field(default_factory=list)

    def hits(self, path: str) -> list[web.Request]:
        return [r for r in self.requests if r.path == path]

    def serve(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str = "application/rss+xml",
        headers: dict[str, str] | None = None,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = {"Content-Type": content_type} | (headers or {})
        self.routes[path] = lambda request: web.Response(status=status, body=data, headers=hdrs)
        return self.base + path


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()

    async def handle(request: web.Request) -> web.StreamResponse:
        srv.requests.append(request)
        route = srv.routes.get(request.path)
        return route(request) if route else web.Response(status=404, text="no such route")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    srv.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield srv
    await runner.cleanup()


@pytest.fixture
async def ctx(server: Server) -> AsyncIterator[ProbeContext]:
    # The RSSHub base is the test server, so backoff keys are per route namespace.
    cfg = loads(f"feeds: {{rsshub: '{server.base}', timeout: 5s}}\nhttp: {{timeout: 5s}}\n")
    net = Network(cfg.dns, cfg.tls, cfg.http)
    yield ProbeContext(config=cfg, net=net, state=StateStore(None), clock=Clock())
    await net.close()


def account(url: str, status: str = "active", id: str = "chaozhou-police-wechat") -> Account:
    return Account(id=id, unit="潮州市公安局", platform="wechat", name="平安潮州", status=status, feed=url)


def rss(*ages_days: float | None, now: float = NOW, encoding: str = "UTF-8", title: str = "平安潮州") -> str:
    items = []
    for i, age in enumerate(ages_days):
        date = (
            f"<pubDate>{format_datetime(datetime.fromtimestamp(now - age * DAY, UTC))}</pubDate>"
            if age is not None
            else ""
        )
        items.append(f"<item><title>{title}第{i}条</title><link>https://mp.example.cn/{i}</link>{date}</item>")
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>{title}</title>'
        f"{''.join(items)}</channel></rss>"
    )


async def run(acc: Account, ctx: ProbeContext) -> FeedResult:
    return await feed.probe(acc, ctx)


def clock(ctx: ProbeContext) -> Clock:
    c = ctx.clock
    assert isinstance(c, Clock)
    return c


# --- freshness ------------------------------------------------------------------


async def test_a_feed_posted_to_yesterday_is_fresh(server: Server, ctx: ProbeContext) -> None:
    url = server.serve("/wechat/mp/pingan", rss(1, 3, 20))
    r = await run(account(url), ctx)
    assert r.success and r.reason == ""
    assert r.last_entry == NOW - DAY
    assert (r.entries, r.entries_recent) == (3, 2)
    assert r.format == "rss2.0" and r.status_code == 200
    assert not r.not_deregistered


async def test_an_account_silent_for_three_weeks_is_read_successfully_with_an_old_entry(
    server: Server, ctx: ProbeContext
) -> None:
    url = server.serve("/wechat/mp/silent", rss(21, 30))
    r = await run(account(url), ctx)
    assert r.success  # the feed is fine: the silence is the account's
    assert r.last_entry == NOW - 21 * DAY
    assert r.entries_recent == 0


async def test_atom_and_json_feed_are_read(server: Server, ctx: ProbeContext) -> None:
    iso = datetime.fromtimestamp(NOW - 2 * DAY, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    atom = server.serve(
        "/weibo/user/1",
        f'<feed xmlns="http://www.w3.org/2005/Atom"><title>平安潮州</title><entry><title>a</title><id>1</id>'
        f"<updated>{iso}</updated></entry></feed>",
        content_type="application/atom+xml",
    )
    jf = server.serve(
        "/douyin/user/1",
        '{"version": "https://jsonfeed.org/version/1.1", "title": "平安潮州", "items": '
        f'[{{"id": "1", "title": "视频", "date_published": "{iso}"}}, {{"id": "2", "title": "无日期"}}]}}',
        content_type="application/feed+json",
    )
    ra, rj = await run(account(atom, id="a"), ctx), await run(account(jf, id="j"), ctx)
    assert (ra.success, ra.format, ra.last_entry) == (True, "atom", NOW - 2 * DAY)
    assert (rj.success, rj.format, rj.last_entry, rj.entries) == (True, "json1.1", NOW - 2 * DAY, 2)


# --- silent vs unreachable ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "content_type", "reason"),
    [
        (
            503,
            "<html><title>Error | RSSHub</title><p>Error message: FetchError: 432</p></html>",
            "text/html",
            "HTTP 503: the feed source failed «FetchError: 432»",
        ),
        (404, "Not Found", "text/plain", "HTTP 404: feed not found"),
        (
            200,
            "<!DOCTYPE html><html><head><title>访问验证</title></head><body>请完成验证</body></html>",
            "text/html",
            "an HTML page instead of a feed",
        ),
        (200, "<rss><channel><item><title>broken", "application/rss+xml", "not a feed: malformed XML"),
        (200, '{"error": "route not found"}', "application/json", "JSON but not a JSON Feed"),
    ],
)
async def test_a_broken_feed_is_unreachable_and_keeps_the_last_known_entry(
    server: Server, ctx: ProbeContext, status: int, body: str, content_type: str, reason: str
) -> None:
    url = server.serve("/wechat/mp/pingan", rss(2, 4))
    first = await run(account(url), ctx)
    assert first.success and first.last_entry == NOW - 2 * DAY
    server.serve("/wechat/mp/pingan", body, status=status, content_type=content_type)
    clock(ctx).now += 20 * DAY  # long enough that a reading of "silent" would be wrong
    r = await run(account(url), ctx)
    assert not r.success
    assert r.reason.startswith(reason), r.reason
    assert r.last_entry == NOW - 2 * DAY  # survives: never reported as silent because the feed broke
    assert r.details["last_success"] == NOW


async def test_an_unreachable_host_is_a_failure_not_silence(ctx: ProbeContext) -> None:
    r = await run(account("http://127.0.0.1:9/wechat/mp/x"), ctx)
    assert not r.success and r.reason.startswith("fetch failed: connect")
    assert r.last_entry is None


# --- conditional GET --------------------------------------------------------------------


async def test_a_304_reuses_the_last_reading(server: Server, ctx: ProbeContext) -> None:
    lm = format_datetime(datetime.fromtimestamp(NOW, UTC), usegmt=True)
    body = rss(1, 10).encode()

    def conditional(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(body=body, headers={"ETag": '"v1"', "Last-Modified": lm, "Content-Type": "text/xml"})

    server.routes["/wechat/mp/c"] = conditional
    url = server.base + "/wechat/mp/c"
    first = await run(account(url), ctx)
    assert (first.unchanged, first.entries_recent) == (False, 2)
    clock(ctx).now += 5 * DAY
    second = await run(account(url), ctx)
    sent = server.hits("/wechat/mp/c")[-1].headers
    assert (sent.get("If-None-Match"), sent.get("If-Modified-Since")) == ('"v1"', lm)
    assert second.success and second.unchanged and second.status_code == 304
    assert second.last_entry == NOW - DAY and second.entries == 2
    assert second.entries_recent == 1  # recounted for today: the 10-day-old entry is now 15 days old


async def test_no_validators_means_no_conditional_request(server: Server, ctx: ProbeContext) -> None:
    url = server.serve("/wechat/mp/plain", rss(1))
    await run(account(url), ctx)
    r = await run(account(url), ctx)
    sent = server.hits("/wechat/mp/plain")[-1].headers
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent
    assert r.unchanged and r.details.get("same_body")  # the same bytes: not parsed again (below)


# --- the same body again (issue 21) -------------------------------------------------------------


def built(body: str, when: float) -> str:
    """The feed as RSSHub writes it: a channel <lastBuildDate> of the moment it was built."""
    stamp = format_datetime(datetime.fromtimestamp(when, UTC))
    return body.replace("<channel><title>", f"<channel><lastBuildDate>{stamp}</lastBuildDate><title>", 1)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bodies the probe parsed (feed.parse, observed, not replaced)."""
    seen: list[bytes] = []
    real = feed.parse

    def spy(body: bytes, content_type: str = "") -> feed.Parsed:
        seen.append(body)
        return real(body, content_type)

    monkeypatch.setattr(feed, "parse", spy)
    return seen


async def test_a_feed_rebuilt_with_the_same_entries_is_not_parsed_again(
    server: Server, ctx: ProbeContext, parses: list[bytes]
) -> None:
    body = rss(1, 10)
    url = server.serve("/weibo/user/7", built(body, NOW))
    first = await run(account(url), ctx)
    clock(ctx).now += same_day(NOW)
    server.serve("/weibo/user/7", built(body, clock(ctx).now))  # only the build time differs
    second = await run(account(url), ctx)
    assert len(parses) == 1
    assert second.success and second.unchanged and second.status_code == 200
    assert (second.last_entry, second.entries, second.entries_recent) == (first.last_entry, 2, first.entries_recent)


def same_day(now: float) -> float:
    """Seconds to wait that stay within ``now``'s day in Beijing (the ID check's day)."""
    to_midnight = DAY - (now + 8 * 3600) % DAY
    return min(3600.0, to_midnight / 2)


NEW_ITEM = "<item><title>新的一条</title><pubDate>{now}</pubDate></item>"


@pytest.mark.parametrize(
    ("change", "newest", "entries", "title"),
    [
        pytest.param(lambda b: b.replace("<item>", NEW_ITEM + "<item>", 1), 0, 4, "新的一条", id="a new entry"),
        pytest.param(lambda b: b.replace("第0条", "第0条（更正）"), 3, 3, "平安潮州第0条（更正）", id="a title edited"),
        pytest.param(lambda b: b.replace("</channel>", NEW_ITEM + "</channel>"), 0, 4, "新的一条", id="one appended"),
    ],
)
async def test_a_changed_feed_is_always_read_again(
    server: Server,
    ctx: ProbeContext,
    parses: list[bytes],
    change: Callable[[str], str],
    newest: float,
    entries: int,
    title: str,
) -> None:
    """Same ETag, same build time, no 304: only the entries differ, and the reading says so."""
    body = rss(3, 10, 20)
    headers = {"ETag": '"v1"'}  # a server that keeps its validator although the feed changed
    url = server.serve("/weibo/user/8", built(body, NOW), headers=headers)
    first = await run(account(url), ctx)
    assert (first.last_entry, first.entries) == (NOW - 3 * DAY, 3)
    clock(ctx).now += same_day(NOW)
    now = format_datetime(datetime.fromtimestamp(clock(ctx).now, UTC))
    server.serve("/weibo/user/8", built(change(body).replace("{now}", now), NOW), headers=headers)
    second = await run(account(url), ctx)
    assert len(parses) == 2 and not second.unchanged
    expected = clock(ctx).now if newest == 0 else NOW - newest * DAY
    assert (second.last_entry, second.entries, second.details["newest_title"]) == (expected, entries, title)


async def test_an_atom_entrys_updated_date_is_never_left_out(
    server: Server, ctx: ProbeContext, parses: list[bytes]
) -> None:
    def atom(feed_updated: float, entry_updated: float) -> str:
        iso = lambda t: datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        return (
            f'<feed xmlns="http://www.w3.org/2005/Atom"><title>平安潮州</title><updated>{iso(feed_updated)}</updated>'
            f"<entry><title>a</title><id>1</id><updated>{iso(entry_updated)}</updated></entry></feed>"
        )

    url = server.serve("/weibo/user/9", atom(NOW, NOW - 4 * DAY), content_type="application/atom+xml")
    await run(account(url), ctx)
    clock(ctx).now += same_day(NOW)
    server.serve("/weibo/user/9", atom(clock(ctx).now, NOW - 4 * DAY), content_type="application/atom+xml")
    assert (await run(account(url), ctx)).unchanged and len(parses) == 1  # the feed's own <updated> only
    server.serve("/weibo/user/9", atom(clock(ctx).now, NOW), content_type="application/atom+xml")
    third = await run(account(url), ctx)
    assert len(parses) == 2 and not third.unchanged and third.last_entry == NOW


async def test_a_reading_that_could_change_with_time_is_read_again(
    server: Server, ctx: ProbeContext, parses: list[bytes]
) -> None:
    """An entry dated two days ahead is not trusted today, and is once its day has come."""
    url = server.serve("/weibo/user/10", rss(-2, 5))
    first = await run(account(url), ctx)
    assert first.last_entry == NOW - 5 * DAY
    clock(ctx).now += 2 * DAY
    second = await run(account(url), ctx)
    assert len(parses) == 2 and second.last_entry == NOW + 2 * DAY


async def test_another_day_or_other_dictionaries_read_the_same_body_again(
    server: Server, ctx: ProbeContext, parses: list[bytes]
) -> None:
    url = server.serve("/weibo/user/11", rss(1, 2))
    await run(account(url), ctx)
    clock(ctx).now += same_day(NOW)
    await run(account(url), ctx)
    assert len(parses) == 1
    clock(ctx).now += DAY  # the ID-number check depends on the date
    await run(account(url), ctx)
    assert len(parses) == 2
    assert feed.body_fingerprint(b"x", (), datetime(2026, 1, 1).date()) != feed.body_fingerprint(
        b"x", ("extra.txt",), datetime(2026, 1, 1).date()
    )


# --- politeness ----------------------------------------------------------------------------


async def test_a_429_with_retry_after_backs_off_the_platform_without_fetching(
    server: Server, ctx: ProbeContext
) -> None:
    url = server.serve(
        "/weibo/user/1", "slow down", status=429, content_type="text/plain", headers={"Retry-After": "120"}
    )
    other = server.serve("/weibo/user/2", rss(1))
    wechat = server.serve("/wechat/mp/3", rss(1))
    r = await run(account(url), ctx)
    assert not r.success and r.reason.startswith("HTTP 429") and r.backoff_until == NOW + 120
    r2 = await run(account(other, id="other"), ctx)
    assert not r2.success and r2.reason.startswith(f"backing off {server.base[7:]}/weibo until")
    assert server.hits("/weibo/user/2") == []  # not fetched at all
    assert (await run(account(wechat, id="w"), ctx)).success  # another platform on the same RSSHub is not held back
    clock(ctx).now += 121
    assert (await run(account(other, id="other"), ctx)).success


async def test_a_429_without_retry_after_backs_off_exponentially(server: Server, ctx: ProbeContext) -> None:
    url = server.serve("/weibo/user/1", "", status=429, content_type="text/plain")
    assert (await run(account(url), ctx)).backoff_until == NOW + 60
    clock(ctx).now += 61
    assert (await run(account(url), ctx)).backoff_until == NOW + 61 + 120


async def test_one_broken_route_does_not_back_off_its_platform(server: Server, ctx: ProbeContext) -> None:
    broken = server.serve("/weibo/user/9", "<html>Error</html>", status=503, content_type="text/html")
    healthy = server.serve("/weibo/user/1", rss(1))
    for _ in range(5):
        assert not (await run(account(broken, id="b"), ctx)).success
        assert (await run(account(healthy, id="h"), ctx)).success
    assert len(server.hits("/weibo/user/9")) == 5


async def test_repeated_5xx_from_a_platform_backs_off_after_three(server: Server, ctx: ProbeContext) -> None:
    for n in range(3):
        server.serve(f"/weibo/user/{n}", "<html>Error</html>", status=502, content_type="text/html")
        r = await run(account(f"{server.base}/weibo/user/{n}", id=f"a{n}"), ctx)
    assert r.backoff_until == NOW + 60 and r.reason.endswith("backing off until " + feed._iso(NOW + 60))
    server.serve("/weibo/user/3", rss(1))
    assert (await run(account(f"{server.base}/weibo/user/3", id="a3"), ctx)).reason.startswith("backing off")
    assert server.hits("/weibo/user/3") == []


# --- stopped accounts ------------------------------------------------------------------------


async def test_a_stopped_account_that_still_posts_is_not_deregistered(server: Server, ctx: ProbeContext) -> None:
    url = server.serve("/wechat/mp/chaoan-fda", rss(3, 9))
    r = await run(account(url, status="stopped"), ctx)
    assert r.success and r.not_deregistered
    row = r.details["not_deregistered"]
    assert row["unit"] == "潮州市公安局" and row["platform"] == "wechat" and row["still_posting"] is True


async def test_a_stopped_account_whose_feed_still_answers_with_old_entries_is_not_deregistered(
    server: Server, ctx: ProbeContext
) -> None:
    url = server.serve("/wechat/mp/chaoan-health", rss(200))
    r = await run(account(url, status="stopped"), ctx)
    assert r.not_deregistered and r.details["not_deregistered"]["still_posting"] is False


@pytest.mark.parametrize("case", ["active account", "stopped, route gone", "stopped, empty feed"])
async def test_not_deregistered_does_not_fire(server: Server, ctx: ProbeContext, case: str) -> None:
    if case == "active account":
        url, status = server.serve("/wechat/mp/a", rss(1)), "active"
    elif case == "stopped, route gone":
        url, status = server.base + "/wechat/mp/gone", "stopped"
    else:
        url, status = server.serve("/wechat/mp/e", rss()), "stopped"
    r = await run(account(url, status=status), ctx)
    assert not r.not_deregistered and "not_deregistered" not in r.details


# --- dates ----------------------------------------------------------------------------------


async def test_dates_in_1970_and_2099_are_not_trusted(server: Server, ctx: ProbeContext) -> None:
    body = rss(5).replace(
        "</channel>",
        "<item><title>x</title><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>"
        "<item><title>y</title><pubDate>Wed, 01 Jul 2099 00:00:00 GMT</pubDate></item></channel>",
    )
    r = await run(account(server.serve("/wechat/mp/d", body)), ctx)
    assert r.success and r.last_entry == NOW - 5 * DAY
    assert (r.details["future_dates"], r.details["ancient_dates"]) == (1, 1)
    assert "dated more than a day ahead" in r.reason and "before 2000" in r.reason


async def test_a_feed_with_only_untrustworthy_dates_has_no_newest_entry(server: Server, ctx: ProbeContext) -> None:
    r = await run(account(server.serve("/wechat/mp/d", rss(-400, NOW / DAY))), ctx)  # 2099-ish and 1970
    assert r.success and r.last_entry is None and r.entries == 2
    assert "no entry has a trustworthy date" in r.reason


async def test_undated_entries_are_dated_when_first_seen(server: Server, ctx: ProbeContext) -> None:
    url = server.serve("/wechat/mp/u", rss(None, None))
    first = await run(account(url), ctx)
    assert first.success and first.last_entry is None and "dated when first seen" in first.reason
    clock(ctx).now += DAY
    assert (await run(account(url), ctx)).last_entry is None  # the same entries: nothing new
    server.serve("/wechat/mp/u", rss(None, None, None))
    third = await run(account(url), ctx)
    assert third.last_entry == NOW + DAY and third.details["dated_on_sight"] == 1


# --- bad input ------------------------------------------------------------------------------


async def test_a_feed_larger_than_the_cap_fails_with_a_reason(server: Server, ctx: ProbeContext) -> None:
    huge = rss(1).replace("</channel>", "<!--" + "x" * (21 * 1024 * 1024) + "--></channel>")
    r = await run(account(server.serve("/wechat/mp/big", huge)), ctx)
    assert not r.success and r.reason == "feed larger than the 20 MiB limit (feeds.max_bytes)"


async def test_fifty_thousand_entries_cost_bounded_cpu(server: Server, ctx: ProbeContext) -> None:
    url = server.serve("/wechat/mp/many", rss(*([1.0] * 50_000)))
    cpu = time.process_time()
    r = await run(account(url), ctx)
    cpu = time.process_time() - cpu
    assert r.success and r.entries == 50_000 and r.last_entry == NOW - DAY
    assert "only the first 5000 of 50000 entries read" in r.reason
    assert cpu < 2.0


async def test_a_gbk_declared_feed_is_read(server: Server, ctx: ProbeContext) -> None:
    url = server.serve("/wechat/mp/gbk", rss(1, encoding="GBK").encode("gbk"), content_type="text/xml")
    r = await run(account(url), ctx)
    assert r.success and r.reason == "" and r.details["newest_title"] == "平安潮州第0条"


async def test_a_mislabelled_gbk_feed_is_read(server: Server, ctx: ProbeContext) -> None:
    url = server.serve(
        "/wechat/mp/gbk", rss(1, encoding="UTF-8").encode("gbk"), content_type="application/xml; charset=utf-8"
    )
    r = await run(account(url), ctx)
    assert r.success and r.details["newest_title"] == "平安潮州第0条"


async def test_mixed_encodings_are_a_partial_reading_with_a_reason(server: Server, ctx: ProbeContext) -> None:
    mixed = rss(1).encode("utf-8").replace("第0条".encode(), "第0条".encode("gbk") + "\u00e9".encode("latin-1"))
    r = await run(account(server.serve("/wechat/mp/mixed", mixed)), ctx)
    assert r.success and r.last_entry == NOW - DAY
    assert "undecodable bytes replaced" in r.reason


async def test_malformed_xml_with_entries_is_read_leniently(server: Server, ctx: ProbeContext) -> None:
    body = rss(2).replace("</channel></rss>", "<item><title>unclosed &nbsp; entity</title></item>")
    r = await run(account(server.serve("/wechat/mp/m", body)), ctx)
    assert r.success and r.last_entry == NOW - 2 * DAY
    assert "not well-formed" in r.reason
