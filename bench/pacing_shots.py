"""A screenshot of pacing and the courier for docs/stations.md, taken with Kivy's
``Window.screenshot`` on the real board (under Xvfb, 800x480 by default: the 7" panel, where
room is shortest).

Real journal events through the app's inbox: ASAP delivery and pickup orders with routing
(prep minutes), three scheduled ones (UPCOMING, the panel open), and courier statuses: one
courier waiting for food not ready (purple, COURIER WAITING), one four minutes out, one
delivery cancelled; the open work is more than one grill cook can do before the promises
("behind +N min").

    .venv/bin/python bench/pacing_shots.py [--out docs] [--size 800x480]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xvfb import open_board_window  # noqa: E402


def shoot(out: Path, size: tuple[int, int]) -> Path:
    from kds_device.domain.timestamps import format_timestamp
    from kds_device.runtime.messages import EventsArrived
    from kds_device.sim.orders import OrderGenerator
    from tests.fixtures import board_app as fixture
    from tests.fixtures.board_app import BoardDriver
    from tests.fixtures.common import FakeTime
    from tests.fixtures.pacing import courier, received, reset_seq

    fixture.WINDOW = size
    clock = FakeTime()

    def promise(minutes: float, asap: bool) -> dict[str, Any]:
        moment = format_timestamp(clock.now.wall + timedelta(minutes=minutes))
        return {
            "pickupTime": moment,
            "estimatedPickupTime": "",
            "deliveryTime": "",
            "deliveryIsAsap": asap,
        }

    with tempfile.TemporaryDirectory(prefix="kds-shots-") as tmp:
        orders = OrderGenerator(seed=42, clock=lambda: clock.now.wall)
        driver = BoardDriver(Path(tmp), clock, orders)
        driver.start()
        reset_seq()
        kinds = [(2, 12), (2, 22), (1, 16), (2, 26)]
        asap = [orders.order(orderType=t, **promise(m, True)) for t, m in kinds]
        events = [received(p, {"grill": 9, "fryer": 6}) for p in asap]
        events += [received(orders.order(**promise(m, False)), {"grill": 12}) for m in (55, 80, 95)]
        events += [
            courier(asap[0]["orderId"], 85, courier={"name": "Sam"}),
            courier(asap[1]["orderId"], 83, etaMin=4),
            courier(asap[3]["orderId"], 115),
        ]
        driver.post(EventsArrived(tuple(events), "mqtt"))
        driver.wait_for(lambda: driver.app.core.last_seq >= events[-1].seq, 10, "events")
        driver.advance(65)
        driver.app.toggle_upcoming()
        driver.frames(4)
        path = driver.screenshot(out / f"pacing-{size[0]}x{size[1]}.png")
        driver.stop()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--size", default="800x480")
    args = parser.parse_args()
    width, height = open_board_window(args.size)
    print(shoot(Path(args.out), (width, height)))


if __name__ == "__main__":
    main()
