"""Helpers of the stations tests: rules files, orders with chosen items, part/item requests."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import requests

import kds_device.sim
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess

SIM_RULES = Path(kds_device.sim.__file__).with_name("stations.toml")

RULES = """
default_station = "grill"
[default_prep_min]
pickup = 10
delivery = 12
[stations.grill]
name = "Grill"
[stations.fryer]
name = "Fryer"
[stations.bar]
name = "Bar"
[stations.cold]
name = "Cold"
[stations.pack]
name = "Pack"
[[rule]]
station = "pack"
plu = ["MEAL-1"]
prep_min = 2
also = true
[[rule]]
station = "fryer"
plu = ["FRY-01", "MEAL-1"]
prep_min = 6
[[rule]]
station = "bar"
tags = [3, "drinks"]
prep_min = 2
[[rule]]
station = "cold"
name = "(?i)salad|slaw"
prep_min = 4
"""


def write_rules(tmp: Path, text: str = RULES, name: str = "rules.toml") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def set_rules(gateway: GatewayProcess, location: str, path: Path) -> str:
    done = gateway.cli("stations", "set", "--location", location, str(path))
    assert done.returncode == 0, done.stderr
    return done.stdout


def item(plu: str, name: str = "", **extra: Any) -> dict[str, Any]:
    return {"plu": plu, "name": name or plu, "quantity": 1, "subItems": [], **extra}


def order(
    order_id: str, *items: dict[str, Any], order_type: int = 1, **extra: Any
) -> dict[str, Any]:
    return {
        "orderId": order_id,
        "channelOrderDisplayId": order_id[-5:],
        "orderType": order_type,
        "pickupTime": "2030-01-01T12:00:00Z",
        "items": list(items),
        "status": 1,
        **extra,
    }


def received(gateway: GatewayProcess, device: EnrolledDevice, order_id: str) -> dict[str, Any]:
    """The data of the order's ``order.received`` event, read through the device API."""
    for event in gateway.events(device, limit=1000)["events"]:
        if event["type"] == "order.received" and event["orderId"] == order_id:
            return dict(event["data"])
    raise AssertionError(f"no order.received for {order_id}")


def events_of(gateway: GatewayProcess, device: EnrolledDevice, kind: str) -> list[dict[str, Any]]:
    return [e for e in gateway.events(device, limit=1000)["events"] if e["type"] == kind]


def post_part(
    gateway: GatewayProcess,
    device: EnrolledDevice,
    order_id: str,
    station: str,
    done: bool = True,
    key: str | None = None,
    **extra: Any,
) -> requests.Response:
    body = {"done": done, "key": key or secrets.token_hex(8), **extra}
    return gateway.session.post(
        f"{gateway.base_url}/api/v1/orders/{order_id}/parts/{station}",
        json=body,
        headers=device.headers,
        timeout=10,
    )


def post_item(
    gateway: GatewayProcess,
    device: EnrolledDevice,
    order_id: str,
    index: int | str,
    station: str,
    done: bool = True,
    key: str | None = None,
) -> requests.Response:
    body = {"station": station, "done": done, "key": key or secrets.token_hex(8)}
    return gateway.session.post(
        f"{gateway.base_url}/api/v1/orders/{order_id}/items/{index}",
        json=body,
        headers=device.headers,
        timeout=10,
    )


def enroll(gateway: GatewayProcess, location: str, **body: Any) -> requests.Response:
    code = gateway.enroll_code(location)
    return gateway.session.post(
        f"{gateway.base_url}/api/v1/enroll",
        json={"code": code, "name": "Screen", **body},
        timeout=10,
    )


def device_info(gateway: GatewayProcess, device: EnrolledDevice) -> dict[str, Any]:
    response = gateway.session.get(
        f"{gateway.base_url}/api/v1/device", headers=device.headers, timeout=10
    )
    assert response.status_code == 200, response.text
    return dict(response.json())
