"""The metric names of Xuncha's contract (design.md, "Metrics contract").

This is the one place a metric name is spelled. The collector, the Grafana
dashboards, the Prometheus rules' generator and the rule tests all import it, so
they cannot drift apart.  Each constant is the full name as Prometheus sees it
(counters include their ``_total`` suffix).
"""

from __future__ import annotations

from domain.registry import COMPLIANCE_CHECKS as _COMPLIANCE_CHECKS

PREFIX = "xuncha_"

# --- identity (_info series carry the descriptive labels) -------------------
SITE_INFO = "xuncha_site_info"  # code, name, region, province, kind, status, url
ACCOUNT_INFO = "xuncha_account_info"  # account, unit, platform, name, status, region, province

# --- every probe kind -------------------------------------------------------
PROBE_SUCCESS = "xuncha_probe_success"  # code, probe

# --- availability (站点无法访问) ---------------------------------------------
HTTP_CHECKS_TOTAL = "xuncha_http_checks_total"  # code
HTTP_FAILURES_TOTAL = "xuncha_http_failures_total"  # code
HTTP_STATUS_CODE = "xuncha_http_status_code"  # code
HTTP_DURATION_SECONDS = "xuncha_http_duration_seconds"  # code, phase
HTTP_LAST_CHECK_TIMESTAMP = "xuncha_http_last_check_timestamp_seconds"  # code

# --- DNS / TLS ------------------------------------------------------------
DNS_LOOKUP_SECONDS = "xuncha_dns_lookup_seconds"  # code
DNS_ANSWERS = "xuncha_dns_answers"  # code, family (ipv4|ipv6)
TLS_CERT_NOT_AFTER = "xuncha_tls_cert_not_after_timestamp_seconds"  # code
TLS_CERT_NOT_BEFORE = "xuncha_tls_cert_not_before_timestamp_seconds"  # code
TLS_CERT_VALID = "xuncha_tls_cert_valid"  # code
TLS_CHAIN_VALID = "xuncha_tls_chain_valid"  # code
TLS_HOSTNAME_MATCH = "xuncha_tls_hostname_match"  # code

# --- content (首页不更新, 栏目不更新, 空白栏目, 严重错误) ---------------------------
HOMEPAGE_LAST_UPDATE = "xuncha_homepage_last_update_timestamp_seconds"  # code
COLUMN_LAST_UPDATE = "xuncha_column_last_update_timestamp_seconds"  # code, column, category
COLUMN_BLANK = "xuncha_column_blank"  # code, column, category
LINKS_CHECKED = "xuncha_links_checked"  # code
LINKS_BROKEN = "xuncha_links_broken"  # code
COMPLIANCE_CHECK = "xuncha_compliance_check"  # code, check
COMPLIANCE_CHECKS = _COMPLIANCE_CHECKS  # the values of its ``check`` label (domain/registry.py)
SERIOUS_ERRORS = "xuncha_serious_errors"  # code (different wrong expressions found)
PRIVACY_LEAKS = "xuncha_privacy_leaks"  # code
HIDDEN_LINKS = "xuncha_hidden_links"  # code (暗链: links hidden on the homepage, listed under /api/)
# 带病运行: a site registered as closed that still answers; 关停公告 missing on a closing site.
SITE_CLOSED_BUT_ONLINE = "xuncha_site_closed_but_online"  # code
SITE_CLOSURE_NOTICE_SHOWN = "xuncha_site_closure_notice_shown"  # code (closing sites only)
# Checks whose result showed a veto finding, per finding (the gauges above are the latest result only).
# A count that did not move between two instants means no check saw the finding between them: the
# quarterly report reads these at a few instants instead of every sample of the gauges.
SITE_FINDINGS_TOTAL = "xuncha_site_findings_total"  # code, finding (one of SITE_FINDINGS)
SITE_FINDINGS = (
    "serious_errors", "privacy_leaks", "hidden_links", "blank_columns", "closed_but_online",
    # the services probe's (issue 18): appended, so a count stored before them continues
    "incomplete_guides", "no_services",
    # issue 19's security findings (appended after issue 18's, for the same reason)
    "malicious_scripts",
)  # fmt: skip
# --- issue 19: security findings ----------------------------------------------
# 挂马 and crypto-mining: injected scripts and frames on the homepage and column pages (listed under /api/).
SITE_MALICIOUS_SCRIPTS = "xuncha_site_malicious_scripts"  # code
# 伪造发稿日期: column items that first appeared after a check that did not show them, dated before it.
SITE_BACKDATED_ITEMS = "xuncha_site_backdated_items"  # code
# --- services (服务不实用, issue 18) ----------------------------------------------------------
# The guides read in the latest services run, by state: complete (no element category missing),
# partial (some), incomplete (at least services.missing_elements).  What the score deducts reads these.
SITE_SERVICE_GUIDES = "xuncha_site_service_guides"  # code, state (one of SERVICE_GUIDE_STATES)
SERVICE_GUIDE_STATES = ("complete", "partial", "incomplete")
SITE_NO_SERVICES = "xuncha_site_no_services"  # code (1: no 办事服务 column, no way into the 政务服务网)

# --- the score (扣分 / 总分, issue 19: domain.scoring) ----------------------------------------------
SITE_SCORE = "xuncha_site_score"  # code (总分 from the measured items; under 60 unqualified)
SITE_DEDUCTIONS = "xuncha_site_deductions"  # code, item (points deducted per measured item, 0 included)
COLUMN_LINKS_CHECKED = "xuncha_column_links_checked"  # code (links of column pages and their first articles)
COLUMN_LINKS_BROKEN = "xuncha_column_links_broken"  # code
PAGE_TAGS_MISSING = "xuncha_page_tags_missing"  # code (column pages and first articles missing a standard tag)

# --- new media (政务新媒体) ---------------------------------------------------
FEED_SUCCESS = "xuncha_feed_success"  # account
FEED_LAST_ENTRY = "xuncha_feed_last_entry_timestamp_seconds"  # account
FEED_ENTRIES_RECENT = "xuncha_feed_entries_recent"  # account (entries in the last 14 days)
ACCOUNT_NOT_DEREGISTERED = "xuncha_account_not_deregistered"  # account (stopped accounts only; 1: still live)
ACCOUNT_FINDINGS_TOTAL = "xuncha_account_findings_total"  # account, finding (one of ACCOUNT_FINDINGS)
ACCOUNT_FINDINGS = ("not_deregistered", "serious_errors", "privacy_leaks")
# --- accounts' posts (issue 18): the content probe's dictionaries on each post's title and summary ---
ACCOUNT_SERIOUS_ERRORS = "xuncha_account_serious_errors"  # account (different wrong expressions in posts)
ACCOUNT_PRIVACY_LEAKS = "xuncha_account_privacy_leaks"  # account (valid resident ID numbers in posts)

# --- 互动回应差: message lists read as messages (probes/interaction.py) ----------------------------
# 1: the column's rows show a state (已回复/未回复…) and it is judged by its messages; 0: no row shows one,
# and it is judged by its newest item like any column (xuncha_column_last_update_timestamp_seconds).
INTERACTION_STATE_SHOWN = "xuncha_interaction_state_shown"  # code, column
# Per configured interaction column: 1 if it is a consultation channel, 0 if not (网上信访, 纪检举报, 在线访谈,
# 调查征集 by name, or its consultation: key): a 0 column is not judged for 互动回应差 at all.
INTERACTION_CONSULTATION = "xuncha_interaction_consultation"  # code, column
# The question date of the oldest message asked in the past year still unanswered (absent: none).
INTERACTION_OLDEST_UNANSWERED = "xuncha_interaction_oldest_unanswered_timestamp_seconds"  # code, column
INTERACTION_MESSAGES = "xuncha_interaction_messages"  # code, column, state (answered|unanswered|unknown)
INTERACTION_STATES = ("answered", "unanswered", "unknown")
# Answered messages of the past year (the scoring table's "no valid letter answered in a year").
INTERACTION_ANSWERED = "xuncha_interaction_answered_messages"  # code, column
# Unanswered messages of the past year older than the veto line (content.stale_days.interaction).
INTERACTION_OVERDUE = "xuncha_interaction_overdue_messages"  # code, column
# From question to reply, over the answered messages whose both dates are shown: stat = max | median.
INTERACTION_REPLY_SECONDS = "xuncha_interaction_reply_seconds"  # code, column, stat
# Effective consultation channels: configured interaction columns that count, else the ones discovered
# on the homepage; 0 is the veto no_consultation_channel (网上信访, 纪检举报, 在线访谈, 调查征集 do not count).
SITE_CONSULTATION_CHANNELS = "xuncha_site_consultation_channels"  # code

# --- self-metrics -----------------------------------------------------------
BUILD_INFO = "xuncha_build_info"  # version, python
CONFIG_LAST_RELOAD_SUCCESSFUL = "xuncha_config_last_reload_successful"
CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP = "xuncha_config_last_reload_success_timestamp_seconds"
TARGETS = "xuncha_targets"  # kind (site|account)
PROBE_DURATION_SECONDS = "xuncha_probe_duration_seconds"  # kind (histogram)
SCHEDULER_LAG_SECONDS = "xuncha_scheduler_lag_seconds"  # kind (histogram)
PROBES_IN_FLIGHT = "xuncha_probes_in_flight"
PROBE_RUNS_TOTAL = "xuncha_probe_runs_total"  # kind, result (success|failure)
SHARD_INFO = "xuncha_shard_info"  # shard, shards

# --- worker processes (workers: above 1; agent.workers.supervisor) ------------------------------------
WORKERS = "xuncha_workers"  # worker processes configured
WORKERS_UP = "xuncha_workers_up"  # worker processes running
WORKER_RESTARTS_TOTAL = "xuncha_worker_restarts_total"  # worker
WORKER_RESIDENT_MEMORY_BYTES = "xuncha_worker_resident_memory_bytes"  # worker
WORKER_CPU_SECONDS_TOTAL = "xuncha_worker_cpu_seconds_total"  # worker
