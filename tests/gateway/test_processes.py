"""Several real gateway processes on one database, and how a gateway stops.

Two ``kds-gateway serve`` processes (one worker each) share one SQLite file, as two gunicorn
workers do, but each on its own port so a test picks which process gets which request. The
periodic re-checks are set to 5 s: a reaction within a second can only be the doorbell.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil
import pytest
import requests

from kds_device.gateway.doorbell import bell_directory
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.fixtures.mosquitto import Mosquitto

pytestmark = pytest.mark.timeout(90)

SLOW_RECHECK: dict[str, dict[str, Any]] = {"server": {"workers": 1}, "database": {"recheck_s": 5.0}}
#: Well under the 5 s re-check, with room for a loaded CI machine.
WITHIN_S = 1.0
#: Time for a request sent from a thread to reach its handler and wait there; there is no
#: outside sign of a held long-poll to wait on instead.
SETTLE_S = 0.5


def settings(**sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    merged = {name: dict(values) for name, values in SLOW_RECHECK.items()}
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    return merged


def long_poll(
    gateway: GatewayProcess, device: EnrolledDevice, after: int, wait: float
) -> tuple[threading.Thread, dict[str, Any]]:
    """``GET /events`` held in a thread (own connection, closed after the answer)."""
    result: dict[str, Any] = {}

    def poll() -> None:
        try:
            response = requests.get(
                f"{gateway.base_url}/api/v1/events",
                params={"after": after, "wait": wait},
                headers={**device.headers, "Connection": "close"},
                timeout=wait + 10,
            )
            result.update(code=response.status_code, body=response.json())
        except requests.RequestException as problem:
            result.update(error=problem)
        result["done"] = time.monotonic()

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    return thread, result


def test_a_webhook_in_one_process_wakes_a_long_poll_held_by_another(
    make_gateway: Callable[..., GatewayProcess], loc: str
) -> None:
    holder = make_gateway(settings=settings())
    writer = make_gateway(settings=settings(), database=holder.database)
    writer.register(loc)
    device = holder.enroll_device(loc)
    gen = OrderGenerator(seed=21, location=loc)
    for round_ in range(3):
        thread, result = long_poll(holder, device, after=round_, wait=20)
        thread.join(SETTLE_S)
        assert thread.is_alive(), "the long-poll answered before anything happened"
        order = gen.order()
        assert writer.send_order(loc, order).status_code == 200
        landed = time.monotonic()
        thread.join(15)
        assert result["code"] == 200
        assert [e["orderId"] for e in result["body"]["events"]] == [order["orderId"]]
        assert result["done"] - landed < WITHIN_S, f"round {round_}: woken by the re-check"


def test_a_webhook_in_one_process_is_published_by_the_other(
    make_gateway: Callable[..., GatewayProcess], mosquitto: Mosquitto, loc: str
) -> None:
    publisher = make_gateway(mqtt=mosquitto, settings=settings())
    writer = make_gateway(settings=settings(), database=publisher.database)  # no MQTT of its own
    subscriber = mosquitto.subscribe(f"kds/{loc}/events")
    writer.register(loc)
    gen = OrderGenerator(seed=22, location=loc)
    first = gen.order()
    assert writer.send_order(loc, first).status_code == 200
    subscriber.wait_for(lambda got: len(got) >= 1, 15, "the first event (publisher connected)")
    for round_ in range(3):
        order = gen.order()
        assert writer.send_order(loc, order).status_code == 200
        landed = time.monotonic()
        oid = order["orderId"]
        got = subscriber.wait_for(lambda got: any(m.get("orderId") == oid for m in got), 10)  # noqa: B023
        assert time.monotonic() - landed < WITHIN_S, f"round {round_}: published on re-check"
        assert got[-1]["orderId"] == order["orderId"]


def test_a_status_posted_to_one_process_is_sent_by_the_others_outbox(
    make_gateway: Callable[..., GatewayProcess], deliverect_sim: DeliverectSim, loc: str
) -> None:
    sender = make_gateway(deliverect=deliverect_sim, settings=settings(outbox={"poll_s": 5.0}))
    taker = make_gateway(settings=settings(), database=sender.database)  # its outbox is off
    taker.register(loc)
    device = taker.enroll_device(loc)
    gen = OrderGenerator(seed=23, location=loc)
    for round_ in range(3):
        order = gen.order()
        assert taker.send_order(loc, order).status_code == 200
        response = taker.post_status(device, order["orderId"], 70)
        assert response.status_code == 200 and response.json()["accepted"], response.text
        posted = time.monotonic()
        calls = deliverect_sim.wait_for_calls(round_ + 1, timeout=10)
        assert time.monotonic() - posted < WITHIN_S, f"round {round_}: found by the outbox poll"
        assert calls[-1].order_id == order["orderId"]


@pytest.mark.stores("sqlite")  # PostgreSQL's wake-ups are LISTEN/NOTIFY: no sockets
def test_a_killed_process_leaves_sockets_that_the_next_ring_removes(
    make_gateway: Callable[..., GatewayProcess], loc: str
) -> None:
    survivor = make_gateway(settings=settings())
    victim = make_gateway(settings=settings(), database=survivor.database)
    journal_bells = bell_directory(survivor.db_path, "journal")
    outbox_bells = bell_directory(survivor.db_path, "outbox")
    assert len(os.listdir(journal_bells)) == 2 and len(os.listdir(outbox_bells)) == 2
    victim.kill()  # SIGKILL: nothing is closed, the socket files stay
    assert len(os.listdir(journal_bells)) == 2
    survivor.register(loc)
    device = survivor.enroll_device(loc)
    order = OrderGenerator(seed=24, location=loc).order()
    assert survivor.send_order(loc, order).status_code == 200
    assert len(os.listdir(journal_bells)) == 1  # removed by that webhook's ring, before its 2xx
    assert [e["orderId"] for e in survivor.events(device)["events"]] == [order["orderId"]]
    survivor.post_status(device, order["orderId"], 50)
    assert len(os.listdir(outbox_bells)) == 1
    survivor.stop()  # the last one out removes the directories
    assert not journal_bells.exists() and not outbox_bells.exists()
    assert not journal_bells.parent.exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_answers_held_long_polls_and_exits_at_once(
    make_gateway: Callable[..., GatewayProcess],
    deliverect_sim: DeliverectSim,
    loc: str,
    signum: signal.Signals,
) -> None:
    gateway = make_gateway(deliverect=deliverect_sim)  # the defaults: two workers
    gateway.register(loc)
    device = gateway.enroll_device(loc)
    assert gateway.process is not None
    master = psutil.Process(gateway.process.pid)
    tree = [master, *master.children(recursive=True)]
    assert len(tree) >= 3  # the master and its two workers
    polls = [long_poll(gateway, device, after=0, wait=25) for _ in range(4)]  # both workers
    for thread, _ in polls:
        thread.join(SETTLE_S / 4)
    assert all(thread.is_alive() for thread, _ in polls)
    signalled = time.monotonic()
    os.kill(master.pid, signum)
    for thread, result in polls:
        thread.join(10)
        # A device is best served by a normal, empty answer: it polls again (and finds the
        # restarted gateway) instead of treating the stop as an error.
        assert result.get("code") == 200, result
        assert result["body"]["events"] == [] and result["body"]["lastSeq"] == 0
        assert result["done"] - signalled < 2.0
    _gone, alive = psutil.wait_procs(tree, timeout=max(0.1, signalled + 5.0 - time.monotonic()))
    assert not alive, f"still running 5 s after the signal: {alive}"
    assert time.monotonic() - signalled < 5.0
    assert gateway.process.wait(timeout=1) == 0
    assert "Traceback" not in gateway.log_text()


def lease_holder_pid(gateway: GatewayProcess) -> int | None:
    """The pid in the outbox-worker lease's holder id (``host-pid-random``), if held."""
    row = (
        gateway.db()
        .read()
        .execute("SELECT holder, until FROM leases WHERE name = 'outbox-worker'")
        .fetchone()
    )
    if row is None or row["until"] < time.time():
        return None
    return int(row["holder"].rsplit("-", 2)[1])


def worker_pids(gateway: GatewayProcess) -> set[int]:
    assert gateway.process is not None
    return {child.pid for child in psutil.Process(gateway.process.pid).children(recursive=True)}


def test_one_process_delivers_in_order_and_a_stopping_one_hands_over_at_once(
    make_gateway: Callable[..., GatewayProcess], deliverect_sim: DeliverectSim, loc: str
) -> None:
    first = make_gateway(deliverect=deliverect_sim, settings=settings(outbox={"poll_s": 5.0}))
    second = make_gateway(
        deliverect=deliverect_sim,
        settings=settings(outbox={"poll_s": 5.0}),
        database=first.database,
    )
    first.register(loc)
    device = first.enroll_device(loc)
    gen = OrderGenerator(seed=25, location=loc)
    orders = [gen.order() for _ in range(8)]
    for order in orders:
        assert first.send_order(loc, order).status_code == 200
    for index, order in enumerate(orders):  # a kitchen bumping fast, through both processes
        via = (first, second)[index % 2]
        assert via.post_status(device, order["orderId"], 70).json()["accepted"]
    calls = deliverect_sim.wait_for_calls(len(orders), timeout=15, accepted_only=True)
    assert [c.order_id for c in calls] == [o["orderId"] for o in orders]  # as they were queued
    assert deliverect_sim.tokens_issued == 1  # one process talks to Deliverect
    holder_pid = lease_holder_pid(first)
    holder, standby = (first, second) if holder_pid in worker_pids(first) else (second, first)
    assert holder_pid in worker_pids(holder)

    holder.stop()  # releases the lease and rings: the standby takes over now, not in lease_s
    late = gen.order()
    assert standby.send_order(loc, late).status_code == 200
    assert standby.post_status(device, late["orderId"], 70).json()["accepted"]
    posted = time.monotonic()
    calls = deliverect_sim.wait_for_calls(len(orders) + 1, timeout=15, accepted_only=True)
    assert time.monotonic() - posted < WITHIN_S
    assert calls[-1].order_id == late["orderId"]
    assert lease_holder_pid(standby) in worker_pids(standby)


def test_a_restarted_gateway_does_not_wait_out_its_dead_predecessors_lease(
    make_gateway: Callable[..., GatewayProcess], deliverect_sim: DeliverectSim, loc: str
) -> None:
    gateway = make_gateway(
        deliverect=deliverect_sim, settings={"outbox": {"lease_s": 60.0, "poll_s": 5.0}}
    )
    gateway.register(loc)
    device = gateway.enroll_device(loc)
    gen = OrderGenerator(seed=26, location=loc)
    before, after = gen.order(), gen.order()
    for order in (before, after):
        assert gateway.send_order(loc, order).status_code == 200
    assert gateway.post_status(device, before["orderId"], 70).json()["accepted"]
    deliverect_sim.wait_for_calls(1, timeout=10, accepted_only=True)
    assert lease_holder_pid(gateway) in worker_pids(gateway)
    gateway.kill()  # the lease stays in the database for another minute
    gateway.start()
    assert gateway.post_status(device, after["orderId"], 70).json()["accepted"]
    posted = time.monotonic()
    calls = deliverect_sim.wait_for_calls(2, timeout=30, accepted_only=True)
    assert time.monotonic() - posted < WITHIN_S  # taken over at once: its holder is dead
    assert calls[-1].order_id == after["orderId"]
