"""The domain: what Xuncha watches, with which settings, against which lines.

A leaf package: it imports nothing of ``probes/``, ``agent/`` or ``dashboards/``,
and all three import it (``docs/architecture.md``).

- :mod:`domain.registry` — the registry's types: :class:`Site`, :class:`Column`,
  :class:`Account`, :class:`Region`.
- :mod:`domain.settings` — the probe settings (``dns:``, ``tls:``, ``http:``,
  ``content:``, ``links:``, ``feeds:``, ``concurrency:`` of ``xuncha.yml``).
- :mod:`domain.thresholds` — every warning and veto line, for findings, the
  report, alerts and dashboards.
- :mod:`domain.clock` — Beijing time and the earliest plausible publication date.

Loading and validating a configuration is the app's job (``agent.registry.config``).
"""
