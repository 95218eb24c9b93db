"""Screenshots of a grill station and of expo for docs/stations.md, taken with Kivy's
``Window.screenshot`` on the real board (under Xvfb, 1280x800 by default).

The orders are the simulator's (seeded), routed with the simulator's station rules exactly as
the gateway routes them (``route_order``); the kitchen's progress arrives as the journal
events the other screens' presses cause (items done, parts bumped), so both screens show a
kitchen at work: struck-through items and the "+2 at Fryer" hint on the grill, progress rows,
finish times and ALL READY on expo.

    .venv/bin/python bench/station_shots.py [--out docs] [--size 1280x800]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xvfb import open_board_window  # noqa: E402

ORDERS = 9


def kitchen_events(size: tuple[int, int]) -> tuple[list[Any], list[Any]]:
    """The orders (as ``order.received`` events with routing) and the progress events."""
    from kds_device.demo_kitchen import SIM_RULES
    from kds_device.domain.events import Event, EventType
    from kds_device.domain.routing import route_order
    from kds_device.domain.rules_check import parse_rules
    from kds_device.sim.orders import OrderGenerator
    from tests.fixtures.common import FakeTime

    rules = parse_rules(tomllib.loads(SIM_RULES.read_text(encoding="utf-8")))
    clock = FakeTime()
    generator = OrderGenerator(seed=11, clock=lambda: clock.now.wall)
    received, progress = [], []
    seq = 0
    for index in range(ORDERS):
        payload = generator.order()
        routing = route_order(payload, rules, version=1).to_json()
        seq += 1
        data = {"payload": payload, "routing": routing}
        received.append(Event(seq, "loc", EventType.ORDER_RECEIVED, payload["orderId"], data))
        stations = routing["stations"]
        at = clock.now.wall.isoformat()
        for station in stations:
            if index < 3 or (index % 3 == 1 and station != "grill"):
                seq += 1  # the first orders are well on: parts done at other screens
                done = {"station": station, "done": True, "device": "d", "key": f"k{seq}"}
                progress.append(
                    Event(seq, "loc", EventType.ORDER_PART, payload["orderId"], done, at)
                )
            elif index % 2 == 0:
                items = [r["index"] for r in routing["items"] if station in r["stations"]]
                seq += 1
                done = {"station": station, "item": items[0], "done": True, "device": "d",
                        "key": f"k{seq}"}  # fmt: skip
                progress.append(Event(seq, "loc", EventType.ORDER_ITEM, payload["orderId"], done))
    return received, progress


def shoot(role_text: str, name: str, out: Path, size: tuple[int, int]) -> Path:
    from kds_device.domain.roles import Role
    from kds_device.runtime.messages import EventsArrived
    from kds_device.sim.orders import OrderGenerator
    from tests.fixtures import board_app as fixture
    from tests.fixtures.board_app import BoardDriver
    from tests.fixtures.common import FakeTime

    fixture.WINDOW = size
    clock = FakeTime()
    with tempfile.TemporaryDirectory(prefix="kds-shots-") as tmp:
        driver = BoardDriver(Path(tmp), clock, OrderGenerator(seed=1))
        driver.start(board__role=Role.from_text(role_text))
        received, progress = kitchen_events(size)
        driver.post(EventsArrived(tuple(received + progress), "mqtt"))
        last = (received + progress)[-1].seq
        driver.wait_for(lambda: driver.app.core.last_seq >= last, 10, "events")
        driver.advance(95)  # a minute and a half on: timers running
        driver.frames(4)
        path = driver.screenshot(out / name)
        driver.stop()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--size", default="1280x800")
    args = parser.parse_args()
    width, height = open_board_window(args.size)
    out = Path(args.out)
    for role, name in (("stations:grill", "station-grill.png"), ("expo", "expo.png")):
        print(shoot(role, name, out, (width, height)))


if __name__ == "__main__":
    main()
