"""The agent's port under the exporter-toolkit web configuration: auth, TLS, headers, lifecycle.

Real agents on 127.0.0.1:0, real aiohttp clients, trustme certificates; each refusal has a
twin in which the legitimate client still gets in.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import bcrypt
import pytest
import trustme

from agent.registry.config import ConfigError
from agent.run.runtime import Agent

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "s3cret-巡查"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()  # cost 4: fast tests


def basic(user: str, password: str) -> dict[str, str]:
    """An Authorization header, UTF-8 (aiohttp's BasicAuth is latin-1 and deprecated)."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


AUTH = basic("prometheus", PASSWORD)

Start = Callable[..., Awaitable[Agent]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    agents: list[Agent] = []

    async def start(web_yaml: str | None = None, *, web_settings: str = "", **kwargs: object) -> Agent:
        """An agent with ``web_yaml`` as its web configuration; ``web_settings`` go into xuncha.yml's web:."""
        text = f"listen: 127.0.0.1:0\nstate_dir: {tmp_path / 'state'}\n"
        if kwargs.pop("healthz_open", False):
            web_settings += ", healthz_open: true"
        if web_yaml is not None:
            (tmp_path / "web.yml").write_text(web_yaml, encoding="utf-8")
            text += "web: {config_file: web.yml" + web_settings + "}\n"
        (tmp_path / "xuncha.yml").write_text(text, encoding="utf-8")
        agent = Agent(tmp_path / "xuncha.yml", **kwargs)  # type: ignore[arg-type]
        await agent.start()
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        await agent.stop()


def users(hashed: str = HASH) -> str:
    return f"basic_auth_users:\n  prometheus: '{hashed}'\n"


async def status(url: str, *, method: str = "GET", **kwargs: object) -> int:
    async with aiohttp.ClientSession() as s, s.request(method, url, **kwargs) as r:  # type: ignore[arg-type]
        await r.read()
        return r.status


# --- basic auth --------------------------------------------------------------------------------


async def test_without_a_web_configuration_every_endpoint_is_open(start: Start) -> None:
    agent = await start()
    for path in ("/metrics", "/healthz", "/api/sites", "/"):
        assert await status(f"http://{agent.address}{path}") == 200, path


async def test_with_basic_auth_users_every_endpoint_needs_the_password(start: Start) -> None:
    agent = await start(users())
    base = f"http://{agent.address}"
    for path in ("/metrics", "/healthz", "/api/sites", "/api/findings", "/"):
        assert await status(base + path) == 401, path
        assert await status(base + path, headers=basic("prometheus", "wrong")) == 401, path
        assert await status(base + path, headers=basic("nobody", PASSWORD)) == 401, path
        assert await status(base + path, headers=AUTH) == 200, path
    garbage = {"Authorization": "Basic " + "!" * 50}
    assert await status(base + "/metrics", headers=garbage) == 401
    async with aiohttp.ClientSession() as s, s.get(base + "/metrics") as r:
        assert r.headers["WWW-Authenticate"] == 'Basic realm="xuncha"'


async def test_healthz_can_be_left_open_for_probes_while_the_rest_stays_closed(start: Start) -> None:
    agent = await start(users(), healthz_open=True)
    assert await status(f"http://{agent.address}/healthz") == 200
    assert await status(f"http://{agent.address}/metrics") == 401


async def test_the_bcrypt_check_is_cached_so_scrapes_stay_cheap(start: Start) -> None:
    slow = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(12)).decode()  # ~250 ms a check
    agent = await start(users(slow))
    url = f"http://{agent.address}/healthz"
    assert await status(url, headers=AUTH) == 200
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    async with aiohttp.ClientSession(headers=AUTH) as s:
        for _ in range(20):
            async with s.get(url) as r:
                assert r.status == 200
    assert loop.time() - t0 < 2.0, "every request paid for bcrypt again"


async def test_security_headers_are_sent_on_answers_and_refusals(start: Start) -> None:
    agent = await start(
        users() + "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
        "    X-Content-Type-Options: nosniff\n    Content-Security-Policy: \"default-src 'self'\"\n"
    )
    async with aiohttp.ClientSession() as s:
        for auth in ({}, AUTH):
            async with s.get(f"http://{agent.address}/metrics", headers=auth) as r:
                assert r.headers["X-Frame-Options"] == "deny"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                assert r.headers["Content-Security-Policy"] == "default-src 'self'"


async def test_the_toolkit_rate_limit_answers_429_beyond_the_burst(start: Start) -> None:
    agent = await start("rate_limit:\n  interval: 10s\n  burst: 3\n")
    codes = [await status(f"http://{agent.address}/healthz") for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


# --- TLS ---------------------------------------------------------------------------------------


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


def tls_files(tmp_path: Path, ca: trustme.CA) -> tuple[Path, Path, Path]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file, ca_file = tmp_path / "server.crt", tmp_path / "server.key", tmp_path / "ca.crt"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    return cert_file, key_file, ca_file


def client_ctx(ca: trustme.CA, client: trustme.CA | None = None, name: str = "prometheus") -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    if client is not None:
        client.issue_cert(name).configure_cert(ctx)
    return ctx


async def test_tls_serves_https_and_refuses_plain_http(start: Start, tmp_path: Path, ca: trustme.CA) -> None:
    cert, key, _ = tls_files(tmp_path, ca)
    agent = await start(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
    port = agent.address.rsplit(":", 1)[1]
    assert await status(f"https://127.0.0.1:{port}/metrics", ssl=client_ctx(ca)) == 200
    with pytest.raises(aiohttp.ClientError):
        await status(f"http://127.0.0.1:{port}/metrics")
    old = ssl.create_default_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(aiohttp.ClientError):  # min_version TLS12 by default, as in the toolkit
        await status(f"https://127.0.0.1:{port}/metrics", ssl=old)


async def test_client_certificates_are_required_and_checked(start: Start, tmp_path: Path, ca: trustme.CA) -> None:
    cert, key, _ = tls_files(tmp_path, ca)
    clients = trustme.CA()
    clients.cert_pem.write_to_path(str(tmp_path / "clients.crt"))
    agent = await start(
        f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n"
        f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients.crt\n"
        f"  client_allowed_sans: [prometheus]\n"
    )
    url = f"https://127.0.0.1:{agent.address.rsplit(':', 1)[1]}/metrics"
    assert await status(url, ssl=client_ctx(ca, clients)) == 200
    assert await status(url, ssl=client_ctx(ca, clients, name="grafana")) == 403  # SAN not allowed
    with pytest.raises(aiohttp.ClientError):
        await status(url, ssl=client_ctx(ca))  # no certificate
    with pytest.raises(aiohttp.ClientError):
        await status(url, ssl=client_ctx(ca, trustme.CA()))  # a certificate from another CA


async def test_tls_and_basic_auth_together(start: Start, tmp_path: Path, ca: trustme.CA) -> None:
    cert, key, _ = tls_files(tmp_path, ca)
    agent = await start(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n" + users())
    url = f"https://127.0.0.1:{agent.address.rsplit(':', 1)[1]}/api/sites"
    assert await status(url, ssl=client_ctx(ca)) == 401
    assert await status(url, ssl=client_ctx(ca), headers=AUTH) == 200


# --- lifecycle -------------------------------------------------------------------------------


async def test_reload_is_refused_unless_the_lifecycle_api_is_enabled(start: Start) -> None:
    agent = await start()
    async with aiohttp.ClientSession() as s, s.post(f"http://{agent.address}/-/reload") as r:
        assert r.status == 403
        assert "--web.enable-lifecycle" in await r.text()


async def test_reload_with_lifecycle_needs_the_password_and_is_rate_limited(start: Start) -> None:
    agent = await start(users(), enable_lifecycle=True)
    url = f"http://{agent.address}/-/reload"
    assert await status(url, method="POST") == 401
    codes = [await status(url, method="POST", headers=AUTH) for _ in range(8)]
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}
    async with aiohttp.ClientSession(headers=AUTH) as s, s.post(url) as r:
        assert r.status == 429 and int(r.headers["Retry-After"]) >= 1


# --- a bad web configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("web", "field", "words"),
    [
        ("basic_auth_users:\n  prometheus: hunter2\n", "basic_auth_users", "bcrypt hash"),
        (
            "tls_server_config:\n  cert_file: nowhere.crt\n  key_file: nowhere.key\n",
            "tls_server_config.cert_file",
            "not a readable file",
        ),
        (
            "tls_server_config:\n  client_auth_type: RequireAnyClientCert\n",
            "tls_server_config.client_auth_type",
            "never verifies",
        ),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow-all\n",
            "http_server_config.headers",
            "deny, sameorigin",
        ),
        ("basic_auth_user:\n  prometheus: x\n", "basic_auth_user", "unknown key"),
    ],
)
async def test_a_bad_web_configuration_is_refused_at_start_naming_file_and_field(
    start: Start, tmp_path: Path, web: str, field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as e:
        await start(web)
    text = str(e.value)
    assert f"{tmp_path / 'web.yml'}: {field}" in text and words in text, text


async def test_a_certificate_that_does_not_load_is_an_error_at_start(start: Start, tmp_path: Path) -> None:
    (tmp_path / "bad.crt").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="tls_server_config: cannot load"):
        await start("tls_server_config:\n  cert_file: bad.crt\n  key_file: bad.crt\n")


async def test_a_bad_web_configuration_at_reload_keeps_the_running_one(start: Start, tmp_path: Path) -> None:
    agent = await start(users())
    (tmp_path / "web.yml").write_text("basic_auth_users:\n  prometheus: plaintext\n", encoding="utf-8")
    ok, errors = await agent.reload()
    assert not ok and any("web.yml: basic_auth_users" in e for e in errors), errors
    assert agent.reload_successful is False
    assert await status(f"http://{agent.address}/metrics", headers=AUTH) == 200  # the old users still work
    assert await status(f"http://{agent.address}/metrics") == 401

    other = bcrypt.hashpw(b"new-password", bcrypt.gensalt(4)).decode()
    (tmp_path / "web.yml").write_text(users(other), encoding="utf-8")
    assert (await agent.reload())[0]
    assert await status(f"http://{agent.address}/metrics", headers=AUTH) == 401
    assert await status(f"http://{agent.address}/metrics", headers=basic("prometheus", "new-password")) == 200


def test_check_config_validates_the_web_configuration(tmp_path: Path) -> None:
    (tmp_path / "web.yml").write_text("basic_auth_users:\n  prometheus: plaintext\n", encoding="utf-8")
    (tmp_path / "xuncha.yml").write_text("web: {config_file: web.yml}\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "agent", "check-config", "-c", str(tmp_path / "xuncha.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1 and "web.yml: basic_auth_users: user 'prometheus'" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    (tmp_path / "web.yml").write_text(users(), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "agent", "check-config", "-c", str(tmp_path / "xuncha.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and "web configuration" in run.stdout, run.stderr


def test_hash_password_makes_a_hash_the_web_configuration_accepts() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "agent", "hash-password", "--cost", "4"],
        input="pa55\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    hashed = run.stdout.strip()
    assert bcrypt.checkpw(b"pa55", hashed.encode())
    from agent.http import webconfig

    assert webconfig.loads(users(hashed)).basic_auth_users == {"prometheus": hashed}


# --- the access log ------------------------------------------------------------------------------


async def test_the_access_log_says_who_reloaded_and_read_the_api(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    agent = await start(users(), enable_lifecycle=True)
    caplog.set_level(logging.INFO, logger="xuncha.access")
    base = f"http://{agent.address}"
    await status(base + "/-/reload", method="POST", headers=AUTH)
    await status(base + "/api/findings", headers=AUTH)
    await status(base + "/api/sites", headers=basic("mallory", "guess"))
    await status(base + "/metrics", headers=AUTH)  # scrapes are not audited: they would drown the log
    seen = [
        (r.method, r.path, r.status, r.user, r.remote)
        for r in caplog.records  # type: ignore[attr-defined]
        if r.name == "xuncha.access"
    ]
    assert seen == [
        ("POST", "/-/reload", 200, "prometheus", "127.0.0.1"),
        ("GET", "/api/findings", 200, "prometheus", "127.0.0.1"),
        ("GET", "/api/sites", 401, "mallory (rejected)", "127.0.0.1"),
    ]


def test_json_logs_carry_the_access_fields() -> None:
    import io

    from agent import logs

    stream = io.StringIO()
    handler = logs.setup("info", "json", stream)
    try:
        logging.getLogger("xuncha.access").info(
            "x", extra={"remote": "10.0.0.9", "user": "ops", "path": "/-/reload", "status": 200}
        )
        logging.getLogger("agent.test").error("boom %s", "x" * 100_000)
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["remote"] == "10.0.0.9" and first["user"] == "ops" and first["status"] == 200
    assert first["level"] == "info" and first["logger"] == "xuncha.access" and first["ts"].endswith("Z")
    assert len(second["msg"]) < 5000 and "more characters" in second["msg"]


def test_logfmt_is_the_default_and_quotes_what_needs_quoting() -> None:
    from agent.logs import LogfmtFormatter

    record = logging.LogRecord("xuncha.access", logging.INFO, "", 0, 'reload by "ops" ok', (), None)
    record.path = "/-/reload"
    line = LogfmtFormatter().format(record)
    assert 'level=info logger=xuncha.access msg="reload by \\"ops\\" ok" path=/-/reload' in line


def test_a_repeated_error_does_not_flood_the_log() -> None:
    import io

    from agent import logs

    clock = [0.0]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.FloodFilter(burst=10, window=10.0, clock=lambda: clock[0]))
    logger = logging.getLogger("test.flood")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for _ in range(10_000):
            logger.error("socket.accept() out of system resource: %s", "[Errno 24] Too many open files")
        logger.error("a different message")
        clock[0] = 11.0
        logger.error("socket.accept() out of system resource: %s", "[Errno 24] Too many open files")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    # 10 let through, the different message, then — when the window has ended — the count on a
    # line of its own (not appended to whatever came next), and the next one let through again.
    assert len(lines) == 13, lines[-3:]
    assert lines[-2].startswith("9990 more like this not logged (over 10s"), lines[-2]
    assert lines[-2].endswith("socket.accept() out of system resource: %s"), lines[-2]
    assert lines[-1] == "socket.accept() out of system resource: [Errno 24] Too many open files"


def _access(remote: str, status: int) -> logging.LogRecord:
    record = logging.LogRecord("xuncha.access", logging.INFO, "", 0, "%s POST /-/reload %d", (remote, status), None)
    record.__dict__.update(remote=remote, method="POST", path="/-/reload", status=status, user="")
    return record


def test_access_lines_are_throttled_per_client_and_status_and_summarised_when_the_window_ends() -> None:
    from agent import logs

    clock = [0.0]
    out: list[logging.LogRecord] = []
    flood = logs.FloodFilter(burst=10, window=10.0, clock=lambda: clock[0], emit=out.append)
    passed = [r for r in (_access("10.0.0.1", 401) for _ in range(50)) if flood.filter(r)]
    # Another client, and the same client's other status, are other keys: the flood hides neither.
    passed += [r for r in (_access("10.0.0.2", 401), _access("10.0.0.1", 403)) if flood.filter(r)]
    assert [(r.remote, r.status) for r in passed] == [("10.0.0.1", 401)] * 10 + [("10.0.0.2", 401), ("10.0.0.1", 403)]
    flood.flush()
    assert out == [], "the window has not ended"
    clock[0] = 10.5
    flood.flush()  # what the timer calls: no further request is needed for the count to appear
    (summary,) = out
    assert (summary.remote, summary.method, summary.path, summary.status, summary.suppressed) == (
        "10.0.0.1",
        "POST",
        "/-/reload",
        401,
        40,
    )
    assert summary.getMessage().startswith("40 more like this not logged (over 10s")
    flood.flush()
    assert len(out) == 1, "a burst is summarised once"


async def test_a_flood_of_refused_reloads_is_counted_in_the_access_log(start: Start) -> None:
    """Issue 20: 200 unauthenticated POST /-/reload, every one accounted for in the log itself."""
    import io

    from agent import logs

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.FloodFilter(burst=10, window=2.0, emit=handler.handle, schedule=logs.start_timer))
    access = logging.getLogger("xuncha.access")
    access.addHandler(handler)
    old_level, access.level = access.level, logging.INFO
    try:
        agent = await start(users(), enable_lifecycle=True)
        base = f"http://{agent.address}"
        async with aiohttp.ClientSession() as s:
            for i in range(200):
                async with s.post(base + "/-/reload") as r:
                    assert r.status == 401
                if i % 50 == 0:  # the operator's reads during the flood: another key, each one logged
                    async with s.get(base + "/api/sites", headers=AUTH) as r:
                        assert r.status == 200
        await asyncio.sleep(2.5)  # the burst has ended: the timer writes the count, no request needed
    finally:
        access.removeHandler(handler)
        access.level = old_level
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    refused = [x for x in lines if (x["method"], x["path"], x["status"]) == ("POST", "/-/reload", 401)]
    summaries = [x for x in refused if "suppressed" in x]
    assert summaries and all(x["remote"] == "127.0.0.1" and x["user"] == "" for x in summaries)
    assert len(refused) - len(summaries) + sum(x["suppressed"] for x in summaries) == 200
    assert len(refused) - len(summaries) <= 10 * len(summaries) + 10
    reads = [x for x in lines if x["path"] == "/api/sites"]
    assert [(x["status"], x["user"]) for x in reads] == [(200, "prometheus")] * 4


# --- the command line against a protected agent ----------------------------------------------------


async def test_report_and_healthcheck_speak_basic_auth_and_tls(start: Start, tmp_path: Path, ca: trustme.CA) -> None:
    cert, key, ca_file = tls_files(tmp_path, ca)
    agent = await start(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n" + users())
    (tmp_path / "password").write_text(PASSWORD + "\n", encoding="utf-8")
    base = f"https://127.0.0.1:{agent.address.rsplit(':', 1)[1]}"

    async def cli(*argv: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "agent", *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    auth = ("--user", "prometheus", "--password-file", str(tmp_path / "password"), "--ca-file", str(ca_file))
    assert (await cli("healthcheck", "--url", base + "/healthz", *auth))[0] == 0
    code, out = await cli("healthcheck", "--url", base + "/healthz", "--ca-file", str(ca_file))
    assert code == 1 and "401" in out
    code, out = await cli("report", "--url", base, "--format", "csv", *auth)
    assert code == 0 and "网站标识码" in out, out


def test_run_exits_1_naming_the_field_of_a_bad_web_configuration(tmp_path: Path) -> None:
    (tmp_path / "web.yml").write_text("tls_server_config:\n  cert_file: gone.crt\n  key_file: gone.key\n")
    (tmp_path / "xuncha.yml").write_text(f"listen: 127.0.0.1:0\nstate_dir: {tmp_path / 's'}\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent",
            "run",
            "-c",
            str(tmp_path / "xuncha.yml"),
            f"--web.config.file={tmp_path / 'web.yml'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert (
        f"{tmp_path / 'web.yml'}: tls_server_config.cert_file: '{tmp_path / 'gone.crt'}' is not a readable file"
        in run.stderr
    )


async def test_a_renewed_certificate_is_served_after_a_reload(start: Start, tmp_path: Path, ca: trustme.CA) -> None:
    cert, key, _ = tls_files(tmp_path, ca)
    agent = await start(f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n")
    url = f"https://127.0.0.1:{agent.address.rsplit(':', 1)[1]}/healthz"
    renewed = trustme.CA()  # e.g. the office's new CA
    assert await status(url, ssl=client_ctx(ca)) == 200
    tls_files(tmp_path, renewed)  # same paths, new certificate and key; web.yml unchanged (cert-manager)
    ok, errors = await agent.reload()
    assert ok, errors
    assert await status(url, ssl=client_ctx(renewed)) == 200
    with pytest.raises(aiohttp.ClientError):
        await status(url, ssl=client_ctx(ca))


async def test_a_connection_that_never_starts_its_tls_handshake_is_dropped(
    start: Start, tmp_path: Path, ca: trustme.CA
) -> None:
    cert, key, _ = tls_files(tmp_path, ca)
    agent = await start(
        f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n", web_settings=", header_timeout: 1s"
    )
    host, port = agent.address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))  # TCP only: no ClientHello, ever
    t0 = asyncio.get_running_loop().time()
    assert await asyncio.wait_for(reader.read(), 15) == b""
    waited = asyncio.get_running_loop().time() - t0
    writer.close()
    assert waited < 3, waited  # asyncio's default would be 60 s
    assert await status(f"https://127.0.0.1:{port}/healthz", ssl=client_ctx(ca)) == 200
