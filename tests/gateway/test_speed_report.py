"""``GET /api/v1/report`` at a real gateway (both stores): figures from orders sent through the
webhook and statuses/parts posted as screens post them, checked against the journal the
device reads and against the OpenAPI document."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from kds_device.domain.speed import speed_figures, speed_total, timelines_from_events
from tests.fixtures.gateway import EnrolledDevice, GatewayProcess
from tests.fixtures.speed_orders import serve_a_kitchen

pytestmark = pytest.mark.timeout(120)


def report(
    gateway: GatewayProcess, device: EnrolledDevice | None, **params: Any
) -> requests.Response:
    return gateway.session.get(
        f"{gateway.base_url}/api/v1/report",
        params=params,
        headers=device.headers if device else {},
        timeout=20,
    )


def test_report_figures_match_the_journal_the_screen_reads(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    kitchen = serve_a_kitchen(api, loc, tmp_path)
    other = f"{loc}-x"  # another location's order never counts here
    api.register(other)
    assert api.send_order(other, {"orderId": f"{other}-1", "items": []}).status_code == 200

    answer = report(api, kitchen.device, by="station", tz="Europe/Brussels")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["locationId"] == loc and body["by"] == "station"
    assert body["tz"] == "Europe/Brussels"
    total = body["total"]
    assert total["tickets"] == 3  # a, b, c: the voided and the open one do not count
    assert total["medianS"] >= 0.3 and total["p90S"] >= 0.6  # a: 0.6 s to ready, c: more
    assert total["lateShare"] == pytest.approx(1 / 3, abs=0.001)  # b
    assert {row["key"] for row in body["rows"]} == {"grill", "fryer"}

    # The same figures from the events the screen gets, through the domain function.
    events = api.events(kitchen.device, limit=1000)["events"]
    timelines = timelines_from_events(events)
    assert {t.order_id for t in timelines} >= {kitchen.voided, kitchen.open, *kitchen.finished}
    recalled = next(t for t in timelines if t.order_id == kitchen.recalled)
    assert len(recalled.recalled) == 1
    for by in ("station", "hour", "channel"):
        expected = [r.to_json() for r in speed_figures(timelines, by, ZoneInfo("Europe/Brussels"))]
        got = report(api, kitchen.device, by=by, tz="Europe/Brussels").json()
        assert got["rows"] == expected, by
        assert got["total"] == speed_total(timelines).to_json()
    channels = report(api, kitchen.device, by="channel").json()["rows"]
    assert {row["key"]: row["tickets"] for row in channels} == {"iFood": 2, "Deliverect": 1}


def test_csv_form_and_since(api: GatewayProcess, loc: str, tmp_path: Path) -> None:
    kitchen = serve_a_kitchen(api, loc, tmp_path)
    answer = report(api, kitchen.device, by="hour", format="csv", tz="UTC")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    hour = datetime.now(UTC).strftime("%H:00")
    assert rows[-1]["by"] == "total" and rows[-1]["tickets"] == "3"
    # The orders arrived within a few seconds: one hour, or two across an hour's turn.
    assert {r["key"] for r in rows[:-1]} <= {
        hour,
        (datetime.now(UTC) - timedelta(minutes=2)).strftime("%H:00"),
    }
    assert sum(int(r["tickets"]) for r in rows[:-1]) == 3
    later = str(int(time.time()) + 60)  # epoch seconds
    empty = report(api, kitchen.device, since=later).json()
    assert empty["rows"] == [] and empty["total"]["tickets"] == 0
    yesterday = str(int(time.time()) - 86_400)
    assert report(api, kitchen.device, since=yesterday).json()["total"]["tickets"] == 3
    assert report(api, kitchen.device, since="today", tz="UTC").json()["total"]["tickets"] == 3


@pytest.mark.parametrize(
    "params, code, reason",
    [
        ({"by": "weekday"}, 400, "by must be one of"),
        ({"since": "yesterday-ish"}, 400, "since must be"),
        ({"since": "2026-11-30"}, 400, "since must be"),  # the CLI sends epoch seconds
        ({"tz": "../../etc/passwd"}, 400, "tz must be"),
        ({"tz": ""}, 400, "tz must be"),
        ({"tz": "Mars/Olympus"}, 404, "no time zone 'Mars/Olympus'"),
        ({"tz": "America"}, 404, "no time zone"),  # a directory of the zone database
        ({"format": "xml"}, 400, "format must be"),
        ({"limit": "3"}, 400, "unknown parameter"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    shared_gateway: GatewayProcess, loc: str, params: dict[str, str], code: int, reason: str
) -> None:
    shared_gateway.register(loc)
    device = shared_gateway.enroll_device(loc)
    answer = report(shared_gateway, device, **params)
    assert answer.status_code == code
    assert answer.json()["error"] == ("bad_request" if code == 400 else "unknown_zone")
    assert reason in answer.json()["detail"]


def test_a_report_needs_a_device_token(api: GatewayProcess) -> None:
    assert report(api, None).status_code == 401


def test_a_screen_fed_the_journal_shows_the_gateways_figures(
    api: GatewayProcess, loc: str, tmp_path: Path
) -> None:
    """The Today view's figures (the screen's core, fed the events it would receive) are the
    gateway's report for the same day."""
    from kds_device.config import DeviceConfig
    from kds_device.domain.clock import Instant
    from kds_device.domain.events import Event
    from kds_device.runtime.board_core import BoardCore
    from kds_device.runtime.messages import EventsArrived

    kitchen = serve_a_kitchen(api, loc, tmp_path)
    screen = api.enroll_device(loc)  # another screen of the kitchen, doing nothing itself
    events = [Event.from_json(e) for e in api.events(screen, limit=1000)["events"]]
    core = BoardCore(
        DeviceConfig(), _NoSink(), lambda: Instant(datetime.now(UTC), time.monotonic())
    )
    core.open_store(tmp_path / "screen")
    try:
        core.inbox.post(EventsArrived(tuple(events), "http"))
        core.drain()
        for by in ("hour", "channel", "station"):
            rows, total = core.speed.today(by, datetime.now(UTC), UTC)
            gateway = report(api, kitchen.device, by=by, tz="UTC").json()
            assert [r.to_json() for r in rows] == gateway["rows"], by
            assert total.to_json() == gateway["total"]
        assert total.tickets == 3
    finally:
        core.close()


class _NoSink:
    def submit(self, change: object) -> None:
        raise AssertionError(f"the screen sent {change}")
