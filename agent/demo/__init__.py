"""The loopback world that tests and ``xuncha demo`` run in.

Nothing here touches the internet: a small authoritative DNS server
(:mod:`agent.demo.dnsserver`), a throw-away certificate authority
(:mod:`agent.demo.pki`), servers that misbehave on purpose
(:mod:`agent.demo.hostile`) and a simulated fleet of government sites modelled on
the inspection reports (:mod:`agent.demo.fleet`).  The demo's host names end in
``.gov.cn`` to look real, but they are only ever resolved through the demo's own
DNS server, which answers them with 127.0.0.1.
"""
