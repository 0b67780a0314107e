"""``scoring:`` of ``xuncha.yml``: replace or extend the scoring table (``domain.scoring``).

Provinces publish their own tables (广东 and others score differently)::

    scoring:
      replace: false              # true: only the items below (the shipped table is dropped)
      deduction_points: 100       # the deductions part is worth this
      bonus_points: 30            # the bonus at most this
      bonus_above: 80             # … counted only when the score before it is above this
      remove: [page_tags]         # shipped items to leave out
      items:
        - {key: homepage_links, points: 2, cap: 20}        # a shipped item: the fields given change
        - {key: links_any, name: 链接不可用, measure: other_links_broken, points: 0.2, per: 1}   # a new one

Every problem is an issue naming the file, the entry (``scoring.items[1] (links_any)``) and the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from domain.registry import SITE_KINDS
from domain.scoring import ANNEX_COLUMNS, DEFAULT_TABLE, MEASURES, Item, Table

_TOP = ("replace", "deduction_points", "bonus_points", "bonus_above", "remove", "items")
_NEW_REQUIRED = ("name", "measure", "points")


class Issues(Protocol):
    def add(self, entry: str, fld: str, message: str) -> None: ...


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise ValueError(f"{v!r} is not a number ≥ 0")
    return float(v)


def _positive(v: Any) -> float:
    if _number(v) <= 0:
        raise ValueError(f"{v!r} is not above 0")
    return float(v)


def _text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip() or len(v) > 256:
        raise ValueError(f"{v!r} is not a text of 1–256 characters")
    return v.strip()


def _measure(v: Any) -> str:
    if v not in MEASURES:
        raise ValueError(f"{v!r} is not a measure the agent knows (known: {', '.join(MEASURES)})")
    return str(v)


def _applies(v: Any) -> tuple[str, ...]:
    kinds = [v] if isinstance(v, str) else v
    if not isinstance(kinds, list) or not kinds or any(k not in SITE_KINDS for k in kinds):
        raise ValueError(f"{v!r}: expected a list of {', '.join(SITE_KINDS)}")
    return tuple(kinds)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"{v!r} is not true or false")
    return v


def _annex(v: Any) -> str:
    if v not in ANNEX_COLUMNS:
        raise ValueError(f"{v!r} is not a column of the annex (known: {', '.join(ANNEX_COLUMNS)})")
    return str(v)


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else parse(v)


_FIELDS: Mapping[str, Callable[[Any], Any]] = {
    "name": _text,
    "measure": _measure,
    "points": _number,
    "per": _optional(_positive),
    "below": _optional(_number),
    "at_least": _optional(_number),
    "cap": _optional(_number),
    "requires": _optional(_measure),
    "applies": _applies,
    "bonus": _bool,
    "annex": _annex,
    "wording": lambda v: "" if v is None else _text(v),
    "source": _text,
}


def parse(issues: Issues, raw: Any) -> Table:
    """The table ``raw`` (the ``scoring:`` section) makes of the shipped one; issues for every problem."""
    if raw is None:
        return DEFAULT_TABLE
    if not isinstance(raw, Mapping):
        issues.add("", "scoring", "must be a mapping")
        return DEFAULT_TABLE
    for key in raw:
        if key not in _TOP:
            issues.add("", f"scoring.{key}", f"unknown key (known: {', '.join(_TOP)})")
    parts: dict[str, float] = {}
    for key in ("deduction_points", "bonus_points", "bonus_above"):
        if key in raw:
            try:
                parts[key] = _number(raw[key])
            except ValueError as e:
                issues.add("", f"scoring.{key}", str(e))
    replace = False
    if "replace" in raw:
        try:
            replace = _bool(raw["replace"])
        except ValueError as e:
            issues.add("", "scoring.replace", str(e))
    items = {} if replace else {i.key: i for i in DEFAULT_TABLE.items}
    for key in _list(issues, raw.get("remove"), "scoring.remove"):
        if key not in items:
            issues.add("", "scoring.remove", f"{key!r} is not an item of the table (items: {', '.join(items)})")
        else:
            del items[key]
    for n, entry in enumerate(_list(issues, raw.get("items"), "scoring.items")):
        item = _item(issues, n, entry, items)
        if item is not None:
            items[item.key] = item
    return Table(tuple(items.values()), source="xuncha.yml scoring: over " + DEFAULT_TABLE.source, **parts)


def _list(issues: Issues, v: Any, where: str) -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list):
        issues.add("", where, "must be a list")
        return []
    return v


def _item(issues: Issues, n: int, raw: Any, items: Mapping[str, Item]) -> Item | None:
    key = raw.get("key") if isinstance(raw, Mapping) else None
    entry = f"scoring.items[{n}]" + (f" ({key})" if isinstance(key, str) else "")
    if not isinstance(raw, Mapping):
        issues.add(entry, "", "must be a mapping")
        return None
    if not isinstance(key, str) or not key.isidentifier():
        issues.add(entry, "key", f"{key!r}: a key of letters, digits and _ is required")
        return None
    values: dict[str, Any] = {}
    ok = True
    for fld, v in raw.items():
        if fld == "key":
            continue
        parse = _FIELDS.get(str(fld))
        if parse is None:
            issues.add(entry, str(fld), f"unknown key (known: key, {', '.join(_FIELDS)})")
            ok = False
            continue
        try:
            values[str(fld)] = parse(v)
        except ValueError as e:
            issues.add(entry, str(fld), str(e))
            ok = False
    base = items.get(key)
    if base is None:
        for fld in _NEW_REQUIRED:
            if fld not in values and fld in _FIELDS and ok:
                issues.add(entry, fld, "required for an item the table does not have")
                ok = False
    if not ok:
        return None
    item = dataclasses.replace(base, **values) if base is not None else Item(key=key, **values)
    if item.per is not None and (item.below is not None or item.at_least is not None):
        issues.add(entry, "per", "either per (points per unit) or below/at_least (points once), not both")
        return None
    if base is None and "source" not in values:
        item = dataclasses.replace(item, source="xuncha.yml")
    return item
