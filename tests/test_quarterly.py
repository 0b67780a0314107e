"""The quarterly report judged from the real Prometheus, backfilled with six weeks of a small fleet.

Each site and account of tests/quarterly/fleet.py holds one verdict for part of the period
(or comes close and must not get it); day ``i`` below is the period's ``i``-th Beijing day.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.quarterly.assemble import problem

sys.path.insert(0, str(Path(__file__).parent))
from quarterly.fleet import DAY, DAYS, LEAD, Fleet, build_fleet, prometheus  # noqa: E402

from agent.quarterly import Report, build  # noqa: E402
from agent.quarterly.engine import Options  # noqa: E402
from agent.quarterly.period import Period, beijing_date  # noqa: E402
from agent.quarterly.prom import Prometheus  # noqa: E402
from dashboards.rules import Options as RuleOptions  # noqa: E402
from dashboards.rules import alert_groups  # noqa: E402
from domain import metric_names as M  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return build_fleet(beijing_date(time.time()) - timedelta(days=DAYS + 2))


@pytest.fixture(scope="module")
def prom(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with prometheus(tmp_path_factory.mktemp("prometheus"), fleet.openmetrics()) as url:
        yield url


@pytest.fixture(scope="module")
def report(prom: str, fleet: Fleet) -> Report:
    return build(Prometheus(prom), Period(fleet.first, fleet.last), prom_url=prom)


def site(report: Report, code: str) -> dict[str, Any]:
    return next(s for s in report.data["sites"] + report.data["closed_sites"] if s["code"] == code)


def account(report: Report, ident: str) -> dict[str, Any]:
    return next(a for a in report.data["accounts"] if a["account"] == ident)


def vetoes(subject: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["measure"]: v for v in subject["vetoes"]}


def warnings(subject: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["measure"]: w for w in subject["warnings"]}


def assert_veto(subject: dict[str, Any], measure: str, indicator: str, first: str, last: str) -> dict[str, Any]:
    v = vetoes(subject)[measure]
    assert (v["indicator"], v["from"], v["to"]) == (indicator, first, last)
    assert subject["qualified"] is False
    return v


# --- sites: one verdict that must appear, one that must not ----------------------------------------


def test_a_week_with_5_percent_failed_visits_is_an_availability_veto_on_the_days_it_covers(report, fleet):
    # 30 % of visits failed on days 10-12: windows ending days 11-17 hold two or three of them.
    v = assert_veto(site(report, "4405070002"), "unreachable_ratio", "availability", fleet.day(11), fleet.day(17))
    assert v["worst"] == pytest.approx(3 * 0.30 / 7, abs=0.005)


def test_4_percent_failed_visits_is_an_early_warning_not_a_veto(report):
    s = site(report, "4405070011")
    assert s["qualified"] and s["vetoes"] == []
    assert warnings(s)["unreachable_ratio"]["value"] == pytest.approx(0.04, abs=0.002)


def test_every_visit_failing_at_one_visit_a_day_is_too_few_visits_to_judge(report):
    assert site(report, "4405070012")["vetoes"] == []


def test_a_homepage_without_news_for_14_days_is_a_veto_until_it_is_updated(report, fleet):
    v = assert_veto(site(report, "4405070003"), "homepage_age", "homepage", fleet.day(16), fleet.day(22))
    assert 19.5 <= v["worst"] <= 20.0


def test_a_homepage_updated_every_13_days_is_never_a_veto(report):
    assert site(report, "4405070013")["vetoes"] == []


def test_five_blank_columns_is_a_veto_on_the_days_they_were_blank(report, fleet):
    v = assert_veto(site(report, "4405070004"), "blank_columns", "columns", fleet.day(20), fleet.day(29))
    assert v["worst"] == 5


def test_four_blank_columns_is_a_warning_not_a_veto(report):
    s = site(report, "4405070014")
    assert s["vetoes"] == [] and warnings(s)["blank_columns"]["value"] == 4


def test_five_news_columns_without_news_for_two_weeks_is_a_veto(report, fleet):
    assert_veto(site(report, "4405070005"), "stale_news_notice_columns", "columns", fleet.day(14), fleet.day(25))


def test_ten_long_term_columns_a_year_behind_are_a_veto_all_period(report, fleet):
    assert_veto(site(report, "4405070015"), "stale_columns", "columns", fleet.day(0), fleet.day(DAYS - 1))


def test_ten_long_term_columns_configured_a_year_behind_are_a_veto_from_the_day_they_appear(report, fleet):
    # the long-term columns near their 365-day line at the period's start are read weekly; these are new
    assert_veto(site(report, "4405070006"), "stale_columns", "columns", fleet.day(20), fleet.day(DAYS - 1))


def test_four_stale_news_and_nine_stale_columns_are_warnings_not_vetoes(report):
    s = site(report, "4405070016")
    assert s["vetoes"] == []
    assert {k: w["value"] for k, w in warnings(s).items()} == {"stale_news_notice_columns": 4, "stale_columns": 9}


def test_five_news_columns_stale_only_between_two_midnights_are_a_veto_on_that_day(report, fleet):
    # stale from 02:00 to 20:00 on day 16: at neither midnight around it, all five at once within it
    v = assert_veto(site(report, "4405070007"), "stale_news_notice_columns", "columns", fleet.day(16), fleet.day(16))
    assert v["worst"] == 5


def test_five_news_columns_stale_one_after_the_other_in_a_day_are_no_veto(report):
    # each stale for 2 hours of day 16, never two at once: the count is of columns stale at the same time
    s = site(report, "4405070008")
    assert "stale_news_notice_columns" not in vetoes(s) and "stale_news_notice_columns" not in warnings(s)


def test_five_columns_blank_at_once_for_ten_hours_are_a_veto_found_with_a_daily_first_pass_too(prom, fleet, report):
    # blank from 10:00 to 20:00 on day 5, between two samples of a daily first pass (08:00)
    for r in (report, build(Prometheus(prom), Period(fleet.first, fleet.last), Options(scan_step=86400))):
        v = assert_veto(site(r, "4405070007"), "blank_columns", "columns", fleet.day(5), fleet.day(5))
        assert v["worst"] == 5


def test_five_columns_blank_on_different_days_are_no_veto(report):
    # each column of the five was blank at some time, never two at once: the veto is for blank columns at once
    s = site(report, "4405070008")
    assert "blank_columns" not in vetoes(s) and "blank_columns" not in warnings(s)


def test_an_interaction_column_unanswered_for_90_days_is_a_veto(report, fleet):
    v = assert_veto(site(report, "4405070006"), "interaction_age", "interaction", fleet.day(10), fleet.day(30))
    assert v["worst"] == pytest.approx(110, abs=0.5)


def test_an_interaction_column_unanswered_for_70_days_is_a_warning_with_20_days_left_not_a_veto(report):
    s = site(report, "4405070017")
    assert s["vetoes"] == []
    assert warnings(s)["interaction_age"]["days_left"] == pytest.approx(90 - (70 - 10 / 24), abs=0.1)


def test_a_mailbox_leaving_a_message_unanswered_is_an_interaction_veto_though_its_newest_item_is_fresh(report, fleet):
    v = assert_veto(site(report, "4405070005"), "interaction_age", "interaction", fleet.day(10), fleet.day(30))
    assert v["worst"] == pytest.approx(110, abs=0.5)


def test_a_mailbox_answering_everything_with_nothing_new_for_100_days_is_no_interaction_veto(report):
    s = site(report, "4405070001")
    assert "interaction_age" not in vetoes(s) and "interaction_age" not in warnings(s)


def test_no_consultation_channel_is_a_veto_of_its_own_on_its_days(report, fleet):
    v = assert_veto(site(report, "4405070007"), "no_consultation_channel", "interaction", fleet.day(5), fleet.day(8))
    assert v["worst"] == 1
    assert "no_consultation_channel" not in vetoes(site(report, "4405070001"))


def test_serious_errors_and_privacy_leaks_are_serious_vetoes_on_their_days(report, fleet):
    assert_veto(site(report, "4405070007"), "serious_errors", "serious", fleet.day(30), fleet.day(31))
    v = assert_veto(site(report, "4405070008"), "privacy_leaks", "serious", fleet.day(12), fleet.day(12))
    assert v["worst"] == 2


def test_a_serious_error_of_ten_hours_is_found_with_a_daily_first_pass_too(prom, fleet, report):
    # 10:00-20:00 Beijing: no daily evaluation (aligned to UTC midnight, 08:00 Beijing) falls in it
    for r in (report, build(Prometheus(prom), Period(fleet.first, fleet.last), Options(scan_step=86400))):
        assert_veto(site(r, "4405070008"), "serious_errors", "serious", fleet.day(13), fleet.day(13))


def test_hidden_links_are_a_serious_veto_on_the_days_they_were_online(report, fleet):
    v = assert_veto(site(report, "4405070007"), "hidden_links", "serious", fleet.day(38), fleet.day(40))
    assert v["worst"] == 3
    assert problem(v).startswith("首页存在暗链（最多3个，")  # as the annex table words it


def test_a_privacy_leak_on_a_site_whose_agent_kept_no_findings_counter_is_found_all_the_same(report, fleet):
    # data from an agent before the findings counters: its gauge is read sample by sample, as before
    assert_veto(site(report, "4405070018"), "privacy_leaks", "serious", fleet.day(22), fleet.day(22))


def test_hidden_links_seen_before_the_period_and_shown_until_its_first_check_are_a_veto_on_day_0(report, fleet):
    # the findings counter did not move within the period; the gauge showed the links at its start
    v = assert_veto(site(report, "4405070019"), "hidden_links", "serious", fleet.day(0), fleet.day(0))
    assert v["worst"] == 2


def test_hidden_links_gone_three_days_before_the_period_are_no_veto(report):
    assert site(report, "4405070020")["qualified"] is True
    assert not vetoes(site(report, "4405070020"))


# --- issue 19: 挂马 and crypto-mining, a security (serious) veto ------------------------------------


def test_injected_scripts_are_a_serious_veto_on_the_days_they_were_online(report, fleet):
    v = assert_veto(site(report, "4405070007"), "malicious_scripts", "serious", fleet.day(34), fleet.day(35))
    assert v["worst"] == 2
    assert problem(v).startswith("网页被植入恶意代码（挂马、挖矿脚本，最多2处，")  # as the annex table words it


def test_a_site_whose_injected_scripts_gauge_stayed_at_0_has_no_such_veto(report):
    assert site(report, "4405070001")["qualified"] is True
    assert "malicious_scripts" not in {v["measure"] for v in site(report, "4405070001")["vetoes"]}


@dataclass
class Recording(Prometheus):
    queries: list[str] = field(default_factory=list)
    ranges: list[tuple[str, float, float]] = field(default_factory=list)

    def instant(self, query: str, at: float) -> list[tuple[dict[str, str], float]]:
        self.queries.append(query)
        return super().instant(query, at)

    def range(
        self, query: str, start: float, end: float, step: float
    ) -> list[tuple[dict[str, str], list[tuple[float, float]]]]:
        self.ranges.append((query, start, end))
        return super().range(query, start, end, step)


def test_visits_are_read_every_midnight_only_around_the_weeks_whose_failures_moved(prom, fleet, report):
    q = Recording(prom)
    assert verdicts(build(q, Period(fleet.first, fleet.last))) == verdicts(report)

    def read(code: str) -> list[tuple[float, float]]:
        return [
            (start, end)
            for query, start, end in q.ranges
            if query.startswith(f"sum by (code) ({M.HTTP_FAILURES_TOTAL}{{") and code in query
        ]

    # 4405070002 failed on days 10-12 only: the week that holds them and a window either side
    (span,) = read("4405070002")
    assert span[0] <= fleet.at(3) and span[1] >= fleet.at(19)  # days 4-19: the windows of days 11-17
    assert span[1] - span[0] <= 28 * DAY
    # 4405070011 fails every day: the whole period and the window before it
    assert read("4405070011") == [(fleet.at(-6), fleet.at(DAYS))]
    assert not read("4405070001")  # never failed


def test_gauges_are_read_sample_by_sample_only_for_the_subjects_whose_findings_counters_do_not_clear_them(
    prom, fleet, report
):
    q = Recording(prom)
    r = build(q, Period(fleet.first, fleet.last))
    assert verdicts(r) == verdicts(report)

    def read_for(gauge: str) -> set[str]:
        """The subjects named in the queries that read every sample of ``gauge``."""
        reads = [x for x in q.queries if f"max_over_time({gauge}{{" in x]
        assert reads and all("=~" in x for x in reads), reads  # never all the gauge's series
        return {code for x in reads for code in re.findall(r'(?:code|account)=~"([^"]*)"', x)[0].split("|")}

    # 4405070001 has 暗链 measured at 0 all along, 4405070020 had them before the period only;
    # 4405070007 had them on days 38-40, 4405070019 until 05:00 on day 0
    assert read_for(M.HIDDEN_LINKS) == {"4405070007", "4405070019"}
    assert read_for(M.SITE_MALICIOUS_SCRIPTS) == {"4405070007"}  # 4405070001: measured at 0, its counter still
    # 4405070018's agent kept no counter: read as before
    assert read_for(M.PRIVACY_LEAKS) == {"4405070008", "4405070018"}
    assert read_for(M.SERIOUS_ERRORS) == {"4405070007", "4405070008"}
    # the columns of the sites with a blank one at some point; not 4405070001's or 4405070005's
    assert read_for(M.COLUMN_BLANK) == {"4405070004", "4405070007", "4405070008", "4405070009", "4405070014"}
    assert read_for(M.ACCOUNT_NOT_DEREGISTERED) == {"chaoan-fda-wechat"}
    # issue 18's site findings: only where the counters moved
    assert read_for(M.SITE_SERVICE_GUIDES) == {"4405070007"}
    assert read_for(M.SITE_NO_SERVICES) == {"4405070008"}
    # issue 18: only the account whose counters moved; every other one is judged from its counters
    assert read_for(M.ACCOUNT_SERIOUS_ERRORS) == {"longhu-weibo"}
    assert read_for(M.ACCOUNT_PRIVACY_LEAKS) == {"longhu-weibo"}


def test_an_incomplete_guide_and_a_site_offering_no_services_are_service_vetoes_on_those_days(report, fleet):
    v = assert_veto(site(report, "4405070007"), "incomplete_guides", "service", fleet.day(20), fleet.day(22))
    assert v["worst"] == 1
    assert_veto(site(report, "4405070008"), "no_services", "service", fleet.day(10), fleet.day(11))
    assert "服务不实用（未提供办事服务，" in "".join(site(report, "4405070008")["problems"])


def test_complete_guides_are_no_service_veto(report):
    assert not {"incomplete_guides", "no_services"} & set(vetoes(site(report, "4405070001")))


def test_healthy_sites_have_neither_vetoes_nor_warnings(report):
    for code in ("4405070001", "4451000001"):
        s = site(report, code)
        assert (s["qualified"], s["vetoes"], s["warnings"]) == (True, [], [])


def test_a_closed_site_still_online_is_listed_apart_and_not_counted_in_the_pass_rate(report, fleet):
    closed = report.data["closed_sites"]
    assert [s["code"] for s in closed] == ["4405070010"]
    assert "4405070010" not in [s["code"] for s in report.data["sites"]]
    # judged only for 带病运行: its year-old homepage is no longer a veto
    assert list(vetoes(closed[0])) == ["closed_but_online"]
    assert_veto(closed[0], "closed_but_online", "closed", fleet.day(0), fleet.day(5))


def test_early_warnings_at_the_end_say_how_many_days_are_left(report):
    w = warnings(site(report, "4405070009"))
    # nothing new since 10:00 on day 31: 10.58 days at the end, 14 is the veto line
    assert w["homepage_age"]["days_left"] == pytest.approx(3.4, abs=0.1)
    assert w["blank_columns"]["value"] == 3 and w["blank_columns"]["days_left"] is None


# --- accounts ---------------------------------------------------------------------------------------


def test_an_account_silent_for_14_days_is_a_veto_until_it_posts_again(report, fleet):
    v = assert_veto(account(report, "longhu-weibo"), "silence", "silence", fleet.day(19), fleet.day(28))
    assert 22.5 <= v["worst"] <= 23.0


def test_a_wrong_expression_or_an_id_number_in_posts_is_a_veto_of_the_account_on_those_days(report, fleet):
    weibo = account(report, "longhu-weibo")
    assert_veto(weibo, "serious_errors", "serious", fleet.day(33), fleet.day(35))
    assert_veto(weibo, "privacy_leaks", "serious", fleet.day(36), fleet.day(36))


def test_an_account_whose_posts_are_clean_has_no_serious_veto(report):
    for ident in ("chaozhou-police-wechat", "longhu-douyin"):
        assert not {"serious_errors", "privacy_leaks"} & set(vetoes(account(report, ident)))


def test_an_account_posting_every_13_days_is_never_silent_enough_for_a_veto(report):
    assert account(report, "chaozhou-edu-toutiao")["vetoes"] == []


def test_an_account_silent_for_8_days_at_the_end_is_a_warning_with_days_left(report):
    w = warnings(account(report, "longhu-douyin"))["silence"]
    assert w["days_left"] == pytest.approx(5.4, abs=0.15)


def test_a_stopped_account_still_online_is_not_deregistered_and_a_gone_one_is_fine(report, fleet):
    assert_veto(
        account(report, "chaoan-fda-wechat"), "not_deregistered", "deregistration", fleet.day(0), fleet.day(DAYS - 1)
    )
    assert account(report, "chaoan-old-wechat")["qualified"] is True


# --- ageing judged from Beijing midnights: several posts in one day ---------------------------------


def test_two_posts_in_a_day_after_13_8_silent_days_are_no_veto_though_midnights_are_14_3_days_apart(
    report, prom, fleet
):
    # The trap is real: the last-post times seen at the midnights around day 19 are over 14 days apart.
    q = Prometheus(prom)
    seen = [
        q.instant('xuncha_feed_last_entry_timestamp_seconds{account="longhu-kuaishou"}', fleet.at(d)) for d in (19, 20)
    ]
    assert (seen[1][0][1] - seen[0][0][1]) / 86400 == pytest.approx(14.33, abs=0.01)
    a = account(report, "longhu-kuaishou")
    assert (a["qualified"], a["vetoes"]) == (True, [])


def test_a_silence_crossing_14_days_and_ending_between_two_midnights_is_a_veto_on_that_day(report, fleet):
    # 13.96 days silent at midnight, a post at 22:00 and another at 23:00: 14.9 days at its worst.
    v = assert_veto(account(report, "chaozhou-kuaishou"), "silence", "silence", fleet.day(19), fleet.day(19))
    assert v["worst"] == pytest.approx(14.9, abs=0.05)


def verdicts(r: Report) -> dict[str, list[dict[str, Any]]]:
    return {
        s.get("code") or s["account"]: s["vetoes"]
        for s in r.data["sites"] + r.data["closed_sites"] + r.data["accounts"]
    }


def test_the_older_way_a_subquery_at_every_hour_finds_the_same_vetoes_on_the_same_days(prom, fleet, report):
    hourly = build(Prometheus(prom), Period(fleet.first, fleet.last), Options(daily_ages=False))
    assert verdicts(hourly) == verdicts(report)


def test_a_period_ending_today_judges_its_last_day_up_to_now(prom, fleet):
    # ``now`` at 10:30 on day 30: the homepage stuck since 10:00 day 2 was updated at 10:00 day 22, and
    # the interaction column unanswered since 80 days before day 0 is answered at 10:00 day 30.
    now = fleet.at(30, 10.5)
    r = build(Prometheus(prom), Period(fleet.first, fleet.last), Options(previous=False), now=now)
    assert_veto(site(r, "4405070003"), "homepage_age", "homepage", fleet.day(16), fleet.day(22))
    assert_veto(site(r, "4405070006"), "interaction_age", "interaction", fleet.day(10), fleet.day(30))
    assert verdicts(r) == verdicts(
        build(Prometheus(prom), Period(fleet.first, fleet.last), Options(previous=False, daily_ages=False), now=now)
    )


# --- rates and periods --------------------------------------------------------------------------------


def test_the_pass_rate_counts_sites_with_any_veto_as_unqualified(report):
    unqualified = {
        "4405070002",
        "4405070003",
        "4405070004",
        "4405070005",
        "4405070006",
        "4405070007",
        "4405070008",
        "4405070015",
        "4405070018",
        "4405070019",
        "4405070021",  # the score under 60 (issue 19)
    }
    s = report.data["summary"]
    assert {x["code"] for x in report.data["sites"] if not x["qualified"]} == unqualified
    assert (s["sites"], s["sites_qualified"], s["site_rate"]) == (22, 11, round(11 / 22, 4))
    assert (s["accounts"], s["accounts_qualified"]) == (8, 5)
    by_region = {r["region"]: (r["total"], r["qualified"]) for r in report.data["by_region"]}
    assert by_region == {"汕头市": (21, 10), "潮州市": (1, 1)}


def test_the_previous_period_is_compared_when_prometheus_has_it(prom, fleet):
    # days 21-41, previous days 0-20: the availability veto (days 11-17) is only in the previous one
    r = build(Prometheus(prom), Period(fleet.first + timedelta(days=21), fleet.last))
    prev = r.data["summary"]["previous"]
    assert prev is not None and prev["period"]["to"] == fleet.day(20)
    assert site(r, "4405070002")["qualified"] is True
    assert prev["sites_qualified"] < r.data["summary"]["sites_qualified"]
    assert r.data["summary"]["change"]["site_rate"] == pytest.approx(
        r.data["summary"]["site_rate"] - prev["site_rate"], abs=1e-4
    )


def test_series_that_start_within_the_period_are_noted_with_the_day_they_start(prom, fleet):
    # the counters and the rest begin LEAD (8) days before the fixture's period, the registry INFO_LEAD (20)
    first = fleet.first - timedelta(days=LEAD + 10)
    r = build(Prometheus(prom), Period(first, fleet.last), Options(previous=False))
    start = (fleet.first - timedelta(days=LEAD)).isoformat()
    assert f"xuncha_http_checks_total: data only from {start} to {fleet.last.isoformat()}" in r.data["notes"]
    assert f"{M.FEED_LAST_ENTRY}: data only from {start} to {fleet.last.isoformat()}" in r.data["notes"]
    assert not [n for n in r.data["notes"] if n.startswith(M.SITE_INFO)]


def test_the_whole_period_has_no_previous_period_in_prometheus(report):
    assert report.data["summary"]["previous"] is None


def test_region_keeps_only_the_sites_whose_code_starts_so(prom, fleet):
    r = build(Prometheus(prom), Period(fleet.first, fleet.last), Options(region="4451"))
    assert [s["code"] for s in r.data["sites"]] == ["4451000001"]


def test_region_keeps_only_the_accounts_of_that_region_and_its_counties(prom, fleet):
    r = build(Prometheus(prom), Period(fleet.first, fleet.last), Options(region="4451"))
    # 潮州市 and its county 潮安区 (445103); not 汕头市龙湖区's accounts
    assert sorted(a["account"] for a in r.data["accounts"]) == [
        "chaoan-fda-wechat",
        "chaoan-old-wechat",
        "chaozhou-edu-toutiao",
        "chaozhou-kuaishou",
        "chaozhou-police-wechat",
    ]
    assert not vetoes(account(r, "chaozhou-edu-toutiao")) and vetoes(account(r, "chaozhou-kuaishou"))
    r = build(Prometheus(prom), Period(fleet.first, fleet.last), Options(region="440507"))
    assert sorted(a["account"] for a in r.data["accounts"]) == ["longhu-douyin", "longhu-kuaishou", "longhu-weibo"]


def test_the_indicator_words_are_the_alert_rules_words(report):
    rule_words = {r["labels"]["indicator"] for g in alert_groups(RuleOptions()) for r in g["rules"]}
    used = {
        v["indicator"]
        for s in report.data["sites"] + report.data["closed_sites"] + report.data["accounts"]
        for v in s["vetoes"] + s["warnings"]
    }
    assert used <= rule_words
    assert {
        "availability",
        "homepage",
        "columns",
        "interaction",
        "serious",
        "service",
        "closed",
        "silence",
        "deregistration",
        "score",
    } <= used


def test_a_coarse_first_pass_finds_the_same_vetoes_on_the_same_days(prom, fleet, report):
    for daily_ages in (True, False):
        coarse = build(
            Prometheus(prom), Period(fleet.first, fleet.last), Options(scan_step=86400, daily_ages=daily_ages)
        )
        assert verdicts(coarse) == verdicts(report)


def test_every_gauge_the_report_judges_has_the_agents_findings_counter():
    # the report reads a gauge sample by sample only where its counter (finding = the measure's key) moved
    from agent.quarterly import measures as ms

    judged = {m.key for m in ms.site_measures() if m.veto and (m.gauge or m.column_gauge)}
    assert judged == set(M.SITE_FINDINGS)
    assert {m.key for m in ms.account_measures() if m.veto and m.gauge} == set(M.ACCOUNT_FINDINGS)


# --- the score (issue 19) ---------------------------------------------------------------------------


def test_a_score_under_60_is_unqualified_on_its_days_though_the_site_recovers_before_the_end(report, fleet):
    s = site(report, "4405070021")
    v = assert_veto(s, "score", "score", fleet.day(10), fleet.day(19))
    assert (v["worst"], v["line"], v["reason"]) == (55.0, 60.0, "多处链接无法打开")
    # the seeds' words (汕头 2017 Q2: 澄海人才网), then the lowest score and its days
    assert problem(v).startswith("扣分大于40分(多处链接无法打开)（最低得分55分，")
    assert s["score"]["end"] == {
        "total": 96.0,
        "deducted": 4.0,
        "bonus": 0.0,
        "items": {"homepage_links": 0.0, "other_links": 4.0, "homepage_updates": 0.0},
    }
    assert s["annex"]["其他问题"] == ["多处链接无法打开"] and s["warnings"] == []


def test_a_score_of_exactly_60_is_qualified_and_65_at_the_end_is_an_early_warning(report):
    s = site(report, "4405070022")
    assert s["qualified"] and "score" not in vetoes(s)
    w = warnings(s)["score"]
    assert (w["value"], w["warning"], w["line"]) == (65.0, 70.0, 60.0)
    # fewer than 10 updates in two weeks is 首页不更新 in the 潮州 annex; the broken links 其他问题
    assert s["annex"]["首页不更新"] and not s["annex"]["栏目不更新"]
    assert s["annex"]["其他问题"] == ["多处链接无法打开"]


def test_a_site_scoring_100_has_no_score_veto_nor_warning(report):
    s = site(report, "4405070001")
    assert "score" not in vetoes(s) and "score" not in warnings(s)
    assert s["score"]["end"]["total"] == 100.0


def test_the_annex_prints_every_site_as_chaozhou_does_and_the_items_not_measured_are_noted(report):
    from agent.quarterly.assemble import SCORE_HEADER, score_rows

    rows = score_rows(report.data)
    assert (
        rows[0]
        == SCORE_HEADER
        == [
            "序号",
            "网站名称",
            "首页不更新",
            "栏目不更新",
            "互动回应差",
            "服务不实用",
            "安全、泄密事故等严重问题",
            "其他问题",
            "得分情况",
        ]
    )
    by_name = {r[1]: r for r in rows[1:]}
    assert len(rows) - 1 == report.data["summary"]["sites"]
    assert by_name["汕头市龙湖区人才网"][2:] == [
        "否",
        "否",
        "否",
        "否",
        "否",
        "多处链接无法打开",
        "加分：0 扣分：4 总分：96",
    ]
    assert by_name["汕头市龙湖区档案馆"][2:] == [
        "是",
        "否",
        "否",
        "否",
        "否",
        "多处链接无法打开",
        "加分：0 扣分：35 总分：65",
    ]
    assert report.data["score"]["judged"] is True
    assert "consultation_missing" in report.data["score"]["not_measured"]
    assert "homepage_links" not in report.data["score"]["not_measured"]
    assert any(n.startswith("未监测的评分项（不计分）：") and "无咨询栏目" in n for n in report.data["notes"])
    # the pass rate counts the score now: "an upper bound" is no longer said
    assert not any(
        "上限" in p for p in __import__("agent.quarterly.assemble", fromlist=["x"]).summary_paragraphs(report.data)
    )


def test_every_format_carries_the_score_annex(report):
    import io
    import json
    import zipfile

    cell = "加分：0 扣分：4 总分：96"
    for fmt in ("md", "html", "csv"):
        text = report.render(fmt).decode("utf-8")
        assert cell in text and "得分情况" in text and "扣分大于40分(多处链接无法打开)" in text, fmt
    data = json.loads(report.render("json"))
    assert next(s for s in data["sites"] if s["code"] == "4405070021")["score"]["end"]["total"] == 96.0
    with zipfile.ZipFile(io.BytesIO(report.render("docx"))) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert cell in xml and "安全、泄密事故等严重问题" in xml
