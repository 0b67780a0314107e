"""The report as a Word file (python-docx): title, the summary, tables with header rows, page numbers."""

from __future__ import annotations

import io
from copy import deepcopy
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from agent.quarterly import assemble as A
from agent.quarterly.render import sections, title

FONT = "仿宋"  # the usual body face of 公文; Word substitutes when it is missing


def to_docx(report: dict[str, Any]) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    heading = doc.add_heading(title(report), level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_heading("一、总体情况", level=1)
    for text in A.summary_paragraphs(report):
        doc.add_paragraph(text).paragraph_format.first_line_indent = Pt(24)
    if report["notes"]:
        doc.add_paragraph("数据说明：" + "；".join(report["notes"]) + "。")
    for heading_text, rows in sections(report):
        doc.add_heading(heading_text, level=1)
        if len(rows) < 2:
            doc.add_paragraph("无。")
            continue
        table = doc.add_table(rows=2, cols=len(rows[0]))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, rows[0], strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.bold = True
        _repeat_header(table.rows[0])
        _body_rows(table, rows[1:])
    doc.add_paragraph(A.note_text(report))
    _page_numbers(doc)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _body_rows(table: Any, rows: list[list[str]]) -> None:
    """The table's body: a row made once by python-docx (a run in each cell), copied for each row.

    Copying the XML of a row is about ten times faster than python-docx's cells, which matters
    for an annex of thousands of accounts."""
    template = table.rows[1]
    for cell in template.cells:
        cell.text = "-"
    tr = template._tr
    tbl = tr.getparent()
    tbl.remove(tr)
    for row in rows:
        copy = deepcopy(tr)
        for t, text in zip(copy.iter(qn("w:t")), row, strict=True):
            t.text = text
            t.set(qn("xml:space"), "preserve")
        tbl.append(copy)


def _repeat_header(row: Any) -> None:
    """The header row repeats on every page the table spans."""
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _page_numbers(doc: Any) -> None:
    """A centred ``- PAGE -`` field in every section's footer."""
    for section in doc.sections:
        p = section.footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.add_run("- ")
        run = p.add_run()
        for tag, attr in (
            ("w:fldChar", "begin"),
            ("w:instrText", None),
            ("w:fldChar", "separate"),
            ("w:t", None),
            ("w:fldChar", "end"),
        ):
            el = OxmlElement(tag)
            if tag == "w:fldChar":
                el.set(qn("w:fldCharType"), attr or "")
            elif tag == "w:instrText":
                el.set(qn("xml:space"), "preserve")
                el.text = "PAGE"
            else:
                el.text = "1"
            run._r.append(el)
        p.add_run(" -")
