"""互动回应差: message lists read as messages, against simulated CMS styles and loopback sites.

Each finding has its twin: a mailbox answering nothing for four months is a veto, one answering
everything though nobody wrote for 100 days is not; a site without any consultation channel is a
veto, one whose homepage links a 市长信箱 is not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from agent.exposition.families import SITE_FAMILIES, Lines, emit_interaction
from agent.findings.findings import site_findings
from agent.findings.table import site_problems
from agent.run.state import StateStore
from domain import metric_names as M
from domain.registry import Column
from probes import interaction, messages
from probes.content import dates
from probes.context import ProbeContext
from probes.net import Network
from probes.results import ColumnFinding, ContentResult, InteractionResult

DAY = 86400.0
HOST = "www.hx.gov.cn"


def ts(y: int, m: int, d: int, h: int = 0) -> float:
    t = dates.to_timestamp(y, m, d, h)
    assert t is not None
    return t


NOW = ts(2026, 12, 7, 10)


def page(body: str) -> str:
    return f"<html><head><meta charset=utf-8><title>互动交流</title></head><body>{body}</body></html>"


# --- the parser, on the ways CMS and mailbox systems print a list --------------------------------

TABLE = page(
    "<table class=list><thead><tr><th>来信主题</th><th>状态</th><th>来信时间</th><th>回复时间</th></tr></thead><tbody>"
    "<tr><td><a href=/xx/1.html>关于小区噪音扰民的问题</a></td><td>已回复</td><td>2026-08-01</td><td>2026-08-05</td></tr>"
    "<tr><td><a href=/xx/2.html>关于学校入学政策的咨询</a></td><td>未回复</td><td>2026-07-01</td><td></td></tr>"
    "</tbody></table>"
)
LI_SPANS = page(
    "<ul class=msg><li><a href=/ly/1 title='咨询社保卡补办需要哪些材料以及办理地点'>咨询社保卡补办需要哪些材料...</a>"
    "<span>留言时间：2026-10-01 09:12</span><span class=zt>办理中</span></li>"
    "<li><a href=/ly/2>道路积水问题反映</a><span>留言时间：2026-09-20</span><span class=zt>已答复</span>"
    "<span>答复时间：2026-09-25</span></li></ul>"
)
DL_BLOCKS = page(
    "<div class=xx><dl><dt><a href=/z/1>路灯损坏多日无人维修</a></dt><dd>提问时间：2026年9月3日</dd>"
    "<dd>答复时间：2026年9月10日</dd><dd>状态：已答复</dd></dl>"
    "<dl><dt><a href=/z/2>关于老旧小区加装电梯的建议</a></dt><dd>提问时间：2026年11月1日</dd><dd>状态：未办结</dd></dl></div>"
)
DIV_BLOCKS = page(
    "<div class=item><div class=t><a href=/w/1>关于公交线路调整的建议</a></div><div class=i>2026-06-02 已办结</div></div>"
    "<div class=item><div class=t><a href=/w/2>菜市场周边占道经营</a></div><div class=i>2026-06-09 待回复</div></div>"
)
NO_STATE = page(
    "<ul><li><a href=/n/1>关于办理居住证的咨询</a><span>2026-11-20</span></li>"
    "<li><a href=/n/2>关于医保报销比例的咨询</a><span>2026-11-02</span></li></ul>"
)


def parsed(html: str) -> list[tuple[str, str | None, str, str | None]]:
    def day(t: float | None) -> str | None:
        return None if t is None else dates.today(t).isoformat()

    return [
        (m.title, day(m.asked), m.state, day(m.replied)) for m in messages.parse_list(html, f"http://{HOST}/hdjl/", NOW)
    ]


def test_table_rows_are_read_by_their_header() -> None:
    assert parsed(TABLE) == [
        ("关于小区噪音扰民的问题", "2026-08-01", "answered", "2026-08-05"),
        ("关于学校入学政策的咨询", "2026-07-01", "unanswered", None),
    ]


def test_list_items_with_labelled_spans_and_a_cut_title() -> None:
    assert parsed(LI_SPANS) == [
        ("咨询社保卡补办需要哪些材料以及办理地点", "2026-10-01", "unanswered", None),
        ("道路积水问题反映", "2026-09-20", "answered", "2026-09-25"),
    ]


def test_dl_blocks_and_unfinished_is_not_finished() -> None:
    # 未办结 contains 办结: it must read as unanswered
    assert parsed(DL_BLOCKS) == [
        ("路灯损坏多日无人维修", "2026-09-03", "answered", "2026-09-10"),
        ("关于老旧小区加装电梯的建议", "2026-11-01", "unanswered", None),
    ]


def test_div_blocks() -> None:
    assert parsed(DIV_BLOCKS) == [
        ("关于公交线路调整的建议", "2026-06-02", "answered", None),
        ("菜市场周边占道经营", "2026-06-09", "unanswered", None),
    ]


def test_rows_without_a_state_are_messages_without_one() -> None:
    assert [s for _, _, s, _ in parsed(NO_STATE)] == ["", ""]


# Rows with no link, as a script renders them (the real case: tests/test_real_messages.py): one
# tbody per message, the title in a <span title=…>, the question date labelled on the next row.
UNLINKED = page(
    "<table>"
    "<tbody><tr><td><span title='关于公租房申请条件的咨询'>关于公租房申请条件的咨询</span></td></tr>"
    "<tr><td><span>留言时间：</span><span>2026-10-08</span> <span>已回复</span></td></tr></tbody>"
    "<tbody><tr><td><span title='小区门口道路破损请尽快修复'>小区门口道路破损...</span></td></tr>"
    "<tr><td><span>留言时间：</span><span>2026-11-02</span> <span>办理中</span></td></tr></tbody>"
    "</table>"
)


def test_rows_without_a_link_are_read_by_their_titled_span_and_labelled_date() -> None:
    assert parsed(UNLINKED) == [
        ("关于公租房申请条件的咨询", "2026-10-08", "answered", None),
        ("小区门口道路破损请尽快修复", "2026-11-02", "unanswered", None),
    ]
    assert all(m.url == "" for m in messages.parse_list(UNLINKED, f"http://{HOST}/", NOW))


def test_a_titled_span_is_no_message_without_a_labelled_date_or_beside_a_link() -> None:
    # a bare date: without a link, nothing says the row is a message (a news panel looks the same)
    assert parsed(UNLINKED.replace("留言时间：", "")) == []
    # a tooltip that is not the text is not a title
    tooltip = page("<ul><li><span title='点击查看详情'>关于公租房申请条件的咨询</span> 留言时间：2026-10-08</li></ul>")
    assert parsed(tooltip) == []
    # a row with a link is read once, by its link
    linked = page(
        "<ul><li><a href=/m/1>关于公租房申请条件的咨询</a><span title='市民张先生的留言'>市民张先生的留言</span>"
        " 留言时间：2026-10-08 已回复</li></ul>"
    )
    assert parsed(linked) == [("关于公租房申请条件的咨询", "2026-10-08", "answered", None)]


def test_navigation_and_undated_links_are_not_messages() -> None:
    html = page("<ul class=nav><li><a href=/>网站首页</a></li><li><a href=/szxx/>市长信箱留言</a></li></ul>" + TABLE)
    assert len(parsed(html)) == 2
    furniture = page(
        "<div class=top>今天是2026年12月7日 星期一 <a href=/wza/>无障碍浏览</a></div>"
        "<ul><li><a href=/more/>更多&gt;&gt;</a><span>2026-12-01</span></li>"
        "<li><a href=/m/1>希望增加更多公交线路</a><span>2026-12-01</span><span>待回复</span></li></ul>"
    )
    assert [t for t, _, _, _ in parsed(furniture)] == ["希望增加更多公交线路"]


def test_a_header_in_plain_cells_and_a_long_table_read_once_per_table() -> None:
    body = "".join(
        f"<tr><td><a href=/q/{i}>关于第{i}号民生事项的咨询</a></td><td>已答复</td><td>2026-0{1 + i % 9}-10</td>"
        f"<td>2026-0{1 + i % 9}-20</td></tr>"
        for i in range(400)
    )
    html = page(f"<table><tr><td>标题</td><td>状态</td><td>留言时间</td><td>回复时间</td></tr>{body}</table>")
    got = parsed(html)
    assert len(got) == 400 and all(s == "answered" and r and r.endswith("-20") for _, _, s, r in got)


def test_a_detail_page_gives_state_and_reply_date() -> None:
    detail = page(
        "<table><tr><td>信件标题</td><td>关于学校入学政策的咨询</td></tr><tr><td>来信时间</td><td>2026-07-01 10:00</td></tr>"
        "<tr><td>办理状态</td><td>已办结</td></tr><tr><td>回复时间</td><td>2026-07-20 16:30</td></tr></table>"
    )
    facts = messages.parse_detail(detail, NOW)
    assert (facts.state, facts.asked, facts.replied) == (
        "answered",
        ts(2026, 7, 1) + 10 * 3600,
        ts(2026, 7, 20) + 16.5 * 3600,
    )
    pending = messages.parse_detail(page("留言时间：2026-07-01 处理状态：<b>已受理</b> 回复内容：暂无回复"), NOW)
    assert (pending.state, pending.replied) == ("unanswered", None)


# --- the judge -----------------------------------------------------------------------------------


def msg(asked: float, state: str, replied: float | None = None) -> messages.Message:
    return messages.Message("关于某事项的咨询", "", asked, state, state, replied)


def test_the_oldest_unanswered_of_the_past_year_and_reply_times() -> None:
    rows = [
        msg(NOW - 400 * DAY, "unanswered"),  # older than a year: not within the rule's year
        msg(NOW - 120 * DAY, "unanswered"),
        msg(NOW - 30 * DAY, "unanswered"),
        msg(NOW - 50 * DAY, "answered", NOW - 40 * DAY),
        msg(NOW - 20 * DAY, "answered", NOW - 18 * DAY),
        msg(NOW - 10 * DAY, "answered", NOW - 9 * DAY),
    ]
    c = interaction.judge_column("市长信箱", "u", rows, NOW, 90)
    assert c.state_shown and c.oldest_unanswered == NOW - 120 * DAY
    assert c.overdue == 1 and c.answered_past_year == 3
    assert (c.reply_max, c.reply_median) == (10 * DAY, 2 * DAY)
    assert c.by_state == {"answered": 3, "unanswered": 3, "unknown": 0}


def test_a_list_without_states_falls_back_to_its_newest_item_and_says_so() -> None:
    c = interaction.judge_column("咨询", "u", [msg(NOW - 5 * DAY, "")], NOW, 90)
    assert not c.state_shown and c.oldest_unanswered is None and "newest item" in c.note


def test_excluded_channel_types_by_name_and_by_key() -> None:
    assert not interaction.counts(Column("网上信访", "u", "interaction"))[0]
    assert not interaction.counts(Column("纪检举报", "u", "interaction"))[0]
    assert not interaction.counts(Column("在线访谈", "u", "interaction"))[0]
    assert interaction.counts(Column("市长信箱", "u", "interaction"))[0]
    assert interaction.counts(Column("民意调查与咨询", "u", "interaction", consultation=True))[0]
    assert not interaction.counts(Column("市长信箱", "u", "interaction", consultation=False))[0]


# --- the probe on loopback sites -------------------------------------------------------------------


def rows(n: int, first: float, step: float, state: str, *, prefix: str = "m") -> str:
    out = []
    for i in range(n):
        asked = dates.today(first + i * step).isoformat()
        out.append(
            f"<tr><td><a href=/{prefix}/{i}.html>关于第{i}号民生事项的咨询</a></td><td>{state}</td><td>{asked}</td></tr>"
        )
    return out and "".join(out) or ""


def mailbox(body: str) -> str:
    return page(f"<table><tr><th>信件标题</th><th>办理状态</th><th>来信时间</th></tr>{body}</table>")


class Site:
    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.hits: list[str] = []
        self.peers: set[Any] = set()

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        if request.transport is not None:
            self.peers.add(request.transport.get_extra_info("peername"))
        if request.path not in self.pages:
            return web.Response(status=404)
        return web.Response(text=self.pages[request.path], content_type="text/html")


Probe = Callable[..., Any]


@pytest.fixture
async def served(site_factory: Any, config_factory: Any) -> AsyncIterator[tuple[Site, Probe]]:
    site = Site()
    base = await site_factory(site.handle, name=HOST)
    nets: list[Network] = []

    async def run(columns: list[dict[str, Any]], state: StateStore | None = None, **sections: Any) -> InteractionResult:
        cfg = config_factory(
            sites=[{"code": "4405070010", "name": "汕头市测试局", "url": base, "columns": columns}], **sections
        )
        net = Network(cfg.dns, cfg.tls, cfg.http)
        nets.append(net)
        ctx = ProbeContext(config=cfg, net=net, state=state or StateStore(None), clock=lambda: NOW)
        return await interaction.probe(cfg.sites[0], ctx)

    run.base = base  # type: ignore[attr-defined]
    yield site, run
    for net in nets:
        await net.close()


def col(base: str, name: str = "市长信箱", path: str = "szxx/", **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": base + path, "category": "interaction", **extra}


def findings_of(r: InteractionResult, content: ContentResult | None = None) -> list[dict[str, Any]]:
    from agent.registry.config import loads

    cfg = loads("sites: [{code: '4405070010', name: 汕头市测试局, url: 'http://x.gov.cn/'}]")
    latest: dict[str, Any] = {"interaction": r}
    if content is not None:
        latest["content"] = content
    return site_findings(cfg.sites[0], latest, cfg.content, NOW)


async def test_a_mailbox_answering_nothing_for_four_months_is_a_veto(served: tuple[Site, Probe]) -> None:
    site, run = served
    base = run.base  # type: ignore[attr-defined]
    # a letter every day for four months, none answered: the newest item is fresh
    site.pages["/szxx/"] = mailbox(rows(120, NOW - 120 * DAY, DAY, "待回复"))
    r = await run([col(base)])
    c = r.columns[0]
    assert r.success and r.channels == 1 and c.state_shown
    assert c.oldest_unanswered == ts(*dates.today(NOW - 120 * DAY).timetuple()[:3])
    assert c.overdue == 31 and c.answered_past_year == 0  # asked before 10:00 90 days ago: past the line
    found = [f for f in findings_of(r) if f["finding"] == "interaction_unanswered"]
    assert found and found[0]["days"] >= 120 and len(found[0]["messages"]) == 31
    assert "互动回应差（31条留言超过90天未回复" in site_problems(found)[0]


async def test_a_mailbox_answering_everything_with_no_letter_for_100_days_is_no_veto(
    served: tuple[Site, Probe],
) -> None:
    site, run = served
    base = run.base  # type: ignore[attr-defined]
    site.pages["/szxx/"] = mailbox(rows(20, NOW - 300 * DAY, 10 * DAY, "已办结"))
    r = await run([col(base)])
    c = r.columns[0]
    assert c.state_shown and c.oldest_unanswered is None and c.answered_past_year == 20
    # the content probe's newest-item rule would call it stale: judged by its answers instead
    stale = ColumnFinding(name="市长信箱", category="interaction", url=base, success=True, last_update=NOW - 110 * DAY)
    content = ContentResult(success=True, columns=(stale,))
    assert [f["finding"] for f in findings_of(r, content)] == []
    # without the interaction reading, the old rule still applies
    assert [f["finding"] for f in findings_of(InteractionResult(success=True, channels=1), content)] == ["column_stale"]


async def test_detail_pages_are_bounded_oldest_unanswered_first_on_kept_alive_connections(
    served: tuple[Site, Probe],
) -> None:
    site, run = served
    base = run.base  # type: ignore[attr-defined]
    site.pages["/szxx/"] = mailbox(rows(10, NOW - 100 * DAY, DAY, "已受理"))
    for i in range(10):  # every page says it was answered, 20 days after it was asked
        asked, replied = dates.today(NOW - (100 - i) * DAY), dates.today(NOW - (80 - i) * DAY)
        site.pages[f"/m/{i}.html"] = page(f"来信时间：{asked} 办理状态：已办结 回复时间：{replied}")
    r = await run([col(base)], interaction={"detail_pages": 3})
    assert sorted(h for h in site.hits if h.startswith("/m/")) == ["/m/0.html", "/m/1.html", "/m/2.html"]
    c = r.columns[0]
    assert r.detail_pages == 3 and c.by_state["answered"] == 3 and c.by_state["unanswered"] == 7
    assert c.oldest_unanswered == ts(*dates.today(NOW - 97 * DAY).timetuple()[:3])
    assert c.reply_max == c.reply_median == 20 * DAY
    assert len(site.peers) <= 2  # two at a time, kept alive
    site.hits.clear()
    await run([col(base)], interaction={"detail_pages": 0})
    assert site.hits == ["/szxx/"]


async def test_detail_pages_on_another_host_are_never_fetched(served: tuple[Site, Probe]) -> None:
    site, run = served
    base = run.base  # type: ignore[attr-defined]
    body = "".join(
        f"<tr><td><a href=http://10.0.0.{i}/m.html>关于第{i}号民生事项的咨询</a></td><td>待回复</td><td>2026-11-0{i + 1}</td></tr>"
        for i in range(3)
    )
    site.pages["/szxx/"] = mailbox(body)
    r = await run([col(base)])
    assert r.detail_pages == 0 and r.columns[0].by_state["unanswered"] == 3


async def test_a_site_without_any_consultation_channel_is_a_veto(served: tuple[Site, Probe]) -> None:
    site, run = served
    base = run.base  # type: ignore[attr-defined]
    site.pages["/"] = page(
        "<a href=/xf/>网上信访</a><a href=/jj/>纪检举报</a><a href=/ft/>在线访谈</a><a href=/gzdt/>工作动态</a>"
    )
    site.pages["/xf/"] = mailbox(rows(3, NOW - 10 * DAY, DAY, "已回复"))
    r = await run([col(base, "网上信访", "xf/")])  # configured, but a 信访 channel does not count
    assert r.success and r.channels == 0 and r.excluded[0]["column"] == "网上信访"
    found = findings_of(r)
    assert [f["finding"] for f in found] == ["no_consultation_channel"]
    assert site_problems(found) == ["无政务咨询栏目（互动回应差）"]


async def test_a_channel_discovered_on_the_homepage_counts_and_is_read(served: tuple[Site, Probe]) -> None:
    site, run = served
    site.pages["/"] = page(
        "<a href=/xf/>网上信访</a><a href=/szxx/>市长信箱</a><a href=http://12345.example.cn/>12345热线</a>"
    )
    site.pages["/szxx/"] = mailbox(rows(3, NOW - 10 * DAY, DAY, "已回复"))
    r = await run([])
    assert r.channels == 2  # 市长信箱 and 12345热线 (off the site: counted, not read)
    assert [(c.name, c.discovered, c.by_state["answered"]) for c in r.columns] == [("市长信箱", True, 3)]
    assert findings_of(r) == []


async def test_a_homepage_that_cannot_be_read_tells_no_channel_count(served: tuple[Site, Probe]) -> None:
    _, run = served
    r = await run([])  # the homepage answers 404
    assert not r.success and r.channels is None
    assert [f["finding"] for f in findings_of(r)] == ["probe_failed"]


async def test_a_list_that_cannot_be_read_reports_its_last_reading(served: tuple[Site, Probe]) -> None:
    site, run = served
    base = run.base  # type: ignore[attr-defined]
    state = StateStore(None)
    site.pages["/szxx/"] = mailbox(rows(5, NOW - 100 * DAY, DAY, "待回复"))
    first = await run([col(base)], state)
    del site.pages["/szxx/"]
    again = await run([col(base)], state)
    c = again.columns[0]
    assert not again.success and "HTTP 404" in again.reason
    assert c.oldest_unanswered == first.columns[0].oldest_unanswered and c.state_shown
    assert "remembered" in c.note


# --- what it exports -----------------------------------------------------------------------------


def exported(r: InteractionResult) -> str:
    from agent.registry.config import loads

    site = loads("sites: [{code: '4405070010', name: 测试, url: 'http://x.gov.cn/'}]").sites[0]
    out = Lines(SITE_FAMILIES)
    emit_interaction(out, site, r)
    return "".join(line for lines in out.by_family for line in lines)


def test_exposition_of_a_message_column_and_of_a_fallback_column() -> None:
    judged = interaction.judge_column(
        "市长信箱", "u", [msg(NOW - 100 * DAY, "unanswered"), msg(NOW - 9 * DAY, "answered", NOW - 8 * DAY)], NOW, 90
    )
    fallback = interaction.judge_column("咨询", "u", [msg(NOW - 5 * DAY, "")], NOW, 90)
    text = exported(InteractionResult(success=True, channels=2, columns=(judged, fallback)))
    assert f'{M.SITE_CONSULTATION_CHANNELS}{{code="4405070010"}} 2' in text
    values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()}
    assert values[f'{M.INTERACTION_OLDEST_UNANSWERED}{{code="4405070010",column="市长信箱"}}'] == NOW - 100 * DAY
    assert f'{M.INTERACTION_MESSAGES}{{code="4405070010",column="市长信箱",state="unanswered"}} 1' in text
    assert f'{M.INTERACTION_REPLY_SECONDS}{{code="4405070010",column="市长信箱",stat="max"}} 86400' in text
    assert f'{M.INTERACTION_STATE_SHOWN}{{code="4405070010",column="咨询"}} 0' in text
    fallback_lines = [line for line in text.splitlines() if 'column="咨询"' in line]
    assert fallback_lines == [  # a column judged by its newest item: nothing else of it
        f'{M.INTERACTION_CONSULTATION}{{code="4405070010",column="咨询"}} 1',
        f'{M.INTERACTION_STATE_SHOWN}{{code="4405070010",column="咨询"}} 0',
    ]
    assert M.SITE_CONSULTATION_CHANNELS not in exported(InteractionResult(success=False, channels=None))
    excluded = exported(InteractionResult(success=True, channels=0, excluded=({"column": "网上信访", "reason": "x"},)))
    assert f'{M.INTERACTION_CONSULTATION}{{code="4405070010",column="网上信访"}} 0' in excluded
    assert f'{M.INTERACTION_CONSULTATION}{{code="4405070010",column="市长信箱"}} 1' in text


def test_rows_without_a_state_cost_two_detail_pages_at_most() -> None:
    rows = [messages.Message(f"关于第{i}号事项的咨询", f"http://{HOST}/n/{i}", NOW - i * DAY) for i in range(10)]
    assert len(interaction.detail_candidates([rows], [HOST], 5)) == 2
    late = [messages.Message("关于某事项的咨询", f"http://{HOST}/u/{i}", NOW - i * DAY, "unanswered") for i in range(4)]
    picked = interaction.detail_candidates([rows, late], [HOST, HOST], 5)
    assert [i for i, _ in picked] == [1, 1, 1, 1, 0]  # the unanswered first, oldest first
    assert [j for i, j in picked if i == 1] == [3, 2, 1, 0]


async def test_an_old_unanswered_message_on_the_second_page_is_found(served: tuple[Site, Probe]) -> None:
    site, run = served
    base = run.base  # type: ignore[attr-defined]
    # page 1: a month of answered letters, and 下一页; page 2: one left unanswered 100 days ago
    site.pages["/szxx/"] = mailbox(rows(10, NOW - 30 * DAY, 3 * DAY, "已回复")).replace(
        "</body>", "<div class=page><a href=/szxx/index_2.html>下一页</a></div></body>"
    )
    site.pages["/szxx/index_2.html"] = mailbox(rows(1, NOW - 100 * DAY, DAY, "待回复", prefix="p"))
    r = await run([col(base)])
    assert r.columns[0].oldest_unanswered is not None and r.columns[0].overdue == 1
    assert [f["finding"] for f in findings_of(r)] == ["interaction_unanswered"]
    # one list page only: the old letter is not seen
    site.hits.clear()
    r = await run([col(base)], interaction={"list_pages": 1})
    assert r.columns[0].oldest_unanswered is None and "/szxx/index_2.html" not in site.hits


async def test_a_list_reaching_past_the_line_reads_no_further_page(served: tuple[Site, Probe]) -> None:
    site, run = served
    base = run.base  # type: ignore[attr-defined]
    site.pages["/szxx/"] = mailbox(rows(10, NOW - 120 * DAY, 10 * DAY, "已回复")).replace(
        "</body>", "<a href=/szxx/index_2.html>下一页</a></body>"
    )
    await run([col(base)])
    assert "/szxx/index_2.html" not in site.hits


async def test_a_list_without_states_reads_no_further_page(served: tuple[Site, Probe]) -> None:
    site, run = served
    base = run.base  # type: ignore[attr-defined]
    site.pages["/szxx/"] = NO_STATE.replace("</body>", "<a href=/szxx/index_2.html>下一页</a></body>")
    r = await run([col(base)])
    assert "/szxx/index_2.html" not in site.hits and not r.columns[0].state_shown
