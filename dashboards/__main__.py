"""``python -m dashboards [--check]``: write (or check) every generated file under ``deploy/``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dashboards.generate import outputs
from dashboards.rules import GRAFANA_URL, RUNBOOK_URL, Options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed file is out of date")
    parser.add_argument(
        "--grafana-url", default=GRAFANA_URL, help="your Grafana, for the alerts' dashboard_url (default: %(default)s)"
    )
    parser.add_argument(
        "--runbook-url",
        default=RUNBOOK_URL,
        help="your copy of docs/runbook.md, for the alerts' runbook_url (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    stale = []
    for rel, content in outputs(Options(grafana_url=args.grafana_url, runbook_url=args.runbook_url)).items():
        path = args.root / rel
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == content:
            continue
        stale.append(rel)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    for rel in stale:
        print(("out of date: " if args.check else "wrote ") + rel)
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
