"""Part and item requests in the device outbox, against the real gateway with station rules:
stored before they travel, kept through a gateway outage and a restart of the sender, sent in
order with their keys (the gateway journals each once and derives 50/60 from them), final
refusals dropped and listed; an outbox file of the previous schema still works."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kds_device.adapters.backoff import Backoff
from kds_device.adapters.device_outbox import DeviceOutbox, OutboxDatabase, outbox_path
from kds_device.adapters.gateway_client import GatewayClient
from kds_device.domain.ticket import ItemChange, PartChange, StatusChange
from tests.fixtures.deliverect_sim import DeliverectSim
from tests.fixtures.device import InboxRecorder, identity_of
from tests.fixtures.gateway import GatewayProcess
from tests.gateway.stations_kit import SIM_RULES, item, order, set_rules

pytestmark = pytest.mark.timeout(90)

LOCATION = "loc-outbox-parts"


def _kitchen(gateway: GatewayProcess) -> str:
    gateway.register(LOCATION)
    set_rules(gateway, LOCATION, SIM_RULES)
    payload = order("ord-parts-1", item("BRG-SMK", "Smokehouse Burger"), item("FRI-REG", "Fries"))
    assert gateway.send_order(LOCATION, payload).ok
    return str(payload["orderId"])


def _outbox(directory: Path, client: GatewayClient, recorder: InboxRecorder) -> DeviceOutbox:
    return DeviceOutbox(
        OutboxDatabase(outbox_path(directory)),
        client,
        recorder.inbox,
        backoff=Backoff(initial_s=0.1, maximum_s=0.5),
    )


def _journaled(gateway: GatewayProcess, order_id: str) -> list[tuple[str, dict]]:
    device = gateway.enroll_device(LOCATION, name="reader")
    events = gateway.events(device)["events"]
    return [
        (e["type"], e["data"])
        for e in events
        if e["orderId"] == order_id and e["type"] in ("order.part", "order.item", "order.status")
    ]


def test_parts_and_items_survive_an_outage_and_a_restart_and_arrive_once(
    gateway: GatewayProcess,
    deliverect_sim: DeliverectSim,
    device_dir: Path,
    recorder: InboxRecorder,
) -> None:
    order_id = _kitchen(gateway)
    identity = identity_of(gateway, gateway.enroll_device(LOCATION))
    gateway.stop()
    first = _outbox(device_dir, GatewayClient.for_enrollment(identity), recorder)
    first.start()
    first.submit(ItemChange(order_id, "grill", 0, True, "k-item"))
    first.submit(PartChange(order_id, "grill", True, "k-grill"))
    first.submit(PartChange(order_id, "grill", True, "k-grill"))  # the same key: one row
    recorder.wait_for(lambda r: r.pending == 2, what="two queued")
    first.stop()
    first.database.close()

    gateway.start()
    second = _outbox(device_dir, GatewayClient.for_enrollment(identity), recorder)
    assert [type(q.change) for q in second.database.queued()] == [ItemChange, PartChange]
    second.start()
    try:
        second.submit(PartChange(order_id, "fryer", True, "k-fryer"))
        recorder.wait_for(lambda r: second.pending == 0, what="all sent")
        deliverect_sim.wait_for_calls(2, timeout=15, accepted_only=True)
    finally:
        second.stop()
    journaled = _journaled(gateway, order_id)
    kinds = [(kind, data.get("station"), data.get("status")) for kind, data in journaled]
    assert kinds == [
        ("order.item", "grill", None),
        ("order.status", None, 50),
        ("order.part", "grill", None),
        ("order.part", "fryer", None),
        ("order.status", None, 60),
    ]
    assert [data["key"] for kind, data in journaled if kind != "order.status"] == [
        "k-item",
        "k-grill",
        "k-fryer",
    ]
    assert [(c.order_id, c.status) for c in deliverect_sim.accepted_calls()] == [
        (order_id, 50),
        (order_id, 60),
    ]


def test_a_part_the_gateway_refuses_is_dropped_and_listed_not_retried(
    gateway: GatewayProcess, device_dir: Path, recorder: InboxRecorder
) -> None:
    order_id = _kitchen(gateway)
    identity = identity_of(gateway, gateway.enroll_device(LOCATION))
    outbox = _outbox(device_dir, GatewayClient.for_enrollment(identity), recorder)
    outbox.start()
    try:
        outbox.submit(PartChange(order_id, "bar", True, "k-bar"))  # the order has no bar part
        outbox.submit(ItemChange(order_id, "grill", 7, True, "k-7"))  # no item 7
        outbox.submit(PartChange(order_id, "grill", True, "k-ok"))
        recorder.wait_for(lambda r: outbox.pending == 0, what="queue worked through")
    finally:
        outbox.stop()
    refused = outbox.database.rejected()
    assert [(r[0], r[1], r[2].split(": ")[:2]) for r in refused] == [
        (order_id, 0, ["grill item 7 done", "404 unknown_item"]),
        (order_id, 0, ["bar part done", "404 unknown_station"]),
    ]
    stations = [d["station"] for kind, d in _journaled(gateway, order_id) if kind == "order.part"]
    assert stations == ["grill"]


def test_an_outbox_file_of_the_previous_schema_keeps_its_bumps(tmp_path: Path) -> None:
    path = outbox_path(tmp_path)
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
            order_id TEXT NOT NULL, status INTEGER NOT NULL, created TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '');
        CREATE TABLE rejected (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL,
            order_id TEXT NOT NULL, status INTEGER NOT NULL, error TEXT NOT NULL, at TEXT NOT NULL);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO outbox (key, order_id, status, created) VALUES ('k1', 'o1', 70, 'then');
        PRAGMA user_version=1;
        """
    )
    old.close()
    database = OutboxDatabase(path)
    database.add(PartChange("o2", "grill", False, "k2"))
    assert [q.change for q in database.queued()] == [
        StatusChange("o1", 70, "k1"),
        PartChange("o2", "grill", False, "k2"),
    ]
    database.close()
