"""Every generated file of the stack, by path relative to the repository root."""

from __future__ import annotations

from typing import Any

import yaml

from dashboards import fleet, newmedia, rules, site
from dashboards._common import to_json

DASHBOARDS = {"fleet": fleet.build, "site": site.build, "newmedia": newmedia.build}


def prometheus_rule(opts: rules.Options | None = None) -> str:
    """The same groups as a Prometheus Operator ``PrometheusRule``."""
    opts = opts or rules.Options()
    doc: dict[str, Any] = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "xuncha", "labels": {"app.kubernetes.io/name": "xuncha", "release": "prometheus"}},
        "spec": {"groups": rules.recording_groups(opts) + rules.alert_groups(opts)},
    }
    return rules.HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000)


def outputs(opts: rules.Options | None = None) -> dict[str, str]:
    opts = opts or rules.Options()
    out = {f"deploy/prometheus/{name}": text for name, text in rules.render(opts).items()}
    out["deploy/k8s/prometheusrule.yaml"] = prometheus_rule(opts)
    for name, build in DASHBOARDS.items():
        out[f"deploy/grafana/dashboards/{name}.json"] = to_json(build())
    return out
