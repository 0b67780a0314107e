"""Message lists and message pages read as messages (互动回应差), pure.

A consultation column (领导信箱, 市长信箱, 政务咨询, 留言板) prints one row per message: the
question's title, the date it was asked (留言时间, 来信时间, 提问时间, 发言时间), its state
(已回复 / 已答复 / 已办结 against 未回复 / 待回复 / 办理中 / 已受理) and sometimes the reply date
(回复时间, 答复时间, 办结时间).  The rows come as table rows under a header (来信主题 | 状态 | 时间),
``ul/li`` entries with spans, ``dl`` blocks (title in ``dt``, facts in ``dd``) or ``div`` blocks;
a row is the smallest such element holding one titled link and a full date.  A detail page (the
message itself) prints the same facts as labelled fields.

Only full dates count (2026-11-20, 2026年11月20日): a mailbox's dates are always written in full, and
a month-day is too weak to age a message by months.  A date after today is not a question date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborNode

from probes.content import dates
from probes.content.extract import SKIP_SCHEMES, clean_url, parse_tree

ANSWERED, UNANSWERED = "answered", "unanswered"
# The unanswered words are looked for first and blanked out: 未办结 must not read as 办结.
_UNANSWERED = re.compile(
    r"未回复|待回复|未答复|待答复|未办结|未处理|待处理|办理中|处理中|受理中|已受理|待受理|已转办|转办中|交办中|"
    r"正在办理|正在处理|暂未回复|尚未回复|暂无回复|暂未答复|尚未答复|未反馈|待反馈"
)
_ANSWERED = re.compile(r"已回复|已答复|已办结|已处理|已反馈|已解答|已回应|已完成|已解决|办结|已办理")
# Labels before a date (within a few characters): the reply's first, then the question's.
_REPLY_LABEL = re.compile(r"(?:回复|答复|办结|处理|反馈|解答|回应)(?:时间|日期)")
_ASKED_LABEL = re.compile(r"(?:留言|来信|提问|发言|咨询|投诉|写信|发信|反映|诉求|提交|建议|求助)(?:时间|日期)")
_GENERIC_LABEL = re.compile(r"(?:发布|登记|创建)?(?:时间|日期)")
_LABEL_WINDOW = 12
# A table's header cells name its columns.
_HEAD_TITLE = re.compile(r"标题|主题|事项|问题|内容|名称")
_HEAD_STATE = re.compile(r"状态|结果|情况|进度")
_ROW_TAGS = frozenset(("tr", "li", "dl"))
_BLOCK_TAGS = frozenset(("div", "p", "section", "article"))
_CLIMB = 6
MAX_ROW_TEXT = 600  # a longer block is a page section, not one message's row
MAX_MESSAGES = 500
MIN_TITLE = 4
# Links that are never a message (page furniture: the whole link text), and rows that are the header's
# date display.  A title merely containing 更多 (希望增加更多公交线路) is a message.
_FURNITURE = re.compile(
    r"[\[【(（]?(?:网站)?(?:首页|网站地图|无障碍\S{0,4}|适老化?\S{0,3}|关怀版|长者版|登录|注册|english|手机版|"
    r"更多\S{0,3}|上一页|下一页|尾页|末页|返回\S{0,4}|打印\S{0,3}|关闭\S{0,3}|我要写信|我要留言|我要咨询|"
    r"写信须知|留言须知)[\]】)）>»]*",
    re.I,
)
_DISPLAY = re.compile(r"今天是|今日是|星期[一二三四五六日天]")
_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    url: str  # "" when the row's link opens by script
    asked: float | None  # when the question was asked
    state: str = ""  # ANSWERED | UNANSWERED | "" (the row shows none)
    state_text: str = ""  # as written: 已回复, 办理中 …
    replied: float | None = None
    source: str = "list"  # "list", or "detail" once its page was read

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "url": self.url,
            "asked": self.asked,
            "state": self.state or "unknown",
            "state_text": self.state_text,
            "replied": self.replied,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Facts:
    """What a row or a page says: state and dates."""

    state: str = ""
    state_text: str = ""
    asked: float | None = None
    replied: float | None = None


def _squeeze(text: str) -> str:
    return _WS.sub(" ", text).strip()


def state_of(text: str) -> tuple[str, str]:
    """(state, the words that say it) of a row's or page's text."""
    unanswered = _UNANSWERED.search(text)
    answered = _ANSWERED.search(_UNANSWERED.sub(" ", text) if unanswered else text)
    if answered:
        return ANSWERED, answered.group(0)
    if unanswered:
        return UNANSWERED, unanswered.group(0)
    return "", ""


def _label_before(text: str, start: int) -> str:
    """ "replied", "asked", "generic" or "" for the label just before a date: the one ending nearest
    to it (回复时间 ends where its own 时间 does: the specific label wins)."""
    window = text[max(0, start - _LABEL_WINDOW) : start]
    best, end = "", -1
    for role, pattern in (("replied", _REPLY_LABEL), ("asked", _ASKED_LABEL), ("generic", _GENERIC_LABEL)):
        for m in pattern.finditer(window):
            if m.end() > end:
                best, end = role, m.end()
    return best


def facts_of(text: str, now: float, roles: list[str] | None = None) -> Facts:
    """State and dates of one row's (or page's) text.  ``roles``: for table rows, the role the
    header gives each date in order ("asked", "replied" or "")."""
    state, said = state_of(text)
    found = [d for d in dates.find_full(text, now) if not d.problem]
    asked: dict[str, float] = {}
    replied: float | None = None
    unlabelled: list[float] = []
    for i, d in enumerate(found):
        role = _label_before(text, d.start) or (roles[i] if roles and i < len(roles) else "")
        if role == "replied":
            replied = d.timestamp if replied is None else replied
        elif role in ("asked", "generic"):
            asked.setdefault(role, d.timestamp)
        else:
            unlabelled.append(d.timestamp)
    question = asked.get("asked", asked.get("generic"))
    if question is None and unlabelled:
        question = unlabelled.pop(0)
    if replied is None and unlabelled and state == ANSWERED:
        replied = unlabelled[0]  # 留言时间 | 回复时间 printed bare: the second date is the reply's
    if replied is not None and question is not None and replied < question:
        replied = None  # a reply before its question is a misread, not a fast answer
    if replied is not None and not state:
        state, said = ANSWERED, "reply date shown"
    return Facts(state, said, question, replied)


# --- list pages ---------------------------------------------------------------------------------


def _row_of(a: LexborNode) -> LexborNode | None:
    node, block = a.parent, None
    for _ in range(_CLIMB):
        if node is None or node.tag in ("body", "html", "table", "ul", "ol"):
            break
        if node.tag in ("dt", "dd") and node.parent is not None and node.parent.tag == "dl":
            return node.parent
        if node.tag == "tr" and (body := _message_body(node)) is not None:
            return body
        if node.tag in _ROW_TAGS:
            return node
        if block is None and node.tag in _BLOCK_TAGS:
            text = node.text(separator=" ")
            if len(text) > MAX_ROW_TEXT:
                break
            if dates.find_full(text, 4102444800.0):  # any full date, judged later against today
                block = node
        node = node.parent
    return block


def _message_body(tr: LexborNode) -> LexborNode | None:
    """The ``tbody`` that is one message when a table repeats a ``tbody`` per message (title in one
    ``tr``, 留言时间 in the next: 国家金融监督管理总局's 政务咨询 panel, Angular's ``ng-repeat`` on
    ``tbody``; tests/fixtures/real/messages), or None: the ``tr`` is the row."""
    body = tr.parent
    if body is None or body.tag != "tbody" or dates.find_full(tr.text(separator=" "), 4102444800.0):
        return None
    table = body.parent
    if table is None or sum(1 for c in table.iter() if c.tag == "tbody") < 2:
        return None
    text = _squeeze(body.text(separator=" "))  # a template's indentation is not the row's length
    return body if len(text) <= MAX_ROW_TEXT and dates.find_full(text, 4102444800.0) else None


def _titled(el: LexborNode) -> str:
    """The title an element without a link carries: its ``title`` attribute, when its text repeats
    it (whole, or cut with "…").  A list rendered by script often prints a message's title in a
    ``<span title=…>`` and opens the message by a click handler, not a link."""
    full = _squeeze(el.attributes.get("title") or "")
    text = _squeeze(el.text(separator=" "))
    if not full or el.css_first("a") is not None:
        return ""
    cut = text.rstrip(".…")
    return full if text == full or (cut != text and cut and full.startswith(cut)) else ""


_TITLE_CARRIERS = "span[title], td[title], div[title], p[title], li[title], em[title], strong[title], font[title]"


def _table_of(row: LexborNode) -> LexborNode | None:
    table = row.parent
    while table is not None and table.tag != "table":
        table = table.parent
    return table


def _header_roles(row: LexborNode, table: LexborNode) -> list[str] | None:
    """For a table row: each cell's role from the table's header row ("title", "state", "asked",
    "replied" or "")."""
    for tr in table.css("tr"):
        cells = [c for c in tr.iter() if c.tag in ("th", "td")]
        texts = [_squeeze(c.text()) for c in cells]
        if tr.css_first("th") is None and not any(_REPLY_LABEL.search(t) or _ASKED_LABEL.search(t) for t in texts):
            if tr.mem_id == row.mem_id or dates.find_full(tr.text(), 4102444800.0):
                return None  # the rows start before any header
            continue
        return [_head_role(t) for t in texts]
    return None


def _head_role(text: str) -> str:
    if len(text) > 12:
        return ""
    if _REPLY_LABEL.search(text) or re.search(r"回复|答复|办结", text) and re.search(r"时间|日期", text):
        return "replied"
    if _ASKED_LABEL.search(text) or re.search(r"时间|日期", text):
        return "asked"
    if _HEAD_STATE.search(text):
        return "state"
    if _HEAD_TITLE.search(text):
        return "title"
    return ""


def _cell_date_roles(row: LexborNode, header: list[str], now: float) -> list[str]:
    cells = [c for c in row.iter() if c.tag in ("th", "td")]
    roles: list[str] = []
    for i, cell in enumerate(cells):
        role = header[i] if i < len(header) else ""
        n = sum(1 for d in dates.find_full(cell.text(separator=" "), now) if not d.problem)
        roles += [role if role in ("asked", "replied") else ""] * n
    return roles


def _title(a: LexborNode) -> str:
    text = _squeeze(a.text(separator=" "))
    full = _squeeze(a.attributes.get("title") or "")
    # Lists cut long titles ("关于…的咨询..."); the title attribute keeps them whole.
    return full if len(full) > len(text) and (text.endswith(("...", "…")) or not text) else text


def parse_list(html: str, base: str, now: float) -> list[Message]:
    """Every message a list page shows, in document order."""
    tree, _ = parse_tree(html)
    best: dict[int, tuple[LexborNode, LexborNode, str]] = {}
    order: list[int] = []
    for a in tree.css("a"):
        title = _title(a)
        if len(title) < MIN_TITLE or dates.find_full(title, now) and len(title) <= 20 or _FURNITURE.fullmatch(title):
            continue
        row = _row_of(a)
        if row is None:
            continue
        key = row.mem_id
        if key not in best:
            order.append(key)
        if key not in best or len(title) > len(best[key][2]):
            best[key] = (row, a, title)
        if len(order) >= MAX_MESSAGES:
            break
    # Rows with no link at all: a titled element (``_titled``) in a row whose question date is
    # labelled (留言时间…): without a link, only the label says the row is a message.
    unlinked: set[int] = set()
    for el in tree.css(_TITLE_CARRIERS):
        if len(order) >= MAX_MESSAGES:
            break
        title = _titled(el)
        if len(title) < MIN_TITLE or _FURNITURE.fullmatch(title) or (row := _row_of(el)) is None:
            continue
        if row.mem_id in best or row.css_first("a[href]") is not None:
            continue
        if not _ASKED_LABEL.search(_squeeze(row.text(separator=" "))):
            continue
        order.append(row.mem_id)
        unlinked.add(row.mem_id)
        best[row.mem_id] = (row, el, title)
    out: list[Message] = []
    headers: dict[int, list[str] | None] = {}
    for key in order:
        row, a, title = best[key]
        text = _squeeze(row.text(separator=" "))
        if len(text) > MAX_ROW_TEXT and row.tag != "tr" or _DISPLAY.search(text):
            continue
        roles = None
        if row.tag == "tr" and (table := _table_of(row)) is not None:
            if table.mem_id not in headers:  # one header per table, not one scan of it per row
                headers[table.mem_id] = _header_roles(row, table)
            if (header := headers[table.mem_id]) is not None:
                roles = _cell_date_roles(row, header, now)
        facts = facts_of(text.replace(title, " ", 1), now, roles)
        if facts.asked is None:
            continue  # a row without a question date is navigation, not a message
        href = "" if key in unlinked else (a.attributes.get("href") or "").strip()
        url = "" if not href or href.lower().startswith(SKIP_SCHEMES) else clean_url(href, base) or ""
        out.append(Message(title, url, facts.asked, facts.state, facts.state_text, facts.replied))
    return out


# --- detail pages -------------------------------------------------------------------------------


def parse_detail(html: str, now: float) -> Facts:
    """What a message's own page says of it: state, question date, reply date."""
    tree, _ = parse_tree(html)
    for junk in tree.css("script, style, noscript, template"):
        junk.decompose()
    body = tree.body or tree.root
    text = _squeeze(body.text(separator=" ")) if body is not None else ""
    return facts_of(text, now)


def merge(message: Message, page: Facts) -> Message:
    """A list row completed by its detail page: the page's state and dates win where it shows them
    (a reply dated before the question is a misread and left out)."""
    asked = message.asked if message.asked is not None else page.asked
    replied = page.replied if page.replied is not None else message.replied
    if replied is not None and asked is not None and replied < asked:
        replied = None
    return replace(
        message,
        state=page.state or message.state,
        state_text=page.state_text or message.state_text,
        asked=asked,
        replied=replied,
        source="detail",
    )


_NEXT = re.compile(r"\s*(?:下一页|下页|后一页)\s*[>»›]*\s*")


def next_page(html: str, base: str) -> str | None:
    """The list's next page (下一页), or None."""
    tree, _ = parse_tree(html)
    for a in tree.css("a[href]"):
        if _NEXT.fullmatch(a.text() or "") or _NEXT.fullmatch(a.attributes.get("title") or ""):
            href = (a.attributes.get("href") or "").strip()
            if href and not href.lower().startswith(SKIP_SCHEMES):
                return clean_url(href, base)
    return None


def same_host(url: str, host: str) -> bool:
    return bool(url) and (urlsplit(url).hostname or "") == host
