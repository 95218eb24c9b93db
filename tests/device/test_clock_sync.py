"""Is this screen's clock right? Checked against the gateway's HTTP Date header (a real HTTP
server on loopback) and systemd's time synchronisation state (issue 9, point 8)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kds_device.adapters.clock_sync import ClockCheck, describe_offset, timesync_synchronized
from kds_device.adapters.gateway_client import GatewayClient
from kds_device.domain.clock import Instant


class SkewedGateway(ThreadingHTTPServer):
    """Answers every GET with ``{}`` and a Date header ``skew`` away from the true time."""

    skew = timedelta(0)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "ok"}).encode()
        self.send_response_only(200)
        stamp = datetime.now(UTC) + self.server.skew  # type: ignore[attr-defined]
        self.send_header("Date", format_datetime(stamp, usegmt=True))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[SkewedGateway]:
    server = SkewedGateway(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def now() -> Instant:
    return Instant(datetime.now(UTC), time.monotonic())


def ask(gateway: SkewedGateway, check: ClockCheck) -> str:
    client = GatewayClient(f"http://127.0.0.1:{gateway.server_address[1]}", "t", clock=check)
    try:
        assert client.health()
    finally:
        client.close()
    return check.note(now())


def test_the_gateways_date_names_a_wrong_clock(gateway: SkewedGateway) -> None:
    check = ClockCheck(timesync=lambda: True)
    assert ask(gateway, check) == "", "a right clock is not mentioned"
    gateway.skew = timedelta(hours=11)  # the gateway is 11 h ahead: this clock is behind
    assert ask(gateway, check) == "CLOCK 11 h SLOW"
    gateway.skew = timedelta(minutes=-5)
    assert ask(gateway, check) == "CLOCK 5 min FAST"


def test_an_old_answer_no_longer_counts_and_systemd_decides(gateway: SkewedGateway) -> None:
    probes: list[bool] = []

    def unsynced() -> bool:
        probes.append(False)
        return False

    check = ClockCheck(timesync=unsynced, fresh_s=600.0)
    assert ask(gateway, check) == ""  # the gateway agrees: right, whatever systemd says
    assert probes == []
    later = now().later(601)
    deadline = time.monotonic() + 10
    while check.note(later) != "CLOCK NOT SYNCED":
        assert time.monotonic() < deadline, "the probe thread never answered"
        time.sleep(0.02)
    assert probes


def test_systemd_timesync_flag_file(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"
    flag.touch()
    assert timesync_synchronized(flag) is True


def test_offsets_in_words() -> None:
    assert describe_offset(-11 * 3600) == "CLOCK 11 h SLOW"
    assert describe_offset(300) == "CLOCK 5 min FAST"
    assert describe_offset(45) == "CLOCK 1 min FAST"


def test_a_fast_clock_does_not_inflate_the_age_of_an_order_that_waited(
    gateway: SkewedGateway,
) -> None:
    """The issue's probe: a clock 5 min fast made every order 5 min older. The board reads
    the time corrected by the gateway's, which also stamped the order's journal time."""
    from kds_device.domain import Board, Event, EventType
    from kds_device.domain.timestamps import format_timestamp
    from kds_device.sim.orders import OrderGenerator

    gateway.skew = timedelta(minutes=-5)  # the gateway's clock is right; ours is 5 min fast
    check = ClockCheck(timesync=lambda: True)
    assert ask(gateway, check) == "CLOCK 5 min FAST"
    now_local = now()
    corrected = check.corrected(now_local)
    assert abs((now_local.wall - corrected.wall).total_seconds() - 300) < 3
    journaled_at = corrected.wall - timedelta(seconds=40)  # the gateway's time, 40 s ago
    payload = OrderGenerator(seed=5, clock=lambda: journaled_at).order(_created="")
    event = Event(
        1,
        "loc",
        EventType.ORDER_RECEIVED,
        payload["orderId"],
        {"payload": payload},
        at=format_timestamp(journaled_at),
    )
    board = Board()
    board.apply_event(event, check.now())
    ticket = board.ticket(payload["orderId"])
    assert ticket is not None
    assert 35 <= board.elapsed_s(ticket, check.now()) <= 45, "40 s old, not 5 min 40 s"
    # NTP steps the local clock: the correction is dropped at once, the age does not move
    stepped = Instant(now_local.wall - timedelta(minutes=5), now_local.mono)
    assert check.corrected(stepped) == stepped


def test_no_correction_while_the_clocks_agree(gateway: SkewedGateway) -> None:
    check = ClockCheck(timesync=lambda: True)
    ask(gateway, check)
    local = now()
    assert check.corrected(local) == local
