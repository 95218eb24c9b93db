"""A screenshot of the cleaning lock for docs/screen-care.md, taken with Kivy's
``Window.screenshot`` on the real board (under Xvfb, 800x480 by default: the 7" panel,
where the countdown must still read from 2 m).

Orders arrive; first the frame time is measured with the care layer over the window and
without it, alternately (``frame_ms_p50_with_care`` / ``_without_care``: what the layer
costs while the screen is awake, where it draws nothing). Then the L key locks the board,
two more orders arrive during the lock (shown, chimed, counted in the panel), the clock
moves 8 s: the countdown says 22. Prints the path, the countdown's text height in pixels,
and a last line of JSON.

    .venv/bin/python bench/care_shot.py [--out docs] [--size 800x480]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xvfb import open_board_window  # noqa: E402


def frame_cost(driver: object, app: object) -> tuple[float, float]:
    """Median frame (ms) with the care layer and without it, measured alternately."""
    from kivy.base import EventLoop
    from kivy.core.window import Window

    def median_frame(count: int = 40) -> float:
        times = []
        for _ in range(count):
            app.screen.tick(app.core.now())  # type: ignore[attr-defined]  # timers redraw
            start = time.perf_counter()
            EventLoop.idle()
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    with_care, without = [], []
    for _ in range(6):
        with_care.append(median_frame())
        Window.remove_widget(app.care)  # type: ignore[attr-defined]
        without.append(median_frame())
        Window.add_widget(app.care)  # type: ignore[attr-defined]
    return statistics.median(with_care), statistics.median(without)


def shoot(out: Path, size: tuple[int, int]) -> dict[str, object]:
    from kivy.core.window import Keyboard, Window

    from kds_device.sim.orders import OrderGenerator
    from tests.fixtures import board_app as fixture
    from tests.fixtures.board_app import BoardDriver
    from tests.fixtures.common import FakeTime

    fixture.WINDOW = size
    clock = FakeTime()
    with tempfile.TemporaryDirectory(prefix="kds-shots-") as tmp:
        orders = OrderGenerator(seed=42, clock=lambda: clock.now.wall)
        driver = BoardDriver(Path(tmp), clock, orders)
        app = driver.start()
        driver.add_orders(4)
        driver.advance(150)
        with_care, without = frame_cost(driver, app)
        Window.dispatch("on_key_down", Keyboard.keycodes["l"], 0, "l", [])
        Window.dispatch("on_key_up", Keyboard.keycodes["l"], 0)
        driver.add_orders(2)
        driver.advance(8)
        driver.frames(4)
        count = app.care.ids.count
        figures: dict[str, object] = {
            "size": f"{size[0]}x{size[1]}",
            "locked": app.care.state.locked,
            "countdown": app.care.count_text,
            "digit_px": round(count.texture_size[1]),
            "font_px": round(app.care.big_px),
            "frame_ms_p50_with_care": round(with_care, 2),
            "frame_ms_p50_without_care": round(without, 2),
            "load_avg_1min": round(os.getloadavg()[0], 2),
        }
        figures["path"] = str(driver.screenshot(out / "cleaning-lock.png"))
        driver.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--size", default="800x480")
    args = parser.parse_args()
    width, height = open_board_window(args.size)
    figures = shoot(Path(args.out), (width, height))
    print(figures["path"])
    print(f"countdown {figures['countdown']!s}: text {figures['digit_px']} px high")
    print(
        f"frame p50 {figures['frame_ms_p50_with_care']} ms with the care layer, "
        f"{figures['frame_ms_p50_without_care']} ms without"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
