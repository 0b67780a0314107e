"""Xuncha (巡查): watch government websites and new-media accounts, export Prometheus metrics."""

__version__ = "0.1.0"
