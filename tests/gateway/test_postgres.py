"""What only PostgreSQL needs: correct across hosts with writers at the same time.

Each test opens several stores on one fresh database (each one its own pool, as another
gateway host would) in the session's real PostgreSQL.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest
import requests

from kds_device.domain.events import EventType
from kds_device.gateway.journal import Journal
from kds_device.gateway.notifier import Notifier
from kds_device.gateway.outbox import Outbox
from kds_device.gateway.pg_store import PostgresStore
from kds_device.gateway.storage import StorageUnavailable
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import wait_until
from tests.fixtures.pg_cluster import PostgresCluster

STORES = ("postgresql",)
pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def hosts(postgres: PostgresCluster) -> Iterator[Callable[..., PostgresStore]]:
    """Opens stores on one fresh database: ``hosts()`` is another gateway host's store."""
    url = postgres.create_database()
    opened: list[PostgresStore] = []

    def open_one(busy_timeout_s: float = 10.0) -> PostgresStore:
        opened.append(PostgresStore(url, busy_timeout_s))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def test_notify_wakes_the_waiters_of_another_host(hosts: Callable[..., PostgresStore]) -> None:
    here, there = hosts(), hosts()
    ringing = Notifier(here.bell, "journal")
    waiting = Notifier(there.bell, "journal")
    try:
        for _ in range(3):
            generation = waiting.generation
            started = time.monotonic()
            ringing.notify()
            assert waiting.wait_past(generation, 5.0), "no wake-up through NOTIFY"
            assert time.monotonic() - started < 1.0
    finally:
        ringing.close()
        waiting.close()


def test_the_mqtt_feed_never_skips_an_event_that_commits_after_a_later_one(
    hosts: Callable[..., PostgresStore],
) -> None:
    """Event ids are handed out at insert: a transaction that inserts first and commits last
    must still be published (a plain ``id > cursor`` feed would step over it)."""
    first_host, second_host = Journal(hosts()), Journal(hosts())
    first_host.register("a", "acc", "ref")
    first_host.register("b", "acc", "ref")
    with first_host.db.write() as slow:  # a's event takes the lower id and stays uncommitted
        first_host.append(slow, "a", EventType.PRODUCTS_SYNCED, None, {"count": 1}, time.time())
        second_host.sync_products("b", [{"plu": "x"}])  # b's commits first, with a higher id
        held_back = second_host.published_form_since((0, 0))
        assert held_back == []  # nothing after an uncommitted event is handed out yet
    feed = second_host.published_form_since((0, 0))
    assert [location for _, location, _ in feed] == ["a", "b"]
    assert second_host.published_form_since(feed[-1][0]) == []
    ids = [position[1] for position, _, _ in feed]
    assert ids == sorted(ids)  # here commit order and id order agree again


def test_seq_stays_gap_free_with_hosts_writing_one_location_at_once(
    hosts: Callable[..., PostgresStore],
) -> None:
    journals = [Journal(hosts()) for _ in range(3)]
    journals[0].register("a", "acc", "ref")
    errors: list[BaseException] = []

    def write(journal: Journal, seed: int) -> None:
        gen = OrderGenerator(seed=seed, location="a")
        try:
            for _ in range(30):
                order = gen.order()
                journal.receive_order("a", order["orderId"], order)
        except BaseException as problem:
            errors.append(problem)

    threads = [
        threading.Thread(target=write, args=(journal, seed))
        for seed, journal in enumerate(journals * 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert [e.seq for e in journals[1].events_after("a", 0, limit=1000)] == list(range(1, 181))
    feed = journals[2].published_form_since((0, 0), limit=1000)
    assert len(feed) == 180 and len({position for position, _, _ in feed}) == 180


def test_a_claim_skips_outbox_rows_another_host_has_locked(
    hosts: Callable[..., PostgresStore],
) -> None:
    store = hosts(busy_timeout_s=3.0)
    journal = Journal(store)
    journal.register("a", "acc", "ref")
    now = time.time()
    with store.write() as tx:
        for order in ("o1", "o2"):
            tx.execute(
                "INSERT INTO outbox (location_id, order_id, status, next_at, created)"
                " VALUES (?, ?, 50, ?, ?)",
                ("a", order, now, now),
            )
    other = hosts()
    with other.write() as locking:  # another host is sending o1 right now
        locking.execute("SELECT id FROM outbox WHERE order_id = 'o1' FOR UPDATE")
        started = time.monotonic()
        claimed = Outbox(journal, "host-1-x", lease_s=30).claim()
        assert time.monotonic() - started < 2.0  # not waiting for the lock
    assert [item.order_id for item in claimed] == ["o2"]


def test_a_read_only_database_answers_503_and_recovers_losing_nothing(
    make_gateway: Callable[..., GatewayProcess], postgres: PostgresCluster, loc: str
) -> None:
    gateway = make_gateway()
    gateway.register(loc)
    gen = OrderGenerator(seed=31, location=loc)
    name = gateway.database_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url("postgres"), autocommit=True) as admin:

        def cut_sessions() -> None:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )

        admin.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
        cut_sessions()
        order = gen.order()
        answers: list[requests.Response] = []
        wait_until(
            lambda: (
                answers.append(gateway.send_order(loc, order)) or answers[-1].status_code == 503
            ),
            what="a 503 while read-only",
        )
        refused = answers[-1]
        assert all(answer.status_code == 503 for answer in answers)  # never a 500, never a 2xx
        assert refused.headers["Retry-After"] and refused.json()["error"] == "unavailable"
        wait_until(
            lambda: (
                gateway.session.get(f"{gateway.base_url}/api/v1/health").json().get("storage")
                == "readonly"
            ),
            what="health saying read-only",
        )
        admin.execute(f"ALTER DATABASE {name} RESET default_transaction_read_only")
        cut_sessions()
    wait_until(lambda: gateway.send_order(loc, order).status_code == 200, what="recovery")
    health = gateway.session.get(f"{gateway.base_url}/api/v1/health")
    assert health.status_code == 200 and health.json() == {"ok": True}
    events = gateway.journal().events_after(loc, 0)
    assert [e.order_id for e in events] == [order["orderId"]]


def test_a_store_that_cannot_reach_its_server_says_so(postgres: PostgresCluster) -> None:
    """It starts anyway (a gateway or worker started during an outage answers 503 until the
    server is back) and says why at every use."""
    unused = postgres.url("postgres").replace(str(postgres.port), "1")
    store = PostgresStore(unused, busy_timeout_s=1.0)
    try:
        fault = store.health.fault
        assert fault is not None and fault.kind == "unreachable"
        with pytest.raises(StorageUnavailable) as problem:
            store.read().execute("SELECT 1")
        assert problem.value.kind == "unreachable"
        checked = store.check()
        assert checked is not None and checked.kind == "unreachable"
    finally:
        store.close()


def test_a_database_server_that_goes_away_answers_503_and_is_found_again(
    make_gateway: Callable[..., GatewayProcess], loc: str
) -> None:
    """The server stopped under a running gateway (a crash, a failover): 503 with
    ``storage: unreachable`` while it is gone, orders taken again once it is back."""
    # Durable (fsync, synchronous commit): the session's cluster is not, and an immediate
    # stop of that one forgets its last commits.
    cluster = PostgresCluster.in_temp_dir("kds-pg-gone-", durable=True)
    try:
        cluster.start()
        gateway = make_gateway(
            database=cluster.create_database(), settings={"database": {"busy_timeout_s": 2.0}}
        )
        gateway.register(loc)
        gen = OrderGenerator(seed=32, location=loc)
        cluster.stop()
        order = gen.order()
        answer = gateway.send_order(loc, order)
        assert answer.status_code == 503, answer.text
        assert answer.json()["storage"] == "unreachable" and answer.headers["Retry-After"]
        health = gateway.session.get(f"{gateway.base_url}/api/v1/health", timeout=10)
        assert health.status_code == 503 and health.json()["storage"] == "unreachable"
        cluster.restart()
        wait_until(
            lambda: gateway.send_order(loc, order).status_code == 200, 30, "orders taken again"
        )
        events = gateway.journal().events_after(loc, 0)
        assert [e.order_id for e in events] == [order["orderId"]]
    finally:
        cluster.stop()
        shutil.rmtree(cluster.directory, ignore_errors=True)


def test_a_nul_in_a_key_or_reason_is_stored_and_still_matches_itself(
    shared_gateway: GatewayProcess, loc: str
) -> None:
    """PostgreSQL's text cannot hold NUL; the store keeps U+FFFD in its place, so a retried
    status with the same odd key is still recognised (never a 5xx)."""
    gateway = shared_gateway
    gateway.register(loc)
    order = OrderGenerator(seed=33, location=loc).order()
    assert gateway.send_order(loc, order).status_code == 200
    device = gateway.enroll_device(loc)
    first = gateway.post_status(device, order["orderId"], 50, key="k\x00ey", reason="r\x00")
    again = gateway.post_status(device, order["orderId"], 50, key="k\x00ey", reason="r\x00")
    assert first.status_code == 200 and first.json()["accepted"], first.text
    assert again.status_code == 200 and again.json() == first.json()
