"""Accounts from CSV files in the shape of the inspection reports' annex (seeds/003, 附件 2).

The annex lists 序号, 单位名称, 账号类型, 账号名称, 结果; a registry export adds where the
feed is (订阅地址, or 平台账号 for an RSSHub route) and the account's state (账号状态).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from agent.registry.config import ConfigError, load

# 附件 2 第三季度政务新媒体抽查情况统计表 of seeds/003 (潮州市), all 48 rows.
ANNEX = [
    (1, "潮州市人力资源和社会保障局", "APP", "潮州人社"),
    (2, "潮州市公安局网络警察支队", "百度贴吧", "潮州网警"),
    (3, "潮州市公安局网络警察支队", "百家号", "潮州网警巡查执法"),
    (4, "潮州市公安局", "抖音", "平安潮州"),
    (5, "潮州市公安局", "今日头条", "平安潮州"),
    (6, "潮州市公安局网络警察支队", "今日头条", "潮州网警巡查执法"),
    (7, "潮州市生态环境局", "今日头条", "潮州生态环境"),
    (8, "潮州市公安局", "南方号", "平安潮州"),
    (9, "潮州市市场监督管理局", "南方号", "潮州市市场监管"),
    (10, "潮州市公安局", "企鹅号", "平安潮州"),
    (11, "饶平县人民政府办公室", "企鹅号", "木棉树下"),
    (12, "潮州市公安局", "人民号", "平安潮州"),
    (13, "潮州市工业和信息化局", "微信", "潮州工信"),
    (14, "潮州市公安局", "微信", "平安潮州"),
    (15, "潮州市交警支队市区一大队", "微信", "凤城交警"),
    (16, "潮州市公安局网络警察支队", "微信", "潮州网警巡查执法"),
    (17, "潮州市教育局", "微信", "潮州教育"),
    (18, "潮州市科学技术局", "微信", "潮州科技"),
    (19, "潮州市林业局", "微信", "潮州创森"),
    (20, "潮州市民政局", "微信", "潮州民政"),
    (21, "潮州市人力资源和社会保障局", "微信", "潮州人社"),
    (22, "潮州市商务局", "微信", "潮州商务"),
    (23, "潮州市社会保险基金管理局", "微信", "潮州社保"),
    (24, "潮州市生态环境局", "微信", "潮州生态环境"),
    (25, "潮州市市场监督管理局", "微信", "潮州市场监管"),
    (26, "潮州市司法局", "微信", "潮州司法潮州普法"),
    (27, "潮州市退役军人事务局", "微信", "潮州市退役军人事务局"),
    (28, "潮州市卫生健康局", "微信", "潮州卫生健康局"),
    (29, "潮州市文化广电旅游体育局", "微信", "文化潮州"),
    (30, "潮州市信访局", "微信", "潮州信访"),
    (31, "潮州市医疗保障局", "微信", "潮州医保"),
    (32, "潮州市应急管理局", "微信", "潮州市应急管理"),
    (33, "潮州市政务服务数据管理局", "微信", "潮州政数"),
    (34, "潮州市住房和城乡建设局", "微信", "潮州住建"),
    (35, "潮州市自然资源局", "微信", "潮州市自然资源"),
    (36, "广东潮州凤泉湖高新区管委会", "微信", "广东潮州凤泉湖高新区"),
    (37, "饶平县公安局", "微信", "平安饶平"),
    (38, "饶平县人民政府办公室", "微信", "饶平政府发布"),
    (39, "潮州市公安局", "新浪微博", "平安潮州"),
    (40, "潮州市公安局交警支队", "新浪微博", "潮州交警连心桥"),
    (41, "潮州市公安局网络警察支队", "新浪微博", "潮州网警巡查执法"),
    (42, "潮州市生态环境局", "新浪微博", "潮州市生态环境局"),
    (43, "潮州市司法局", "新浪微博", "潮州司法行政"),
    (44, "潮州市住房公积金管理中心", "微信", "住房公积金管理中心"),
    (45, "潮州市公安局交警支队", "微信", "潮州交警"),
    (46, "潮州市公安局交警支队", "微信", "潮州交警发布"),
    (47, "潮州市城市管理和综合执法局", "微信", "潮州数字城管"),
    (48, "潮州新区", "微信", "潮州新区"),
]
# The two 微信公众号 the same report found stopped but not deregistered (停用未注销).
STOPPED = [
    (49, "潮安区食品药品监督管理局", "微信公众号", "潮安区食品药品监督管理局"),
    (50, "潮安区卫生健康局", "微信公众号", "潮安卫生健康"),
]
ROUTED = {"微信", "微信公众号", "新浪微博", "抖音", "今日头条"}


def _annex_csv(rows: list[tuple[int, str, str, str]], *, status: str = "正常") -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["序号", "单位名称", "账号类型", "账号名称", "结果", "平台账号", "订阅地址", "账号状态"])
    for n, unit, platform, name in rows:
        uid = f"uid{n}" if platform in ROUTED else ""
        feed = "" if uid else f"https://feeds.example.cn/{n}.xml"
        w.writerow([n, unit, platform, name, "合格", uid, feed, status])
    return out.getvalue()


def _load(tmp_path: Path, text: str, *, encoding: str = "utf-8-sig", extra: str = ""):
    (tmp_path / "accounts.csv").write_bytes(text.encode(encoding))
    (tmp_path / "xuncha.yml").write_text(
        f"feeds: {{rsshub: 'http://rsshub.local:1200'}}\naccount_files: [accounts.csv]\n{extra}", encoding="utf-8"
    )
    return load(tmp_path / "xuncha.yml")


def test_the_annex_of_seed_003_imports_cleanly(tmp_path: Path) -> None:
    text = _annex_csv(ANNEX) + _annex_csv(STOPPED, status="已停用").split("\n", 1)[1]
    cfg = _load(tmp_path, text)
    assert len(cfg.accounts) == 50
    assert len({a.id for a in cfg.accounts}) == 50
    by_id = {a.id: a for a in cfg.accounts}
    police = by_id["wechat-平安潮州"]
    assert (police.unit, police.platform, police.name, police.status) == (
        "潮州市公安局",
        "wechat",
        "平安潮州",
        "active",
    )
    assert police.feed == "http://rsshub.local:1200/wechat/mp/uid14"
    assert by_id["weibo-平安潮州"].feed == "http://rsshub.local:1200/weibo/user/uid39"
    assert by_id["douyin-平安潮州"].feed == "http://rsshub.local:1200/douyin/user/uid4"
    assert by_id["app-潮州人社"].feed == "https://feeds.example.cn/1.xml"
    assert {a.platform for a in cfg.accounts} == {
        "app",
        "tieba",
        "baijiahao",
        "douyin",
        "toutiao",
        "nanfang",
        "qq",
        "people",
        "wechat",
        "weibo",
    }
    stopped = sorted(a.name for a in cfg.accounts if a.status == "stopped")
    assert stopped == ["潮安区食品药品监督管理局", "潮安卫生健康"]


def test_a_gbk_export_of_the_annex_imports_too(tmp_path: Path) -> None:
    cfg = _load(tmp_path, _annex_csv(ANNEX[:5]), encoding="gbk")
    assert [a.unit for a in cfg.accounts][0] == "潮州市人力资源和社会保障局"


def test_a_row_without_feed_or_platform_id_names_the_csv_column(tmp_path: Path) -> None:
    text = "单位名称,账号类型,账号名称\n潮州市教育局,微信,潮州教育\n"
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, text)
    (issue,) = e.value.issues
    assert issue.file == "accounts.csv"
    assert issue.entry == "line 2 (wechat-潮州教育)"
    assert issue.field == "订阅地址" and "平台账号" in issue.message


def test_a_platform_id_needs_a_platform_with_a_route(tmp_path: Path) -> None:
    text = "单位名称,账号类型,账号名称,平台账号\n潮州市公安局网络警察支队,百度贴吧,潮州网警,12345\n"
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, text)
    (issue,) = e.value.issues
    assert issue.field == "订阅地址" and "weibo" in issue.message  # it lists the platforms that have routes
    # A route template in the configuration makes the same row valid.
    cfg = _load(
        tmp_path, text, extra="feeds: {rsshub: 'http://rsshub.local:1200', routes: {tieba: '/tieba/user/{uid}'}}\n"
    )
    assert cfg.accounts[0].feed == "http://rsshub.local:1200/tieba/user/12345"


def test_stopped_states_as_written_in_reports(tmp_path: Path) -> None:
    text = "单位名称,账号类型,账号名称,订阅地址,账号状态\n" + "".join(
        f"潮安区某局,微信,号{i},https://f.example.cn/{i},{s}\n"
        for i, s in enumerate(["已停用", "停用", "停止更新", "正常运营"])
    )
    cfg = _load(tmp_path, text)
    assert [a.status for a in cfg.accounts] == ["stopped", "stopped", "stopped", "active"]


def test_an_unknown_state_is_an_error_naming_line_and_field(tmp_path: Path) -> None:
    text = "单位名称,账号类型,账号名称,订阅地址,账号状态\n潮州市商务局,微信,潮州商务,https://f.example.cn/1,半停\n"
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, text)
    (issue,) = e.value.issues
    assert (issue.entry, issue.field) == ("line 2 (wechat-潮州商务)", "status")


def test_the_same_account_twice_is_a_duplicate_naming_both_lines(tmp_path: Path) -> None:
    text = (
        "单位名称,账号类型,账号名称,平台账号\n"
        "潮州市公安局交警支队,微信,潮州交警,a1\n"
        "潮州市交警支队市区一大队,微信公众号,潮州 交警,a2\n"  # the same derived id, spaces from a PDF copy
    )
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, text)
    (issue,) = e.value.issues
    assert issue.field == "id" and "wechat-潮州交警" in issue.message and "line 2" in issue.message
    assert "accounts.csv" in str(issue) and "line 3" in issue.entry


def test_an_id_column_keeps_same_named_accounts_apart(tmp_path: Path) -> None:
    text = (
        "账号标识,单位名称,账号类型,账号名称,平台账号\n"
        "cz-traffic,潮州市公安局交警支队,微信,潮州交警,a1\n"
        "cz-traffic-1,潮州市交警支队市区一大队,微信,潮州交警,a2\n"
    )
    assert [a.id for a in _load(tmp_path, text).accounts] == ["cz-traffic", "cz-traffic-1"]


# --- an account's region (issue 10): its `region` field, else the region its unit's name starts with --


def test_the_annex_accounts_get_their_region_from_the_unit_name(tmp_path: Path) -> None:
    cfg = _load(tmp_path, _annex_csv(ANNEX))
    region = {a.unit: a.region.name for a in cfg.accounts}
    assert region["潮州市公安局"] == "广东省潮州市"
    assert region["饶平县公安局"] == "广东省潮州市饶平县"
    assert {a.region.province for a in cfg.accounts if a.unit == "潮州市教育局"} == {"广东省"}
    # a unit named without a division name gets none: give it a region (or a 地区 column)
    assert region["广东潮州凤泉湖高新区管委会"] == ""


def test_a_region_column_or_field_names_the_region_by_name_or_code(tmp_path: Path) -> None:
    text = (
        "单位名称,账号类型,账号名称,订阅地址,地区\n凤泉湖高新区管委会,微信,凤泉湖,https://f.example.cn/1.xml,潮州市\n"
    )
    extra = """accounts:
  - {id: a1, unit: 某中心, platform: weibo, name: 甲, feed: "https://f.example.cn/2.xml", region: "440507"}
  - {id: a2, unit: 潮州市公安局, platform: weibo, name: 乙, feed: "https://f.example.cn/3.xml", region: 长沙市}
"""
    cfg = _load(tmp_path, text, extra=extra)
    by_id = {a.id: a.region for a in cfg.accounts}
    assert by_id["wechat-凤泉湖"].name == "广东省潮州市"
    assert (by_id["a1"].name, by_id["a1"].province) == ("广东省汕头市龙湖区", "广东省")
    assert by_id["a2"].name == "湖南省长沙市"  # the field wins over the unit's name


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("朝阳区", "ambiguous (北京市朝阳区、吉林省长春市朝阳区"),
        ("火星市", "is not a region name or 6-digit division code"),
        ("999999", "is not a division code"),
    ],
)
def test_a_bad_region_is_an_error_naming_entry_and_field(tmp_path: Path, value: str, says: str) -> None:
    extra = f'accounts:\n  - {{id: a1, unit: 某中心, platform: weibo, name: 甲, feed: "https://f.example.cn/2.xml", region: "{value}"}}\n'
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, "单位名称,账号类型,账号名称,订阅地址\n", extra=extra)
    (issue,) = e.value.issues
    assert issue.file.endswith("xuncha.yml") and issue.field == "region" and "a1" in issue.entry
    assert says in issue.message
