"""Judging pages as an inspector would (issue 9): each rule provoked, and each left quiet where it must be.

Years from evidence, visible text only, items where real pages put them, record-number
variants, the CONAC and error-report scripts, the standard's meta tags, 暗链.
"""

from __future__ import annotations

import pytest

from probes.content import compliance, dates, extract, hidden_links, years

NOW = dates.to_timestamp(2026, 11, 20, 10, 0)  # Friday 2026-11-20 10:00 in Shanghai
assert NOW is not None
BASE = "https://www.lh.gov.cn/"
CODE = "4405070010"
META = (
    '<meta name="SiteName" content="汕头市龙湖区人民政府"><meta name="SiteDomain" content="www.lh.gov.cn">'
    f'<meta name="SiteIDCode" content="{CODE}">'
)


def ts(y: int, m: int, d: int) -> float:
    t = dates.to_timestamp(y, m, d)
    assert t is not None
    return t


def page(body: str, head: str = "", *, last_modified: float | None = None) -> extract.Page:
    html = f"<html><head>{head}<title>t</title></head><body>{body}</body></html>"
    return extract.parse(html, BASE, NOW, last_modified)


def checks(body: str, head: str = META, code: str = CODE) -> tuple[dict[str, bool], dict[str, object]]:
    return compliance.check(page(body, head), [], code, "www.lh.gov.cn")


def li(title: str, date: str, href: str = "/a.html") -> str:
    return f"<li><a href={href}>{title}</a><span>{date}</span></li>"


# --- the year of [MM-DD] ----------------------------------------------------------------------


def test_a_stale_homepage_printing_month_days_beside_an_old_full_date_is_stale() -> None:
    p = page(
        "<ul>" + li("区政府召开常务会议研究工作", "[03-06]") + li("关于开展安全检查的通知", "[2018-03-16]") + "</ul>"
    )
    assert p.newest == ts(2018, 3, 16)
    (short,) = [i for i in p.items if i.year_from]
    assert short.published == ts(2018, 3, 6) and short.year_from == "page evidence"
    assert p.year_report["reference"]["source"] == "full dates beside items"


def test_an_item_url_carrying_its_date_gives_the_year() -> None:
    p = page("<ul>" + li("区政府召开常务会议研究工作", "10-11", "./202310/t20231011_2290635.html") + "</ul>")
    (item,) = p.items
    assert item.published == ts(2023, 10, 11) and item.year_from == "item URL"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.gov.cn/xxgk/202310/t20231011_2290635.html", (2023, 10, 11)),
        ("https://x.gov.cn/art/2023/10/11/art_1229_5678.html", (2023, 10, 11)),
        ("https://x.gov.cn/2023-10/11/c_1129910.htm", (2023, 10, 11)),
        ("https://x.gov.cn/zwyw/202310/f774748034514ad2.shtml", (2023, 10, 0)),
        ("https://x.gov.cn/news/12345.html", None),
        ("https://x.gov.cn/202313/t20231399_1.html", None),
    ],
)
def test_dates_in_item_urls(url: str, expected: tuple[int, int, int] | None) -> None:
    assert years.url_date(url) == expected


def test_the_meta_pubdate_is_evidence_of_the_year() -> None:
    p = page(
        "<ul>" + li("相关新闻的一个标题文字", "09-30") + "</ul>", '<meta name="PubDate" content="2024-09-30 09:24">'
    )
    assert p.newest == ts(2024, 9, 30)
    assert p.year_report["reference"]["source"] == "meta PubDate"


def test_a_month_day_just_after_the_evidence_keeps_its_year_but_not_one_months_later() -> None:
    body = "<ul>" + li("一条全日期的新闻标题", "2025-11-18") + li("一条只有月日的新闻标题", "[11-19]", "/b.html")
    body += li("另一条只有月日的新闻标题", "[12-30]", "/c.html") + "</ul>"
    p = page(body)
    dated = {i.title: i.published for i in p.items}
    assert dated["一条只有月日的新闻标题"] == ts(2025, 11, 19)  # a day after the evidence: the same year
    assert dated["另一条只有月日的新闻标题"] == ts(2024, 12, 30)  # weeks after it: the year before


# --- issue 19: the year from the order of article ids ---------------------------------------------


def _ids(rows: list[tuple[str, str, int]], path: str = "/info/1041/") -> str:
    return "<ul>" + "".join(li(t, d, f"{path}{n}.htm") for t, d, n in rows) + "</ul>"


def test_a_block_abandoned_for_a_year_beside_fresh_dated_items_is_dated_by_its_lower_article_ids() -> None:
    fresh = _ids([("本周的工作动态标题一", "2026-11-19", 9120), ("本周的工作动态标题二", "2026-11-12", 9101)])
    stale = _ids([("旧栏目里的通知标题一", "[11-18]", 7040), ("旧栏目里的通知标题二", "[11-02]", 7031)], "/info/1042/")
    p = page(fresh + stale)
    dated = {i.title: (i.published, i.year_from) for i in p.items}
    # written before items of 2026-11-12 and printing 11-18: not this year's 11-18 but last year's
    assert dated["旧栏目里的通知标题一"] == (ts(2025, 11, 18), "article ids")
    assert dated["旧栏目里的通知标题二"] == (ts(2026, 11, 2), "article ids")
    assert p.year_report["year_from_article_ids"] == 2
    # the twin: without the ids, the page's newest evidence (a week's slack) made it this year's
    plain = page(fresh + stale.replace("/info/1042/7040.htm", "/a1.html").replace("/info/1042/7031.htm", "/a2.html"))
    assert {i.title: i.published for i in plain.items}["旧栏目里的通知标题一"] == ts(2026, 11, 18)


def test_an_item_written_after_a_dated_one_is_dated_after_it() -> None:
    # 11-19 is nine days after the page's newest full date: the page's evidence alone (a week's slack) puts
    # it in the year before; its higher id says it was written after 2026-11-10, so this year's 11-19.
    p = page(_ids([("有年份的新闻标题文字", "2026-11-10", 500), ("只有月日的新闻标题", "[11-19]", 510)]))
    (short,) = [i for i in p.items if i.year_from]
    assert short.published == ts(2026, 11, 19) and short.year_from == "article ids"
    twin = page(_ids([("有年份的新闻标题文字", "2026-11-10", 500), ("只有月日的新闻标题", "[11-19]", 490)]))
    (short,) = [i for i in twin.items if i.year_from]
    assert short.published == ts(2025, 11, 19) and short.year_from == "article ids"


def test_ids_date_a_month_day_when_only_the_urls_of_other_items_carry_a_year() -> None:
    # No full date anywhere, and item URLs that carry a year and month only (no day): not a reference, so
    # without the ids the month-days have no year; the ids put 10-08 before the item of October 2023.
    body = "<ul>" + li("十月份的一条新闻标题", "10-09", "/xxgk/202310/5001.html")
    body += li("另一栏目只有月日的标题", "[10-08]", "/news/4990.html") + "</ul>"
    p = page(body)
    dated = {i.title: (i.published, i.year_from) for i in p.items}
    assert dated["十月份的一条新闻标题"] == (ts(2023, 10, 9), "item URL")
    assert dated["另一栏目只有月日的标题"] == (ts(2023, 10, 8), "article ids")
    twin = page(body.replace("/news/4990.html", "/news/list.html"))
    assert {i.title: i.year_from for i in twin.items}["另一栏目只有月日的标题"] == "unknown"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.gov.cn/xxgk/202310/t20231011_2290635.html", ("x.gov.cn|t#_#.html", 2290635)),
        ("https://x.gov.cn/art/2023/10/11/art_1229_5678.html", ("x.gov.cn|art_#_#.html", 5678)),
        ("https://x.gov.cn/info/1041/31887.htm", ("x.gov.cn|#.htm", 31887)),
        ("https://x.gov.cn/show.asp?id=1234&page=2", ("x.gov.cn|show.asp?id", 1234)),
        ("https://x.gov.cn/zwyw/202310/02264b867b4b4b6d91a3844f29b22154.shtml", None),  # a digest, not an id
        ("https://x.gov.cn/list/index_2.html", None),
    ],
)
def test_article_ids_in_item_urls(url: str, expected: tuple[str, int] | None) -> None:
    assert years.article_id(url) == expected


def test_with_no_evidence_at_all_month_days_are_not_dates_and_the_page_says_so() -> None:
    p = page(
        "<ul>" + li("区政府召开常务会议研究工作", "[11-19]") + li("关于开展安全检查的通知", "[11-12]", "/b") + "</ul>"
    )
    assert p.newest is None
    assert p.year_report["year_unknown"] == 2
    assert any("no evidence of the year" in n for n in p.notes)


# --- visible text only ------------------------------------------------------------------------


def test_a_hidden_old_police_number_is_not_shown_and_the_visible_one_is() -> None:
    _, found = checks(
        "<p><span style='display:none'>粤公网安备 44050702000001号</span> 粤公网安备 44050702000123号</p>"
    )
    assert found["police_record"] == "粤公网安备44050702000123号"


@pytest.mark.parametrize(
    "hidden",
    [
        "<span style='display: none;'>{}</span>",
        "<span style='VISIBILITY:hidden'>{}</span>",
        "<div style='position:absolute;left:-9999px'>{}</div>",
        "<div style='text-indent:-999em'>{}</div>",
        "<div style='height:0;overflow:hidden'>{}</div>",
        "<span hidden>{}</span>",
        "<!-- {} -->",
        "<noscript>{}</noscript>",
        "<template>{}</template>",
        "<style>.gone{{display:none}}</style><p id=x><span class=gone>x</span></p><div style='display:none'>{}</div>",
    ],
)
def test_hidden_text_does_not_count_as_shown(hidden: str) -> None:
    checks_, _ = checks("<p>主办单位：龙湖区</p>" + hidden.format("粤公网安备 44050702000123号"))
    assert checks_["police_record_shown"] is False


def test_a_block_hidden_on_desktops_and_shown_on_phones_is_shown() -> None:
    """As on the real 石家庄 page: ``.m{display:none}`` and ``@media (max-width:1024px){.m{display:block}}``."""
    body = (
        "<div class=m>粤公网安备 44050702000123号</div><style>.m{display:none}"
        "@media screen and (max-width:1024px){.m{display:block}}</style>"
    )
    assert checks(body)[0]["police_record_shown"] is True


# --- items where real pages put them ----------------------------------------------------------


def test_a_date_ending_the_link_text_in_a_block_of_many_links() -> None:
    links = "".join(f"<a href=/n{i}.html>关于第{i}项工作的通知2018年03月{10 + i}日</a><br>" for i in range(6))
    p = page(f"<div class=box>{links}</div>")
    assert len(p.dated_items) == 6 and p.newest == ts(2018, 3, 15)


def test_a_sibling_date_span_of_a_block_with_title_and_source_links() -> None:
    row = "<div class=r><a href=/t.html>市政府召开全市安全生产工作会议</a><a href=/src.html>来源：某某日报</a><span>2026-11-17</span></div>"
    p = page(row * 3)
    assert p.newest == ts(2026, 11, 17)


def test_a_sibling_date_of_a_link_in_a_block_of_many_links() -> None:
    links = "".join(f"<a href=/n{i}.html>第{i}条工作动态的标题</a><span>[11-1{i}]</span> " for i in range(5))
    p = page(f"<div>{links}</div><p><a href=/z.html>一条有完整日期的新闻</a> <span>2026-11-18</span></p>")
    assert p.newest == ts(2026, 11, 18)
    assert sum(1 for i in p.items if i.year_from == "page evidence") == 5


def test_dates_in_table_cells() -> None:
    rows = "".join(
        f"<tr><td><a href=/d{i}.html>某某政策文件的标题{i}</a></td><td>某某局</td><td>2026-11-0{i}</td></tr>"
        for i in range(1, 4)
    )
    assert page(f"<table>{rows}</table>").newest == ts(2026, 11, 3)


# --- record numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("赣公安备案 36040202000107号", "赣公安备案36040202000107号"),
        ("京公网安备案11010502030000号", "京公网安备案11010502030000号"),
        ("京公网安备 11010202000001号", "京公网安备11010202000001号"),
        ("鄂公网安备42011102000076号", "鄂公网安备42011102000076号"),
        ("京公网安备11011502002502", "京公网安备11011502002502"),
    ],
)
def test_every_police_record_variant_in_use_is_found(written: str, found: str) -> None:
    assert checks(f"<p>{written}</p>")[1]["police_record"] == found


def test_icp_record_variants() -> None:
    assert checks("<p>京ICP备案 13012430号-6</p>")[0]["icp_shown"] is True
    assert checks("<p>ICP备案编号：13012430号</p>")[0]["icp_shown"] is False  # no province: not a record


# --- the 党政机关 mark and the error-report entry --------------------------------------------------

CONAC_SNIPPET = (
    '<script type="text/javascript">document.write(unescape("%3Cspan id=\'_ideConac\' %3E%3C/span%3E%3Cscript '
    "src='http://dcs.conac.cn/js/33/000/0000/60497944/CA330000000604979440004.js' type='text/javascript'%3E"
    '%3C/script%3E"));</script>'
)


def test_conacs_snippet_is_decoded_and_recognised() -> None:
    ok, found = checks(f"<div class=foot>{CONAC_SNIPPET}</div>")
    assert ok["conac_mark_shown"] is True
    assert "percent-decoded" in str(found["conac_evidence"]) and "dcs.conac.cn/js/33" in str(found["conac_evidence"])


def test_a_commented_out_snippet_is_not_the_mark() -> None:
    ok, found = checks(f"<div class=foot><!-- {CONAC_SNIPPET} --></div>")
    assert ok["conac_mark_shown"] is False and "no 党政机关 mark" in str(found["conac_problem"])


def test_a_copy_of_the_mark_without_its_link_is_not_accepted() -> None:
    ok, found = checks("<div class=foot><img src=/images/dzjg.png title='党政机关' alt='党政机关'></div>")
    assert ok["conac_mark_shown"] is False and "without its link" in str(found["conac_problem"])


def test_the_linked_mark_is_accepted() -> None:
    ok, found = checks("<a href='https://bszs.conac.cn/sitename?method=show&id=0ADC'><img src=/red.png></a>")
    assert ok["conac_mark_shown"] is True and "bszs.conac.cn" in str(found["conac_evidence"])


def test_the_error_report_script_with_its_sitecode_is_the_entry() -> None:
    ok, found = checks(
        f"<script id='_jiucuo_' sitecode='{CODE}' src='https://zfwzgl.www.gov.cn/exposure/jiucuo.js'></script>"
    )
    assert ok["error_report_entry"] is True and f"sitecode {CODE}" in str(found["error_report_evidence"])


def test_an_error_report_script_of_another_site_fails() -> None:
    ok, found = checks(
        "<script id='_jiucuo_' sitecode='4405070011' src='https://zfwzgl.www.gov.cn/exposure/jiucuo.js'></script>"
    )
    assert ok["error_report_entry"] is False and "4405070011" in str(found["error_report_problem"])


# issue 19: every host the official script and its form came from, as real pages carry them (PROVENANCE.md)
ENTRIES = {
    "census platform script": "<script id='_jiucuo_' sitecode='{code}' src='http://pucha.kaipuyun.cn/exposure/jiucuo.js '>"
    "</script>",
    "saved page's copy": '<script id="_jiucuo_" sitecode="{code}" src="./首页_files/jiucuo.js.下载"></script>',
    "image the script wrote": "<span id='_span_jiucuo'><img onclick=\"Link('{code}')\" style='cursor: pointer;' "
    "src='http://121.43.68.40/exposure/images/jiucuo.png?v={code}'></span>",
    "image alone": "<img src='http://121.43.68.40/exposure/images/jiucuo.png?v={code}'>",
    "handler opening the form": "<a href='javascript:void(0)' onclick=\"OpenUrl('http://121.43.68.40/exposure/"
    "jiucuo.html?site_code={code}&url=http%3A%2F%2Fwww.lh.gov.cn%2F')\"><img src='images/jiucuo.png'></a>",
    "link to the form": "<a href='http://121.43.68.40/exposure/jiucuo.html?site_code={code}'><img src=/err.png></a>",
}


@pytest.mark.parametrize("how", list(ENTRIES))
def test_the_error_report_entry_from_every_platform_host_carries_its_site_code(how: str) -> None:
    ok, found = checks(ENTRIES[how].format(code=CODE))
    assert ok["error_report_entry"] is True, found
    assert f"sitecode {CODE}" in str(found["error_report_evidence"])
    other, found = checks(ENTRIES[how].format(code="4405070011"))  # the twin: another site's entry
    assert other["error_report_entry"] is False and "4405070011" in str(found["error_report_problem"])


def test_an_image_named_jiucuo_on_the_sites_own_host_without_a_handler_is_not_the_entry() -> None:
    ok, _ = checks("<img src='/images/jiucuo.png' alt=''>")
    assert ok["error_report_entry"] is False


def test_the_words_without_a_link_are_not_the_entry() -> None:
    ok, found = checks("<p>我为政府网站找错</p>")
    assert ok["error_report_entry"] is False and "without a link" in str(found["error_report_problem"])


# --- the standard's meta tags -----------------------------------------------------------------


def test_a_homepage_with_the_site_meta_tags_passes() -> None:
    ok, found = checks("<p>x</p>")
    assert ok["site_meta_tags"] is True and found["meta"]["SiteIDCode"] == CODE


@pytest.mark.parametrize(
    ("head", "problem"),
    [
        ("", "no <meta name=SiteName>"),
        (META.replace('<meta name="SiteDomain" content="www.lh.gov.cn">', ""), "no <meta name=SiteDomain>"),
        (META.replace(CODE, "4405070011"), "SiteIDCode 4405070011 is not the registry's 4405070010"),
    ],
)
def test_missing_or_wrong_site_meta_tags_fail(head: str, problem: str) -> None:
    ok, found = checks("<p>x</p>", head)
    assert ok["site_meta_tags"] is False and problem in str(found["meta_problem"])


def test_meta_names_are_matched_in_any_case() -> None:
    p = page("", "<meta name='sitename' content='某某市人民政府'><meta name='COLUMNTYPE' content='工作动态'>")
    assert p.meta == {"SiteName": "某某市人民政府", "ColumnType": "工作动态"}


# --- 暗链 ---------------------------------------------------------------------------------------


def planted(body: str) -> list[dict[str, object]]:
    p = page(body)
    return hidden_links.find(p.anchors, p.hidden_anchors, "www.lh.gov.cn")


def test_links_in_an_off_screen_block_to_a_gambling_site_are_hidden_links() -> None:
    found = planted(
        "<div style='position:absolute;top:-999px;left:-999px'><a href='http://www.bet-365.example/'>"
        "澳门赌场娱乐城</a><a href='http://pj.example/'>葡京百家乐</a></div><p>正文</p>"
    )
    assert [f["host"] for f in found] == ["www.bet-365.example", "pj.example"]
    assert found[0]["hidden_by"].startswith("off-screen") and found[0]["element"] == "div"
    assert found[0]["words"] == ["娱乐城", "澳门赌"]


def test_a_hidden_link_with_text_to_a_foreign_host_is_a_hidden_link_even_without_words() -> None:
    found = planted("<div style='display:none'><a href='http://seo.example.com/'>某某网址导航</a></div>")
    assert found and found[0]["hidden_by"] == 'style "display:none"'


def test_a_visible_link_with_gambling_words_to_a_foreign_host_is_reported() -> None:
    found = planted("<ul><li><a href='http://x.example/'>最新时时彩开奖结果</a></li></ul>")
    assert found and found[0]["hidden_by"] == "" and found[0]["words"] == ["时时彩"]


@pytest.mark.parametrize(
    "body",
    [
        "<div style='display:none'><a href=/gzdt/1.html>第二个标签页里的本站新闻</a></div>",  # a hidden tab of the site
        "<div style='display:none'><a href='http://service.weibo.com/share/share.php?url=x'></a></div>",  # share icon
        "<div style='display:none'><a href='https://bszs.conac.cn/sitename?id=1'>党政机关</a></div>",
        "<a href='https://www.cwl.gov.cn/'>中国福利彩票</a>",  # a government lottery
        "<div style='display:none'><a href='http://www.gd.gov.cn/'>广东省人民政府</a></div>",
        "<style>.tab{display:none}</style><div class=tab><a href='http://www.xinhuanet.com/'>新华网</a></div>",
    ],
)
def test_no_hidden_link_is_reported_where_there_is_none(body: str) -> None:
    assert planted(body) == []


def test_footer_links_are_not_items_of_a_blank_column() -> None:
    """The looser item rules find dated items only: a blank column's footer links (找错, ICP and police
    records, several to a paragraph) must not make it look filled."""
    from probes.content import columns

    footer = (
        "<p><a href=/jc>我为政府网站找错入口</a> <a href=/dz>党政机关网站标识</a></p>"
        "<p><a href=http://beian.miit.gov.cn/>粤ICP备05070010号</a>"
        "<a href=http://www.beian.gov.cn/>粤公网安备 44050702000010号</a></p>"
    )
    p = page(f"<ul class=list></ul>{footer}")
    assert p.items == () and columns.blank_reason(p) == "no items"


# --- 暗链 judged by destination and technique (issue 22) -------------------------------------------


def judged(body: str, allow: tuple[str, ...] = ()) -> hidden_links.Verdict:
    p = page(body)
    return hidden_links.judge(p.anchors, p.hidden_anchors, "www.lh.gov.cn", allow=allow)


CAROUSEL = (
    "<div class=focusBox><ul class=pic><li><a href=/tpxw/1.html>本站图片新闻</a></li>"
    "<li style='display:none;'><a href='http://www.xinhuanet.com/politics/2018-03/19/c_1.htm'>新华社：两会特别报道</a></li>"
    "<li style='display:none;'><a href='{url}'>{text}</a></li></ul></div>"
)


def test_an_inactive_carousel_slide_to_state_media_is_no_hidden_link() -> None:
    v = judged(CAROUSEL.format(url="http://www.people.com.cn/n1/2018/0319/c1.html", text="人民网：代表委员谈发展"))
    assert v.found == [] and v.excused == {"state media": 2}


def test_a_hidden_slide_to_an_unexpected_host_without_words_scores_below_the_line() -> None:
    v = judged(CAROUSEL.format(url="http://www.bank-example.com/act.html", text="银行惠民活动"))
    assert v.found == [] and v.excused == {"state media": 1, "scored below the line": 1}


def test_a_hidden_slide_with_gambling_words_counts_wherever_it_is_hidden() -> None:
    v = judged(CAROUSEL.format(url="http://www.bet.example/", text="澳门赌场在线"))
    assert [f["host"] for f in v.found] == ["www.bet.example"]
    assert v.found[0]["score"] == 1 - 1 + 3
    assert "a list item (<li>) -1" in v.found[0]["why"] and "dictionary words 澳门赌 +3" in v.found[0]["why"]


@pytest.mark.parametrize(
    "credit",
    [
        "<a href='http://www.hanweb.com' style='display:none'>Produced By 大汉网络 大汉版通发布系统</a>",
        "<div style='display:none'><a href='http://www.cms-vendor.example/'>技术支持：某某信息技术有限公司</a></div>",
        "<p hidden><a href='http://www.cms-vendor.example/'>Powered by SiteCMS</a></p>",
    ],
)
def test_a_vendors_hidden_credit_line_is_no_hidden_link(credit: str) -> None:
    v = judged(credit)
    assert v.found == [] and set(v.excused) <= {"platform vendor", "vendor credit line"}


def test_a_credit_line_with_gambling_words_is_no_credit() -> None:
    v = judged("<div style='display:none'><a href='http://x.example/'>技术支持：澳门娱乐城</a></div>")
    assert [f["host"] for f in v.found] == ["x.example"]


def test_hosts_allowed_in_the_configuration_are_excused_with_their_subdomains() -> None:
    body = "<div style='display:none'><a href='http://www.partner.example.com/'>合作单位活动专题</a></div>"
    assert [f["host"] for f in judged(body).found] == ["www.partner.example.com"]
    v = judged(body, allow=("partner.example.com",))
    assert v.found == [] and v.excused == {"allowed in content.hidden_link_allow": 1}


def test_a_hidden_block_written_by_an_inline_script_is_an_injection_trick() -> None:
    body = (
        '<p>正文</p><script>document.write(\'<div style="display:none"><a href="http://seo.example/">'
        "网址大全导航</a></div>');</script>"
    )
    (found,) = judged(body).found
    assert found["hidden_by"] == 'written by an inline script, style "display:none"'
    assert found["score"] == 2 + 1 and "an injection trick" in found["why"]


def test_an_off_screen_widget_part_without_words_is_below_the_line_a_bare_one_is_not() -> None:
    slide = "<div class=slide style='left:-9999px'><a href='http://shop.example/'>商城优惠</a></div>"
    bare = "<div style='left:-9999px'><a href='http://shop.example/'>商城优惠</a></div>"
    assert judged(slide).found == [] and judged(slide).excused == {"scored below the line": 1}
    assert [f["score"] for f in judged(bare).found] == [3]


def test_sibling_tab_panes_are_widget_parts() -> None:
    panes = (
        "<div class='content news'><a href=/a.html>要闻</a></div>"
        "<div class='content news' style='display:none'><a href='http://www.other-example.com/'>合作媒体报道</a></div>"
    )
    v = judged(panes)
    assert v.found == [] and v.excused == {"scored below the line": 1}


def test_a_visible_link_with_a_dictionary_word_to_state_media_is_not_reported() -> None:
    """A 新华网 headline about a crackdown on pornography is news, not an advert."""
    assert (
        judged("<ul><li><a href='http://www.xinhuanet.com/legal/1.htm'>扫黄打非：严厉打击色情网站</a></li></ul>").found
        == []
    )


def test_a_counters_noscript_fallback_is_no_hidden_link_unless_it_carries_words() -> None:
    counter = "<noscript><a href='https://www.cnzz.com/stat/website.php?web_id=1'>站长统计</a></noscript>"
    assert judged(counter).found == [] and judged(counter).excused == {"scored below the line": 1}
    spam = "<noscript><a href='http://www.bet.example/'>百家乐在线</a></noscript>"
    assert [f["host"] for f in judged(spam).found] == ["www.bet.example"]


@pytest.mark.parametrize(
    ("block", "how"),
    [
        ("<marquee height=1 width=1><a href='http://seo.example/'>网站导航大全</a></marquee>", "<marquee height=1>"),
        ("<div style='font-size:0'><a href='http://seo.example/'>网站导航大全</a></div>", 'style "font-size:0"'),
        (
            "<div style='height:0;overflow:hidden'><a href='http://seo.example/'>网站导航大全</a></div>",
            'zero size (style "height:0")',
        ),
        ("<p style='text-indent:-9999em'><a href='http://seo.example/'>网站导航大全</a></p>", "off-screen"),
    ],
)
def test_the_injection_tricks_count_without_a_dictionary_word(block: str, how: str) -> None:
    (found,) = judged(block).found
    assert found["hidden_by"].startswith(how) and found["score"] == 2 + 1 and found["words"] == []
