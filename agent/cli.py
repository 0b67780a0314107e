"""``xuncha`` / ``python -m agent``: run, check-config, probe, demo."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from agent import __version__, quarterly
from agent.kinds import KINDS, SITE_KINDS
from agent.registry import config as config_mod
from agent.registry.config import Account, Config, ConfigError, Site
from agent.workers import shard

DEFAULT_CONFIG = os.environ.get("XUNCHA_CONFIG", "xuncha.yml")

log = logging.getLogger(__name__)


def parse_shard(text: str) -> tuple[int, int]:
    """``--shard``: ``i/n``, or ``auto/n`` with i from the host name (see agent.workers.shard)."""
    host = os.environ.get("HOSTNAME", "") or os.uname().nodename
    try:
        return shard.parse_shard(text, host)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xuncha", description="巡查 Xuncha: watch government sites and accounts.")
    p.add_argument("--version", action="version", version=f"xuncha {__version__}")
    p.add_argument(
        "--log-level",
        "--log.level",
        dest="log_level",
        default=os.environ.get("XUNCHA_LOG_LEVEL", "info"),
        choices=["debug", "info", "warning", "error"],
    )
    p.add_argument(
        "--log.format",
        dest="log_format",
        default=os.environ.get("XUNCHA_LOG_FORMAT", "logfmt"),
        choices=["logfmt", "json"],
        help="log line format, as Prometheus' --log.format",
    )
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="probe forever and serve /metrics")
    run.add_argument("-c", "--config", default=DEFAULT_CONFIG)
    run.add_argument("--listen", help="host:port, overrides the configuration's listen")
    run.add_argument("--shard", type=parse_shard, default=(0, 1), help="i/n or auto/n (default 0/1)")
    run.add_argument("--state-dir", help="overrides the configuration's state_dir")
    run.add_argument(
        "--workers",
        type=_workers_flag,
        default=argparse.SUPPRESS,
        help="worker processes: auto (one per core) or a number; overrides the configuration's workers",
    )
    _web_flags(run)

    report = sub.add_parser(
        "report",
        help="the quarterly report from Prometheus (--prometheus), "
        "or the agent's current findings as a 通报-style table",
    )
    report.add_argument("--url", default="http://127.0.0.1:9725", help="the agent's address (without --prometheus)")
    report.add_argument(
        "--format",
        choices=["md", "csv", "html", "docx", "json"],
        default="md",
        help="html, docx and json need --prometheus",
    )
    report.add_argument(
        "--timeout", type=float, default=None, help="seconds per request (default 30; per Prometheus query 120)"
    )
    _client_flags(report)
    quarterly.add_arguments(report)

    health = sub.add_parser("healthcheck", help="exit 0 if the agent at --url answers /healthz (container HEALTHCHECK)")
    health.add_argument("--url", default="http://127.0.0.1:9725/healthz")
    health.add_argument("--timeout", type=float, default=4.0)
    _client_flags(health)

    check = sub.add_parser("check-config", help="validate the configuration and exit")
    check.add_argument("-c", "--config", default=DEFAULT_CONFIG)
    check.add_argument("--web.config.file", dest="web_config_file", help="also validate this web configuration file")

    hashpw = sub.add_parser("hash-password", help="bcrypt hash for basic_auth_users of the web configuration")
    hashpw.add_argument("--cost", type=int, default=10, help="bcrypt cost (default 10, as htpasswd -B)")

    init_web = sub.add_parser("init-web-config", help="write a web configuration and a random password, once")
    init_web.add_argument("--out", required=True, help="directory for web-config.yml and xuncha-password")
    init_web.add_argument("--user", default="prometheus")

    rules = sub.add_parser("rules", help="write the Prometheus rules with this configuration's lines")
    rules.add_argument("-c", "--config", help="take http.timeout and content's stale days from this configuration")
    rules.add_argument("--out", type=Path, default=Path("."), help="directory for xuncha-rules.yml, xuncha-alerts.yml")

    probe = sub.add_parser("probe", help="probe one URL now and print the full result")
    probe.add_argument("url")
    probe.add_argument(
        "--kind",
        action="append",
        choices=[*KINDS, "all"],
        help="probe kind (repeatable; default http, dns and tls; feed reads URL as a feed)",
    )
    probe.add_argument("-c", "--config", help="take dns/tls/http settings from this configuration")
    probe.add_argument("--json", action="store_true", help="print JSON instead of text")

    demo = sub.add_parser("demo", help="run the agent on a simulated fleet on loopback")
    demo.add_argument("--listen", default="127.0.0.1:9725")
    demo.add_argument("--state-dir", default=None, help="default: a temporary directory")
    demo.add_argument("--fast", action="store_true", help="short intervals (seconds, not minutes)")
    demo.add_argument("--print-config", action="store_true", help="print the demo configuration and exit")
    _web_flags(demo)
    return p


def _client_flags(p: argparse.ArgumentParser) -> None:
    """For talking to an agent that has a web configuration (basic auth, TLS)."""
    p.add_argument("--user", default=os.environ.get("XUNCHA_USER"), help="basic auth user (XUNCHA_USER)")
    p.add_argument(
        "--password-file",
        default=os.environ.get("XUNCHA_PASSWORD_FILE"),
        help="file holding the basic auth password (XUNCHA_PASSWORD_FILE)",
    )
    p.add_argument("--ca-file", help="CA bundle that signed the agent's certificate (https:// URLs)")


def _open(url: str, args: argparse.Namespace) -> Any:
    """``urllib.request.urlopen`` with the basic auth and CA of ``_client_flags``."""
    import base64
    import ssl
    import urllib.request

    request = urllib.request.Request(url)
    if args.user:
        password = Path(args.password_file).read_text(encoding="utf-8").strip() if args.password_file else ""
        token = base64.b64encode(f"{args.user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=args.ca_file) if args.ca_file else None
    timeout = args.timeout if args.timeout is not None else 30.0
    return urllib.request.urlopen(request, timeout=timeout, context=context)  # noqa: S310 — the agent's URL


def _web_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--web.config.file",
        dest="web_config_file",
        default=None,
        help="exporter-toolkit web configuration (TLS, basic auth, headers); overrides web.config_file",
    )
    p.add_argument(
        "--web.enable-lifecycle",
        dest="enable_lifecycle",
        action="store_true",
        help="allow POST /-/reload (off by default, as in Prometheus)",
    )


def main(argv: list[str] | None = None) -> int:
    from agent import logs

    args = _parser().parse_args(argv)
    logs.setup(args.log_level, args.log_format)
    try:
        return int(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        return 130


def cmd_check_config(args: argparse.Namespace) -> int:
    from agent.http import webconfig

    try:
        cfg = config_mod.load(args.config)
        web_file = args.web_config_file or cfg.web.config_file
        if web_file:
            webconfig.load(web_file)
    except ConfigError as e:
        for issue in e.issues:
            print(issue, file=sys.stderr)
        print(f"{len(e.issues)} error(s) in {args.config}", file=sys.stderr)
        return 1
    except Exception as e:  # a bug must be one line naming the file, not a traceback
        print(f"{args.config}: cannot be checked: {type(e).__name__}: {str(e)[:500]}", file=sys.stderr)
        return 1
    print(
        f"{args.config}: OK — {len(cfg.sites)} sites, {len(cfg.accounts)} accounts"
        + (f"; web configuration {web_file} OK" if web_file else "")
    )
    return 0


def cmd_init_web_config(args: argparse.Namespace) -> int:
    from agent.http.webconfig import init_files

    web, password, created = init_files(args.out, args.user)
    print(f"{'wrote' if created else 'kept'} {web} and {password}")
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    """Like ``htpasswd -nBC 10 "" | tr -d ':\\n'``: the password from a prompt or stdin."""
    import getpass

    import bcrypt

    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("xuncha hash-password: empty password", file=sys.stderr)
        return 1
    print(bcrypt.hashpw(password.encode(), bcrypt.gensalt(args.cost)).decode())
    return 0


def _workers_flag(v: str) -> int | None:
    if v == "auto":
        return None
    if not v.isdigit() or int(v) < 1:
        raise argparse.ArgumentTypeError(f"{v!r} is not auto or a positive integer")
    return int(v)


def cmd_run(args: argparse.Namespace) -> int:
    from agent.http.web import raise_nofile_limit
    from agent.run.runtime import Agent
    from agent.workers.supervisor import Supervisor, WorkerFailed, load_split

    raise_nofile_limit()
    try:
        # Read once, in a short-lived process: the agent starts on it.  With worker processes it
        # is split there too, and the supervisor keeps only each worker's part, packed.
        flag = "workers" in args
        t0 = time.perf_counter()
        loaded = load_split(args.config, args.workers if flag else None, shard=args.shard, state_dir=args.state_dir)
        cfg, packed = loaded if isinstance(loaded, tuple) else (loaded, None)
        targets = (
            (len(packed.sites), len(packed.accounts)) if packed is not None else (len(cfg.sites), len(cfg.accounts))
        )
        log.info(
            "configuration read%s in %.1f s: %d sites, %d accounts",
            f" and split for {len(packed.parts)} workers" if packed is not None else "",
            time.perf_counter() - t0,
            *targets,
        )
        options: dict[str, Any] = dict(
            config=cfg,
            shard=args.shard,
            listen=args.listen,
            state_dir=args.state_dir,
            web_config_file=args.web_config_file,
            enable_lifecycle=args.enable_lifecycle,
        )
        if packed is not None:
            log_args = ("--log.level", args.log_level, "--log.format", args.log_format)
            agent: Agent = Supervisor(args.config, packed=packed, workers_flag=flag, log_args=log_args, **options)
        else:
            agent = Agent(args.config, **options)
        asyncio.run(agent.serve_forever())
    except ConfigError as e:
        for issue in e.issues:
            print(issue, file=sys.stderr)
        return 1
    except WorkerFailed as e:
        print(f"xuncha run: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from dashboards import rules

    try:
        cfg = config_mod.load(args.config) if args.config else Config()
    except ConfigError as e:
        for issue in e.issues:
            print(issue, file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in rules.render(rules.Options(thresholds=config_mod.thresholds_of(cfg))).items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


def cmd_healthcheck(args: argparse.Namespace) -> int:
    import urllib.error

    try:
        with _open(args.url, args) as resp:
            return 0 if resp.status == 200 else 1
    except (urllib.error.URLError, OSError) as e:
        print(f"unhealthy: {args.url}: {e}", file=sys.stderr)
        return 1


def cmd_report(args: argparse.Namespace) -> int:
    if args.prometheus:
        try:
            settings = _report_settings(args)
        except config_mod.ConfigError as e:
            print("xuncha report: " + "\n".join(str(i) for i in e.issues), file=sys.stderr)
            return 2
        except OSError as e:
            print(f"xuncha report: {e}", file=sys.stderr)
            return 2
        return quarterly.main(args, settings)
    if args.format not in ("md", "csv"):
        print(
            "xuncha report: --format html, docx and json need --prometheus URL (the quarterly report)", file=sys.stderr
        )
        return 2
    import urllib.error

    from agent.findings.table import render

    url = args.url.rstrip("/") + "/api/findings"
    try:
        with _open(url, args) as resp:
            findings = json.load(resp)
    except (urllib.error.URLError, OSError, ValueError) as e:
        print(f"xuncha report: cannot read {url}: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(render(findings, args.format))
    return 0


def _report_settings(args: argparse.Namespace) -> quarterly.Settings:
    """``--prometheus`` with the credential flags, judged by ``-c``'s lines (the shipped ones without)."""
    base = config_mod.report_settings(config_mod.load(args.config)) if args.config else quarterly.Settings()
    password = Path(args.password_file).read_text(encoding="utf-8").strip() if args.password_file else ""
    return dataclasses.replace(
        base,
        prometheus=args.prometheus,
        timeout=args.timeout or 120.0,
        username=args.user or None,
        password=password if args.user else "",
        ca_file=args.ca_file,
    )


def cmd_probe(args: argparse.Namespace) -> int:
    cfg = config_mod.load(args.config) if args.config else Config()
    kinds = args.kind or ["http", "dns", "tls"]
    if "all" in kinds:
        kinds = list(SITE_KINDS)
    site = _adhoc_site(args.url, cfg)
    target: Site | Account = site
    if kinds == ["feed"]:
        target = next((a for a in cfg.accounts if a.feed == args.url), None) or Account(
            id="probe", unit="", platform="", name=args.url, feed=site.url
        )
    results = asyncio.run(_probe_once(target, kinds, cfg))
    ok = True
    for kind, result in results:
        ok &= result.success
        if args.json:
            print(json.dumps(dataclasses.asdict(result), ensure_ascii=False, indent=1, default=str))
        else:
            print(format_result(kind, result))
    return 0 if ok else 2


def _adhoc_site(url: str, cfg: Config) -> Site:
    configured = next((s for s in cfg.sites if s.url == url), None)
    if configured is not None:
        return configured
    try:
        url = config_mod._url(url)
    except ValueError as e:
        raise SystemExit(f"xuncha probe: {e}") from None
    return Site(code="0000000000", name=url, url=url, columns=())


async def _probe_once(target: Site | Account, kinds: list[str], cfg: Config) -> list[tuple[str, Any]]:
    from agent.kinds import KINDS
    from agent.run.state import StateStore
    from probes.addresses import policy_of
    from probes.context import ProbeContext
    from probes.net import Network

    net = Network(cfg.dns, cfg.tls, cfg.http, policy=policy_of(cfg.links.allow_networks, cfg.listen))
    ctx = ProbeContext(config=cfg, net=net, state=StateStore(None))
    out = []
    try:
        for name in kinds:
            kind = KINDS[name]
            if isinstance(target, kind.target) and kind.applies(target):
                out.append((name, await kind.probe()(target, ctx)))
    finally:
        await net.close()
    return out


def format_result(kind: str, result: Any) -> str:
    """A result for a human, one field a line (blackbox_exporter's debug output)."""
    verdict = "SUCCESS" if result.success else "FAILURE"
    lines = [f"=== {kind}: {verdict}" + (f" — {result.reason}" if result.reason else "")]
    for f in dataclasses.fields(result):
        if f.name in ("kind", "success", "reason"):
            continue
        value = getattr(result, f.name)
        if value in ("", (), {}, None):
            continue
        lines.extend(_format_field(f.name, value))
    return "\n".join(lines)


def _format_field(name: str, value: Any) -> list[str]:
    if isinstance(value, float) and name in ("started", "not_before", "not_after") or name.endswith("last_update"):
        from datetime import datetime

        if isinstance(value, float):
            stamp = datetime.fromtimestamp(value, UTC).astimezone().isoformat(timespec="seconds")
            return [f"  {name}: {stamp}"]
    if isinstance(value, dict) and value:
        rows = [f"  {name}:"]
        for k, v in value.items():
            text = json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v
            rows.append(f"    {k}: {text[:300]}")
        return rows
    if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        return [f"  {name}:"] + [f"    - {json.dumps(dataclasses.asdict(v), ensure_ascii=False)}" for v in value]
    if isinstance(value, float):
        return [f"  {name}: {value:.6g}"]
    return [f"  {name}: {value}"]


def cmd_demo(args: argparse.Namespace) -> int:
    return asyncio.run(_demo(args))


async def _demo(args: argparse.Namespace) -> int:
    from agent.demo.fleet import Fleet
    from agent.run.runtime import Agent

    state_dir = args.state_dir or tempfile.mkdtemp(prefix="xuncha-demo-")
    async with Fleet.start(state_dir=state_dir, fast=args.fast, listen=args.listen) as fleet:
        path = Path(state_dir) / "xuncha.yml"
        path.write_text(fleet.config_yaml(), encoding="utf-8")
        if args.print_config:
            print(path.read_text(encoding="utf-8"))
            return 0
        from agent.http.web import raise_nofile_limit

        raise_nofile_limit()
        agent = Agent(path, web_config_file=args.web_config_file, enable_lifecycle=args.enable_lifecycle)
        scheme = "http(s)" if args.web_config_file else "http"
        if args.web_config_file:
            access = f"as the web configuration {args.web_config_file} says (TLS, basic auth)"
        else:
            access = "no authentication: the demo listens on loopback only (use --web.config.file for TLS and auth)"
        print(f"Xuncha demo: {len(fleet.sites)} simulated sites on loopback; configuration {path}", file=sys.stderr)
        print(
            f"metrics: {scheme}://{args.listen}/metrics   findings: {scheme}://{args.listen}/api/findings",
            file=sys.stderr,
        )
        print(f"access: {access}", file=sys.stderr)
        await agent.serve_forever()
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "check-config": cmd_check_config,
    "probe": cmd_probe,
    "demo": cmd_demo,
    "report": cmd_report,
    "healthcheck": cmd_healthcheck,
    "rules": cmd_rules,
    "hash-password": cmd_hash_password,
    "init-web-config": cmd_init_web_config,
}

__all__ = ["main", "parse_shard", "format_result"]
