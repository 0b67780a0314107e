"""Findings: what is wrong with a site or account now, and the 通报-style table of them (pure).

``findings`` judges the latest results by the configuration's lines for ``/api/findings``;
``table`` words them as the quarterly 通报 does for ``xuncha report`` without ``--prometheus``.
No I/O.  May import ``agent.registry`` (the configuration's types), ``probes/`` (the result
types) and ``domain/``.
"""
