"""互动回应差 on real pages: message lists saved from a government site, labelled by reading them.

``tests/fixtures/real/messages/labels.json`` says, for each saved page, every message row a reader
finds (title, 留言时间, the state and reply date as printed: none here) and where it is in the
markup; ``PROVENANCE.md`` says where each page comes from.  The expected values are the labels,
never the parser's output.  The pages are read directly and served from a loopback site through
the interaction probe.

The only real message list found in public repositories is 国家金融监督管理总局's 政务咨询 panel,
saved twice (2025) with the pages around it: rows rendered by Angular, one ``tbody`` per message,
the title in a ``<span title=…>`` and no link, the question date labelled 留言时间, no state.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from agent.run.state import StateStore
from probes import interaction, messages
from probes.content import dates
from probes.context import ProbeContext
from probes.net import Network
from probes.results import InteractionResult

HERE = Path(__file__).parent / "fixtures" / "real" / "messages"
LABELS: list[dict[str, Any]] = json.loads((HERE / "labels.json").read_text(encoding="utf-8"))
HOST = "www.nfra.gov.cn"
LIST_PATH = "/cn/view/pages/ItemList.html"  # the column the panel links (itemId=947, 我要咨询)


def ts(y: int, m: int, d: int, h: int = 0) -> float:
    t = dates.to_timestamp(y, m, d, h)
    assert t is not None
    return t


# The day the pages were saved (the repository's commit, 2025-06-18 08:59 +08:00).
SAVED = ts(2025, 6, 18, 9)


def raw(label: dict[str, Any]) -> bytes:
    return (HERE / label["file"]).read_bytes()


def day(t: float | None) -> str | None:
    return None if t is None else dates.today(t).isoformat()


def as_labelled(rows: list[messages.Message]) -> list[dict[str, Any]]:
    """The parser's messages in the labels' terms: state as printed (None: not shown)."""
    return [
        {"title": m.title, "asked": day(m.asked), "state": m.state_text or None, "replied": day(m.replied)}
        for m in rows
    ]


def test_the_labels_name_the_bytes_that_were_copied() -> None:
    import hashlib

    assert LABELS and all(label["kind"] == "list" for label in LABELS)
    for label in LABELS:
        data = raw(label)
        assert len(data) == label["bytes"], label["file"]
        assert hashlib.sha256(data).hexdigest()[:16] == label["sha256_16"], label["file"]


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_every_labelled_row_is_read_with_its_question_date_and_no_invented_state(label: dict[str, Any]) -> None:
    html = raw(label).decode("utf-8")
    got = messages.parse_list(html, f"https://{HOST}/cn/view/pages/ItemDetail.html", SAVED)
    assert as_labelled(got) == label["rows"]
    # no link in the rows: no detail page to open, and none made up
    assert all(m.url == "" for m in got) and not label["links"]


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_without_the_label_the_same_rows_are_not_messages(label: dict[str, Any]) -> None:
    # The twin: a titled span is a message only because its row labels the date (留言时间).  The
    # same page with that label written as a bare 时间 has no link and no labelled question in
    # those rows, so nothing is read from them.
    html = raw(label).decode("utf-8").replace("<span>留言时间：</span>", "<span>时间：</span>")
    assert messages.parse_list(html, f"https://{HOST}/", SAVED) == []


# --- through the interaction probe, served from a loopback site ---------------------------------


class Pages:
    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.hits: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        body = self.pages.get(request.path)
        if body is None:
            return web.Response(status=404)
        return web.Response(body=body, content_type="text/html", charset="utf-8")


@pytest.fixture
async def probe_at(site_factory: Any, config_factory: Any) -> AsyncIterator[tuple[Pages, Callable[..., Any], str]]:
    pages = Pages()
    base = await site_factory(pages.handle, name=HOST)
    nets: list[Network] = []

    async def run(columns: list[dict[str, Any]]) -> InteractionResult:
        cfg = config_factory(
            sites=[{"code": "bm39000001", "name": "国家金融监督管理总局", "url": base, "columns": columns}]
        )
        net = Network(cfg.dns, cfg.tls, cfg.http)
        nets.append(net)
        ctx = ProbeContext(config=cfg, net=net, state=StateStore(None), clock=lambda: SAVED)
        return await interaction.probe(cfg.sites[0], ctx)

    yield pages, run, base
    for net in nets:
        await net.close()


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
async def test_the_probe_reads_the_real_panel_and_falls_back_to_its_newest_item(
    probe_at: tuple[Pages, Callable[..., Any], str], label: dict[str, Any]
) -> None:
    pages, run, base = probe_at
    pages.pages[LIST_PATH] = raw(label)
    r = await run([{"name": "政务咨询", "url": base + LIST_PATH.lstrip("/"), "category": "interaction"}])
    assert r.success and r.channels == 1
    c = r.columns[0]
    rows = label["rows"]
    newest = max(row["asked"] for row in rows)
    assert c.success and c.messages == len(rows)
    assert c.by_state == {"answered": 0, "unanswered": 0, "unknown": len(rows)}
    # the rows print no state: the column is judged by its newest question, and says so
    assert not c.state_shown and "show no state" in c.note
    assert day(c.newest) == newest and c.oldest_unanswered is None and c.overdue == 0
    # nothing to open: the rows have no link, so no detail page was fetched
    assert c.detail_pages == 0 and pages.hits == [LIST_PATH]
    shown = r.details["messages"]["政务咨询"]
    assert [(m["title"], day(m["asked"]), m["url"]) for m in shown] == [
        (row["title"], row["asked"], "") for row in rows
    ]
