"""Serve a WSGI app for real on a background thread (tests, the demo, the bench).

werkzeug's threaded server on 127.0.0.1; port 0 picks a free port with no race. Shutting down
does not wait for keep-alive connections a client left open (their threads are daemons).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

from kds_device.sim.deliverect_api import CallRecord, SimState, create_app, sim_state

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Request lines go to debug logging, not stderr at INFO."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, self.path, code)


class ServerThread:
    """``app`` served on ``host:port`` by a daemon thread; ``url`` once started."""

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, name: str = "http"
    ) -> None:
        self._server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        # Do not join request threads on close: a keep-alive client would block shutdown.
        self._server.block_on_close = False  # type: ignore[attr-defined]
        self.host = host
        self.port = int(self._server.port)
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=name,
            daemon=True,
        )

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class RunningSimulator:
    """A simulated Deliverect served in this process: ``base_url`` for the client, ``state``
    for calls, faults and the ``on_call`` hook."""

    base_url: str
    client_id: str
    client_secret: str
    state: SimState
    server: ServerThread

    def stop(self) -> None:
        self.state.stopping.set()  # cut short any slow answer in flight
        self.server.stop()


def start_simulator(
    client_id: str,
    client_secret: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token_ttl_s: float = 86400.0,
    audience: str = "https://api.deliverect.com",
    clock: Callable[[], float] = time.time,
    on_call: Callable[[CallRecord], None] | None = None,
) -> RunningSimulator:
    """Start the simulated Deliverect API on a background thread."""
    app = create_app(
        client_id, client_secret, token_ttl_s, audience=audience, clock=clock, on_call=on_call
    )
    server = ServerThread(app, host, port, name="deliverect-sim").start()
    return RunningSimulator(server.url, client_id, client_secret, sim_state(app), server)
