"""The HTTP side: the endpoints and everything around serving them.

``server`` has the handlers (``/metrics``, ``/healthz``, ``/-/reload``, ``/api/``, ``/report``);
``webconfig`` reads the exporter-toolkit web configuration (pure); ``web`` serves it: TLS,
basic auth, headers, rate limits, the lifecycle gate, the access log and the connection guard.
May import ``agent.registry``, ``agent.run`` (the agent it serves), ``agent.findings``,
``agent.quarterly`` (``/report``) and ``domain/``.
"""
