"""The content judges: pure functions over fetched pages (issue 3).

``decode`` (bytes → text), ``dates`` (publication dates), ``extract`` (HTML →
items, links, text), ``columns`` (freshness, blank columns, candidates),
``compliance`` (required elements), ``serious`` (wrong expressions),
``privacy`` (resident ID numbers), ``fingerprint`` (change tracking of
navigation-only homepages).  The probes that do the I/O are
:mod:`probes.content_probe` and :mod:`probes.links`.
"""
