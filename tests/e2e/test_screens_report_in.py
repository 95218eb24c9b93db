"""``kds-device run`` (the real appliance, under Xvfb) reports in to a real gateway: its board's
last applied event and role reach ``kds-gateway devices list``, and a stopped screen shows
OFFLINE there once silent longer than the configured threshold."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from kds_device import __version__
from kds_device.gateway.device_status import DeviceStatus
from kds_device.gateway.devices import Devices
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.device_app import DeviceProcess
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import Mosquitto, wait_until

pytestmark = pytest.mark.timeout(180)

LOCATION = "loc-report-in"
SILENT_S = 4


def the_screen(gateway: GatewayProcess) -> DeviceStatus | None:
    found = Devices(gateway.db()).heartbeats(LOCATION)
    return found[0] if len(found) == 1 and found[0].version is not None else None


def test_the_appliance_reports_its_board_and_goes_offline_when_stopped(
    make_gateway: Callable[..., GatewayProcess],
    mosquitto: Mosquitto,
    make_device_process: Callable[..., DeviceProcess],
) -> None:
    gateway = make_gateway(mqtt=mosquitto, settings={"devices": {"offline_after_s": SILENT_S}})
    gateway.register(LOCATION)
    device = make_device_process(connection={"heartbeat_s": 0.5})
    device.enroll(gateway, LOCATION, name="Pass")
    device.start()
    orders = OrderGenerator(seed=31, location=LOCATION)
    for _ in range(3):
        assert gateway.send_order(LOCATION, orders.order()).status_code == 200
    wait_until(lambda: len(device.tickets()) == 3, 30, "three tickets on the screen")

    def reported(seq: int, role: str) -> DeviceStatus | None:
        status = the_screen(gateway)
        return status if status and status.last_seq == seq and status.role == role else None

    status = wait_until(lambda: reported(3, "all"), 30, "a heartbeat with the board's seq 3")
    assert status.version == __version__ and status.bumps_waiting == 0
    assert status.link in ("mqtt", "http") and status.online(time.time(), SILENT_S)
    wait_until(lambda: (s := the_screen(gateway)) and s.link == "mqtt", 30, "live over MQTT")

    # The gateway makes it a grill screen: the board applies the device.role event (seq 4) and
    # the heartbeat says what the board now shows.
    device_id = status.device_id
    assert gateway.cli("devices", "role", device_id, "--stations", "grill").returncode == 0
    status = wait_until(lambda: reported(4, "stations"), 30, "the board's new role reported")
    assert status.stations == ("grill",)
    listing = gateway.cli("devices", "list").stdout
    line = next(line for line in listing.splitlines() if line.startswith(device_id))
    assert " online " in line and "stations:grill" in line and " mqtt " in line

    device.stop()
    stopped = time.time()

    def offline() -> str | None:
        line = next(
            x for x in gateway.cli("devices", "list").stdout.splitlines() if x.startswith(device_id)
        )
        return line if " OFFLINE " in line else None

    line = wait_until(offline, 30, "the stopped screen to show OFFLINE")
    assert time.time() - stopped < SILENT_S + 20
    assert "stations:grill" in line  # its last heartbeat is still shown
