"""The report as Markdown, CSV (the annex tables), JSON and one self-contained HTML file (pure)."""

from __future__ import annotations

import csv
import html
import io
import json
from typing import Any

from agent.quarterly import assemble as A

ANNEX_SITES = "附件1：存在突出问题的政府网站名单"
ANNEX_ACCOUNTS = "附件2：存在问题的政务新媒体名单"
ANNEX_WARNINGS = "附件3：预警名单（尚未达到单项否决线，请尽快整改）"
ANNEX_CLOSED = "附件4：已关停网站"
ANNEX_SAMPLE = "附件5：抽查名单"
ANNEX_SCORES = "附件1（续）：各网站检查情况及得分"


def title(report: dict[str, Any]) -> str:
    return f"关于{report['period']['title']}政府网站与政务新媒体检查情况的通报"


def sections(report: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    """(heading, rows with header first) of every table, in document order."""
    site_warn, account_warn = A.warning_rows(report)
    out = [
        ("各地区网站合格率", A.rate_rows(report["by_region"], A.REGION_HEADER)),
        ("各类政务新媒体合格率", A.rate_rows(report["accounts_by_platform"], A.PLATFORM_HEADER)),
        (ANNEX_SITES, A.site_rows(report)),
        *([(ANNEX_SCORES, A.score_rows(report))] if (report.get("score") or {}).get("judged") else []),
        (ANNEX_ACCOUNTS, A.account_rows(report)),
        (ANNEX_WARNINGS + "——网站", site_warn),
        (ANNEX_WARNINGS + "——政务新媒体", account_warn),
    ]
    if report["closed_sites"]:
        rows = [["序号", "地区", "网站名称", "情况", "网站标识码"]]
        for s in report["closed_sites"]:
            rows.append(
                [str(len(rows)), s["area"], s["name"], "，".join(s["problems"]) or "已关停，未发现仍在运行", s["code"]]
            )
        out.append((ANNEX_CLOSED, rows))
    if report["sample"]:
        rows = [["序号", "地区", "网站名称", "结果", "网站标识码"]]
        for s in report["sites"] + report["closed_sites"]:
            rows.append([str(len(rows)), s["area"], s["name"], "合格" if s["qualified"] else "不合格", s["code"]])
        out.append((ANNEX_SAMPLE, rows))
    return out


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=1) + "\n"


def to_csv(report: dict[str, Any]) -> str:
    """The annex tables, each after a line naming it, separated by a blank line."""
    buf = io.StringIO()
    w = csv.writer(buf)
    for i, (heading, rows) in enumerate(sections(report)[2:]):
        if i:
            w.writerow([])
        w.writerow([heading])
        w.writerows(rows)
    return buf.getvalue()


def _md_table(rows: list[list[str]]) -> str:
    def cell(x: str) -> str:
        return x.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows[1:]]
    return "\n".join(lines) if len(rows) > 1 else "无。"


def to_markdown(report: dict[str, Any]) -> str:
    parts = [f"# {title(report)}", "## 一、总体情况", *A.summary_paragraphs(report)]
    if report["notes"]:
        parts.append("数据说明：" + "；".join(report["notes"]) + "。")
    for heading, rows in sections(report):
        parts += [f"## {heading}", _md_table(rows)]
    parts.append(A.note_text(report))
    return "\n\n".join(parts) + "\n"


# --- HTML -------------------------------------------------------------------------------------------

_CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Source Han Sans SC",sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.6}
h1{text-align:center;font-size:1.6em}h2{border-bottom:2px solid #b22;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #999;padding:.3em .5em;vertical-align:top}
th{background:#f3e6e6}td.num{text-align:right}.none{color:#666}.chart{display:inline-block;margin:.4em 1em .4em 0}
.chart figcaption{font-size:.85em}.note{color:#555;font-size:.9em}
"""


def _html_table(rows: list[list[str]], table_id: str) -> str:
    if len(rows) < 2:
        return '<p class="none">无。</p>'
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _bar_chart(rows: list[dict[str, Any]]) -> str:
    """Pass rate by region, one horizontal bar each (inline SVG)."""
    rows = [r for r in rows if r["rate"] is not None][:60]
    if not rows:
        return ""
    bar_h, label_w, width = 22, 220, 700
    height = bar_h * len(rows) + 10
    parts = [
        f'<svg id="chart-regions" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'role="img" aria-label="各地区网站合格率">'
    ]
    for i, r in enumerate(rows):
        y = 5 + i * bar_h
        w = (width - label_w - 70) * r["rate"]
        color = "#2a7" if r["rate"] >= 0.9 else ("#e90" if r["rate"] >= 0.6 else "#c33")
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="13">{html.escape(r["region"])}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 6}" fill="{color}"/>'
            f'<text x="{label_w + w + 5:.1f}" y="{y + 15}" font-size="12">{A.fmt_rate(r["rate"])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _spark(code: str, chart: dict[str, Any]) -> str:
    """One failing site's worst indicator over the period, with its veto line (inline SVG)."""
    points = chart.get("points") or []
    if len(points) < 2:
        return ""
    w, h, pad = 320, 110, 6
    t0, t1 = points[0][0], points[-1][0]
    top = max(max(v for _, v in points), chart["line"] or 0) * 1.1 or 1

    def xy(t: float, v: float) -> str:
        return f"{pad + (w - 2 * pad) * (t - t0) / ((t1 - t0) or 1):.1f},{h - pad - (h - 2 * pad) * v / top:.1f}"

    path = " ".join(xy(t, v) for t, v in points)
    line_y = h - pad - (h - 2 * pad) * (chart["line"] or 0) / top
    label = {"ratio": "不可访问比例", "days": "天数", "count": "个数"}.get(chart["unit"], "")
    return (
        f'<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'data-code="{html.escape(code)}" role="img"><rect width="{w}" height="{h}" fill="#fafafa" stroke="#ccc"/>'
        f'<line x1="{pad}" x2="{w - pad}" y1="{line_y:.1f}" y2="{line_y:.1f}" stroke="#c33" stroke-dasharray="4 3"/>'
        f'<polyline fill="none" stroke="#236" stroke-width="1.6" points="{path}"/></svg>'
        f"<figcaption>{html.escape(code)} {html.escape(A.problem(chart).split('（')[0])}（{label}，"
        f"红线为否决线）</figcaption></figure>"
    )


def to_html(report: dict[str, Any], charts: dict[str, dict[str, Any]] | None = None) -> str:
    charts = charts or {}
    out = [
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title(report))}</title>'
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title(report))}</h1>",
        "<h2>一、总体情况</h2>",
    ]
    out += [f"<p>{html.escape(p)}</p>" for p in A.summary_paragraphs(report)]
    if report["notes"]:
        out.append(f'<p class="note">数据说明：{html.escape("；".join(report["notes"]))}。</p>')
    out.append(_bar_chart(report["by_region"]))
    for i, (heading, rows) in enumerate(sections(report)):
        out.append(f"<h2>{html.escape(heading)}</h2>")
        out.append(_html_table(rows, f"table-{i + 1}"))
        if heading == ANNEX_SITES and charts:
            out.append("<div>" + "".join(_spark(code, c) for code, c in sorted(charts.items())) + "</div>")
    out.append(f'<p class="note">{html.escape(A.note_text(report))}</p></body></html>')
    return "\n".join(out) + "\n"
