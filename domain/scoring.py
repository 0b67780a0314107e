"""The score the inspector gives (扣分 / 加分 / 总分): the table, in one place, and the pure score.

国办秘函〔2019〕19号 scores a site in three parts: single vetoes (any one: unqualified, nothing
else scored; ``domain.thresholds``), deductions worth 100 points (each item's deductions capped
at the item's points; a total under 60 is unqualified) and a bonus worth 30, counted only above
80.  The item values of the 2019 table are in no source we could read; the 2015 national census
table (全国政府网站普查评分表), which provinces still use, gives the values of what a machine
measures, and they are the default below, each with its source.  ``xuncha.yml`` replaces or
extends the table (``scoring:``; provinces publish their own).

Only what the agent measures is scored: :func:`score` takes a mapping of *measures* (a key of
:data:`MEASURES` → its value, or ``None`` when not measured) and leaves every item whose measure
is ``None`` out, naming it in ``not_measured``.  The app builds the mapping from a site's latest
results (``agent.run.scores``); a new measure is a new key here and one line there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

DAY = 86400.0

# What the items measure: key → what it is (the app's adapter fills these, None when it cannot).
MEASURES: Mapping[str, str] = {
    "unreachable_percent": "share of the homepage visits of the last 7 days that did not open within the "
    "visit timeout, in % (at least 20 visits)",
    "homepage_links_broken": "broken links on the homepage (pages, images, attachments, external)",
    "other_links_broken": "broken links on the column pages and the first article of each column",
    "homepage_updates": "items dated within the last 14 days on the homepage",
    "survey_columns": "survey columns (调查征集) configured",
    "survey_items_year": "items dated within the last year in the survey columns",
    "interview_columns": "interview columns (在线访谈) configured",
    "interview_items_year": "items dated within the last year in the interview columns",
    "page_tags_missing": "pages (homepage, column pages, first articles) missing a tag of the standard (网页标签)",
    # Measured by the message-list probe (issue 18); not measured until it exports them.
    "consultation_columns": "consultation channels (咨询, 留言) found",
    "consultation_answered_year": "consultation messages answered within the last year",
}

UPDATE_WINDOW = 14 * DAY  # "fewer than 10 homepage updates in 2 weeks" (2015 census)
ACTIVITY_WINDOW = 365 * DAY  # "none in a year" (2015 census)
CENSUS_2015 = "2015 全国政府网站普查评分表 (values as issue 19 quotes them)"
ANNEX_COLUMNS = ("首页不更新", "栏目不更新", "互动回应差", "服务不实用", "安全、泄密事故等严重问题", "其他问题")


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the table.

    Either ``per`` (``points`` for each whole ``per`` of the measure: −1 per broken link) or a
    condition (``points`` once when ``at_least <= value < below``).  ``cap``: the item's
    deductions at most this (None: only the part's total bounds them).  ``requires``: a measure
    that must be above 0 for the item to apply (no survey column: "none in a year" does not
    apply, "no survey column" does)."""

    key: str
    name: str  # as the table words it
    measure: str  # a key of MEASURES
    points: float
    per: float | None = None
    below: float | None = None
    at_least: float | None = None
    cap: float | None = None
    requires: str | None = None
    applies: tuple[str, ...] = ("portal", "department")
    bonus: bool = False
    annex: str = "其他问题"  # the column of the 潮州 annex it falls under (ANNEX_COLUMNS)
    wording: str = ""  # how a 通报 names the problem: 多处链接无法打开
    source: str = CENSUS_2015

    def points_for(self, value: float) -> float:
        """The item's points for a measured ``value`` (pure), capped."""
        if self.per is not None:
            # [ours] whole units: 1.9 % of failed visits is one 1 %, as the table counts "每1%"
            pts = self.points * math.floor(value / self.per + 1e-9)
        else:
            hit = (self.at_least is None or value >= self.at_least) and (self.below is None or value < self.below)
            pts = self.points if hit else 0.0
        return max(0.0, pts if self.cap is None else min(self.cap, pts))


@dataclass(frozen=True, slots=True)
class Table:
    items: tuple[Item, ...]
    deduction_points: float = 100.0  # the deductions part is worth this; the score starts there
    bonus_points: float = 30.0  # 国办秘函〔2019〕19号: a bonus worth 30
    bonus_above: float = 80.0  # … counted only when the score before it is above this
    source: str = CENSUS_2015

    def item(self, key: str) -> Item | None:
        return next((i for i in self.items if i.key == key), None)


def _once(key: str, name: str, measure: str, points: float, **kw: object) -> Item:
    return Item(key, name, measure, points, cap=points, **kw)  # type: ignore[arg-type]


DEFAULT_TABLE = Table(
    (
        # 首页可用性: "每1%扣5分" below the veto at 5 % (domain.thresholds.unreachable_ratio): at most 4 whole
        # 1 % (20 points); at 5 % and above the veto says it, so the cap keeps one outage from being judged twice.
        Item("availability", "首页可用性", "unreachable_percent", 5, per=1, cap=20, wording="首页打开不稳定"),
        # 链接可用性: the homepage's links −1 each, other pages' −0.1 each.  [ours] No cap: the table's
        # item total is not in our sources; 汕头 2017 Q2 failed 澄海人才网 on links alone (扣分大于40分).
        Item("homepage_links", "首页链接不可用", "homepage_links_broken", 1, per=1, wording="多处链接无法打开"),
        Item("other_links", "其他页面链接不可用", "other_links_broken", 0.1, per=1, wording="多处链接无法打开"),
        _once(
            "homepage_updates", "首页信息更新量不足", "homepage_updates", 5, below=10, annex="首页不更新",
            wording="首页更新量不足（2周内少于10条）",
        ),
        _once(
            "consultation_missing", "无咨询栏目", "consultation_columns", 5, below=1, annex="互动回应差",
            wording="无咨询栏目",
        ),
        _once(
            "consultation_unanswered", "咨询一年内无回复", "consultation_answered_year", 5, below=1,
            requires="consultation_columns", annex="互动回应差", wording="咨询栏目一年内无回复",
        ),
        _once("survey_missing", "无调查征集栏目", "survey_columns", 5, below=1, annex="互动回应差",
              wording="无调查征集栏目"),
        _once(
            "survey_none", "调查征集一年内无活动", "survey_items_year", 5, below=1, requires="survey_columns",
            annex="互动回应差", wording="调查征集栏目一年内无活动",
        ),
        _once(
            "survey_few_portal", "调查征集活动偏少（门户网站每年少于6次）", "survey_items_year", 3, at_least=1,
            below=6, requires="survey_columns", applies=("portal",), annex="互动回应差", wording="调查征集活动偏少",
        ),
        _once(
            "survey_few_department", "调查征集活动偏少（部门网站每年少于3次）", "survey_items_year", 3, at_least=1,
            below=3, requires="survey_columns", applies=("department",), annex="互动回应差",
            wording="调查征集活动偏少",
        ),
        _once(
            "interview_unused", "在线访谈一年内未使用", "interview_items_year", 5, below=1,
            requires="interview_columns", annex="互动回应差", wording="在线访谈栏目一年内未使用",
        ),
        # [ours] 网页标签 (政府网站发展指引, 2017) came after the 2015 table, which has no such item.
        # 潮州 2020 Q3 deducted 0.5 from 饶平县 with 网页标签不规范 the only problem named: an inference,
        # not a published value; set your province's.
        _once(
            "page_tags", "网页标签不规范", "page_tags_missing", 0.5, at_least=1, wording="网页标签不规范",
            source="ours: inferred from 潮州 2020 Q3 (饶平县 扣分0.5, 网页标签不规范)",
        ),
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Score:
    total: float  # 总分: deduction_points − deducted + bonus
    deducted: float  # 扣分 (the part's total at most)
    bonus: float  # 加分 (0 unless the score before it is above bonus_above)
    items: Mapping[str, float] = field(default_factory=dict)  # every measured deduction item that applies → points
    bonus_items: Mapping[str, float] = field(default_factory=dict)  # likewise the bonus items
    not_measured: tuple[str, ...] = ()  # items that apply but whose measure is None

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "deducted": self.deducted,
            "bonus": self.bonus,
            "items": dict(self.items),
            "bonus_items": dict(self.bonus_items),
            "not_measured": list(self.not_measured),
        }


def score(table: Table, kind: str, measured: Mapping[str, float | None]) -> Score:
    """The score of a site of ``kind`` (portal | department) from its measures (pure).

    An item applies to ``kind`` and, with ``requires``, only where that measure is above 0; an
    item that applies but whose measure is absent or None is not scored, and named."""
    items: dict[str, float] = {}
    bonus: dict[str, float] = {}
    missing: list[str] = []
    for item in table.items:
        if kind not in item.applies:
            continue
        if item.requires is not None:
            need = measured.get(item.requires)
            if need is None:
                missing.append(item.key)
                continue
            if need <= 0:
                continue
        value = measured.get(item.measure)
        if value is None:
            missing.append(item.key)
            continue
        (bonus if item.bonus else items)[item.key] = _round(item.points_for(value))
    deducted = _round(min(table.deduction_points, sum(items.values())))
    base = table.deduction_points - deducted
    gained = _round(min(table.bonus_points, sum(bonus.values()))) if base > table.bonus_above else 0.0
    return Score(_round(base + gained), deducted, gained, items, bonus, tuple(missing))


def _round(x: float) -> float:
    return round(x, 2) + 0.0  # 0.1-point items add up without 0.30000000000000004
