"""``/metrics``: what the agent exposes and how it is rendered.

``families`` declares every per-target metric family once, in exposition order, with each
probe kind's emitter; ``collector`` renders the cached per-target text and the agent's own
series into the body (plain or gzip); ``selfmetrics`` are the agent's own counters and
gauges.  The names come from ``domain.metric_names``.  May import ``agent.registry`` (the
configuration it renders), ``agent.run.results``, ``agent.workers.gzipjoin``, ``agent.kinds``,
``agent.limits``, ``probes/`` (the result types) and ``domain/``.
"""
