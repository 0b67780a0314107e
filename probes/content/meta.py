"""The meta tags of the national standard for government websites (政府网站发展指引, 国办发〔2017〕47号).

Every page of a government site carries ``SiteName``, ``SiteDomain`` and
``SiteIDCode`` (the 网站标识码); column pages add ``ColumnName``, ``ColumnType``
and ``ColumnDescription``; article pages ``ArticleTitle``, ``PubDate`` and
``ContentSource``.  Sites spell the names in any case (``Sitename``), so they are
matched case-insensitively and returned under the standard's spelling.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

STANDARD = (
    "SiteName",
    "SiteDomain",
    "SiteIDCode",
    "ColumnName",
    "ColumnType",
    "ColumnDescription",
    "ColumnKeywords",
    "ArticleTitle",
    "PubDate",
    "ContentSource",
)
SITE_TAGS = ("SiteName", "SiteDomain", "SiteIDCode")  # required on the homepage (check ``site_meta_tags``)
COLUMN_TAGS = ("ColumnName", "ColumnType", "ColumnDescription")  # required on column pages
ARTICLE_TAGS = ("ArticleTitle", "PubDate", "ContentSource")  # required on article pages
_BY_LOWER = {name.lower(): name for name in STANDARD}
MAX_VALUE = 300


def read(tree: LexborHTMLParser) -> dict[str, str]:
    """The standard's meta tags the page declares (first one wins), values stripped and capped."""
    out: dict[str, str] = {}
    for node in tree.css("meta[name]"):
        attrs = node.attrs
        name = _BY_LOWER.get((attrs.get("name") or "").strip().lower())
        if name is None or name in out:
            continue
        out[name] = (attrs.get("content") or "").strip()[:MAX_VALUE]
    return out


def site_problems(meta: dict[str, str], site_code: str) -> list[str]:
    """Why the homepage's site tags fail the standard ([] when they pass)."""
    problems = [f"no <meta name={name}>" for name in SITE_TAGS if not meta.get(name)]
    declared = meta.get("SiteIDCode", "")
    if declared and declared.lower() != site_code.lower():
        problems.append(f"SiteIDCode {declared} is not the registry's {site_code}")
    return problems


def missing(meta: dict[str, str], required: tuple[str, ...]) -> list[str]:
    """The tags of ``required`` a page does not declare, or declares empty (网页标签不规范)."""
    return [name for name in required if not meta.get(name)]
