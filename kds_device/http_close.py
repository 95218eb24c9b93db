"""Closing a ``requests`` session closes its connections, now.

With urllib3 2.8, ``Session.close()`` forgets the session's connection pools without closing
them: their sockets close only when the garbage collector gets to the pools (they sit in a
reference cycle). Until then the server keeps each kept-alive connection open, and a stopping
gunicorn worker waits up to 2 s for a request on it before it exits.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


def close_session(session: requests.Session) -> None:
    """Close every pooled connection of ``session`` and forget its pools. A connection in use
    by another thread is closed when that request is done; the session stays usable (a later
    request opens a new connection)."""
    pools: list[Any] = []
    for adapter in session.adapters.values():
        if not isinstance(adapter, HTTPAdapter):
            continue
        for manager in (adapter.poolmanager, *adapter.proxy_manager.values()):
            pools.extend(manager.pools.get(key) for key in manager.pools.keys())  # noqa: SIM118 (no iteration)
    session.close()
    for pool in pools:
        if pool is not None:
            pool.close()
