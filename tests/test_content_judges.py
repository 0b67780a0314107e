"""The content judges as pure functions: no network (issue 3)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from probes.content import columns, compliance, dates, extract, fingerprint, privacy, serious
from probes.content.decode import decode
from probes.content_probe import CLOSURE_NOTICE
from probes.links import collect

NOW = dates.to_timestamp(2026, 11, 20, 10, 0)  # Friday 2026-11-20 10:00 in Shanghai
assert NOW is not None
TODAY = date(2026, 11, 20)
BASE = "https://www.lh.gov.cn/"


def ts(y: int, m: int, d: int) -> float:
    t = dates.to_timestamp(y, m, d)
    assert t is not None
    return t


def page(body: str) -> extract.Page:
    return extract.parse(f"<html><head><title>t</title></head><body>{body}</body></html>", BASE, NOW)


# --- decoding -----------------------------------------------------------------

TEXT = "<html><head><title>汕头市龙湖区人民政府</title></head><body>工作动态 通知公告</body></html>"


def test_gbk_page_declared_in_the_header_decodes() -> None:
    got = decode(TEXT.encode("gbk"), "text/html; charset=GBK")
    assert got.text == TEXT and got.encoding == "gb18030"


def test_header_utf8_but_gbk_bytes_follow_the_meta() -> None:
    html = TEXT.replace("<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    got = decode(html.encode("gbk"), "text/html; charset=utf-8")
    assert got.text == html
    assert "header says utf-8, meta says gb2312" in got.note


def test_utf8_bytes_win_over_a_stale_gb2312_declaration() -> None:
    html = TEXT.replace("<head>", '<head><meta charset="gb2312">')
    got = decode(html.encode("utf-8"), "text/html")
    assert got.text == html and got.encoding == "utf-8"
    assert "meta says gb2312" in got.note


def test_bom_and_no_declaration() -> None:
    assert decode(b"\xef\xbb\xbf" + TEXT.encode("utf-8")).text == TEXT
    got = decode(TEXT.encode("gb18030"))
    assert got.text == TEXT and "no charset declared" in got.note


def test_a_body_cut_mid_character_still_decodes() -> None:
    data = TEXT.encode("utf-8")
    cut = data[: data.index("区".encode()) + 1]  # ends inside a 3-byte character
    got = decode(cut, "text/html; charset=utf-8")
    assert got.text is not None and got.text.endswith("龙湖")


def test_binary_is_undecodable_with_a_reason() -> None:
    got = decode(bytes(range(256)) * 64, "application/octet-stream")
    assert got.text is None and got.note.startswith("undecodable")


# --- dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2026-11-18", "2026/11/18", "2026.11.18", "2026年11月18日", "2026-11-18 09:30", "2026年11月18日 09:30:05"],
)
def test_full_date_formats(text: str) -> None:
    (found,) = dates.find_full(f"标题 {text} 来源", NOW)
    assert found.problem == "" and ts(2026, 11, 18) <= found.timestamp < ts(2026, 11, 19)


def test_invalid_dates_are_ignored() -> None:
    assert [d.problem for d in dates.find_full("2026-13-45 2026-02-30", NOW)] == ["invalid", "invalid"]


def test_month_day_takes_this_year_unless_that_is_after_today() -> None:
    (nov,) = dates.find_short_tokens("x [11-19]", NOW)
    (dec,) = dates.find_short_tokens("x 12-05", NOW)
    assert nov.timestamp == ts(2026, 11, 19)
    assert dec.timestamp == ts(2025, 12, 5)


def test_dates_are_read_in_shanghai_time() -> None:
    utc = datetime(2026, 11, 19, 16, 0, tzinfo=UTC).timestamp()
    assert dates.to_timestamp(2026, 11, 20) == utc
    assert dates.today(ts(2026, 11, 20) + 1) == date(2026, 11, 20)  # 00:00:01 in Shanghai is 16:00 UTC the day before


# --- items and homepage freshness ------------------------------------------------


def test_dated_list_items_give_the_newest_publication() -> None:
    p = page(
        "<ul><li><a href=/a.html>关于开展安全生产检查的通知</a><span>2026-11-18</span></li>"
        "<li><a href=/b.html>区政府召开常务会议</a><span>[11-19]</span></li></ul>"
        "<table><tr><td><a href=/c.html>某某政策文件的标题</a></td><td>2026年11月10日</td></tr></table>"
    )
    assert p.newest == ts(2026, 11, 19)
    assert len(p.dated_items) == 3


def test_the_headers_display_of_today_is_not_a_publication() -> None:
    p = page(
        "<div class=top>今天是2026年11月20日 星期五 <a href=/x>设为首页</a></div>"
        "<div class=top><span>2026-11-20</span><a href=/y>加入收藏</a></div>"
    )
    assert p.newest is None


def test_copyright_years_are_not_a_publication() -> None:
    p = page("<div class=foot><p>Copyright © 2003-2026 龙湖区人民政府 版权所有 <a href=/m>网站地图导航</a></p></div>")
    assert p.newest is None


def test_a_meeting_announced_for_next_month_is_not_a_publication() -> None:
    p = page(
        "<ul><li><a href=/m.html>关于召开全区安全生产工作会议的通知</a><span>2026-12-05</span></li>"
        "<li><a href=/o.html>十月份的工作动态信息</a><span>2026-10-08</span></li></ul>"
    )
    assert p.newest == ts(2026, 10, 8)
    assert {"date": "2026-12-05", "reason": "future", "item": "关于召开全区安全生产工作会议的通知"} in p.ignored_dates


def test_a_date_inside_a_title_is_not_the_publication_date() -> None:
    p = page("<ul><li><a href=/a.html>关于2026年12月1日起施行新规定的通知</a><span>2026-11-02</span></li></ul>")
    assert p.newest == ts(2026, 11, 2)


def test_undated_date_and_out_of_range_date_do_not_count() -> None:
    p = page(
        "<ul><li><a href=/a.html>一条没有日期的新闻标题</a></li><li><a href=/b>坏日期的一条新闻</a> 2026-13-45</li></ul>"
    )
    assert p.newest is None and any(d["reason"] == "invalid" for d in p.ignored_dates)


def test_deeply_nested_html_is_cut_not_a_hang() -> None:
    html = "<div>" * 100_000 + "x" + "</div>" * 100_000
    start = time.perf_counter()
    p = extract.parse(html, BASE, NOW)
    assert time.perf_counter() - start < 3
    assert any("nested deeper" in n for n in p.notes)


def test_ordinary_nesting_is_not_cut() -> None:
    assert extract.depth_cut("<div>" * 200 + "<p>x" * 5000) is None


# --- columns ------------------------------------------------------------------------


def test_a_placeholder_column_is_blank() -> None:
    p = page("<div class=nav><a href=/>网站首页</a></div><div class=list>暂无信息</div>")
    assert columns.blank_reason(p) == "placeholder: 暂无信息"
    assert columns.blank_reason(page("<div>栏目建设中……</div>")).startswith("placeholder")


def test_a_column_without_any_item_is_blank() -> None:
    assert columns.blank_reason(page("<ul class=nav><li><a href=/>首页</a></li></ul>")) == "no items"


def test_a_column_with_items_is_not_blank() -> None:
    p = page(
        "<ul><li><a href=/a.html>关于开展安全生产检查的通知</a><span>2026-11-18</span></li></ul>"
        "<div class=side>暂无信息</div>"
    )
    finding = columns.judge("工作动态", "news", BASE + "gzdt/", p)
    assert not finding.blank and finding.last_update == ts(2026, 11, 18) and finding.items == 1


def test_candidate_columns_come_from_the_navigation() -> None:
    p = page(
        "<div id=nav><a href=/gzdt/>工作动态</a><a href=/tzgg/>通知公告</a><a href=/>网站首页</a>"
        "<a href=https://other.gov.cn/x/>外站栏目</a></div>"
    )
    found = columns.candidates(p, BASE, {BASE + "gzdt/"})
    assert found == [{"name": "通知公告", "url": BASE + "tzgg/", "category": "notice"}]


# --- required elements ------------------------------------------------------------------

FOOTER = (
    "<div class=foot>主办：汕头市龙湖区人民政府 网站标识码：4405070010 <a href=https://beian.miit.gov.cn/>粤ICP备05080455号</a>"
    " 粤公网安备 44050702000123号 <a href='https://bszs.conac.cn/sitename?method=show&id=1'><img src=/red.png></a>"
    "<script src='https://zfwzgl.www.gov.cn/exposure/jiucuo.js'></script></div>"
)


SITE_META = (
    '<meta name="SiteName" content="汕头市龙湖区人民政府"><meta name="SiteDomain" content="www.lh.gov.cn">'
    '<meta name="SiteIDCode" content="4405070010">'
)


def _found(body: str, code: str = "4405070010", host: str = "www.lh.gov.cn", head: str = SITE_META):  # type: ignore[no-untyped-def]
    p = extract.parse(f"<html><head>{head}<title>t</title></head><body>{body}</body></html>", BASE, NOW)
    return compliance.check(p, [u for _, u in p.anchors] + list(p.resource_urls), code, host)


def _checks(body: str, code: str = "4405070010", host: str = "www.lh.gov.cn", head: str = SITE_META) -> dict[str, bool]:
    return _found(body, code, host, head)[0]


def test_a_complete_footer_passes_every_check() -> None:
    assert _checks(FOOTER) == dict.fromkeys(
        (
            "site_code_shown",
            "icp_shown",
            "police_record_shown",
            "conac_mark_shown",
            "error_report_entry",
            "gov_cn_domain",
            "site_meta_tags",
        ),
        True,
    )


@pytest.mark.parametrize(
    ("remove", "check"),
    [
        ("网站标识码：4405070010", "site_code_shown"),
        ("粤ICP备05080455号", "icp_shown"),
        ("粤公网安备 44050702000123号", "police_record_shown"),
        ("<a href='https://bszs.conac.cn/sitename?method=show&id=1'><img src=/red.png></a>", "conac_mark_shown"),
        ("<script src='https://zfwzgl.www.gov.cn/exposure/jiucuo.js'></script>", "error_report_entry"),
    ],
)
def test_a_missing_element_fails_its_check(remove: str, check: str) -> None:
    checks = _checks(FOOTER.replace(remove, ""))
    assert checks[check] is False
    assert sum(not v for v in checks.values()) == 1


@pytest.mark.parametrize(
    ("icp", "police"),
    [
        ("滇ICP备05001234号-1", "滇公网安备 53280102000055号"),  # 云南: 滇, not 云
        ("黔ICP备12345678号", "黔公网安备 52010202000001号"),  # 贵州
        ("陇ICP备09004192号", "甘公网安备 62010202000001号"),  # 甘肃: 陇 for ICP, 甘 for the police record
        ("蜀ICP备05003311号", "川公网安备 51010402000001号"),  # 四川
    ],
)
def test_record_numbers_of_provinces_with_other_short_names_are_found(icp: str, police: str) -> None:
    footer = FOOTER.replace("粤ICP备05080455号", icp).replace("粤公网安备 44050702000123号", police)
    checks = _checks(footer)
    assert checks["icp_shown"] and checks["police_record_shown"]


def test_a_record_number_without_a_province_is_not_a_record() -> None:
    checks = _checks(FOOTER.replace("粤ICP备05080455号", "ICP备05080455号"))
    assert checks["icp_shown"] is False


def test_a_wrong_site_code_fails() -> None:
    assert _checks(FOOTER, code="4405070011")["site_code_shown"] is False


def test_gov_cn_domain() -> None:
    assert compliance.gov_domain("www.lh.gov.cn") and compliance.gov_domain("xx.政务")
    assert not compliance.gov_domain("www.lh.com.cn") and not compliance.gov_domain("gov.cn.example.com")


# --- serious errors and privacy ---------------------------------------------------------


def test_the_seeds_wrong_expression_is_found() -> None:
    (hit,) = serious.default().find("局长要求大家开诚不公地交流意见")
    assert hit["right"] == "开诚布公" and "开诚不公" in hit["context"]


def test_correct_text_does_not_fire() -> None:
    d = serious.default()
    correct = "；".join(e.right for e in d.entries.values())
    assert d.find(correct + "习近平总书记强调，开诚布公，中华人民共和国政府信息公开条例") == []


def test_no_wrong_form_is_part_of_any_correct_form() -> None:
    d = serious.default()
    rights = [e.right for e in d.entries.values()]
    assert not [w for w in d.entries if any(w in r for r in rights)]


def test_a_dictionary_line_that_would_fire_on_correct_text_is_refused() -> None:
    entries, problems = serious.parse_tsv("人民\t人民政府\tbad\n开诚不公\t开诚布公\n", "x.tsv")
    assert [e.wrong for e in entries] == ["开诚不公"] and "x.tsv:1" in problems[0]


def _id(first17: str) -> str:
    return first17 + privacy.check_char(first17)


def test_a_valid_resident_id_is_counted_and_masked() -> None:
    number = _id("44050719800101123")
    assert privacy.find(f"申请人身份证号：{number}，联系电话", TODAY) == [number[:6] + "********" + number[14:]]


@pytest.mark.parametrize(
    "text",
    [
        _id("44050719800101123")[:17] + "0" if _id("44050719800101123")[17] != "0" else "440507198001011231",
        _id("99050719800101123"),  # no province 99
        _id("44050719801301123"),  # month 13
        _id("44050720991231123"),  # born in the future
        "1" + _id("44050719800101123"),  # part of a longer number
    ],
)
def test_numbers_that_are_not_resident_ids_do_not_count(text: str) -> None:
    assert privacy.find(f"编号 {text} 号", TODAY) == []


# --- fingerprint, closure, links ------------------------------------------------------------


def test_first_sighting_uses_last_modified_when_older() -> None:
    lm = fingerprint.last_modified("Wed, 01 Jul 2026 08:00:00 GMT", NOW)
    record = fingerprint.observe(None, "abc", NOW, lm)
    assert record["changed"] == lm and record["first_seen"] == NOW
    assert fingerprint.observe(None, "abc", NOW, None)["changed"] == NOW


def test_an_unchanged_list_keeps_its_change_time_and_a_new_one_moves_it() -> None:
    first = fingerprint.observe(None, "abc", NOW - 86400 * 20, None)
    assert fingerprint.observe(first, "abc", NOW, None)["changed"] == NOW - 86400 * 20
    assert fingerprint.observe(first, "def", NOW, None)["changed"] == NOW


def test_closure_notice() -> None:
    assert CLOSURE_NOTICE.search("关于本网站关停的公告：本网站将于12月31日停止运行")
    assert not CLOSURE_NOTICE.search("区政府召开安全生产工作会议")


def test_links_are_collected_by_kind_without_mailto_and_anchors() -> None:
    html = (
        "<a href=/a.html>a</a><a href='mailto:x@y.cn'>m</a><a href='javascript:void(0)'>j</a><a href=#top>t</a>"
        "<a href=/f/guide.docx>g</a><img src=/i.png><script src=/s.js></script>"
        "<link rel=stylesheet href=/c.css><a href=/a.html>dup</a>"
    )
    links, found = collect(html, BASE, 100)
    assert found == 5
    assert {(link.url.removeprefix(BASE), link.kind) for link in links} == {
        ("a.html", "page"),
        ("f/guide.docx", "attachment"),
        ("i.png", "image"),
        ("s.js", "script"),
        ("c.css", "stylesheet"),
    }


def test_a_hundred_thousand_links_are_capped() -> None:
    html = "".join(f"<a href=/p{i}.html>x</a>" for i in range(100_000))
    start = time.perf_counter()
    links, found = collect(html, BASE, 1000)
    assert (len(links), found) == (1000, 100_000)
    assert time.perf_counter() - start < 5


def test_one_wrong_expression_shown_on_the_homepage_and_in_its_column_counts_once() -> None:
    from agent.registry.config import Column, Site
    from domain.divisions import region_of
    from probes.content import serious
    from probes.content_probe import judge
    from probes.net import Fetched

    headline = "<ul><li><a href='/a/1.html'>局长强调坚持开诚不公推进政务公开</a> <span>2026-11-20</span></li></ul>"
    page = f"<html><head><meta charset='utf-8'></head><body>{headline}</body></html>".encode()
    site = Site(
        code="5328010055",
        name="景洪",
        url="https://ajj.jinghong.gov.cn/",
        region=region_of("5328010055"),
        columns=(Column("工作动态", "https://ajj.jinghong.gov.cn/gzdt/", "news"),),
    )
    home = Fetched(url=site.url, final_url=site.url, status=200, body=page, headers={"content-type": "text/html"})
    column = Fetched(
        url=site.columns[0].url,
        final_url=site.columns[0].url,
        status=200,
        body=page,
        headers={"content-type": "text/html"},
    )
    now = time.mktime((2026, 11, 21, 12, 0, 0, 0, 0, -1))
    result, _ = judge(site, home, [(site.columns[0], column)], now, serious.default())
    assert [h["where"] for h in result.details["serious_errors"]] == ["homepage", "column 工作动态"]
    assert result.serious_errors == 1
    clean = page.replace("开诚不公".encode(), "开诚布公".encode())
    result, _ = judge(
        site,
        Fetched(url=site.url, final_url=site.url, status=200, body=clean, headers={"content-type": "text/html"}),
        [],
        now,
        serious.default(),
    )
    assert result.serious_errors == 0


@pytest.mark.parametrize(
    ("meta", "note"),
    [
        (
            "<meta name='ColumnName' content='通知公告'><meta name='ColumnType' content='通知公告'>",
            "declares itself notice",
        ),
        ("<meta name='ColumnName' content='工作动态'><meta name='ColumnType' content='工作动态'>", None),
        ("", None),  # nothing declared: nothing to say
    ],
)
def test_a_column_page_that_declares_another_category_says_so(meta: str, note: str | None) -> None:
    from domain.registry import Column, Site
    from probes.content_probe import judge
    from probes.net import Fetched

    body = f"<html><head>{meta}</head><body><ul><li><a href='/a/1.html'>区政府召开常务会议研究部署工作</a>"
    body += "<span>2026-11-20</span></li></ul></body></html>"
    site = Site(
        code="4405070010",
        name="龙湖",
        url="https://www.lh.gov.cn/",
        columns=(Column("工作动态", "https://www.lh.gov.cn/gzdt/", "news"),),
    )
    pages = [
        Fetched(
            url=u, final_url=u, status=200, body=body.encode(), headers={"content-type": "text/html; charset=utf-8"}
        )
        for u in (site.url, site.columns[0].url)
    ]
    result, _ = judge(site, pages[0], [(site.columns[0], pages[1])], NOW, serious.default())
    said = result.details["columns"]["工作动态"].get("category_note")
    if note is None:
        assert said is None
    else:
        assert said is not None and note in said and "configured as news" in said


def test_our_history_dates_month_days_when_the_page_gives_no_year() -> None:
    # A homepage of [MM-DD] items with no other evidence: on its own its year is unknown.  We have
    # seen this same item list since 2023-10-15, so its items are from 2023, and the homepage is stale.
    from domain.registry import Site
    from probes.content_probe import judge
    from probes.net import Fetched

    items = "".join(
        f"<li><a href='/a/{i}.html'>区政府召开第{i}次常务会议研究部署工作</a><span>10-{10 + i}</span></li>"
        for i in range(3)
    )
    body = f"<html><body><ul>{items}</ul></body></html>"
    site = Site(code="4405070010", name="龙湖", url="https://www.lh.gov.cn/")
    home = Fetched(
        url=site.url,
        final_url=site.url,
        status=200,
        body=body.encode(),
        headers={"content-type": "text/html; charset=utf-8"},
    )
    anchors = extract.parse(body, site.url, NOW).anchors
    seen = {"digest": fingerprint.digest(anchors), "changed": ts(2023, 10, 15), "first_seen": ts(2023, 10, 1)}

    alone, _ = judge(site, home, [], NOW, serious.default())
    assert alone.details["year_inference"]["year_unknown"] == 3
    assert alone.homepage_update_source == "fingerprint"  # not a guessed year

    known, record = judge(site, home, [], NOW, serious.default(), previous_fingerprint=seen)
    assert known.homepage_update_source == "dated_items"
    assert known.homepage_last_update == ts(2023, 10, 12)
    assert known.details["year_inference"]["reference"]["source"] == "our history: the item list unchanged since"

    changed = {**seen, "digest": "another list"}  # the list we saw is not this one: no evidence
    other, _ = judge(site, home, [], NOW, serious.default(), previous_fingerprint=changed)
    assert other.homepage_update_source == "fingerprint"
