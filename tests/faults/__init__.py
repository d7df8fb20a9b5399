"""Fault injection for client tests: a TCP proxy that cuts, stalls or delays connections.

Usage::

    from tests.faults import FaultProxy

    with FaultProxy.to(testbed.endpoint) as proxy:  # forwards to the service's host:port
        client = ContainerRegistryClient(proxy.url, credential, connection_verify=ca)
        proxy.cut_next("down", after_bytes=10_000)
        ...

See ``proxy.py`` for the fault rules and counters.
"""

from __future__ import annotations

from .proxy import ConnectionStats, Fault, FaultEvent, FaultProxy

__all__ = ["FaultProxy", "Fault", "FaultEvent", "ConnectionStats"]
