"""Service guides (办事指南) read for their element categories, and ways to services found (pure).

服务不实用 (国办秘函〔2019〕19号, indicators.md) fails a site that offers no services, or whose
guides lack key element categories: 事项名称, 设定依据, 申请条件, 办理材料, 办理地点, 办理机构,
收费标准, 办理时间, 联系电话, 办理流程.  Guide pages print them as a label and a value, in the
forms service portals use:

* a table row: a label cell followed by its value cell (``<td>设定依据</td><td>《…》</td>``);
* a definition list: ``<dt>办理地点</dt><dd>…</dd>``;
* a line of text: ``收费标准：不收费`` (in a ``<p>``, ``<li>``, ``<span>`` …);
* a heading and the text under it (``<h5>需要申请材料</h5><p>1.居民户口簿…</p>``).

An element is present when its label is followed by a non-empty value: ``是否收费：否`` is a value;
an empty cell, ``&nbsp;`` or a dash is not.  A label is recognised by the names portals give
each category (:data:`CATEGORIES`, the longest name a short label holds wins, so 收费依据 is
收费标准's and not 设定依据's); a cell that is itself a label is never another label's value
(a header row of labels is not ten elements).  Text hidden by markup (``display:none``, scripts,
templates) is not shown and does not count.  The agent runs no scripts: a page that labels the
elements without a single value and runs scripts (a portal template filling the values by script)
is ``scripted``, listed with that reason and not judged — never a false 要素缺失.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from probes.content import visible
from probes.content.extract import clean_url, parse_tree

# The ten element categories of the rule, each with the labels service portals print for it
# (read from guide pages: tests/fixtures/real/guides/ and the portals' templates).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "事项名称": ("事项名称", "事项名", "服务事项", "办理事项", "实施事项", "项目名称", "业务名称", "审批事项"),
    "设定依据": ("设定依据", "办理依据", "法律依据", "实施依据", "法定依据", "政策依据", "审批依据", "依据"),
    "申请条件": ("申请条件", "办理条件", "受理条件", "申报条件", "准入条件", "受理标准", "申请人条件"),
    "办理材料": ("办理材料", "申请材料", "申报材料", "所需材料", "提交材料", "材料目录", "材料清单", "材料列表", "申请要件", "所需要件"),
    "办理地点": ("办理地点", "受理地点", "办公地点", "办理地址", "受理地址", "窗口地址", "办事地点", "办理窗口", "受理窗口"),
    "办理机构": (
        "办理机构", "实施机构", "受理机构", "实施主体", "办理部门", "受理部门", "实施部门", "责任部门", "承办机构",
        "决定机构", "主管部门",
    ),
    "收费标准": ("收费标准", "是否收费", "收费依据", "收费情况", "收费项目", "办理费用", "收费"),
    "办理时间": ("办理时间", "受理时间", "办公时间", "工作时间"),
    "联系电话": ("联系电话", "咨询电话", "咨询方式", "联系方式", "服务电话", "办事电话"),
    "办理流程": ("办理流程", "办事流程", "办理程序", "受理流程", "审批流程", "办理步骤", "业务流程", "流程图"),
}  # fmt: skip
ELEMENTS = tuple(CATEGORIES)
_NAMES = sorted(((name, cat) for cat, names in CATEGORIES.items() for name in names), key=lambda p: -len(p[0]))
MAX_LABEL = 12  # characters of a label (without numbering and colon); longer text is a sentence, not a label
GUIDE_MIN_LABELS = 3  # categories whose labels a page must show to be read as a guide
_NUMBERING = re.compile(r"^[\s\d一二三四五六七八九十、.．()（）【】\[\]]+")
_LINE = re.compile(r"^\s*([^：:\n]{1,20}?)\s*[：:]\s*(.*)$")
_EMPTY = re.compile(r"^[\s\u00a0\u3000\-—–_/\\|*·.。,，;；:：]*$")
# Elements that can hold a label alone, the value following them (a heading, a <dt>, a <p> or <span>
# label in a block: <div class="list"><p>需要申请材料</p><div>1.居民户口簿…</div></div>).
_LABEL_BLOCKS = "h1, h2, h3, h4, h5, h6, dt, p, span, strong, b, label, em"
_STOP = frozenset(("dt", "h1", "h2", "h3", "h4", "h5", "h6"))


def category_of(label: str) -> str | None:
    """The element category a label names (``需要申请材料`` → 办理材料), or None."""
    text = _NUMBERING.sub("", label).strip().rstrip("：: \u00a0\u3000")
    if not text or len(text) > MAX_LABEL:
        return None
    for name, cat in _NAMES:
        if name in text:
            return cat
    return None


def has_value(text: str) -> bool:
    """A value a reader can use: not empty, not only spaces or dashes (``否`` and ``无`` are values)."""
    return not _EMPTY.match(text)


@dataclass(frozen=True, slots=True)
class Guide:
    """One page read as a guide: the categories it shows with a value, and those labelled but empty."""

    title: str
    present: tuple[str, ...]  # in ELEMENTS order
    empty: tuple[str, ...]  # labelled, but with no value
    note: str = ""
    # Labels without a single value on a page that runs scripts: the portal writes the values by script
    # (Epoint-style 政务服务网 templates), which the agent does not run — not judged, never a finding.
    scripted: bool = False

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(c for c in ELEMENTS if c not in self.present)

    @property
    def is_guide(self) -> bool:
        return len(set(self.present) | set(self.empty)) >= GUIDE_MIN_LABELS


def _text(node: LexborNode) -> str:
    return node.text(separator=" ", strip=True)


def _visible_tree(html: str) -> tuple[LexborHTMLParser, list[str], bool]:
    """The page without what a visitor does not see; and whether it runs scripts."""
    tree, notes = parse_tree(html)
    scripts = tree.css_first("script") is not None
    visible.remove([h for h in visible.hidden_elements(tree) if not h.by_style_sheet])
    tree.strip_tags(["script", "style", "noscript", "template", "svg"])
    return tree, notes, scripts


def read_guide(html: str) -> Guide:
    """The element categories ``html`` shows as label + value (see the module's docstring)."""
    tree, notes, scripts = _visible_tree(html)
    title_node = tree.css_first("title")
    title = title_node.text(strip=True)[:200] if title_node is not None else ""
    present: set[str] = set()
    labelled: set[str] = set()
    for cat, value in _pairs(tree):
        labelled.add(cat)
        if has_value(value):
            present.add(cat)
    empty = labelled - present
    scripted = scripts and not present and len(empty) >= GUIDE_MIN_LABELS
    if scripted:
        notes.append(f"{len(empty)} elements labelled, none with a value, on a page that runs scripts: the values "
                     "are written by script (not run by the agent); not judged")  # fmt: skip
    elif empty:
        notes.append(f"{len(empty)} labelled elements are empty")
    return Guide(
        title=title,
        present=tuple(c for c in ELEMENTS if c in present),
        empty=tuple(c for c in ELEMENTS if c in empty),
        note="; ".join(notes),
        scripted=scripted,
    )


def _pairs(tree: LexborHTMLParser) -> Iterator[tuple[str, str]]:
    """(category, value text) for every labelled element of the page, in the four forms."""
    yield from _table_pairs(tree)
    yield from _heading_pairs(tree)
    root = tree.body or tree.root
    if root is not None:
        yield from _line_pairs(root.text(separator="\n", strip=True))


def _table_pairs(tree: LexborHTMLParser) -> Iterator[tuple[str, str]]:
    """A label cell and the cell beside it (its first text only: nested tables stay linear)."""
    for row in tree.css("tr")[:MAX_ROWS]:
        cells = [c for c in row.iter() if c.tag in ("td", "th")]
        cats = [category_of(_first_text(c)) if _short(c) else None for c in cells]
        for i, cat in enumerate(cats):
            if cat is None:
                continue
            if i + 1 < len(cells) and cats[i + 1] is None:
                yield cat, _first_text(cells[i + 1])
            else:
                yield cat, ""  # a label with no value cell beside it (or a header row of labels)


MAX_ROWS = 2000  # table rows read per page


MAX_LABEL_BLOCKS = 400  # label-holding elements read per page (a guide has a few dozen)
MAX_SIBLINGS = 8  # siblings after a label looked at for its value
MAX_STEPS = 64  # nodes walked into a sibling for its first text


def _heading_pairs(tree: LexborHTMLParser) -> Iterator[tuple[str, str]]:
    """An element holding a label alone (a heading, <dt>, a label <p>) and the first text after it,
    in its following siblings up to the next heading or label: its value (<dd>, <p>, <div> …).

    Bounded: only the first text of each sibling is read (a hostile page nesting the rest of itself
    after every label would otherwise cost the square of its size), a few siblings, a few hundred labels."""
    seen = 0
    for head in tree.css(_LABEL_BLOCKS):
        cat = category_of(_first_text(head))
        if cat is None or not _short(head):
            continue
        seen += 1
        if seen > MAX_LABEL_BLOCKS:
            return
        value = ""
        sib = head.next
        for _ in range(MAX_SIBLINGS):
            if sib is None or sib.tag in _STOP:
                break
            text = _first_text(sib)
            if text:
                if category_of(text) is None:
                    value = text
                break  # a value, or the next label
            sib = sib.next
        yield cat, value


def _short(node: LexborNode) -> bool:
    """True when ``node`` holds no more text than a label (walked, never its whole text)."""
    size = 0
    for steps, inner in enumerate(node.traverse(include_text=True)):
        if inner.tag == "-text":
            size += len((inner.text_content or "").strip())
        if size > 2 * MAX_LABEL or steps >= MAX_STEPS:
            return False
    return True


def _first_text(node: LexborNode) -> str:
    """The first non-blank text in ``node`` (itself, when a text node), within MAX_STEPS nodes."""
    if node.tag == "-text":
        return (node.text_content or "").strip()
    if node.tag == "-comment":
        return ""
    for steps, inner in enumerate(node.traverse(include_text=True)):
        if steps >= MAX_STEPS:
            break
        if inner.tag == "-text" and (text := (inner.text_content or "").strip()):
            return text
    return ""


def _line_pairs(text: str) -> Iterator[tuple[str, str]]:
    """``label：value`` lines of the page's visible text (one line per block)."""
    for line in text.split("\n"):
        if "：" not in line and ":" not in line:
            continue
        m = _LINE.match(line)
        if m is None:
            continue
        cat = category_of(m.group(1))
        if cat is not None:
            value = m.group(2).strip()
            yield cat, "" if category_of(value) else value


# --- ways to services: on the homepage, in service pages ---------------------------------------

# Link texts that lead to services: a 办事服务 column, the 政务服务网 (homepage discovery).
SERVICE_WORDS = (
    "办事服务",
    "政务服务",
    "网上办事",
    "在线办事",
    "办事大厅",
    "网上办事大厅",
    "便民服务",
    "公共服务",
    "我要办",
)
# Hosts of the 政务服务网 (the national platform and the provinces' portals): zwfw.*, *.zwfw.*, gjzwfw.gov.cn,
# and the provinces' own names (gdzwfw, zjzwfw, …) all carry "zwfw"; 12345/政务服务 portals under bsdt/wsbs too.
_PORTAL_HOST = re.compile(r"(?:^|[.-])(?:[a-z]{0,8}zwfw|zwdt|bsdt|wsbs|zxbs)(?:[.-]|$)")
# Links to guides: their text says 指南, or their URL is a guide's (bszn, guide, zhinan, …).
_GUIDE_TEXT = ("办事指南", "服务指南", "指南")
_GUIDE_URL = re.compile(r"bszn|bsznxq|guide|zhinan|/zn/|itemdetail|iteminfo|eventdetail|taskguid", re.I)
MAX_LINKS = 5000  # anchors read per page


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    text: str


def portal_host(url: str) -> bool:
    """True for a link into a 政务服务网 host (zwfw.gov.cn, www.gdzwfw.gov.cn, zwfw.yl.gov.cn …)."""
    host = (urlsplit(url).hostname or "").lower()
    return bool(_PORTAL_HOST.search(host)) and (host.endswith(".gov.cn") or host.endswith(".政务"))


def links(html: str, base: str) -> list[Link]:
    """The page's visible links (absolute http(s) URLs), each once, in document order."""
    tree, _, _ = _visible_tree(html)
    out: dict[str, Link] = {}
    for a in tree.css("a[href]"):
        url = clean_url(a.attributes.get("href") or "", base)
        if url is None or url in out:
            continue
        out[url] = Link(url, (_text(a) or a.attributes.get("title") or "").strip()[:100])
        if len(out) >= MAX_LINKS:
            break
    return list(out.values())


def service_entries(found: Iterable[Link]) -> list[Link]:
    """Links of a homepage that lead to services: a 办事服务/政务服务 entry, or a 政务服务网 host."""
    return [link for link in found if any(w in link.text for w in SERVICE_WORDS) or portal_host(link.url)]


def guide_links(found: Iterable[Link]) -> list[Link]:
    """Links of a service page that lead to guides: text with 指南, or a guide's URL."""
    return [
        link
        for link in found
        if any(w in link.text for w in _GUIDE_TEXT)
        or _GUIDE_URL.search(urlsplit(link.url).path + "?" + urlsplit(link.url).query)
    ]
