"""The probe library: one module per probe kind, each ``async def probe(target, ctx) -> Result``.

| kind | module | target |
|---|---|---|
| http | :mod:`probes.http` | a site's homepage visit |
| dns | :mod:`probes.dns` | a site's host |
| tls | :mod:`probes.tls` | a site's certificate |
| content | :mod:`probes.content_probe` | a site's homepage and columns, judged (:mod:`probes.content`) |
| links | :mod:`probes.links` | a site's homepage links |
| feed | :mod:`probes.feed` | an account's feed |

Targets are :mod:`domain.registry` values; the context (:mod:`probes.context`)
brings settings, network (:mod:`probes.net`), state and clock; results are
:mod:`probes.results`.  The library imports nothing of the app: the app declares
each kind once (``agent/kinds.py``) with its interval, deadline and metrics.
"""
