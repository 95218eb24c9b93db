"""The screen's heartbeat end to end: the real DeviceLink beating to a real gateway (SQLite
and PostgreSQL), read back by ``kds-gateway devices list`` as an operator runs it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kds_device import __version__
from kds_device.adapters.heartbeat import cpu_temperature
from kds_device.config import ConnectionConfig, DeviceConfig, config_from_mapping
from kds_device.device_link import DeviceLink
from kds_device.domain.clock import Instant
from kds_device.domain.roles import Role
from kds_device.domain.ticket import StatusChange
from kds_device.gateway.config import DatabaseConfig
from kds_device.gateway.device_status import DeviceStatus
from kds_device.gateway.devices import Devices
from kds_device.gateway.pruner import prune
from kds_device.runtime.board_core import BoardCore
from kds_device.runtime.messages import Link
from kds_device.runtime.shown_delays import ShownDelays
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.device import InboxRecorder, identity_of
from tests.fixtures.gateway import GatewayProcess
from tests.fixtures.mosquitto import Mosquitto, wait_until

pytestmark = pytest.mark.timeout(120)

LOCATION = "loc-heartbeat"
#: Beats this often in the tests (5 s in the field).
BEAT_S = 0.3


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def site(
    make_gateway: Callable[..., GatewayProcess], engine: str, request: Any
) -> Callable[..., GatewayProcess]:
    """Makes the gateway on the test's store: ``site(mqtt=..., settings=...)``."""

    def make(**options: Any) -> GatewayProcess:
        if engine == "postgresql":
            options["database"] = request.getfixturevalue("postgres").create_database()
        gateway = make_gateway(**options)
        gateway.register(LOCATION)
        return gateway

    return make


@pytest.fixture
def thermal(tmp_path: Path) -> Path:
    """A sysfs thermal directory as a Raspberry Pi has it (real files)."""
    root = tmp_path / "thermal"
    zone = root / "thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text("51540\n")
    return root


@pytest.fixture
def open_link(
    device_dir: Path, recorder: InboxRecorder, thermal: Path
) -> Iterator[Callable[[GatewayProcess], DeviceLink]]:
    links: list[DeviceLink] = []

    def start(gateway: GatewayProcess) -> DeviceLink:
        identity = identity_of(gateway, gateway.enroll_device(LOCATION, name="Pass screen"))
        connection = ConnectionConfig(poll_wait_s=5, heartbeat_s=BEAT_S)
        link = DeviceLink(identity, device_dir, recorder.inbox, connection, 0, thermal_root=thermal)
        links.append(link)
        link.start()
        return link

    yield start
    for link in links:
        link.stop()


def status_of(gateway: GatewayProcess, device_id: str) -> DeviceStatus | None:
    found = [s for s in Devices(gateway.db()).heartbeats(LOCATION) if s.device_id == device_id]
    return found[0] if found else None


def listed(gateway: GatewayProcess, device_id: str) -> str:
    """The screen's line of ``kds-gateway devices list``."""
    listing = gateway.cli("devices", "list")
    assert listing.returncode == 0, listing.stderr
    lines = [line for line in listing.stdout.splitlines() if line.startswith(device_id)]
    assert len(lines) == 1, listing.stdout
    return lines[0]


def test_a_screens_heartbeat_shows_in_the_devices_list(
    site: Callable[..., GatewayProcess],
    mosquitto: Mosquitto,
    recorder: InboxRecorder,
    open_link: Callable[[GatewayProcess], DeviceLink],
) -> None:
    gateway = site(mqtt=mosquitto)
    link = open_link(gateway)
    device_id = link.enrollment.device_id
    recorder.wait_for(lambda r: r.link is Link.LIVE_MQTT, what="live over MQTT")
    orders = OrderGenerator(seed=13, location=LOCATION)
    for _ in range(2):
        assert gateway.send_order(LOCATION, orders.order()).status_code == 200
    recorder.wait_for(lambda r: len(r.order_ids()) == 2, what="both orders")

    def beat_with(seq: int, link_name: str) -> DeviceStatus | None:
        status = status_of(gateway, device_id)
        ok = status is not None and status.last_seq == seq and status.link == link_name
        return status if ok else None

    status = wait_until(lambda: beat_with(2, "mqtt"), 15, "a heartbeat with seq 2 over MQTT")
    assert status.version == __version__ and status.role == "all" and status.stations == ()
    assert status.bumps_waiting == 0 and status.cpu_temp_c == 51.5
    assert status.online(time.time())
    line = listed(gateway, device_id)
    assert " online " in line and " mqtt " in line and f" {__version__} " in line
    assert " 51.5C " in line and " 0 " in line and " 2 " in line

    # The board says what it applied and shows (the app wires this); bumps wait unsent while
    # the sender is held (as when it waits out a back-off).
    link.report_board(lambda: 1, lambda: Role.for_stations(["grill", "fryer"]))
    link.outbox.stop()
    first = sorted(recorder.order_ids())[0]
    for status_code in (50, 60):
        link.outbox.submit(StatusChange(first, status_code, f"k-{status_code}"))
    held = wait_until(
        lambda: (s := status_of(gateway, device_id)) and s.bumps_waiting == 2 and s,
        15,
        "a heartbeat with two bumps waiting",
    )
    assert held.last_seq == 1 and (held.role, held.stations) == ("stations", ("fryer", "grill"))
    line = listed(gateway, device_id)
    assert "stations:fryer,grill" in line and " 2 " in line and " online " in line


def test_a_stopped_screen_shows_offline_after_the_silence(
    site: Callable[..., GatewayProcess],
    recorder: InboxRecorder,
    open_link: Callable[[GatewayProcess], DeviceLink],
) -> None:
    gateway = site(settings={"devices": {"offline_after_s": 3}})  # HTTP only, no broker
    link = open_link(gateway)
    device_id = link.enrollment.device_id
    wait_until(lambda: (s := status_of(gateway, device_id)) and s.link == "http", 15, "a heartbeat")
    assert " online " in listed(gateway, device_id)
    link.stop()
    listed_by: list[float] = []

    def offline() -> str | None:
        line = listed(gateway, device_id)
        listed_by.append(time.time())  # the listing's "now" was no later than this
        return line if " OFFLINE " in line else None

    line = wait_until(offline, 30, "the screen to show OFFLINE")
    status = status_of(gateway, device_id)
    assert status is not None and status.seen_at is not None
    assert listed_by[-1] - status.seen_at > 3.0  # not before the silence was over 3 s
    assert "1 screen(s) OFFLINE: silent for more than 3 s" in gateway.cli("devices", "list").stdout
    assert " http " in line  # the last heartbeat is still shown
    assert not status.online(time.time(), silent_s=3.0) and status.online(status.seen_at + 1)


def test_a_revoked_screens_heartbeat_is_refused(
    site: Callable[..., GatewayProcess],
    recorder: InboxRecorder,
    open_link: Callable[[GatewayProcess], DeviceLink],
) -> None:
    gateway = site()
    link = open_link(gateway)
    device_id = link.enrollment.device_id
    wait_until(lambda: link.heartbeat.sent >= 2, 15, "two heartbeats taken")
    assert gateway.cli("devices", "revoke", device_id).returncode == 0
    failed = link.heartbeat.failed
    wait_until(lambda: link.heartbeat.failed >= failed + 2, 15, "heartbeats refused")
    recorder.wait_for(lambda r: r.link is Link.REMOVED, what="the removed state")
    answer = gateway.session.post(
        f"{gateway.base_url}/api/v1/heartbeat",
        json=link.heartbeat_now().to_json(),
        headers={"Authorization": f"Bearer {link.credentials.token}"},
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "unauthorized"
    status = status_of(gateway, device_id)
    assert status is not None and status.revoked and not status.online(time.time())
    assert " REVOKED " in listed(gateway, device_id)


class _NoSink:
    def submit(self, change: object) -> None:
        raise AssertionError(f"the screen sent {change}")


def shown_rows(gateway: GatewayProcess, device_id: str) -> dict[int, tuple[float, int]]:
    rows = (
        gateway.db()
        .read()
        .execute("SELECT seq, at, ms FROM shown_delays WHERE device_id = ?", (device_id,))
    )
    return {int(r["seq"]): (float(r["at"]), int(r["ms"])) for r in rows}


def test_a_screen_that_shows_orders_reports_their_delays(
    site: Callable[..., GatewayProcess],
    mosquitto: Mosquitto,
    device_dir: Path,
    thermal: Path,
    tmp_path: Path,
) -> None:
    gateway = site(mqtt=mosquitto)
    core = BoardCore(
        DeviceConfig(), _NoSink(), lambda: Instant(datetime.now(UTC), time.monotonic())
    )
    core.open_store(tmp_path / "board")
    identity = identity_of(gateway, gateway.enroll_device(LOCATION, name="Pass screen"))
    connection = ConnectionConfig(poll_wait_s=5, heartbeat_s=BEAT_S)
    link = DeviceLink(identity, device_dir, core.inbox, connection, 0, thermal_root=thermal)
    link.report_board(lambda: core.last_seq, lambda: core.board.role, core.shown)
    device_id = link.enrollment.device_id
    link.start()
    try:
        orders = OrderGenerator(seed=31, location=LOCATION)
        for _ in range(3):
            assert gateway.send_order(LOCATION, orders.order()).status_code == 200
        journal = gateway.journal().events_after(LOCATION, 0)
        received = {e.seq: e for e in journal if e.type == "order.received"}
        assert len(received) == 3
        last = max(received)
        # the app's main loop: apply what the feeds hand over
        wait_until(lambda: core.drain() or core.last_seq >= last, 20, "the orders applied")
        assert len(core.board.open_tickets()) == 3
        kept = wait_until(
            lambda: (rows := shown_rows(gateway, device_id)) and len(rows) == 3 and rows,
            20,
            "three delays at the gateway",
        )
        assert set(kept) == set(received)
        for seq, (at, ms) in kept.items():
            journaled = datetime.fromisoformat(received[seq].at.replace("Z", "+00:00"))
            assert at == pytest.approx(journaled.timestamp(), abs=0.001)  # the journal time
            assert 0 <= ms < 20_000  # measured on this machine: applied after journaled
        wait_until(lambda: core.shown.pending() == (), 10, "the delays forgotten once taken")

        # A clock that is wrong measures nothing: no delay is sent, the order still shows.
        link.clock.tolerance_s = -1.0  # no offset is within it: the clock reads as wrong
        assert gateway.send_order(LOCATION, orders.order()).status_code == 200
        wrong = gateway.journal().events_after(LOCATION, last)
        fourth = max(e.seq for e in wrong if e.type == "order.received")
        wait_until(lambda: core.drain() or core.last_seq >= fourth, 20, "the fourth order")
        beats = link.heartbeat.sent
        wait_until(lambda: link.heartbeat.sent >= beats + 2, 15, "two more heartbeats")
        status = status_of(gateway, device_id)
        assert status is not None and status.clock_synced is False
        assert fourth not in shown_rows(gateway, device_id)
        assert core.shown.pending() == () and core.shown.skipped >= 1

        # Kept as long as the other records, then pruned with them.
        assert prune(gateway.db(), DatabaseConfig(), now=time.time())["shown_delays"] == 0
        assert len(shown_rows(gateway, device_id)) == 3
        later = prune(gateway.db(), DatabaseConfig(prune_after_h=48), now=time.time() + 49 * 3600)
        assert later["shown_delays"] == 3 and shown_rows(gateway, device_id) == {}
    finally:
        link.stop()
        core.close()


def test_shown_delays_are_bounded_and_skip_a_wrong_clock() -> None:
    applied = datetime(2026, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    delays = ShownDelays(limit=3)
    delays.note(1, "2026-05-01T12:00:00.000000Z", applied)
    delays.note(2, "2026-05-01T12:00:01.000000Z", applied)  # after it was applied: a bad clock
    delays.note(3, "2026-05-01T10:59:00.000000Z", applied)  # over an hour: a bad clock
    delays.note(4, "not a time", applied)
    assert delays.pending() == ((1, 250),) and delays.skipped == 3
    for seq in (5, 6, 7):
        delays.note(seq, "2026-05-01T11:59:59.000000Z", applied)
    assert delays.pending() == ((5, 1250), (6, 1250), (7, 1250))  # the oldest went
    delays.sent(((5, 1250),))
    delays.note(8, "2026-05-01T12:00:00.200000Z", applied)
    assert delays.pending() == ((6, 1250), (7, 1250), (8, 50))
    assert delays.discard() == 3 and delays.pending() == ()


def test_cpu_temperature_from_sysfs(tmp_path: Path, thermal: Path) -> None:
    assert cpu_temperature(thermal) == 51.5
    assert cpu_temperature(tmp_path / "none") is None
    mixed = tmp_path / "mixed"
    for number, kind, temp in (
        (0, "acpitz", "40000"),
        (1, "x86_pkg_temp", "junk"),
        (2, "cpu-thermal", "63210"),
        (3, "broken", "999999999"),
    ):
        zone = mixed / f"thermal_zone{number}"
        zone.mkdir(parents=True)
        (zone / "type").write_text(f"{kind}\n")
        (zone / "temp").write_text(f"{temp}\n")
    assert cpu_temperature(mixed) == 63.2  # the CPU's zone, not the first
    (mixed / "thermal_zone2" / "type").write_text("gpu\n")
    assert cpu_temperature(mixed) == 40.0  # no CPU zone: the first readable one


def test_heartbeat_interval_is_configurable() -> None:
    assert ConnectionConfig().heartbeat_s == 5.0
    config = config_from_mapping({"connection": {"heartbeat_s": 2}})
    assert config.connection.heartbeat_s == 2.0 and not config.problems
    bad = config_from_mapping({"connection": {"heartbeat_s": "often"}})
    assert bad.connection.heartbeat_s == 5.0 and bad.problems
