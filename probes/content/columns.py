"""Columns (栏目): freshness, blank columns, and candidates from the navigation.

A column is *blank* (空白栏目, indicators.md) when its page lists no item or shows
only a placeholder such as 暂无信息 / 正在建设中 / 栏目建设中.  A page whose
template has lists elsewhere can still be blank: a placeholder with no dated
item is blank; a page with no dated item and no title-like list entry is blank.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from domain.scoring import ACTIVITY_WINDOW
from probes.content.extract import Item, Page
from probes.results import ColumnFinding

PLACEHOLDER = re.compile(
    r"暂无(?:相关)?(?:信息|内容|数据|记录|文章|资料|新闻|公告)|(?:栏目|网站|页面|本栏目)?(?:正在)?建设中|"
    r"(?:信息|内容|栏目)正在(?:更新|完善|整理)|敬请期待|没有(?:找到)?(?:相关)?(?:记录|信息|内容)|无相关(?:信息|内容|记录)"
)
# Column-like names in a navigation bar, and the category each suggests (indicators.md).
_CATEGORY_HINTS = (
    # 调查征集 and 在线访谈 before 互动: the 2015 census scores their activity (domain.scoring).
    ("survey", re.compile(r"调查|意见征集|征集调查|民意征集")),
    ("interview", re.compile(r"访谈")),
    ("interaction", re.compile(r"互动|咨询|留言|信箱|建言|访谈|征集|民意|投诉|问答")),
    ("service", re.compile(r"办事|服务|指南|下载|在线办理|政务服务")),
    ("notice", re.compile(r"通知|公告|公示|政策|文件|法规|规章|解读|信息公开")),
    ("longterm", re.compile(r"人事|规划|计划|机构|职能|领导|预决算|财政|统计|年报|概况")),
    ("news", re.compile(r"动态|要闻|新闻|资讯|工作信息|政务信息|热点|图片")),
)
_NOT_COLUMNS = re.compile(r"^(?:网站)?首页$|返回|登录|注册|English|无障碍|关怀|繁體|繁体|简体|搜索|设为|收藏", re.I)
MAX_CANDIDATES = 60
MIN_TITLE = 8  # shorter link texts are navigation ("工作动态"), longer ones are item titles


def guess_category(name: str) -> str:
    for category, pattern in _CATEGORY_HINTS:
        if pattern.search(name):
            return category
    return ""


def declared_category(meta: dict[str, str]) -> str:
    """The category a column page declares through the standard's ``ColumnName``/``ColumnType`` meta
    tags (政府网站发展指引), or "" when they say nothing we can map."""
    return guess_category(meta.get("ColumnType", "")) or guess_category(meta.get("ColumnName", ""))


def blank_reason(page: Page) -> str:
    """Why a column page is blank, or "" when it is not."""
    if page.dated_items:
        return ""
    if m := PLACEHOLDER.search(page.text):
        return f"placeholder: {m.group(0)}"
    if not any(len(i.title) >= MIN_TITLE for i in page.items):
        return "no items"
    return ""


def judge(name: str, category: str, url: str, page: Page, now: float | None = None) -> ColumnFinding:
    reason = blank_reason(page)
    dated = page.dated_items
    year = None if now is None else recent(dated, now, ACTIVITY_WINDOW)
    note = reason
    if not reason and not dated:
        note = "items without dates: cannot tell when it was updated"
    return ColumnFinding(
        name=name,
        category=category,
        url=url,
        success=True,
        last_update=page.newest,
        blank=bool(reason),
        items=len(dated) or len(page.items),
        note=note,
        items_year=year,
    )


def recent(items: Sequence[Item], now: float, window: float) -> int:
    """Different items (by URL, else title) published within ``window`` before ``now`` (pure): a
    headline shown in two blocks of a page is one update."""
    return len({i.url or i.title for i in items if i.published is not None and now - window <= i.published <= now})


def candidates(page: Page, site_url: str, configured: set[str]) -> list[dict[str, Any]]:
    """Navigation links that look like columns, not yet in the registry (for /api/)."""
    host = urlsplit(site_url).hostname or ""
    seen = set(configured)
    out: list[dict[str, Any]] = []
    names = list(page.nav) + [(t, u) for t, u in page.anchors if 2 <= len(t) <= 10 and guess_category(t)]
    for name, url in names:
        if url in seen or _NOT_COLUMNS.search(name) or urlsplit(url).hostname != host:
            continue
        if urlsplit(url).path in ("", "/") and not urlsplit(url).query:
            continue  # the homepage itself
        seen.add(url)
        out.append({"name": name, "url": url, "category": guess_category(name)})
        if len(out) >= MAX_CANDIDATES:
            break
    return out
