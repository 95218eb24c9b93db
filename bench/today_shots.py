"""A screenshot of the "Today" view (speed of service) for docs/speed.md, taken with Kivy's
``Window.screenshot`` on the real board under Xvfb, 800x480 by default (the 7" panel).

A day of a kitchen through the app's inbox as journal events: about 150 orders from three
channels between 11:00 and 21:00 (local), routed to grill, fryer and cold with prep times,
each part done by "another screen" and bumped by expo; slower at the lunch and dinner peaks
(some late), a few recalled and a few cancelled. Then the TODAY key, and the shot.

    .venv/bin/python bench/today_shots.py [--out docs] [--size 800x480] [--by hour]

Last line: one JSON object (the file written and the day's figures).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xvfb import open_board_window  # noqa: E402

#: Orders per hour (local) and the kitchen's slowness then (a factor on prep times).
DAY = {11: (6, 0.8), 12: (22, 1.25), 13: (16, 1.1), 14: (7, 0.85), 15: (5, 0.8), 16: (6, 0.8)}
DAY |= {17: (12, 0.95), 18: (24, 1.35), 19: (26, 1.45), 20: (18, 1.1)}
CHANNELS = (7, 7, 7, 8, 8, 11)  # Uber Eats, Deliveroo, Just Eat (the test board's names)
PREP = {"grill": 9, "fryer": 6, "cold": 4}


def day_of_events(orders: Any, start: datetime, seed: int = 7) -> list[Any]:
    from kds_device.domain.events import Event, EventType
    from kds_device.domain.timestamps import format_timestamp
    from tests.fixtures.pacing import next_seq, received, reset_seq

    rng = random.Random(seed)
    timed: list[tuple[datetime, Event]] = []

    def add(at: datetime, kind: EventType, order_id: str, **data: Any) -> None:
        timed.append((at, Event(0, "loc", kind, order_id, data, format_timestamp(at))))

    for hour, (count, slow) in DAY.items():
        for _ in range(count):
            arrived = start.replace(hour=hour) + timedelta(seconds=rng.uniform(0, 3600))
            stations = rng.sample(sorted(PREP), rng.choice((1, 2, 2, 3)))
            prep = {s: PREP[s] for s in stations}
            promise = arrived + timedelta(minutes=max(prep.values()) + rng.choice((6, 8, 10)))
            payload = orders.order(
                note="",
                deliveryIsAsap=True,
                channel=rng.choice(CHANNELS),
                pickupTime=format_timestamp(promise),
            )
            order_id = payload["orderId"]
            event = received(payload, prep)
            timed.append(
                (
                    arrived,
                    Event(0, "loc", event.type, order_id, event.data, format_timestamp(arrived)),
                )
            )
            if rng.random() < 0.03:
                add(
                    arrived + timedelta(minutes=2),
                    EventType.ORDER_VOIDED,
                    order_id,
                    reason="customer",
                )
                continue
            done = arrived
            for station in sorted(prep):
                minutes = prep[station] * slow * rng.uniform(0.6, 1.5)
                at = arrived + timedelta(minutes=minutes)
                done = max(done, at)
                add(
                    at,
                    EventType.ORDER_PART,
                    order_id,
                    station=station,
                    done=True,
                    key=f"k{rng.random()}",
                )
                if rng.random() < 0.04:  # a remake: reopened, done again
                    add(
                        at + timedelta(minutes=1),
                        EventType.ORDER_PART,
                        order_id,
                        station=station,
                        done=False,
                        key=f"k{rng.random()}",
                    )
                    done = at + timedelta(minutes=rng.uniform(3, 6))
                    add(
                        done,
                        EventType.ORDER_PART,
                        order_id,
                        station=station,
                        done=True,
                        key=f"k{rng.random()}",
                    )
            add(done, EventType.STATUS_CHANGED, order_id, status=60, source="policy")
            add(
                done + timedelta(minutes=1),
                EventType.STATUS_CHANGED,
                order_id,
                status=70,
                source="device",
                key="expo",
            )
    timed.sort(key=lambda pair: pair[0])
    reset_seq()  # received() numbered its events: the journal starts at 1
    return [Event(next_seq(), e.location_id, e.type, e.order_id, e.data, e.at) for _at, e in timed]


def shoot(out: Path, size: tuple[int, int], by: str) -> dict[str, Any]:
    from kds_device.domain.actions import Action
    from kds_device.domain.clock import Instant
    from kds_device.runtime.messages import EventsArrived
    from kds_device.sim.orders import OrderGenerator
    from tests.fixtures import board_app as fixture
    from tests.fixtures.board_app import BoardDriver
    from tests.fixtures.common import FakeTime
    from tests.fixtures.pacing import reset_seq

    fixture.WINDOW = size
    clock = FakeTime()
    start = datetime(2026, 11, 22, 0, 0).astimezone()  # local midnight
    clock.now = Instant(start.replace(hour=21, minute=30), clock.now.mono)
    with tempfile.TemporaryDirectory(prefix="kds-shots-") as tmp:
        orders = OrderGenerator(seed=42, clock=lambda: clock.now.wall)
        driver = BoardDriver(Path(tmp), clock, orders)
        driver.start()
        reset_seq()
        events = day_of_events(orders, start)
        for first in range(0, len(events), 200):
            driver.post(EventsArrived(tuple(events[first : first + 200]), "http"))
        last = events[-1].seq
        driver.wait_for(lambda: driver.app.core.last_seq >= last, 60, "events")
        driver.app.core.today_by = by
        driver.app.perform(Action.TODAY)
        driver.frames(4)
        suffix = "" if by == "hour" else f"-{by}"
        path = driver.screenshot(out / f"today-{size[0]}x{size[1]}{suffix}.png")
        _rows, total = driver.app.core.speed.today(by, clock.now.wall, None)
        driver.stop()
    figures = {"path": str(path), "tickets": total.tickets, "median_s": total.median_s}
    figures |= {"p90_s": total.p90_s, "late_share": total.late_share}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--size", default="800x480")
    parser.add_argument("--by", default="hour", choices=("hour", "channel", "station"))
    args = parser.parse_args()
    width, height = open_board_window(args.size)
    print(json.dumps(shoot(Path(args.out), (width, height), args.by)))


if __name__ == "__main__":
    main()
