"""A storage fault is survived, not remembered: each real fault under a running gateway.

``kds-gateway serve`` (two gunicorn workers) takes orders from several "Deliverect" senders that
retry a 5xx as Deliverect does, and status posts from an enrolled screen, while the fault is
made and ended (see ``tests/fixtures/storage_faults.py``). While it lasts every answer is a 2xx
or a 503 with ``Retry-After`` and ``/api/v1/health`` reports it; once it ends the gateway is
healthy again within seconds by itself, a burst of concurrent requests (every worker thread)
gets no 503, and every order and status it acknowledged reached the screen and Deliverect.
Every answer is checked against the OpenAPI document.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil
import pytest
import requests

from kds_device.gateway import hmac_auth
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.fixtures.mosquitto import wait_until
from tests.fixtures.pg_cluster import PostgresCluster
from tests.fixtures.storage_faults import FAULTS, PgDiskFull, StorageFaultMaker
from tests.gateway.contract import Contract

pytestmark = pytest.mark.timeout(180)

SENDERS = 4
#: Concurrent requests of a burst: more than the workers have threads together.
BURST = 24
#: The gateway is to recover by itself within this (generous for a loaded CI machine).
RECOVERY_S = 10.0
SETTINGS: dict[str, dict[str, Any]] = {
    "server": {"workers": 2, "threads": 8},
    # A locked database answers 503 after this long instead of 10 s (the default).
    "database": {"busy_timeout_s": 0.5},
}


@dataclass
class Answer:
    at: float
    what: str  # order | status | burst-order | burst-events
    code: int
    retry_after: str | None


@dataclass
class Traffic:
    """Deliverect's senders and one screen's status posts, recording every answer."""

    gateway: GatewayProcess
    loc: str
    device: EnrolledDevice
    answers: list[Answer] = field(default_factory=list)
    acked_orders: list[str] = field(default_factory=list)
    acked_statuses: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    nonconforming: list[str] = field(default_factory=list)
    #: Requests whose connection broke with no answer (retried like a 5xx).
    dropped: list[Answer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.contract = Contract(self.gateway.base_url)

    def start(self) -> None:
        for index in range(SENDERS):
            thread = threading.Thread(target=self._sender, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def finish(self) -> None:
        """No new orders; each sender retries its last one until it is taken."""
        self.stop.set()
        for thread in self._threads:
            thread.join(60)
            assert not thread.is_alive(), "a sender never got its order taken"

    def record(self, what: str, response: requests.Response) -> None:
        try:
            self.contract.check(response)
        except Exception as problem:  # kept for the test's thread to report
            self.nonconforming.append(f"{what} {response.status_code}: {problem}")
        with self._lock:
            self.answers.append(
                Answer(
                    time.monotonic(),
                    what,
                    response.status_code,
                    response.headers.get("Retry-After"),
                )
            )

    def post(self, session: requests.Session, what: str, url: str, **kwargs: Any) -> int:
        """One request as a sender makes it; 0 when the connection broke with no answer (a
        sender retries that as it retries a 5xx: nothing was acknowledged)."""
        try:
            response = session.post(url, timeout=30, **kwargs)
        except requests.ConnectionError as problem:
            with self._lock:
                self.dropped.append(Answer(time.monotonic(), f"{what}: {problem}", 0, None))
            return 0
        self.record(what, response)
        if what == "status" and response.ok:
            assert response.json()["accepted"], response.text
        return response.status_code

    def post_order(self, session: requests.Session, order: dict[str, Any], what: str) -> int:
        body = json.dumps(order).encode()
        code = self.post(
            session,
            what,
            f"{self.gateway.base_url}/deliverect/{self.loc}/orders",
            data=body,
            headers={
                "Content-Type": "application/json",
                hmac_auth.HEADER: hmac_auth.sign(body, self.gateway.secret),
            },
        )
        if code == 200:
            with self._lock:
                self.acked_orders.append(order["orderId"])
        return code

    def _sender(self, index: int) -> None:
        session = requests.Session()
        gen = OrderGenerator(seed=100 + index, location=self.loc)
        while not self.stop.is_set():
            order = gen.order()
            while self.post_order(session, order, "order") != 200:  # Deliverect retries a 5xx
                time.sleep(0.1)
            key = f"key-{order['orderId']}"
            while True:  # the screen's outbox retries with the same key
                code = self.post(
                    session,
                    "status",
                    f"{self.gateway.base_url}/api/v1/orders/{order['orderId']}/status",
                    json={"status": 50, "key": key},
                    headers=self.device.headers,
                )
                if code == 200:
                    with self._lock:
                        self.acked_statuses.append(order["orderId"])
                    break
                time.sleep(0.1)
            time.sleep(0.05)
        session.close()

    def since(self, start: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.at >= start]


def burst(traffic: Traffic, seed: int) -> list[Answer]:
    """BURST concurrent webhooks and BURST concurrent event reads; their answers."""
    gen = OrderGenerator(seed=seed, location=traffic.loc)
    orders = [gen.order() for _ in range(BURST)]
    start = time.monotonic()

    def webhook(order: dict[str, Any]) -> None:
        with requests.Session() as session:
            traffic.post_order(session, order, "burst-order")

    def events() -> None:
        response = requests.get(
            f"{traffic.gateway.base_url}/api/v1/events",
            params={"after": 0, "wait": 0, "limit": 5},
            headers=traffic.device.headers,
            timeout=30,
        )
        traffic.record("burst-events", response)

    threads = [threading.Thread(target=webhook, args=(o,), daemon=True) for o in orders]
    threads += [threading.Thread(target=events, daemon=True) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return [a for a in traffic.since(start) if a.what.startswith("burst")]


def health(gateway: GatewayProcess) -> requests.Response:
    return requests.get(f"{gateway.base_url}/api/v1/health", timeout=30)


def all_order_ids(gateway: GatewayProcess, device: EnrolledDevice) -> list[str]:
    """Every order the screen can read, by paging through its events."""
    seen: list[str] = []
    after = 0
    while True:
        page = gateway.events(device, after=after, limit=500)
        seen += [e["orderId"] for e in page["events"] if e["type"] == "order.received"]
        if not page["events"]:
            return seen
        after = page["events"][-1]["seq"]


@pytest.fixture(params=FAULTS, ids=lambda maker: maker.name)
def fault(request: pytest.FixtureRequest) -> Iterator[StorageFaultMaker]:
    maker: StorageFaultMaker = request.param()
    yield maker
    maker.cleanup()


@pytest.mark.stores("sqlite")  # faults of a SQLite file (read-only, full, I/O error, lock)
def test_the_gateway_survives_a_storage_fault_and_forgets_it(
    fault: StorageFaultMaker,
    make_gateway: Callable[..., GatewayProcess],
    deliverect_sim: DeliverectSim,
    tmp_path_factory: pytest.TempPathFactory,
    loc: str,
) -> None:
    data = tmp_path_factory.mktemp("storage") / "data"
    fault.prepare(data)
    gateway = make_gateway(
        deliverect=deliverect_sim,
        settings=SETTINGS,
        database=data / "gateway.db",
        wrapper=fault.wrapper(),
    )
    gateway.register(loc)
    traffic = Traffic(gateway, loc, gateway.enroll_device(loc))
    try:
        _survive(fault, gateway, deliverect_sim, traffic)
    finally:
        traffic.stop.set()
        gateway.stop()  # before the fault's clean-up unmounts its directory


@pytest.mark.stores("postgresql")  # read-only and a server gone: see test_postgres.py
def test_the_gateway_survives_a_full_postgresql_disk_and_forgets_it(
    make_gateway: Callable[..., GatewayProcess],
    deliverect_sim: DeliverectSim,
    postgres: PostgresCluster,
    loc: str,
) -> None:
    """The database's tablespace fills up under a running gateway: 503 with ``storage:
    full`` for orders and on ``/health`` (whose probe needs new space too, not just a row
    that fits where it was), nothing acknowledged lost, healthy again once space is freed."""
    fault = PgDiskFull(postgres)
    gateway: GatewayProcess | None = None
    try:
        fault.prepare(PgDiskFull.mount_point())
        gateway = make_gateway(deliverect=deliverect_sim, settings=SETTINGS, database=fault.url)
        gateway.register(loc)
        traffic = Traffic(gateway, loc, gateway.enroll_device(loc))
        try:
            _survive(fault, gateway, deliverect_sim, traffic)
        finally:
            traffic.stop.set()
    finally:
        if gateway is not None:
            gateway.stop()
        fault.cleanup()


def _survive(
    fault: StorageFaultMaker,
    gateway: GatewayProcess,
    deliverect_sim: DeliverectSim,
    traffic: Traffic,
) -> None:
    device = traffic.device
    traffic.start()
    wait_until(lambda: len(traffic.acked_statuses) >= 8, 30, "orders before the fault")

    assert gateway.process is not None
    began = time.monotonic()
    fault.begin(gateway.db_path, gateway.process.pid)
    try:
        seen: list[requests.Response] = []
        wait_until(
            lambda: seen.append(health(gateway)) or seen[-1].status_code == 503,
            20,
            "health to see the fault",
        )
        reported = seen[-1]
        traffic.contract.check(reported)
        assert reported.json()["storage"] == fault.kind, reported.text
        assert reported.json()["ok"] is False and reported.headers["Retry-After"]
        during = burst(traffic, seed=7)  # every thread of both workers, during the fault
        if fault.writes_fail:
            wait_until(
                lambda: any(a.code == 503 for a in traffic.since(began) if a.what == "order"),
                20,
                "an order refused with 503 during the fault",
            )
        assert health(gateway).status_code == 503  # still at fault: it is not over yet
    finally:
        fault.end()
    ended = time.monotonic()

    wait_until(lambda: health(gateway).status_code == 200, RECOVERY_S, "health ok again")
    assert health(gateway).json() == {"ok": True}
    taken = len(traffic.acked_orders)
    wait_until(lambda: len(traffic.acked_orders) > taken + 4, RECOVERY_S, "orders taken again")
    assert time.monotonic() - ended < RECOVERY_S

    after = burst(traffic, seed=8)
    refused = [a for a in after if a.code != 200]
    assert not refused, f"after the fault ended: {refused[:5]}"
    assert not [d for d in traffic.dropped if d.at > ended], traffic.dropped[-3:]
    traffic.finish()

    answers = traffic.since(0)
    assert not traffic.nonconforming, traffic.nonconforming[:3]  # every answer as documented
    assert traffic.contract.checked >= len(answers)
    assert {a.code for a in answers} <= {200, 503}, sorted({a.code for a in answers})
    assert all(a.retry_after for a in answers if a.code == 503)
    if fault.writes_fail:
        assert any(a.code == 503 for a in during), "the burst during the fault was not refused"

    # Nothing acknowledged is lost: every order taken reached the screen (once), every status
    # taken reached Deliverect.
    shown = all_order_ids(gateway, device)
    assert len(shown) == len(set(shown))
    missing = set(traffic.acked_orders) - set(shown)
    assert not missing, f"{len(missing)} acknowledged orders never reached the screen"
    expected = set(traffic.acked_statuses)
    wait_until(
        lambda: expected <= {c.order_id for c in deliverect_sim.accepted_calls()},
        30,
        "every acknowledged status at Deliverect",
    )


def _gone(process: psutil.Process) -> bool:
    """Dead, a zombie, or already reaped by gunicorn (which can happen between two looks)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.stores("sqlite")
def test_a_worker_replaced_during_a_storage_fault_starts_and_the_gateway_stays_up(
    fault: StorageFaultMaker,
    make_gateway: Callable[..., GatewayProcess],
    tmp_path_factory: pytest.TempPathFactory,
    loc: str,
) -> None:
    """A worker dies mid-fault (a crash, the OOM killer, gunicorn's timeout): its replacement
    must start, though it cannot write, and answer 503 until the fault passes. A replacement
    that failed to start used to make gunicorn stop the whole gateway: every connection
    refused, however short the fault."""
    data = tmp_path_factory.mktemp("storage") / "data"
    fault.prepare(data)
    gateway = make_gateway(database=data / "gateway.db", settings=SETTINGS, wrapper=fault.wrapper())
    try:
        gateway.register(loc)
        assert gateway.process is not None
        fault.begin(gateway.db_path, gateway.process.pid)
        try:
            workers = psutil.Process(gateway.process.pid).children()
            assert len(workers) == SETTINGS["server"]["workers"]
            for worker in workers:  # both, one after the other: every worker is a new one
                os.kill(worker.pid, signal.SIGKILL)
                wait_until(lambda w=worker: _gone(w), 10, "the worker gone")
            wait_until(
                lambda: len(psutil.Process(gateway.process.pid).children()) == len(workers),
                20,
                "gunicorn's replacements",
            )
            codes = [health(gateway).status_code for _ in range(8)]
            assert gateway.process.poll() is None, gateway.log_text()[-2000:]
            assert set(codes) <= {200, 503}, codes
        finally:
            fault.end()
        wait_until(lambda: health(gateway).status_code == 200, RECOVERY_S, "health ok again")
        order = OrderGenerator(seed=9, location=loc).order()
        assert gateway.send_order(loc, order).status_code == 200
        assert "Worker failed to boot" not in gateway.log_text()
    finally:
        gateway.stop()
