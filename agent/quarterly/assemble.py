"""The judged history as the report's document: JSON shape, 合格率, annex rows, wording (pure).

Wording follows the 通报 in ``shared/seeds``: 存在的突出问题 such as 站点无法访问,
首页长期不更新, 多个栏目为空白, 多个栏目长期不更新; dates as 10月3日; rates as 92.5%.
Every number in a sentence comes from ``domain.thresholds`` via the veto entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from agent.quarterly.engine import History, Judged
from agent.quarterly.period import Period, cn_date
from domain import metric_names as M
from domain.divisions import region_of
from domain.registry import PLATFORM_NAMES
from domain.scoring import ANNEX_COLUMNS, DEFAULT_TABLE, Table
from domain.thresholds import THRESHOLDS, Thresholds

SITE_HEADER = ["序号", "地区", "网站名称", "存在的突出问题", "网站标识码"]
ACCOUNT_HEADER = ["序号", "单位名称", "账号类型", "账号名称", "存在的问题"]
WARNING_HEADER = ["序号", "地区", "网站名称", "预警情况", "网站标识码"]
ACCOUNT_WARNING_HEADER = ["序号", "单位名称", "账号类型", "账号名称", "预警情况"]
REGION_HEADER = ["地区", "网站数", "合格数", "合格率", "上期合格率", "变化"]
PLATFORM_HEADER = ["账号类型", "账号数", "合格数", "合格率", "上期合格率", "变化"]


def assemble(
    h: History,
    notes: list[str],
    sample: dict[str, Any] | None = None,
    t: Thresholds = THRESHOLDS,
    scoring: Table = DEFAULT_TABLE,
) -> dict[str, Any]:
    """The report as JSON-ready data (design.md, "The quarterly report", plus the tables' rows)."""
    drawn_sites = set(sample["sites"]) if sample else None
    drawn_accounts = set(sample["accounts"]) if sample else None
    active = [s for s in _sorted_sites(h.sites.values()) if s.status != "closed" and _in(s, drawn_sites)]
    closed = [s for s in _sorted_sites(h.sites.values()) if s.status == "closed" and _in(s, drawn_sites)]
    accounts = [a for a in sorted(h.accounts.values(), key=_account_key) if _in(a, drawn_accounts)]
    prev = h.previous
    level = _region_level(s.ident for s in active)
    summary = _summary(active, accounts)
    prev_summary = None
    if prev is not None:
        prev_summary = _summary(
            [s for s in prev.sites.values() if s.status != "closed" and _in(s, drawn_sites)],
            [a for a in prev.accounts.values() if _in(a, drawn_accounts)],
        )
        prev_summary["period"] = _period(prev.period)
    summary["closed_sites"] = len(closed)
    summary["previous"] = prev_summary
    summary["change"] = prev_summary and {
        k: _change(summary[k], prev_summary[k]) for k in ("site_rate", "account_rate")
    }
    return {
        "period": _period(h.period),
        "summary": summary,
        "by_region": _rates(active, prev.sites if prev else None, lambda s: region_label(s.ident, level)),
        "accounts_by_platform": _rates(
            accounts, prev.accounts if prev else None, lambda a: platform_name(a.labels.get("platform", ""))
        ),
        "sites": [_site(s, level, t, scoring) for s in active],
        "closed_sites": [_site(s, level, t, scoring) for s in closed],
        "accounts": [_account(a, t) for a in accounts],
        "sample": sample,
        "notes": notes + _score_notes(h, active, scoring),
        "score": _score_table(h, active, scoring, t),
        "thresholds": {
            "source": "domain/thresholds.py with xuncha.yml's overrides (the alert rules' lines)",
            "visit_timeout": t.visit_timeout,
        },
    }


def _in(subject: Judged, drawn: set[str] | None) -> bool:
    return drawn is None or subject.ident in drawn


def _sorted_sites(sites: Iterable[Judged]) -> list[Judged]:
    return sorted(sites, key=lambda s: s.ident)


def _account_key(a: Judged) -> tuple[str, str, str]:
    return (a.labels.get("unit", ""), a.labels.get("platform", ""), a.labels.get("name", ""))


def _period(p: Period) -> dict[str, Any]:
    return {
        "from": p.first.isoformat(),
        "to": p.last.isoformat(),
        "title": p.title(),
        "quarter": f"{p.quarter[0]}Q{p.quarter[1]}" if p.quarter else None,
    }


def rate(qualified: int, total: int) -> float | None:
    return round(qualified / total, 4) if total else None


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 4)


def _summary(sites: list[Judged], accounts: list[Judged]) -> dict[str, Any]:
    sq = sum(s.qualified for s in sites)
    aq = sum(a.qualified for a in accounts)
    return {
        "sites": len(sites),
        "sites_qualified": sq,
        "site_rate": rate(sq, len(sites)),
        "accounts": len(accounts),
        "accounts_qualified": aq,
        "account_rate": rate(aq, len(accounts)),
    }


def _rates(subjects: list[Judged], previous: dict[str, Judged] | None, key: Any) -> list[dict[str, Any]]:
    groups: dict[str, list[Judged]] = defaultdict(list)
    for s in subjects:
        groups[key(s)].append(s)
    out = []
    for name in sorted(groups):
        members = groups[name]
        q = sum(m.qualified for m in members)
        row: dict[str, Any] = {
            "region": name,
            "total": len(members),
            "qualified": q,
            "rate": rate(q, len(members)),
            "previous_rate": None,
            "change": None,
        }
        if previous is not None:
            before = [previous[m.ident] for m in members if m.ident in previous]
            row["previous_rate"] = rate(sum(b.qualified for b in before), len(before))
            row["change"] = _change(row["rate"], row["previous_rate"])
        out.append(row)
    return out


# --- regions ---------------------------------------------------------------------------------------


def _region_level(codes: Iterable[str]) -> str:
    """The finest level that still groups: province for a country, city for a province, county for a city."""
    regions = [region_of(c) for c in codes]
    if len({r.province for r in regions}) > 1:
        return "province"
    if len({r.city for r in regions}) > 1:
        return "city"
    return "county"


def region_label(code: str, level: str) -> str:
    r = region_of(code)
    if code.startswith("bm"):
        return r.province
    if level == "province":
        return r.province or r.division
    if level == "city":
        return r.city or f"{r.province}省直".replace("省省直", "省直")
    return r.county or (
        f"{r.city}市直".replace("市市直", "市直") if r.city else f"{r.province}省直".replace("省省直", "省直")
    )


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform)


# --- wording --------------------------------------------------------------------------------------


def _days_text(first: str, last: str) -> str:
    a, b = date.fromisoformat(first), date.fromisoformat(last)

    def md(d: date, with_year: bool) -> str:
        return cn_date(d) if with_year else f"{d.month}月{d.day}日"

    if a == b:
        return md(a, False)
    return f"{md(a, a.year != b.year)}至{md(b, a.year != b.year)}"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%".replace(".0%", "%")


def _n(x: float) -> str:
    return f"{x:.0f}"


def problem(v: dict[str, Any], t: Thresholds = THRESHOLDS) -> str:
    """One veto as 存在的突出问题 words it."""
    when = _days_text(v["from"], v["to"])
    w, line = v["worst"], v["line"]
    texts = {
        "unreachable_ratio": f"站点无法访问（一周内未能在{t.visit_timeout:g}秒内打开的访问占比最高{_pct(w)}，{when}）",
        "homepage_age": f"首页长期不更新（最长{_n(w)}天未更新，{when}）",
        "stale_news_notice_columns": f"多个栏目长期不更新（动态、通知公告类栏目最多{_n(w)}个超期未更新，{when}）",
        "stale_columns": f"多个栏目长期不更新（最多{_n(w)}个栏目超期未更新，{when}）",
        "blank_columns": f"多个栏目为空白（空白栏目最多{_n(w)}个，{when}）",
        "interaction_age": f"互动回应差（咨询留言最长{_n(w)}天未回复，{when}）",
        "no_consultation_channel": f"互动回应差（无有效咨询渠道，{when}）",
        "serious_errors": f"存在严重错误（{when}）",
        "privacy_leaks": f"泄露公民个人信息（身份证号码{_n(w)}个，{when}）",
        "hidden_links": f"首页存在暗链（最多{_n(w)}个，{when}）",
        "malicious_scripts": f"网页被植入恶意代码（挂马、挖矿脚本，最多{_n(w)}处，{when}）",
        "closed_but_online": f"已关停仍在运行（带病运行，{when}）",
        "silence": f"超过{_n(line)}天未更新（最长{_n(w)}天，{when}）",
        "not_deregistered": f"已停用未注销（{when}）",
        "incomplete_guides": f"服务不实用（办事指南要素缺失，最多{_n(w)}个，{when}）",
        "no_services": f"服务不实用（未提供办事服务，{when}）",
    }
    if v["measure"] == "score":  # the seeds' words: 扣分大于40分(多处链接无法打开) (汕头 2017 Q2)
        why = f"({v['reason']})" if v.get("reason") else ""
        return f"扣分大于{_g(100 - line)}分{why}（最低得分{_g(w)}分，{when}）"
    return texts.get(v["measure"], f"{v['indicator']}（{when}）")


def _g(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def warning_text(v: dict[str, Any]) -> str:
    value, warn, line, left = v["value"], v["warning"], v["line"], v["days_left"]
    soon = f"，再过{left:g}天达到单项否决线（{_n(line)}天）" if left is not None else ""
    texts = {
        "unreachable_ratio": f"近一周{_pct(value)}的访问未能打开（预警线{_pct(warn)}，否决线{_pct(line or 0)}）",
        "homepage_age": f"首页{_n(value)}天未更新{soon}",
        "stale_news_notice_columns": f"动态、通知公告类栏目{_n(value)}个超期未更新（达到{_n(line or 0)}个即单项否决）",
        "stale_columns": f"{_n(value)}个栏目超期未更新（达到{_n(line or 0)}个即单项否决）",
        "blank_columns": f"空白栏目{_n(value)}个（达到{_n(line or 0)}个即单项否决）",
        "interaction_age": f"咨询留言{_n(value)}天未回复{soon}",
        "broken_links": f"首页{_n(value)}个链接无法打开（扣分项）",
        "compliance_failures": f"缺少{_n(value)}项必备要素（扣分项）",
        "silence": f"{_n(value)}天未更新{soon}",
        "score": f"得分{_g(value)}分（预警线{_g(warn)}分，低于{_g(line or 0)}分即不合格）",
    }
    return texts.get(v["measure"], f"{v['indicator']} {value}")


def _site(s: Judged, level: str, t: Thresholds, scoring: Table = DEFAULT_TABLE) -> dict[str, Any]:
    return {
        "code": s.ident,
        "name": s.labels.get("name", ""),
        "region": s.labels.get("region", ""),
        "area": region_label(s.ident, level),
        "status": s.status,
        "qualified": s.qualified,
        "vetoes": s.vetoes,
        "warnings": s.warnings,
        "problems": [problem(v, t) for v in s.vetoes],
        "score": s.score,
        "annex": _annex_columns(s, scoring),
    }


def _account(a: Judged, t: Thresholds) -> dict[str, Any]:
    return {
        "account": a.ident,
        "unit": a.labels.get("unit", ""),
        "platform": a.labels.get("platform", ""),
        "name": a.labels.get("name", ""),
        "status": a.status,
        "qualified": a.qualified,
        "vetoes": a.vetoes,
        "warnings": a.warnings,
        "problems": [problem(v, t) for v in a.vetoes],
    }


# --- tables ---------------------------------------------------------------------------------------


def site_rows(report: dict[str, Any]) -> list[list[str]]:
    """附件1: the active sites with 突出问题 (unqualified), in the seeds' columns."""
    rows = [SITE_HEADER]
    for s in report["sites"]:
        if not s["qualified"]:
            rows.append([str(len(rows)), s["area"], s["name"], "，".join(s["problems"]), s["code"]])
    return rows


def account_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = [ACCOUNT_HEADER]
    for a in report["accounts"]:
        if not a["qualified"]:
            rows.append([str(len(rows)), a["unit"], platform_name(a["platform"]), a["name"], "，".join(a["problems"])])
    return rows


def warning_rows(report: dict[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    sites, accounts = [WARNING_HEADER], [ACCOUNT_WARNING_HEADER]
    for s in report["sites"]:
        if s["warnings"]:
            sites.append(
                [str(len(sites)), s["area"], s["name"], "；".join(warning_text(w) for w in s["warnings"]), s["code"]]
            )
    for a in report["accounts"]:
        if a["warnings"]:
            accounts.append(
                [
                    str(len(accounts)),
                    a["unit"],
                    platform_name(a["platform"]),
                    a["name"],
                    "；".join(warning_text(w) for w in a["warnings"]),
                ]
            )
    return sites, accounts


def rate_rows(rows: list[dict[str, Any]], header: list[str]) -> list[list[str]]:
    out = [header]
    for r in rows:
        out.append(
            [
                r["region"],
                str(r["total"]),
                str(r["qualified"]),
                fmt_rate(r["rate"]),
                fmt_rate(r["previous_rate"]),
                fmt_change(r["change"]),
            ]
        )
    return out


def fmt_rate(x: float | None) -> str:
    return "—" if x is None else _pct(x)


def fmt_change(x: float | None) -> str:
    if x is None:
        return "—"
    points = round(x * 100, 1)
    return "持平" if points == 0 else (f"提高{points:g}个百分点" if points > 0 else f"下降{-points:g}个百分点")


def summary_paragraphs(report: dict[str, Any]) -> list[str]:
    """一、总体情况, in the seeds' words."""
    s, p = report["summary"], report["period"]
    first, last = date.fromisoformat(p["from"]), date.fromisoformat(p["to"])
    sample = report["sample"]
    drawn = (
        f"按照不低于20%的要求，按地区分层随机抽查（比例{_pct(sample['fraction'])}，随机种子{sample['seed']}），"
        if sample
        else ""
    )
    when = f"{p['title']}（监测时段为{cn_date(first)}至{cn_date(last)}）" if p["quarter"] else p["title"]
    text = (
        f"{when}，{drawn}共检查在线运行的政府网站"
        f"{s['sites']}个，其中{s['sites_qualified']}个在监测时段内未触及单项否决指标"
        f"{'且得分不低于' + _g(report['score']['line']) + '分' if (report.get('score') or {}).get('judged') else ''}，"
        f"健康状况总体合格率{fmt_rate(s['site_rate'])}"
    )
    if s["change"] and s["change"]["site_rate"] is not None:
        text += f"，比上期{fmt_change(s['change']['site_rate'])}"
    text += "（存在突出问题的网站名单见附件1）。"
    if s["closed_sites"]:
        text += f"另有已关停网站{s['closed_sites']}个单独列出，不计入合格率。"
    paras = [text]
    if s["accounts"]:
        acc = f"检查政务新媒体{s['accounts']}个，合格{s['accounts_qualified']}个，合格率{fmt_rate(s['account_rate'])}"
        if s["change"] and s["change"]["account_rate"] is not None:
            acc += f"，比上期{fmt_change(s['change']['account_rate'])}"
        paras.append(acc + "（存在问题的政务新媒体名单见附件2）。")
    sc = report.get("score") or {}
    if sc.get("judged"):
        line = sc["line"]
        paras.append(
            "合格率按单项否决指标和得分计算：站点无法访问、首页不更新、栏目不更新、互动回应差、严重错误等任一指标在监测时段内"
            f"任一天达到否决线，或得分低于{_g(line)}分（扣分大于{_g(100 - line)}分），即为不合格；"
            "得分只计巡查测得的评分项（未测项见数据说明），各网站得分见附件1（续）。"
        )
    else:
        paras.append(
            "合格率按单项否决指标计算：站点无法访问、首页不更新、栏目不更新、互动回应差、严重错误等任一指标在监测时段内"
            "任一天达到否决线即为不合格；监测数据中没有得分（xuncha_site_score），扣分项未评分，合格率为上限。"
        )
    return paras


def note_text(report: dict[str, Any]) -> str:
    p = report["period"]
    return (
        f"注：监测时段为{cn_date(date.fromisoformat(p['from']))}至{cn_date(date.fromisoformat(p['to']))}，"
        "数据来自巡查（Xuncha）代理导出至 Prometheus 的原始监测序列。"
    )


# --- the score (issue 19): 得分情况 and the 潮州 annex ---------------------------------------------------

SCORE_HEADER = ["序号", "网站名称", *ANNEX_COLUMNS, "得分情况"]
# The vetoes under each column of the 潮州 annex (2020 Q3); the score's own items say theirs (Item.annex).
_VETO_COLUMNS = {
    "homepage_age": "首页不更新",
    "stale_news_notice_columns": "栏目不更新",
    "stale_columns": "栏目不更新",
    "blank_columns": "栏目不更新",
    "interaction_age": "互动回应差",
    "serious_errors": "安全、泄密事故等严重问题",
    "privacy_leaks": "安全、泄密事故等严重问题",
    "hidden_links": "安全、泄密事故等严重问题",
}
_OTHER_VETOES = {"unreachable_ratio": "站点无法访问", "closed_but_online": "带病运行"}


def _annex_columns(s: Judged, table: Table) -> dict[str, Any]:
    """Per column of the 潮州 annex: whether the site had it (a veto or a deduction of that column,
    at the period's end or, for a site under the line, at its worst), and 其他问题's words."""
    out: dict[str, Any] = {c: False for c in ANNEX_COLUMNS}
    other: list[str] = []
    for v in s.vetoes:
        if v["measure"] in _VETO_COLUMNS:
            out[_VETO_COLUMNS[v["measure"]]] = True
        elif v["measure"] in _OTHER_VETOES:
            other.append(_OTHER_VETOES[v["measure"]])
    sc = s.score or {}
    items = dict((sc.get("end") or {}).get("items", {}))
    for key, v in (sc.get("worst_items") or {}).items():
        items[key] = max(v, items.get(key, 0.0))
    for key, points in items.items():
        item = table.item(key)
        if item is None or points <= 0:
            continue
        if item.annex == "其他问题":
            other.append(item.wording or item.name)
        else:
            out[item.annex] = True
    out["其他问题"] = list(dict.fromkeys(other))
    return out


def score_text(score: dict[str, Any] | None) -> str:
    """得分情况 as 潮州 prints it: 加分：22 扣分：13 总分：109 (at the period's end)."""
    end = (score or {}).get("end")
    if not end:
        return "—"
    return f"加分：{_g(end['bonus'])} 扣分：{_g(end['deducted'])} 总分：{_g(end['total'])}"


def score_rows(report: dict[str, Any]) -> list[list[str]]:
    """附件1（续）: every active site in the 潮州 annex's columns (是/否, 其他问题, 得分情况)."""
    rows = [SCORE_HEADER]
    for s in report["sites"]:
        a = s["annex"]
        flags = ["是" if a[c] else "否" for c in ANNEX_COLUMNS[:-1]]
        rows.append([str(len(rows)), s["name"], *flags, "，".join(a["其他问题"]) or "无", score_text(s["score"])])
    return rows


def _score_table(h: History, active: list[Judged], table: Table, t: Thresholds) -> dict[str, Any]:
    judged = h.coverage.get(M.SITE_SCORE) is not None
    return {
        "judged": judged,
        "line": t.site_score.critical,
        "warning": t.site_score.warning,
        "source": table.source,
        "not_measured": _not_measured(active, table) if judged else [i.key for i in table.items],
        "items": [
            {"key": i.key, "name": i.name, "points": i.points, "per": i.per, "cap": i.cap, "applies": list(i.applies)}
            for i in table.items
        ],
    }


def _not_measured(active: list[Judged], table: Table) -> list[str]:
    """Items no site's score carried at the period's end or worst: the agent did not measure them."""
    seen: set[str] = set()
    for s in active:
        sc = s.score or {}
        seen |= set((sc.get("end") or {}).get("items", {})) | set(sc.get("worst_items") or {})
    return [i.key for i in table.items if i.key not in seen and not i.bonus]


def _score_notes(h: History, active: list[Judged], table: Table) -> list[str]:
    if h.coverage.get(M.SITE_SCORE) is None:
        return [f"{M.SITE_SCORE} absent from the period: the score is not judged and 合格率 is an upper bound"]
    missing = _not_measured(active, table)
    if not missing:
        return []
    names = "、".join((table.item(k).name if table.item(k) else k) for k in missing)  # type: ignore[union-attr]
    return [f"未监测的评分项（不计分）：{names}"]
