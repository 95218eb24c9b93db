"""Connections follow the work, not the threads: pooled, bounded and closed.

The demo serves its in-process gateway with werkzeug's threaded server, which starts a thread
per connection; each of those used to keep an SQLite connection (three open files and up to
2 MB of page cache) for the life of the process.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import psutil
import pytest
import requests

from kds_device.gateway import hmac_auth
from kds_device.gateway.app import Gateway
from kds_device.gateway.config import GatewayConfig
from kds_device.gateway.db import MAX_IDLE_CONNECTIONS
from kds_device.sim.orders import OrderGenerator
from kds_device.sim.serving import ServerThread

#: About SQLite's own connection pool and file descriptors.
STORES = ("sqlite",)
pytestmark = pytest.mark.timeout(120)

REQUESTS = 150


def database_files_open(db_path: Path) -> int:
    """Files of the database (the file itself and its WAL) this process holds open."""
    names = {str(db_path), f"{db_path}-wal"}
    return sum(1 for f in psutil.Process().open_files() if f.path in names)


def test_a_thread_per_request_server_leaves_no_connections_behind(tmp_path: Path) -> None:
    config = GatewayConfig()
    config.database.path = str(tmp_path / "gateway.db")
    config.deliverect.hmac_secret = "secret"
    config.outbox.enabled = False
    gateway = Gateway(config, background=False)
    gen = OrderGenerator(seed=5, location="loc")

    def post(path: str, payload: object) -> requests.Response:
        body = json.dumps(payload).encode()
        return requests.post(
            f"{server.url}{path}",
            data=body,
            headers={
                "Content-Type": "application/json",
                hmac_auth.HEADER: hmac_auth.sign(body, "secret"),
                "Connection": "close",  # a new connection, so a new server thread, each time
            },
            timeout=30,
        )

    def send(count: int) -> None:
        for _ in range(count):
            assert post("/deliverect/loc/orders", gen.order()).status_code == 200
            health = requests.get(
                f"{server.url}/api/v1/health", headers={"Connection": "close"}, timeout=30
            )
            assert health.status_code == 200

    try:
        with ServerThread(gateway.app) as server:
            register = {"accountId": "acc", "locationId": "loc", "externalReference": "r"}
            assert post("/deliverect/register", register).status_code == 200
            senders = [threading.Thread(target=send, args=(REQUESTS // 3,)) for _ in range(3)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join(90)
            assert len(gateway.journal.events_after("loc", 0, 1000)) == 3 * (REQUESTS // 3)
            # At most the idle ones stay open (each holds the file and its WAL).
            assert gateway.db.pool.open_connections <= MAX_IDLE_CONNECTIONS
            assert database_files_open(Path(config.database.path)) <= 2 * MAX_IDLE_CONNECTIONS
    finally:
        gateway.stop()
    assert gateway.db.pool.open_connections == 0
    assert database_files_open(Path(config.database.path)) == 0
