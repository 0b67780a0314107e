"""What a visitor cannot see: hidden and off-screen elements (issue 9).

Text counts as shown only when a visitor sees it: a footer keeping an old
公网安备 number in a ``display:none`` span shows the current one, not both.  And
links inside hidden or off-screen elements are how 暗链 (hidden injected links)
are planted, so the same elements feed :mod:`probes.content.hidden_links`.

Hidden here means, without running scripts or a layout engine:

* an inline style with ``display:none``, ``visibility:hidden``, ``opacity:0``,
  a zero font size, a zero width or height, or a position far off-screen
  (``left:-9999px``, ``text-indent:-999em``, ``top:-1000px`` …);
* a class or id that a ``<style>`` block of the page hides
  (``.hide{display:none}``), simple selectors only;
* the ``hidden`` attribute, ``<noscript>`` and ``<template>``, and a
  ``<marquee>`` one or two pixels tall or wide.

HTML comments are not elements at all, so they never count.  Items of hidden tab
panels still count for freshness (a visitor opens the tab); their text does not
count as shown.  Elements hidden by a style sheet's class are reported (their
links can be 暗链) but their text still counts: scripts often show them (see
:func:`remove`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

# Every element with a style: lexbor's substring selectors ([style*="none" i], …) cost more than testing the
# few dozen styles of a page in Python.
_STYLE_SELECTOR = "[style]"
_ALWAYS = "[hidden], noscript, template, marquee"
_HIDDEN_STYLE = re.compile(
    r"(?:^|[;\s\"'])(?:display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0+)?(?![.\d])|"
    r"font-size\s*:\s*0(?![.\d])(?:px|pt|em)?)",
    re.I,
)
_OFF_SCREEN = re.compile(
    r"(?:^|[;\s\"'])(?:left|top|right|margin-left|margin-top|text-indent)\s*:\s*-\s*(\d{3,})", re.I
)
_ZERO_SIZE = re.compile(r"(?:^|[;\s\"'])(?:width|height)\s*:\s*0(?![.\d])(?:px)?", re.I)
_CSS_HIDES = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SIMPLE_SELECTOR = re.compile(r"^[.#][A-Za-z_][\w-]{0,60}$")
MAX_HIDDEN = 2000


@dataclass(frozen=True, slots=True)
class Hidden:
    node: LexborNode
    how: str  # 'style "display:none"', "off-screen (left:-9999px)", "<noscript>", 'class "hide" (.hide{display:none})'
    where: str  # the element, as a visitor of the source would find it: div#id.class
    by_style_sheet: bool = False  # hidden by a rule of a <style> block, which scripts often undo


def hidden_elements(tree: LexborHTMLParser) -> list[Hidden]:
    """Every hidden element (nested ones included), in document order of the query."""
    selector = _STYLE_SELECTOR + ", " + _ALWAYS
    hiding_rules = _style_rules(tree)
    if hiding_rules:
        selector += ", " + ", ".join(hiding_rules)
    out: list[Hidden] = []
    for node in tree.css(selector):
        how = _how(node, hiding_rules)
        if how:
            out.append(Hidden(node, how, describe(node), how.startswith(("class ", "id "))))
            if len(out) >= MAX_HIDDEN:
                break
    return out


def outermost(hidden: list[Hidden]) -> list[Hidden]:
    """The hidden elements not inside another hidden one (removing those removes the rest)."""
    ids = {h.node.mem_id for h in hidden}
    out = []
    for h in hidden:
        parent = h.node.parent
        inside = False
        for _ in range(200):
            if parent is None:
                break
            if parent.mem_id in ids:
                inside = True
                break
            parent = parent.parent
        if not inside:
            out.append(h)
    return out


def remove(hidden: list[Hidden]) -> None:
    """Take the elements hidden by their own markup out of the tree (outermost only: a removed element
    frees its children).  Elements hidden by a style sheet's class stay: pages hide whole regions that
    way until their scripts start (Angular's cloak keeps ``.footer{display:none}`` until it runs), so
    without running the scripts that says nothing about what a visitor sees."""
    for h in outermost([h for h in hidden if not h.by_style_sheet]):
        h.node.decompose()


# Class or id words of the widgets that hide links by design: tab panes, carousels, menus, scrolling lists.
_ROLE_HINT = re.compile(
    r"tab|slide|banner|focus|scroll|roll|lunbo|huandeng|swiper|carousel|menu|nav|drop|sub|pane|panel|"
    r"con(?:tent)?[\d_-]|item|pic|list|marquee|qh|cont",
    re.I,
)
_ITEM_TAGS = frozenset(("li", "option", "dd", "dt", "tr", "td"))


def role(node: LexborNode) -> str:
    """What a hidden element is there for, when its markup says it is a widget's part ("" for a bare
    container): a list item, one of a set of sibling panes (tabs, slides: the same tag and class, one of
    them shown), or a class/id of a tab, slide or menu.  Called only for hidden elements that link
    somewhere unexpected, so the sibling walk is rare."""
    tag = node.tag or ""
    if tag in _ITEM_TAGS:
        return f"a list item (<{tag}>)"
    attrs = node.attrs
    cls = (attrs.get("class") or "").strip()
    hint = _ROLE_HINT.search(f"{cls} {attrs.get('id') or ''}")
    if hint:
        return f"a widget's part ({describe(node)})"
    parent = node.parent
    if cls and parent is not None:
        same = 0
        child = parent.child
        for _ in range(200):
            if child is None:
                break
            if child.tag == tag and (child.attrs.get("class") or "").strip() == cls:
                same += 1
            child = child.next
        if same >= 2:
            return f"one of {same} sibling panes ({describe(node)})"
    return ""


def describe(node: LexborNode) -> str:
    attrs = node.attrs
    out = node.tag or "?"
    if ident := (attrs.get("id") or "").strip():
        out += f"#{ident[:40]}"
    if cls := (attrs.get("class") or "").split():
        out += "." + ".".join(c[:30] for c in cls[:3])
    return out


# A frame one pixel wide or tall shows nothing: the classic 挂马 is ``<iframe src=… width=0 height=0>``.
_TINY = frozenset(("0", "1", "0px", "1px"))
_ZERO_STYLE = re.compile(r"(?:^|[;\s\"'])(?:width|height)\s*:\s*[01](?:px)?\s*(?:;|$)", re.I)


def frame_hidden(node: LexborNode, hiding: dict[int, str]) -> str:
    """How a frame is kept from the visitor ("" when it is shown): its own size or markup, or an ancestor
    that ``hiding`` (mem_id -> how, the elements hidden by their own markup) names."""
    attrs = node.attrs
    tiny = [a for a in ("width", "height") if (attrs.get(a) or "").strip().lower() in _TINY]
    if tiny:
        return f"{tiny[0]}={attrs.get(tiny[0])}"
    if (style := attrs.get("style") or "") and (m := _ZERO_STYLE.search(style)):
        return f'zero size (style "{_squash(m.group(0))}")'
    if how := _how(node, {}):
        return how
    parent = node.parent
    for _ in range(200):
        if parent is None or not hiding:
            return ""
        if (outer := hiding.get(parent.mem_id)) is not None:
            return f"inside {describe(parent)} ({outer})"
        parent = parent.parent
    return ""


def _how(node: LexborNode, hiding_rules: dict[str, str]) -> str:
    tag = node.tag
    if tag in ("noscript", "template"):
        return f"<{tag}>"
    attrs = node.attrs
    if tag == "marquee":
        small = [a for a in ("height", "width") if (attrs.get(a) or "").strip().rstrip("px").strip() in ("0", "1", "2")]
        return f"<marquee {small[0]}={attrs.get(small[0])}>" if small else ""
    if "hidden" in attrs:
        return "hidden attribute"
    style = attrs.get("style") or ""
    if style:
        if m := _HIDDEN_STYLE.search(style):
            return f'style "{_squash(m.group(0))}"'
        if m := _OFF_SCREEN.search(style):
            return f'off-screen (style "{_squash(m.group(0))}")'
        if (m := _ZERO_SIZE.search(style)) and "overflow" in style.lower():
            return f'zero size (style "{_squash(m.group(0))}")'
    if hiding_rules:
        if (ident := attrs.get("id")) and (rule := hiding_rules.get(f"#{ident}")):
            return f"id {ident} ({rule})"
        for cls in (attrs.get("class") or "").split():
            if rule := hiding_rules.get(f".{cls}"):
                return f"class {cls} ({rule})"
    return ""


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s.strip(" ;\"'")).lower()


def _style_rules(tree: LexborHTMLParser) -> dict[str, str]:
    """Simple selectors (``.hide``, ``#popup``) that the page's ``<style>`` blocks hide -> the rule.

    Only top-level rules hide: a rule inside ``@media`` hides for some screens only.  And a selector
    that an ``@media`` block shows again (the mobile footer, ``display:none`` on desktops and
    ``display:block`` on phones) is shown to some visitors, so it is not hidden."""
    rules: dict[str, str] = {}
    shown: set[str] = set()
    for style in tree.css("style"):
        css = style.text()
        if not _CSS_HIDES.search(css):
            continue
        for selectors, body, at_rule in _rules(css):
            if at_rule:
                if _CSS_SHOWS.search(body):
                    shown.update(sel.strip() for sel in selectors.split(","))
                continue
            hides = _CSS_HIDES.search(body)
            if not hides:
                continue
            for sel in selectors.split(","):
                sel = sel.strip()
                if _SIMPLE_SELECTOR.match(sel) and sel not in rules and len(rules) < 200:
                    rules[sel] = f"{sel}{{{_squash(hides.group(0))}}}"
    return {sel: rule for sel, rule in rules.items() if sel not in shown}


_BRACE = re.compile(r"[{}]")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_SHOWS = re.compile(r"display\s*:\s*(?!none)[a-z]|visibility\s*:\s*visible", re.I)


def _rules(css: str, inside_at_rule: bool = False) -> list[tuple[str, str, bool]]:
    """(selectors, body, inside an at-rule) of the rules of a style sheet, one level of ``@media`` deep."""
    if not inside_at_rule:
        css = _CSS_COMMENT.sub("", css)
    out: list[tuple[str, str, bool]] = []
    depth, start, opened, selectors = 0, 0, 0, ""
    for m in _BRACE.finditer(css):
        if m.group(0) == "{":
            if depth == 0:
                selectors = css[start : m.start()]
                opened = m.end()
            depth += 1
        elif depth == 0:
            start = m.end()  # a stray brace
        else:
            depth -= 1
            if depth == 0:
                body = css[opened : m.start()]
                if selectors.lstrip().startswith("@"):
                    if not inside_at_rule:
                        out += _rules(body, inside_at_rule=True)
                else:
                    out.append((selectors, body, inside_at_rule))
                start = m.end()
    return out
