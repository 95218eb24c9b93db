"""``kds-gateway devices list | revoke ID | rotate ID``: the screens' lifecycle, by hand.

``list`` shows each screen's latest heartbeat (link, bumps waiting, last event applied,
version, clock, CPU temperature) and OFFLINE for one silent longer than
``devices.offline_after_s`` (60 s); revoked screens stay listed as REVOKED for a while.

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
from kds_device.gateway.device_status import DeviceStatus
from kds_device.gateway.devices import Devices
from kds_device.gateway.stores import open_store


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _ago(stamp: float | None, now: float) -> str:
    """``12 s ago (2026-11-30 13:05:12)``, or ``never``."""
    if stamp is None:
        return "never"
    silent = max(0.0, now - stamp)
    if silent < 120:
        amount = f"{silent:.0f} s"
    elif silent < 7200:
        amount = f"{silent / 60:.0f} min"
    else:
        amount = f"{silent / 3600:.0f} h"
    return f"{amount} ago ({_when(stamp)})"


def run_devices(config: GatewayConfig, action: str, device_id: str) -> int:
    db = open_store(config.database)
    devices = Devices(db, broker_accounts(config))
    try:
        if action == "list":
            return _list(devices, config.devices.offline_after_s)
        return _change(devices, action, device_id)
    finally:
        db.close()


def state_of(status: DeviceStatus, now: float, silent_s: float) -> str:
    """``online``, ``OFFLINE`` (silent longer than ``silent_s``) or ``REVOKED``; ``/rotated``
    while it has yet to fetch its new credentials."""
    if status.revoked:
        return "REVOKED"
    state = "online" if status.online(now, silent_s) else "OFFLINE"
    return f"{state}/rotated" if status.rotated else state


def status_line(status: DeviceStatus, now: float, silent_s: float) -> str:
    """One screen as ``kds-gateway devices list`` shows it."""
    role = status.role + (":" + ",".join(status.stations) if status.stations else "")
    clock = {None: "-", True: "ok", False: "WRONG"}[status.clock_synced]
    temp = "-" if status.cpu_temp_c is None else f"{status.cpu_temp_c:.1f}C"
    return (
        f"{status.device_id:22} {status.location_id[:24]:24} {status.name[:16]:16} "
        f"{role[:20]:20} {state_of(status, now, silent_s):14} {status.link or '-':7} "
        f"{_number(status.bumps_waiting):>5} {_number(status.last_seq):>8} "
        f"{(status.version or '-')[:12]:12} {clock:5} {temp:>6} {_ago(status.seen_at, now)}"
    )


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)


def _list(devices: Devices, silent_s: float) -> int:
    statuses = devices.heartbeats()
    if not statuses:
        print("no devices enrolled")
        return 0
    print(
        f"{'DEVICE':22} {'LOCATION':24} {'NAME':16} {'ROLE':20} {'STATE':14} {'LINK':7} "
        f"{'BUMPS':>5} {'LAST SEQ':>8} {'VERSION':12} {'CLOCK':5} {'CPU':>6} LAST HEARD"
    )
    now = time.time()
    for status in statuses:
        print(status_line(status, now, silent_s))
    offline = sum(1 for s in statuses if not s.revoked and not s.online(now, silent_s))
    if offline:
        print(f"{offline} screen(s) OFFLINE: silent for more than {silent_s:g} s")
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
