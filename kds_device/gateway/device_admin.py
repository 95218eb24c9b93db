"""``kds-gateway devices list | revoke ID | rotate ID``: the screens' lifecycle, by hand.

Works on the gateway's database and, with ``mqtt.dynsec``, on the broker's users directly, so
it needs no running gateway: a revoked screen's next HTTP call gets 401 and the broker cuts its
connection at once.
"""

from __future__ import annotations

import sys
import time

from kds_device.gateway.app import broker_accounts
from kds_device.gateway.broker_accounts import BrokerError
from kds_device.gateway.config import GatewayConfig
from kds_device.gateway.devices import Devices
from kds_device.gateway.stores import open_store


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def run_devices(config: GatewayConfig, action: str, device_id: str) -> int:
    db = open_store(config.database)
    devices = Devices(db, broker_accounts(config))
    try:
        if action == "list":
            return _list(devices)
        return _change(devices, action, device_id)
    finally:
        db.close()


def _list(devices: Devices) -> int:
    records = devices.all()
    if not records:
        print("no devices enrolled")
        return 0
    print(
        f"{'DEVICE':22} {'LOCATION':26} {'NAME':20} {'STATION':12} {'ROLE':20} {'STATE':8}"
        " LAST SEEN"
    )
    for record in records:
        d = record.device
        state = "rotated" if d.rotated else "active"
        print(
            f"{d.id:22} {d.location_id:26} {d.name[:20]:20} {d.station[:12]:12} "
            f"{d.role.to_text()[:20]:20} {state:8} {_when(record.last_seen)}"
        )
    return 0


def _change(devices: Devices, action: str, device_id: str) -> int:
    try:
        found = devices.revoke(device_id) if action == "revoke" else devices.rotate(device_id)
    except BrokerError as problem:
        print(
            f"kds-gateway: {device_id}: the gateway's side is done (HTTP refused), but the "
            f"broker could not be told: {problem}. Run this again.",
            file=sys.stderr,
        )
        return 1
    if not found:
        print(f"kds-gateway: no device {device_id}", file=sys.stderr)
        return 1
    if action == "revoke":
        print(f"{device_id} revoked: its token and broker login no longer work")
    else:
        print(f"{device_id} rotated: it fetches a new token and broker password on its next call")
    return 0
