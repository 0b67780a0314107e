"""The registry: YAML and CSV, every error naming file, entry and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.registry.config import ConfigError, load, loads
from domain.divisions import region_of
from domain.durations import format_duration, parse_duration

GOOD = """
listen: 127.0.0.1:9725
intervals: {http: 1m, tls: 12h}
http: {timeout: 15s}
sites:
  - code: "4405070010"
    name: 汕头市国土资源局龙湖分局
    url: https://www.longhu.gov.cn/
    kind: department
    columns:
      - {name: 工作动态, url: "https://www.longhu.gov.cn/gzdt/", category: news}
      - {name: 通知公告, url: "https://www.longhu.gov.cn/tzgg/", category: notice}
  - {code: bm55000001, name: 某部委网站, url: "http://www.example.gov.cn/", kind: portal}
"""


def errors_of(text: str, path: str = "xuncha.yml") -> list[str]:
    with pytest.raises(ConfigError) as info:
        loads(text, path=path)
    return [str(i) for i in info.value.issues]


def test_a_valid_configuration_loads_with_regions_from_the_identifiers() -> None:
    cfg = loads(GOOD)
    assert [s.code for s in cfg.sites] == ["4405070010", "bm55000001"]
    assert cfg.sites[0].region.name == "广东省汕头市龙湖区"
    assert cfg.sites[1].region.name == "国务院部门"
    assert cfg.sites[0].columns[1].category == "notice"
    assert cfg.intervals.http == 60 and cfg.intervals.tls == 12 * 3600 and cfg.intervals.dns == 300
    assert cfg.http.timeout == 15


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("4405070010", "广东省汕头市龙湖区"),
        ("5328010055", "云南省西双版纳傣族自治州景洪市"),
        ("1307320007", "河北省张家口市赤城县"),
        ("4312000009", "湖南省怀化市"),
        ("1529000017", "内蒙古自治区阿拉善盟"),
    ],
)
def test_regions_of_identifiers_in_the_seed_reports(code: str, region: str) -> None:
    assert region_of(code).name == region


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("12345", "is not a 网站标识码"),
        ("44050700100", "is not a 网站标识码"),
        ("bm5500001", "is not a 网站标识码"),
        ("9905070010", "is not an administrative division code"),
        ("abcdefghij", "is not a 网站标识码"),
    ],
)
def test_identifiers_of_the_wrong_shape_are_errors(code: str, message: str) -> None:
    errs = errors_of(f'sites: [{{code: "{code}", name: x, url: "http://x.gov.cn/"}}]')
    assert len(errs) == 1 and errs[0].startswith(f"xuncha.yml: sites[0] ({code}): code: ") and message in errs[0]


def test_every_error_is_reported_at_once_naming_file_entry_and_field() -> None:
    errs = errors_of(
        """
intervals: {http: 5}
colour: red
sites:
  - {code: "4405070010", name: a, url: "ftp://a.gov.cn/"}
  - {code: "4405150006", name: b, url: "http://b.gov.cn/", colour: red}
  - {code: "4405150006", name: c, url: "http://c.gov.cn/", status: gone}
  - {code: "4453810038", url: "http://d.gov.cn/"}
  - {code: "4453810038", name: e, url: "http://e.gov.cn/", columns: [{name: 动态, url: "http://e.gov.cn/x", category: misc}]}
""",
        path="/etc/xuncha/xuncha.yml",
    )
    assert errs == [
        "/etc/xuncha/xuncha.yml: colour: unknown key (known: listen, state_dir, workers, dns, tls, http, intervals, concurrency, "
        "content, links, feeds, services, interaction, sites, accounts, site_files, account_files, web, report, scoring)",
        "/etc/xuncha/xuncha.yml: intervals.http: 5 needs a unit, like 5s",
        "/etc/xuncha/xuncha.yml: sites[0] (4405070010): url: 'ftp://a.gov.cn/' must start with http:// or https://",
        "/etc/xuncha/xuncha.yml: sites[1] (4405150006): colour: unknown key "
        "(known: code, name, url, kind, status, organizer, columns, services)",
        "/etc/xuncha/xuncha.yml: sites[2] (4405150006): status: 'gone' is not one of active, closing, closed",
        "/etc/xuncha/xuncha.yml: sites[3] (4453810038): name: is required",
        "/etc/xuncha/xuncha.yml: sites[4] (4453810038): columns: 'misc' is not one of news, notice, longterm, "
        "interaction, service, survey, interview",
    ]


def test_duplicate_codes_are_errors_naming_the_first_definition() -> None:
    errs = errors_of(
        """
sites:
  - {code: "4405070010", name: a, url: "http://a.gov.cn/"}
  - {code: "4405070010", name: b, url: "http://b.gov.cn/"}
"""
    )
    assert errs == [
        "xuncha.yml: sites[1] (4405070010): code: duplicate '4405070010', first defined at sites[0] (4405070010)"
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sites: [\n  - {code: 1", "not valid YAML"),
        ("- just\n- a list", "the top level must be a mapping"),
        ("dns: {nameservers: ['127.0.0.1:99999']}", "dns.nameservers: '127.0.0.1:99999': port must be 1-65535"),
        ("http: {timeout: soon}", "http.timeout: 'soon' is not a duration"),
        ("http: {timeout: 0s}", "must be longer than zero"),
        ("listen: nowhere", "listen: 'nowhere' is not host:port"),
        ("tls: {ca_file: /nonexistent/ca.pem}", "is not a readable file"),
        ("sites: {code: 1}", "sites: must be a list"),
    ],
)
def test_malformed_documents_are_clear_errors(text: str, fragment: str) -> None:
    errs = errors_of(text)
    assert any(fragment in e for e in errs), errs


def test_sites_come_from_a_csv_with_the_reporting_systems_headers(tmp_path: Path) -> None:
    (tmp_path / "sites.csv").write_text(
        "序号,网站名称,网站标识码,首页网址,主办单位,网站类型\n"
        "1,汕头市国土资源局龙湖分局,4405070010,https://www.longhu.gov.cn/,汕头市国土资源局,部门网站\n"
        "2,潮州市人民政府,4451000001,http://www.chaozhou.gov.cn/,潮州市人民政府办公室,门户网站\n",
        encoding="gb18030",
    )
    (tmp_path / "xuncha.yml").write_text("site_files: [sites.csv]\n", encoding="utf-8")
    cfg = load(tmp_path / "xuncha.yml")
    assert [(s.code, s.kind, s.organizer) for s in cfg.sites] == [
        ("4405070010", "department", "汕头市国土资源局"),
        ("4451000001", "portal", "潮州市人民政府办公室"),
    ]
    assert cfg.sites[1].region.name == "广东省潮州市"
    assert tmp_path / "sites.csv" in cfg.files()


def test_csv_errors_name_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "sites.csv").write_text(
        "\ufeff网站名称,网站标识码,首页网址\n好网站,4405070010,http://a.gov.cn/\n坏网站,440507,http://b.gov.cn/\n"
        "重复,4405070010,http://c.gov.cn/\n",
        encoding="utf-8",
    )
    (tmp_path / "xuncha.yml").write_text(
        "site_files: [sites.csv]\nsites: [{code: '4405150006', name: x, url: 'http://x.gov.cn/'}]\n"
    )
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "xuncha.yml")
    errs = [str(i) for i in info.value.issues]
    assert "sites.csv: line 3 (440507): code: '440507' is not a 网站标识码: 10 digits, or bm + 8 digits" in errs
    assert "sites.csv: line 4 (4405070010): code: duplicate '4405070010', first defined at line 2 (4405070010)" in errs


def test_a_csv_without_the_required_columns_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "sites.csv").write_text("名称,地址\na,b\n", encoding="utf-8")
    (tmp_path / "xuncha.yml").write_text("site_files: [sites.csv]\n")
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "xuncha.yml")
    assert "missing column(s)" in str(info.value) and "网站标识码" in str(info.value)


def test_a_missing_configuration_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("14d", 14 * 86400), ("500ms", 0.5), ("1w", 7 * 86400)],
)
def test_durations_use_prometheus_syntax(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("bad", ["", "5", "m5", "5 m", "-5m", "1.5h", "5M"])
def test_durations_of_the_wrong_shape_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_check_config_prints_every_error_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "xuncha.yml"
    path.write_text("sites:\n  - {code: '123', name: a, url: 'ftp://a'}\nbogus: 1\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "check-config", "-c", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert f"{path}: bogus: unknown key" in lines[0]
    assert any("sites[0] (123): code:" in line for line in lines)
    assert any("sites[0] (123): url:" in line for line in lines)
    assert lines[-1] == f"3 error(s) in {path}"


def test_check_config_accepts_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "xuncha.yml"
    path.write_text(GOOD, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "check-config", "-c", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and "2 sites" in proc.stdout


def test_an_extra_wrong_expression_dictionary_is_validated_line_by_line(tmp_path: Path) -> None:
    good = tmp_path / "local.tsv"
    good.write_text("# 本地词表\n潮洲市\t潮州市\t地名误写\n", encoding="utf-8")
    cfg = loads(f"content: {{dictionaries: [{good}]}}", path=str(tmp_path / "xuncha.yml"))
    assert cfg.content.dictionaries == (str(good),)
    bad = tmp_path / "bad.tsv"
    bad.write_text("潮州\t潮州市\n只有一列\n", encoding="utf-8")
    errs = errors_of(f"content: {{dictionaries: [{bad}]}}")
    assert len(errs) == 1 and errs[0].startswith("xuncha.yml: content.dictionaries: ")
    assert f"{bad}:1: '潮州' is part of the correct '潮州市'" in errs[0]
    assert f"{bad}:2: want wrong<TAB>right[<TAB>note]" in errs[0]


def test_the_fast_yaml_loader_reads_every_type_as_the_safe_loader_does() -> None:
    import yaml

    from agent.registry.config import _Loader

    doc = (
        "a: yes\nb: 12\nc: '12'\nd: 1.5\ne: null\nf: ~\ng: 2026-01-01\nh: 龙湖区\nj: http://x/\n"
        "k: [1, two, true, off]\nl: &x {m: 1}\nn: {<<: *x, o: 2}\np: ''\nq: 0x1F\nr: .inf\ns: -3\nt: 5m\n"
    )
    assert yaml.load(doc, Loader=_Loader) == yaml.safe_load(doc)  # noqa: S506


def test_a_yaml_error_still_names_line_and_column_with_the_fast_loader() -> None:
    with pytest.raises(ConfigError) as e:
        loads("sites:\n  - {code: 1\n", path="x.yml")
    assert "x.yml: line" in str(e.value) and "not valid YAML" in str(e.value)


def test_hidden_link_allow_takes_host_names_and_names_a_bad_entry() -> None:
    cfg = loads('content: {hidden_link_allow: [Partner.Example.com, "*.vendor.example.cn"]}')
    assert cfg.content.hidden_link_allow == ("partner.example.com", "vendor.example.cn")
    assert loads("sites: []").content.hidden_link_allow == ()
    errs = errors_of('content: {hidden_link_allow: ["https://partner.example.com/x"]}')
    assert len(errs) == 1 and errs[0].startswith("xuncha.yml: content.hidden_link_allow: ")
    assert "is not a host name" in errs[0]
