"""A self-check report in the shape of the quarterly 通报 tables (pure).

The reports in the seeds list, per unqualified site, 序号, region, 网站名称,
存在的突出问题 and 网站标识码 (and for new media 单位名称, 账号类型, 账号名称,
结果).  ``xuncha report`` turns the agent's current findings (``/api/findings``)
into the same table, with the problems worded as the inspectors word them, so an
office sees its own list before the inspector publishes one.  Column counts use
the veto lines of ``domain/thresholds.py`` (≥ 5 blank, ≥ 5 stale news/notice, ≥ 10 stale).
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from agent.registry import csvsafe
from domain.registry import PLATFORM_NAMES
from domain.thresholds import THRESHOLDS, Thresholds


def site_problems(findings: Iterable[dict[str, Any]], t: Thresholds = THRESHOLDS) -> list[str]:
    """The problems of one site, worded as a 通报 words them, most serious first."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        by_kind[f["finding"]].append(f)
    out: list[str] = []
    if by_kind["closed_but_online"]:
        out.append("已关停网站仍在运行（带病运行）")
    if any(f.get("probe") == "http" for f in by_kind["probe_failed"]):
        reason = next(f["reason"] for f in by_kind["probe_failed"] if f.get("probe") == "http")
        out.append(f"首页无法访问（{reason}）")
    if by_kind["serious_error"] or by_kind["privacy_leak"]:
        words = sorted({f"“{f['wrong']}”应为“{f['right']}”" for f in by_kind["serious_error"]})
        leaks = len(by_kind["privacy_leak"])
        out.append(
            "严重错误" + (f"：{'；'.join(words)}" if words else "") + (f"；泄露身份证号{leaks}处" if leaks else "")
        )
    if by_kind["hidden_link"]:
        hosts = sorted({f["host"] for f in by_kind["hidden_link"]})
        out.append(
            f"首页存在暗链{len(by_kind['hidden_link'])}处（{'、'.join(hosts[:3])}{'等' if len(hosts) > 3 else ''}）"
        )
    if by_kind["malicious_script"]:
        hosts = sorted({f["host"] or f["kind"] for f in by_kind["malicious_script"]})
        out.append(
            f"网页被植入恶意代码（挂马、挖矿脚本）{len(by_kind['malicious_script'])}处"
            f"（{'、'.join(hosts[:3])}{'等' if len(hosts) > 3 else ''}）"
        )
    if by_kind["backdated_item"]:
        out.append(f"疑似伪造发稿日期{len(by_kind['backdated_item'])}条（待人工核实）")
    if by_kind["no_consultation_channel"]:
        out.append("无政务咨询栏目（互动回应差）")  # seed 000: "且无政务咨询、调查征集栏目"
    if by_kind["interaction_unanswered"]:
        late = by_kind["interaction_unanswered"]
        n, worst = sum(f.get("overdue", 0) for f in late), max(f["days"] for f in late)
        out.append(f"互动回应差（{n}条留言超过{t.interaction_age.critical / 86400:g}天未回复，最长{worst:g}天）")
    if by_kind["homepage_stale"]:
        out.append(f"首页长期未更新（{by_kind['homepage_stale'][0]['days']:g}天）")
    blank, blank_veto = len(by_kind["column_blank"]), t.blank_columns.critical
    if blank:
        out.append(f"空白栏目超过{blank_veto:g}个（{blank}个）" if blank >= blank_veto else f"空白栏目{blank}个")
    stale = by_kind["column_stale"]
    news_notice = sum(1 for f in stale if f.get("category") in t.stale_veto_categories)
    if news_notice >= t.stale_news_notice_columns.critical or len(stale) >= t.stale_columns.critical:
        out.append(f"多个栏目长期不更新（{len(stale)}个）")
    elif stale:
        out.append(f"栏目长期未更新{len(stale)}个：" + "、".join(f["column"] for f in stale))
    if by_kind["no_services"]:
        out.append("未提供办事服务（服务不实用）")
    incomplete = [f for f in by_kind["service_guide_incomplete"] if f.get("state") == "incomplete"]
    if by_kind["service_guide_incomplete"]:
        missing = sorted({e for f in by_kind["service_guide_incomplete"] for e in f["missing"]})
        what = f"办事指南要素缺失{len(by_kind['service_guide_incomplete'])}个（缺{'、'.join(missing)}）"
        out.append(what + ("（服务不实用）" if len(incomplete) >= t.service_guides.critical else ""))
    if by_kind["broken_link"]:
        out.append(f"链接无法打开{len(by_kind['broken_link'])}处")
    if by_kind["certificate_invalid"]:
        out.append("HTTPS证书无效")
    if by_kind["required_element_missing"]:
        out.append(
            "缺少必备要素："
            + "、".join(sorted(_ELEMENTS.get(f["check"], f["check"]) for f in by_kind["required_element_missing"]))
        )
    if by_kind["closure_notice_missing"]:
        out.append("拟关停网站未发布关停公告")
    return out


_ELEMENTS = {
    "site_code_shown": "网站标识码",
    "icp_shown": "ICP备案编号",
    "police_record_shown": "公安机关备案标识",
    "conac_mark_shown": "党政机关网站标识",
    "error_report_entry": "“我为政府网站找错”入口",
    "gov_cn_domain": "gov.cn域名",
    "site_meta_tags": "网站元数据（SiteName、SiteDomain、SiteIDCode）",
}


def account_result(findings: Iterable[dict[str, Any]]) -> str:
    kinds = {f["finding"] for f in findings}
    found = []
    if "serious_error" in kinds:
        found.append("存在严重表述错误")
    if "privacy_leak" in kinds:
        found.append("泄露公民个人信息")
    if "not_deregistered" in kinds:
        found.append("已停用未注销")
    if found:
        return "；".join(found)
    if "feed_failed" in kinds:
        return "无法获取更新情况（订阅源故障）"
    return ""


def tables(findings: list[dict[str, Any]]) -> tuple[list[list[str]], list[list[str]]]:
    """(site rows, account rows), each with its header row first."""
    sites: dict[str, list[dict[str, Any]]] = defaultdict(list)
    accounts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        (sites[f["code"]] if "code" in f else accounts[f["account"]]).append(f)
    site_rows = [["序号", "地区", "网站名称", "存在的突出问题", "网站标识码"]]
    for code, fs in sorted(sites.items(), key=lambda kv: (kv[1][0].get("region", ""), kv[0])):
        problems = site_problems(fs)
        if problems:
            site_rows.append([str(len(site_rows)), fs[0].get("region", ""), fs[0]["name"], "；".join(problems), code])
    account_rows = [["序号", "单位名称", "账号类型", "账号名称", "结果"]]
    for _, fs in sorted(accounts.items()):
        result = account_result(fs)
        if result:
            f = fs[0]
            account_rows.append(
                [str(len(account_rows)), f["unit"], PLATFORM_NAMES.get(f["platform"], f["platform"]), f["name"], result]
            )
    return site_rows, account_rows


def render(findings: list[dict[str, Any]], fmt: str = "md") -> str:
    site_rows, account_rows = tables(findings)
    if fmt == "csv":
        # Cells starting with = + - @ are neutralised: names come from registries and pages.
        buf = io.StringIO()
        csvsafe.write_rows(buf, [*site_rows, [], *account_rows])
        return buf.getvalue()
    parts = [
        f"## 网站（{len(site_rows) - 1}个存在问题）",
        _markdown(site_rows),
        f"## 政务新媒体（{len(account_rows) - 1}个存在问题）",
        _markdown(account_rows),
    ]
    return "\n\n".join(parts) + "\n"


def _markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows[1:]]
    return "\n".join(lines)
