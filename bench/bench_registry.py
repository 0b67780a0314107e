"""Time to read the national registry: 14,000 sites (4 columns each) and 150,000 accounts.

    python bench/bench_registry.py [--sites 14000] [--accounts 150000] [--format yaml|csv|both]

Writes the registry to a temporary directory (as ``xuncha.yml`` with everything inline, and as
``xuncha.yml`` naming the national-system CSV files), then times ``agent.registry.config.load`` on each:
wall and CPU seconds, and the peak RSS growth of this process.  The agent is ready only after
this (issue 12 asks for ready within 30 s at national size; issue 21 within 10 s).  The
YAML rows also load as ``xuncha run`` does: a first start, which parses and keeps the parsed
document in the state directory, and a restart, which reads it back.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.registry import config as config_mod  # noqa: E402
from domain.divisions import _table  # noqa: E402

CATEGORIES = ("news", "notice", "longterm", "interaction")


def codes(n: int) -> list[str]:
    divisions = [d for d in _table() if d[4:] != "00"]
    return [f"{divisions[i % len(divisions)]}{i // len(divisions) + 1:04d}" for i in range(n)]


def write_yaml(path: Path, sites: int, accounts: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("feeds: {rsshub: 'http://rsshub.internal:1200'}\nsites:\n")
        for i, code in enumerate(codes(sites)):
            url = f"https://www.s{i}.gov.cn/"
            f.write(f'  - code: "{code}"\n    name: 测试{i}区人民政府\n    url: {url}\n    columns:\n')
            for j, cat in enumerate(CATEGORIES):
                f.write(f"      - {{name: 栏目{j}, url: '{url}col/col{j}/index.html', category: {cat}}}\n")
        f.write("accounts:\n")
        for i in range(accounts):
            f.write(f"  - {{id: a{i}, unit: 测试{i}单位, platform: weibo, name: 测试{i}发布, uid: '{1000000 + i}'}}\n")


def write_csv(base: Path, sites: int, accounts: int) -> None:
    with (base / "sites.csv").open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["网站标识码", "网站名称", "首页网址", "主办单位", "网站类型", "运行状态"])
        for i, code in enumerate(codes(sites)):
            w.writerow(
                [
                    code,
                    f"测试{i}区人民政府",
                    f"https://www.s{i}.gov.cn/",
                    f"测试{i}区人民政府办公室",
                    "部门网站",
                    "正常运行",
                ]
            )
    with (base / "accounts.csv").open("w", encoding="gb18030", newline="") as f:
        w = csv.writer(f)
        w.writerow(["单位名称", "账号类型", "账号名称", "平台账号", "账号状态"])
        for i in range(accounts):
            w.writerow([f"测试{i}单位", "新浪微博", f"测试{i}发布", str(1000000 + i), "正常"])
    (base / "xuncha.yml").write_text(
        "feeds: {rsshub: 'http://rsshub.internal:1200'}\nsite_files: [sites.csv]\naccount_files: [accounts.csv]\n",
        encoding="utf-8",
    )


def timed_load(path: Path, state_dir: Path | None = None) -> tuple[float, float, int, int]:
    """``state_dir``: load as ``xuncha run`` does, through the parsed registry kept there."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    c0, w0 = time.process_time(), time.perf_counter()
    cfg = config_mod.load(path, parse_cache=state_dir is not None, state_dir=str(state_dir) if state_dir else None)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) // 1024
    assert len(cfg.sites) and len(cfg.accounts)
    return wall, cpu, grown, len(cfg.sites) + len(cfg.accounts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=14_000)
    ap.add_argument("--accounts", type=int, default=150_000)
    ap.add_argument("--format", choices=("yaml", "csv", "both"), default="both")
    args = ap.parse_args()
    print(f"registry: {args.sites:,} sites (4 columns each), {args.accounts:,} accounts")
    print("| source | file size | load wall s | load CPU s | peak RSS growth MiB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if args.format in ("yaml", "both"):
            (base / "y").mkdir()
            write_yaml(base / "y" / "xuncha.yml", args.sites, args.accounts)
            size = (base / "y" / "xuncha.yml").stat().st_size
            wall, cpu, rss, _ = timed_load(base / "y" / "xuncha.yml")
            print(f"| YAML inline | {size / 1e6:.1f} MB | {wall:.1f} | {cpu:.1f} | {rss} |")
            # As `xuncha run` reads it: the first start parses and keeps the document, a restart
            # reads it back (agent/registry/parsecache.py).
            for label in ("first start", "restart"):
                wall, cpu, rss, _ = timed_load(base / "y" / "xuncha.yml", base / "state")
                print(f"| YAML inline, xuncha run, {label} | {size / 1e6:.1f} MB | {wall:.1f} | {cpu:.1f} | {rss} |")
        if args.format in ("csv", "both"):
            (base / "c").mkdir()
            write_csv(base / "c", args.sites, args.accounts)
            size = sum(p.stat().st_size for p in (base / "c").iterdir())
            wall, cpu, rss, _ = timed_load(base / "c" / "xuncha.yml")
            print(f"| CSV (national system) | {size / 1e6:.1f} MB | {wall:.1f} | {cpu:.1f} | {rss} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
