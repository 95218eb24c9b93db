"""The bench's outside world for ``bench/latency.py``: Deliverect sending orders at a steady
rate (:class:`Sender`) and receiving statuses in its own process (:class:`SimProcess`)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from typing import Any

from latency_trace import Trace


class Sender(threading.Thread):
    """Posts signed order webhooks at a steady rate on one keep-alive connection, noting the
    time of each request's first byte and of its 2xx."""

    def __init__(
        self, gateway: Any, location: str, bodies: list[bytes], rate: float, trace: Trace
    ) -> None:
        super().__init__(name="bench-sender", daemon=True)
        from kds_device.gateway import hmac_auth

        self.port = gateway.port
        self.path = f"/deliverect/{location}/orders"
        self.requests = [
            (json.loads(body)["orderId"], body, {
                "Content-Type": "application/json",
                "User-Agent": "Deliverect/bench",
                hmac_auth.HEADER: hmac_auth.sign(body, gateway.secret),
            })
            for body in bodies
        ]  # fmt: skip
        self.rate = rate
        self.trace = trace
        self.failure: str | None = None
        self.late_s = 0.0  # the most a send started after its slot (a busy machine)
        self.done = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.connect()
        start = time.perf_counter() + 0.1
        try:
            for index, (order_id, body, headers) in enumerate(self.requests):
                slot = start + index / self.rate
                wait = slot - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                self.late_s = max(self.late_s, time.perf_counter() - slot)
                if connection.sock is None:
                    connection.connect()  # the server closed the keep-alive: not timed
                self.trace.mark("post", order_id)
                connection.request("POST", self.path, body, headers)
                response = connection.getresponse()
                answer = response.read()
                self.trace.mark("answered", order_id)
                if response.status // 100 != 2:
                    self.failure = f"order {order_id}: {response.status} {answer[:200]!r}"
                    return
        except (OSError, http.client.HTTPException) as error:
            self.failure = f"sending orders failed: {error!r}"
        finally:
            connection.close()
            self.done.set()


SIM_CHILD = """
import sys, time
from urllib.parse import unquote
from kds_device.sim.deliverect_api import create_app
from kds_device.sim.serving import ServerThread

app = create_app("bench", "bench-secret", 86400.0)

def arrival(environ, start_response):  # the moment a status reaches Deliverect's door
    path = environ.get("PATH_INFO", "")
    if path.startswith("/kds/orderStatus/"):
        print(unquote(path.rsplit("/", 1)[1]), time.perf_counter(), flush=True)
    return app(environ, start_response)

server = ServerThread(arrival, "127.0.0.1", 0, name="deliverect-sim").start()
print("URL", server.url, flush=True)
sys.stdin.read()  # until the bench closes our stdin
"""


class SimProcess:
    """The simulated Deliverect in its own process (as Deliverect is), reporting when each
    status request arrives (before the simulator checks it against Deliverect's OpenAPI
    document, which takes it 5-20 ms): in the bench's process it would also wait for the
    board's frames (the GIL)."""

    def __init__(self, trace: Trace) -> None:
        self.client_id, self.client_secret = "bench", "bench-secret"
        self.trace = trace
        self._received = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SIM_CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().split()
        if first[:1] != ["URL"]:
            raise SystemExit(f"the simulator did not start: {first}")
        self.base_url = first[1]
        threading.Thread(target=self._read, name="sim-reader", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            order_id, at = line.split()
            with self._received:
                self.trace.mark("deliverect", order_id, float(at))
                self._received.notify_all()

    def wait_all(self, ids: list[str], timeout: float) -> bool:
        with self._received:
            received = self.trace.marks["deliverect"]
            return self._received.wait_for(lambda: all(i in received for i in ids), timeout)

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(10)
