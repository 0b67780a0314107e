"""The agent's own health: probe durations, scheduler lag, runs, in-flight probes.

These are ordinary client_python metrics on the agent's own registry, updated by
the scheduler (an adapter at the edge); the probes never see them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from domain import metric_names as m

# Probe durations span loopback milliseconds to the 15 s rule and beyond.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120)
_LAG_BUCKETS = (0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900)


def _base(name: str, suffix: str) -> str:
    # client_python appends the suffix itself.
    return name.removesuffix(suffix)


class SelfMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.probe_duration = Histogram(
            m.PROBE_DURATION_SECONDS,
            "Wall time of one probe run, by probe kind.",
            ["kind"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )
        self.scheduler_lag = Histogram(
            m.SCHEDULER_LAG_SECONDS,
            "How late a probe started after it was due, by probe kind.",
            ["kind"],
            buckets=_LAG_BUCKETS,
            registry=registry,
        )
        self.runs = Counter(
            _base(m.PROBE_RUNS_TOTAL, "_total"),
            "Probe runs by kind and result (success|failure).",
            ["kind", "result"],
            registry=registry,
        )
        self.in_flight = Gauge(m.PROBES_IN_FLIGHT, "Probes running now.", registry=registry)
