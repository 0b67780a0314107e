"""Reading and judging feeds without a network: formats, dates, backoff rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from probes.feed import Backoff, Memo, backoff_key, judge, next_backoff
from probes.feedparse import Entry, Parsed, parse, parse_date
from probes.net import Failure

NOW = datetime(2024, 5, 20, 12, tzinfo=UTC).timestamp()
DAY = 86400.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 20 May 2024 12:00:00 GMT", "2024-05-20T12:00:00+00:00"),
        ("Mon, 20 May 2024 20:00:00 +0800", "2024-05-20T12:00:00+00:00"),
        ("2024-05-20T12:00:00Z", "2024-05-20T12:00:00+00:00"),
        ("2024-05-20 20:00:00", "2024-05-20T12:00:00+00:00"),  # no zone: Beijing time
        ("2024年5月20日 20:00", "2024-05-20T12:00:00+00:00"),
        ("2024/05/20", "2024-05-19T16:00:00+00:00"),
    ],
)
def test_dates_in_the_forms_feeds_use(text: str, expected: str) -> None:
    t = parse_date(text)
    assert t is not None and datetime.fromtimestamp(t, UTC).isoformat() == expected


@pytest.mark.parametrize("text", ["", "   ", "昨天", "not a date", "2024-13-45"])
def test_unreadable_dates_are_none(text: str) -> None:
    assert parse_date(text) is None


def test_rss_1_0_is_read_on_the_fast_path() -> None:
    doc = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="x"><title>t</title></channel>
      <item rdf:about="1"><title>a</title><link>http://x/1</link><dc:date>2024-05-19T00:00:00Z</dc:date></item>
    </rdf:RDF>"""
    p = parse(doc)
    assert (p.format, p.parser, len(p.entries)) == ("rss1.0", "fast", 1)
    assert p.entries[0].date == datetime(2024, 5, 19, tzinfo=UTC).timestamp()


def test_rss_0_91_with_its_doctype_is_read() -> None:
    doc = b"""<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
      "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel><title>t</title>
      <item><title>a</title><link>http://x/1</link></item></channel></rss>"""
    p = parse(doc)
    assert p.format == "rss0.91" and p.entries[0].date is None and not p.error


def test_atom_0_3_falls_back_to_feedparser() -> None:
    doc = b"""<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>t</title>
      <entry><title>a</title><id>1</id><issued>2024-05-19T00:00:00Z</issued></entry></feed>"""
    p = parse(doc)
    assert p.parser == "feedparser" and p.format.startswith("feedparser:atom03")
    assert p.entries[0].date == datetime(2024, 5, 19, tzinfo=UTC).timestamp()


def test_html_is_recognised_even_when_served_as_xml() -> None:
    p = parse(b"\xef\xbb\xbf  <!-- cdn --><!DOCTYPE html><html><title>403 Forbidden</title></html>", "application/xml")
    assert p.error.startswith("an HTML page instead of a feed") and "403 Forbidden" in p.error


def test_a_valid_feed_served_as_text_html_is_still_a_feed() -> None:
    assert (
        parse(b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>', "text/html").format
        == "rss2.0"
    )


def test_entity_expansion_is_refused_not_executed() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %s "%s">' % (f"a{i}".encode(), (f"&a{i - 1};" if i > 1 else "&a;").encode() * 10)
            for i in range(1, 10)
        )
        + b']><rss version="2.0"><channel><title>&a9;</title></channel></rss>'
    )
    assert parse(bomb).error.startswith("refused: the document declares its own XML entities")


def test_a_huge_malformed_document_is_not_handed_to_the_lenient_parser() -> None:
    p = parse(b"<rss><channel>" + b"<item><title>x</title>" * 200_000)
    assert "too large for the lenient parser" in p.error


# --- judging ---------------------------------------------------------------------


def _parsed(*dates: float | None) -> Parsed:
    return Parsed("rss2.0", tuple(Entry(d, f"k{i}") for i, d in enumerate(dates)), len(dates))


def test_a_date_a_few_hours_ahead_counts_as_now() -> None:
    r = judge(_parsed(NOW + 8 * 3600), Memo(), NOW, 14 * DAY)
    assert r.last_entry == NOW and r.future == 0


def test_the_newest_entry_ever_seen_survives_its_deletion_from_the_feed() -> None:
    r = judge(_parsed(NOW - 10 * DAY), Memo(last_entry=NOW - 2 * DAY), NOW, 14 * DAY)
    assert r.last_entry == NOW - 2 * DAY and r.entries_recent == 1


def test_recent_entries_are_those_within_recent_days() -> None:
    r = judge(_parsed(NOW - DAY, NOW - 13.9 * DAY, NOW - 14.1 * DAY), Memo(), NOW, 14 * DAY)
    assert r.entries_recent == 2


# --- backoff -----------------------------------------------------------------------


def test_backoff_keys_are_per_host_and_per_rsshub_platform() -> None:
    hub = "http://rsshub.local:1200"
    assert backoff_key("http://rsshub.local:1200/weibo/user/1", hub) == "rsshub.local:1200/weibo"
    assert backoff_key("http://rsshub.local:1200/wechat/mp/x", hub + "/") == "rsshub.local:1200/wechat"
    assert backoff_key("https://www.gd.gov.cn/rss/news.xml", hub) == "www.gd.gov.cn"
    assert backoff_key("http://h/rsshub/weibo/user/1", "http://h/rsshub") == "h/weibo"


def test_a_normal_answer_clears_the_backoff() -> None:
    for status in (200, 304, 404, 403):
        assert next_backoff(Backoff(NOW - 1, 4), status, "", None, NOW) is None


def test_retry_after_as_an_http_date_is_honoured_and_capped() -> None:
    when = "Mon, 20 May 2024 12:10:00 GMT"
    assert next_backoff(None, 503, "", when, NOW) == Backoff(NOW + 600, 1, "HTTP 503, 1 in a row")
    assert next_backoff(None, 429, "", "99999999", NOW).until == NOW + 6 * 3600  # type: ignore[union-attr]


def test_exponential_backoff_is_capped_at_an_hour() -> None:
    b = None
    for _ in range(10):
        b = next_backoff(b, 429, "", None, NOW)
    assert b is not None and b.until == NOW + 3600


def test_connection_failures_count_like_5xx_but_an_oversized_body_does_not() -> None:
    b = None
    for _ in range(3):
        b = next_backoff(b, None, Failure.REFUSED, None, NOW)
    assert b is not None and b.until == NOW + 60
    assert next_backoff(None, 200, Failure.TOO_LARGE, None, NOW) is None
