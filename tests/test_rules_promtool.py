"""``promtool test rules`` on the shipped rules: every alert fires when provoked and stays silent
for a healthy site, at the boundaries (4.9 % vs 5 %, 13 vs 14 days) and after its ``for:``.

Each promtool test group below is a little fleet on its own clock: broken sites next to healthy
ones.  promtool compares the *whole* list of firing alerts of a name at an eval time, so every
expectation also says that no other site fires.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from promtool.harness import (  # noqa: E402
    STEP,
    Group,
    account_labels,
    const,
    promtool_file,
    site_labels,
    start_promtool,
    switch,
)

from domain import metric_names as M  # noqa: E402
from domain.thresholds import DAY, THRESHOLDS  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")

T = THRESHOLDS
HOUR = 3600.0
MIN = 60.0
A, B, C, D, E, F, G, H = (
    "4405070010",
    "4405070020",
    "4451000001",
    "4301000001",
    "4301000002",
    "4301000003",
    "4301000004",
    "4301000005",
)
BM, CLOSED = "bm55000001", "4301000099"
ALL_ACTIVE = (A, B, C, D, E, F, G, H, BM)


def fleet(name: str, until: float, closed: bool = True, step: float = STEP) -> Group:
    g = Group(name, until, step=step)
    for code in ALL_ACTIVE:
        g.site(code)
    if closed:
        g.site(CLOSED, status="closed")
    return g


def for_(alert: str) -> float:
    return T.for_seconds[alert]


# --- 站点无法访问: the 7-day ratio ----------------------------------------------------------------


def availability() -> Group:
    window = T.unreachable_window
    jump_at = window + HOUR  # site F starts failing here
    fire_at = jump_at + for_("XunchaSiteUnreachable")
    step = 15 * MIN  # a week of evaluations: the coarser step keeps promtool fast
    g = fleet("availability: 7-day unreachable ratio", fire_at, step=step)
    per_step = 1000.0
    ratios = {
        A: T.unreachable_ratio.critical,
        B: T.unreachable_ratio.critical - 0.001,
        C: T.unreachable_ratio.warning,
        D: T.unreachable_ratio.warning - 0.001,
        H: 0.0,
        CLOSED: 0.5,
    }
    for code, ratio in ratios.items():
        g.metric(M.HTTP_CHECKS_TOTAL, f"0+{per_step:g}x{int(fire_at // step)}", code=code)
        g.metric(M.HTTP_FAILURES_TOTAL, f"0+{per_step * ratio:g}x{int(fire_at // step)}", code=code)
    # F: a healthy week, then one burst of failures; the ratio jumps past the veto line at jump_at.
    g.metric(M.HTTP_CHECKS_TOTAL, f"0+20x{int(fire_at // step)}", code=F)
    g.metric(M.HTTP_FAILURES_TOTAL, switch(0, 5000, jump_at, fire_at, step), code=F)
    # G: every visit failed, but only a handful of visits: not yet a ratio (fewer than the minimum).
    late = int(fire_at // step) - 10
    g.metric(M.HTTP_CHECKS_TOTAL, f"_x{late} 0+1x10", code=G)
    g.metric(M.HTTP_FAILURES_TOTAL, f"_x{late} 0+1x10", code=G)
    f_ratio = 5000 / (20 * window / step)

    def at(t: float, with_f: bool) -> None:
        alerts = [
            ("warning", site_labels(A), 0.05),
            ("critical", site_labels(A), 0.05),
            ("warning", site_labels(B), 0.049),
            ("warning", site_labels(C), 0.03),
        ]
        if with_f:
            alerts += [("warning", site_labels(F), f_ratio), ("critical", site_labels(F), f_ratio)]
        g.expect("XunchaSiteUnreachable", t, *alerts)

    at(fire_at - step, with_f=False)  # F has crossed the line, but not for 15 minutes yet
    at(fire_at, with_f=True)
    g.expect_value(f'code:xuncha_http_unreachable:ratio7d{{code="{B}"}}', fire_at, ({"code": B}, 0.049))
    g.expect_value(f'code:xuncha_http_unreachable:ratio7d{{code="{A}"}}', fire_at, ({"code": A}, 0.05))
    return g


def site_down() -> Group:
    fail_at = HOUR
    fire_at = fail_at + for_("XunchaSiteDown")
    g = fleet("availability: site down now, DNS failing", fire_at + STEP)
    for code in (A, B):
        g.metric(M.PROBE_SUCCESS, switch(1, 0, fail_at, g.until), code=code, probe="http")
        g.metric(M.PROBE_SUCCESS, const(1, g.until), code=code, probe="dns")
    g.metric(M.PROBE_SUCCESS, const(1, g.until), code=C, probe="http")
    g.metric(M.PROBE_SUCCESS, switch(1, 0, fail_at, g.until), code=C, probe="dns")
    g.metric(M.PROBE_SUCCESS, const(1, g.until), code=H, probe="http")
    g.metric(M.PROBE_SUCCESS, const(1, g.until), code=H, probe="dns")
    # A closed site that does not answer is as it should be.
    g.metric(M.PROBE_SUCCESS, const(0, g.until), code=CLOSED, probe="http")
    g.metric(M.PROBE_SUCCESS, const(0, g.until), code=CLOSED, probe="dns")
    g.expect("XunchaSiteDown", fire_at - STEP)
    g.expect("XunchaSiteDown", fire_at, ("warning", site_labels(A), 0), ("warning", site_labels(B), 0))
    g.expect("XunchaDNSFailing", fire_at - STEP)
    g.expect("XunchaDNSFailing", fire_at, ("warning", site_labels(C), 0))
    return g


# --- 首页不更新 ----------------------------------------------------------------------------------


def homepage() -> Group:
    now = 2 * HOUR
    w, c = T.homepage_age.warning, T.homepage_age.critical
    hold = for_("XunchaHomepageNotUpdated")
    g = fleet("homepage: 13 vs 14 days, 9 vs 10 days", now)
    ages = {  # the homepage's age at `now`
        A: c + hold,  # 14 days (and the for: duration) → veto
        B: c - DAY,  # 13 days → early warning only
        C: c,  # exactly 14 days now: the veto is pending, not firing
        D: w + hold,  # 10 days → early warning
        E: w - 5 * MIN,  # just under 10 days → nothing
        H: HOUR,  # fresh
        CLOSED: 100 * DAY,  # closed sites are not watched for updates
    }
    for code, age in ages.items():
        g.metric(M.HOMEPAGE_LAST_UPDATE, const(now - age, now), code=code)
    g.expect(
        "XunchaHomepageNotUpdated",
        now,
        ("warning", site_labels(A), c - ages[A]),
        ("critical", site_labels(A), ages[A]),
        ("warning", site_labels(B), c - ages[B]),
        ("warning", site_labels(C), 0.0),
        ("warning", site_labels(D), c - ages[D]),
    )
    # One step earlier A's veto has held for less than the for: duration, D's warning too.
    g.expect(
        "XunchaHomepageNotUpdated",
        now - STEP,
        ("warning", site_labels(A), c - ages[A] + STEP),
        ("warning", site_labels(B), c - ages[B] + STEP),
        ("warning", site_labels(C), STEP),
    )
    return g


# --- 栏目不更新, 空白栏目, 互动回应差 ----------------------------------------------------------------


def columns() -> Group:
    now = 2 * HOUR
    hold = for_("XunchaColumnsNotUpdated")
    news, notice, longterm = (T.stale_age[k] for k in ("news", "notice", "longterm"))
    g = fleet("columns: stale by category, blank, interaction", now)

    def cols(code: str, category: str, ages: list[float]) -> None:
        for i, age in enumerate(ages):
            g.metric(M.COLUMN_LAST_UPDATE, const(now - age, now), code=code, column=f"{category}{i}", category=category)

    stale = hold  # stale for exactly the for: duration at `now`
    cols(A, "news", [news + stale] * 5)  # 5 stale news columns → veto
    cols(B, "news", [news + stale] * 4 + [news - DAY])  # 4 stale, one 13 days old → warning
    cols(C, "notice", [notice + stale] * 2 + [notice - DAY])  # 2 stale notices (one at 179 days)…
    cols(C, "news", [news + stale] * 3)  # …and 3 stale news: 5 → veto
    cols(D, "longterm", [longterm + stale] * 10)  # 10 long-term columns stale → veto
    cols(E, "longterm", [longterm + stale] * 9 + [longterm - DAY])  # 9 → warning (more than 6)
    cols(F, "longterm", [longterm + stale] * 6 + [notice + DAY] * 3)  # 6 stale, long-term not at 181 d
    cols(H, "news", [HOUR] * 6)
    cols(H, "notice", [30 * DAY] * 2)
    cols(CLOSED, "news", [365 * DAY] * 8)
    g.expect(
        "XunchaColumnsNotUpdated",
        now,
        ("warning", site_labels(A), 5),
        ("critical", site_labels(A), 5),
        ("warning", site_labels(B), 4),
        ("warning", site_labels(C), 5),
        ("critical", site_labels(C), 5),
        ("warning", site_labels(D), 10),
        ("critical", site_labels(D), 10),
        ("warning", site_labels(E), 9),
    )
    g.expect("XunchaColumnsNotUpdated", now - STEP)  # every one of them has been stale < 1 h
    g.expect_value(
        f'code_category:xuncha_columns_stale:count{{code="{C}"}}',
        now,
        ({"code": C, "category": "news"}, 3),
        ({"code": C, "category": "notice"}, 2),
    )
    g.expect_value(f'code:xuncha_columns_stale:count{{code="{F}"}}', now, ({"code": F}, 6))

    # Blank columns: 2 (nothing), 3 (warning), 5 (veto).
    for code, n_blank in ((A, 2), (B, 3), (D, 5), (CLOSED, 6)):
        for i in range(6):
            g.metric(M.COLUMN_BLANK, const(1 if i < n_blank else 0, now), code=code, column=f"c{i}", category="service")
    g.expect(
        "XunchaColumnsBlank",
        now,
        ("warning", site_labels(B), 3),
        ("warning", site_labels(D), 5),
        ("critical", site_labels(D), 5),
    )

    # Interaction: newest reply 90 days (veto), 60 days (warning), 59 days (nothing).
    ia = T.interaction_age
    for code, age in ((A, ia.critical + hold), (B, ia.warning + hold), (E, ia.warning - DAY), (CLOSED, 400 * DAY)):
        g.metric(M.COLUMN_LAST_UPDATE, const(now - age, now), code=code, column="咨询建言", category="interaction")
    g.expect(
        "XunchaInteractionUnanswered",
        now,
        ("warning", site_labels(A), ia.critical - (ia.critical + hold)),
        ("critical", site_labels(A), ia.critical + hold),
        ("warning", site_labels(B), ia.critical - (ia.warning + hold)),
    )
    return g


# --- 互动回应差: message lists read as messages, and no consultation channel ------------------------


def interaction() -> Group:
    now = 2 * HOUR
    hold = for_("XunchaInteractionUnanswered")
    ia = T.interaction_age
    g = fleet("interaction: unanswered messages, no consultation channel", now)

    def column(code: str, *, shown: int, oldest: float | None = None, newest: float | None = None) -> None:
        g.metric(M.INTERACTION_STATE_SHOWN, const(shown, now), code=code, column="市长信箱")
        if oldest is not None:
            g.metric(M.INTERACTION_OLDEST_UNANSWERED, const(now - oldest, now), code=code, column="市长信箱")
        if newest is not None:  # the content probe's newest item (the newest question)
            g.metric(
                M.COLUMN_LAST_UPDATE, const(now - newest, now), code=code, column="市长信箱", category="interaction"
            )

    # a letter every day, none answered for four months: the newest item is an hour old
    column(C, shown=1, oldest=ia.critical + hold, newest=HOUR)
    # answers everything, nobody wrote for 100 days: no unanswered message, no alert
    column(D, shown=1, newest=100 * DAY)
    column(F, shown=1, oldest=ia.warning + hold, newest=HOUR)  # 60 days unanswered → warning
    column(A, shown=0, newest=ia.critical + hold)  # rows show no state: its newest item, as before
    column(CLOSED, shown=1, oldest=400 * DAY)
    # a 网上信访 column is no consultation channel: its old newest item is not judged
    g.metric(M.INTERACTION_CONSULTATION, const(0, now), code=B, column="网上信访")
    g.metric(M.COLUMN_LAST_UPDATE, const(now - 200 * DAY, now), code=B, column="网上信访", category="interaction")
    g.expect(
        "XunchaInteractionUnanswered",
        now,
        ("warning", site_labels(A), ia.critical - (ia.critical + hold)),
        ("critical", site_labels(A), ia.critical + hold),
        ("warning", site_labels(C), ia.critical - (ia.critical + hold)),
        ("critical", site_labels(C), ia.critical + hold),
        ("warning", site_labels(F), ia.critical - (ia.warning + hold)),
    )
    g.expect("XunchaInteractionUnanswered", now - hold - STEP)  # none yet past its for:
    for code, n in ((G, 0), (H, 2), (E, 1), (CLOSED, 0)):
        g.metric(M.SITE_CONSULTATION_CHANNELS, const(n, now), code=code)
    g.expect("XunchaNoConsultationChannel", now, ("critical", site_labels(G), 0))
    g.expect_value(
        f'code_indicator:xuncha_status:level{{indicator="interaction",code=~"{G}|{H}|{D}"}}',
        now,
        ({"code": G, "indicator": "interaction"}, 2),
        ({"code": H, "indicator": "interaction"}, 0),
    )
    return g


# --- certificates ---------------------------------------------------------------------------------


def certificates() -> Group:
    now = 2 * HOUR
    c = T.cert_remaining
    g = fleet("certificates", now)
    remaining = {A: c.warning - DAY, B: c.warning + DAY, C: c.critical - DAY, D: -DAY, H: 300 * DAY, CLOSED: -DAY}
    for code, left in remaining.items():
        g.metric(M.TLS_CERT_NOT_AFTER, const(now + left, now), code=code)
        g.metric(M.TLS_CERT_VALID, const(0 if left < 0 else 1, now), code=code)
    g.metric(M.TLS_CERT_NOT_AFTER, const(now + 300 * DAY, now), code=E)
    g.metric(M.TLS_CERT_VALID, switch(1, 0, now - for_("XunchaCertificateInvalid"), now), code=E)  # wrong host
    g.metric(M.TLS_CERT_VALID, switch(1, 0, now - for_("XunchaCertificateInvalid") + STEP, now), code=F)
    g.expect(
        "XunchaCertificateExpiring",
        now,
        ("warning", site_labels(A), remaining[A]),
        ("warning", site_labels(C), remaining[C]),
        ("critical", site_labels(C), remaining[C]),
    )
    g.expect("XunchaCertificateExpired", now, ("critical", site_labels(D), -DAY))
    g.expect("XunchaCertificateInvalid", now, ("critical", site_labels(D), 0), ("critical", site_labels(E), 0))
    return g


# --- links, required elements, serious errors, closure --------------------------------------------


def content() -> Group:
    found = HOUR
    now = found + for_("XunchaHomepageLinksBroken")
    g = fleet("content: links, compliance, serious errors, closed sites", now)
    g.site(CLOSED, status="closed")
    g.metric(M.LINKS_BROKEN, switch(0, 3, found, now), code=A)
    g.metric(M.LINKS_BROKEN, const(0, now), code=H)
    g.metric(M.LINKS_BROKEN, const(40, now), code=CLOSED)
    for check in M.COMPLIANCE_CHECKS:
        g.metric(
            M.COMPLIANCE_CHECK, switch(1, 0, found, now) if check == "icp_shown" else const(1, now), code=B, check=check
        )
        g.metric(M.COMPLIANCE_CHECK, const(1, now), code=H, check=check)
    g.metric(M.SERIOUS_ERRORS, switch(0, 2, now - for_("XunchaSeriousError"), now), code=C)
    g.metric(M.SERIOUS_ERRORS, switch(0, 1, now - for_("XunchaSeriousError") + STEP, now), code=D)
    g.metric(M.SERIOUS_ERRORS, const(0, now), code=H)
    g.metric(M.SERIOUS_ERRORS, const(9, now), code=CLOSED)
    g.metric(M.PRIVACY_LEAKS, switch(0, 4, now - for_("XunchaPrivacyLeak"), now), code=E)
    g.metric(M.PRIVACY_LEAKS, const(0, now), code=H)
    g.metric(M.HIDDEN_LINKS, switch(0, 7, now - for_("XunchaHiddenLinks"), now), code=F)
    g.metric(M.HIDDEN_LINKS, switch(0, 1, now - for_("XunchaHiddenLinks") + STEP, now), code=G)
    g.metric(M.HIDDEN_LINKS, const(0, now), code=H)
    g.expect("XunchaHomepageLinksBroken", now, ("warning", site_labels(A), 3))
    g.expect("XunchaHomepageLinksBroken", now - STEP)
    g.expect("XunchaRequiredElementMissing", now, ("warning", {**site_labels(B), "check": "icp_shown"}, 0))
    g.expect("XunchaSeriousError", now, ("critical", site_labels(C), 2))  # D: found one step ago, pending
    g.expect("XunchaPrivacyLeak", now, ("critical", site_labels(E), 4))
    g.expect("XunchaHiddenLinks", now, ("critical", site_labels(F), 7))  # G: found one step ago, pending
    return g


def services() -> Group:
    """服务不实用 (issue 18): a guide missing any element warns, incomplete guides at the line and a site
    offering no services are vetoes; complete guides and a closed site raise nothing."""
    found = HOUR
    now = found + for_("XunchaServiceGuidesIncomplete")
    g = Group("services: guides missing elements, no services", now)
    for code in (A, B, C, D):
        g.site(code)
    g.site(CLOSED, status="closed")

    def guides(code: str, complete: int, partial: int, incomplete: int) -> None:
        for state, n in (("complete", complete), ("partial", partial), ("incomplete", incomplete)):
            g.metric(M.SITE_SERVICE_GUIDES, switch(0, n, found, now) if n else const(0, now), code=code, state=state)
        g.metric(M.SITE_NO_SERVICES, const(0, now), code=code)

    guides(A, 2, 1, 1)  # one incomplete: the veto (and no warning beside it)
    guides(B, 1, 2, 0)  # two missing some: a warning
    guides(C, 3, 0, 0)  # complete: nothing
    g.metric(M.SITE_NO_SERVICES, switch(0, 1, found, now), code=D)
    g.metric(M.SITE_NO_SERVICES, const(1, now), code=CLOSED)  # closed: judged for 带病运行 only
    g.expect("XunchaServiceGuidesIncomplete", now, ("warning", site_labels(B), 2), ("critical", site_labels(A), 1))
    g.expect("XunchaServiceGuidesIncomplete", now - STEP)
    g.expect("XunchaNoServices", now, ("critical", site_labels(D), 1))
    level = 'code_indicator:xuncha_status:level{indicator="service"}'
    g.expect_value(
        level,
        now,
        ({"code": A, "indicator": "service"}, 2),
        ({"code": B, "indicator": "service"}, 1),
        ({"code": C, "indicator": "service"}, 0),
        ({"code": D, "indicator": "service"}, 2),
    )
    return g


# --- issue 19: 挂马 and crypto-mining (a security veto), back-dated items (for review) ------------


def security() -> Group:
    now = HOUR + for_("XunchaMaliciousScripts")
    g = fleet("security: injected scripts and back-dated items", now)
    g.metric(M.SITE_MALICIOUS_SCRIPTS, switch(0, 2, now - for_("XunchaMaliciousScripts"), now), code=A)
    g.metric(M.SITE_MALICIOUS_SCRIPTS, switch(0, 1, now - for_("XunchaMaliciousScripts") + STEP, now), code=B)
    g.metric(M.SITE_MALICIOUS_SCRIPTS, const(0, now), code=H)
    g.metric(M.SITE_MALICIOUS_SCRIPTS, const(3, now), code=CLOSED)  # closed sites: only 带病运行 is judged
    g.metric(M.SITE_BACKDATED_ITEMS, switch(0, 1, now - for_("XunchaBackdatedItems"), now), code=C)
    g.metric(M.SITE_BACKDATED_ITEMS, const(0, now), code=H)
    g.expect("XunchaMaliciousScripts", now, ("critical", site_labels(A), 2))  # B: found one step ago, pending
    g.expect("XunchaMaliciousScripts", now - STEP)
    g.expect("XunchaBackdatedItems", now, ("warning", site_labels(C), 1))  # a warning at most: never critical
    # the injected scripts are the serious indicator at its veto line; back-dated items are no veto
    g.expect_value(
        f'code_indicator:xuncha_status:level{{code="{A}",indicator="serious"}}',
        now,
        ({"code": A, "indicator": "serious"}, 2),
    )
    g.expect_value(f'code_indicator:xuncha_status:level{{code="{C}",indicator="serious"}}', now)  # none at all
    return g


def closure() -> Group:
    now = 2 * HOUR
    g = Group("closure: 带病运行 and the closure notice", now)
    g.site(A)
    g.site(B, status="closing")
    g.site(C, status="closing")
    g.site(D, status="closed")
    g.site(CLOSED, status="closed")
    g.metric(M.SITE_CLOSED_BUT_ONLINE, const(1, now), code=D)
    g.metric(M.SITE_CLOSED_BUT_ONLINE, const(0, now), code=CLOSED)
    g.metric(M.SITE_CLOSED_BUT_ONLINE, const(0, now), code=A)
    g.metric(M.SITE_CLOSURE_NOTICE_SHOWN, const(0, now), code=B)
    g.metric(M.SITE_CLOSURE_NOTICE_SHOWN, const(1, now), code=C)
    g.expect("XunchaClosedSiteOnline", now, ("critical", site_labels(D), 1))
    g.expect("XunchaClosureNoticeMissing", now, ("warning", site_labels(B), 0))
    # The for: duration: the closed site has been online for less than an hour at 55 minutes.
    g.expect("XunchaClosedSiteOnline", for_("XunchaClosedSiteOnline") - STEP)
    g.expect("XunchaClosedSiteOnline", for_("XunchaClosedSiteOnline"), ("critical", site_labels(D), 1))
    return g


def probe_failing() -> Group:
    now = for_("XunchaProbeFailing") + HOUR
    g = fleet("probes that keep failing, feeds that cannot be fetched", now)
    g.metric(M.PROBE_SUCCESS, switch(1, 0, HOUR, now), code=A, probe="columns")
    g.metric(M.PROBE_SUCCESS, switch(1, 0, HOUR + STEP, now), code=B, probe="homepage")
    g.metric(M.PROBE_SUCCESS, const(1, now), code=H, probe="homepage")
    g.metric(M.PROBE_SUCCESS, const(0, now), code=CLOSED, probe="homepage")
    g.expect("XunchaProbeFailing", now, ("warning", {**site_labels(A), "probe": "columns"}, 0))
    for acc in ("longhu-weibo", "longhu-douyin", "old-wechat"):
        g.account(acc, status="stopped" if acc == "old-wechat" else "active")
    g.metric(M.FEED_SUCCESS, switch(1, 0, HOUR, now), account="longhu-weibo")
    g.metric(M.FEED_SUCCESS, const(1, now), account="longhu-douyin")
    g.metric(M.FEED_SUCCESS, const(0, now), account="old-wechat")
    g.expect("XunchaFeedFailing", now, ("warning", account_labels("longhu-weibo"), 0))
    g.expect("XunchaFeedFailing", now - STEP)
    return g


# --- 政务新媒体 ---------------------------------------------------------------------------------


def accounts() -> Group:
    now = 2 * HOUR
    s = T.account_silence
    hold = for_("XunchaAccountSilent")
    g = Group("accounts: silent 7 / 14 days, stopped but not deregistered", now)
    silence = {
        "chaozhou-police-wechat": s.critical + hold,  # 14 days → veto
        "longhu-weibo": s.critical - DAY,  # 13 days → warning only
        "longhu-douyin": s.warning - HOUR,  # just under 7 days → nothing
        "changsha-toutiao": s.warning + hold,  # 7 days → warning
        "old-wechat": 300 * DAY,  # stopped: silence is expected
    }
    for acc, age in silence.items():
        g.account(acc, status="stopped" if acc == "old-wechat" else "active")
        g.metric(M.FEED_LAST_ENTRY, const(now - age, now), account=acc)
    g.metric(M.ACCOUNT_NOT_DEREGISTERED, const(1, now), account="old-wechat")  # stopped accounts only, as the agent
    g.expect(
        "XunchaAccountSilent",
        now,
        ("warning", account_labels("chaozhou-police-wechat"), -hold),
        ("critical", account_labels("chaozhou-police-wechat"), s.critical + hold),
        ("warning", account_labels("longhu-weibo"), DAY),
        ("warning", account_labels("changsha-toutiao"), s.critical - s.warning - hold),
    )
    g.expect(
        "XunchaAccountSilent",
        now - STEP,  # the 14-day veto and the 7-day warning are still pending
        ("warning", account_labels("chaozhou-police-wechat"), -hold + STEP),
        ("warning", account_labels("longhu-weibo"), DAY + STEP),
    )
    g.expect("XunchaAccountNotDeregistered", now, ("critical", account_labels("old-wechat"), 1))
    return g


def account_posts() -> Group:
    """Issue 18: wrong expressions and ID numbers in posts are vetoes; a clean account and a stopped
    one (its alerts are the not-deregistered one only) raise nothing."""
    now = HOUR
    g = Group("accounts: wrong expressions and ID numbers in posts", now)
    for acc in ("chaozhou-police-wechat", "longhu-weibo", "longhu-douyin", "old-wechat"):
        g.account(acc, status="stopped" if acc == "old-wechat" else "active")
    g.metric(M.ACCOUNT_SERIOUS_ERRORS, const(2, now), account="chaozhou-police-wechat")
    g.metric(M.ACCOUNT_PRIVACY_LEAKS, const(0, now), account="chaozhou-police-wechat")
    g.metric(M.ACCOUNT_SERIOUS_ERRORS, const(0, now), account="longhu-weibo")
    g.metric(M.ACCOUNT_PRIVACY_LEAKS, const(1, now), account="longhu-weibo")
    g.metric(M.ACCOUNT_SERIOUS_ERRORS, const(0, now), account="longhu-douyin")  # clean
    g.metric(M.ACCOUNT_PRIVACY_LEAKS, const(0, now), account="longhu-douyin")
    g.metric(M.ACCOUNT_SERIOUS_ERRORS, const(1, now), account="old-wechat")  # stopped
    hold = for_("XunchaAccountSeriousError")
    g.expect("XunchaAccountSeriousError", hold - STEP)
    g.expect("XunchaAccountSeriousError", now, ("critical", account_labels("chaozhou-police-wechat"), 2))
    g.expect("XunchaAccountPrivacyLeak", now, ("critical", account_labels("longhu-weibo"), 1))
    level = 'account_indicator:xuncha_status:level{indicator="serious"}'
    g.expect_value(
        level,
        now,
        ({"account": "chaozhou-police-wechat", "indicator": "serious"}, 2),
        ({"account": "longhu-weibo", "indicator": "serious"}, 2),
        ({"account": "longhu-douyin", "indicator": "serious"}, 0),
    )
    return g


# --- the agent itself -----------------------------------------------------------------------------


def agent() -> Group:
    down_at = 30 * MIN
    now = 2 * HOUR
    g = Group("the agent: down, not probing, lagging, reload failed", now)
    a, b = {"instance": "agent-0:9725", "job": "xuncha"}, {"instance": "agent-1:9725", "job": "xuncha"}
    g.add("up", a, switch(1, 0, down_at, now))
    g.add("up", b, const(1, now))
    g.add(M.TARGETS, {**a, "kind": "site"}, const(100, now))
    g.add(M.TARGETS, {**b, "kind": "site"}, const(100, now))
    # agent-0 stops finishing probes at 30 minutes; agent-1 keeps going.
    g.add(M.PROBE_RUNS_TOTAL, {**a, "kind": "http", "result": "success"}, f"0+10x6 60x{int(now // STEP) - 6}")
    g.add(M.PROBE_RUNS_TOTAL, {**b, "kind": "http", "result": "success"}, f"0+10x{int(now // STEP)}")
    lag = M.SCHEDULER_LAG_SECONDS + "_bucket"
    n = int(now // STEP)
    for le, slow, fast in (("1", 0, 10), ("60", 0, 10), ("600", 10, 10), ("+Inf", 10, 10)):
        g.add(lag, {**a, "kind": "http", "le": le}, f"0+{slow}x{n}")
        g.add(lag, {**b, "kind": "http", "le": le}, f"0+{fast}x{n}")
    g.add(M.CONFIG_LAST_RELOAD_SUCCESSFUL, a, switch(1, 0, down_at, now))
    g.add(M.CONFIG_LAST_RELOAD_SUCCESSFUL, b, const(1, now))
    fire = down_at + for_("XunchaAgentDown")
    g.expect("XunchaAgentDown", fire - STEP)
    g.expect("XunchaAgentDown", fire, ("critical", a, 0))
    g.expect("XunchaAgentAbsent", now)
    # 1 h without a finished probe, plus the for: duration
    g.expect(
        "XunchaAgentNotProbing",
        down_at + HOUR + for_("XunchaAgentNotProbing"),
        ("critical", {"instance": a["instance"]}, 0),
    )
    g.expect("XunchaAgentNotProbing", down_at + HOUR + for_("XunchaAgentNotProbing") - STEP)
    g.expect("XunchaAgentLagging", now, ("warning", {"instance": a["instance"]}, 60 + (600 - 60) * 0.9))
    g.expect("XunchaConfigReloadFailed", down_at + for_("XunchaConfigReloadFailed"), ("warning", a, 0))
    g.expect("XunchaConfigReloadFailed", down_at + for_("XunchaConfigReloadFailed") - STEP)
    return g


def agent_absent() -> Group:
    g = Group("no agent scraped at all", HOUR)
    g.add("up", {"instance": "other:9100", "job": "node"}, const(1, HOUR))
    g.expect("XunchaAgentAbsent", for_("XunchaAgentAbsent") - STEP)
    g.expect("XunchaAgentAbsent", for_("XunchaAgentAbsent"), ("critical", {"job": "xuncha"}, 1))
    return g


# --- the score (issue 19): under 70 a warning, under 60 (more than 40 deducted) the veto level ------


def score() -> Group:
    found = HOUR
    now = found + for_("XunchaSiteScoreLow")
    g = fleet("score: 总分 under 70 warns, under 60 is unqualified", now)
    s = T.site_score
    values = {A: s.critical - 0.1, B: s.critical, C: s.warning - 0.1, D: s.warning, H: 100.0, CLOSED: 10.0}
    for code, v in values.items():
        g.metric(M.SITE_SCORE, const(v, now), code=code)
    g.metric(M.SITE_SCORE, switch(95, 50, found, now), code=E)  # falls at `found`: fires after the for:
    g.metric(M.SITE_SCORE, switch(95, 50, found + STEP, now), code=F)  # one step later: still pending
    g.expect(
        "XunchaSiteScoreLow",
        now,
        ("critical", site_labels(A), s.critical - 0.1),
        ("warning", site_labels(B), s.critical),  # exactly 60 is qualified: "more than 40 deducted" is not
        ("warning", site_labels(C), s.warning - 0.1),
        ("critical", site_labels(E), 50),
    )
    g.expect(
        "XunchaSiteScoreLow",
        now - STEP,
        ("critical", site_labels(A), s.critical - 0.1),
        ("warning", site_labels(B), s.critical),
        ("warning", site_labels(C), s.warning - 0.1),
    )
    level = "code_indicator:xuncha_status:level"
    for code, want in ((A, 2), (B, 1), (C, 1), (D, 0), (H, 0)):
        g.expect_value(f'{level}{{code="{code}",indicator="score"}}', now, ({"code": code, "indicator": "score"}, want))
    g.expect_value(f'{level}{{code="{CLOSED}",indicator="score"}}', now)  # closed sites are not scored
    return g


GROUPS = {
    "score": score,
    "availability": availability,
    "site_down": site_down,
    "homepage": homepage,
    "columns": columns,
    "interaction": interaction,
    "certificates": certificates,
    "content": content,
    "services": services,
    "closure": closure,
    "security": security,
    "probe_failing": probe_failing,
    "accounts": accounts,
    "account_posts": account_posts,
    "agent": agent,
    "agent_absent": agent_absent,
}


@pytest.fixture(scope="module")
def promtool_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Every group's promtool run, started at once (the week-long availability group is the slow one)."""
    tmp = tmp_path_factory.mktemp("promtool")
    procs = {}
    for name, make in GROUPS.items():
        path = tmp / f"{name}.test.yml"
        path.write_text(promtool_file([make()]), encoding="utf-8")
        procs[name] = start_promtool(path)
    out = {}
    for name, proc in procs.items():
        stdout, _ = proc.communicate(timeout=120)
        out[name] = (proc.returncode, stdout)
    return out


@pytest.mark.parametrize("name", list(GROUPS))
def test_promtool_unit_tests(name: str, promtool_runs: dict[str, tuple[int, str]]) -> None:
    code, output = promtool_runs[name]
    assert code == 0, output


def test_every_shipped_alert_is_provoked() -> None:
    """An alert nobody provokes is an alert nobody has seen work."""
    import yaml
    from promtool.harness import RULES_DIR

    shipped = set()
    for group in yaml.safe_load((RULES_DIR / "xuncha-alerts.yml").read_text(encoding="utf-8"))["groups"]:
        shipped |= {(r["alert"], r["labels"]["severity"]) for r in group["rules"]}
    provoked = set()
    for make in GROUPS.values():
        for test in make().alert_tests:
            for exp in test["exp_alerts"]:
                provoked.add((test["alertname"], exp["exp_labels"]["severity"]))
    assert shipped - provoked == set()
