"""The HTTP surface: ``/metrics``, ``/healthz``, ``/-/reload`` and the JSON ``/api/``.

What a metric cannot show — which links are broken, which words matched, the
candidate columns — is served here as JSON, never as label values.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from agent.findings.findings import account_findings, site_findings
from agent.quarterly import web as quarterly_web
from agent.registry.config import Config, Site, report_settings, thresholds_of
from agent.run import scores
from agent.run.results import target_key
from domain.scoring import score
from probes.results import Result

if TYPE_CHECKING:  # pragma: no cover
    from agent.run.runtime import Agent

AGENT: web.AppKey[Agent] = web.AppKey("agent")

# The classic text format: what TargetExposition writes, and what every Prometheus since
# 2.0 reads (client_python's CONTENT_TYPE_LATEST now names 1.0.0, for UTF-8 metric names).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_INDEX = """<!doctype html><meta charset="utf-8"><title>Xuncha 巡查</title>
<h1>Xuncha 巡查</h1><p>Monitoring agent for government websites and new-media accounts.</p>
<ul><li><a href="metrics">/metrics</a></li><li><a href="healthz">/healthz</a></li>
<li><a href="api/sites">/api/sites</a></li><li><a href="api/accounts">/api/accounts</a></li>
<li><a href="api/findings">/api/findings</a></li><li><a href="report">/report</a> (quarterly report,
when report.prometheus is set)</li><li>POST /-/reload (with --web.enable-lifecycle)</li></ul>"""


def _json(data: Any, status: int = 200) -> web.Response:
    text = json.dumps(data, ensure_ascii=False, indent=1, default=_default)
    return web.Response(text=text, status=status, content_type="application/json")


def _default(o: Any) -> Any:
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    return str(o)


def build_app(agent: Agent, middlewares: list[Any] | None = None) -> web.Application:
    """The endpoints; ``middlewares`` (agent.http.web.WebGuard) add auth, TLS checks, limits, access log."""
    app = web.Application(middlewares=middlewares or [], client_max_size=64 * 1024)
    app[AGENT] = agent
    app.router.add_get("/", index)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/-/reload", reload)
    api = agent.api_handlers()  # with worker processes: answered by the workers (agent.workers.supervisor)
    app.router.add_get("/api/sites", api.get("sites", sites))
    app.router.add_get("/api/sites/{code}", api.get("site", site))
    app.router.add_get("/api/accounts", api.get("accounts", accounts))
    app.router.add_get("/api/accounts/{id}", api.get("account", account))
    app.router.add_get("/api/findings", api.get("findings", findings))
    quarterly_web.install(app, lambda: report_settings(app[AGENT].config))  # /report (report.prometheus)
    return app


async def index(request: web.Request) -> web.Response:
    return web.Response(text=_INDEX, content_type="text/html")


async def metrics(request: web.Request) -> web.Response:
    agent = request.app[AGENT]
    headers = {"Content-Type": CONTENT_TYPE}
    compress = "gzip" in request.headers.get("Accept-Encoding", "")
    if compress:
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=await agent.render_metrics(gzip=compress), headers=headers)


async def healthz(request: web.Request) -> web.Response:
    agent = request.app[AGENT]
    if not agent.healthy():
        return web.Response(text="scheduler not running\n", status=503)
    return web.Response(text="ok\n")


async def reload(request: web.Request) -> web.Response:
    ok, errors = await request.app[AGENT].reload()
    return _json({"reloaded": ok, "errors": errors}, status=200 if ok else 400)


async def sites(request: web.Request) -> web.Response:
    agent = request.app[AGENT]
    out = []
    for s in agent.config.sites:
        latest = agent.results.latest(target_key(s))
        out.append(
            {
                "code": s.code,
                "name": s.name,
                "url": s.url,
                "region": s.region.name,
                "kind": s.kind,
                "status": s.status,
                "probes": {
                    k: {"success": r.success, "reason": r.reason, "started": r.started} for k, r in latest.items()
                },
            }
        )
    return _json(out)


def _not_found(what: str) -> web.Response:
    return _json({"error": f"no {what} in this agent's registry (or its shard)"}, status=404)


async def site(request: web.Request) -> web.Response:
    agent = request.app[AGENT]
    code = request.match_info["code"]
    found = next((s for s in agent.config.sites if s.code == code), None)
    if found is None:
        return _not_found(f"site with code {code}")
    key = target_key(found)
    counters = agent.results.http_counters(key)
    latest = agent.results.latest(key)
    return _json(
        {
            "site": found,
            "http_counters": counters and {"checks": counters.checks, "failures": counters.failures},
            "results": latest,
            "score": _score(agent.config, found, latest, agent.results.visits_week(key, time.time())),
        }
    )


def _score(cfg: Config, found: Site, latest: dict[str, Result], week: tuple[int, int] | None) -> dict[str, Any]:
    """The score as the collector exports it, with what each item measured and why an item is missing."""
    lines = thresholds_of(cfg)
    measured = scores.measures(found, latest, week, lines)
    result = score(cfg.scoring, found.kind, measured)
    table = {i.key: i for i in cfg.scoring.items}
    return {
        **result.as_dict(),
        "line": {"warning": lines.site_score.warning, "critical": lines.site_score.critical},
        "week": week and {"visits": week[0], "failed": week[1]},
        "measures": measured,
        "deductions": [
            {
                "item": k,
                "name": table[k].name,
                "points": v,
                "measure": table[k].measure,
                "value": measured.get(table[k].measure),
            }
            for k, v in result.items.items()
            if v
        ],
        "table": cfg.scoring.source,
    }


async def accounts(request: web.Request) -> web.Response:
    agent = request.app[AGENT]
    out = []
    for a in agent.config.accounts:
        r = agent.results.latest(target_key(a)).get("feed")
        out.append({"account": a, "feed": r and {"success": r.success, "reason": r.reason, "started": r.started}})
    return _json(out)


async def account(request: web.Request) -> web.Response:
    agent = request.app[AGENT]
    ident = request.match_info["id"]
    found = next((a for a in agent.config.accounts if a.id == ident), None)
    if found is None:
        return _not_found(f"account {ident}")
    return _json({"account": found, "results": agent.results.latest(target_key(found))})


async def findings(request: web.Request) -> web.Response:
    """Every current finding of every site and account (agent.findings.findings), one list."""
    agent = request.app[AGENT]
    now = time.time()
    out: list[dict[str, Any]] = []
    for s in agent.config.sites:
        out += site_findings(s, agent.results.latest(target_key(s)), agent.config.content, now)
    for a in agent.config.accounts:
        out += account_findings(a, agent.results.latest(target_key(a)).get("feed"))
    return _json(out)
