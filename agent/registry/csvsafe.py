"""CSV that spreadsheets open safely, and CSV read whatever the office saved it as.

Writing: a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
a formula to Excel and WPS (CSV injection, OWASP): a site named ``=cmd|' /C calc'!A0``
must reach the 通报 table as text.  Such cells get a leading apostrophe, which the
spreadsheet hides and which keeps the value readable.

Reading: exports of the national reporting system are UTF-8 (often with a BOM),
GB18030/GBK (sometimes with GB18030's own BOM, 84 31 95 33) or, from Excel's
"Unicode text", UTF-16 with a BOM.  The BOM never stays glued to the first header.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> str:
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_rows(buf: io.StringIO | Any, rows: Iterable[Iterable[Any]]) -> None:
    """``csv.writer(buf).writerows(rows)`` with every cell neutralised."""
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow([neutralise(c) for c in row])


def decode(data: bytes) -> str | None:
    """The text of a CSV file, BOM removed; ``None`` if no supported encoding fits."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    return None
